"""Pictures of computation graphs: `draw_graph` builds a `graphviz.Digraph`, `render_graph` writes PNG/SVG/PDF.

A picture has a node per Value (its name, shape, data and, after `backward()`, its gradient) and a
small node per operation between its inputs and its output, edges in the direction data flows.
Parameters, inputs/constants, intermediates and outputs have their own colours (see the legend).
Nodes recorded inside an `nn.Module` sit in nested clusters, one per module (`Layer 1`, `Neuron 0`).

The walk is iterative (breadth-first from the output), so graphs of any depth draw; above
`max_nodes` only the Values nearest the output are drawn and the rest is summarised in one node.
Node names (`n0`, `n1`, ... and `op3` for the op that made `n3`) follow a deterministic order,
so the DOT text of a graph is the same on every run and can be diffed.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import sys
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .value import Value

if TYPE_CHECKING:  # graphviz is imported when a picture is drawn, not when autograd is imported
    import graphviz

__all__ = ["draw_graph", "render_graph", "GraphvizNotFoundError", "FORMATS"]

FORMATS = ("png", "svg", "pdf")

FONT = "Helvetica,Arial,sans-serif"
MONO = "DejaVu Sans Mono,Menlo,Consolas,Courier New,monospace"
MUTED = "#64748b"

# kind -> (fill, border, what the legend says)
KINDS: dict[str, tuple[str, str, str]] = {
    "parameter": ("#dbeafe", "#2563eb", "parameter (leaf that requires grad)"),
    "input": ("#f1f5f9", "#94a3b8", "input / constant (no grad)"),
    "value": ("#ffffff", "#475569", "intermediate value"),
    "output": ("#fef3c7", "#d97706", "output"),
}
OP_FILL, OP_BORDER = "#ede9fe", "#7c3aed"
# ColorBrewer YlOrRd: a sequential palette that stays readable in grey and for colour-blind readers.
GRAD_PALETTE = ("#ffffcc", "#ffeda0", "#fed976", "#feb24c", "#fd8d3c", "#fc4e2a", "#f03b20")  # dark text stays readable
GRAD_ZERO = "#f8fafc"  # gradient exactly 0, or none
GRAD_BAD = "#67e8f9"  # a gradient with nan or inf: outside the palette on purpose
SHARED_LEAF_EDGES = 4  # a leaf with more uses than this is drawn again (as a small copy) at each further use
CLUSTER_FILLS = ("#f8fafc", "#eef2ff", "#f0fdf4", "#fff7ed", "#fdf2f8")

INSTALL_HINTS = {
    "linux": "sudo apt-get install graphviz   (Debian/Ubuntu; Fedora: sudo dnf install graphviz, Arch: sudo pacman -S graphviz)",
    "darwin": "brew install graphviz",
    "win32": "choco install graphviz   (or: winget install graphviz), then add its bin folder to PATH",
    "conda": "conda install -c conda-forge graphviz",
}


class GraphvizNotFoundError(RuntimeError):
    """Graphviz's `dot` program is not installed (or not on PATH), so a picture cannot be rendered."""


@dataclass(frozen=True)
class _Options:
    rankdir: str
    show_data: bool
    show_grad: bool
    max_elements: int
    fmt: str
    max_nodes: int | None
    group_modules: bool
    color_by_grad: bool
    legend: bool
    title: str | None


def draw_graph(
    root: Value | Sequence[Value],
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    max_elements: int = 6,
    fmt: str = ".4g",
    max_nodes: int | None = 100,
    group_modules: bool = True,
    color_by_grad: bool = False,
    legend: bool = True,
    title: str | None = None,
    module: Any = None,
) -> graphviz.Digraph:
    """The graph that produced `root` (a Value or a sequence of them) as a `graphviz.Digraph`.

    Needs no `dot` program: `.source` is the DOT text; in Jupyter the Digraph displays inline.

    rankdir        "LR" (data flows left to right) or "TB" (top to bottom).
    show_data      show each Value's data.
    show_grad      show each Value's `.grad` (once `backward()` has filled it).
    max_elements   tensors with at most this many elements are shown in full; larger ones as
                   shape with min / mean / max.
    fmt            number format for `format()`, e.g. ".4g", ".3f", ".2e".
    max_nodes      draw at most this many Values (None: no limit); the ones nearest the output are
                   kept and the rest is summarised in one node and in the title.
    group_modules  put the nodes each `nn.Module` recorded into a labelled cluster per module.
    color_by_grad  fill each Value by its mean |grad| on a log colour scale (shown in the legend).
    legend         add a legend of the node kinds (and of the gradient colour scale).
    title          a caption at the top of the picture.
    module         an `nn.Module` (or a list of them) whose `named_parameters()` name the leaves;
                   by default the outermost modules recorded in the graph are used.
    """
    import graphviz

    roots = _roots(root)
    opt = _check_options(rankdir, show_data, show_grad, max_elements, fmt, max_nodes, group_modules, color_by_grad, legend, title)
    kept, total, hidden = _walk(roots, opt.max_nodes)
    order = _topological(roots, kept)
    names = {id(v): f"n{i}" for i, v in enumerate(order)}
    root_ids = {id(r) for r in roots}

    modules = _module_info(order, module)
    grad_scale = _grad_scale(order) if opt.color_by_grad else None

    g = graphviz.Digraph(
        "autograd",
        graph_attr={
            "rankdir": opt.rankdir,
            "fontname": FONT,
            "nodesep": "0.25",
            "ranksep": "0.35",
            "bgcolor": "white",
            "pad": "0.2",
            "newrank": "true",
        },
        node_attr={"fontname": FONT, "fontsize": "11"},
        edge_attr={"color": "#475569", "arrowsize": "0.7", "penwidth": "1.1"},
    )

    # A leaf used by many drawn ops (a shared weight, a repeated constant) is drawn once in full and
    # then as a small copy next to each further use: long fan-out edges make dot slow and unreadable.
    uses = Counter(id(p) for v in order for p in v.parents if p._op is None and id(p) in names)
    copies: Counter = Counter()

    # Statements per cluster path; () is the top level.
    bodies: dict[tuple[int, ...], list[tuple[str, str, dict[str, str]]]] = {(): []}
    kinds_seen: set[str] = set()
    edges: list[tuple[str, str, dict[str, str]]] = []
    cut_inputs: list[str] = []
    kinds: dict[int, str] = {}
    paths: dict[int, tuple[int, ...]] = {}
    # How many ranks a side branch computed from leaves only takes (weight -> transpose -> weight.T: 3).
    side: dict[int, int] = {}
    at = _Layout(names, uses, copies, modules, opt, kinds, paths, side, edges)
    for v in order:
        name = names[id(v)]
        kind = kinds[id(v)] = _kind(v, id(v) in root_ids, modules)
        kinds_seen.add(kind)
        path = paths[id(v)] = modules.cluster_of(v) if opt.group_modules else ()
        if v._op is None:
            side[id(v)] = 1
        elif all(id(p) in side for p in v.parents):
            side[id(v)] = max(side[id(p)] for p in v.parents) + 2
        body = bodies.setdefault(path, [])
        body.append((name, _value_label(v, kind, modules.param_names.get(id(v)), opt, grad_scale), _value_attrs(kind)))
        if v._op is None:
            continue
        op_name = "op" + name[1:]
        body.append((op_name, _op_label(v), {"shape": "box", "style": "rounded,filled", "fillcolor": OP_FILL, "color": OP_BORDER,
                                            "fontsize": "10", "height": "0.3", "width": "0.3", "margin": "0.06,0.03"}))
        edges.append((op_name, name, {"weight": "4"}))  # heavy edges keep the main path straight
        if _input_edges(v, op_name, path, body, at):
            cut_inputs.append(op_name)


    g.body.extend(_cluster_statements(bodies, modules))
    if cut_inputs:
        g.node("hidden", _hidden_label(hidden, modules.module_names), shape="box", style="dashed,rounded", color=MUTED, fontcolor=MUTED, fontsize="10")
        for op_name in cut_inputs:
            g.edge("hidden", op_name, style="dashed", color=MUTED)
    for tail, head, attrs in edges:
        g.edge(tail, head, **attrs)
    legend_html = _legend(kinds_seen, bool(edges), bool(cut_inputs), grad_scale, opt.color_by_grad) if opt.legend else None
    caption = _caption(opt, len(order), total, hidden, legend_html)
    if caption:
        g.attr(label=caption, labelloc="t", labeljust="l")
    return g


@dataclass
class _Layout:
    """What draw_graph has placed so far, for `_input_edges`."""

    names: dict[int, str]
    uses: Counter
    copies: Counter
    modules: Any
    opt: Any
    kinds: dict[int, str]
    paths: dict[int, tuple[int, ...]]
    side: dict[int, int]
    edges: list[tuple[str, str, dict[str, str]]]


def _input_edges(v: Value, op_name: str, path: tuple[int, ...], body: list[Any], at: _Layout) -> bool:
    """The edges from v's inputs into its op node (a shared leaf's further uses as small copies);
    True if an input was left out of the picture (cut by max_nodes)."""
    cut = False
    # The edge from the first parent made by an op is the main path: heavy, so dot keeps it straight.
    main = next((id(p) for p in v.parents if p._op is not None), None)
    for p in v.parents:
        pname = at.names.get(id(p))
        if pname is None:
            cut = True
            continue
        n_uses = at.uses.get(id(p), 0)
        if n_uses > SHARED_LEAF_EDGES:
            k = at.copies[id(p)] = at.copies[id(p)] + 1
            if k > 1:
                copy = f"{pname}_{k}"
                body.append((copy, _copy_label(p, at.modules.param_names.get(id(p)), at.opt.fmt, n_uses), _copy_attrs(at.kinds[id(p)], pname, n_uses)))
                pname = copy
        attrs = {}
        if id(p) == main:
            attrs["weight"] = "4"
            if at.paths[id(p)] != path:
                # Entering a module's cluster: leave room above the op for the module's side branches
                # (its weights), so the cluster starts below the previous one instead of beside it.
                room = max((at.side[id(q)] for q in v.parents if id(q) in at.side and at.paths.get(id(q)) == path), default=0)
                if room:
                    attrs["minlen"] = str(room + 1)
        at.edges.append((pname, op_name, attrs))
    return cut


def render_graph(root: Value | Sequence[Value], path: str | os.PathLike[str], format: str | None = None, **options: Any) -> Path:
    """Draw the graph of `root` (see `draw_graph` for the options) into a PNG, SVG or PDF file; returns its path.

    The format comes from `format` or else from the file's suffix; a path without a suffix gets one.
    Needs Graphviz's `dot` program; when it is missing, GraphvizNotFoundError says how to install it.
    """
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if format is None:
        if not suffix:
            raise ValueError(f"render_graph: cannot tell the format of {str(path)!r}; give it a suffix ({', '.join('.' + f for f in FORMATS)}) or format=")
        format = suffix
    if not isinstance(format, str):
        raise TypeError(f"render_graph: format must be a string such as 'png', got {type(format).__name__}: {format!r}"[:200])
    format = format.lower().lstrip(".")
    if format not in FORMATS:
        raise ValueError(f"render_graph: unsupported format {format!r}; choose one of {', '.join(FORMATS)}")
    if not suffix:
        path = path.with_name(path.name + "." + format)
    elif suffix != format and suffix in FORMATS:
        raise ValueError(f"render_graph: the file name {path.name!r} says {suffix} but format={format!r}; make them agree")
    source = draw_graph(root, **options).source
    data = _run_dot(source, format)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


# ---- rendering -----------------------------------------------------------------------


def _install_hint() -> str:
    here = "conda" if os.environ.get("CONDA_PREFIX") else ("linux" if sys.platform.startswith("linux") else sys.platform)
    lines = [f"  on this machine: {INSTALL_HINTS[here]}"] if here in INSTALL_HINTS else []
    lines += [f"  {k:>6}: {cmd}" for k, cmd in (("Linux", INSTALL_HINTS["linux"]), ("macOS", INSTALL_HINTS["darwin"]),
                                               ("Windows", INSTALL_HINTS["win32"]), ("conda", INSTALL_HINTS["conda"]))]
    return "\n".join(lines)


def _dot_program() -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise GraphvizNotFoundError(
            "render_graph needs Graphviz's 'dot' program, which is not installed or not on PATH. Install it:\n"
            + _install_hint()
            + "\n(`pip install graphviz` installs only the Python bindings, not the program.) "
            "draw_graph(...) and its .source (the DOT text) work without it."
        )
    return dot


def _run_dot(source: str, format: str) -> bytes:
    dot = _dot_program()
    try:
        proc = subprocess.run([dot, f"-T{format}"], input=source.encode("utf-8"), capture_output=True, timeout=300)
    except subprocess.TimeoutExpired:
        raise RuntimeError("render_graph: dot took longer than 300 s; draw fewer nodes (max_nodes=...)") from None
    if proc.returncode != 0 or not proc.stdout:
        raise RuntimeError(f"render_graph: dot failed (exit code {proc.returncode}): {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


# ---- the walk ------------------------------------------------------------------------


def _roots(root: Any) -> list[Value]:
    if isinstance(root, Value):
        return [root]
    if isinstance(root, (list, tuple)):
        roots: list[Value] = []
        seen: set[int] = set()
        for i, r in enumerate(root):
            if not isinstance(r, Value):
                raise TypeError(f"draw_graph: root[{i}] is a {type(r).__name__}, not a Value")
            if id(r) not in seen:
                seen.add(id(r))
                roots.append(r)
        if not roots:
            raise ValueError("draw_graph: got an empty sequence of roots; pass a Value or a list of Values")
        return roots
    raise TypeError(f"draw_graph: root must be a Value or a list/tuple of Values, got {type(root).__name__}")


def _check_options(rankdir, show_data, show_grad, max_elements, fmt, max_nodes, group_modules, color_by_grad, legend, title) -> _Options:
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"draw_graph: rankdir must be 'LR' (left to right) or 'TB' (top to bottom), got {rankdir!r}")
    if isinstance(max_elements, bool) or not isinstance(max_elements, (int, np.integer)) or max_elements < 0:
        raise ValueError(f"draw_graph: max_elements must be an int >= 0, got {max_elements!r}")
    try:
        format(1.5, fmt)
    except (ValueError, TypeError):
        raise ValueError(f"draw_graph: fmt must be a number format such as '.4g' or '.3f', got {fmt!r}") from None
    if max_nodes is not None and (isinstance(max_nodes, bool) or not isinstance(max_nodes, (int, np.integer)) or max_nodes < 1):
        raise ValueError(f"draw_graph: max_nodes must be an int >= 1 or None (no limit), got {max_nodes!r}")
    return _Options(rankdir, bool(show_data), bool(show_grad), int(max_elements), fmt,
                    None if max_nodes is None else int(max_nodes), bool(group_modules), bool(color_by_grad), bool(legend), title)


@dataclass
class _Hidden:
    values: int = 0
    leaves: int = 0
    ops: Counter = field(default_factory=Counter)
    modules: dict[int, Any] = field(default_factory=dict)  # id -> module whose computation was (partly) left out, output side first


def _walk(roots: list[Value], limit: int | None) -> tuple[dict[int, Value], int, _Hidden]:
    """Breadth-first from the roots: the first `limit` Values (nearest the output), the total, and what was left out.

    A drawn op's leaf inputs (its weights, constants) are taken as soon as the op is, so a cut
    leaves out whole steps rather than the weights of the steps it draws.
    """
    kept: dict[int, Value] = {}
    seen = {id(r) for r in roots}
    queue = deque(roots)
    hidden = _Hidden()
    total = 0
    while queue:
        v = queue.popleft()
        total += 1
        if id(v) not in kept and (limit is None or len(kept) < limit):
            kept[id(v)] = v
        if id(v) in kept:
            for p in v.parents:
                if p._op is None and id(p) not in kept and (limit is None or len(kept) < limit):
                    kept[id(p)] = p
        else:
            hidden.values += 1
            if v._op is None:
                hidden.leaves += 1
            else:
                hidden.ops[v._op.name] += 1
                scope = v.scope
                if scope:
                    m = scope[1] if len(scope) > 1 else scope[0]  # the outermost module's child: a layer, a block
                    hidden.modules.setdefault(id(m), m)
        for p in v.parents:
            if id(p) not in seen:
                seen.add(id(p))
                queue.append(p)
    return kept, total, hidden


def _topological(roots: list[Value], kept: dict[int, Value]) -> list[Value]:
    """The kept Values, each after its kept parents, parents in argument order (iterative DFS)."""
    order: list[Value] = []
    done: set[int] = set()
    stack: list[tuple[Value, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        v, expanded = stack.pop()
        if expanded:
            order.append(v)
            continue
        if id(v) in done:
            continue
        done.add(id(v))
        stack.append((v, True))
        for p in reversed(v.parents):
            if id(p) in kept and id(p) not in done:
                stack.append((p, False))
    return order


# ---- modules: parameter names and clusters ---------------------------------------------


@dataclass
class _Modules:
    param_names: dict[int, str]
    module_names: dict[int, str]  # id(module) -> dotted name ("" for an outermost module)
    paths: dict[int, tuple[Any, ...]]  # id(module) -> the scope tuple that ends at it
    owner_path: dict[int, tuple[Any, ...]]  # id(parameter) -> scope of the module that owns it

    def cluster_of(self, v: Value) -> tuple[int, ...]:
        scope = v.scope if v._op is not None else self.owner_path.get(id(v))
        return tuple(id(m) for m in scope) if scope else ()


def _named(module: Any, method: str) -> list[tuple[str, Any]]:
    fn = getattr(module, method, None)
    if not callable(fn):
        return []
    try:
        return list(fn())
    except Exception:  # a half-built module must not stop a picture
        return []


def _module_info(order: list[Value], explicit: Any) -> _Modules:
    outer: list[Any] = []
    paths: dict[int, tuple[Any, ...]] = {}
    for v in order:
        scope = v.scope
        if not scope:
            continue
        if all(id(scope[0]) != id(m) for m in outer):
            outer.append(scope[0])
        for i in range(len(scope)):
            paths.setdefault(id(scope[i]), tuple(scope[: i + 1]))
    if explicit is not None:
        extra = list(explicit) if isinstance(explicit, (list, tuple)) else [explicit]
        outer = extra + [m for m in outer if all(id(m) != id(e) for e in extra)]
    param_names: dict[int, str] = {}
    module_names: dict[int, str] = {}
    owner_path: dict[int, tuple[Any, ...]] = {}
    for top in outer:
        by_name: dict[str, Any] = {"": top}
        module_names.setdefault(id(top), "")
        for name, m in _named(top, "named_modules"):
            by_name.setdefault(name, m)
            module_names.setdefault(id(m), name)
        for name, p in _named(top, "named_parameters"):
            if id(p) in param_names:
                continue
            param_names[id(p)] = name
            # The owner is the nearest module along the dotted name that ran in this graph.
            parts = name.split(".")[:-1]
            while True:
                m = by_name.get(".".join(parts))
                if m is not None and id(m) in paths:
                    owner_path[id(p)] = paths[id(m)]
                    break
                if not parts:
                    break
                parts.pop()
    return _Modules(param_names, module_names, paths, owner_path)


def _cluster_title(module: Any, dotted: str | None) -> str:
    cls = type(module).__name__
    last = dotted.rsplit(".", 1)[-1] if dotted else ""
    head = f"{cls} {last}" if last.isdigit() else cls
    sub = f'<br/><font point-size="9" color="{MUTED}">{_esc(dotted)}</font>' if dotted else ""
    return f"<<b>{_esc(head)}</b>{sub}>"


def _cluster_statements(bodies: dict[tuple[int, ...], list[tuple[str, str, dict[str, str]]]], modules: _Modules) -> list[str]:
    """DOT lines for the nodes, clusters nested per module path, built without recursion."""
    import graphviz

    # Every prefix of a used path is a cluster too (an MLP's cluster holds its layers' clusters).
    paths: list[tuple[int, ...]] = []
    known: set[tuple[int, ...]] = set()
    for path in bodies:
        for i in range(1, len(path) + 1):
            if path[:i] not in known:
                known.add(path[:i])
                paths.append(path[:i])
    module_of = {}
    for scope in modules.paths.values():
        for m in scope:
            module_of[id(m)] = m
    graphs: dict[tuple[int, ...], Any] = {}
    for i, path in enumerate(paths):
        m = module_of.get(path[-1])
        sub = graphviz.Digraph(name=f"cluster_{i}")
        sub.attr(label=_cluster_title(m, modules.module_names.get(path[-1])), labeljust="l", style="rounded,filled",
                 fillcolor=CLUSTER_FILLS[(len(path) - 1) % len(CLUSTER_FILLS)], color="#cbd5e1", fontname=FONT, fontsize="11",
                 margin="10")
        graphs[path] = sub
    for path, stmts in bodies.items():
        target = graphs.get(path)
        for name, label, attrs in stmts:
            if target is None:
                continue
            target.node(name, label, **attrs)
    # Attach the deepest clusters first: subgraph() copies the child's body as it is then.
    for path in sorted(paths, key=len, reverse=True):
        if len(path) > 1:
            graphs[path[:-1]].subgraph(graphs[path])
    top = graphviz.Digraph()
    for name, label, attrs in bodies[()]:
        top.node(name, label, **attrs)
    for path in paths:
        if len(path) == 1:
            top.subgraph(graphs[path])
    return top.body


# ---- labels ---------------------------------------------------------------------------


# Characters XML forbids (dot's HTML-like labels are XML), lone surrogates included.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _esc(s: Any) -> str:
    """Text for an HTML-like label: markup escaped, a newline a line break, what XML forbids shown as U+FFFD."""
    s = str(s).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    s = _NOT_XML.sub("\ufffd", s)
    return s.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "<br/>")


def _mean(a: np.ndarray) -> Any:
    """The mean of a finite array without overflow (a float32 sum near its maximum would be inf)."""
    with np.errstate(over="ignore"):
        m = a.mean(dtype=np.float64)
    if np.isinf(m):  # every element finite, the float64 sum not: scale first
        s = np.abs(a).max()
        m = (a / s).mean(dtype=np.float64) * s
    return m


def _kind(v: Value, is_root: bool, modules: _Modules) -> str:
    if is_root:
        return "output"
    if v._op is not None:
        return "value"
    if id(v) in modules.param_names or v.requires_grad:
        return "parameter"
    return "input"


def _number(x: Any, fmt: str) -> str:
    s = format(float(x), fmt)
    return "0" if s in ("-0", "-0.0") or (float(x) == 0 and "e" in s) else s


def _array_lines(a: np.ndarray, fmt: str, max_elements: int) -> list[str]:
    """A scalar, a small tensor's elements (one row per line), or a large tensor's min / mean / max."""
    if a.ndim == 0:
        return [_number(a, fmt)]
    if a.size <= max_elements and a.size > 0:
        if a.ndim == 1:
            return ["[" + ", ".join(_number(x, fmt) for x in a) + "]"]
        rows = [[_number(x, fmt) for x in row] for row in a.reshape(-1, a.shape[-1])]
        widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]  # columns line up (monospace)
        return ["[" + ", ".join(x.rjust(w) for x, w in zip(row, widths)) + "]" for row in rows]
    if a.size == 0:
        return ["(empty)"]
    finite = np.isfinite(a)
    if finite.all():
        return [f"min {_number(a.min(), fmt)}  mean {_number(_mean(a), fmt)}  max {_number(a.max(), fmt)}"]
    fa = a[finite]
    stats = f"min {_number(fa.min(), fmt)}  mean {_number(_mean(fa), fmt)}  max {_number(fa.max(), fmt)}" if fa.size else "no finite values"
    bad = [f"{n} {what}" for n, what in ((int(np.isnan(a).sum()), "nan"), (int(np.isinf(a).sum()), "inf")) if n]
    return [stats, "! " + ", ".join(bad)]


def _grad_array(v: Value) -> np.ndarray | None:
    g = v._grad
    if g is None:
        return None
    return np.asarray(g._data if isinstance(g, Value) else g)


def _shape_text(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(n) for n in shape) + ("," if len(shape) == 1 else "") + ")"


def _value_label(v: Value, kind: str, param_name: str | None, opt: _Options, scale: _GradScale | None) -> str:
    fill, border, _ = KINDS[kind]
    if scale is not None:
        fill = scale.color(_grad_array(v))
    name = _display_name(v.label, param_name)
    shape = v.shape
    head = []
    if name:
        head.append(f"<b>{_esc(name)}</b>")
    muted = MUTED if scale is None else "#1e293b"  # grey text is unreadable on the darker gradient fills
    if param_name and name != param_name:
        head.append(f'<font color="{muted}" point-size="9">{_esc(param_name)}</font>')
    if shape:
        head.append(f'<font color="{muted}" point-size="9">{_shape_text(shape)}</font>')
    if isinstance(v._data, (np.ndarray, np.generic)) and v._data.dtype != np.float64:
        head.append(f'<font color="{muted}" point-size="9">{v._data.dtype.name}</font>')
    grad = _grad_array(v) if opt.show_grad else None
    body: list[str] = []  # rows of two cells: what, and its numbers (one line per tensor row)
    # An unnamed scalar constant (the 0.5 of `0.5 * x`) is known only by its value: always show it.
    show = opt.show_data or (kind == "input" and not name and v.size == 1)
    data = _array_lines(np.asarray(v._data), opt.fmt, opt.max_elements) if show else []
    if data and kind == "input" and not head and grad is None:
        body.append(f'<td colspan="2" align="left" balign="left">{_lines(data, "#0f172a")}</td>')  # an unnamed constant
    elif data:
        body.append(_key("data", muted) + f'<td align="left" balign="left">{_lines(data, "#0f172a")}</td>')
    if grad is not None:
        lines = _lines(_array_lines(grad, opt.fmt, opt.max_elements), "#0f172a" if scale else "#b91c1c")
        body.append(_key("grad", muted) + f'<td align="left" balign="left">{lines}</td>')
    rows = [f'<td colspan="2" align="left">{" ".join(head)}</td>'] if head else []
    if head and body:
        rows.append("<hr/>")
    rows += body
    if not rows:
        rows.append(f'<td><font color="{MUTED}">scalar</font></td>')
    cells = "".join(r if r == "<hr/>" else f"<tr>{r}</tr>" for r in rows)
    width = 2 if kind == "output" or scale is not None else 1
    return (f'<<table border="{width}" cellborder="0" cellspacing="0" cellpadding="2" style="rounded" '
            f'bgcolor="{fill}" color="{border}">{cells}</table>>')


def _display_name(label: str | None, param_name: str | None) -> str | None:
    """A parameter's dotted name, unless the user gave it a label of their own (nn labels it by its attribute name)."""
    if param_name and (not label or param_name == label or param_name.endswith("." + label)):
        return param_name
    return label or param_name


def _key(name: str, color: str) -> str:
    return f'<td align="left" valign="top"><font color="{color}" point-size="9">{name}</font></td>'


def _lines(lines: list[str], color: str) -> str:
    return "<br/>".join(f'<font face="{MONO}" color="{color}">{_esc(line)}</font>' for line in lines)


def _value_attrs(kind: str) -> dict[str, str]:
    return {"shape": "plain", "tooltip": KINDS[kind][2]}


def _copy_label(p: Value, param_name: str | None, fmt: str, n_uses: int) -> str:
    name = _display_name(p.label, param_name)
    text = _esc(name) if name else (_number(np.asarray(p._data), fmt) if p.size == 1 else _shape_text(p.shape))
    return f"<{text} <font point-size=\"8\">↻</font>>"


def _copy_attrs(kind: str, original: str, n_uses: int) -> dict[str, str]:
    fill, border, _ = KINDS[kind]
    return {"shape": "box", "style": "rounded,dashed,filled", "fillcolor": fill, "color": border, "fontsize": "10",
            "height": "0.25", "width": "0.3", "margin": "0.05,0.02", "tooltip": f"the same Value as {original} (used by {n_uses} ops)"}


def _op_label(v: Value) -> str:
    assert v._op is not None
    return f"<<b>{_esc(v._op.label())}</b>>"


def _hidden_label(hidden: _Hidden, module_names: dict[int, str]) -> str:
    ops = hidden.ops
    n_ops = sum(ops.values())
    parts = ", ".join(f"{name} ×{n:,}" for name, n in sorted(ops.items(), key=lambda kv: (-kv[1], kv[0]))[:6])
    if len(ops) > 6:
        parts += ", ..."
    lines = [f"<b>⋯ {hidden.values:,} more values not drawn</b>"]
    if n_ops:
        lines.append(f"made by {n_ops:,} ops: {_esc(parts)}")
    if hidden.leaves:
        lines.append(f"and {hidden.leaves:,} {'leaf' if hidden.leaves == 1 else 'leaves'} (parameters, inputs, constants)")
    mods = list((hidden.modules or {}).items())[::-1]  # input side first
    if mods:
        names = [module_names.get(k) or type(m).__name__ for k, m in mods]
        shown = ", ".join(names) if len(names) <= 3 else f"{names[0]}, {names[1]} … {names[-1]}"
        lines.append(f"inside {len(names)} module{'s' if len(names) > 1 else ''}: {_esc(shown)}")
    return "<" + "<br/>".join(lines) + ">"


def _caption(opt: _Options, drawn: int, total: int, hidden: _Hidden, legend: str | None) -> str | None:
    """The picture's label at the top: title, what was left out, legend."""
    rows = []
    if opt.title:
        rows.append(f'<tr><td align="left"><font point-size="14"><b>{_esc(opt.title)}</b></font></td></tr>')
    if hidden.values:
        rows.append(f'<tr><td align="left"><font point-size="10" color="{MUTED}">showing the {drawn:,} values nearest the output, '
                    f"of {total:,} (max_nodes={opt.max_nodes}); the other {hidden.values:,} are summarised in the dashed node</font></td></tr>")
    if legend:
        rows.append(f'<tr><td align="left">{legend}</td></tr>')
    if not rows:
        return None
    return f'<<table border="0" cellborder="0" cellspacing="2" cellpadding="1">{"".join(rows)}</table>>'


# ---- colouring by gradient --------------------------------------------------------------


@dataclass
class _GradScale:
    lo: float  # log10 of the smallest nonzero finite mean |grad|
    hi: float
    bad: bool = False  # some gradient holds nan or inf
    flat: bool = False  # no nonzero finite gradient at all

    def bin(self, m: float) -> int:
        if self.hi <= self.lo:
            return len(GRAD_PALETTE) - 1
        t = (math.log10(m) - self.lo) / (self.hi - self.lo)
        return min(len(GRAD_PALETTE) - 1, max(0, int(t * len(GRAD_PALETTE))))

    def color(self, g: np.ndarray | None) -> str:
        """The fill for a gradient: a palette colour by log mean |grad|, GRAD_ZERO for 0 or none, GRAD_BAD for nan/inf."""
        m = _magnitude(g)
        if m is None or m == 0:
            return GRAD_ZERO
        return GRAD_PALETTE[self.bin(m)] if math.isfinite(m) else GRAD_BAD

    def edges(self) -> list[float]:
        n = len(GRAD_PALETTE)
        return [10 ** (self.lo + (self.hi - self.lo) * i / n) for i in range(n + 1)]


def _magnitude(g: np.ndarray | None) -> float | None:
    if g is None or g.size == 0:
        return None
    with np.errstate(all="ignore"):
        if not np.isfinite(g).all():
            return float(np.mean(np.abs(g)))  # nan or inf, as the gradient holds them
        return float(_mean(np.abs(g)))


def _grad_scale(order: Iterable[Value]) -> _GradScale | None:
    """The log range of the nonzero finite mean |grad| in the picture; None when nothing has a gradient yet."""
    all_mags = [m for m in (_magnitude(_grad_array(v)) for v in order) if m is not None]
    if not all_mags:
        return None
    mags = [m for m in all_mags if m and math.isfinite(m)]
    bad = any(not math.isfinite(m) for m in all_mags)
    if not mags:
        return _GradScale(0.0, 0.0, bad, flat=True)
    return _GradScale(math.log10(min(mags)), math.log10(max(mags)), bad)


def _swatch(fill: str, border: str, width: int = 1, text: str = " ") -> str:
    return (f'<td><table border="{width}" cellborder="0" cellspacing="0" cellpadding="1" style="rounded" bgcolor="{fill}" color="{border}" '
            'fixedsize="true" width="30" height="16">'
            f'<tr><td width="26" height="12" fixedsize="true"><font point-size="8">{text}</font></td></tr></table></td>')


def _legend(kinds: set[str], has_ops: bool, has_hidden: bool, scale: _GradScale | None, grad_wanted: bool) -> str:
    """One row of swatches (node kinds), and the gradient colour bar when colouring by gradient."""
    items = []
    for kind in ("parameter", "input", "value", "output"):
        if kind in kinds:
            fill, border, text = KINDS[kind]
            items.append(_swatch(GRAD_ZERO if grad_wanted else fill, border, 2 if kind == "output" or grad_wanted else 1)
                         + f'<td align="left"><font point-size="10">{_esc(text)}</font></td>')
    if has_ops:
        items.append(_swatch(OP_FILL, OP_BORDER, 1, "<b>op</b>") + '<td align="left"><font point-size="10">operation</font></td>')
    if has_hidden:
        items.append(f'<td><font point-size="10" color="{MUTED}">- - →</font></td><td align="left"><font point-size="10">values not drawn</font></td>')
    spacer = '<td width="8"></td>'
    rows = [f'<tr>{spacer.join(items)}</tr>']
    table = f'<table border="0" cellborder="0" cellspacing="2" cellpadding="1">{"".join(rows)}</table>'
    if not grad_wanted:
        return table
    if scale is None:
        bar = f'<font point-size="10" color="{MUTED}">fill by mean |grad|: no gradients yet (run backward() first)</font>'
    else:
        e = scale.edges()
        n = len(GRAD_PALETTE)
        cells = "".join(f'<td bgcolor="{c}" width="24" height="12"></td>' for c in GRAD_PALETTE)
        mid = n - 2 * (n // 3)
        ticks = (f'<td colspan="{n // 3}" align="left"><font point-size="9">{_number(e[0], ".2g")}</font></td>'
                 f'<td colspan="{mid}" align="center"><font point-size="9">{_number(math.sqrt(e[0] * e[-1]), ".2g")}</font></td>'
                 f'<td colspan="{n // 3}" align="right"><font point-size="9">{_number(e[-1], ".2g")}</font></td>')
        bar = (f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr>'
               f'<td align="left" valign="top"><font point-size="10">fill: mean |grad| (log scale)  </font></td>'
               f'<td><table border="0" cellborder="0" cellspacing="0" cellpadding="0"><tr>{cells}</tr><tr>{ticks}</tr></table></td>'
               '<td width="10"></td>'
               + _swatch(GRAD_ZERO, "#94a3b8") + '<td align="left"><font point-size="10">grad 0 or none</font></td>'
               + ('<td width="10"></td>' + _swatch(GRAD_BAD, "#94a3b8") + '<td align="left"><font point-size="10">grad has nan/inf</font></td>'
                  if scale.bad else "")
               + '</tr></table>')
        if scale.flat:
            bar = (f'<table border="0" cellborder="0" cellspacing="0" cellpadding="1"><tr><td align="left"><font point-size="10">'
                   f'fill by mean |grad|: every gradient is 0{" or nan/inf" if scale.bad else ""}</font></td>'
                   + _swatch(GRAD_ZERO, "#94a3b8") + '<td align="left"><font point-size="10">grad 0 or none</font></td>'
                   + (_swatch(GRAD_BAD, "#94a3b8") + '<td align="left"><font point-size="10">grad has nan/inf</font></td>' if scale.bad else "")
                   + '</tr></table>')
    return f'<table border="0" cellborder="0" cellspacing="0" cellpadding="0"><tr><td align="left">{table}</td></tr><tr><td align="left">{bar}</td></tr></table>'
