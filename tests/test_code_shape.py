"""The engine stays readable: the reference backward pass is short, and no function of autograd/
or nn/ is more complex than McCabe 15 (PyCQA's mccabe), but for the one unrolled on purpose."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import mccabe
import pytest

from autograd import engine

ROOT = Path(__file__).resolve().parent.parent
UNROLLED = {("fastpath.py", "backprop_fast")}  # the isolated fast loop, tested bit for bit against the reference


def _complexities(path: Path) -> list[tuple[str, int]]:
    visitor = mccabe.PathGraphingAstVisitor()
    visitor.preorder(ast.parse(path.read_text()), visitor)
    return [(g.entity.split(".")[-1], g.complexity()) for g in visitor.graphs.values()]


@pytest.mark.parametrize("package", ["autograd", "nn"])
def test_no_function_is_above_mccabe_15(package):
    over = [
        f"{p.relative_to(ROOT)}: {name} {c}"
        for p in sorted((ROOT / package).rglob("*.py"))
        for name, c in _complexities(p)
        if c > 15 and (p.name, name) not in UNROLLED
    ]
    assert not over, f"functions above McCabe 15: {over}"


def test_the_measure_sees_the_unrolled_loop():
    assert dict(_complexities(ROOT / "autograd" / "fastpath.py"))["backprop_fast"] > 15


def test_the_reference_backward_pass_is_at_most_20_lines():
    source = inspect.getsource(engine.backprop)
    fn = ast.parse(source).body[0]
    assert isinstance(fn, ast.FunctionDef)
    first = fn.body[1] if ast.get_docstring(fn) else fn.body[0]  # the code after the docstring
    code = [ln for ln in source.splitlines()[first.lineno - 1 :] if ln.strip() and not ln.strip().startswith("#")]
    assert len(code) <= 20, "\n".join(code)
