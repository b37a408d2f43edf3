"""nn losses: values against numpy, gradients by gradcheck, stability at the extremes, input errors."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value, gradcheck
from autograd.testing import arrays, shapes


def np_log_softmax(z):
    s = z - z.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


@settings(max_examples=20)
@given(shape=shapes(max_dims=2), reduction=st.sampled_from(["mean", "sum", "none"]), data=st.data())
def test_mse_loss(shape, reduction, data):
    p, t = data.draw(arrays(shape)), data.draw(arrays(shape))
    ref = {"mean": np.mean, "sum": np.sum, "none": lambda a: a}[reduction]((p - t) ** 2)
    np.testing.assert_allclose(nn.mse_loss(p, t, reduction).data, ref, rtol=1e-12, atol=1e-12)
    assert gradcheck(lambda a, b: nn.mse_loss(a, b, reduction), p, t)


@settings(max_examples=20)
@given(shape=shapes(max_dims=2), data=st.data())
def test_sse_and_half_sse_are_the_course_costs(shape, data):
    a, t = data.draw(arrays(shape)), data.draw(arrays(shape))
    np.testing.assert_allclose(nn.sse(a, t).data, np.sum((t - a) ** 2), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(nn.half_sse(a, t).data, 0.5 * np.sum((t - a) ** 2), rtol=1e-12, atol=1e-12)
    av = Value(a)
    nn.half_sse(av, t).backward()
    np.testing.assert_allclose(av.grad, a - t, rtol=1e-12, atol=1e-12)  # dE/da = a - T
    assert gradcheck(nn.sse, a, t)


def test_course_example_w_equals_2_has_zero_cost():
    x = np.array([1.0, 2.0, 3.0])
    assert nn.sse(2 * x, 2 * x).item() == 0.0
    assert nn.sse(Value(1.0) * x, 2 * x).item() == 14.0


@settings(max_examples=25)
@given(n=st.integers(1, 5), c=st.integers(2, 5), reduction=st.sampled_from(["mean", "sum", "none"]), data=st.data())
def test_cross_entropy_with_labels_and_one_hot(n, c, reduction, data):
    z = data.draw(arrays((n, c)))
    y = np.array(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    per = -np_log_softmax(z)[np.arange(n), y]
    ref = {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]
    np.testing.assert_allclose(nn.cross_entropy(z, y, reduction).data, ref, rtol=1e-12)
    np.testing.assert_allclose(nn.cross_entropy(z, nn.one_hot(y, c), reduction).data, ref, rtol=1e-12)
    assert gradcheck(lambda v: nn.cross_entropy(v, y, reduction), z)
    # the gradient of the mean is (softmax - one_hot) / n
    zv = Value(z)
    nn.cross_entropy(zv, y).backward()
    sm = np.exp(np_log_softmax(z))
    np.testing.assert_allclose(zv.grad, (sm - nn.one_hot(y, c)) / n, rtol=1e-10, atol=1e-14)


def test_cross_entropy_soft_targets_single_sample_and_list_labels():
    z = np.array([[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]])
    t = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0]])
    ref = -(np_log_softmax(z) * t).sum(axis=1).mean()
    np.testing.assert_allclose(nn.cross_entropy(z, t).item(), ref, rtol=1e-12)
    assert gradcheck(lambda a, b: nn.cross_entropy(a, b), z, t)
    np.testing.assert_allclose(nn.cross_entropy(z[0], 1).item(), -np_log_softmax(z[0])[1], rtol=1e-12)
    np.testing.assert_allclose(nn.cross_entropy(z, [1, 2]).item(), -(np_log_softmax(z)[[0, 1], [1, 2]]).mean(), rtol=1e-12)


def test_cross_entropy_is_stable_for_huge_logits():
    z = Value(np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]]))
    loss = nn.cross_entropy(z, np.array([1, 0]))
    loss.backward()
    assert np.isfinite(loss.data) and np.isfinite(z.grad).all()
    np.testing.assert_allclose(loss.item(), (2000 + np.log(3)) / 2, rtol=1e-12)


@pytest.mark.parametrize(
    "labels, err, match",
    [
        (np.array([0, 3]), ValueError, r"label 3 at position \(1,\) is out of range; labels must be in \[0, 2\] for 3 classes"),
        (np.array([-1, 0]), ValueError, r"label -1 at position \(0,\)"),
        (np.array([0.0, 1.0]), TypeError, r"class labels must have an integer dtype, got float64 \(convert with labels.astype\(int\)"),
        (np.array([True, False]), TypeError, "integer dtype, got bool"),
        (np.array(["a", "b"]), TypeError, "integer dtype"),
        (np.array([0, 1, 2]), ValueError, r"logits have shape \(2, 3\), so integer labels must have shape \(2,\).*got shape \(3,\)"),
        (Value([0.0, 1.0]), TypeError, "got a Value"),
    ],
)
def test_cross_entropy_bad_labels(labels, err, match):
    with pytest.raises(err, match=match):
        nn.cross_entropy(np.zeros((2, 3)), labels)


def test_cross_entropy_scalar_logits_and_bad_reduction():
    with pytest.raises(ValueError, match="class axis"):
        nn.cross_entropy(1.0, 0)
    with pytest.raises(ValueError, match="reduction must be one of 'mean', 'sum', 'none', got 'avg'"):
        nn.cross_entropy(np.zeros((2, 3)), np.array([0, 1]), reduction="avg")


@settings(max_examples=20)
@given(shape=shapes(min_dims=1, max_dims=2), data=st.data())
def test_binary_cross_entropy_and_with_logits(shape, data):
    z = data.draw(arrays(shape))
    t = data.draw(arrays(shape, 0.0, 1.0))
    p = 1 / (1 + np.exp(-z))
    ref = np.mean(-(t * np.log(p) + (1 - t) * np.log(1 - p)))
    np.testing.assert_allclose(nn.binary_cross_entropy(p, t).item(), ref, rtol=1e-10)
    np.testing.assert_allclose(nn.binary_cross_entropy_with_logits(z, t).item(), ref, rtol=1e-10)
    assert gradcheck(lambda a, b: nn.binary_cross_entropy(a.sigmoid(), b), z, t)
    assert gradcheck(lambda a, b: nn.binary_cross_entropy_with_logits(a, b, reduction="sum"), z, t)
    pw = 3.0
    ref_pw = np.mean(-(pw * t * np.log(p) + (1 - t) * np.log(1 - p)))
    np.testing.assert_allclose(nn.binary_cross_entropy_with_logits(z, t, pos_weight=pw).item(), ref_pw, rtol=1e-10)


def test_binary_cross_entropy_at_probabilities_0_and_1_is_finite():
    p = Value(np.array([0.0, 1.0, 0.0, 1.0]))
    t = np.array([0.0, 1.0, 1.0, 0.0])
    loss = nn.binary_cross_entropy(p, t, reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, [0.0, 0.0, 100.0, 100.0])  # PyTorch clamps log at -100
    # PyTorch's gradient (p - t) / max(p (1 - p), 1e-12): a certain wrong answer still gets a push
    np.testing.assert_allclose(p.grad, [0.0, 0.0, -1e12, 1e12])
    z = Value(np.array([1000.0, -1000.0]))
    lz = nn.binary_cross_entropy_with_logits(z, np.array([0.0, 0.0]), reduction="none")
    lz.sum().backward()
    np.testing.assert_allclose(lz.data, [1000.0, 0.0])
    np.testing.assert_allclose(z.grad, [1.0, 0.0])


def test_binary_cross_entropy_is_pytorchs_near_the_clamp_and_in_float32():
    """Values and gradients as torch.nn.functional.binary_cross_entropy gives them (from torch 2.13)."""
    p = Value(np.array([1e-50, 1e-30, 1e-10, 0.3]))
    t = Value(np.array([1.0, 1.0, 1.0, 0.7]))
    loss = nn.binary_cross_entropy(p, t, reduction="none")
    loss.sum().backward()
    np.testing.assert_allclose(loss.data, [100.0, 69.07755278982137, 23.025850929940457, 0.949783446209775], rtol=1e-14)
    np.testing.assert_allclose(p.grad, [-1e12, -1e12, -1e10, -1.9047619047619047], rtol=1e-12)
    np.testing.assert_allclose(t.grad, [100.0, 69.07755278982137, 23.02585092984046, 0.8472978603872037], rtol=1e-12)
    p32 = Value(np.array([0.0, 0.3, 1.0], dtype=np.float32))
    loss32 = nn.binary_cross_entropy(p32, np.array([1.0, 0.7, 0.0], dtype=np.float32), reduction="none")
    loss32.sum().backward()
    assert loss32.dtype == np.float32 and p32.grad.dtype == np.float32
    np.testing.assert_allclose(loss32.data, [100.0, 0.949783444404602, 100.0], rtol=1e-6)  # 100 in float32 too, not 87.3
    np.testing.assert_allclose(p32.grad, [-999999995904.0, -1.9047616720199585, 999999995904.0], rtol=1e-6)


def test_binary_cross_entropy_refuses_values_outside_0_1():
    with pytest.raises(ValueError, match=r"probabilities must be in \[0, 1\], got values from -0.5 to 2"):
        nn.binary_cross_entropy(np.array([-0.5, 2.0]), np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"probabilities must be in \[0, 1\], got 1 nan value"):
        nn.binary_cross_entropy(np.array([0.5, np.nan]), np.array([0.0, 1.0]))


@settings(max_examples=20)
@given(n=st.integers(1, 6), data=st.data())
def test_hinge_loss(n, data):
    s = data.draw(arrays((n,), avoid=(-1.0, 1.0)))
    t = np.array(data.draw(st.lists(st.sampled_from([-1.0, 1.0]), min_size=n, max_size=n)))
    np.testing.assert_allclose(nn.hinge_loss(s, t).item(), np.maximum(0, 1 - t * s).mean(), rtol=1e-12)
    assert gradcheck(lambda v: nn.hinge_loss(v, t), s)


def test_hinge_loss_needs_plus_minus_one_targets():
    with pytest.raises(ValueError, match=r"targets must be -1 or \+1, got values \[0.0, 1.0\]"):
        nn.hinge_loss(np.zeros(2), np.array([0.0, 1.0]))


@pytest.mark.parametrize("fn", [nn.mse_loss, nn.sse, nn.half_sse, nn.binary_cross_entropy, nn.binary_cross_entropy_with_logits, nn.hinge_loss])
def test_shape_mismatch_is_a_clear_error(fn):
    with pytest.raises(ValueError, match=r"prediction has shape \(4, 1\) but target has shape \(4,\); they must be equal \(reshape"):
        fn(np.full((4, 1), 0.5), np.ones(4))


def test_one_hot():
    np.testing.assert_array_equal(nn.one_hot(np.array([2, 0]), 3), [[0, 0, 1], [1, 0, 0]])
    with pytest.raises(ValueError, match="out of range"):
        nn.one_hot([3], 3)
    for bad in (2.5, 0, True, "3"):
        with pytest.raises(TypeError, match="num_classes must be a positive int"):
            nn.one_hot([0, 1], bad)
