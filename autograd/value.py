"""Value: an array (or scalar) that remembers the op that made it.

Operators and methods only dispatch to the primitives in `ops.py`; the graph
bookkeeping lives in `engine.py`.
"""

from __future__ import annotations

from collections.abc import Iterator
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
        if g is None or isinstance(g, Value):
            return g
        d = self._data
        if type(g) is np.ndarray:
            if type(d) is np.ndarray and g.dtype != d.dtype:
                # float32 data keeps float32 gradients (as in PyTorch), though float64 met it downstream
                self._grad = g = g.astype(d.dtype)
            return g
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

    def backward(self, gradient: Any = None, *, retain_grads: bool = True, create_graph: bool = False) -> None:
        """Add d(self)/d(node) to `.grad` of every node that self depends on.

        `gradient` is d(loss)/d(self); it may be omitted only when self has one element.
        `retain_grads=False` fills `.grad` of leaves only, so intermediate gradients are freed
        as soon as they are used. `create_graph=True` leaves `.grad` as Values with a graph
        of their own, so gradients can be differentiated again.
        """
        _engine.backward(self, gradient, retain_grads=retain_grads, create_graph=create_graph)

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

    # ---- reductions --------------------------------------------------------
    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Sum over `axis` (all axes when None)."""
        return _apply1(_SUM if axis is None and not keepdims else _ops.Sum(axis, keepdims), self)

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Mean over `axis` (all axes when None)."""
        return _apply1(_ops.Mean(axis, keepdims), self)

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Maximum over `axis`; tied maxima share the gradient evenly."""
        return _apply1(_ops.Max(axis, keepdims), self)

    def min(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Value:
        """Minimum over `axis`; tied minima share the gradient evenly."""
        return _apply1(_ops.Min(axis, keepdims), self)

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
# _tracing > 0 and that thread's tracer is engine.mode.s.tracer: the hooks above refuse Python
# control flow on traced Values, record comparisons (masks for `where`) and follow array
# arguments into the graph. Outside tracing each hook costs one global read.
_tracing = 0


def _jit_hook(name: str, *args: Any) -> Any:
    """The tracer's method `name` applied to args, or None when this thread is not tracing."""
    tracer = _engine.mode.s.tracer
    return None if tracer is None else getattr(tracer, name)(*args)


def _compared(r: Any, a: Value, b: Any, ufunc: Any) -> Any:
    """A comparison's result, as a recorded mask when this thread is tracing."""
    tracer = _engine.mode.s.tracer
    return r if tracer is None else tracer.compare(r, a, b, ufunc)


from . import engine as _engine  # noqa: E402  (engine and ops need Value defined first)
from . import ops as _ops  # noqa: E402
from .engine import apply1 as _apply1  # noqa: E402
from .engine import apply2 as _apply2  # noqa: E402

# The shared op instances, bound here so an operator is one global lookup away from its op.
_o: Any = _ops  # (typed Any: mypy cannot follow the circular import)
_ADD, _SUB, _MUL, _DIV, _POW, _MATMUL, _NEG = _o.ADD, _o.SUB, _o.MUL, _o.DIV, _o.POW, _o.MATMUL, _o.NEG
_SUM, _T = _o.Sum(None, False), _o.Transpose(None)
_EXP, _LOG, _SQRT, _TANH, _SIGMOID, _RELU, _ABS, _BINARY_STEP = _o.EXP, _o.LOG, _o.SQRT, _o.TANH, _o.SIGMOID, _o.RELU, _o.ABS, _o.BINARY_STEP
