"""The Python-float protocol: how scalars reach an op's forward and its rules.

float64 scalars flow through forwards and rules as Python floats: the same IEEE doubles as
numpy's, with arithmetic ~3x and math.tanh/exp ~6x cheaper than on numpy scalars. An op says
whether it takes them (`Op.floats`); one that does not gets numpy float64 scalars, which have
`.sum`, `.reshape` and numpy's promotion. Where Python raises instead of returning inf or nan
(x / 0.0, math.log(0.0)), or returns inf or nan without numpy's warning (1e300 * 1e300), the
call is made again on numpy scalars (`forward_again`, `rule_again`), so values and warnings
are numpy's. A 0-d float32 array goes in as a numpy scalar and stays float32.

Everything here is used by the engine's reference path; the fast backward loop
(`fastpath.py`) inlines `operand` for speed, and a test checks the two agree bit for bit.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .value import Constant, Value

_ndarray = np.ndarray
_F64 = np.dtype(np.float64)
_f64 = np.float64

# What a forward or a rule may raise on bad input; on Python floats also 1/0.0, math.log(0.0), overflow.
ERRORS = (ValueError, IndexError, TypeError, ArithmeticError)
_FLOAT_ERRORS = (ValueError, ArithmeticError)


class NotFinite(ArithmeticError):
    """A Python float result is inf or nan: it is computed again on numpy scalars, for numpy's warning."""


def operand(a: Any, floats: bool) -> Any:
    """Data as an op takes it: a 0-d array as a scalar (a Python float if float64 and the op takes
    floats, else a numpy scalar); a Python float as numpy's for an op that does not take floats."""
    if type(a) is _ndarray:
        if not a.shape:
            return a.item() if a.dtype is _F64 and floats else a[()]
    elif type(a) is float and not floats:
        return _f64(a)
    return a


def operands2(op: Any, x: Value, y: Value, a: Any, b: Any) -> tuple[Any, Any]:
    """Two inputs' data as op.forward takes them, when some input is a scalar.

    A Value's Python float that meets numpy data (or an op that wants numpy scalars) goes in as
    numpy float64, so it promotes strongly as a float64 array would; only a Python number lifted
    as a constant (`2.0 * x`) stays weak (float32 * 2.0 is float32), as in numpy.
    """
    fl = op._floats
    ta, tb = type(a), type(b)
    if ta is _ndarray and not a.shape:
        a = a.item() if a.dtype is _F64 and fl else a[()]
        ta = type(a)
    if tb is _ndarray and not b.shape:
        b = b.item() if b.dtype is _F64 and fl else b[()]
        tb = type(b)
    if (ta is float or tb is float) and not (fl and (ta is float or ta is int) and (tb is float or tb is int)):
        if ta is float and (type(x) is not Constant or type(x._data) is _ndarray):
            a = _f64(a)
        if tb is float and (type(y) is not Constant or type(y._data) is _ndarray):
            b = _f64(b)
    return a, b


def _numpy_floats(raw: Sequence[Any]) -> list[Any] | None:
    """The arguments with Python floats made numpy float64 scalars; None if there were none."""
    if not any(type(r) is float for r in raw):
        return None
    return [_f64(r) if type(r) is float else r for r in raw]


def forward_again(op: Any, raw: Sequence[Any], xs: Sequence[Value], e: Exception) -> Any:
    """The forward once more on numpy scalars if Python floats raised, else a clear error naming op and shapes."""
    if isinstance(e, _FLOAT_ERRORS):
        again = _numpy_floats(raw)
        if again is not None:
            try:
                return op.forward(*again)
            except ERRORS as e2:
                e = e2
    shapes = ", ".join(str(np.shape(x._data)) for x in xs)
    kind = ValueError if isinstance(e, (OverflowError, ZeroDivisionError)) else type(e)  # OverflowError: a huge int as an axis or shape
    msg = f"{op.label()}: {e} (input shapes {shapes})"
    del e  # e's traceback holds this frame: keeping it here would make a cycle through the inputs
    raise kind(msg) from None


def rule_again(rule: Callable[..., Any], op: Any, g: Any, out: Any, raw: Sequence[Any], e: Exception) -> Any:
    """A gradient rule once more on numpy scalars if Python floats raised (x / 0.0 and the like)."""
    again = _numpy_floats((g, out, *raw)) if isinstance(e, _FLOAT_ERRORS) else None
    if again is None:
        try:
            raise e
        finally:
            del e  # the traceback holds this frame: a frame holding e would make a cycle, and keep the graph alive
    return rule(op, *again)


def call_rule(rule: Callable[..., Any], op: Any, g: Any, out: Any, xs: Sequence[Any]) -> Any:
    """rule(op, g, out, *xs) on plain data, retried on numpy scalars where Python floats raised or gave inf/nan."""
    try:
        gi = rule(op, g, out, *xs)
        if type(gi) is float and gi - gi:  # inf or nan
            raise NotFinite
        return gi
    except ERRORS as e:
        return rule_again(rule, op, g, out, xs, e)
