"""Convolution, as PyTorch's: `conv1d`, `conv2d` (its `F.conv1d`, `F.conv2d`) and the layers `Conv1d`, `Conv2d`.

A convolution here is im2col and one matmul: every window of the padded input copied into
columns (one strided view, `Windows.view`, copied once), then weight @ columns for the whole
batch in one `np.matmul` call (BLAS, one small matrix product per sample and group). float32 stays
float32. Its gradient is the adjoint:

- for the weight, gradient @ columnsᵀ (the columns kept from the forward while the graph lives), one matmul;
- for the input, weightᵀ @ gradient, scattered back with one strided-slice add per kernel offset
  (col2im, `Windows.scatter`): that is a transposed convolution.

The three maps (convolution, its input gradient, its weight gradient) are bilinear, and each one's
gradient rules are the other two: so the rules are written with these ops, work on Values, and
give second (and higher) derivatives.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd import Op, Value, apply

from . import init
from .activations import _value
from .checks import positive_int
from .module import Module, Parameter
from .windows import Ints, Windows, ntuple, who_name

__all__ = ["conv1d", "conv2d", "Conv1d", "Conv2d"]


# ---- the ops ---------------------------------------------------------------------------------


def _im2col(x: np.ndarray, win: Windows, groups: int) -> np.ndarray:
    """x (N, C, *S) as columns (N, groups, C/groups * K, L): one column per output position, K = kernel size."""
    n, c = x.shape[:2]
    d = len(win.kernel)
    v = win.view(win.pad(x))  # (N, C, *out, *kernel), a view
    out = v.shape[2 : 2 + d]
    v = v.reshape(n, groups, c // groups, *out, *win.kernel)
    order = (0, 1, 2, *range(3 + d, 3 + 2 * d), *range(3, 3 + d))  # the kernel axes before the output axes
    return v.transpose(order).reshape(n, groups, (c // groups) * win.size, math.prod(out))  # the one copy


def _weight_grad(cols: np.ndarray, g: np.ndarray, wshape: Ints, groups: int) -> np.ndarray:
    """d loss / d weight from the columns and the output's gradient g (N, O, *out): sum_n g[n] @ cols[n]ᵀ."""
    n, o = g.shape[:2]
    g4 = g.reshape(n, groups, o // groups, math.prod(g.shape[2:]))  # (not -1: N may be 0)
    return np.add.reduce(np.matmul(g4, cols.swapaxes(-1, -2)), axis=0).reshape(wshape)


def _out_spatial(g: np.ndarray, d: int) -> Ints:
    return tuple(g.shape[2 : 2 + d])


class _ConvOp(Op):
    """What the convolution and its two adjoints share: the windows and the groups."""

    __slots__ = ("win", "groups")
    win: Windows
    groups: int

    def params(self) -> dict[str, Any]:
        p = self.win.params()
        if self.groups != 1:
            p["groups"] = self.groups
        return p


class Conv(_ConvOp):
    """Cross-correlation y[n, o] = sum over c in o's group and kernel offsets k of w[o, c, k] x[n, c, at + k],
    plus b[o] when a bias is given: im2col and one matmul. Inputs x (N, C, *S), w (O, C/groups, *K), b (O,)."""

    __slots__ = ("_keep", "_cols")
    name = "conv"

    def __init__(self, win: Windows, groups: int, keep_cols: bool = False) -> None:
        self.win, self.groups, self._keep = win, groups, keep_cols
        self._cols: Any = None

    def forward(self, x, w, b=None):
        cols = _im2col(x, self.win, self.groups)
        if self._keep:  # for the weight's gradient
            self._cols = cols
        n, o, g = x.shape[0], w.shape[0], self.groups
        y = np.matmul(w.reshape(g, o // g, -1), cols)  # (N, groups, O/groups, L)
        if b is not None:
            bb = b.reshape(g, o // g, 1)
            if np.result_type(y, bb) == y.dtype:
                y += bb
            else:
                y = y + bb
        return y.reshape(n, o, *self.win.out_shape(x.shape[2:]))

    def vjp0(self, g, out, x, w, b=None):
        return ConvInputGrad(self.win, self.groups, tuple(x.shape[2:]))(g, w)

    def vjp1(self, g, out, x, w, b=None):
        if self._cols is not None and type(g) is np.ndarray:
            return _weight_grad(self._cols, g, w.shape, self.groups)
        return ConvWeightGrad(self.win, self.groups, tuple(w.shape))(x, g)

    def vjp2(self, g, out, x, w, b):
        return g.sum(axis=(0, *range(2, 2 + len(self.win.kernel))))


class ConvInputGrad(_ConvOp):
    """The adjoint of Conv in x (a transposed convolution): wᵀ @ g per sample, scattered back into x's
    shape with one strided-slice add per kernel offset (col2im). Inputs g (N, O, *out), w (O, C/groups, *K)."""

    __slots__ = ("spatial",)
    name = "conv_transpose"

    def __init__(self, win: Windows, groups: int, spatial: Ints) -> None:
        self.win, self.groups, self.spatial = win, groups, spatial

    def forward(self, g, w):
        n, o = g.shape[:2]
        gr, cg, kernel = self.groups, w.shape[1], self.win.kernel
        out = _out_spatial(g, len(kernel))
        wm = w.reshape(gr, o // gr, -1)
        dcols = np.matmul(wm.swapaxes(-1, -2), g.reshape(n, gr, o // gr, math.prod(out)))  # (N, groups, C/groups * K, L)
        dcols = dcols.reshape(n, gr * cg, *kernel, *out)
        return self.win.scatter(lambda k, off: dcols[(slice(None), slice(None), *off)], (n, gr * cg), self.spatial, out, dcols.dtype)

    def vjp0(self, h, out, g, w):  # <h, ConvT(g, w)> = <Conv(h, w), g>
        return Conv(self.win, self.groups)(h, w)

    def vjp1(self, h, out, g, w):
        return ConvWeightGrad(self.win, self.groups, tuple(w.shape))(h, g)


class ConvWeightGrad(_ConvOp):
    """The adjoint of Conv in w: sum over the batch of g @ columns(x)ᵀ. Inputs x (N, C, *S), g (N, O, *out)."""

    __slots__ = ("wshape",)
    name = "conv_weight_grad"

    def __init__(self, win: Windows, groups: int, wshape: Ints) -> None:
        self.win, self.groups, self.wshape = win, groups, wshape

    def forward(self, x, g):
        return _weight_grad(_im2col(x, self.win, self.groups), g, self.wshape, self.groups)

    def vjp0(self, h, out, x, g):  # <h, ConvW(x, g)> = <Conv(x, h), g>
        return ConvInputGrad(self.win, self.groups, tuple(x.shape[2:]))(g, h)

    def vjp1(self, h, out, x, g):
        return Conv(self.win, self.groups)(x, h)


# ---- arguments and checks ----------------------------------------------------------------------


def _padding(padding: Any, kernel: Ints, stride: Ints, dilation: Ints, who: Any) -> tuple[Ints, Ints]:
    """(before, after) per spatial axis from an int, a tuple, 'valid' or 'same' (PyTorch's: an even
    dilated kernel gets the extra element after)."""
    d = len(kernel)
    if isinstance(padding, str):
        if padding == "valid":
            return (0,) * d, (0,) * d
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f"{who_name(who)}: padding='same' is not supported for strided convolutions (stride={stride})")
            total = tuple(t * (k - 1) for k, t in zip(kernel, dilation))
            lo = tuple(t // 2 for t in total)
            return lo, tuple(t - a for t, a in zip(total, lo))
        raise ValueError(
            f"{who_name(who)}: invalid padding string {padding!r}, should be one of 'valid', 'same' (or an int, or a tuple of {d} ints)"
        )
    p = ntuple(padding, d, "padding", who, least=0)
    return p, p


def _windows(kernel: Ints, stride: Any, padding: Any, dilation: Any, who: Any) -> Windows:
    d = len(kernel)
    st = ntuple(stride, d, "stride", who)
    dil = ntuple(dilation, d, "dilation", who)
    lo, hi = _padding(padding, kernel, st, dil, who)
    return Windows(kernel, st, dil, lo, hi)


def _check_input(x: Value, wshape: Ints, groups: int, win: Windows, who: Any) -> bool:
    """Checks x against the weight and the windows; True when x is batched."""
    d = len(win.kernel)
    letters = ("L",) if d == 1 else ("H", "W") if d == 2 else tuple(f"S{i}" for i in range(d))
    if x.ndim not in (d + 1, d + 2):
        raise ValueError(
            f"{who_name(who)}: expected a {d + 1}-D (unbatched: C, {', '.join(letters)}) or {d + 2}-D "
            f"(batched: N, C, {', '.join(letters)}) input, got shape {x.shape}"
        )
    c = x.shape[-d - 1]
    if c != wshape[1] * groups:
        raise ValueError(
            f"{who_name(who)}: expected an input with {wshape[1] * groups} channels (weight of shape {wshape}, groups={groups}), "
            f"got {c} channel{'' if c == 1 else 's'} in an input of shape {x.shape}"
        )
    spatial = x.shape[-d:]
    padded = win.padded(spatial)
    if any(p < w for p, w in zip(padded, win.span)):
        dil = "" if win.span == win.kernel else f" (dilated to {win.span})"
        raise ValueError(
            f"{who_name(who)}: the kernel {win.kernel}{dil} is larger than the padded input {padded} "
            f"(input of shape {x.shape}, padding {win.lo}{'' if win.lo == win.hi else f' before and {win.hi} after'})"
        )
    return x.ndim == d + 2


def _conv(x: Value, w: Value, b: Value | None, win: Windows, groups: int, who: Any) -> Value:
    """The checked convolution of x by w (and b) over `win`, batched or not."""
    batched = _check_input(x, w.shape, groups, win, who)
    if not batched:
        x = x.reshape(1, *x.shape)
    op = Conv(win, groups, keep_cols=w.requires_grad)
    y = apply(op, x, w) if b is None else apply(op, x, w, b)
    return y if batched else y.reshape(y.shape[1:])


def _convnd(d: int, fname: str, input: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: Any) -> Value:
    x, w = _value(input), _value(weight)
    if w.ndim != d + 2:
        raise ValueError(
            f"{fname}: weight must have {d + 2} dimensions (out_channels, in_channels/groups, {'kernel' if d == 1 else 'kh, kw'}), got shape {w.shape}"
        )
    if not all(w.shape):
        raise ValueError(f"{fname}: weight of shape {w.shape} has no elements")
    groups = positive_int(groups, "groups", fname)
    if w.shape[0] % groups:
        raise ValueError(f"{fname}: out_channels (weight.shape[0] = {w.shape[0]}) must be divisible by groups ({groups})")
    b = None
    if bias is not None:
        b = _value(bias)
        if b.shape != (w.shape[0],):
            raise ValueError(f"{fname}: bias must have shape ({w.shape[0]},) for a weight of shape {w.shape}, got {b.shape}")
    win = _windows(tuple(w.shape[2:]), stride, padding, dilation, fname)
    return _conv(x, w, b, win, groups, fname)


def conv1d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Value:
    """1-D cross-correlation, as PyTorch's `F.conv1d`: input (N, C, L) or (C, L), weight (O, C/groups, k), bias (O,) or None.

    padding: an int, a 1-tuple, 'valid' (none) or 'same' (output as long as the input; stride 1 only).
    """
    return _convnd(1, "conv1d", input, weight, bias, stride, padding, dilation, groups)


def conv2d(input: Any, weight: Any, bias: Any = None, stride: Any = 1, padding: Any = 0, dilation: Any = 1, groups: int = 1) -> Value:
    """2-D cross-correlation, as PyTorch's `F.conv2d`: input (N, C, H, W) or (C, H, W), weight (O, C/groups, kh, kw), bias (O,) or None.

    stride, dilation: an int or a pair; padding: an int, a pair, 'valid' (none) or 'same' (output
    as large as the input, the odd element after when the dilated kernel is even; stride 1 only).
    """
    return _convnd(2, "conv2d", input, weight, bias, stride, padding, dilation, groups)


# ---- the layers ------------------------------------------------------------------------------------


class _ConvNd(Module):
    """Conv1d and Conv2d: PyTorch's arguments, weight layout (out, in/groups, *kernel) and initialisation."""

    _d = 0

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        *,
        rng: Any = None,
    ) -> None:
        super().__init__()
        name, d = type(self).__name__, self._d
        self.in_channels = positive_int(in_channels, "in_channels", name)
        self.out_channels = positive_int(out_channels, "out_channels", name)
        self.groups = positive_int(groups, "groups", name)
        for what, n in (("in_channels", self.in_channels), ("out_channels", self.out_channels)):
            if n % self.groups:
                raise ValueError(f"{name}: {what} ({n}) must be divisible by groups ({self.groups})")
        if padding_mode != "zeros":
            raise ValueError(f"{name}: padding_mode {padding_mode!r} is not supported; only 'zeros' (PyTorch's default) is")
        self.kernel_size = ntuple(kernel_size, d, "kernel_size", name)
        self.stride = ntuple(stride, d, "stride", name)
        self.dilation = ntuple(dilation, d, "dilation", name)
        self.padding: Any = padding if isinstance(padding, str) else ntuple(padding, d, "padding", name, least=0)
        self.padding_mode = padding_mode
        self._win = _windows(self.kernel_size, self.stride, self.padding, self.dilation, name)
        gen = init.get_rng(rng)
        self.weight = Parameter(np.zeros((self.out_channels, self.in_channels // self.groups, *self.kernel_size)))
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=gen)  # U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as PyTorch
        bound = 1 / math.sqrt(self.in_channels // self.groups * math.prod(self.kernel_size))
        self.bias = init.uniform_(Parameter(np.zeros(self.out_channels)), -bound, bound, rng=gen) if bias else None

    def forward(self, x: Any) -> Value:
        return _conv(_value(x), self.weight, self.bias, self._win, self.groups, self)

    def extra_repr(self) -> str:
        s = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if isinstance(self.padding, str) or any(self.padding):
            s += f", padding={self.padding}"
        if any(t != 1 for t in self.dilation):
            s += f", dilation={self.dilation}"
        if self.groups != 1:
            s += f", groups={self.groups}"
        if self.bias is None:
            s += ", bias=False"
        return s


class Conv1d(_ConvNd):
    """1-D convolution over (N, C_in, L) or (C_in, L) inputs, as PyTorch's: weight (out_channels, in_channels/groups, kernel_size), bias (out_channels,)."""

    _d = 1


class Conv2d(_ConvNd):
    """2-D convolution over (N, C_in, H, W) or (C_in, H, W) inputs, as PyTorch's: weight (out_channels, in_channels/groups, kh, kw), bias (out_channels,).

    Initialised as PyTorch does (weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in =
    in_channels/groups * kh * kw), so a PyTorch state_dict loads unchanged.
    """

    _d = 2
