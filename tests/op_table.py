"""The op-table machinery shared by every table of ops (tests/test_ops.py, tests/test_higher_order.py,
tests/test_numpy.py): a `Case` per function, and the checks one row gets.

A row draws `(arrays, params)` from tests/strategies.py, runs `f` on Values (inputs listed in
`consts` stay plain arrays) and `ref` on the same arrays. `check_first_order`: the forward against
`ref`, the gradient against finite differences in float64 (`gradcheck`, non-scalar outputs through
a random projection), and float32 in -> float32 out and gradients. `check_second_order`: the
second derivatives of f(...)**2 + f(...) against finite differences of the first (`gradgradcheck`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import Phase, given, settings
from hypothesis import strategies as st

from autograd import Value, gradcheck, gradgradcheck
from autograd.engine import gradients, toposort


@dataclass(frozen=True)
class Case:
    name: str
    draw: st.SearchStrategy[Any]  # -> (arrays, params)
    f: Callable[..., Any]  # f(*inputs, **params) on Values (and constant arrays)
    ref: Callable[..., Any] | None  # the same on numpy arrays (None: no reference)
    consts: tuple[int, ...] = ()


def check_first_order(case: Case, data: st.DataObject) -> tuple[tuple[np.ndarray, ...], dict[str, Any]]:
    """Forward against ref, float64 gradients against finite differences, float32 kept; returns the draw."""
    arrays, params = data.draw(case.draw, label="inputs")
    args = [a if i in case.consts else Value(a) for i, a in enumerate(arrays)]
    out = case.f(*args, **params)

    assert isinstance(out, Value)
    if case.ref is not None:
        expected = np.asarray(case.ref(*arrays, **params))
        assert out.shape == expected.shape and out.dtype == np.float64
        np.testing.assert_allclose(out.data, expected, rtol=1e-10, atol=1e-12)

    variable = [i for i in range(len(arrays)) if i not in case.consts]

    def f(*vs: Value) -> Value:
        full = list(arrays)
        for i, v in zip(variable, vs):
            full[i] = v
        return case.f(*full, **params)

    assert gradcheck(f, *[arrays[i] for i in variable])

    # float32 in, float32 out, float32 gradients
    args32 = [a.astype(np.float32) if i in case.consts else Value(a.astype(np.float32)) for i, a in enumerate(arrays)]
    out32 = case.f(*args32, **params)
    assert out32.dtype == np.float32
    out32.backward(np.ones(out32.shape, np.float32))
    assert all(v.grad.dtype == np.float32 for v in args32 if isinstance(v, Value))
    return arrays, params


def squared(case: Case, arrays: tuple, params: dict) -> tuple[Callable[..., Value], list[np.ndarray]]:
    """f(variables) = out**2 + out with out = case(...): its Hessian needs the op's rule to run on a gradient
    that is itself a Value (and `+ out` keeps that gradient nonzero where out is 0, so every rule is exercised).

    The op gets computed inputs (v * 1.0), not the leaves: a computed 0-d Value holds a Python float,
    which a rule must handle too (a comparison of floats is a Python bool, and ~True is -2).
    """
    variable = [i for i in range(len(arrays)) if i not in case.consts]

    def f(*vs: Value) -> Value:
        full = list(arrays)
        for i, v in zip(variable, vs, strict=True):
            full[i] = v * 1.0
        out = case.f(*full, **params)
        return out * out + out

    return f, [arrays[i] for i in variable]


def check_second_order(case: Case, data: st.DataObject) -> None:
    """Second derivatives of `squared` against finite differences of its first derivatives."""
    arrays, params = data.draw(case.draw, label="inputs")
    f, inputs = squared(case, arrays, params)
    assert gradgradcheck(f, *inputs)


def op_types(case: Case) -> set[type]:
    """The op classes in the graphs of one example of the row and of its create_graph gradients."""
    seen: set[type] = set()

    @settings(max_examples=1, derandomize=True, database=None, phases=[Phase.generate])
    @given(case.draw)
    def collect(drawn):
        f, inputs = squared(case, *drawn)
        xs = [Value(a) for a in inputs]
        loss = f(*xs).sum()
        roots = [loss] + [g for g in gradients(loss, xs, create_graph=True) if g.requires_grad]
        seen.update(type(n._op) for r in roots for n in toposort(r) if n._op is not None)

    collect()
    return seen


def op_classes(base: type, module_prefix: str) -> set[type]:
    """Every subclass of base (at any depth) defined in a module whose name starts with module_prefix."""

    def subclasses(c: type) -> set[type]:
        return {s for d in c.__subclasses__() for s in {d} | subclasses(d)}

    return {c for c in subclasses(base) if c.__module__.startswith(module_prefix)}
