"""The vanishing gradient (course section "Vanishing Gradient Problem").

Three deep MLPs (2 inputs, ten hidden layers of 32, one linear output) that differ only in the
hidden activation: sigmoid, tanh, ReLU. Same data, same seed; each network's weights start as
`nn.MLP` initialises them for its activation (Glorot for sigmoid and tanh, He for ReLU), so each
gets its best chance. Backpropagation multiplies, layer by layer, by the activation's derivative
times the weights; sigmoid's derivative is at most 0.25, so the gradient of the first layer's
weights is a product of ten small factors and all but vanishes. We show:

  * the gradient norm of each layer's weights at initialisation, input to output (log scale);
  * sigmoid'(z) of every hidden layer, computed by the engine: never above 0.25;
  * the training curves of the three (full-batch gradient descent, same learning rate), and how
    much each layer's weights moved: the sigmoid network's early layers barely move at all;
  * the graph of a chain of six sigmoid neurons (the course's two-neuron network made deep),
    coloured by gradient size: pale at the input, red at the output.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import nn  # noqa: E402
from autograd import Value, render_graph  # noqa: E402

ACTIVATIONS = ("sigmoid", "tanh", "relu")
COLORS = {"sigmoid": "C3", "tanh": "C1", "relu": "C0"}
HIDDEN, WIDTH, SEED, LR = 10, 32, 0, 0.005
DPI = 90


def make_data(n: int = 128, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """n points in [-2, 2]^2 with target sin(1.5 x1) cos(1.5 x2): a smooth bumpy surface."""
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, 2))
    return X, (np.sin(1.5 * X[:, 0]) * np.cos(1.5 * X[:, 1]))[:, None]


def make_model(activation: str) -> nn.MLP:
    return nn.MLP(2, [WIDTH] * HIDDEN + [1], activation=activation, rng=SEED)


def layer_grad_norms(model: nn.MLP, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """||dLoss/dW|| of each layer's weight matrix, input layer first."""
    model.zero_grad()
    nn.mse_loss(model(X), Y).backward()
    return np.array([float(np.linalg.norm(layer.weight.grad)) for layer in model.layers])


def sigmoid_derivatives(model: nn.MLP, X: np.ndarray) -> list[np.ndarray]:
    """sigmoid'(z) at every hidden pre-activation z, by the engine (d sum sigmoid(z) / dz), per layer."""
    out, h = [], X
    for layer in model.layers[:-1]:
        z = Value(h @ layer.weight.data.T + layer.bias.data)
        a = z.sigmoid()
        a.sum().backward()
        out.append(np.asarray(z.grad).copy())
        h = a.data
    return out


def train(model: nn.MLP, X: np.ndarray, Y: np.ndarray, steps: int) -> tuple[list[float], np.ndarray]:
    """Full-batch gradient descent; the loss per step and each layer's relative weight change."""
    w0 = [layer.weight.data.copy() for layer in model.layers]
    opt = nn.optim.SGD(model.parameters(), lr=LR)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = nn.mse_loss(model(X), Y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    moved = np.array([np.linalg.norm(layer.weight.data - w) / np.linalg.norm(w) for layer, w in zip(model.layers, w0)])
    return losses, moved


def small_sigmoid_chain(depth: int = 6, seed: int = SEED) -> tuple[Value, list[Value]]:
    """The course's neuron chain made deep: a_i = sigmoid(w_i * a_(i-1) + b_i), E = 1/2 (T - a_depth)**2.

    Returns E after backward() and the weights w1..w_depth, whose gradients shrink toward the input.
    """
    rng = np.random.default_rng(seed)
    a = Value(0.5, requires_grad=False, label="x")
    ws = []
    for i in range(1, depth + 1):
        w, b = Value(rng.normal(), label=f"w{i}"), Value(0.0, label=f"b{i}")
        z = w * a + b
        z.label = f"z{i}"
        a = z.sigmoid()
        a.label = f"a{i}"
        ws.append(w)
    E = 0.5 * (Value(1.0, requires_grad=False, label="T") - a) ** 2
    E.label = "E"
    E.backward()
    return E, ws


def main(out_dir: Path, quick: bool = False) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    X, Y = make_data()
    steps = 60 if quick else 400
    print(f"data: {len(X)} points, target sin(1.5 x1) cos(1.5 x2) (variance {Y.var():.4f}: the loss of predicting the mean)")
    print(f"networks: 2 -> {HIDDEN} hidden layers of {WIDTH} -> 1, seed {SEED}; gradient descent, lr {LR}, {steps} steps\n")

    norms = {act: layer_grad_norms(make_model(act), X, Y) for act in ACTIVATIONS}
    print("gradient norm ||dLoss/dW|| of each layer at initialisation (layer 1 = input side):")
    print("layer  " + "".join(f"{act:>11}" for act in ACTIVATIONS))
    for i in range(HIDDEN + 1):
        print(f"{i + 1:>5}  " + "".join(f"{norms[act][i]:>11.2e}" for act in ACTIVATIONS) + ("   (output)" if i == HIDDEN else ""))
    for act in ACTIVATIONS:
        print(f"{act:>8}: first layer / last layer = {norms[act][0] / norms[act][-1]:.1e}")

    dsig = sigmoid_derivatives(make_model("sigmoid"), X)
    means = [float(d.mean()) for d in dsig]
    sig_max = max(float(d.max()) for d in dsig)
    print(f"\nsigmoid'(z) in the sigmoid network's hidden layers (engine): max {sig_max:.4f} (never above 0.25), "
          f"mean per layer {min(means):.3f} to {max(means):.3f}")
    print(f"product of the ten per-layer means: {np.prod(means):.1e}: one such factor per layer multiplies the gradient on its way back")

    losses, moved = {}, {}
    for act in ACTIVATIONS:
        losses[act], moved[act] = train(make_model(act), X, Y, steps)
    print(f"\ntraining loss after {steps} steps: " + ", ".join(f"{act} {losses[act][-1]:.4f}" for act in ACTIVATIONS))
    print("relative weight change ||W - W0|| / ||W0|| per layer (earlier layers learn slower):")
    for act in ACTIVATIONS:
        print(f"{act:>8}: " + " ".join(f"{m:.0e}" for m in moved[act]))

    # One bar chart: layers from input to output, one bar per activation, log scale.
    fig, ax = plt.subplots(figsize=(8, 4))
    idx = np.arange(1, HIDDEN + 2)
    for k, act in enumerate(ACTIVATIONS):
        ax.bar(idx + (k - 1) * 0.27, norms[act], width=0.27, color=COLORS[act], label=act)
    ax.set_yscale("log")
    ax.set_xticks(idx)
    ax.set_xticklabels([str(i) for i in idx[:-1]] + ["out"])
    ax.set_xlabel("layer (input side -> output side)")
    ax.set_ylabel("||dLoss/dW|| at initialisation")
    ax.set_title(f"gradient size per layer, {HIDDEN} hidden layers: sigmoid's vanishes toward the input")
    ax.legend(loc="lower right")  # (the upper left holds layer 1's tanh and ReLU bars, the ones the text compares)
    fig.tight_layout()
    fig.savefig(out_dir / "03_gradient_norms.png", dpi=DPI)
    plt.close(fig)

    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 4))
    for act in ACTIVATIONS:
        a1.semilogy(losses[act], color=COLORS[act], label=act)
        a2.semilogy(idx, moved[act], "-o", ms=4, color=COLORS[act], label=act)
    a1.axhline(Y.var(), color="0.5", ls=":", lw=1, label="predict the mean")
    a1.set_xlabel("step")
    a1.set_ylabel("training loss (MSE, log scale)")
    a1.set_title("same data, same seed, same learning rate")
    a1.legend()
    a2.set_xticks(idx)
    a2.set_xticklabels([str(i) for i in idx[:-1]] + ["out"])
    a2.set_xlabel("layer (input side -> output side)")
    a2.set_ylabel("||W - W0|| / ||W0|| after training")
    a2.set_title("how far each layer's weights moved")
    a2.legend()
    fig.tight_layout()
    fig.savefig(out_dir / "03_training_curves.png", dpi=DPI)
    plt.close(fig)

    E, ws = small_sigmoid_chain()
    chain_grads = [abs(float(w.grad)) for w in ws]
    print("\na chain of six sigmoid neurons (picture 03_sigmoid_graph_by_grad.png): |dE/dw_i| = " + ", ".join(f"{g:.1e}" for g in chain_grads))
    render_graph(E, out_dir / "03_sigmoid_graph_by_grad.png", color_by_grad=True, show_data=False, show_grad=True, fmt=".1e",
                 rankdir="TB", title="six sigmoid neurons after backward(): fill = |grad|")

    return {
        "layer_grad_norms": norms,
        "sigmoid_derivative_max": sig_max,
        "sigmoid_derivative_means": means,
        "losses": losses,
        "weight_change": moved,
        "chain_weight_grads": chain_grads,
        "target_variance": float(Y.var()),
        "files": ["03_gradient_norms.png", "03_training_curves.png", "03_sigmoid_graph_by_grad.png"],
    }


if __name__ == "__main__":
    main(Path("out"))
