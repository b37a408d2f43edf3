"""The engine: apply an op, order the graph, run the chain rule backwards, undo broadcasting."""

from __future__ import annotations

import contextlib
import gc
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from .value import Value, as_array


class _Mode(threading.local):
    """Per-thread switches: recording on/off, anomaly checks, the module scope being run."""

    grad_enabled = True
    anomaly = False
    scope: Any = None


mode = _Mode()


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Record no graph inside this block (per thread, nestable); also usable as a decorator."""
    prev = mode.grad_enabled
    mode.grad_enabled = False
    try:
        yield
    finally:
        mode.grad_enabled = prev


@contextlib.contextmanager
def enable_grad() -> Iterator[None]:
    """Record the graph again inside a `no_grad` block."""
    prev = mode.grad_enabled
    mode.grad_enabled = True
    try:
        yield
    finally:
        mode.grad_enabled = prev


def is_grad_enabled() -> bool:
    """Whether ops record a graph in this thread now."""
    return mode.grad_enabled


_new = Value.__new__
_ndarray = np.ndarray
_refs = getattr(sys, "getrefcount", lambda x: 1 << 30)  # elsewhere than CPython: always copy


def apply(op: Any, *xs: Value) -> Value:
    """Run `op` forward on the inputs' data; record the node only if some input requires grad."""
    try:
        # NOTE: unrolled for one and two inputs (nearly every op): no list, no star-call. A 0-d array
        # (a scalar leaf) goes in as a numpy scalar: the same value, and arithmetic ~10x cheaper.
        n = len(xs)
        if n == 2:
            a, b = xs[0]._data, xs[1]._data
            if type(a) is _ndarray and not a.shape:
                a = a[()]
            if type(b) is _ndarray and not b.shape:
                b = b[()]
            data = op.forward(a, b)
        elif n == 1:
            a = xs[0]._data
            data = op.forward(a[()] if type(a) is _ndarray and not a.shape else a)
        else:
            data = op.forward(*[x._data for x in xs])
    except (ValueError, IndexError, TypeError) as e:
        raise type(e)(f"{op.label()}: {e} (input shapes {', '.join(str(np.shape(x._data)) for x in xs)})") from None
    except OverflowError as e:  # numpy given a huge int as an axis, shape or index
        raise ValueError(f"{op.label()}: {e} (input shapes {', '.join(str(np.shape(x._data)) for x in xs)})") from None
    v = _new(Value)
    v._data = data
    v._grad = None
    v.label = None
    m = mode
    if m.grad_enabled:
        for x in xs:
            if x.requires_grad:
                v.requires_grad = True
                v._op = op
                v.parents = xs
                v.scope = m.scope
                if m.anomaly:
                    _anomaly_forward(v)
                return v
    v.requires_grad = False
    v._op = None
    v.parents = ()
    v.scope = None
    return v


def _anomaly_forward(v: Value) -> None:
    from .anomaly import check_forward  # imported only when anomaly mode is on

    check_forward(v)


def toposort(root: Value) -> list[Value]:
    """Every node that requires grad and is reachable from root, each after all of its parents."""
    order: list[Value] = []
    # Nodes are keyed by identity: Value.__hash__ is object.__hash__ (no id() calls needed).
    seen: set[Value] = set()
    stack: list[Any] = [root]
    pop, push, emit, mark = stack.pop, stack.append, order.append, seen.add
    # A node is pushed plain (expand it) and, once expanded, wrapped in a tuple (emit it).
    while stack:
        node = pop()
        if type(node) is tuple:
            emit(node[0])
            continue
        if node in seen:
            continue
        mark(node)
        push((node,))
        for p in node.parents:
            if p.requires_grad and p not in seen:
                push(p)
    return order


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum g over the axes broadcasting added or stretched, back to `shape`."""
    extra = g.ndim - len(shape)
    if extra > 0:
        g = g.sum(axis=tuple(range(extra)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    if g.shape != shape:  # a rule returned something smaller (e.g. a scalar zero)
        g = broadcast_to(g, shape)
    return g


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    from . import ops

    return ops.broadcast_to(x, shape)


def _seed(root: Value, gradient: Any, create_graph: bool) -> Any:
    if gradient is None:
        d = root._data
        if type(d) is np.float64 and not create_graph:
            return np.float64(1.0)  # the common case (a scalar loss), without np.ones_like's cost
        if root.size != 1:
            raise ValueError(
                f"backward() without a gradient needs an output with one element, this one has shape {root.shape}; "
                "pass gradient= (d loss / d output, same shape), or reduce first, e.g. out.sum().backward()"
            )
        seed = np.ones_like(np.asarray(root._data))
        return Value(seed, requires_grad=False) if create_graph else seed
    if isinstance(gradient, Value):
        g = gradient if create_graph else gradient._data
    else:
        g = as_array(gradient)
        if create_graph:
            g = Value(g, requires_grad=False)
    if np.shape(g._data if isinstance(g, Value) else g) != root.shape:
        raise ValueError(f"backward(): gradient has shape {np.shape(g._data if isinstance(g, Value) else g)} but the output has shape {root.shape}; they must be equal")
    return g


def _check_root(root: Value) -> None:
    if not root.requires_grad:
        raise RuntimeError(
            "backward(): this Value does not require grad, so there is nothing to differentiate. "
            "It was computed inside no_grad(), or from inputs that all have requires_grad=False "
            "(a loss that depends on no parameter)."
        )


def _run(root: Value, seed: Any, create_graph: bool, store: bool, retain_grads: bool, wanted: dict[int, Any] | None) -> None:
    """The chain rule over the graph, from root to its leaves.

    Pending gradients are kept by node (keyed by identity) and popped when used, so memory falls
    as the pass proceeds. With `store`, each gradient is added to `.grad` (intermediates too when
    `retain_grads`). With `wanted`, the gradients of those ids are collected there instead.
    The cyclic garbage collector is paused meanwhile: the pass makes no reference cycles, and
    the collector would otherwise rescan every live node of a large graph, again and again.
    """
    gc_was_on = gc.isenabled()
    if gc_was_on:
        gc.disable()
    prev = mode.grad_enabled
    try:
        order = toposort(root)
        pending: dict[Value, Any] = {root: seed}
        take = pending.pop
        anomaly = mode.anomaly
        mode.grad_enabled = create_graph
        for node in reversed(order):
            g = take(node, None)
            if g is None:
                continue
            op = node._op
            if wanted is not None:
                if id(node) in wanted:
                    wanted[id(node)] = g
            elif store and (op is None or retain_grads):
                old = node._grad
                if old is None:
                    if type(g) is np.ndarray and not (g.flags.writeable and _refs(g) == 2 and (g.base is None or _refs(g.base) == 2)):
                        # NOTE: a copy the user owns: g may be a read-only broadcast view, or the very array
                        # another node stores (Add passes g on unchanged), and optimizers edit .grad in place.
                        # A fresh array that nothing else refers to (CPython's reference counts: only the local
                        # name g, and only g refers to its base) is stored as it is; order="K" keeps a
                        # transposed gradient's layout, so the copy is a plain memcpy.
                        g = g.copy(order="K")
                    node._grad = g
                else:
                    node._grad = old + g
            if op is None:
                continue
            parents = node.parents
            if create_graph:
                out, xs = node, parents
            else:
                out = node._data
                n = len(parents)
                if n == 1:
                    a = parents[0]._data
                    xs = (a[()] if type(a) is _ndarray and not a.shape else a,)
                elif n == 2:
                    a, b = parents[0]._data, parents[1]._data
                    if type(a) is _ndarray and not a.shape:
                        a = a[()]
                    if type(b) is _ndarray and not b.shape:
                        b = b[()]
                    xs = (a, b)
                else:
                    xs = tuple([p._data for p in parents])
            rules = op.vjps
            for i, p in enumerate(parents):
                if not p.requires_grad:
                    continue
                gi = rules[i](op, g, out, *xs)
                shape = xs[i].shape  # p's shape: xs[i] is p's array, or p itself
                if gi.shape != shape:
                    gi = unbroadcast(gi, shape)
                if anomaly:
                    from .anomaly import check_backward

                    check_backward(node, i, gi)
                old = pending.get(p)
                pending[p] = gi if old is None else old + gi
                gi = old = None  # hold no gradient here: the reference counts above must see only pending's
    finally:
        if gc_was_on:
            gc.enable()
        mode.grad_enabled = prev


def backward(root: Value, gradient: Any = None, *, retain_grads: bool = True, create_graph: bool = False) -> None:
    """Add d(root)/d(node) to `.grad` of every node root depends on (see Value.backward)."""
    _check_root(root)
    seed = _seed(root, gradient, create_graph)
    _run(root, seed, create_graph, True, retain_grads, None)


def gradients(root: Value, inputs: Sequence[Value], gradient: Any = None, *, create_graph: bool = False) -> list[Any]:
    """d(root)/d(input) for each input, returned and not stored in `.grad` (zeros where root does not depend on it)."""
    wanted: dict[int, Any] = {id(x): None for x in inputs}
    if root.requires_grad:
        seed = _seed(root, gradient, create_graph)
        _run(root, seed, create_graph, False, False, wanted)
    elif gradient is None and root.size != 1:
        _seed(root, None, create_graph)  # raises the same error as backward()
    out = []
    for x in inputs:
        g = wanted[id(x)]
        if g is None:
            g = np.zeros_like(np.asarray(x._data))
            if create_graph:
                g = Value(g, requires_grad=False)
        elif not create_graph:
            g = np.array(g)  # a copy: two inputs may receive the same array (x + y)
        out.append(g)
    return out
