"""All test data: shapes, broadcast-compatible shapes, float64 arrays in each op's safe domain.

Builds on the public strategies of `autograd.testing` (values on a 1/64 grid, kinks and ties
avoided) and adds what only the tests need: axes, indices, matmul and concatenate shapes.
Each strategy here draws `(arrays, params)`: the op's array inputs and its keyword parameters.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd.testing import GRID, arrays, broadcastable_shapes, distinct_arrays, shapes, tie_free_pair

__all__ = [
    "GRID", "arrays", "broadcastable_shapes", "distinct_arrays", "shapes", "tie_free_pair",
    "unary", "away_from_zero", "binary", "axes", "reduction", "distinct_reduction", "matmul_pair", "linear_args", "getitem_args",
    "reshape_args", "transpose_args", "concat_args", "stack_args", "where_args", "clip_args",
    "softmax_args", "cross_entropy_args", "leaky_relu_args", "tie_free_binary", "norm_args", "embedding_args",
    # autograd.numpy
    "binary_away", "prod_args", "var_args", "scan_args", "clip_array_args", "axis_args", "moveaxis_args", "squeeze_args",
    "expand_dims_args", "broadcast_to_args", "flip_args", "roll_args", "tile_args", "repeat_args", "pad_args", "split_args",
    "join_args", "diagonal_args", "tri_args", "take_along_axis_args", "dot_args", "inner_args", "outer_args", "tensordot_args",
    "EINSUM_SPECS", "einsum_args", "vector_norm_args", "matrix_norm_args", "square_matrices", "solve_args",
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


# ---- autograd.numpy (tests/test_numpy.py) ---------------------------------------------------------


def _signs(a: np.ndarray) -> np.ndarray:
    """a with alternating signs (a's magnitudes kept): both signs, never crossing 0."""
    return a * np.where(np.arange(a.size).reshape(a.shape) % 2, -1.0, 1.0)


@st.composite
def binary_away(draw: Any, avoid0: tuple[float, ...] = (), avoid1: tuple[float, ...] = ()) -> Drawn:
    """Two broadcastable arrays, each away from its own points (arctan2: y off its branch cut, x off 0)."""
    s0, s1 = draw(broadcastable_shapes(2))
    return (draw(arrays(s0, avoid=avoid0)), draw(arrays(s1, avoid=avoid1))), {}


@st.composite
def prod_args(draw: Any, one_zero: bool = False, scan: bool = False) -> Drawn:
    """An array of magnitudes in [0.5, 1.5] (both signs; products stay moderate), with exactly one element
    set to 0 when `one_zero`; then an axis and keepdims (prod), or an axis or None (cumprod, `scan`)."""
    a = _signs(draw(arrays(shapes(min_dims=1 if one_zero else 0), 0.5, 1.5)))
    if one_zero:
        a.reshape(-1)[draw(st.integers(0, a.size - 1))] = 0.0
    if scan:
        return (a,), {"axis": draw(st.none() | st.integers(-a.ndim, a.ndim - 1)) if a.ndim else None}
    return (a,), {"axis": draw(axes(a.ndim)), "keepdims": draw(st.booleans())}


@st.composite
def clip_array_args(draw: Any) -> Drawn:
    """x, lo and hi of broadcastable shapes with lo < hi everywhere and x at least 0.1 from both bounds."""
    sx, slo, shi = draw(broadcastable_shapes(3))
    x, lo, hi = draw(arrays(sx)), draw(arrays(slo, -2.0, -0.25)), draw(arrays(shi, 0.25, 2.0))
    assume(np.all(np.abs(x - lo) >= 0.1) and np.all(np.abs(x - hi) >= 0.1))
    return (x, lo, hi), {}


@st.composite
def var_args(draw: Any, distinct: bool = False) -> Drawn:
    """An array, an axis, keepdims, and a ddof below the number of elements reduced (distinct values for std: no kink at 0)."""
    a = draw(distinct_arrays(shapes()) if distinct else arrays(shapes()))
    axis = draw(axes(a.ndim))
    ax = tuple(range(a.ndim)) if axis is None else (axis,) if isinstance(axis, int) else axis
    n = int(np.prod([a.shape[i] for i in ax]))
    return (a,), {"axis": axis, "keepdims": draw(st.booleans()), "ddof": draw(st.integers(0, max(n - 1, 0)))}


@st.composite
def scan_args(draw: Any, lo: float = -3.0, hi: float = 3.0) -> Drawn:
    """An array and an axis for cumsum (None: flattened)."""
    a = draw(arrays(shapes(), lo, hi))
    return (a,), {"axis": draw(st.none() | st.integers(-a.ndim, a.ndim - 1)) if a.ndim else None}


@st.composite
def axis_args(draw: Any, min_dims: int = 1, count: int = 1) -> Drawn:
    """An array and `count` distinct axes of it, as params axis1, axis2 (count 2) or axis (count 1)."""
    a = draw(arrays(shapes(min_dims=max(min_dims, count))))
    picks = draw(st.permutations(range(a.ndim)))[:count]
    negate = [draw(st.booleans()) for _ in picks]
    chosen = [p - a.ndim if n else p for p, n in zip(picks, negate)]
    return (a,), ({"axis": chosen[0]} if count == 1 else {"axis1": chosen[0], "axis2": chosen[1]})


@st.composite
def moveaxis_args(draw: Any) -> Drawn:
    """An array, source axes and as many destination axes (an int or a tuple)."""
    a = draw(arrays(shapes(min_dims=1)))
    k = draw(st.integers(1, a.ndim))
    src, dst = draw(st.permutations(range(a.ndim)))[:k], draw(st.permutations(range(a.ndim)))[:k]
    if k == 1 and draw(st.booleans()):
        return (a,), {"source": src[0], "destination": dst[0] - a.ndim}
    return (a,), {"source": tuple(src), "destination": tuple(dst)}


@st.composite
def squeeze_args(draw: Any) -> Drawn:
    """An array with some axes of size 1, and None or some of those axes."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3))
    ones = [i for i, n in enumerate(shape) if n == 1]
    axis = None
    if ones and draw(st.booleans()):
        picked = draw(st.lists(st.sampled_from(ones), min_size=1, unique=True))
        axis = picked[0] - len(shape) if len(picked) == 1 else tuple(picked)
    return (draw(arrays(shape)),), {"axis": axis}


@st.composite
def expand_dims_args(draw: Any) -> Drawn:
    """An array and new axis positions (an int, negative too, or a tuple)."""
    a = draw(arrays(shapes(max_dims=2)))
    k = draw(st.integers(1, 2))
    out_nd = a.ndim + k
    pos = draw(st.lists(st.integers(-out_nd, out_nd - 1), min_size=k, max_size=k, unique_by=lambda p: p % out_nd))
    return (a,), {"axis": pos[0] if k == 1 else tuple(pos)}


@st.composite
def broadcast_to_args(draw: Any) -> Drawn:
    """An array and a shape it broadcasts to."""
    target = draw(shapes(max_dims=3))
    return (draw(arrays(draw(hnp.broadcastable_shapes(target, max_dims=len(target))))),), {"shape": target}


@st.composite
def flip_args(draw: Any) -> Drawn:
    a = draw(arrays(shapes()))
    return (a,), {"axis": draw(axes(a.ndim))}


@st.composite
def roll_args(draw: Any) -> Drawn:
    """An array and a shift: over the flattened array, along one axis, or a tuple of shifts along a tuple of axes."""
    a = draw(arrays(shapes(min_dims=1)))
    kind = draw(st.sampled_from(["flat", "one", "many"]))
    if kind == "flat":
        return (a,), {"shift": draw(st.integers(-5, 5)), "axis": None}
    if kind == "one":
        return (a,), {"shift": draw(st.integers(-5, 5)), "axis": draw(st.integers(-a.ndim, a.ndim - 1))}
    ax = tuple(draw(st.permutations(range(a.ndim)))[: draw(st.integers(1, a.ndim))])
    return (a,), {"shift": tuple(draw(st.integers(-4, 4)) for _ in ax), "axis": ax}


@st.composite
def tile_args(draw: Any) -> Drawn:
    a = draw(arrays(shapes(max_dims=2, max_side=3)))
    reps = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    return (a,), {"reps": reps[0] if len(reps) == 1 and draw(st.booleans()) else reps}


@st.composite
def repeat_args(draw: Any) -> Drawn:
    """An array, repeats (a count, or one count per element along the axis, 0 included), and an axis (None: flattened)."""
    a = draw(arrays(shapes(max_dims=3, max_side=3)))
    axis = draw(st.none() | st.integers(-a.ndim, a.ndim - 1)) if a.ndim else None
    n = a.size if axis is None else a.shape[axis]
    per = draw(st.booleans())
    repeats = np.array(draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))) if per else draw(st.integers(0, 3))
    return (a,), {"repeats": repeats, "axis": axis}


@st.composite
def pad_args(draw: Any) -> Drawn:
    """An array, a pad_width in one of numpy's forms (an int, a pair, a pair per axis), and a constant."""
    a = draw(arrays(shapes(min_dims=1)))
    form = draw(st.sampled_from(["int", "pair", "per_axis"]))
    small = st.integers(0, 2)
    width: Any = {"int": draw(small), "pair": (draw(small), draw(small)), "per_axis": tuple((draw(small), draw(small)) for _ in range(a.ndim))}[form]
    return (a,), {"pad_width": width, "constant_values": draw(st.sampled_from([0.0, 1.5, -2.0]))}


@st.composite
def split_args(draw: Any, equal: bool = True) -> Drawn:
    """An array, sections (dividing the axis when `equal`) or sorted cut indices, and an axis."""
    a = draw(arrays(shapes(min_dims=1, max_side=5)))
    axis = draw(st.integers(-a.ndim, a.ndim - 1))
    n = a.shape[axis]
    if draw(st.booleans()):
        ios: Any = draw(st.sampled_from([k for k in range(1, n + 1) if n % k == 0] if equal else list(range(1, n + 2))))
    else:
        ios = sorted(draw(st.lists(st.integers(0, n), max_size=3)))
    return (a,), {"indices_or_sections": ios, "axis": axis}


@st.composite
def join_args(draw: Any, axis: int) -> Drawn:
    """1 to 3 arrays for hstack (axis=1) or vstack (axis=0): 1-D ones (of any lengths for hstack, one for vstack),
    or N-D ones that agree but on the joined axis."""
    nd = draw(st.integers(1, 3))
    base = list(draw(shapes(min_dims=nd, max_dims=nd)))
    joined = 0 if nd == 1 else axis
    xs = []
    for _ in range(draw(st.integers(1, 3))):
        s = list(base)
        if not (nd == 1 and axis == 0):
            s[joined] = draw(st.integers(1, 3))
        xs.append(draw(arrays(tuple(s))))
    return tuple(xs), {}


@st.composite
def diagonal_args(draw: Any) -> Drawn:
    """An array of 2 or 3 dimensions, an offset (beyond the edges too) and two distinct axes."""
    (a,), ax = draw(axis_args(min_dims=2, count=2))
    return (a,), {"offset": draw(st.integers(-3, 3)), **ax}


@st.composite
def tri_args(draw: Any) -> Drawn:
    a = draw(arrays(shapes(min_dims=1)))
    return (a,), {"k": draw(st.integers(-2, 2))}


@st.composite
def take_along_axis_args(draw: Any) -> Drawn:
    """An array, integer indices of the same ndim (repeats and negatives likely; other axes 1 or equal), and an axis."""
    a = draw(arrays(shapes(min_dims=1)))
    axis = draw(st.integers(-a.ndim, a.ndim - 1))
    n = a.shape[axis]
    shape = tuple(draw(st.integers(0, 4)) if d == axis % a.ndim else draw(st.sampled_from([1, s])) for d, s in enumerate(a.shape))
    idx = draw(hnp.arrays(np.int64, shape, elements=st.integers(-n, n - 1)))
    return (a,), {"indices": idx, "axis": axis}


@st.composite
def dot_args(draw: Any) -> Drawn:
    """Operands of numpy's dot: 0-d with anything, 1-D and 2-D pairs, N-D with 1-D or N-D (a's last axis against b's second-to-last)."""
    nd_a, nd_b = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    k = draw(st.integers(1, 3))
    side = st.integers(1, 3)
    sa = () if nd_a == 0 else tuple(draw(side) for _ in range(nd_a - 1)) + (k,)
    sb = () if nd_b == 0 else (k,) if nd_b == 1 else tuple(draw(side) for _ in range(nd_b - 2)) + (k, draw(side))
    return (draw(arrays(sa)), draw(arrays(sb))), {}


@st.composite
def inner_args(draw: Any) -> Drawn:
    k = draw(st.integers(1, 3))
    sa = draw(shapes(max_dims=2)) + (k,)
    sb = draw(shapes(max_dims=1)) + (k,)
    return (draw(arrays(sa)), draw(arrays(sb))), {}


@st.composite
def outer_args(draw: Any) -> Drawn:
    return (draw(arrays(shapes(max_dims=2))), draw(arrays(shapes(max_dims=2)))), {}


@st.composite
def tensordot_args(draw: Any) -> Drawn:
    """Two arrays and axes: an int (a's last n against b's first n) or a pair of axis lists."""
    k = draw(st.integers(0, 2))
    summed = tuple(draw(st.integers(1, 3)) for _ in range(k))
    fa, fb = draw(shapes(max_dims=2)), draw(shapes(max_dims=2))
    if draw(st.booleans()):
        return (draw(arrays(fa + summed)), draw(arrays(summed + fb))), {"axes": k}
    pa, pb = draw(st.permutations(range(len(fa) + k))), draw(st.permutations(range(len(fb) + k)))
    sa, sb = [0] * (len(fa) + k), [0] * (len(fb) + k)
    for i, n in enumerate(fa + summed):
        sa[pa[i]] = n
    for i, n in enumerate(summed + fb):
        sb[pb[i]] = n
    return (draw(arrays(tuple(sa))), draw(arrays(tuple(sb)))), {"axes": ([pa[len(fa) + i] for i in range(k)], [pb[i] for i in range(k)])}


EINSUM_SPECS = [
    "ij,jk->ik", "i,i->", "i,i", "ij->ji", "ij", "ji", "ii->i", "ii", "iij->ji", "ij->", "ij->j", "ij,ij->ij",
    "bij,bjk->bik", "i,j->ij", "ij,jk,kl->il", "...ij,...jk->...ik", "...i->...", "i...->...", "ab,b...->a...",
    "ijk,kj", "ij,j", "i,ij->j",
]  # fmt: skip


@st.composite
def einsum_args(draw: Any) -> Drawn:
    """A subscripts string from EINSUM_SPECS and operands fitting it: each letter a length in 1..3, and the
    broadcast dimensions of '...' of any count, each operand's right-aligned, some of length 1."""
    spec = draw(st.sampled_from(EINSUM_SPECS))
    terms = spec.split("->")[0].split(",")
    sizes = {c: draw(st.integers(1, 3)) for c in sorted(set(spec) - set(".,->"))}
    ell = tuple(draw(st.integers(1, 3)) for _ in range(draw(st.integers(0, 2))))
    xs = []
    for t in terms:
        if "..." in t:
            pre, post = t.split("...")
            k = draw(st.integers(0, len(ell)))
            mid = tuple(1 if draw(st.integers(0, 3)) == 0 else n for n in ell[len(ell) - k :])
            shape = tuple(sizes[c] for c in pre) + mid + tuple(sizes[c] for c in post)
        else:
            shape = tuple(sizes[c] for c in t)
        xs.append(draw(arrays(shape)))
    return tuple(xs), {"subscripts": spec}


@st.composite
def vector_norm_args(draw: Any, ords: tuple[Any, ...] = (None, 2, 1, np.inf, -np.inf, 0)) -> Drawn:
    """An array with distinct magnitudes away from 0 (abs has no kink, max/min of |x| no ties), an ord and an axis."""
    a = _signs(draw(distinct_arrays(shapes(min_dims=1, max_side=3), 0.25, 3.0)))
    ord_ = draw(st.sampled_from(ords))
    axis = draw(st.none() | st.integers(-a.ndim, a.ndim - 1)) if a.ndim == 1 else draw(st.integers(-a.ndim, a.ndim - 1))
    return (a,), {"ord": ord_, "axis": axis, "keepdims": draw(st.booleans())}


@st.composite
def matrix_norm_args(draw: Any) -> Drawn:
    """A 2-D or 3-D array whose row and column sums of |x| are tie-free, a matrix ord, and two axes (None for 2-D)."""
    a = _signs(draw(distinct_arrays(shapes(min_dims=2, max_dims=3, max_side=3), 0.25, 3.0)))
    ord_ = draw(st.sampled_from([None, "fro", 1, -1, np.inf, -np.inf]))
    if a.ndim == 2 and draw(st.booleans()):
        axis = None
    else:
        axis = tuple(draw(st.permutations(range(a.ndim)))[:2])
    r, c = (0, 1) if axis is None else axis
    for over, across in ((r, c), (c, r)):  # (column sums compared across columns, row sums across rows)
        sums = np.sort(np.moveaxis(np.abs(a).sum(axis=over, keepdims=True), across, -1), axis=-1)
        assume(sums.shape[-1] < 2 or np.min(np.diff(sums, axis=-1)) > 1e-3)
    return (a,), {"ord": ord_, "axis": axis, "keepdims": draw(st.booleans())}


@st.composite
def square_matrices(draw: Any, count: int = 1, batch: bool = True) -> Drawn:
    """`count` well-conditioned square matrices (a random part in [-1, 1] plus n + 1 on the diagonal), batched sometimes."""
    n = draw(st.integers(1, 3))
    lead = draw(shapes(max_dims=1, max_side=2)) if batch else ()
    return tuple(draw(arrays(lead + (n, n), -1.0, 1.0)) + (n + 1) * np.eye(n) for _ in range(count)), {}  # strictly diagonally dominant


@st.composite
def solve_args(draw: Any) -> Drawn:
    """A well-conditioned a (..., n, n) and b: (n,), or (..., n, k) with batch axes that broadcast against a's."""
    n = draw(st.integers(1, 3))
    ba, bb = draw(broadcastable_shapes(2, max_dims=2, max_side=2))
    a = draw(arrays(ba + (n, n), -1.0, 1.0)) + (n + 1) * np.eye(n)  # strictly diagonally dominant: never singular
    b = draw(arrays((n,))) if draw(st.booleans()) else draw(arrays(bb + (n, draw(st.integers(1, 2)))))
    return (a, b), {}
