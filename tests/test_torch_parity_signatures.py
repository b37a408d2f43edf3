"""PyTorch code runs with the import changed: each nn name PyTorch also has takes PyTorch's parameters,
with PyTorch's defaults (read from torch by inspect.signature) and PyTorch's positional order, and its
modules carry PyTorch's attributes and repr. Every difference is listed here with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from inspect import Parameter, signature
from typing import Any

import numpy as np
import pytest
import torch
import torch.nn.functional as F
import torch.nn.init as TI

import nn
from nn import init, optim

T = torch.nn

# PyTorch parameters nn does not take, and why.
NOT_TAKEN = {
    "device": "numpy arrays live in main memory",
    "dtype": "weights are float64 (assign .data to change)",
    "size_average": "deprecated in PyTorch: reduction replaces it",
    "reduce": "deprecated in PyTorch: reduction replaces it",
    "foreach": "a choice between PyTorch's kernels; no effect on the numbers",
    "fused": "a choice between PyTorch's kernels; no effect on the numbers",
    "capturable": "CUDA graphs",
    "differentiable": "autograd through the optimizer step",
    "generator": "nn's initialisers take rng= (a numpy Generator or an int seed) instead",
    "last_epoch": "resuming a schedule mid-way is not supported: a schedule starts at epoch 0",
}

# PyTorch's name of a leading positional parameter -> ours (positional use, as PyTorch code passes them, works).
RENAMED = {"input": ("pred", "logits", "probs"), "tensor": ("x",)}

# Defaults that differ on purpose.
DEFAULT_DIFFERS = {
    ("Softmax", "dim"): "PyTorch's None picks an axis by the input's rank (deprecated there); ours is the last axis (None means it too)",
    ("LogSoftmax", "dim"): "as Softmax",
}

# Positional order that differs on purpose: (name, PyTorch's parameter at that position).
POSITIONAL_DIFFERS = {
    ("cross_entropy", "weight"): "ours' third positional is reduction (older than weight); a positional weight is refused with a hint",
    ("binary_cross_entropy", "weight"): "as cross_entropy",
    ("binary_cross_entropy_with_logits", "weight"): "as cross_entropy",
}

PAIRS: list[tuple[Callable[..., Any], Callable[..., Any]]] = [
    (nn.Linear, T.Linear),
    (nn.Dropout, T.Dropout),
    (nn.Sequential, T.Sequential),
    (nn.Sigmoid, T.Sigmoid),
    (nn.Tanh, T.Tanh),
    (nn.ReLU, T.ReLU),
    (nn.LeakyReLU, T.LeakyReLU),
    (nn.Softmax, T.Softmax),
    (nn.LogSoftmax, T.LogSoftmax),
    (nn.GELU, T.GELU),
    (nn.ELU, T.ELU),
    (nn.Softplus, T.Softplus),
    (nn.Identity, T.Identity),
    (nn.mse_loss, F.mse_loss),
    (nn.cross_entropy, F.cross_entropy),
    (nn.binary_cross_entropy, F.binary_cross_entropy),
    (nn.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits),
    (optim.SGD, torch.optim.SGD),
    (optim.Adam, torch.optim.Adam),
    (optim.AdamW, torch.optim.AdamW),
    (optim.RMSprop, torch.optim.RMSprop),
    (optim.StepLR, torch.optim.lr_scheduler.StepLR),
    (optim.CosineAnnealingLR, torch.optim.lr_scheduler.CosineAnnealingLR),
    *[(getattr(init, n), getattr(TI, n)) for n in init.__all__ if n not in ("manual_seed", "get_rng")],
]


def _params(f: Callable[..., Any]) -> list[Parameter]:
    return [p for p in signature(f).parameters.values() if p.kind not in (Parameter.VAR_POSITIONAL, Parameter.VAR_KEYWORD)]


def _ours_name(theirs_name: str, ours: dict[str, Parameter], position: int, ours_positional: list[str]) -> str | None:
    if theirs_name in ours:
        return theirs_name
    for alias in RENAMED.get(theirs_name, ()):
        if position < len(ours_positional) and ours_positional[position] == alias:
            return alias
    return None


@pytest.mark.parametrize("ours, theirs", PAIRS, ids=[t.__name__ for _, t in PAIRS])
def test_parameters_defaults_and_order_are_pytorchs(ours: Callable[..., Any], theirs: Callable[..., Any]) -> None:
    name = theirs.__name__
    ours_params = {p.name: p for p in _params(ours)}
    ours_positional = [p.name for p in _params(ours) if p.kind == Parameter.POSITIONAL_OR_KEYWORD]
    problems = []
    in_order = True  # PyTorch's positional parameters map to ours position by position, up to the first we do not take
    for i, tp in enumerate(_params(theirs)):
        mine = _ours_name(tp.name, ours_params, i, ours_positional)
        if mine is None:
            if tp.name not in NOT_TAKEN:
                problems.append(f"PyTorch's parameter {tp.name!r} is missing")
            in_order = False
            continue
        op = ours_params[mine]
        if op.default != tp.default and (name, tp.name) not in DEFAULT_DIFFERS:
            problems.append(f"{tp.name}: default {op.default!r}, PyTorch's {tp.default!r}")
        if in_order and tp.kind == Parameter.POSITIONAL_OR_KEYWORD:
            if i >= len(ours_positional) or ours_positional[i] != mine:
                if (name, tp.name) not in POSITIONAL_DIFFERS:
                    problems.append(f"{tp.name} is PyTorch's positional parameter {i}, ours is {ours_positional[i:i + 1]}")
                in_order = False
    assert not problems, f"{name}: " + "; ".join(problems)


@pytest.mark.parametrize("fn", [nn.cross_entropy, nn.binary_cross_entropy, nn.binary_cross_entropy_with_logits, nn.mse_loss])
def test_a_positional_weight_is_refused_with_a_hint(fn: Callable[..., Any]) -> None:
    with pytest.raises(ValueError, match=r"reduction must be one of .* pass weights by keyword: weight="):
        fn(np.full((2, 3), 0.5), np.array([0, 1]) if fn is nn.cross_entropy else np.full((2, 3), 0.5), np.ones(3))


MODULES = [
    ("Linear", {"in_features": 3, "out_features": 2}),
    ("Linear", {"in_features": 3, "out_features": 2, "bias": False}),
    ("Dropout", {"p": 0.2}),
    ("Dropout", {"p": 0.3, "inplace": True}),
    ("Sigmoid", {}),
    ("Tanh", {}),
    ("ReLU", {}),
    ("ReLU", {"inplace": True}),
    ("LeakyReLU", {"negative_slope": 0.2}),
    ("LeakyReLU", {"negative_slope": 0.2, "inplace": True}),
    ("Softmax", {"dim": 1}),
    ("LogSoftmax", {"dim": 0}),
    ("GELU", {}),
    ("GELU", {"approximate": "tanh"}),
    ("ELU", {"alpha": 0.5}),
    ("ELU", {"inplace": True}),
    ("Softplus", {"beta": 2.0, "threshold": 10.0}),
    ("Identity", {}),
]


@pytest.mark.parametrize("name, kw", MODULES, ids=[f"{n}{kw}" for n, kw in MODULES])
def test_module_attributes_and_repr_are_pytorchs(name: str, kw: dict[str, Any]) -> None:
    ours, theirs = getattr(nn, name)(**kw), getattr(T, name)(**kw)
    assert repr(ours) == repr(theirs)
    for attr in signature(getattr(T, name)).parameters:
        if hasattr(theirs, attr) and attr not in ("bias", "dtype", "device"):  # (PyTorch's bias attribute is the parameter)
            assert getattr(ours, attr) == getattr(theirs, attr), attr


def test_sequential_repr_is_pytorchs() -> None:
    ours = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Sequential(nn.Linear(4, 2), nn.Softmax(dim=-1)))
    theirs = T.Sequential(T.Linear(3, 4), T.ReLU(), T.Sequential(T.Linear(4, 2), T.Softmax(dim=-1)))
    assert repr(ours) == repr(theirs)
