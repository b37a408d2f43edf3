"""Code generation for autograd.jit: a tape (jit_trace.Graph) compiled into straight-line Python.

`Program(graph)` writes two kinds of functions, each a flat sequence of numpy calls with no
Value, no mode check and no argument normalisation left in it:

- `forward(A)`: every op of the tape on a call's arguments A (the leaves the function closed
  over are read afresh), returning the values the backward pass needs (S).
- `backward(j)(S, seed)`: the gradient rules from output j back to the leaves it depends on (its
  receivers), returning their gradients; `backward_store(j)(S, seed, recv)`, the same pass adding
  them into the receivers' `.grad` as engine._run stores a leaf's gradient.

Tensor ops become one line each: the op's own `forward` and rules, with the input conversions
and broadcasting undoes the eager engine would do, decided once from the traced types.

Scalar ops (a Value per weight, micrograd's style) are batched, as operation auto-batching does
(DyNet, arXiv 1705.07860): scalar nodes of the same op at the same depth run as one numpy
operation on vectors gathered from one buffer V (the op's own forward and rules work on arrays),
and their results are written back to V by slice. In the backward pass every input of every
scalar node has a slot in a buffer E (its edge); a node's gradient is the sum of its edges,
gathered by a precomputed index matrix and summed along its first axis. A chain of `+` whose
partial sums feed only the next `+` (Python's `sum` over Values) is one sum along the first axis
of its terms: the same additions in the same order, and each term gets the chain's gradient.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from typing import Any

import numpy as np

from . import ops as _ops
from .engine import apply, passes_gradient, unbroadcast
from .jit_trace import Graph, Item, _public_slots, _rebuild, fill, private_state
from .value import Constant, Value, _lift, as_array

_ndarray = np.ndarray
_F64 = np.dtype(np.float64)

# Elementwise ops whose forward and rules take arrays as they take scalars: batched on scalar graphs.
_ELEMENTWISE = {
    _ops.Add, _ops.Sub, _ops.Mul, _ops.Div, _ops.Neg, _ops.Pow, _ops.Exp, _ops.Log, _ops.Sqrt, _ops.Tanh,
    _ops.TanhGrad, _ops.Sigmoid, _ops.Softplus, _ops.Erf, _ops.Relu, _ops.LeakyRelu, _ops.BinaryStep, _ops.Abs,
    _ops.Clip, _ops.Maximum, _ops.Minimum,
}  # fmt: skip


# Ops written out in the code instead of called: the very expressions their forward and rules in
# ops.py compute for inputs like the traced ones (tests/test_jit.py checks each against the op),
# without a Python call each.
_ARITH_FORWARD = {_ops.Add: "{0} + {1}", _ops.Sub: "{0} - {1}", _ops.Mul: "{0} * {1}", _ops.Div: "{0} / {1}", _ops.Neg: "-{0}"}
_ARITH_RULES = {
    _ops.Sub: (None, "-g"),
    _ops.Mul: ("g * {x1}", "g * {x0}"),
    _ops.Div: ("g / {x1}", "-g * {out} / {x1}"),
    _ops.Neg: ("-g",),
}


def _arrays(datas: list[Any], *ndims: int) -> bool:
    """The traced inputs are arrays of these numbers of dimensions (0: any but 0-d)."""
    return all(type(d) is _ndarray and (d.ndim == n if n else d.ndim > 0) for d, n in zip(datas, ndims)) and len(datas) == len(ndims)


def inline_forward(op: Any, datas: list[Any]) -> str | None:
    """The op's forward as an expression of its inputs {0}, {1}, when it is one for these inputs."""
    t = type(op)
    if t in _ARITH_FORWARD:
        return _ARITH_FORWARD[t]
    if t is _ops.MatMulT and _arrays(datas, 0, 2) and datas[0].shape[-1] == datas[1].shape[1]:
        return "{0} @ {1}.T"
    if t is _ops.Relu and _arrays(datas, 0):
        return "_maximum({0}, 0)"
    if t is _ops.Sum and _arrays(datas, 0):
        return f"_reduce({{0}}, axis={op.axis!r}, keepdims={op.keepdims!r})"
    return None


def inline_rule(op: Any, pos: int, datas: list[Any]) -> tuple[str, str] | None:
    """Rule `pos` of the op as an expression of g, {out}, {x0}, {x1}, when it is one for these inputs,
    and the shape of its result: "out" (the output's: broadcasting to undo) or "x" (the input's)."""
    t = type(op)
    if t in _ARITH_RULES:
        r = _ARITH_RULES[t][pos]
        return None if r is None else (r, "out")
    if t is _ops.MatMulT and _arrays(datas, 2, 2):
        return ("g @ {x1}", "x") if pos == 0 else ("g.mT @ {x0}", "x")
    if t is _ops.Relu and _arrays(datas, 0):
        return ("g * ({x0} > 0)", "out")
    return None


def _unbroadcast_expr(expr: str, frm: tuple[int, ...], to: tuple[int, ...]) -> str:
    """expr summed from shape frm back to shape to, with the very reductions engine.unbroadcast runs for these shapes."""
    extra = len(frm) - len(to)
    if extra > 0:
        expr = f"_reduce({expr}, axis={0 if extra == 1 else tuple(range(extra))!r})"
        frm = frm[extra:]
    if 1 in to:
        axes = tuple(i for i, n in enumerate(to) if n == 1 and frm[i] != 1)
        if axes:
            expr = f"_reduce({expr}, axis={axes!r}, keepdims=True)"
            frm = tuple(1 if i in axes else n for i, n in enumerate(frm))
    if tuple(frm) != tuple(to):
        expr = f"_unbroadcast({expr}, {to!r})"
    return expr


_MIN_BATCHED = 16  # scalar nodes a graph needs before its scalars are batched
_SOURCES = ("arg", "argv", "leaf", "const")  # items that read no other item


class Slow(Exception):
    """The fast code met what only the engine's careful path handles (a Python float that came out
    inf or nan, or an error to report): the call runs again through the engine."""


class Retrace(Exception):
    """A leaf the function closes over changed shape, dtype or requires_grad since the trace."""


def _s64(x: Any) -> bool:
    """A float64 scalar as eager keeps it: a Python float, a numpy float64, a 0-d float64 array (or a Python int constant)."""
    t = type(x)
    return t is float or t is np.float64 or (t is _ndarray and not x.shape and x.dtype == _F64) or (t is int)


def _conv1(x: Any, floats: bool) -> str:
    """How apply1 (and the backward pass) hands x to an op: '' as it is, 'item', '0d' or 'f64'."""
    if type(x) is _ndarray:
        if not x.shape:
            return "item" if x.dtype == _F64 and floats else "0d"
        return ""
    if type(x) is float and not floats:
        return "f64"
    return ""


def _conv2(a: Any, b: Any, a_const: bool, b_const: bool, floats: bool) -> list[str]:
    """engine.apply2's conversions (with _operands2's weak and strong Python floats)."""
    ta, tb = type(a), type(b)
    if (ta is float and tb is float and floats) or (ta is _ndarray and tb is _ndarray and a.shape and b.shape):
        return ["", ""]
    ca = cb = ""
    if ta is _ndarray and not a.shape:
        ca = "item" if a.dtype == _F64 and floats else "0d"
        ta = float if ca == "item" else type(a[()])
    if tb is _ndarray and not b.shape:
        cb = "item" if b.dtype == _F64 and floats else "0d"
        tb = float if cb == "item" else type(b[()])
    if (ta is float or tb is float) and not (floats and ta in (float, int) and tb in (float, int)):
        if ta is float and (not a_const or type(a) is _ndarray):
            ca = "0d" if ca == "item" else "f64"
        if tb is float and (not b_const or type(b) is _ndarray):
            cb = "0d" if cb == "item" else "f64"
    return [ca, cb]


def _apply_conv(expr: str, code: str) -> str:
    if code == "item":
        return f"{expr}.item()"
    if code == "0d":
        return f"{expr}[()]"
    if code == "f64":
        return f"_f64({expr})"
    return expr


def _as_array(x: Any) -> Any:
    return as_array(x)


_refs = getattr(sys, "getrefcount", lambda x: 1 << 30)  # elsewhere than CPython: always copy


def _acc(old: Any, g: Any) -> Any:
    """old + g as engine._run adds into a leaf's .grad (out of place, in old's float type)."""
    total = old + g
    if type(old) is _ndarray and total.dtype is not old.dtype:
        total = total.astype(old.dtype)
    return total


def _store_floats(recv: tuple[Any, ...], positions: list[int], grads: list[float]) -> None:
    """Python-float gradients (a batched scalar graph's leaves) added into recv[p].grad."""
    for p, g in zip(positions, grads):
        node = recv[p]
        old = node._grad
        node._grad = g if old is None else _acc(old, g)


class _Emitter:
    """Lines of Python and the namespace they run in (constants, ops, index arrays)."""

    def __init__(self, ns: dict[str, Any]) -> None:
        self.ns = ns
        self.lines: list[str] = []

    def name(self, obj: Any, hint: str) -> str:
        n = f"{hint}{len(self.ns)}"
        self.ns[n] = obj
        return n

    def __call__(self, line: str) -> None:
        self.lines.append("    " + line)


def _index_expr(em: _Emitter, buf: str, idx: list[int] | np.ndarray) -> str:
    """buf[a:b] when idx is a run of consecutive slots, else buf.take(<index array>)."""
    arr = np.asarray(idx, dtype=np.intp)
    if arr.ndim == 1 and arr.size and arr[-1] - arr[0] == arr.size - 1 and (arr.size == 1 or np.all(np.diff(arr) == 1)):
        return f"{buf}[{int(arr[0])}:{int(arr[-1]) + 1}]"
    return f"{buf}.take({em.name(arr, 'I')})"


def _sum_expr(em: _Emitter, slot_lists: list[list[int]]) -> str:
    """The sum, for each entry, of E over its slots: a vector when there are several entries (each has at least one slot)."""
    counts = {len(s) for s in slot_lists}
    if len(counts) == 1:
        k = counts.pop()
        if k == 1:
            return _index_expr(em, "E", [s[0] for s in slot_lists])
        mat = np.array(slot_lists, dtype=np.intp).T.copy()  # (k, m): row t holds each entry's t-th slot
        return f"_reduce(E.take({em.name(mat, 'P')}), axis=0)"
    return ""  # several counts: the caller builds it by classes


def _emit_sum(em: _Emitter, target: str, slot_lists: list[list[int]]) -> None:
    """target = the sum of E over each entry's slots (a vector of len(slot_lists))."""
    expr = _sum_expr(em, slot_lists)
    if expr:
        em(f"{target} = {expr}")
        return
    em(f"{target} = _empty({len(slot_lists)})")
    by_count: dict[int, list[int]] = defaultdict(list)
    for pos, s in enumerate(slot_lists):
        by_count[len(s)].append(pos)
    for positions in by_count.values():
        sub = [slot_lists[p] for p in positions]
        em(f"{target}[{em.name(np.array(positions, dtype=np.intp), 'Q')}] = {_sum_expr(em, sub)}")


class _Unit:
    """What the schedule runs: one item (tensor op, recipe, placeholder) or one batched group."""

    __slots__ = ("kind", "items", "level", "op", "key", "terms", "rgs", "vout", "cols", "order")

    def __init__(self, kind: str, items: list[int], level: int) -> None:
        self.kind, self.items, self.level = kind, items, level
        self.op: Any = None
        self.key: Any = None
        self.terms: list[list[int]] = []  # batched: per node, its input items (a chain: its terms)
        self.rgs: tuple[bool, ...] = ()
        self.vout = 0  # batched: the first V slot of its outputs
        self.cols: list[str] = []  # batched: the saved input vectors' names in S
        self.order = 0

    @property
    def batched(self) -> bool:
        """A group of scalar nodes run as one numpy operation on V ("batch", or "sum": chains of +)."""
        return self.kind in ("batch", "sum")


class _Grads:
    """Where each item's gradient is gathered during one backward pass. A batched scalar (in `home`) has
    a slot in the buffer E for each edge into a consumer, and its gradient is the sum of its slots;
    any other item's gradient is a Python local g{i}, summed as its contributions are emitted."""

    def __init__(self, home: set[int]) -> None:
        self.home = home
        self.n = 0  # E's size
        self.slots: dict[int, list[int]] = defaultdict(list)  # per item: its E slots
        # the first slot written by ("u", unit order, input column) of a batched unit or ("n", node, input position)
        self.regions: dict[tuple[str, int, int], int] = {}
        self.reached: dict[int, list[int]] = {}  # per batched unit (by order): the positions of its nodes that get a gradient
        self.py: dict[int, int] = defaultdict(int)  # per item: the contributions summed in g{i} so far (-1: it is the seed)
        self.made: dict[int, bool] = {}  # per item: its first contribution was a new array (an inlined rule's result)

    def take(self, count: int) -> int:
        """count new slots of E: the first one's index."""
        first = self.n
        self.n += count
        return first

    def parts(self, em: _Emitter, i: int) -> list[str]:
        """The terms whose sum is item i's gradient: its Python sum (or the seed), the sum of its E slots."""
        parts = []
        if self.py.get(i) == -1:
            parts.append("seed")
        elif self.py.get(i):
            parts.append(f"g{i}")
        slots = self.slots.get(i)
        if slots:
            parts.append(f"E[{slots[0]}]" if len(slots) == 1 else f"_reduce(E.take({em.name(np.array(slots, dtype=np.intp), 'I')}))")
        return parts

    def deliver(self, em: _Emitter, j: int, gi: str, edge: tuple[str, int, int], made: bool) -> None:
        """Add gradient expression gi to item j's gradient: into the E slot of this edge, or into g{j}."""
        if j in self.home:
            em(f"E[{self.regions[edge]}] = {gi}")
        elif self.py.get(j):
            em(f"g{j} = g{j} + {gi}")
            self.py[j] += 1
        else:
            em(f"g{j} = {gi}")
            self.py[j] = 1
            self.made[j] = made


class Program:
    """A compiled tape: forward(A) and, per output, backward(S, seed)."""

    def __init__(self, graph: Graph) -> None:
        self.graph: Graph | None = graph  # (dropped once the check trace has compared against it)
        items = graph.items
        self.items = items
        self.outputs = graph.outputs
        for it in items:
            if it.kind == "node":
                it.rg = any(items[i].rg for i in it.ins)
        self._analyse()
        self._op_name: dict[int, str] = {}
        self.ns: dict[str, Any] = {
            "_f64": np.float64, "_empty": np.empty, "_reduce": np.add.reduce, "_cumsum": np.cumsum, "_fromiter": np.fromiter,
            "_maximum": np.maximum, "_ndarray": _ndarray, "_Slow": Slow, "_refs": _refs, "_acc": _acc, "_store_floats": _store_floats, "_Retrace": Retrace, "_unbroadcast": unbroadcast, "_as_array": _as_array,
        }  # fmt: skip
        self.out_def = graph.treedef
        self.forward = self._gen_forward()
        self._backwards: dict[int, Any] = {}
        self.receivers: dict[int, list[tuple[str, Any]]] = {}  # per output: ("leaf", Value) or ("argv", k)
        self.fresh: dict[int, tuple[bool, ...]] = {}  # per output, per receiver: its gradient is a new array nothing else holds
        self.backward_sources: dict[int, str] = {}
        self._stores: dict[int, Any] = {}  # per output: backward_store(S, seed, recv), the pass that also stores
        for j, i in enumerate(self.outputs):
            if items[i].kind == "node" and items[i].rg:
                self._backwards[j] = self._gen_backward(j)
        for it in items:  # the traced numbers are not needed any more (only constants and leaves are kept)
            if it.kind not in ("const", "leaf"):
                it.data = None

    # ---- analysis: domains, chains, levels, groups ----
    def _analyse(self) -> None:
        """Decide once how the tape runs: which scalar nodes are batched, the chains of +, each item's
        level, the schedule of units, and the slot in V of each scalar a batched group reads or makes."""
        self._count_uses()
        batched = self._batchable()
        absorbed = self._find_sum_chains(batched)
        self._levels(absorbed)
        self._schedule(batched, absorbed)
        self._layout_v(batched, absorbed)

    def _count_uses(self) -> None:
        """Per item, the nodes that take it as an op input (self.consumers: (node, input position)) and
        how many times anything else reads it (self.other_uses: op parameters, recipes, placeholders)."""
        items = self.items
        self.consumers: list[list[tuple[int, int]]] = [[] for _ in items]
        self.other_uses = [0] * len(items)
        for i, it in enumerate(items):
            if it.kind == "node":
                for pos, j in enumerate(it.ins):
                    self.consumers[j].append((i, pos))
            for j in _other_reads(it):
                self.other_uses[j] += 1

    def _batchable(self) -> list[bool]:
        """Per item: an elementwise op on float64 scalars, to run batched (when the graph has enough of them)."""
        items = self.items
        batched = [False] * len(items)
        for i, it in enumerate(items):
            if it.kind == "node" and not it.dyn and type(it.op) in _ELEMENTWISE and _s64(it.data) and all(_s64(items[j].data) for j in it.ins):
                batched[i] = True
        if sum(batched) < _MIN_BATCHED:  # a tensor graph's few scalar ops (a loss times 0.5): one line each is cheaper
            batched = [False] * len(items)
        return batched

    def _find_sum_chains(self, batched: list[bool]) -> set[int]:
        """self.terms: each batched + with the terms it adds, where a chain of + whose partial sums are
        used only as the left operand of the next + (Python's sum over Values) is one entry, its last +.
        Returns the partial sums so absorbed into a chain."""
        outs = set(self.outputs)
        terms: dict[int, list[int]] = {}
        absorbed: set[int] = set()
        for i, it in enumerate(self.items):
            if batched[i] and type(it.op) is _ops.Add:
                left, right = it.ins
                if left in terms and len(self.consumers[left]) == 1 and not self.other_uses[left] and left not in outs:
                    terms[i] = terms[left] + [right]
                    absorbed.add(left)
                else:
                    terms[i] = [left, right]
        self.terms = {i: t for i, t in terms.items() if i not in absorbed}
        return absorbed

    def _levels(self, absorbed: set[int]) -> None:
        """Per item, what it reads (self.deps) and its level (self.level): sources 0, anything else one more than what it reads."""
        items = self.items
        level = [0] * len(items)
        deps: list[list[int]] = [[] for _ in items]
        for i, it in enumerate(items):
            if i in absorbed:
                continue
            d = (list(self.terms.get(i, it.ins)) if it.kind == "node" else []) + _other_reads(it)
            deps[i] = d
            if it.kind not in _SOURCES:
                level[i] = 1 + max((level[j] for j in d), default=0)
        self.level, self.deps = level, deps

    def _schedule(self, batched: list[bool], absorbed: set[int]) -> None:
        """self.units, by level (within a level in tape order): one per item that is not batched, one per batched group."""
        items, level = self.items, self.level
        groups: dict[Any, _Unit] = {}
        units: list[_Unit] = []
        for i, it in enumerate(items):
            if i in absorbed or it.kind in _SOURCES:
                continue
            if not batched[i]:
                units.append(_Unit(it.kind, [i], level[i]))
                continue
            key, terms = self._group_of(i)
            u = groups.get(key)
            if u is None:
                u = groups[key] = _Unit("sum" if key[1] == "sum" else "batch", [], level[i])
                u.op, u.key = it.op, key
                u.rgs = key[3] if u.kind == "batch" else ()
                units.append(u)
            u.items.append(i)
            u.terms.append(list(terms))
        units.sort(key=lambda u: u.level)  # stable: within a level, in tape order
        for k, u in enumerate(units):
            u.order = k
        self.units = units

    def _group_of(self, i: int) -> tuple[Any, list[int]]:
        """The key of the batched group scalar node i joins, and its inputs there: a chain of more than
        two terms joins the chains of as many terms at its level (one sum along the first axis); any
        other node, the nodes of its level with its op, parameters and inputs that need gradients."""
        it = self.items[i]
        t = self.terms.get(i)
        if t is not None and len(t) > 2:
            return (self.level[i], "sum", len(t)), t
        return (self.level[i], type(it.op), _params_key(it.op), tuple(self.items[j].rg for j in it.ins)), it.ins

    def _layout_v(self, batched: list[bool], absorbed: set[int]) -> None:
        """The slots of the scalar buffer V (self.vslot): the scalars batched groups read (constants, then
        leaves, then the others computed elsewhere), then each group's results."""
        items = self.items
        vres = {j for u in self.units if u.batched for t in u.terms for j in t}
        consts = sorted(i for i in vres if items[i].kind == "const")
        leaves = sorted(i for i in vres if items[i].kind == "leaf")
        others = sorted(i for i in vres if items[i].kind not in ("const", "leaf") and not (batched[i] and i not in absorbed))
        vslot: dict[int, int] = {}
        for i in consts + leaves + others:
            vslot[i] = len(vslot)
        self.n_const, self.n_leaf = len(consts), len(leaves)
        self.v_consts, self.v_leaves, self.v_others = consts, leaves, others
        nv = len(vslot)
        for u in self.units:
            if u.batched:
                u.vout = nv
                for i in u.items:
                    vslot[i] = nv
                    nv += 1
        self.vslot, self.nv = vslot, nv

    # ---- forward ----
    def _gen_forward(self) -> Any:
        """forward(A): the sources loaded, every unit run in schedule order, and the values the backward
        passes need (S) returned."""
        em = _Emitter(self.ns)
        self.names: dict[int, str] = {}  # per item: the expression that reads its value in the generated code
        readers = self._t_readers()
        saved: list[str] = []
        if self.nv:
            em(f"V = _empty({self.nv})")
            saved.append("V")
        self._load_sources(em, readers)
        self._load_v(em)
        self._run_units(em, readers, saved)
        self._save(em, saved)
        body = "\n".join(em.lines)
        src = f"def forward(A):\n{body}\n    return {self._saved_tuple()}\n"
        self.forward_source = src
        return _compile(src, self.ns, "forward", "forward")

    def _load_sources(self, em: _Emitter, readers: set[int]) -> None:
        """Names for the arguments, the constants and the leaves read by name (the others are read from V)."""
        names = self.names
        for i, it in enumerate(self.items):
            if it.kind == "arg":
                names[i] = f"v{i}"
                em(f"v{i} = A[{it.k}]")
            elif it.kind == "argv":
                names[i] = f"v{i}"
                em(f"v{i} = A[{it.k}]._data")
            elif it.kind == "const":
                names[i] = em.name(it.data, "C")
            elif it.kind == "leaf" and (i in readers or i in self.outputs or i not in self.vslot):
                names[i] = f"v{i}"
                self._load_leaf(em, i, it)

    def _load_leaf(self, em: _Emitter, i: int, it: Item) -> None:
        """v{i} = the leaf's data at this call, and Retrace if it is not what the trace saw."""
        L = em.name(it.value, "L")
        d = it.data
        em(f"v{i} = {L}._data")
        if type(d) is _ndarray and d.shape:  # (a dtype decides only how a 0-d array is handed to ops)
            em(f"if v{i}.shape != {d.shape!r} or {L}.requires_grad is not {it.rg}: raise _Retrace")
        elif type(d) is _ndarray:
            D = em.name(d.dtype, "D")
            em(f"if type(v{i}) is not _ndarray or v{i}.shape != () or v{i}.dtype != {D} or {L}.requires_grad is not {it.rg}: raise _Retrace")
        else:
            em(f"if type(v{i}) is not {em.name(type(d), 'T')} or {L}.requires_grad is not {it.rg}: raise _Retrace")

    def _load_v(self, em: _Emitter) -> None:
        """The scalars batched groups read, into V: the constants in one copy, the leaves in one gather
        of their data (Retrace if one is no longer a scalar or changed requires_grad), the arguments."""
        items, names = self.items, self.names
        if self.n_const:
            cv = np.array([float(items[i].data) for i in self.v_consts])
            em(f"V[0:{self.n_const}] = {em.name(cv, 'CV')}")
        if self.n_leaf:
            leaves = [items[i].value for i in self.v_leaves]
            LS = em.name(leaves, "LS")
            RG = em.name([bool(items[i].rg) for i in self.v_leaves], "RG")
            a, b = self.n_const, self.n_const + self.n_leaf
            em("try:")
            em(f"    V[{a}:{b}] = _fromiter([x._data for x in {LS}], float, {self.n_leaf})")
            em("except (TypeError, ValueError):")
            em("    raise _Retrace from None  # a leaf is no longer a scalar")
            em(f"if [x.requires_grad for x in {LS}] != {RG}: raise _Retrace")
            for i in self.v_leaves:
                if i not in names:
                    names[i] = f"V[{self.vslot[i]}]"
        for i in self.v_others:  # sources batched groups read: copied into V
            if items[i].kind in ("arg", "argv"):
                em(f"V[{self.vslot[i]}] = {names[i]}")

    def _run_units(self, em: _Emitter, readers: set[int], saved: list[str]) -> None:
        """Each unit in schedule order: a batched group on V (its results named where something reads
        them by name), or one item (its result written to V where a group reads it)."""
        items, names = self.items, self.names
        skip = self._gathered_loads(em, readers)
        for u in self.units:
            if u.items[0] in skip:
                continue
            if u.batched:
                self._fwd_group(em, u, saved)
                for i in u.items:
                    if i in readers or i in self.outputs:
                        names[i] = f"v{i}"
                        em(f"v{i} = V.item({self.vslot[i]})" if type(items[i].data) is float else f"v{i} = V[{self.vslot[i]}]")
            else:
                i = u.items[0]
                self._fwd_item(em, i, saved)
                if i in self.vslot:
                    em(f"V[{self.vslot[i]}] = {names[i]}")

    def _save(self, em: _Emitter, saved: list[str]) -> None:
        """The outputs computed here join the saved values; self.saved: each saved local's position in S,
        self.out_pos: each output's (None for a leaf or a constant, read where it lives)."""
        names, ns = self.names, self.ns
        for k, i in enumerate(self.outputs):
            if self.items[i].kind in ("node", "ph", "alias", "recipe"):
                if not _is_local(names[i], ns):
                    em(f"out{k} = {names[i]}")
                    names[i] = f"out{k}"
                saved.append(names[i])
        kept = [x for x in dict.fromkeys(saved) if _is_local(x, ns)]  # once each, in order; not the namespace's names
        self.saved = {x: k for k, x in enumerate(kept)}
        self.out_pos: list[int | None] = [self.saved.get(names[i]) for i in self.outputs]

    def _saved_tuple(self) -> str:
        """The saved locals as a tuple display: forward returns it, backward unpacks S into it."""
        return "(" + ", ".join(self.saved) + ("," if len(self.saved) == 1 else "") + ")"

    def _gathered_loads(self, em: _Emitter, readers: set[int]) -> set[int]:
        """Scalars a batched graph reads from an array argument, x[i, j] (a Value per pixel): loaded
        into V by one gather per argument instead of a line each. Returns the items so handled."""
        items, vslot = self.items, self.vslot
        by_arg: dict[int, list[tuple[int, tuple[int, ...]]]] = defaultdict(list)
        handled: set[int] = set()
        for i in self.v_others:
            it = items[i]
            if it.kind != "ph" or i in readers or i in self.outputs:
                continue
            r = it.ins[0]
            rec = items[r]
            if rec.kind != "recipe" or rec.fn is not np.ndarray.__getitem__ or rec.kwargs or self.other_uses[r] != 1 or len(rec.args) != 2:
                continue
            src, index = rec.args
            index = index if type(index) is tuple else (index,)
            if type(src).__name__ != "_Slot" or items[src.i].kind != "arg" or not all(type(k) is int for k in index):
                continue
            arr = items[src.i].data
            if not (type(arr) is _ndarray and len(index) == arr.ndim and arr.dtype.kind in "fiub" and arr.dtype.itemsize <= 8):
                continue
            by_arg[src.i].append((i, index))
            handled.update((i, r))
        for a, loads in by_arg.items():
            slots = np.array([vslot[i] for i, _ in loads], dtype=np.intp)
            run = slots[-1] - slots[0] == slots.size - 1 and bool(np.all(np.diff(slots) == 1))
            dst = f"{int(slots[0])}:{int(slots[-1]) + 1}" if run else em.name(slots, "I")
            idx = tuple(np.array([index[d] for _, index in loads], dtype=np.intp) for d in range(len(loads[0][1])))
            em(f"V[{dst}] = {self.names[a]}[{em.name(idx, 'IX')}]  # x[i, j] for each scalar read from argument {items[a].k}")
        return handled

    def _t_readers(self) -> set[int]:
        """Items whose value some non-batched unit (or an op parameter, or a recipe) reads by name."""
        r: set[int] = set()
        for u in self.units:
            if u.batched:
                continue
            r.update(self.deps[u.items[0]])
        return r

    def _fwd_item(self, em: _Emitter, i: int, saved: list[str]) -> None:
        items, names = self.items, self.names
        it = items[i]
        if it.kind == "recipe":
            names[i] = f"v{i}"
            F = em.name(it.fn, "F")
            em(f"v{i} = {F}(*{_tmpl_expr(em, it.args, names)}, **{_tmpl_expr(em, it.kwargs, names)})")
            return
        if it.kind == "alias":
            names[i] = names[it.ins[0]]
            return
        if it.kind == "ph":
            src = items[it.ins[0]]
            d = src.data
            if isinstance(d, _ndarray) and type(d) is _ndarray and d.dtype.type in (np.float32, np.float64) and src.kind == "arg":
                names[i] = names[it.ins[0]]  # as_array of a float array is the array
            else:
                names[i] = f"v{i}"
                em(f"v{i} = _as_array({names[it.ins[0]]})")
            return
        # a tensor op
        op = it.op
        ins = it.ins
        if it.dyn or private_state(type(op)):
            o = f"o{i}"
            T = em.name(type(op), "T")
            params = {name: getattr(op, name) for name in _public_slots(type(op))}
            dyn = dict(it.dyn)
            args = ", ".join(f"{k}={_tmpl_expr(em, dyn[k], names) if k in dyn else em.name(v, 'K')}" for k, v in params.items())
            em(f"{o} = {T}({args})")
            check = _CHECKS.get(type(op))
            if check is not None:
                em(f"{em.name(check, 'CHK')}({o}, {_shape_of(items[ins[0]].data)!r})")
            saved.append(o)
            fwd = f"{o}.forward"
        else:
            o = em.name(op, "O")
            fwd = em.name(op.forward, "F")
        convs = self._fwd_convs(it)
        xs = [_apply_conv(names[j], c) for j, c in zip(ins, convs)]
        names[i] = f"v{i}"
        inline = inline_forward(op, [items[j].data for j in ins]) if fwd.startswith("F") else None
        if inline is not None:
            em(f"v{i} = {inline.format(*xs)}")
        else:
            em(f"v{i} = {fwd}({', '.join(xs)})")
        if type(it.data) is float:
            em(f"if v{i} - v{i}: raise _Slow")  # inf or nan from Python floats: the engine redoes it on numpy scalars
        if it.rg:
            saved.append(names[i])
            saved.extend(names[j] for j in ins)
        self._op_name[i] = o

    def _fwd_convs(self, it: Item) -> list[str]:
        items = self.items
        fl = it.op._floats
        datas = [items[j].data for j in it.ins]
        if len(datas) == 1:
            return [_conv1(datas[0], fl)]
        if len(datas) == 2:
            consts = [items[j].kind == "const" and type(items[j].value) is Constant or (items[j].kind == "ph" and items[j].how == "lift") for j in it.ins]
            return _conv2(datas[0], datas[1], consts[0], consts[1], fl)
        return [_conv1(d, fl) for d in datas]

    def _fwd_group(self, em: _Emitter, u: _Unit, saved: list[str]) -> None:
        items, vslot = self.items, self.vslot
        m = len(u.items)
        s, e = u.vout, u.vout + m
        g = u.order
        if u.kind == "sum":
            mat = np.array(u.terms, dtype=np.intp).T  # (k, m)
            M = em.name(np.array([[vslot[t] for t in row] for row in mat], dtype=np.intp), "I")
            if m >= 2:
                em(f"V[{s}:{e}] = _reduce(V.take({M}), axis=0)")
            else:  # one chain: cumsum adds in order (a reduction along one axis would add pairwise)
                em(f"V[{s}:{e}] = _cumsum(V.take({M}), axis=0)[-1]")
            return
        cols = []
        for pos in range(len(u.terms[0])):
            col = [t[pos] for t in u.terms]
            x = f"x{g}_{pos}"
            if all(items[j].kind == "const" for j in col):
                em(f"{x} = {em.name(np.array([float(items[j].data) for j in col]), 'K')}")
            else:
                em(f"{x} = {_index_expr(em, 'V', [vslot[j] for j in col])}")
            cols.append(x)
        F = em.name(u.op.forward, "F")
        em(f"V[{s}:{e}] = {F}({', '.join(cols)})")
        u.cols = cols
        if any(items[i].rg for i in u.items):
            saved.extend(cols)

    # ---- backward ----
    def backward(self, j: int) -> Any:
        """The backward function for output j: (S, seed) -> gradients of self.receivers[j]."""
        return self._backwards[j]

    def backward_store(self, j: int) -> Any:
        """The backward function for output j that adds the gradients into recv's .grad: (S, seed, recv) -> None."""
        return self._stores[j]

    def _gen_backward(self, j: int) -> Any:
        """backward(S, seed) for output j, and backward_store(S, seed, recv), the same pass storing the
        gradients: the units the gradient reaches, in reverse schedule order, each adding its inputs' shares."""
        items = self.items
        root = self.outputs[j]
        em = _Emitter(self.ns)
        reach = self._reach(root)
        receivers = [i for i in sorted(reach) if items[i].kind in ("leaf", "argv") and items[i].rg]
        self.receivers[j] = [("argv", items[i].k) if items[i].kind == "argv" else ("leaf", items[i].value) for i in receivers]
        units = [u for u in reversed(self.units) if u.kind in ("batch", "sum", "node") and any(i in reach and items[i].rg for i in u.items)]
        grads = self._layout_edges(root, units, reach)
        if grads.n:
            em(f"E = _empty({grads.n})")
        if root in grads.home:
            em(f"E[{grads.slots[root][0]}] = seed")
        else:
            grads.py[root] = -1  # (the seed, by name)
        em.lines.insert(0, f"    {self._saved_tuple()} = S")  # the saved values as locals
        for u in units:
            if u.batched:
                self._bwd_group(em, u, grads)
            else:
                self._bwd_node(em, u.items[0], grads)
        rets, fresh, floats = self._receiver_grads(em, receivers, grads)
        self.fresh[j] = tuple(fresh)
        body = "\n".join(em.lines)
        src = f"def backward(S, seed):\n{body}\n    return [{', '.join(rets)}]\n"
        self.backward_sources[j] = src
        self._stores[j] = self._gen_store(j, body, receivers, rets, fresh, floats)
        return _compile(src, self.ns, "backward", f"backward{j}")

    def _reach(self, root: int) -> set[int]:
        """The items the gradient of root reaches: root, and the inputs needing gradients (of a chain of +:
        its terms) of every node reached."""
        items = self.items
        reach: set[int] = set()
        stack = [root]
        while stack:
            i = stack.pop()
            if i in reach:
                continue
            reach.add(i)
            it = items[i]
            if it.kind == "node" and it.rg:
                stack.extend(k for k in self.terms.get(i, it.ins) if items[k].rg)
        return reach

    def _layout_edges(self, root: int, units: list[_Unit], reach: set[int]) -> _Grads:
        """E's slots for one backward pass: the seed's (when the output is a batched scalar), then, unit by
        unit, the slots its rules write into."""
        grads = _Grads({i for u in self.units if u.batched for i in u.items})
        if root in grads.home:
            grads.slots[root].append(grads.take(1))
        for u in units:
            if u.batched:
                self._group_edges(u, reach, grads)
            else:
                self._node_edges(u.items[0], grads)
        return grads

    def _group_edges(self, u: _Unit, reach: set[int], grads: _Grads) -> None:
        """A batched group's slots: for each input column that needs a gradient (of chains: for each term),
        one per node of the group the gradient reaches."""
        pos = [k for k, i in enumerate(u.items) if i in reach]
        grads.reached[u.order] = pos
        mb = len(pos)
        if u.kind == "sum":
            k = len(u.terms[0])
            a = grads.regions[("u", u.order, 0)] = grads.take(k * mb)
            for t_idx in range(k):
                for c, p in enumerate(pos):
                    grads.slots[u.terms[p][t_idx]].append(a + t_idx * mb + c)
            return
        for col in range(len(u.terms[0])):
            if not u.rgs[col]:
                continue
            a = grads.regions[("u", u.order, col)] = grads.take(mb)
            for c, p in enumerate(pos):
                grads.slots[u.terms[p][col]].append(a + c)

    def _node_edges(self, i: int, grads: _Grads) -> None:
        """A tensor op's slots: one for each of its inputs that is a batched scalar needing a gradient."""
        items = self.items
        for pos, k in enumerate(items[i].ins):
            if items[k].rg and k in grads.home:
                a = grads.regions[("n", i, pos)] = grads.take(1)
                grads.slots[k].append(a)

    def _bwd_group(self, em: _Emitter, u: _Unit, grads: _Grads) -> None:
        """A batched group's rules, each on the vectors of its nodes the gradient reaches, written into E."""
        pos = grads.reached[u.order]
        m, mb = len(u.items), len(pos)
        full = mb == m
        g = u.order
        _emit_sum(em, "g", [grads.slots[u.items[p]] for p in pos])
        if u.kind == "sum":
            k = len(u.terms[0])
            a = grads.regions[("u", g, 0)]
            em(f"E[{a}:{a + k * mb}].reshape({k}, {mb})[...] = g")
            return
        sub = "" if full else em.name(np.array(pos, dtype=np.intp), "J")
        s = u.vout
        out = f"V[{s}:{s + m}]" if full else f"V.take({em.name(np.array([s + p for p in pos], dtype=np.intp), 'I')})"
        xs = [c if full else f"{c}.take({sub})" for c in u.cols]
        rules = u.op._vjps
        O = em.name(u.op, "O")
        need_out = any(u.rgs[c] and rules[c] is not passes_gradient for c in range(len(xs)))
        if need_out:
            em(f"out = {out}")
        for c in range(len(xs)):
            if not u.rgs[c]:
                continue
            a = grads.regions[("u", g, c)]
            if rules[c] is passes_gradient:
                em(f"E[{a}:{a + mb}] = g")
            else:
                R = em.name(rules[c], "R")
                em(f"E[{a}:{a + mb}] = {R}({O}, g, out, {', '.join(xs)})")

    def _bwd_node(self, em: _Emitter, i: int, grads: _Grads) -> None:
        """One op's gradient g, then its rule for each input needing a gradient, delivered to that input."""
        items, names = self.items, self.names
        it = items[i]
        op = it.op
        fl = op._floats
        parts = grads.parts(em, i)
        if not parts:
            return  # no gradient reaches it
        em(f"g = {' + '.join(parts)}")
        if not fl and not np.shape(it.data):
            em("if type(g) is float: g = _f64(g)")
        xs = [_apply_conv(names[j], _conv1(items[j].data, fl)) for j in it.ins]
        for pos, j in enumerate(it.ins):
            if items[j].rg:
                self._bwd_input(em, i, pos, xs, grads)

    def _bwd_input(self, em: _Emitter, i: int, pos: int, xs: list[str], grads: _Grads) -> None:
        """Node i's gradient for input pos, written out when the rule is an expression (broadcasting
        undone by the reductions these shapes need), else the rule called (and its result unbroadcast)."""
        items, names = self.items, self.names
        it = items[i]
        op, j = it.op, it.ins[pos]
        rule = op._vjps[pos]
        shape, out_shape = _shape_of(items[j].data), _shape_of(it.data)
        inline = ("g", "out") if rule is passes_gradient else inline_rule(op, pos, [items[k].data for k in it.ins])
        if inline is not None:
            # g has the output's shape, and so has an elementwise rule's result: broadcasting is undone,
            # by the reductions these shapes need, exactly when this input's shape differs (known now)
            gi = inline[0].format(out=names[i], **{f"x{k}": x for k, x in enumerate(xs)})
            if inline[1] == "out" and shape != out_shape:
                gi = _unbroadcast_expr(gi, out_shape, shape)
            grads.deliver(em, j, gi, ("n", i, pos), made=gi != "g")  # (made: a new array, a product or a sum, not g itself)
            return
        R = em.name(rule, "R")
        em(f"gi = {R}({self._op_name[i]}, g, {names[i]}, {', '.join(xs)})")
        if op._floats and not out_shape:
            em("if type(gi) is float and gi - gi: raise _Slow")
        em(f"if type(gi) is not float and gi.shape != {shape!r}: gi = _unbroadcast(gi, {shape!r})")
        grads.deliver(em, j, "gi", ("n", i, pos), made=rule in _FRESH_RULES)

    def _receiver_grads(self, em: _Emitter, receivers: list[int], grads: _Grads) -> tuple[list[str], list[bool], dict[int, str]]:
        """Each receiver's gradient as an expression, and whether it is a new array nothing else holds;
        many scalar leaves (a Value per weight) get theirs as Python floats from one vector (the dict: where)."""
        floats = self._scalar_leaf_grads(em, receivers, grads)
        rets: list[str] = []
        fresh: list[bool] = []
        for i in receivers:
            # a new array that nothing else refers to: a sum of several, or an inlined rule's product
            fresh.append(i in floats or bool(grads.slots.get(i)) or grads.py.get(i, 0) > 1 or bool(grads.made.get(i)))
            if i in floats:
                rets.append(floats[i])
                continue
            parts = grads.parts(em, i) or ["0.0"]
            if len(parts) == 1 and parts[0].startswith("g"):
                rets.append(parts[0])
            else:
                em(f"r{i} = {' + '.join(parts)}")
                rets.append(f"r{i}")
        return rets, fresh, floats

    def _scalar_leaf_grads(self, em: _Emitter, receivers: list[int], grads: _Grads) -> dict[int, str]:
        """More than 8 receivers that are V's scalars summed only in E: their gradients as one vector, then
        a list of Python floats (GLL). Returns each one's element; none when there are fewer."""
        vec = [i for i in receivers if i in self.vslot and grads.slots.get(i) and not grads.py.get(i)]
        if len(vec) <= 8:
            return {}
        _emit_sum(em, "GL", [grads.slots[i] for i in vec])
        em("GLL = GL.tolist()")
        return {i: f"GLL[{k}]" for k, i in enumerate(vec)}

    def _gen_store(self, j: int, body: str, receivers: list[int], rets: list[str], fresh: list[bool], floats: dict[int, str]) -> Any:
        """backward_store(S, seed, recv): backward's body, then each receiver's gradient added into its
        .grad as engine._run stores a leaf's (recv: the receivers' Values)."""
        store = _Emitter(self.ns)
        store("g = gi = None  # (only each gradient's own name refers to it now: the reference counts below)")
        vec_pos = [k for k, i in enumerate(receivers) if i in floats]
        if vec_pos:
            store(f"_store_floats(recv, {store.name(vec_pos, 'POS')}, GLL)")
        for k, i in enumerate(receivers):
            if i not in floats:
                _emit_store(store, k, rets[k], fresh[k])
        src = f"def backward_store(S, seed, recv):\n{body}\n" + "\n".join(store.lines) + "\n"
        return _compile(src, self.ns, "backward_store", f"backward_store{j}")

    # ---- the careful path: the tape through the engine ----
    def eager(self, flat: list[Any]) -> list[Any]:
        """The tape run through autograd.apply on a call's arguments: exactly eager's values, errors and graph."""
        items = self.items
        vals: list[Any] = [None] * len(items)
        for i, it in enumerate(items):
            k = it.kind
            if k == "arg":
                vals[i] = np.asarray(flat[it.k])
            elif k == "argv":
                vals[i] = flat[it.k]
            elif k in ("leaf", "const"):
                vals[i] = it.value if it.value is not None else _lift(it.data)
            elif k == "ph":
                raw = vals[it.ins[0]]
                raw = raw._data if isinstance(raw, Value) else raw
                vals[i] = _lift(as_array(raw)) if it.how == "lift" else Value(raw, requires_grad=it.rg)
            elif k == "alias":
                vals[i] = vals[it.ins[0]].detach()
            elif k == "recipe":
                raw = [v._data if isinstance(v, Value) else v for v in vals]
                vals[i] = it.fn(*fill(it.args, raw), **fill(it.kwargs, raw))
            else:
                op = it.op
                if it.dyn or private_state(type(op)):
                    raw = [v._data if isinstance(v, Value) else v for v in vals]
                    params = {name: getattr(op, name) for name in _public_slots(type(op))}
                    params.update({name: fill(t, raw) for name, t in it.dyn})
                    op = _rebuild(op, params)
                    check = _CHECKS.get(type(op))
                    if check is not None:
                        check(op, _shape_of(vals[it.ins[0]]._data))
                vals[i] = apply(op, *[vals[j] for j in it.ins])
        return [vals[i] for i in self.outputs]


def _emit_store(em: _Emitter, k: int, r: str, fresh: bool) -> None:
    """recv[k]'s gradient r added into its .grad as engine._run adds: out of place, and a first gradient
    kept only when it is an array nothing else holds (known here when fresh, else checked by reference counts)."""
    em(f"node = recv[{k}]")
    em("old = node._grad")
    em("if old is None:")
    if not fresh:
        em(f"    if type({r}) is _ndarray and not (_refs({r}) == 2 and {r}.flags.writeable and ({r}.base is None or _refs({r}.base) == 2)):")
        em(f"        {r} = {r}.copy(order='K')")
    em(f"    node._grad = {r}")
    em("else:")
    em(f"    node._grad = _acc(old, {r})")


def _other_reads(it: Item) -> list[int]:
    """The items `it` reads other than as a node's op inputs: a node's parameters that come from the
    call, a recipe's arrays, a placeholder's or an alias's source."""
    if it.kind == "node":
        return [j for _, tmpl in it.dyn for j in _slots_in(tmpl)]
    if it.kind == "recipe":
        return _slots_in((it.args, it.kwargs))
    return list(it.ins)


def _slots_in(tmpl: Any) -> list[int]:
    from .jit_trace import _Slot

    out: list[int] = []
    stack = [tmpl]
    while stack:
        x = stack.pop()
        if type(x) is _Slot:
            out.append(x.i)
        elif type(x) in (tuple, list):
            stack.extend(x)
        elif type(x) is dict:
            stack.extend(x.values())
    return out


def _tmpl_expr(em: _Emitter, tmpl: Any, names: dict[int, str]) -> str:
    """A Python expression building tmpl, with item references as their local names."""
    from .jit_trace import _Slot

    t = type(tmpl)
    if t is _Slot:
        return names[tmpl.i]
    if t is tuple:
        return "(" + "".join(_tmpl_expr(em, x, names) + ", " for x in tmpl) + ")"
    if t is list:
        return "[" + ", ".join(_tmpl_expr(em, x, names) for x in tmpl) + "]"
    if t is dict:
        return "{" + ", ".join(f"{em.name(k, 'K')}: {_tmpl_expr(em, v, names)}" for k, v in tmpl.items()) + "}"
    if tmpl is None or t in (bool, int) or (t is float and tmpl == tmpl and abs(tmpl) != float("inf")):
        return repr(tmpl)
    return em.name(tmpl, "K")


def _params_key(op: Any) -> Any:
    vals = []
    for name in _public_slots(type(op)):
        v = getattr(op, name, None)
        vals.append(v if isinstance(v, (int, float, str, type(None), tuple)) else id(v))
    return tuple(vals)


def _shape_of(x: Any) -> tuple[int, ...]:
    return x.shape if type(x) is _ndarray else np.shape(x)


def _check_labels(op: Any, logits_shape: tuple[int, ...]) -> None:
    """cross_entropy's labels of a later call: integers in [0, classes), as nn.cross_entropy checks them on the first."""
    y = op.labels
    c = logits_shape[-1]
    u = y.view(y.dtype.str.replace("i", "u")) if y.dtype.kind == "i" else y  # (a negative label reads as a huge unsigned one: one reduction checks both ends)
    if y.size and _max_reduce(u, axis=None) >= c:
        pos = np.argwhere((y < 0) | (y >= c))[0]
        raise ValueError(
            f"cross_entropy: label {int(y[tuple(pos)])} at position {tuple(int(i) for i in pos)} is out of range; "
            f"labels must be in [0, {c - 1}] for {c} classes"
        )


_max_reduce = np.maximum.reduce
_CHECKS = {_ops.SoftmaxCrossEntropy: _check_labels}
# Rules whose result is always a new array (a matrix product): the gradient is stored without a copy check.
_FRESH_RULES = {_ops.MatMul.vjp0, _ops.MatMul.vjp1, _ops.MatMulT.vjp0, _ops.MatMulT.vjp1}


def _is_local(name: str, ns: dict[str, Any]) -> bool:
    return name.isidentifier() and name not in ns


def _compile(src: str, ns: dict[str, Any], fname: str, label: str) -> Any:
    code = compile(src, f"<autograd.jit {label}>", "exec")
    local: dict[str, Any] = {}
    exec(code, ns, local)  # noqa: S102  (generated from the tape, see Program)
    return local[fname]
