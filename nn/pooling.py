"""Pooling, as PyTorch's: `max_pool2d`, `avg_pool2d` (its `F.max_pool2d`, `F.avg_pool2d`) and the layers `MaxPool2d`, `AvgPool2d`.

Both are computed window offset by window offset (`Windows` in nn/windows.py): a max or a sum of
K strided slices of the padded input, for a K-element window, with no copy of the windows. Their
gradients are summing scatters back into the input's shape, one strided slice per offset.

- Max pooling: padding counts as -inf. The gradient of each window goes to its maximum; when
  several elements tie for it, to the first in row-major order (as PyTorch's CPU kernel does). An
  element that is the maximum of several (overlapping) windows gets the sum of their gradients.
  Its second derivative is 0.
- Average pooling: padding counts as 0. The divisor is the window's size, counting padding
  (count_include_pad=True, PyTorch's default) or not, or `divisor_override`; with ceil_mode, a
  window that runs past the padded input counts only what lies inside it, as in PyTorch.

Both pools' gradients are linear maps (`WindowScatter`) whose own gradients are their adjoints
(`WindowSum`), so second derivatives work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Op, Value, apply

from .activations import _value
from .module import Module
from .windows import _CACHED, Ints, Windows, ntuple, who_name

__all__ = ["max_pool2d", "avg_pool2d", "MaxPool2d", "AvgPool2d"]


# ---- the ops ---------------------------------------------------------------------------------


class _Windowed(Op):
    """What WindowSum and WindowScatter, each other's adjoint, share: the windows, the input's spatial
    size, `masks` (one boolean array of the output's shape per offset, or None for all ones) and
    `scale` (an array that broadcasts to the output, or None for 1)."""

    __slots__ = ("win", "spatial", "masks", "scale")

    def __init__(self, win: Windows, spatial: Ints, masks: list[np.ndarray] | None = None, scale: np.ndarray | None = None) -> None:
        self.win, self.spatial, self.masks, self.scale = win, spatial, masks, scale

    def params(self) -> dict[str, Any]:
        return {"kernel": self.win.kernel, "stride": self.win.stride}


class WindowSum(_Windowed):
    """y = scale * sum over offsets k of mask_k * x[window offset k]: average pooling's forward, and the
    adjoint of WindowScatter."""

    __slots__ = ()
    name = "window_sum"

    def forward(self, x):
        out = self.win.out_shape(self.spatial)
        masks = self.masks
        y = self.win.gather(self.win.pad(x), out, None if masks is None else masks.__getitem__)
        return y if self.scale is None else y * self.scale.astype(y.dtype, copy=False)

    def vjp0(self, g, out, x):
        return WindowScatter(self.win, self.spatial, self.masks, self.scale)(g)


class WindowScatter(_Windowed):
    """The adjoint of WindowSum: zeros of the input's shape with scale * mask_k * g added at every
    window offset k (one strided-slice add per offset): the gradient of both poolings."""

    __slots__ = ()
    name = "window_scatter"

    def forward(self, g):
        if self.scale is not None:
            g = g * self.scale.astype(g.dtype, copy=False)
        masks = self.masks
        d = len(self.spatial)
        out = g.shape[-d:]
        return self.win.scatter(lambda k, off: g, g.shape[:-d], self.spatial, out, g.dtype, None if masks is None else masks.__getitem__)

    def vjp0(self, h, out, g):
        return WindowSum(self.win, self.spatial, self.masks, self.scale)(h)


class MaxPool(Op):
    """The maximum of each window (padding counts as -inf): the running np.maximum of K strided slices.

    Gradient: to each window's first maximum in row-major order (PyTorch's choice at ties)."""

    __slots__ = ("win",)
    name = "max_pool"

    def __init__(self, win: Windows) -> None:
        self.win = win

    def params(self) -> dict[str, Any]:
        return {"kernel": self.win.kernel, **self.win.params()}

    def forward(self, x):
        xp = self.win.pad(x, -np.inf)
        out = self.win.out_shape(x.shape[-len(self.win.kernel) :])
        y: Any = None
        for at in self.win.index(out):
            s = xp[at]
            y = s.copy() if y is None else np.maximum(y, s, out=y)
        return y

    def vjp0(self, g, out, x):
        xd = _d(x)
        spatial = xd.shape[-len(self.win.kernel) :]
        return WindowScatter(self.win, spatial, self.first_max(xd, _d(out)))(g)

    def first_max(self, x: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
        """One boolean array per window offset: where that offset holds its window's first maximum."""
        xp = self.win.pad(x, -np.inf)
        out = y.shape[-len(self.win.kernel) :]
        masks: list[np.ndarray] = []
        taken: Any = None
        last = self.win.size - 1
        for k, at in enumerate(self.win.index(out)):
            eq = xp[at] == y
            if taken is None:
                masks.append(eq)
                taken = eq.copy() if last else None
            else:
                masks.append(eq > taken)  # a maximum here, and none at an earlier offset
                if k < last:
                    taken |= eq
        return masks

    def indices(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        """PyTorch's return_indices: each maximum's flat index into its input plane (H * W), as int64."""
        d = len(self.win.kernel)
        spatial, out = x.shape[-d:], y.shape[-d:]
        flat = np.zeros(y.shape, dtype=np.int64)
        for m, off in zip(self.first_max(x, y), self.win.offsets):
            pos = np.zeros(out, dtype=np.int64)  # the flat input index of offset `off` in every window
            for axis in range(d):
                at = np.arange(out[axis]) * self.win.stride[axis] + off[axis] * self.win.dilation[axis] - self.win.lo[axis]
                pos = pos * spatial[axis] + at.reshape((-1,) + (1,) * (d - axis - 1))
            flat += m * pos
        return flat


def _d(x: Any) -> Any:
    """A Value's data, or x itself (the windows' maxima are constants of the rule)."""
    return x.data if isinstance(x, Value) else x


# ---- arguments and checks ---------------------------------------------------------------------------


def _pool_windows(spatial: Ints, kernel: Ints, stride: Ints, padding: Ints, dilation: Ints, ceil_mode: bool, who: Any) -> Windows:
    """The windows of a pooling over `spatial`, with PyTorch's output size: floor, or with ceil_mode
    ceil (but the last window must start inside the input or its padding before)."""
    span = tuple(t * (k - 1) + 1 for k, t in zip(kernel, dilation))
    if any(p > k // 2 for p, k in zip(padding, kernel)):  # (PyTorch's rule: half the kernel, not of its dilated span)
        raise ValueError(
            f"{who_name(who)}: padding must be at most half the kernel size, got padding={padding}, kernel_size={kernel}, dilation={dilation}"
        )
    out = []
    for n, p, w, s in zip(spatial, padding, span, stride):
        size = n + 2 * p - w
        if size < 0:
            out.append(0)
            continue
        if ceil_mode:
            length = -(-size // s) + 1
            if (length - 1) * s >= n + p:
                length -= 1
        else:
            length = size // s + 1
        out.append(length)
    if any(n < 1 for n in out):
        raise ValueError(
            f"{who_name(who)}: the input's spatial size {tuple(spatial)} is too small for kernel_size={kernel} (dilation={dilation}, padding={padding}): the output would have size {tuple(out)}"
        )
    hi = tuple(max(p, (n - 1) * s + w - m - p) for n, s, w, m, p in zip(out, stride, span, spatial, padding))
    return Windows(kernel, stride, dilation, padding, hi)


def _check_pool_input(x: Value, d: int, who: Any) -> None:
    """Refuses inputs other than (N, C, *spatial) and (C, *spatial), and empty channels or planes."""
    letters = "H, W" if d == 2 else "L"
    if x.ndim not in (d + 1, d + 2) or 0 in x.shape[-d - 1 :]:
        raise ValueError(
            f"{who_name(who)}: expected a non-empty {d + 1}-D (unbatched: C, {letters}) or {d + 2}-D (batched: N, C, {letters}) input, got shape {x.shape}"
        )


def _check_divisor(divisor_override: Any, who: str) -> None:
    if divisor_override is not None and (
        isinstance(divisor_override, bool) or not isinstance(divisor_override, (int, np.integer)) or divisor_override == 0
    ):
        raise ValueError(f"{who}: divisor_override must be a non-zero int or None, got {divisor_override!r}")


class _PoolArgs:
    """kernel_size, stride (default: kernel_size), padding, dilation, checked once; a layer keeps its
    own, which keeps the windows (and average pooling's divisors) of each input size it has seen."""

    def __init__(self, d: int, kernel_size: Any, stride: Any, padding: Any, dilation: Any, who: Any) -> None:
        self.kernel = ntuple(kernel_size, d, "kernel_size", who)
        self.stride = (
            self.kernel if stride is None or (isinstance(stride, (tuple, list)) and not stride) else ntuple(stride, d, "stride", who)
        )
        self.padding = ntuple(padding, d, "padding", who, least=0)
        self.dilation = ntuple(dilation, d, "dilation", who)
        self._cache: dict[Any, Any] = {}

    def windows(self, spatial: Ints, ceil_mode: bool, who: Any) -> Windows:
        key = (spatial, ceil_mode)
        win = self._cache.get(key)
        if win is None:
            if len(self._cache) >= _CACHED:
                self._cache.clear()
            win = self._cache[key] = _pool_windows(spatial, self.kernel, self.stride, self.padding, self.dilation, ceil_mode, who)
        return win

    def scale(self, spatial: Ints, win: Windows, count_include_pad: bool, divisor_override: Any) -> np.ndarray:
        """1 / average pooling's divisor at each output position (shape `out`)."""
        key = (spatial, win, count_include_pad, divisor_override)
        scale = self._cache.get(key)
        if scale is not None:
            return scale
        if len(self._cache) >= _CACHED:
            self._cache.clear()
        out = win.out_shape(spatial)
        if divisor_override is not None:
            divisor: Any = np.full(out, float(divisor_override))
        else:  # per axis: the window's extent inside the padded input (count_include_pad) or inside the input
            divisor = np.ones(out)
            for axis, (n, k, s, p) in enumerate(zip(spatial, self.kernel, self.stride, self.padding)):
                start = np.arange(out[axis]) * s - p
                end = np.minimum(start + k, n + p)
                if not count_include_pad:
                    start, end = np.maximum(start, 0), np.minimum(end, n)
                divisor = divisor * (end - start).reshape((-1,) + (1,) * (len(out) - axis - 1))
        scale = self._cache[key] = 1.0 / divisor
        return scale


def _max_pool(x: Value, a: _PoolArgs, ceil_mode: bool, return_indices: bool, who: Any) -> Any:
    d = len(a.kernel)
    _check_pool_input(x, d, who)  # (unbatched input needs no reshape: the ops work on the last d axes)
    op = MaxPool(a.windows(x.shape[-d:], ceil_mode, who))
    y = apply(op, x)
    if return_indices:
        return y, op.indices(x.data, y.data)
    return y


def _avg_pool(x: Value, a: _PoolArgs, ceil_mode: bool, count_include_pad: bool, divisor_override: Any, who: Any) -> Value:
    d = len(a.kernel)
    _check_pool_input(x, d, who)
    spatial = x.shape[-d:]
    win = a.windows(spatial, ceil_mode, who)
    return apply(WindowSum(win, spatial, scale=a.scale(spatial, win, count_include_pad, divisor_override)), x)


def max_pool2d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    dilation: Any = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
) -> Any:
    """The maximum of each kernel_size window, as PyTorch's `F.max_pool2d`: input (N, C, H, W) or (C, H, W).

    stride defaults to kernel_size; padding (at most half the kernel) counts as -inf. The gradient
    goes to each window's maximum, at a tie to the first in row-major order. With return_indices,
    also each maximum's flat index into its H * W plane (an int64 array).
    """
    return _max_pool(
        _value(input),
        _PoolArgs(2, kernel_size, stride, padding, dilation, "max_pool2d"),
        bool(ceil_mode),
        bool(return_indices),
        "max_pool2d",
    )


def avg_pool2d(
    input: Any,
    kernel_size: Any,
    stride: Any = None,
    padding: Any = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Value:
    """The mean of each kernel_size window, as PyTorch's `F.avg_pool2d`: input (N, C, H, W) or (C, H, W).

    stride defaults to kernel_size; padding (at most half the kernel) counts as 0, and is counted
    in the divisor unless count_include_pad=False; divisor_override replaces the divisor.
    """
    _check_divisor(divisor_override, "avg_pool2d")
    a = _PoolArgs(2, kernel_size, stride, padding, 1, "avg_pool2d")
    return _avg_pool(_value(input), a, bool(ceil_mode), bool(count_include_pad), divisor_override, "avg_pool2d")


# ---- the layers ------------------------------------------------------------------------------------


class _Pool2d(Module):
    """What MaxPool2d and AvgPool2d share: kernel_size, stride (default: kernel_size) and padding, kept as
    given for repr and checked once into the arguments (and windows) each call uses."""

    def __init__(self, kernel_size: Any, stride: Any, padding: Any, dilation: Any) -> None:
        super().__init__()
        self._args = _PoolArgs(2, kernel_size, stride, padding, dilation, type(self).__name__)
        self.kernel_size, self.padding = kernel_size, padding
        self.stride = stride if stride is not None else kernel_size

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class MaxPool2d(_Pool2d):
    """The maximum of each window, as PyTorch's `nn.MaxPool2d` (stride defaults to kernel_size)."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding, dilation)
        self.dilation = dilation
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, x: Any) -> Any:
        return _max_pool(_value(x), self._args, self.ceil_mode, self.return_indices, self)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, dilation={self.dilation}, ceil_mode={self.ceil_mode}"


class AvgPool2d(_Pool2d):
    """The mean of each window, as PyTorch's `nn.AvgPool2d` (stride defaults to kernel_size; padding counted in the divisor by default)."""

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        _check_divisor(divisor_override, "AvgPool2d")
        super().__init__(kernel_size, stride, padding, 1)
        self.ceil_mode, self.count_include_pad, self.divisor_override = bool(ceil_mode), bool(count_include_pad), divisor_override

    def forward(self, x: Any) -> Value:
        return _avg_pool(_value(x), self._args, self.ceil_mode, self.count_include_pad, self.divisor_override, self)
