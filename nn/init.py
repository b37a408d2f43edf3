"""Weight initialisers (PyTorch's names, filling a Value or array in place) and the seedable generator.

Every random choice in `nn` (initial weights, shuffling, dropout) draws from a numpy Generator:
the one passed as `rng=` (a Generator or an int seed), else the package-wide generator that
`nn.manual_seed(seed)` resets. So `nn.manual_seed(0)` before building a model makes a run repeat.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from autograd import Value

__all__ = [
    "manual_seed", "get_rng", "calculate_gain", "uniform_", "normal_", "constant_", "zeros_", "ones_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
]  # fmt: skip

_rng = np.random.default_rng()


def manual_seed(seed: int) -> np.random.Generator:
    """Reset the package-wide generator to `seed`, so weights, shuffles and dropout repeat; returns it."""
    global _rng
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"manual_seed needs a non-negative int, got {seed!r}")
    _rng = np.random.default_rng(int(seed))
    return _rng


def get_rng(rng: np.random.Generator | int | None = None) -> np.random.Generator:
    """`rng` itself if a Generator, a new one seeded with it if an int, else the package-wide generator."""
    if rng is None:
        return _rng
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    raise TypeError(f"rng must be a numpy Generator, a non-negative int seed or None, got {rng!r}")


def _array(x: Any, fname: str) -> np.ndarray:
    """The writable ndarray behind a Value or an ndarray."""
    a = x.data if isinstance(x, Value) else x
    if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
        raise TypeError(f"{fname} fills a float Value or ndarray in place, got {type(x).__name__}")
    return a


def _fans(shape: tuple[int, ...], fname: str) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel); a 1-D weight (a neuron's) has fan_out 1."""
    if len(shape) == 0:
        raise ValueError(f"{fname}: fan in and fan out are undefined for a 0-d weight")
    if 0 in shape:
        raise ValueError(f"{fname}: a weight of shape {tuple(shape)} has no elements, so its fan in/out is 0")
    if len(shape) == 1:
        return shape[0], 1
    receptive = int(np.prod(shape[2:])) if len(shape) > 2 else 1
    return shape[1] * receptive, shape[0] * receptive


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    """PyTorch's recommended gain: 1 for linear/sigmoid/conv, 5/3 tanh, sqrt(2) relu, sqrt(2/(1+slope**2))
    leaky_relu (param: the slope, 0.01 by default), 3/4 selu."""
    if not isinstance(nonlinearity, str):
        raise TypeError(f"calculate_gain: nonlinearity must be a name such as 'relu', got {type(nonlinearity).__name__}: {nonlinearity!r}")
    n = nonlinearity.lower()
    if n in _GAIN_ONE:
        return 1.0
    if n == "tanh":
        return 5.0 / 3
    if n == "relu":
        return math.sqrt(2.0)
    if n == "leaky_relu":
        if param is None:
            slope = 0.01
        elif isinstance(param, (int, float, np.integer, np.floating)) and not isinstance(param, (bool, np.bool_)):
            slope = float(param)
        else:
            raise ValueError(f"calculate_gain: leaky_relu's param (the negative slope) must be a number, got {param!r}"[:200])
        return math.sqrt(2.0 / (1 + slope**2))
    if n == "selu":
        return 3.0 / 4
    raise ValueError(f"calculate_gain: unknown nonlinearity {nonlinearity!r}; known: {', '.join(_GAIN_ONE)}, tanh, relu, leaky_relu, selu")


_GAIN_ONE = ("linear", "identity", "sigmoid", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "conv_transpose3d")


def _finite(v: Any, what: str, fname: str) -> float:
    """A distribution parameter as a finite float (numpy raises OverflowError or draws nan otherwise)."""
    if isinstance(v, Value):
        v = v.data
    try:
        f = float(v)
    except (TypeError, ValueError):
        raise TypeError(f"{fname}: {what} must be a number, got {type(v).__name__}: {v!r}"[:200]) from None
    if not math.isfinite(f):
        raise ValueError(f"{fname}: {what} must be finite, got {f}")
    return f


def uniform_(x: Any, a: float = 0.0, b: float = 1.0, rng: Any = None) -> Any:
    """Fill x with U(a, b) draws, in place; returns x."""
    arr = _array(x, "uniform_")
    a, b = _finite(a, "a", "uniform_"), _finite(b, "b", "uniform_")
    arr[...] = get_rng(rng).uniform(a, b, arr.shape)
    return x


def normal_(x: Any, mean: float = 0.0, std: float = 1.0, rng: Any = None) -> Any:
    """Fill x with N(mean, std**2) draws, in place; returns x."""
    arr = _array(x, "normal_")
    mean, std = _finite(mean, "mean", "normal_"), _finite(std, "std", "normal_")
    if std < 0:
        raise ValueError(f"normal_: std must be non-negative, got {std}")
    arr[...] = get_rng(rng).normal(mean, std, arr.shape)
    return x


def constant_(x: Any, val: float) -> Any:
    """Fill x with `val`, in place; returns x."""
    _array(x, "constant_")[...] = val
    return x


def zeros_(x: Any) -> Any:
    """Fill x with 0, in place; returns x."""
    return constant_(x, 0.0)


def ones_(x: Any) -> Any:
    """Fill x with 1, in place; returns x."""
    return constant_(x, 1.0)


def xavier_uniform_(x: Any, gain: float = 1.0, rng: Any = None) -> Any:
    """Glorot: U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)); keeps variance through sigmoid/tanh layers."""
    fan_in, fan_out = _fans(_array(x, "xavier_uniform_").shape, "xavier_uniform_")
    a = math.sqrt(3.0) * (gain * math.sqrt(2.0 / (fan_in + fan_out)))  # (PyTorch's expression, so the bound is the same to the bit)
    return uniform_(x, -a, a, rng)


def xavier_normal_(x: Any, gain: float = 1.0, rng: Any = None) -> Any:
    """Glorot: N(0, std**2) with std = gain * sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _fans(_array(x, "xavier_normal_").shape, "xavier_normal_")
    return normal_(x, 0.0, gain * math.sqrt(2.0 / (fan_in + fan_out)), rng)


def _kaiming_std(x: Any, a: float, mode: str, nonlinearity: str, fname: str) -> float:
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"{fname}: mode must be 'fan_in' or 'fan_out', got {mode!r}")
    fan_in, fan_out = _fans(_array(x, fname).shape, fname)
    fan = fan_in if mode == "fan_in" else fan_out
    return calculate_gain(nonlinearity, a) / math.sqrt(fan)


def kaiming_uniform_(x: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng: Any = None) -> Any:
    """He: U(-b, b) with b = gain * sqrt(3 / fan); keeps variance through ReLU layers (PyTorch's defaults)."""
    bound = math.sqrt(3.0) * _kaiming_std(x, a, mode, nonlinearity, "kaiming_uniform_")
    return uniform_(x, -bound, bound, rng)


def kaiming_normal_(x: Any, a: float = 0.0, mode: str = "fan_in", nonlinearity: str = "leaky_relu", rng: Any = None) -> Any:
    """He: N(0, std**2) with std = gain / sqrt(fan)."""
    return normal_(x, 0.0, _kaiming_std(x, a, mode, nonlinearity, "kaiming_normal_"), rng)
