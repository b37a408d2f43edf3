"""Memory: flat over long training with the cycle collector off, backward's peak close to the forward's.

Measured with tracemalloc (Python-level allocations, numpy's arrays included).
"""

from __future__ import annotations

import contextlib
import gc
import tracemalloc
from collections.abc import Callable, Iterator

import numpy as np
import pytest

import autograd
import nn
from autograd import Value

MiB = 1 << 20


@contextlib.contextmanager
def _traced_without_gc() -> Iterator[int]:
    """tracemalloc on and the cycle collector off inside; yields the bytes allocated at the start."""
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    tracemalloc.start()
    try:
        yield tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
        if was_enabled:
            gc.enable()


def _measure_growth(step: Callable[[], None], steps: int, warmup: int = 50) -> tuple[int, int]:
    """Bytes still allocated after `steps` calls (cycle collector off), and the cycles gc then finds."""
    for _ in range(warmup):  # caches, lazily imported modules, optimizer state: allocated once
        step()
    with _traced_without_gc() as base:
        for _ in range(steps):
            step()
        grown = tracemalloc.get_traced_memory()[0] - base
        cycles = gc.collect()
    return grown, cycles


def test_training_autograd_only_mlp_memory_flat():
    """A 2-16-1 tanh MLP written with Values, trained by hand for 1,000 steps: memory does not grow
    (the engine alone, without nn; the 5,000-step test below adds modules and an optimizer)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 2))
    y = np.sin(X[:, :1]) * 0.5
    W1, b1 = Value(rng.normal(size=(2, 16)) * 0.5), Value(np.zeros(16))
    W2, b2 = Value(rng.normal(size=(16, 1)) * 0.5), Value(np.zeros(1))
    params = [W1, b1, W2, b2]
    losses = np.empty(1050)  # preallocated: the measurement should see only the engine's allocations
    k = [0]

    def step():
        h = (X @ W1 + b1).tanh()
        loss = ((h @ W2 + b2 - y) ** 2).mean()
        for p in params:
            p.zero_grad()
        loss.backward()
        with autograd.no_grad():
            for p in params:
                p.data = p.data - 0.1 * p.grad
        losses[k[0]] = loss.item()
        k[0] += 1

    grown, cycles = _measure_growth(step, 1000)
    assert k[0] == 1050 and losses[-1] < losses[0] * 0.5  # it really trained
    assert grown < 1 * MiB, f"memory grew by {grown / MiB:.2f} MiB over 1,000 steps"
    assert cycles == 0, f"{cycles} objects were only reclaimable by the cycle collector"


def test_training_5000_steps_nn_mlp_adam_memory_flat():
    """nn.MLP + Adam + mse_loss for 5,000 steps: no cycles, nothing kept by modules, optimizer or caches."""
    rng = np.random.default_rng(1)
    X = rng.normal(size=(32, 2))
    y = np.sin(X[:, :1]) * 0.5
    model = nn.MLP(2, [16, 1], activation="tanh", rng=0)
    opt = nn.optim.Adam(model.parameters(), lr=0.01)
    losses = np.empty(5050)
    k = [0]

    def step():
        opt.zero_grad()
        loss = nn.mse_loss(model(X), y)
        loss.backward()
        opt.step()
        losses[k[0]] = loss.item()
        k[0] += 1

    grown, cycles = _measure_growth(step, 5000)
    assert k[0] == 5050 and losses[-1] < losses[0] * 0.5
    assert grown < 2 * MiB, f"memory grew by {grown / MiB:.2f} MiB over 5,000 steps"
    assert cycles == 0, f"{cycles} objects were only reclaimable by the cycle collector"


def test_nn_fit_memory_flat():
    """nn.fit's loop (data loader, history, scheduler) keeps no graph alive from epoch to epoch."""
    rng = np.random.default_rng(2)
    X = rng.normal(size=(64, 2))
    y = (X[:, 0] > X[:, 1]).astype(np.int64)
    model = nn.MLP(2, [8, 2], rng=0)
    opt = nn.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = nn.optim.StepLR(opt, step_size=50, gamma=0.5)

    def epochs():
        nn.fit(model, nn.cross_entropy, opt, X, y, epochs=10, batch_size=16, scheduler=sched, verbose=False, rng=0)

    grown, cycles = _measure_growth(epochs, 20, warmup=2)  # 200 epochs, 800 steps
    assert grown < 1 * MiB, f"memory grew by {grown / MiB:.2f} MiB over 800 steps of nn.fit"
    assert cycles == 0, f"{cycles} objects were only reclaimable by the cycle collector"


def _deep_tensor_graph(x: Value, depth: int) -> Value:
    y = x
    for i in range(depth):
        y = (y * 1.01).tanh() if i % 2 else y.sigmoid() + y
    return y.sum()


@pytest.mark.parametrize("retain_grads, factor", [(False, 1.25), (True, 2.3)])
def test_backward_peak_memory_close_to_forward(retain_grads, factor):
    """Peak memory during backward over a 100-op graph of (200, 100) arrays, relative to the forward's.

    Measured here: about 1.04x the forward's memory with retain_grads=False (pending gradients are
    popped as they are used, so only a few arrays are alive beside the graph), and about 2x with
    the default retain_grads=True (every intermediate keeps a .grad as large as its value, by design).
    """
    rng = np.random.default_rng(0)
    with _traced_without_gc() as base:
        x = Value(rng.normal(size=(200, 100)))
        loss = _deep_tensor_graph(x, 100)
        forward = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.reset_peak()
        loss.backward(retain_grads=retain_grads)
        peak = tracemalloc.get_traced_memory()[1] - base
        assert x.grad.shape == (200, 100)
        del loss  # the whole graph is freed by reference counting alone
        left = tracemalloc.get_traced_memory()[0] - base
    assert forward > 20 * MiB  # the graph holds ~200 arrays of 160 KB
    assert peak <= factor * forward, f"backward peaked at {peak / forward:.2f}x the forward's memory"
    assert left < 1 * MiB, f"{left / MiB:.1f} MiB still allocated after the graph was dropped"


def test_a_recorded_op_is_one_object_for_the_cyclic_collector():
    """Python's cyclic collector rescans every live tracked object on each full collection, so the
    cost of a big live graph grows with the objects per node: one Value, no tuple of inputs, and
    no fresh node for a repeated Python constant."""
    import gc

    from autograd import Value

    def build(n):
        y = Value(0.5)
        for _ in range(n):
            y = (0.9 * y + 0.1).tanh()  # three ops a step
        return y

    build(10)  # the constants 0.9 and 0.1 are made (and shared) from here on
    gc.collect()
    gc.disable()
    try:
        before = len(gc.get_objects())
        y = build(1000)
        after = len(gc.get_objects())
    finally:
        gc.enable()
    assert 3000 <= after - before <= 3000 + 50, after - before
    del y


def _freed_after(make_graph_and_fail: Callable[[], object]) -> bool:
    """Whether the graph make_graph_and_fail built (it returns a weak reference to one node) is freed
    by reference counting alone, once the error it raised and caught is gone."""
    was = gc.isenabled()
    gc.disable()
    try:
        with np.errstate(all="raise"):  # the README's advice for turning numpy's warnings into errors
            ref = make_graph_and_fail()
        return ref() is None
    finally:
        if was:
            gc.enable()


def test_an_error_in_a_rule_or_a_retried_forward_keeps_no_graph_alive():
    import weakref

    def rule_fails():
        x = Value(np.array([1.0, 0.0, 4.0]))
        h = x.sqrt()
        loss = (h * 3.0).sum()
        ref = weakref.ref(h)
        with pytest.raises(FloatingPointError):
            loss.backward()  # sqrt's gradient at 0 divides by 0
        return ref

    def forward_fails():
        h = (Value(0.0) * 2.0).tanh()
        ref = weakref.ref(h)
        with pytest.raises(FloatingPointError):
            h.log()  # log(0.0): Python raises, and numpy, asked again, raises too
        return ref

    assert _freed_after(rule_fails)
    assert _freed_after(forward_fails)
