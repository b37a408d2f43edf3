"""Higher-order gradients: every op twice differentiable, the functional transforms, closed forms.

Second derivatives are checked against finite differences of the first (`gradgradcheck`) on the
op table of tests/test_ops.py, so a new op row is checked to second order too. The transforms
(`jacobian`, `hessian`, `hvp`, `vjp`, `jvp`) are checked against each other, against closed
forms (tanh's third and fourth derivatives, the Hessians of squared error and of softmax
cross-entropy for a linear model) and for composition (`grad(grad(f))`, closures, no_grad).
"""

from __future__ import annotations

import gc
import importlib
import weakref

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import GradcheckError, Value, grad, gradcheck, gradgradcheck, hessian, hvp, jacobian, jvp, ops, vjp
from autograd.engine import apply

from . import strategies as S
from .op_table import Case, check_second_order, op_classes, op_types
from .test_ops import CASES

# Ops the user reaches only through helper functions (or only inside gradient rules).
EXTRA = [
    Case("softplus", S.unary(-5.0, 5.0), lambda x: ops.softplus(x), lambda x: np.logaddexp(0, x)),
    Case("erf", S.unary(-2.0, 2.0), lambda x: ops.erf(x), None),
    Case("tanh_grad", S.unary(-4.0, 4.0), lambda x: ops.tanh_grad(x), lambda x: 1 - np.tanh(x) ** 2),
    Case("broadcast_to", S.unary(shape=st.just((3, 1))), lambda x: ops.broadcast_to(x, (2, 3, 4)), None),
    Case("scatter_add", S.unary(shape=st.just((4,))), lambda x: ops.scatter_add(x, (np.array([0, 2, 0, 1]),), (3,)), None),
]
TABLE = CASES + EXTRA


# ---- every op, to second order ---------------------------------------------------------


@pytest.mark.parametrize("case", TABLE, ids=[c.name for c in TABLE])
@settings(max_examples=5)
@given(data=st.data())
def test_second_derivative_of_every_op(case: Case, data: st.DataObject) -> None:
    check_second_order(case, data)


def test_every_op_class_is_checked_to_second_order() -> None:
    defined = op_classes(ops.Op, "autograd.ops")
    seen = set().union(*(op_types(c) for c in TABLE))
    missing = sorted(c.__name__ for c in defined - seen)
    assert not missing, f"ops without a row in tests/test_ops.py CASES or EXTRA here: {missing}"


# ---- gradgradcheck catches a wrong second derivative ----------------------------------------


class _CubeFrozenRule(ops.Op):
    """x**3 whose rule uses the input's numpy data: first derivative right, second derivative 0."""

    name = "cube_frozen"

    def forward(self, x):
        return x**3

    def vjp0(self, g, out, x):
        return g * 3 * ops._data(x) ** 2


class _CubeWrongCurvature(ops.Op):
    """x**3 whose rule is exact in value but has derivative 7 where 6x belongs."""

    name = "cube_wrong"

    def forward(self, x):
        return x**3

    def vjp0(self, g, out, x):
        xd = ops._data(x)
        return g * (3 * xd**2 + (x - xd) * 7)  # x - xd is 0 in value, 1 in derivative


@pytest.mark.parametrize("op", [_CubeFrozenRule(), _CubeWrongCurvature()], ids=["frozen", "wrong"])
def test_gradgradcheck_catches_a_wrong_second_derivative(op: ops.Op) -> None:
    x = np.array([[0.5, -1.25, 2.0]])

    def f(v):
        return apply(op, v) * 2

    assert gradcheck(f, x)  # the first derivative is right
    with pytest.raises(GradcheckError) as e:
        gradgradcheck(f, x)
    msg = str(e.value)
    assert "gradgradcheck failed for f, input 0 (shape (1, 3))" in msg
    assert "analytic" in msg and "numeric" in msg and "random projection" in msg


def test_gradgradcheck_passes_on_a_right_one_and_reports_kinks() -> None:
    assert gradgradcheck(lambda x, y: (x @ y).tanh().sum(), np.ones((2, 3)) * 0.3, np.eye(3)[:, :2])
    with pytest.raises(GradcheckError, match="kink"):  # relu(x) * x: second derivative jumps from 0 to 2 at 0
        gradgradcheck(lambda x: x.relu() * x, np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match="at least one input"):
        gradgradcheck(lambda: Value(1.0))


# ---- closed forms -----------------------------------------------------------------------------

finite = st.floats(-3, 3, allow_nan=False)


@given(x=finite)
def test_tanh_derivatives_to_fourth_order(x: float) -> None:
    t = np.tanh(x)
    s = 1 - t * t  # sech**2
    d = [t, s, -2 * t * s, -2 * s * (s - 2 * t * t), 8 * t * s * (2 * s - t * t)]
    f = lambda v: v.tanh()  # noqa: E731
    for k in range(1, 5):
        f = grad(f)
        np.testing.assert_allclose(f(x), d[k], rtol=1e-9, atol=1e-12)


@given(x=st.lists(finite, min_size=1, max_size=5))
def test_sigmoid_third_derivative_elementwise(x: list[float]) -> None:
    p = 1 / (1 + np.exp(-np.array(x)))
    d1 = grad(lambda v: v.sigmoid().sum())
    d2 = grad(lambda v: d1(v).sum())
    d3 = grad(lambda v: d2(v).sum())
    np.testing.assert_allclose(d3(x), p * (1 - p) * (1 - 6 * p + 6 * p * p), rtol=1e-9, atol=1e-12)


@settings(max_examples=20)
@given(n=st.integers(1, 6), d=st.integers(1, 4), seed=st.integers(0, 2**16))
def test_hessian_of_squared_error_is_2_xtx(n: int, d: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X, w_true, w = rng.standard_normal((n, d)), rng.standard_normal(d), rng.standard_normal(d)
    z = X @ w_true

    def J(w):
        return ((z - X @ w) ** 2).sum()

    np.testing.assert_allclose(grad(J)(w), -2 * X.T @ (z - X @ w), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(hessian(J)(w), 2 * X.T @ X, rtol=1e-10, atol=1e-10)


@settings(max_examples=20)
@given(n=st.integers(1, 5), d=st.integers(1, 3), k=st.integers(2, 4), seed=st.integers(0, 2**16))
def test_hessian_of_softmax_cross_entropy_for_a_linear_model(n: int, d: int, k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X, W, y = rng.standard_normal((n, d)), rng.standard_normal((d, k)), rng.integers(0, k, n)

    def loss(W):
        return -(X @ W).log_softmax(axis=1)[np.arange(n), y].sum()

    P = np.exp(X @ W)
    P /= P.sum(axis=1, keepdims=True)
    # d2L / dW[a,b] dW[c,e] = sum_i x_ia x_ic (diag(p_i) - p_i p_i^T)[b,e]
    curv = np.einsum("ib,be->ibe", P, np.eye(k)) - np.einsum("ib,ie->ibe", P, P)
    expected = np.einsum("ia,ic,ibe->abce", X, X, curv)
    H = hessian(loss)(W)
    assert H.shape == (d, k, d, k)
    np.testing.assert_allclose(H, expected, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(grad(loss)(W), X.T @ (P - np.eye(k)[y]), rtol=1e-9, atol=1e-12)


# ---- the transforms against each other ------------------------------------------------------


def _smooth(W: np.ndarray):
    """A smooth scalar function with mixed second derivatives."""

    def f(x):
        h = (W @ x).tanh()
        return (h * h).sum() + (x * x * x).sum() * 0.1 + x.sigmoid().sum() * x.sum()

    return f


vectors = st.integers(1, 5).flatmap(lambda n: st.tuples(*[S.arrays((n,), -2.0, 2.0)] * 2, S.arrays((3, n), -1.0, 1.0)))


@settings(max_examples=20)
@given(vectors)
def test_hessian_is_symmetric_and_hvp_is_hessian_times_v(xvW) -> None:
    x, v, W = xvW
    f = _smooth(W)
    H = hessian(f)(x)
    assert H.shape == x.shape + x.shape
    np.testing.assert_allclose(H, H.T, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hvp(f, x, v), H @ v, rtol=1e-9, atol=1e-12)
    assert gradgradcheck(f, x)


@settings(max_examples=20)
@given(S.shapes(0, 2), S.shapes(0, 2), st.integers(0, 2**16))
def test_jacobian_of_a_linear_map_is_its_matrix(in_shape, out_shape, seed) -> None:
    rng = np.random.default_rng(seed)
    n, m = int(np.prod(in_shape)), int(np.prod(out_shape))
    A = rng.standard_normal((m, n))
    x = rng.standard_normal(in_shape)

    def f(x):
        return (A @ x.reshape(n)).reshape(out_shape)

    J = jacobian(f)(x)
    assert J.shape == out_shape + in_shape
    np.testing.assert_allclose(J.reshape(m, n), A, rtol=1e-12, atol=1e-12)


@settings(max_examples=20)
@given(vectors)
def test_jvp_and_vjp_agree_with_the_jacobian(xvW) -> None:
    x, v, W = xvW
    u = np.linspace(-1, 1, W.shape[0])

    def f(x):
        return (W @ x).tanh() * x.sum()

    J = jacobian(f)(x)
    out, tangent = jvp(f, x, v)
    np.testing.assert_allclose(out, np.tanh(W @ x) * x.sum(), rtol=1e-12)
    np.testing.assert_allclose(tangent, J @ v, rtol=1e-9, atol=1e-12)
    out2, vjp_fn = vjp(f, x)
    np.testing.assert_allclose(out2, out)
    np.testing.assert_allclose(vjp_fn(u), u @ J, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(vjp_fn(2 * u), 2 * u @ J, rtol=1e-9, atol=1e-12)  # callable again


def test_transforms_take_numbers_lists_arrays_and_several_arguments() -> None:
    f = lambda x: (x**3).sum()  # noqa: E731
    for x in (2.0, [2.0], np.array([2.0]), np.array(2.0), 2):
        np.testing.assert_allclose(np.asarray(hessian(f)(x)).reshape(-1), [12.0])
        np.testing.assert_allclose(np.asarray(hvp(f, x, np.ones(np.shape(x)))).reshape(-1), [12.0])
    g = lambda x, y: (x * y * y).sum()  # noqa: E731
    (Hxx, Hxy), (Hyx, Hyy) = hessian(g, (0, 1))([1.0, 2.0], [3.0, 4.0])
    np.testing.assert_allclose(Hxx, np.zeros((2, 2)))
    np.testing.assert_allclose(Hxy, np.diag([6.0, 8.0]))
    np.testing.assert_allclose(Hyx, np.diag([6.0, 8.0]))
    np.testing.assert_allclose(Hyy, np.diag([2.0, 4.0]))
    Jx, Jy = jacobian(lambda x, y: x * y, (0, 1))(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    np.testing.assert_allclose(Jx, np.diag([3.0, 4.0]))
    np.testing.assert_allclose(Jy, np.diag([1.0, 2.0]))
    Ja, Jb = jacobian(lambda x: (x * 2, x.sum()))(np.array([1.0, 2.0]))
    np.testing.assert_allclose(Ja, 2 * np.eye(2))
    np.testing.assert_allclose(Jb, [1.0, 1.0])
    _, vjp_fn = vjp(lambda x, y: x * y, 2.0, 3.0)
    assert [float(g) for g in vjp_fn(1.0)] == [3.0, 2.0]
    assert np.asarray(jacobian(lambda x: Value(5.0) * 1.0 + x.sum() * 0)(np.ones(3))).tolist() == [0.0, 0.0, 0.0]


# ---- composition ------------------------------------------------------------------------------


def test_grad_composes_to_any_order() -> None:
    f = lambda x: x**4  # noqa: E731
    assert grad(grad(f))(2.0) == 48.0
    assert grad(grad(grad(f)))(2.0) == 48.0
    assert grad(grad(grad(grad(f))))(2.0) == 24.0
    x = np.array([1.0, -2.0, 0.5])
    np.testing.assert_allclose(grad(lambda x: grad(lambda v: (v**4).sum())(x).sum())(x), 12 * x**2)
    np.testing.assert_allclose(jacobian(grad(lambda v: (v**4).sum()))(x), np.diag(12 * x**2))
    f = lambda v: (v**3).sum() + v[0] * v[1]  # noqa: E731
    np.testing.assert_allclose(grad(lambda v: hvp(f, x, v).sum())(np.ones(3)), hessian(f)(x).sum(axis=0))  # d/dv of 1^T H v
    np.testing.assert_allclose(grad(lambda v: jvp(lambda u: u * u, x, v)[1].sum())(np.ones(3)), 2 * x)
    v = Value(np.ones(3))
    hvp(f, x, v).sum().backward()  # a Value tangent keeps its graph at the top level too
    np.testing.assert_allclose(v.grad, hessian(f)(x).sum(axis=0))
    T = jacobian(jacobian(lambda v: v**3))(x)  # d3/dx3 of an elementwise cube: 6x on the diagonal only
    assert T.shape == (3, 3, 3)
    np.testing.assert_allclose(T, np.einsum("i,ij,ik->ijk", 6 * x, np.eye(3), np.eye(3)))
    np.testing.assert_allclose(hessian(lambda v: hvp(lambda u: (u**4).sum(), v, np.ones(3)).sum())(x), np.diag(24 * np.ones(3)))


def test_inner_derivative_of_a_closure_over_the_same_value() -> None:
    # d/dy [d/dx (x*y) at x = y] = d/dy y = 1; counting the closure's path too would give 2.
    assert grad(lambda y: grad(lambda x: x * y)(y))(3.0) == 1.0
    assert grad(lambda y: jvp(lambda x: x * y, y, 1.0)[1])(3.0) == 1.0
    assert grad(lambda y: hvp(lambda x: x * x * y, y, 1.0))(3.0) == 2.0
    # a closure over an outer Value with a plain inner argument keeps the graph too
    assert grad(lambda y: grad(lambda x: x * x * y)(2.0))(3.0) == 4.0


def test_transforms_work_inside_no_grad() -> None:
    with ag.no_grad():
        np.testing.assert_allclose(grad(lambda x: (x**3).sum())([1.0, 2.0]), [3.0, 12.0])
        np.testing.assert_allclose(hessian(lambda x: (x**3).sum())([1.0, 2.0]), np.diag([6.0, 12.0]))
        assert not ag.is_grad_enabled()


def test_backward_create_graph_leaves_differentiable_grads() -> None:
    x = Value([0.5, -1.0])
    (x.tanh() * x).sum().backward(create_graph=True)
    g = x.grad
    assert isinstance(g, Value) and g.requires_grad
    t = np.tanh(x.data)
    np.testing.assert_allclose(g.data, t + x.data * (1 - t * t))
    x.zero_grad()
    g.sum().backward()
    s = 1 - t * t
    np.testing.assert_allclose(x.grad, 2 * s - 2 * x.data * t * s)
    assert type(x.grad) is np.ndarray  # without create_graph, plain arrays

    y = Value(2.0)
    (y**3).backward()
    assert type(y.grad) is np.ndarray and float(y.grad) == 12.0


def test_transforms_leave_no_reference_cycles() -> None:
    seen = []

    def f(x):
        h = x.tanh()
        seen.append(weakref.ref(h))
        return (h * x).sum()

    gc.disable()
    try:
        H = hessian(f)(np.array([0.1, 0.2]))
        _, t = jvp(f, np.array([0.1, 0.2]), np.ones(2))
        out, vjp_fn = vjp(f, np.array([0.1, 0.2]))
        del vjp_fn
        assert H.shape == (2, 2) and all(r() is None for r in seen)
    finally:
        gc.enable()


def test_bad_input_names_the_problem() -> None:
    f = lambda x: (x * x).sum()  # noqa: E731
    with pytest.raises(ValueError, match=r"hvp: v must have the shape of x.*\(3,\) and \(2,\)"):
        hvp(f, [1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"jvp: v must have the shape of x.*\(1,\) and \(2,\)"):
        jvp(lambda x: x * 2, [1.0, 2.0], [1.0])
    _, vjp_fn = vjp(lambda x: x * 2, [1.0, 2.0])
    with pytest.raises(ValueError, match=r"vjp_fn: u must have the shape of <lambda>'s output.*\(\) and \(2,\)"):
        vjp_fn(1.0)
    with pytest.raises(TypeError, match="jacobian: <lambda> must return a Value"):
        jacobian(lambda x: 3.0)([1.0])
    with pytest.raises(ValueError, match="grad needs a function with one output element"):
        hessian(lambda x: x * x)([1.0, 2.0])
    with pytest.raises(ValueError, match="argnums 2 is out of range"):
        jacobian(lambda x: x, argnums=2)(1.0)


# ---- the Newton example -----------------------------------------------------------------------


def test_newton_example(tmp_path) -> None:
    res = importlib.import_module("examples.07_newton").main(tmp_path, quick=True)
    assert res["newton_w"][0] == 0.2 and abs(res["newton_w"][1] - 2.0) < 1e-12  # one step on a quadratic
    assert res["gd_steps_to_tol"] > 5 and abs(res["gd_w"][-1] - 2.0) < 1e-3
    assert res["logistic_newton_steps"] < 10 < res["logistic_gd_steps"]
    assert res["logistic_newton_grad_norm"] < 1e-8
    np.testing.assert_allclose(res["logistic_newton_w"], res["logistic_reference_w"], rtol=1e-6, atol=1e-8)
    for name in res["pictures"]:
        assert (tmp_path / name).stat().st_size > 1000


def test_rules_on_computed_scalars_in_second_order_graphs():
    """A computed 0-d Value holds a Python float: a rule's mask must not be a Python bool (~True is -2)."""
    for x, slope in ((-0.7, 0.01), (0.7, 1.0)):
        assert ag.jvp(lambda a: (a * 2.0).leaky_relu(), x, 1.0)[1] == pytest.approx(2.0 * slope)
        v = Value(x)
        (v * 2.0).leaky_relu().backward(create_graph=True)
        assert float(v.grad.data) == pytest.approx(2.0 * slope)


def test_jacobian_of_empty_inputs_and_outputs_keeps_float32():
    j = ag.jacobian(lambda x: x[:0] * 2.0)(np.ones(3, dtype=np.float32))
    assert j.shape == (0, 3) and j.dtype == np.float32
    j = ag.jacobian(lambda x: x.sum() * np.ones(2, dtype=np.float32))(np.ones(0, dtype=np.float32))
    assert j.shape == (2, 0) and j.dtype == np.float32
