"""Check the engine's gradients against central finite differences, and say exactly where they differ."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from . import ops
from .engine import gradients, no_grad, toposort
from .value import Value, as_array


class GradcheckError(AssertionError):
    """The analytic and the numeric gradient disagree; the message says where and by how much."""


def _as_f64(x: Any) -> np.ndarray:
    return np.array(as_array(x), dtype=np.float64)


def _scalarize(out: Any, fname: str, proj: np.ndarray | None) -> Any:
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: {fname} must return a Value, it returned {type(out).__name__}")
    return out if proj is None else (out * proj).sum()


def _central_differences(fn: Callable[[list[np.ndarray]], float], arrays: list[np.ndarray], k: int, eps: float) -> np.ndarray:
    """d fn / d arrays[k], element by element, as (fn(x + eps) - fn(x - eps)) / (2 eps)."""
    a = arrays[k]
    num = np.zeros_like(a)
    flat, out = a.reshape(-1), num.reshape(-1)  # views: perturbing flat perturbs arrays[k]
    for j in range(flat.size):
        old = flat[j]
        flat[j] = old + eps
        plus = fn(arrays)
        flat[j] = old - eps
        minus = fn(arrays)
        flat[j] = old
        out[j] = (plus - minus) / (2 * eps)
    return num


def _report(fname: str, k: int, a: np.ndarray, ga: np.ndarray, num: np.ndarray, atol: float, rtol: float, what: str) -> str:
    """'' when ga matches num elementwise (|ga - num| <= atol + rtol |num|), else a message naming the worst element."""
    err = np.abs(ga - num)
    bad = ~(err <= atol + rtol * np.abs(num))  # also catches nan
    if not bad.any():
        return ""
    score = np.where(np.isnan(err), np.inf, err)
    worst = np.unravel_index(int(np.argmax(np.where(bad, score, -1))), a.shape) if a.ndim else ()
    an, nu, e = ga[worst], num[worst], err[worst]
    rel = e / max(abs(nu), 1e-300)
    where_ = f"element {tuple(int(i) for i in worst)}" if a.ndim else "the scalar"
    return (
        f"{what} failed for {fname}, input {k} (shape {a.shape}): {int(bad.sum())} of {a.size} elements differ.\n"
        f"  worst at {where_}: analytic {an:.10g}, numeric {nu:.10g}, abs error {e:.3g}, rel error {rel:.3g} "
        f"(allowed: atol {atol:g} + rtol {rtol:g} * |numeric|)"
    )


def gradcheck(
    f: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """True if f's gradients match central finite differences at `inputs`, else raise GradcheckError.

    Every input is checked element by element, in float64: analytic d/dx from `backward`, numeric
    (f(x + eps) - f(x - eps)) / (2 eps). An element passes when |analytic - numeric| <= atol +
    rtol * |numeric|. When f returns a non-scalar Value, it is checked through a fixed random
    projection: the gradient of sum(f(x) * r) with r ~ N(0, 1) drawn from `seed`, which catches
    a wrong Jacobian entry with probability 1 at the cost of one projection instead of a full
    Jacobian. The error names the input, the worst element, both values, the absolute and the
    relative error, how many elements failed, and warns when the point sits on a kink or a tie.
    """
    fname = getattr(f, "__name__", "f")
    arrays = [_as_f64(x) for x in inputs]
    if not arrays:
        raise ValueError("gradcheck needs at least one input")
    xs = [Value(a.copy()) for a in arrays]
    out = f(*xs)
    if not isinstance(out, Value):
        raise TypeError(f"gradcheck: {fname} must return a Value, it returned {type(out).__name__}")
    proj = None if out.size == 1 else np.random.default_rng(seed).standard_normal(out.shape)
    loss = _scalarize(out, fname, proj)
    analytic = gradients(loss, xs)
    hint = _kink_hint(loss, eps)

    def evaluate(args: list[np.ndarray]) -> float:
        with no_grad():
            return _scalarize(f(*[Value(a) for a in args]), fname, proj).item()  # shape (1,) too

    for k, (a, ga) in enumerate(zip(arrays, analytic)):
        ga = np.asarray(ga, dtype=np.float64)
        if ga.shape != a.shape:
            raise GradcheckError(f"gradcheck: the gradient of input {k} has shape {ga.shape}, the input has shape {a.shape}")
        msg = _report(fname, k, a, ga, _central_differences(evaluate, arrays, k, eps), atol, rtol, "gradcheck")
        if msg:
            if proj is not None:
                msg += f"\n  ({fname} returns shape {out.shape}; checked through a random projection with seed {seed})"
            if hint:
                msg += "\n  hint: " + hint
            raise GradcheckError(msg)
    return True


_KINKS = {ops.Relu: 0.0, ops.Abs: 0.0, ops.LeakyRelu: 0.0, ops.BinaryStep: 0.0}


def _kink_hint(root: Value, eps: float) -> str:
    """Where the point sits within eps of a kink or a tie, where finite differences are not meaningful."""
    notes: list[str] = []
    for node in toposort(root):
        op = node._op
        if op is None:
            continue
        xs = [np.asarray(p._data) for p in node.parents]
        if type(op) in _KINKS and (np.abs(xs[0]) <= 2 * eps).any():
            notes.append(f"an input of {op.label()} is within eps of 0, its kink")
        elif isinstance(op, ops.Clip) and any(b is not None and (np.abs(xs[0] - b) <= 2 * eps).any() for b in (op.lo, op.hi)):
            notes.append(f"an input of {op.label()} is within eps of a bound")
        elif isinstance(op, (ops.Maximum, ops.Minimum)) and (np.abs(xs[0] - xs[1]) <= 2 * eps).any():
            notes.append(f"the inputs of {op.label()} tie (differ by less than eps)")
        elif isinstance(op, ops.Max):
            kshape = ops._keepdims_shape(xs[0].shape, op.axis)
            near = np.abs(xs[0] - np.reshape(node._data, kshape)) <= 2 * eps
            if (near.sum(axis=op.axis) > 1).any():
                notes.append(f"{op.label()} has tied elements (within eps of the extreme)")
    if not notes:
        return ""
    return "; ".join(dict.fromkeys(notes)) + ": finite differences are not meaningful there; move the point away from it."


# ---- second derivatives ------------------------------------------------------------


def gradgradcheck(
    f: Callable[..., Any],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    seed: int = 0,
) -> bool:
    """True if f's second derivatives match finite differences of its first, else raise GradcheckError.

    The analytic side differentiates the gradient graph that `gradients(..., create_graph=True)`
    records; the numeric side is central differences of the plain (numpy) first derivatives. As in
    gradcheck, a non-scalar f is reduced to sum(f(x) * r), and the gradients g_k are reduced to
    s = sum_k sum(g_k * u_k), with r, u_k ~ N(0, 1) drawn from `seed`; d s / d x_j is row j of the
    Hessian times u, so a wrong second derivative shows up with probability 1. Also checks that
    the first derivatives computed on Values equal those computed on arrays. The error message has
    gradcheck's form (input, worst element, analytic and numeric value, errors, kink hint).
    """
    fname = getattr(f, "__name__", "f")
    arrays = [_as_f64(x) for x in inputs]
    if not arrays:
        raise ValueError("gradgradcheck needs at least one input")
    rng = np.random.default_rng(seed)
    xs = [Value(a.copy()) for a in arrays]
    out = f(*xs)
    if not isinstance(out, Value):
        raise TypeError(f"gradgradcheck: {fname} must return a Value, it returned {type(out).__name__}")
    proj = None if out.size == 1 else rng.standard_normal(out.shape)
    us = [rng.standard_normal(a.shape) for a in arrays]
    loss = _scalarize(out, fname, proj)
    hint = _kink_hint(loss, eps)
    notes = f"\n  (checked d/dx of sum_k sum(grad_k * u_k) with a random u drawn from seed {seed}"
    notes += f"; {fname} returns shape {out.shape}, reduced through a random projection)" if proj is not None else ")"
    if hint:
        notes += "\n  hint: " + hint

    first = gradients(loss, xs, create_graph=True)
    plain = gradients(loss, xs)
    for k, (a, gv, gp) in enumerate(zip(arrays, first, plain, strict=True)):
        gv = np.asarray(gv.data if isinstance(gv, Value) else gv, dtype=np.float64)
        what = "gradgradcheck (first derivatives on Values vs on arrays)"
        msg = _report(fname, k, a, gv, np.asarray(gp, dtype=np.float64), atol, rtol, what)
        if msg:
            raise GradcheckError(msg + notes)
    s = sum(((g * u).sum() for g, u in zip(first, us, strict=True)), Value(0.0, requires_grad=False))
    analytic = gradients(s, xs)

    def directional(args: list[np.ndarray]) -> float:
        vs = [Value(a) for a in args]
        gs = gradients(_scalarize(f(*vs), fname, proj), vs)
        return float(sum(np.sum(np.asarray(g) * u) for g, u in zip(gs, us, strict=True)))

    for k, (a, ga) in enumerate(zip(arrays, analytic, strict=True)):
        num = _central_differences(directional, arrays, k, eps)
        msg = _report(fname, k, a, np.asarray(ga, dtype=np.float64), num, atol, rtol, "gradgradcheck")
        if msg:
            raise GradcheckError(msg + notes)
    return True
