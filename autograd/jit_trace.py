"""Tracing for autograd.jit: run a function once and turn the graph it made into a tape (`Graph`).

The function runs eagerly, on this thread, with a tracer in `modes.state().tracer`:

- Array arguments are handed to it as `_Tracked` views. numpy operations on them (ufuncs,
  reductions, indexing, reshape, astype, np.where, np.concatenate, ...) are recorded as
  *recipes*, so they run again on a later call's arrays; anything else numpy does with them
  gives a tainted array, refused where it would enter the graph.
- An argument that enters the graph (`2 * x`, `Value(x)`, a layer's input) becomes a
  *placeholder*: a leaf that requires grad while tracing, so every op on it is recorded (eager
  would record none of them), bound to "argument k" for the replay. Value arguments are
  replaced by placeholders too.
- Array parameters of ops (cross_entropy's labels, getitem's indices, where's mask) are found
  by memory (a view of an argument is that argument) and rebuilt from the new call's arrays.
- `bool()`, `float()` and `.item()` of a traced Value, and Python conversions of a tracked
  array, raise `TraceError`: Python control flow on data cannot be replayed. A comparison of a
  traced Value is a recorded mask (for `where`); `detach()` is recorded; `no_grad()` and
  `backward()` inside the function are refused.

`Graph` is the tape: one `Item` per value, in an order where each comes after what it reads.
"""

from __future__ import annotations

import operator
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.array_utils import byte_bounds as _byte_bounds

from . import modes as _modes
from . import value as _value
from .value import Constant, Value, as_array

__all__ = ["TraceError", "Graph", "Item", "trace"]


class TraceError(TypeError):
    """What a function traced by autograd.jit did that a replay could not repeat."""


_lock = threading.Lock()


def _describe(origin: str) -> str:
    return origin or "an argument"


# ---- arrays that remember where they came from ----------------------------------------------


class _Tracked(np.ndarray):
    """An array argument of a function being traced, or an array numpy computed from one.

    `_jit` is (tracer, recipe, origin): `recipe` computes it again from a later call's arguments
    (None when numpy did something jit cannot replay); `origin` names the argument in messages.
    Once the trace is over (tracer.active is False) it behaves as a plain array.
    """

    _jit: Any = None

    def __array_finalize__(self, obj: Any) -> None:
        src = getattr(obj, "_jit", None)
        if src is not None:  # a view, copy or method result: not replayable unless a recipe says how
            self._jit = (src[0], None, src[2])

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        tracer, origin = _owner((inputs, kwargs.get("out", ())))
        if tracer is not None and "out" in kwargs and any(isinstance(o, _Tracked) for o in kwargs["out"]):
            raise TraceError(
                f"autograd.jit: {ufunc.__name__}(..., out=...) would change {_describe(origin)} in place, which a replay "
                "cannot repeat; compute a new array instead (x = x + 1, not x += 1)"
            )
        if method == "at" and tracer is not None:
            raise TraceError(f"autograd.jit: {ufunc.__name__}.at changes {_describe(origin)} in place, which a replay cannot repeat")
        result = getattr(ufunc, method)(*_plain(inputs), **_plain(kwargs))
        if tracer is None:
            return result
        return tracer.wrap(result, getattr(ufunc, method), inputs, kwargs, "out" not in kwargs, origin)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        tracer, origin = _owner((args, kwargs))
        result = func(*_plain(args), **_plain(kwargs))
        if tracer is None or func in _SHAPE_FUNCTIONS:
            return result
        return tracer.wrap(result, func, args, kwargs, func in _REPLAYABLE_FUNCTIONS, origin)

    def __setitem__(self, index: Any, value: Any) -> None:
        tracer, origin = _owner(self)
        if tracer is not None:
            raise TraceError(f"autograd.jit: assigning into {_describe(origin)} changes it in place, which a replay cannot repeat; copy it first")
        np.ndarray.__setitem__(self.view(np.ndarray), index, _plain(value))

    # Conversions to Python values: control flow on data, which a replay cannot repeat.
    def _concrete(self, what: str) -> None:
        tracer, origin = _owner(self)
        if tracer is not None:
            raise TraceError(
                f"autograd.jit: {what} of {_describe(origin)} (or an array computed from it) inside a traced function: "
                "the replay would reuse this call's number on every later call. Keep it an array (use np.where or "
                "autograd.where for choices made per element), or pass the number as a Python argument (each value traces once)"
            )

    def __bool__(self) -> bool:
        self._concrete("bool()")
        return bool(self.view(np.ndarray))

    def __int__(self) -> int:
        self._concrete("int()")
        return int(self.view(np.ndarray))

    def __float__(self) -> float:
        self._concrete("float()")
        return float(self.view(np.ndarray))

    def __index__(self) -> int:
        self._concrete("using it as an index or size")
        return operator.index(self.view(np.ndarray))

    def item(self, *args: Any) -> Any:
        self._concrete(".item()")
        return self.view(np.ndarray).item(*args)


def _method(name: str) -> Callable[..., Any]:
    base = getattr(np.ndarray, name)

    def method(self: _Tracked, *args: Any, **kwargs: Any) -> Any:
        tracer, origin = _owner((self, args, kwargs))
        result = base(self.view(np.ndarray), *_plain(args), **_plain(kwargs))
        if tracer is None:
            return result
        ok = name != "__getitem__" or not _has_bool_array(args[0])  # a boolean mask: a shape that depends on the data
        return tracer.wrap(result, base, (self, *args), kwargs, ok, origin)

    method.__name__ = name
    return method


for _name in ("__getitem__", "astype", "reshape", "transpose", "ravel", "flatten", "copy", "squeeze", "swapaxes", "clip", "sum", "mean", "max", "min", "prod"):
    setattr(_Tracked, _name, _method(_name))
_Tracked.T = property(lambda self: self.transpose())  # type: ignore[assignment]
del _name

# numpy functions whose results have shapes fixed by their inputs' shapes: replayed on new data
_REPLAYABLE_FUNCTIONS = {
    np.where, np.concatenate, np.stack, np.vstack, np.hstack, np.clip, np.take, np.expand_dims, np.broadcast_to,
    np.reshape, np.transpose, np.squeeze, np.ravel, np.moveaxis, np.swapaxes, np.sum, np.mean, np.max, np.min,
    np.amax, np.amin, np.prod, np.std, np.var, np.abs, np.dot, np.outer, np.zeros_like, np.ones_like, np.full_like,
    np.cumsum, np.tile, np.repeat, np.einsum, np.atleast_1d, np.atleast_2d, np.flip, np.roll, np.diag, np.trace,
}  # fmt: skip
# numpy functions that read only shapes and dtypes: their results are static
_SHAPE_FUNCTIONS = {np.shape, np.ndim, np.size, np.result_type, np.broadcast_shapes}


def _has_bool_array(index: Any) -> bool:
    """Whether an index holds a boolean mask computed from the data (the result's shape would depend on the data)."""
    items = index if isinstance(index, tuple) else (index,)
    return any(isinstance(i, _Tracked) and i.dtype == bool for i in items)


def _owner(obj: Any) -> tuple[Any, str]:
    """(the active tracer, the argument's name) of the first tracked array inside obj, else (None, "")."""
    stack = [obj]
    while stack:
        x = stack.pop()
        if isinstance(x, _Tracked):
            src = x._jit
            if src is not None and src[0].active:
                return src[0], src[2]
        elif isinstance(x, (tuple, list)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x.values())
    return None, ""


def _plain(obj: Any) -> Any:
    """obj with every tracked array as a plain view of the same memory (containers rebuilt)."""
    if isinstance(obj, _Tracked):
        return obj.view(np.ndarray)
    if type(obj) is tuple or type(obj) is list:
        return type(obj)(_plain(x) for x in obj)
    if type(obj) is dict:
        return {k: _plain(v) for k, v in obj.items()}
    return obj


# ---- references: how a later call gets a value again ----------------------------------------


class _Recipe:
    """fn(*args, **kwargs) with tracked arrays, Values and argument arrays in args as references."""

    __slots__ = ("fn", "args", "kwargs")

    def __init__(self, fn: Any, args: Any, kwargs: Any) -> None:
        self.fn, self.args, self.kwargs = fn, args, kwargs


class _Index:
    """A reference by number that compares by its class and number."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n

    def __eq__(self, other: Any) -> bool:
        return type(other) is type(self) and other.n == self.n

    def __hash__(self) -> int:
        return hash((type(self).__name__, self.n))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.n}>"


class _Arg(_Index):
    """The k-th array argument, as the call passed it."""

    __slots__ = ()
    k = property(lambda self: self.n)


class _Placeholder:
    """How a placeholder Value is made: from `source` (an _Arg, a _Recipe or a Value) by `how`:
    "lift" (an operand, _lift), "value" (Value(x)), "argv" (a Value argument), "detach"."""

    __slots__ = ("source", "how", "rg", "k")

    def __init__(self, source: Any, how: str, rg: bool, k: int = -1) -> None:
        self.source, self.how, self.rg, self.k = source, how, rg, k


# ---- the tracer ------------------------------------------------------------------------------


class _TracingState(_modes._State):
    """A thread's switches while it traces: turning gradients off (no_grad, or backward inside the
    function) is refused, since what it computes would be frozen at this call's numbers."""

    __slots__ = ()

    @property  # type: ignore[override]
    def grad_enabled(self) -> bool:
        return _GRAD_ENABLED.__get__(self)

    @grad_enabled.setter
    def grad_enabled(self, on: bool) -> None:
        if not on:
            import sys

            caller = sys._getframe(1).f_code.co_name
            what = "backward() (or grad, jacobian, ...)" if caller == "_run" else "no_grad()"
            raise TraceError(
                f"autograd.jit: {what} inside a traced function cannot be replayed: what it computes would be frozen at "
                "the first call's numbers. Trace only the forward computation and call .backward() on the result, outside"
            )
        _GRAD_ENABLED.__set__(self, on)


_GRAD_ENABLED = _modes._State.__dict__["grad_enabled"]


class Tracer:
    """Records, while a function runs, what the tape needs: placeholders, recipes, masks.

    value.py calls its hooks (`lift`, `value`, `concrete`, `compare`, `detach`) on this thread.
    """

    def __init__(self, flat: list[Any], names: list[str]) -> None:
        self.active = True
        self.flat = flat  # the call's arguments (arrays and Values), flattened
        self.names = names
        self.placeholders: dict[Value, _Placeholder] = {}
        self.tracked: list[_Tracked] = []  # every tracked array made (kept alive: memory is compared)
        self.arg_data: list[tuple[Any, int]] = []  # (plain array, k): argument arrays, for the copy check
        self.lifted: dict[int, Value | None] = {}  # id(tracked array) -> its placeholder as an operand
        self._bounds: Any = None  # the tracked arrays' memory, (starts, ends), for attribute()

    # -- arguments in --
    def arguments(self) -> list[Any]:
        """The arguments the traced function gets: tracked views of arrays, placeholders for Values."""
        out: list[Any] = []
        for k, x in enumerate(self.flat):
            if isinstance(x, Value):
                p = Value.__new__(Value)
                p._data, p._grad, p.requires_grad, p.label, p._op, p.scope = x._data, None, True, x.label, None, None
                self.placeholders[p] = _Placeholder(None, "argv", x.requires_grad, k)
                if isinstance(x._data, np.ndarray):
                    self.arg_data.append((x._data, k))
                out.append(p)
            else:
                plain = np.asarray(x)
                t = plain.view(_Tracked)
                t._jit = (self, _Arg(k), f"argument {self.names[k]}")
                self.tracked.append(t)
                self.arg_data.append((plain, k))
                out.append(t)
        return out

    def wrap(self, result: Any, fn: Any, args: Any, kwargs: Any, replayable: bool, origin: str) -> Any:
        """numpy's result on tracked inputs, as tracked arrays (with a recipe when it can be replayed)."""
        if isinstance(result, tuple):
            whole = _Recipe(fn, args, kwargs) if replayable and self._replayable(args, kwargs) else None
            return tuple(self._tracked(r, None if whole is None else _Recipe(operator.getitem, (whole, i), {}), origin) for i, r in enumerate(result))
        if not isinstance(result, (np.ndarray, np.generic)):
            return result
        recipe = _Recipe(fn, args, kwargs) if replayable and self._replayable(args, kwargs) else None
        return self._tracked(result, recipe, origin)

    def _replayable(self, args: Any, kwargs: Any) -> bool:
        stack = [args, kwargs]
        while stack:
            x = stack.pop()
            if isinstance(x, _Tracked):
                if x._jit is None or x._jit[1] is None:
                    return False
            elif isinstance(x, (tuple, list)):
                stack.extend(x)
            elif isinstance(x, dict):
                stack.extend(x.values())
        return True

    def _tracked(self, result: Any, recipe: Any, origin: str) -> _Tracked:
        t = np.asarray(result).view(_Tracked)
        t._jit = (self, recipe, origin)
        self.tracked.append(t)
        return t

    # -- hooks called from value.py --
    def lift(self, x: np.ndarray) -> Value | None:
        """_lift(x) of a tracked array: a placeholder Value bound to it (one per array: a constant operand
        is read-only, and x[i, j] used by every neuron is then one value of the tape)."""
        v = self.lifted.get(id(x))
        if v is None:
            v = self.lifted[id(x)] = self._placeholder(x, "lift", False)
        return v

    def value(self, v: Value, src: np.ndarray) -> None:
        """Value(src) of a tracked array: v becomes a placeholder bound to it."""
        ref = self._source_of(src)
        if ref is not None:
            self.placeholders[v] = _Placeholder(ref, "value", v.requires_grad)
            v.requires_grad = True  # recorded while tracing: every op on it must be

    def _placeholder(self, x: np.ndarray, how: str, rg: bool) -> Value | None:
        ref = self._source_of(x)
        if ref is None:
            return None
        v = Value.__new__(Value)
        v._data, v._grad, v.requires_grad, v.label, v._op, v.scope = as_array(x.view(np.ndarray)), None, True, None, None, None
        self.placeholders[v] = _Placeholder(ref, how, rg)
        return v

    def _source_of(self, x: np.ndarray) -> Any:
        """The reference a tracked array is computed by (an _Arg or a _Recipe); None if x is not this tracer's."""
        if not isinstance(x, _Tracked) or x._jit is None or x._jit[0] is not self:
            return None
        ref = x._jit[1]
        if ref is None:
            raise self._tainted(x._jit[2])
        return ref

    def _tainted(self, origin: str) -> TraceError:
        return TraceError(
            f"autograd.jit: an array computed from {_describe(origin)} by a numpy operation jit cannot replay enters the graph; "
            "a replay would reuse this call's numbers. Compute it with Values (operators, .reshape, indexing on a Value), "
            "with numpy ufuncs, reshape, astype or indexing, or pass it as an argument"
        )

    def concrete(self, v: Value, what: str) -> None:
        if v.requires_grad:  # a parameter, an argument or anything computed from them
            raise TraceError(
                f"autograd.jit: {what} of a Value inside a traced function: the recorded graph cannot depend on the data "
                "(every later call would take this call's branch, or reuse this call's number). Use autograd.where(cond, a, b) "
                "for a choice made per element; read numbers from the jitted function's result, outside it; or pass a flag as "
                "a Python argument (each value traces once)"
            )

    def compare(self, r: Any, a: Value, b: Any, ufunc: Any) -> Any:
        """a <op> b: a recorded mask if either side is traced, so `where` and indexing replay with new data."""
        a_traced = a.requires_grad
        b_traced = (isinstance(b, Value) and b.requires_grad) or (isinstance(b, _Tracked) and b._jit is not None and b._jit[0] is self)
        if not (a_traced or b_traced):
            return r
        return self._tracked(r, _Recipe(ufunc, (a, b), {}), "a comparison of traced Values")

    def detach(self, v: Value) -> Value | None:
        if not v.requires_grad:
            return None
        d = Value.__new__(Value)
        d._data, d._grad, d.requires_grad, d.label, d._op, d.scope = v._data, None, True, v.label, None, None
        self.placeholders[d] = _Placeholder(v, "detach", False)
        return d

    # -- where an array in the graph came from --
    def attribute(self, a: Any, what: str) -> Any:
        """An array found in the graph (an op's parameter, a constant's data): the reference that
        computes it from a later call (an _Arg or _Recipe), or None for a true constant.
        Refuses an array that is a partial view of an argument, a tainted one, or a copy of one."""
        if isinstance(a, _Tracked) and a._jit is not None and a._jit[0] is self:
            if a._jit[1] is None:
                raise self._tainted(a._jit[2])
            return a._jit[1]
        if not isinstance(a, np.ndarray) or not a.size:
            return None
        lo, hi = _byte_bounds(a)
        key = (lo, a.shape, a.strides, a.dtype)
        if self._bounds is None or len(self._bounds[0]) != len(self.tracked):  # (once, after the trace)
            b = np.array([_byte_bounds(t) for t in self.tracked], dtype=np.int64).reshape(-1, 2)
            self._bounds = (b[:, 0].copy(), b[:, 1].copy())
        los, his = self._bounds
        overlapping = [self.tracked[n] for n in np.flatnonzero((los < hi) & (lo < his))]  # the tracked arrays it shares memory with
        for t in overlapping:
            if (_byte_bounds(t)[0], t.shape, t.strides, t.dtype) == key:  # the very array (a plain view of it)
                if t._jit[1] is None:
                    raise self._tainted(t._jit[2])
                return t._jit[1]
        if overlapping:
            raise TraceError(
                f"autograd.jit: {what} is part of {_describe(overlapping[0]._jit[2])} (a view of it made with numpy) and would "
                "be replayed with this call's numbers; index the argument inside the graph instead (a Value's [..]), or pass the part as an argument"
            )
        varied = a.size > 1 and not np.all(a == a.reshape(-1)[0])  # (zeros or ones could be anything's copy)
        for arr, k in self.arg_data:
            if varied and arr.shape == a.shape and arr is not a and np.array_equal(arr, a):
                raise TraceError(
                    f"autograd.jit: {what} equals argument {self.names[k]} but is a copy of it (np.array(x), x.tolist(), "
                    "x.astype(...) of a plain view, Value(x) of a copy, one_hot of labels...): a replay would reuse this call's "
                    "numbers. Pass the array itself, compute it inside the graph, or pass the result as an argument"
                )
        return None


# ---- the tape --------------------------------------------------------------------------------


class Item:
    """One value of the tape.

    kind: "arg" (the k-th array argument), "argv" (the k-th argument, a Value), "ph" (a Value
    made from ins[0]: `how` is "lift" or "value"), "alias" (ins[0] detached), "leaf" (a Value
    the function closed over or made: its data is read at each call), "const" (fixed data),
    "recipe" (a numpy computation of other items: fn(*args, **kwargs)), "node" (op applied to ins).
    rg: whether eager would record it (requires_grad); dyn: the op's parameters that come from the
    call, as (slot name, template of item references).
    """

    __slots__ = ("kind", "data", "ins", "value", "op", "k", "how", "rg", "dyn", "fn", "args", "kwargs", "scope")

    def __init__(self, kind: str, data: Any, ins: list[int], value: Any = None, op: Any = None, rg: bool = False) -> None:
        self.kind, self.data, self.ins, self.value, self.op, self.rg = kind, data, ins, value, op, rg
        self.k = -1
        self.how = ""
        self.dyn: list[tuple[str, Any]] = []
        self.fn: Any = None  # a recipe's numpy function
        self.args: Any = None
        self.kwargs: Any = None
        self.scope: Any = None

    @property
    def label(self) -> str:
        """The op and the modules it ran in, for messages."""
        if self.kind == "recipe":
            return f"`{getattr(self.fn, '__name__', 'numpy')}`"
        if self.op is None:
            return ""
        inside = ".".join(type(m).__name__ for m in self.scope or ())
        return f"`{self.op.label()}`" + (f" (in {inside})" if inside else "")


class _Slot(_Index):
    """A reference to item i inside a recipe's or op parameter's template."""

    __slots__ = ()
    i = property(lambda self: self.n)


def fill(template: Any, vals: list[Any]) -> Any:
    """template with each _Slot(i) replaced by vals[i] (tuples, lists and dicts rebuilt)."""
    t = type(template)
    if t is _Slot:
        return vals[template.i]
    if t is tuple or t is list:
        return t(fill(x, vals) for x in template)
    if t is dict:
        return {k: fill(v, vals) for k, v in template.items()}
    return template


class Graph:
    """The tape of one traced call: items in order, which are outputs, and how the outputs nest."""

    def __init__(self, items: list[Item], outputs: list[int], treedef: Any, nargs: int) -> None:
        self.items, self.outputs, self.treedef, self.nargs = items, outputs, treedef, nargs

    def first_difference(self, other: Graph) -> str | None:
        """Where another trace of the same function differs from this one (None: the same tape)."""
        if self.treedef != other.treedef or self.outputs != other.outputs:
            return "the function returned a different structure of outputs"
        if len(self.items) != len(other.items):
            return f"it recorded {len(other.items)} values instead of {len(self.items)} (different Python control flow)"
        for a, b in zip(self.items, other.items):
            if a.kind != b.kind or a.ins != b.ins or a.rg != b.rg:
                return "the graph's structure differs" + (f" at op {a.label}" if a.label else "")
            if a.kind == "node" and a.op is b.op and not a.dyn and not b.dyn:
                continue  # one shared op instance (+, *, relu...): the same
            why = _differ(a, b)
            if why:
                return why + (f" at op {a.label}" if a.label else "")
        return None


def _differ(a: Item, b: Item) -> str:
    if a.k != b.k or a.how != b.how:
        return "the graph's structure differs"
    if a.kind == "node":
        dyn = {n for n, _ in a.dyn}
        if type(a.op) is not type(b.op) or not _same(_params(a.op, dyn), _params(b.op, dyn)):
            return "an op or its parameters differ"
        if [n for n, _ in a.dyn] != [n for n, _ in b.dyn] or not _same([t for _, t in a.dyn], [t for _, t in b.dyn]):
            return "an op's array parameter comes from elsewhere"
    elif a.kind == "const":
        if not _same(a.data, b.data):
            return "a constant differs (random numbers, a copy of an argument, or a closed-over value that changed)"
    elif a.kind == "leaf":
        if a.value is not b.value and not (_same(a.data, b.data) and a.value.requires_grad == b.value.requires_grad):
            return "it uses a different Value"
    elif a.kind == "recipe":
        if a.fn != b.fn or not _same(a.args, b.args) or not _same(a.kwargs, b.kwargs):
            return "a numpy computation differs"
    return ""


def _params(op: Any, skip: set[str]) -> dict[str, Any]:
    """An op's parameters, but for those the call gives (`skip`)."""
    return {name: getattr(op, name) for name in _public_slots(type(op)) if name not in skip and not callable(getattr(op, name, None))}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
    if type(a) is not type(b):
        return False
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, float) and a != a:
        return b != b
    try:
        return bool(a == b)
    except Exception:  # noqa: BLE001  (objects that refuse ==: compare identity)
        return a is b


_SLOTS_CACHE: dict[type, tuple[str, ...]] = {}


def _public_slots(cls: type) -> tuple[str, ...]:
    """An op class's parameter slots (public __slots__ along its bases), cached."""
    names = _SLOTS_CACHE.get(cls)
    if names is None:
        seen: list[str] = []
        for c in reversed(cls.__mro__):
            for s in c.__dict__.get("__slots__", ()):
                if not s.startswith("_") and s not in seen and s != "vjps":
                    seen.append(s)
        names = _SLOTS_CACHE[cls] = tuple(seen)
    return names


def private_state(cls: type) -> bool:
    """Whether an op keeps state of its own between forward and backward (private slots beyond
    the engine's): such an op is made afresh for each replayed call."""
    for c in cls.__mro__:
        for s in c.__dict__.get("__slots__", ()):
            if s.startswith("_") and s not in ("_vjps", "_floats", "__weakref__", "__dict__"):
                return True
    return False


def _rebuild(op: Any, params: dict[str, Any]) -> Any:
    """A new op of op's class with these parameters (its public slots, which its constructor takes by name)."""
    return type(op)(**params)


# ---- running the function and reading its graph ------------------------------------------------


def trace(fn: Callable[..., Any], flat: list[Any], names: list[str], rebuild_args: Callable[[list[Any]], tuple[Any, Any]]) -> tuple[Any, list[Any], Tracer]:
    """Run fn on tracked arguments with this thread tracing; (its result, the flat argument list it got, the tracer)."""
    tracer = Tracer(flat, names)
    args, kwargs = rebuild_args(tracer.arguments())
    holder = _modes.mode
    old = holder.s
    state = _TracingState()
    state.anomaly, state.scope, state.tracer = old.anomaly, old.scope, tracer
    with _lock:
        _value._tracing += 1
    holder.s = state
    try:
        out = fn(*args, **kwargs)
    finally:
        holder.s = old
        with _lock:
            _value._tracing -= 1
        tracer.active = False
    return out, args, tracer


def build(tracer: Tracer, outs: list[Value], treedef: Any) -> Graph:
    """The tape of a trace: every value the outputs depend on, each after what it reads."""
    b = _Builder(tracer)
    items = b.walk(outs)
    for it in items:  # what eager records: a node that reads something recorded
        if it.kind == "node":
            it.rg = any(items[i].rg for i in it.ins)
    return Graph(items, [b.slot[o] for o in outs], treedef, len(tracer.flat))


_EMIT = object()
_NO_PARAMS: dict[type, bool] = {}


class _Builder:
    """Walks the trace's graph (iteratively, post-order) and makes one Item per value."""

    def __init__(self, tracer: Tracer) -> None:
        self.t = tracer
        self.slot: dict[Any, int] = {}
        self.items: list[Item] = []
        self.pending: dict[Any, tuple[Item, list[Any], Any]] = {}  # key -> (item, its dependencies, op parameter templates)

    def walk(self, outs: list[Any]) -> list[Item]:
        slot, pending, items = self.slot, self.pending, self.items
        stack: list[Any] = list(reversed(outs))
        pop, push = stack.pop, stack.append
        while stack:
            key = pop()
            if key is _EMIT:
                key = pop()
                if key in slot:
                    continue
                item, deps, dyn = pending.pop(key)
                item.ins = [slot[d] for d in deps]
                if dyn:
                    n = len(item.ins) - sum(len(refs) for _, (_, refs) in dyn)
                    item.ins = item.ins[:n]
                    item.dyn = [(name, _renumber(tmpl, {id(r): slot[r] for r in refs})) for name, (tmpl, refs) in dyn]
                    _check_rebuild(item)
                if item.kind == "recipe":
                    refs = item.fn[1]
                    ids = {id(r): slot[r] for r in refs}
                    item.fn, item.args, item.kwargs = item.fn[0], _renumber(item.args, ids), _renumber(item.kwargs, ids)
                    item.ins = []
                slot[key] = len(items)
                items.append(item)
                continue
            if key in slot or key in pending:  # (pending: expanded, its dependencies still on the stack)
                continue
            spec = self._make(key)
            pending[key] = spec
            push(key)
            push(_EMIT)
            for d in reversed(spec[1]):
                if d not in slot and d not in pending:
                    push(d)
        return items

    def _make(self, key: Any) -> tuple[Item, list[Any], Any]:
        t = self.t
        if type(key) is Value:
            op = key._op
            if op is not None and key not in t.placeholders:  # a node: the common case, kept short
                a, b = key._a, key._b
                deps = [a] if b is None else ([a, b] if a is not None else list(b))
                cls = type(op)
                dyn = None
                if _NO_PARAMS.get(cls) is None:
                    _NO_PARAMS[cls] = not _public_slots(cls)
                if not _NO_PARAMS[cls]:
                    dyn = self._op_params(key, op, deps)
                item = Item("node", key._data, [], None, op)
                item.scope = key.scope
                if item.scope:
                    _refuse_random(item.scope)
                return item, deps, dyn
        if type(key) is _Arg:
            item = Item("arg", t.flat[key.k], [])
            item.k = key.k
            return item, [], None
        if type(key) is _Recipe:
            refs: list[Any] = []
            args = self._template(key.args, refs, "an array in a numpy computation")
            kwargs = self._template(key.kwargs, refs, "an array in a numpy computation")
            item = Item("recipe", None, [])
            item.fn, item.args, item.kwargs = (key.fn, refs), args, kwargs  # (fn, refs) until the refs have slots
            return item, refs, None
        v: Value = key
        ph = t.placeholders.get(v)
        if ph is not None:
            if ph.how == "argv":
                item = Item("argv", v._data, [], None, None, ph.rg)
                item.k = ph.k
                return item, [], None
            if ph.how == "detach":
                item = Item("alias", v._data, [])
                item.how = "detach"
                return item, [ph.source], None
            item = Item("ph", v._data, [], None, None, ph.rg)
            item.how = ph.how
            return item, [ph.source], None
        if type(v) is Constant:
            ref = t.attribute(v._data, "an array operand") if isinstance(v._data, np.ndarray) else None
            if ref is not None:  # np.asarray(x) of an argument, lifted: that argument
                item = Item("ph", v._data, [])
                item.how = "lift"
                return item, [ref], None
            return Item("const", v._data, [], v), [], None
        if isinstance(v._data, np.ndarray) and t.arg_data:
            t.attribute(v._data, "the data of a Value")  # refuses a copy of an argument
        return Item("leaf", v._data, [], v, None, v.requires_grad), [], None

    def _op_params(self, v: Value, op: Any, deps: list[Any]) -> Any:
        """The op's array parameters that come from the call: [(name, (template, refs))]; refs appended to deps."""
        dyn = []
        for name in _public_slots(type(op)):
            p = getattr(op, name, None)
            if isinstance(p, (np.ndarray, tuple)):
                refs: list[Any] = []
                tmpl = self._template(p, refs, f"the {name} of {op.label()}")
                if refs:
                    if type(op).__name__ == "GetItem" and _has_dynamic_bool(p, self.t):
                        raise TraceError(
                            f"autograd.jit: indexing with a boolean mask computed from the data ({op.label()}) gives a result "
                            "whose shape depends on the data, which a replay cannot follow; use autograd.where(mask, x, 0.0)"
                        )
                    dyn.append((name, (tmpl, refs)))
                    deps.extend(refs)
        return dyn or None

    def _template(self, obj: Any, refs: list[Any], what: str) -> Any:
        """obj with every array that comes from the call replaced by a reference (appended to refs)."""
        t = type(obj)
        if t is tuple or t is list:
            return t(self._template(x, refs, what) for x in obj)
        if t is dict:
            return {k: self._template(x, refs, what) for k, x in obj.items()}
        if isinstance(obj, Value):
            refs.append(obj)
            return _Pending(obj)
        if isinstance(obj, np.ndarray):
            ref = self.t.attribute(obj, what)
            if ref is not None:
                refs.append(ref)
                return _Pending(ref)
            return obj.view(np.ndarray) if isinstance(obj, _Tracked) else obj
        if isinstance(obj, _Recipe):
            refs.append(obj)
            return _Pending(obj)
        return obj


class _Pending:
    """A reference in a template, until the walk gives it an item index."""

    __slots__ = ("ref",)

    def __init__(self, ref: Any) -> None:
        self.ref = ref


def _renumber(tmpl: Any, slots: dict[int, int]) -> Any:
    t = type(tmpl)
    if t is _Pending:
        return _Slot(slots[id(tmpl.ref)])
    if t is tuple or t is list:
        return t(_renumber(x, slots) for x in tmpl)
    if t is dict:
        return {k: _renumber(v, slots) for k, v in tmpl.items()}
    return tmpl


def _has_dynamic_bool(p: Any, tracer: Tracer) -> bool:
    items = p if isinstance(p, tuple) else (p,)
    return any(isinstance(i, np.ndarray) and i.dtype == bool and tracer.attribute(i, "") is not None for i in items)


def _check_rebuild(item: Item) -> None:
    """An op whose array parameters come from the call is rebuilt each call: check that works here."""
    op = item.op
    try:
        params = {name: getattr(op, name) for name in _public_slots(type(op))}
        _rebuild(op, params)
    except Exception as e:  # noqa: BLE001
        raise TraceError(
            f"autograd.jit: {op.label()} takes an array parameter from the function's arguments, so each call must make it "
            f"again, but {type(op).__name__}(**its parameters) failed ({type(e).__name__}: {e}); jit can rebuild ops whose "
            "constructor takes their public slots by name (getitem, where, scatter_add, cross_entropy do)"
        ) from None


def _refuse_random(scope: Any) -> None:
    """nn.Dropout in training mode draws a new mask on each call; a replay would reuse this one."""
    for m in scope:
        if type(m).__name__ == "Dropout" and getattr(m, "training", False) and 0.0 < getattr(m, "p", 0.0) < 1.0:
            raise TraceError(
                "autograd.jit: nn.Dropout draws a new random mask on every call, but a replay would reuse this call's mask. "
                "Call the training step without jit, or trace the model in eval() mode (dropout off)"
            )
