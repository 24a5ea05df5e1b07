"""The benchmark table goes into README.md between its markers, whole."""

from __future__ import annotations

from pathlib import Path

from benchmarks.run import README, README_END, README_START, into_readme


def test_the_table_replaces_the_block_between_the_markers(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{README_START}\nold row\n{README_END}\noutro\n", "utf-8")
    table = "# Benchmarks\n\nMeasured today.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    into_readme(table, readme)
    text = readme.read_text("utf-8")
    assert "old row" not in text and "# Benchmarks" not in text
    assert text == (
        f"intro\n{README_START}\nMeasured today.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
        f"{README_END}\noutro\n"
    )
    into_readme(table, readme)  # again: the same text
    assert readme.read_text("utf-8") == text


def test_the_readme_carries_the_table_of_docs_benchmarks() -> None:
    text = README.read_text("utf-8")
    block = text[text.index(README_START) + len(README_START) : text.index(README_END)]
    table = (README.parent / "docs" / "benchmarks.md").read_text("utf-8")
    assert block.strip() == table.split("\n", 2)[2].strip()
