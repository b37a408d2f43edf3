"""All test data: shapes, broadcast-compatible shapes, float64 arrays in each op's safe domain.

Builds on the public strategies of `autograd.testing` (values on a 1/64 grid, kinks and ties
avoided) and adds what only the tests need: axes, indices, matmul and concatenate shapes.
Each strategy here draws `(arrays, params)`: the op's array inputs and its keyword parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd.testing import GRID, arrays, broadcastable_shapes, distinct_arrays, shapes, tie_free_pair

__all__ = [
    "GRID", "arrays", "broadcastable_shapes", "distinct_arrays", "shapes", "tie_free_pair",
    "unary", "away_from_zero", "binary", "axes", "reduction", "distinct_reduction", "matmul_pair", "linear_args", "getitem_args",
    "reshape_args", "transpose_args", "concat_args", "stack_args", "where_args", "clip_args",
    "softmax_args", "cross_entropy_args", "leaky_relu_args", "tie_free_binary", "norm_args", "embedding_args",
]  # fmt: skip

Drawn = tuple[tuple[np.ndarray, ...], dict[str, Any]]


def unary(lo: float = -3.0, hi: float = 3.0, avoid: tuple[float, ...] = (), shape: Any = None) -> st.SearchStrategy[Drawn]:
    """One array (0-d to 3-d unless `shape` is given) with values in [lo, hi] away from `avoid`."""
    return arrays(shapes() if shape is None else shape, lo, hi, avoid).map(lambda a: ((a,), {}))


def away_from_zero(lo: float = 0.5, hi: float = 3.0) -> st.SearchStrategy[Drawn]:
    """One array with magnitudes in [lo, hi] and both signs: for x**-k, whose higher derivatives near
    0 are so large that finite differences lose every digit of the other elements."""
    return unary(lo, hi).map(lambda d: ((d[0][0] * np.where(np.arange(d[0][0].size).reshape(d[0][0].shape) % 2, -1.0, 1.0),), {}))


@st.composite
def binary(draw: Any, lo0: float = -3.0, hi0: float = 3.0, lo1: float = -3.0, hi1: float = 3.0, avoid1: tuple[float, ...] = ()) -> Drawn:
    """Two arrays of mutually broadcastable shapes (0-d, missing and size-1 axes included)."""
    s0, s1 = draw(broadcastable_shapes(2))
    return (draw(arrays(s0, lo0, hi0)), draw(arrays(s1, lo1, hi1, avoid1))), {}


@st.composite
def tie_free_binary(draw: Any) -> Drawn:
    """Two broadcastable arrays that never tie (for maximum/minimum)."""
    return draw(tie_free_pair(draw(broadcastable_shapes(2)))), {}


def axes(ndim: int) -> st.SearchStrategy[Any]:
    """None, an int (negative too) or a tuple of distinct axes, valid for `ndim`."""
    options: list[st.SearchStrategy[Any]] = [st.none(), hnp.valid_tuple_axes(ndim)]
    if ndim:
        options.append(st.integers(-ndim, ndim - 1))
    return st.one_of(options)


@st.composite
def reduction(draw: Any, lo: float = -3.0, hi: float = 3.0) -> Drawn:
    """An array with an `axis` and `keepdims` for sum/mean."""
    a = draw(arrays(shapes(), lo, hi))
    return (a,), {"axis": draw(axes(a.ndim)), "keepdims": draw(st.booleans())}


@st.composite
def distinct_reduction(draw: Any) -> Drawn:
    """An array without ties (for max/min), with an `axis` and `keepdims`."""
    a = draw(distinct_arrays(shapes()))
    return (a,), {"axis": draw(axes(a.ndim)), "keepdims": draw(st.booleans())}


_MATMUL_SIGNATURES = {
    "1d@1d": "(n),(n)->()",
    "2d@1d": "(m,n),(n)->(m)",
    "1d@2d": "(n),(n,p)->(p)",
    "2d@2d": "(m,n),(n,p)->(m,p)",
}


@st.composite
def matmul_pair(draw: Any, kind: str) -> Drawn:
    """Operands for `@`: one of the four 1-D/2-D cases, or 'batched' (N-D with broadcast batch dimensions, 1-D sides too)."""
    if kind == "batched":
        bs = draw(hnp.mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", min_dims=1, max_dims=3, max_side=3))
    else:
        bs = draw(hnp.mutually_broadcastable_shapes(signature=_MATMUL_SIGNATURES[kind], max_dims=0, max_side=4))
    s0, s1 = bs.input_shapes
    return (draw(arrays(s0)), draw(arrays(s1))), {}


@st.composite
def linear_args(draw: Any) -> Drawn:
    """Operands of x @ wᵀ (+ b), as nn.linear takes them: x (n,), (batch, n) or (.., batch, n), w (m, n), b (m,)."""
    n, m = draw(st.integers(1, 4)), draw(st.integers(1, 4))
    lead = draw(st.lists(st.integers(1, 3), max_size=2).map(tuple))
    return (draw(arrays(lead + (n,))), draw(arrays((m, n))), draw(arrays((m,)))), {}


@st.composite
def getitem_args(draw: Any, kind: str) -> Drawn:
    """An array and an index of `kind`: 'basic' (ints, slices, None, Ellipsis), 'int_array' (repeats likely),
    'mixed' (an integer array among slices and ints), 'mask'."""
    if kind == "basic":
        a = draw(arrays(shapes(max_dims=3)))
        index = draw(hnp.basic_indices(a.shape, allow_newaxis=True, allow_ellipsis=True))
    elif kind == "int_array":
        a = draw(arrays(shapes(min_dims=1, max_dims=3)))
        index = draw(hnp.integer_array_indices(a.shape, result_shape=hnp.array_shapes(min_dims=1, max_dims=2, max_side=5)))
        if draw(st.booleans()):
            index = index[0]  # one index array (no tuple): picks along axis 0, negatives included
    elif kind == "mixed":  # basic indices around an integer array: x[:, [2, 0, 2]], x[1, ..., [0, 0]]
        a = draw(arrays(shapes(min_dims=2, max_dims=3)))
        ax = draw(st.integers(0, a.ndim - 1))
        picks = draw(hnp.arrays(np.int64, draw(st.integers(1, 4)), elements=st.integers(-a.shape[ax], a.shape[ax] - 1)))
        rest = [draw(st.sampled_from([slice(None), slice(None, None, -1), 0, -1])) for _ in range(a.ndim)]
        index = tuple(picks if i == ax else r for i, r in enumerate(rest))
        if ax == a.ndim - 1 and draw(st.booleans()):
            index = (Ellipsis, picks)
    else:  # a boolean mask over the leading axes
        a = draw(arrays(shapes(min_dims=1, max_dims=3)))
        k = draw(st.integers(1, a.ndim))
        index = draw(hnp.arrays(np.bool_, a.shape[:k]))
    return (a,), {"index": index}


@st.composite
def reshape_args(draw: Any) -> Drawn:
    """An array and a new shape with the same size (-1 sometimes)."""
    a = draw(arrays(shapes()))
    n = a.size
    divisors = [d for d in range(1, n + 1) if n % d == 0]
    d = draw(st.sampled_from(divisors))
    options = [(n,), (-1,), (d, n // d), (n // d, -1), (1, n, 1), (), (d, 1, n // d)]
    options = [s for s in options if s != () or n == 1]
    return (a,), {"shape": draw(st.sampled_from(options))}


@st.composite
def transpose_args(draw: Any) -> Drawn:
    """An array and a permutation of its axes (or None: all reversed)."""
    a = draw(arrays(shapes()))
    perm = draw(st.none() | st.permutations(range(a.ndim)).map(tuple))
    return (a,), {"axes": perm}


@st.composite
def concat_args(draw: Any) -> Drawn:
    """1 to 3 arrays that agree except along `axis`."""
    base = list(draw(shapes(min_dims=1)))
    axis = draw(st.integers(-len(base), len(base) - 1))
    n = draw(st.integers(1, 3))
    xs = []
    for _ in range(n):
        s = list(base)
        s[axis] = draw(st.integers(1, 3))
        xs.append(draw(arrays(tuple(s))))
    return tuple(xs), {"axis": axis}


@st.composite
def stack_args(draw: Any) -> Drawn:
    """1 to 3 arrays of one shape (0-d too) and a new axis position."""
    shape = draw(shapes(max_dims=2))
    n = draw(st.integers(1, 3))
    axis = draw(st.integers(-(len(shape) + 1), len(shape)))
    return tuple(draw(arrays(shape)) for _ in range(n)), {"axis": axis}


@st.composite
def where_args(draw: Any) -> Drawn:
    """Two arrays and a boolean condition, all three mutually broadcastable."""
    sc, s0, s1 = draw(broadcastable_shapes(3))
    return (draw(arrays(s0)), draw(arrays(s1))), {"cond": draw(hnp.arrays(np.bool_, sc))}


@st.composite
def clip_args(draw: Any) -> Drawn:
    """An array with values away from the bounds lo and hi (either may be None)."""
    lo, hi = sorted(draw(st.lists(st.integers(-8, 8).map(lambda k: k / 4), min_size=2, max_size=2, unique=True)))
    lo, hi = draw(st.sampled_from([(lo, hi), (lo, None), (None, hi)]))
    a = draw(arrays(shapes(), avoid=tuple(b for b in (lo, hi) if b is not None)))
    return (a,), {"lo": lo, "hi": hi}


@st.composite
def softmax_args(draw: Any) -> Drawn:
    """An array of at least one dimension and an axis for softmax/log_softmax."""
    a = draw(arrays(shapes(min_dims=1), -5.0, 5.0))
    return (a,), {"axis": draw(st.integers(-a.ndim, a.ndim - 1))}


@st.composite
def cross_entropy_args(draw: Any) -> Drawn:
    """Logits (classes on the last axis), integer labels of the other axes' shape, and a reduction."""
    a = draw(arrays(shapes(min_dims=1), -5.0, 5.0))
    labels = draw(hnp.arrays(np.int64, a.shape[:-1], elements=st.integers(0, a.shape[-1] - 1)))
    return (a,), {"labels": labels, "reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


# ---- normalisation and embedding (nn/norm.py, nn/embedding.py) -----------------------------------------


@st.composite
def norm_args(draw: Any, kind: str) -> Drawn:
    """(x, weight, bias) and keyword arguments for F.batch_norm (kind 'batch': x (N, C, ...), training or
    not) or F.layer_norm (kind 'layer': normalized_shape, the trailing 1 or 2 dimensions of x). The
    values of x are pairwise distinct, so no normalised group has a variance near 0."""
    eps = draw(st.sampled_from([1e-5, 1e-2]))
    if kind == "batch":
        c = draw(st.integers(1, 3))
        shape = (draw(st.integers(2, 3)), c, *draw(shapes(0, 2, max_side=3)))
        pshape: tuple[int, ...] = (c,)
        kw: dict[str, Any] = {"training": draw(st.booleans()), "eps": eps}
    else:
        pshape = draw(shapes(1, 2, max_side=3).filter(lambda s: int(np.prod(s)) >= 2))
        shape = (*draw(shapes(0, 2, max_side=3)), *pshape)
        kw = {"normalized_shape": pshape, "eps": eps}
    x = draw(distinct_arrays(shape, -3.0, 3.0, gap=1 / 32))
    return (x, draw(arrays(pshape, 0.5, 2.0)), draw(arrays(pshape))), kw


@st.composite
def embedding_args(draw: Any) -> Drawn:
    """A (rows, dim) table, integer indices of 0 to 2 dimensions (repeats likely) and a padding_idx or None."""
    rows, dim = draw(st.integers(1, 6)), draw(st.integers(1, 4))
    idx = draw(hnp.arrays(np.int64, shapes(0, 2, min_side=0, max_side=5), elements=st.integers(0, rows - 1)))
    pad = draw(st.one_of(st.none(), st.integers(-rows, rows - 1)))
    return (draw(arrays((rows, dim))),), {"indices": idx, "padding_idx": pad}


@st.composite
def bce_args(draw: Any) -> Drawn:
    """Probabilities inside (0, 1), away from the clamp, targets in [0, 1] of the same shape, and a reduction."""
    shape = draw(shapes())
    p, t = draw(arrays(shape, 0.05, 0.95)), draw(arrays(shape, 0.0, 1.0))
    return (p, t), {"reduction": draw(st.sampled_from(["mean", "sum", "none"]))}


@st.composite
def leaky_relu_args(draw: Any) -> Drawn:
    """An array away from 0 and a negative slope."""
    a = draw(arrays(shapes(), avoid=(0.0,)))
    return (a,), {"negative_slope": draw(st.sampled_from([0.01, 0.2, 0.5]))}


# ---- convolution and pooling (nn/conv.py, nn/pooling.py) ----------------------------------------------


@st.composite
def conv_args(draw: Any, d: int = 2, max_side: int = 5, bias: bool | None = None) -> Drawn:
    """(x, w, b or None) and the keyword arguments of conv1d/conv2d: stride, padding (ints, tuples,
    'valid', 'same'), dilation, groups; x batched (N = 1, 2) or unbatched, every window inside the
    padded input."""
    groups = draw(st.sampled_from([1, 1, 2]))
    c, o = groups * draw(st.integers(1, 2)), groups * draw(st.integers(1, 2))
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(d))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(d))
    stride = tuple(draw(st.integers(1, 2)) for _ in range(d))
    choices: list[Any] = ["valid", tuple(draw(st.integers(0, 2)) for _ in range(d)), draw(st.integers(0, 1))]
    if all(s == 1 for s in stride):
        choices.append("same")
    padding = draw(st.sampled_from(choices))
    span = [t * (k - 1) + 1 for k, t in zip(kernel, dilation)]
    pad = [0] * d if padding in ("valid", "same") else list(padding) if isinstance(padding, tuple) else [padding] * d
    side = [draw(st.integers(max(1, w - 2 * p), max(max_side, w - 2 * p))) for w, p in zip(span, pad)]
    batch = draw(st.sampled_from([(), (1,), (2,)]))
    x = draw(arrays((*batch, c, *side)))
    w = draw(arrays((o, c // groups, *kernel)))
    with_bias = draw(st.booleans()) if bias is None else bias
    b = draw(arrays((o,))) if with_bias else None
    return (x, w, b), {"stride": stride if draw(st.booleans()) else stride[0] if len(set(stride)) == 1 else stride,
                       "padding": padding, "dilation": dilation, "groups": groups}  # fmt: skip


@st.composite
def pool_args(draw: Any, kind: str, max_side: int = 6) -> Drawn:
    """An input (N, C, H, W) or (C, H, W) and the keyword arguments of max_pool2d (kind 'max': values
    without ties, dilation, return_indices off) or avg_pool2d (kind 'avg': count_include_pad,
    divisor_override): kernel_size, stride (None = kernel_size), padding (at most half the kernel),
    ceil_mode."""
    kernel = tuple(draw(st.integers(1, 3)) for _ in range(2))
    dilation = tuple(draw(st.integers(1, 2)) for _ in range(2)) if kind == "max" else (1, 1)
    padding = tuple(draw(st.integers(0, k // 2)) for k in kernel)
    # a dilated window can fall wholly in the padding (its maximum -inf, as in PyTorch): not for finite differences
    dilation = tuple(t if p == 0 else 1 for t, p in zip(dilation, padding))
    span = [t * (k - 1) + 1 for k, t in zip(kernel, dilation)]
    stride = draw(st.one_of(st.none(), st.tuples(st.integers(1, 3), st.integers(1, 3))))
    side = [draw(st.integers(max(1, w - 2 * p), max(max_side, w - 2 * p))) for w, p in zip(span, padding)]
    shape = (*draw(st.sampled_from([(), (1,), (2,)])), draw(st.integers(1, 2)), *side)
    kw: dict[str, Any] = {"kernel_size": kernel, "stride": stride, "padding": padding, "ceil_mode": draw(st.booleans())}
    if kind == "max":
        kw["dilation"] = dilation
        x = draw(distinct_arrays(shape, -8.0, 8.0))
    else:
        kw["count_include_pad"] = draw(st.booleans())
        kw["divisor_override"] = draw(st.sampled_from([None, None, 3]))
        x = draw(arrays(shape))
    return (x,), kw


__all__ += ["conv_args", "pool_args"]
