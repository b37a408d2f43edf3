"""Sliding windows over the spatial axes of an (N, C, *spatial) array, shared by convolution and pooling.

`Windows` holds one window's geometry (kernel, stride, dilation, padding before and after, per
spatial axis) and the three moves every layer here is made of:

- `view`: every window at once, as a strided view of the padded input (im2col's source),
- `gather`: the sum over kernel offsets of one strided slice each (the forward of average pooling),
- `scatter`: its adjoint, a summing scatter that adds one strided slice per kernel offset (col2im,
  and the backward of every pooling and convolution here). It adds whole slices, never
  `np.add.at` over single elements: K vectorised adds for a kernel of K elements.

Also the argument parsing the layers share: an int or a tuple per spatial axis, checked, with an
error that names the layer and the value.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

Ints = tuple[int, ...]
_CACHED = 64  # input sizes whose slices a layer keeps (more: it starts again, so memory stays bounded)


def who_name(who: Any) -> str:
    """A layer (its repr, built only for an error message) or a function's name."""
    return who if isinstance(who, str) else repr(who)


def ntuple(value: Any, n: int, what: str, who: Any, least: int = 1) -> Ints:
    """`value` (an int, or a tuple/list of n ints) as a tuple of n ints, each >= least."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        items: Ints = (int(value),) * n
    elif (
        isinstance(value, (tuple, list))
        and len(value) == n
        and all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in value)
    ):
        items = tuple(int(v) for v in value)
    else:
        kind = "positive" if least == 1 else "non-negative"
        raise ValueError(f"{who_name(who)}: {what} must be a {kind} int or a tuple of {n} {kind} ints, got {value!r}"[:300])
    if any(v < least for v in items):
        raise ValueError(f"{who_name(who)}: {what} must be {'>= 1' if least == 1 else '>= 0'}, got {value!r}")
    return items


class Windows:
    """The geometry of a sliding window over d spatial axes: kernel, stride, dilation, and the
    padding before (`lo`) and after (`hi`) each axis (after may exceed before: 'same' padding of
    an even kernel, pooling's ceil_mode)."""

    __slots__ = (
        "kernel",
        "stride",
        "dilation",
        "lo",
        "hi",
        "span",
        "disjoint",
        "offsets",
        "size",
        "_padding",
        "_outs",
        "_index",
        "_strided",
    )

    def __init__(self, kernel: Ints, stride: Ints, dilation: Ints, lo: Ints, hi: Ints) -> None:
        self.kernel, self.stride, self.dilation, self.lo, self.hi = kernel, stride, dilation, lo, hi
        self.span = tuple(d * (k - 1) + 1 for k, d in zip(kernel, dilation))  # what a dilated kernel covers
        # no input element lies in two windows: the scatter can write slices instead of adding them
        self.disjoint = all(s >= w for s, w in zip(stride, self.span))
        # the kernel offsets in row-major order (PyTorch's order for the first of tied maxima)
        self.offsets: tuple[Ints, ...] = tuple(itertools.product(*(range(k) for k in kernel)))
        self.size = len(self.offsets)  # elements in a window
        self._padding = any(lo) or any(hi)
        self._strided = (Ellipsis,) + tuple(slice(None, None, s) for s in stride) + tuple(slice(None, None, t) for t in dilation)
        # NOTE: a layer keeps its Windows: these caches spare each call the Python work of building them
        self._outs: dict[Ints, Ints] = {}
        self._index: dict[Ints, list[tuple[Any, ...]]] = {}

    def __repr__(self) -> str:
        return f"Windows(kernel={self.kernel}, stride={self.stride}, dilation={self.dilation}, lo={self.lo}, hi={self.hi})"

    def params(self) -> dict[str, Any]:
        """stride, and padding and dilation where they are not the default: what a graph picture shows of the windows."""
        p: dict[str, Any] = {"stride": self.stride}
        if self._padding:
            p["padding"] = self.lo if self.lo == self.hi else (self.lo, self.hi)
        if any(d != 1 for d in self.dilation):
            p["dilation"] = self.dilation
        return p

    def out_shape(self, spatial: Ints) -> Ints:
        """The number of windows along each spatial axis (0 where the padded input is shorter than the kernel)."""
        out = self._outs.get(spatial)
        if out is None:
            if len(self._outs) >= _CACHED:
                self._outs.clear()
            out = self._outs[spatial] = tuple(
                max((n + a + b - w) // s + 1, 0) for n, a, b, w, s in zip(spatial, self.lo, self.hi, self.span, self.stride)
            )
        return out

    def padded(self, spatial: Ints) -> Ints:
        return tuple(n + a + b for n, a, b in zip(spatial, self.lo, self.hi))

    def index(self, out: Ints) -> list[tuple[Any, ...]]:
        """For each kernel offset, the index of the padded input's elements at that offset in every
        window (`out` windows per axis): one strided slice per spatial axis."""
        idx = self._index.get(out)
        if idx is None:
            if len(self._index) >= _CACHED:
                self._index.clear()
            idx = self._index[out] = [
                (Ellipsis,) + tuple(slice(i * d, i * d + s * (n - 1) + 1, s) for i, d, s, n in zip(off, self.dilation, self.stride, out))
                for off in self.offsets
            ]
        return idx

    def pad(self, x: np.ndarray, value: float = 0.0) -> np.ndarray:
        """x with `value` around its spatial axes (x itself when there is no padding)."""
        if not self._padding:
            return x
        d = len(self.kernel)
        xp = np.full(x.shape[:-d] + self.padded(x.shape[-d:]), value, dtype=x.dtype)
        xp[(Ellipsis,) + tuple(slice(a, a + n) for a, n in zip(self.lo, x.shape[-d:]))] = x
        return xp

    def crop(self, xp: np.ndarray, spatial: Ints) -> np.ndarray:
        """The inverse of `pad`: the elements of the unpadded input."""
        if not self._padding:
            return xp
        return xp[(Ellipsis,) + tuple(slice(a, a + n) for a, n in zip(self.lo, spatial))]

    def view(self, xp: np.ndarray) -> np.ndarray:
        """Every window of the padded xp as a read-only view of shape (..., *out, *kernel)."""
        d = len(self.kernel)
        v = sliding_window_view(xp, self.span, axis=tuple(range(xp.ndim - d, xp.ndim)))
        return v[self._strided]

    def gather(self, xp: np.ndarray, out: Ints, weight: Callable[[int], Any] | None = None) -> np.ndarray:
        """sum over offsets k of xp[slices(k)] (* weight(k)): each window's (weighted) sum, shape (..., *out)."""
        total: Any = None
        for k, at in enumerate(self.index(out)):
            part = xp[at]
            if weight is not None:
                part = part * weight(k)
            if total is None:
                total = part.copy() if weight is None else part
            else:
                total += part
        return total

    def scatter(
        self,
        part: Callable[[int, Ints], np.ndarray],
        lead: Ints,
        spatial: Ints,
        out: Ints,
        dtype: Any,
        mask: Callable[[int], np.ndarray] | None = None,
    ) -> np.ndarray:
        """The adjoint of `gather`/`view`: zeros of shape (*lead, *spatial), padded, with part(k, offset)
        (shape (*lead, *out), times mask(k) if given) added at every offset's strided slice; then the
        padding cropped off."""
        gp = np.zeros(lead + self.padded(spatial), dtype=dtype)
        for k, (off, at) in enumerate(zip(self.offsets, self.index(out))):
            dst = gp[at]
            src = part(k, off)
            if self.disjoint:  # each element is in one window at most: write, no read-add-write
                if mask is None:
                    dst[...] = src
                else:
                    np.multiply(src, mask(k), out=dst)
            else:
                dst += src if mask is None else src * mask(k)
        return self.crop(gp, spatial)
