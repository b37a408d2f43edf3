"""autograd.jit: record a function's graph once, then replay it as straight-line numpy.

    step = jit(lambda x, y: nn.cross_entropy(model(x), y))
    loss = step(xb, yb)      # first call with these shapes: traced, compiled, replayed
    loss.backward()          # the recorded backward pass, adding into .grad as eager does

A training step builds the same graph every time; jit builds it once per signature (the shapes
and dtypes of the array arguments, the values of the other arguments) and replays it on each
call's data, reading the parameters the function closes over afresh. Scalar graphs (a Value
per weight) are batched into a few hundred numpy operations; tensor graphs become one numpy
call per op with no Python overhead between them. See docs/jit.md.

Tracing lives in jit_trace.py, code generation in jit_codegen.py; the eager engine does not
import any of them.
"""

from __future__ import annotations

import contextlib
import gc
import inspect
import types
import warnings
from collections.abc import Callable
from functools import partial
from typing import Any

import numpy as np

from .engine import gradients
from .jit_codegen import Program, Retrace, Slow
from .jit_trace import TraceError, build, trace
from .modes import mode
from .ops import Op
from .value import Value, as_array

__all__ = ["jit", "Jitted", "TraceError"]

_ERRORS = (ValueError, IndexError, TypeError, ArithmeticError, Slow)
_ONE = np.float64(1.0)
_ndarray = np.ndarray
_WARN_AFTER = 8  # traces of one function before jit says why it keeps tracing


def jit(fn: Callable[..., Any] | None = None, *, check: bool = True, max_traces: int = 32) -> Any:
    """fn compiled: the first call for each signature traces fn (runs it once, recording its graph);
    later calls replay the recording on their data, returning Values whose backward() replays the
    backward pass. Usable as @jit or @jit(check=False).

    check: trace the function a second time (on the second call, when it has array or Value
    arguments; at once otherwise) and refuse it if the two recordings differ (random numbers,
    copies of arguments made outside the graph, Python state that changed).
    max_traces: how many signatures to keep (the most recently traced).
    """
    if fn is None:
        return partial(jit, check=check, max_traces=max_traces)
    if not callable(fn):
        raise TypeError(f"jit() takes a function to compile, got {type(fn).__name__}: {fn!r}"[:200])
    if isinstance(max_traces, bool) or not isinstance(max_traces, int) or max_traces < 1:
        raise ValueError(f"jit(): max_traces must be a positive int, got {max_traces!r}")
    return Jitted(fn, bool(check), max_traces)


class Jitted:
    """A function compiled by `jit`: call it as the function; `clear()` forgets its traces."""

    def __init__(self, fn: Callable[..., Any], check: bool, max_traces: int) -> None:
        self.fn = self.__wrapped__ = fn
        self.check, self.max_traces = check, max_traces
        self._traces: dict[Any, _Entry] = {}
        self.n_traced = 0  # traces made (a retrace after clear() or eviction counts again)
        self.__name__ = getattr(fn, "__name__", "function")
        self.__doc__ = getattr(fn, "__doc__", None)
        try:
            self._params = [p.name for p in inspect.signature(fn).parameters.values()]
        except (TypeError, ValueError):
            self._params = []

    def __repr__(self) -> str:
        return f"jit({self.__name__}, {len(self._traces)} trace{'s' if len(self._traces) != 1 else ''})"

    def __get__(self, obj: Any, objtype: Any = None) -> Any:
        return self if obj is None else types.MethodType(self, obj)  # @jit on a method: self is a static argument

    def clear(self) -> None:
        """Forget every trace: the next call traces again (after changing what the function closes over)."""
        self._traces.clear()

    def code(self) -> str:
        """The Python jit wrote for the most recent trace: its forward, then its backward for each output."""
        if not self._traces:
            raise RuntimeError(f"{self.__name__} has not been traced yet: call it first")
        program = list(self._traces.values())[-1].program
        return "\n".join([program.forward_source, *program.backward_sources.values()])

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        s = mode.s
        if s.tracer is not None or s.anomaly or not s.grad_enabled:
            # inside another trace (traced through), under detect_anomaly (its checks need the eager
            # ops) or no_grad (nothing to record): the function as it is
            return self.fn(*args, **kwargs)
        if kwargs:
            flat: list[Any] = []
            key: Any = (_key(args, flat), _key(kwargs, flat))
        elif args:
            parts: list[Any] = []
            for x in args:  # arrays, the common case: their shapes and dtypes
                if type(x) is not _ndarray:
                    flat = []
                    key = (_key(args, flat), None)
                    break
                parts.append(x.shape)
                parts.append(x.dtype)
            else:
                flat, key = list(args), tuple(parts)
        else:
            flat, key = [], None
        entry = self._traces.get(key)
        if entry is not None and not entry.unchecked:
            try:
                return entry.call(flat)
            except Retrace:  # a parameter the function closes over changed shape, dtype or requires_grad
                del self._traces[key]
                entry = None
        return self._trace(key, flat, args, kwargs, entry)

    def _names(self, n: int) -> list[str]:
        return [repr(self._params[i]) if i < len(self._params) else f"#{i}" for i in range(n)]

    def _record(self, flat: list[Any], names: list[str], args: Any, kwargs: Any) -> Any:
        """Trace fn once on these arguments: its tape (jit_trace.Graph)."""
        treedef = (_flatten(args, [], [], []), _flatten(kwargs, [], [], []))

        def rebuild(leaves: list[Any]) -> tuple[Any, Any]:
            it = iter(leaves)
            return _unflatten(treedef[0], it), _unflatten(treedef[1], it)

        out, _, tracer = trace(self.fn, flat, names, rebuild)
        outs: list[Value] = []
        out_def = _flatten_out(out, outs, self.__name__)
        with _collector_paused():
            return build(tracer, outs, out_def)

    def _trace(self, key: Any, flat: list[Any], args: Any, kwargs: Any, entry: _Entry | None) -> Any:
        names: list[str] = []
        _flatten(args, [], self._names(len(args)), names)
        _flatten(kwargs, [], [], names)
        if entry is not None:  # its second call: traced again on this call's data, and compared
            again = self._record(flat, names, args, kwargs)
            first = entry.program.graph
            assert first is not None  # an unchecked entry keeps its graph until this comparison
            why = first.first_difference(again)
            if why is not None:
                del self._traces[key]
                raise TraceError(_differs(self.__name__, why))
            entry.unchecked = False
            entry.program.graph = None  # (only the check needed it)
            try:
                return entry.call(flat)
            except Retrace:  # the same graph, but a parameter changed shape since: compiled again
                again_entry = _Entry(Program(again), False, self.__name__)
                again_entry.program.graph = None
                self._traces[key] = again_entry
                self.n_traced += 1
                return again_entry.call(flat)
        graph = self._record(flat, names, args, kwargs)
        dynamic = bool(flat)
        if self.check and not dynamic:  # no arguments to vary: trace again now, for randomness and state
            why = graph.first_difference(self._record(flat, names, args, kwargs))
            if why is not None:
                raise TraceError(_differs(self.__name__, why))
        with _collector_paused():
            entry = _Entry(Program(graph), self.check and dynamic, self.__name__)
        if not entry.unchecked:
            entry.program.graph = None
        if len(self._traces) >= self.max_traces:
            del self._traces[next(iter(self._traces))]  # the oldest trace
        self._traces[key] = entry
        self.n_traced += 1
        if self.n_traced == _WARN_AFTER + 1:
            warnings.warn(
                f"autograd.jit: {self.__name__} has been traced {self.n_traced} times. Each new signature traces again: "
                "the shapes and dtypes of array arguments and the values of the others. A Python number that changes on "
                "every call (a learning rate, a step count) makes a new trace every time: pass it as a numpy array.",
                RuntimeWarning,
                stacklevel=3,
            )
        return entry.call(flat)


@contextlib.contextmanager
def _collector_paused() -> Any:
    """The cyclic garbage collector off while a tape is built or compiled: these make no cycles, and
    the collector would rescan every live node of a large trace again and again (as engine._run)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _differs(name: str, why: str) -> str:
    return (
        f"autograd.jit: two traces of {name} recorded different graphs: {why}. The function reads something a replay "
        "cannot follow: random numbers drawn inside it, an array computed from an argument outside the graph (np.array(x), "
        "x.tolist(), one_hot(labels)...), or Python state that changes between calls. Pass it as an argument, compute it with "
        "Values, or call the function without jit (jit(fn, check=False) skips this check)"
    )


class _Entry:
    """One signature's compiled program (and whether its recording still awaits the second-call check)."""

    __slots__ = ("program", "unchecked", "outs", "call", "name")

    def __init__(self, program: Program, unchecked: bool, name: str) -> None:
        self.program, self.unchecked, self.name = program, unchecked, name
        self.outs: dict[int, _Out] = {j: _Out(program, j, name) for j in range(len(program.outputs)) if j in program.receivers}
        # NOTE: one result that needs a backward pass (a loss) is the common case: a call made for it
        self.call = self._call_one() if program.out_def == ("O",) and 0 in self.outs else self._call_any

    def _call_one(self) -> Callable[[list[Any]], Value]:
        """The call for one result that needs a backward pass: self._result(S, flat, 0) with its constants bound."""
        forward, careful, receivers = self.program.forward, self._careful, self.program.receivers[0]
        out = self.outs[0]
        parts, recv0, pos = out.parts, out.recv, out.pos

        def call(flat: list[Any]) -> Value:
            try:
                S = forward(flat)
            except Retrace:
                raise
            except AttributeError:  # a leaf's data is no longer an array (the guards read .shape)
                raise Retrace from None
            except _ERRORS:
                return careful(flat)
            c = _new_object(_Call)
            if recv0 is None:
                recv = tuple(v if kind == "leaf" else flat[v] for kind, v in receivers)
                c.leaves = all(v._op is None for v in recv)
            else:
                recv = recv0
                c.leaves = True
            c._vjps, c._floats, c.out, c.S, c.flat = parts, False, out, S, flat
            r = _new_value(_Result)
            r._data, r._grad, r.requires_grad, r.label, r._op, r.scope, r._a, r._b = S[pos], None, True, None, c, None, None, recv
            return r

        return call

    def _call_any(self, flat: list[Any]) -> Any:
        program = self.program
        try:
            S = program.forward(flat)
        except Retrace:
            raise
        except AttributeError:
            raise Retrace from None
        except _ERRORS:
            return self._careful(flat)
        items = program.items
        outs = []
        for j, i in enumerate(program.outputs):
            it = items[i]
            kind = it.kind
            if kind in ("leaf", "const"):
                outs.append(it.value)
            elif kind == "argv":
                outs.append(flat[it.k])
            elif j in self.outs:
                outs.append(self._result(S, flat, j))
            else:
                v = _new_value(Value)
                v._data, v._grad, v.requires_grad, v.label, v._op, v.scope = S[program.out_pos[j]], None, False, None, None, None
                outs.append(v)
        return _unflatten(program.out_def, iter(outs))

    def _careful(self, flat: list[Any]) -> Any:
        """The tape through the engine's apply (its retries on numpy scalars, its errors naming the
        op and the shapes): a fast call met inf or nan in Python floats, or an error to report."""
        return _unflatten(self.program.out_def, iter(self.program.eager(flat)))

    def _result(self, S: tuple[Any, ...], flat: list[Any], j: int) -> Value:
        out = self.outs[j]
        call = _new_object(_Call)
        recv = out.recv
        if recv is None:
            recv = tuple(v if kind == "leaf" else flat[v] for kind, v in self.program.receivers[j])
            call.leaves = all(v._op is None for v in recv)
        else:
            call.leaves = True
        call._vjps, call._floats, call.out, call.S, call.flat = out.parts, False, out, S, flat
        r = _new_value(_Result)
        r._data, r._grad, r.requires_grad, r.label, r._op, r.scope, r._a, r._b = S[out.pos], None, True, None, call, None, None, recv
        return r


class _Out:
    """What every replayed result for output j of a program shares: its backward function, its
    rules as the engine calls them, its receivers when they are all closed-over leaves."""

    __slots__ = ("program", "j", "bw", "bws", "pos", "parts", "recv", "fname")
    pos: Any  # where the output lives in the saved values (None for a leaf or a constant output)

    def __init__(self, program: Program, j: int, fname: str) -> None:
        self.program, self.j, self.fname = program, j, fname
        self.bw, self.bws, self.pos = program.backward(j), program.backward_store(j), program.out_pos[j]
        recv = program.receivers[j]
        self.parts = tuple(partial(_Call._part, i=i) for i in range(len(recv)))
        self.recv = tuple(v for _, v in recv) if all(kind == "leaf" for kind, _ in recv) else None


_new_value = Value.__new__
_new_object = object.__new__  # (not Op.__new__: _Result sets the slots it reads)


class _Call(Op):
    """The op of a replayed call's result: its inputs are the leaves the result depends on (the
    parameters, the Value arguments), and its rule replays the recorded backward pass."""

    __slots__ = ("out", "S", "flat", "leaves", "_g", "_grads")
    name = "jit"
    out: Any  # the program's output this Value is
    S: Any  # the call's saved values
    flat: Any  # the call's flattened arguments
    leaves: Any  # the leaves it depends on (True: a Value per weight, given as one vector)
    _g: Any
    _grads: Any

    def label(self) -> str:
        return f"jit({self.out.fname})"

    def params(self) -> dict[str, Any]:
        return {}

    def _part(self, g: Any, out: Any, *xs: Any, i: int) -> Any:
        """The gradient of input i (the engine calls this for each input in turn, with the same g)."""
        if getattr(self, "_g", None) is not g or getattr(self, "_grads", None) is None:
            self._grads = self._vjp(g)
            self._g = g
        grads = self._grads
        r = grads[i]
        if i == len(grads) - 1:
            self._g = self._grads = None
        return r

    def _vjp(self, g: Any) -> list[Any]:
        out = self.out
        if isinstance(g, Value):  # backward(create_graph=True): the tape again through the engine, recorded
            outs = out.program.eager(self.flat)
            return gradients(outs[out.j], self._receivers(), g, create_graph=True)
        try:
            return out.bw(self.S, g)
        except _ERRORS:
            outs = out.program.eager(self.flat)
            return gradients(outs[out.j], self._receivers(), g)

    def _receivers(self) -> list[Value]:
        out = self.out
        return [v if kind == "leaf" else self.flat[v] for kind, v in out.program.receivers[out.j]]


class _Result(Value):
    """A replayed call's output: backward() runs the recorded backward pass and adds into `.grad`
    exactly as eager backward() does; used inside a larger graph it is one node (op `jit`)."""

    __slots__ = ()

    def backward(self, gradient: Any = None, *, retain_grads: bool = True, create_graph: bool = False) -> None:
        call = self._op
        if create_graph or type(call) is not _Call or not call.leaves:  # (a Value argument computed by an outer graph)
            return Value.backward(self, gradient, retain_grads=retain_grads, create_graph=create_graph)
        d = self._data
        seed = _ONE if gradient is None and type(d) is np.float64 else _seed(self, gradient)
        out = call.out
        try:
            out.bws(call.S, seed, self._b)  # the recorded pass, adding into the leaves' .grad as engine._run does
        except _ERRORS:
            outs = out.program.eager(call.flat)
            outs[out.j].backward(gradient, retain_grads=retain_grads)
        if retain_grads:
            if self._grad is None and type(seed) is not _ndarray:
                self._grad = seed
            else:
                _store(self, seed)


def _store(node: Value, g: Any) -> None:
    old = node._grad
    if old is None:
        if type(g) is _ndarray:
            g = g.copy(order="K")
        node._grad = g
    else:
        total = old + g
        if type(old) is _ndarray and total.dtype is not old.dtype:
            total = total.astype(old.dtype)
        node._grad = total


def _seed(root: Value, gradient: Any) -> Any:
    """d(loss)/d(root) to start from, as engine.backward makes it."""
    if gradient is None:
        d = root._data
        if type(d) is float:
            return 1.0
        if type(d) is np.float64:
            return _ONE
        if root.size != 1:
            raise ValueError(
                f"backward() without a gradient needs an output with one element, this one has shape {root.shape}; "
                "pass gradient= (d loss / d output, same shape), or reduce first, e.g. out.sum().backward()"
            )
        return np.ones_like(np.asarray(d))
    g = gradient._data if isinstance(gradient, Value) else as_array(gradient)
    if np.shape(g) != root.shape:
        raise ValueError(f"backward(): gradient has shape {np.shape(g)} but the output has shape {root.shape}; they must be equal")
    return g


# ---- arguments and results as trees -----------------------------------------------------------


def _key(obj: Any, flat: list[Any]) -> Any:
    """obj's signature: its structure, array shapes and dtypes, other values (hashable); arrays and Values appended to flat."""
    t = type(obj)
    if t is _ndarray:
        flat.append(obj)
        return (obj.shape, obj.dtype)
    if t is tuple or t is list:
        return (t, *[_key(x, flat) for x in obj])
    if t is dict:
        return (dict, *[(k, _key(v, flat)) for k, v in obj.items()])
    if t is Value:
        flat.append(obj)
        d = obj._data
        return (d.shape, d.dtype, obj.requires_grad) if type(d) is _ndarray else _flatten(obj, [], [], [])
    if isinstance(obj, (_ndarray, Value)):
        return _flatten(obj, flat, [], [])
    if t is int or t is float or t is bool or t is str or obj is None:
        return (t, obj)
    return _flatten(obj, flat, [], [])


def _flatten(obj: Any, flat: list[Any], names: list[str], out_names: list[str], path: str = "") -> Any:
    """obj's structure as a hashable key; arrays and Values appended to flat (their names to out_names).

    names: the names of obj's top-level items (the function's parameters), for messages."""
    t = type(obj)
    if isinstance(obj, _ndarray):
        flat.append(obj)
        out_names.append(path or "argument")
        return ("A", obj.shape, obj.dtype.str, t is _ndarray)
    if isinstance(obj, Value):
        flat.append(obj)
        out_names.append(path or "argument")
        d = obj._data
        return ("V", np.shape(d), np.asarray(d).dtype.str if type(d) is not float else "float", type(d), obj.requires_grad)
    if t is tuple or t is list:
        sub = [names[i] if i < len(names) else f"{path}[{i}]" for i in range(len(obj))]
        return (t, tuple(_flatten(x, flat, [], out_names, sub[i]) for i, x in enumerate(obj)))
    if t is dict:
        return (dict, tuple(obj), tuple(_flatten(v, flat, [], out_names, f"{path}[{k!r}]" if path else repr(k)) for k, v in obj.items()))
    try:
        hash(obj)
    except TypeError:
        raise TypeError(
            f"autograd.jit: argument {path or ''} is a {t.__name__}, which is neither an array nor hashable; pass arrays and "
            "Values (traced), numbers, strings and other hashable objects (part of the signature), or tuples, lists and dicts of them"
        ) from None
    return ("S", t, obj)


def _unflatten(treedef: Any, leaves: Any) -> Any:
    if treedef is None:
        return next(leaves)
    kind = treedef[0]
    if kind in ("A", "V"):
        return next(leaves)
    if kind is tuple or kind is list:
        return kind(_unflatten(d, leaves) for d in treedef[1])
    if kind is dict:
        return {k: _unflatten(d, leaves) for k, d in zip(treedef[1], treedef[2])}
    if kind == "O":  # an output
        return next(leaves)
    if kind == "N":
        return None
    return treedef[2]


def _flatten_out(out: Any, outs: list[Value], name: str) -> Any:
    """The function's result's structure; its Values appended to outs. Only Values (and None) may be returned."""
    if isinstance(out, Value):
        outs.append(out)
        return ("O",)
    if out is None:
        return ("N",)
    t = type(out)
    if t is tuple or t is list:
        return (t, tuple(_flatten_out(x, outs, name) for x in out))
    if t is dict:
        return (dict, tuple(out), tuple(_flatten_out(v, outs, name) for v in out.values()))
    raise TraceError(
        f"autograd.jit: {name} returned a {t.__name__}; a jitted function must return Values (or tuples, lists and dicts "
        "of them): any other result would be frozen at the first call's numbers. Return the Value and read .item() outside"
    )
