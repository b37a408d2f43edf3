"""The engine: backpropagation over the recorded graph, and how an op's output becomes a node.

Read `backprop` first: it is the definition of what `backward()` computes. Everything else here
serves it: where gradients go (`Store`, `Collect`), the walk's order (`toposort`), undoing
broadcasting (`unbroadcast`), and recording (`apply`). `fastpath.py` runs the same pass with
its per-node steps unrolled, for speed; a test checks that the two agree bit for bit.
"""

from __future__ import annotations

import gc
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from .floats import ERRORS, NotFinite, call_rule, forward_again, operand, operands2
from .modes import enable_grad, is_grad_enabled, no_grad, peek, state  # noqa: F401  (re-exported: autograd.engine.no_grad)
from .value import Value, _lift, as_array

# ---- backpropagation: the definition ------------------------------------------------------------


def backprop(order: list[Value], seed: Any, sink: Any, create_graph: bool = False, anomaly: bool = False) -> None:
    """The chain rule over `order` (toposort's: every node after its inputs, the root last).

    Walking back from the root, each node's gradient is popped from `pending` when its turn
    comes (all its uses are counted by then), handed to the sink, and passed through the node's
    rules to its inputs, each summed back to its input's shape and added to what that input has
    pending.
    """
    pending = {order[-1]: seed}
    for node in reversed(order):
        g = pending.pop(node, None)
        if g is None:  # a node the sink stopped at lies between it and the root
            continue
        if sink.take(node, g) and node._op is not None:
            for x, gx in input_gradients(node, g, create_graph, anomaly):
                old = pending.get(x)
                pending[x] = gx if old is None else old + gx  # out of place: a rule may return g itself


def input_gradients(node: Value, g: Any, create_graph: bool, anomaly: bool = False) -> list[tuple[Value, Any]]:
    """(input, its gradient through node) for each input of node that requires grad: the node's
    rules on plain data, or on Values with `create_graph` (so the gradients get a graph of their own)."""
    op, parents = node._op, node.parents
    if create_graph:
        out: Any = node
        xs: Sequence[Any] = parents
    else:
        out, xs = node._data, [operand(p._data, op._floats) for p in parents]
        if type(g) is float and not op._floats:
            g = np.float64(g)
    grads = []
    for i, x in enumerate(parents):
        if x.requires_grad:
            rule = op._vjps[i]
            gx = rule(op, g, out, *xs) if create_graph else call_rule(rule, op, g, out, xs)
            if _shape(gx) != x.shape:
                gx = unbroadcast(gx, x.shape)
            if anomaly:
                from .anomaly import check_backward

                check_backward(node, i, gx)
            grads.append((x, gx))
    return grads


def _shape(x: Any) -> tuple[int, ...]:
    return x.shape if isinstance(x, Value) else np.shape(x)


# ---- where the gradients go ---------------------------------------------------------------------


class Store:
    """backward()'s sink: each leaf's gradient (every node's, with `keep`) is added to its `.grad`;
    `undo` puts back every `.grad` the pass changed, so a pass that fails half-way stores nothing."""

    __slots__ = ("keep", "at", "replaced")

    def __init__(self, keep: bool) -> None:
        self.keep = keep
        self.at: Value | None = None  # the node being taken (where to undo from)
        self.replaced: dict[Value, Any] | None = None  # {node: the .grad this pass replaced by a sum}

    def take(self, node: Value, g: Any) -> bool:
        """Add g to node's .grad if node keeps one; True: go on to node's inputs."""
        self.at = node
        if self.keep or node._op is None:
            old = node._grad
            if old is None:
                # A copy the user owns: g may be a read-only broadcast view, or an array another node
                # also holds (Add passes g on unchanged), and optimizers edit .grad in place.
                node._grad = g.copy(order="K") if type(g) is np.ndarray else g
            else:
                if self.replaced is None:
                    self.replaced = {}
                self.replaced[node] = old
                total = old + g
                if type(old) is np.ndarray and total.dtype is not old.dtype:
                    total = total.astype(old.dtype)  # float32 data keeps float32 gradients
                node._grad = total
        return True

    def undo(self, order: list[Value]) -> None:
        """Every .grad stored from the end of `order` down to the node taken last, as it was before."""
        if self.at is None:
            return
        i = len(order) - 1
        while order[i] is not self.at:
            i -= 1
        for n in order[i:]:
            if self.keep or n._op is None:
                n._grad = self.replaced.get(n) if self.replaced else None


class Collect:
    """gradients()'s sink: the gradients of the wanted nodes, by id, with `.grad` left alone; the
    pass goes no further back than the nodes in `stop`."""

    __slots__ = ("got", "stop")

    def __init__(self, wanted: Sequence[Value], stop: set[Value] | None) -> None:
        self.got: dict[int, Any] = {id(x): None for x in wanted}
        self.stop = stop

    def take(self, node: Value, g: Any) -> bool:
        if id(node) in self.got:
            self.got[id(node)] = g
        return self.stop is None or node not in self.stop

    def undo(self, order: list[Value]) -> None:
        pass


_refs: Any = getattr(sys, "getrefcount", None)  # (None where the interpreter has no reference counts: unshared is never this check there)


def _unshared_by_refcount(g: np.ndarray) -> bool:
    """Whether g is a writable array that nothing but the caller's one name refers to (nor to its
    base, if it is a view): then it may be stored as a .grad as it is, without a copy.

    CPython's reference counts: the caller's name, this function's argument and getrefcount's own.
    """
    return _refs(g) == 3 and (g.base is None or _refs(g.base) == 2) and g.flags.writeable


def _never_unshared(g: np.ndarray) -> bool:
    """Every stored gradient is copied."""
    return False


# CPython 3.14 no longer counts some references held on the stack, and other interpreters count
# differently or not at all: there the check cannot be trusted, so a copy is always made.
REFCOUNTS_HOLD = sys.implementation.name == "cpython" and sys.version_info < (3, 14)
unshared = _unshared_by_refcount if REFCOUNTS_HOLD else _never_unshared


# ---- entry points ------------------------------------------------------------------------------

_PAUSE_GC_FROM = 1000  # nodes: a smaller graph is not worth the three calls
FAST_PATH = True  # False: every pass runs the reference `backprop` (the tests run both and compare them)
_ONE = np.float64(1.0)  # immutable, so one instance serves every backward()


def _run(root: Value, seed: Any, create_graph: bool, keep: bool = True, collect: Collect | None = None) -> None:
    """One pass from root into `.grad` (every node's with `keep`, else the leaves'), or into `collect`:
    the reference `backprop` for graphs of gradients and under anomaly checks, the unrolled one
    otherwise; recording switched to `create_graph` meanwhile.

    The cyclic garbage collector is paused for graphs of more than 1,000 nodes: the pass makes no
    reference cycles, and the collector would otherwise rescan every live node, again and again.
    """
    order = toposort(root, None if collect is None else collect.stop)  # (one list and one set: it cannot wake the collector)
    s = state()
    anomaly, prev = s.anomaly, s.grad_enabled
    paused = len(order) > _PAUSE_GC_FROM and gc.isenabled()
    if paused:
        gc.disable()
    s.grad_enabled = create_graph
    try:
        if create_graph or anomaly or not FAST_PATH:
            sink = Store(keep) if collect is None else collect
            try:
                backprop(order, seed, sink, create_graph, anomaly)
            except BaseException:
                sink.undo(order)
                raise
        else:
            backprop_fast(order, seed, keep, collect)  # (it undoes its own stores if it fails)
    finally:
        if paused:
            gc.enable()
        s.grad_enabled = prev


def _seed(root: Value, gradient: Any, create_graph: bool) -> Any:
    """d(root)/d(root): ones, or the given gradient (checked against root's shape)."""
    if gradient is None:
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
    if _shape(g) != root.shape:
        raise ValueError(f"backward(): gradient has shape {_shape(g)} but the output has shape {root.shape}; they must be equal")
    return g


def backward(root: Value, gradient: Any = None, *, retain_grads: bool = True, create_graph: bool = False) -> None:
    """Add d(root)/d(node) to `.grad` of every node that root depends on (this is `Value.backward`).

    `gradient` is d(loss)/d(root); it may be omitted only when root has one element.
    `retain_grads=False` fills `.grad` of leaves only, so intermediate gradients are freed
    as soon as they are used. `create_graph=True` leaves `.grad` as Values with a graph
    of their own, so gradients can be differentiated again.
    """
    if not root.requires_grad:
        raise RuntimeError(
            "backward(): this Value does not require grad, so there is nothing to differentiate. "
            "It was computed inside no_grad(), or from inputs that all have requires_grad=False "
            "(a loss that depends on no parameter)."
        )
    d = root._data
    if gradient is None and not create_graph and (type(d) is float or type(d) is np.float64):
        seed: Any = 1.0 if type(d) is float else _ONE  # a scalar loss, without np.ones_like's cost
    else:
        seed = _seed(root, gradient, create_graph)
    _run(root, seed, create_graph, retain_grads)


def gradients(
    root: Value, inputs: Sequence[Value], gradient: Any = None, *, create_graph: bool = False, stop: Sequence[Value] | None = None
) -> list[Any]:
    """d(root)/d(input) for each input, returned and not stored in `.grad` (zeros where root does not depend on it).

    `stop`: nodes the pass goes no further than, for a caller that knows no path from root to an
    input runs through them: the functional transforms stop at their fresh argument nodes instead
    of walking on into the outer graph those came from.
    """
    sink = Collect(inputs, set(stop) if stop is not None else None)
    if root.requires_grad:
        _run(root, _seed(root, gradient, create_graph), create_graph, collect=sink)
    elif gradient is None and root.size != 1:
        _seed(root, None, create_graph)  # raises the same error as backward()
    out = []
    for x in inputs:
        g = sink.got[id(x)]
        if g is None:
            g = np.zeros_like(np.asarray(x._data))
            if create_graph:
                g = Value(g, requires_grad=False)
        elif not create_graph:
            d = x._data  # a copy (two inputs may receive the same array: x + y), in x's float type
            g = np.array(g, dtype=d.dtype if type(d) is np.ndarray else None)
        out.append(g)
    return out


# ---- the order of the walk, and broadcasting undone -------------------------------------------

_EMIT = object()  # on toposort's stack: the node below it has all its parents emitted


def toposort(root: Value, stop: set[Value] | None = None) -> list[Value]:
    """Every node that requires grad and is reachable from root, each after all of its parents
    (not walking past the nodes in `stop`). Iterative: no recursion limit on depth."""
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
        a, b = node._a, node._b  # (Value.parents, unrolled: no tuple per node)
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


_add_reduce = np.add.reduce


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum g over the axes broadcasting added or stretched, back to `shape`."""
    extra = g.ndim - len(shape)
    if extra > 0:
        axes: Any = 0 if extra == 1 else tuple(range(extra))
        g = _add_reduce(g, axis=axes) if type(g) is np.ndarray else g.sum(axis=axes)  # (ndarray.sum wraps add.reduce in Python)
    if 1 in shape:
        axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
        if axes:
            g = _add_reduce(g, axis=axes, keepdims=True) if type(g) is np.ndarray else g.sum(axis=axes, keepdims=True)
    if g.shape != shape:  # a rule returned something smaller (e.g. a scalar zero)
        from .ops import broadcast_to

        g = broadcast_to(g, shape)
    return g


# ---- recording: an op's output as a node ---------------------------------------------------------


def passes_gradient(op: Any, g: Any, out: Any, *xs: Any) -> Any:
    """The rule of an input whose gradient is g itself (x in x + y): the engine passes g on without calling it."""
    return g


_new = Value.__new__
_ndarray = np.ndarray


def node(op: Any, data: Any, a: Any, b: Any, requires_grad: bool) -> Value:
    """A Value holding `data`; a node of the graph (op and inputs recorded) when some input requires
    grad and this thread records. Inputs: `a` alone for one, `a, b` for two, `b` a tuple (`a`
    None) for any other number: two slots instead of a tuple, one object fewer per node for the
    cyclic collector to track (`Value.parents` gives them as a tuple)."""
    v = _new(Value)
    v._data = data
    v._grad = None
    v.label = None
    if requires_grad:
        s = peek(None) or state()
        if s.grad_enabled:
            v.requires_grad = True
            v._op = op
            v._a = a
            v._b = b
            v.scope = s.scope
            if s.anomaly:
                from .anomaly import check_forward

                check_forward(v)
            return v
    v.requires_grad = False
    v._op = None
    v.scope = None
    return v


def apply(op: Any, *inputs: Any) -> Value:
    """Run `op` forward on the inputs' data and return the result as a Value, recorded as a node
    when some input requires grad. Inputs are Values; numbers and arrays are lifted as constants."""
    rules = getattr(op, "_vjps", None)
    if type(rules) is not tuple:
        raise TypeError(f"apply: the op must be an instance of an autograd.Op subclass, got {type(op).__name__}")
    if len(inputs) > len(rules):  # (fewer is fine: an op may take optional trailing inputs, as conv its bias)
        raise TypeError(f"apply: {op.label()} has {len(rules)} gradient rule(s) (vjp0, vjp1, ...), one per input, but was given {len(inputs)} inputs")
    if len(inputs) == 1:
        x = inputs[0]
        return apply1(op, x if type(x) is Value else _lift(x))
    if len(inputs) == 2:
        x, y = inputs
        return apply2(op, x if type(x) is Value else _lift(x), y if type(y) is Value else _lift(y))
    xs = [x if type(x) is Value else _lift(x) for x in inputs]
    raw = [operand(x._data, op._floats) for x in xs]
    try:
        data = op.forward(*raw)
    except ERRORS as e:
        data = forward_again(op, raw, xs, e)
    return node(op, data, None, tuple(xs), any(x.requires_grad for x in xs))


def apply1(op: Any, x: Value) -> Value:
    """`apply` for one Value (the operators' hot path: no lists, no star-calls)."""
    a = x._data
    t = type(a)
    if not ((t is _ndarray and a.ndim) or (t is float and op._floats)):  # else already as the op takes it
        a = operand(a, op._floats)
    try:
        data = op.forward(a)
        if type(data) is float and data - data:  # inf or nan: again on numpy, for its warning
            raise NotFinite
    except ERRORS as e:
        data = forward_again(op, (a,), (x,), e)
    return node(op, data, x, None, x.requires_grad)


def apply2(op: Any, x: Value, y: Value) -> Value:
    """`apply` for two Values."""
    a = x._data
    b = y._data
    ta = type(a)
    tb = type(b)
    if (ta is not float or tb is not float or not op._floats) and not (ta is _ndarray and tb is _ndarray and a.ndim and b.ndim):
        a, b = operands2(op, x, y, a, b)  # not two Python floats, nor two arrays: scalars to convert
    try:
        data = op.forward(a, b)
        if type(data) is float and data - data:
            raise NotFinite
    except ERRORS as e:
        data = forward_again(op, (a, b), (x, y), e)
    return node(op, data, x, y, x.requires_grad or y.requires_grad)


from .fastpath import backprop_fast  # noqa: E402  (it builds on the definitions above)
