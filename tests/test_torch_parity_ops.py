"""Every op of the op table against PyTorch in float64: value, gradient and second derivative.

The rows, their hypothesis inputs and our side come from the op table (tests/test_ops.py `CASES`
and tests/test_higher_order.py `EXTRA`); this file adds one PyTorch reference per row name in
`TORCH` (`SAME`: the row's own code, run on tensors, is PyTorch code meaning the same thing) or
the reason a row has none in `NO_TORCH`. A new row fails `test_every_row_has_a_pytorch_reference`
until it gets one or the other.

Where our convention deliberately differs from PyTorch's (numpy's semantics, ties, kinks),
`test_documented_differences_from_pytorch` pins the difference, and README.md states it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import autograd as ag
from autograd import Value

from .test_higher_order import TABLE
from .test_ops import Case
from .torch_parity import assert_close, compare, tensor

SAME: Callable[..., Any] = object()  # type: ignore[assignment]  # the row's own f is PyTorch code too


@dataclass(frozen=True)
class Ref:
    """PyTorch's side of a row: fn(*tensors, **params as tensors); grad=False where PyTorch has no derivative."""

    fn: Callable[..., Any]
    grad: bool = True


def _dims(x: torch.Tensor, axis: Any) -> tuple[int, ...]:
    """numpy's axis (None: all) as torch's dims (torch reads dim=() as all axes, numpy as none)."""
    if axis is None:
        return tuple(range(x.ndim))
    return (axis,) if isinstance(axis, int) else tuple(axis)


def _reduction(fn: Callable[..., Any]) -> Ref:
    """A numpy-style reduction (axis None / int / tuple, keepdims) by torch's fn(x, dim, keepdim)."""

    def ref(x, axis, keepdims):
        dims = _dims(x, axis)
        return fn(x, dim=dims, keepdim=keepdims) if dims else x  # numpy: no axes, nothing reduced

    return Ref(ref)


def _numpy_only(index: Any) -> bool:
    """An index numpy reads and PyTorch does not, or reads differently: a negative slice step, or an
    int and an integer array apart (numpy moves their axes to the front; PyTorch takes the int first)."""
    items = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, slice) and (i.step or 1) < 0 for i in items):
        return True
    adv = [k for k, i in enumerate(items) if isinstance(i, (int, np.integer, np.ndarray, torch.Tensor))]
    has_array = any(isinstance(items[k], (np.ndarray, torch.Tensor)) for k in adv)
    return has_array and len(adv) > 1 and adv != list(range(adv[0], adv[0] + len(adv)))


def _getitem(x: torch.Tensor, index: Any) -> torch.Tensor:
    """x[index] in PyTorch; an index PyTorch reads otherwise (`_numpy_only`) picks numpy's elements by position."""
    if _numpy_only(index):
        np_index = tuple(i.numpy() if isinstance(i, torch.Tensor) else i for i in index) if isinstance(index, tuple) else index
        where = np.arange(x.numel()).reshape(tuple(x.shape))[np_index]
        return x.reshape(-1)[torch.from_numpy(np.ascontiguousarray(where))]
    return x[index]


def _cross_entropy(x, labels, reduction):
    """Ours takes classes on the last axis, PyTorch's on axis 1 (or 0 for one sample)."""
    return F.cross_entropy(x.movedim(-1, 1) if x.ndim > 2 else x, labels, reduction=reduction)


def _reverse(x):
    return x.permute(tuple(reversed(range(x.ndim))))


# Rows whose own code (operators, and methods PyTorch spells as we do) is PyTorch code with the same meaning.
SAME_ROWS = """
add sub mul div pow_value_exponent pow_int pow_negative_int pow_fraction number_pow_value number_add number_sub
number_mul number_div array_add_value array_sub_value array_mul_value array_div_value array_pow_value value_pow_array
neg abs_builtin abs_method matmul_1d_1d matmul_2d_1d matmul_1d_2d matmul_2d_2d matmul_batched array_matmul_value
value_matmul_array exp log sqrt tanh sigmoid relu clip softmax log_softmax reshape reshape_varargs mT reuse_a_plus_a
reuse_a_times_a reuse_gram reuse_normalize reuse_repeated_index reuse_in_binary
""".split()

TORCH: dict[str, Callable[..., Any] | Ref] = {
    **dict.fromkeys(SAME_ROWS, SAME),
    "linear": lambda x, w, b: F.linear(x, w, b),
    "linear_no_bias": lambda x, w, b: F.linear(x, w),
    "linear_array_input": lambda x, w, b: F.linear(x, w, b),
    "leaky_relu": lambda x, negative_slope: F.leaky_relu(x, negative_slope),
    "leaky_relu_default": lambda x: F.leaky_relu(x),
    "binary_step": Ref(lambda x: torch.heaviside(x, torch.ones((), dtype=x.dtype)), grad=False),
    "softmax_default_axis": lambda x: x.softmax(-1),  # (PyTorch's softmax has no default dim; ours is -1)
    "log_softmax_default_axis": lambda x: x.log_softmax(-1),
    "softmax_cross_entropy": _cross_entropy,
    "binary_cross_entropy": lambda p, t, reduction: F.binary_cross_entropy(p, t, reduction=reduction),
    "sum": _reduction(torch.sum),
    "sum_default": lambda x: x.sum(),
    "mean": _reduction(torch.mean),
    "max": _reduction(torch.amax),  # amax: ties share the gradient, as ours (torch.max(dim) gives it to one)
    "min": _reduction(torch.amin),
    "transpose": lambda x, axes: _reverse(x) if axes is None else x.permute(tuple(axes)),
    "transpose_varargs": lambda x, axes: _reverse(x) if axes is None else x.permute(tuple(axes)),
    "T": _reverse,  # (torch's .T on other than 2-D is deprecated; it reverses the axes too)
    "getitem_basic": _getitem,
    "getitem_int_array": _getitem,
    "getitem_mixed": _getitem,
    "getitem_mask": _getitem,
    "concatenate": lambda *xs, axis: torch.cat(xs, dim=axis),
    "stack": lambda *xs, axis: torch.stack(xs, dim=axis),
    "where": lambda a, b, cond: torch.where(cond, a, b),
    "maximum": torch.maximum,
    "minimum": torch.minimum,
    "maximum_number": lambda x: torch.maximum(x, torch.tensor(0.5, dtype=x.dtype)),
    "minimum_array": torch.minimum,
    # the ops of EXTRA, reached through helper functions
    "softplus": F.softplus,
    "erf": torch.erf,
    "broadcast_to": lambda x: torch.broadcast_to(x, (2, 3, 4)),
    "scatter_add": lambda x: torch.zeros(3, dtype=x.dtype).index_put((torch.tensor([0, 2, 0, 1]),), x, accumulate=True),
}

NO_TORCH = {
    "tanh_grad": "an op of tanh's gradient rule (1 - tanh**2), not a user function; checked through tanh's second derivative",
}

ROWS = [c for c in TABLE if c.name in TORCH]


def test_every_row_has_a_pytorch_reference() -> None:
    names = [c.name for c in TABLE]
    missing = [n for n in names if n not in TORCH and n not in NO_TORCH]
    assert not missing, f"op table rows without a PyTorch reference in TORCH (or a reason in NO_TORCH): {missing}"
    stale = sorted((set(TORCH) | set(NO_TORCH)) - set(names))
    assert not stale, f"references for rows the op table no longer has: {stale}"


def _torch_param(v: Any) -> Any:
    """A row's parameter as PyTorch takes it: arrays (indices, masks, labels) as tensors."""
    if isinstance(v, np.ndarray):
        return torch.from_numpy(v.copy())
    if isinstance(v, tuple):
        return tuple(_torch_param(i) for i in v)
    return v


def _sides(case: Case, arrays: tuple, params: dict) -> tuple[Callable[..., Any], Callable[..., Any], list[np.ndarray]]:
    """ours(*Values) and theirs(*tensors) of the row's variable inputs (its constants filled in), and those inputs."""
    ref = TORCH[case.name]
    fn = ref.fn if isinstance(ref, Ref) else ref
    fn = case.f if fn is SAME else fn
    variable = [i for i in range(len(arrays)) if i not in case.consts]
    tparams = {k: _torch_param(v) for k, v in params.items()}

    def fill(xs: tuple, const: Callable[[np.ndarray], Any]) -> list[Any]:
        full = [const(a) for a in arrays]
        for i, x in zip(variable, xs, strict=True):
            full[i] = x
        return full

    def ours(*xs: Value) -> Value:
        return case.f(*fill(xs, lambda a: a), **params)

    def theirs(*ts: torch.Tensor) -> torch.Tensor:
        return fn(*fill(ts, lambda a: tensor(a, requires_grad=False)), **tparams)

    return ours, theirs, [arrays[i] for i in variable]


@pytest.mark.parametrize("case", ROWS, ids=[c.name for c in ROWS])
@settings(max_examples=15)
@given(data=st.data())
def test_op_against_pytorch(case: Case, data: st.DataObject) -> None:
    arrays, params = data.draw(case.draw, label="inputs")
    ours, theirs, inputs = _sides(case, arrays, params)
    ref = TORCH[case.name]
    if isinstance(ref, Ref) and not ref.grad:  # PyTorch has no derivative: the values only
        assert_close(ours(*[Value(a) for a in inputs]), theirs(*[tensor(a) for a in inputs]), "output")
        return
    compare(ours, theirs, inputs)


SECOND_ORDER = [c for c in ROWS if not (isinstance(TORCH[c.name], Ref) and not TORCH[c.name].grad)]
# Where PyTorch's second derivative is wrong (pinned in test_documented_differences_from_pytorch):
# x ** y at y == 0 exactly, whose d/dy of d/dx PyTorch takes as 0 (its rule is where(y == 0, 0, ...)).
AWAY_FROM = {"pow_value_exponent": lambda x, y: np.all(y != 0), "array_pow_value": lambda a, y: np.all(y != 0)}


@pytest.mark.parametrize("case", SECOND_ORDER, ids=[c.name for c in SECOND_ORDER])
@settings(max_examples=4)
@given(data=st.data())
def test_second_derivative_against_pytorch(case: Case, data: st.DataObject) -> None:
    """L = sum(u * f(x)**2): its gradient (a graph, by backward(create_graph=True)) and the gradient of
    sum(gradient * w) against torch.autograd.grad with create_graph=True. Squaring makes the first
    gradient depend on x through every op, so each op's rule runs on Values."""
    arrays, params = data.draw(case.draw, label="inputs")
    assume(AWAY_FROM.get(case.name, lambda *a: True)(*arrays))
    ours, theirs, inputs = _sides(case, arrays, params)
    rng = np.random.default_rng(1)
    out_shape = np.shape(ours(*[Value(a) for a in inputs]).data)
    u = rng.standard_normal(out_shape)
    ws = [rng.standard_normal(a.shape) for a in inputs]

    xs = [Value(a) for a in inputs]
    out = ours(*xs)
    (out * out * u).sum().backward(create_graph=True)
    first = [x.grad for x in xs]
    for x in xs:
        x.zero_grad()
    sum((g * w).sum() for g, w in zip(first, ws)).backward()

    ts = [tensor(a) for a in inputs]
    tout = theirs(*ts)
    tfirst = torch.autograd.grad((tout * tout * torch.from_numpy(u)).sum(), ts, create_graph=True)
    s = sum((g * torch.from_numpy(w)).sum() for g, w in zip(tfirst, ws))
    tsecond = torch.autograd.grad(s, ts, allow_unused=True) if s.requires_grad else [None] * len(ts)

    for i, (x, g, tg, tg2) in enumerate(zip(xs, first, tfirst, tsecond)):
        assert_close(g, tg, f"first derivative of input {i}", rtol=1e-9, atol=1e-11)
        expected = torch.zeros_like(ts[i]) if tg2 is None else tg2
        got = np.zeros(x.shape) if x.grad is None else x.grad
        assert_close(got, expected, f"second derivative of input {i}", rtol=1e-9, atol=1e-11)


# ---- where ours deliberately differs, and the kinks where it agrees ---------------------------------


def _grad(fn: Callable[..., Any], x: Any) -> np.ndarray:
    v = Value(np.asarray(x, dtype=np.float64))
    with np.errstate(divide="ignore"):  # (sqrt's gradient at 0 is inf)
        fn(v).sum().backward()
    return v.grad


def _tgrad(fn: Callable[..., Any], x: Any) -> np.ndarray:
    t = torch.tensor(np.asarray(x, dtype=np.float64), requires_grad=True)
    fn(t).sum().backward()
    return t.grad.numpy()


def test_documented_differences_from_pytorch() -> None:
    x = np.arange(6.0).reshape(2, 3)
    t = torch.from_numpy(x)
    # axis=() reduces no axis (numpy); PyTorch's dim=() reduces every axis
    assert Value(x).sum(axis=()).shape == (2, 3) and t.sum(dim=()).shape == ()
    assert Value(x).max(axis=()).shape == (2, 3) and t.amax(dim=()).shape == ()
    # tied maxima along an axis share the gradient (as torch.amax and the full torch.max()); torch.max(dim) picks one
    tied = [[1.0, 3.0, 3.0]]
    np.testing.assert_array_equal(_grad(lambda v: v.max(axis=1), tied), [[0, 0.5, 0.5]])
    np.testing.assert_array_equal(_tgrad(lambda v: v.amax(dim=1), tied), [[0, 0.5, 0.5]])
    np.testing.assert_array_equal(_tgrad(lambda v: v.max(), tied), [[0, 0.5, 0.5]])
    np.testing.assert_array_equal(_tgrad(lambda v: v.max(dim=1).values, tied), [[0, 1, 0]])
    # binary_step's gradient is 0; PyTorch's heaviside has no derivative at all
    np.testing.assert_array_equal(_grad(lambda v: v.binary_step(), [-1.0, 0.0, 2.0]), [0, 0, 0])
    with pytest.raises(RuntimeError, match="not implemented"):
        _tgrad(lambda v: torch.heaviside(v, torch.ones((), dtype=v.dtype)), [0.0])
    # an int and an integer array apart in one index: numpy puts the array's axes first, PyTorch takes the int first
    y = np.arange(24.0).reshape(2, 3, 4)
    picks = np.array([0, 3])
    ours = Value(y)[1, :, picks].data
    np.testing.assert_array_equal(ours, y[1, :, picks])
    assert ours.shape == (2, 3) and tuple(torch.from_numpy(y)[1, :, torch.from_numpy(picks)].shape) == (3, 2)
    # d/dy of d(x ** y)/dx at y == 0 is 1/x; PyTorch's rule, where(y == 0, 0, y * x ** (y - 1)), gives 0
    xv, yv = Value(0.25), Value(0.0)
    (xv**yv).backward(create_graph=True)
    dx = xv.grad
    yv.zero_grad()
    dx.backward()
    assert float(yv.grad) == 4.0 and ag.gradgradcheck(lambda a, b: a**b, np.array(0.25), np.array(0.0))
    xt, yt = tensor(np.array(0.25)), tensor(np.array(0.0))
    (dxt,) = torch.autograd.grad(xt**yt, xt, create_graph=True)
    assert float(torch.autograd.grad(dxt, yt)[0]) == 0.0


@pytest.mark.parametrize(
    "name, ours, theirs, x",
    [
        ("relu at 0", lambda v: v.relu(), torch.relu, [0.0, 1.0]),
        ("abs at 0", lambda v: v.abs(), torch.abs, [0.0, -1.0]),
        ("leaky_relu at 0", lambda v: v.leaky_relu(0.2), lambda t: F.leaky_relu(t, 0.2), [0.0, -1.0]),
        ("clip on both bounds", lambda v: v.clip(0.0, 1.0), lambda t: t.clamp(0.0, 1.0), [0.0, 1.0, 2.0]),
        ("sqrt at 0", lambda v: v.sqrt(), torch.sqrt, [0.0, 4.0]),
        ("x ** 0 at 0", lambda v: v**0, lambda t: t**0, [0.0, 2.0]),
        ("maximum tie", lambda v: ag.maximum(v, 1.0), lambda t: torch.maximum(t, torch.tensor(1.0, dtype=t.dtype)), [1.0, 2.0]),
        ("minimum tie", lambda v: ag.minimum(v, 1.0), lambda t: torch.minimum(t, torch.tensor(1.0, dtype=t.dtype)), [1.0, 0.0]),
        ("max() tie", lambda v: v.max(), lambda t: t.max(), [3.0, 1.0, 3.0]),
        ("min() tie", lambda v: v.min(), lambda t: t.min(), [1.0, 1.0, 3.0]),
    ],
)
def test_kinks_and_ties_agree_with_pytorch(name: str, ours: Callable[..., Any], theirs: Callable[..., Any], x: list[float]) -> None:
    np.testing.assert_array_equal(_grad(ours, x), _tgrad(theirs, x), err_msg=name)


def test_maximum_tie_splits_between_two_values_as_pytorch() -> None:
    a, b = Value([2.0]), Value([2.0])
    ag.maximum(a, b).sum().backward()
    ta, tb = tensor(np.array([2.0])), tensor(np.array([2.0]))
    torch.maximum(ta, tb).sum().backward()
    assert_close(a.grad, ta.grad, "a") and assert_close(b.grad, tb.grad, "b")
