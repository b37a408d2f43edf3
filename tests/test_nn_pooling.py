"""Pooling (nn.max_pool2d, nn.avg_pool2d, nn.MaxPool2d, nn.AvgPool2d) against PyTorch in float64: outputs,
input gradients, ties, indices, second derivatives, repr; gradcheck and gradgradcheck on drawn
shapes and options; float32; the errors."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value, gradcheck, gradgradcheck

from .strategies import pool_args
from .torch_parity import assert_close, compare, tensor

RNG = np.random.default_rng(0)

MAX = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 1, "padding": 1},  # overlapping windows: an element can be the maximum of several
    {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 0)},
    {"kernel_size": 2, "dilation": 2},
    {"kernel_size": 3, "stride": 2, "padding": 1, "dilation": (2, 1)},
    {"kernel_size": 2, "ceil_mode": True},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True},
    {"kernel_size": (1, 3), "stride": (1, 3)},
]
AVG = [
    {"kernel_size": 2},
    {"kernel_size": 3, "stride": 1, "padding": 1},
    {"kernel_size": 3, "stride": 1, "padding": 1, "count_include_pad": False},
    {"kernel_size": (3, 2), "stride": (2, 1), "padding": (1, 1)},
    {"kernel_size": 2, "ceil_mode": True, "padding": 1},
    {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True, "count_include_pad": False},
    {"kernel_size": 2, "divisor_override": 3},
]
SHAPES = [(2, 3, 7, 8), (3, 6, 5)]  # batched and unbatched


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kw", MAX, ids=str)
def test_max_pool_matches_pytorch(kw, shape):
    ours, theirs = nn.MaxPool2d(**kw), torch.nn.MaxPool2d(**kw)
    assert repr(ours) == repr(theirs)
    compare(ours, theirs, [RNG.standard_normal(shape)])
    compare(lambda x: nn.max_pool2d(x, **kw), lambda x: F.max_pool2d(x, **kw), [RNG.standard_normal(shape)])


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("kw", AVG, ids=str)
def test_avg_pool_matches_pytorch(kw, shape):
    ours, theirs = nn.AvgPool2d(**kw), torch.nn.AvgPool2d(**kw)
    assert repr(ours) == repr(theirs)
    compare(ours, theirs, [RNG.standard_normal(shape)])
    compare(lambda x: nn.avg_pool2d(x, **kw), lambda x: F.avg_pool2d(x, **kw), [RNG.standard_normal(shape)])


POOLS = {"max": (nn.max_pool2d, F.max_pool2d), "avg": (nn.avg_pool2d, F.avg_pool2d)}


@pytest.mark.parametrize("kind", list(POOLS))
@settings(max_examples=40)
@given(data=st.data())
def test_pool_matches_pytorch_on_drawn_options(kind, data):
    (x,), kw = data.draw(pool_args(kind))
    ours, theirs = POOLS[kind]
    compare(lambda v: ours(v, **kw), lambda t: theirs(t, **kw), [x])


@pytest.mark.parametrize("kind", list(POOLS))
@settings(max_examples=15)
@given(data=st.data())
def test_pool_gradcheck_and_gradgradcheck(kind, data):
    (x,), kw = data.draw(pool_args(kind, max_side=5))
    pool = POOLS[kind][0]

    def f(v):
        y = pool(v, **kw)
        return y * y  # the square makes the second derivative non-zero (max pooling's own is 0)

    assert gradcheck(f, x)
    assert gradgradcheck(f, x)


@pytest.mark.parametrize("pool", ["max", "avg"])
def test_second_derivatives_match_pytorch(pool):
    kw = {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}
    ours, theirs = (nn.max_pool2d, F.max_pool2d) if pool == "max" else (nn.avg_pool2d, F.avg_pool2d)
    x, u = RNG.standard_normal((2, 2, 6, 7)), RNG.standard_normal((2, 2, 6, 7))
    v = Value(x)
    (ours(v, **kw) ** 3).sum().backward(create_graph=True)
    g = v.grad
    v.zero_grad()
    (g * u).sum().backward()
    t = tensor(x)
    (gt,) = torch.autograd.grad((theirs(t, **kw) ** 3).sum(), t, create_graph=True)
    (gt * torch.from_numpy(u)).sum().backward()
    assert_close(v.grad, t.grad, f"second derivative of {pool} pooling")


def test_max_pool_ties_give_the_gradient_to_the_first_maximum_as_pytorch():
    x = np.array([[[[1.0, 1.0, 0.0, 2.0], [1.0, 0.0, 2.0, 2.0], [5.0, 5.0, 5.0, 5.0], [5.0, 5.0, 5.0, 5.0]]]])
    for kw in ({"kernel_size": 2}, {"kernel_size": 2, "stride": 1}, {"kernel_size": 3, "stride": 1, "padding": 1}):
        v = Value(x)
        nn.max_pool2d(v, **kw).sum().backward()
        t = tensor(x)
        F.max_pool2d(t, **kw).sum().backward()
        assert_close(v.grad, t.grad, f"gradient at ties, {kw}")
    v = Value(x)
    nn.max_pool2d(v, 2).sum().backward()
    np.testing.assert_array_equal(v.grad[0, 0], [[1, 0, 0, 1], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]])


def test_max_pool_padding_counts_as_minus_infinity():
    x = -np.arange(1.0, 17.0).reshape(1, 1, 4, 4)  # all negative: zero padding would win every border window
    y = nn.max_pool2d(x, 3, stride=1, padding=1)
    assert y.data.max() < 0
    assert_close(y, F.max_pool2d(torch.from_numpy(x), 3, stride=1, padding=1), "padded max pool")


def test_a_window_wholly_in_the_padding_gives_minus_infinity_and_no_gradient_as_pytorch():
    kw = {"kernel_size": (1, 2), "padding": (0, 1), "dilation": (1, 2)}  # the window's two elements are both padding
    compare(lambda v: nn.max_pool2d(v, **kw), lambda t: F.max_pool2d(t, **kw), [np.ones((1, 1, 1))])
    assert nn.max_pool2d(np.ones((1, 1, 1)), **kw).data.item() == -np.inf


@pytest.mark.parametrize(
    "kw",
    [{"kernel_size": 2}, {"kernel_size": 3, "stride": 2, "padding": 1, "ceil_mode": True}, {"kernel_size": 2, "dilation": 2, "stride": 1}],
)
def test_return_indices_are_pytorchs(kw):
    x = RNG.standard_normal((2, 3, 7, 6))
    y, idx = nn.max_pool2d(x, **kw, return_indices=True)
    ty, tidx = F.max_pool2d(torch.from_numpy(x), **kw, return_indices=True)
    assert_close(y, ty, "output")
    assert idx.dtype == np.int64
    np.testing.assert_array_equal(idx, tidx.numpy())
    y2, idx2 = nn.MaxPool2d(**kw, return_indices=True)(x)
    np.testing.assert_array_equal(idx2, idx)


def test_float32_in_float32_out_and_gradients():
    x = Value(RNG.standard_normal((2, 3, 6, 6)).astype(np.float32))
    for pool in (nn.MaxPool2d(2), nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False)):
        x.zero_grad()
        y = pool(x)
        assert y.dtype == np.float32
        y.backward(np.ones(y.shape, dtype=np.float32))
        assert x.grad.dtype == np.float32


def test_empty_batch():
    for pool in (nn.MaxPool2d(2), nn.AvgPool2d(2)):
        x = Value(np.zeros((0, 2, 4, 4)))
        y = pool(x)
        assert y.shape == (0, 2, 2, 2)
        y.sum().backward()
        assert x.grad.shape == (0, 2, 4, 4)


# ---- errors ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "call, message",
    [
        (
            lambda x: nn.MaxPool2d(3, padding=2)(x),
            r"MaxPool2d\(kernel_size=3, stride=3, padding=2, dilation=1, ceil_mode=False\): padding must be at most half the kernel size, got padding=\(2, 2\), kernel_size=\(3, 3\)",
        ),
        (lambda x: nn.avg_pool2d(x, 2, padding=2), r"avg_pool2d: padding must be at most half"),
        (
            lambda x: nn.MaxPool2d(5)(x),
            r"MaxPool2d\(kernel_size=5, .*\): the input's spatial size \(4, 4\) is too small for kernel_size=\(5, 5\) .* the output would have size \(0, 0\)",
        ),
        (
            lambda x: nn.max_pool2d(x, 3, dilation=2),
            r"max_pool2d: the input's spatial size \(4, 4\) is too small for kernel_size=\(3, 3\) \(dilation=\(2, 2\)",
        ),
        (
            lambda x: nn.MaxPool2d(2)(x[0, 0]),
            r"MaxPool2d\(.*\): expected a non-empty 3-D \(unbatched: C, H, W\) or 4-D \(batched: N, C, H, W\) input, got shape \(4, 4\)",
        ),
        (
            lambda x: nn.AvgPool2d(2)(x[None]),
            r"AvgPool2d\(kernel_size=2, stride=2, padding=0\): expected a non-empty 3-D .* got shape \(1, 1, 1, 4, 4\)",
        ),
        (lambda x: nn.max_pool2d(x[:, :0], 2), r"max_pool2d: expected a non-empty .* got shape \(1, 0, 4, 4\)"),
        (lambda x: nn.max_pool2d(x, 0), r"max_pool2d: kernel_size must be >= 1, got 0"),
        (lambda x: nn.max_pool2d(x, 2, stride=0), r"max_pool2d: stride must be >= 1, got 0"),
        (lambda x: nn.max_pool2d(x, 2, padding=-1), r"max_pool2d: padding must be >= 0, got -1"),
        (lambda x: nn.max_pool2d(x, 2, dilation=(1, 0)), r"max_pool2d: dilation must be >= 1, got \(1, 0\)"),
        (
            lambda x: nn.max_pool2d(x, (2, 2, 2)),
            r"max_pool2d: kernel_size must be a positive int or a tuple of 2 positive ints, got \(2, 2, 2\)",
        ),
        (lambda x: nn.avg_pool2d(x, 2, divisor_override=0), r"avg_pool2d: divisor_override must be a non-zero int or None, got 0"),
        (lambda x: nn.AvgPool2d(2, divisor_override=1.5), r"AvgPool2d: divisor_override must be a non-zero int or None, got 1.5"),
        (lambda x: nn.MaxPool2d(2.5), r"MaxPool2d: kernel_size must be a positive int"),
    ],
)
def test_bad_arguments_and_inputs_name_the_layer_and_the_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call(np.zeros((2, 3, 4, 4))[:1, :1])


def test_a_layer_fed_many_input_sizes_keeps_a_bounded_cache():
    pool, conv = nn.MaxPool2d(2), nn.Conv2d(1, 1, 3)
    for side in range(3, 3 + 200):
        x = np.zeros((1, 1, side, 3))
        pool(x)
        conv(x)
    assert len(pool._args._cache) <= 64 and len(conv._win._index) <= 64 and len(conv._win._outs) <= 64
    np.testing.assert_array_equal(pool(np.arange(16.0).reshape(1, 1, 4, 4)).data[0, 0], [[5, 7], [13, 15]])  # still right
