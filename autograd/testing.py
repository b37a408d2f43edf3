"""Hypothesis strategies for testing code built on `autograd` (needs hypothesis; `import autograd` does not).

    from hypothesis import given
    from autograd import gradcheck, testing

    @given(testing.arrays(testing.shapes(), avoid=(0.0,)))
    def test_my_relu_layer(x):
        assert gradcheck(lambda v: (v.relu() * 3).sum(), x)

Every strategy draws float64 values on a coarse grid inside a bounded domain, so gradient checks
with finite differences (step 1e-6) never straddle a kink (`avoid`) or a tie (`distinct_arrays`,
`tie_free_pair`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["shapes", "broadcastable_shapes", "arrays", "distinct_arrays", "tie_free_pair", "GRID"]

GRID = 1 / 64
"""Values are multiples of GRID (exact in binary), so no two drawn values are closer than GRID unless equal."""


def shapes(min_dims: int = 0, max_dims: int = 3, min_side: int = 1, max_side: int = 4) -> st.SearchStrategy[tuple[int, ...]]:
    """Array shapes, 0-d (a scalar) included by default."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side, max_side=max_side)


def broadcastable_shapes(
    num_shapes: int = 2, min_dims: int = 0, max_dims: int = 3, max_side: int = 4
) -> st.SearchStrategy[tuple[tuple[int, ...], ...]]:
    """`num_shapes` shapes that numpy broadcasts together (size-1 and missing axes included)."""
    return hnp.mutually_broadcastable_shapes(num_shapes=num_shapes, min_dims=min_dims, max_dims=max_dims, max_side=max_side).map(
        lambda bs: bs.input_shapes
    )


def _grid_values(lo: float, hi: float, avoid: Sequence[float], margin: float) -> st.SearchStrategy[float]:
    ks = st.integers(int(np.ceil(lo / GRID)), int(np.floor(hi / GRID)))
    return ks.map(lambda k: k * GRID).filter(lambda v: all(abs(v - a) >= margin for a in avoid))


def arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]],
    lo: float = -3.0,
    hi: float = 3.0,
    avoid: Sequence[float] = (),
    margin: float = 0.1,
    dtype: Any = np.float64,
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of `shape` with values in [lo, hi], each at least `margin` from every point in `avoid`.

    Use `avoid=(0.0,)` for relu, abs and leaky_relu, `avoid=(lo_bound, hi_bound)` for clip, and a
    positive `lo` for log, sqrt or a fractional power.
    """
    return hnp.arrays(dtype, shape, elements=_grid_values(lo, hi, avoid, margin))


def distinct_arrays(
    shape: tuple[int, ...] | st.SearchStrategy[tuple[int, ...]], lo: float = -3.0, hi: float = 3.0, gap: float = 0.0625
) -> st.SearchStrategy[np.ndarray]:
    """Arrays whose elements are pairwise at least `gap` apart: no ties for max/min (needs size <= (hi-lo)/gap)."""
    ks = st.integers(int(np.ceil(lo / gap)), int(np.floor(hi / gap)))
    return hnp.arrays(np.int64, shape, elements=ks, unique=True).map(lambda a: a.astype(np.float64) * gap)


def tie_free_pair(
    shapes: tuple[tuple[int, ...], tuple[int, ...]], lo: float = -3.0, hi: float = 3.0, gap: float = 0.0625
) -> st.SearchStrategy[tuple[np.ndarray, np.ndarray]]:
    """Two arrays (of broadcastable `shapes`) that differ by at least `gap` everywhere: no ties for maximum/minimum.

    The first holds even multiples of `gap`, the second odd ones.
    """
    ks = st.integers(int(np.ceil(lo / (2 * gap))), int(np.floor(hi / (2 * gap))) - 1)
    a = hnp.arrays(np.int64, shapes[0], elements=ks).map(lambda k: k * (2 * gap))
    b = hnp.arrays(np.int64, shapes[1], elements=ks).map(lambda k: k * (2 * gap) + gap)
    return st.tuples(a, b)
