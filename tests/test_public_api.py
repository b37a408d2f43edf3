"""nn, the examples and CONTRIBUTING.md are written against autograd's public names only: the
extension seam (`Op`, `apply`, `passes_gradient`, `as_value`, `Value.is_leaf`...) is enough to
build a neural-network library on, and no private name of the engine leaks into user code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import autograd

ROOT = Path(__file__).resolve().parent.parent
FILES = sorted([*(ROOT / "nn").rglob("*.py"), *(ROOT / "examples").glob("*.py")])
# The engine's private attributes of a Value and an Op (their slots).
PRIVATE_ATTRS = {"_data", "_grad", "_op", "_a", "_b", "_site", "_vjps", "_floats", "_class_vjps"}
PUBLIC_MODULES = {
    "autograd", "autograd.ops", "autograd.modes", "autograd.testing", "autograd.functional", "autograd.gradcheck", "autograd.viz",
    "autograd.numpy", "autograd.numpy.linalg",  # (docs/numpy.md: `import autograd.numpy as np`)
}  # fmt: skip


def _violations(source: str) -> list[str]:
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "autograd":
            if node.module not in PUBLIC_MODULES:
                bad.append(f"line {node.lineno}: from {node.module} import ... (not a public module)")
            bad += [f"line {node.lineno}: imports {a.name} from {node.module}" for a in node.names if a.name.startswith("_")]
        elif isinstance(node, ast.Import):
            bad += [f"line {node.lineno}: import {a.name}" for a in node.names if a.name.startswith("autograd.") and a.name not in PUBLIC_MODULES]
        elif isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRS:
            bad.append(f"line {node.lineno}: .{node.attr}")
    return bad


@pytest.mark.parametrize("path", FILES, ids=[str(p.relative_to(ROOT)) for p in FILES])
def test_uses_only_public_autograd_names(path):
    bad = _violations(path.read_text())
    assert not bad, f"{path.relative_to(ROOT)} uses private autograd names: {bad}"


def test_contributing_adds_an_op_with_public_imports_only():
    code = "\n".join(re.findall(r"```python\n(.*?)```", (ROOT / "CONTRIBUTING.md").read_text(), re.S))
    assert "class Softsign(Op)" in code and not _violations(code)


def test_the_checker_catches_what_it_looks_for():
    assert _violations("from autograd.engine import apply1\nx._data\nfrom autograd.value import _lift")
    assert not _violations("from autograd import Op, apply\nx.data\nfrom autograd.ops import MATMUL_T")


def test_the_extension_seam_is_exported():
    for name in ("Op", "apply", "passes_gradient", "as_value", "Value"):
        assert name in autograd.__all__ and hasattr(autograd, name)
    assert autograd.Value(1.0).is_leaf and not (autograd.Value(1.0) * 2).is_leaf
