"""Gradients as functions, as in JAX and HIPS autograd: `grad`, `value_and_grad`, `jacobian`,
`hessian`, `hvp`, `vjp`, `jvp`. They compose to any order: `hessian(f) = jacobian(grad(f))`.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import ops
from .engine import enable_grad, gradients
from .value import Value, as_array


class _Nesting(threading.local):
    """How many transforms are running f right now (in this thread): > 0 means results must keep a graph."""

    depth = 0


_nesting = _Nesting()


def _fresh(x: Any) -> tuple[Value, bool]:
    """x as a new node to differentiate against, and whether it carries an outer graph.

    Fresh nodes are made from the arguments before f runs, so none is computed from another: a
    reverse pass for them stops at them (`gradients(..., stop=...)`) rather than walking on into
    the outer graph.

    A Value that requires grad gets a fresh identity node on top, so an inner derivative counts only
    the paths through the argument, not those through a closure over the same Value (no
    perturbation confusion: d/dy of (d/dx x*y at x=y) is 1, not 2). Anything else becomes a leaf.
    """
    if isinstance(x, Value):
        if x.requires_grad:
            with enable_grad():
                return x.reshape(x.shape), True
        x = x._data
    return Value(x), False


def _call(f: Callable[..., Any], args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
    """f(*args) with the graph recorded (even inside no_grad), marked as nested for inner transforms."""
    _nesting.depth += 1
    try:
        with enable_grad():
            return f(*args, **kwargs)
    finally:
        _nesting.depth -= 1


def _name(f: Any) -> str:
    return getattr(f, "__name__", "f")


def _argnums(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(f"argnums {argnums!r} is out of range for a call with {nargs} positional argument(s)")
    return tuple(i % nargs for i in nums)


def _prepare(args: tuple[Any, ...], argnums: int | Sequence[int]) -> tuple[tuple[int, ...], list[Any], bool]:
    """The chosen argument positions, the arguments with those made fresh Values, and whether to record a graph."""
    nums = _argnums(argnums, len(args))
    args_l = list(args)
    nested = _nesting.depth > 0
    for i in dict.fromkeys(nums):  # each position once: argnums=(0, 0) gives the same gradient twice
        args_l[i], outer = _fresh(args_l[i])
        nested = nested or outer
    return nums, args_l, nested


def value_and_grad(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., tuple[Any, Any]]:
    """A function returning (f(*args), gradient of f with respect to args[argnums]).

    f must return a Value with one element. Arguments may be numbers, lists, arrays or Values;
    the gradient has each argument's shape. Given plain data, the results are numpy arrays;
    given Values (as when one `grad` is nested in another), they are Values with a graph, so
    transforms compose: `grad(grad(f))`.
    """

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> tuple[Any, Any]:
        nums, args_l, nested = _prepare(args, argnums)
        out = _call(f, args_l, kwargs)
        if not isinstance(out, Value):
            raise TypeError(f"{getattr(f, '__name__', 'f')} must return a Value to be differentiated, it returned {type(out).__name__}")
        if out.size != 1:
            raise ValueError(f"grad needs a function with one output element, {getattr(f, '__name__', 'f')} returned shape {out.shape}")
        xs = [args_l[i] for i in nums]
        gs = gradients(out, xs, create_graph=nested, stop=xs)
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


def _outputs(out: Any, f: Any, what: str) -> tuple[Value, ...]:
    """f's result as a tuple of Values (f may return one Value or a tuple/list of them)."""
    outs = (out,) if isinstance(out, Value) else tuple(out) if isinstance(out, (tuple, list)) else None
    if outs is None or not all(isinstance(o, Value) for o in outs):
        raise TypeError(f"{what}: {_name(f)} must return a Value (or a tuple of Values), it returned {type(out).__name__}")
    return outs


def _stack(rows: list[Any], shape: tuple[int, ...], nested: bool, dtype: Any) -> Any:
    """Gradients of the output elements, one per row, as one array (or Value) of `shape` (no rows: zeros of `dtype`)."""
    if not rows:
        return Value(np.zeros(shape, dtype), requires_grad=False) if nested else np.zeros(shape, dtype)
    if nested:
        with enable_grad():
            return ops.stack(rows).reshape(shape)
    return np.stack(rows).reshape(shape)


def _jacobian_of(out: Value, xs: list[Value], nested: bool) -> list[Any]:
    """d out / d x for each x, shape out.shape + x.shape: one reverse pass per output element."""
    rows: list[list[Any]] = [[] for _ in xs]
    for i in range(out.size):
        seed = np.zeros(out.size, dtype=out.dtype)  # a new one each time: a gradient may alias its seed
        seed[i] = 1
        for k, g in enumerate(gradients(out, xs, seed.reshape(out.shape), create_graph=nested, stop=xs)):
            rows[k].append(g)
    return [_stack(r, out.shape + x.shape, nested, x.dtype) for r, x in zip(rows, xs, strict=True)]


def jacobian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """A function returning the full Jacobian of f with respect to args[argnums], shape out.shape + x.shape.

    Entry [i..., j...] is d out[i...] / d x[j...]; built by one reverse pass per output element.
    With a tuple `argnums` the result is a tuple (one Jacobian per argument); when f returns a
    tuple of Values, a tuple with one entry per output. Plain arguments give numpy arrays, Value
    arguments (or a call nested in another transform) give Values, so `jacobian(grad(f))` is the Hessian.

    >>> import numpy as np
    >>> jacobian(lambda x: x * x)(np.array([1.0, 2.0])).tolist()
    [[2.0, 0.0], [0.0, 4.0]]
    """

    @functools.wraps(f)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        nums, args_l, nested = _prepare(args, argnums)
        result = _call(f, args_l, kwargs)
        outs = _outputs(result, f, "jacobian")
        xs = [args_l[i] for i in nums]
        jacs = [_jacobian_of(o, xs, nested) for o in outs]
        per_out = [j[0] if isinstance(argnums, int) else tuple(j) for j in jacs]
        return per_out[0] if isinstance(result, Value) else tuple(per_out)

    return wrapped


def hessian(f: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """A function returning the Hessian of scalar f with respect to args[argnums], shape x.shape + x.shape.

    The Jacobian of the gradient (reverse over reverse). With a tuple `argnums`, a tuple of tuples:
    `hessian(f, (0, 1))(x, y)[0][1]` is d2f / dx dy, of shape x.shape + y.shape.

    >>> hessian(lambda x: (x ** 3).sum())([1.0, 2.0]).tolist()
    [[6.0, 0.0], [0.0, 12.0]]
    """
    return jacobian(grad(f, argnums), argnums)


def _like(v: Any, ref: Value, what: str) -> Any:
    """v as an array (or a Value, kept) of ref's shape, else a ValueError naming both shapes."""
    if not isinstance(v, Value):
        v = as_array(v)
    if v.shape != ref.shape:
        raise ValueError(f"{what}, they must be equal: got {v.shape} and {ref.shape}")
    return v


def hvp(f: Callable[..., Any], x: Any, v: Any) -> Any:
    """The Hessian of scalar f at x times v, without forming the Hessian: the gradient of grad(f)(x) . v.

    Costs about two gradient evaluations whatever the size of x; v has x's shape and so has the result.

    >>> hvp(lambda x: (x ** 3).sum(), [1.0, 2.0], [1.0, 1.0]).tolist()
    [6.0, 12.0]
    """

    def directional(x_: Value) -> Value:
        return (grad(f)(x_) * _like(v, x_, "hvp: v must have the shape of x")).sum()

    if isinstance(v, Value) and v.requires_grad:  # keep the graph back to v: answer as a nested call would
        return _call(grad(directional), [x], {})
    return grad(directional)(x)


def vjp(f: Callable[..., Any], *xs: Any) -> tuple[Any, Callable[[Any], Any]]:
    """(f(*xs), vjp_fn) where vjp_fn(u) is u^T J: the gradient of sum(f(*xs) * u) with respect to each x.

    f is run once; vjp_fn may be called many times (each call is one reverse pass over the kept graph)
    with a u of the output's shape. It returns one gradient for one x, else a tuple.

    >>> out, vjp_fn = vjp(lambda x: x * x, [1.0, 2.0])
    >>> vjp_fn([1.0, 10.0]).tolist()
    [2.0, 40.0]
    """
    if not xs:
        raise ValueError("vjp needs at least one input x")
    fresh = [_fresh(x) for x in xs]
    args = [v for v, _ in fresh]
    nested = _nesting.depth > 0 or any(outer for _, outer in fresh)
    out = _call(f, args, {})
    if not isinstance(out, Value):
        raise TypeError(f"vjp: {_name(f)} must return a Value, it returned {type(out).__name__}")

    def vjp_fn(u: Any) -> Any:
        u = _like(u, out, f"vjp_fn: u must have the shape of {_name(f)}'s output")
        create = nested or _nesting.depth > 0 or (isinstance(u, Value) and u.requires_grad)
        gs = gradients(out, args, u, create_graph=create, stop=args)
        return gs[0] if len(gs) == 1 else tuple(gs)

    return (out if nested else out.data), vjp_fn


def jvp(f: Callable[..., Any], x: Any, v: Any) -> tuple[Any, Any]:
    """(f(x), J v): the derivative of f at x in the direction v (forward mode), by the double-VJP trick.

    The VJP u -> u^T J is linear in u; differentiating u^T J v with respect to a dummy u gives J v.
    Costs two reverse passes; v has x's shape, the tangent has the output's shape.

    >>> out, tangent = jvp(lambda x: x * x, [1.0, 2.0], [1.0, 0.0])
    >>> tangent.tolist()
    [2.0, 0.0]
    """
    xv, nested = _fresh(x)
    nested = nested or _nesting.depth > 0 or (isinstance(v, Value) and v.requires_grad)
    out = _call(f, [xv], {})
    if not isinstance(out, Value):
        raise TypeError(f"jvp: {_name(f)} must return a Value, it returned {type(out).__name__}")
    v = _like(v, xv, "jvp: v must have the shape of x")
    u = Value(np.zeros(out.shape, dtype=out.dtype))  # the dummy cotangent; its value does not matter
    (gx,) = gradients(out, [xv], u, create_graph=True, stop=[xv])
    with enable_grad():
        s = (gx * v).sum()
    (tangent,) = gradients(s, [u], create_graph=nested, stop=[u, xv])  # (u is made after xv: no path to u runs through xv)
    return (out if nested else out.data), tangent
