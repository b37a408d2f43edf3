"""The peers, micrograd and PyTorch, on the same workloads; each runs in its own process.

`python -m benchmarks.peers PEER KEY [--quick] [--reps R]` prints one JSON object: seconds per
unit of each repetition, the loss of every call, and (for memory workloads) the peak resident
memory the run added. The data come from the same fixed-seed functions as ours.
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import sys
from collections.abc import Callable
from typing import Any

from . import timing
from .cnn import w6_torch
from .workloads import Runner, get

PEERS = ("micrograd", "micrograd-gc-off", "torch")


def available(peer: str) -> bool:
    """Whether the peer's package can be imported here."""
    import importlib.util

    return importlib.util.find_spec("torch" if peer == "torch" else "micrograd") is not None


# ---- micrograd -----------------------------------------------------------------------------


def _mg_tanh(v: Any) -> Any:
    """tanh as micrograd's lecture adds it (the package ships relu only)."""
    from micrograd.engine import Value

    t = math.tanh(v.data)
    out = Value(t, (v,), "tanh")

    def _backward() -> None:
        v.grad += (1 - t * t) * out.grad

    out._backward = _backward
    return out


def micrograd_w1(d: dict[str, Any]) -> Runner:
    """micrograd's demo: its own MLP with our weights, hinge loss + L2, backward, SGD."""
    from micrograd.engine import Value
    from micrograd.nn import MLP

    dims = [layer[0].shape[1] for layer in d["layers"]] + [d["layers"][-1][0].shape[0]]
    model = MLP(dims[0], dims[1:])
    for layer, (w, b) in zip(model.layers, d["layers"]):
        for neuron, wi, bi in zip(layer.neurons, w.tolist(), b.tolist()):
            neuron.w = [Value(v) for v in wi]
            neuron.b = Value(bi)
    xs, ys = d["x"].tolist(), d["y"].tolist()
    lr, alpha = d["lr"], d["alpha"]

    def step() -> float:
        scores = [model(x) for x in xs]
        losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
        data_loss = sum(losses) * (1.0 / len(losses))
        reg_loss = alpha * sum(p * p for p in model.parameters())
        total = data_loss + reg_loss
        model.zero_grad()
        total.backward()
        for p in model.parameters():
            p.data -= lr * p.grad
        return float(total.data)

    return step


def micrograd_w4(d: dict[str, Any]) -> Runner:
    """The chain with micrograd Values (its recursive topological sort needs a raised recursion limit)."""
    from micrograd.engine import Value

    x0, n = d["x"], d["n"]
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10 * n + 1000))

    def step() -> float:
        x = Value(x0)
        y = x
        for _ in range(n):
            y = _mg_tanh(0.9 * y + 0.1)
        y.backward()
        return float(x.grad)

    return step


# ---- PyTorch -------------------------------------------------------------------------------------


def torch_mlp(d: dict[str, Any]) -> Runner:
    """The MLP in eager PyTorch: x @ W.T + b, relu, cross_entropy, backward, SGD under no_grad."""
    import torch
    import torch.nn.functional as F

    params = [(torch.tensor(w, requires_grad=True), torch.tensor(b, requires_grad=True)) for w, b in d["layers"]]
    xs = [torch.from_numpy(x) for x in d["xs"]]
    ys = [torch.from_numpy(y) for y in d["ys"]]
    lr = d["lr"]
    it = [0]
    last = len(params) - 1

    def step() -> float:
        i = it[0] % len(xs)
        it[0] += 1
        h = xs[i]
        for k, (w, b) in enumerate(params):
            h = h @ w.T + b
            if k < last:
                h = torch.relu(h)
        loss = F.cross_entropy(h, ys[i])
        for w, b in params:
            w.grad = None
            b.grad = None
        loss.backward()
        with torch.no_grad():
            for w, b in params:
                w -= lr * w.grad
                b -= lr * b.grad
        return float(loss)

    return step


def torch_w4(d: dict[str, Any]) -> Runner:
    """The chain on 0-d float64 tensors."""
    import torch

    x0, n = d["x"], d["n"]

    def step() -> float:
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        y = x
        for _ in range(n):
            y = torch.tanh(0.9 * y + 0.1)
        y.backward()
        return float(x.grad)

    return step


def torch_w5(d: dict[str, Any]) -> Runner:
    """(a * b).sum().backward() on float64 tensors, gradients reset to None each call."""
    import torch

    a = torch.tensor(d["a"], requires_grad=True)
    b = torch.tensor(d["b"], requires_grad=True)
    calls = d["calls"]

    def step() -> float:
        for _ in range(calls):
            a.grad = None
            b.grad = None
            s = (a * b).sum()
            s.backward()
        return float(s) + float(a.grad[0] + b.grad[0])

    return step


IMPLS: dict[tuple[str, str], Callable[[dict[str, Any]], Runner]] = {
    ("micrograd", "W1"): micrograd_w1,
    ("micrograd-gc-off", "W1"): micrograd_w1,
    ("micrograd", "W4"): micrograd_w4,
    ("torch", "W2"): torch_mlp,
    ("torch", "W3"): torch_mlp,
    ("torch", "W4"): torch_w4,
    ("torch", "W5"): torch_w5,
    ("torch", "W6"): w6_torch,
}


def _rss_peak_reset() -> int:
    """Reset the kernel's resident-memory high-water mark; return the current resident bytes."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return _status("VmRSS")
    except OSError:
        return -1


def _status(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    return -1


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("peer", choices=PEERS)
    ap.add_argument("key")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    a = ap.parse_args(argv)
    w = get(a.key)
    size = w.sized(a.quick)
    make = IMPLS[(a.peer, a.key.split()[0])]
    if a.peer == "torch":
        import torch

        threads = int(os.environ.get("BENCH_THREADS", "0"))
        if threads > 0:
            torch.set_num_threads(threads)
    if a.peer == "micrograd-gc-off":
        gc.disable()
    before = _rss_peak_reset() if w.memory else -1
    d = w.data(size)
    both = timing.measure({"numpy": w.impls["numpy"](d), a.peer: make(d)}, w.calls(size), w.units(size), a.reps, a.warmup)
    res = both[a.peer]
    res["numpy_times"] = both["numpy"]["times"]  # this process's own baseline, for the peer's ratio
    if before >= 0:
        res["peak_rss_added"] = _status("VmHWM") - before
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    main()
