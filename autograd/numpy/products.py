"""Products: matmul, dot, inner, outer, tensordot, all compositions of ops.py's matmul, transpose,
reshape and multiplication (so their gradients, to every order, are those ops'). einsum lives in einsum.py."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from .dispatch import axis_tuple, has_value, name_errors, unwrap
from .shapes import ravel, reshape, transpose

__all__ = ["matmul", "dot", "inner", "outer", "tensordot"]


def _operand(x: Any) -> Any:
    """A Value as it is, anything else as an ndarray (so .ndim and .shape exist)."""
    x = unwrap(x)
    return x if isinstance(x, ops.Value) else np.asarray(x)


def matmul(x1: Any, x2: Any) -> Any:
    """x1 @ x2 with numpy's rules: 1-D operands are promoted, batch dimensions broadcast."""
    if not has_value(x1, x2):
        return np.matmul(x1, x2)
    return _operand(x1) @ _operand(x2)


def _contract(name: str, a: Any, b: Any, axes_a: Any, axes_b: Any) -> Any:
    """Sum of a * b over the paired axes (a's axes_a with b's axes_b); the result has a's other axes, then b's."""
    ia, ib = axis_tuple(name, axes_a, a.ndim), axis_tuple(name, axes_b, b.ndim)
    if len(ia) != len(ib):
        raise ValueError(f"{name}: {len(ia)} axes of a ({ia}) cannot be paired with {len(ib)} axes of b ({ib})")
    for i, j in zip(ia, ib):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"{name}: shapes {a.shape} and {b.shape} do not align: a's axis {i} has length {a.shape[i]}, b's axis {j} has {b.shape[j]}")
    free_a = [i for i in range(a.ndim) if i not in ia]
    free_b = [j for j in range(b.ndim) if j not in ib]
    shape_a, shape_b = tuple(a.shape[i] for i in free_a), tuple(b.shape[j] for j in free_b)
    k = math.prod(a.shape[i] for i in ia)
    left = reshape(transpose(a, tuple(free_a) + ia), (math.prod(shape_a), k))
    right = reshape(transpose(b, ib + tuple(free_b)), (k, math.prod(shape_b)))
    return reshape(left @ right, shape_a + shape_b)


def tensordot(a: Any, b: Any, axes: Any = 2) -> Any:
    """Sum of products over axes: an int n pairs a's last n axes with b's first n; a pair of
    sequences names them. The result has a's remaining axes, then b's."""
    if not has_value(a, b):
        return np.tensordot(a, b, axes)
    a, b = _operand(a), _operand(b)
    if isinstance(axes, (int, np.integer)) and not isinstance(axes, bool):
        n = int(axes)
        if not 0 <= n <= min(a.ndim, b.ndim):
            raise ValueError(f"tensordot: axes={n} needs 0 <= axes <= the operands' dimensions, got shapes {a.shape} and {b.shape}")
        return _contract("tensordot", a, b, tuple(range(a.ndim - n, a.ndim)), tuple(range(n)))
    try:
        axes_a, axes_b = axes
    except (TypeError, ValueError):
        raise TypeError(f"tensordot: axes must be an int or a pair (a's axes, b's axes), got {axes!r}"[:200]) from None
    return _contract("tensordot", a, b, axes_a, axes_b)


def dot(a: Any, b: Any) -> Any:
    """numpy's dot: a product with a 0-d operand, else the sum over a's last axis and b's
    second-to-last (its only, if 1-D): a matrix product for 2-D operands."""
    if not has_value(a, b):
        return np.dot(a, b)
    a, b = _operand(a), _operand(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    k = b.ndim - 2 if b.ndim > 1 else 0
    if a.shape[-1] != b.shape[k]:
        raise ValueError(f"dot: shapes {a.shape} and {b.shape} not aligned: {a.shape[-1]} (dim {a.ndim - 1}) != {b.shape[k]} (dim {k})")
    if b.ndim <= 2:
        return a @ b
    return _contract("dot", a, b, a.ndim - 1, k)


def inner(a: Any, b: Any) -> Any:
    """Sum of products over the last axes of a and b (a product when either is 0-d)."""
    if not has_value(a, b):
        return np.inner(a, b)
    a, b = _operand(a), _operand(b)
    if a.ndim == 0 or b.ndim == 0:
        return a * b
    return _contract("inner", a, b, a.ndim - 1, b.ndim - 1)


def outer(a: Any, b: Any) -> Any:
    """out[i, j] = a[i] * b[j] of the flattened operands."""
    if not has_value(a, b):
        return np.outer(a, b)
    return reshape(ravel(_operand(a)), (-1, 1)) * reshape(ravel(_operand(b)), (1, -1))


name_errors(globals(), __all__)  # every public function's errors start with its name
