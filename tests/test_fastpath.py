"""The unrolled backward loop (autograd/fastpath.py) computes what the reference one (engine.backprop)
computes, bit for bit, on every op of the tables (tests/test_ops.py, tests/test_numpy.py); and the reference-count check it relies on.

(The engine's own tests also run on both loops: see the `backward_path` fixture in conftest.py.)
"""

from __future__ import annotations

import sys
import weakref
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograd import Op, Value, apply, engine

from .op_table import Case
from .test_numpy import CASES as NUMPY_CASES
from .test_ops import CASES as OP_CASES

CASES = [*OP_CASES, *NUMPY_CASES]  # every table of ops


def _grads(case: Case, arrays: tuple[np.ndarray, ...], params: dict, up_seed: int, fast: bool, keep: bool) -> list[tuple[str, object]]:
    """Every stored gradient (leaves, and with `keep` every node) after one backward pass on one loop."""
    engine.FAST_PATH = fast
    try:
        args = [a if i in case.consts else Value(a) for i, a in enumerate(arrays)]
        out = case.f(*args, **params)
        nodes = engine.toposort(out)
        up = np.random.default_rng(up_seed).standard_normal(out.shape)
        out.backward(up, retain_grads=keep)
    finally:
        engine.FAST_PATH = True
    return [(n.op or "leaf", n._grad) for n in nodes]


def _same_bits(a: object, b: object) -> bool:
    if a is None or b is None:
        return a is b
    x, y = np.asarray(a), np.asarray(b)
    return x.dtype == y.dtype and x.shape == y.shape and x.tobytes() == y.tobytes()


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=5)
@given(data=st.data(), keep=st.booleans(), f32=st.booleans())
def test_fast_loop_equals_reference_loop_bit_for_bit(case: Case, data: st.DataObject, keep: bool, f32: bool) -> None:
    arrays, params = data.draw(case.draw, label="inputs")
    if f32:
        arrays = tuple(a.astype(np.float32) for a in arrays)
    fast = _grads(case, arrays, params, 0, True, keep)
    ref = _grads(case, arrays, params, 0, False, keep)
    assert [n for n, _ in fast] == [n for n, _ in ref]
    for (name, a), (_, b) in zip(fast, ref):
        assert _same_bits(a, b), f"{case.name}: the gradient stored at {name} differs between the two loops:\n{a!r}\n{b!r}"


def test_both_loops_agree_on_a_scalar_network_with_many_input_nodes():
    """Python-float scalars (micrograd's style), a node of three inputs, reuse and accumulation into .grad."""
    import autograd as ag

    def run(fast: bool) -> list:
        engine.FAST_PATH = fast
        try:
            rng = np.random.default_rng(3)
            w = [Value(float(v)) for v in rng.standard_normal(6)]
            h = [(w[i] * w[i + 1] + 0.5).tanh() for i in range(5)]
            s = ag.stack([h[0], h[1], h[2]]).sum() * h[3] + h[4] / (1.0 + w[0] * w[0])
            s.backward()
            (s * 2.0).backward()  # accumulates
            return [v.grad for v in w]
        finally:
            engine.FAST_PATH = True

    assert all(_same_bits(a, b) for a, b in zip(run(True), run(False)))


# ---- the reference-count check ----------------------------------------------------------------


def test_the_reference_count_check_is_used_only_where_it_holds():
    cpython_before_314 = sys.implementation.name == "cpython" and sys.version_info < (3, 14)
    assert engine.REFCOUNTS_HOLD == cpython_before_314
    assert engine.unshared is (engine._unshared_by_refcount if cpython_before_314 else engine._never_unshared)
    assert not engine._never_unshared(np.arange(3.0))


@pytest.mark.skipif(not engine.REFCOUNTS_HOLD, reason="the check is used only on CPython < 3.14")
def test_unshared_pins_the_reference_counts_it_relies_on():
    fresh = np.arange(4.0)
    assert engine.unshared(fresh)  # one name here
    other = fresh
    assert not engine.unshared(fresh)  # two names
    del other
    base = np.arange(8.0)
    assert not engine.unshared(base[:4])  # a view of an array someone holds
    assert engine.unshared(np.arange(8.0)[:4])  # a view whose base only the view holds
    ro = np.arange(4.0)
    ro.flags.writeable = False
    assert not engine.unshared(ro)


class _Keeps(Op):
    """x * 2, whose rule returns an array the op also keeps (`share`), or one it only watches."""

    name = "keeps"

    def __init__(self, share: bool) -> None:
        self.share = share
        self.kept: Any = None

    def forward(self, x):
        return x * 2

    def vjp0(self, g, out, x):
        r = g * 2
        self.kept = r if self.share else weakref.ref(r)
        return r


@pytest.mark.parametrize("fast", [True, False])
def test_a_gradient_someone_else_holds_is_copied_and_a_fresh_one_is_not(fast, monkeypatch):
    monkeypatch.setattr(engine, "FAST_PATH", fast)
    op = _Keeps(share=True)
    x = Value(np.ones(3))
    apply(op, x).sum().backward()
    assert x.grad is not op.kept and np.array_equal(x.grad, op.kept)
    x.grad[0] = 99.0  # an optimizer's in-place update
    assert op.kept[0] == 2.0
    watch = _Keeps(share=False)
    y = Value(np.ones(3))
    apply(watch, y).sum().backward()
    # the fast loop stores a fresh array as it is (where the check holds); the reference loop always copies
    assert (y.grad is watch.kept()) == (fast and engine.REFCOUNTS_HOLD)
