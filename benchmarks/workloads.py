"""The six workloads, each defined once: fixed-seed data, a hand-written numpy baseline, this engine.

A workload's `make(impl, size)` returns a runner: `runner()` does one timed unit of work
(a training step, a whole chain, a block of calls) and returns the loss it computed, so
every implementation can be checked against the numpy baseline step for step. The peers
(micrograd, PyTorch) live in `peers.py` and build their runners from the same data.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np

from .cnn import w6_data, w6_engine, w6_numpy
from .floor import w1_floor, w4_floor

SEED = 0
Runner = Callable[[], float]


# ---- data ---------------------------------------------------------------------------------


def make_moons(n: int = 100, noise: float = 0.1, seed: int = SEED) -> tuple[np.ndarray, np.ndarray]:
    """Two interleaving half circles (scikit-learn's make_moons), labels -1 and +1."""
    rng = np.random.default_rng(seed)
    n_out = n // 2
    n_in = n - n_out
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.stack([np.cos(t_out), np.sin(t_out)], 1), np.stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5], 1)])
    x = x + rng.normal(scale=noise, size=x.shape)
    y = np.concatenate([-np.ones(n_out), np.ones(n_in)])
    perm = rng.permutation(n)
    return x[perm], y[perm]


def w1_data(size: dict[str, Any]) -> dict[str, Any]:
    """Two moons and the weights of a 2 -> 16 -> 16 -> 1 MLP (uniform(-1, 1) weights, zero biases, as micrograd)."""
    x, y = make_moons(size["points"])
    rng = np.random.default_rng(SEED + 1)
    dims = [2, *size["hidden"], 1]
    layers = [(rng.uniform(-1, 1, size=(o, i)), np.zeros(o)) for i, o in zip(dims[:-1], dims[1:])]
    return {"x": x, "y": y, "layers": layers, "lr": 0.05, "alpha": 1e-4}


def mlp_data(size: dict[str, Any]) -> dict[str, Any]:
    """Random inputs and labels, and Kaiming-uniform weights (out, in) with zero biases, for W2 and W3."""
    rng = np.random.default_rng(SEED)
    dt = np.dtype(size["dtype"])
    dims, batch, nb = size["dims"], size["batch"], size["batches"]
    xs = [rng.standard_normal((batch, dims[0])).astype(dt) for _ in range(nb)]
    ys = [rng.integers(0, dims[-1], size=batch) for _ in range(nb)]
    layers = []
    for i, o in zip(dims[:-1], dims[1:]):
        bound = math.sqrt(6.0 / i)
        layers.append((rng.uniform(-bound, bound, size=(o, i)).astype(dt), np.zeros(o, dtype=dt)))
    return {"xs": xs, "ys": ys, "layers": layers, "lr": size["lr"], "steps": size["steps"]}


# ---- W1: micrograd's demo, every weight its own scalar ------------------------------------


def w1_numpy(d: dict[str, Any]) -> Runner:
    """The same MLP on the whole batch with arrays: forward, the hinge loss, backward and SGD by hand."""
    layers = [(w.copy(), b.copy()) for w, b in d["layers"]]
    x, y, lr, alpha = d["x"], d["y"], d["lr"], d["alpha"]
    n = len(y)

    def step() -> float:
        acts, pre = [x], []
        for k, (w, b) in enumerate(layers):
            z = acts[-1] @ w.T + b
            pre.append(z)
            acts.append(np.maximum(z, 0) if k < len(layers) - 1 else z)
        score = acts[-1][:, 0]
        margin = 1 - y * score
        reg = sum((w * w).sum() + (b * b).sum() for w, b in layers)
        loss = np.maximum(margin, 0).sum() * (1.0 / n) + alpha * reg
        g = ((margin > 0) * -y * (1.0 / n))[:, None]
        grads = []
        for k in range(len(layers) - 1, -1, -1):
            w, b = layers[k]
            if k < len(layers) - 1:
                g = g * (pre[k] > 0)
            grads.append((g.T @ acts[k] + 2 * alpha * w, g.sum(0) + 2 * alpha * b))
            g = g @ w
        for (w, b), (gw, gb) in zip(layers, reversed(grads)):
            w -= lr * gw
            b -= lr * gb
        return float(loss)

    return step


def w1_loss(layers: list[Any], params: list[Any], xs: list[list[float]], ys: list[float], alpha: float) -> Any:
    """micrograd's demo forward, line for line, on any scalar class with `*`, `+` and `relu`:
    a node per weight, per product and per sum; the hinge loss and the L2 penalty."""
    last = len(layers) - 1
    scores = []
    for xi in xs:
        act = xi
        for k, (w, b) in enumerate(layers):
            out = []
            for row, bi in zip(w, b):
                s = sum((wij * aj for wij, aj in zip(row, act)), bi)
                out.append(s.relu() if k < last else s)
            act = out
        scores.append(act[0])
    losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = alpha * sum(p * p for p in params)
    return data_loss + reg_loss


def w1_engine(d: dict[str, Any], jitted: bool = False) -> Runner:
    """micrograd's demo with a `Value` per weight: `w1_loss`, zero_grad, backward, SGD
    (jitted: the loss under autograd.jit, traced on the first step and replayed after)."""
    from autograd import Value, jit

    layers = [([[Value(wij) for wij in wi] for wi in w], [Value(bi) for bi in b]) for w, b in d["layers"]]
    params = [p for w, b in layers for row, bi in zip(w, b) for p in (*row, bi)]
    xs, ys, lr, alpha = d["x"].tolist(), d["y"].tolist(), d["lr"], d["alpha"]

    def loss() -> Any:
        return w1_loss(layers, params, xs, ys, alpha)

    loss_fn = jit(loss) if jitted else loss

    def step() -> float:
        total = loss_fn()
        for p in params:
            p.zero_grad()
        total.backward()
        for p in params:
            p.data -= lr * p.grad
        return float(total.data)

    return step


# ---- W2 and W3: a tensor MLP with softmax cross-entropy ---------------------------------


def mlp_numpy(d: dict[str, Any]) -> Runner:
    """Forward, cross-entropy, backward and SGD written by hand with numpy, as one would without an engine."""
    layers = [(w.copy(), b.copy()) for w, b in d["layers"]]
    xs, ys, lr = d["xs"], d["ys"], d["lr"]
    it = [0]

    def step() -> float:
        i = it[0] % len(xs)
        it[0] += 1
        x, y = xs[i], ys[i]
        n = len(y)
        acts, pre = [x], []
        for k, (w, b) in enumerate(layers):
            z = acts[-1] @ w.T + b
            pre.append(z)
            acts.append(np.maximum(z, 0) if k < len(layers) - 1 else z)
        z = acts[-1]
        s = z - z.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(n), y].mean()
        g = np.exp(logp)
        g[np.arange(n), y] -= 1
        g *= 1.0 / n
        for k in range(len(layers) - 1, -1, -1):
            w, b = layers[k]
            if k < len(layers) - 1:
                g = g * (pre[k] > 0)
            gw, gb = g.T @ acts[k], g.sum(axis=0)
            if k:
                g = g @ w
            w -= lr * gw
            b -= lr * gb
        return float(loss)

    return step


def mlp_engine(d: dict[str, Any], jitted: bool = False) -> Runner:
    """The same MLP as a user of this project writes it: nn.Linear and ReLU in nn.Sequential,
    nn.cross_entropy, optim.SGD; backward(retain_grads=False) keeps no intermediate gradients
    (jitted: the loss under autograd.jit, traced on the first step and replayed after)."""
    import nn
    from autograd import jit

    mods: list[Any] = []
    for k, (w, b) in enumerate(d["layers"]):
        lin = nn.Linear(w.shape[1], w.shape[0])
        lin.weight.data, lin.bias.data = w.copy(), b.copy()
        mods += [lin, nn.ReLU()] if k < len(d["layers"]) - 1 else [lin]
    model = nn.Sequential(*mods)
    opt = nn.optim.SGD(model.parameters(), lr=d["lr"])
    xs, ys = d["xs"], d["ys"]  # plain arrays, as a user passes a batch (the model wraps it as a constant)
    it = [0]

    def loss_of(x: Any, y: Any) -> Any:
        return nn.cross_entropy(model(x), y)

    loss_fn = jit(loss_of) if jitted else loss_of

    def step() -> float:
        i = it[0] % len(xs)
        it[0] += 1
        loss = loss_fn(xs[i], ys[i])
        opt.zero_grad()
        loss.backward(retain_grads=False)
        value = float(loss.data)
        del loss  # the graph (every activation) is freed before the update allocates
        opt.step()
        return value

    step.model = model  # type: ignore[attr-defined]  (for the tests)
    return step


# ---- W4: a deep chain of scalars ---------------------------------------------------------


def w4_data(size: dict[str, Any]) -> dict[str, Any]:
    return {"x": 0.5, "n": size["n"]}


def w4_numpy(d: dict[str, Any]) -> Runner:
    """y = tanh(0.9 y + 0.1) n times on numpy float64 scalars, keeping each y, then dy/dx backwards."""
    x0, n = np.float64(d["x"]), d["n"]
    tanh = np.tanh

    def step() -> float:
        ys = [None] * n
        y = x0
        for i in range(n):
            y = tanh(0.9 * y + 0.1)
            ys[i] = y
        g = np.float64(1.0)
        for y in reversed(ys):
            g = g * (1 - y * y) * 0.9
        return float(g)

    return step


def w4_engine(d: dict[str, Any]) -> Runner:
    """The same chain of Values, then `backward()`: dy/dx lands in x.grad."""
    from autograd import Value

    x0, n = d["x"], d["n"]

    def step() -> float:
        x = Value(x0)
        y = x
        for _ in range(n):
            y = (0.9 * y + 0.1).tanh()
        y.backward()
        return float(x.grad)

    return step


# ---- W5: per-op overhead -------------------------------------------------------------------


def w5_data(size: dict[str, Any]) -> dict[str, Any]:
    rng = np.random.default_rng(SEED)
    return {"a": rng.standard_normal(size["n"]), "b": rng.standard_normal(size["n"]), "calls": size["calls"]}


def w5_numpy(d: dict[str, Any]) -> Runner:
    """(a * b).sum() and its gradients da = g * b, db = g * a, by hand; `calls` times."""
    a, b, calls = d["a"], d["b"], d["calls"]

    def step() -> float:
        for _ in range(calls):
            s = (a * b).sum()
            g = 1.0  # d s / d s
            ga, gb = g * b, g * a
        return float(s) + float(ga[0] + gb[0])

    return step


def w5_engine(d: dict[str, Any], jitted: bool = False) -> Runner:
    """The same with Values: (a * b).sum().backward(), `calls` times, fresh gradients each time
    (jitted: (a * b).sum() under autograd.jit)."""
    from autograd import Value, jit

    a, b, calls = Value(d["a"]), Value(d["b"]), d["calls"]

    def dot() -> Any:
        return (a * b).sum()

    f = jit(dot) if jitted else dot

    def step() -> float:
        for _ in range(calls):
            a.zero_grad()
            b.zero_grad()
            s = f()
            s.backward()
        return float(s.data) + float(a.grad[0] + b.grad[0])

    return step


def gc_off(make: Callable[[dict[str, Any]], Runner]) -> Callable[[dict[str, Any]], Runner]:
    """The same runner with Python's cyclic garbage collector switched off during each call."""

    def made(d: dict[str, Any]) -> Runner:
        run = make(d)

        def step() -> float:
            was = gc.isenabled()
            gc.disable()
            try:
                return run()
            finally:
                if was:
                    gc.enable()

        return step

    return made


# ---- the registry ------------------------------------------------------------------------------


@dataclass
class Workload:
    """One row of the table: a workload at one size."""

    key: str
    title: str
    unit: str  # what one timed unit is: the times are reported per unit
    data: Callable[[dict[str, Any]], dict[str, Any]]
    impls: dict[str, Callable[[dict[str, Any]], Runner]]
    size: dict[str, Any]
    quick: dict[str, Any]
    units: Callable[[dict[str, Any]], int] = lambda s: 1  # units per runner() call
    calls: Callable[[dict[str, Any]], int] = lambda s: 1  # runner() calls per timed repetition
    peers: tuple[str, ...] = ()
    memory: bool = False
    max_reps: int = 100  # the slowest rows are repeated fewer times
    rep_factor: int = 1  # the fastest rows (a repetition of milliseconds) are repeated more, to steady the median
    notes: list[str] = field(default_factory=list)

    def sized(self, quick: bool) -> dict[str, Any]:
        return self.quick if quick else self.size


_MLP = {"numpy": mlp_numpy, "engine": mlp_engine}
w1_jit, mlp_jit, w5_jit = partial(w1_engine, jitted=True), partial(mlp_engine, jitted=True), partial(w5_engine, jitted=True)

WORKLOADS: list[Workload] = [
    Workload(
        "W1", "scalar MLP 2-16-16-1 on 100 moons (micrograd's demo)", "step", w1_data,
        {"numpy": w1_numpy, "engine": w1_engine, "engine-gc-off": gc_off(w1_engine), "floor": w1_floor, "jit": w1_jit},
        size={"points": 100, "hidden": (16, 16)}, quick={"points": 10, "hidden": (4, 4)},
        calls=lambda s: 1, peers=("micrograd", "micrograd-gc-off"),
    ),
    Workload(
        "W2", "MLP 64-128-64-10 float64, batch 64", "step", mlp_data, {**_MLP, "jit": mlp_jit},
        size={"dims": (64, 128, 64, 10), "batch": 64, "batches": 10, "dtype": "float64", "lr": 0.1, "steps": 200},
        quick={"dims": (8, 16, 8, 4), "batch": 8, "batches": 2, "dtype": "float64", "lr": 0.1, "steps": 4},
        calls=lambda s: s["steps"] // 4, peers=("torch",), rep_factor=3,
    ),
    Workload(
        "W3", "MLP 1024-2048-2048-10 float32, batch 512", "step", mlp_data, _MLP,
        size={"dims": (1024, 2048, 2048, 10), "batch": 512, "batches": 2, "dtype": "float32", "lr": 0.01, "steps": 20},
        quick={"dims": (16, 32, 32, 4), "batch": 8, "batches": 2, "dtype": "float32", "lr": 0.01, "steps": 4},
        calls=lambda s: s["steps"] // 4, peers=("torch",), memory=True,
    ),
    *[
        Workload(
            f"W4 N={n:,}", "deep chain y = tanh(0.9 y + 0.1), then dy/dx", "chain step", w4_data,
            {"numpy": w4_numpy, "engine": w4_engine, "engine-gc-off": gc_off(w4_engine), "floor": w4_floor},
            size={"n": n}, quick={"n": min(n, 300)}, units=lambda s: s["n"], calls=lambda s: max(1, 100_000 // s["n"]),
            peers=("torch", "micrograd") if n <= 100_000 else ("torch",), max_reps=3 if n >= 1_000_000 else 100,
        )
        for n in (1_000, 100_000, 1_000_000)
    ],
    Workload(
        "W5", "(a * b).sum() forward+backward, 1,000 float64", "call", w5_data,
        {"numpy": w5_numpy, "engine": w5_engine, "jit": w5_jit},
        size={"n": 1000, "calls": 1000}, quick={"n": 1000, "calls": 10}, units=lambda s: s["calls"],
        peers=("torch",), rep_factor=3,
    ),
    Workload(
        "W6", "CNN conv(1,8,3)-relu-maxpool-conv(8,16,3)-relu-linear float32, batch 64 of 28x28", "step", w6_data,
        {"numpy": w6_numpy, "engine": w6_engine},
        size={"batch": 64, "image": 28, "channels": (1, 8, 16), "classes": 10, "batches": 4, "dtype": "float32", "lr": 0.05, "steps": 20},
        quick={"batch": 4, "image": 10, "channels": (1, 2, 3), "classes": 10, "batches": 2, "dtype": "float32", "lr": 0.05, "steps": 4},
        calls=lambda s: s["steps"] // 4, peers=("torch",),
    ),
]


def get(key: str) -> Workload:
    """The workload named `key` ("W2", "W4 N=1,000", ...)."""
    for w in WORKLOADS:
        if w.key == key:
            return w
    raise KeyError(f"no workload {key!r}; there are {', '.join(w.key for w in WORKLOADS)}")
