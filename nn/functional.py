"""nn.functional: PyTorch's functional API with its names and signatures (`import nn.functional as F`).

Layers, activations and losses as plain functions of Values (or arrays): `F.relu(x)`,
`F.softmax(x, dim=1)`, `F.cross_entropy(logits, labels)`, `F.conv2d(x, w, b, padding=1)`,
`F.batch_norm(x, rm, rv, training=True)`, `F.embedding(idx, table)`, `F.pad(x, (1, 1))`. The
layers of `nn` call these. `inplace=True` is accepted, as the modules accept it, and computes
out of place: a Value is never changed in place, so use the result (`x = F.relu(x, inplace=True)`,
as PyTorch code writes it).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

import autograd.numpy as anp
from autograd import Value

from . import losses as _losses
from .activations import ELU, GELU, Softplus, _value
from .conv import conv1d, conv2d
from .embedding import embedding
from .layers import Dropout
from .layers import linear as _linear
from .norm import batch_norm, layer_norm
from .pooling import avg_pool2d, max_pool2d

__all__ = [
    "linear", "conv1d", "conv2d", "max_pool2d", "avg_pool2d", "batch_norm", "layer_norm", "embedding", "dropout", "pad",
    "relu", "leaky_relu", "gelu", "elu", "sigmoid", "tanh", "softplus", "softmax", "log_softmax",
    "cross_entropy", "nll_loss", "mse_loss", "binary_cross_entropy", "binary_cross_entropy_with_logits", "one_hot",
]  # fmt: skip


def linear(input: Any, weight: Any, bias: Any = None) -> Value:
    """input @ weight.T + bias: input (..., in), weight (out, in), bias (out,) or None (one fused product)."""
    return _linear(input, weight, bias)


def _real(x: Any, what: str, fname: str) -> float:
    """A real-number argument as a float, or a TypeError naming it."""
    if isinstance(x, bool) or not isinstance(x, (int, float, np.integer, np.floating)):
        raise TypeError(f"{fname}: {what} must be a real number, got {type(x).__name__}: {x!r}"[:200])
    return float(x)


def _no_inplace(inplace: Any, fname: str) -> None:
    """`inplace` must be a bool; True computes out of place, as the modules do (the result is what counts)."""
    if not isinstance(inplace, (bool, np.bool_)):
        raise TypeError(f"{fname}: inplace must be True or False, got {type(inplace).__name__}: {inplace!r}"[:200])


# ---- activations ------------------------------------------------------------------------------


def relu(input: Any, inplace: bool = False) -> Value:
    """max(input, 0); gradient 0 at 0."""
    _no_inplace(inplace, "relu")
    return _value(input).relu()


def leaky_relu(input: Any, negative_slope: float = 0.01, inplace: bool = False) -> Value:
    """input where input > 0, else negative_slope * input."""
    _no_inplace(inplace, "leaky_relu")
    return _value(input).leaky_relu(negative_slope)


_GELUS = {"none": GELU(), "tanh": GELU("tanh")}


def gelu(input: Any, approximate: str = "none") -> Value:
    """input * Phi(input), Phi the normal CDF (exact, via erf); approximate='tanh' uses PyTorch's tanh formula."""
    act = _GELUS.get(approximate) if isinstance(approximate, str) else None
    return (act or GELU(approximate)).forward(input)  # (GELU names a wrong `approximate`)


def elu(input: Any, alpha: float = 1.0, inplace: bool = False) -> Value:
    """input where input > 0, else alpha * (exp(input) - 1)."""
    _no_inplace(inplace, "elu")
    return ELU(_real(alpha, "alpha", "elu")).forward(input)


def sigmoid(input: Any) -> Value:
    """1 / (1 + exp(-input)), stable for any input."""
    return _value(input).sigmoid()


def tanh(input: Any) -> Value:
    """tanh(input)."""
    return _value(input).tanh()


def softplus(input: Any, beta: float = 1.0, threshold: float = 20.0) -> Value:
    """log(1 + exp(beta * input)) / beta; input itself where beta * input > threshold."""
    return Softplus(_real(beta, "beta", "softplus"), _real(threshold, "threshold", "softplus")).forward(input)


def _softmax_dim(dim: int | None, ndim: int, fname: str) -> int:
    """dim, or PyTorch's deprecated implicit choice (0 for 0-, 1- and 3-d input, else 1) with its warning."""
    if dim is not None:
        return dim
    warnings.warn(
        f"Implicit dimension choice for {fname} has been deprecated. Change the call to include dim=X as an argument.", stacklevel=3
    )
    return 0 if ndim in (0, 1, 3) else 1


def _no_dtype(dtype: Any, fname: str) -> None:
    if dtype is not None:
        raise TypeError(f"{fname}: dtype= is not supported; give the input in the dtype wanted")


def softmax(input: Any, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Value:
    """exp(input) / sum(exp(input)) along dim (the max subtracted first, so nothing overflows)."""
    _no_dtype(dtype, "softmax")
    x = _value(input)
    return x.softmax(_softmax_dim(dim, x.ndim, "softmax"))


def log_softmax(input: Any, dim: int | None = None, _stacklevel: int = 3, dtype: Any = None) -> Value:
    """input - logsumexp(input) along dim, computed stably."""
    _no_dtype(dtype, "log_softmax")
    x = _value(input)
    return x.log_softmax(_softmax_dim(dim, x.ndim, "log_softmax"))


# ---- dropout and padding ----------------------------------------------------------------------


def dropout(input: Any, p: float = 0.5, training: bool = True, inplace: bool = False) -> Value:
    """In training, each element zeroed with probability p and the rest scaled by 1/(1-p); else input unchanged."""
    _no_inplace(inplace, "dropout")
    layer = Dropout(_real(p, "p", "dropout"))
    layer.training = bool(training)
    return layer.forward(input)


def pad(input: Any, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Value:
    """input padded with `value` (0 by default), as PyTorch's `F.pad`: `pad` gives (before, after) counts
    for the last dimension first, then the one before it, ...; a negative count crops. Only mode='constant'."""
    x = _value(input)
    if mode != "constant":
        raise NotImplementedError(f"pad: mode {mode!r} is not supported; only 'constant'")
    try:
        counts = [int(n) for n in pad]
        if any(int(n) != n or isinstance(n, bool) for n in pad):
            raise TypeError
    except (TypeError, ValueError):
        raise TypeError(f"pad: pad must be a sequence of ints, got {pad!r}") from None
    if len(counts) % 2 or len(counts) // 2 > x.ndim:
        raise ValueError(f"pad: pad must hold an even number of ints, at most 2 per dimension of the input ({x.ndim}), got {tuple(counts)}")
    widths = [(0, 0)] * x.ndim  # numpy's pad_width
    crop = [slice(None)] * x.ndim
    for i in range(len(counts) // 2):
        d = x.ndim - 1 - i
        before, after, n = counts[2 * i], counts[2 * i + 1], x.shape[d]
        if n + before + after < 0:
            raise ValueError(f"pad: dimension {d} of size {n}, padded by {before} and {after}, would have a negative size")
        crop[d] = slice(max(-before, 0), n - max(-after, 0))
        widths[d] = (max(before, 0), max(after, 0))
    if any(n < 0 for n in counts):
        x = x[tuple(crop)]
    if any(n > 0 for n in counts):
        x = anp.pad(x, widths, constant_values=0.0 if value is None else float(value))
    return x


# ---- losses -----------------------------------------------------------------------------------


def _reduction(size_average: Any, reduce: Any, reduction: str, fname: str) -> str:
    """reduction, or the one PyTorch's deprecated size_average/reduce arguments stand for (with its warning)."""
    if size_average is None and reduce is None:
        _losses._check_reduction(reduction, fname)
        return reduction
    r = "none" if reduce is False else ("sum" if size_average is False else "mean")
    warnings.warn(f"{fname}: size_average and reduce args will be deprecated, please use reduction='{r}' instead.", stacklevel=3)
    return r


def _reduce(loss: Value, reduction: str, weights_sum: Any = None) -> Value:
    if reduction == "none":
        return loss
    if reduction == "sum":
        return loss.sum()
    return loss.mean() if weights_sum is None else loss.sum() / weights_sum


def mse_loss(input: Any, target: Any, size_average: Any = None, reduce: Any = None, reduction: str = "mean", weight: Any = None) -> Value:
    """(input - target)**2, averaged (or summed, or elementwise); with `weight` (input's shape) each term is
    weighted and the mean is sum(weight * err) / sum(weight), as in PyTorch. Shapes must be equal."""
    reduction = _reduction(size_average, reduce, reduction, "mse_loss")
    if weight is None:
        return _losses.mse_loss(input, target, reduction)
    err = _losses.mse_loss(input, target, "none")
    w = _same_shape_weight(weight, err, "mse_loss")
    return _reduce(err * w, reduction, (w.sum() if isinstance(w, Value) else float(w.sum())) if reduction == "mean" else None)


def _weight_array(weight: Any, loss: Value) -> Any:
    """A Value as it is; anything else as an array of the loss's dtype (so float32 stays float32)."""
    return weight if isinstance(weight, Value) else np.asarray(weight).astype(loss.dtype)


def _same_shape_weight(weight: Any, loss: Value, fname: str) -> Any:
    w = _weight_array(weight, loss)
    if w.shape != loss.shape:
        raise ValueError(f"{fname}: weight has shape {w.shape}, the input has shape {loss.shape}; they must be the same")
    return w


def _elementwise_weight(weight: Any, loss: Value, fname: str) -> Any:
    """A weight that broadcasts to the loss's shape (PyTorch's rescaling weight of the binary losses)."""
    w = _weight_array(weight, loss)
    try:
        if np.broadcast_shapes(w.shape, loss.shape) != loss.shape:
            raise ValueError
    except ValueError:
        raise ValueError(f"{fname}: weight of shape {w.shape} does not broadcast to the input's shape {loss.shape}") from None
    return w


def binary_cross_entropy(
    input: Any, target: Any, weight: Any = None, size_average: Any = None, reduce: Any = None, reduction: str = "mean"
) -> Value:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1] (each log clamped at -100), each term
    times `weight` (broadcast) if given."""
    reduction = _reduction(size_average, reduce, reduction, "binary_cross_entropy")
    if weight is None:
        return _losses.binary_cross_entropy(input, target, reduction)
    loss = _losses.binary_cross_entropy(input, target, "none")
    return _reduce(loss * _elementwise_weight(weight, loss, "binary_cross_entropy"), reduction)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    reduce: Any = None,
    reduction: str = "mean",
    pos_weight: Any = None,
) -> Value:
    """binary_cross_entropy(sigmoid(input), target) computed stably from raw scores; pos_weight scales the
    positive terms, weight (broadcast) each term."""
    fname = "binary_cross_entropy_with_logits"
    reduction = _reduction(size_average, reduce, reduction, fname)
    if weight is None:
        return _losses.binary_cross_entropy_with_logits(input, target, reduction, pos_weight)
    loss = _losses.binary_cross_entropy_with_logits(input, target, "none", pos_weight)
    return _reduce(loss * _elementwise_weight(weight, loss, fname), reduction)


def _class_last(x: Value, fname: str) -> Value:
    """Scores with the class axis (PyTorch's dimension 1, or 0 for one sample) moved to the end."""
    if x.ndim == 0:
        raise ValueError(f"{fname}: input must have a class dimension, shape (C,), (N, C) or (N, C, d1, ...), got a scalar")
    if x.ndim <= 2:
        return x
    return x.transpose((0,) + tuple(range(2, x.ndim)) + (1,))


def _class_weight(weight: Any, c: int, dtype: Any, fname: str) -> np.ndarray | None:
    """The per-class weight as an array of the scores' dtype (so float32 stays float32)."""
    if weight is None:
        return None
    w = np.asarray(weight.data if isinstance(weight, Value) else weight)
    if w.shape != (c,) or w.dtype.kind not in "biuf":
        raise ValueError(f"{fname}: weight must have one entry per class, shape ({c},), got shape {w.shape}")
    return w.astype(dtype)


def _targets(target: Any, shape: tuple[int, ...], c: int, ignore_index: int, fname: str) -> tuple[np.ndarray, np.ndarray]:
    """(class indices with the ignored entries set to 0, mask of the entries that count), checked."""
    y = np.asarray(target.data if isinstance(target, Value) else target)
    if y.dtype.kind not in "iu":
        raise TypeError(f"{fname}: class-index targets must be integers, got dtype {y.dtype}")
    if y.shape != shape:
        raise ValueError(
            f"{fname}: for scores of shape (N, C, d1, ...) = {shape[:1] + (c,) + shape[1:]}, targets must have shape {shape}, got {y.shape}"
        )
    keep = y != ignore_index
    return _losses._labels(np.where(keep, y, 0), c, fname), keep


def nll_loss(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
) -> Value:
    """-input[target] for log-probabilities input (N, C, ...) and class indices target (N, ...), times the class
    weight; entries equal to ignore_index count for nothing. The mean divides by the summed weights of the
    counted entries, as in PyTorch."""
    fname = "nll_loss"
    reduction = _reduction(size_average, reduce, reduction, fname)
    logp = _class_last(_value(input), fname)
    c = logp.shape[-1]
    y, keep = _targets(target, logp.shape[:-1], c, ignore_index, fname)
    return _nll(logp, y, keep, _class_weight(weight, c, logp.dtype, fname), reduction)


def _nll(logp: Value, y: np.ndarray, keep: np.ndarray, w: np.ndarray | None, reduction: str) -> Value:
    per = (w[y] if w is not None else np.ones(y.shape, dtype=logp.dtype)) * keep  # each entry's weight (0 if ignored)
    pick = (y[..., None] == np.arange(logp.shape[-1])) * per[..., None]  # that weight at the target class, 0 elsewhere
    loss = -(logp * pick).sum(axis=-1)
    return _reduce(loss, reduction, float(per.sum()) if reduction == "mean" else None)


def cross_entropy(
    input: Any,
    target: Any,
    weight: Any = None,
    size_average: Any = None,
    ignore_index: int = -100,
    reduce: Any = None,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
) -> Value:
    """Softmax cross-entropy of raw scores input (C,), (N, C) or (N, C, d1, ...) (classes in dimension 1, as in
    PyTorch) against class indices (N, d1, ...) or class probabilities (input's shape). `weight` (C,) weighs
    the classes, entries equal to ignore_index count for nothing, label_smoothing mixes the target with the
    uniform distribution. With none of them it is one fused node (`nn.cross_entropy`)."""
    fname = "cross_entropy"
    reduction = _reduction(size_average, reduce, reduction, fname)
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{fname}: label_smoothing must be in [0, 1], got {label_smoothing!r}")
    x = _value(input)
    z = _class_last(x, fname)
    c = z.shape[-1]
    w = _class_weight(weight, c, z.dtype, fname)
    t = target.data if isinstance(target, Value) else np.asarray(target)
    if t.dtype.kind == "f" or (isinstance(target, Value) and t.shape == x.shape):  # class probabilities
        if t.shape != x.shape:
            raise ValueError(f"{fname}: probability targets must have the input's shape {x.shape}, got {t.shape}")
        probs: Any = target if isinstance(target, Value) else t.astype(z.dtype)
        if x.ndim > 2:
            probs = probs.transpose((0,) + tuple(range(2, x.ndim)) + (1,))
        if label_smoothing:
            probs = probs * (1 - label_smoothing) + label_smoothing / c
        if w is None and not label_smoothing:
            return _losses.cross_entropy(z, probs, reduction)
        return _reduce(-(z.log_softmax(axis=-1) * (probs * w if w is not None else probs)).sum(axis=-1), reduction)
    y, keep = _targets(t, z.shape[:-1], c, ignore_index, fname)
    if w is None and not label_smoothing and keep.all():
        return _losses.cross_entropy(z, y, reduction)  # the fused node
    logp = z.log_softmax(axis=-1)
    nll = _nll(logp, y, keep, w, reduction)
    if not label_smoothing:
        return nll
    # PyTorch's smoothing term: -(sum over classes of the (weighted) log-probabilities), 0 where ignored
    smooth = -((logp * w) if w is not None else logp).sum(axis=-1) * keep
    if reduction == "mean":
        smooth = smooth.sum() / float(w[y][keep].sum() if w is not None else keep.sum())
    elif reduction == "sum":
        smooth = smooth.sum()
    return nll * (1 - label_smoothing) + smooth * (label_smoothing / c)


def one_hot(tensor: Any, num_classes: int = -1) -> np.ndarray:
    """Integer class labels (any shape) as int64 rows with a 1 at each label, shape tensor.shape + (num_classes,),
    as PyTorch's `F.one_hot`; num_classes=-1 means the largest label + 1. (nn.one_hot gives float64 rows.)"""
    y = np.asarray(tensor.data if isinstance(tensor, Value) else tensor)
    if y.dtype.kind not in "iu":
        raise TypeError(f"one_hot: labels must be integers, got dtype {y.dtype}")
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or (num_classes < 1 and num_classes != -1):
        raise ValueError(f"one_hot: num_classes must be a positive int or -1 (the largest label + 1), got {num_classes!r}")
    if num_classes == -1:
        if not y.size:
            raise ValueError("one_hot: cannot infer the number of classes from empty labels; give num_classes")
        num_classes = int(y.max()) + 1
    y = _losses._labels(y, int(num_classes), "one_hot")
    return (y[..., None] == np.arange(num_classes)).astype(np.int64)
