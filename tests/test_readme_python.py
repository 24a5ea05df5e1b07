"""README's "In Python" section runs as written: its python blocks as a doctest.

They run in a temporary folder holding a copy of ``scenarios/``, so the ``reports/`` they
write lands there and not in the repository.
"""

from __future__ import annotations

import doctest
import re
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTION = "## In Python"


def python_blocks(text: str) -> list[tuple[int, str]]:
    """The ```python blocks of the README's "In Python" section, with their first line."""
    start = text.index(f"\n{SECTION}\n")
    end = text.find("\n## ", start + 1)
    section = text[start : end if end != -1 else len(text)]
    first_line = text[:start].count("\n") + 1
    return [
        (first_line + section[: m.start()].count("\n") + 1, m.group(1))
        for m in re.finditer(r"```python\n(.*?)```", section, flags=re.DOTALL)
    ]


def test_the_readme_has_a_python_section_with_examples() -> None:
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, f"README.md has no python block under {SECTION!r}"
    parser = doctest.DocTestParser()
    examples = [e for _, code in blocks for e in parser.get_examples(code)]
    sources = " ".join(e.source for e in examples)
    for call in ("load_scenario(", "loads_scenario(", "simulate(", "summarise(", "write_run("):
        assert call in sources, f"the README's python section does not show {call}"


def test_the_readme_python_section_runs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("openpyxl")  # the example writes summary.xlsx (the test extras)
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    monkeypatch.chdir(tmp_path)
    parser = doctest.DocTestParser()
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    globs: dict[str, object] = {}
    tried = 0
    for line, code in python_blocks(README.read_text(encoding="utf-8")):
        test = parser.get_doctest(code, globs, f"README.md:{line}", str(README), line)
        result = runner.run(test, clear_globs=False)
        tried += result.attempted
        assert result.failed == 0, f"README.md's python block at line {line} failed (above)"
    assert tried >= 10
    assert (tmp_path / "reports" / "faster-hailuo" / "summary.xlsx").is_file()
