"""Layers: the course's Neuron, Layer and MLP, and PyTorch's Linear, Sequential and Dropout.

All of them work on one sample (shape `(in_features,)`) or a batch (shape `(batch, in_features)`,
one sample per row), with one weight matrix per layer underneath, not one Value per weight.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from autograd import Value, apply
from autograd.ops import MATMUL_T

from . import init
from .activations import _name, _value, get_activation
from .checks import positive_int
from .module import Module, Parameter

__all__ = ["Linear", "Neuron", "Layer", "MLP", "Sequential", "Dropout", "linear"]

_HE = {"relu", "leaky_relu", "elu", "gelu"}


def linear(x: Any, weight: Any, bias: Any = None) -> Value:
    """x @ weight.T + bias, as PyTorch's `F.linear`: x (..., in), weight (out, in), bias (out,) or None.

    The product is one node, `@ᵀ`, instead of a transpose and a matmul: less work per step, and
    the weight's gradient comes out in the weight's own layout.
    """
    y = apply(MATMUL_T, x, weight)
    return y if bias is None else y + bias


def _check_width(x: Value, n: int, who: Any) -> None:
    """`who` is the module: its repr (which walks its children) is built only for the error message."""
    shape = x.shape
    if not shape or shape[-1] != n:
        raise ValueError(
            f"{who!r} expects inputs with {n} features in the last dimension (shape ({n},) for one sample, "
            f"(batch, {n}) for a batch), got shape {x.shape}"
        )


def _init_for(weight: Value, act: Module, rng: Any) -> None:
    """He (normal, fan_in) before a ReLU-family activation, Glorot (uniform) before anything else."""
    name = _name(act)
    if name in _HE:
        slope = getattr(act, "negative_slope", 0.0)
        init.kaiming_normal_(weight, a=slope, nonlinearity="leaky_relu" if name == "leaky_relu" else "relu", rng=rng)
    else:
        init.xavier_uniform_(weight, rng=rng)


class Linear(Module):
    """y = x @ weight.T + bias, with weight of shape (out_features, in_features) as in PyTorch.

    Initialised as PyTorch does: weight and bias ~ U(-1/sqrt(in_features), 1/sqrt(in_features)),
    so a PyTorch `state_dict` loads unchanged.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, *, rng: Any = None) -> None:
        super().__init__()
        self.in_features = positive_int(in_features, "in_features", type(self).__name__)
        self.out_features = positive_int(out_features, "out_features", type(self).__name__)
        gen = init.get_rng(rng)
        self.weight = Parameter(np.zeros((self.out_features, self.in_features)))
        # PyTorch's reset_parameters, expression for expression (so the bounds agree to the last bit):
        # kaiming_uniform_ with a = sqrt(5) is U(+-1/sqrt(in_features)), and the bias U(+-1/sqrt(in_features)).
        init.kaiming_uniform_(self.weight, a=math.sqrt(5), rng=gen)
        bound = 1 / math.sqrt(self.in_features)
        self.bias = init.uniform_(Parameter(np.zeros(self.out_features)), -bound, bound, rng=gen) if bias else None

    def forward(self, x: Any) -> Value:
        if type(x) is not Value:
            x = _value(x)
        _check_width(x, self.in_features, self)
        y = apply(MATMUL_T, x, self.weight)
        return y if self.bias is None else y + self.bias

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Neuron(Module):
    """The course's neuron: a = activation(w . x + b), with weight shape (nin,) and a scalar bias.

    One sample (nin,) gives a scalar; a batch (batch, nin) gives shape (batch,). Weights start
    He-initialised before a ReLU-family activation, Glorot otherwise; the bias starts at 0.
    """

    _show_children = False

    def __init__(self, nin: int, activation: str | Module | None = "sigmoid", *, rng: Any = None) -> None:
        super().__init__()
        self.nin = positive_int(nin, "nin", "Neuron")
        self.activation = get_activation(activation)
        self.weight = Parameter(np.zeros(self.nin))
        _init_for(self.weight, self.activation, init.get_rng(rng))
        self.bias = Parameter(np.zeros(()))

    def forward(self, x: Any) -> Value:
        x = _value(x)
        _check_width(x, self.nin, self)
        return self.activation.forward(x @ self.weight + self.bias)  # inline: no scope of its own in graph pictures

    def extra_repr(self) -> str:
        return f"nin={self.nin}, activation={_name(self.activation)!r}"


class Layer(Linear):
    """The course's layer of `nout` neurons: activation(x @ weight.T + bias), weight shape (nout, nin).

    Initialised for its activation: He for ReLU-family, Glorot for sigmoid/tanh/linear; bias 0.
    """

    _show_children = False

    def __init__(self, nin: int, nout: int, activation: str | Module | None = "sigmoid", bias: bool = True, *, rng: Any = None) -> None:
        super().__init__(nin, nout, bias, rng=rng)
        self.activation = get_activation(activation)
        _init_for(self.weight, self.activation, init.get_rng(rng))
        if self.bias is not None:
            init.zeros_(self.bias)

    def forward(self, x: Any) -> Value:
        return self.activation.forward(super().forward(x))  # inline: no scope of its own in graph pictures

    def extra_repr(self) -> str:
        return f"nin={self.in_features}, nout={self.out_features}, activation={_name(self.activation)!r}" + (
            "" if self.bias is not None else ", bias=False"
        )


class MLP(Module):
    """A multi-layer perceptron: Layers of `sizes` neurons, `activation` between them, `output_activation` last.

    `MLP(2, [16, 16, 1])` has two hidden ReLU layers of 16 and a linear output (None = linear,
    right for regression, and for classification when the loss takes logits, as `cross_entropy` does).
    """

    def __init__(
        self,
        nin: int,
        sizes: Sequence[int],
        activation: str | Module | None = "relu",
        output_activation: str | Module | None = None,
        *,
        rng: Any = None,
    ) -> None:
        super().__init__()
        if isinstance(sizes, (int, np.integer)) or not len(sizes):
            raise ValueError(f"MLP: sizes must be a non-empty list of layer widths, e.g. [16, 1], got {sizes!r}")
        gen = init.get_rng(rng)
        dims = [positive_int(nin, "nin", "MLP")] + [positive_int(n, "every size", "MLP") for n in sizes]
        get_activation(activation)  # a misspelt name is an error even when no hidden layer uses it
        acts = [activation] * (len(sizes) - 1) + [output_activation]
        # A module instance given as `activation` is shared by the layers: it has no parameters.
        self.layers = [Layer(dims[i], dims[i + 1], acts[i], rng=gen) for i in range(len(sizes))]

    def forward(self, x: Any) -> Value:
        for layer in self.layers:
            x = layer(x)
        return x


class Sequential(Module):
    """Modules applied in order; indexable (`seq[0]`, `seq[1:]`), parameters named `0.weight`, `1.bias`, ..."""

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential takes Modules, argument {i} is {type(m).__name__}: {m!r}")
        self._items = list(modules)

    def _named_members(self) -> Iterator[tuple[str, Any]]:
        return ((str(i), m) for i, m in enumerate(self._items))

    def append(self, module: Module) -> Sequential:
        """Add a module at the end; returns self."""
        if not isinstance(module, Module):
            raise TypeError(f"Sequential.append takes a Module, got {type(module).__name__}")
        self._items.append(module)
        return self

    def __getitem__(self, i: int | slice) -> Any:
        if isinstance(i, slice):
            return Sequential(*self._items[i])
        try:
            return self._items[i]
        except (IndexError, TypeError):
            raise IndexError(f"Sequential index {i!r} is out of range for {len(self._items)} modules") from None

    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items)

    def forward(self, x: Any) -> Any:
        for m in self._items:
            x = m(x)
        return x


class Dropout(Module):
    """In training, zero each element with probability p and scale the rest by 1/(1-p); identity in eval().

    `inplace` is PyTorch's flag, accepted so PyTorch code runs: the result is always a new Value.
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, *, rng: Any = None) -> None:
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: p must be in [0, 1], got {p}")
        self.p = float(p)
        self.inplace = bool(inplace)
        self._rng = None if rng is None else init.get_rng(rng)  # one generator, so masks differ per call

    def forward(self, x: Any) -> Value:
        x = _value(x)
        if not self.training or self.p == 0.0:
            return x
        if self.p == 1.0:
            return x * 0.0
        keep = init.get_rng(self._rng).random(x.shape) >= self.p
        mask = keep.astype(np.float32 if x.dtype == np.float32 else np.float64)  # float32 stays float32
        return x * (mask * (1.0 / (1.0 - self.p)))

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"
