"""Gradients as functions, as in JAX and HIPS autograd: `grad(f)(x)`, `value_and_grad(f)(x)`."""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence

from .engine import gradients
from .value import Value


def _argnums(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(f"argnums {argnums!r} is out of range for a call with {nargs} positional argument(s)")
    return tuple(i % nargs for i in nums)


def value_and_grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., tuple[Any, Any]]:
    """A function returning (f(*args), gradient of f with respect to args[argnums]).

    f must return a Value with one element. Arguments may be numbers, lists, arrays or Values;
    the gradient has each argument's shape. Given plain data, the results are numpy arrays;
    given Values (as when one `grad` is nested in another), they are Values with a graph, so
    transforms compose: `grad(grad(f))`.
    """

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        nums = _argnums(argnums, len(args))
        args_l = list(args)
        nested = any(isinstance(args[i], Value) for i in nums)
        for i in nums:
            if not isinstance(args_l[i], Value):
                args_l[i] = Value(args_l[i])
        out = f(*args_l, **kwargs)
        if not isinstance(out, Value):
            raise TypeError(f"{getattr(f, '__name__', 'f')} must return a Value to be differentiated, it returned {type(out).__name__}")
        if out.size != 1:
            raise ValueError(f"grad needs a function with one output element, {getattr(f, '__name__', 'f')} returned shape {out.shape}")
        gs = gradients(out, [args_l[i] for i in nums], create_graph=nested)
        value = out if nested else out.data
        return value, (gs[0] if isinstance(argnums, int) else tuple(gs))

    return wrapped


def grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """A function returning the gradient of scalar-valued f with respect to args[argnums] (see value_and_grad)."""
    vg = value_and_grad(f, argnums)

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        return vg(*args, **kwargs)[1]

    return wrapped
