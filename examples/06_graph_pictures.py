"""Pictures of computation graphs with Graphviz: the course's two-neuron network and a small MLP.

Every operation records a node; `render_graph` draws the graph that produced a Value:

- the course's network (x = 0.1, w1 = 0.15, b1 = 0.4, w2 = 0.45, b2 = 0.65, sigmoid neurons,
  E = 1/2 (T - a2)**2 with T = 0.25) before and after `backward()`: data first, then every
  node's gradient dE/d(node);
- the same network built from `nn` modules, each layer in its own cluster;
- a small MLP on the XOR batch, grouped by module, coloured by gradient magnitude;
- a graph of 20,000 nodes drawn under a node limit: the picture says what it left out.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

import nn
from autograd import Value, draw_graph, render_graph

X, T = 0.1, 0.25
START = {"w1": 0.15, "b1": 0.4, "w2": 0.45, "b2": 0.65}


def two_neurons() -> tuple[Value, dict[str, Value]]:
    """The course's network, every intermediate labelled as in the notes."""
    p = {k: Value(v, label=k) for k, v in START.items()}
    x = Value(X, requires_grad=False, label="x")
    z1 = p["w1"] * x + p["b1"]
    a1 = z1.sigmoid()
    z2 = p["w2"] * a1 + p["b2"]
    a2 = z2.sigmoid()
    E = 0.5 * (Value(T, requires_grad=False, label="T") - a2) ** 2
    for name, v in (("z1", z1), ("a1", a1), ("z2", z2), ("a2", a2), ("E", E)):
        v.label = name
    return E, p


def two_neurons_as_modules() -> tuple[nn.MLP, Value]:
    """The same network as nn modules: MLP(1, [1, 1]) with sigmoid layers and the course's weights."""
    model = nn.MLP(1, [1, 1], activation="sigmoid", output_activation="sigmoid")
    for layer, (w, b) in zip(model.layers, ((START["w1"], START["b1"]), (START["w2"], START["b2"]))):
        layer.weight.data = np.array([[w]])
        layer.bias.data = np.array([b])
    a2 = model(Value(np.array([X]), requires_grad=False, label="x"))
    E = nn.half_sse(a2, np.array([T]))
    E.label = "E"
    return model, E


def xor_mlp() -> tuple[nn.MLP, Value]:
    """A 2-3-1 MLP on the four XOR points, mean squared error."""
    model = nn.MLP(2, [3, 1], activation="tanh", output_activation="sigmoid", rng=0)
    x = Value(np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]), requires_grad=False, label="X")
    loss = nn.mse_loss(model(x), np.array([[0.0], [1.0], [1.0], [0.0]]))
    loss.label = "loss"
    return model, loss


def main(out_dir: Path, quick: bool = False) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = []

    def render(root, name, **options):
        path = render_graph(root, out_dir / name, **options)
        files.append(path.name)
        print(f"  {path.name}")
        return path

    print("two sigmoid neurons, E = 1/2 (T - a2)**2:")
    E, p = two_neurons()
    render(E, "06_two_neurons_forward.png", title="forward: each node holds its value")
    E.backward()
    render(E, "06_two_neurons_backward.png", title="after E.backward(): each node also holds dE/d(node)")
    grads = {k: float(v.grad) for k, v in p.items()}
    print("  dE/dw1 = {w1:.6g}, dE/db1 = {b1:.6g}, dE/dw2 = {w2:.6g}, dE/db2 = {b2:.6g}".format(**grads))

    print("the same network as nn modules (one cluster per layer):")
    model, E_mod = two_neurons_as_modules()
    E_mod.backward()
    render(E_mod, "06_two_neurons_modules.png", title="nn.MLP(1, [1, 1]) with the course's weights")
    module_grads = {f"{name}": float(np.asarray(v.grad).ravel()[0]) for name, v in model.named_parameters()}

    print("a small MLP on XOR, grouped by module and coloured by |grad|:")
    mlp, loss = xor_mlp()
    loss.backward()
    render(loss, "06_mlp_modules.png", title="MLP(2, [3, 1]) on the XOR batch, grouped by module", max_elements=12)
    render(loss, "06_mlp_by_grad.png", title="the same graph, fill = mean |grad|", color_by_grad=True, show_data=False,
           fmt=".2g", rankdir="TB")
    mlp_dot = draw_graph(loss).source

    print("a long graph under a node limit:")
    steps = 1_000 if quick else 10_000
    h = Value(1.0, label="h0")
    w = Value(0.999, label="w")
    for _ in range(steps):
        h = (h * w).tanh()
    h.label = "h"
    big = draw_graph(h, max_nodes=12)
    render(h, "06_node_limit.png", max_nodes=12, title=f"h = tanh(h * w), {steps:,} times: the 12 values nearest the output")

    return {
        "files": files,
        "grads": grads,
        "module_grads": module_grads,
        "E": E.item(),
        "E_modules": E_mod.item(),
        "mlp_clusters": mlp_dot.count("subgraph cluster_"),
        "big_graph_values": 2 * steps + 2,
        "big_graph_source": big.source,
    }


if __name__ == "__main__":
    main(Path("out"))
