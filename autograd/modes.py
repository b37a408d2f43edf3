"""Per-thread switches read by every op: recording on or off (`no_grad`), anomaly checks, the module scope."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, overload


class _State:
    """One thread's switches: recording on or off, anomaly checks, the module scope being run."""

    __slots__ = ("grad_enabled", "anomaly", "scope", "tracer")

    def __init__(self) -> None:
        self.grad_enabled = True
        self.anomaly = False
        self.scope: Any = None
        self.tracer: Any = None  # autograd.jit's tracer while this thread traces a function (jit_trace.py)


# NOTE: each thread's _State lives in a context variable: every op reads it, and ContextVar.get is
# about half the cost of a threading.local attribute. A new thread starts with an empty context, so
# it makes its own state on first use (`state`). Where new threads inherit their parent's context
# (free-threaded CPython 3.14+), they would share the state object, so there a threading.local is used.
if not getattr(sys.flags, "thread_inherit_context", 0):
    _var: contextvars.ContextVar[_State] = contextvars.ContextVar("autograd.modes")
    peek: Callable[[None], _State | None] = _var.get  # peek(None): this thread's state, or None before its first use

    def state() -> _State:
        """This thread's switches (made on its first use)."""
        s = peek(None)
        if s is None:
            s = _State()
            _var.set(s)
        return s

    def set_state(s: _State) -> None:
        """Make s this thread's switches (autograd.jit traces with switches of its own)."""
        _var.set(s)

else:  # pragma: no cover
    _local = threading.local()

    def peek(default: None) -> _State | None:
        return getattr(_local, "s", default)

    def state() -> _State:
        """This thread's switches (made on its first use)."""
        s = peek(None)
        if s is None:
            s = _local.s = _State()
        return s

    def set_state(s: _State) -> None:
        """Make s this thread's switches (autograd.jit traces with switches of its own)."""
        _local.s = s


class _Mode:
    """`mode.grad_enabled`, `mode.anomaly`, `mode.scope`: this thread's switches, readable and settable."""

    s = property(lambda self: state(), lambda self, s: set_state(s))
    grad_enabled = property(lambda self: state().grad_enabled, lambda self, v: setattr(state(), "grad_enabled", v))
    anomaly = property(lambda self: state().anomaly, lambda self, v: setattr(state(), "anomaly", v))
    scope = property(lambda self: state().scope, lambda self, v: setattr(state(), "scope", v))


mode = _Mode()


@contextlib.contextmanager
def _grad_mode(enabled: bool) -> Iterator[None]:
    s = state()
    prev = s.grad_enabled
    s.grad_enabled = enabled
    try:
        yield
    finally:
        s.grad_enabled = prev


F = TypeVar("F", bound=Callable[..., Any])


@overload
def no_grad(func: None = None) -> contextlib.AbstractContextManager[None]: ...
@overload
def no_grad(func: F) -> F: ...
def no_grad(func: Any = None) -> Any:
    """Record no graph inside this block (per thread, nestable). Also a decorator: `@no_grad()`
    or, as in PyTorch, `@no_grad`."""
    return _grad_mode(False) if func is None else _decorate(_grad_mode, False, func, "no_grad")


@overload
def enable_grad(func: None = None) -> contextlib.AbstractContextManager[None]: ...
@overload
def enable_grad(func: F) -> F: ...
def enable_grad(func: Any = None) -> Any:
    """Record the graph again inside a `no_grad` block (also a decorator, with or without parentheses)."""
    return _grad_mode(True) if func is None else _decorate(_grad_mode, True, func, "enable_grad")


def _decorate(cm: Any, arg: Any, func: Any, name: str) -> Any:
    if not callable(func):
        raise TypeError(f"{name}() takes no arguments as a context manager, or one function to decorate; got {type(func).__name__}")

    @functools.wraps(func)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        with cm(arg):
            return func(*args, **kwargs)

    return wrapped


def is_grad_enabled() -> bool:
    """Whether ops record a graph in this thread now."""
    return state().grad_enabled

