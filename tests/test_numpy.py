"""autograd.numpy: every function against numpy (forward, and on plain arrays), finite differences
(first and second order, float64), float32, PyTorch (float64, value and gradient), HIPS-style
programs, the conventions at kinks, the errors (and a fuzz with tests/test_fuzz.py's harness), and
the Value methods that dispatch to it.

The table `CASES` has a row per function (tests/op_table.py runs the checks, as for the ops of
tests/test_ops.py); `TORCH` maps a row to PyTorch's function for the parity test, which reuses
the row's draws.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import numpy.testing as npt
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import autograd.numpy as anp
from autograd import Op, Value, grad, gradcheck, gradgradcheck, value_and_grad
from autograd.numpy import linalg as alg

from . import strategies as S
from . import torch_parity as tp
from .op_table import Case, check_first_order, check_second_order, op_classes, op_types
from .test_fuzz import _call, _fuzz, _then_backward, args, good_values

INTS = tuple(float(k) for k in range(-3, 4))
HALVES = tuple(k + 0.5 for k in range(-4, 4))
TENTHS_HALVES = tuple(round(k / 10 + 0.05, 2) for k in range(-31, 31))


def _round1(a):
    return (a,), {"decimals": 1}


def _split_scaled(split_fn, lib):
    """The pieces of a split, each times its position (so a piece sent to the wrong place fails), joined again."""

    def f(x, indices_or_sections, axis):
        return lib.concatenate([p * (i + 1.0) for i, p in enumerate(split_fn(x, indices_or_sections, axis))], axis)

    return f


CASES = [
    # ---- elementwise
    Case("sin", S.unary(), anp.sin, np.sin),
    Case("cos", S.unary(), anp.cos, np.cos),
    Case("tan", S.unary(-1.2, 1.2), anp.tan, np.tan),
    Case("arcsin", S.unary(-0.9, 0.9), anp.arcsin, np.arcsin),
    Case("arccos", S.unary(-0.9, 0.9), anp.arccos, np.arccos),
    Case("arctan", S.unary(), anp.arctan, np.arctan),
    Case("arctan2", S.binary_away(avoid0=(0.0,), avoid1=(0.0,)), anp.arctan2, np.arctan2),
    Case("sinh", S.unary(), anp.sinh, np.sinh),
    Case("cosh", S.unary(), anp.cosh, np.cosh),
    Case("tanh", S.unary(-4.0, 4.0), anp.tanh, np.tanh),
    Case("exp", S.unary(), anp.exp, np.exp),
    Case("exp2", S.unary(), anp.exp2, np.exp2),
    Case("expm1", S.unary(), anp.expm1, np.expm1),
    Case("log", S.unary(0.1, 5.0), anp.log, np.log),
    Case("log2", S.unary(0.1, 5.0), anp.log2, np.log2),
    Case("log10", S.unary(0.1, 5.0), anp.log10, np.log10),
    Case("log1p", S.unary(-0.9, 3.0), anp.log1p, np.log1p),
    Case("logaddexp", S.binary(), anp.logaddexp, np.logaddexp),
    Case("sqrt", S.unary(0.1, 5.0), anp.sqrt, np.sqrt),
    Case("square", S.unary(), anp.square, np.square),
    Case("reciprocal", S.away_from_zero(), anp.reciprocal, np.reciprocal),
    Case("abs", S.unary(avoid=(0.0,)), anp.abs, np.abs),
    Case("absolute", S.unary(avoid=(0.0,)), anp.absolute, np.absolute),
    Case("sign", S.unary(avoid=(0.0,)), anp.sign, np.sign),
    Case("floor", S.unary(avoid=INTS), anp.floor, np.floor),
    Case("ceil", S.unary(avoid=INTS), anp.ceil, np.ceil),
    Case("trunc", S.unary(avoid=INTS), anp.trunc, np.trunc),
    Case("rint", S.unary(avoid=HALVES), anp.rint, np.rint),
    Case("round", S.unary(avoid=HALVES), anp.round, np.round),
    Case("round_decimals", S.arrays(S.shapes(), avoid=TENTHS_HALVES, margin=0.005).map(_round1), anp.round, np.round),
    Case("around", S.unary(avoid=HALVES), anp.around, np.round),
    Case("maximum", S.tie_free_binary(), anp.maximum, np.maximum),
    Case("minimum", S.tie_free_binary(), anp.minimum, np.minimum),
    Case("maximum_array", S.tie_free_binary(), anp.maximum, np.maximum, consts=(1,)),
    Case("where", S.where_args(), lambda a, b, cond: anp.where(cond, a, b), lambda a, b, cond: np.where(cond, a, b)),
    Case("clip", S.clip_args(), lambda x, lo, hi: anp.clip(x, lo, hi), lambda x, lo, hi: np.clip(x, lo, hi)),
    Case("clip_array_bounds", S.clip_array_args(), anp.clip, np.clip, consts=(1, 2)),
    Case("clip_value_bounds", S.clip_array_args(), anp.clip, np.clip),
    Case("add", S.binary(), anp.add, np.add),
    Case("subtract", S.binary(), anp.subtract, np.subtract),
    Case("multiply", S.binary(), anp.multiply, np.multiply),
    Case("divide", S.binary(avoid1=(0.0,)), anp.divide, np.divide),
    Case("true_divide", S.binary(avoid1=(0.0,)), anp.true_divide, np.true_divide),
    Case("power", S.binary(0.25, 3.0, -2.0, 2.0), anp.power, np.power),
    Case("negative", S.unary(), anp.negative, np.negative),
    # ---- reductions and scans
    Case("sum", S.reduction(), anp.sum, np.sum),
    Case("mean", S.reduction(), anp.mean, np.mean),
    Case("prod", S.prod_args(), anp.prod, np.prod),
    Case("prod_one_zero", S.prod_args(one_zero=True), anp.prod, np.prod),
    Case("var", S.var_args(), anp.var, np.var),
    Case("std", S.var_args(distinct=True), anp.std, np.std),
    Case("max", S.distinct_reduction(), anp.max, np.max),
    Case("min", S.distinct_reduction(), anp.min, np.min),
    Case("amax", S.distinct_reduction(), anp.amax, np.amax),
    Case("amin", S.distinct_reduction(), anp.amin, np.amin),
    Case("logsumexp", S.reduction(), anp.logsumexp, lambda x, axis, keepdims: np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))),
    Case("cumsum", S.scan_args(), anp.cumsum, np.cumsum),
    Case("cumprod", S.prod_args(scan=True), anp.cumprod, np.cumprod),
    Case("cumprod_one_zero", S.prod_args(one_zero=True, scan=True), anp.cumprod, np.cumprod),
    # ---- shapes, joins, indexing
    Case("reshape", S.reshape_args(), anp.reshape, np.reshape),
    Case("ravel", S.unary(), anp.ravel, np.ravel),
    Case("transpose", S.transpose_args(), anp.transpose, np.transpose),
    Case("swapaxes", S.axis_args(count=2), anp.swapaxes, np.swapaxes),
    Case("moveaxis", S.moveaxis_args(), anp.moveaxis, np.moveaxis),
    Case("squeeze", S.squeeze_args(), anp.squeeze, np.squeeze),
    Case("expand_dims", S.expand_dims_args(), anp.expand_dims, np.expand_dims),
    Case("broadcast_to", S.broadcast_to_args(), anp.broadcast_to, np.broadcast_to),
    Case("flip", S.flip_args(), anp.flip, np.flip),
    Case("roll", S.roll_args(), anp.roll, np.roll),
    Case("tile", S.tile_args(), anp.tile, np.tile),
    Case("repeat", S.repeat_args(), anp.repeat, np.repeat),
    Case("pad", S.pad_args(), anp.pad, np.pad),
    Case("split", S.split_args(), _split_scaled(anp.split, anp), _split_scaled(np.split, np)),
    Case("array_split", S.split_args(equal=False), _split_scaled(anp.array_split, anp), _split_scaled(np.array_split, np)),
    Case("concatenate", S.concat_args(), lambda *xs, axis: anp.concatenate(xs, axis), lambda *xs, axis: np.concatenate(xs, axis)),
    Case("concatenate_flat", S.stack_args().map(lambda d: (d[0], {"axis": None})), lambda *xs, axis: anp.concatenate(xs, axis), lambda *xs, axis: np.concatenate(xs, axis)),
    Case("stack", S.stack_args(), lambda *xs, axis: anp.stack(xs, axis), lambda *xs, axis: np.stack(xs, axis)),
    Case("hstack", S.join_args(axis=1), lambda *xs: anp.hstack(xs), lambda *xs: np.hstack(xs)),
    Case("vstack", S.join_args(axis=0), lambda *xs: anp.vstack(xs), lambda *xs: np.vstack(xs)),
    Case("diagonal", S.diagonal_args(), anp.diagonal, np.diagonal),
    Case("trace", S.diagonal_args(), anp.trace, np.trace),
    Case("tril", S.tri_args(), anp.tril, np.tril),
    Case("triu", S.tri_args(), anp.triu, np.triu),
    Case("take_along_axis", S.take_along_axis_args(), anp.take_along_axis, np.take_along_axis),
    # ---- products
    Case("matmul", S.matmul_pair("batched"), anp.matmul, np.matmul),
    Case("matmul_array", S.matmul_pair("batched"), anp.matmul, np.matmul, consts=(0,)),
    Case("dot", S.dot_args(), anp.dot, np.dot),
    Case("inner", S.inner_args(), anp.inner, np.inner),
    Case("outer", S.outer_args(), anp.outer, np.outer),
    Case("tensordot", S.tensordot_args(), anp.tensordot, np.tensordot),
    Case("einsum", S.einsum_args(), lambda *xs, subscripts: anp.einsum(subscripts, *xs), lambda *xs, subscripts: np.einsum(subscripts, *xs)),
    # ---- linear algebra
    Case("norm", S.unary(avoid=(0.0,)), alg.norm, np.linalg.norm),
    Case("norm_vector", S.vector_norm_args(), alg.norm, np.linalg.norm),
    Case("norm_p", S.vector_norm_args(ords=(3, 0.5, 1.5, -1)), alg.norm, np.linalg.norm),
    Case("norm_matrix", S.matrix_norm_args(), alg.norm, np.linalg.norm),
    Case("inv", S.square_matrices(), alg.inv, np.linalg.inv),
    Case("det", S.square_matrices(), alg.det, np.linalg.det),
    Case("solve", S.solve_args(), alg.solve, np.linalg.solve),
    Case("solve_array_matrix", S.solve_args(), alg.solve, np.linalg.solve, consts=(0,)),
]

NAMES = [c.name for c in CASES]


def test_every_differentiable_function_has_a_row():
    missing = [n for n in (*anp.DIFFERENTIABLE, *alg.__all__) if n not in NAMES and n not in ("argmax", "argmin", "LinAlgError")]
    assert not missing, f"autograd.numpy functions without a row in CASES: {missing}"


@pytest.mark.parametrize("case", CASES, ids=NAMES)
@settings(max_examples=25)
@given(data=st.data())
def test_first_order(case: Case, data: st.DataObject) -> None:
    arrays, params = check_first_order(case, data)
    if not case.consts:  # the same function on plain arrays: numpy's result, not a Value
        plain, expected = case.f(*arrays, **params), case.ref(*arrays, **params)
        assert not isinstance(plain, Value)
        assert np.shape(plain) == np.shape(expected) and np.result_type(plain) == np.result_type(expected)
        np.testing.assert_allclose(plain, expected, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", CASES, ids=NAMES)
@settings(max_examples=8)
@given(data=st.data())
def test_second_order(case: Case, data: st.DataObject) -> None:
    check_second_order(case, data)


def test_every_op_class_is_checked_to_second_order() -> None:
    defined = op_classes(Op, "autograd.numpy")
    seen = set().union(*(op_types(c) for c in CASES))
    missing = sorted(c.__name__ for c in defined - seen if not c.__name__.startswith("_"))
    assert not missing, f"autograd.numpy ops without a row in CASES: {missing}"


# ---- against PyTorch (float64: values and gradients) ---------------------------------------------


def _dims(axis, ndim):
    return tuple(range(ndim)) if axis is None else axis


def _reduction(fn):
    """PyTorch's reduction with numpy's axis: None is all axes, () none (PyTorch's dim=() would be all)."""

    def theirs(x, axis, keepdims, **kw):
        if axis == ():
            return fn(x.unsqueeze(0), dim=0, keepdim=False, **kw)
        return fn(x, dim=_dims(axis, x.ndim), keepdim=keepdims, **kw)

    return theirs


def _torch_prod(x, axis, keepdims):
    dims = range(x.ndim) if axis is None else [axis] if isinstance(axis, int) else axis
    out = x
    for d in sorted((d % x.ndim for d in dims), reverse=True):  # PyTorch's prod takes one dim at a time
        out = torch.prod(out, dim=d, keepdim=keepdims)
    return out


def _torch_pad(x, pad_width, constant_values):
    widths = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))
    flat = [int(v) for pair in widths[::-1] for v in pair]  # PyTorch: the last axis first
    return torch.nn.functional.pad(x, flat, value=constant_values)


def _torch_vector_norm(x, ord, axis, keepdims):
    out = torch.linalg.vector_norm(x, 2 if ord is None else ord, dim=axis, keepdim=keepdims)
    if ord == 0:  # PyTorch records no graph for the count of nonzeros; ours has gradient 0
        out = out + (x * 0.0).sum(dim=axis, keepdim=keepdims)
    return out


def _torch_matrix_norm(x, ord, axis, keepdims):
    return torch.linalg.matrix_norm(x, "fro" if ord is None else ord, dim=(0, 1) if axis is None else axis, keepdim=keepdims)


def _torch_roll(x, shift, axis):
    if axis is None:
        return torch.roll(x.reshape(-1), shift).reshape(x.shape)
    return torch.roll(x, shift, axis)


def _torch_repeat(x, repeats, axis):
    r = torch.from_numpy(np.asarray(repeats)) if np.ndim(repeats) else int(repeats)
    return torch.repeat_interleave(x.reshape(-1) if axis is None else x, r, dim=0 if axis is None else axis)


def _torch_solve(a, b):
    if b.ndim == 1:
        return torch.linalg.solve(a, b.expand(a.shape[:-1]).unsqueeze(-1)).squeeze(-1)
    return torch.linalg.solve(a, b)


T = torch
TORCH = {
    "sin": T.sin, "cos": T.cos, "tan": T.tan, "arcsin": T.asin, "arccos": T.acos, "arctan": T.atan, "arctan2": T.atan2,
    "sinh": T.sinh, "cosh": T.cosh, "tanh": T.tanh, "exp": T.exp, "exp2": T.exp2, "expm1": T.expm1, "log": T.log,
    "log2": T.log2, "log10": T.log10, "log1p": T.log1p, "logaddexp": T.logaddexp, "sqrt": T.sqrt, "square": T.square,
    "reciprocal": T.reciprocal, "abs": T.abs, "sign": T.sign, "floor": T.floor, "ceil": T.ceil, "trunc": T.trunc,
    "round": T.round, "round_decimals": lambda x, decimals: T.round(x, decimals=decimals),
    "maximum": T.maximum, "minimum": T.minimum, "where": lambda a, b, cond: T.where(T.from_numpy(cond), a, b),
    "clip": lambda x, lo, hi: T.clamp(x, lo, hi), "clip_value_bounds": lambda x, lo, hi: T.minimum(T.maximum(x, lo), hi),
    "sum": _reduction(T.sum), "mean": _reduction(T.mean), "prod": _torch_prod, "prod_one_zero": _torch_prod,
    "var": lambda x, axis, keepdims, ddof: _reduction(T.var)(x, axis, keepdims, correction=ddof),
    "std": lambda x, axis, keepdims, ddof: _reduction(T.std)(x, axis, keepdims, correction=ddof),
    "max": _reduction(T.amax), "min": _reduction(T.amin), "logsumexp": _reduction(T.logsumexp),
    "cumsum": lambda x, axis: T.cumsum(x.reshape(-1), 0) if axis is None else T.cumsum(x, axis),
    "cumprod": lambda x, axis: T.cumprod(x.reshape(-1), 0) if axis is None else T.cumprod(x, axis),
    "cumprod_one_zero": lambda x, axis: T.cumprod(x.reshape(-1), 0) if axis is None else T.cumprod(x, axis),
    "reshape": lambda x, shape: T.reshape(x, shape), "ravel": T.ravel, "transpose": lambda x, axes: x.permute(tuple(range(x.ndim))[::-1] if axes is None else axes),
    "swapaxes": lambda x, axis1, axis2: T.swapaxes(x, axis1, axis2), "moveaxis": lambda x, source, destination: T.movedim(x, source, destination),
    "squeeze": lambda x, axis: T.squeeze(x) if axis is None else T.squeeze(x, axis),
    "broadcast_to": lambda x, shape: T.broadcast_to(x, shape), "flip": lambda x, axis: T.flip(x, (axis,) if isinstance(axis, int) else _dims(axis, x.ndim)),
    "roll": _torch_roll, "tile": lambda x, reps: T.tile(x, reps if isinstance(reps, tuple) else (reps,)),
    "repeat": _torch_repeat, "pad": _torch_pad,
    "concatenate": lambda *xs, axis: T.cat(xs, axis), "stack": lambda *xs, axis: T.stack(xs, axis),
    "hstack": lambda *xs: T.hstack(xs), "vstack": lambda *xs: T.vstack(xs),
    "diagonal": lambda x, offset, axis1, axis2: T.diagonal(x, offset, axis1, axis2),
    "tril": lambda x, k: T.tril(x, k) if x.ndim > 1 else None, "triu": lambda x, k: T.triu(x, k) if x.ndim > 1 else None,
    "take_along_axis": lambda x, indices, axis: T.take_along_dim(x, T.from_numpy(indices % x.shape[axis]), axis),
    "matmul": T.matmul, "inner": T.inner, "outer": lambda a, b: T.outer(a.reshape(-1), b.reshape(-1)),
    "tensordot": lambda a, b, axes: T.tensordot(a, b, axes), "einsum": lambda *xs, subscripts: T.einsum(subscripts, *xs),
    "norm_vector": _torch_vector_norm, "norm_p": _torch_vector_norm,
    "norm_matrix": _torch_matrix_norm, "inv": T.linalg.inv, "det": T.linalg.det, "solve": _torch_solve,
}  # fmt: skip
PARITY = [c for c in CASES if c.name in TORCH]


def test_parity_rows_name_real_cases():
    assert set(TORCH) <= set(NAMES) and len(PARITY) == len(TORCH)


@pytest.mark.parametrize("case", PARITY, ids=[c.name for c in PARITY])
@settings(max_examples=6)
@given(data=st.data())
def test_against_pytorch(case: Case, data: st.DataObject) -> None:
    arrays, params = data.draw(case.draw, label="inputs")
    theirs = TORCH[case.name]
    if theirs(*[tp.tensor(a) for a in arrays], **params) is None:  # (a case PyTorch does not have: tril of a 1-D array)
        return
    tp.compare(lambda *vs: case.f(*vs, **params), lambda *ts: theirs(*ts, **params), arrays, rtol=1e-9, atol=1e-11)


# ---- HIPS-style programs: written only with autograd.numpy -----------------------------------------


def test_hips_style_grad_of_a_logistic_regression() -> None:
    import autograd.numpy as np  # noqa: F811 (the point: this file's np is autograd.numpy here)

    rng = np.random.default_rng(0)
    inputs = rng.standard_normal((20, 3))
    targets = (inputs @ np.array([1.0, -2.0, 0.5]) > 0).astype(float)

    def logistic(z):
        return 0.5 * (np.tanh(z / 2.0) + 1.0)

    def loss(weights):
        p = logistic(np.dot(inputs, weights))
        label_probabilities = p * targets + (1 - p) * (1 - targets)
        return -np.sum(np.log(label_probabilities))

    w = np.zeros(3)
    g = grad(loss)(w)
    assert isinstance(g, np.ndarray) and g.shape == (3,)
    eps = 1e-6
    numeric = [(loss(w + eps * e) - loss(w - eps * e)) / (2 * eps) for e in np.eye(3)]  # the same loss on plain arrays
    npt.assert_allclose(g, numeric, rtol=1e-6)
    for _ in range(50):
        w = w - 0.05 * grad(loss)(w)
    assert loss(w) < loss(np.zeros(3)) / 2


def test_hips_style_nested_grad_and_the_numpy_functions_together() -> None:
    import autograd.numpy as np  # noqa: F811

    def f(x):
        y = np.stack([np.sin(x), np.cos(x) ** 2, np.exp(-x) * np.log1p(x * x)])
        return np.sum(np.einsum("ij,ij->j", y, y)) + np.linalg.norm(y) + np.logsumexp(y)

    x = np.linspace(-1.0, 1.0, 4)
    assert gradcheck(f, x)
    d2 = grad(lambda v: np.sum(grad(f)(v) * np.arange(4.0)))(x)  # a Hessian-vector product, by nesting
    eps = 1e-5
    numeric = np.array([(np.sum(grad(f)(x + eps * e) * np.arange(4.0)) - np.sum(grad(f)(x - eps * e) * np.arange(4.0))) / (2 * eps) for e in np.eye(4)])
    npt.assert_allclose(d2, numeric, rtol=1e-5, atol=1e-7)


# ---- conventions at kinks, ties and edges ---------------------------------------------------------


def _d(fn, x):
    return grad(lambda v: anp.sum(fn(v)))(np.asarray(x, dtype=float))


def test_conventions_at_kinks_and_ties() -> None:
    for f in (anp.sign, anp.floor, anp.ceil, anp.round, anp.trunc, anp.rint):
        assert np.all(_d(f, [-1.0, 0.0, 0.5, 1.0, 2.5]) == 0)
    assert _d(anp.abs, 0.0) == 0
    np.testing.assert_array_equal(_d(lambda v: anp.maximum(v, 1.0), [1.0, 2.0]), [0.5, 1.0])
    np.testing.assert_array_equal(_d(lambda v: anp.max(v), [3.0, 1.0, 3.0]), [0.5, 0.0, 0.5])
    np.testing.assert_array_equal(_d(lambda v: anp.clip(v, 0.0, 1.0), [0.0, 1.0, 2.0]), [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(_d(alg.norm, [0.0, 0.0]), [0.0, 0.0])  # the 2-norm at 0: 0
    for p in (3, 0.5):  # other p: 0 at zero elements, as PyTorch
        np.testing.assert_array_equal(_d(lambda v, p=p: alg.norm(v, p), [0.0, 0.0]), [0.0, 0.0])
        np.testing.assert_array_equal(_d(lambda v, p=p: alg.norm(v, p), [0.0, 2.0]), [0.0, 1.0])
    np.testing.assert_array_equal(_d(lambda v: alg.norm(v, "fro"), np.zeros((2, 2))), np.zeros((2, 2)))
    np.testing.assert_array_equal(_d(anp.std, [2.0, 2.0, 2.0]), [0.0, 0.0, 0.0])  # std at 0: 0 (PyTorch: nan)
    np.testing.assert_array_equal(grad(lambda y: anp.arctan2(y, Value(0.0)))(0.0), 0.0)  # arctan2 at the origin
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert _d(anp.sqrt, 0.0) == np.inf


def test_prod_and_cumprod_gradients_with_zeros() -> None:
    x = np.array([2.0, 0.0, 3.0, 0.0, 5.0])
    np.testing.assert_array_equal(_d(anp.prod, x), np.zeros(5))  # two zeros: every product of the others has a zero
    np.testing.assert_array_equal(_d(anp.prod, [2.0, 0.0, 3.0]), [0.0, 6.0, 0.0])
    assert gradcheck(lambda v: anp.cumprod(v), x)  # exact at first order, two zeros included
    assert gradcheck(lambda v: anp.prod(v, axis=1), np.array([[0.0, 0.0, 2.0], [1.0, 0.0, 3.0], [1.0, 2.0, 3.0]]))


def test_det_gradient_at_a_singular_matrix_is_the_cofactor_matrix() -> None:
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, -1.0, 2.0]])  # rank 2
    assert gradcheck(alg.det, a)
    assert gradcheck(alg.det, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="det: second derivatives at a singular matrix"):
        gradgradcheck(alg.det, a)


def test_var_and_std_use_numpys_ddof_and_take_pytorchs_names() -> None:
    x = np.array([1.0, 2.0, 4.0, 7.0])
    assert float(anp.var(Value(x))) == np.var(x) and float(Value(x).var()) == np.var(x)  # ddof=0, not PyTorch's 1
    assert float(Value(x).var(correction=1)) == pytest.approx(torch.var(torch.tensor(x)).item())
    assert float(anp.std(Value(x), ddof=1)) == pytest.approx(np.std(x, ddof=1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert math.isnan(float(anp.var(Value([1.0]), ddof=1))) and math.isnan(np.var([1.0], ddof=1))
    with pytest.raises(ValueError, match="ddof or correction"):
        anp.var(Value(x), ddof=1, correction=1)


# ---- plain inputs, Python scalars, lists of Values, numpy's other names -------------------------------


@pytest.mark.parametrize(
    "pad_width",
    [2, (1,), (1, 2), [[1, 2]], [[1], [2]], ((1, 0), (0, 3)), np.array([[1, 2], [0, 1]]), {1: (1, 2)}, {-1: 2, 0: (0, 1)}],
    ids=repr,
)
def test_pad_reads_every_numpy_form_of_pad_width_on_values(pad_width) -> None:
    """Forward as numpy reads pad_width ([[1], [2]] is a number per axis; a dict names axes), and the
    gradient cuts the same borders off (a dict crashed the backward pass)."""
    a = np.arange(6.0).reshape(2, 3)
    for values in (1.5, ((1.0, 2.0), (3.0, 4.0))):
        npt.assert_array_equal(anp.pad(Value(a), pad_width, constant_values=values).data, np.pad(a, pad_width, constant_values=values))
    assert gradcheck(lambda v: anp.pad(v, pad_width, constant_values=0.5) ** 2, a)
    assert anp.pad(Value(a.astype(np.float32)), pad_width, constant_values=0.1).dtype == np.float32


def test_plain_inputs_give_numpys_results_and_types() -> None:
    i = np.arange(6).reshape(2, 3)
    assert anp.sum(i).dtype == np.sum(i).dtype and anp.cumsum(i, axis=1).dtype == np.cumsum(i, axis=1).dtype
    assert anp.reciprocal(np.array([2])).dtype == np.reciprocal(np.array([2])).dtype
    f32 = np.ones(3, np.float32)
    assert anp.maximum(f32, 0.5).dtype == np.float32 and anp.where(f32 > 0, f32, 0.0).dtype == np.float32
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert anp.exp(1000.0) == np.inf and np.isnan(anp.sqrt(-1.0)) and anp.log(0.0) == -np.inf  # numpy's, not math's errors
    assert isinstance(anp.sin(0.5), np.floating)
    assert anp.argmax(Value([1.0, 3.0, 2.0])) == 1 and anp.argmin([[1, 0]], axis=1).tolist() == [1]


def test_lists_of_values_are_stacked_as_numpy_would_read_them() -> None:
    a, b = Value(1.0), Value(2.0)
    v = anp.array([[a, b], [b, 3.0]])
    assert isinstance(v, Value) and v.shape == (2, 2)
    anp.sum(v * v).backward()
    assert float(a.grad) == 2.0 and float(b.grad) == 8.0
    s = anp.sum([a, b, a])
    assert isinstance(s, Value) and float(s) == 4.0


def test_names_without_a_gradient_come_from_numpy_and_read_a_values_data() -> None:
    v = Value([[1.0, np.nan], [0.0, 2.0]])
    assert anp.pi == np.pi and anp.float32 is np.float32 and anp.zeros(2).tolist() == [0.0, 0.0]
    assert anp.shape(v) == (2, 2) and anp.isnan(v).tolist() == [[False, True], [False, False]]
    assert anp.zeros_like(v).shape == (2, 2) and anp.allclose(Value([1.0]), [1.0])
    with pytest.raises(AttributeError, match="numpy.sinc has no gradient rule here"):
        anp.sinc  # noqa: B018
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        anp.nonsense  # noqa: B018


# ---- errors that name the function and the shapes ---------------------------------------------------


@pytest.mark.parametrize(
    "call, kind, match",
    [
        (lambda: anp.einsum("ij,jk->ik", Value(np.ones((2, 3))), np.ones((4, 5))), ValueError, r"einsum\('ij,jk->ik'\) with operand shapes \(2, 3\), \(4, 5\): 'j' has length 3"),
        (lambda: anp.einsum("ij,jk->ik", np.ones((2, 3)), np.ones((4, 5))), ValueError, "'j' has length 3 in one operand and 4"),
        (lambda: anp.einsum("ij->ik", Value(np.ones((2, 3)))), ValueError, "must use distinct letters that appear in the inputs"),
        (lambda: anp.einsum("ijk->i", Value(np.ones((2, 3)))), ValueError, "operand 0 has 2 dimensions, but 'ijk' names 3"),
        (lambda: anp.einsum("i,i->", Value(np.ones(2))), ValueError, "name 2 operand"),
        (lambda: anp.einsum("ii->i", Value(np.ones((2, 3)))), ValueError, "repeats 'i' on axes of lengths 2 and 3"),
        (lambda: anp.einsum(Value(np.ones(2)), [0]), TypeError, "subscripts must be a string"),
        (lambda: alg.inv(Value(np.ones((2, 3)))), ValueError, r"inv: the input must be a square matrix .* got shape \(2, 3\)"),
        (lambda: alg.inv(Value(np.ones((2, 2)))), np.linalg.LinAlgError, r"inv: the matrix is singular \(shape \(2, 2\)\)"),
        (lambda: alg.inv(np.ones((2, 2))), np.linalg.LinAlgError, "inv: the matrix is singular"),
        (lambda: alg.det(Value(np.ones(3))), ValueError, r"det: the input must be a square matrix .* got shape \(3,\)"),
        (lambda: alg.solve(Value(np.ones((2, 2))), np.ones(2)), np.linalg.LinAlgError, "solve: the matrix is singular"),
        (lambda: alg.solve(Value(np.eye(2)), np.ones(3)), ValueError, r"solve: b of shape \(3,\) does not fit a of shape \(2, 2\)"),
        (lambda: alg.solve(Value(np.ones((2, 3))), np.ones(2)), ValueError, r"solve: a must be a square matrix"),
        (lambda: alg.norm(Value(np.ones((2, 2))), 2), ValueError, "matrix ord=2 .* not supported on Values"),
        (lambda: alg.norm(Value(np.ones(3)), "fro"), ValueError, "invalid norm order 'fro' for vectors"),
        (lambda: alg.norm(Value(np.ones((2, 2, 2))), 1), ValueError, r"needs a 1-D or 2-D input, got shape \(2, 2, 2\)"),
        (lambda: anp.tensordot(Value(np.ones((2, 3))), np.ones((4, 5)), 1), ValueError, r"tensordot: shapes \(2, 3\) and \(4, 5\) do not align"),
        (lambda: anp.dot(Value(np.ones((2, 3))), np.ones(2)), ValueError, r"dot: shapes \(2, 3\) and \(2,\) not aligned"),
        (lambda: anp.squeeze(Value(np.ones((2, 3))), 0), ValueError, r"squeeze: .* \(input shape \(2, 3\)\)"),
        (lambda: anp.split(Value(np.ones(5)), 2), ValueError, "split: array split does not result in an equal division: an axis of length 5 into 2"),
        (lambda: anp.pad(Value(np.ones(3)), 1, mode="reflect"), ValueError, "pad: mode 'reflect' has no gradient rule here"),
        (lambda: anp.pad(Value(np.ones(3)), (1, -1)), ValueError, r"pad: index can't contain negative values, got pad_width=\(1, -1\) \(input shape \(3,\)\)"),
        (lambda: anp.pad(Value(np.ones(3)), 1.5), TypeError, "pad: `pad_width` must be of integral type"),
        (lambda: anp.pad(Value(np.ones(3)), [[1, 2], [3, 4]]), ValueError, r"pad: cannot read pad_width=\[\[1, 2\], \[3, 4\]\] as .* of an input of shape \(3,\)"),
        (lambda: anp.pad(Value(np.ones(3)), {1: 2}), ValueError, "pad: axis 1 is out of bounds for array of dimension 1"),
        (lambda: anp.pad(Value(np.ones(3)), {0: (1, 2, 3)}), TypeError, r"pad: pad_width\[0\] must be an int or a \(before, after\) pair"),
        (lambda: anp.take_along_axis(Value(np.ones((2, 3))), np.array([[3]]), 1), IndexError, "take_along_axis: an index is out of bounds for axis 1 of size 3"),
        (lambda: anp.take_along_axis(Value(np.ones((2, 3))), np.array([1]), 1), ValueError, "same number of dimensions"),
        (lambda: anp.diagonal(Value(np.ones(3))), ValueError, r"diagonal: needs at least 2 dimensions, got shape \(3,\)"),
        (lambda: anp.moveaxis(Value(np.ones((2, 3))), 0, 5), ValueError, "moveaxis: .*out of bounds"),
        (lambda: anp.cumsum(Value(np.ones((2, 3))), axis=2), ValueError, "cumsum: axis 2 is out of bounds"),
        (lambda: anp.sin(Value(np.ones(2))) + anp.matmul(Value(np.ones((2, 3))), np.ones((2, 3))), ValueError, r"shapes \(2, 3\) and \(2, 3\) do not align"),
        (lambda: anp.where(np.ones(2, bool), Value(np.ones(2))), ValueError, "where: give both x and y"),
        (lambda: anp.clip(Value(np.ones(2)), a_min=0.0, min=0.0), TypeError, "clip: give each bound once"),
        (lambda: anp.tile(Value(np.ones(2)), -1), ValueError, "tile: reps must not be negative"),
        (lambda: anp.var(Value(np.ones(2)), ddof="1"), TypeError, "var: ddof must be a number"),
    ],
)
def test_bad_input_gets_a_clear_error(call, kind, match) -> None:
    with pytest.raises(kind, match=match):
        call()


# ---- the Value methods: numpy's and PyTorch's spellings dispatch to autograd.numpy ------------------

X = np.array([[0.5, -1.25, 2.0], [0.75, 0.25, -0.5]])


METHODS = [  # (method call on a Value, the same with autograd.numpy functions)
    (lambda v: v.sum(dim=1, keepdim=True), lambda v: anp.sum(v, 1, keepdims=True)),
    (lambda v: v.mean(dim=(0, 1)), lambda v: anp.mean(v, (0, 1))),
    (lambda v: v.max(dim=0), lambda v: anp.max(v, 0)),
    (lambda v: v.min(axis=1, keepdims=True), lambda v: anp.min(v, 1, keepdims=True)),
    (lambda v: v.prod(dim=1), lambda v: anp.prod(v, 1)),
    (lambda v: v.var(dim=1, keepdim=True), lambda v: anp.var(v, 1, keepdims=True)),
    (lambda v: v.var(1, correction=1), lambda v: anp.var(v, 1, ddof=1)),
    (lambda v: v.std(ddof=1), lambda v: anp.std(v, ddof=1)),
    (lambda v: v.cumsum(dim=1), lambda v: anp.cumsum(v, 1)),
    (lambda v: v.cumprod(0), lambda v: anp.cumprod(v, 0)),
    (lambda v: v.logsumexp(dim=-1), lambda v: anp.logsumexp(v, -1)),
    (lambda v: v.ravel(), lambda v: anp.ravel(v)),
    (lambda v: v.flatten(), lambda v: anp.ravel(v)),
    (lambda v: v[None].flatten(1, 2), lambda v: anp.reshape(v, (1, 6))),
    (lambda v: v.flatten(start_dim=0, end_dim=0), lambda v: v * 1),
    (lambda v: v.view(3, 2), lambda v: anp.reshape(v, (3, 2))),
    (lambda v: v.view((-1,)), lambda v: anp.ravel(v)),
    (lambda v: v.unsqueeze(1), lambda v: anp.expand_dims(v, 1)),
    (lambda v: v.unsqueeze(-1).squeeze(dim=-1), lambda v: v * 1),
    (lambda v: v[None].squeeze(), lambda v: v * 1),
    (lambda v: v.permute(1, 0), lambda v: anp.transpose(v, (1, 0))),
    (lambda v: v.permute((1, 0)), lambda v: anp.transpose(v)),
    (lambda v: v.swapaxes(0, 1), lambda v: anp.swapaxes(v, 0, 1)),
    (lambda v: v.flip(dims=1), lambda v: anp.flip(v, 1)),
    (lambda v: v.repeat(2, axis=0), lambda v: anp.repeat(v, 2, axis=0)),
    (lambda v: v.diagonal(), lambda v: anp.diagonal(v)),
    (lambda v: v.trace(offset=1), lambda v: anp.trace(v, 1)),
    (lambda v: v.dot(np.ones(3)), lambda v: anp.dot(v, np.ones(3))),
    (lambda v: v.clamp(-1.0, 1.0), lambda v: anp.clip(v, -1.0, 1.0)),
    (lambda v: v.clamp(min=0.0), lambda v: anp.clip(v, 0.0, None)),
    (lambda v: v.pow(3), lambda v: anp.power(v, 3)),
    (lambda v: v.sin() + v.cos() + v.tan() + v.sinh() + v.cosh() + v.arctan(), lambda v: anp.sin(v) + anp.cos(v) + anp.tan(v) + anp.sinh(v) + anp.cosh(v) + anp.arctan(v)),
    (lambda v: (v * 0.4).arcsin() + (v * 0.4).arccos(), lambda v: anp.arcsin(v * 0.4) + anp.arccos(v * 0.4)),
    (lambda v: v.exp2() + v.expm1() + v.square() + v.reciprocal(), lambda v: anp.exp2(v) + anp.expm1(v) + anp.square(v) + anp.reciprocal(v)),
    (lambda v: (v * v + 1).log2() + (v * v + 1).log10() + (v * v).log1p(), lambda v: anp.log2(v * v + 1) + anp.log10(v * v + 1) + anp.log1p(v * v)),
    (lambda v: v.sign() + v.floor() + v.ceil() + v.round(1), lambda v: anp.sign(v) + anp.floor(v) + anp.ceil(v) + anp.round(v, 1)),
]


@pytest.mark.parametrize("i", range(len(METHODS)))
def test_value_methods_dispatch_to_autograd_numpy(i: int) -> None:
    method, function = METHODS[i]
    a, b = Value(X), Value(X)
    out, expected = method(a), function(b)
    np.testing.assert_allclose(out.data, expected.data, rtol=1e-15)
    up = np.random.default_rng(i).standard_normal(out.shape)
    out.backward(up)
    expected.backward(up)
    np.testing.assert_allclose(a.grad, b.grad, rtol=1e-15)


def test_value_methods_without_a_gradient_and_pytorch_differences() -> None:
    v = Value(X)
    assert v.numel() == 6 and v.argmax() == 2 and v.argmax(dim=1).tolist() == [2, 0] and v.argmin(axis=0, keepdims=True).shape == (1, 3)
    assert v.max(dim=1).shape == (2,)  # numpy's: the values only (PyTorch's gives values and indices)
    with pytest.raises(ValueError, match="squeeze"):
        v.squeeze(0)  # numpy's: an axis of size 2 cannot be squeezed (PyTorch leaves it)
    with pytest.raises(TypeError, match="axis or dim, not both"):
        v.sum(axis=0, dim=0)
    with pytest.raises(ValueError, match="permute: dims"):
        v.permute(0)


def test_value_methods_give_second_derivatives() -> None:
    assert gradgradcheck(lambda v: (v.unsqueeze(0).clamp(-1.0, 1.5).sum(dim=1, keepdim=True) * v.var(dim=0)).sum(), X)


def test_value_and_grad_through_autograd_numpy_keeps_float32() -> None:
    x = np.linspace(-1, 1, 6, dtype=np.float32).reshape(2, 3)
    value, g = value_and_grad(lambda v: anp.sum(anp.logsumexp(anp.einsum("ij,kj->ik", v, v), axis=1)))(x)
    assert value.dtype == np.float32 and g.dtype == np.float32


# ---- fuzz: junk arguments beside a Value get a documented error, never a crash deep inside ---------

FUZZED = sorted(anp.DIFFERENTIABLE) + ["linalg.norm", "linalg.inv", "linalg.det", "linalg.solve", "array", "asarray"]


@_fuzz(500)
@given(name=st.sampled_from(FUZZED), v=good_values, a=st.lists(args, max_size=3), at=st.integers(0, 3))
def test_fuzz_autograd_numpy(name: str, v: Value, a: list, at: int) -> None:
    fn = getattr(alg, name.split(".")[1]) if name.startswith("linalg.") else getattr(anp, name)
    a.insert(min(at, len(a)), v)  # the Value first, or after some other arguments (einsum's subscripts)
    out = _call(f"autograd.numpy.{name}", fn, *a)
    for o in out if isinstance(out, list) else [out]:
        _then_backward(o)
