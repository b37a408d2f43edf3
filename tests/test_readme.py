"""Every ```python block of README.md runs, in order, in one namespace, in a temporary folder."""

import os
import re
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

README = Path(__file__).resolve().parent.parent / "README.md"


def _blocks() -> list[tuple[int, str]]:
    text = README.read_text()
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in re.finditer(r"```python\n(.*?)```", text, re.S)]


def test_readme_has_snippets():
    assert len(_blocks()) >= 1


def test_readme_snippets_run(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.environ.setdefault("AUTOGRAD_QUICK", "1")
    ns: dict = {"__name__": "__readme__"}
    for line, code in _blocks():
        try:
            exec(compile(code, f"README.md:{line}", "exec"), ns)
        except Exception as e:  # pragma: no cover - the message is the point
            pytest.fail(f"README.md snippet at line {line} failed: {type(e).__name__}: {e}\n{code}")
