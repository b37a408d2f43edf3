"""Embedding (PyTorch's name): a table of learned vectors looked up by integer index, and F.embedding.

The lookup is one op, `EmbeddingLookup` (rows of the table gathered by `np.take`); its gradient is
`EmbeddingScatter`, the rows of g summed into a zero table: repeated indices add up, the
padding_idx row gets nothing. The two ops are each other's adjoints, so second derivatives work.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from autograd import Op, Value, apply

from . import init
from .activations import _value
from .checks import is_int, positive_int
from .module import Module, Parameter

__all__ = ["Embedding", "embedding"]


def _run(op: Op, x: Any) -> Any:
    """op on an array directly, or through the graph on a Value (rules run on both)."""
    return apply(op, x) if isinstance(x, Value) else op.forward(x)


def _row_sums(idx: np.ndarray, g: np.ndarray, rows: int) -> np.ndarray:
    """sums[r] = the sum of g[i] over every i with idx[i] == r, for idx (n,) and g (n, d): shape (rows, d).

    One bincount over the flattened (row, column) positions; when the batch touches few of many rows,
    over its distinct rows only, then placed in the table. (np.add.at on rows measured 5 to 10x slower.)
    """
    n, d = g.shape
    cols = np.arange(d)
    if rows <= 4 * n:  # most rows hit: count straight into the table
        return np.bincount((idx[:, None] * d + cols).ravel(), weights=g.ravel(), minlength=rows * d).reshape(rows, d)
    hit, where = np.unique(idx, return_inverse=True)
    sums = np.bincount((where.reshape(-1)[:, None] * d + cols).ravel(), weights=g.ravel(), minlength=hit.size * d)
    out = np.zeros((rows, d))
    out[hit] = sums.reshape(hit.size, d)
    return out


class EmbeddingLookup(Op):
    """weight[idx]: rows of the (rows, dim) table, shape idx.shape + (dim,); gradient EmbeddingScatter."""

    __slots__ = ("idx", "padding_idx", "masked")
    name = "embedding"

    def __init__(self, idx: np.ndarray, padding_idx: int | None, masked: bool = False):
        # masked: rows looked up at padding_idx come out 0 (the adjoint of the scatter, which gives that row nothing)
        self.idx, self.padding_idx, self.masked = idx, padding_idx, masked

    def params(self) -> dict[str, Any]:
        return {} if self.padding_idx is None else {"padding_idx": self.padding_idx}

    def forward(self, w: np.ndarray) -> np.ndarray:
        out = np.take(w, self.idx, axis=0)
        if self.masked and self.padding_idx is not None:
            out[self.idx == self.padding_idx] = 0
        return out

    def vjp0(self, g: Any, out: Any, w: Any) -> Any:
        return _run(EmbeddingScatter(self.idx, self.padding_idx, np.shape(w.data if isinstance(w, Value) else w)[0]), g)


class EmbeddingScatter(Op):
    """A (rows, dim) table of zeros with each g[i] added to row idx[i] (repeats add up; padding_idx's row
    stays 0): the gradient of EmbeddingLookup. Its own gradient is the lookup with padding rows 0."""

    __slots__ = ("idx", "padding_idx", "rows")
    name = "embedding_scatter"

    def __init__(self, idx: np.ndarray, padding_idx: int | None, rows: int):
        self.idx, self.padding_idx, self.rows = idx, padding_idx, rows

    def params(self) -> dict[str, Any]:
        return {"rows": self.rows}

    def forward(self, g: np.ndarray) -> np.ndarray:
        d = g.shape[-1]
        out = _row_sums(self.idx.reshape(-1), g.reshape(-1, d), self.rows)
        if self.padding_idx is not None:
            out[self.padding_idx] = 0
        return out.astype(np.result_type(g.dtype, np.float32), copy=False)

    def vjp0(self, g: Any, out: Any, x: Any) -> Any:
        return _run(EmbeddingLookup(self.idx, self.padding_idx, masked=True), g)


def _indices(input: Any, rows: int, fname: str) -> np.ndarray:
    """input as an integer index array, every index in [0, rows), or a clear error."""
    if isinstance(input, Value):  # a Value holds floats: accepted when every one is a whole number
        data = input.data
        if not (np.isfinite(data).all() and (data == np.round(data)).all()):
            raise TypeError(f"{fname}: indices must be integers, got a Value holding non-integer values")
        idx = data.astype(np.int64)
    else:
        idx = np.asarray(input)
        if isinstance(input, (list, tuple)) and idx.size == 0:
            idx = idx.astype(np.int64)
        if idx.dtype.kind not in "iu":
            hint = " (convert with .astype(int))" if idx.dtype.kind == "f" else ""
            raise TypeError(f"{fname}: indices must be an integer array, got dtype {idx.dtype}{hint}")
    if idx.size:
        lo, hi = idx.min(), idx.max()
        if lo < 0 or hi >= rows:
            bad = int(lo) if lo < 0 else int(hi)
            at = tuple(int(i) for i in np.argwhere(idx == bad)[0])
            raise IndexError(
                f"{fname}: index {bad} at position {at} is out of range for a table of {rows} rows (indices must be in [0, {rows - 1}])"
            )
    return idx


def _padding(padding_idx: Any, rows: int, who: str) -> int | None:
    """padding_idx as a row number in [0, rows) (negative counts from the end, as in PyTorch), or None."""
    if padding_idx is None:
        return None
    if not is_int(padding_idx) or not -rows <= padding_idx < rows:
        raise ValueError(f"{who}: padding_idx must be an int in [-{rows}, {rows - 1}] (within num_embeddings), got {padding_idx!r}")
    return int(padding_idx) % rows


def embedding(input: Any, weight: Any, padding_idx: int | None = None) -> Value:
    """weight[input]: the rows of a (num_embeddings, embedding_dim) table at integer indices of any shape,
    as PyTorch's `F.embedding`; shape input.shape + (embedding_dim,). In the gradient, repeated indices
    add up and the padding_idx row gets nothing."""
    w = _value(weight)
    if w.ndim != 2:
        raise ValueError(f"embedding: weight must be a 2-D table (num_embeddings, embedding_dim), got shape {w.shape}")
    return _lookup(input, w, _padding(padding_idx, w.shape[0], "embedding"), "embedding")


def _lookup(input: Any, w: Value, pad: int | None, who: str) -> Value:
    return apply(EmbeddingLookup(_indices(input, w.shape[0], who), pad), w)


class Embedding(Module):
    """A lookup table of num_embeddings vectors of embedding_dim numbers, as PyTorch's `nn.Embedding`:
    `Embedding(27, 10)(idx)` has shape idx.shape + (10,).

    The weight starts N(0, 1) (from `rng`, else nn's generator: `nn.manual_seed` repeats it), with the
    padding_idx row 0; that row gets no gradient, so it stays 0 in training.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, *, rng: Any = None) -> None:
        super().__init__()
        self.num_embeddings = positive_int(num_embeddings, "num_embeddings", "Embedding")
        self.embedding_dim = positive_int(embedding_dim, "embedding_dim", "Embedding")
        self.padding_idx = _padding(padding_idx, self.num_embeddings, "Embedding")
        self.weight = Parameter(np.zeros((self.num_embeddings, self.embedding_dim)))
        self.reset_parameters(rng=rng)

    def reset_parameters(self, rng: Any = None) -> None:
        """Weight N(0, 1), the padding_idx row 0."""
        init.normal_(self.weight, rng=rng)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0.0

    @classmethod
    def from_pretrained(cls, embeddings: Any, freeze: bool = True, padding_idx: int | None = None) -> Embedding:
        """An Embedding holding a copy of a (num_embeddings, embedding_dim) table; freeze=True: not trained."""
        table = np.array(embeddings.data if isinstance(embeddings, Value) else embeddings, dtype=None)
        if table.ndim != 2 or table.dtype.kind not in "iuf":
            raise ValueError(
                f"Embedding.from_pretrained: embeddings must be a 2-D numeric table, got shape {table.shape} dtype {table.dtype}"
            )
        m = cls(table.shape[0], table.shape[1], padding_idx, rng=0)
        m.weight.data = table
        m.weight.requires_grad = not freeze
        return m

    def forward(self, input: Any) -> Value:
        w = self.weight
        if w.shape != (self.num_embeddings, self.embedding_dim):  # (a table replaced by hand)
            raise ValueError(f"{self!r}: weight has shape {w.shape}, expected {(self.num_embeddings, self.embedding_dim)}")
        return _lookup(input, w, self.padding_idx, repr(self))

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}" + ("" if self.padding_idx is None else f", padding_idx={self.padding_idx}")
