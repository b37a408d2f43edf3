"""The engine: apply an op, order the graph, run the chain rule backwards, undo broadcasting."""

from __future__ import annotations

import contextlib
import functools
import gc
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar, overload

import numpy as np

from .value import Constant, Value, as_array


class _State:
    """One thread's switches, read once per op (one thread-local lookup, then plain slots)."""

    __slots__ = ("grad_enabled", "anomaly", "scope", "tracer")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.scope: Any = None
        self.tracer: Any = None  # autograd.jit's tracer while this thread traces a function (jit_trace.py)


class _Mode(threading.local):
    """Per-thread switches: recording on/off, anomaly checks, the module scope being run."""

    def __init__(self) -> None:  # runs once in each thread that touches `mode`
        self.s = _State()

    grad_enabled = property(lambda self: self.s.grad_enabled, lambda self, v: setattr(self.s, "grad_enabled", v))
    anomaly = property(lambda self: self.s.anomaly, lambda self, v: setattr(self.s, "anomaly", v))
    scope = property(lambda self: self.s.scope, lambda self, v: setattr(self.s, "scope", v))


mode = _Mode()


@contextlib.contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    s = mode.s
    prev = s.grad_enabled
    s.grad_enabled = enabled
    try:
        yield
    finally:
        s.grad_enabled = prev


F = TypeVar("F", bound=Callable[..., Any])


@overload
def no_grad(func: None = None) -> contextlib.AbstractContextManager[None]: ...
@overload
def no_grad(func: F) -> F: ...
def no_grad(func: Any = None) -> Any:
    """Record no graph inside this block (per thread, nestable). Also a decorator: `@no_grad()`
    or, as in PyTorch, `@no_grad`."""
    return _grad_mode(False) if func is None else _decorate(_grad_mode, False, func, "no_grad")


@overload
def enable_grad(func: None = None) -> contextlib.AbstractContextManager[None]: ...
@overload
def enable_grad(func: F) -> F: ...
def enable_grad(func: Any = None) -> Any:
    """Record the graph again inside a `no_grad` block (also a decorator, with or without parentheses)."""
    return _grad_mode(True) if func is None else _decorate(_grad_mode, True, func, "enable_grad")


def _decorate(cm: Any, arg: Any, func: Any, name: str) -> Any:
    if not callable(func):
        raise TypeError(f"{name}() takes no arguments as a context manager, or one function to decorate; got {type(func).__name__}")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with cm(arg):
            return func(*args, **kwargs)

    return wrapped


def is_grad_enabled() -> bool:
    """Whether ops record a graph in this thread now."""
    return mode.grad_enabled


_new = Value.__new__
_ndarray = np.ndarray
_F64 = np.dtype(np.float64)
_f64 = np.float64
_PAUSE_GC_FROM = 1000  # nodes: a smaller graph is not worth the three calls
_add_reduce = np.add.reduce
_ONE = np.float64(1.0)  # immutable, so one instance serves every backward()
_refs = getattr(sys, "getrefcount", lambda x: 1 << 30)  # elsewhere than CPython: always copy
# What a forward or a rule may raise on bad input; on Python floats also 1/0.0, math.log(0.0), overflow.
_ERRORS = (ValueError, IndexError, TypeError, ArithmeticError)
_FLOAT_ERRORS = (ValueError, ArithmeticError)


class _NotFinite(ArithmeticError):
    """A Python float result is inf or nan: it is computed again on numpy scalars, for numpy's warning."""


# NOTE: float64 scalars flow through forwards and rules as Python floats: the same IEEE doubles as
# numpy's, with arithmetic ~3x and math.tanh/exp ~6x cheaper than on numpy scalars. Where Python
# raises instead of returning inf or nan (x / 0.0, math.log(0.0)), or returns inf or nan without
# numpy's warning (1e300 * 1e300), the call is made again on numpy scalars (`_forward_again`,
# `_rule_again`), so values and warnings are numpy's. A 0-d float32 array goes in as a numpy
# scalar and stays float32.


def apply1(op: Any, x: Value) -> Value:
    """`apply` for a one-input op (no tuple, no star-call: this is the hot path)."""
    a = x._data
    if type(a) is _ndarray:
        if not a.shape:
            a = a.item() if a.dtype is _F64 and op._floats else a[()]
    elif type(a) is float and not op._floats:
        a = _f64(a)
    try:
        data = op.forward(a)
        if type(data) is float and data - data:  # inf or nan
            raise _NotFinite
    except _ERRORS as e:
        data = _forward_again(op, (a,), (x,), e)
    v = _new(Value)
    v._data = data
    v._grad = None
    v.label = None
    if x.requires_grad:
        s = mode.s
        if s.grad_enabled:
            v.requires_grad = True
            v._op = op
            v._a = x
            v._b = None
            v.scope = s.scope
            if s.anomaly:
                _anomaly_forward(v)
            return v
    v.requires_grad = False
    v._op = None
    v.scope = None
    return v


def apply2(op: Any, x: Value, y: Value) -> Value:
    """`apply` for a two-input op."""
    a = x._data
    b = y._data
    ta = type(a)
    tb = type(b)
    if (ta is not float or tb is not float or not op._floats) and not (ta is _ndarray and tb is _ndarray and a.shape and b.shape):
        a, b = _operands2(op, x, y, a, b)  # not two Python floats, nor two arrays: scalars to convert
    try:
        data = op.forward(a, b)
        if type(data) is float and data - data:  # inf or nan
            raise _NotFinite
    except _ERRORS as e:
        data = _forward_again(op, (a, b), (x, y), e)
    v = _new(Value)
    v._data = data
    v._grad = None
    v.label = None
    if x.requires_grad or y.requires_grad:
        s = mode.s
        if s.grad_enabled:
            v.requires_grad = True
            v._op = op
            v._a = x
            v._b = y
            v.scope = s.scope
            if s.anomaly:
                _anomaly_forward(v)
            return v
    v.requires_grad = False
    v._op = None
    v.scope = None
    return v


def _operands2(op: Any, x: Value, y: Value, a: Any, b: Any) -> tuple[Any, Any]:
    """The two inputs' data as op.forward takes them, when some input is a scalar."""
    ta, tb = type(a), type(b)
    if ta is _ndarray and not a.shape:
        a = a.item() if a.dtype is _F64 and op._floats else a[()]
        ta = type(a)
    if tb is _ndarray and not b.shape:
        b = b.item() if b.dtype is _F64 and op._floats else b[()]
        tb = type(b)
    if (ta is float or tb is float) and not (op._floats and (ta is float or ta is int) and (tb is float or tb is int)):
        # A Value's Python float meets numpy data (or an op that wants numpy scalars): as numpy
        # float64 it promotes as before (a Python number would be weak: float32 * 2.0 is float32).
        # Only a Python number lifted as a constant is weak; a 0-d array or numpy scalar constant is strong, as in numpy.
        if ta is float and (type(x) is not Constant or type(x._data) is _ndarray):
            a = _f64(a)
        if tb is float and (type(y) is not Constant or type(y._data) is _ndarray):
            b = _f64(b)
    return a, b


def apply(op: Any, *xs: Value) -> Value:
    """Run `op` forward on the inputs' data; record the node only if some input requires grad.

    A node keeps its inputs in two slots, not a tuple (one object fewer per node for the cyclic
    collector to track): `_a` alone for one input, `_a, _b` for two, `_b` as a tuple (`_a` None)
    for any other number. `Value.parents` gives them as a tuple.
    """
    n = len(xs)
    if n == 2:
        return apply2(op, xs[0], xs[1])
    if n == 1:
        return apply1(op, xs[0])
    raw = [_scalar(x._data, op._floats) for x in xs]
    try:
        data = op.forward(*raw)
    except _ERRORS as e:
        data = _forward_again(op, raw, xs, e)
    v = _new(Value)
    v._data = data
    v._grad = None
    v.label = None
    s = mode.s
    if s.grad_enabled and any(x.requires_grad for x in xs):
        v.requires_grad = True
        v._op = op
        v._a = None
        v._b = tuple(xs)
        v.scope = s.scope
        if s.anomaly:
            _anomaly_forward(v)
        return v
    v.requires_grad = False
    v._op = None
    v.scope = None
    return v


def _scalar(a: Any, floats: bool) -> Any:
    """Data as an op takes it: a 0-d array as a scalar, float64 ones as Python floats if the op takes them."""
    if type(a) is _ndarray:
        if not a.shape:
            return a.item() if a.dtype is _F64 and floats else a[()]
    elif type(a) is float and not floats:
        return _f64(a)
    return a


def _numpy_floats(raw: Sequence[Any]) -> list[Any] | None:
    """The arguments with Python floats made numpy float64 scalars; None if there were none."""
    if not any(type(r) is float for r in raw):
        return None
    return [np.float64(r) if type(r) is float else r for r in raw]


def _forward_again(op: Any, raw: Sequence[Any], xs: Sequence[Value], e: Exception) -> Any:
    """The forward once more on numpy scalars if Python floats raised, else a clear error naming op and shapes."""
    if isinstance(e, _FLOAT_ERRORS):
        again = _numpy_floats(raw)
        if again is not None:
            try:
                return op.forward(*again)
            except _ERRORS as e2:
                e = e2
    shapes = ", ".join(str(np.shape(x._data)) for x in xs)
    kind = ValueError if isinstance(e, (OverflowError, ZeroDivisionError)) else type(e)  # OverflowError: a huge int as an axis or shape
    msg = f"{op.label()}: {e} (input shapes {shapes})"
    del e  # e's traceback holds this frame: keeping it here would make a cycle through the inputs
    raise kind(msg) from None


def _rule_again(rule: Any, op: Any, g: Any, out: Any, raw: Sequence[Any], e: Exception) -> Any:
    """A gradient rule once more on numpy scalars if Python floats raised (x / 0.0 and the like)."""
    again = _numpy_floats((g, out, *raw)) if isinstance(e, _FLOAT_ERRORS) else None
    if again is None:
        try:
            raise e
        finally:
            del e  # the traceback holds this frame: a frame holding e would make a cycle, and keep the graph alive
    return rule(op, *again)


def passes_gradient(op: Any, g: Any, out: Any, *xs: Any) -> Any:
    """The rule of an input whose gradient is g itself (x in x + y): the engine passes g on without calling it."""
    return g


_passes = passes_gradient


def _anomaly_forward(v: Value) -> None:
    from .anomaly import check_forward  # imported only when anomaly mode is on

    check_forward(v)


_EMIT = object()  # on toposort's stack: the node below it has all its parents emitted


def toposort(root: Value, stop: set[Value] | None = None) -> list[Value]:
    """Every node that requires grad and is reachable from root, each after all of its parents
    (not walking past the nodes in `stop`)."""
    order: list[Value] = []
    # Nodes are keyed by identity: Value.__hash__ is object.__hash__ (no id() calls needed).
    seen: set[Value] = set()
    stack: list[Any] = [root]
    pop, push, emit, mark = stack.pop, stack.append, order.append, seen.add
    while stack:
        node = pop()
        if node is _EMIT:
            emit(pop())
            continue
        if node in seen:
            continue
        mark(node)
        if node._op is None or (stop is not None and node in stop):  # a leaf: nothing to wait for
            emit(node)
            continue
        push(node)
        push(_EMIT)
        a, b = node._a, node._b
        if b is None:  # one input
            if a.requires_grad and a not in seen:
                push(a)
        elif a is not None:  # two
            if a.requires_grad and a not in seen:
                push(a)
            if b.requires_grad and b not in seen:
                push(b)
        else:
            for p in b:
                if p.requires_grad and p not in seen:
                    push(p)
    return order


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum g over the axes broadcasting added or stretched, back to `shape`."""
    extra = g.ndim - len(shape)
    if extra > 0:
        axes: Any = 0 if extra == 1 else tuple(range(extra))
        g = _add_reduce(g, axis=axes) if type(g) is _ndarray else g.sum(axis=axes)  # (ndarray.sum wraps add.reduce in Python)
    if 1 in shape:
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        if axes:
            g = _add_reduce(g, axis=axes, keepdims=True) if type(g) is _ndarray else g.sum(axis=axes, keepdims=True)
    if g.shape != shape:  # a rule returned something smaller (e.g. a scalar zero)
        g = broadcast_to(g, shape)
    return g


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    from . import ops

    return ops.broadcast_to(x, shape)


def _seed(root: Value, gradient: Any, create_graph: bool) -> Any:
    if gradient is None:
        d = root._data
        if (type(d) is float or type(d) is _f64) and not create_graph:
            return 1.0 if type(d) is float else _ONE  # a scalar loss, without np.ones_like's cost
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


def _run(
    root: Value, seed: Any, create_graph: bool, retain_grads: bool, wanted: dict[int, Any] | None, stop: set[Value] | None = None
) -> None:
    """The chain rule over the graph, from root to its leaves.

    Pending gradients are kept by node (keyed by identity) and popped when used, so memory falls
    as the pass proceeds. Each leaf's gradient is added to its `.grad` (every node's, with
    `retain_grads`); with `wanted`, the gradients of those ids are collected there instead, and
    with `stop` the pass goes no further than those nodes.
    The cyclic garbage collector is paused meanwhile (for graphs of more than 1,000 nodes): the
    pass makes no reference cycles, and the collector would otherwise rescan every live node of a
    large graph, again and again.
    """
    order = toposort(root, stop)  # (the walk allocates one list and one set: it cannot wake the collector)
    gc_was_on = len(order) > _PAUSE_GC_FROM and gc.isenabled()
    if gc_was_on:
        gc.disable()
    s = mode.s
    prev = s.grad_enabled
    anomaly = s.anomaly
    keep = retain_grads and wanted is None
    replaced: dict[Value, Any] | None = None  # .grad values this pass replaced by a sum, to put back if it stops half-way
    node = None
    try:
        pending: dict[Value, Any] = {root: seed}
        take, get = pending.pop, pending.get
        s.grad_enabled = create_graph
        general = create_graph or anomaly  # every node through _general
        for node in reversed(order):
            g = take(node, None)
            if g is None:
                continue
            op = node._op
            if wanted is not None:
                if id(node) in wanted:
                    wanted[id(node)] = g
                if stop is not None and node in stop:
                    continue
            elif keep or op is None:
                old = node._grad
                if old is None:
                    if type(g) is _ndarray and not (g.flags.writeable and _refs(g) == 2 and (g.base is None or _refs(g.base) == 2)):
                        # NOTE: a copy the user owns: g may be a read-only broadcast view, or the very array
                        # another node stores (Add passes g on unchanged), and optimizers edit .grad in place.
                        # A fresh array that nothing else refers to (CPython's reference counts: only the local
                        # name g, and only g refers to its base) is stored as it is; order="K" keeps a
                        # transposed gradient's layout, so the copy is a plain memcpy. (A float64 gradient of
                        # float32 data is made float32 when read: Value.grad.)
                        g = g.copy(order="K")
                    node._grad = g
                else:
                    if replaced is None:
                        replaced = {}
                    replaced[node] = old
                    total = old + g
                    if type(old) is _ndarray and total.dtype is not old.dtype:
                        total = total.astype(old.dtype)
                    node._grad = total
            if op is None:
                continue
            rules = op._vjps
            a, b = node._a, node._b
            if general or (b is not None and a is None):
                _general(node, op, g, create_graph, anomaly, pending)
                continue
            out = node._data
            fl = op._floats
            # NOTE: one and two inputs unrolled (nearly every node): no tuples, no star-calls. The two
            # blocks below (input a, input b) are twins on purpose: a loop over them would build tuples.
            x = a._data
            xs = ()  # x's shape, for the gradient's
            if type(x) is _ndarray:
                xs = x.shape
                if not xs:
                    x = x.item() if x.dtype is _F64 and fl else x[()]
            elif type(x) is float and not fl:
                x = _f64(x)
            if type(g) is float and not fl:
                g = _f64(g)
            if b is None:
                try:
                    gi = rules[0](op, g, out, x)
                    if type(gi) is float and gi - gi:
                        raise _NotFinite
                except _ERRORS as e:
                    gi = _rule_again(rules[0], op, g, out, (x,), e)
                if type(gi) is not float and gi.shape != xs:
                    gi = unbroadcast(gi, xs)
                old = get(a)
                pending[a] = gi if old is None else old + gi
                gi = old = None  # hold no gradient here: the reference counts above must see only pending's
                continue
            y = b._data
            ys = ()
            if type(y) is _ndarray:
                ys = y.shape
                if not ys:
                    y = y.item() if y.dtype is _F64 and fl else y[()]
            elif type(y) is float and not fl:
                y = _f64(y)
            if a.requires_grad:
                rule = rules[0]
                if rule is _passes:
                    gi = g
                else:
                    try:
                        gi = rule(op, g, out, x, y)
                        if type(gi) is float and gi - gi:
                            raise _NotFinite
                    except _ERRORS as e:
                        gi = _rule_again(rule, op, g, out, (x, y), e)
                if type(gi) is not float and gi.shape != xs:
                    gi = unbroadcast(gi, xs)
                old = get(a)
                pending[a] = gi if old is None else old + gi
                gi = old = None
            if b.requires_grad:
                rule = rules[1]
                if rule is _passes:
                    gi = g
                else:
                    try:
                        gi = rule(op, g, out, x, y)
                        if type(gi) is float and gi - gi:
                            raise _NotFinite
                    except _ERRORS as e:
                        gi = _rule_again(rule, op, g, out, (x, y), e)
                if type(gi) is not float and gi.shape != ys:
                    gi = unbroadcast(gi, ys)
                old = get(b)
                pending[b] = gi if old is None else old + gi
                gi = old = None
            g = None
    except BaseException:
        if wanted is None and node is not None:
            _put_back(order, node, replaced, keep)
        raise
    finally:
        if gc_was_on:
            gc.enable()
        s.grad_enabled = prev


def _put_back(order: list[Value], failed: Value, replaced: dict[Value, Any] | None, keep: bool) -> None:
    """After a pass stopped at `failed` (a rule raised, detect_anomaly refused): every .grad it stored
    put back as it was, so a refused backward stores no gradient. The pass had stored one for every
    node from the end of `order` down to `failed` (each had a gradient: all lead to the root)."""
    i = len(order) - 1
    while order[i] is not failed:
        i -= 1
    for n in order[i:]:
        if keep or n._op is None:
            n._grad = replaced.get(n) if replaced else None


def _general(node: Value, op: Any, g: Any, create_graph: bool, anomaly: bool, pending: dict[Value, Any]) -> None:
    """One node's rules, for any number of inputs, on Values (create_graph) or with anomaly checks."""
    parents = node.parents
    out: Any
    xs: tuple[Any, ...]
    if create_graph:
        out, xs = node, parents
    else:
        out, xs = node._data, tuple([_scalar(p._data, op._floats) for p in parents])
        if type(g) is float and not op._floats:
            g = _f64(g)
    rules = op._vjps
    for i, p in enumerate(parents):
        if not p.requires_grad:
            continue
        try:
            gi = rules[i](op, g, out, *xs)
        except _ERRORS as e:
            if create_graph:
                raise
            gi = _rule_again(rules[i], op, g, out, xs, e)
        shape = np.shape(xs[i]._data if create_graph else xs[i])
        if np.shape(gi._data if create_graph else gi) != shape:
            gi = unbroadcast(gi, shape)
        if anomaly:
            from .anomaly import check_backward

            check_backward(node, i, gi)
        old = pending.get(p)
        pending[p] = gi if old is None else old + gi
        gi = old = None


def backward(root: Value, gradient: Any = None, *, retain_grads: bool = True, create_graph: bool = False) -> None:
    """Add d(root)/d(node) to `.grad` of every node root depends on (see Value.backward)."""
    if not root.requires_grad:
        _check_root(root)  # raises
    seed = _seed(root, gradient, create_graph)
    _run(root, seed, create_graph, retain_grads, None)


def gradients(
    root: Value, inputs: Sequence[Value], gradient: Any = None, *, create_graph: bool = False, stop: Sequence[Value] | None = None
) -> list[Any]:
    """d(root)/d(input) for each input, returned and not stored in `.grad` (zeros where root does not depend on it).

    `stop`: nodes the pass goes no further than, for a caller that knows no path from root to an
    input runs through them: the functional transforms stop at their fresh argument nodes instead
    of walking on into the outer graph those came from.
    """
    wanted: dict[int, Any] = {id(x): None for x in inputs}
    if root.requires_grad:
        seed = _seed(root, gradient, create_graph)
        _run(root, seed, create_graph, False, wanted, set(stop) if stop is not None else None)
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
            d = x._data  # a copy (two inputs may receive the same array: x + y), in x's float type
            g = np.array(g, dtype=d.dtype if type(d) is _ndarray else None)
        out.append(g)
    return out
