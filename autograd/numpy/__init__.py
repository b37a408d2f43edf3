"""autograd.numpy: numpy's names and signatures, differentiable. `import autograd.numpy as np`.

Each function returns a Value (with its graph) when any input is a Value, and numpy's own result
on plain data, so one function serves arrays and graphs alike (as in HIPS autograd and JAX):

    import autograd.numpy as np
    from autograd import grad

    def loss(w):
        return np.sum(np.tanh(np.dot(X, w)) ** 2)

    grad(loss)(w0)      # an ndarray of w0's shape

Names without a gradient come straight from numpy: constants, dtypes, array creation, random,
predicates and comparisons (given a Value, these read its data). Any other numpy name is an
AttributeError that says so: numpy's function would not record a graph. See docs/numpy.md.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as _np

from . import linalg as linalg  # (the submodule autograd.numpy.linalg)
from .dispatch import data as _data
from .dispatch import has_value as _has_value
from .dispatch import unwrap as _unwrap
from .einsum import *  # noqa: F403
from .einsum import __all__ as _einsum_all
from .elementwise import *  # noqa: F403
from .elementwise import __all__ as _elementwise_all
from .products import *  # noqa: F403
from .products import __all__ as _products_all
from .reductions import *  # noqa: F403
from .reductions import __all__ as _reductions_all
from .shapes import *  # noqa: F403
from .shapes import __all__ as _shapes_all

DIFFERENTIABLE = tuple(_elementwise_all + _reductions_all + _shapes_all + _products_all + _einsum_all)
"""The names here that record a graph on Values (argmax and argmin return plain indices)."""

# numpy's own: values and types, and functions that need no gradient
_CONSTANTS = ["pi", "e", "inf", "nan", "newaxis", "euler_gamma"]
_TYPES = ["ndarray", "dtype", "float16", "float32", "float64", "int8", "int16", "int32", "int64", "uint8", "bool_", "finfo", "iinfo", "random"]
_CREATION = ["zeros", "ones", "full", "empty", "eye", "identity", "arange", "linspace", "logspace", "tri", "meshgrid"]
for _name in _CONSTANTS + _TYPES + _CREATION:
    globals()[_name] = getattr(_np, _name)

# functions of a Value's data (no gradient): shapes, predicates, comparisons, sorting, the *_like constructors
_OF_DATA = [
    "shape", "ndim", "size", "isfinite", "isnan", "isinf", "isclose", "allclose", "array_equal", "all", "any",
    "nonzero", "count_nonzero", "argsort", "argwhere", "equal", "not_equal", "greater", "greater_equal", "less",
    "less_equal", "logical_and", "logical_or", "logical_not", "logical_xor", "zeros_like", "ones_like", "full_like",
    "empty_like", "result_type",
]  # fmt: skip


def _of_data(fn: Any) -> Any:
    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return fn(*[_data(_unwrap(a)) for a in args], **{k: _data(_unwrap(v)) for k, v in kwargs.items()})

    wrapped.__doc__ = f"numpy.{fn.__name__} of the data (no gradient: the result is a plain numpy value)."
    return wrapped


for _name in _OF_DATA:
    globals()[_name] = _of_data(getattr(_np, _name))
del _name


def array(object: Any, dtype: Any = None) -> Any:  # noqa: A002 (numpy's name)
    """numpy.array; a Value, or a nested list holding Values, becomes one Value (stacked) in the graph."""
    if _has_value(object):
        if dtype is not None:
            raise TypeError("array: dtype= is not supported for Values (a Value keeps float64 or float32)")
        return _unwrap(object)
    return _np.array(object, dtype=dtype)


def asarray(a: Any, dtype: Any = None) -> Any:
    """numpy.asarray; a Value, or a nested list holding Values, becomes one Value (stacked) in the graph."""
    if _has_value(a):
        return array(a, dtype)
    return _np.asarray(a, dtype=dtype)


__all__ = sorted({*DIFFERENTIABLE, *_CONSTANTS, *_TYPES, *_CREATION, *_OF_DATA, "array", "asarray", "linalg"})


def __getattr__(name: str) -> Any:
    if hasattr(_np, name):
        raise AttributeError(
            f"autograd.numpy has no {name!r}: numpy.{name} has no gradient rule here (it would not record a graph). "
            f"On plain arrays, call numpy.{name} itself; see docs/numpy.md for what is differentiable."
        )
    raise AttributeError(f"module 'autograd.numpy' has no attribute {name!r}")
