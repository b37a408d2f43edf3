"""Optimizers and learning-rate schedules against PyTorch's, in float64.

Both sides train the same network from the same weights on the same data; after every step each
parameter, and each entry of the optimizer's per-parameter state (PyTorch's names: momentum_buffer,
exp_avg, ...), must agree to 1e-10. A parameter that never gets a gradient stays as it is on both.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import nn

from .torch_parity import assert_close, from_torch_state

T = torch.nn
STEPS = 6

CONFIGS = [
    ("SGD", {}),  # PyTorch's default lr (1e-3)
    ("SGD", {"lr": 0.1}),
    ("SGD", {"lr": 0.1, "momentum": 0.9}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "dampening": 0.3}),
    ("SGD", {"lr": 0.1, "momentum": 0.9, "nesterov": True}),
    ("SGD", {"lr": 0.1, "momentum": 0.5, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.1, "weight_decay": 0.01}),
    ("SGD", {"lr": 0.05, "momentum": 0.9, "maximize": True}),
    ("SGD", {"lr": 0.05, "maximize": True}),
    ("Adam", {}),
    ("Adam", {"lr": 0.01, "betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1}),
    ("Adam", {"lr": 0.01, "amsgrad": True}),
    ("Adam", {"lr": 0.01, "maximize": True, "weight_decay": 0.05}),
    ("Adam", {"lr": 0.01, "weight_decay": 0.1, "decoupled_weight_decay": True, "amsgrad": True}),
    ("AdamW", {}),
    ("AdamW", {"lr": 0.01, "weight_decay": 0.1, "amsgrad": True}),
    ("AdamW", {"lr": 0.01, "maximize": True}),
    ("RMSprop", {}),
    ("RMSprop", {"lr": 0.01, "momentum": 0.9}),
    ("RMSprop", {"lr": 0.01, "centered": True}),
    ("RMSprop", {"lr": 0.01, "centered": True, "momentum": 0.5, "weight_decay": 0.1, "alpha": 0.9, "eps": 1e-6}),
    ("RMSprop", {"lr": 0.01, "maximize": True}),
]


def _problem() -> tuple[nn.Module, T.Module, np.ndarray, np.ndarray]:
    torch.manual_seed(0)
    theirs = T.Sequential(T.Linear(4, 5), T.Tanh(), T.Linear(5, 3)).double()
    ours = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    ours.load_state_dict(from_torch_state(theirs.state_dict()))
    rng = np.random.default_rng(0)
    return ours, theirs, rng.standard_normal((8, 4)), rng.integers(0, 3, 8)


def _train_step(ours_model: Any, theirs_model: T.Module, ours: Any, theirs: torch.optim.Optimizer, x: np.ndarray, y: np.ndarray) -> None:
    """One step of each optimizer on the cross-entropy of its own model."""
    ours.zero_grad(), theirs.zero_grad()
    nn.cross_entropy(ours_model(x), y).backward()
    F.cross_entropy(theirs_model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
    ours.step(), theirs.step()


def _assert_same_state(ours: Any, theirs: torch.optim.Optimizer, tparams: list[torch.Tensor], what: str) -> None:
    """Every per-parameter state entry PyTorch keeps (its names), with ours's numbers."""
    for i, tp in enumerate(tparams):
        for key, tv in theirs.state[tp].items():
            if tv is None:  # (PyTorch's SGD keeps momentum_buffer None without momentum)
                continue
            assert key in ours.state[i], f"{what}: parameter {i} has no state {key!r}; PyTorch's has {sorted(theirs.state[tp])}"
            if key == "step":
                assert ours.state[i][key] == int(tv), f"{what}: step"
            else:
                assert_close(ours.state[i][key], tv, f"{what}: state {key!r} of parameter {i}")


@pytest.mark.parametrize("name, kw", CONFIGS, ids=[f"{n}-{'-'.join(map(str, kw.items())) or 'defaults'}" for n, kw in CONFIGS])
def test_optimizer_steps_against_pytorch(name: str, kw: dict[str, Any]) -> None:
    ours_model, theirs_model, x, y = _problem()
    unused, tunused = nn.Parameter(np.ones(2)), T.Parameter(torch.ones(2, dtype=torch.float64))  # never gets a gradient
    params, tparams = [*ours_model.parameters(), unused], [*theirs_model.parameters(), tunused]
    ours = getattr(nn.optim, name)(params, **kw)
    theirs = getattr(torch.optim, name)(tparams, **kw)
    for step in range(STEPS):
        _train_step(ours_model, theirs_model, ours, theirs, x, y)
        for i, (p, tp) in enumerate(zip(params, tparams)):
            assert_close(p, tp, f"{name}{kw} step {step + 1}, parameter {i}")
        _assert_same_state(ours, theirs, tparams, f"{name}{kw} step {step + 1}")
    assert np.array_equal(unused.data, np.ones(2))


def test_gd_is_pytorchs_sgd() -> None:
    ours_model, theirs_model, x, y = _problem()
    ours, theirs = nn.optim.GD(ours_model.parameters(), lr=0.2), torch.optim.SGD(theirs_model.parameters(), lr=0.2)
    for _ in range(3):
        _train_step(ours_model, theirs_model, ours, theirs, x, y)
    for p, tp in zip(ours_model.parameters(), theirs_model.parameters()):
        assert_close(p, tp, "GD")


@pytest.mark.parametrize(
    "make_ours, make_theirs",
    [
        (lambda o: nn.optim.StepLR(o, step_size=3), lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3)),
        (lambda o: nn.optim.StepLR(o, 2, gamma=0.5), lambda o: torch.optim.lr_scheduler.StepLR(o, 2, gamma=0.5)),
        (lambda o: nn.optim.CosineAnnealingLR(o, T_max=5), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=5)),
        (lambda o: nn.optim.CosineAnnealingLR(o, 4, eta_min=0.01), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 4, eta_min=0.01)),
    ],
    ids=["StepLR", "StepLR-gamma", "Cosine", "Cosine-eta_min"],
)
def test_schedule_against_pytorch(make_ours: Any, make_theirs: Any) -> None:
    """The learning rate of every epoch, past T_max too (the cosine comes back up, as PyTorch's);
    and the optimizer steps with it. get_last_lr() is a number here, PyTorch's a list (one per group)."""
    ours_model, theirs_model, x, y = _problem()
    ours_opt, theirs_opt = nn.optim.SGD(ours_model.parameters(), lr=0.1), torch.optim.SGD(theirs_model.parameters(), lr=0.1)
    ours, theirs = make_ours(ours_opt), make_theirs(theirs_opt)
    assert ours.get_last_lr() == theirs.get_last_lr()[0]
    for epoch in range(14):
        _train_step(ours_model, theirs_model, ours_opt, theirs_opt, x, y)
        ours.step(), theirs.step()
        assert ours.last_epoch == theirs.last_epoch
        np.testing.assert_allclose(ours.get_last_lr(), theirs.get_last_lr()[0], rtol=1e-12, atol=1e-15, err_msg=f"epoch {epoch + 1}")
        assert ours_opt.lr == ours.get_last_lr() and theirs_opt.param_groups[0]["lr"] == theirs.get_last_lr()[0]
    for p, tp in zip(ours_model.parameters(), theirs_model.parameters()):
        assert_close(p, tp, "after the schedule")
