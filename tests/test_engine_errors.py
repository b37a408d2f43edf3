"""Every error of the core engine names the problem: what was given, the shapes, the op."""

from __future__ import annotations

import re

import numpy as np
import pytest

import autograd as ag
import nn
from autograd import Value

pytestmark = pytest.mark.usefixtures("backward_path")  # every test on both backward loops (conftest.py)


@pytest.mark.parametrize(
    "data, exc, words",
    [
        ("abc", TypeError, ["str", "'abc'"]),
        (b"1", TypeError, ["bytes"]),
        ({}, TypeError, ["dict"]),
        (None, TypeError, ["None"]),
        ([[1, 2], [3]], ValueError, ["ragged", "[[1, 2], [3]]"]),
        ([1, None], TypeError, ["object", "[1, None]"]),
        (np.array([1, "a"], dtype=object), TypeError, ["dtype object"]),
        ([1, "a"], TypeError, ["not a number", "'a'"]),
        (np.array(["x"]), TypeError, ["<U1"]),
        (1 + 2j, TypeError, ["complex", "(1+2j)"]),
        (np.array([1j]), TypeError, ["complex", "complex128"]),
    ],
)
def test_bad_value_data_is_refused_with_its_description(data, exc, words):
    with pytest.raises(exc) as info:
        Value(data)
    msg = str(info.value)
    assert "Value data must be" in msg
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize(
    "make, op",
    [
        (lambda: Value(np.ones((2, 3))) + Value(np.ones(4)), "+"),
        (lambda: Value(np.ones((2, 3))) - np.ones(4), "-"),
        (lambda: np.ones(4) * Value(np.ones((2, 3))), "*"),
        (lambda: Value(np.ones((2, 3))) / Value(np.ones(4)), "/"),
        (lambda: Value(np.ones((2, 3))) ** Value(np.ones(4)), "**"),
        (lambda: ag.maximum(Value(np.ones((2, 3))), np.ones(4)), "maximum"),
        (lambda: ag.minimum(Value(np.ones((2, 3))), Value(np.ones(4))), "minimum"),
        (lambda: ag.where(np.ones(4, bool), Value(np.ones((2, 3))), 0.0), "where"),
    ],
)
def test_incompatible_shapes_in_binary_ops(make, op):
    with pytest.raises(ValueError) as info:
        make()
    msg = str(info.value)
    assert msg.startswith(op + ":") and "(2, 3)" in msg and "(4,)" in msg and "broadcast" in msg


@pytest.mark.parametrize(
    "xs, ys, words",
    [
        ((2, 3), (4, 5), ["(2, 3)", "(4, 5)", "(3)", "(4)", "second-to-last"]),
        ((2, 3), (4,), ["(2, 3)", "(4,)", "only"]),
        ((3,), (4, 5), ["(3,)", "(4, 5)"]),
        ((3,), (4,), ["(3,)", "(4,)"]),
        ((2, 3, 4), (3, 4, 5), ["batch dimensions", "(2,)", "(3,)", "do not broadcast"]),
        ((), (3,), ["at least 1 dimension", "()"]),
    ],
)
def test_matmul_shape_errors_name_the_shapes(xs, ys, words):
    with pytest.raises(ValueError) as info:
        Value(np.ones(xs)) @ Value(np.ones(ys))
    msg = str(info.value)
    assert msg.startswith("@:")
    for w in words:
        assert w in msg, (w, msg)


def test_backward_on_a_non_scalar_without_gradient():
    y = Value(np.ones((2, 3))) * 2
    with pytest.raises(ValueError, match=re.escape("shape (2, 3)")) as info:
        y.backward()
    assert "gradient=" in str(info.value) and "one element" in str(info.value)


def test_backward_with_a_gradient_of_the_wrong_shape():
    y = Value(np.ones((2, 3))) * 2
    with pytest.raises(ValueError) as info:
        y.backward(np.ones(3))
    assert "(3,)" in str(info.value) and "(2, 3)" in str(info.value)
    with pytest.raises(ValueError, match=re.escape("(3, 2)")):
        y.backward(Value(np.ones((3, 2))))


def test_backward_on_something_that_does_not_require_grad():
    for y in (Value(np.ones(3), requires_grad=False).sum(), Value(1.0).detach() * 2):
        with pytest.raises(RuntimeError, match="does not require grad"):
            y.backward()
    with ag.no_grad():
        y = Value(1.0) * 2
    with pytest.raises(RuntimeError, match="no_grad"):
        y.backward()


@pytest.mark.parametrize(
    "make, exc, words",
    [
        (lambda: Value(np.ones(3))[5], IndexError, ["[5]", "out of bounds", "(3,)"]),
        (lambda: Value(np.ones(3))[np.array([True, False])], IndexError, ["boolean index", "(3,)"]),
        (lambda: Value(np.ones(3))[np.array([0.5])], IndexError, ["integers or booleans", "float64"]),
        (lambda: Value(np.ones(6)).reshape(4, 2), ValueError, ["reshape", "(4, 2)", "(6,)"]),
        (lambda: Value(np.ones((2, 3))).transpose(0, 0), ValueError, ["transpose", "(2, 3)"]),
        (lambda: Value(np.ones((2, 3))).sum(axis=2), ValueError, ["sum(axis=2)", "(2, 3)"]),
        (lambda: Value(np.ones((2, 3))).max(axis=(0, 0)), ValueError, ["max", "(2, 3)"]),
        (lambda: Value(np.ones(3)).sum(axis=1.5), TypeError, ["axis", "1.5"]),
        (lambda: Value(np.ones(3)).softmax(axis=1), ValueError, ["softmax(axis=1)", "(3,)"]),
        (lambda: ag.concatenate([Value(np.ones((2, 3))), Value(np.ones((2, 4)))]), ValueError, ["concatenate", "(2, 3)", "(2, 4)"]),
        (lambda: ag.concatenate([Value(1.0)]), ValueError, ["zero-dimensional", "stack"]),
        (lambda: ag.concatenate([]), ValueError, ["at least one"]),
        (lambda: ag.stack([Value(np.ones(3)), Value(np.ones(4))]), ValueError, ["stack", "(3,)", "(4,)"]),
        (lambda: ag.stack([]), ValueError, ["at least one"]),
        (lambda: Value(1.0).clip(2, 1), ValueError, ["lo (2)", "hi (1)"]),
        (lambda: Value(1.0).clip(None, None), ValueError, ["at least one"]),
        (lambda: Value(np.ones(3)).item(), ValueError, ["one element", "(3,)"]),
        (lambda: Value(np.ones(3)).mT, ValueError, ["mT", "(3,)"]),
        (lambda: Value(np.ones(0)).mean(), ValueError, ["mean", "empty axis", "(0,)"]),
        (lambda: Value(np.ones(0)).max(), ValueError, ["max", "empty axis", "(0,)"]),
        (lambda: Value(np.ones((0, 3))).min(axis=0), ValueError, ["min(axis=0)", "empty axis", "(0, 3)"]),
        (lambda: Value(np.ones((0, 3))).mean(axis=2), ValueError, ["mean(axis=2)", "(0, 3)"]),
        (lambda: Value(np.ones((3, 0))).softmax(axis=2), ValueError, ["softmax(axis=2)", "(3, 0)"]),
        (lambda: len(Value(1.0)), TypeError, ["0-d"]),
        (lambda: Value(np.ones(3)) + "a", TypeError, ["str", "'a'"]),
        (lambda: nn.linear(np.ones((4, 5)), Value(np.ones((2, 3)))), ValueError, ["@ᵀ", "same n", "(4, 5), (2, 3)"]),
        (lambda: nn.linear(np.ones(3), Value(np.ones(3))), ValueError, ["matrix y", "(3,), (3,)"]),
        (lambda: nn.linear(Value(1.0), np.ones((2, 3))), ValueError, ["x of shape (..., n)", "(), (2, 3)"]),
    ],
)
def test_other_errors_name_the_op_and_shapes(make, exc, words):
    with pytest.raises(exc) as info:
        make()
    msg = str(info.value)
    for w in words:
        assert w in msg, (w, msg)


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda: ag.grad(lambda x: x * 2)(np.ones(3)), ValueError, ["one output element", "(3,)"]),
        (lambda: ag.grad(lambda x: 3.0)(1.0), TypeError, ["must return a Value", "float"]),
        (lambda: ag.grad(lambda x: x, argnums=2)(1.0), ValueError, ["argnums 2", "1 positional"]),
        (lambda: ag.value_and_grad(lambda x, y: x, argnums=(0, 5))(1.0, 2.0), ValueError, ["argnums (0, 5)"]),
        (lambda: ag.gradcheck(lambda x: 1.0, 1.0), TypeError, ["must return a Value", "float"]),
        (lambda: ag.gradcheck(lambda: Value(1.0)), ValueError, ["at least one input"]),
    ],
)
def test_functional_and_gradcheck_usage_errors(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: Value(1.0).leaky_relu("a"), ["leaky_relu", "negative_slope", "'a'"]),
        (lambda: Value(1.0).leaky_relu(np.ones(2)), ["leaky_relu", "ndarray"]),
        (lambda: Value(np.ones(3)).reshape("a"), ["reshape", "ints", "('a',)"]),
        (lambda: Value(np.ones(4)).reshape(2.0, 2), ["reshape", "(2.0, 2)"]),
    ],
)
def test_bad_op_parameters_name_the_op(make, words):
    with pytest.raises(TypeError) as info:
        make()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def test_a_backward_that_fails_half_way_stores_no_gradient():
    """A rule that raises mid-pass (here: a weight's data reshaped between forward and backward)
    leaves every .grad as it was, so fixing the mistake and calling backward() again counts once."""
    W, b, x = Value(np.ones((3, 3))), Value(np.zeros(3)), Value(np.ones((2, 3)))
    loss = (b + (x @ W)).sum()
    loss.backward()
    first = {k: v.grad.copy() for k, v in {"W": W, "b": b, "loss": loss}.items()}
    good = W.data
    W.data = np.ones((4, 4))  # the mistake
    with pytest.raises(ValueError, match="mismatch"):
        loss.backward()
    for k, v in {"W": W, "b": b, "loss": loss}.items():
        np.testing.assert_array_equal(v.grad, first[k], err_msg=k)  # not half-accumulated
    W.data = good
    loss.backward()
    np.testing.assert_array_equal(b.grad, 2 * first["b"])
