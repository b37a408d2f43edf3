"""Small real data sets shipped with the package (no download at run time)."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np

__all__ = ["load_digits"]

_HERE = Path(__file__).resolve().parent


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """The UCI optical handwritten digits: X of shape (1797, 64) (8x8 images, pixels 0..16, float64), y of shape (1797,) (int64, 0..9).

    Source: E. Alpaydin and C. Kaynak, UCI Machine Learning Repository, CC BY 4.0 (see
    nn/datasets/README.md). Read with numpy from a gzipped CSV; nothing is unpickled.
    """
    with gzip.open(_HERE / "digits.csv.gz", "rt") as f:
        data = np.loadtxt(f, delimiter=",", dtype=np.float64)
    if data.shape != (1797, 65):
        raise ValueError(f"load_digits: {_HERE / 'digits.csv.gz'} has shape {data.shape}, expected (1797, 65); the file is damaged")
    return data[:, :64].copy(), data[:, 64].astype(np.int64)
