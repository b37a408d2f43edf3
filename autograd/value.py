"""Value: an array (or scalar) that remembers the op that made it.

Operators and methods only dispatch to the primitives in `ops.py`; the graph
bookkeeping lives in `engine.py`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

_FLOATS = (np.float32, np.float64)


def as_array(data: Any) -> np.ndarray:
    """`data` as a float ndarray (float32 and float64 kept; ints, bools, float16 and longdouble to float64)."""
    if isinstance(data, Value):
        return data.data
    if isinstance(data, np.ndarray):
        if isinstance(data, np.ma.MaskedArray):
            raise TypeError(f"Value data must not be a masked array (its mask would be lost): fill it first, e.g. x.filled(0.0): {_short(data)}")
        arr = data if type(data) is np.ndarray else np.asarray(data)  # a subclass (np.matrix) as a plain array: * stays elementwise
    elif isinstance(data, (bool, int, float, np.number, np.bool_)):
        arr = np.asarray(data)
    elif isinstance(data, (list, tuple)):
        try:
            arr = np.array(data)
        except ValueError as e:  # numpy >= 1.24 refuses ragged lists
            raise ValueError(f"Value data must be a rectangular nested list, got a ragged one: {_short(data)} ({e})") from None
    elif data is None:
        raise TypeError("Value data must be a number, nested list or numpy array, got None")
    else:
        raise TypeError(f"Value data must be a number, nested list or numpy array, got {type(data).__name__}: {_short(data)}")
    kind = arr.dtype.kind
    if kind == "f":
        return arr if arr.dtype.type in _FLOATS else arr.astype(np.float64)
    if kind in "biu":
        return arr.astype(np.float64)
    if kind == "c":
        raise TypeError(f"Value data must be real, got complex dtype {arr.dtype}: {_short(data)}")
    raise TypeError(f"Value data must be numeric, got dtype {arr.dtype} ({'ragged list or objects' if kind == 'O' else 'not a number'}): {_short(data)}")


def _short(x: Any, n: int = 60) -> str:
    r = repr(x)
    return r if len(r) <= n else r[: n - 3] + "..."


class Value:
    """An array or scalar in a computation graph; `backward()` fills `.grad` of everything it came from.

    >>> x = Value(3.0)
    >>> y = x * x + 2 * x
    >>> y.backward()
    >>> float(x.grad)
    8.0
    """

    __slots__ = ("_data", "_grad", "requires_grad", "label", "_op", "_a", "_b", "scope", "_site", "__weakref__")
    # _a, _b: the inputs of an op's output (see engine.apply and `parents`); unset on leaves.
    # _site (where the user created the node) is set only under detect_anomaly(); read it with getattr(v, "_site", None).
    _op: Any  # the Op that made this Value; None for a leaf
    _a: Any
    _b: Any
    # Make numpy hand `ndarray + Value` to Value.__radd__ instead of looping over an object array.
    __array_ufunc__ = None

    def __init__(self, data: Any, requires_grad: bool = True, label: str | None = None) -> None:
        arr = as_array(data)
        src: Any = data._data if isinstance(data, Value) else data
        self._data: Any = arr.copy() if isinstance(src, np.ndarray) and np.may_share_memory(arr, src) else arr  # never the caller's memory
        self._grad: Any = None
        self.requires_grad = bool(requires_grad)
        self.label = label
        self._op = None
        self.scope = None
        if _tracing and isinstance(src, np.ndarray) and type(src) is not np.ndarray:
            _jit_hook("value", self, src)  # Value(x) of an array argument of a function autograd.jit traces

    @property
    def parents(self) -> tuple[Value, ...]:
        """The inputs of the op that made this Value, in argument order (() for a leaf)."""
        if self._op is None:
            return ()
        a, b = self._a, self._b
        if b is None:
            return (a,)
        return b if a is None else (a, b)

    # ---- data and gradient -------------------------------------------------
    @property
    def data(self) -> np.ndarray:
        """The forward value as an ndarray (0-d for a scalar); the same array on every access."""
        d = self._data
        if type(d) is not np.ndarray:  # a scalar op result (a Python or numpy float): kept as a 0-d array
            self._data = d = np.asarray(d)  # from now on, so edits in place persist
        return d

    @data.setter
    def data(self, new: Any) -> None:
        self._data = as_array(new)

    @property
    def grad(self) -> Any:
        """d(output)/d(self) summed over every `backward()` since the last `zero_grad()`; None before."""
        g = self._grad
        if type(g) is np.ndarray:  # (the common case first)
            d = self._data
            if type(d) is np.ndarray and g.dtype is not d.dtype and g.dtype != d.dtype:  # (`is`: the common case, cheaply)
                # float32 data keeps float32 gradients (as in PyTorch), though float64 met it downstream
                self._grad = g = g.astype(d.dtype)
            return g
        if g is None or isinstance(g, Value):
            return g
        d = self._data
        # a numpy scalar: keep the 0-d array (so edits in place persist) in the data's float type
        self._grad = g = np.asarray(g, dtype=d.dtype if type(d) is np.ndarray else None)
        return g

    @grad.setter
    def grad(self, g: Any) -> None:
        self._grad = g

    def zero_grad(self) -> None:
        """Forget the accumulated gradient (sets `.grad` to None)."""
        self._grad = None

    @property
    def is_leaf(self) -> bool:
        """Whether no op made this Value (a parameter, an input, a constant), as in PyTorch."""
        return self._op is None

    @property
    def op(self) -> str:
        """Name of the op that made this Value ('' for a leaf)."""
        return "" if self._op is None else self._op.label()

    @property
    def shape(self) -> tuple[int, ...]:
        d = self._data
        return d.shape if type(d) is np.ndarray else np.shape(d)  # (np.shape itself costs ~0.4 us)

    @property
    def ndim(self) -> int:
        d = self._data
        return d.ndim if type(d) is np.ndarray else np.ndim(d)

    @property
    def size(self) -> int:
        d = self._data
        return d.size if type(d) is np.ndarray else int(np.size(d))

    @property
    def dtype(self) -> np.dtype:
        return np.asarray(self._data).dtype

    def item(self) -> float:
        """The single element as a Python float (ValueError unless size is 1)."""
        if _tracing:
            _jit_hook("concrete", self, "float() or .item()")
        if self.size != 1:
            raise ValueError(f"item() needs a Value with one element, this one has shape {self.shape}")
        return float(np.asarray(self._data).reshape(()))

    def numpy(self) -> np.ndarray:
        """The data as an ndarray (same as `.data`)."""
        return self.data

    def detach(self) -> Value:
        """The same data as a new leaf outside the graph (requires_grad=False)."""
        if _tracing:
            d = _jit_hook("detach", self)
            if d is not None:
                return d
        v = Value.__new__(Value)
        v._data, v._grad, v.requires_grad, v.label, v._op, v.scope = self._data, None, False, self.label, None, None
        return v

    # backward(gradient=None, *, retain_grads=True, create_graph=False) is engine.backward, bound as
    # this class's method at the end of this file (no wrapper call on every pass).
    backward: Callable[..., None]

    def __repr__(self) -> str:
        parts = []
        if self.size <= 8:
            parts.append(np.array2string(np.asarray(self._data), precision=4, separator=", "))
        else:
            parts.append(f"shape={self.shape}, dtype={self.dtype}")
        if self._grad is not None:
            g = self._grad.data if isinstance(self._grad, Value) else np.asarray(self._grad)
            parts.append("grad=" + (np.array2string(g, precision=4, separator=", ") if g.size <= 8 else f"<{g.shape}>"))
        if self._op is not None:
            parts.append(f"op={self.op!r}")
        if self.label:
            parts.append(f"label={self.label!r}")
        if not self.requires_grad:
            parts.append("requires_grad=False")
        return f"Value({', '.join(parts)})"

    # ---- python protocol ---------------------------------------------------
    __hash__ = object.__hash__  # __eq__ returns arrays; nodes are keyed by identity

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d Value")
        return self.shape[0]

    def __iter__(self) -> Iterator[Value]:
        for i in range(len(self)):
            yield self[i]

    def __bool__(self) -> bool:
        if _tracing:
            _jit_hook("concrete", self, "bool()")
        return bool(self._data)

    def __float__(self) -> float:
        return self.item()

    # Comparisons record no node: they return plain boolean arrays (recorded masks while autograd.jit traces).
    def __lt__(self, other: Any) -> Any:
        r = self._data < _raw(other)
        return _compared(r, self, other, np.less) if _tracing else r

    def __le__(self, other: Any) -> Any:
        r = self._data <= _raw(other)
        return _compared(r, self, other, np.less_equal) if _tracing else r

    def __gt__(self, other: Any) -> Any:
        r = self._data > _raw(other)
        return _compared(r, self, other, np.greater) if _tracing else r

    def __ge__(self, other: Any) -> Any:
        r = self._data >= _raw(other)
        return _compared(r, self, other, np.greater_equal) if _tracing else r

    def __eq__(self, other: Any) -> Any:  # type: ignore[override]
        r = self._data == _raw(other)
        return _compared(r, self, other, np.equal) if _tracing else r

    def __ne__(self, other: Any) -> Any:  # type: ignore[override]
        r = self._data != _raw(other)
        return _compared(r, self, other, np.not_equal) if _tracing else r

    # ---- arithmetic: dispatch only -----------------------------------------
    def __add__(self, other: Any) -> Value:
        return _apply2(_ADD, self, other if type(other) is Value else _lift(other))

    def __radd__(self, other: Any) -> Value:
        return _apply2(_ADD, _lift(other), self)

    def __sub__(self, other: Any) -> Value:
        return _apply2(_SUB, self, other if type(other) is Value else _lift(other))

    def __rsub__(self, other: Any) -> Value:
        return _apply2(_SUB, _lift(other), self)

    def __mul__(self, other: Any) -> Value:
        return _apply2(_MUL, self, other if type(other) is Value else _lift(other))

    def __rmul__(self, other: Any) -> Value:
        return _apply2(_MUL, _lift(other), self)

    def __truediv__(self, other: Any) -> Value:
        return _apply2(_DIV, self, other if type(other) is Value else _lift(other))

    def __rtruediv__(self, other: Any) -> Value:
        return _apply2(_DIV, _lift(other), self)

    def __pow__(self, other: Any) -> Value:
        return _apply2(_POW, self, other if type(other) is Value else _lift(other))

    def __rpow__(self, other: Any) -> Value:
        return _apply2(_POW, _lift(other), self)

    def __matmul__(self, other: Any) -> Value:
        return _apply2(_MATMUL, self, other if type(other) is Value else _lift(other))

    def __rmatmul__(self, other: Any) -> Value:
        return _apply2(_MATMUL, _lift(other), self)

    def __neg__(self) -> Value:
        return _apply1(_NEG, self)

    def __pos__(self) -> Value:
        return self

    def __abs__(self) -> Value:
        return _apply1(_ABS, self)

    def __getitem__(self, index: Any) -> Value:
        return _apply1(_ops.GetItem(index), self)

    # ---- elementwise -------------------------------------------------------
    def exp(self) -> Value:
        """e**x."""
        return _apply1(_EXP, self)

    def log(self) -> Value:
        """Natural log; -inf at 0 and nan below, with numpy's warnings."""
        return _apply1(_LOG, self)

    def sqrt(self) -> Value:
        """Square root; its gradient is inf at 0."""
        return _apply1(_SQRT, self)

    def tanh(self) -> Value:
        """Hyperbolic tangent, range (-1, 1); the gradient keeps relative accuracy in the tails."""
        return _apply1(_TANH, self)

    def sigmoid(self) -> Value:
        """1 / (1 + e**-x), range (0, 1), computed without overflow; derivative at most 0.25."""
        return _apply1(_SIGMOID, self)

    def relu(self) -> Value:
        """max(x, 0); gradient 0 at x == 0."""
        return _apply1(_RELU, self)

    def leaky_relu(self, negative_slope: float = 0.01) -> Value:
        """x for x > 0 else negative_slope * x; gradient negative_slope at x == 0."""
        return _apply1(_ops.LeakyRelu(negative_slope), self)

    def binary_step(self) -> Value:
        """1 where x >= 0 else 0. Its gradient is 0 everywhere (and undefined at 0), so no
        gradient reaches the weights below it: a network of binary steps cannot be trained
        by gradient descent."""
        return _apply1(_BINARY_STEP, self)

    def abs(self) -> Value:
        """|x|; gradient 0 at x == 0."""
        return _apply1(_ABS, self)

    def clip(self, lo: float | None, hi: float | None) -> Value:
        """x limited to [lo, hi] (None: no bound); gradient 1 inside and on the bounds, 0 outside."""
        return _apply1(_ops.Clip(lo, hi), self)

    def softmax(self, axis: int = -1) -> Value:
        """exp(x) / sum(exp(x)) along `axis`, computed stably (the max is subtracted)."""
        return _apply1(_ops.Softmax(axis), self)

    def log_softmax(self, axis: int = -1) -> Value:
        """log(softmax(x)) along `axis`, computed stably (log-sum-exp)."""
        return _apply1(_ops.LogSoftmax(axis), self)

    # ---- reductions (numpy's axis=/keepdims=, or PyTorch's dim=/keepdim=) ------
    def sum(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Value:
        """Sum over `axis` (all axes when None)."""
        if dim is not None or keepdim is not None:
            axis, keepdims = Value._axis("sum", axis, dim, keepdims, keepdim)
        return _apply1(_SUM if axis is None and not keepdims else _ops.Sum(axis, keepdims), self)

    def mean(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Value:
        """Mean over `axis` (all axes when None)."""
        if dim is not None or keepdim is not None:
            axis, keepdims = Value._axis("mean", axis, dim, keepdims, keepdim)
        return _apply1(_ops.Mean(axis, keepdims), self)

    def max(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Value:
        """Maximum over `axis`; tied maxima share the gradient evenly. The values only (PyTorch's
        max(dim) also gives the indices: use argmax)."""
        if dim is not None or keepdim is not None:
            axis, keepdims = Value._axis("max", axis, dim, keepdims, keepdim)
        return _apply1(_ops.Max(axis, keepdims), self)

    def min(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Value:
        """Minimum over `axis`; tied minima share the gradient evenly (the values only, as max)."""
        if dim is not None or keepdim is not None:
            axis, keepdims = Value._axis("min", axis, dim, keepdims, keepdim)
        return _apply1(_ops.Min(axis, keepdims), self)

    @staticmethod
    def _axis(name: str, axis: Any, dim: Any, keepdims: bool, keepdim: bool | None) -> tuple[Any, bool]:
        """numpy's axis/keepdims from either spelling (PyTorch's dim/keepdim)."""
        if dim is not None:
            if axis is not None:
                raise TypeError(f"{name}: give axis or dim, not both")
            axis = dim
        if keepdim is not None:
            if keepdims:
                raise TypeError(f"{name}: give keepdims or keepdim, not both")
            keepdims = bool(keepdim)
        return axis, keepdims

    # The methods below dispatch to autograd.numpy (see docs/numpy.md).
    def prod(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Value:
        """Product over `axis`; each element's gradient is the product of the others (zeros included)."""
        axis, keepdims = Value._axis("prod", axis, dim, keepdims, keepdim)
        return _anp.prod(self, axis, keepdims=keepdims)

    def var(self, axis: Any = None, *, ddof: float = 0, keepdims: bool = False, dim: Any = None, keepdim: bool | None = None,
            correction: float | None = None) -> Value:  # fmt: skip
        """Variance over `axis`, divided by n - ddof: ddof=0 by default, as numpy (PyTorch's default
        is the unbiased correction=1; pass correction=1 or ddof=1 for it)."""
        axis, keepdims = Value._axis("var", axis, dim, keepdims, keepdim)
        return _anp.var(self, axis, ddof=ddof, keepdims=keepdims, correction=correction)

    def std(self, axis: Any = None, *, ddof: float = 0, keepdims: bool = False, dim: Any = None, keepdim: bool | None = None,
            correction: float | None = None) -> Value:  # fmt: skip
        """Standard deviation over `axis` (ddof=0 by default, as numpy; PyTorch's is 1); gradient 0 where it is 0."""
        axis, keepdims = Value._axis("std", axis, dim, keepdims, keepdim)
        return _anp.std(self, axis, ddof=ddof, keepdims=keepdims, correction=correction)

    def logsumexp(self, axis: Any = None, keepdims: bool = False, *, dim: Any = None, keepdim: bool | None = None) -> Value:
        """log(sum(exp(x))) over `axis`, without overflow; its gradient is softmax(x)."""
        axis, keepdims = Value._axis("logsumexp", axis, dim, keepdims, keepdim)
        return _anp.logsumexp(self, axis, keepdims=keepdims)

    def cumsum(self, axis: int | None = None, *, dim: int | None = None) -> Value:
        """Running sum along `axis` (None: over the flattened Value, as numpy)."""
        return _anp.cumsum(self, Value._axis("cumsum", axis, dim, False, None)[0])

    def cumprod(self, axis: int | None = None, *, dim: int | None = None) -> Value:
        """Running product along `axis` (None: flattened); right with zeros too."""
        return _anp.cumprod(self, Value._axis("cumprod", axis, dim, False, None)[0])

    def argmax(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None, keepdim: bool | None = None) -> Any:
        """Index of the maximum (of the flattened Value when axis is None): a plain integer array."""
        axis, keepdims = Value._axis("argmax", axis, dim, keepdims, keepdim)
        return np.argmax(self.data, axis=axis, keepdims=keepdims)

    def argmin(self, axis: int | None = None, keepdims: bool = False, *, dim: int | None = None, keepdim: bool | None = None) -> Any:
        """Index of the minimum: a plain integer array."""
        axis, keepdims = Value._axis("argmin", axis, dim, keepdims, keepdim)
        return np.argmin(self.data, axis=axis, keepdims=keepdims)

    # ---- more elementwise maths (autograd.numpy's functions; kinks as there) --------
    def sin(self) -> Value:
        """Sine."""
        return _anp.sin(self)

    def cos(self) -> Value:
        """Cosine."""
        return _anp.cos(self)

    def tan(self) -> Value:
        """Tangent."""
        return _anp.tan(self)

    def arcsin(self) -> Value:
        """Inverse sine on [-1, 1]; the gradient is inf at ±1."""
        return _anp.arcsin(self)

    def arccos(self) -> Value:
        """Inverse cosine on [-1, 1]; the gradient is -inf at ±1."""
        return _anp.arccos(self)

    def arctan(self) -> Value:
        """Inverse tangent."""
        return _anp.arctan(self)

    def sinh(self) -> Value:
        """Hyperbolic sine."""
        return _anp.sinh(self)

    def cosh(self) -> Value:
        """Hyperbolic cosine."""
        return _anp.cosh(self)

    def exp2(self) -> Value:
        """2**x."""
        return _anp.exp2(self)

    def expm1(self) -> Value:
        """e**x - 1, accurate for small x."""
        return _anp.expm1(self)

    def log2(self) -> Value:
        """Base-2 logarithm."""
        return _anp.log2(self)

    def log10(self) -> Value:
        """Base-10 logarithm."""
        return _anp.log10(self)

    def log1p(self) -> Value:
        """log(1 + x), accurate for small x."""
        return _anp.log1p(self)

    def square(self) -> Value:
        """x * x."""
        return self * self

    def reciprocal(self) -> Value:
        """1 / x."""
        return 1.0 / self

    def pow(self, exponent: Any) -> Value:
        """x ** exponent (PyTorch's name for **)."""
        return self**exponent

    def sign(self) -> Value:
        """-1, 0 or 1; gradient 0 everywhere (also at 0)."""
        return _anp.sign(self)

    def floor(self) -> Value:
        """Round down; gradient 0 everywhere."""
        return _anp.floor(self)

    def ceil(self) -> Value:
        """Round up; gradient 0 everywhere."""
        return _anp.ceil(self)

    def round(self, decimals: int = 0) -> Value:
        """Round to `decimals` places, halves to even; gradient 0 everywhere."""
        return _anp.round(self, decimals)

    def clamp(self, min: Any = None, max: Any = None) -> Value:  # noqa: A002 (PyTorch's names)
        """x limited to [min, max] (PyTorch's name for clip; bounds may be numbers, arrays or Values)."""
        if min is None and max is None:
            raise ValueError("clamp: give at least one of min and max")
        return _anp.clip(self, min, max)

    # ---- more shapes (numpy's names, and PyTorch's) ---------------------------------
    def numel(self) -> int:
        """The number of elements (PyTorch's name for size)."""
        return int(self.size)

    def ravel(self) -> Value:
        """The elements as a 1-D Value."""
        return _apply1(_ops.Reshape((-1,)), self)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Value:
        """Axes start_dim..end_dim merged into one (all of them by default: numpy's flatten; a 0-d Value becomes 1-D)."""
        if self.ndim == 0:
            return self.reshape(1)
        s, e = _anp.dispatch.axis_index("flatten", start_dim, self.ndim), _anp.dispatch.axis_index("flatten", end_dim, self.ndim)
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} (shape {self.shape})")
        shape = self.shape
        return self.reshape(shape[:s] + (int(np.prod(shape[s : e + 1])),) + shape[e + 1 :])

    def view(self, *shape: Any) -> Value:
        """PyTorch's name for reshape."""
        return self.reshape(*shape)

    def squeeze(self, axis: Any = None, *, dim: Any = None) -> Value:
        """Axes of size 1 removed (all when None); naming an axis of another size is an error, as in
        numpy (PyTorch leaves it)."""
        return _anp.squeeze(self, Value._axis("squeeze", axis, dim, False, None)[0])

    def unsqueeze(self, dim: int) -> Value:
        """A new axis of size 1 at `dim` (numpy's expand_dims)."""
        return _anp.expand_dims(self, dim)

    def permute(self, *dims: Any) -> Value:
        """Axes in the order `dims`, a permutation of all of them (PyTorch's name; numpy's transpose(axes))."""
        if len(dims) == 1 and isinstance(dims[0], (tuple, list)):
            dims = tuple(dims[0])
        if sorted(d % self.ndim if isinstance(d, int) and self.ndim else d for d in dims) != list(range(self.ndim)):
            raise ValueError(f"permute: dims {dims} must name each of the {self.ndim} axes once (shape {self.shape})")
        return self.transpose(dims)

    def swapaxes(self, axis1: int, axis2: int) -> Value:
        """Two axes exchanged (PyTorch's transpose(dim0, dim1); this transpose is numpy's)."""
        return _anp.swapaxes(self, axis1, axis2)

    def flip(self, axis: Any = None, *, dims: Any = None) -> Value:
        """The order of the elements reversed along `axis` (or PyTorch's `dims`; all axes when None)."""
        return _anp.flip(self, Value._axis("flip", axis, dims, False, None)[0])

    def repeat(self, repeats: Any, axis: int | None = None) -> Value:
        """Each element repeated along `axis` (numpy's repeat; PyTorch's x.repeat(*sizes) is np.tile)."""
        return _anp.repeat(self, repeats, axis)

    def diagonal(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Value:
        """The diagonal of the (axis1, axis2) planes, as a new last axis."""
        return _anp.diagonal(self, offset, axis1, axis2)

    def trace(self, offset: int = 0, axis1: int = 0, axis2: int = 1) -> Value:
        """The sum along the diagonal."""
        return _anp.trace(self, offset, axis1, axis2)

    def dot(self, b: Any) -> Value:
        """numpy's dot(self, b)."""
        return _anp.dot(self, b)

    # ---- shape -------------------------------------------------------------
    def reshape(self, *shape: Any) -> Value:
        """The same elements in a new shape (`reshape(2, 3)` or `reshape((2, 3))`, -1 allowed)."""
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _apply1(_ops.Reshape(shape), self)

    def transpose(self, *axes: Any) -> Value:
        """Axes permuted (reversed when none are given), as numpy's transpose."""
        if len(axes) == 1 and (axes[0] is None or isinstance(axes[0], (tuple, list))):
            axes = () if axes[0] is None else tuple(axes[0])
        return _apply1(_ops.Transpose(tuple(axes) if axes else None), self)

    @property
    def T(self) -> Value:
        """All axes reversed (numpy's `.T`)."""
        return _apply1(_T, self)

    @property
    def mT(self) -> Value:
        """The last two axes swapped (a batch of matrices transposed)."""
        if self.ndim < 2:
            raise ValueError(f"mT needs at least 2 dimensions, got shape {self.shape}")
        axes = tuple(range(self.ndim - 2)) + (self.ndim - 1, self.ndim - 2)
        return _apply1(_ops.Transpose(axes), self)


def _raw(x: Any) -> Any:
    return x._data if isinstance(x, Value) else x


_new_value = Value.__new__
# Lifted Python numbers, shared: `0.9 * y` in a loop makes no new constant node per step. Keys
# are by type (1 == 1.0 == True as dict keys) and never 0 (0.0 == -0.0) or nan (nan != nan).
_FLOAT_CONSTANTS: dict[float, Value] = {}
_INT_CONSTANTS: dict[int, Value] = {}
_MAX_CONSTANTS = 1024


def _new_constant(x: Any, cache: dict[Any, Value]) -> Value:
    v = _constant(x)
    if x and x == x and len(cache) < _MAX_CONSTANTS:
        cache[x] = v
    return v


class Constant(Value):
    """A number or array lifted into the graph as an operand (`2 * x`): no gradient, never a leaf
    the user made. A Python number stays a Python number, so it promotes weakly as in numpy
    (float32 * 2.0 is float32)."""

    __slots__ = ()


def _constant(x: Any) -> Value:
    v = _new_value(Constant)
    v._data, v._grad, v.requires_grad, v.label, v._op, v.scope = x, None, False, None, None, None
    return v


def as_value(x: Any) -> Value:
    """x as a Value: a Value as it is; a number, list or array as a constant (requires_grad=False),
    sharing a float array's memory rather than copying it, as `torch.as_tensor` does."""
    return x if isinstance(x, Value) else _lift(x)


def _lift(x: Any) -> Value:
    """An operand as a Value; numbers and arrays become constants (requires_grad=False)."""
    t = type(x)
    if t is float:  # a Python number stays weakly typed, so float32 stays float32
        v = _FLOAT_CONSTANTS.get(x)
        return _new_constant(x, _FLOAT_CONSTANTS) if v is None else v
    if t is Value:
        return x
    if t is int:
        v = _INT_CONSTANTS.get(x)
        return _new_constant(x, _INT_CONSTANTS) if v is None else v
    if isinstance(x, Value):
        return x
    if isinstance(x, (float, int)) and not isinstance(x, bool):
        return _constant(x)
    if type(x) is np.ndarray and x.dtype.kind in "fb":
        return _constant(x)
    if _tracing and isinstance(x, np.ndarray):
        v = _jit_hook("lift", x)  # an array argument of a function autograd.jit traces
        if v is not None:
            return v
    return _constant(as_array(x))  # (an ndarray subclass, e.g. np.matrix, as a plain array)


# ---- autograd.jit's hooks ----------------------------------------------------------------
# autograd/jit_trace.py records a function's graph by running it once. While any thread does,
# _tracing > 0 and that thread's tracer is modes.state().tracer: the hooks above refuse Python
# control flow on traced Values, record comparisons (masks for `where`) and follow array
# arguments into the graph. Outside tracing each hook costs one global read.
_tracing = 0


def _jit_hook(name: str, *args: Any) -> Any:
    """The tracer's method `name` applied to args, or None when this thread is not tracing."""
    tracer = _modes.state().tracer
    return None if tracer is None else getattr(tracer, name)(*args)


def _compared(r: Any, a: Value, b: Any, ufunc: Any) -> Any:
    """A comparison's result, as a recorded mask when this thread is tracing."""
    tracer = _modes.state().tracer
    return r if tracer is None else tracer.compare(r, a, b, ufunc)


from . import engine as _engine  # noqa: E402  (engine and ops need Value defined first)
from . import modes as _modes  # noqa: E402
from . import numpy as _anp  # noqa: E402  (autograd.numpy: the functions the methods below the operators call)
from . import ops as _ops  # noqa: E402
from .engine import apply1 as _apply1  # noqa: E402
from .engine import apply2 as _apply2  # noqa: E402

Value.backward = _engine.backward  # type: ignore[method-assign]

# The shared op instances, bound here so an operator is one global lookup away from its op.
_o: Any = _ops  # (typed Any: mypy cannot follow the circular import)
_ADD, _SUB, _MUL, _DIV, _POW, _MATMUL, _NEG = _o.ADD, _o.SUB, _o.MUL, _o.DIV, _o.POW, _o.MATMUL, _o.NEG
_SUM, _T = _o.Sum(None, False), _o.Transpose(None)
_EXP, _LOG, _SQRT, _TANH, _SIGMOID, _RELU, _ABS, _BINARY_STEP = _o.EXP, _o.LOG, _o.SQRT, _o.TANH, _o.SIGMOID, _o.RELU, _o.ABS, _o.BINARY_STEP
