"""``ipo-sim show`` prints every table a scenario sets (issue 23, item 6) and its inputs
without float noise (item 10)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim import format as fmt
from sim.cli import main
from sim.scenario import load_scenario

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


def _show(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["show", str(path)]) == 0
    return capsys.readouterr().out


def test_show_prints_the_offering_and_the_aftermarket(capsys: pytest.CaptureFixture[str]) -> None:
    """[offering] and [aftermarket] were left out, and "IPO proceeds USD 0" printed for a
    scenario whose proceeds come from its deal."""
    out = _show(BASELINE, capsys)
    assert "IPO proceeds USD 0" not in out
    assert "IPO proceeds from the offering" in out
    data = load_scenario(BASELINE).to_dict()
    lines = {line.split(":", 1)[0]: line for line in out.splitlines() if ":" in line}
    for table in ("offering", "aftermarket"):
        assert table in lines, out
        # every key the table resolved to is named (generic: a new key shows up too)
        for key, value in data[table].items():
            if value is not None:
                assert key.removesuffix("_usd") in lines[table], (table, key)
    assert "shares_before 280,058,065" in lines["offering"]
    assert "price_range HK$151 .. HK$165" in lines["offering"]
    assert "lockup_day 121" in lines["aftermarket"]


def test_show_prints_inputs_without_float_noise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """HK$117 at 0.1282 is 14.999400000000001 in floating point: shown as 14.9994."""
    text = BASELINE.read_text(encoding="utf-8")
    assert 'price_range = ["HK$151", "HK$165"]' in text
    path = tmp_path / "b.toml"
    shutil.copy(BASELINE.parent / "peers-2025-12.csv", tmp_path)
    path.write_text(
        text.replace('price_range = ["HK$151", "HK$165"]', 'price_range = ["HK$117", "HK$165"]'),
        encoding="utf-8",
    )
    assert 117 * 0.1282 == 14.999400000000001
    out = _show(path, capsys)
    assert "price_range (USD) 14.9994 .. " in out
    assert "14.99940000" not in out


@given(st.floats(allow_nan=False, allow_infinity=False), st.integers(1, 12))
def test_an_input_number_reads_back_as_written(x: float, digits: int) -> None:
    written = float(f"{x:.{digits}g}")  # what a scenario could hold, to 12 digits
    if math.isfinite(written):
        assert float(fmt.input_number(written)) == written


def test_float_noise_is_dropped() -> None:
    assert fmt.input_number(14.999999999999998) == "15"
    assert fmt.input_number(0.1 + 0.2) == "0.3"
