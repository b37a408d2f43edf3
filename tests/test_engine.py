"""The engine: graph shapes (fan-out, a + a, diamond, a very deep chain), accumulation, no_grad,
detach, requires_grad, freeing dropped graphs, dtypes, comparisons, and the kink/tie conventions."""

from __future__ import annotations

import gc
import sys
import threading
import weakref

import numpy as np
import pytest
from hypothesis import given, settings

import autograd as ag
from autograd import Value, maximum, minimum, no_grad

from . import strategies as S

pytestmark = pytest.mark.usefixtures("backward_path")  # every test on both backward loops (conftest.py)

# ---- the Value itself ---------------------------------------------------------------


def test_value_attributes_and_repr():
    x = Value(np.arange(6.0).reshape(2, 3), label="x")
    assert x.shape == (2, 3) and x.ndim == 2 and x.size == 6 and x.dtype == np.float64
    assert x.label == "x" and x.op == "" and x.parents == () and x.requires_grad and x.grad is None
    y = (x * 2).sum()
    assert y.op == "sum" and y.parents[0].op == "*" and y.parents[0].parents[0] is x
    assert isinstance(y.data, np.ndarray) and y.data.shape == () and y.item() == 30.0
    assert Value(2.0).item() == 2.0 and Value([[3.0]]).item() == 3.0
    r = repr(Value([1.0, 2.0], label="w"))
    assert "1." in r and "2." in r and "label='w'" in r
    y.backward()
    assert "grad=" in repr(x) and "op='*'" in repr(y.parents[0])
    assert "shape=(20,)" in repr(Value(np.zeros(20)))


def test_value_copies_its_input_array():
    a = np.ones(3)
    x = Value(a)
    a[0] = 5.0
    assert x.data[0] == 1.0


@pytest.mark.parametrize(
    "data, dtype",
    [(np.float32([1, 2]), np.float32), (np.float64(1), np.float64), (3, np.float64), (True, np.float64),
     ([1, 2, 3], np.float64), (np.int32([1, 2]), np.float64), (np.array([True, False]), np.float64),
     (np.float16([1]), np.float64), ([[1.5, 2.0]], np.float64)],
)  # fmt: skip
def test_value_dtypes(data, dtype):
    x = Value(data)
    assert x.dtype == dtype and isinstance(x.data, np.ndarray)
    np.testing.assert_array_equal(x.data, np.asarray(data, dtype=dtype))


def test_float32_stays_float32_through_ops_and_gradients():
    x = Value(np.float32([0.5, -1.0, 2.0]))
    w = Value(np.float32([[1.0], [2.0], [3.0]]))
    y = ((x * 2 + 1.5) / 3 - x**2).tanh().sigmoid().exp()
    assert y.dtype == np.float32
    loss = (y @ w).sum() + y.max() + y.mean() + y[1]
    assert loss.dtype == np.float32
    loss.backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float32 and y.grad.dtype == np.float32


def test_float32_values_keep_float32_gradients_when_float64_meets_them():
    """The product with a float64 Value is float64, but each Value's .grad has its own float type (as in PyTorch)."""
    w, s, t = Value(np.float32([1.0, 2.0])), Value(np.float32(3.0)), Value(2.0)
    loss = ((w * t).sum() + s * t) * Value(np.float64(1.5))
    assert loss.dtype == np.float64
    loss.backward()
    loss.backward()  # accumulated gradients keep it too
    assert w.grad.dtype == np.float32 and s.grad.dtype == np.float32 and t.grad.dtype == np.float64
    np.testing.assert_array_equal(w.grad, [6.0, 6.0])
    assert float(s.grad) == 6.0
    gw, gt = ag.grad(lambda a, b: (a * b).sum(), argnums=(0, 1))(np.float32([1.0, 2.0]), 2.0)
    assert gw.dtype == np.float32 and gt.dtype == np.float64
    x = Value(np.float32(1.5))
    (2.0**x).backward(create_graph=True)  # a number base stays weak in the second-order graph too
    assert x.grad.dtype == np.float32


def test_comparisons_return_plain_bool_arrays_and_record_nothing():
    x = Value([1.0, 2.0, 3.0])
    for r in (x < 2, x <= 2, x > 2, x >= 2, x == 2, x != 2, x < Value([3.0, 2.0, 1.0]), 2 > x):
        assert type(r) is np.ndarray and r.dtype == np.bool_
    np.testing.assert_array_equal(x < 2, [True, False, False])
    np.testing.assert_array_equal(x == Value([0.0, 2.0, 0.0]), [False, True, False])
    assert {x: 1}[x] == 1  # hashable by identity, though __eq__ returns arrays
    assert (x * 2).parents == (x, (x * 2).parents[1]) and x.op == ""


# ---- graph shapes -------------------------------------------------------------------


def test_a_plus_a():
    a = Value(3.0)
    (a + a).backward()
    assert a.grad == 2.0


def test_fan_out():
    x = Value(np.array([0.5, -1.0]))
    y = x * 3 + x.exp() + x * x + x.tanh()
    y.sum().backward()
    xd = x.data
    np.testing.assert_allclose(x.grad, 3 + np.exp(xd) + 2 * xd + 1 - np.tanh(xd) ** 2, rtol=1e-14)


def test_diamond():
    a = Value(2.0)
    b = a * 3  # db/da = 3
    c = a.exp()  # dc/da = e^a
    d = b * c  # dd/db = c, dd/dc = b
    d.backward()
    assert b.grad == pytest.approx(np.exp(2.0)) and c.grad == pytest.approx(6.0)
    assert a.grad == pytest.approx(3 * np.exp(2.0) + 6 * np.exp(2.0), rel=1e-14)


def test_toposort_puts_every_node_after_its_parents():
    a = Value(1.0)
    b, c = a * 2, a + 1
    d = b * c + b
    order = ag.engine.toposort(d)
    pos = {id(n): i for i, n in enumerate(order)}
    assert len(order) == len(pos) == 5 and order[-1] is d  # a, b, c, b*c, d: constants are left out
    for n in order:
        assert all(pos[id(p)] < pos[id(n)] for p in n.parents if p.requires_grad)


def test_deep_chain_of_a_million_ops_at_the_default_recursion_limit():
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)  # Python's default: the walk must not recurse
    try:
        x = Value(1.5)
        y = x
        for _ in range(1_000_000):
            y = -y
        probe = weakref.ref(y.parents[0])
        y.backward(retain_grads=False)
        assert x.grad == 1.0 and y.data == 1.5
        del y  # freeing the chain must not recurse either
        assert probe() is None
    finally:
        sys.setrecursionlimit(limit)


def test_a_graph_of_tens_of_thousands_of_scalars():
    # micrograd style: every number its own Value
    xs = [Value(float(i) / 100) for i in range(150)]
    total = Value(0.0)
    for i in range(len(xs)):
        for j in range(i + 1, len(xs)):
            total = total + xs[i] * xs[j]  # two nodes per pair: about 22,000 nodes
    out = total.tanh() * 1e-3 + total
    out.backward()
    data = np.array([x.item() for x in xs])
    t = float(total.data)
    dout_dtotal = (1 - np.tanh(t) ** 2) * 1e-3 + 1
    expected = (data.sum() - data) * dout_dtotal  # d total / d x_k = sum of the others
    np.testing.assert_allclose([float(x.grad) for x in xs], expected, rtol=1e-12)


# ---- accumulation and retained gradients ---------------------------------------------


@settings(max_examples=10)
@given(S.binary())
def test_two_backward_calls_give_exactly_twice(drawn):
    (a, b), _ = drawn
    x, y = Value(a), Value(b)
    h = x * y + x.tanh()
    loss = (h * h + h).sum()
    loss.backward()
    first = [np.copy(v.grad) for v in (x, y, h)]
    loss.backward()
    for v, g in zip((x, y, h), first):
        np.testing.assert_array_equal(v.grad, 2 * g)
    x.zero_grad()
    assert x.grad is None
    loss.backward()
    np.testing.assert_array_equal(x.grad, first[0])


def test_intermediate_grads_kept_by_default():
    x = Value([1.0, 2.0])
    h = x * 3
    (h * h).sum().backward()
    np.testing.assert_array_equal(h.grad, 2 * h.data)
    np.testing.assert_array_equal(x.grad, 18 * x.data)


def test_retain_grads_false_fills_leaves_only():
    x = Value([1.0, 2.0])
    h = x * 3
    out = (h * h).sum()
    out.backward(retain_grads=False)
    assert h.grad is None and out.grad is None
    np.testing.assert_array_equal(x.grad, 18 * x.data)


def test_grad_arrays_are_owned_by_the_user():
    x = Value(np.ones((2, 3)))
    x.sum().backward()  # the rule returns a broadcast view
    x.grad[0, 0] = 7.0  # must be writeable and not shared
    x.sum().backward()
    assert x.grad[0, 0] == 8.0 and x.grad[1, 1] == 2.0


def test_grads_never_share_memory():
    # Add passes g on unchanged: without a copy, a.grad, b.grad, s.grad and the user's G were one
    # array, and clipping one parameter's gradient in place changed the others.
    a, b = Value(np.ones(3)), Value(np.ones(3))
    s = a + b
    G = np.ones(3)
    s.backward(G)
    a.grad *= 0.5
    np.testing.assert_array_equal(b.grad, np.ones(3))
    np.testing.assert_array_equal(s.grad, np.ones(3))
    np.testing.assert_array_equal(G, np.ones(3))
    x, y = Value(2.0), Value(3.0)
    (x + y).backward()
    x.grad += 1
    assert y.grad == 1.0
    gx, gy = ag.grad(lambda u, v: u + v, argnums=(0, 1))(1.0, 2.0)
    gx += 1
    assert gy == 1.0


def test_scalar_grad_edited_in_place_stays_edited():
    # a scalar graph carries numpy scalars; .grad hands out one 0-d array, not a fresh copy per access
    a, b = Value(2.0), Value(3.0)
    (a * b).backward()
    assert a.grad is a.grad and type(a.grad) is np.ndarray
    a.grad[...] = 0.0  # e.g. np.clip(p.grad, -1, 1, out=p.grad) in an optimizer
    assert a.grad == 0.0
    (a * b).backward()
    assert a.grad == 3.0


def test_backward_with_gradient_argument():
    x = Value([1.0, 2.0, 3.0])
    y = x * x
    y.backward(gradient=np.array([1.0, 0.0, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 0.0, -6.0])
    z = Value([[1.0, 2.0]]) * 2
    z.backward(Value([[1.0, 1.0]]))
    x1 = Value([4.0])
    (x1 * 3).backward()  # one element, not 0-d: the seed defaults to 1 too
    assert x1.grad.shape == (1,) and x1.grad[0] == 3.0


# ---- no_grad, detach, requires_grad ------------------------------------------------------


def test_no_grad_records_nothing_and_is_nestable():
    x = Value(2.0)
    with no_grad():
        y = x * 3
        with no_grad():
            z = x + 1
        w = x * x  # still off after the inner block
    v = x * 2  # back on
    for r in (y, z, w):
        assert not r.requires_grad and r.parents == () and r.op == ""
    assert v.requires_grad and v.parents == (x, v.parents[1])
    assert ag.is_grad_enabled()
    with no_grad():
        with ag.enable_grad():
            u = x * 2
        assert not ag.is_grad_enabled()
    assert u.requires_grad


def test_no_grad_restores_state_after_an_exception():
    with pytest.raises(ZeroDivisionError):
        with no_grad():
            raise ZeroDivisionError("inside no_grad")
    assert ag.is_grad_enabled()


def test_no_grad_as_decorator():
    @no_grad()
    def f(v):
        assert not ag.is_grad_enabled()
        return v * 2

    assert not f(Value(1.0)).requires_grad
    assert ag.is_grad_enabled()


def test_no_grad_and_enable_grad_decorate_without_parentheses_too():
    @no_grad
    def f(v):
        assert not ag.is_grad_enabled()
        return g(v), v * 2

    @ag.enable_grad
    def g(v):
        assert ag.is_grad_enabled()
        return v * 3

    assert f.__name__ == "f"
    inner, outer = f(Value(1.0))
    assert inner.requires_grad and inner.op == "*" and not outer.requires_grad  # g records inside f's no_grad
    assert ag.is_grad_enabled()
    with pytest.raises(TypeError, match="no_grad"):
        no_grad(3)


def test_no_grad_is_thread_local():
    x = Value(1.0)
    seen = {}
    inside, release = threading.Event(), threading.Event()

    def other():
        inside.wait()
        seen["other"] = (x * 2).requires_grad  # the main thread is inside no_grad now
        with no_grad():
            release.set()
            seen["other_off"] = (x * 2).requires_grad
            seen["release_main"] = True

    t = threading.Thread(target=other)
    t.start()
    with no_grad():
        inside.set()
        release.wait()
        seen["main"] = (x * 2).requires_grad
    t.join()
    seen["main_after"] = (x * 2).requires_grad
    assert seen["other"] is True and seen["other_off"] is False and seen["main"] is False and seen["main_after"] is True


def test_detach():
    x = Value([1.0, 2.0])
    h = x * x
    d = h.detach()
    assert not d.requires_grad and d.parents == () and d.op == ""
    np.testing.assert_array_equal(d.data, h.data)
    y = (x * d).sum()  # no gradient flows through d
    y.backward()
    np.testing.assert_array_equal(x.grad, d.data)
    assert d.grad is None
    assert not (d * 2).requires_grad


def test_requires_grad_false_gets_no_grad():
    x = Value([1.0, 2.0])
    c = Value([3.0, 4.0], requires_grad=False)
    (x * c + c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])


def test_op_on_constants_records_nothing():
    a = Value(1.0, requires_grad=False)
    b = Value(2.0, requires_grad=False)
    m = Value([[1.0, 2.0]], requires_grad=False)
    for r in (a + b, a * 2, a.exp(), ag.maximum(a, b), ag.stack([a, b]), m @ m.T, m[0, 1], 3 - a):
        assert not r.requires_grad and r.parents == () and r.op == "" and r._op is None


# ---- no reference cycles: dropped graphs are freed by reference counting ---------------------


def test_dropped_graph_is_freed_without_the_cycle_collector():
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        x = Value(np.random.default_rng(0).standard_normal((3, 4)))
        w = Value(np.ones((4, 2)))
        h = (x @ w).tanh()
        m = h.max(axis=0)
        loss = (h[[0, 0, 1]].sum() + m.sum() + ag.maximum(h, 0.1).mean() + h.softmax().log_softmax().sum()) ** 2
        loss.backward()
        refs = [weakref.ref(v) for v in (h, m, loss, *ag.engine.toposort(loss))]
        del h, m, loss
        assert all(r() is None for r in refs if r() is not x and r() is not w)
        assert x.grad.shape == (3, 4)
        # the same after a no_grad forward and after an op on constants
        with no_grad():
            t = x * 2
        r = weakref.ref(t)
        del t
        assert r() is None
    finally:
        if was_enabled:
            gc.enable()


# ---- conventions at kinks and ties -----------------------------------------------------


def _grad(f, x):
    v = Value(x)
    f(v).sum().backward()
    return v.grad


def test_relu_and_abs_have_gradient_zero_at_zero():
    np.testing.assert_array_equal(_grad(lambda v: v.relu(), [-1.0, 0.0, 2.0]), [0.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad(lambda v: abs(v), [-1.0, 0.0, 2.0]), [-1.0, 0.0, 1.0])
    np.testing.assert_array_equal(_grad(lambda v: v.abs(), 0.0), 0.0)
    np.testing.assert_array_equal(_grad(lambda v: v.leaky_relu(0.1), [-1.0, 0.0, 2.0]), [0.1, 0.1, 1.0])


def test_binary_step_has_gradient_zero_everywhere():
    x = [-2.0, -1e-9, 0.0, 1e-9, 3.0]
    np.testing.assert_array_equal(_grad(lambda v: v.binary_step(), x), np.zeros(5))
    np.testing.assert_array_equal(Value(x).binary_step().data, [0, 0, 1, 1, 1])
    assert "cannot be trained" in Value.binary_step.__doc__


def test_max_min_split_the_gradient_evenly_among_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])
    np.testing.assert_allclose(_grad(lambda v: v.max(), x), [[0, 0.5, 0.5], [0, 0, 0]])
    np.testing.assert_allclose(_grad(lambda v: v.max(axis=1), x), [[0, 0.5, 0.5], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(_grad(lambda v: v.min(axis=1, keepdims=True), x), [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]])
    np.testing.assert_allclose(_grad(lambda v: v.min(axis=0), x), [[1, 0, 0], [0, 1, 1]])
    np.testing.assert_allclose(_grad(lambda v: v.min(), x), [[1, 0, 0], [0, 0, 0]])
    np.testing.assert_allclose(_grad(lambda v: v.min(), [[1.0, 3.0], [1.0, 1.0]]), [[1 / 3, 0], [1 / 3, 1 / 3]])


def test_maximum_minimum_give_half_at_a_tie():
    for fn in (maximum, minimum):
        a, b = Value([1.0, 2.0, 3.0]), Value([1.0, 0.0, 5.0])
        fn(a, b).sum().backward()
        big = fn is maximum
        np.testing.assert_array_equal(a.grad, [0.5, 1.0 if big else 0.0, 0.0 if big else 1.0])
        np.testing.assert_array_equal(b.grad, [0.5, 0.0 if big else 1.0, 1.0 if big else 0.0])
    a = Value(2.0)
    maximum(a, 2.0).backward()
    assert a.grad == 0.5


@pytest.mark.parametrize("x", [-40.0, -20.0, 20.0, 40.0, 300.0, -300.0])
def test_sigmoid_and_tanh_derivatives_keep_relative_accuracy_in_the_tails(x):
    sig = 1 / (1 + np.exp(-abs(x)))
    exact_sig = np.exp(-abs(x)) * sig * sig  # sigma(x) sigma(-x), symmetric
    g = _grad(lambda v: v.sigmoid(), x)
    assert g > 0 and abs(g - exact_sig) <= 1e-12 * exact_sig
    e = np.exp(-2 * abs(x))
    exact_tanh = 4 * e / (1 + e) ** 2
    g = _grad(lambda v: v.tanh(), x)
    assert exact_tanh == 0 or (g > 0 and abs(g - exact_tanh) <= 1e-12 * exact_tanh)


def test_sigmoid_does_not_overflow():
    with np.errstate(over="raise", invalid="raise"):
        y = Value([-1000.0, 0.0, 1000.0]).sigmoid()
    np.testing.assert_array_equal(y.data, [0.0, 0.5, 1.0])


def test_softmax_and_log_softmax_are_stable_at_plus_minus_1000():
    x = np.array([[1000.0, -1000.0, 0.0], [1000.0, 1000.0, 999.0]])
    with np.errstate(over="raise", invalid="raise", divide="ignore", under="ignore"):
        s = Value(x).softmax()
        ls = Value(x).log_softmax(axis=1)
    shifted = x - x.max(axis=1, keepdims=True)
    expected_ls = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(ls.data, expected_ls, rtol=1e-14)
    np.testing.assert_allclose(s.data, np.exp(expected_ls), rtol=1e-14)
    assert np.isfinite(ls.data).all() and ls.data[0, 1] == -2000.0
    w = np.array([[1.0, 2.0, 3.0], [-1.0, 0.5, 2.0]])
    v = Value(x)
    (v.log_softmax() * w).sum().backward()
    p = np.exp(expected_ls)
    np.testing.assert_allclose(v.grad, w - p * w.sum(axis=1, keepdims=True), rtol=1e-12, atol=1e-300)
    v = Value(x)
    (v.softmax() * w).sum().backward()
    np.testing.assert_allclose(v.grad, p * (w - (p * w).sum(axis=1, keepdims=True)), rtol=1e-12, atol=1e-300)


def test_broadcast_to_records_a_node_for_any_value_and_fills_a_fresh_array_otherwise():
    from autograd.value import Constant

    c = Constant.__new__(Constant)  # a Value subclass, as nn.Parameter is
    c._data, c._grad, c.requires_grad, c.label, c._op, c.scope = np.ones(3), None, True, None, None, None
    out = ag.ops.broadcast_to(c, (2, 3))
    assert isinstance(out, Value) and out.shape == (2, 3) and out.parents == (c,)
    out.sum().backward()
    np.testing.assert_array_equal(c.grad, [2.0, 2.0, 2.0])
    arr = ag.ops.broadcast_to(np.float64(1.5), (2, 2))
    assert arr.flags.writeable and arr.dtype == np.float64 and (arr == 1.5).all()
    assert ag.ops.broadcast_to(np.float32(1.5), (3,)).dtype == np.float32


def test_an_empty_batch_reduces_to_an_empty_result_as_in_numpy():
    """Row-wise reductions and softmax of a batch with no rows give no rows (numpy and PyTorch do too)."""
    x = Value(np.zeros((0, 3)))
    outs = [x.mean(axis=1), x.max(axis=1), x.min(axis=-1), x.sum(axis=1), x.softmax(axis=0), x.log_softmax(), x[[]]]
    assert [o.shape for o in outs] == [(0,), (0,), (0,), (0,), (0, 3), (0, 3), (0, 3)]
    loss = sum(o.sum() for o in outs)
    loss.backward()
    assert x.grad.shape == (0, 3)
    empty_axis = Value(np.zeros((3, 0)))
    assert empty_axis.softmax(axis=-1).shape == (3, 0)
    picked = Value(np.arange(3.0))[[i for i in range(3) if i > 5]]  # a selection that happens to be empty
    assert picked.shape == (0,)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # numpy's word on np.matrix itself
def test_ndarray_subclasses_become_plain_arrays_and_a_value_never_shares_the_callers_memory():
    m = np.matrix([[1.0, 2.0], [3.0, 4.0]])
    a = Value(m)
    y = a * a * m  # elementwise, not np.matrix's matrix product
    y.sum().backward()
    assert type(a.data) is np.ndarray and type(y.data) is np.ndarray
    np.testing.assert_array_equal(y.data, np.asarray(m) ** 3)
    np.testing.assert_array_equal(a.grad, 2 * np.asarray(m) ** 2)
    a.data[0, 0] = 9.0
    assert m[0, 0] == 1.0
    with pytest.raises(TypeError, match="masked array"):
        Value(np.ma.array([1.0, 2.0], mask=[0, 1]))
    v = Value([1.0, 2.0])
    w = Value(v)  # a new leaf with a copy of v's data, as torch.tensor(t) copies
    w.data[0] = 9.0
    assert v.data[0] == 1.0 and w.requires_grad


def test_constants_promote_as_numpy_does():
    """A Python number is weak (float32 stays float32); a 0-d array or numpy scalar is strong (NEP 50)."""
    x = Value(np.float32([1.0, 2.0]))
    for c in (2.0, 2, np.float32(2.0)):
        assert (x * c).dtype == np.float32 and (c * x).dtype == np.float32
    for c in (np.array(2.0), np.float64(2.0), np.int64(2), np.array(2)):
        assert (x * c).dtype == (np.float32([1.0, 2.0]) * c).dtype == np.float64
        assert (c * x).dtype == np.float64
    s = Value(np.float32(1.5))
    assert (s * np.array(2.0)).dtype == np.float64 and (s * 2.0).dtype == np.float32
