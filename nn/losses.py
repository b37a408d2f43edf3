"""Loss functions (PyTorch's names): each checks its inputs' shapes and says what it expected."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value
from autograd.engine import apply1 as _apply1
from autograd.engine import apply2 as _apply2
from autograd.ops import BinaryCrossEntropy as _BinaryCrossEntropy
from autograd.ops import SoftmaxCrossEntropy as _SoftmaxCrossEntropy
from autograd.ops import softplus as _softplus

from .activations import _value

_BCE = _BinaryCrossEntropy()

_min, _max = np.minimum.reduce, np.maximum.reduce

__all__ = [
    "mse_loss", "sse", "half_sse", "cross_entropy", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "hinge_loss", "one_hot",
]  # fmt: skip

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, fname: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"{fname}: reduction must be one of {', '.join(map(repr, _REDUCTIONS))}, got {reduction!r}")


def _reduce(loss: Value, reduction: str, fname: str) -> Value:
    _check_reduction(reduction, fname)
    if reduction == "mean":
        return loss.mean()
    return loss.sum() if reduction == "sum" else loss


def _same_shape(pred: Any, target: Any, fname: str) -> tuple[Value, Value]:
    """pred and target as Values of one shape; broadcasting them silently would give a wrong loss."""
    p, t = _value(pred), _value(target)
    if p.shape != t.shape:
        hint = ""
        if p.ndim == t.ndim + 1 and p.shape[-1] == 1 and p.shape[:-1] == t.shape:
            hint = " (reshape the target to (-1, 1), or the prediction to (-1,))"
        elif t.ndim == p.ndim + 1 and t.shape[-1] == 1 and t.shape[:-1] == p.shape:
            hint = " (reshape the prediction to (-1, 1), or the target to (-1,))"
        raise ValueError(f"{fname}: prediction has shape {p.shape} but target has shape {t.shape}; they must be equal{hint}")
    return p, t


def mse_loss(pred: Any, target: Any, reduction: str = "mean") -> Value:
    """Mean (or sum, or elementwise with "none") of (pred - target)**2; shapes must be equal."""
    p, t = _same_shape(pred, target, "mse_loss")
    d = p - t
    return _reduce(d * d, reduction, "mse_loss")


def sse(pred: Any, target: Any) -> Value:
    """The course's cost J = sum((target - pred)**2), the sum of squared errors."""
    p, t = _same_shape(pred, target, "sse")
    d = t - p
    return (d * d).sum()


def half_sse(pred: Any, target: Any) -> Value:
    """The course's error E = 1/2 sum((T - a)**2); the 1/2 cancels the 2 of the derivative: dE/da = a - T."""
    p, t = _same_shape(pred, target, "half_sse")
    d = t - p
    return (d * d).sum() * 0.5


def one_hot(labels: Any, num_classes: int) -> np.ndarray:
    """Integer class labels (any shape) as float64 rows with a 1 at each label: shape labels.shape + (num_classes,)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or num_classes < 1:
        raise TypeError(f"one_hot: num_classes must be a positive int, got {num_classes!r}")
    y = _labels(labels, num_classes, "one_hot")
    return (y[..., None] == np.arange(num_classes)).astype(np.float64)


def _labels(labels: Any, num_classes: int, fname: str) -> np.ndarray:
    """labels as an integer array in [0, num_classes), or a clear error."""
    if isinstance(labels, Value):
        raise TypeError(f"{fname}: class labels must be an integer numpy array or list, got a Value (its data is float)")
    y = np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"{fname}: class labels must have an integer dtype, got {y.dtype}"
            + (" (convert with labels.astype(int), or pass one-hot/probability targets of the logits' shape)" if y.dtype.kind == "f" else "")
        )
    if y.size and (_min(y, axis=None) < 0 or _max(y, axis=None) >= num_classes):  # (ufunc reduce: y.min() wraps it in Python)
        bad = (y < 0) | (y >= num_classes)
        pos = np.argwhere(bad)[0]
        raise ValueError(
            f"{fname}: label {int(y[tuple(pos)])} at position {tuple(int(i) for i in pos)} is out of range; "
            f"labels must be in [0, {num_classes - 1}] for {num_classes} classes"
        )
    return y


def cross_entropy(logits: Any, target: Any, reduction: str = "mean") -> Value:
    """Softmax cross-entropy from raw scores (class axis last), computed stably with log_softmax.

    `target` is either integer class labels of shape `logits.shape[:-1]` (e.g. (batch,) for
    logits (batch, classes)), or one-hot / probability rows of the logits' shape. The mean is
    over the batch (PyTorch's default). The gradient with respect to the logits is
    (softmax(logits) - one_hot(target)) / batch.
    """
    z = _value(logits)
    shape = z.shape
    if not shape:
        raise ValueError("cross_entropy: logits must have a class axis (shape (classes,) or (batch, classes)), got a scalar")
    if isinstance(target, Value) and target.shape == shape:
        weights: Any = target  # probability targets that are themselves computed
    else:
        arr = np.asarray(target.data if isinstance(target, Value) else target)
        if arr.shape == shape and arr.dtype.kind in "biuf":
            weights = arr.astype(z.dtype)  # one-hot or probability targets
        elif arr.shape == shape[:-1]:
            y = _labels(target, shape[-1], "cross_entropy")
            _check_reduction(reduction, "cross_entropy")
            return _apply1(_SoftmaxCrossEntropy(y, reduction), z)  # one node; the gradient without the one-hot product
        else:
            raise ValueError(
                f"cross_entropy: logits have shape {shape}, so integer labels must have shape {shape[:-1]} "
                f"(one per sample) or one-hot/probability targets the logits' shape {shape}; got shape {arr.shape}"
            )
    return _reduce(-(z.log_softmax(axis=-1) * weights).sum(axis=-1), reduction, "cross_entropy")


def binary_cross_entropy(probs: Any, target: Any, reduction: str = "mean") -> Value:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1], as PyTorch computes it: each log
    clamped at -100, so p of exactly 0 or 1 costs at most 100, and PyTorch's bounded gradient
    (p - t) / max(p (1 - p), 1e-12), so a confidently wrong p still learns."""
    p, t = _same_shape(probs, target, "binary_cross_entropy")
    pd = p.data
    if pd.size and not ((pd >= 0) & (pd <= 1)).all():
        nan = np.isnan(pd)
        got = f"{int(nan.sum())} nan value(s)" if nan.any() else f"values from {pd.min():.4g} to {pd.max():.4g}"
        raise ValueError(
            f"binary_cross_entropy: probabilities must be in [0, 1], got {got} "
            "(apply a sigmoid first, or use binary_cross_entropy_with_logits on raw scores)"
        )
    return _reduce(_apply2(_BCE, p, t), reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(logits: Any, target: Any, reduction: str = "mean", pos_weight: Any = None) -> Value:
    """binary_cross_entropy(sigmoid(z), t), computed stably from raw scores z: (1 - t) z + w softplus(-z).

    `pos_weight` (PyTorch's) scales the loss of positive targets: w = 1 + (pos_weight - 1) t.
    """
    z, t = _same_shape(logits, target, "binary_cross_entropy_with_logits")
    sp = _softplus(-z)
    if pos_weight is not None:
        sp = sp * (1 + (np.asarray(pos_weight, dtype=np.float64) - 1) * t)
    return _reduce((1 - t) * z + sp, reduction, "binary_cross_entropy_with_logits")


def hinge_loss(scores: Any, target: Any, margin: float = 1.0, reduction: str = "mean") -> Value:
    """max(0, margin - t * score) for targets t in {-1, +1}: micrograd's max-margin loss."""
    s, t = _same_shape(scores, target, "hinge_loss")
    td = t.data
    if td.size and not np.isin(td, (-1.0, 1.0)).all():
        raise ValueError(f"hinge_loss: targets must be -1 or +1, got values {np.unique(td)[:6].tolist()}")
    return _reduce((margin - t * s).relu(), reduction, "hinge_loss")
