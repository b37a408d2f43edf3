"""Elementwise maths: numpy's ufuncs with their gradient rules, each primitive's forward beside its rule.

Every rule is written with functions that take arrays and Values alike (the ones below, and
arithmetic), so it runs on arrays for first derivatives and on Values for higher ones. Constants
in rules are Python floats, so float32 stays float32.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import ops
from ..ops import Op
from .dispatch import call, data, has_value, name_errors, unwrap

__all__ = [
    "sin", "cos", "tan", "arcsin", "arccos", "arctan", "arctan2", "sinh", "cosh", "tanh",
    "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logaddexp", "sqrt", "square", "reciprocal",
    "abs", "absolute", "sign", "floor", "ceil", "round", "around", "trunc", "rint",
    "maximum", "minimum", "where", "clip",
    "add", "subtract", "multiply", "divide", "true_divide", "power", "negative",
]  # fmt: skip

_LN2, _LN10 = math.log(2.0), math.log(10.0)


# ---- trigonometric and hyperbolic ----------------------------------------------------------


class Sin(Op):
    """sin(x); d/dx = cos(x)."""

    name = "sin"

    def forward(self, x):
        return np.sin(x)

    def vjp0(self, g, out, x):
        return g * cos(x)


class Cos(Op):
    """cos(x); d/dx = -sin(x)."""

    name = "cos"

    def forward(self, x):
        return np.cos(x)

    def vjp0(self, g, out, x):
        return -g * sin(x)


class Tan(Op):
    """tan(x); d/dx = 1 + tan(x)**2."""

    name = "tan"

    def forward(self, x):
        return np.tan(x)

    def vjp0(self, g, out, x):
        return g * (1.0 + out * out)


class Arcsin(Op):
    """arcsin(x) on [-1, 1]; d/dx = 1 / sqrt(1 - x**2), inf at x = ±1."""

    name = "arcsin"

    def forward(self, x):
        return np.arcsin(x)

    def vjp0(self, g, out, x):
        return g / sqrt(1.0 - x * x)


class Arccos(Op):
    """arccos(x) on [-1, 1]; d/dx = -1 / sqrt(1 - x**2), -inf at x = ±1."""

    name = "arccos"

    def forward(self, x):
        return np.arccos(x)

    def vjp0(self, g, out, x):
        return -g / sqrt(1.0 - x * x)


class Arctan(Op):
    """arctan(x); d/dx = 1 / (1 + x**2)."""

    name = "arctan"

    def forward(self, x):
        return np.arctan(x)

    def vjp0(self, g, out, x):
        return g / (1.0 + x * x)


class Arctan2(Op):
    """The angle of the point (x, y), arctan2(y, x); d/dy = x / r², d/dx = -y / r², both 0 at the
    origin, where the angle jumps."""

    name = "arctan2"

    def forward(self, y, x):
        return np.arctan2(y, x)

    def vjp0(self, g, out, y, x):
        return g * x / _radius2(y, x)

    def vjp1(self, g, out, y, x):
        return -g * y / _radius2(y, x)


def _radius2(y: Any, x: Any) -> Any:
    """x² + y², with 1 at the origin (where the numerators are 0: the gradient 0, not 0/0)."""
    r2 = x * x + y * y
    return ops.where(data(r2) == 0, 1.0, r2)


class Sinh(Op):
    """sinh(x); d/dx = cosh(x)."""

    name = "sinh"

    def forward(self, x):
        return np.sinh(x)

    def vjp0(self, g, out, x):
        return g * cosh(x)


class Cosh(Op):
    """cosh(x); d/dx = sinh(x)."""

    name = "cosh"

    def forward(self, x):
        return np.cosh(x)

    def vjp0(self, g, out, x):
        return g * sinh(x)


# ---- exponentials and logarithms -------------------------------------------------------------


class Exp2(Op):
    """2**x; d/dx = 2**x ln 2."""

    name = "exp2"

    def forward(self, x):
        return np.exp2(x)

    def vjp0(self, g, out, x):
        return g * out * _LN2


class Expm1(Op):
    """e**x - 1, accurate for small x; d/dx = e**x."""

    name = "expm1"

    def forward(self, x):
        return np.expm1(x)

    def vjp0(self, g, out, x):
        return g * exp(x)


class Log2(Op):
    """log2(x); d/dx = 1 / (x ln 2); -inf at 0 and nan below, as numpy."""

    name = "log2"

    def forward(self, x):
        return np.log2(x)

    def vjp0(self, g, out, x):
        return g / (x * _LN2)


class Log10(Op):
    """log10(x); d/dx = 1 / (x ln 10); -inf at 0 and nan below, as numpy."""

    name = "log10"

    def forward(self, x):
        return np.log10(x)

    def vjp0(self, g, out, x):
        return g / (x * _LN10)


class Log1p(Op):
    """log(1 + x), accurate for small x; d/dx = 1 / (1 + x)."""

    name = "log1p"

    def forward(self, x):
        return np.log1p(x)

    def vjp0(self, g, out, x):
        return g / (1.0 + x)


class Logaddexp(Op):
    """log(e**x + e**y) without overflow; d/dx = sigmoid(x - y), d/dy = sigmoid(y - x) (half each at a tie)."""

    name = "logaddexp"

    def forward(self, x, y):
        return np.logaddexp(x, y)

    def vjp0(self, g, out, x, y):
        return g * ops.sigmoid(x - y)

    def vjp1(self, g, out, x, y):
        return g * ops.sigmoid(y - x)


# ---- piecewise constant: gradient 0 ------------------------------------------------------------


class _Flat(Op):
    """A piecewise-constant function: its gradient is 0 everywhere, taken as 0 also at the jumps (where it does not exist)."""

    def vjp0(self, g, out, x):
        return g * 0.0


class Sign(_Flat):
    """-1, 0 or 1 by the sign of x; gradient 0 (also at 0)."""

    name = "sign"

    def forward(self, x):
        return np.sign(x)


class Floor(_Flat):
    """The largest integer <= x; gradient 0 (also at the integers)."""

    name = "floor"

    def forward(self, x):
        return np.floor(x)


class Ceil(_Flat):
    """The smallest integer >= x; gradient 0 (also at the integers)."""

    name = "ceil"

    def forward(self, x):
        return np.ceil(x)


class Trunc(_Flat):
    """x rounded toward 0; gradient 0 (also at the integers)."""

    name = "trunc"

    def forward(self, x):
        return np.trunc(x)


class Rint(_Flat):
    """x rounded to the nearest integer (halves to even); gradient 0 (also at the halves)."""

    name = "rint"

    def forward(self, x):
        return np.rint(x)


class Round(_Flat):
    """x rounded to `decimals` places (halves to even, as numpy); gradient 0 (also at the jumps)."""

    __slots__ = ("decimals",)
    name = "round"

    def __init__(self, decimals: int = 0):
        if isinstance(decimals, bool) or not isinstance(decimals, (int, np.integer)):
            raise TypeError(f"round: decimals must be an int, got {type(decimals).__name__}: {decimals!r}"[:200])
        self.decimals = int(decimals)

    def forward(self, x):
        return np.round(x, self.decimals)


SIN, COS, TAN, ARCSIN, ARCCOS, ARCTAN, ARCTAN2 = Sin(), Cos(), Tan(), Arcsin(), Arccos(), Arctan(), Arctan2()
SINH, COSH, EXP2, EXPM1, LOG2, LOG10, LOG1P, LOGADDEXP = Sinh(), Cosh(), Exp2(), Expm1(), Log2(), Log10(), Log1p(), Logaddexp()
SIGN, FLOOR, CEIL, TRUNC, RINT = Sign(), Floor(), Ceil(), Trunc(), Rint()


# ---- the functions ---------------------------------------------------------------------------


def sin(x: Any) -> Any:
    """Sine, elementwise; d/dx = cos(x)."""
    return call(SIN, x)


def cos(x: Any) -> Any:
    """Cosine, elementwise; d/dx = -sin(x)."""
    return call(COS, x)


def tan(x: Any) -> Any:
    """Tangent, elementwise; d/dx = 1 + tan(x)**2."""
    return call(TAN, x)


def arcsin(x: Any) -> Any:
    """Inverse sine on [-1, 1] (nan outside, as numpy); the gradient is inf at ±1."""
    return call(ARCSIN, x)


def arccos(x: Any) -> Any:
    """Inverse cosine on [-1, 1] (nan outside, as numpy); the gradient is -inf at ±1."""
    return call(ARCCOS, x)


def arctan(x: Any) -> Any:
    """Inverse tangent, elementwise; d/dx = 1 / (1 + x**2)."""
    return call(ARCTAN, x)


def arctan2(x1: Any, x2: Any) -> Any:
    """The angle of the point (x2, x1) in (-pi, pi], broadcast; its gradient is 0 at the origin (where the angle jumps)."""
    return call(ARCTAN2, x1, x2)


def sinh(x: Any) -> Any:
    """Hyperbolic sine, elementwise; d/dx = cosh(x)."""
    return call(SINH, x)


def cosh(x: Any) -> Any:
    """Hyperbolic cosine, elementwise; d/dx = sinh(x)."""
    return call(COSH, x)


def tanh(x: Any) -> Any:
    """Hyperbolic tangent, elementwise; the gradient keeps its relative accuracy in the tails."""
    return call(ops.TANH, x)


def exp(x: Any) -> Any:
    """e**x, elementwise."""
    return call(ops.EXP, x)


def exp2(x: Any) -> Any:
    """2**x, elementwise."""
    return call(EXP2, x)


def expm1(x: Any) -> Any:
    """e**x - 1, accurate for small x."""
    return call(EXPM1, x)


def log(x: Any) -> Any:
    """Natural logarithm; -inf at 0 and nan below, with numpy's warnings."""
    return call(ops.LOG, x)


def log2(x: Any) -> Any:
    """Base-2 logarithm; -inf at 0 and nan below."""
    return call(LOG2, x)


def log10(x: Any) -> Any:
    """Base-10 logarithm; -inf at 0 and nan below."""
    return call(LOG10, x)


def log1p(x: Any) -> Any:
    """log(1 + x), accurate for small x; -inf at -1."""
    return call(LOG1P, x)


def logaddexp(x1: Any, x2: Any) -> Any:
    """log(e**x1 + e**x2) without overflow, broadcast; at a tie each side gets half the gradient."""
    return call(LOGADDEXP, x1, x2)


def sqrt(x: Any) -> Any:
    """Square root; nan below 0, and the gradient is inf at 0 (as in numpy's arithmetic and PyTorch)."""
    return call(ops.SQRT, x)


def square(x: Any) -> Any:
    """x * x, elementwise."""
    if has_value(x):
        x = unwrap(x)
        return x * x
    return np.square(x)


def reciprocal(x: Any) -> Any:
    """1 / x, elementwise (inf at 0; integer arrays stay integer, as numpy)."""
    if has_value(x):
        return 1.0 / unwrap(x)
    return np.reciprocal(x)


def abs(x: Any) -> Any:  # noqa: A001 (numpy's name)
    """|x|, elementwise; gradient sign(x), so 0 at x = 0."""
    return call(ops.ABS, x)


absolute = abs


def sign(x: Any) -> Any:
    """-1, 0 or 1 by the sign of x; gradient 0 everywhere (also at 0)."""
    return call(SIGN, x)


def floor(x: Any) -> Any:
    """Round down; gradient 0 everywhere (also at the integers)."""
    return call(FLOOR, x)


def ceil(x: Any) -> Any:
    """Round up; gradient 0 everywhere (also at the integers)."""
    return call(CEIL, x)


def trunc(x: Any) -> Any:
    """Round toward 0; gradient 0 everywhere (also at the integers)."""
    return call(TRUNC, x)


def rint(x: Any) -> Any:
    """Round to the nearest integer, halves to even; gradient 0 everywhere."""
    return call(RINT, x)


def round(a: Any, decimals: int = 0) -> Any:  # noqa: A001 (numpy's name)
    """Round to `decimals` places, halves to even (as numpy); gradient 0 everywhere (also at the jumps)."""
    return call(Round(decimals), a)


around = round


def maximum(x1: Any, x2: Any) -> Any:
    """Elementwise maximum, broadcast; at a tie each side gets half the gradient."""
    return call(ops.MAXIMUM, x1, x2)


def minimum(x1: Any, x2: Any) -> Any:
    """Elementwise minimum, broadcast; at a tie each side gets half the gradient."""
    return call(ops.MINIMUM, x1, x2)


def where(condition: Any, x: Any = None, y: Any = None) -> Any:
    """x where condition holds, else y, broadcast; the gradient goes to x where it holds and to y
    elsewhere (condition is a constant: a Value's data is used). With condition alone, numpy's
    indices of the nonzero elements."""
    if x is None and y is None:
        return np.where(data(condition))
    if x is None or y is None:
        raise ValueError("where: give both x and y, or neither")
    return call(ops.Where(data(unwrap(condition))), x, y)


def clip(a: Any, a_min: Any = None, a_max: Any = None, *, min: Any = None, max: Any = None) -> Any:  # noqa: A002 (numpy's names)
    """a limited to [a_min, a_max] (None: no bound; `min=`/`max=` as numpy 2 spells them), broadcast.
    The gradient goes to a inside and on the bounds, to a bound where a is beyond it; bounds may be
    arrays or Values. On Values a_min > a_max is an error (numpy returns a_max there)."""
    lo, hi = (a_min if min is None else min), (a_max if max is None else max)
    if (a_min is not None and min is not None) or (a_max is not None and max is not None):
        raise TypeError("clip: give each bound once (a_min or min, a_max or max)")
    if not has_value(a, lo, hi):
        return np.clip(a, lo, hi)
    if lo is None and hi is None:
        return unwrap(a)
    if not has_value(lo, hi) and np.ndim(lo) == 0 and np.ndim(hi) == 0:  # number bounds: one node
        return call(ops.Clip(_scalar(lo), _scalar(hi)), a)
    out = unwrap(a)
    if lo is not None:
        out = call(ops.Where(data(out) < data(unwrap(lo))), lo, out)
    if hi is not None:
        out = call(ops.Where(data(out) > data(unwrap(hi))), hi, out)
    return out


def _scalar(b: Any) -> Any:
    """A 0-d array as its numpy scalar (ops.Clip takes numbers)."""
    return b[()] if isinstance(b, np.ndarray) else b


# ---- numpy's arithmetic functions: the operators --------------------------------------------


def add(x1: Any, x2: Any) -> Any:
    """x1 + x2, broadcast."""
    return unwrap(x1) + unwrap(x2) if has_value(x1, x2) else np.add(x1, x2)


def subtract(x1: Any, x2: Any) -> Any:
    """x1 - x2, broadcast."""
    return unwrap(x1) - unwrap(x2) if has_value(x1, x2) else np.subtract(x1, x2)


def multiply(x1: Any, x2: Any) -> Any:
    """x1 * x2, broadcast."""
    return unwrap(x1) * unwrap(x2) if has_value(x1, x2) else np.multiply(x1, x2)


def divide(x1: Any, x2: Any) -> Any:
    """x1 / x2, broadcast; inf or nan where x2 == 0, with numpy's warning."""
    return unwrap(x1) / unwrap(x2) if has_value(x1, x2) else np.divide(x1, x2)


true_divide = divide


def power(x1: Any, x2: Any) -> Any:
    """x1 ** x2, broadcast; d/dx1 taken as 0 where x2 == 0, d/dx2 as 0 where x1 == 0 (see `**`)."""
    return unwrap(x1) ** unwrap(x2) if has_value(x1, x2) else np.power(x1, x2)


def negative(x: Any) -> Any:
    """-x."""
    return -unwrap(x) if has_value(x) else np.negative(x)


name_errors(globals(), __all__)  # every public function's errors start with its name
