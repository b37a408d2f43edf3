"""nn.init against torch.nn.init: calculate_gain exactly, fan in/out, and the exact bound or std of
every initialiser, read off PyTorch's own code (its calls to Tensor.uniform_ / Tensor.normal_ are
intercepted), then ours, seeded, must draw exactly numpy's U(-bound, bound) or N(0, std) with them.
Seeded statistics of both sides agree too.
"""

from __future__ import annotations

import math
import typing
from collections.abc import Callable
from inspect import signature
from typing import Any
from unittest import mock

import numpy as np
import pytest
import torch
import torch.nn.init as TI

import nn
from nn import init

TORCH_NONLINEARITIES = typing.get_args(signature(TI.calculate_gain).parameters["nonlinearity"].annotation)


def test_calculate_gain_of_every_pytorch_nonlinearity() -> None:
    assert "leaky_relu" in TORCH_NONLINEARITIES and len(TORCH_NONLINEARITIES) >= 12  # (read from PyTorch's signature)
    for name in TORCH_NONLINEARITIES:
        assert init.calculate_gain(name) == TI.calculate_gain(name), name
    for slope in (0, 0.2, 1, math.sqrt(5), 3.5):
        assert init.calculate_gain("leaky_relu", slope) == TI.calculate_gain("leaky_relu", slope), slope
    assert init.calculate_gain("relu", 0.3) == TI.calculate_gain("relu", 0.3)  # param ignored where it means nothing


@pytest.mark.parametrize("bad", ["x", True, [0.1]])
def test_calculate_gain_refuses_a_slope_that_is_not_a_number(bad: Any) -> None:
    with pytest.raises(ValueError):
        TI.calculate_gain("leaky_relu", bad)
    with pytest.raises(ValueError, match=r"calculate_gain: leaky_relu's param \(the negative slope\) must be a number"):
        init.calculate_gain("leaky_relu", bad)


def test_unknown_nonlinearity_is_refused_by_both() -> None:
    with pytest.raises(ValueError, match="Unsupported nonlinearity"):
        TI.calculate_gain("softsign")
    with pytest.raises(ValueError, match="unknown nonlinearity 'softsign'"):
        init.calculate_gain("softsign")


SHAPES = [(3, 4), (7, 2), (5, 2, 3), (4, 3, 2, 2), (2, 3, 1, 2, 2)]


@pytest.mark.parametrize("shape", SHAPES)
def test_fans_are_pytorchs(shape: tuple[int, ...]) -> None:
    assert init._fans(shape, "test") == TI._calculate_fan_in_and_fan_out(torch.empty(shape))


def test_a_1d_weight_has_fan_out_1_where_pytorch_refuses() -> None:
    """Documented difference: the course's Neuron has a 1-D weight (nin,); ours reads it as (fan_in=nin, fan_out=1)."""
    assert init._fans((5,), "test") == (5, 1)
    with pytest.raises(ValueError, match="fewer than 2 dimensions"):
        TI._calculate_fan_in_and_fan_out(torch.empty(5))


def _torch_draw(fn: Callable[..., Any], shape: tuple[int, ...], **kw: Any) -> list[tuple[str, tuple[float, ...]]]:
    """The (method, arguments) of each draw PyTorch's `fn` makes on a tensor of `shape`: its exact bound or std."""
    calls: list[tuple[str, tuple[float, ...]]] = []

    def spy(name: str) -> Callable[..., Any]:
        def draw(self: torch.Tensor, *args: Any, **kwargs: Any) -> torch.Tensor:
            calls.append((name, tuple(float(a) for a in args)))
            return self

        return draw

    with mock.patch.object(torch.Tensor, "uniform_", spy("uniform")), mock.patch.object(torch.Tensor, "normal_", spy("normal")):
        fn(torch.empty(shape, dtype=torch.float64), **kw)
    return calls


INITS = [
    ("uniform_", {}),
    ("uniform_", {"a": -0.3, "b": 0.7}),
    ("normal_", {}),
    ("normal_", {"mean": 0.5, "std": 0.1}),
    ("xavier_uniform_", {}),
    ("xavier_uniform_", {"gain": 5 / 3}),
    ("xavier_normal_", {}),
    ("xavier_normal_", {"gain": math.sqrt(2)}),
    ("kaiming_uniform_", {}),
    ("kaiming_uniform_", {"a": math.sqrt(5)}),  # nn.Linear's
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_uniform_", {"a": 0.2, "mode": "fan_in", "nonlinearity": "leaky_relu"}),
    ("kaiming_uniform_", {"nonlinearity": "tanh"}),
    ("kaiming_normal_", {}),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}),
    ("kaiming_normal_", {"a": 0.1, "nonlinearity": "leaky_relu"}),
    ("kaiming_normal_", {"nonlinearity": "selu"}),
]


@pytest.mark.parametrize("shape", [(3, 4), (5, 2, 3), (4, 3, 2, 2)])
@pytest.mark.parametrize("name, kw", INITS, ids=[f"{n}{kw}" for n, kw in INITS])
def test_initialiser_draws_from_pytorchs_distribution(name: str, kw: dict[str, Any], shape: tuple[int, ...]) -> None:
    [(kind, args)] = _torch_draw(getattr(TI, name), shape, **kw)
    ours = getattr(init, name)(np.zeros(shape), **kw, rng=np.random.default_rng(7))
    expected = getattr(np.random.default_rng(7), kind)(*args, shape)
    np.testing.assert_array_equal(ours, expected, err_msg=f"{name}{kw}: PyTorch draws {kind}{args}")


def test_constant_zeros_ones_as_pytorch() -> None:
    for ours, theirs in [
        (init.constant_(np.empty((2, 3)), 0.25), TI.constant_(torch.empty(2, 3, dtype=torch.float64), 0.25)),
        (init.zeros_(np.ones((2, 3))), TI.zeros_(torch.ones(2, 3, dtype=torch.float64))),
        (init.ones_(np.zeros((2, 3))), TI.ones_(torch.zeros(2, 3, dtype=torch.float64))),
    ]:
        np.testing.assert_array_equal(ours, theirs.numpy())


def test_linear_starts_as_pytorchs() -> None:
    """nn.Linear draws weight then bias with the bounds PyTorch's Linear.reset_parameters uses."""
    calls = _torch_draw(lambda t: torch.nn.Linear(6, 4, dtype=torch.float64), (1,))
    assert [k for k, _ in calls] == ["uniform", "uniform"]
    lin = nn.Linear(6, 4, rng=3)
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(lin.weight.data, rng.uniform(*calls[0][1], (4, 6)))
    np.testing.assert_array_equal(lin.bias.data, rng.uniform(*calls[1][1], (4,)))


@pytest.mark.parametrize(
    "name, kw, std",
    [
        ("kaiming_normal_", {"nonlinearity": "relu"}, math.sqrt(2 / 300)),
        ("kaiming_uniform_", {"a": math.sqrt(5)}, 1 / math.sqrt(300) / math.sqrt(3)),
        ("xavier_normal_", {}, math.sqrt(2 / 500)),
        ("xavier_uniform_", {"gain": 5 / 3}, 5 / 3 * math.sqrt(2 / 500)),
    ],
)
def test_seeded_statistics_match_pytorchs(name: str, kw: dict[str, Any], std: float) -> None:
    """Weights (200, 300) from nn.manual_seed and torch.manual_seed: mean 0 and the formula's std on both sides."""
    nn.manual_seed(0)
    ours = getattr(init, name)(np.zeros((200, 300)), **kw)
    torch.manual_seed(0)
    theirs = getattr(TI, name)(torch.empty(200, 300, dtype=torch.float64), **kw).numpy()
    for w in (ours, theirs):
        assert abs(w.mean()) < 4 * std / math.sqrt(w.size)
        assert abs(w.std() / std - 1) < 0.02
