"""Graph pictures: the DOT text of small graphs, real rendering through Graphviz's `dot`, big graphs, missing `dot`.

The rendering tests call `dot`; when it is missing they fail (render_graph raises), they never skip.
"""

from __future__ import annotations

import html
import re
import shutil
import struct
import time
import warnings
import weakref
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import autograd
from autograd import Value, draw_graph, render_graph
from autograd.modes import mode
from autograd.viz import GRAD_PALETTE, KINDS, OP_FILL, GraphvizNotFoundError

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
NODE = re.compile(r"^\s*(\w+) \[label=<(.*)>(?: (.*))?\]$")
EDGE = re.compile(r"^\s*(\w+) -> (\w+)(?: \[(.*)\])?$")


# ---- helpers -------------------------------------------------------------------------------


def two_neuron():
    """The course's network: x=0.1, w1=0.15, b1=0.4, w2=0.45, b2=0.65, sigmoid neurons, E = 0.5 (T - a2)**2, T=0.25."""
    x = Value(0.1, requires_grad=False, label="x")
    w1, b1, w2, b2 = Value(0.15, label="w1"), Value(0.4, label="b1"), Value(0.45, label="w2"), Value(0.65, label="b2")
    z1 = w1 * x + b1
    z1.label = "z1"
    a1 = z1.sigmoid()
    a1.label = "a1"
    z2 = w2 * a1 + b2
    z2.label = "z2"
    a2 = z2.sigmoid()
    a2.label = "a2"
    E = 0.5 * (Value(0.25, requires_grad=False, label="T") - a2) ** 2
    E.label = "E"
    return E, dict(x=x, w1=w1, b1=b1, w2=w2, b2=b2, z1=z1, a1=a1, z2=z2, a2=a2, E=E)


def all_values(root):
    """Every Value reachable from root (iteratively), each once."""
    out, seen, stack = [], set(), [root]
    while stack:
        v = stack.pop()
        if id(v) in seen:
            continue
        seen.add(id(v))
        out.append(v)
        stack.extend(v.parents)
    return out


def text_of(label_html: str) -> str:
    """The visible text of an HTML-like label."""
    return html.unescape(re.sub(r"<[^>]*>", " ", label_html))


def parse(source: str):
    """(nodes: name -> (visible text, raw label, attrs), edges: list of (tail, head)) from DOT text."""
    nodes, edges = {}, []
    for line in source.splitlines():
        m = EDGE.match(line)
        if m:
            edges.append((m.group(1), m.group(2)))
            continue
        m = NODE.match(line)
        if m:
            nodes[m.group(1)] = (" ".join(text_of(m.group(2)).split()), m.group(2), m.group(3) or "")
    return nodes, edges


def value_nodes(nodes):
    return {k: v for k, v in nodes.items() if re.fullmatch(r"n\d+", k)}


def op_nodes(nodes):
    return {k: v for k, v in nodes.items() if re.fullmatch(r"op\d+", k)}


def by_label(nodes, label):
    """The one value node whose text starts with `label`."""
    hits = [k for k, (text, _, _) in value_nodes(nodes).items() if text.split(" ")[0] == label]
    assert len(hits) == 1, (label, hits)
    return hits[0]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path} does not start with the PNG signature"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


# ---- the DOT text of small graphs ---------------------------------------------------------------


def test_every_value_op_and_edge_of_the_two_neuron_network():
    E, v = two_neuron()
    nodes, edges = parse(draw_graph(E).source)
    values = all_values(E)
    assert len(value_nodes(nodes)) == len(values) == 17  # 6 leaves with 0.5, T and the exponent 2; 9 results
    assert len(op_nodes(nodes)) == sum(1 for x in values if x._op is not None) == 9
    # Each op sits between its inputs and its output, edges in the direction data flows.
    assert len(edges) == sum(len(x.parents) + 1 for x in values if x._op is not None)
    for out, ins in (("z1", None), ("a1", ["z1"]), ("z2", None), ("a2", ["z2"])):
        name = by_label(nodes, out)
        op = "op" + name[1:]
        assert (op, name) in edges
        for i in ins or []:
            assert (by_label(nodes, i), op) in edges
    op_z1 = "op" + by_label(nodes, "z1")[1:]
    op_mul = [t for t, h in edges if h == op_z1 and t.startswith("n") and t != by_label(nodes, "b1")]
    assert len(op_mul) == 1 and (by_label(nodes, "b1"), op_z1) in edges
    assert nodes["op" + op_mul[0][1:]][0] == "*"
    assert (by_label(nodes, "w1"), "op" + op_mul[0][1:]) in edges and (by_label(nodes, "x"), "op" + op_mul[0][1:]) in edges
    assert sorted(t for t, _, _ in op_nodes(nodes).values()) == sorted(["*", "+", "sigmoid", "*", "+", "sigmoid", "-", "**", "*"])


def test_labels_data_and_grad_rows():
    E, v = two_neuron()
    nodes, _ = parse(draw_graph(E).source)
    assert nodes[by_label(nodes, "w1")][0] == "w1 data 0.15"  # no grad row before backward()
    assert nodes[by_label(nodes, "a1")][0] == f"a1 data {v['a1'].item():.4g}"
    E.backward()
    nodes, _ = parse(draw_graph(E).source)
    assert nodes[by_label(nodes, "w1")][0] == f"w1 data 0.15 grad {float(v['w1'].grad):.4g}"
    assert nodes[by_label(nodes, "E")][0] == f"E data {E.item():.4g} grad 1"
    nodes, _ = parse(draw_graph(E, fmt=".2e").source)
    assert nodes[by_label(nodes, "w2")][0] == f"w2 data 4.50e-01 grad {float(v['w2'].grad):.2e}"
    nodes, _ = parse(draw_graph(E, show_data=False).source)
    assert nodes[by_label(nodes, "w2")][0] == f"w2 grad {float(v['w2'].grad):.4g}"
    nodes, _ = parse(draw_graph(E, show_grad=False, show_data=False).source)
    assert nodes[by_label(nodes, "w2")][0] == "w2"


def test_dot_text_is_deterministic_across_runs():
    sources = []
    for _ in range(2):
        E, _ = two_neuron()
        E.backward()
        sources.append(draw_graph(E, color_by_grad=True).source)
    assert sources[0] == sources[1]
    assert "0x" not in sources[0]  # no id()s or reprs in the names
    names = re.findall(r"^\s*(n\d+) \[", sources[0], re.M)
    assert names == [f"n{i}" for i in range(len(names))]


def test_op_labels_carry_their_parameters():
    x = Value(np.arange(6.0).reshape(2, 3), label="x")
    y = (x.sum(axis=1) + x[0].mean() + x.T.max(axis=0, keepdims=True).reshape(2)).tanh()
    ops = {t for t, _, _ in op_nodes(parse(draw_graph(y).source)[0]).values()}
    assert {"sum(axis=1)", "[0]", "mean", "transpose", "max(axis=0, keepdims=True)", "reshape(shape=(2,))", "tanh", "+"} <= ops


def test_leaf_kinds_have_their_colours_and_the_legend_names_them():
    E, v = two_neuron()
    src = draw_graph(E).source
    nodes, _ = parse(src)
    fill = lambda name: re.search(r'bgcolor="([^"]+)"', nodes[by_label(nodes, name)][1]).group(1)  # noqa: E731
    assert fill("w1") == fill("b2") == KINDS["parameter"][0]
    assert fill("x") == fill("T") == KINDS["input"][0]
    assert fill("a1") == KINDS["value"][0]
    assert fill("E") == KINDS["output"][0]
    assert all(f'fillcolor="{OP_FILL}"' in attrs for _, _, attrs in op_nodes(nodes).values())
    caption = text_of(re.search(r"^\s*label=<(.*)> labeljust", src, re.M).group(1))
    for kind in ("parameter", "input", "value", "output"):
        assert KINDS[kind][2] in caption
    assert "operation" in caption
    assert "label=<" not in draw_graph(E, legend=False).source.split("}")[-2].splitlines()[-1]


def test_tensor_data_small_in_full_large_as_statistics():
    small = Value(np.array([[1.0, 2.0], [3.0, 4.5]]), label="small")
    big = Value(np.arange(100.0).reshape(10, 10), label="big")
    bad = Value(np.array([1.0, np.nan, np.inf, 3.0, 5.0, 7.0, 9.0]), label="bad")
    out = (small.sum() + big.sum() + bad.sum()) * 1.0
    nodes, _ = parse(draw_graph(out).source)
    assert nodes[by_label(nodes, "small")][0] == "small (2, 2) data [1, 2] [3, 4.5]"
    assert nodes[by_label(nodes, "big")][0] == "big (10, 10) data min 0 mean 49.5 max 99"
    assert nodes[by_label(nodes, "bad")][0] == "bad (7,) data min 1 mean 5 max 9 ! 1 nan, 1 inf"
    nodes, _ = parse(draw_graph(out, max_elements=100).source)
    assert nodes[by_label(nodes, "big")][0].startswith("big (10, 10) data [ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9] [10, 11,")
    assert "[ 0,  1,  2,  3," in nodes[by_label(nodes, "big")][1]  # columns padded to line up
    nodes, _ = parse(draw_graph(out, max_elements=2).source)
    assert nodes[by_label(nodes, "small")][0] == "small (2, 2) data min 1 mean 2.625 max 4.5"
    out.backward()
    nodes, _ = parse(draw_graph(out).source)
    assert nodes[by_label(nodes, "small")][0] == "small (2, 2) data [1, 2] [3, 4.5] grad [1, 1] [1, 1]"
    assert nodes[by_label(nodes, "big")][0].endswith("grad min 1 mean 1 max 1")


def test_gradient_held_as_a_value_after_create_graph():
    x = Value(2.0, label="x")
    y = x**3
    y.backward(create_graph=True)
    nodes, _ = parse(draw_graph(y).source)
    assert nodes[by_label(nodes, "x")][0] == "x data 2 grad 12"


def test_several_roots_are_all_outputs_and_shared_nodes_drawn_once():
    a = Value(3.0, label="a")
    h = a * a
    h.label = "h"
    y1, y2 = h + 1, h * 2
    y1.label, y2.label = "y1", "y2"
    nodes, edges = parse(draw_graph([y1, y2, y1]).source)
    assert len(value_nodes(nodes)) == 6  # a, h, 1, 2, y1, y2
    for name in ("y1", "y2"):
        assert KINDS["output"][0] in nodes[by_label(nodes, name)][1]
    sq = "op" + by_label(nodes, "h")[1:]
    assert edges.count((by_label(nodes, "a"), sq)) == 2  # a * a: two edges into one op


def test_leaf_shared_by_many_ops_is_drawn_again_next_to_each_use():
    w = Value(0.5, label="w")
    y = Value(1.0, label="y0")
    for _ in range(8):
        y = y * w
    nodes, edges = parse(draw_graph(y).source)
    copies = [k for k in nodes if k.startswith(by_label(nodes, "w") + "_")]
    assert len(copies) == 7 and all(nodes[c][0] == "w ↻" for c in copies)
    muls = [k for k, (t, _, _) in op_nodes(nodes).items() if t == "*"]
    assert len(muls) == 8
    # every multiplication still gets w (the node or one of its copies)
    ws = {by_label(nodes, "w"), *copies}
    assert all(sum((t, m) in edges for t in ws) == 1 for m in muls)


def test_bad_options_and_roots_name_the_problem():
    y = Value(1.0) * 2
    with pytest.raises(ValueError, match="rankdir.*'LR'.*'TB'.*got 'sideways'"):
        draw_graph(y, rankdir="sideways")
    with pytest.raises(ValueError, match="fmt must be a number format.*got 'x'"):
        draw_graph(y, fmt="x")
    with pytest.raises(ValueError, match="max_nodes must be an int >= 1 or None"):
        draw_graph(y, max_nodes=0)
    with pytest.raises(ValueError, match="max_elements"):
        draw_graph(y, max_elements=-1)
    with pytest.raises(TypeError, match="root must be a Value.*got ndarray"):
        draw_graph(np.ones(3))
    with pytest.raises(TypeError, match=r"root\[1\] is a float"):
        draw_graph([y, 1.0])
    with pytest.raises(ValueError, match="empty"):
        draw_graph([])
    assert "rankdir=TB" in draw_graph(y, rankdir="TB").source


def test_a_leaf_and_a_no_grad_result_draw_as_single_nodes():
    nodes, edges = parse(draw_graph(Value(np.ones(3), label="alone")).source)
    assert list(value_nodes(nodes)) == ["n0"] and not op_nodes(nodes) and not edges
    with autograd.no_grad():
        z = Value(2.0) * 3
    nodes, edges = parse(draw_graph(z).source)
    assert len(value_nodes(nodes)) == 1 and nodes["n0"][0] == "data 6"


def test_drawing_keeps_no_reference_to_the_graph():
    x = Value(np.ones(4), label="x")
    y = (x * 2).sum()
    y.backward()
    g = draw_graph(y)
    ref = weakref.ref(x)
    del x, y
    assert ref() is None  # freed without gc.collect(): the Digraph holds only text
    assert "x" in g.source


# ---- grouping by module ----------------------------------------------------------------------------


class FakeModule:
    """Just enough of nn.Module for the picture: named_modules / named_parameters."""

    def __init__(self, children=(), params=()):
        self.children, self.params = list(children), list(params)

    def named_modules(self):
        out, stack = [], [("", self)]
        while stack:
            name, m = stack.pop()
            out.append((name, m))
            stack.extend((f"{name}.{i}" if name else f"layers.{i}", c) for i, c in reversed(list(enumerate(m.children))))
        return out

    def named_parameters(self):
        out = []
        for name, m in self.named_modules():
            out += [(f"{name}.{k}" if name else k, p) for k, p in m.params]
        return out


class Block(FakeModule):
    pass


def subgraphs(source: str) -> dict[str, str]:
    """cluster name -> the text of its block (nested blocks included)."""
    out = {}
    for m in re.finditer(r"subgraph (cluster_\d+) \{", source):
        depth, i = 1, m.end()
        while depth:
            depth += {"{": 1, "}": -1}.get(source[i], 0)
            i += 1
        out[m.group(1)] = source[m.end() : i]
    return out


def test_fake_scope_groups_nodes_in_nested_labelled_clusters():
    w0, w1 = Value(np.ones((2, 2)) * 0.5, label="weight"), Value(np.ones((2, 2)) * 0.25, label="weight")
    b0, b1 = Block(params=[("weight", w0)]), Block(params=[("weight", w1)])
    net = FakeModule(children=[b0, b1])
    x = Value(np.ones((1, 2)), requires_grad=False, label="x")
    prev = mode.scope
    try:
        h = x
        for blk in (b0, b1):
            mode.scope = (net, blk)
            p = w0 if blk is b0 else w1
            h = (h @ p).tanh()
        mode.scope = (net,)
        out = h.sum()
    finally:
        mode.scope = prev
    src = draw_graph(out).source
    nodes, _ = parse(src)
    clusters = subgraphs(src)
    assert len(clusters) == 3
    labels = {c: text_of(re.search(r"label=<(.*?)> labeljust", body).group(1)).split() for c, body in clusters.items()}
    assert sorted(map(tuple, labels.values())) == [("Block", "0", "layers.0"), ("Block", "1", "layers.1"), ("FakeModule",)]
    block0 = next(c for c, lab in labels.items() if lab[:2] == ["Block", "0"])
    outer = next(c for c, lab in labels.items() if lab == ["FakeModule"])
    # Nested: the outer module's cluster holds both blocks' clusters (and the final sum).
    assert all(f"subgraph {c} " in clusters[outer] for c in clusters if c != outer)
    # The parameter is named by its dotted name and sits inside its own module's cluster, with the op it feeds.
    p0 = by_label(nodes, "layers.0.weight")
    assert re.search(rf"^\s*{p0} \[", clusters[block0], re.M)
    assert {"@", "tanh"} <= {t for k, (t, _, _) in op_nodes(nodes).items() if re.search(rf"^\s*{k} \[", clusters[block0], re.M)}
    # The input has no module: it stays outside every cluster.
    assert not any(re.search(rf"^\s*{by_label(nodes, 'x')} \[", body, re.M) for body in clusters.values())
    assert not subgraphs(draw_graph(out, group_modules=False).source)


def test_nn_mlp_clusters_per_layer_with_dotted_parameter_names():
    import nn  # this repository's nn package
    model = nn.MLP(2, [3, 1], activation="sigmoid", rng=0)
    x = Value(np.array([[0.5, -1.0]]), requires_grad=False, label="x")
    loss = nn.mse_loss(model(x), np.array([[1.0]]))
    loss.backward()
    src = draw_graph(loss).source
    nodes, _ = parse(src)
    clusters = subgraphs(src)
    titles = {c: " ".join(text_of(re.search(r"label=<(.*?)> labeljust", b).group(1)).split()) for c, b in clusters.items()}
    assert sorted(titles.values()) == ["Layer 0 layers.0", "Layer 1 layers.1", "MLP"]
    for name, _ in model.named_parameters():
        node = by_label(nodes, name)
        layer = name.rsplit(".", 1)[0]
        cluster = next(c for c, t in titles.items() if t.endswith(layer))
        assert re.search(rf"^\s*{node} \[", clusters[cluster], re.M), f"{name} not in its layer's cluster"
    assert KINDS["parameter"][0] in nodes[by_label(nodes, "layers.0.weight")][1]


# ---- colouring by gradient ---------------------------------------------------------------------------


def test_color_by_grad_shows_the_vanishing_gradient_and_its_scale():
    ws = [Value(0.5, label=f"w{i}") for i in range(8)]
    h = Value(1.0, requires_grad=False, label="x")
    for w in ws:
        h = (h * w + 0.1).sigmoid()
    h.label = "out"
    h.backward()
    src = draw_graph(h, color_by_grad=True).source
    nodes, _ = parse(src)
    fill = lambda name: re.search(r'bgcolor="([^"]+)"', nodes[by_label(nodes, name)][1]).group(1)  # noqa: E731
    bins = [GRAD_PALETTE.index(fill(f"w{i}")) for i in range(8)]
    assert bins == sorted(bins) and bins[0] < bins[-1]  # the first layer's gradient is the smallest
    mags = [abs(float(w.grad)) for w in ws]
    caption = text_of(re.search(r"^\s*label=<(.*)> labeljust", src, re.M).group(1))
    assert "mean |grad| (log scale)" in caption
    assert f"{min(mags + [1.0]):.2g}" in caption and "1" in caption.split()
    assert "no gradients yet" in text_of(draw_graph(two_neuron()[0], color_by_grad=True).source)


# ---- big graphs ------------------------------------------------------------------------------------


def test_100000_nodes_draw_in_seconds_and_say_what_was_left_out(tmp_path):
    y = Value(1.0, label="x0")
    w = Value(0.999, label="w")
    for _ in range(50_000):
        y = y * w + 0.001  # 2 Values per step: the product and the sum (the constant 0.001 is one shared node)
    total = len(all_values(y))
    assert total >= 100_000
    t = time.perf_counter()
    g = draw_graph(y, max_nodes=60)
    elapsed = time.perf_counter() - t
    nodes, edges = parse(g.source)
    assert len(value_nodes(nodes)) == 60
    hidden = text_of(re.search(r'^\s*hidden \[label=<(.*)> ', g.source, re.M).group(1))
    assert f"{total - 60:,} more values not drawn" in hidden
    assert "* ×" in hidden and "+ ×" in hidden and "1 leaf" in hidden
    assert f"of {total:,}" in text_of(g.source) and "max_nodes=60" in g.source
    assert sum(t == "hidden" for t, _ in edges) >= 1
    assert elapsed < 30, f"drawing took {elapsed:.1f} s"
    # dot lays the cut picture out too.
    w_, h_ = png_size(render_graph(y, tmp_path / "big.png", max_nodes=60))
    assert 500 < w_ < 30_000 and h_ < 5_000


def test_deep_chain_without_a_limit_needs_no_recursion():
    y = Value(0.0, label="x")
    for _ in range(5_000):
        y = y + 1.0
    nodes, edges = parse(draw_graph(y, max_nodes=None, show_grad=False).source)
    # x, the 5,000 sums, and the constant 1.0 (one shared node: drawn once, then as small copies)
    assert len(value_nodes(nodes)) == 5_002 and len(op_nodes(nodes)) == 5_000 and "hidden" not in nodes


# ---- rendering through dot (fails, not skips, without dot) --------------------------------------------


def test_dot_is_installed():
    assert shutil.which("dot"), "Graphviz's dot program is missing: the rendering tests need it (apt-get install graphviz)"


def test_render_png_has_the_signature_and_sensible_dimensions(tmp_path):
    E, _ = two_neuron()
    E.backward()
    path = render_graph(E, tmp_path / "graph.png", title="two neurons")
    assert path == tmp_path / "graph.png" and path.exists()
    w, h = png_size(path)
    assert 600 < w < 6000 and 100 < h < 2000 and w > h  # left to right: wider than tall
    w2, h2 = png_size(render_graph(E, tmp_path / "tb.png", rankdir="TB"))
    assert h2 > w2 * 0.8  # top to bottom: tall


def test_render_svg_parses_and_contains_the_labels(tmp_path):
    E, v = two_neuron()
    E.backward()
    path = render_graph(E, tmp_path / "graph.svg", color_by_grad=True)
    root = ET.parse(path).getroot()
    assert root.tag.endswith("svg")
    texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
    for label in ("w1", "b1", "w2", "b2", "z1", "a1", "z2", "a2", "E", "sigmoid", "**", "grad", f"{float(v['w1'].grad):.4g}"):
        assert label in texts, label


def test_render_pdf_and_format_from_the_argument(tmp_path):
    y = Value(2.0, label="y") * 3
    path = render_graph(y, tmp_path / "noext", format="pdf")
    assert path == tmp_path / "noext.pdf" and path.read_bytes()[:5] == b"%PDF-"
    path = render_graph(y, str(tmp_path / "sub" / "g.PNG"))
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    with pytest.raises(ValueError, match="says png but format='svg'"):
        render_graph(y, tmp_path / "g.png", format="svg")
    with pytest.raises(ValueError, match="unsupported format 'gif'.*png, svg, pdf"):
        render_graph(y, tmp_path / "g.gif")
    with pytest.raises(ValueError, match="cannot tell the format"):
        render_graph(y, tmp_path / "g")


def test_missing_dot_says_what_to_install_and_drawing_still_works(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # an empty folder: no dot anywhere
    assert shutil.which("dot") is None
    y = Value(2.0, label="y") * 3
    with pytest.raises(GraphvizNotFoundError) as err:
        render_graph(y, tmp_path / "g.png")
    msg = str(err.value)
    for hint in ("apt-get install graphviz", "brew install graphviz", "conda install -c conda-forge graphviz", "choco install graphviz"):
        assert hint in msg
    assert "'dot'" in msg and not (tmp_path / "g.png").exists()
    assert "y" in draw_graph(y).source  # the DOT text needs no dot


# ---- the example -------------------------------------------------------------------------------------


def test_example_renders_the_course_network_and_an_mlp(tmp_path):
    import importlib

    r = importlib.import_module("examples.06_graph_pictures").main(tmp_path, quick=True)
    assert r["files"] == ["06_two_neurons_forward.png", "06_two_neurons_backward.png", "06_two_neurons_modules.png",
                          "06_mlp_modules.png", "06_mlp_by_grad.png", "06_node_limit.png"]
    for name in r["files"]:
        w, h = png_size(tmp_path / name)
        assert 300 < w < 8000 and 100 < h < 4000, (name, w, h)
    # The course's numbers, and the same gradients from the nn version of the network.
    a1 = 1 / (1 + np.exp(-(0.15 * 0.1 + 0.4)))
    a2 = 1 / (1 + np.exp(-(0.45 * a1 + 0.65)))
    d2 = -(0.25 - a2) * a2 * (1 - a2)
    expected = {"w2": d2 * a1, "b2": d2, "w1": d2 * 0.45 * a1 * (1 - a1) * 0.1, "b1": d2 * 0.45 * a1 * (1 - a1)}
    for k, v in expected.items():
        assert abs(r["grads"][k] - v) < 1e-12
    mod = r["module_grads"]
    assert [mod[f"layers.{i}.{p}"] for i, p in ((0, "weight"), (0, "bias"), (1, "weight"), (1, "bias"))] == pytest.approx(
        [expected["w1"], expected["b1"], expected["w2"], expected["b2"]], abs=1e-12)
    assert r["E"] == pytest.approx(0.5 * (0.25 - a2) ** 2, abs=1e-15) and r["E_modules"] == pytest.approx(r["E"], abs=1e-15)
    assert r["mlp_clusters"] == 3  # MLP > Layer 0, Layer 1
    assert f"{r['big_graph_values'] - 12:,} more values not drawn" in text_of(r["big_graph_source"])


def test_unnamed_constants_show_their_value_even_without_data():
    E, _ = two_neuron()
    nodes, _ = parse(draw_graph(E, show_data=False).source)
    texts = sorted(t for t, _, _ in value_nodes(nodes).values())
    assert "0.5" in texts and "2" in texts and "T" in texts and "x" in texts


def cluster_boxes(svg_path: Path) -> dict[str, tuple[float, float, float, float]]:
    """First line of each cluster's label -> (x0, y0, x1, y1) of its outline in the SVG."""
    ns = "{http://www.w3.org/2000/svg}"
    boxes = {}
    for g in ET.parse(svg_path).getroot().iter(ns + "g"):
        if g.get("class") != "cluster":
            continue
        outline = g.find(ns + "path") if g.find(ns + "path") is not None else g.find(ns + "polygon")
        nums = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", outline.get("d") or outline.get("points"))]
        xs, ys = nums[0::2], nums[1::2]
        title = next(t.text for t in g.iter(ns + "text"))
        boxes[title] = (min(xs), min(ys), max(xs), max(ys))
    return boxes


def test_layers_of_a_deep_mlp_stack_one_below_the_other(tmp_path):
    import nn

    mlp = nn.MLP(2, [3, 3, 3, 1], activation="sigmoid", rng=0)
    loss = nn.mse_loss(mlp(Value(np.ones((2, 2)), requires_grad=False)), np.zeros((2, 1)))
    boxes = cluster_boxes(render_graph(loss, tmp_path / "mlp.svg", rankdir="TB"))
    layers = [boxes[f"Layer {i}"] for i in range(4)]
    for upper, lower in zip(layers, layers[1:]):
        assert upper[3] <= lower[1], "each layer's cluster starts below the one before it"
        assert lower[0] < upper[2] and upper[0] < lower[2], "and overlaps it horizontally (a column, not a staircase)"


def test_color_by_grad_marks_nan_and_zero_gradients(tmp_path):
    a = Value(np.array([1.0, 0.0]), label="a")
    b = Value(2.0, label="b")
    dead = Value(3.0, label="dead")
    y = (a.sqrt() * b).sum() + dead * 0.0  # sqrt'(0) = inf, so a.grad holds inf; dead.grad is 0
    with np.errstate(all="ignore"):
        y.backward()
    src = draw_graph(y, color_by_grad=True).source
    nodes, _ = parse(src)
    fill = lambda name: re.search(r'bgcolor="([^"]+)"', nodes[by_label(nodes, name)][1]).group(1)  # noqa: E731
    from autograd.viz import GRAD_BAD, GRAD_ZERO

    assert fill("a") == GRAD_BAD and fill("dead") == GRAD_ZERO and fill("b") in GRAD_PALETTE
    assert "grad has nan/inf" in text_of(src) and "grad 0 or none" in text_of(src)
    assert render_graph(y, tmp_path / "nan.png", color_by_grad=True).stat().st_size > 1000
    # Only zero gradients: no range to show, and the picture says so.
    z = Value(1.0, label="z")
    w = z * 3.0
    w.backward(np.array(0.0))
    nodes, _ = parse(src := draw_graph(w, color_by_grad=True).source)
    assert "every gradient is 0" in text_of(src)
    assert all(f'bgcolor="{GRAD_ZERO}"' in raw for _, raw, _ in value_nodes(nodes).values() if "grad" in raw)


def test_a_cut_names_the_modules_left_out_and_keeps_the_weights_of_drawn_ops():
    import nn

    mlp = nn.MLP(4, [8] * 12 + [1], activation="sigmoid", rng=0)
    loss = nn.mse_loss(mlp(Value(np.ones((3, 4)), requires_grad=False)), np.zeros((3, 1)))
    src = draw_graph(loss, max_nodes=40).source
    nodes, edges = parse(src)
    assert len(value_nodes(nodes)) == 40
    hidden = text_of(re.search(r"^\s*hidden \[label=<(.*)> ", src, re.M).group(1))
    m = re.search(r"inside (\d+) modules: layers\.0, layers\.1 … layers\.(\d+)", hidden)
    assert m and int(m.group(1)) == int(m.group(2)) + 1 <= 13
    # Every drawn product with a weight (x @ weightᵀ) is fed by its drawn weight, not only by the cut.
    products = [op for op, (text, _, _) in op_nodes(nodes).items() if text == "@ᵀ"]
    assert products
    for op in products:
        feeders = [t for t, h in edges if h == op]
        assert len(feeders) == 2 and sum("weight" in nodes[f][0] for f in feeders if f != "hidden") == 1


def test_module_option_names_parameters_of_a_graph_built_by_hand():
    import nn

    mlp = nn.MLP(2, [2, 1], rng=0)
    layer = mlp.layers[0]
    y = ((Value(np.ones((1, 2)), requires_grad=False, label="x") @ layer.weight.T) + layer.bias).sum()  # no module call
    nodes, _ = parse(draw_graph(y).source)
    assert by_label(nodes, "weight") and by_label(nodes, "bias")  # nn's own labels: the attribute names
    src = draw_graph(y, module=mlp, title="by hand").source
    nodes, _ = parse(src)
    assert by_label(nodes, "layers.0.weight") and by_label(nodes, "layers.0.bias")
    assert not subgraphs(src)  # no module ran, so no clusters
    assert "by hand" in text_of(re.search(r"^\s*label=<(.*)> labeljust", src, re.M).group(1))
    # A label of the user's own wins, with the dotted name beside it.
    layer.weight.label = "W_in"
    nodes, _ = parse(draw_graph(y, module=[mlp]).source)
    assert nodes[by_label(nodes, "W_in")][0].startswith("W_in layers.0.weight (2, 2)")


def test_neurons_in_a_list_get_clusters_named_like_the_course():
    import nn

    class TwoNeurons(nn.Module):
        def __init__(self):
            super().__init__()
            self.neurons = [nn.Neuron(2, rng=0), nn.Neuron(2, rng=1)]

        def forward(self, x):
            return self.neurons[0](x) * self.neurons[1](x)

    model = TwoNeurons()
    src = draw_graph(model(Value(np.array([0.5, -1.0]), requires_grad=False))).source
    titles = sorted(" ".join(text_of(re.search(r"label=<(.*?)> labeljust", b).group(1)).split()) for b in subgraphs(src).values())
    assert titles == ["Neuron 0 neurons.0", "Neuron 1 neurons.1", "TwoNeurons"]
    nodes, _ = parse(src)
    assert by_label(nodes, "neurons.0.weight") and by_label(nodes, "neurons.1.bias")


def test_any_label_text_renders_and_a_newline_is_a_line_break(tmp_path):
    """Labels and titles are XML inside dot: markup is escaped, what XML forbids is replaced, \\n breaks the line."""
    names = ["a\x1b[1mb", "form\x0cfeed", "nul\x00", "odd\ufffe", "lone\ud800", "<&>\"'", "first line\nsecond line"]
    y = sum((Value(1.0, label=n) for n in names), Value(0.0, label="zero")) * 2
    path = render_graph(y, tmp_path / "labels.svg", title="a title\nover two lines")
    texts = [t.text or "" for t in ET.parse(path).getroot().iter() if t.tag.endswith("text")]
    assert "first line" in texts and "second line" in texts and "over two lines" in texts
    assert "<&>\"'" in texts and "a\ufffd[1mb" in texts


def test_a_finite_array_near_the_dtypes_maximum_has_a_finite_mean_and_no_bad_colour():
    from autograd.viz import GRAD_BAD

    x = Value(np.full(10, 3e38, dtype=np.float32), label="x")
    y = (x * 1.0)[0]
    y.backward(gradient=np.float32(3e38))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning while drawing either
        src = draw_graph(y, color_by_grad=True).source
    assert "mean inf" not in text_of(src) and "mean 3e+38" in text_of(src)
    nodes, _ = parse(src)
    assert re.search(r'bgcolor="([^"]+)"', nodes[by_label(nodes, "x")][1]).group(1) != GRAD_BAD
