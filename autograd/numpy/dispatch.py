"""How every function of autograd.numpy picks its path: through the graph when an input is a Value,
else numpy's own result on plain data. Also the small shape and axis helpers they share."""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.lib.array_utils import normalize_axis_index, normalize_axis_tuple

from .. import ops
from ..value import Value

__all__ = ["call", "has_value", "data", "shape_of", "new_shape", "axis_index", "axis_tuple", "unwrap", "name_errors"]

data = ops._data  # a Value's numpy data, anything else as it is


def has_value(*xs: Any) -> bool:
    """Whether any argument is a Value (a list of Values counts: numpy would make an object array of it)."""
    for x in xs:
        if isinstance(x, Value):
            return True
        if isinstance(x, (list, tuple)) and any(isinstance(y, Value) or isinstance(y, (list, tuple)) and has_value(y) for y in x):
            return True
    return False


def unwrap(x: Any) -> Any:
    """x with nested lists of Values stacked into one Value (numpy's reading of a nested list), else x."""
    if isinstance(x, (list, tuple)) and has_value(x):
        return ops.stack([unwrap(y) for y in x])
    return x


def call(op: ops.Op, *xs: Any) -> Any:
    """op through the graph when any input is a Value, else op.forward on the inputs as given (numpy's
    result and type promotion); numpy's errors get the function's name in front."""
    if has_value(*xs):
        return ops._call(op, *[unwrap(x) for x in xs])
    if len(xs) == 1 and type(xs[0]) is float:  # (an op that takes Python floats would use math: numpy's inf/nan instead)
        xs = (np.float64(xs[0]),)
    try:
        return op.forward(*xs)
    except (ValueError, TypeError, IndexError, ArithmeticError) as e:
        raise _named(e, op.label()) from None


_NAMED = re.compile(r"[A-Za-z_][\w.]*(\([^)]*\))?: ")  # a message that already starts with a function's name


def _named(e: Exception, name: str, suffix: str = "") -> Exception:
    """The same kind of error (an OverflowError, from a huge int as an axis, as a ValueError), its
    message starting with the function's name."""
    kind = ValueError if isinstance(e, (OverflowError, ZeroDivisionError)) else type(e)
    msg = str(e) + suffix
    if not (msg.startswith(name) or _NAMED.match(msg)):
        msg = f"{name}: {msg}"
    try:
        return kind(msg)
    except TypeError:  # an exception class with a different constructor
        return ValueError(msg)


def name_errors(namespace: dict[str, Any], names: Sequence[str]) -> None:
    """Each function in namespace[names] replaced by one whose errors (numpy's too, on plain arrays)
    start with the function's name; an OverflowError (a huge int as an axis) becomes a ValueError,
    and an AttributeError (numpy given a non-array) a TypeError."""
    for n in names:
        if callable(namespace[n]) and not isinstance(namespace[n], type):
            namespace[n] = _naming(namespace[n])


def _naming(fn: Callable[..., Any]) -> Callable[..., Any]:
    name = fn.__name__

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError, IndexError, ArithmeticError) as e:
            raise _named(e, name) from None
        except AttributeError as e:  # numpy's, given something that is not an array (np.split(0, 2))
            raise TypeError(f"{name}: {e}") from None

    return wrapped


def shape_of(x: Any) -> tuple[int, ...]:
    return x.shape if isinstance(x, Value) else np.shape(x)


def new_shape(name: str, fn: Callable[..., Any], shape: tuple[int, ...], *args: Any) -> tuple[int, ...]:
    """The shape numpy's fn gives an array of `shape` (computed on a zero-memory view), with numpy's
    checks; its error names the function and the shape."""
    try:
        return fn(np.broadcast_to(np.empty((), np.bool_), shape), *args).shape
    except (ValueError, TypeError, IndexError, OverflowError) as e:
        raise _named(e, name, f" (input shape {shape})") from None


def axis_index(name: str, axis: Any, ndim: int) -> int:
    """axis as a non-negative int, or an error naming the function."""
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
        raise TypeError(f"{name}: axis must be an int, got {type(axis).__name__}: {axis!r}"[:200])
    try:
        return normalize_axis_index(int(axis), ndim)
    except (ValueError, IndexError, OverflowError) as e:
        raise ValueError(f"{name}: {e}") from None


def axis_tuple(name: str, axis: Any, ndim: int) -> tuple[int, ...]:
    """An int or a sequence of ints as distinct non-negative axes (all of them for None), or an error naming the function."""
    if axis is None:
        return tuple(range(ndim))
    items: Sequence[Any] = axis if isinstance(axis, (tuple, list)) else (axis,)
    if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in items):
        raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}"[:200])
    try:
        return normalize_axis_tuple(tuple(int(a) for a in items), ndim)
    except (ValueError, IndexError, OverflowError) as e:
        raise ValueError(f"{name}: {e}") from None
