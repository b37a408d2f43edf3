"""Every op, operator, method and module function: forward against numpy, gradient against finite differences.

One test runs over the table `CASES`; a new op is tested by adding one row. Each row draws its
inputs from tests/strategies.py (hypothesis shapes and values in the op's safe domain, with
broadcasting, 0-d, 1-d and batched inputs), runs `f` on Values and `ref` on the same arrays,
and checks the gradient with `autograd.gradcheck` in float64 (non-scalar outputs through a
random projection), then runs it again in float32, whose results and gradients must stay
float32 (tests/op_table.py: the checks, shared with the other op tables). Inputs listed in
`consts` stay plain numpy arrays (a constant operand on either side of an operator).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd as ag
import nn
from autograd import Value

from . import strategies as S
from .op_table import Case, check_first_order


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis):
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax(x, axis):
    return x - np.log(np.exp(x).sum(axis=axis, keepdims=True))


def _cross_entropy(x, labels, reduction):
    return ag.engine.apply1(ag.ops.SoftmaxCrossEntropy(labels, reduction), x)


def _np_cross_entropy(x, labels, reduction):
    per = -np.take_along_axis(_log_softmax(x, -1), labels[..., None], -1)[..., 0]
    return {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](per)


def _mT(x):
    return np.swapaxes(x, -1, -2)


CASES = [
    # ---- operators, with a Value, a number or an ndarray on either side; broadcasting from strategies.binary
    Case("add", S.binary(), lambda x, y: x + y, np.add),
    Case("sub", S.binary(), lambda x, y: x - y, np.subtract),
    Case("mul", S.binary(), lambda x, y: x * y, np.multiply),
    Case("div", S.binary(avoid1=(0.0,)), lambda x, y: x / y, np.divide),
    Case("pow_value_exponent", S.binary(0.25, 3.0, -2.0, 2.0), lambda x, y: x**y, np.power),
    Case("pow_int", S.unary(avoid=(0.0,)), lambda x: x**3, lambda x: x**3),
    Case("pow_negative_int", S.away_from_zero(), lambda x: x**-2, lambda x: x**-2.0),
    Case("pow_fraction", S.unary(0.1, 4.0), lambda x: x**0.5, np.sqrt),
    Case("number_pow_value", S.unary(), lambda x: 2.0**x, lambda x: 2.0**x),
    Case("number_add", S.unary(), lambda x: 1.5 + x, lambda x: 1.5 + x),
    Case("number_sub", S.unary(), lambda x: 2 - x, lambda x: 2 - x),
    Case("number_mul", S.unary(), lambda x: x * 3, lambda x: x * 3),
    Case("number_div", S.unary(avoid=(0.0,)), lambda x: 1.0 / x, lambda x: 1.0 / x),
    Case("array_add_value", S.binary(), lambda a, y: a + y, np.add, consts=(0,)),
    Case("array_sub_value", S.binary(), lambda a, y: a - y, np.subtract, consts=(0,)),
    Case("array_mul_value", S.binary(), lambda a, y: a * y, np.multiply, consts=(0,)),
    Case("array_div_value", S.binary(avoid1=(0.0,)), lambda a, y: a / y, np.divide, consts=(0,)),
    Case("array_pow_value", S.binary(0.25, 3.0, -2.0, 2.0), lambda a, y: a**y, np.power, consts=(0,)),
    Case("value_pow_array", S.binary(0.25, 3.0, -2.0, 2.0), lambda x, a: x**a, np.power, consts=(1,)),
    Case("neg", S.unary(), lambda x: -x, np.negative),
    Case("abs_builtin", S.unary(avoid=(0.0,)), abs, np.abs),
    Case("abs_method", S.unary(avoid=(0.0,)), lambda x: x.abs(), np.abs),
    # ---- matmul: every numpy case
    Case("matmul_1d_1d", S.matmul_pair("1d@1d"), lambda x, y: x @ y, np.matmul),
    Case("matmul_2d_1d", S.matmul_pair("2d@1d"), lambda x, y: x @ y, np.matmul),
    Case("matmul_1d_2d", S.matmul_pair("1d@2d"), lambda x, y: x @ y, np.matmul),
    Case("matmul_2d_2d", S.matmul_pair("2d@2d"), lambda x, y: x @ y, np.matmul),
    Case("matmul_batched", S.matmul_pair("batched"), lambda x, y: x @ y, np.matmul),
    Case("array_matmul_value", S.matmul_pair("batched"), lambda a, y: a @ y, np.matmul, consts=(0,)),
    Case("value_matmul_array", S.matmul_pair("batched"), lambda x, a: x @ a, np.matmul, consts=(1,)),
    # ---- nn.linear: x @ wᵀ as one op (1-D, batched and N-D x; the input a constant, as in a first layer)
    Case("linear", S.linear_args(), lambda x, w, b: nn.linear(x, w, b), lambda x, w, b: x @ w.T + b),
    Case("linear_no_bias", S.linear_args(), lambda x, w, b: nn.linear(x, w), lambda x, w, b: x @ w.T, consts=(2,)),
    Case("linear_array_input", S.linear_args(), lambda a, w, b: nn.linear(a, w, b), lambda x, w, b: x @ w.T + b, consts=(0,)),
    # ---- elementwise methods
    Case("exp", S.unary(), lambda x: x.exp(), np.exp),
    Case("log", S.unary(0.1, 5.0), lambda x: x.log(), np.log),
    Case("sqrt", S.unary(0.1, 5.0), lambda x: x.sqrt(), np.sqrt),
    Case("tanh", S.unary(-5.0, 5.0), lambda x: x.tanh(), np.tanh),
    Case("sigmoid", S.unary(-6.0, 6.0), lambda x: x.sigmoid(), _sigmoid),
    Case("relu", S.unary(avoid=(0.0,)), lambda x: x.relu(), lambda x: np.maximum(x, 0)),
    Case(
        "leaky_relu",
        S.leaky_relu_args(),
        lambda x, negative_slope: x.leaky_relu(negative_slope),
        lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
    ),
    Case("leaky_relu_default", S.unary(avoid=(0.0,)), lambda x: x.leaky_relu(), lambda x: np.where(x > 0, x, 0.01 * x)),
    Case("binary_step", S.unary(avoid=(0.0,)), lambda x: x.binary_step(), lambda x: (x >= 0).astype(np.float64)),
    Case("clip", S.clip_args(), lambda x, lo, hi: x.clip(lo, hi), lambda x, lo, hi: np.clip(x, lo, hi)),
    Case("softmax", S.softmax_args(), lambda x, axis: x.softmax(axis), _softmax),
    Case("softmax_default_axis", S.unary(-5.0, 5.0, shape=S.shapes(min_dims=1)), lambda x: x.softmax(), lambda x: _softmax(x, -1)),
    Case("log_softmax", S.softmax_args(), lambda x, axis: x.log_softmax(axis), _log_softmax),
    Case("softmax_cross_entropy", S.cross_entropy_args(), lambda x, labels, reduction: _cross_entropy(x, labels, reduction), _np_cross_entropy),
    Case(
        "binary_cross_entropy",
        S.bce_args(),
        lambda p, t, reduction: nn.binary_cross_entropy(p, t, reduction),
        lambda p, t, reduction: {"mean": np.mean, "sum": np.sum, "none": lambda v: v}[reduction](-(t * np.log(p) + (1 - t) * np.log(1 - p))),
    ),
    Case("log_softmax_default_axis", S.unary(-5.0, 5.0, shape=S.shapes(min_dims=1)), lambda x: x.log_softmax(), lambda x: _log_softmax(x, -1)),
    # ---- reductions: axis None / int / tuple, keepdims
    Case("sum", S.reduction(), lambda x, axis, keepdims: x.sum(axis, keepdims), lambda x, axis, keepdims: np.sum(x, axis, keepdims=keepdims)),
    Case("sum_default", S.unary(), lambda x: x.sum(), np.sum),
    Case(
        "mean",
        S.reduction(),
        lambda x, axis, keepdims: x.mean(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: np.mean(x, axis, keepdims=keepdims),
    ),
    Case(
        "max",
        S.distinct_reduction(),
        lambda x, axis, keepdims: x.max(axis=axis, keepdims=keepdims),
        lambda x, axis, keepdims: np.max(x, axis, keepdims=keepdims),
    ),
    Case(
        "min",
        S.distinct_reduction(),
        lambda x, axis, keepdims: x.min(axis, keepdims),
        lambda x, axis, keepdims: np.min(x, axis, keepdims=keepdims),
    ),
    # ---- shapes and indexing
    Case("reshape", S.reshape_args(), lambda x, shape: x.reshape(shape), lambda x, shape: np.reshape(x, shape)),
    Case("reshape_varargs", S.reshape_args(), lambda x, shape: x.reshape(*shape), lambda x, shape: np.reshape(x, shape)),
    Case("transpose", S.transpose_args(), lambda x, axes: x.transpose(axes), lambda x, axes: np.transpose(x, axes)),
    Case("transpose_varargs", S.transpose_args(), lambda x, axes: x.transpose(*(axes or ())), lambda x, axes: np.transpose(x, axes)),
    Case("T", S.unary(), lambda x: x.T, lambda x: x.T),
    Case("mT", S.unary(shape=S.shapes(min_dims=2)), lambda x: x.mT, _mT),
    Case("getitem_basic", S.getitem_args("basic"), lambda x, index: x[index], lambda x, index: x[index]),
    Case("getitem_int_array", S.getitem_args("int_array"), lambda x, index: x[index], lambda x, index: x[index]),
    Case("getitem_mixed", S.getitem_args("mixed"), lambda x, index: x[index], lambda x, index: x[index]),
    Case("getitem_mask", S.getitem_args("mask"), lambda x, index: x[index], lambda x, index: x[index]),
    Case("concatenate", S.concat_args(), lambda *xs, axis: ag.concatenate(xs, axis=axis), lambda *xs, axis: np.concatenate(xs, axis)),
    Case("stack", S.stack_args(), lambda *xs, axis: ag.stack(xs, axis=axis), lambda *xs, axis: np.stack(xs, axis)),
    Case("where", S.where_args(), lambda a, b, cond: ag.where(cond, a, b), lambda a, b, cond: np.where(cond, a, b)),
    Case("maximum", S.tie_free_binary(), ag.maximum, np.maximum),
    Case("minimum", S.tie_free_binary(), ag.minimum, np.minimum),
    Case("maximum_number", S.unary(avoid=(0.5,)), lambda x: ag.maximum(x, 0.5), lambda x: np.maximum(x, 0.5)),
    Case("minimum_array", S.tie_free_binary(), lambda a, y: ag.minimum(a, y), np.minimum, consts=(0,)),
    # ---- a node used more than once (its gradients from every use add up)
    Case("reuse_a_plus_a", S.unary(), lambda x: x + x, lambda x: x + x),
    Case("reuse_a_times_a", S.unary(), lambda x: x * x, lambda x: x * x),
    Case("reuse_gram", S.unary(shape=S.shapes(min_dims=2)), lambda x: x @ x.mT, lambda x: x @ _mT(x)),
    Case(
        "reuse_normalize",
        S.unary(shape=S.shapes(min_dims=1)),
        lambda x: (x - x.mean(axis=-1, keepdims=True)) * x.tanh(),
        lambda x: (x - x.mean(axis=-1, keepdims=True)) * np.tanh(x),
    ),
    Case(
        "reuse_repeated_index",
        S.unary(shape=S.shapes(min_dims=1)),
        lambda x: x[np.array([0, 0, -1, 0])] * x[0],
        lambda x: x[np.array([0, 0, -1, 0])] * x[0],
    ),
    Case("reuse_in_binary", S.binary(), lambda x, y: (x * y + x) / (1 + y * y), lambda x, y: (x * y + x) / (1 + y * y)),
]


def test_every_public_function_has_a_case():
    names = {c.name for c in CASES}
    for fn in ("concatenate", "stack", "where", "maximum", "minimum"):
        assert fn in names
    for method in ("exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu", "binary_step", "softmax", "log_softmax",
                   "sum", "mean", "max", "min", "reshape", "transpose", "T", "mT", "clip"):  # fmt: skip
        assert hasattr(Value, method) and method in names


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
@settings(max_examples=20)
@given(data=st.data())
def test_op(case: Case, data: st.DataObject) -> None:
    check_first_order(case, data)
