"""Batching: DataLoader (shuffle with a seed, batch size, drop_last) and train_test_split."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from autograd import Value

from . import init
from .checks import positive_int

__all__ = ["DataLoader", "train_test_split"]


def _arrays(X: Any, y: Any, who: str) -> tuple[np.ndarray, np.ndarray | None]:
    Xa = np.asarray(X.data if isinstance(X, Value) else X)
    if Xa.ndim == 0:
        raise ValueError(f"{who}: X must have a sample axis first, got a scalar")
    if y is None:
        return Xa, None
    ya = np.asarray(y.data if isinstance(y, Value) else y)
    if ya.ndim == 0 or len(ya) != len(Xa):
        raise ValueError(f"{who}: X has {len(Xa)} samples (shape {Xa.shape}) but y has shape {ya.shape}; they need one row each")
    return Xa, ya


class DataLoader:
    """Iterate over (X_batch, y_batch) pairs of numpy arrays (or X batches alone when y is None).

    Each pass over it (an epoch) draws a new order when `shuffle`, from `rng` (a seed or a
    Generator; default: the generator `nn.manual_seed` sets). `drop_last` skips a final short batch.
    """

    def __init__(self, X: Any, y: Any = None, batch_size: int = 32, shuffle: bool = False, drop_last: bool = False, *, rng: Any = None) -> None:
        self.X, self.y = _arrays(X, y, "DataLoader")
        self.batch_size = positive_int(batch_size, "batch_size", "DataLoader")
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self._rng = None if rng is None else init.get_rng(rng)

    def __len__(self) -> int:
        n = len(self.X)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def __iter__(self) -> Iterator[Any]:
        n = len(self.X)
        order = init.get_rng(self._rng).permutation(n) if self.shuffle else np.arange(n)
        for b in range(len(self)):
            idx = order[b * self.batch_size : (b + 1) * self.batch_size]
            yield self.X[idx] if self.y is None else (self.X[idx], self.y[idx])


def train_test_split(X: Any, y: Any, test_size: float = 0.25, *, shuffle: bool = True, stratify: bool = False, rng: Any = None) -> tuple[np.ndarray, ...]:
    """(X_train, X_test, y_train, y_test), scikit-learn's order and sizes; `test_size` a fraction in (0, 1) or a count.

    The test part has ceil(test_size * n) rows (a fraction) and both parts at least one. Without
    shuffling it is the last rows, as in scikit-learn (on ordered data: train on the past, test on
    the future). `stratify=True` keeps each class's share the same in both parts (y must be class
    labels, each class with at least 2 rows).
    """
    Xa, ya = _arrays(X, y, "train_test_split")
    if ya is None:
        raise ValueError("train_test_split needs y (targets, one per row of X)")
    n = len(Xa)
    if n < 2:
        raise ValueError(f"train_test_split needs at least 2 rows, one for each part, got {n}")
    if isinstance(test_size, float) and 0 < test_size < 1:
        n_test = int(math.ceil(test_size * n))
        if n_test >= n:
            raise ValueError(f"train_test_split: test_size={test_size} of {n} rows leaves no training row; use a smaller fraction")
    elif isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool) and 0 < test_size < n:
        n_test = int(test_size)
    else:
        raise ValueError(f"train_test_split: test_size must be a fraction in (0, 1) or a count in [1, {n - 1}], got {test_size!r}")
    gen = init.get_rng(rng)
    if stratify:
        test = _stratified_test_rows(ya, n_test, shuffle, gen)
        train = np.setdiff1d(np.arange(n), test)
        if shuffle:
            test, train = gen.permutation(test), gen.permutation(train)
    else:
        order = gen.permutation(n) if shuffle else np.arange(n)
        train, test = order[: n - n_test], order[n - n_test :]
    return Xa[train], Xa[test], ya[train], ya[test]


def _stratified_test_rows(y: np.ndarray, n_test: int, shuffle: bool, gen: Any) -> np.ndarray:
    """n_test row indices, each class's count its share of n_test (largest remainders get the rounding)."""
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    if counts.min() < 2:
        raise ValueError(
            f"train_test_split(stratify=True): class {classes[counts.argmin()].item()!r} has only 1 row; each class needs at least 2 "
            "(one for each part). Are y class labels? (floats make every value its own class)"
        )
    n, k = len(y), len(classes)
    if n_test < k or n - n_test < k:
        raise ValueError(f"train_test_split(stratify=True): {n_test} test and {n - n_test} training rows cannot each hold all {k} classes")
    share = counts * n_test / n
    take = np.floor(share).astype(int)
    extra = n_test - int(take.sum())  # rows still to hand out: to the classes whose share lost most to rounding down
    take[np.argsort(-(share - take), kind="stable")[:extra]] += 1  # (ties: the first classes)
    rows = []
    for c in range(k):
        members = np.flatnonzero(inverse == c)
        rows.append(gen.permutation(members)[: take[c]] if shuffle else members[len(members) - take[c] :])
    return np.sort(np.concatenate(rows))
