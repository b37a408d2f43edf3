"""Threads: no_grad, detect_anomaly and the module scope are per thread; two trainings at once are both correct."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

import autograd
import nn
from autograd import Value

STEPS = 150


def _data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(32, 3))
    y = X @ np.array([[1.0], [-2.0], [0.5]]) + 0.1
    return X, y


def _train(record: dict, barrier: threading.Barrier | None) -> None:
    """Adam on a small MLP; records the losses and the final weights."""
    X, y = _data()
    model = nn.MLP(3, [8, 1], activation="tanh", rng=42)
    opt = nn.optim.Adam(model.parameters(), lr=0.02)
    if barrier is not None:
        barrier.wait()
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = nn.mse_loss(model(X), y)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    record["losses"] = losses
    record["weights"] = {k: np.array(v) for k, v in model.state_dict().items()}


def _no_grad_worker(record: dict, barrier: threading.Barrier) -> None:
    """Inside no_grad the whole time: fit linear weights by hand-computed gradients, checking nothing records."""
    X, y = _data()
    w = Value(np.zeros((3, 1)))
    b = Value(np.zeros(1))
    barrier.wait()
    with autograd.no_grad():
        for _ in range(STEPS * 4):
            pred = X @ w + b
            assert not pred.requires_grad and pred.parents == () and not autograd.is_grad_enabled()
            err = (pred - y).data
            w.data = w.data - 0.1 * X.T @ err / len(X)
            b.data = b.data - 0.1 * err.mean(axis=0)
    record["w"], record["b"] = w.data.copy(), b.data.copy()


def _run_in_thread(target, *args) -> threading.Thread:
    errors = []

    def run():
        try:
            target(*args)
        except BaseException as e:  # noqa: BLE001  (re-raised in the main thread)
            errors.append(e)

    t = threading.Thread(target=run)
    t.errors = errors  # type: ignore[attr-defined]
    t.start()
    return t


@pytest.fixture
def fast_switching():
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # interleave the threads op by op, not in 5 ms slices
    yield
    sys.setswitchinterval(old)


def test_two_trainings_at_once_one_inside_no_grad(fast_switching):
    alone: dict = {}
    _train(alone, None)  # the reference: the same training, alone in this thread

    a: dict = {}
    b: dict = {}
    barrier = threading.Barrier(2)
    ta = _run_in_thread(_train, a, barrier)
    tb = _run_in_thread(_no_grad_worker, b, barrier)
    ta.join(120)
    tb.join(120)
    for t in (ta, tb):
        if t.errors:
            raise t.errors[0]

    assert a["losses"] == alone["losses"]  # bit for bit: the other thread's no_grad never leaked in
    for k in alone["weights"]:
        np.testing.assert_array_equal(a["weights"][k], alone["weights"][k])
    assert a["losses"][-1] < 0.1 * a["losses"][0]
    np.testing.assert_allclose(b["w"].ravel(), [1.0, -2.0, 0.5], atol=1e-2)  # least squares solution
    np.testing.assert_allclose(b["b"], [0.1], atol=1e-2)
    assert autograd.is_grad_enabled()


def test_no_grad_in_one_thread_does_not_switch_off_another():
    inside, outside = threading.Event(), threading.Event()
    seen = {}

    def holder():
        with autograd.no_grad():
            inside.set()
            outside.wait(10)
            seen["holder"] = (Value(1.0) * 2).requires_grad

    t = threading.Thread(target=holder)
    t.start()
    inside.wait(10)
    seen["main"] = (Value(1.0) * 2).requires_grad  # while the other thread is inside no_grad
    outside.set()
    t.join()
    assert seen == {"holder": False, "main": True}


def test_module_scope_is_per_thread(fast_switching):
    """Graph nodes record the module that made them; a model run in another thread never leaks into ours."""
    ours, theirs = nn.Linear(3, 3, rng=0), nn.Linear(3, 3, rng=1)
    stop = threading.Event()

    def other():
        while not stop.is_set():
            theirs(np.ones((2, 3)))

    t = threading.Thread(target=other)
    t.start()
    try:
        for _ in range(200):
            x = Value(np.ones((2, 3)))
            out = (x * 2).sum()  # made outside any module: scope None
            assert out.scope is None, out.scope
            y = ours(np.ones((2, 3)))
            assert y.scope is not None and all(m is ours for m in y.scope), y.scope
    finally:
        stop.set()
        t.join()
