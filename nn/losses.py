"""Loss functions (PyTorch's names): each checks its inputs' shapes and says what it expected."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value, apply
from autograd.ops import BinaryCrossEntropy, SoftmaxCrossEntropy
from autograd.ops import softplus as _softplus

from .activations import _value

_BCE = BinaryCrossEntropy()

_min, _max = np.minimum.reduce, np.maximum.reduce

__all__ = [
    "mse_loss", "sse", "half_sse", "cross_entropy", "binary_cross_entropy",
    "binary_cross_entropy_with_logits", "hinge_loss", "one_hot",
]  # fmt: skip

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str, fname: str) -> None:
    if not isinstance(reduction, str) or reduction not in _REDUCTIONS:
        hint = "" if isinstance(reduction, str) else " (PyTorch's third positional argument is weight; pass weights by keyword: weight=...)"
        raise ValueError(f"{fname}: reduction must be one of {', '.join(map(repr, _REDUCTIONS))}, got {reduction!r}"[:300] + hint)


def _weight(w: Any, shape: tuple[int, ...], dtype: Any, fname: str, what: str = "weight") -> Value:
    """A loss's weights as a Value (a Value is kept, so it can learn; anything else becomes a constant
    in the input's float type) that broadcasts to the input's shape without changing it."""
    v = w if isinstance(w, Value) else _value(np.asarray(w, dtype=dtype))
    try:
        ok = np.broadcast_shapes(v.shape, shape) == shape
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(f"{fname}: {what} of shape {v.shape} does not broadcast to the input's shape {shape}")
    return v


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


def mse_loss(pred: Any, target: Any, reduction: str = "mean", *, weight: Any = None) -> Value:
    """Mean (or sum, or elementwise with "none") of (pred - target)**2; shapes must be equal.
    `weight` (PyTorch's) multiplies each squared error; the mean still divides by the number of elements."""
    p, t = _same_shape(pred, target, "mse_loss")
    d = p - t
    loss = d * d
    if weight is not None:
        loss = loss * _weight(weight, p.shape, p.dtype, "mse_loss")
    return _reduce(loss, reduction, "mse_loss")


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


def one_hot(labels: Any, num_classes: int = -1) -> np.ndarray:
    """Integer class labels (any shape) as float64 rows with a 1 at each label: shape labels.shape + (num_classes,).

    num_classes=-1 (PyTorch's default) means the largest label + 1. The rows are float64, ready as
    targets (PyTorch's `one_hot` gives int64).
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)) or not (num_classes >= 1 or num_classes == -1):
        raise TypeError(f"one_hot: num_classes must be a positive int (or -1: the largest label + 1), got {num_classes!r}")
    if num_classes == -1:
        y = _labels(labels, None, "one_hot")
        if not y.size:
            raise ValueError("one_hot: cannot infer the number of classes from no labels; pass num_classes")
        num_classes = int(_max(y, axis=None)) + 1
    y = _labels(labels, num_classes, "one_hot")
    return (y[..., None] == np.arange(num_classes)).astype(np.float64)


def _labels(labels: Any, num_classes: int | None, fname: str, ignore: int | None = None) -> np.ndarray:
    """labels as an integer array in [0, num_classes) (any size >= 0 when None), or a clear error;
    labels equal to `ignore` may be anything."""
    if isinstance(labels, Value):
        raise TypeError(f"{fname}: class labels must be an integer numpy array or list, got a Value (its data is float)")
    y = np.asarray(labels)
    if y.dtype.kind not in "iu":
        raise TypeError(
            f"{fname}: class labels must have an integer dtype, got {y.dtype}"
            + (" (convert with labels.astype(int), or pass one-hot/probability targets of the logits' shape)" if y.dtype.kind == "f" else "")
        )
    high = np.inf if num_classes is None else num_classes
    if y.size and (_min(y, axis=None) < 0 or _max(y, axis=None) >= high):  # (ufunc reduce: y.min() wraps it in Python)
        bad = (y < 0) | (y >= high)
        if ignore is not None:
            bad &= y != ignore
        if bad.any():
            pos = np.argwhere(bad)[0]
            where = "must be >= 0" if num_classes is None else f"must be in [0, {num_classes - 1}] for {num_classes} classes"
            raise ValueError(f"{fname}: label {int(y[tuple(pos)])} at position {tuple(int(i) for i in pos)} is out of range; labels {where}")
    return y


def cross_entropy(
    logits: Any, target: Any, reduction: str = "mean", *, weight: Any = None, ignore_index: int = -100, label_smoothing: float = 0.0
) -> Value:
    """Softmax cross-entropy from raw scores (class axis last), computed stably with log_softmax.

    `target` is either integer class labels of shape `logits.shape[:-1]` (e.g. (batch,) for
    logits (batch, classes)), or one-hot / probability rows of the logits' shape. The mean is
    over the batch (PyTorch's default). The gradient with respect to the logits is
    (softmax(logits) - one_hot(target)) / batch.

    As PyTorch's: `weight` (one per class) scales each sample's loss by its class's weight (and the
    mean over labels divides by the summed weights); labels equal to `ignore_index` add nothing (nor
    count in the mean); `label_smoothing` = eps mixes the target with the uniform distribution,
    (1 - eps) target + eps / classes. Unlike PyTorch, the class axis is the last one for any rank.
    """
    z = _value(logits)
    shape = z.shape
    if not shape:
        raise ValueError("cross_entropy: logits must have a class axis (shape (classes,) or (batch, classes)), got a scalar")
    _check_reduction(reduction, "cross_entropy")
    eps = _smoothing(label_smoothing)
    if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
        raise TypeError(f"cross_entropy: ignore_index must be an int, got {ignore_index!r}")
    c = shape[-1]
    w = None
    if weight is not None:
        w = weight if isinstance(weight, Value) else _value(np.asarray(weight, dtype=z.dtype))
        if w.shape != (c,):
            raise ValueError(f"cross_entropy: weight must have shape ({c},), one per class, got shape {w.shape}")
    if isinstance(target, Value) and target.shape == shape:
        probs: Any = target  # probability targets that are themselves computed
    else:
        arr = np.asarray(target.data if isinstance(target, Value) else target)
        if arr.shape == shape and arr.dtype.kind in "biuf":
            probs = arr.astype(z.dtype)  # one-hot or probability targets
        elif arr.shape == shape[:-1]:
            return _cross_entropy_labels(z, _labels(target, c, "cross_entropy", ignore=int(ignore_index)), reduction, w, int(ignore_index), eps)
        else:
            raise ValueError(
                f"cross_entropy: logits have shape {shape}, so integer labels must have shape {shape[:-1]} "
                f"(one per sample) or one-hot/probability targets the logits' shape {shape}; got shape {arr.shape}"
            )
    if ignore_index >= 0:
        raise ValueError(f"cross_entropy: ignore_index is not supported for probability targets (as in PyTorch), got {ignore_index}")
    if eps:
        probs = probs * (1 - eps) + eps / c
    logp = z.log_softmax(axis=-1)
    return _reduce(-(logp * probs if w is None else logp * probs * w).sum(axis=-1), reduction, "cross_entropy")


def _smoothing(eps: Any) -> float:
    if isinstance(eps, bool) or not isinstance(eps, (int, float, np.integer, np.floating)) or not 0.0 <= eps <= 1.0:
        raise ValueError(f"cross_entropy: label_smoothing must be in [0, 1], got {eps!r}")
    return float(eps)


def _cross_entropy_labels(z: Value, y: np.ndarray, reduction: str, w: Value | None, ignore_index: int, eps: float) -> Value:
    """Cross-entropy of integer labels: one fused node in the common case, else (weights, ignored labels,
    smoothing) log_softmax and indexing, with PyTorch's normalisation of the mean (by the summed weights)."""
    skip = y == ignore_index
    if w is None and not eps and not skip.any():
        return apply(SoftmaxCrossEntropy(y, reduction), z)  # one node; the gradient without the one-hot product
    if reduction == "mean" and not y.size:
        raise ValueError("cross_entropy: the mean over an empty batch is undefined")
    c = z.shape[-1]
    keep = ~skip
    ys = np.where(keep, y, 0)
    logp = z.log_softmax(axis=-1)
    picked = logp.reshape(-1, c)[np.arange(ys.size), ys.reshape(-1)].reshape(y.shape)  # log p of each label
    wy = keep.astype(z.dtype) if w is None else w[ys] * keep  # each label's weight, 0 where ignored
    nll = -(picked * wy)
    smooth = -(logp if w is None else logp * w).sum(axis=-1) * keep if eps else None
    if reduction != "none":
        total = wy.sum() if reduction == "mean" else 1.0
        nll = nll.sum() / total
        smooth = None if smooth is None else smooth.sum() / total
    return nll if smooth is None else nll * (1 - eps) + smooth * (eps / c)


def binary_cross_entropy(probs: Any, target: Any, reduction: str = "mean", *, weight: Any = None) -> Value:
    """-(t log p + (1 - t) log(1 - p)) for probabilities p in [0, 1], as PyTorch computes it: each log
    clamped at -100, so p of exactly 0 or 1 costs at most 100, and PyTorch's bounded gradient
    (p - t) / max(p (1 - p), 1e-12), so a confidently wrong p still learns. `weight` (PyTorch's)
    multiplies each element's loss and broadcasts to p's shape."""
    p, t = _same_shape(probs, target, "binary_cross_entropy")
    _check_reduction(reduction, "binary_cross_entropy")
    pd = p.data
    if pd.size and not ((pd >= 0) & (pd <= 1)).all():
        nan = np.isnan(pd)
        got = f"{int(nan.sum())} nan value(s)" if nan.any() else f"values from {pd.min():.4g} to {pd.max():.4g}"
        raise ValueError(
            f"binary_cross_entropy: probabilities must be in [0, 1], got {got} "
            "(apply a sigmoid first, or use binary_cross_entropy_with_logits on raw scores)"
        )
    loss = apply(_BCE, p, t)
    if weight is not None:
        loss = loss * _weight(weight, p.shape, p.dtype, "binary_cross_entropy")
    return _reduce(loss, reduction, "binary_cross_entropy")


def binary_cross_entropy_with_logits(
    logits: Any, target: Any, reduction: str = "mean", pos_weight: Any = None, *, weight: Any = None
) -> Value:
    """binary_cross_entropy(sigmoid(z), t), computed stably from raw scores z: (1 - t) z + w softplus(-z).

    `pos_weight` (PyTorch's) scales the loss of positive targets: w = 1 + (pos_weight - 1) t, one
    per class on the last axis (or one number). `weight` (PyTorch's) multiplies each element's loss.
    Both broadcast to z's shape.
    """
    fname = "binary_cross_entropy_with_logits"
    z, t = _same_shape(logits, target, fname)
    _check_reduction(reduction, fname)
    sp = _softplus(-z)
    if pos_weight is not None:
        sp = sp * (1 + (_weight(pos_weight, z.shape, z.dtype, fname, "pos_weight") - 1) * t)
    loss = (1 - t) * z + sp
    if weight is not None:
        loss = loss * _weight(weight, z.shape, z.dtype, fname)
    return _reduce(loss, reduction, fname)


def hinge_loss(scores: Any, target: Any, margin: float = 1.0, reduction: str = "mean") -> Value:
    """max(0, margin - t * score) for targets t in {-1, +1}: micrograd's max-margin loss."""
    s, t = _same_shape(scores, target, "hinge_loss")
    td = t.data
    if td.size and not np.isin(td, (-1.0, 1.0)).all():
        raise ValueError(f"hinge_loss: targets must be -1 or +1, got values {np.unique(td)[:6].tolist()}")
    return _reduce((margin - t * s).relu(), reduction, "hinge_loss")
