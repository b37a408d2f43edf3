"""grad and value_and_grad: argnums as an int or a tuple; numbers, lists and arrays as arguments."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings

import autograd as ag
from autograd import Value, grad, no_grad, value_and_grad

from . import strategies as S


def f(x, y, scale=1.0):
    return ((x * y).tanh() + x * x).sum() * scale


def df_dx(x, y):
    return np.broadcast_to((1 - np.tanh(x * y) ** 2) * y + 2 * x, np.broadcast_shapes(np.shape(x), np.shape(y)))


@settings(max_examples=15)
@given(S.binary())
def test_grad_matches_backward_and_the_formula(drawn):
    (a, b), _ = drawn
    gx = grad(f)(a, b)
    x, y = Value(a), Value(b)
    f(x, y).backward()
    assert type(gx) is np.ndarray and gx.shape == a.shape and gx.dtype == np.float64
    np.testing.assert_allclose(gx, x.grad, rtol=1e-14, atol=1e-15)
    full = df_dx(a, b)  # d/dx on the broadcast shape, summed back to x's shape:
    full = full.sum(axis=tuple(range(full.ndim - a.ndim)))
    expected = full.sum(axis=tuple(i for i, n in enumerate(a.shape) if n == 1), keepdims=True)
    np.testing.assert_allclose(gx, expected, rtol=1e-12, atol=1e-12)
    gy = grad(f, argnums=1)(a, b)
    np.testing.assert_allclose(gy, y.grad, rtol=1e-14, atol=1e-15)


def test_argnums_tuple_and_negative():
    a, b = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    gx, gy = grad(f, argnums=(0, 1))(a, b)
    assert np.allclose(gx, grad(f, 0)(a, b)) and np.allclose(gy, grad(f, 1)(a, b))
    (gy2,) = grad(f, argnums=(1,))(a, b)
    np.testing.assert_array_equal(gy2, gy)
    np.testing.assert_array_equal(grad(f, argnums=-1)(a, b), gy)
    gy_first, gx_second = grad(f, argnums=(1, 0))(a, b)
    np.testing.assert_array_equal(gy_first, gy)
    np.testing.assert_array_equal(gx_second, gx)


def test_value_and_grad():
    a, b = np.array([1.0, 2.0]), np.array([0.5, -1.0])
    value, g = value_and_grad(f)(a, b)
    assert type(value) is np.ndarray and value.shape == ()
    assert value == pytest.approx(float(f(Value(a), Value(b)).data))
    np.testing.assert_array_equal(g, grad(f)(a, b))
    value, (gx, gy) = value_and_grad(f, argnums=(0, 1))(a, b)
    np.testing.assert_array_equal(gy, grad(f, 1)(a, b))


def test_numbers_lists_and_arrays_as_arguments():
    g = grad(lambda x: x * x * x)(2.0)
    assert g.shape == () and g == 12.0
    g = grad(lambda x: x * x * x)(2)  # an int is differentiated as a float
    assert g == 12.0 and g.dtype == np.float64
    np.testing.assert_array_equal(grad(lambda x: (x * x).sum())([1, 2, 3]), [2.0, 4.0, 6.0])
    np.testing.assert_array_equal(grad(lambda x: (x * x).sum())([[1.0], [2.0]]), [[2.0], [4.0]])
    np.testing.assert_array_equal(grad(lambda x: (x * x).sum())(np.arange(3.0)), [0.0, 2.0, 4.0])
    # arguments not in argnums stay as given: here a plain list used as a constant
    np.testing.assert_array_equal(grad(lambda x, c: (x * np.asarray(c)).sum())(np.ones(2), [3.0, 4.0]), [3.0, 4.0])


def test_keyword_arguments_are_passed_through():
    a, b = np.array([1.0]), np.array([2.0])
    np.testing.assert_allclose(grad(f)(a, b, scale=3.0), 3 * grad(f)(a, b))


def test_stores_nothing_and_leaves_arguments_alone():
    a = np.array([1.0, 2.0])
    grad(lambda x: (x * x).sum())(a)
    np.testing.assert_array_equal(a, [1.0, 2.0])
    c = Value([1.0, 2.0], requires_grad=False)
    grad(lambda x, c: (x * c).sum())(a, c)
    assert c.grad is None


def test_works_inside_no_grad():
    with no_grad():
        g = grad(lambda x: (x * x).sum())(np.array([3.0]))
    np.testing.assert_array_equal(g, [6.0])


def test_gradient_of_an_argument_f_does_not_use_is_zero():
    gx, gy = grad(lambda x, y: (x * 2).sum(), argnums=(0, 1))(np.ones(2), np.ones(3))
    np.testing.assert_array_equal(gy, np.zeros(3))
    np.testing.assert_array_equal(gx, [2.0, 2.0])


def test_wraps_the_function():
    assert grad(f).__name__ == "f" and value_and_grad(f).__name__ == "f"


class _OuterOnly(ag.ops.Op):
    """An op of the outer graph whose rule must not run while an inner transform differentiates."""

    name = "outer_only"

    def forward(self, x):
        return x * 1.0

    def vjp0(self, g, out, x):
        raise AssertionError("an inner transform's backward pass walked past its argument into the outer graph")


def test_an_inner_transform_stops_at_its_argument():
    x = Value(np.array([1.0, 2.0]))
    y = ag.engine.apply(_OuterOnly(), x)  # an outer graph below y, which the inner passes must not touch
    np.testing.assert_array_equal(ag.grad(lambda v: (v * v).sum())(y).data, [2.0, 4.0])
    np.testing.assert_array_equal(ag.jacobian(lambda v: v * v)(y).data, np.diag([2.0, 4.0]))
    np.testing.assert_array_equal(ag.hessian(lambda v: (v**3).sum())(y).data, np.diag([6.0, 12.0]))
    out, fn = ag.vjp(lambda v: v * 3.0, y)
    np.testing.assert_array_equal(fn(np.ones(2)).data, [3.0, 3.0])
    np.testing.assert_array_equal(ag.jvp(lambda v: v * v, y, np.ones(2))[1].data, [2.0, 4.0])
    with pytest.raises(AssertionError, match="outer graph"):  # the outer graph itself still differentiates through it
        ag.grad(lambda v: (v * v).sum())(y).sum().backward()


def test_a_repeated_argnum_gives_the_same_gradient_twice_as_arrays():
    g = ag.grad(lambda x, y: (x * y).sum(), argnums=(0, 0))(np.array([1.0, 2.0]), np.array([3.0, 4.0]))
    assert all(type(v) is np.ndarray for v in g)
    np.testing.assert_array_equal(g[0], [3.0, 4.0])
    np.testing.assert_array_equal(g[1], [3.0, 4.0])
