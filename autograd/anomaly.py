"""Anomaly mode: stop at the first op whose forward output or backward gradient is not finite.

    with autograd.detect_anomaly():
        loss = model(x)          # raises here if an op makes a nan or an inf ...
        loss.backward()          # ... or here, at the first gradient that is not finite

The error names the op, the node's label and the file:line in the user's code that created
the node. Creation sites are recorded only while the mode is on (the engine calls
`check_forward` only then), so normal runs pay nothing. The mode is per thread and nestable.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any, TypeVar

import numpy as np

from .modes import mode
from .value import Value

F = TypeVar("F", bound=Callable[..., Any])

_HERE = os.path.dirname(os.path.abspath(__file__))
# Frames inside these packages are library code; the creation site is the first frame outside them.
_LIBRARY_DIRS = tuple(os.path.join(d, "") for d in (_HERE, os.path.join(os.path.dirname(_HERE), "nn")))


class AnomalyError(RuntimeError):
    """A forward value or a gradient is not finite (raised only inside `detect_anomaly()`)."""


@contextlib.contextmanager
def _anomaly(enabled: bool) -> Iterator[None]:
    prev = mode.anomaly
    mode.anomaly = enabled
    try:
        yield
    finally:
        mode.anomaly = prev


def detect_anomaly(enabled: bool | Callable[..., Any] = True) -> Any:
    """Raise AnomalyError (a RuntimeError) at the first op whose output or gradient is nan or inf.

    Use as `with detect_anomaly():`, `@detect_anomaly()` or `@detect_anomaly`. Per thread and
    nestable: `detect_anomaly(False)` switches it off inside an outer block. Slows every op
    (each one is checked and its creation site recorded), so use it to debug, not to train.
    """
    if callable(enabled):  # used as a bare decorator: @detect_anomaly
        fn = enabled

        @functools.wraps(fn)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            with _anomaly(True):
                return fn(*args, **kwargs)

        return wrapped
    return _anomaly(bool(enabled))


def is_anomaly_enabled() -> bool:
    """Whether anomaly checks are on in this thread."""
    return mode.anomaly


def _creation_site() -> str | None:
    """file:line (function) of the innermost frame outside the autograd and nn packages."""
    f: FrameType | None = sys._getframe(2)
    while f is not None:
        fname = f.f_code.co_filename
        lib = _is_library.get(fname)
        if lib is None:
            lib = _is_library[fname] = os.path.abspath(fname).startswith(_LIBRARY_DIRS)
        if not lib:
            return f"{fname}:{f.f_lineno} (in {f.f_code.co_name})"
        f = f.f_back
    return None


_is_library: dict[str, bool] = {}


def _describe(v: Value) -> str:
    """op 'log' (label 'h', shape (3,)), created at file:line."""
    label = f"label {v.label!r}" if v.label else "no label"
    site = getattr(v, "_site", None)
    where = f"created at {site}" if site else "creation site not recorded (the forward ran outside detect_anomaly)"
    return f"op {v.op!r} ({label}, shape {v.shape}), {where}"


def _bad(a: Any) -> str | None:
    """'2 nan, 1 inf of 6 elements' if `a` has non-finite entries, else None."""
    a = np.asarray(a)
    if a.dtype.kind not in "fc" or np.isfinite(a).all():
        return None
    n_nan = int(np.isnan(a).sum())
    n_inf = int(a.size - n_nan - np.isfinite(a).sum())
    return f"{n_nan} nan, {n_inf} inf of {a.size} element{'s' if a.size != 1 else ''}"


def _input_names(v: Value) -> str:
    names = []
    for i, p in enumerate(v.parents):
        bad = _bad(p._data)
        name = repr(p.label) if p.label else (f"a {p.op!r} output" if p._op is not None else "an unlabelled leaf")
        names.append(f"input {i} ({name}, shape {p.shape}{', already not finite: ' + bad if bad else ''})")
    return "; ".join(names)


def check_forward(v: Value) -> None:
    """Record where v was created; raise AnomalyError if its value is not finite (called by engine.apply)."""
    v._site = _creation_site()  # type: ignore[attr-defined]
    bad = _bad(v._data)
    if bad is not None:
        raise AnomalyError(
            f"detect_anomaly: the forward output of {_describe(v)} is not finite ({bad}). Inputs: {_input_names(v)}"
        )


def check_backward(node: Value, i: int, gi: Any) -> None:
    """Raise AnomalyError if the gradient that node's op sends to its input i is not finite (called by backward)."""
    bad = _bad(gi._data if isinstance(gi, Value) else gi)
    if bad is not None:
        p = node.parents[i]
        target = f"input {i} ({repr(p.label) if p.label else 'unlabelled'}, shape {p.shape})"
        raise AnomalyError(
            f"detect_anomaly: the backward of {_describe(node)} gave a gradient for {target} that is not finite ({bad})"
        )
