"""Batching: DataLoader (shuffle with a seed, batch size, drop_last) and train_test_split."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from autograd import Value

from . import init

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
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: batch_size must be a positive int, got {batch_size!r}")
        self.batch_size, self.shuffle, self.drop_last = int(batch_size), bool(shuffle), bool(drop_last)
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
    """(X_train, X_test, y_train, y_test), scikit-learn's order; `test_size` a fraction in (0, 1) or a count.

    `stratify=True` keeps each class's share the same in both parts (y must be class labels).
    """
    Xa, ya = _arrays(X, y, "train_test_split")
    if ya is None:
        raise ValueError("train_test_split needs y (targets, one per row of X)")
    n = len(Xa)
    if isinstance(test_size, float) and 0 < test_size < 1:
        n_test = int(math.ceil(test_size * n))
    elif isinstance(test_size, (int, np.integer)) and not isinstance(test_size, bool) and 0 < test_size < n:
        n_test = int(test_size)
    else:
        raise ValueError(f"train_test_split: test_size must be a fraction in (0, 1) or a count in [1, {n - 1}], got {test_size!r}")
    gen = init.get_rng(rng)
    if stratify:
        test_idx = []
        for c in np.unique(ya):
            members = np.flatnonzero(ya == c)
            members = gen.permutation(members) if shuffle else members
            test_idx.append(members[: int(round(len(members) * n_test / n))])
        test = np.sort(np.concatenate(test_idx))
        train = np.setdiff1d(np.arange(n), test)
        if shuffle:
            test, train = gen.permutation(test), gen.permutation(train)
    else:
        order = gen.permutation(n) if shuffle else np.arange(n)
        test, train = order[:n_test], order[n_test:]
    return Xa[train], Xa[test], ya[train], ya[test]
