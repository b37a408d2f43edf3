"""Module: parameters found by walking attributes; call = forward inside the module's scope; state dicts."""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from autograd import Value
from autograd import engine as _engine

__all__ = ["Module", "Parameter"]


def Parameter(data: Any, label: str | None = None) -> Value:
    """A trainable leaf: a Value with requires_grad=True (float data kept, ints made float64)."""
    v = Value(data, requires_grad=True, label=label)
    _register(v)
    return v


# Every leaf that has been a parameter (made by Parameter(), or found requiring grad in a module):
# it stays one when frozen (requires_grad=False), as in PyTorch. Keyed by id, with a weak reference
# (a Value's == compares data, so it cannot be a set member); the entry goes when the Value does.
_PARAMS: dict[int, weakref.ref[Value]] = {}


def _register(v: Value) -> None:
    i = id(v)
    if i not in _PARAMS or _PARAMS[i]() is not v:

        def gone(_: Any, i: int = i) -> None:
            _PARAMS.pop(i, None)

        _PARAMS[i] = weakref.ref(v, gone)


def _is_param(x: Any) -> bool:
    """A parameter is a leaf Value that requires grad, or did when it was made or first found in a
    module (frozen); a Value made by an op is a cached result, not a weight."""
    if not isinstance(x, Value) or x._op is not None:
        return False
    if x.requires_grad:
        _register(x)
        return True
    r = _PARAMS.get(id(x))
    return r is not None and r() is x


class LoadResult(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model, as in PyTorch.

    Subclasses set parameters (`Parameter(...)`, i.e. Values with requires_grad=True) and
    sub-modules as attributes, directly or in lists, tuples and dicts, and define `forward`.
    Attributes whose names start with "_" are private and not searched.
    """

    training: bool = True
    _show_children = True  # repr lists the sub-modules (Layer and Neuron show their activation inline)

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)

    # ---- attributes ----------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_"):
            old = self.__dict__.get(name)
            if _is_param(old) and value is not None and not _is_param(value):
                raise TypeError(
                    f"cannot assign {type(value).__name__} as parameter {name!r} of {type(self).__name__} (a leaf Value or None expected; "
                    f"to change its numbers in place, set {name}.data = ...)"
                )
            if _is_param(value) and value.label is None:
                value.label = name
            elif isinstance(value, (list, tuple, dict)):
                for key, v in value.items() if isinstance(value, dict) else enumerate(value):
                    if _is_param(v) and v.label is None:
                        v.label = f"{name}.{key}"  # as named_parameters() names it
        object.__setattr__(self, name, value)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """(name, sub-module) for the direct sub-modules, in attribute order (list items as `name.i`)."""
        for name, obj in self._named_members():
            if isinstance(obj, Module):
                yield name, obj

    def _named_members(self) -> Iterator[tuple[str, Any]]:
        """(name, obj) for the direct parameters and sub-modules, containers flattened (`layers.0`, `d.key`)."""
        stack: list[tuple[str, Any]] = [(k, v) for k, v in vars(self).items() if not k.startswith("_")][::-1]
        while stack:
            name, obj = stack.pop()
            if isinstance(obj, Module) or _is_param(obj):
                yield name, obj
            elif isinstance(obj, (list, tuple)):
                stack.extend((f"{name}.{i}", v) for i, v in reversed(list(enumerate(obj))))
            elif isinstance(obj, dict):
                stack.extend((f"{name}.{k}", v) for k, v in reversed(list(obj.items())))

    def children(self) -> Iterator[Module]:
        """The direct sub-modules."""
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(dotted name, module) for this module ('') and every sub-module, depth first, each once."""
        seen: set[int] = set()
        stack: list[tuple[str, Module]] = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            kids = [(f"{name}.{k}" if name else k, c) for k, c in m.named_children()]
            stack.extend(reversed(kids))

    def modules(self) -> Iterator[Module]:
        """This module and every sub-module."""
        for _, m in self.named_modules():
            yield m

    def named_parameters(self) -> Iterator[tuple[str, Value]]:
        """(dotted name, parameter) for every parameter in attribute order, depth first, e.g.
        ('layers.0.weight', Value); a parameter or module reached twice is listed once."""
        seen: set[int] = {id(self)}
        stack: list[tuple[str, Iterator[tuple[str, Any]]]] = [("", self._named_members())]
        while stack:
            prefix, members = stack[-1]
            nxt = next(members, None)
            if nxt is None:
                stack.pop()
                continue
            name, obj = nxt
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, Module):
                stack.append((f"{prefix}{name}.", obj._named_members()))
            else:
                yield prefix + name, obj

    def _every_named_parameter(self) -> Iterator[tuple[str, Value]]:
        """(dotted name, parameter) under every name it has: a tied parameter or module once per
        place it sits, as PyTorch's state_dict names them (a module inside itself is not re-entered)."""
        stack: list[tuple[str, Iterator[tuple[str, Any]], int]] = [("", self._named_members(), id(self))]
        while stack:
            prefix, members, _ = stack[-1]
            nxt = next(members, None)
            if nxt is None:
                stack.pop()
                continue
            name, obj = nxt
            if isinstance(obj, Module):
                if all(id(obj) != mid for _, _, mid in stack):
                    stack.append((f"{prefix}{name}.", obj._named_members(), id(obj)))
            else:
                yield prefix + name, obj

    def parameters(self) -> list[Value]:
        """Every parameter (a list, so it can be passed to an optimizer and iterated again)."""
        return [p for _, p in self.named_parameters()]

    def num_parameters(self) -> int:
        """The number of trainable numbers in the model (frozen parameters, requires_grad=False, not counted)."""
        return sum(p.size for p in self.parameters() if p.requires_grad)

    def zero_grad(self) -> None:
        """Forget the gradient of every parameter (sets `.grad` to None)."""
        for p in self.parameters():
            p.zero_grad()

    def train(self, mode: bool = True) -> Module:
        """Training mode (dropout active) for this module and all sub-modules; returns self."""
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> Module:
        """Evaluation mode (dropout off); same as train(False)."""
        return self.train(False)

    # ---- calling -------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """forward(...), with this module appended to the scope that graph pictures group nodes by."""
        s = _engine.mode.s  # this thread's switches
        prev = s.scope
        s.scope = (prev or ()) + (self,)
        try:
            return self.forward(*args, **kwargs)
        finally:
            s.scope = prev

    # ---- state ----------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """{dotted name: copy of the parameter's array}, depth first; a tied parameter under each of its names, as in PyTorch."""
        return {name: p.data.copy() for name, p in self._every_named_parameter()}

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> LoadResult:
        """Copy arrays into the parameters of the same names; all or nothing.

        Every entry is checked first (names, shapes, numeric dtype); on any problem a ValueError
        lists all of them and no parameter changes. With strict=False, missing and unexpected
        names are allowed (and returned), but shapes must still match.
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict needs a mapping of name -> array, got {type(state_dict).__name__}")
        params = dict(self._every_named_parameter())  # a tied parameter under each of its names
        given = dict(state_dict.items())
        # A tied parameter is missing only when none of its names is given (a PyTorch state_dict has them all).
        found = {id(p) for k, p in params.items() if k in given}
        missing = [k for k, p in params.items() if k not in given and id(p) not in found]
        unexpected = [k for k in given if k not in params]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        new: dict[str, np.ndarray] = {}
        first: dict[int, str] = {}  # the first given name of each parameter
        for name, p in params.items():
            if name not in given:
                continue
            v = given[name]
            try:
                arr = np.asarray(v.data if isinstance(v, Value) else v)
            except Exception as e:  # noqa: BLE001 - anything unreadable is one more problem to list
                problems.append(f"{name}: cannot be read as an array ({type(e).__name__}: {e})")
                continue
            if arr.dtype.kind not in "biuf":
                problems.append(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
            elif arr.shape != p.shape:
                problems.append(f"{name}: shape {arr.shape} in the state dict, but the parameter has shape {p.shape}")
            elif id(p) in first:  # another name of a tied parameter: it must say the same
                if not np.array_equal(new[first[id(p)]], arr):
                    problems.append(f"{name}: the same parameter as {first[id(p)]} (tied), but a different array")
            else:
                first[id(p)] = name
                new[name] = np.array(arr, dtype=p.dtype)
        if problems:
            raise ValueError(f"Error(s) in loading state_dict for {type(self).__name__} (nothing was changed): " + "; ".join(problems))
        for name, arr in new.items():
            params[name].data = arr
        return LoadResult(missing, unexpected)

    # ---- printing -------------------------------------------------------------
    def extra_repr(self) -> str:
        """The constructor arguments shown in repr (override in subclasses)."""
        return ""

    def __repr__(self) -> str:
        stack: list[tuple[int, str, Module, bool]] = [(0, "", self, True)]
        # Iterative pre-order walk; a closing ")" is pushed as a marker after a module's children.
        out: list[str] = []
        enclosing: set[int] = set()  # the modules being printed around this one: a child among them is a cycle
        while stack:
            depth, name, m, opening = stack.pop()
            pad = "  " * depth
            head = f"{pad}({name}): " if name else pad
            if not opening:
                out.append(f"{pad})")
                enclosing.discard(id(m))
                continue
            if id(m) in enclosing:
                out.append(f"{head}{type(m).__name__}(...)  # an enclosing module, shown above")
                continue
            kids = list(m.named_children()) if m._show_children else []
            if not kids:
                out.append(f"{head}{type(m).__name__}({m.extra_repr()})")
                continue
            out.append(f"{head}{type(m).__name__}(")
            if m.extra_repr():
                out.append(f"{pad}  {m.extra_repr()}")
            stack.append((depth, name, m, False))
            enclosing.add(id(m))
            stack.extend((depth + 1, k, c, True) for k, c in reversed(kids))
        return "\n".join(out)
