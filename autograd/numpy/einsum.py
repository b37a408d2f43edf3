"""einsum: Einstein summation as one primitive, whose gradient for each operand is another einsum.

The subscripts are checked and rewritten before the op is made: `...` becomes letters of its own
(broadcast dimensions, right-aligned), the implicit output (no `->`) is spelled out, and an operand
that repeats a letter ('ii->i') has its diagonal taken first by indexing. So the op only ever sees
operands with distinct letters, and operand i's gradient is einsum('out,others->letters_i', g,
*others), with letters that appear nowhere else broadcast by a ones operand. That gradient is an
einsum again, so it can be differentiated again.
"""

from __future__ import annotations

import functools
import string
from typing import Any

import numpy as np

from ..ops import Op
from .dispatch import call, data, has_value, name_errors, shape_of, unwrap

__all__ = ["einsum"]

_LETTERS = string.ascii_letters


class Einsum(Op):
    """np.einsum for explicit subscripts in which no operand repeats a letter; one rule per operand."""

    __slots__ = ("spec", "vjps", "_ins", "_out")
    name = "einsum"

    def __init__(self, ins: tuple[str, ...], out: str):
        self._ins, self._out = ins, out
        self.spec = ",".join(ins) + "->" + out
        self.vjps = self._vjps = tuple(functools.partial(Einsum._part, i=i) for i in range(len(ins)))

    def params(self):
        return {"spec": self.spec}

    def forward(self, *xs):
        return np.einsum(self.spec, *xs, optimize=len(xs) > 2)

    def _part(self, g, out, *xs, i):
        others = [s for j, s in enumerate(self._ins) if j != i]
        target = self._ins[i]
        elsewhere = set(self._out).union(*others)
        subs, operands = [self._out, *others], [g, *(x for j, x in enumerate(xs) if j != i)]
        missing = "".join(c for c in target if c not in elsewhere)  # summed over in the forward: broadcast back
        if missing:
            shape = np.shape(data(xs[i]))
            dtype = np.result_type(data(g), np.float32)
            subs.append(missing)
            operands.append(np.ones([shape[target.index(c)] for c in missing], dtype=dtype))
        return _einsum(",".join(subs) + "->" + target, operands)


def _einsum(spec: str, operands: list[Any]) -> Any:
    """An explicit einsum without repeated letters per operand, on arrays or Values (the rules' einsum)."""
    if not has_value(*operands):
        return np.einsum(spec, *operands, optimize=len(operands) > 2)
    lhs, out = spec.split("->")
    return call(Einsum(tuple(lhs.split(",")), out), *operands)


def _sizes(ins: list[str], shapes: list[tuple[int, ...]], where: str) -> dict[str, int]:
    """{letter: its length} over the operands, or a ValueError naming the letter whose lengths disagree."""
    sizes: dict[str, int] = {}
    for i, (t, shape) in enumerate(zip(ins, shapes)):
        own: dict[str, int] = {}
        for c, n in zip(t, shape):
            if own.setdefault(c, n) != n:
                raise ValueError(f"{where}: operand {i} repeats {c!r} on axes of lengths {own[c]} and {n}; a repeated letter takes a diagonal, which needs equal lengths")
            prev = sizes.get(c, 1)
            if prev != n and prev != 1 and n != 1:  # (a length of 1 broadcasts, as numpy's einsum allows)
                raise ValueError(f"{where}: {c!r} has length {prev} in one operand and {n} in operand {i}")
            sizes[c] = max(prev, n)
    return sizes


def _parse(subscripts: str, shapes: list[tuple[int, ...]]) -> tuple[list[str], str]:
    """The operands' letters (with `...` replaced by letters of its own) and the output's letters, or a
    ValueError saying what does not fit the shapes."""
    s = subscripts.replace(" ", "")
    where = f"einsum({subscripts!r}) with operand shapes {', '.join(map(str, shapes))}"
    if s.count("->") > 1:
        raise ValueError(f"{where}: more than one '->'")
    lhs, out = s.split("->") if "->" in s else (s, None)
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise ValueError(f"{where}: the subscripts name {len(terms)} operand(s), but {len(shapes)} were given")
    for t in [*terms, out or ""]:
        if t.count("...") > 1 or any(c not in _LETTERS for c in t.replace("...", "")):
            raise ValueError(f"{where}: {t!r} is not letters with at most one '...'")
    free = [c for c in _LETTERS if c not in s]
    spans = []  # how many dimensions each operand's '...' covers
    for i, (t, shape) in enumerate(zip(terms, shapes)):
        named = len(t.replace("...", ""))
        if ("..." in t and named > len(shape)) or ("..." not in t and named != len(shape)):
            raise ValueError(f"{where}: operand {i} has {len(shape)} dimensions, but {t!r} names {named}")
        spans.append(len(shape) - named if "..." in t else 0)
    span = max(spans, default=0)
    if span > len(free):
        raise ValueError(f"{where}: too many broadcast dimensions for the letters left")
    ell = "".join(free[:span])
    ins = [t.replace("...", ell[span - k :]) for t, k in zip(terms, spans)]
    sizes = _sizes(ins, shapes, where)
    if out is None:  # implicit: the broadcast dimensions, then the letters used once, in alphabetical order
        counts = "".join(ins)
        out = ell + "".join(sorted(c for c in set(counts) if counts.count(c) == 1 and c not in ell))
    else:
        if "..." in out:
            out = out.replace("...", ell)
        elif span:
            raise ValueError(f"{where}: the output has no '...' for the broadcast dimensions of the inputs")
        if len(set(out)) != len(out) or any(c not in sizes for c in out):
            raise ValueError(f"{where}: the output {out!r} must use distinct letters that appear in the inputs")
    return ins, out


def _diagonal(x: Any, letters: str) -> tuple[Any, str]:
    """x's diagonal over its repeated letters ('ii' -> 'i'), by indexing, and its new letters."""
    unique = "".join(dict.fromkeys(letters))
    shape = np.shape(data(x))
    index = tuple(np.arange(shape[k]).reshape([-1 if u == c else 1 for u in unique]) for k, c in enumerate(letters))
    return x[index], unique


def einsum(subscripts: str, *operands: Any) -> Any:
    """numpy's Einstein summation ('ij,jk->ik', 'ii->i', '...ij,...jk', implicit output), on arrays or
    Values; each operand's gradient is another einsum. Subscripts that do not fit the operands'
    shapes are an error naming both. (The sublist form and numpy's `optimize=` are not supported.)"""
    if not isinstance(subscripts, str):
        raise TypeError(f"einsum: subscripts must be a string like 'ij,jk->ik' (the sublist form is not supported), got {type(subscripts).__name__}")
    xs = [unwrap(x) for x in operands]
    ins, out = _parse(subscripts, [shape_of(x) for x in xs])
    if not has_value(*xs):
        return np.einsum(subscripts, *xs)
    for i, t in enumerate(ins):
        if len(set(t)) < len(t):
            xs[i], ins[i] = _diagonal(xs[i] if has_value(xs[i]) else np.asarray(xs[i]), t)
    return call(Einsum(tuple(ins), out), *xs)


name_errors(globals(), __all__)  # every public function's errors start with its name
