"""Shared by the tests against PyTorch (float64): tensors from arrays, one forward/backward compared, state dicts both ways.

PyTorch is a test-only dependency (`torch==2.13.0`, CPU wheel, in the `test` extra); it is
imported directly, so a missing torch fails these tests instead of skipping them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from autograd import Value

RTOL, ATOL = 1e-10, 1e-12


def tensor(a: Any, requires_grad: bool = True) -> torch.Tensor:
    """A float64 (or float32, as given) leaf tensor with a copy of `a`'s numbers; integer arrays stay integer."""
    arr = np.array(a.data if isinstance(a, Value) else a)
    t = torch.from_numpy(arr)
    if arr.dtype.kind == "f" and requires_grad:
        t.requires_grad_(True)
    return t


def numpy(t: Any) -> np.ndarray:
    """A tensor's (or Value's, or array's) numbers as an ndarray."""
    if isinstance(t, torch.Tensor):
        return t.detach().cpu().numpy()
    if isinstance(t, Value):
        return t.data
    return np.asarray(t)


def assert_close(ours: Any, theirs: Any, what: str = "", rtol: float = RTOL, atol: float = ATOL) -> None:
    """Same shape and numbers (to rtol/atol) and the same float dtype."""
    a, b = numpy(ours), numpy(theirs)
    assert a.shape == b.shape, f"{what}: shape {a.shape}, PyTorch's {b.shape}"
    if b.dtype.kind == "f":
        assert a.dtype == b.dtype, f"{what}: dtype {a.dtype}, PyTorch's {b.dtype}"
    np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, err_msg=what)


def to_torch_state(state: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """Our state_dict as PyTorch's load_state_dict takes it."""
    return {k: torch.from_numpy(np.array(v)) for k, v in state.items()}


def from_torch_state(state: dict[str, torch.Tensor]) -> dict[str, np.ndarray]:
    """A PyTorch state_dict as our load_state_dict takes it."""
    return {k: v.detach().cpu().numpy().copy() for k, v in state.items()}


def assert_same_state(ours: Any, theirs: torch.nn.Module, rtol: float = 0, atol: float = 0) -> None:
    """The same keys, in the same order, with the same numbers (exactly, unless rtol/atol: running
    statistics computed in another order) and the same dtypes (an int64 counter included)."""
    a, b = ours.state_dict(), theirs.state_dict()
    assert list(a) == list(b), f"state_dict keys {list(a)}, PyTorch's {list(b)}"
    for k in a:
        assert a[k].dtype == numpy(b[k]).dtype, f"state_dict[{k!r}]: dtype {a[k].dtype}, PyTorch's {numpy(b[k]).dtype}"
        assert_close(a[k], b[k], f"state_dict[{k!r}]", rtol=rtol, atol=atol)


def load_both_ways(ours: Any, theirs: torch.nn.Module) -> None:
    """PyTorch's weights into ours (then equal), and ours, perturbed, back into PyTorch (then equal).
    Equal entries (a tied parameter under each of its names) are perturbed alike."""
    ours.load_state_dict(from_torch_state(theirs.state_dict()))
    assert_same_state(ours, theirs)
    rng = np.random.default_rng(0)
    moved: dict[str, np.ndarray] = {}
    for k, v in ours.state_dict().items():
        twin = next((m for m in moved if np.array_equal(ours.state_dict()[m], v)), None)
        if twin is not None:
            moved[k] = moved[twin]
        else:
            moved[k] = (v + rng.standard_normal(v.shape)).astype(v.dtype) if v.dtype.kind == "f" else v
    ours.load_state_dict(moved)
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    assert_same_state(ours, theirs)


def compare(
    ours: Callable[..., Any],
    theirs: Callable[..., Any],
    inputs: Sequence[np.ndarray],
    params: Sequence[tuple[str, Value, torch.Tensor]] = (),
    seed: int = 0,
    rtol: float = RTOL,
    atol: float = ATOL,
) -> None:
    """ours(*Values) against theirs(*tensors) on the same inputs: the output, then, after a backward
    pass from the same random upstream gradient, every float input's gradient and each named
    parameter's (ours, PyTorch's) gradient."""
    xs = [Value(a) if np.asarray(a).dtype.kind == "f" else np.asarray(a) for a in inputs]
    ts = [tensor(a) for a in inputs]
    out, tout = ours(*xs), theirs(*ts)
    assert_close(out, tout, "output", rtol, atol)
    up = np.random.default_rng(seed).standard_normal(out.shape).astype(out.dtype)
    out.backward(up)
    tout.backward(torch.from_numpy(up.copy()))
    for i, (x, t) in enumerate(zip(xs, ts)):
        if isinstance(x, Value):
            assert_close(x.grad, t.grad, f"gradient of input {i}", rtol, atol)
    for name, p, tp in params:
        assert tp.grad is not None, f"PyTorch computed no gradient for {name}"
        assert_close(p.grad, tp.grad, f"gradient of {name}", rtol, atol)


def compare_module(ours: Any, theirs: torch.nn.Module, *inputs: np.ndarray, seed: int = 0, rtol: float = RTOL, atol: float = ATOL) -> None:
    """A module against PyTorch's: PyTorch's weights loaded into ours, then `compare` with every
    named parameter (the names must be PyTorch's)."""
    ours.load_state_dict(from_torch_state(theirs.state_dict()))
    theirs_params = dict(theirs.named_parameters())
    params = [(n, p, theirs_params[n]) for n, p in ours.named_parameters()]
    assert sorted(n for n, _, _ in params) == sorted(theirs_params), "parameter names differ from PyTorch's"
    compare(ours, theirs, inputs, params, seed, rtol, atol)
