"""Shapes, joins and indexing: reshape and its relatives, flip, roll, tile, repeat, pad, split, the
joins, diagonal, trace, tril, triu, take_along_axis.

Most are compositions of ops.py's reshape, transpose, broadcast_to, getitem, where, concatenate
and stack (so their gradients, to every order, are those ops'); roll and pad are primitives here.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .. import ops
from ..ops import Op
from .dispatch import axis_index, axis_tuple, call, data, has_value, name_errors, new_shape, unwrap
from .reductions import sum as _sum

__all__ = [
    "reshape", "ravel", "transpose", "swapaxes", "moveaxis", "squeeze", "expand_dims", "broadcast_to",
    "flip", "roll", "tile", "repeat", "pad", "split", "array_split", "concatenate", "stack", "hstack", "vstack",
    "diagonal", "trace", "tril", "triu", "take_along_axis",
]  # fmt: skip


def _ints(name: str, what: str, v: Any) -> tuple[int, ...]:
    """An int or a sequence of ints as a tuple, or a TypeError naming the function."""
    items = v if isinstance(v, (tuple, list)) else (v,)
    if not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in items):
        raise TypeError(f"{name}: {what} must be an int or a tuple of ints, got {v!r}"[:200])
    return tuple(int(i) for i in items)


def _int_or_ints(name: str, what: str, v: Any) -> int | tuple[int, ...]:
    """An int as an int, a sequence of ints as a tuple (or a TypeError naming the function)."""
    items = _ints(name, what, v)
    return items if isinstance(v, (tuple, list)) else items[0]


# ---- primitives ----------------------------------------------------------------------------


class Roll(Op):
    """Elements shifted along axis, those past the end coming back at the start; its gradient is g rolled back."""

    __slots__ = ("shift", "axis")
    name = "roll"

    def __init__(self, shift: int | tuple[int, ...], axis: int | tuple[int, ...] | None):
        self.shift, self.axis = shift, axis

    def forward(self, x):
        return np.roll(x, self.shift, self.axis)

    def vjp0(self, g, out, x):
        back = -self.shift if isinstance(self.shift, int) else tuple(-s for s in self.shift)
        return roll(g, back, self.axis)


class Pad(Op):
    """x with constant borders, `widths` (before, after) elements on each axis (`_pad_pairs` reads numpy's
    forms); its gradient is g with the borders cut off."""

    __slots__ = ("widths", "constant_values")
    name = "pad"

    def __init__(self, widths: tuple[tuple[int, int], ...], constant_values: Any = 0):
        self.widths, self.constant_values = widths, constant_values

    def params(self):
        return {"pad_width": self.widths}

    def forward(self, x):
        if np.ndim(self.constant_values):  # a value per axis and side: numpy's pad
            return np.pad(x, self.widths, mode="constant", constant_values=self.constant_values)
        y = np.full(tuple(b + n + a for (b, a), n in zip(self.widths, x.shape)), self.constant_values, dtype=x.dtype)
        y[self._inside(x.shape)] = x  # (np.pad does the same, with ~20 us more Python per call)
        return y

    def vjp0(self, g, out, x):
        return g[self._inside(x.shape)]

    def _inside(self, shape: tuple[int, ...]) -> tuple[slice, ...]:
        """Where x (of `shape`) lies in the padded array."""
        return tuple(slice(b, b + n) for (b, _), n in zip(self.widths, shape))


def _pad_pairs(pad_width: Any, shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """numpy's reading of pad_width for an array of `shape`: (before, after) per axis from an int (every
    side), one pair (every axis), a pair per axis, or a dict {axis: int or pair} (the others 0); np.pad's errors."""
    ndim, given = len(shape), pad_width
    if isinstance(pad_width, (tuple, list)) and len(pad_width) == ndim and all(_is_pair(p) for p in pad_width):
        return tuple((int(b), int(a)) for b, a in pad_width)  # (the explicit form, read without numpy's ~15 us)
    if isinstance(pad_width, dict):
        pairs = [(0, 0)] * ndim
        for axis, width in pad_width.items():
            side = _ints("pad", f"pad_width[{axis!r}]", width)
            if len(side) not in (1, 2):
                raise TypeError(f"pad: pad_width[{axis!r}] must be an int or a (before, after) pair, got {width!r}")
            pairs[axis_index("pad", axis, ndim)] = (side[0], side[-1])
        pad_width = pairs
    w = np.asarray(pad_width)
    if w.dtype.kind != "i":
        raise TypeError(f"`pad_width` must be of integral type, got {given!r}")
    if w.ndim < 3 and (w.size == 1 or (w.size == 2 and w.shape != (2, 1))):
        w = w.ravel()  # one number, or one (before, after) pair, for every axis ([[1], [2]] is one number per axis)
    if w.size and w.min() < 0:
        raise ValueError(f"index can't contain negative values, got pad_width={given!r} (input shape {shape})")
    try:
        sides = np.broadcast_to(w, (ndim, 2))
    except ValueError:
        raise ValueError(f"cannot read pad_width={given!r} as an int, a (before, after) pair or a pair per axis of an input of shape {shape}") from None
    return tuple((int(b), int(a)) for b, a in sides)


def _is_pair(p: Any) -> bool:
    """Whether p is a (before, after) pair of non-negative ints."""
    return isinstance(p, (tuple, list)) and len(p) == 2 and all(type(n) is int or isinstance(n, np.integer) for n in p) and min(p) >= 0


# ---- reshaping -----------------------------------------------------------------------------


def reshape(a: Any, shape: Any) -> Any:
    """The same elements in a new shape (one entry may be -1)."""
    if not has_value(a):
        return np.reshape(a, shape)
    return call(ops.Reshape(_ints("reshape", "shape", shape)), a)


def ravel(a: Any) -> Any:
    """The elements as a 1-D array, in C order."""
    if not has_value(a):
        return np.ravel(a)
    return call(ops.Reshape((-1,)), a)


def transpose(a: Any, axes: Any = None) -> Any:
    """Axes permuted (reversed when axes is None)."""
    if not has_value(a):
        return np.transpose(a, axes)
    return call(ops.Transpose(None if axes is None else _ints("transpose", "axes", axes)), a)


def swapaxes(a: Any, axis1: int, axis2: int) -> Any:
    """Two axes exchanged (PyTorch's x.transpose(d0, d1))."""
    if not has_value(a):
        return np.swapaxes(a, axis1, axis2)
    a = unwrap(a)
    perm = list(range(a.ndim))
    i, j = axis_index("swapaxes", axis1, a.ndim), axis_index("swapaxes", axis2, a.ndim)
    perm[i], perm[j] = j, i
    return call(ops.Transpose(tuple(perm)), a)


def moveaxis(a: Any, source: Any, destination: Any) -> Any:
    """Axes moved to new positions, the others keeping their order."""
    if not has_value(a):
        return np.moveaxis(a, source, destination)
    a = unwrap(a)
    src = axis_tuple("moveaxis", _ints("moveaxis", "source", source), a.ndim)
    dst = axis_tuple("moveaxis", _ints("moveaxis", "destination", destination), a.ndim)
    if len(src) != len(dst):
        raise ValueError(f"moveaxis: source {source!r} and destination {destination!r} must have the same number of elements")
    order = [n for n in range(a.ndim) if n not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return call(ops.Transpose(tuple(order)), a)


def squeeze(a: Any, axis: Any = None) -> Any:
    """Axes of size 1 removed (all of them when axis is None; naming another axis is an error, as numpy)."""
    if not has_value(a):
        return np.squeeze(a, axis)
    a = unwrap(a)
    return call(ops.Reshape(new_shape("squeeze", np.squeeze, a.shape, axis)), a)


def expand_dims(a: Any, axis: Any) -> Any:
    """New axes of size 1 at the positions in axis (PyTorch's unsqueeze)."""
    if not has_value(a):
        return np.expand_dims(a, axis)
    a = unwrap(a)
    return call(ops.Reshape(new_shape("expand_dims", np.expand_dims, a.shape, axis)), a)


def broadcast_to(array: Any, shape: Any) -> Any:
    """array repeated along new or size-1 axes to shape; its gradient sums over them."""
    if not has_value(array):
        return np.broadcast_to(array, shape)
    array = unwrap(array)
    shape = _ints("broadcast_to", "shape", shape)
    new_shape("broadcast_to", np.broadcast_to, array.shape, shape)  # numpy's check, with the names
    return ops.broadcast_to(array, shape)


# ---- rearranging ---------------------------------------------------------------------------


def flip(m: Any, axis: Any = None) -> Any:
    """The order of the elements reversed along axis (all axes when None)."""
    if not has_value(m):
        return np.flip(m, axis)
    m = unwrap(m)
    axes = axis_tuple("flip", axis, m.ndim)
    return m[tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(m.ndim))]


def roll(a: Any, shift: Any, axis: Any = None) -> Any:
    """Elements shifted by `shift` along axis (over the flattened array when None), wrapping around."""
    if not has_value(a):
        return np.roll(a, shift, axis)
    return call(Roll(_int_or_ints("roll", "shift", shift), None if axis is None else _int_or_ints("roll", "axis", axis)), a)


def tile(A: Any, reps: Any) -> Any:
    """A repeated reps times along each axis (PyTorch's x.repeat(*reps)); the gradient sums the copies."""
    if not has_value(A):
        return np.tile(A, reps)
    x = unwrap(A)
    reps = _ints("tile", "reps", reps)
    if any(r < 0 for r in reps):
        raise ValueError(f"tile: reps must not be negative, got {reps}")
    d = builtins.max(x.ndim, len(reps))
    shape, reps = (1,) * (d - x.ndim) + x.shape, (1,) * (d - len(reps)) + reps
    spread = ops.broadcast_to(x.reshape(tuple(v for s in shape for v in (1, s))), tuple(v for r, s in zip(reps, shape) for v in (r, s)))
    return spread.reshape(tuple(r * s for r, s in zip(reps, shape)))


def repeat(a: Any, repeats: Any, axis: int | None = None) -> Any:
    """Each element repeated `repeats` times along axis (flattened when None); repeats may be one
    count per element. The gradient sums the copies."""
    if not has_value(a):
        return np.repeat(a, repeats, axis)
    x = unwrap(a)
    if axis is None:
        x, axis = x.reshape(-1), 0
    ax = axis_index("repeat", axis, x.ndim)
    s, n = x.shape, x.shape[ax]
    repeats = data(repeats)
    if np.ndim(repeats) == 0 and isinstance(repeats, (int, np.integer)) and not isinstance(repeats, bool):
        r = int(repeats)
        if r < 0:
            raise ValueError(f"repeat: repeats must not be negative, got {r}")
        spread = ops.broadcast_to(x.reshape(s[: ax + 1] + (1,) + s[ax + 1 :]), s[: ax + 1] + (r,) + s[ax + 1 :])
        return spread.reshape(s[:ax] + (n * r,) + s[ax + 1 :])
    try:
        picks = np.repeat(np.arange(n), repeats)
    except (ValueError, TypeError) as e:
        raise type(e)(f"repeat: {e} (repeats {repeats!r} for an axis of length {n})"[:300]) from None
    return x[(slice(None),) * ax + (picks,)]


def pad(array: Any, pad_width: Any, mode: Any = "constant", **kwargs: Any) -> Any:
    """array with borders of pad_width (numpy's forms); on Values only mode='constant' (with
    `constant_values`, numbers), whose gradient cuts the borders off."""
    if not has_value(array):
        return np.pad(array, pad_width, mode, **kwargs)
    if mode != "constant":
        raise ValueError(f"pad: mode {mode!r} has no gradient rule here; only mode='constant' is supported on Values")
    if set(kwargs) - {"constant_values"}:
        raise TypeError(f"pad: unexpected keyword arguments {sorted(set(kwargs) - {'constant_values'})} for mode='constant'")
    values = kwargs.get("constant_values", 0)
    if has_value(values):
        raise TypeError("pad: constant_values must be numbers, not Values (they get no gradient)")
    x = unwrap(array)
    return call(Pad(_pad_pairs(pad_width, x.shape), values), x)


# ---- splitting and joining ---------------------------------------------------------------------


def _pieces(x: Any, ax: int, bounds: list[int]) -> list[Any]:
    return [x[(slice(None),) * ax + (slice(lo, hi),)] for lo, hi in zip(bounds[:-1], bounds[1:])]


def _sections(name: str, x: Any, indices_or_sections: Any, axis: int, equal: bool) -> tuple[int, list[int]]:
    """The axis and the boundaries of the pieces: k equal (or nearly equal) sections, or cuts at the given indices."""
    x = unwrap(x)
    if x.ndim == 0:
        raise ValueError(f"{name}: cannot split a 0-d array")
    ax = axis_index(name, axis, x.ndim)
    n = x.shape[ax]
    ios = data(indices_or_sections)
    if np.ndim(ios) == 0:
        k = _ints(name, "indices_or_sections", ios)[0]
        if k <= 0:
            raise ValueError(f"{name}: the number of sections must be larger than 0, got {k}")
        if equal and n % k:
            raise ValueError(f"{name}: array split does not result in an equal division: an axis of length {n} into {k} sections")
        sizes = [n // k + 1] * (n % k) + [n // k] * (k - n % k)
        return ax, [int(b) for b in np.cumsum([0] + sizes)]
    return ax, [0, *_ints(name, "indices", list(np.asarray(ios).tolist())), n]


def split(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
    """A list of pieces along axis: k equal sections, or cut at the given indices."""
    if not has_value(ary):
        return np.split(ary, indices_or_sections, axis)
    x = unwrap(ary)
    return _pieces(x, *_sections("split", x, indices_or_sections, axis, equal=True))


def array_split(ary: Any, indices_or_sections: Any, axis: int = 0) -> Any:
    """As split, but k sections need not divide the axis: the first ones get one element more."""
    if not has_value(ary):
        return np.array_split(ary, indices_or_sections, axis)
    x = unwrap(ary)
    return _pieces(x, *_sections("array_split", x, indices_or_sections, axis, equal=False))


def concatenate(arrays: Any, axis: int | None = 0) -> Any:
    """Arrays joined along an existing axis (flattened first when axis is None)."""
    if not has_value(*arrays):
        return np.concatenate(arrays, axis=axis)
    arrays = [unwrap(x) for x in arrays]
    if axis is None:
        arrays, axis = [ravel(x) for x in arrays], 0
    return ops.concatenate(arrays, axis)


def stack(arrays: Any, axis: int = 0) -> Any:
    """Arrays of one shape joined along a new axis."""
    if not has_value(*arrays):
        return np.stack(arrays, axis=axis)
    return ops.stack([unwrap(x) for x in arrays], axis)


def _atleast(x: Any, nd: int) -> Any:
    x = unwrap(x)
    if not isinstance(x, ops.Value):
        x = np.asarray(x)
    return x if x.ndim >= nd else x.reshape((1,) * (nd - x.ndim) + x.shape)


def hstack(tup: Any) -> Any:
    """Arrays joined along axis 1 (axis 0 for 1-D arrays), as numpy."""
    if not has_value(*tup):
        return np.hstack(tup)
    xs = [_atleast(x, 1) for x in tup]
    return concatenate(xs, axis=0 if xs and xs[0].ndim == 1 else 1)


def vstack(tup: Any) -> Any:
    """Arrays joined along axis 0, 1-D ones as rows, as numpy."""
    if not has_value(*tup):
        return np.vstack(tup)
    return concatenate([_atleast(x, 2) for x in tup], axis=0)


# ---- diagonals, triangles, gathering ----------------------------------------------------------


def diagonal(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The diagonal of the (axis1, axis2) planes, as a new last axis; the gradient goes back onto it."""
    if not has_value(a):
        return np.diagonal(a, offset, axis1, axis2)
    x = unwrap(a)
    if x.ndim < 2:
        raise ValueError(f"diagonal: needs at least 2 dimensions, got shape {x.shape}")
    i1, i2 = axis_index("diagonal", axis1, x.ndim), axis_index("diagonal", axis2, x.ndim)
    if i1 == i2:
        raise ValueError(f"diagonal: axis1 and axis2 must differ, got {axis1} and {axis2} for shape {x.shape}")
    (k,) = _ints("diagonal", "offset", offset)
    x = moveaxis(x, (i1, i2), (-2, -1))
    n1, n2 = x.shape[-2:]
    length = builtins.max(0, builtins.min(n1, n2 - k) if k >= 0 else builtins.min(n1 + k, n2))
    rows = np.arange(length) + builtins.max(-k, 0)
    return x[..., rows, rows + k]


def trace(a: Any, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Any:
    """The sum along the diagonal of the (axis1, axis2) planes."""
    if not has_value(a):
        return np.trace(a, offset, axis1, axis2)
    return _sum(diagonal(a, offset, axis1, axis2), axis=-1)


def _tri_mask(name: str, x: Any, k: Any, lower: bool) -> np.ndarray:
    if x.ndim == 0:
        raise ValueError(f"{name}: needs at least 1 dimension, got a 0-d array")
    (k,) = _ints(name, "k", k)
    n, m = x.shape[-2:] if x.ndim > 1 else (x.shape[-1], x.shape[-1])
    below = np.tri(n, m, k if lower else k - 1, dtype=bool)
    return below if lower else ~below


def tril(m: Any, k: int = 0) -> Any:
    """The lower triangle of the last two axes (on and below diagonal k), zeros above; the gradient is 0 there."""
    if not has_value(m):
        return np.tril(m, k)
    x = unwrap(m)
    return call(ops.Where(_tri_mask("tril", x, k, lower=True)), x, 0.0)


def triu(m: Any, k: int = 0) -> Any:
    """The upper triangle of the last two axes (on and above diagonal k), zeros below; the gradient is 0 there."""
    if not has_value(m):
        return np.triu(m, k)
    x = unwrap(m)
    return call(ops.Where(_tri_mask("triu", x, k, lower=False)), x, 0.0)


def take_along_axis(arr: Any, indices: Any, axis: int | None = -1) -> Any:
    """arr's elements picked by integer `indices` along axis (both of one ndim; None: flattened);
    repeated picks add up in the gradient."""
    if not has_value(arr):
        return np.take_along_axis(np.asarray(arr), data(indices), axis)
    x = unwrap(arr)
    idx = np.asarray(data(indices))
    if idx.dtype.kind not in "iu":
        raise TypeError(f"take_along_axis: indices must be integers, got dtype {idx.dtype}")
    if axis is None:
        x, axis = x.reshape(-1), 0
    if idx.ndim != x.ndim:
        raise ValueError(f"take_along_axis: indices (shape {idx.shape}) and arr (shape {x.shape}) must have the same number of dimensions")
    ax = axis_index("take_along_axis", axis, x.ndim)
    n = x.shape[ax]
    if idx.size and (idx.max() >= n or idx.min() < -n):
        raise IndexError(f"take_along_axis: an index is out of bounds for axis {ax} of size {n} (indices in [{idx.min()}, {idx.max()}])")
    index = tuple(idx if d == ax else np.arange(s).reshape((1,) * d + (s,) + (1,) * (x.ndim - d - 1)) for d, s in enumerate(x.shape))
    try:
        np.broadcast_shapes(*(i.shape for i in index))
    except ValueError:
        raise ValueError(f"take_along_axis: indices of shape {idx.shape} do not broadcast against arr of shape {x.shape} off axis {ax}") from None
    return x[index]


name_errors(globals(), __all__)  # every public function's errors start with its name
