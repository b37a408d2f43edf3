"""Bad input: a clear error where the mistake is made, naming the values or shapes, nothing half-changed.

Each `pytest.raises` block holds only the mistaken call, so the error is raised there (not later,
in backward or in numpy), and each test checks afterwards that nothing was left half-changed.
"""

from __future__ import annotations

import numpy as np
import pytest

import autograd
import nn
from autograd import Value


def _leaf(shape=(2, 3), seed=0):
    return Value(np.random.default_rng(seed).normal(size=shape), label="a")


# ---- bad data for a Value ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, exc, words",
    [
        ("abc", TypeError, ["str", "'abc'"]),
        ([[1.0, 2.0], [3.0]], ValueError, ["ragged", "[[1.0, 2.0], [3.0]]"]),
        (np.array([1, None], dtype=object), TypeError, ["object"]),
        (np.array([1 + 2j]), TypeError, ["complex"]),
        (1 + 2j, TypeError, ["complex"]),
        (None, TypeError, ["None"]),
        (["a", "b"], TypeError, ["<U1"]),
        ({"w": 1}, TypeError, ["dict"]),
    ],
)
def test_bad_value_data(data, exc, words):
    with pytest.raises(exc) as e:
        Value(data)
    for w in words:
        assert w in str(e.value)


def test_bad_data_assignment_leaves_the_old_data():
    a = _leaf()
    old = a.data.copy()
    with pytest.raises(TypeError, match="str"):
        a.data = "oops"
    np.testing.assert_array_equal(a.data, old)


# ---- shapes, axes, reshape, indexing -----------------------------------------------------------

BINARY = {
    "+": lambda x, y: x + y,
    "-": lambda x, y: x - y,
    "*": lambda x, y: x * y,
    "/": lambda x, y: x / y,
    "**": lambda x, y: x**y,
    "maximum": autograd.maximum,
    "minimum": autograd.minimum,
    "where": lambda x, y: autograd.where(np.ones((2, 3), bool), x, y),
}


@pytest.mark.parametrize("name", sorted(BINARY))
def test_incompatible_shapes_in_every_binary_op(name):
    a, b = _leaf((2, 3)), _leaf((4, 5), seed=1)
    with pytest.raises(ValueError) as e:
        BINARY[name](a, b)
    msg = str(e.value)
    assert "(2, 3)" in msg and "(4, 5)" in msg and name in msg
    assert a.grad is None and b.grad is None


@pytest.mark.parametrize(
    "x_shape, y_shape, words",
    [((2, 3), (4, 5), ["(2, 3)", "(4, 5)", "3", "4"]), ((3,), (2,), ["(3,)", "(2,)"]), ((2, 3), (), ["dimension"]), ((5, 2, 3), (4, 3, 2), ["5", "4"])],
)
def test_matmul_shape_errors_name_the_shapes(x_shape, y_shape, words):
    with pytest.raises(ValueError) as e:
        _leaf(x_shape) @ _leaf(y_shape)
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize(
    "call, exc, words",
    [
        (lambda a: a.sum(axis=5), ValueError, ["axis 5", "(2, 3)"]),
        (lambda a: a.mean(axis=-3), ValueError, ["axis -3"]),
        (lambda a: a.max(axis=(0, 0)), ValueError, ["duplicate"]),
        (lambda a: a.softmax(axis=2), ValueError, ["axis 2"]),
        (lambda a: a.sum(axis="rows"), TypeError, ["'rows'"]),
        (lambda a: a.transpose(0, 2), ValueError, ["(2, 3)"]),
        (lambda a: a.reshape(4, 2), ValueError, ["size 6", "(4,2)"]),
        (lambda a: a.reshape(-1, -1), ValueError, ["one unknown dimension"]),
        (lambda a: a[2], IndexError, ["index 2", "size 2"]),
        (lambda a: a[0, 3], IndexError, ["index 3", "axis 1"]),
        (lambda a: a[[0, 5]], IndexError, ["index 5"]),
        (lambda a: a[0, 0, 0], IndexError, ["too many indices"]),
        (lambda a: a[np.array([0.5])], IndexError, ["float64"]),
        (lambda a: autograd.concatenate([a, a.T]), ValueError, ["(2, 3)", "(3, 2)"]),
        (lambda a: autograd.stack([a, a.T]), ValueError, ["same shape", "(3, 2)"]),
        (lambda a: a.clip(1.0, -1.0), ValueError, ["lo (1.0)", "hi (-1.0)"]),
    ],
)
def test_wrong_axes_reshape_and_indexing(call, exc, words):
    a = _leaf()
    old = a.data.copy()
    with pytest.raises(exc) as e:
        call(a)
    for w in words:
        assert w in str(e.value)
    np.testing.assert_array_equal(a.data, old)
    assert a.grad is None


# ---- backward misuse ---------------------------------------------------------------------------


def _graph():
    a = _leaf()
    h = (a * 2).tanh()
    return a, h


def test_backward_on_non_scalar_without_gradient():
    a, h = _graph()
    with pytest.raises(ValueError, match=r"shape \(2, 3\).*gradient="):
        h.backward()
    assert a.grad is None and h.grad is None


def test_backward_with_gradient_of_wrong_shape():
    a, h = _graph()
    with pytest.raises(ValueError, match=r"gradient has shape \(3, 2\) but the output has shape \(2, 3\)"):
        h.backward(np.ones((3, 2)))
    assert a.grad is None and h.grad is None


def test_backward_of_a_loss_computed_inside_no_grad():
    a = _leaf()
    with autograd.no_grad():
        loss = (a * a).sum()
    with pytest.raises(RuntimeError, match="no_grad"):
        loss.backward()
    assert a.grad is None


def test_backward_of_a_loss_that_depends_on_no_parameter():
    model = nn.Linear(3, 1)
    x = Value(np.ones((4, 3)), requires_grad=False)
    loss = nn.mse_loss(x.sum(axis=1, keepdims=True), np.zeros((4, 1)))  # forgot to call the model
    with pytest.raises(RuntimeError, match="depends on no parameter"):
        loss.backward()
    assert all(p.grad is None for p in model.parameters())


# ---- nn ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("make", [lambda: nn.Linear(3, 2), lambda: nn.MLP(3, [4, 2])])
def test_wrong_input_width_for_a_layer(make):
    model = make()
    with pytest.raises(ValueError) as e:
        model(np.ones((5, 4)))
    assert "3 features" in str(e.value) and "(5, 4)" in str(e.value)


@pytest.mark.parametrize(
    "labels, exc, words",
    [
        (np.array([0, 3]), ValueError, ["label 3", "[0, 2]", "3 classes"]),
        (np.array([-1, 0]), ValueError, ["label -1"]),
        (np.array([0.0, 1.0]), TypeError, ["integer dtype", "float64"]),
        (np.array([True, False]), TypeError, ["integer dtype", "bool"]),
        (np.array([0, 1, 2]), ValueError, ["(2,)", "(3,)"]),
    ],
)
def test_cross_entropy_bad_labels(labels, exc, words):
    logits = Value(np.zeros((2, 3)))
    with pytest.raises(exc) as e:
        nn.cross_entropy(logits, labels)
    for w in words:
        assert w in str(e.value)


@pytest.mark.parametrize("opt", ["SGD", "Adam"])
def test_optimizer_without_parameters_or_with_negative_lr(opt):
    cls = getattr(nn.optim, opt)
    with pytest.raises(ValueError, match="empty parameter list"):
        cls([], lr=0.1)
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match=r"lr.*-0.5"):
        cls(model.parameters(), lr=-0.5)


def _state(model):
    return {k: np.array(v.data if isinstance(v, Value) else v) for k, v in model.state_dict().items()}


@pytest.mark.parametrize(
    "mutate, words",
    [
        (lambda sd: sd.pop("layers.1.bias"), ["missing", "layers.1.bias"]),
        (lambda sd: sd.update(extra=np.ones(2)), ["unexpected", "extra"]),
        (lambda sd: sd.update({"layers.1.bias": np.ones(7)}), ["layers.1.bias", "(7,)", "(2,)"]),
    ],
)
def test_load_state_dict_refuses_and_leaves_the_model_unchanged(mutate, words):
    model = nn.MLP(3, [4, 2])
    keys = list(_state(model))
    assert keys[-1] == "layers.1.bias"  # the bad entry comes last: a naive loader would already have copied the rest
    before = _state(model)
    new = {k: v + 1.0 for k, v in before.items()}
    mutate(new)
    with pytest.raises(ValueError) as e:
        model.load_state_dict(new)
    for w in words:
        assert w in str(e.value)
    after = _state(model)
    assert all(np.array_equal(before[k], after[k]) for k in before)
