"""Reductions and scans: sum, mean, prod, var, std, max, min, logsumexp, cumsum, cumprod, argmax, argmin.

sum, mean, max and min are ops.py's primitives; the others are defined here, each forward beside
its rule. Reductions take `axis` (None, an int or a tuple) and keyword-only `keepdims`; numpy's
`out=`, `dtype=` and `where=` are not supported.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from .. import ops
from ..ops import Op
from .dispatch import axis_index, call, data, has_value, name_errors, unwrap

__all__ = ["sum", "mean", "prod", "var", "std", "max", "min", "amax", "amin", "logsumexp",
           "cumsum", "cumprod", "argmax", "argmin"]  # fmt: skip

Axis = Any  # None, an int or a tuple of ints


# ---- primitives ----------------------------------------------------------------------------


class Prod(ops.Sum):
    """Product over axis. An element's gradient is the product of the others: out / x where x != 0;
    for the only zero of its reduction, the product of the rest; 0 for a zero among two or more
    (exact to first order everywhere, to every order except there)."""

    __slots__ = ()
    name = "prod"

    def forward(self, x):
        return np.prod(x, axis=self.axis, keepdims=self.keepdims)

    def vjp0(self, g, out, x):
        gk, outk = self._keep(g, x), self._keep(out, x)
        zero = data(x) == 0
        if not np.any(zero):
            return gk * outk / x
        lone = zero & (np.sum(zero, axis=self.axis, keepdims=True) == 1)
        safe = ops.where(zero, 1.0, x)
        rest = prod(safe, self.axis, keepdims=True)  # the product of the nonzero elements
        return ops.where(zero, ops.where(lone, gk * rest, 0.0), gk * outk / safe)


class Var(ops.Sum):
    """Variance over axis, sum((x - mean)**2) / (n - ddof); d/dx = 2 (x - mean) / (n - ddof)."""

    __slots__ = ("ddof",)
    name = "var"

    def __init__(self, axis: Axis = None, keepdims: bool = False, ddof: float = 0):
        super().__init__(axis, keepdims)
        if isinstance(ddof, bool) or not isinstance(ddof, (int, float, np.integer, np.floating)):
            raise TypeError(f"{self.name}: ddof must be a number, got {type(ddof).__name__}: {ddof!r}"[:200])
        self.ddof = ddof

    def params(self):
        return {**super().params(), **({"ddof": self.ddof} if self.ddof else {})}

    def forward(self, x):
        return np.var(x, axis=self.axis, ddof=self.ddof, keepdims=self.keepdims)

    def vjp0(self, g, out, x):
        return self._keep(g, x) * _centered(x, self.axis) / (0.5 * self._dof(x, out))

    def _dof(self, x: Any, out: Any) -> float:
        """n - ddof, as numpy takes it (never below 0: the result is then inf or nan, with numpy's warning)."""
        n = np.size(data(x)) // builtins.max(np.size(data(out)), 1)
        return float(builtins.max(n - self.ddof, 0))


class Std(Var):
    """Standard deviation over axis, sqrt(var); d/dx = (x - mean) / ((n - ddof) std), taken as 0 where
    the std is 0 (all elements equal: a subgradient; PyTorch gives nan there)."""

    __slots__ = ()
    name = "std"

    def forward(self, x):
        return np.std(x, axis=self.axis, ddof=self.ddof, keepdims=self.keepdims)

    def vjp0(self, g, out, x):
        outk = self._keep(out, x)
        safe = ops.where(data(outk) == 0, 1.0, outk)
        return self._keep(g, x) * _centered(x, self.axis) / (safe * self._dof(x, out))


def _centered(x: Any, axis: Axis) -> Any:
    return x - mean(x, axis, keepdims=True)


class Logsumexp(ops.Sum):
    """log(sum(exp(x))) over axis, with the max subtracted first (no overflow); d/dx = softmax(x) = exp(x - out)."""

    __slots__ = ()
    name = "logsumexp"

    def forward(self, x):
        if not np.size(x):
            return self._empty(x)
        m = np.max(x, axis=self.axis, keepdims=True)
        m = np.where(np.isfinite(m), m, 0)  # all -inf (or an inf): no shift, so no inf - inf
        with np.errstate(divide="ignore"):  # log(0) = -inf when every element is -inf
            s = np.log(np.sum(np.exp(x - m), axis=self.axis, keepdims=True)) + m
        return s if self.keepdims else np.squeeze(s, axis=self.axis)

    def vjp0(self, g, out, x):
        return self._keep(g, x) * ops.exp(x - self._keep(out, x))


class Cumsum(Op):
    """Running sum along axis (an int); its gradient is the running sum of g from the end."""

    __slots__ = ("axis",)
    name = "cumsum"

    def __init__(self, axis: int):
        self.axis = axis

    def forward(self, x):
        return np.cumsum(x, axis=self.axis)

    def vjp0(self, g, out, x):
        return _cumsum_from_end(g, self.axis)


class Cumprod(Cumsum):
    """Running product along axis (an int). The gradient of x_j is sum_{i>=j} g_i out_i / x_j where
    x_j != 0; for the first zero, the same sum with that zero taken as 1; 0 for later zeros (exact to
    first order everywhere, to every order unless an axis holds two or more zeros)."""

    __slots__ = ()
    name = "cumprod"

    def forward(self, x):
        return np.cumprod(x, axis=self.axis)

    def vjp0(self, g, out, x):
        ax = self.axis
        r = _cumsum_from_end(g * out, ax)
        zero = data(x) == 0
        if not np.any(zero):
            return r / x
        first = zero & (np.cumsum(zero, axis=ax) == 1)
        p = cumprod(ops.where(first, 1.0, x), ax)  # the products with the first zero left out
        return ops.where(zero, ops.where(first, _cumsum_from_end(g * p, ax), 0.0), r / ops.where(zero, 1.0, x))


def _cumsum_from_end(g: Any, axis: int) -> Any:
    """sum of g from each position to the end along axis (a non-negative int), of an array or a Value."""
    rev = (slice(None),) * axis + (slice(None, None, -1),)
    return cumsum(g[rev], axis)[rev]



# ---- the functions -----------------------------------------------------------------------------


def sum(a: Any, axis: Axis = None, *, keepdims: bool = False) -> Any:  # noqa: A001 (numpy's name)
    """Sum over axis (all axes when None)."""
    if not has_value(a):
        return np.sum(a, axis=axis, keepdims=keepdims)
    return call(ops.Sum(axis, keepdims), a)


def mean(a: Any, axis: Axis = None, *, keepdims: bool = False) -> Any:
    """Mean over axis (all axes when None); on Values an empty axis is an error (numpy: nan and a warning)."""
    if not has_value(a):
        return np.mean(a, axis=axis, keepdims=keepdims)
    return call(ops.Mean(axis, keepdims), a)


def prod(a: Any, axis: Axis = None, *, keepdims: bool = False) -> Any:
    """Product over axis; each element's gradient is the product of the others (right with zeros too)."""
    if not has_value(a):
        return np.prod(a, axis=axis, keepdims=keepdims)
    return call(Prod(axis, keepdims), a)


def _ddof(name: str, ddof: Any, correction: Any) -> Any:
    if correction is None:
        return ddof
    if ddof != 0:
        raise ValueError(f"{name}: give ddof or correction, not both")
    return correction


def var(a: Any, axis: Axis = None, *, ddof: float = 0, keepdims: bool = False, correction: float | None = None) -> Any:
    """Variance over axis, divided by n - ddof: ddof=0 by default, as numpy (PyTorch's default is 1,
    the unbiased estimate); `correction=` is numpy 2's other name for ddof."""
    ddof = _ddof("var", ddof, correction)
    if not has_value(a):
        return np.var(a, axis=axis, ddof=ddof, keepdims=keepdims)
    return call(Var(axis, keepdims, ddof), a)


def std(a: Any, axis: Axis = None, *, ddof: float = 0, keepdims: bool = False, correction: float | None = None) -> Any:
    """Standard deviation over axis (ddof=0 by default, as numpy; PyTorch's is 1); gradient 0 where it is 0."""
    ddof = _ddof("std", ddof, correction)
    if not has_value(a):
        return np.std(a, axis=axis, ddof=ddof, keepdims=keepdims)
    return call(Std(axis, keepdims, ddof), a)


def max(a: Any, axis: Axis = None, *, keepdims: bool = False) -> Any:  # noqa: A001 (numpy's name)
    """Maximum over axis; tied maxima share the gradient evenly."""
    if not has_value(a):
        return np.max(a, axis=axis, keepdims=keepdims)
    return call(ops.Max(axis, keepdims), a)


def min(a: Any, axis: Axis = None, *, keepdims: bool = False) -> Any:  # noqa: A001 (numpy's name)
    """Minimum over axis; tied minima share the gradient evenly."""
    if not has_value(a):
        return np.min(a, axis=axis, keepdims=keepdims)
    return call(ops.Min(axis, keepdims), a)


amax, amin = max, min


def logsumexp(a: Any, axis: Axis = None, *, keepdims: bool = False) -> Any:
    """log(sum(exp(a))) over axis without overflow (scipy.special's name; numpy has none); its gradient is softmax(a)."""
    return call(Logsumexp(axis, keepdims), a)


def _scan(op: type[Cumsum], numpy_fn: Any, a: Any, axis: int | None) -> Any:
    if not has_value(a):
        return numpy_fn(a, axis=axis)
    a = unwrap(a)
    if axis is None:  # over the flattened array, as numpy
        a, axis = a.reshape(-1), 0
    return call(op(axis_index(op.name, axis, a.ndim)), a)


def cumsum(a: Any, axis: int | None = None) -> Any:
    """Running sum along axis (None: over the flattened array, as numpy)."""
    return _scan(Cumsum, np.cumsum, a, axis)


def cumprod(a: Any, axis: int | None = None) -> Any:
    """Running product along axis (None: flattened); the gradient is right with zeros too."""
    return _scan(Cumprod, np.cumprod, a, axis)


def argmax(a: Any, axis: int | None = None, *, keepdims: bool = False) -> Any:
    """Index of the maximum (the first one at a tie): a plain integer array, no gradient."""
    return np.argmax(data(unwrap(a)), axis=axis, keepdims=keepdims)


def argmin(a: Any, axis: int | None = None, *, keepdims: bool = False) -> Any:
    """Index of the minimum (the first one at a tie): a plain integer array, no gradient."""
    return np.argmin(data(unwrap(a)), axis=axis, keepdims=keepdims)


name_errors(globals(), __all__)  # every public function's errors start with its name
