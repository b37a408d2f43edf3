"""Batching, fit/evaluate/accuracy, the digits data set, and small MLPs that learn XOR and digits with a fixed seed."""

import numpy as np
import pytest

import nn
from autograd import engine

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_Y = np.array([0.0, 1.0, 1.0, 0.0])


def test_dataloader_batches_shuffle_and_drop_last():
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    batches = list(nn.DataLoader(X, y, batch_size=4))
    assert [len(b[0]) for b in batches] == [4, 4, 2] and len(nn.DataLoader(X, y, batch_size=4)) == 3
    np.testing.assert_array_equal(np.concatenate([b[1] for b in batches]), y)
    dl = nn.DataLoader(X, y, batch_size=4, shuffle=True, drop_last=True, rng=0)
    e1, e2 = [np.concatenate([b[1] for b in dl]) for _ in range(2)]
    assert len(dl) == 2 and len(e1) == 8 and not np.array_equal(e1, e2)  # a new order each epoch
    for xb, yb in dl:
        np.testing.assert_array_equal(xb[:, 0], 2 * yb)  # rows stay paired
    again = nn.DataLoader(X, y, batch_size=4, shuffle=True, drop_last=True, rng=0)
    np.testing.assert_array_equal(np.concatenate([b[1] for b in again]), e1)  # same seed, same order
    assert [b.shape for b in nn.DataLoader(X, batch_size=6)] == [(6, 2), (4, 2)]


def test_dataloader_errors():
    with pytest.raises(ValueError, match=r"X has 3 samples \(shape \(3, 2\)\) but y has shape \(2,\)"):
        nn.DataLoader(np.ones((3, 2)), np.ones(2))
    with pytest.raises(ValueError, match="batch_size must be a positive int, got 0"):
        nn.DataLoader(np.ones((3, 2)), batch_size=0)


def test_train_test_split():
    X, y = np.arange(200).reshape(100, 2), np.repeat(np.arange(4), 25)
    Xtr, Xte, ytr, yte = nn.train_test_split(X, y, test_size=0.2, rng=0)
    assert Xtr.shape == (80, 2) and Xte.shape == (20, 2)
    assert sorted(np.concatenate([ytr, yte]).tolist()) == sorted(y.tolist())
    np.testing.assert_array_equal(Xte[:, 0], 2 * np.arange(100)[Xte[:, 0] // 2])
    _, _, _, yte2 = nn.train_test_split(X, y, test_size=0.2, stratify=True, rng=0)
    assert np.bincount(yte2).tolist() == [5, 5, 5, 5]
    with pytest.raises(ValueError, match="test_size must be"):
        nn.train_test_split(X, y, test_size=1.5)


def test_train_test_split_sizes_order_and_refusals_are_scikit_learns():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    Xtr, Xte, ytr, yte = nn.train_test_split(X, y, test_size=0.2, shuffle=False)
    assert ytr.tolist() == list(range(8)) and yte.tolist() == [8, 9]  # unshuffled: the test part is the last rows
    labels = np.array([0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3])
    for shuffle in (True, False):
        _, _, ytr, yte = nn.train_test_split(np.ones((11, 2)), labels, test_size=0.5, stratify=True, shuffle=shuffle, rng=0)
        assert len(yte) == 6 and len(ytr) == 5  # ceil(0.5 * 11), as without stratify: not each class rounded alone
        assert sorted(np.concatenate([ytr, yte]).tolist()) == sorted(labels.tolist())
    for n, ts in ((2, 0.9), (3, 0.7)):
        with pytest.raises(ValueError, match="leaves no training row"):
            nn.train_test_split(np.ones((n, 2)), np.arange(n), test_size=ts)
    with pytest.raises(ValueError, match="at least 2 rows"):
        nn.train_test_split(np.ones((1, 2)), np.ones(1), test_size=0.5)
    with pytest.raises(ValueError, match="class 4 has only 1 row"):
        nn.train_test_split(np.ones((9, 2)), np.array([0, 0, 1, 1, 2, 2, 3, 3, 4]), stratify=True)
    with pytest.raises(ValueError, match="cannot each hold all 5 classes"):
        nn.train_test_split(np.ones((10, 2)), np.repeat(np.arange(5), 2), test_size=0.2, stratify=True)


def test_accuracy_cases():
    logits = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 0.0]])
    assert nn.accuracy(logits, np.array([0, 1, 1])) == pytest.approx(2 / 3)
    assert nn.accuracy(logits, nn.one_hot(np.array([0, 1, 0]), 2)) == 1.0
    assert nn.accuracy(np.array([0.9, 0.2, 0.6]), np.array([1, 0, 0])) == pytest.approx(2 / 3)
    assert nn.accuracy(np.array([[-1.0], [2.0]]), np.array([0, 1]), threshold=0.0) == 1.0
    with pytest.raises(ValueError, match=r"output of shape \(3, 2\) and target of shape \(4,\) do not match"):
        nn.accuracy(logits, np.zeros(4))


def test_load_digits_is_the_uci_set():
    X, y = nn.datasets.load_digits()
    assert X.shape == (1797, 64) and y.shape == (1797,)
    assert X.dtype == np.float64 and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16 and (X == np.round(X)).all()
    assert np.bincount(y).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    np.testing.assert_array_equal(X[0].reshape(8, 8)[2], [0, 3, 15, 2, 0, 11, 8, 0])  # the first image is a 0


def test_xor_with_the_explicit_loop():
    """forward -> loss -> zero_grad -> backward -> step, as the README teaches it."""
    model = nn.MLP(2, [8, 1], activation="tanh", rng=0)
    opt = nn.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(300):
        logits = model(XOR_X).reshape(-1)
        loss = nn.binary_cross_entropy_with_logits(logits, XOR_Y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.02
    assert nn.accuracy(model(XOR_X).reshape(-1), XOR_Y, threshold=0.0) == 1.0


def test_xor_with_the_course_network_sigmoid_and_gradient_descent():
    """The course's setting: sigmoid neurons, E = 1/2 sum (T - a)^2, plain gradient descent."""
    model = nn.MLP(2, [4, 1], activation="sigmoid", output_activation="sigmoid", rng=3)
    opt = nn.optim.GD(model.parameters(), lr=2.0)
    T = XOR_Y.reshape(-1, 1)
    for _ in range(1500):
        loss = nn.half_sse(model(XOR_X), T)
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert nn.accuracy(model(XOR_X), T) == 1.0 and loss.item() < 0.05


def test_fit_history_and_determinism(capsys):
    def train():
        nn.manual_seed(0)
        model = nn.MLP(2, [8, 2], activation="tanh")
        opt = nn.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
        sched = nn.optim.StepLR(opt, step_size=50, gamma=0.5)
        return nn.fit(model, nn.cross_entropy, opt, XOR_X, XOR_Y.astype(int), epochs=120, batch_size=2,
                      validation_data=(XOR_X, XOR_Y.astype(int)), scheduler=sched, verbose=False)  # fmt: skip

    h = train()
    assert set(h) == {"loss", "accuracy", "lr", "val_loss", "val_accuracy", "time"}
    assert all(len(v) == 120 for v in h.values())
    assert h["val_accuracy"][-1] == 1.0 and h["loss"][-1] < h["loss"][0]
    assert h["lr"][0] == 0.5 and h["lr"][50] == 0.25 and h["lr"][100] == 0.125
    assert h == {**train(), "time": h["time"]}  # same seed, same run
    out = capsys.readouterr()
    assert out.out == "" and out.err == ""  # verbose=False prints nothing


def test_fit_shows_a_progress_bar_with_loss_and_accuracy(capsys):
    model = nn.MLP(2, [4, 2], rng=0)
    nn.fit(model, nn.cross_entropy, nn.optim.Adam(model.parameters(), 0.01), XOR_X, np.array([0, 1, 1, 0]), epochs=2, batch_size=2)
    err = capsys.readouterr().err
    assert "epoch 2/2" in err and "loss=" in err and "acc=" in err and "4/4" in err


def test_fit_with_a_custom_metric_and_regression():
    X = np.linspace(-1, 1, 32).reshape(-1, 1)
    y = 3 * X - 1
    model = nn.Linear(1, 1, rng=0)

    def mae(out, target):
        return float(np.abs(out - target).mean())

    h = nn.fit(model, nn.mse_loss, nn.optim.SGD(model.parameters(), lr=0.1), X, y, epochs=100, batch_size=8, metric=mae, verbose=False)
    assert "accuracy" not in h and h["mae"][-1] < 0.01
    np.testing.assert_allclose([model.weight.item(), model.bias.item()], [3, -1], atol=0.01)
    res = nn.evaluate(model, nn.mse_loss, X, y)
    assert set(res) == {"loss"} and res["loss"] < 1e-4


def test_fit_and_evaluate_errors():
    model = nn.Linear(2, 2)
    opt = nn.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="loss_fn.*must return a Value with one element.*reduction='mean'"):
        nn.fit(model, lambda o, t: nn.mse_loss(o, t, "none"), opt, np.ones((4, 2)), np.ones((4, 2)), verbose=False)
    with pytest.raises(ValueError, match="epochs must be an int >= 0"):
        nn.fit(model, nn.mse_loss, opt, np.ones((4, 2)), np.ones((4, 2)), epochs=-1)
    with pytest.raises(TypeError, match="optimizer must be"):
        nn.fit(model, nn.mse_loss, "sgd", np.ones((4, 2)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="no batch to train on"):
        nn.fit(model, nn.mse_loss, opt, np.ones((4, 2)), np.ones((4, 2)), batch_size=8, drop_last=True, verbose=False)
    with pytest.raises(ValueError, match="fit needs y"):
        nn.fit(model, nn.mse_loss, opt, np.ones((4, 2)), None)
    with pytest.raises(ValueError, match="evaluate needs X and y with at least one sample"):
        nn.evaluate(model, nn.mse_loss, np.ones((0, 2)), np.ones((0, 2)))
    with pytest.raises(ValueError, match="train_test_split needs y"):
        nn.train_test_split(np.ones((4, 2)), None)
    with pytest.raises(ValueError, match="metric must be"):
        nn.fit(model, nn.mse_loss, opt, np.ones((4, 2)), np.ones((4, 2)), metric="f1", verbose=False)


def test_evaluate_restores_training_mode_and_records_no_graph():
    model = nn.Sequential(nn.Linear(2, 2, rng=0), nn.Dropout(0.5, rng=0))
    res = nn.evaluate(model, nn.cross_entropy, XOR_X, np.array([0, 1, 1, 0]))
    assert model.training and 0 <= res["accuracy"] <= 1 and engine.is_grad_enabled()
    model[1].eval()  # a sub-module the user switched off keeps its own mode afterwards
    nn.evaluate(model, nn.cross_entropy, XOR_X, np.array([0, 1, 1, 0]))
    assert model.training and model[0].training and not model[1].training


def test_mlp_learns_digits_to_95_percent():
    X, y = nn.datasets.load_digits()
    Xtr, Xte, ytr, yte = nn.train_test_split(X / 16.0, y, test_size=0.25, stratify=True, rng=0)
    nn.manual_seed(0)
    model = nn.MLP(64, [32, 10])
    opt = nn.optim.Adam(model.parameters(), lr=0.01)
    h = nn.fit(model, nn.cross_entropy, opt, Xtr, ytr, epochs=8, batch_size=64, rng=0, verbose=False)
    acc = nn.evaluate(model, nn.cross_entropy, Xte, yte)["accuracy"]
    assert acc >= 0.95, acc
    assert h["accuracy"][-1] > h["accuracy"][0]
