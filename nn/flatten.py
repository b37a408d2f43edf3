"""Flatten: a run of axes made one, as PyTorch's `nn.Flatten` (the bridge from feature maps to `Linear`)."""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Value

from .activations import _value
from .module import Module

__all__ = ["Flatten"]


class Flatten(Module):
    """Axes start_dim..end_dim (inclusive, negative counts from the end) merged into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        for what, v in (("start_dim", start_dim), ("end_dim", end_dim)):
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise TypeError(f"Flatten: {what} must be an int, got {v!r}")
        self.start_dim, self.end_dim = int(start_dim), int(end_dim)

    def forward(self, x: Any) -> Value:
        x = _value(x)
        shape = x.shape
        n = max(len(shape), 1)  # a 0-d input counts as 1-D, as in PyTorch
        for what, v in (("start_dim", self.start_dim), ("end_dim", self.end_dim)):
            if not -n <= v < n:
                raise IndexError(f"{self!r}: {what}={v} is out of range for an input of shape {shape} (expected in [{-n}, {n - 1}])")
        start, end = self.start_dim % n, self.end_dim % n
        if start > end:
            raise ValueError(f"{self!r}: start_dim ({self.start_dim}) comes after end_dim ({self.end_dim}) for an input of shape {shape}")
        if not shape:
            return x.reshape(1)
        new = shape[:start] + (int(np.prod(shape[start : end + 1])),) + shape[end + 1 :]
        return x if new == shape else x.reshape(new)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
