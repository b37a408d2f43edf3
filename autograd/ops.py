"""Every primitive: its forward on arrays and its vector-Jacobian products, side by side.

An op defines `forward(*xs)` on numpy data and one rule `vjp{i}(g, out, *xs)` per input:
the gradient of that input given `g`, the gradient of the output. The engine sums each
rule's result back to the input's shape (broadcasting is undone once, in the engine), and
calls only the rules of inputs that require grad.

The rules use only arithmetic, `@`, `.mT`, `.sum(axis, keepdims)`, `.reshape`, indexing and
the helper functions at the bottom of this file, all of which work on numpy arrays and on
Values alike: run on arrays they give fast first derivatives, run on Values (by
`backward(create_graph=True)`) they record a graph, so gradients can be differentiated again.
A rule never keeps a reference to a Value, so graphs hold no reference cycles.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .engine import apply, passes_gradient
from .value import Constant, Value

Axis = Any  # int, tuple of ints or None
_F64 = np.dtype(np.float64)


class Op:
    """A primitive: `forward` on arrays, `vjp0`, `vjp1`, ... one gradient rule per input.

    Calling an op instance runs it: `Sum(axis=0)(x)` records a node when an input is a Value and
    computes on plain arrays otherwise, so a rule can use other ops and still run on both.
    """

    __slots__ = ("_vjps", "_floats")
    _vjps: tuple[Callable[..., Any], ...]
    _floats: bool
    name = "op"
    _class_vjps: tuple[Callable[..., Any], ...] = ()  # vjp0, vjp1, ... collected by __init_subclass__
    # True when forward and rules also take Python floats (float64 scalars), as arithmetic and
    # math functions do; otherwise the engine hands them numpy scalars (which have .sum, .reshape).
    floats = False

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        self = super().__new__(cls)
        # NOTE: per-instance copies the engine reads for every node: on Python 3.11 a slot reads ~7x
        # faster than a class attribute through an instance (~4 ns against ~30 ns).
        self._vjps, self._floats = cls._class_vjps, cls.floats
        return self

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        rules: list[Callable[..., Any]] = []
        while hasattr(cls, f"vjp{len(rules)}"):
            rules.append(getattr(cls, f"vjp{len(rules)}"))
        if rules:
            cls._class_vjps = tuple(rules)

    @property
    def vjps(self) -> tuple[Callable[..., Any], ...]:
        """The rules, one per input: `rule(op, g, out, *inputs)`. An op whose inputs vary in number
        (`Concatenate`) sets its own in `__init__`: `self.vjps = [...]`."""
        return self._vjps

    @vjps.setter
    def vjps(self, rules: Any) -> None:
        self._vjps = tuple(rules)

    def __call__(self, *inputs: Any) -> Any:
        """The op on its inputs: through the graph (a Value) when any input is a Value, else on plain data."""
        for x in inputs:
            if isinstance(x, Value):
                return apply(self, *inputs)
        if not self._floats:  # a float64 scalar as numpy's (np.result_type and .sum work, and it promotes strongly)
            inputs = tuple([np.float64(x) if type(x) is float else x for x in inputs])
        try:
            return self.forward(*inputs)
        except OverflowError as e:  # numpy given a huge int as an axis (as engine.apply reports it)
            raise ValueError(f"{self.label()}: {e}") from None

    def forward(self, *xs: Any) -> Any:
        raise NotImplementedError

    def label(self) -> str:
        """How the op is named in reprs and graph pictures (`sum(axis=1)`)."""
        params = self.params()
        return f"{self.name}({', '.join(f'{k}={v!r}' for k, v in params.items())})" if params else self.name

    def params(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__slots__ if not k.startswith("_")}  # type: ignore[attr-defined,var-annotated]

    def __repr__(self) -> str:
        return f"<op {self.label()}>"


def _data(x: Any) -> Any:
    """The numpy data of a Value, or x itself: for masks that are constants of the rule."""
    return x._data if isinstance(x, Value) else x


_call = Op.__call__  # (the functions below: op(x) as _call(OP, x), one global op instance each)


def _norm_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """Axes as non-negative ints (numpy has already checked them in the forward)."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(int(a) % max(ndim, 1) for a in axes)


def _keepdims_shape(shape: tuple[int, ...], axis: Axis) -> tuple[int, ...]:
    axes = _norm_axes(axis, len(shape))
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


# ---- arithmetic -------------------------------------------------------------


class Add(Op):
    """x + y."""

    name = "+"
    floats = True

    def forward(self, x, y):
        return x + y

    vjp0 = vjp1 = passes_gradient  # d(x + y)/dx = d(x + y)/dy = 1


class Sub(Op):
    """x - y."""

    name = "-"
    floats = True

    def forward(self, x, y):
        return x - y

    vjp0 = passes_gradient  # d(x - y)/dx = 1

    def vjp1(self, g, out, x, y):
        return -g


class Mul(Op):
    """x * y."""

    name = "*"
    floats = True

    def forward(self, x, y):
        return x * y

    def vjp0(self, g, out, x, y):
        return g * y

    def vjp1(self, g, out, x, y):
        return g * x


class Div(Op):
    """x / y; inf or nan where y == 0, with numpy's warning."""

    name = "/"
    floats = True

    def forward(self, x, y):
        return x / y

    def vjp0(self, g, out, x, y):
        return g / y

    def vjp1(self, g, out, x, y):
        return -g * out / y


class Neg(Op):
    """-x."""

    name = "neg"
    floats = True

    def forward(self, x):
        return -x

    def vjp0(self, g, out, x):
        return -g


class Pow(Op):
    """x ** y; d/dx = y x**(y-1), taken as 0 where y == 0 (x**0 is 1, even at x = 0, as in PyTorch);
    d/dy = x**y * log(x), taken as 0 where x == 0."""

    name = "**"
    floats = True

    def forward(self, x, y):
        r = x**y
        return np.float64(x) ** y if type(r) is complex else r  # Python's (-8.0) ** 0.5 is complex; numpy's nan

    def vjp0(self, g, out, x, y):
        yd = _data(y)
        if (type(yd) is float or type(yd) is int) and not (isinstance(y, Value) and y.requires_grad):
            if yd == 0:  # a number exponent (x ** 2, the common case) of 0
                return g * 0.0
        else:
            zero = yd == 0
            if np.any(zero):  # where y = 0 and x**(y-1) overflows (x = 0, or tiny), y x**(y-1) is 0 * inf = nan
                with np.errstate(all="ignore"):
                    zero = zero & ~np.isfinite(_data(x) ** (yd - 1.0))
                if np.any(zero):
                    x = where(zero, 1.0, x)  # take x**(y-1) at x = 1 there: the gradient 0, its derivatives finite
        p = x ** (y - 1)
        if type(p) is complex:
            p = np.float64(x) ** (y - 1)
        return g * y * p

    def vjp1(self, g, out, x, y):
        if type(x) is Constant:  # (second derivatives: a number base, lifted)
            x = x._data
        if isinstance(x, (int, float)):  # a Python base (2 ** v) stays weakly typed: float32 stays float32
            return g * out * (float(np.log(x)) if x != 0 else 0.0)
        return g * out * log(where(_data(x) == 0, 1.0, x))  # not 0 * log(0) = nan


class MatMul(Op):
    """x @ y with numpy's rules: 1-D operands are promoted and the batch dimensions broadcast."""

    name = "@"

    def forward(self, x, y):
        try:
            return x @ y
        except (ValueError, TypeError):
            pass  # say why, in the engine's words rather than numpy's
        if np.ndim(x) == 0 or np.ndim(y) == 0:
            raise ValueError("matmul needs operands with at least 1 dimension; use * to multiply by a scalar")
        if np.shape(x)[-1] != np.shape(y)[-2 if np.ndim(y) > 1 else 0]:
            raise ValueError(
                f"shapes {np.shape(x)} and {np.shape(y)} do not align: x's last dimension ({np.shape(x)[-1]}) "
                f"must equal y's {'second-to-last' if np.ndim(y) > 1 else 'only'} dimension ({np.shape(y)[-2 if np.ndim(y) > 1 else 0]})"
            )
        if np.ndim(x) > 2 and np.ndim(y) > 2:
            raise ValueError(
                f"shapes {np.shape(x)} and {np.shape(y)}: the batch dimensions {np.shape(x)[:-2]} and {np.shape(y)[:-2]} do not broadcast"
            )
        return x @ y  # numpy's own error

    def vjp0(self, g, out, x, y):
        if y.ndim == 1:
            return g * y if x.ndim == 1 else g[..., None] * y
        if x.ndim == 1:
            return (g[..., None, :] @ y.mT)[..., 0, :]
        return g @ y.mT

    def vjp1(self, g, out, x, y):
        if x.ndim == 1:
            return g * x if y.ndim == 1 else x[:, None] * g[..., None, :]
        if y.ndim == 1:
            return (x.mT @ g[..., None])[..., 0]
        yd = _data(y)
        if x.ndim == 2 and yd.ndim == 2 and yd.flags.f_contiguous and not yd.flags.c_contiguous:
            # NOTE: y is a transposed view (x @ W.T): the same product, laid out as W is, so W's gradient
            # is C-ordered and the optimizer's update is not a strided walk over a transposed array.
            return (g.mT @ x).mT
        return x.mT @ g


class MatMulT(Op):
    """x @ yᵀ for a matrix y: nn.Linear's x @ weight.T as one node instead of a transpose and a
    matmul, with y's gradient computed in y's own (out, in) layout. x is (..., in), y (out, in)."""

    name = "@ᵀ"

    def forward(self, x, y):
        try:
            if y.ndim == 2 and x.shape[-1] == y.shape[1]:
                return x @ y.T
        except (AttributeError, IndexError):  # a scalar
            pass
        raise ValueError("x @ yᵀ needs x of shape (..., n) and a matrix y of shape (m, n), with the same n")  # (the engine adds the shapes)

    def vjp0(self, g, out, x, y):
        return g @ y

    def vjp1(self, g, out, x, y):
        if x.ndim != 2:  # one sample (n,) or a batch with more axes: rows of (.., n) against rows of (.., m)
            g, x = g.reshape(-1, g.shape[-1]), x.reshape(-1, x.shape[-1])
        return g.mT @ x


# ---- elementwise functions ----------------------------------------------------


class Exp(Op):
    """e**x."""

    name = "exp"
    floats = True

    def forward(self, x):
        return math.exp(x) if type(x) is float else np.exp(x)  # math.exp's OverflowError: the engine retries with numpy

    def vjp0(self, g, out, x):
        return g * out


class Log(Op):
    """Natural log; -inf at 0, nan below 0 (numpy's values and warnings)."""

    name = "log"
    floats = True

    def forward(self, x):
        return math.log(x) if type(x) is float else np.log(x)  # math.log(0.0)'s ValueError: retried with numpy

    def vjp0(self, g, out, x):
        return g / x


class Sqrt(Op):
    """Square root; the gradient is inf at 0."""

    name = "sqrt"
    floats = True

    def forward(self, x):
        return math.sqrt(x) if type(x) is float else np.sqrt(x)

    def vjp0(self, g, out, x):
        return g / (out * 2)


class Tanh(Op):
    """tanh(x); d/dx = sech(x)**2, computed by TanhGrad so it stays accurate in the tails."""

    name = "tanh"
    floats = True

    def forward(self, x):
        return math.tanh(x) if type(x) is float else np.tanh(x)

    def vjp0(self, g, out, x):
        return g * (tanh_grad(x) if isinstance(x, Value) else TANH_GRAD.forward(x))  # (arrays and floats: no _call)


class TanhGrad(Op):
    """sech(x)**2 = 1 - tanh(x)**2, as 4e/(1+e)**2 with e = exp(-2|x|): no cancellation when |x| is large."""

    name = "tanh'"
    floats = True

    def forward(self, x):
        e = math.exp(-2 * abs(x)) if type(x) is float else np.exp(-2 * abs(x))
        return 4 * e / ((1 + e) * (1 + e))

    def vjp0(self, g, out, x):
        return g * out * tanh(x) * -2


def _sigmoid(x):
    if type(x) is float:
        e = math.exp(-abs(x))  # never overflows
        p = 1 / (1 + e)
        return p if x >= 0 else e * p
    e = np.exp(-abs(x))
    p = 1 / (1 + e)
    if np.ndim(x) == 0:
        return p if x >= 0 else e * p
    return np.where(x >= 0, p, e * p)


class Sigmoid(Op):
    """1 / (1 + e**-x) without overflow; d/dx = sigmoid(x) * sigmoid(-x), exact in both tails."""

    name = "sigmoid"
    floats = True

    def forward(self, x):
        return _sigmoid(x)

    def vjp0(self, g, out, x):
        return g * out * (sigmoid(-x) if isinstance(x, Value) else _sigmoid(-x))


class Softplus(Op):
    """log(1 + e**x), computed as logaddexp(0, x) so it never overflows; d/dx = sigmoid(x)."""

    name = "softplus"
    floats = True

    def forward(self, x):
        return np.logaddexp(0, x)

    def vjp0(self, g, out, x):
        return g * sigmoid(x)


_erf = np.vectorize(math.erf, otypes=[np.float64])


class Erf(Op):
    """The error function (math.erf elementwise); d/dx = 2/sqrt(pi) * exp(-x**2)."""

    name = "erf"

    def forward(self, x):
        return _erf(x).astype(np.result_type(x, np.float32), copy=False)

    def vjp0(self, g, out, x):
        return g * exp(-(x * x)) * (2 / math.sqrt(math.pi))


class Relu(Op):
    """max(x, 0); gradient 0 at x == 0; second derivative 0 everywhere (also at the kink, where it is undefined)."""

    name = "relu"
    floats = True

    def forward(self, x):
        if type(x) is float:
            return x if x > 0 or x != x else 0.0  # nan stays nan, as in np.maximum
        return np.maximum(x, 0)

    def vjp0(self, g, out, x):
        return g * (_data(x) > 0)


class LeakyRelu(Op):
    """x for x > 0 else negative_slope * x; gradient negative_slope at x == 0; second derivative 0 everywhere."""

    __slots__ = ("negative_slope",)
    name = "leaky_relu"

    def __init__(self, negative_slope: float = 0.01):
        if isinstance(negative_slope, bool) or not isinstance(negative_slope, (int, float, np.integer, np.floating)):
            raise TypeError(f"leaky_relu: negative_slope must be a number, got {type(negative_slope).__name__}: {negative_slope!r}"[:200])
        self.negative_slope = float(negative_slope)

    def forward(self, x):
        return np.where(x > 0, x, x * self.negative_slope)

    def vjp0(self, g, out, x):
        pos = np.greater(_data(x), 0)  # (a numpy bool even for a Python float: ~True would be -2)
        return g * pos + (g * self.negative_slope) * ~pos


class BinaryStep(Op):
    """1 where x >= 0 else 0. The gradient (and every higher derivative) is 0 everywhere, also at 0 where it is undefined."""

    name = "binary_step"
    floats = True

    def forward(self, x):
        return np.heaviside(x, 1.0)

    def vjp0(self, g, out, x):
        return g * 0


class Abs(Op):
    """|x|; gradient sign(x), so 0 at x == 0; second derivative 0 everywhere (at 0 it is undefined)."""

    name = "abs"
    floats = True

    def forward(self, x):
        return abs(x) if type(x) is float else np.abs(x)

    def vjp0(self, g, out, x):
        return g * np.sign(_data(x))


class Clip(Op):
    """x limited to [lo, hi]; gradient 1 inside and on the bounds, 0 outside; second derivative 0 everywhere."""

    __slots__ = ("lo", "hi")
    name = "clip"
    floats = True

    def __init__(self, lo: float | None, hi: float | None):
        if lo is None and hi is None:
            raise ValueError("clip: give at least one of lo and hi")
        for name, b in (("lo", lo), ("hi", hi)):  # an array bound would change the output's shape
            if b is not None and (isinstance(b, bool) or not isinstance(b, (int, float, np.integer, np.floating))):
                raise TypeError(f"clip: {name} must be a number or None, got {type(b).__name__}: {b!r}"[:200])
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip: lo ({lo}) is greater than hi ({hi})")
        self.lo, self.hi = lo, hi

    def forward(self, x):
        return np.clip(x, self.lo, self.hi)

    def vjp0(self, g, out, x):
        xd = _data(x)
        inside = np.ones(np.shape(xd), dtype=bool)
        if self.lo is not None:
            inside &= xd >= self.lo
        if self.hi is not None:
            inside &= xd <= self.hi
        return g * inside


class Maximum(Op):
    """Elementwise max(x, y); at a tie each side gets half of the gradient; second derivative 0 (ties included)."""

    name = "maximum"
    floats = True

    def forward(self, x, y):
        return np.maximum(x, y)

    def vjp0(self, g, out, x, y):
        xd, yd = _data(x), _data(y)
        return g * (xd > yd) + (g * 0.5) * (xd == yd)

    def vjp1(self, g, out, x, y):
        xd, yd = _data(x), _data(y)
        return g * (yd > xd) + (g * 0.5) * (xd == yd)


class Minimum(Op):
    """Elementwise min(x, y); at a tie each side gets half of the gradient; second derivative 0 (ties included)."""

    name = "minimum"
    floats = True

    def forward(self, x, y):
        return np.minimum(x, y)

    def vjp0(self, g, out, x, y):
        xd, yd = _data(x), _data(y)
        return g * (xd < yd) + (g * 0.5) * (xd == yd)

    def vjp1(self, g, out, x, y):
        xd, yd = _data(x), _data(y)
        return g * (yd < xd) + (g * 0.5) * (xd == yd)


class Where(Op):
    """a where cond else b (cond is a fixed boolean array)."""

    __slots__ = ("cond",)
    name = "where"
    floats = True

    def __init__(self, cond: Any):
        self.cond = np.asarray(_data(cond), dtype=bool)

    def params(self):
        return {}

    def forward(self, a, b):
        return np.where(self.cond, a, b)

    def vjp0(self, g, out, a, b):
        return g * self.cond

    def vjp1(self, g, out, a, b):
        return g * ~self.cond


class Softmax(Op):
    """exp(x) / sum(exp(x)) along axis, with the max subtracted first so nothing overflows."""

    __slots__ = ("axis",)
    name = "softmax"

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        if not x.size:  # nothing to normalise (an empty batch, or an empty axis): np.max would refuse
            return _empty_like_checked(x, self.axis)
        e = np.exp(x - np.max(x, axis=self.axis, keepdims=True))
        return e / e.sum(axis=self.axis, keepdims=True)

    def vjp0(self, g, out, x):
        return out * (g - (g * out).sum(axis=self.axis, keepdims=True))


class LogSoftmax(Op):
    """x - logsumexp(x) along axis, computed stably."""

    __slots__ = ("axis",)
    name = "log_softmax"

    def __init__(self, axis: int = -1):
        self.axis = axis

    def forward(self, x):
        if not x.size:
            return _empty_like_checked(x, self.axis)
        s = x - np.max(x, axis=self.axis, keepdims=True)
        return s - np.log(np.exp(s).sum(axis=self.axis, keepdims=True))

    def vjp0(self, g, out, x):
        return g - exp(out) * g.sum(axis=self.axis, keepdims=True)


def _empty_like_checked(x: np.ndarray, axis: int) -> np.ndarray:
    """An empty x's (empty) softmax, after numpy has checked the axis."""
    np.add.reduce(x, axis=axis)
    return x.copy()


class SoftmaxCrossEntropy(Op):
    """-log softmax(x)[label] for each row of logits x (classes on the last axis), then the mean,
    the sum or nothing. One node instead of log_softmax, a one-hot product, a sum and a mean: its
    gradient is (softmax(x) - one_hot(label)) * g (/ rows for the mean), with softmax kept from
    the forward, as PyTorch saves it."""

    __slots__ = ("labels", "reduction", "_rows", "_p", "_flat")
    name = "cross_entropy"

    def __init__(self, labels: np.ndarray, reduction: str = "mean"):
        self.labels, self.reduction = labels, reduction
        self._rows = np.arange(labels.size)
        self._p: Any = None
        self._flat: Any = None

    def params(self):
        return {"reduction": self.reduction}

    def forward(self, x):
        if self.reduction == "mean" and not self.labels.size:
            raise ValueError("cross_entropy: the mean over an empty batch is undefined")
        c = x.shape[-1]
        z = x.reshape(-1, c)
        s = z - np.maximum.reduce(z, axis=1, keepdims=True)  # (the ufuncs' reduce: .max and .sum wrap it in Python)
        e = np.exp(s)
        total = np.add.reduce(e, axis=1, keepdims=True)
        self._p = e / total  # softmax, for the gradient
        self._flat = self._rows * c + self.labels.reshape(-1)  # each row's label, in the flattened (rows, c)
        losses = np.log(total[:, 0]) - s.take(self._flat)
        if self.reduction == "mean":
            return np.add.reduce(losses) / losses.size  # as losses.mean(), without its Python-level checks
        return np.add.reduce(losses) if self.reduction == "sum" else losses.reshape(self.labels.shape)

    def vjp0(self, g, out, x):
        shape = x.shape  # (an array, or a Value for second derivatives: the forward took an array)
        rows = self._rows
        if self.reduction == "mean":
            scale = g / max(rows.size, 1)
        else:
            scale = g if self.reduction == "sum" else g.reshape(-1, 1)
        if isinstance(x, Value):  # second derivatives: softmax through the graph
            hot = np.zeros((rows.size, shape[-1]), dtype=_data(x).dtype)
            hot[rows, self.labels.reshape(-1)] = 1
            return ((x.reshape(-1, shape[-1]).softmax(axis=-1) - hot) * scale).reshape(shape)
        d = self._p * scale  # (softmax - one_hot) * scale, without a copy of softmax or a one-hot array
        d.reshape(-1)[self._flat] -= scale if self.reduction != "none" else scale.reshape(-1)
        return d.reshape(shape)


class BinaryCrossEntropy(Op):
    """-(t log p + (1 - t) log(1 - p)) elementwise, each log clamped at -100 as in PyTorch, so p of
    exactly 0 or 1 costs at most 100. The gradient for p is PyTorch's, (p - t) / max(p (1 - p),
    1e-12): a confidently wrong p gets a large, bounded push (a clamp alone would give it 0). For
    t it is the derivative of the clamped loss, max(log(1 - p), -100) - max(log p, -100)."""

    name = "binary_cross_entropy"

    def forward(self, p, t):
        return -(t * _clamped_log(p) + (1 - t) * _clamped_log(1 - p))

    def vjp0(self, g, out, p, t):
        return g * (p - t) / maximum(p * (1 - p), 1e-12)

    def vjp1(self, g, out, p, t):
        return g * (_clamped_log(1 - p) - _clamped_log(p))


def _clamped_log(x: Any) -> Any:
    """max(log x, -100) for x in [0, 1], of an array or a Value: -100 at 0, without log(0)'s warning."""
    if not isinstance(x, Value):
        with np.errstate(divide="ignore"):
            return np.maximum(np.log(x), -100.0)
    pos = _data(x) > 0  # (second derivatives) log only where x > 0: log(0)'s rule would give nan
    return where(pos, maximum(log(where(pos, x, 1.0)), -100.0), -100.0)


# ---- reductions -----------------------------------------------------------------


class Sum(Op):
    """Sum over axis (all when None)."""

    __slots__ = ("axis", "keepdims")
    name = "sum"

    def __init__(self, axis: Axis = None, keepdims: bool = False):
        self.axis, self.keepdims = _axis_param(axis), bool(keepdims)

    def params(self):
        return {k: v for k, v in (("axis", self.axis), ("keepdims", self.keepdims)) if v is not None and v is not False}  # axis=0 == False

    def forward(self, x):
        return np.add.reduce(x, axis=self.axis, keepdims=self.keepdims)  # what x.sum() runs, without its Python wrapper

    def vjp0(self, g, out, x):
        if type(x) is np.ndarray and type(g) is not Value:  # first derivatives: a fresh array, filled with g
            if self.axis is None and not self.keepdims:  # g is a scalar (the common x.sum())
                r = np.empty_like(x)
                r.fill(g)
                return r
            if self.axis is not None and not self.keepdims:
                g = g.reshape(_keepdims_shape(x.shape, self.axis))
            return broadcast_to(g, x.shape)
        return broadcast_to(self._keep(g, x), np.shape(_data(x)))

    def _empty(self, x):
        """The reduction of an empty x (mean, max, min): an empty batch gives an empty result; an
        output element that would reduce no elements (an empty axis) is an error."""
        r = np.add.reduce(x, axis=self.axis, keepdims=self.keepdims)  # numpy checks the axes; no warning
        if np.size(r):
            raise ValueError(f"{self.name} over an empty axis: there are no elements to reduce")
        return r

    def _keep(self, g: Any, x: Any) -> Any:
        """g with the reduced axes put back as size 1, so it broadcasts against x."""
        if self.axis is None or self.keepdims:  # g is 0-d, or already has them
            return g
        return g.reshape(_keepdims_shape(np.shape(_data(x)), self.axis))


class Mean(Sum):
    """Mean over axis (all when None)."""

    __slots__ = ()
    name = "mean"

    def forward(self, x):
        if not np.size(x):
            return self._empty(x)
        return np.mean(x, axis=self.axis, keepdims=self.keepdims)

    def vjp0(self, g, out, x):
        n = np.size(_data(x)) // max(np.size(_data(out)), 1)
        return broadcast_to(self._keep(g, x) / n, np.shape(_data(x)))


class Max(Sum):
    """Max over axis; tied maxima share the gradient evenly; second derivative 0 (ties included)."""

    __slots__ = ()
    name = "max"
    _reduce = staticmethod(np.max)

    def forward(self, x):
        if not np.size(x):
            return self._empty(x)
        return self._reduce(x, axis=self.axis, keepdims=self.keepdims)

    def vjp0(self, g, out, x):
        xd = _data(x)
        kshape = _keepdims_shape(np.shape(xd), self.axis)
        hit = xd == np.reshape(_data(out), kshape)
        share = hit / hit.sum(axis=self.axis, keepdims=True)
        return g.reshape(kshape) * share.astype(np.result_type(xd, np.float32))  # broadcasts to x's shape


class Min(Max):
    """Min over axis; tied minima share the gradient evenly; second derivative 0 (ties included)."""

    __slots__ = ()
    name = "min"
    _reduce = staticmethod(np.min)


def _axis_param(axis: Axis) -> Axis:
    if axis is None or isinstance(axis, (int, np.integer)):
        return None if axis is None else int(axis)
    if isinstance(axis, (tuple, list)) and all(isinstance(a, (int, np.integer)) for a in axis):
        return tuple(int(a) for a in axis)
    raise TypeError(f"axis must be None, an int or a tuple of ints, got {axis!r}")


# ---- shapes and indexing ----------------------------------------------------------


class Reshape(Op):
    """The same elements in a new shape."""

    __slots__ = ("shape",)
    name = "reshape"

    def __init__(self, shape: tuple[int, ...]):
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in shape):
            raise TypeError(f"reshape: the new shape must be ints, got {tuple(shape)!r}"[:200])
        self.shape = tuple(int(n) for n in shape)

    def forward(self, x):
        return np.reshape(x, self.shape)

    def vjp0(self, g, out, x):
        return g.reshape(np.shape(_data(x)))


class Transpose(Op):
    """Axes permuted (reversed when axes is None)."""

    __slots__ = ("axes",)
    name = "transpose"

    def __init__(self, axes: tuple[int, ...] | None = None):
        self.axes = axes

    def params(self):
        return {} if self.axes is None else {"axes": self.axes}

    def forward(self, x):
        return x.transpose(self.axes)  # the method: np.transpose is a Python-level wrapper around it

    def vjp0(self, g, out, x):
        if self.axes is None:
            return g.transpose()
        return g.transpose(tuple(np.argsort([a % g.ndim for a in self.axes])))


class BroadcastTo(Op):
    """x repeated along new or size-1 axes to `shape` (a read-only view)."""

    __slots__ = ("shape",)
    name = "broadcast_to"

    def __init__(self, shape: tuple[int, ...]):
        self.shape = tuple(shape)

    def forward(self, x):
        return np.broadcast_to(x, self.shape)

    def vjp0(self, g, out, x):
        from .engine import unbroadcast

        return unbroadcast(g, np.shape(_data(x)))


def _index(index: Any) -> Any:
    """An index with Values replaced by their data and lists by arrays."""
    if isinstance(index, tuple):
        return tuple(_index(i) for i in index)
    if isinstance(index, Value):
        index = index._data
    if isinstance(index, list):
        index = np.asarray(index) if index else np.zeros(0, dtype=np.intp)  # [] selects nothing, as in numpy
    if isinstance(index, np.ndarray) and index.dtype.kind == "f":
        raise IndexError(f"index arrays must be integers or booleans, got dtype {index.dtype}")
    return index


def _is_basic(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return all(i is None or i is Ellipsis or isinstance(i, (int, np.integer, slice)) for i in items)


class GetItem(Op):
    """x[index] for ints, slices, None, Ellipsis, integer arrays and boolean masks; repeated indices add up."""

    __slots__ = ("index",)
    name = "getitem"

    def __init__(self, index: Any):
        self.index = _index(index)

    def label(self):
        return f"[{_fmt_index(self.index)}]"

    def forward(self, x):
        return np.asarray(x)[self.index]

    def vjp0(self, g, out, x):
        return scatter_add(g, self.index, np.shape(_data(x)))


class ScatterAdd(Op):
    """zeros(shape) with g added at index (the adjoint of indexing)."""

    __slots__ = ("index", "shape")
    name = "scatter_add"

    def __init__(self, index: Any, shape: tuple[int, ...]):
        self.index, self.shape = index, shape

    def params(self):
        return {"shape": self.shape}

    def forward(self, g):
        z = np.zeros(self.shape, dtype=np.result_type(g, np.float32))
        if _is_basic(self.index):
            z[self.index] = g
        else:
            np.add.at(z, self.index, g)
        return z

    def vjp0(self, g, out, x):
        return g[self.index]


def _fmt_index(index: Any) -> str:
    items = index if isinstance(index, tuple) else (index,)
    parts = []
    for i in items:
        if isinstance(i, slice):
            parts.append(":".join("" if v is None else str(v) for v in (i.start, i.stop)) + ("" if i.step is None else f":{i.step}"))
        elif i is None:
            parts.append("None")
        elif i is Ellipsis:
            parts.append("...")
        elif isinstance(i, np.ndarray):
            parts.append(f"<{i.dtype.name} {i.shape}>" if i.size > 4 else str(i.tolist()))
        else:
            parts.append(str(i))
    return ", ".join(parts)


class Concatenate(Op):
    """Inputs joined along an existing axis."""

    __slots__ = ("axis",)
    name = "concatenate"

    def __init__(self, axis: int, n: int):
        self.axis = int(axis)
        self.vjps = [functools.partial(Concatenate._part, i=i) for i in range(n)]

    def params(self):
        return {"axis": self.axis}

    def forward(self, *xs):
        if any(np.ndim(x) == 0 for x in xs):
            raise ValueError("zero-dimensional Values cannot be concatenated; use stack")
        return np.concatenate(xs, axis=self.axis)

    def _part(self, g, out, *xs, i):
        ax = self.axis % g.ndim
        start = sum(np.shape(_data(x))[ax] for x in xs[:i])
        stop = start + np.shape(_data(xs[i]))[ax]
        return g[(slice(None),) * ax + (slice(start, stop),)]


class Stack(Op):
    """Inputs of one shape joined along a new axis."""

    __slots__ = ("axis",)
    name = "stack"

    def __init__(self, axis: int, n: int):
        self.axis = int(axis)
        self.vjps = [functools.partial(Stack._part, i=i) for i in range(n)]

    def params(self):
        return {"axis": self.axis}

    def forward(self, *xs):
        return np.stack(xs, axis=self.axis)

    def _part(self, g, out, *xs, i):
        ax = self.axis % g.ndim
        return g[(slice(None),) * ax + (i,)]


# ---- the op instances without parameters, shared by every node ----------------------

ADD, SUB, MUL, DIV, NEG, POW, MATMUL, MATMUL_T = Add(), Sub(), Mul(), Div(), Neg(), Pow(), MatMul(), MatMulT()
EXP, LOG, SQRT, TANH, TANH_GRAD, SIGMOID = Exp(), Log(), Sqrt(), Tanh(), TanhGrad(), Sigmoid()
RELU, BINARY_STEP, ABS = Relu(), BinaryStep(), Abs()


# ---- functions that work on arrays and on Values (used by the rules and the public API) ----


def exp(x: Any) -> Any:
    """e**x of an array or a Value."""
    return _call(EXP, x)


def log(x: Any) -> Any:
    """Natural log of an array or a Value."""
    return _call(LOG, x)


def softplus(x: Any) -> Any:
    """log(1 + e**x) of an array or a Value, without overflow."""
    return _call(SOFTPLUS, x)


def erf(x: Any) -> Any:
    """The error function of an array or a Value."""
    return _call(ERF, x)


def tanh(x: Any) -> Any:
    """tanh of an array or a Value."""
    return _call(TANH, x)


def tanh_grad(x: Any) -> Any:
    """1 - tanh(x)**2 of an array or a Value, accurate in the tails."""
    return _call(TANH_GRAD, x)


def sigmoid(x: Any) -> Any:
    """The logistic function of an array or a Value."""
    return _call(SIGMOID, x)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Any:
    """x broadcast to shape: a Value through the graph; an array as a fresh writable copy."""
    shape = tuple(shape)
    if isinstance(x, Value):
        return x if x.shape == shape else apply(BroadcastTo(shape), x)
    t = type(x)
    # NOTE: x.shape, not np.shape(x), which costs ~1 us on a numpy scalar. And not np.broadcast_to:
    # it costs ~4 us, and its read-only view would be copied anyway when stored as a .grad; filling
    # a new array hands the engine an array it owns.
    if t is float:
        xshape: tuple[int, ...] = ()
        dtype: Any = _F64
    else:
        xshape = x.shape if hasattr(x, "shape") else np.shape(x)
        dtype = getattr(x, "dtype", None)
        if dtype is None or dtype.kind != "f":
            dtype = _F64
    if xshape == shape:
        return x
    out = np.empty(shape, dtype=dtype)
    if xshape:
        out[...] = x
    else:
        out.fill(x)
    return out


def scatter_add(g: Any, index: Any, shape: tuple[int, ...]) -> Any:
    """zeros(shape) with g added at index (array or Value)."""
    return _call(ScatterAdd(index, shape), g)


def where(cond: Any, a: Any, b: Any) -> Any:
    """a where cond else b; the gradient flows to a where cond holds and to b elsewhere."""
    return _call(Where(cond), a, b)


def maximum(a: Any, b: Any) -> Any:
    """Elementwise maximum; at a tie each side gets half the gradient."""
    return _call(MAXIMUM, a, b)


def minimum(a: Any, b: Any) -> Any:
    """Elementwise minimum; at a tie each side gets half the gradient."""
    return _call(MINIMUM, a, b)


MAXIMUM, MINIMUM = Maximum(), Minimum()
SOFTPLUS, ERF = Softplus(), Erf()


def concatenate(values: Any, axis: int = 0) -> Any:
    """Values (or arrays) joined along an existing axis."""
    values = list(values)
    if not values:
        raise ValueError("concatenate needs at least one Value")
    return _call(Concatenate(axis, len(values)), *values)


def stack(values: Any, axis: int = 0) -> Any:
    """Values (or arrays) of one shape joined along a new axis."""
    values = list(values)
    if not values:
        raise ValueError("stack needs at least one Value")
    return _call(Stack(axis, len(values)), *values)
