"""The course's network, a Value per weight, learning handwritten digits: eager, then under autograd.jit.

examples/02_backpropagation.py builds a network the way the course notes do: every weight is a
Value of its own, a neuron is a sum of products and a sigmoid, the error is E = 1/2 sum (T - a)**2.
That is how backpropagation is taught, and it is slow: each multiply is a Python object, and a
step over a batch of images records tens of thousands of them.

Here the same kind of network (64 pixels -> 16 sigmoid neurons -> 10 sigmoid outputs, one per
digit) learns the UCI digits shipped with nn (8x8 images, CC BY 4.0). The training step is traced
once by `autograd.jit`, which records the graph and replays it on every later batch: the scalar
nodes of one op at one depth run as one numpy operation. The script times the same step eager and
under jit in one run, checks that both compute the same loss and gradients, trains under jit, and
writes the training curve.
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

import nn  # noqa: E402
from autograd import Value, jit  # noqa: E402

DPI = 90
SEED = 0


def make_network(n_in: int, n_hidden: int, n_out: int, seed: int = SEED) -> dict[str, list]:
    """Weights as the course writes them: lists of scalar Values (uniform in +-1/sqrt(fan-in)), biases 0."""
    rng = np.random.default_rng(seed)

    def layer(fan_in: int, n: int) -> tuple[list[list[Value]], list[Value]]:
        bound = 1 / np.sqrt(fan_in)
        return [[Value(rng.uniform(-bound, bound)) for _ in range(fan_in)] for _ in range(n)], [Value(0.0) for _ in range(n)]

    w1, b1 = layer(n_in, n_hidden)
    w2, b2 = layer(n_hidden, n_out)
    return {"w1": w1, "b1": b1, "w2": w2, "b2": b2}


def parameters(net: dict[str, list]) -> list[Value]:
    return [p for w, b in ((net["w1"], net["b1"]), (net["w2"], net["b2"])) for row in w for p in row] + net["b1"] + net["b2"]


def neuron(weights: list[Value], bias: Value, inputs: list) -> Value:
    """a = sigmoid(w . x + b), a sum of one product per input, as the course draws a neuron."""
    return sum((w * x for w, x in zip(weights, inputs)), bias).sigmoid()


def error(net: dict[str, list], x: np.ndarray, t: np.ndarray) -> Value:
    """The course's error, E = 1/2 sum (T - a)**2, averaged over a batch: x is (batch, 64) pixels, t (batch, 10) one-hot."""
    total = 0.0
    for i in range(len(x)):
        pixels = [x[i, j] for j in range(x.shape[1])]
        hidden = [neuron(w, b, pixels) for w, b in zip(net["w1"], net["b1"])]
        out = [neuron(w, b, hidden) for w, b in zip(net["w2"], net["b2"])]
        total = total + sum((t[i, k] - a) ** 2 for k, a in enumerate(out)) * 0.5
    return total * (1.0 / len(x))


def sgd_step(loss_fn, params: list[Value], x: np.ndarray, t: np.ndarray, lr: float, clock: list | None = None) -> float:
    """One step: E = loss_fn(x, t), dE/dw for every weight, w <- w - lr * dE/dw (clock: gets the
    seconds of the forward and backward passes and of the update)."""
    t0 = time.perf_counter()
    E = loss_fn(x, t)
    for p in params:
        p.zero_grad()
    E.backward()
    t1 = time.perf_counter()
    for p in params:
        p.data -= lr * p.grad
    if clock is not None:
        clock.append((t1 - t0, time.perf_counter() - t1))
    return float(E.data)


def accuracy(net: dict[str, list], x: np.ndarray, y: np.ndarray) -> float:
    """The trained weights read back as arrays, the network run on the test set with numpy."""
    w1 = np.array([[w.item() for w in row] for row in net["w1"]])
    w2 = np.array([[w.item() for w in row] for row in net["w2"]])
    b1, b2 = np.array([b.item() for b in net["b1"]]), np.array([b.item() for b in net["b2"]])
    hidden = 1 / (1 + np.exp(-(x @ w1.T + b1)))
    out = 1 / (1 + np.exp(-(hidden @ w2.T + b2)))
    return float((out.argmax(axis=1) == y).mean())


def main(out_dir: Path, quick: bool = False) -> dict:
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    X, y = nn.datasets.load_digits()
    X_train, X_test, y_train, y_test = nn.train_test_split(X / 16.0, y, test_size=0.25, stratify=True, rng=SEED)
    T_train = nn.one_hot(y_train, 10)
    hidden, batch, epochs, lr, eager_steps = (8, 8, 1, 3.0, 1) if quick else (16, 32, 12, 3.0, 3)
    rng = np.random.default_rng(SEED)
    batches = [idx for _ in range(epochs) for idx in np.array_split(rng.permutation(len(X_train)), len(X_train) // batch)]
    batches = [b[:batch] for b in batches if len(b) >= batch][: 40 if quick else None]
    net, net_jit = make_network(64, hidden, 10), make_network(64, hidden, 10)
    params, params_jit = parameters(net), parameters(net_jit)
    nodes = 64 * hidden * 2 + hidden * 10 * 2 + hidden + 10 * 4
    print(f"UCI digits: {len(X_train)} training and {len(X_test)} test images of 8x8 pixels")
    print(f"network 64 -> {hidden} -> 10, sigmoid neurons, {len(params)} weights, each its own Value; "
          f"a batch of {batch} records about {nodes * batch:,} nodes")

    # the same steps, eager and under jit, from the same weights: the same numbers
    def step_eager(x: np.ndarray, t: np.ndarray) -> Value:
        return error(net, x, t)

    @jit  # the network is closed over, as a model's weights are: read afresh at every call
    def step_jit(x: np.ndarray, t: np.ndarray) -> Value:
        return error(net_jit, x, t)

    t0 = time.perf_counter()
    losses = [sgd_step(step_jit, params_jit, X_train[batches[0]], T_train[batches[0]], lr)]
    compile_s = time.perf_counter() - t0
    losses += [sgd_step(step_jit, params_jit, X_train[batches[k]], T_train[batches[k]], lr) for k in range(1, eager_steps)]
    eager_times, eager_losses = [], []
    for k in range(eager_steps):
        t0 = time.perf_counter()
        eager_losses.append(sgd_step(step_eager, params, X_train[batches[k]], T_train[batches[k]], lr))
        eager_times.append(time.perf_counter() - t0)
    diffs = [abs(a - b) / b for a, b in zip(losses, eager_losses)]
    diffs.append(max(abs(p.item() - q.item()) / max(abs(p.item()), 1e-300) for p, q in zip(params, params_jit)))
    print(f"eager:  {1e3 * np.median(eager_times):.0f} ms a step ({eager_steps} step{'s' if eager_steps > 1 else ''})")
    print(f"jit:    first call {compile_s:.2f} s (the step run eagerly while traced, then compiled; the second call traces "
          f"once more, to check the recording); the same losses and weights as eager after {eager_steps} "
          f"step{'s' if eager_steps > 1 else ''}: largest relative difference {max(diffs):.1e}")

    # train on under jit
    t0 = time.perf_counter()
    clock: list = []
    for k in range(eager_steps, len(batches)):
        losses.append(sgd_step(step_jit, params_jit, X_train[batches[k]], T_train[batches[k]], lr, clock))
    total_s = time.perf_counter() - t0
    fb, up = np.median(clock, axis=0) if clock else (0.0, 0.0)
    jit_s = float(np.median(np.sum(clock, axis=1))) if clock else total_s  # (the median: the second call also checks the trace)
    speedup = np.median(eager_times) / jit_s
    test_acc = accuracy(net_jit, X_test, y_test)
    print(f"jit:    {1e3 * jit_s:.2f} ms a step (median of {len(batches) - eager_steps} steps, {total_s:.1f} s in all): {speedup:,.0f}x faster than eager "
          f"(the replayed forward and backward {1e3 * fb:.2f} ms, the update loop over {len(params)} Values {1e3 * up:.2f} ms)")
    print(f"E went from {losses[0]:.4f} to {np.mean(losses[-10:]):.4f} (mean of the last 10 batches); "
          f"test accuracy {test_acc:.3f} after {len(batches)} steps of {batch} images")

    fig, ax = plt.subplots(figsize=(6, 3.6))
    ax.plot(losses, color="C0", lw=0.8, alpha=0.5, label="E of each batch")
    window = min(20, len(losses))
    ax.plot(np.arange(window - 1, len(losses)), np.convolve(losses, np.ones(window) / window, mode="valid"), color="C0", lw=2, label=f"mean of {window}")
    ax.set(xlabel="step", ylabel="E = 1/2 sum (T - a)^2", title=f"a Value per weight, under jit: {1e3 * jit_s:.1f} ms a step ({speedup:,.0f}x eager)")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out_dir / "10_jit_training.png", dpi=DPI)
    plt.close(fig)
    return {
        "eager_ms": 1e3 * float(np.median(eager_times)),
        "jit_ms": 1e3 * jit_s,
        "speedup": float(speedup),
        "compile_s": compile_s,
        "jit_forward_backward_ms": 1e3 * float(fb),
        "update_ms": 1e3 * float(up),
        "max_rel_diff": float(max(diffs)),
        "losses": losses,
        "test_accuracy": test_acc,
        "files": ["10_jit_training.png"],
    }


if __name__ == "__main__":
    main(Path("out"))
