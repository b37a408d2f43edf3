"""Fuzz: random shapes, dtypes and values thrown at every public function.

Each call must either work or raise one of the documented exceptions (TypeError, ValueError,
IndexError, RuntimeError or a subclass, or MemoryError for an array too big to allocate) with a message; never anything else (no AttributeError,
ZeroDivisionError, OverflowError, AssertionError from deep inside), and a failed call leaves its
inputs unchanged. The public functions are enumerated, not listed by hand, so a new method is
fuzzed the moment it exists. To fuzz longer: FUZZ_EXAMPLES=5000 pytest tests/test_fuzz.py
"""

from __future__ import annotations

import contextlib
import os
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import autograd
from autograd import Value

DOCUMENTED = (TypeError, ValueError, IndexError, RuntimeError, MemoryError)  # MemoryError: nn.Linear(577851, 577851)


def _fuzz(n: int) -> settings:
    return settings(
        max_examples=int(os.environ.get("FUZZ_EXAMPLES", n)),
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )

# ---- strategies ---------------------------------------------------------------------

shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4)
DTYPES = [np.bool_, np.int8, np.int64, np.uint8, np.float16, np.float32, np.float64, np.complex128]

any_arrays = st.one_of(
    st.sampled_from(DTYPES).flatmap(lambda dt: hnp.arrays(dt, shapes)),
    hnp.arrays(np.dtype("U3"), shapes),
    st.just(np.array([1, None], dtype=object)),
    st.just(np.array(["2020-01-01"], dtype="datetime64[D]")),
)
finite = st.floats(-1e3, 1e3, allow_nan=False, width=32)
edge = st.sampled_from([0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e308, -1e308, 1e-320])
float_arrays = st.sampled_from([np.float32, np.float64]).flatmap(
    lambda dt: hnp.arrays(dt, shapes, elements=st.one_of(finite, edge).map(float) if dt == np.float64 else finite)
)
good_values = st.builds(Value, float_arrays, requires_grad=st.booleans())
junk = st.one_of(
    st.none(),
    st.text(max_size=3),
    st.binary(max_size=3),
    st.integers(),  # unbounded: huge ints too
    st.floats(),
    st.complex_numbers(max_magnitude=1e3),
    st.booleans(),
    st.lists(st.floats(-5, 5), max_size=4),
    st.lists(st.lists(st.integers(-3, 3), max_size=3), max_size=3),  # often ragged
    st.tuples(st.integers(-4, 4), st.integers(-4, 4)),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.builds(slice, st.none() | st.integers(-5, 5), st.none() | st.integers(-5, 5)),
    st.just(Ellipsis),
    st.just(object()),
)
small_ints = st.integers(-4, 4)
args = st.one_of(
    good_values,
    good_values,
    small_ints,
    st.tuples(small_ints, small_ints),
    any_arrays,
    junk,
)
FUNCS: list[Callable[..., Any]] = [
    lambda x: x.sum(),
    lambda x: (x * x).sum(),
    lambda x: x,
    lambda x, y: (x * y).sum(),
    lambda x: x.exp().mean(),
    lambda x: 3.0,
    lambda *a: a[0].tanh().sum(),
]
callables_or_args = st.one_of(st.sampled_from(FUNCS), args)
_FUNC_CODES = {f.__code__ for f in FUNCS}


def _raised_in_user_function(e: BaseException) -> bool:
    """The error came from one of FUNCS itself (`0 .sum()` when a decorated function is called on an int): the user's own."""
    tb = e.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    return tb is not None and tb.tb_frame.f_code in _FUNC_CODES

# ---- the harness ----------------------------------------------------------------------


@pytest.fixture(autouse=True, scope="module")
def _in_a_temp_dir(tmp_path_factory):
    """Fuzzed calls may write files (render_graph, nn.fit's outputs): keep them out of the repo."""
    old = os.getcwd()
    os.chdir(tmp_path_factory.mktemp("fuzz"))
    try:
        yield
    finally:
        os.chdir(old)


def _snapshot(xs: tuple[Any, ...]) -> list[Any]:
    return [(x._data.copy() if isinstance(x._data, np.ndarray) else x._data, x._grad) if isinstance(x, Value) else None for x in xs]


def _unchanged(before: list[Any], xs: tuple[Any, ...]) -> bool:
    for b, x in zip(before, xs):
        if b is not None:
            data, grad = b
            if x._grad is not grad or not np.array_equal(np.asarray(x._data), np.asarray(data), equal_nan=True):
                return False
    return True


def _call(name: str, fn: Callable[..., Any], *a: Any) -> Any:
    """fn(*a): its result, or None after checking it raised a documented exception and changed nothing."""
    before = _snapshot(a)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # numpy's RuntimeWarnings at nan/inf are expected
            return fn(*a)
    except DOCUMENTED as e:
        assert str(e).strip(), f"{name}{_fmt(a)} raised {type(e).__name__} with an empty message"
        assert _unchanged(before, a), f"{name}{_fmt(a)} raised {type(e).__name__} but changed its inputs"
        return None
    except Exception as e:  # noqa: BLE001
        if _raised_in_user_function(e):
            return None
        pytest.fail(f"{name}{_fmt(a)} raised {type(e).__name__}: {e} (not a documented exception)")


def _fmt(a: tuple[Any, ...]) -> str:
    return "(" + ", ".join(repr(x)[:60] for x in a) + ")"


def _then_backward(out: Any) -> None:
    """A result that requires grad must also differentiate, or refuse with a documented error."""
    if isinstance(out, Value) and out.requires_grad:
        _call("backward of result", lambda v: v.backward(np.ones(v.shape, dtype=np.asarray(v._data).dtype)), out)
        _call("sum().backward of result", lambda v: v.sum().backward(), out)


VALUE_METHODS = sorted(n for n in dir(Value) if not n.startswith("_") and callable(getattr(Value, n)))
VALUE_PROPERTIES = sorted(n for n in dir(Value) if not n.startswith("_") and isinstance(getattr(Value, n), property))
OPERATORS = ["add", "sub", "mul", "truediv", "pow", "matmul", "radd", "rsub", "rmul", "rtruediv", "rpow", "rmatmul"]
OPERATORS += ["lt", "le", "gt", "ge", "eq", "ne", "neg", "pos", "abs", "getitem", "len", "iter", "bool", "float", "repr"]
MODULE_FUNCS = sorted(n for n in autograd.__all__ if callable(getattr(autograd, n)) and not isinstance(getattr(autograd, n), type))


def test_the_fuzzed_surface_is_the_whole_public_api():
    assert {"exp", "log", "sqrt", "sum", "reshape", "backward", "softmax", "clip", "detach"} <= set(VALUE_METHODS)
    assert {"T", "mT", "data", "grad", "shape"} <= set(VALUE_PROPERTIES)
    assert {"concatenate", "stack", "where", "maximum", "minimum", "grad", "gradcheck", "detect_anomaly"} <= set(MODULE_FUNCS)


@_fuzz(400)
@given(name=st.sampled_from(VALUE_METHODS), v=good_values, a=st.lists(args, max_size=3))
def test_fuzz_value_methods(name, v, a):
    out = _call(f"Value.{name}", getattr(Value, name), v, *a)
    _then_backward(out)


@_fuzz(200)
@given(name=st.sampled_from(OPERATORS), v=good_values, other=args)
def test_fuzz_operators(name, v, other):
    special = getattr(Value, f"__{name}__")
    unary = name in ("neg", "pos", "abs", "len", "iter", "bool", "float", "repr")
    fn = {"len": len, "iter": lambda x: list(iter(x)), "bool": bool, "float": float, "repr": repr}.get(name, special)
    out = _call(f"Value.__{name}__", fn, v) if unary else _call(f"Value.__{name}__", special, v, other)
    _then_backward(out)


@_fuzz(200)
@given(name=st.sampled_from(VALUE_PROPERTIES), v=good_values, new=args)
def test_fuzz_value_properties(name, v, new):
    out = _call(f"Value.{name}", lambda x: getattr(x, name), v)
    _then_backward(out)
    if getattr(Value, name).fset is not None:
        _call(f"Value.{name} = ", lambda x, y: setattr(x, name, y), v, new)


@_fuzz(200)
@given(data=st.one_of(any_arrays, junk, float_arrays), requires_grad=st.booleans(), label=st.none() | st.text(max_size=3))
def test_fuzz_value_constructor(data, requires_grad, label):
    v = _call("Value", lambda d: Value(d, requires_grad=requires_grad, label=label), data)
    if v is not None:
        assert v.dtype in (np.float32, np.float64)
        assert v.shape == np.shape(data)


@_fuzz(300)
@given(name=st.sampled_from(MODULE_FUNCS), a=st.lists(callables_or_args, max_size=3), b=st.lists(args, max_size=2))
def test_fuzz_module_functions(name, a, b):
    fn = getattr(autograd, name)
    out = _call(f"autograd.{name}", fn, *a)
    if callable(out) and not isinstance(out, Value):
        # grad(f), value_and_grad(f), detect_anomaly() and no_grad() give something to call or enter
        if hasattr(out, "__enter__"):
            _call(f"with autograd.{name}(...)", _enter_and_compute, out, *b)
        else:
            _call(f"autograd.{name}(...)(...)", out, *b)
    elif isinstance(out, list):
        for o in out:
            _then_backward(o)
    else:
        _then_backward(out)


def _enter_and_compute(cm: contextlib.AbstractContextManager, *xs: Any) -> None:
    with cm:
        for x in xs:
            if isinstance(x, Value):
                (x * 2).sum().backward() if x.requires_grad else None


# ---- nn: every public function, class and optimizer; modules are then called on random inputs ------

import nn  # noqa: E402
import nn.init  # noqa: E402
import nn.optim  # noqa: E402

NN_PUBLIC = sorted(
    [f"nn.{n}" for n in nn.__all__ if callable(getattr(nn, n)) and n not in ("save", "load")]  # files: test_reliability_files.py
    + [f"nn.init.{n}" for n in nn.init.__all__]
    + [f"nn.optim.{n}" for n in nn.optim.__all__]
)


def _resolve(path: str) -> Any:
    obj: Any = nn
    for part in path.split(".")[1:]:
        obj = getattr(obj, part)
    return obj


nn_args = st.one_of(
    args,
    st.integers(1, 4),
    st.lists(st.integers(1, 4), min_size=1, max_size=3),
    st.sampled_from(["relu", "tanh", "sigmoid", None, "mean", "sum", "bogus"]),
    st.builds(lambda n: nn.Linear(n, 2, rng=0).parameters(), st.integers(1, 3)),
    st.builds(lambda n: nn.MLP(n, [3, 2], rng=0), st.integers(1, 3)),
)


@_fuzz(300)
@given(name=st.sampled_from(NN_PUBLIC), a=st.lists(nn_args, max_size=3), x=st.one_of(good_values, float_arrays, junk))
def test_fuzz_nn_public_api(name, a, x):
    out = _call(name, _resolve(name), *a)
    if isinstance(out, nn.Module):
        _then_backward(_call(f"{name}(...)(x)", out, x))
    elif isinstance(out, nn.optim.Optimizer):
        for p in out.params if hasattr(out, "params") else []:
            p.grad = np.ones(p.shape)
        _call(f"{name}(...).step", lambda o: o.step(), out)
    else:
        _then_backward(out)


def test_init_refuses_non_finite_bounds():
    """Found by the random profile: nan bounds reached numpy's generator and raised OverflowError."""
    import nn

    w = nn.Parameter(np.zeros(3))
    for call in (lambda: nn.init.uniform_(w, 0.0, float("nan")), lambda: nn.init.normal_(w, float("inf"), 1.0), lambda: nn.init.normal_(w, 0.0, -1.0)):
        with pytest.raises(ValueError, match="must be"):
            call()
    assert not np.any(w.data)
