"""Issue 23, item 11: a DCF whose terminal cost of capital sits within a point of the growth
after the horizon warns (summary.json ``warnings``, summary.txt, stderr) when more than 1%
of the paths have it; the engine counts those paths while streaming."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

from sim.analysis.summary import summarise
from sim.cli import main
from sim.run.engine import simulate
from sim.scenario import load_scenario
from sim.valuation.dcf import THIN_SPREAD

TESTS = Path(__file__).resolve().parent
DCF = TESTS / "data" / "dcf_small.toml"
WACC = 'wacc = { dist = "lognormal", p50 = 0.11, p90 = 0.14, lower = 0.06, upper = 0.25 }'
G = 0.03
#: wacc uniform on [0.035, 0.135]: wacc - g < 0.01 where wacc < 0.04, P = 0.05.
THIN_P = (G + THIN_SPREAD - 0.035) / 0.10


def _scenario_file(folder: Path, wacc: str) -> Path:
    text = DCF.read_text(encoding="utf-8")
    assert WACC in text
    path = folder / "dcf_small.toml"
    path.write_text(text.replace(WACC, wacc), encoding="utf-8")
    return path


@pytest.fixture
def thin(tmp_path: Path) -> Path:
    return _scenario_file(tmp_path, 'wacc = { dist = "uniform", min = 0.035, max = 0.135 }')


def test_the_count_is_the_paths_drawn_within_a_point(thin: Path) -> None:
    """Every path kept: the streamed count equals the count over the drawn inputs, and
    the share agrees with the uniform's 5% within 4 standard errors."""
    scenario = load_scenario(thin)
    n = 20_000
    result = simulate(scenario, n, seed=7, keep=n)
    wacc = result.kept.inputs["valuation.wacc"]
    assert result.kept.n == n
    assert result.thin_spread_paths == int(np.count_nonzero(wacc - G < THIN_SPREAD))
    se = math.sqrt(THIN_P * (1 - THIN_P) / n)
    assert abs(result.thin_spread_paths / n - THIN_P) < 4 * se
    (warning,) = summarise(result).warnings
    assert warning.kind == "thin_terminal_spread"
    assert warning.paths == result.thin_spread_paths
    assert "valuation.wacc" in warning.message and "valuation.terminal_growth" in warning.message


def test_the_count_repeats_and_does_not_depend_on_workers(thin: Path) -> None:
    """Beyond the kept paths the count is still of every path: 3 blocks, kept 1000."""
    scenario = load_scenario(thin)
    n = 150_000
    one = simulate(scenario, n, seed=3, keep=1000)
    again = simulate(scenario, n, seed=3, keep=1000)
    two = simulate(scenario, n, seed=3, keep=1000, workers=2)
    assert one.thin_spread_paths == again.thin_spread_paths == two.thin_spread_paths
    se = math.sqrt(THIN_P * (1 - THIN_P) / n)
    assert abs(one.thin_spread_paths / n - THIN_P) < 4 * se
    other = simulate(scenario, n, seed=4, keep=1000)
    assert other.thin_spread_paths != one.thin_spread_paths  # a real count, not a formula


def test_no_warning_below_one_percent(tmp_path: Path) -> None:
    """wacc uniform on [0.0395, 0.1395]: 0.5% of paths within a point, so no warning,
    though the count is kept."""
    path = _scenario_file(tmp_path, 'wacc = { dist = "uniform", min = 0.0395, max = 0.1395 }')
    result = simulate(load_scenario(path), 20_000, seed=7)
    assert 0 < result.thin_spread_paths < 0.01 * 20_000
    summary = summarise(result)
    assert summary.warnings == ()
    assert json.loads(summary.to_json())["warnings"] == []


def test_the_shipped_dcf_example_has_no_warning() -> None:
    result = simulate(load_scenario(DCF), 4000, seed=1)
    assert result.thin_spread_paths == 0 and summarise(result).warnings == ()


def test_a_spread_of_1e_10_warns_on_stderr_and_in_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The issue's case: wacc 1e-10 above growth gave a 2e17 terminal value in silence."""
    text = DCF.read_text(encoding="utf-8").replace(WACC, "wacc = 0.0300000001")
    # The fixed wacc cannot be correlated: correlate the tax rate instead.
    text = text.replace(
        '"valuation.wacc", "valuation.target_margin"',
        '"valuation.tax_rate", "valuation.target_margin"',
    )
    text = text.replace("tax_rate = 0.20", 'tax_rate = { dist = "uniform", min = 0.1, max = 0.3 }')
    path = tmp_path / "dcf_small.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    assert main(
        ["run", str(path), "--paths", "2000", "--out", str(out), "-q", "--format", "json"]
    ) in (0, 1)
    stdout, err = capsys.readouterr()
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ipo-sim: warning: dcf_small: "), err
    assert "on 2,000 of 2,000 paths" in lines[0]
    data = json.loads((out / "dcf_small" / "summary.json").read_text(encoding="utf-8"))
    assert [w["kind"] for w in data["warnings"]] == ["thin_terminal_spread"]
    assert data["warnings"][0]["paths"] == 2000 and data["warnings"][0]["share"] == 1.0
    text_out = (out / "dcf_small" / "summary.txt").read_text(encoding="utf-8")
    assert "  warning: the DCF's terminal valuation.wacc" in text_out
    assert "warning:" in stdout  # the printed summary is summary.txt's text
