"""Scalars: float64 0-d data runs on Python floats and `math`; values, warnings, dtypes and gradients
must be exactly numpy's, as the same computation on 1-element arrays gives them."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import autograd as ag
from autograd import Value

pytestmark = pytest.mark.usefixtures("backward_path")  # every test on both backward loops (conftest.py)

EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 1e-310, 700.0, -700.0, 1e300, -1e300, math.inf, -math.inf, math.nan]
scalars = st.one_of(st.sampled_from(EDGES), st.floats(allow_nan=True, allow_infinity=True), st.floats(-10, 10))

UNARY = {
    "exp": lambda v: v.exp(),
    "log": lambda v: v.log(),
    "sqrt": lambda v: v.sqrt(),
    "tanh": lambda v: v.tanh(),
    "sigmoid": lambda v: v.sigmoid(),
    "relu": lambda v: v.relu(),
    "abs": lambda v: abs(v),
    "neg": lambda v: -v,
    "softplus": lambda v: ag.ops.softplus(v),
    "binary_step": lambda v: v.binary_step(),
    "clip": lambda v: v.clip(-1.0, 2.0),
}
BINARY = {
    "+": lambda a, b: a + b,
    "-": lambda a, b: a - b,
    "*": lambda a, b: a * b,
    "/": lambda a, b: a / b,
    "**": lambda a, b: a**b,
    "maximum": ag.maximum,
    "minimum": ag.minimum,
}


def _run(f, *xs):
    """f's value and the gradients of its inputs, with every warning raised recorded."""
    vs = [Value(x) for x in xs]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = f(*vs)
        (out * 1.0).sum().backward()
    said = sorted({str(w.message).replace("scalar ", "") for w in caught if issubclass(w.category, RuntimeWarning)})
    return out.data, [v.grad for v in vs], said


def _warns_alike(said0, said1, inputs, results):
    """Where finite inputs give an inf or nan, the scalar path warns as numpy does. (An overflow in
    an intermediate that leaves the result finite, as in tanh' at 1e308, numpy's arrays may warn about alone.)"""
    if all(np.isfinite(inputs)) and not all(np.isfinite(np.asarray(r, dtype=np.float64)).all() for r in results):
        assert said0 and said1, (said0, said1)


def _same(a, b):
    a, b = np.asarray(a, dtype=np.float64).reshape(-1), np.asarray(b, dtype=np.float64).reshape(-1)
    np.testing.assert_allclose(a, b, rtol=1e-14, atol=0, equal_nan=True)


@pytest.mark.parametrize("name", sorted(UNARY))
@given(x=scalars)
def test_unary_op_on_a_scalar_equals_the_op_on_a_one_element_array(name, x):
    f = UNARY[name]
    y0, (g0,), said0 = _run(f, np.float64(x))
    y1, (g1,), said1 = _run(f, np.array([x]))
    assert y0.shape == () and g0.shape == () and y0.dtype == g0.dtype == np.float64
    _same(y0, y1)
    _same(g0, g1)
    _warns_alike(said0, said1, [x], [y0, g0])


@pytest.mark.parametrize("name", sorted(BINARY))
@given(x=scalars, y=scalars)
def test_binary_op_on_scalars_equals_the_op_on_one_element_arrays(name, x, y):
    f = BINARY[name]
    z0, g0, said0 = _run(f, np.float64(x), np.float64(y))
    z1, g1, said1 = _run(f, np.array([x]), np.array([y]))
    assert z0.shape == () and z0.dtype == np.float64
    _same(z0, z1)
    for a, b in zip(g0, g1, strict=True):
        _same(a, b)
    _warns_alike(said0, said1, [x, y], [z0, *g0])


@given(xs=st.lists(st.floats(-3, 3), min_size=1, max_size=8))
def test_a_scalar_expression_matches_numpy_float64_step_for_step(xs):
    """A chain that mixes every fast path, against the same formulas on numpy float64 scalars."""
    ref = np.float64(0.25)
    v = Value(0.25)
    y = v
    for x in xs:
        assume(abs(ref - x) > 1e-3)  # away from relu's kink, where finite differences mean nothing
        y = (y * x + 0.1).tanh() + (y - x).relu() / 2.0 + (y * y).sigmoid()
        ref = np.tanh(ref * x + 0.1) + np.maximum(ref - x, 0) / 2.0 + 1 / (1 + np.exp(-(ref * ref)))
    _same(y.data, ref)
    y.backward()
    assert ag.gradcheck(lambda a: _chain(a, xs), np.float64(0.25))


def _chain(y, xs):
    for x in xs:
        y = (y * x + 0.1).tanh() + (y - x).relu() / 2.0 + (y * y).sigmoid()
    return y


def test_division_by_zero_log_of_zero_and_overflow_give_numpys_values_and_warnings():
    cases = [
        (lambda: Value(1.0) / 0.0, math.inf, "divide by zero"),
        (lambda: Value(-1.0) / Value(0.0), -math.inf, "divide by zero"),
        (lambda: Value(0.0) / 0.0, math.nan, "invalid value"),
        (lambda: Value(0.0).log(), -math.inf, "divide by zero"),
        (lambda: Value(-1.0).log(), math.nan, "invalid value"),
        (lambda: Value(-4.0).sqrt(), math.nan, "invalid value"),
        (lambda: Value(1000.0).exp(), math.inf, "overflow"),
        (lambda: Value(1e300) ** 2, math.inf, "overflow"),
        (lambda: Value(-8.0) ** (1 / 3), math.nan, "invalid value"),  # Python's would be complex
        (lambda: Value(0.0) ** -1.0, math.inf, "divide by zero"),
    ]
    for make, want, warning in cases:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            out = make()
        said = " | ".join(str(w.message) for w in caught)
        assert warning in said, (want, said)
        got = float(out.data)
        assert (math.isnan(got) and math.isnan(want)) or got == want
        assert out.dtype == np.float64 and not isinstance(out.data.item(), complex)


def test_gradients_at_the_edge_of_a_domain_are_numpys_too():
    v = Value(0.0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        v.sqrt().backward()
    assert float(v.grad) == math.inf and any("divide by zero" in str(w.message) for w in caught)
    v = Value(0.0)
    with np.errstate(all="ignore"):
        v.log().backward()
    assert float(v.grad) == math.inf


def test_a_float64_scalar_promotes_as_numpy_float64_and_a_python_number_stays_weak():
    w32 = Value(np.ones(3, dtype=np.float32))
    s = Value(2.0)  # float64 0-d
    assert (s * w32).dtype == np.float64  # as np.float64(2.0) * float32 array
    assert (w32 * s).dtype == np.float64
    assert ((s * 3.0).tanh() * w32).dtype == np.float64  # a scalar op result is float64 too
    assert (w32 * 2.0).dtype == np.float32 and (2.0 * w32).dtype == np.float32  # a Python number is weak
    assert (Value(np.float32(2.0)) * 3.0).dtype == np.float32
    x32 = Value(np.float32(0.5))
    (x32 * 3.0).tanh().backward()
    assert x32.grad.dtype == np.float32


def test_data_of_a_scalar_result_is_one_array_and_edits_to_it_persist():
    y = Value(2.0) * 3.0
    d = y.data
    assert isinstance(d, np.ndarray) and d.shape == () and d is y.data
    d[...] = 10.0
    assert float(y.data) == 10.0 and float((y + 1.0).data) == 11.0


def test_a_repeated_python_constant_is_one_node_and_signed_zeros_and_nan_stay_apart():
    y = Value(1.0)
    a, b = 0.9 * y, 0.9 * y
    assert a.parents[0] is b.parents[0] and not a.parents[0].requires_grad
    with np.errstate(divide="ignore", invalid="ignore"):
        assert float((y / 0.0).data) == math.inf and float((y / -0.0).data) == -math.inf
        assert float((y / 0.0).data) == math.inf
        assert math.isnan(float((y * math.nan).data))
    assert (y * 2).parents[1]._data == 2 and type((y * 2.0).parents[1]._data) is float


def test_parents_of_one_two_and_many_inputs():
    x, y, z = Value(1.0), Value(2.0), Value(3.0)
    assert x.parents == () and (-x).parents == (x,) and (x * y).parents == (x, y)
    assert ag.stack([x, y, z]).parents == (x, y, z)
    assert ag.stack([x, y]).parents == (x, y)
