"""engine.backprop with its per-node steps unrolled: the pass every plain backward() runs.

It computes exactly what `engine.backprop` computes (tests/test_fastpath.py runs the op table
and the engine's tests through both and compares the results bit for bit), with the per-node
calls written inline, because on a graph of scalars each call costs as much as the arithmetic:
the sink's `take` (`Store` and `Collect` inlined), `floats.operand`, `floats.call_rule` and
`unbroadcast`'s shape test, for the one- and two-input nodes that nearly every graph is made
of. A node with more inputs goes through `engine.input_gradients`.

An array stored as a `.grad` is copied unless `engine.unshared` says nothing else refers to it
(a fresh gradient from a rule), which saves W3 a copy of every weight's gradient per step.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .engine import Collect, Store, input_gradients, passes_gradient, unbroadcast, unshared
from .floats import ERRORS, NotFinite, rule_again
from .value import Value

_ndarray = np.ndarray
_F64 = np.dtype(np.float64)
_f64 = np.float64
_passes = passes_gradient


def backprop_fast(order: list[Value], seed: Any, keep: bool, collect: Collect | None) -> None:  # noqa: C901 - unrolled on purpose (see the module's docstring)
    """engine.backprop(order, seed, sink) for plain data (no create_graph, no anomaly checks), the sink
    being `collect`, or else `Store(keep)`, inlined (a Store is made only to undo a failed pass)."""
    got = None if collect is None else collect.got
    stop = None if collect is None else collect.stop
    replaced: dict[Value, Any] | None = None  # Store.replaced
    pending: dict[Value, Any] = {order[-1]: seed}
    take, get = pending.pop, pending.get
    node = None
    try:
        for node in reversed(order):
            g = take(node, None)
            if g is None:
                continue
            op = node._op
            # ---- the sink (Collect.take, Store.take inlined)
            if got is not None:
                if id(node) in got:
                    got[id(node)] = g
                if stop is not None and node in stop:
                    continue
            elif keep or op is None:
                old = node._grad
                if old is None:
                    if type(g) is _ndarray and not unshared(g):
                        g = g.copy(order="K")  # order="K" keeps a transposed gradient's layout: a plain memcpy
                    node._grad = g
                else:
                    if replaced is None:
                        replaced = {}
                    replaced[node] = old
                    total = old + g
                    if type(old) is _ndarray and total.dtype is not old.dtype:
                        total = total.astype(old.dtype)
                    node._grad = total
            if op is None:
                continue
            # ---- the rules (engine.input_gradients inlined for one and two inputs)
            rules = op._vjps
            a, b = node._a, node._b
            if b is not None and a is None:  # three or more inputs
                for inp, gx in input_gradients(node, g, False):
                    old = get(inp)
                    pending[inp] = gx if old is None else old + gx
                continue
            out = node._data
            fl = op._floats
            # NOTE: the two blocks below (input a, input b) are twins on purpose: a loop over them would build tuples.
            x = a._data
            xs = ()  # x's shape, for the gradient's
            if type(x) is _ndarray:
                xs = x.shape
                if not xs:
                    x = x.item() if x.dtype is _F64 and fl else x[()]
            elif type(x) is float and not fl:
                x = _f64(x)
            if type(g) is float and not fl:
                g = _f64(g)
            if b is None:
                try:
                    gi = rules[0](op, g, out, x)
                    if type(gi) is float and gi - gi:
                        raise NotFinite
                except ERRORS as e:
                    gi = rule_again(rules[0], op, g, out, (x,), e)
                if type(gi) is not float and gi.shape != xs:
                    gi = unbroadcast(gi, xs)
                old = get(a)
                pending[a] = gi if old is None else old + gi
                gi = old = None  # hold no gradient here: `unshared` must see only pending's reference
                continue
            y = b._data
            ys = ()
            if type(y) is _ndarray:
                ys = y.shape
                if not ys:
                    y = y.item() if y.dtype is _F64 and fl else y[()]
            elif type(y) is float and not fl:
                y = _f64(y)
            if a.requires_grad:
                rule = rules[0]
                if rule is _passes:
                    gi = g
                else:
                    try:
                        gi = rule(op, g, out, x, y)
                        if type(gi) is float and gi - gi:
                            raise NotFinite
                    except ERRORS as e:
                        gi = rule_again(rule, op, g, out, (x, y), e)
                if type(gi) is not float and gi.shape != xs:
                    gi = unbroadcast(gi, xs)
                old = get(a)
                pending[a] = gi if old is None else old + gi
                gi = old = None
            if b.requires_grad:
                rule = rules[1]
                if rule is _passes:
                    gi = g
                else:
                    try:
                        gi = rule(op, g, out, x, y)
                        if type(gi) is float and gi - gi:
                            raise NotFinite
                    except ERRORS as e:
                        gi = rule_again(rule, op, g, out, (x, y), e)
                if type(gi) is not float and gi.shape != ys:
                    gi = unbroadcast(gi, ys)
                old = get(b)
                pending[b] = gi if old is None else old + gi
                gi = old = None
            g = None
    except BaseException:
        if collect is None and node is not None:
            sink = Store(keep)
            sink.at, sink.replaced = node, replaced
            sink.undo(order)
        raise
