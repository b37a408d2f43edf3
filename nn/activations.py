"""Activation functions as modules (PyTorch's names), and lookup by the course's names ("sigmoid", "linear", ...)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd import Value, as_value
from autograd import ops as _ops
from autograd.ops import where

from .module import Module

__all__ = [
    "Sigmoid", "Tanh", "ReLU", "LeakyReLU", "Softmax", "LogSoftmax", "BinaryStep", "Identity",
    "GELU", "ELU", "Softplus", "get_activation", "ACTIVATIONS",
]  # fmt: skip


def _value(x: Any) -> Value:
    """x as a Value (arrays and lists become constants; a float array is used as it is, not copied)."""
    if isinstance(x, Value):
        return x
    if type(x) is np.ndarray and x.dtype.kind == "f":
        return as_value(x)
    return Value(x, requires_grad=False)


class Sigmoid(Module):
    """1 / (1 + e**-x), range (0, 1), stable for any x; the course's classic neuron (its slope is at most 0.25)."""

    def forward(self, x: Any) -> Value:
        return _value(x).sigmoid()


class Tanh(Module):
    """tanh(x), range (-1, 1), zero-centred; saturates like the sigmoid."""

    def forward(self, x: Any) -> Value:
        return _value(x).tanh()


class _Inplace(Module):
    """ReLU, LeakyReLU and ELU take PyTorch's `inplace` flag, accepted so PyTorch code runs: the result is
    always a new Value (the engine has no in-place ops), so outputs and gradients are the same; only memory
    differs. repr shows it as PyTorch's does, after the other arguments."""

    def __init__(self, inplace: bool = False) -> None:
        super().__init__()
        self.inplace = bool(inplace)

    def extra_repr(self) -> str:
        return self._with_inplace()

    def _with_inplace(self, *args: str) -> str:
        """The arguments shown, then inplace=True if it was given."""
        return ", ".join([*args, "inplace=True"] if self.inplace else args)


class ReLU(_Inplace):
    """max(0, x); gradient 0 at x == 0. The default for hidden layers. (`inplace` is accepted, and changes nothing.)"""

    def forward(self, x: Any) -> Value:
        return (x if type(x) is Value else _value(x)).relu()


class LeakyReLU(_Inplace):
    """x for x > 0 else negative_slope * x, so negative inputs still pass a little gradient. (`inplace` is accepted, and changes nothing.)"""

    def __init__(self, negative_slope: float = 0.01, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> Value:
        return _value(x).leaky_relu(self.negative_slope)

    def extra_repr(self) -> str:
        return self._with_inplace(f"negative_slope={self.negative_slope}")


class Softmax(Module):
    """exp(x) / sum(exp(x)) along `dim` (max subtracted first, so no overflow); outputs sum to 1.

    `dim` is PyTorch's name (`axis`, numpy's, is accepted too). The default is the last axis; PyTorch's
    default, None, picks an axis by the input's rank (deprecated there), and here means the last axis.
    """

    def __init__(self, dim: int | None = -1, *, axis: int | None = None) -> None:
        super().__init__()
        if axis is not None and dim not in (None, -1, axis):
            raise ValueError(f"{type(self).__name__}: give dim or axis (the same thing), not both: dim={dim}, axis={axis}")
        d = axis if axis is not None else -1 if dim is None else dim
        if isinstance(d, bool) or not isinstance(d, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: dim must be an int, got {type(d).__name__}: {d!r}")
        self.dim = int(d)

    @property
    def axis(self) -> int:
        """The same as `dim` (numpy's name)."""
        return self.dim

    def forward(self, x: Any) -> Value:
        return _value(x).softmax(self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    """log(softmax(x)) along `dim`, computed as x - logsumexp(x)."""

    def forward(self, x: Any) -> Value:
        return _value(x).log_softmax(self.dim)


class BinaryStep(Module):
    """1 where x >= 0 else 0. Its gradient is 0 everywhere, so layers below it cannot learn by gradient descent."""

    def forward(self, x: Any) -> Value:
        return _value(x).binary_step()


class Identity(Module):
    """x unchanged: the course's "linear" activation (regression outputs). Arguments are ignored, as in PyTorch."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Value:
        return _value(x)


class GELU(Module):
    """x * Phi(x) with Phi the normal CDF (exact, via erf); approximate="tanh" uses PyTorch's tanh formula."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}")
        self.approximate = approximate

    def forward(self, x: Any) -> Value:
        x = _value(x)
        if self.approximate == "tanh":
            return 0.5 * x * (1 + (math.sqrt(2 / math.pi) * (x + 0.044715 * x * x * x)).tanh())
        return 0.5 * x * (1 + _ops.erf(x * (1 / math.sqrt(2))))

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class ELU(_Inplace):
    """x for x > 0 else alpha * (e**x - 1); smooth below 0 and never overflows (gradient alpha at x == 0). (`inplace` is accepted, and changes nothing.)"""

    def __init__(self, alpha: float = 1.0, inplace: bool = False) -> None:
        super().__init__(inplace)
        self.alpha = float(alpha)

    def forward(self, x: Any) -> Value:
        x = _value(x)
        pos = x.data > 0
        neg = where(pos, 0.0, x)  # e**x only where x <= 0, so large x cannot overflow
        return where(pos, x, (neg.exp() - 1) * self.alpha)

    def extra_repr(self) -> str:
        return self._with_inplace(f"alpha={self.alpha}")


class Softplus(Module):
    """log(1 + e**(beta x)) / beta, a smooth ReLU; linear where beta * x > threshold (as PyTorch)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        if beta <= 0:
            raise ValueError(f"Softplus: beta must be positive, got {beta}")
        self.beta, self.threshold = float(beta), float(threshold)

    def forward(self, x: Any) -> Value:
        x = _value(x)
        soft = _ops.softplus(x * self.beta) if self.beta == 1.0 else _ops.softplus(x * self.beta) * (1 / self.beta)
        big = x.data * self.beta > self.threshold
        return where(big, x, soft) if big.any() else soft

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


ACTIVATIONS: dict[str, type[Module]] = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "softmax": Softmax,
    "log_softmax": LogSoftmax,
    "binary_step": BinaryStep,
    "linear": Identity,
    "identity": Identity,
    "gelu": GELU,
    "elu": ELU,
    "softplus": Softplus,
}
"""Activation names accepted by `activation=` (the course's names; "linear" is Identity)."""


def get_activation(activation: str | Module | None) -> Module:
    """An activation module from a name ("relu", "linear", ...), a module (returned as is) or None (Identity)."""
    if activation is None:
        return Identity()
    if isinstance(activation, Module):
        return activation
    if isinstance(activation, type) and issubclass(activation, Module):
        return activation()
    if isinstance(activation, str):
        key = activation.lower().replace("-", "_")
        if key in ACTIVATIONS:
            return ACTIVATIONS[key]()
        raise ValueError(f"unknown activation {activation!r}; known: {', '.join(ACTIVATIONS)}")
    raise TypeError(f"activation must be a name, a Module or None, got {type(activation).__name__}: {activation!r}")


def _name(act: Module) -> str:
    """The course's name of an activation module (for reprs and default initialisation)."""
    for k, cls in ACTIVATIONS.items():
        if type(act) is cls:
            return k
    return type(act).__name__

