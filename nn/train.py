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
        res[_metric_name(fn)] = float(fn(out_all, ya))
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
    _check_fit_args(epochs, optimizer, y)
    loader = DataLoader(X, y, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last, rng=rng)
    if len(loader) == 0:
        raise ValueError(f"fit: no batch to train on ({len(loader.X)} samples, batch_size={batch_size}, drop_last={drop_last})")
    fn = _metric_fn(metric)
    history: dict[str, list[float]] = {"loss": []}
    progress = _Progress(epochs, len(loader), verbose)
    model.train()
    try:
        for epoch in range(epochs):
            t0 = time.perf_counter()
            progress.start_epoch(epoch)
            loss, score, fn = _train_epoch(model, loss_fn, optimizer, loader, fn, metric == "auto", progress)
            history["loss"].append(loss)
            if fn is not None:
                history.setdefault(_metric_name(fn), []).append(score)
            history.setdefault("lr", []).append(optimizer.lr)
            if validation_data is not None:
                res = evaluate(model, loss_fn, validation_data[0], validation_data[1], metric=fn if fn is not None else metric)
                for k, v in res.items():
                    history.setdefault(f"val_{k}", []).append(v)
                progress.validated(res)
            if scheduler is not None:
                scheduler.step()
            history.setdefault("time", []).append(time.perf_counter() - t0)
            progress.end_epoch(epoch, history)
    finally:
        progress.close()
    return history


def _check_fit_args(epochs: Any, optimizer: Any, y: Any) -> None:
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"fit: epochs must be an int >= 0, got {epochs!r}")
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"fit: optimizer must be an nn.optim Optimizer, got {type(optimizer).__name__}")
    if y is None:
        raise ValueError("fit needs y (the targets, one per row of X)")


def _train_epoch(
    model: Module,
    loss_fn: Callable[..., Value],
    optimizer: Optimizer,
    loader: DataLoader,
    fn: Callable[[np.ndarray, np.ndarray], float] | None,
    auto: bool,
    progress: _Progress,
) -> tuple[float, float, Callable[[np.ndarray, np.ndarray], float] | None]:
    """One pass over the loader, a step per batch: (mean loss, mean metric, the metric function: with
    `auto`, accuracy once a batch's output and targets are class scores and labels)."""
    seen, total_loss, total_metric = 0, 0.0, 0.0
    for xb, yb in loader:
        out = model(xb)
        loss = _scalar_loss(loss_fn(out, yb), "fit")
        optimizer.zero_grad()
        loss.backward(retain_grads=False)
        optimizer.step()
        n = len(xb)
        seen += n
        total_loss += loss.item() * n
        if fn is None and auto and _auto_metric(np.asarray(out.data), yb):
            fn = accuracy
        if fn is not None:
            total_metric += fn(np.asarray(out.data), yb) * n
        progress.batch(total_loss / seen, None if fn is None else _metric_name(fn), total_metric / seen)
    return total_loss / seen, total_metric / seen, fn


def _metric_name(fn: Callable[..., float]) -> str:
    """The history's key for a metric function: 'accuracy', or the function's name."""
    return "accuracy" if fn is accuracy else getattr(fn, "__name__", "metric")


def _short(name: str) -> str:
    """A metric's name as the progress bar shows it."""
    return name[:3] if name == "accuracy" else name


class _Progress:
    """fit's report: a tqdm bar with the running loss and metric; one printed line per epoch when tqdm is
    not installed; nothing with verbose=False."""

    def __init__(self, epochs: int, batches: int, verbose: bool) -> None:
        self.epochs, self.verbose = epochs, verbose
        self.bar = _tqdm_bar(epochs * batches, verbose)
        self.post: dict[str, str] = {}

    def start_epoch(self, epoch: int) -> None:
        if self.bar is not None:
            self.bar.set_description(f"epoch {epoch + 1}/{self.epochs}")

    def batch(self, loss: float, metric: str | None, score: float) -> None:
        if self.bar is not None:
            self.post["loss"] = f"{loss:.4f}"
            if metric:
                self.post[_short(metric)] = f"{score:.3f}"
            self.bar.set_postfix(self.post, refresh=False)
            self.bar.update(1)

    def validated(self, res: dict[str, float]) -> None:
        if self.bar is not None:
            self.post.update({f"val_{_short(k)}": f"{v:.3f}" for k, v in res.items()})
            self.bar.set_postfix(self.post, refresh=True)

    def end_epoch(self, epoch: int, history: dict[str, list[float]]) -> None:
        if self.bar is None and self.verbose:
            print(f"epoch {epoch + 1}/{self.epochs}: " + ", ".join(f"{k} {v[-1]:.4g}" for k, v in history.items() if k not in ("lr", "time")))

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _tqdm_bar(total: int, verbose: bool) -> Any:
    """A tqdm bar, or None when silenced or when tqdm is not installed (then one line per epoch is printed)."""
    if not verbose:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="batch", leave=True, dynamic_ncols=True)
