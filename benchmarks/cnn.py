"""W6, a small CNN's training step: Conv2d(1, 8, 3) - ReLU - MaxPool2d(2) - Conv2d(8, 16, 3) - ReLU - Flatten - Linear(-> 10),
softmax cross-entropy, SGD, on batches of 1 x 28 x 28 float32 images. Data, the hand-written numpy
baseline, this engine and PyTorch eager, from the same fixed-seed weights.

The numpy baseline is what one writes without an engine: im2col with `sliding_window_view` and
one matmul per convolution, the weight gradient as one matmul against the kept columns, the input
gradient by col2im (one strided-slice add per kernel offset), max pooling by the maximum of four
strided slices, the gradient formulas by hand, in-place SGD.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SEED = 0  # (workloads.SEED: this module is imported by workloads.py)
Runner = Callable[[], float]


def w6_data(size: dict[str, Any]) -> dict[str, Any]:
    """Random images in [0, 1) and labels; weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)) (PyTorch's defaults)."""
    rng = np.random.default_rng(SEED)
    dt = np.dtype(size["dtype"])
    c0, c1, c2 = size["channels"]
    n, side, k, classes = size["batch"], size["image"], 3, size["classes"]
    xs = [rng.random((n, c0, side, side)).astype(dt) for _ in range(size["batches"])]
    ys = [rng.integers(0, classes, size=n) for _ in range(size["batches"])]
    flat = c2 * ((side - k + 1) // 2 - k + 1) ** 2

    def uniform(shape: tuple[int, ...], fan_in: int) -> np.ndarray:
        b = 1 / math.sqrt(fan_in)
        return rng.uniform(-b, b, shape).astype(dt)

    params = [
        uniform((c1, c0, k, k), c0 * k * k), uniform((c1,), c0 * k * k),
        uniform((c2, c1, k, k), c1 * k * k), uniform((c2,), c1 * k * k),
        uniform((classes, flat), flat), uniform((classes,), flat),
    ]  # fmt: skip
    return {"xs": xs, "ys": ys, "params": params, "lr": size["lr"]}


# ---- the numpy baseline -------------------------------------------------------------------------


def _conv(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Valid convolution, stride 1: (output, columns kept for the backward pass)."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    lh, lw = h - kh + 1, wd - kw + 1
    cols = sliding_window_view(x, (kh, kw), axis=(2, 3)).transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, lh * lw)
    y = w.reshape(o, -1) @ cols  # (n, o, lh * lw)
    y += b[:, None]
    return y.reshape(n, o, lh, lw), cols


def _conv_backward(g: np.ndarray, w: np.ndarray, cols: np.ndarray, xshape: tuple[int, ...] | None) -> tuple[Any, Any, Any]:
    """Gradients of weight, bias and (unless xshape is None) input from the output's gradient g."""
    n, o, lh, lw = g.shape
    g3 = g.reshape(n, o, lh * lw)
    gw = (g3 @ cols.transpose(0, 2, 1)).sum(axis=0).reshape(w.shape)
    gb = g.sum(axis=(0, 2, 3))
    if xshape is None:
        return gw, gb, None
    _, c, kh, kw = w.shape
    dcols = (w.reshape(o, -1).T @ g3).reshape(n, c, kh, kw, lh, lw)
    gx = np.zeros(xshape, dtype=g.dtype)
    for i in range(kh):
        for j in range(kw):
            gx[:, :, i : i + lh, j : j + lw] += dcols[:, :, i, j]
    return gw, gb, gx


_QUARTERS = [(0, 0), (0, 1), (1, 0), (1, 1)]


def _max_pool2(x: np.ndarray) -> np.ndarray:
    """2 x 2 max pooling, stride 2 (even sides)."""
    q = [x[:, :, i::2, j::2] for i, j in _QUARTERS]
    return np.maximum(np.maximum(q[0], q[1]), np.maximum(q[2], q[3]))


def _max_pool2_backward(g: np.ndarray, x: np.ndarray, out: np.ndarray) -> np.ndarray:
    """The gradient of 2 x 2 max pooling: each window's to its maximum. (Tied maxima would all get
    it; here ties are windows of ReLU zeros, whose gradient the ReLU's backward zeroes anyway.)"""
    gx = np.empty_like(x)
    for i, j in _QUARTERS:
        np.multiply(g, x[:, :, i::2, j::2] == out, out=gx[:, :, i::2, j::2])
    return gx


def w6_numpy(d: dict[str, Any]) -> Runner:
    """Forward, cross-entropy, backward and SGD of the CNN, by hand."""
    w1, b1, w2, b2, w3, b3 = params = [p.copy() for p in d["params"]]
    xs, ys, lr = d["xs"], d["ys"], d["lr"]
    it = [0]

    def step() -> float:
        i = it[0] % len(xs)
        it[0] += 1
        x, y = xs[i], ys[i]
        n = len(y)
        c1, cols1 = _conv(x, w1, b1)
        r1 = np.maximum(c1, 0)
        p1 = _max_pool2(r1)
        c2, cols2 = _conv(p1, w2, b2)
        r2 = np.maximum(c2, 0)
        f = r2.reshape(n, -1)
        z = f @ w3.T + b3
        s = z - z.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        loss = -logp[np.arange(n), y].mean()
        g = np.exp(logp)
        g[np.arange(n), y] -= 1
        g *= 1.0 / n
        gw3, gb3 = g.T @ f, g.sum(axis=0)
        gr2 = (g @ w3).reshape(r2.shape) * (c2 > 0)
        gw2, gb2, gp1 = _conv_backward(gr2, w2, cols2, p1.shape)
        gr1 = _max_pool2_backward(gp1, r1, p1) * (c1 > 0)
        gw1, gb1, _ = _conv_backward(gr1, w1, cols1, None)
        for p, gp in zip(params, (gw1, gb1, gw2, gb2, gw3, gb3)):
            p -= lr * gp
        return float(loss)

    return step


# ---- this engine ------------------------------------------------------------------------------------


def w6_engine(d: dict[str, Any]) -> Runner:
    """The CNN as a user of this project writes it: nn.Sequential of nn.Conv2d, nn.ReLU, nn.MaxPool2d,
    nn.Flatten, nn.Linear; nn.cross_entropy; optim.SGD; backward(retain_grads=False)."""
    import nn

    w1, b1, w2, b2, w3, b3 = d["params"]
    model = nn.Sequential(
        nn.Conv2d(w1.shape[1], w1.shape[0], 3), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(w2.shape[1], w2.shape[0], 3), nn.ReLU(), nn.Flatten(), nn.Linear(w3.shape[1], w3.shape[0]),
    )  # fmt: skip
    for p, a in zip(model.parameters(), d["params"]):
        p.data = a.copy()
    opt = nn.optim.SGD(model.parameters(), lr=d["lr"])
    xs, ys = d["xs"], d["ys"]
    it = [0]
    # NOTE: the loop of workloads.mlp_engine, written again: one helper for both measured W2 ~6% slower
    # (same-process A/B, 8 processes), and W2 meets its target by less than that.

    def step() -> float:
        i = it[0] % len(xs)
        it[0] += 1
        loss = nn.cross_entropy(model(xs[i]), ys[i])
        opt.zero_grad()
        loss.backward(retain_grads=False)
        value = float(loss.data)
        del loss  # the graph is freed before the update
        opt.step()
        return value

    step.model = model  # type: ignore[attr-defined]  (for the tests)
    return step


# ---- PyTorch (run in its own process by benchmarks.peers) -------------------------------------------------


def w6_torch(d: dict[str, Any]) -> Runner:
    """The CNN in eager PyTorch: F.conv2d, relu, max_pool2d, flatten, linear, cross_entropy; SGD under no_grad."""
    import torch
    import torch.nn.functional as F

    w1, b1, w2, b2, w3, b3 = params = [torch.tensor(p, requires_grad=True) for p in d["params"]]
    xs = [torch.from_numpy(x) for x in d["xs"]]
    ys = [torch.from_numpy(y) for y in d["ys"]]
    lr = d["lr"]
    it = [0]

    def step() -> float:
        i = it[0] % len(xs)
        it[0] += 1
        h = F.max_pool2d(torch.relu(F.conv2d(xs[i], w1, b1)), 2)
        h = torch.relu(F.conv2d(h, w2, b2)).flatten(1)
        loss = F.cross_entropy(F.linear(h, w3, b3), ys[i])
        for p in params:
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in params:
                p -= lr * p.grad
        return float(loss)

    return step
