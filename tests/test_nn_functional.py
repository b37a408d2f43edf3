"""nn.functional against torch.nn.functional (float64): every function, its signature, the options of the
losses; dropout's statistics, pad by finite differences, one_hot, float32, the errors."""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as TF
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
import nn.functional as F
from autograd import Value, gradcheck, gradgradcheck

from .strategies import arrays, shapes
from .test_nn_fuzz import junk
from .torch_parity import compare

rng = np.random.default_rng(0)
X = rng.standard_normal((6, 4))
X3 = rng.standard_normal((3, 4, 5))
P = rng.random((6, 4))
P /= P.sum(axis=1, keepdims=True)
Y = rng.integers(0, 4, 6)
Y_IGNORED = np.where(np.arange(6) % 3 == 1, -100, Y)
Y3 = rng.integers(0, 4, (3, 5))
Y3[1, 2] = 7  # (ignored below with ignore_index=7)
W = rng.random(4) + 0.5
B01 = (rng.random((6, 4)) > 0.4).astype(np.float64)


def test_import_styles():
    assert nn.functional is F
    assert F.batch_norm is nn.norm.batch_norm and F.embedding is nn.embedding.embedding
    assert F.conv2d is nn.conv2d and F.max_pool2d is nn.max_pool2d  # (from nn/conv.py and nn/pooling.py)
    assert set(F.__all__) >= {"conv1d", "conv2d", "max_pool2d", "avg_pool2d", "batch_norm", "layer_norm", "embedding", "dropout", "pad"}


def _torch_parameters(name: str) -> list[tuple[str, object]]:
    """[(name, default or inspect.Parameter.empty)] of torch.nn.functional's function: from its signature, or
    for a builtin without one (gelu, softplus, one_hot, linear, conv2d, ...) from its docstring's first line."""
    f = getattr(TF, name)
    try:
        params = inspect.signature(f).parameters.values()
        if any(p.kind == p.VAR_POSITIONAL for p in params):  # a dispatching wrapper (max_pool2d)
            params = inspect.signature(getattr(TF, "_" + name)).parameters.values()
        return [(p.name, p.default) for p in params]
    except ValueError:
        head = f.__doc__.strip().splitlines()[0]  # e.g. "softplus(input, beta=1, threshold=20) -> Tensor"
        assert head.startswith(name + "("), head
        out: list[tuple[str, object]] = []
        for part in head[len(name) + 1 : head.index(")")].split(","):
            key, _, default = (t.strip() for t in part.partition("="))
            out.append((key, eval(default) if default else inspect.Parameter.empty))  # noqa: S307 - PyTorch's own docstring
        return out


@pytest.mark.parametrize("name", F.__all__)
def test_signatures_are_pytorchs(name):
    """Our parameters are PyTorch's, in its order, with its defaults (PyTorch may have more after them)."""
    theirs = _torch_parameters(name)
    ours = list(inspect.signature(getattr(F, name)).parameters.values())
    assert [p.name for p in ours] == [n for n, _ in theirs[: len(ours)]], (
        f"{name}: ours {[p.name for p in ours]}, PyTorch's {[n for n, _ in theirs]}"
    )
    for a, (_, default) in zip(ours, theirs):
        if default is not inspect.Parameter.empty and default is not None:
            assert a.default == default, f"{name}({a.name}=...): our default {a.default!r}, PyTorch's {default!r}"


# name -> (ours, theirs, float inputs, other arguments); each compared by output and every input gradient
CASES = {
    "relu": (F.relu, TF.relu, [X], {}),
    "leaky_relu": (lambda x: F.leaky_relu(x, 0.2), lambda x: TF.leaky_relu(x, 0.2), [X], {}),
    "gelu": (F.gelu, TF.gelu, [X], {}),
    "gelu_tanh": (lambda x: F.gelu(x, approximate="tanh"), lambda x: TF.gelu(x, approximate="tanh"), [X], {}),
    "elu": (lambda x: F.elu(x, alpha=0.7), lambda x: TF.elu(x, alpha=0.7), [X], {}),
    "sigmoid": (F.sigmoid, TF.sigmoid, [X], {}),
    "tanh": (F.tanh, TF.tanh, [X], {}),
    "softplus": (lambda x: F.softplus(x, beta=2, threshold=1.5), lambda x: TF.softplus(x, beta=2, threshold=1.5), [X], {}),
    "softmax": (lambda x: F.softmax(x, dim=1), lambda x: TF.softmax(x, dim=1), [X3], {}),
    "softmax_dim0": (lambda x: F.softmax(x, 0), lambda x: TF.softmax(x, 0), [X3], {}),
    "log_softmax": (lambda x: F.log_softmax(x, dim=-1), lambda x: TF.log_softmax(x, dim=-1), [X3], {}),
    "linear": (F.linear, TF.linear, [X, rng.standard_normal((3, 4)), rng.standard_normal(3)], {}),
    "dropout_eval": (lambda x: F.dropout(x, 0.3, training=False), lambda x: TF.dropout(x, 0.3, training=False), [X], {}),
    "pad": (lambda x: F.pad(x, (1, 2, 0, 1)), lambda x: TF.pad(x, (1, 2, 0, 1)), [X3], {}),
    "pad_value_crop": (lambda x: F.pad(x, (-1, 1, 2, -2, 1, 0), value=0.5), lambda x: TF.pad(x, (-1, 1, 2, -2, 1, 0), value=0.5), [X3], {}),
    "mse_loss": (F.mse_loss, TF.mse_loss, [X, P], {}),
    "mse_loss_weight": (
        lambda a, b: F.mse_loss(a, b, weight=B01 + 0.5),
        lambda a, b: TF.mse_loss(a, b, weight=torch.tensor(B01 + 0.5)),
        [X, P],
        {},
    ),
    "bce": (F.binary_cross_entropy, TF.binary_cross_entropy, [P, B01], {}),
    "bce_logits_pos_weight": (
        lambda a, b: F.binary_cross_entropy_with_logits(a, b, pos_weight=W),
        lambda a, b: TF.binary_cross_entropy_with_logits(a, b, pos_weight=torch.tensor(W)),
        [X, B01],
        {},
    ),
    "nll_loss": (lambda a: F.nll_loss(a, Y), lambda a: TF.nll_loss(a, torch.tensor(Y)), [X], {}),
    "cross_entropy_1d": (lambda a: F.cross_entropy(a, np.array(2)), lambda a: TF.cross_entropy(a, torch.tensor(2)), [X[0]], {}),
    "cross_entropy_probs_3d": (lambda a, b: F.cross_entropy(a, b), TF.cross_entropy, [X3, np.abs(X3)], {}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_functions_match_pytorch(name):
    ours, theirs, inputs, _ = CASES[name]
    compare(ours, theirs, inputs)


LOSS_OPTIONS = [
    {},
    {"weight": W},
    {"ignore_index": -100},
    {"label_smoothing": 0.2},
    {"weight": W, "label_smoothing": 0.3},
    {"weight": W, "ignore_index": -100, "label_smoothing": 0.1},
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("options", LOSS_OPTIONS, ids=lambda o: ",".join(o) or "plain")
@pytest.mark.parametrize("target", ["labels", "labels_ignored", "labels_3d", "probabilities"])
def test_cross_entropy_and_nll_loss_options_match_pytorch(target, options, reduction):
    x, y = {"labels": (X, Y), "labels_ignored": (X, Y_IGNORED), "labels_3d": (X3, Y3), "probabilities": (X, P)}[target]
    kw = dict(options, reduction=reduction)
    if target == "labels_3d":
        kw["ignore_index"] = 7
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    ty = torch.from_numpy(y)
    compare(lambda a: F.cross_entropy(a, y, **kw), lambda a: TF.cross_entropy(a, ty, **tkw), [x])
    if target != "probabilities" and "label_smoothing" not in kw:
        compare(lambda a: F.nll_loss(F.log_softmax(a, 1), y, **kw), lambda a: TF.nll_loss(TF.log_softmax(a, 1), ty, **tkw), [x])


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_binary_losses_with_weight_match_pytorch(reduction):
    w = rng.random(4)
    compare(
        lambda p: F.binary_cross_entropy(p, B01, w, reduction=reduction),
        lambda p: TF.binary_cross_entropy(p, torch.tensor(B01), torch.tensor(w), reduction=reduction),
        [P],
    )
    compare(
        lambda z: F.binary_cross_entropy_with_logits(z, B01, w, reduction=reduction, pos_weight=W),
        lambda z: TF.binary_cross_entropy_with_logits(
            z, torch.tensor(B01), torch.tensor(w), reduction=reduction, pos_weight=torch.tensor(W)
        ),
        [X],
    )
    compare(
        lambda a, b: F.mse_loss(a, b, reduction=reduction, weight=P),
        lambda a, b: TF.mse_loss(a, b, reduction=reduction, weight=torch.tensor(P)),
        [X, B01],
    )


def test_legacy_size_average_and_reduce_are_pytorchs():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for sa, red in [(False, None), (None, False), (True, True)]:
            compare(lambda a, b, s=(sa, red): F.mse_loss(a, b, *s), lambda a, b, s=(sa, red): TF.mse_loss(a, b, *s), [X, P])
    with pytest.warns(UserWarning, match="reduction='sum'"):
        F.cross_entropy(X, Y, size_average=False)


def test_softmax_without_dim_warns_and_chooses_as_pytorch():
    for x in (X[0], X, X3):
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            ours = F.softmax(x)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            np.testing.assert_allclose(ours.data, TF.softmax(torch.from_numpy(x)).numpy(), rtol=1e-14)


@settings(max_examples=30)
@given(st.data())
def test_pad_by_finite_differences(data):
    x = data.draw(arrays(shapes(1, 3)))
    counts = [data.draw(st.integers(-(x.shape[-1 - i // 2] // 2), 2)) for i in range(2 * data.draw(st.integers(1, x.ndim)))]
    value = data.draw(st.sampled_from([None, 1.5]))
    y = F.pad(x, counts, value=value)
    np.testing.assert_array_equal(y.data, TF.pad(torch.from_numpy(x), counts, value=value).numpy())
    assert gradcheck(lambda v: F.pad(v, counts, value=value) ** 2, x)
    assert gradgradcheck(lambda v: F.pad(v, counts, value=value) ** 2, x)


def test_dropout_zeroes_a_fraction_p_and_scales_the_rest():
    nn.manual_seed(0)
    x = Value(np.ones((200, 100)))
    y = F.dropout(x, p=0.3)
    kept = y.data != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(y.data[kept], 1 / 0.7)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, kept / 0.7)
    assert (F.dropout(x, p=1.0).data == 0).all() and F.dropout(x, p=0.0) is x
    assert F.dropout(x, 0.5, training=False) is x
    nn.manual_seed(1)
    a = F.dropout(x, 0.5).data
    nn.manual_seed(1)
    np.testing.assert_array_equal(F.dropout(x, 0.5).data, a)  # nn.manual_seed repeats the masks
    assert F.dropout(np.ones(3, dtype=np.float32), 0.5).dtype == np.float32


def test_one_hot_is_pytorchs():
    labels = np.array([[0, 3], [2, 2]])
    for k in (-1, 5):
        np.testing.assert_array_equal(F.one_hot(labels, k), TF.one_hot(torch.from_numpy(labels), k).numpy())
    assert F.one_hot(labels).dtype == np.int64 and F.one_hot(labels).shape == (2, 2, 4)
    with pytest.raises(ValueError, match="label 3 at position"):
        F.one_hot(labels, 3)
    with pytest.raises(ValueError, match="cannot infer the number of classes from empty labels"):
        F.one_hot(np.zeros(0, dtype=int))
    with pytest.raises(TypeError, match="labels must be integers, got dtype float64"):
        F.one_hot(np.array([1.0]))


def test_float32_stays_float32():
    x = Value(X.astype(np.float32))
    for f in (F.relu, F.gelu, F.sigmoid, lambda v: F.softmax(v, 1), lambda v: F.pad(v, (1, 1)), lambda v: F.cross_entropy(v, Y, weight=W)):
        x.zero_grad()
        y = f(x)
        y.sum().backward()
        assert y.dtype == np.float32 and x.grad.dtype == np.float32, f


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda: F.relu(X, inplace="yes"), TypeError, "relu: inplace must be True or False"),
        (lambda: F.dropout(X, 1.5), ValueError, r"p must be in \[0, 1\]"),
        (lambda: F.dropout(X, "0.5"), TypeError, "dropout: p must be a real number, got str"),
        (lambda: F.softplus(X, np.array([2.0])), TypeError, "softplus: beta must be a real number, got ndarray"),
        (lambda: F.elu(X, None), TypeError, "elu: alpha must be a real number, got NoneType"),
        (lambda: F.pad(X, (1,)), ValueError, "pad must hold an even number of ints"),
        (lambda: F.pad(X, (1, 1) * 3), ValueError, r"at most 2 per dimension of the input \(2\)"),
        (lambda: F.pad(X, (1.5, 1)), TypeError, "pad must be a sequence of ints"),
        (lambda: F.pad(X, (-3, -2)), ValueError, "dimension 1 of size 4, padded by -3 and -2, would have a negative size"),
        (lambda: F.pad(X, (1, 1), mode="reflect"), NotImplementedError, "mode 'reflect' is not supported; only 'constant'"),
        (lambda: F.softmax(X, 1, dtype=np.float32), TypeError, "dtype= is not supported"),
        (lambda: F.gelu(X, approximate="fast"), ValueError, "approximate must be 'none' or 'tanh'"),
        (
            lambda: F.cross_entropy(X, np.array([0, 1, 2, 3, 4, 0])),
            ValueError,
            r"label 4 at position \(4,\) is out of range; labels must be in \[0, 3\]",
        ),
        (lambda: F.cross_entropy(X, np.array([0, 1, 2, 3, 4, 0]), weight=W), ValueError, r"label 4 at position \(4,\) is out of range"),
        (lambda: F.cross_entropy(X, Y, weight=np.ones(3)), ValueError, r"weight must have one entry per class, shape \(4,\)"),
        (lambda: F.cross_entropy(X, Y, label_smoothing=1.5), ValueError, r"label_smoothing must be in \[0, 1\]"),
        (
            lambda: F.cross_entropy(X3, Y),
            ValueError,
            r"for scores of shape \(N, C, d1, ...\) = \(3, 4, 5\), targets must have shape \(3, 5\), got \(6,\)",
        ),
        (lambda: F.cross_entropy(X, P[:, :3]), ValueError, r"probability targets must have the input's shape \(6, 4\)"),
        (lambda: F.nll_loss(X, Y.astype(float)), TypeError, "class-index targets must be integers"),
        (lambda: F.cross_entropy(X, Y, reduction="avg"), ValueError, "reduction must be one of"),
        (lambda: F.mse_loss(X, P, weight=np.ones(3)), ValueError, r"weight has shape \(3,\), the input has shape \(6, 4\)"),
        (lambda: F.binary_cross_entropy(P, B01, weight=np.ones(3)), ValueError, r"weight of shape \(3,\) does not broadcast"),
    ],
)
def test_bad_arguments_are_refused(call, error, match):
    with pytest.raises(error, match=match):
        call()


_LAYERS = {
    "BatchNorm1d": nn.BatchNorm1d(3),
    "BatchNorm2d": nn.BatchNorm2d(3),
    "LayerNorm": nn.LayerNorm(3),
    "Embedding": nn.Embedding(4, 2, padding_idx=1),
}


@settings(max_examples=150)
@given(name=st.sampled_from(sorted(F.__all__) + sorted(_LAYERS)), args=st.lists(junk, min_size=1, max_size=4), train=st.booleans())
def test_junk_gets_a_documented_error_with_a_message(name, args, train):
    """Every function of nn.functional and the layers of this issue, on junk: a result (that also
    differentiates) or a ValueError, TypeError, IndexError (an index) or NotImplementedError (a pad
    mode), never anything else."""
    fn = _LAYERS[name].train(train) if name in _LAYERS else getattr(F, name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            out = fn(*args[:1]) if name in _LAYERS else fn(*args)
            if isinstance(out, Value) and out.requires_grad:
                out.sum().backward()
        except (ValueError, TypeError, IndexError, NotImplementedError) as e:
            assert str(e), f"{name} raised {type(e).__name__} without a message"


def test_inplace_is_accepted_and_computes_out_of_place_as_the_modules_do():
    x = Value(np.array([-1.0, 2.0]))
    for f in (F.relu, F.leaky_relu, F.elu):
        y = f(x, inplace=True)
        np.testing.assert_array_equal(y.data, f(x).data)
        np.testing.assert_array_equal(x.data, [-1.0, 2.0])  # never changed in place
    np.testing.assert_array_equal(F.dropout(x, training=False, inplace=True).data, x.data)
