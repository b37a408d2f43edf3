"""Size: huge graphs run forward and backward at Python's default recursion limit, and match a reference.

The cyclic garbage collector is paused while these graphs are built: it would rescan the millions
of live nodes again and again (most of the build time) and the engine makes no cycles for it to
find (test_reliability_memory.py checks that with gc disabled). The graphs are freed by reference
counting when the test drops them; CPython's trashcan keeps that deallocation non-recursive.
"""

from __future__ import annotations

import gc
import sys

import numpy as np
import pytest

from autograd import Value, stack
from autograd.engine import toposort


@pytest.fixture
def default_recursion_limit():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default: any recursive walk of these graphs would fail
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        sys.setrecursionlimit(old)
        if was_enabled:
            gc.enable()


def test_chain_of_two_million_scalar_ops(default_recursion_limit):
    """y <- c*y + d, a million times (2,000,000 ops): value and gradient against the closed form."""
    m = 1_000_000
    c, d, x0 = 1.0 + 1e-7, 1e-7, 0.3
    x = Value(x0)
    y = x
    mid = None
    for k in range(m):
        y = y * c
        y = y + d
        if k == m // 2 - 1:
            mid = y  # after m/2 steps: dy/dmid = c ** (m/2)
    y.backward()
    cm = np.exp(m * np.log1p(c - 1))  # c ** m, computed another way
    assert y.item() == pytest.approx(cm * x0 + d * (cm - 1) / (c - 1), rel=1e-8)
    assert float(x.grad) == pytest.approx(cm, rel=1e-8)
    assert float(mid.grad) == pytest.approx(np.exp(m // 2 * np.log1p(c - 1)), rel=1e-8)
    del y, mid  # freeing 2,000,000 linked nodes must not recurse either
    assert float(x.grad) == pytest.approx(cm, rel=1e-8)


def _fan_reference(x0: np.ndarray, a: float, b: float, rounds: int) -> tuple[float, np.ndarray]:
    """The fan graph's loss and gradient, vectorised in numpy with a hand-written backward pass."""
    cs = [x0]
    for _ in range(rounds):
        c = cs[-1]
        cs.append(np.tanh(c * a + c.sum() * b))
    g = np.ones_like(x0)
    for k in range(rounds, 0, -1):
        gu = g * (1 - cs[k] ** 2)
        g = gu * a + (gu * b).sum()
    return float(cs[-1].sum()), g


def test_fan_in_fan_out_graph_of_200k_ops(default_recursion_limit):
    """n scalars; each round a hub stacks all n (uses many) and its sum feeds all n again (used by many)."""
    n, rounds, a, b = 1000, 67, 0.9, 0.3 / 1000
    rng = np.random.default_rng(0)
    x0 = rng.uniform(-1, 1, n)
    xs = [Value(v) for v in x0]
    cur = xs
    for _ in range(rounds):
        sb = stack(cur).sum() * b  # stack: one node with n parents; sb: one node with n children
        cur = [(c * a + sb).tanh() for c in cur]
    loss = stack(cur).sum()
    n_ops = len(toposort(loss)) - n
    assert n_ops >= 200_000
    loss.backward(retain_grads=False)
    ref_loss, ref_grad = _fan_reference(x0, a, b, rounds)
    assert loss.item() == pytest.approx(ref_loss, rel=1e-10)
    np.testing.assert_allclose([float(v.grad) for v in xs], ref_grad, rtol=1e-9, atol=1e-12)
    assert cur[0].grad is None  # retain_grads=False: intermediate gradients were not kept
