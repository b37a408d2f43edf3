"""Every ```python block of README.md, CONTRIBUTING.md and each docs/*.md page runs, in order, in one namespace
per page, in a temporary folder, and every `print(...)  # output` line prints what its comment says."""

import builtins
import os
import re
import sys
from pathlib import Path

import matplotlib
import pytest

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
PAGES = [README, ROOT / "CONTRIBUTING.md", *sorted((ROOT / "docs").glob("*.md"))]
_PRINT_SAYS = re.compile(r"^\s*print\(.*\)\s+#\s?(.*)$")


def _blocks(page: Path = README) -> list[tuple[int, str]]:
    text = page.read_text()
    return [(text[: m.start()].count("\n") + 1, m.group(1)) for m in re.finditer(r"```python\n(.*?)```", text, re.S)]


def _said(code: str) -> dict[int, str]:
    """{line in the block: the comment} for each `print(...)  # comment` line."""
    return {i: m.group(1) for i, text in enumerate(code.splitlines(), start=1) if (m := _PRINT_SAYS.match(text))}


def _agrees(out: str, said: str) -> bool:
    """The comment starts with the printed text (whitespace runs count as one space), then may go on
    with an explanation after a space or punctuation; `...` in the comment stands for any text."""
    o, s = " ".join(out.split()), " ".join(said.split())
    if s.startswith(o) and (len(s) == len(o) or s[len(o)] in " :,;(="):
        return True
    if "..." in s:
        head = s[: s.rindex("...")]
        return re.match(".*?".join(map(re.escape, head.split("..."))), o) is not None
    return False


def test_readme_has_snippets():
    assert len(_blocks()) >= 1


def test_agreement_rule():
    assert _agrees("[1. 2.]", "[1. 2.]") and _agrees("8.0", "8.0   (y + 2x)") and _agrees("True", "True: right")
    assert _agrees("{'loss': 0.3123, 'accuracy': 0.92}", "{'loss': 0.31..., 'accuracy': 0.92...}")
    assert not _agrees("8.5", "8.0") and not _agrees("[1. 2. 3.]", "[1. 2.]") and not _agrees("0.3123", "0.32...")


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_snippets_run_and_print_what_they_say(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    os.environ.setdefault("AUTOGRAD_QUICK", "1")
    name = str(page.relative_to(ROOT))
    said: dict[tuple[str, int], str] = {}  # (block's file name, line in the block): the comment
    wrong: list[str] = []

    def recording_print(*args, sep=" ", end="\n", file=None, flush=False):
        caller = sys._getframe(1)
        where = (caller.f_code.co_filename, caller.f_lineno)
        if file is None and where in said:
            out = (" " if sep is None else sep).join(map(str, args))
            if not _agrees(out, said[where]):
                line = int(where[0].rsplit(":", 1)[1]) + where[1]
                wrong.append(f"{name}:{line}: printed {out!r}, the comment says {said[where]!r}")
        builtins.print(*args, sep=sep, end=end, file=file, flush=flush)

    ns: dict = {"__name__": "__readme__", "print": recording_print}
    for line, code in _blocks(page):
        said.update({(f"{name}:{line}", at): text for at, text in _said(code).items()})
        try:
            exec(compile(code, f"{name}:{line}", "exec"), ns)
        except Exception as e:  # pragma: no cover - the message is the point
            pytest.fail(f"{name} snippet at line {line} failed: {type(e).__name__}: {e}\n{code}")
    assert not wrong, "\n".join(wrong)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_relative_links_resolve(page):
    """Every relative link and image of a page points at a file of the repository (pages moved to
    docs/ link with paths relative to themselves)."""
    text = re.sub(r"`[^`]*`", "", re.sub(r"```.*?```", "", page.read_text(), flags=re.S))  # not in code
    targets = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'<img src="([^"]+)"', text)
    broken = []
    for t in targets:
        if "://" in t or t.startswith("#"):
            continue
        path = (page.parent / t.split("#", 1)[0]).resolve()
        if not path.exists():
            broken.append(t)
    assert not broken, f"{page.relative_to(ROOT)} links to missing files: {broken}"
