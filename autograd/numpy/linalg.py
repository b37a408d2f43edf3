"""autograd.numpy.linalg: norm, inv, det, solve, on arrays or Values, batched over leading axes.

inv, det and solve are primitives (their rules are written with inv and solve themselves, so they
differentiate again); norm is the 2-norm primitive or a composition of abs, sum, max and min.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import ops
from .dispatch import axis_tuple, call, data, has_value, name_errors, shape_of, unwrap
from .elementwise import abs as _abs
from .elementwise import sign
from .reductions import max as _max
from .reductions import min as _min
from .reductions import sum as _sum

__all__ = ["norm", "inv", "det", "solve", "LinAlgError"]

LinAlgError = np.linalg.LinAlgError  # a ValueError


def _square(name: str, shape: tuple[int, ...], what: str = "the input") -> None:
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"{name}: {what} must be a square matrix or a stack of them, shape (..., n, n); got shape {shape}")


def _singular(shape: tuple[int, ...]) -> LinAlgError:
    """(raised in a forward: the engine, or `call` on arrays, puts the function's name in front)"""
    return LinAlgError(f"the matrix is singular (shape {shape}): it has no inverse")


# ---- primitives ----------------------------------------------------------------------------


class Norm2(ops.Sum):
    """The 2-norm over axis, sqrt(sum(x**2)); d/dx = x / norm, taken as 0 at x = 0 (a subgradient)."""

    __slots__ = ()
    name = "norm"

    def forward(self, x):
        return np.sqrt(np.sum(x * x, axis=self.axis, keepdims=self.keepdims))

    def vjp0(self, g, out, x):
        outk = self._keep(out, x)
        return self._keep(g, x) * x / ops.where(data(outk) == 0, 1.0, outk)


class NormP(ops.Sum):
    """The p-norm over axis, (sum |x|**p)**(1/p); d/dx = sign(x) (|x| / norm)**(p - 1), taken as 0
    where x = 0 (also for p < 1, where it is infinite) and at x = 0, as PyTorch."""

    __slots__ = ("p",)
    name = "norm"

    def __init__(self, axis: Any, keepdims: bool, p: float):
        super().__init__(axis, keepdims)
        self.p = p

    def params(self):
        return {**super().params(), "ord": self.p}

    def forward(self, x):
        return np.sum(np.abs(x) ** self.p, axis=self.axis, keepdims=self.keepdims) ** (1.0 / self.p)

    def vjp0(self, g, out, x):
        outk = self._keep(out, x)
        ratio = _abs(x) / ops.where(data(outk) == 0, 1.0, outk)
        return self._keep(g, x) * sign(x) * ops.where(data(x) == 0, 1.0, ratio) ** (self.p - 1.0)  # (0 where x = 0: sign)


class Inv(ops.Op):
    """The inverse of square matrices (..., n, n); d/dA = -inv(A)ᵀ g inv(A)ᵀ."""

    name = "inv"

    def forward(self, a):
        try:
            return np.linalg.inv(a)
        except LinAlgError:
            raise _singular(np.shape(a)) from None

    def vjp0(self, g, out, a):
        return -(out.mT @ g @ out.mT)


class Det(ops.Op):
    """The determinant of square matrices (..., n, n); d/dA = det(A) inv(A)ᵀ, the cofactor matrix,
    computed from the SVD where A is singular (first derivatives; second derivatives there are refused)."""

    name = "det"

    def forward(self, a):
        return np.linalg.det(a)

    def vjp0(self, g, out, a):
        gk = g[..., None, None]
        if isinstance(a, ops.Value):  # second derivatives: through inv, so again differentiable
            if np.any(data(out) == 0):
                raise LinAlgError(f"det: second derivatives at a singular matrix are not supported (shape {a.shape})")
            return gk * out[..., None, None] * inv(a).mT
        return gk * _cofactors(a, out)


def _cofactors(a: np.ndarray, d: Any) -> np.ndarray:
    """The cofactor matrix det(A) inv(A)ᵀ, for a singular A from its SVD: U diag(prod of the other σ) Vᵀ times det(U) det(V)."""
    d = np.asarray(d)
    if np.all(d != 0):
        return d[..., None, None] * np.linalg.inv(a).mT
    u, s, vh = np.linalg.svd(a)
    n = s.shape[-1]
    ones = np.ones(s.shape[:-1] + (1,), dtype=s.dtype)
    before = np.cumprod(np.concatenate([ones, s[..., :-1]], axis=-1), axis=-1)  # products of the others, without division
    after = np.cumprod(np.concatenate([ones, s[..., :0:-1]], axis=-1), axis=-1)[..., ::-1]
    others = before * after if n else s
    sgn = np.linalg.det(u) * np.linalg.det(vh)
    return (sgn[..., None, None] * (u * others[..., None, :]) @ vh).astype(a.dtype, copy=False)


class Solve(ops.Op):
    """x with a @ x = b for square a (..., n, n) and b (n,) or (..., n, k) (numpy 2's reading);
    d/db = solve(aᵀ, g), d/da = -d/db xᵀ."""

    name = "solve"

    def forward(self, a, b):
        try:
            return np.linalg.solve(a, b)
        except LinAlgError:
            raise _singular(np.shape(a)) from None

    def vjp0(self, g, out, a, b):
        gb = self.vjp1(g, out, a, b)
        if np.ndim(data(b)) == 1:
            return -(gb[..., :, None] * out[..., None, :])
        return -(gb @ out.mT)

    def vjp1(self, g, out, a, b):
        if np.ndim(data(b)) == 1:  # one vector for every matrix: solve each as an (n, 1) column
            return solve(a.mT, g[..., None])[..., 0]
        return solve(a.mT, g)


INV, DET, SOLVE = Inv(), Det(), Solve()


# ---- the functions -----------------------------------------------------------------------------


def inv(a: Any) -> Any:
    """The inverse of a square matrix (or a stack of them); a singular matrix is a LinAlgError (a ValueError)."""
    _square("inv", shape_of(unwrap(a)))
    return call(INV, a)


def det(a: Any) -> Any:
    """The determinant of a square matrix (or a stack); its gradient is the cofactor matrix, also at a singular matrix."""
    _square("det", shape_of(unwrap(a)))
    return call(DET, a)


def solve(a: Any, b: Any) -> Any:
    """x with a @ x = b: b of shape (n,) is one vector, (..., n, k) a stack of k columns (numpy 2's
    rule), batch axes broadcast; a singular a is a LinAlgError (a ValueError)."""
    sa, sb = shape_of(unwrap(a)), shape_of(unwrap(b))
    _square("solve", sa, "a")
    n = sa[-1]
    if len(sb) == 0 or (len(sb) == 1 and sb[0] != n) or (len(sb) > 1 and sb[-2] != n):
        raise ValueError(f"solve: b of shape {sb} does not fit a of shape {sa}: b must be ({n},) or (..., {n}, k)")
    if len(sb) > 1:
        try:
            np.broadcast_shapes(sa[:-2], sb[:-2])
        except ValueError:
            raise ValueError(f"solve: the batch axes of a {sa[:-2]} and b {sb[:-2]} do not broadcast") from None
    return call(SOLVE, a, b)


_VECTOR_ORDS = (None, 2, 1, np.inf, -np.inf, 0)


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002 (numpy's name)
    """numpy's vector and matrix norms. Vectors (an int axis, or a 1-D x): ord None/2 (the 2-norm,
    gradient 0 at x = 0), 1, inf, -inf (ties share evenly), 0 (the count of nonzeros, gradient 0), any
    other p (sum |x|**p)**(1/p) (gradient 0 at zero elements, as PyTorch). Matrices (a pair of axes, or a 2-D x with ord): 'fro' (gradient 0 at
    0), 1, -1, inf, -inf. axis=None with ord=None: the 2-norm of all elements. Matrix ord 2, -2 and
    'nuc' (singular values) are not supported on Values."""
    if not has_value(x):
        return np.linalg.norm(x, ord, axis, keepdims)
    x = unwrap(x)
    if axis is None:
        if ord is None:
            return call(Norm2(None, keepdims), x)
        if x.ndim not in (1, 2):
            raise ValueError(f"norm: ord={ord!r} with axis=None needs a 1-D or 2-D input, got shape {x.shape}")
        axes = tuple(range(x.ndim))
    else:
        axes = axis_tuple("norm", axis, x.ndim)
        if isinstance(axis, (tuple, list)) and len(set(axes)) != len(axes):
            raise ValueError(f"norm: axis {axis!r} names the same axis twice")
    if len(axes) == 1:
        return _vector_norm(x, ord, axes[0], keepdims)
    if len(axes) == 2:
        return _matrix_norm(x, ord, axes, keepdims)
    raise ValueError(f"norm: axis must be one axis (a vector norm) or two (a matrix norm), got {axis!r}")


def _vector_norm(x: Any, ord: Any, ax: int, keepdims: bool) -> Any:
    if isinstance(ord, str) or isinstance(ord, bool) or not (ord is None or isinstance(ord, (int, float, np.integer, np.floating))):
        raise ValueError(f"norm: invalid norm order {ord!r} for vectors")
    if ord is None or ord == 2:
        return call(Norm2(ax, keepdims), x)
    if ord == np.inf:
        return _max(_abs(x), ax, keepdims=keepdims)
    if ord == -np.inf:
        return _min(_abs(x), ax, keepdims=keepdims)
    if ord == 0:
        return _sum(sign(_abs(x)), ax, keepdims=keepdims)  # the count of nonzeros: gradient 0
    if ord == 1:
        return _sum(_abs(x), ax, keepdims=keepdims)
    return call(NormP(ax, keepdims, float(ord)), x)


def _matrix_norm(x: Any, ord: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
    row, col = axes
    if ord is None or ord == "fro":
        return call(Norm2(axes, keepdims), x)
    if ord in (2, -2, "nuc"):
        raise ValueError(f"norm: matrix ord={ord!r} (from the singular values) is not supported on Values; 'fro', 1, -1, inf and -inf are")
    if ord in (1, -1):  # the largest (smallest) column sum of |x|
        reduce, inner, outer = (_max if ord == 1 else _min), row, col
    elif ord in (np.inf, -np.inf):  # the largest (smallest) row sum
        reduce, inner, outer = (_max if ord == np.inf else _min), col, row
    else:
        raise ValueError(f"norm: invalid norm order {ord!r} for matrices")
    out = reduce(_sum(_abs(x), inner, keepdims=True), outer, keepdims=True)
    return out if keepdims else out.reshape(tuple(n for i, n in enumerate(x.shape) if i not in axes))


name_errors(globals(), __all__)  # every public function's errors start with its name
