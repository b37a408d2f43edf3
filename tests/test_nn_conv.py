"""Convolution (nn.conv1d, nn.conv2d, nn.Conv1d, nn.Conv2d) and nn.Flatten against PyTorch in float64:
outputs, input, weight and bias gradients, second derivatives, state_dict both ways, repr, initialisation;
gradcheck and gradgradcheck on drawn shapes and options; float32; the errors."""

import gc
import math
import warnings
import weakref

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

import nn
from autograd import Value, gradcheck, gradgradcheck

from .strategies import conv_args
from .test_nn_fuzz import junk
from .torch_parity import assert_close, compare, compare_module, load_both_ways, tensor

RNG = np.random.default_rng(0)

# (in, out, kernel_size, keyword arguments, input shape): every option, batched and unbatched
CONV2D = [
    (1, 8, 3, {}, (4, 1, 9, 9)),
    (3, 4, (3, 2), {"stride": 2}, (2, 3, 9, 8)),
    (3, 4, 3, {"stride": (2, 1), "padding": 1}, (2, 3, 7, 6)),
    (3, 4, 3, {"padding": (2, 0)}, (2, 3, 5, 6)),
    (2, 3, 3, {"padding": "valid"}, (2, 2, 5, 5)),
    (2, 3, 3, {"padding": "same"}, (2, 2, 5, 6)),
    (2, 3, (2, 4), {"padding": "same"}, (2, 2, 5, 6)),  # even kernels: the extra padding goes after
    (2, 3, (2, 3), {"padding": "same", "dilation": (3, 2)}, (1, 2, 7, 7)),
    (2, 3, 3, {"dilation": 2}, (2, 2, 7, 8)),
    (2, 3, 2, {"dilation": (1, 3), "stride": (1, 2), "padding": (0, 2)}, (2, 2, 5, 9)),
    (4, 6, 3, {"groups": 2}, (2, 4, 6, 6)),
    (4, 4, 3, {"groups": 4, "padding": 1}, (2, 4, 5, 5)),  # depthwise
    (6, 3, 1, {"groups": 3, "bias": False}, (2, 6, 4, 4)),
    (3, 4, 3, {"bias": False, "stride": 3}, (2, 3, 8, 8)),
    (2, 4, 2, {"stride": 2}, (2, 2, 6, 6)),  # windows that do not overlap (a patch embedding)
    (3, 2, 3, {"padding": 1}, (3, 6, 5)),  # unbatched (C, H, W)
]
CONV1D = [
    (2, 3, 3, {}, (4, 2, 9)),
    (2, 3, 4, {"stride": 3, "padding": 2}, (2, 2, 11)),
    (2, 3, 4, {"padding": "same", "dilation": 1}, (2, 2, 7)),
    (2, 3, 3, {"padding": "same", "dilation": 2}, (2, 2, 7)),
    (4, 2, 3, {"groups": 2, "dilation": 2, "bias": False}, (2, 4, 8)),
    (2, 3, 2, {"padding": "valid"}, (2, 7)),  # unbatched (C, L)
]


def _pair(cls_name, cfg):
    cin, cout, k, kw, _ = cfg
    torch.manual_seed(0)
    theirs = getattr(torch.nn, cls_name)(cin, cout, k, **kw).double()
    return getattr(nn, cls_name)(cin, cout, k, **kw), theirs


@pytest.mark.filterwarnings("ignore:Using padding='same' with even kernel lengths")  # PyTorch's note on its own speed
@pytest.mark.parametrize("cls_name, cfg", [("Conv2d", c) for c in CONV2D] + [("Conv1d", c) for c in CONV1D], ids=str)
def test_layer_matches_pytorch_forward_gradients_and_state_dict(cls_name, cfg):
    ours, theirs = _pair(cls_name, cfg)
    assert repr(ours) == repr(theirs)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    load_both_ways(ours, theirs)
    compare_module(ours, theirs, RNG.standard_normal(cfg[4]))


@pytest.mark.parametrize("d", [1, 2])
@settings(max_examples=40)
@given(data=st.data())
def test_conv_matches_pytorch_on_drawn_options(d, data):
    (x, w, b), kw = data.draw(conv_args(d=d, max_side=6 if d == 2 else 7))
    ours, theirs = (nn.conv2d, F.conv2d) if d == 2 else (nn.conv1d, F.conv1d)
    compare(lambda *v: ours(*v, **kw), lambda *t: theirs(*t, **kw), [x, w] if b is None else [x, w, b])


@pytest.mark.parametrize("d", [1, 2])
@settings(max_examples=20)
@given(data=st.data())
def test_gradcheck_and_gradgradcheck_on_drawn_options(d, data):
    (x, w, b), kw = data.draw(conv_args(d=d, max_side=4 if d == 2 else 5, bias=True))
    conv = nn.conv2d if d == 2 else nn.conv1d

    def f(x, w, b):
        y = conv(x, w, b, **kw)
        return y * y  # not bilinear: the gradient's own inputs (g) depend on x and w, so every rule runs

    assert gradcheck(f, x, w, b)
    assert gradgradcheck(f, x, w, b)


def test_second_derivatives_match_pytorch():
    """d/d(x, w, b) of <d loss/dx, u> + <d loss/dw, v>: the rules of the rules, against PyTorch's double backward."""
    x, w, b = RNG.standard_normal((2, 4, 6, 5)), RNG.standard_normal((6, 2, 3, 2)), RNG.standard_normal(6)
    u, v = RNG.standard_normal(x.shape), RNG.standard_normal(w.shape)
    kw = {"stride": (2, 1), "padding": (1, 2), "dilation": (1, 2), "groups": 2}
    xs = [Value(a) for a in (x, w, b)]
    y = nn.conv2d(*xs, **kw)
    loss = (y * y * y).sum()
    loss.backward(create_graph=True)
    s = (xs[0].grad * u).sum() + (xs[1].grad * v).sum()
    for a in xs:
        a.zero_grad()
    s.backward()
    ts = [tensor(a) for a in (x, w, b)]
    ty = F.conv2d(*ts, **kw)
    gx, gw = torch.autograd.grad((ty**3).sum(), ts[:2], create_graph=True)
    ((gx * torch.from_numpy(u)).sum() + (gw * torch.from_numpy(v)).sum()).backward()
    for a, t, name in zip(xs, ts, "xwb"):
        assert_close(a.grad, t.grad, f"second derivative in {name}", rtol=1e-9, atol=1e-10)


def test_float32_in_float32_out_and_gradients():
    layer = nn.Conv2d(3, 4, 3, padding=1, groups=1)
    for p in layer.parameters():
        p.data = p.data.astype(np.float32)
    x64 = RNG.standard_normal((2, 3, 5, 5))
    x = Value(x64.astype(np.float32))
    y = layer(x)
    assert y.dtype == np.float32
    y.backward(np.ones(y.shape, dtype=np.float32))
    assert x.grad.dtype == layer.weight.grad.dtype == layer.bias.grad.dtype == np.float32
    theirs = torch.nn.Conv2d(3, 4, 3, padding=1)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in layer.state_dict().items()})
    tx = torch.from_numpy(x.data.copy()).requires_grad_(True)
    theirs(tx).sum().backward()
    assert_close(y, theirs(tx), "float32 output", rtol=1e-5, atol=1e-5)
    assert_close(x.grad, tx.grad, "float32 input gradient", rtol=1e-5, atol=1e-5)
    assert_close(layer.weight.grad, theirs.weight.grad, "float32 weight gradient", rtol=1e-5, atol=1e-4)


def test_default_init_is_pytorchs_and_follows_manual_seed():
    nn.manual_seed(3)
    a = nn.Conv2d(4, 6, (3, 2), groups=2)
    nn.manual_seed(3)
    b = nn.Conv2d(4, 6, (3, 2), groups=2)
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.testing.assert_array_equal(a.bias.data, b.bias.data)
    big = nn.Conv2d(8, 64, 3, rng=0)
    bound = 1 / math.sqrt(8 * 9)  # kaiming_uniform(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in))
    for p in (big.weight, big.bias):
        assert p.dtype == np.float64 and np.abs(p.data).max() <= bound
    assert big.weight.shape == (64, 8, 3, 3) and big.bias.shape == (64,)
    assert abs(big.weight.data.std() - bound / math.sqrt(3)) < 0.05 * bound  # uniform's std
    assert abs(big.weight.data.mean()) < 0.05 * bound
    assert not np.array_equal(nn.Conv2d(8, 64, 3, rng=1).weight.data, big.weight.data)


def test_empty_batch_gives_empty_output_and_gradients():
    layer = nn.Conv2d(2, 3, 3)
    x = Value(np.zeros((0, 2, 5, 5)))
    y = layer(x)
    assert y.shape == (0, 3, 3, 3)
    y.sum().backward()
    assert x.grad.shape == (0, 2, 5, 5) and np.all(layer.weight.grad == 0) and np.all(layer.bias.grad == 0)


def test_graph_is_freed_without_the_cycle_collector():
    layer = nn.Conv2d(2, 3, 3)
    gc.disable()
    try:
        x = Value(RNG.standard_normal((2, 2, 5, 5)))
        y = layer(x)
        ref = weakref.ref(y)
        (y * y).sum().backward()
        del y
        assert ref() is None  # no op keeps a Value (the kept columns are a plain array)
    finally:
        gc.enable()


def test_weight_gradient_accumulates_over_calls_as_in_pytorch():
    ours, theirs = _pair("Conv2d", CONV2D[2])
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    x1, x2 = RNG.standard_normal((2, 3, 7, 6)), RNG.standard_normal((1, 3, 7, 6))
    (ours(x1).sum() + (ours(x2) * 2).sum()).backward()
    (theirs(torch.from_numpy(x1)).sum() + (theirs(torch.from_numpy(x2)) * 2).sum()).backward()
    assert_close(ours.weight.grad, theirs.weight.grad, "weight gradient of a layer used twice")


# ---- errors: the layer (or function) and the shapes, before numpy sees anything --------------------


@pytest.mark.parametrize(
    "make, x, message",
    [
        (
            lambda: nn.Conv2d(3, 8, 3),
            (2, 4, 6, 6),
            r"Conv2d\(3, 8, kernel_size=\(3, 3\), stride=\(1, 1\)\): expected an input with 3 channels .* got 4 channels in an input of shape \(2, 4, 6, 6\)",
        ),
        (
            lambda: nn.Conv2d(3, 8, 3),
            (3, 6),
            r"Conv2d\(3, 8, .*expected a 3-D \(unbatched: C, H, W\) or 4-D \(batched: N, C, H, W\) input, got shape \(3, 6\)",
        ),
        (lambda: nn.Conv2d(3, 8, 3), (1, 1, 3, 6, 6), r"expected a 3-D .* got shape \(1, 1, 3, 6, 6\)"),
        (
            lambda: nn.Conv1d(3, 8, 3),
            (2, 3, 4, 4),
            r"Conv1d\(3, 8, kernel_size=\(3,\), stride=\(1,\)\): expected a 2-D \(unbatched: C, L\) or 3-D \(batched: N, C, L\)",
        ),
        (
            lambda: nn.Conv2d(3, 8, 3),
            (2, 3, 2, 6),
            r"the kernel \(3, 3\) is larger than the padded input \(2, 6\) \(input of shape \(2, 3, 2, 6\), padding \(0, 0\)\)",
        ),
        (
            lambda: nn.Conv2d(3, 8, 3, dilation=2, padding=1),
            (2, 3, 2, 6),
            r"the kernel \(3, 3\) \(dilated to \(5, 5\)\) is larger than the padded input \(4, 8\)",
        ),
        (
            lambda: nn.Conv2d(4, 8, 3, groups=2),
            (2, 2, 6, 6),
            r"groups=2\): expected an input with 4 channels \(weight of shape \(8, 2, 3, 3\), groups=2\), got 2 channels",
        ),
    ],
)
def test_bad_input_names_the_layer_and_the_shapes(make, x, message):
    layer = make()
    with pytest.raises(ValueError, match=message):
        layer(np.zeros(x))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"groups": 3}, r"Conv2d: in_channels \(4\) must be divisible by groups \(3\)"),
        ({"groups": 0}, r"Conv2d: groups must be a positive int, got 0"),
        ({"groups": 4, "out_channels": 6}, r"Conv2d: out_channels \(6\) must be divisible by groups \(4\)"),
        ({"stride": 0}, r"Conv2d: stride must be >= 1, got 0"),
        ({"stride": (1, 2, 3)}, r"Conv2d: stride must be a positive int or a tuple of 2 positive ints, got \(1, 2, 3\)"),
        ({"stride": 1.5}, r"stride must be a positive int or a tuple of 2"),
        ({"padding": -1}, r"Conv2d: padding must be >= 0, got -1"),
        ({"padding": "full"}, r"Conv2d: invalid padding string 'full', should be one of 'valid', 'same'"),
        ({"padding": "same", "stride": 2}, r"Conv2d: padding='same' is not supported for strided convolutions \(stride=\(2, 2\)\)"),
        ({"dilation": (1, 0)}, r"Conv2d: dilation must be >= 1, got \(1, 0\)"),
        ({"kernel_size": 0}, r"Conv2d: kernel_size must be >= 1, got 0"),
        ({"kernel_size": True}, r"kernel_size must be a positive int"),
        ({"out_channels": 0}, r"Conv2d: out_channels must be a positive int, got 0"),
        ({"padding_mode": "reflect"}, r"Conv2d: padding_mode 'reflect' is not supported; only 'zeros'"),
    ],
)
def test_bad_layer_arguments_are_refused_at_construction(kwargs, message):
    args = {"in_channels": 4, "out_channels": 8, "kernel_size": 3, **kwargs}
    with pytest.raises(ValueError, match=message):
        nn.Conv2d(**args)


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda x, w: nn.conv2d(x, w[:, :, 0]), r"conv2d: weight must have 4 dimensions .* got shape \(6, 2, 3\)"),
        (lambda x, w: nn.conv2d(x, w, groups=4), r"conv2d: out_channels \(weight.shape\[0\] = 6\) must be divisible by groups \(4\)"),
        (
            lambda x, w: nn.conv2d(x, w, groups=3),
            r"conv2d: expected an input with 6 channels \(weight of shape \(6, 2, 3, 3\), groups=3\), got 4 channels",
        ),
        (
            lambda x, w: nn.conv2d(x, w, np.zeros(5), groups=2),
            r"conv2d: bias must have shape \(6,\) for a weight of shape \(6, 2, 3, 3\), got \(5,\)",
        ),
        (
            lambda x, w: nn.conv2d(x, w, groups=2, padding="same", stride=2),
            r"conv2d: padding='same' is not supported for strided convolutions",
        ),
        (
            lambda x, w: nn.conv2d(x, w, groups=2, stride=(1,)),
            r"conv2d: stride must be a positive int or a tuple of 2 positive ints, got \(1,\)",
        ),
        (lambda x, w: nn.conv2d(x[:, :, :2], w, groups=2), r"conv2d: the kernel \(3, 3\) is larger than the padded input \(2, 5\)"),
        (lambda x, w: nn.conv1d(x[:, :, 0], w[:, :, 0], groups=2, dilation=0), r"conv1d: dilation must be >= 1, got 0"),
    ],
)
def test_bad_functional_arguments_name_the_function(call, message):
    x, w = np.zeros((1, 4, 5, 5)), np.zeros((6, 2, 3, 3))
    with pytest.raises(ValueError, match=message):
        call(x, w)


# ---- Flatten ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "start, end, shape",
    [(1, -1, (2, 3, 4, 5)), (0, -1, (2, 3, 4)), (1, 2, (2, 3, 4, 5)), (-3, -2, (2, 3, 4, 5)), (2, 2, (2, 3, 4)), (0, 0, ())],
)
def test_flatten_matches_pytorch(start, end, shape):
    ours, theirs = nn.Flatten(start, end), torch.nn.Flatten(start, end)
    assert repr(ours) == repr(theirs)
    x = RNG.standard_normal(shape)
    compare(ours, theirs, [x])


@pytest.mark.parametrize(
    "start, end, shape, error, message",
    [
        (
            1,
            -1,
            (),
            IndexError,
            r"Flatten\(start_dim=1, end_dim=-1\): start_dim=1 is out of range for an input of shape \(\) \(expected in \[-1, 0\]\)",
        ),
        (1, -1, (3,), IndexError, r"start_dim=1 is out of range for an input of shape \(3,\)"),
        (0, 5, (3, 4), IndexError, r"end_dim=5 is out of range"),
        (2, 1, (3, 4, 5), ValueError, r"Flatten\(start_dim=2, end_dim=1\): start_dim \(2\) comes after end_dim \(1\)"),
    ],
)
def test_flatten_errors(start, end, shape, error, message):
    with pytest.raises(error, match=message):
        nn.Flatten(start, end)(np.zeros(shape))


def test_flatten_refuses_non_int_dims():
    with pytest.raises(TypeError, match="Flatten: start_dim must be an int"):
        nn.Flatten(1.0)


# ---- junk: every layer and function works or raises ValueError, TypeError or (Flatten's dims, as in PyTorch) IndexError, with a message ---


def _call(fn, *args):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        try:
            fn(*args)
        except (ValueError, TypeError, IndexError) as e:
            assert str(e), f"{fn} raised {type(e).__name__} without a message"


JUNK_MODULES = [nn.Conv2d(2, 2, 2, rng=0), nn.Conv1d(2, 2, 2, rng=0), nn.MaxPool2d(2), nn.AvgPool2d(2), nn.Flatten()]


@pytest.mark.parametrize("m", JUNK_MODULES, ids=lambda m: type(m).__name__)
@settings(max_examples=40)
@given(x=junk)
def test_layers_on_junk(m, x):
    _call(m, x)


@pytest.mark.parametrize("fn", [nn.conv2d, nn.conv1d, nn.max_pool2d, nn.avg_pool2d], ids=lambda f: f.__name__)
@settings(max_examples=40)
@given(a=junk, b=junk, c=junk)
def test_functions_on_junk(fn, a, b, c):
    _call(fn, a, b)
    _call(lambda: fn(a, b, stride=c))
    _call(
        lambda: (
            fn(np.zeros((1, 2, 4, 4)), b, padding=c)
            if fn in (nn.max_pool2d, nn.avg_pool2d)
            else fn(np.zeros((1, 2, 4, 4)), np.zeros((2, 2, 2, 2)), padding=c)
        )
    )


@settings(max_examples=40)
@given(a=junk, b=junk, c=junk)
def test_layer_arguments_on_junk(a, b, c):
    _call(lambda: nn.Conv2d(a, b, c))
    _call(lambda: nn.Conv2d(2, 2, 2, stride=a, padding=b, dilation=c))
    _call(lambda: nn.MaxPool2d(a, b, c))
    _call(lambda: nn.AvgPool2d(a, b, c))
    _call(lambda: nn.Flatten(a, b))
