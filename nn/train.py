"""The training helper `fit` (the explicit loop, with a progress bar and a history), `evaluate` and `accuracy`."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

from autograd import Value, no_grad

from .data import DataLoader, _arrays
from .module import Module
from .optim import LRScheduler, Optimizer

__all__ = ["fit", "evaluate", "accuracy"]


def accuracy(output: Any, target: Any, threshold: float = 0.5) -> float:
    """The fraction of correct predictions.

    - one output per sample (output of shape (n,) or (n, 1), 0/1 targets): (output >= threshold) vs
      target; the default 0.5 suits probabilities, use threshold=0 for logits;
    - `target` of shape `output.shape[:-1]` (class labels): argmax of output along the last axis vs target;
    - `target` one-hot (same shape as output): argmax vs argmax.
    """
    o = np.asarray(output.data if isinstance(output, Value) else output)
    t = np.asarray(target.data if isinstance(target, Value) else target)
    binary = o.ndim == 0 or o.shape[-1] == 1 or t.shape == o.shape == (o.size,)
    if binary and (t.shape == o.shape or (o.ndim == t.ndim + 1 and o.shape[:-1] == t.shape)):
        hits = (o.reshape(t.shape) >= threshold) == (t > 0.5)
    elif t.shape == o.shape[:-1]:
        hits = o.argmax(axis=-1) == t
    elif t.shape == o.shape:
        hits = o.argmax(axis=-1) == t.argmax(axis=-1)
    else:
        raise ValueError(
            f"accuracy: output of shape {o.shape} and target of shape {t.shape} do not match: "
            f"expected labels of shape {o.shape[:-1]}, or targets of shape {o.shape}"
        )
    if hits.size == 0:
        raise ValueError("accuracy of an empty batch")
    return float(hits.mean())


def _auto_metric(out: np.ndarray, y: np.ndarray) -> bool:
    """Accuracy is reported automatically when the output has a class axis matching the targets."""
    return bool(out.ndim >= 1 and out.shape[-1] >= 2) and bool(
        (y.shape == out.shape[:-1] and y.dtype.kind in "iub") or (y.shape == out.shape and np.isin(y, (0, 1)).all())
    )


def _metric_fn(metric: Any) -> Callable[[np.ndarray, np.ndarray], float] | None:
    if metric in (None, "auto"):
        return None
    if metric == "accuracy":
        return accuracy
    if callable(metric):
        return metric
    raise ValueError(f"metric must be 'auto', 'accuracy', None or a function (output, target) -> float, got {metric!r}")


def _scalar_loss(loss: Any, who: str) -> Value:
    if not isinstance(loss, Value) or loss.size != 1:
        shape = loss.shape if isinstance(loss, Value) else type(loss).__name__
        raise ValueError(f"{who}: loss_fn(output, target) must return a Value with one element, got {shape}; use reduction='mean'")
    return loss


def evaluate(model: Module, loss_fn: Callable[..., Value], X: Any, y: Any, batch_size: int = 256, metric: Any = "auto") -> dict[str, float]:
    """{'loss': ..., 'accuracy': ...} of `model` on (X, y) in eval mode and without recording a graph."""
    Xa, ya = _arrays(X, y, "evaluate")
    if ya is None or len(Xa) == 0:
        raise ValueError(f"evaluate needs X and y with at least one sample, got X of shape {Xa.shape} and y {'None' if ya is None else ya.shape}")
    modes = [(m, m.training) for m in model.modules()]  # each sub-module's own mode, to put back
    model.eval()
    total, outs = 0.0, []
    try:
        with no_grad():
            for xb, yb in DataLoader(Xa, ya, batch_size=batch_size):
                out = model(xb)
                total += float(_scalar_loss(loss_fn(out, yb), "evaluate").item()) * len(xb)
                outs.append(np.asarray(out.data))
    finally:
        for m, was_training in modes:
            object.__setattr__(m, "training", was_training)
    out_all = np.concatenate(outs)
    res = {"loss": total / len(Xa)}
    fn = _metric_fn(metric)
    if fn is None and metric == "auto" and _auto_metric(out_all, ya):
        fn = accuracy
    if fn is not None:
        res["accuracy" if fn is accuracy else getattr(fn, "__name__", "metric")] = float(fn(out_all, ya))
    return res


def fit(
    model: Module,
    loss_fn: Callable[..., Value],
    optimizer: Optimizer,
    X: Any,
    y: Any,
    epochs: int = 1,
    batch_size: int = 32,
    validation_data: tuple[Any, Any] | None = None,
    *,
    shuffle: bool = True,
    drop_last: bool = False,
    metric: Any = "auto",
    scheduler: LRScheduler | None = None,
    verbose: bool = True,
    rng: Any = None,
) -> dict[str, list[float]]:
    """Train `model` by mini-batch gradient descent and return the per-epoch history.

    Each batch runs the explicit loop: out = model(xb); loss = loss_fn(out, yb);
    optimizer.zero_grad(); loss.backward(); optimizer.step(). `scheduler.step()` runs after each
    epoch. A tqdm bar shows the running loss and accuracy (`verbose=False` silences it).

    The history has 'loss' (mean over the epoch's samples), 'accuracy' (when the output has a
    class axis and y holds class labels or one-hot rows, or with metric='accuracy' or a function
    `metric(output, target) -> float`, reported under its name), 'val_loss'/'val_accuracy' with
    `validation_data=(X_val, y_val)`, 'lr' and 'time' (seconds per epoch).
    """
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit: optimizer must be an nn.optim Optimizer, got {type(optimizer).__name__}")
    if y is None:
        raise ValueError("fit needs y (the targets, one per row of X)")
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, rng=rng)
    if len(loader) == 0:
        raise ValueError(f"fit: no batch to train on ({len(loader.X)} samples, batch_size={batch_size}, drop_last={drop_last})")
    fn = _metric_fn(metric)
    mname = None if fn is None else ("accuracy" if fn is accuracy else getattr(fn, "__name__", "metric"))
    history: dict[str, list[float]] = {"loss": []}
    bar = _progress(epochs * len(loader), verbose)
    post: dict[str, str] = {}
    model.train()
    try:
        for epoch in range(epochs):
            t0 = time.perf_counter()
            seen, total_loss, total_metric = 0, 0.0, 0.0
            if bar is not None:
                bar.set_description(f"epoch {epoch + 1}/{epochs}")
            for xb, yb in loader:
                out = model(xb)
                loss = _scalar_loss(loss_fn(out, yb), "fit")
                optimizer.zero_grad()
                loss.backward(retain_grads=False)
                optimizer.step()
                n = len(xb)
                seen += n
                total_loss += loss.item() * n
                if fn is None and mname is None and metric == "auto" and _auto_metric(np.asarray(out.data), yb):
                    fn, mname = accuracy, "accuracy"
                if fn is not None:
                    total_metric += fn(np.asarray(out.data), yb) * n
                if bar is not None:
                    post["loss"] = f"{total_loss / seen:.4f}"
                    if mname:
                        post[mname[:3] if mname == "accuracy" else mname] = f"{total_metric / seen:.3f}"
                    bar.set_postfix(post, refresh=False)
                    bar.update(1)
            history["loss"].append(total_loss / seen)
            if mname:
                history.setdefault(mname, []).append(total_metric / seen)
            history.setdefault("lr", []).append(optimizer.lr)
            if validation_data is not None:
                res = evaluate(model, loss_fn, validation_data[0], validation_data[1], metric=fn if fn is not None else metric)
                for k, v in res.items():
                    history.setdefault(f"val_{k}", []).append(v)
                if bar is not None:
                    post.update({f"val_{k[:3] if k == 'accuracy' else k}": f"{v:.3f}" for k, v in res.items()})
                    bar.set_postfix(post, refresh=True)
            if scheduler is not None:
                scheduler.step()
            history.setdefault("time", []).append(time.perf_counter() - t0)
            if bar is None and verbose:
                print(f"epoch {epoch + 1}/{epochs}: " + ", ".join(f"{k} {v[-1]:.4g}" for k, v in history.items() if k not in ("lr", "time")))
    finally:
        if bar is not None:
            bar.close()
    return history


def _progress(total: int, verbose: bool) -> Any:
    """A tqdm bar, or None when silenced or when tqdm is not installed (then one line per epoch is printed)."""
    if not verbose:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="batch", leave=True, dynamic_ncols=True)
