"""Module: parameters found by walking attributes; buffers registered by name; call = forward inside the module's scope; state dicts."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator
from typing import Any, NamedTuple

import numpy as np

from autograd import Value
from autograd.modes import peek, state

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
    if not isinstance(x, Value) or not x.is_leaf:
        return False
    if x.requires_grad:
        _register(x)
        return True
    r = _PARAMS.get(id(x))
    return r is not None and r() is x


def _buffer_array(value: Any, name: str, module: Any) -> np.ndarray | None:
    """A buffer's new content: a real numeric ndarray (kept as given, dtype and all) or None."""
    if value is None:
        return None
    if isinstance(value, np.generic):
        value = np.asarray(value)
    if not isinstance(value, np.ndarray):
        hint = " (a buffer is not trained: pass its .data)" if isinstance(value, Value) else ""
        raise TypeError(
            f"cannot assign {type(value).__name__} as buffer {name!r} of {type(module).__name__} (a numpy array or None expected){hint}"
        )
    if value.dtype.kind not in "biuf":
        raise TypeError(f"buffer {name!r} of {type(module).__name__} must be a real numeric array, got dtype {value.dtype}")
    return value


def _checked_arrays(targets: dict[str, Any], given: dict[str, Any], problems: list[str]) -> dict[str, np.ndarray]:
    """{name: the array to load, in its target's dtype} for the first given name of each parameter or buffer
    in `targets`; what is wrong with any given entry is appended to `problems` (and it is left out)."""
    new: dict[str, np.ndarray] = {}
    first: dict[int, str] = {}  # the first given name of each parameter or buffer
    for name, p in targets.items():
        if name not in given:
            continue
        v = given[name]
        what = "parameter" if isinstance(p, Value) else "buffer"
        try:
            arr = np.asarray(v.data if isinstance(v, Value) else v)
        except Exception as e:  # noqa: BLE001 - anything unreadable is one more problem to list
            problems.append(f"{name}: cannot be read as an array ({type(e).__name__}: {e})")
            continue
        problem = _entry_problem(name, what, p, arr)
        if problem is None and id(p) in first and not np.array_equal(new[first[id(p)]], arr):
            problem = f"{name}: the same {what} as {first[id(p)]} (tied), but a different array"
        if problem is not None:
            problems.append(problem)
        elif id(p) not in first:  # (another name of a tied one, saying the same: nothing more to load)
            first[id(p)] = name
            new[name] = np.array(arr, dtype=p.dtype)
    return new


def _entry_problem(name: str, what: str, target: Value | np.ndarray, arr: np.ndarray) -> str | None:
    """What keeps arr from loading into target (a real numeric array of its shape; whole numbers for an
    integer target), or None."""
    if arr.dtype.kind not in "biuf":
        return f"{name}: expected a real numeric array, got dtype {arr.dtype}"
    if arr.shape != target.shape:
        return f"{name}: shape {arr.shape} in the state dict, but the {what} has shape {target.shape}"
    if target.dtype.kind in "biu" and arr.dtype.kind == "f" and not (np.isfinite(arr).all() and (arr == np.round(arr)).all()):
        return f"{name}: the {what} holds integers ({target.dtype}), but the state dict has fractional or non-finite values"
    return None


class LoadResult(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


class Module:
    """Base class of every layer and model, as in PyTorch.

    Subclasses set parameters (`Parameter(...)`, i.e. Values with requires_grad=True) and
    sub-modules as attributes, directly or in lists, tuples and dicts, and define `forward`.
    Attributes whose names start with "_" are private and not searched. Arrays that are state
    but not trained (BatchNorm's running statistics) are registered with `register_buffer`.
    """

    training: bool = True
    _show_children = True  # repr lists the sub-modules (Layer and Neuron show their activation inline)

    def __init__(self) -> None:
        object.__setattr__(self, "training", True)

    # ---- attributes ----------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:  # a registered buffer: a new array (or None) for it
            object.__setattr__(self, name, _buffer_array(value, name, self))
            return
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
        """(name, obj) for the direct parameters and sub-modules, containers flattened (`layers.0`, `d.key`):
        parameters held directly first, then the rest in attribute order (PyTorch lists a module's own
        parameters before its sub-modules; lists and dicts play the part of its ModuleList and ParameterDict)."""
        own = [(k, v, _is_param(v)) for k, v in vars(self).items() if not k.startswith("_")]
        yield from ((k, v) for k, v, param in own if param)
        stack: list[tuple[str, Any]] = [(k, v) for k, v, param in own if not param][::-1]
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
        """(dotted name, parameter) for every parameter, depth first, each module's own parameters before
        its sub-modules', e.g. ('layers.0.weight', Value); a parameter or module reached twice is listed once."""
        return self._walk(lambda m: m._named_members(), every_name=False)

    def _walk(self, members: Callable[[Module], Iterator[tuple[str, Any]]], every_name: bool) -> Iterator[tuple[str, Any]]:
        """(dotted name, member) for the non-module members of every module, depth first (no recursion).

        every_name=False: each module and member once (parameters(), named_buffers()). every_name=True:
        a tied parameter or module once per place it sits, as PyTorch's state_dict names them (a module
        inside itself is not re-entered)."""
        seen: set[int] = {id(self)}
        stack: list[tuple[str, Iterator[tuple[str, Any]], int]] = [("", members(self), id(self))]
        while stack:
            prefix, it, _ = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                continue
            name, obj = nxt
            if not every_name:
                if id(obj) in seen:
                    continue
                seen.add(id(obj))
            if isinstance(obj, Module):
                if all(id(obj) != mid for _, _, mid in stack):
                    stack.append((f"{prefix}{name}.", members(obj), id(obj)))
            else:
                yield prefix + name, obj

    def _every_named_state(self) -> Iterator[tuple[str, Any]]:
        """(dotted name, parameter or buffer array) for everything state_dict holds, under every name."""
        return self._walk(lambda m: m._state_members(), every_name=True)

    def parameters(self) -> list[Value]:
        """Every parameter (a list, so it can be passed to an optimizer and iterated again)."""
        return [p for _, p in self.named_parameters()]

    # ---- buffers ----------------------------------------------------------------
    def register_buffer(self, name: str, tensor: Any, persistent: bool = True) -> None:
        """Keep an array as state of this module that is not trained (BatchNorm's running mean, a mask).

        It is read and set as the attribute `name` (`self.name = new_array` replaces it), saved in and
        loaded from `state_dict` (unless `persistent=False`), and never returned by `parameters()`.
        Its dtype is kept (an int64 counter stays int64). None registers the name without an array
        (left out of `state_dict`, as in PyTorch).
        """
        if not isinstance(name, str):
            raise TypeError(f"register_buffer: the buffer name must be a str, got {type(name).__name__}")
        if not name or "." in name:
            raise KeyError(f"register_buffer: the buffer name must be non-empty and contain no '.', got {name!r}")
        buffers = self.__dict__.get("_buffers")
        if (buffers is None or name not in buffers) and hasattr(self, name):
            raise KeyError(f"register_buffer: {type(self).__name__} already has an attribute {name!r} that is not a buffer")
        value = _buffer_array(tensor, name, self)
        if buffers is None:
            buffers = {}
            object.__setattr__(self, "_buffers", buffers)
        buffers[name] = bool(persistent)  # name -> saved in state_dict; a dict keeps registration order
        object.__setattr__(self, name, value)

    def __delattr__(self, name: str) -> None:
        buffers = self.__dict__.get("_buffers")
        if buffers is not None and name in buffers:
            del buffers[name]
        object.__delattr__(self, name)

    def _own_buffers(self, persistent_only: bool) -> list[tuple[str, np.ndarray]]:
        """(name, array) for this module's buffers that hold an array, in registration order."""
        buffers = self.__dict__.get("_buffers")
        if not buffers:
            return []
        d = self.__dict__
        return [(k, d[k]) for k, keep in buffers.items() if d.get(k) is not None and (keep or not persistent_only)]

    def _state_members(self, persistent_only: bool = True) -> Iterator[tuple[str, Any]]:
        """`_named_members` with this module's buffers where PyTorch puts them: after its own parameters,
        before its sub-modules (`weight, bias, running_mean, running_var, num_batches_tracked`)."""
        pending = self._own_buffers(persistent_only)
        for name, obj in self._named_members():
            if pending and (isinstance(obj, Module) or "." in name):
                yield from pending
                pending = []
            yield name, obj
        yield from pending

    def named_buffers(self) -> Iterator[tuple[str, np.ndarray]]:
        """(dotted name, array) for every buffer of this module and its sub-modules (persistent or not,
        None skipped), in PyTorch's order; an array reached twice is listed once."""
        for name, obj in self._walk(lambda m: m._state_members(persistent_only=False), every_name=False):
            if isinstance(obj, np.ndarray):
                yield name, obj

    def buffers(self) -> list[np.ndarray]:
        """Every buffer's array (a list, as `parameters()`)."""
        return [b for _, b in self.named_buffers()]

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
        s = peek(None) or state()  # this thread's switches (autograd.modes)
        prev = s.scope
        s.scope = (prev or ()) + (self,)
        try:
            return self.forward(*args, **kwargs)
        finally:
            s.scope = prev

    # ---- state ----------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """{dotted name: copy of the array} of every parameter and persistent buffer, in PyTorch's order
        (each module's parameters, then its buffers, then its sub-modules'); a tied one under each of its names."""
        return {name: (x.data if isinstance(x, Value) else x).copy() for name, x in self._every_named_state()}

    def load_state_dict(self, state_dict: Any, strict: bool = True) -> LoadResult:
        """Copy arrays into the parameters and buffers of the same names; all or nothing.

        Every entry is checked first (names, shapes, numeric dtype); on any problem a ValueError
        lists all of them and nothing changes. With strict=False, missing and unexpected names are
        allowed (and returned), but shapes must still match. A parameter keeps its dtype; a buffer
        is copied into in place and keeps its dtype too (an integer buffer takes whole numbers only).
        """
        if not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict needs a mapping of name -> array, got {type(state_dict).__name__}")
        targets = dict(self._every_named_state())  # a tied parameter or buffer under each of its names
        given = dict(state_dict.items())
        # A tied entry is missing only when none of its names is given (a PyTorch state_dict has them all).
        found = {id(p) for k, p in targets.items() if k in given}
        missing = [k for k, p in targets.items() if k not in given and id(p) not in found]
        unexpected = [k for k in given if k not in targets]
        problems = []
        if strict and missing:
            problems.append(f"missing keys: {missing}")
        if strict and unexpected:
            problems.append(f"unexpected keys: {unexpected}")
        new = _checked_arrays(targets, given, problems)
        if problems:
            raise ValueError(f"Error(s) in loading state_dict for {type(self).__name__} (nothing was changed): " + "; ".join(problems))
        for name, arr in new.items():
            self._load_array(targets[name], arr)
        return LoadResult(missing, unexpected)

    def _load_array(self, target: Value | np.ndarray, arr: np.ndarray) -> None:
        """A checked array into a parameter (its data replaced) or a buffer (copied into)."""
        if isinstance(target, Value):
            target.data = arr
        elif target.flags.writeable:
            target[...] = arr  # in place, as PyTorch copies into a buffer: whoever holds the array sees the new numbers
        else:  # read-only (a broadcast view, say): the array itself is replaced, wherever it is a buffer
            for m in self.modules():
                for k in m.__dict__.get("_buffers", ()):
                    if m.__dict__[k] is target:
                        setattr(m, k, arr)

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
