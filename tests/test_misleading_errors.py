"""Issue 23, item 8: errors that named the wrong thing (an underflow called an overflow, a
DCF blamed on ``valuation.multiple``, a folder called "no such file", a percentage where a
plain number is meant) now name the key, the value and what is allowed, or the input is
given a finite answer."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import numpy as np
import pytest

from sim.cli import main
from sim.model.aftermarket import segment_peak

TESTS = Path(__file__).resolve().parent
SMALL = TESTS / "data" / "small.toml"
DCF = TESTS / "data" / "dcf_small.toml"
TALKIE_GROWTH = 'growth = { dist = "metalog", p10 = 0.2, p50 = 0.5, p90 = 0.85, lower = -1 }'
PLATFORM_GROWTH = 'growth = { dist = "lognormal", p50 = 1.6, p90 = 2.2 }'


def _variant(base: Path, folder: Path, *edits: tuple[str, str]) -> Path:
    text = base.read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new)
    path = folder / base.name
    path.write_text(text, encoding="utf-8")
    return path


def _run(path: Path, out: Path, paths: int = 2000) -> int:
    return main(
        ["run", str(path), "--paths", str(paths), "--out", str(out), "-q", "--format", "json"]
    )


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("ipo-sim: error: "), err
    return err


# --------------------------------------------------------------------------- (a) underflow


def test_revenue_that_underflows_has_finite_regional_shares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Revenue of 1e-300 falling 99.99999% a year underflows to a subnormal: its regional
    shares were 1/total = inf ("overflowed", blamed on valuation.net_cash); now finite."""
    path = _variant(
        DCF,
        tmp_path,
        ('revenue = "19.5M"', "revenue = 1e-300"),
        ('revenue = "8.0M"', "revenue = 1e-300"),
        (TALKIE_GROWTH, "growth = -0.9999999"),
        (PLATFORM_GROWTH, "growth = -0.9999999"),
    )
    assert _run(path, tmp_path / "out") in (0, 1), capsys.readouterr().err
    summary = json.loads((tmp_path / "out" / "dcf_small" / "summary.json").read_text())
    hhi = summary["concentration"]
    numbers = [v for v in _leaves(hhi) if isinstance(v, float)]
    assert numbers and all(math.isfinite(v) for v in numbers)


def _leaves(x: object) -> list[object]:
    if isinstance(x, dict):
        return [leaf for v in x.values() for leaf in _leaves(v)]
    if isinstance(x, list):
        return [leaf for v in x for leaf in _leaves(v)]
    return [x]


def test_a_price_that_falls_to_zero_has_a_finite_peak() -> None:
    """A drift of -1e300 a year: the walk's end is -5e299 in log price (a price of 0), and
    the bridge's (b - a)^2 overflowed, so the peak read inf ("overflowed", blamed on the
    volatility). The peak is the day-1 close, as it must be for a falling path."""
    a = np.array([3.0, 3.0, 3.0])
    b = np.array([-5e299, 2.0, 3.0])
    scale = np.full(3, 0.05)
    u = np.array([0.3, 0.3, 0.3])
    peak = segment_peak(a, b, scale, 125, u)
    assert np.isfinite(peak).all()
    assert peak[0] == 3.0
    # The rewritten root agrees with the textbook form where the latter is finite.
    d = b[1:] - a[1:]
    textbook = 0.5 * (a[1:] + b[1:] + np.sqrt(d * d - 2.0 * 125 * scale[1:] ** 2 * np.log(u[1:])))
    textbook = np.maximum(np.maximum(a[1:], b[1:]), textbook - 0.5826 * scale[1:])
    np.testing.assert_allclose(peak[1:], textbook, rtol=1e-12)


def test_the_walk_names_the_extreme_drift_not_the_volatility(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = TESTS.parent / "scenarios" / "baseline.toml"
    (tmp_path / "peers-2025-12.csv").write_bytes(
        (TESTS.parent / "scenarios" / "peers-2025-12.csv").read_bytes()
    )
    path = _variant(baseline, tmp_path, ("drift = -0.3", "drift = 1e300"))
    assert _run(path, tmp_path / "out", 500) == 2
    err = _error(capsys)
    assert ": aftermarket.drift: " in err and "1e+300" in err and "overflowed" in err


# --------------------------------------------------------------------------- (b) DCF keys


@pytest.mark.parametrize("key", ["sales_to_capital", "terminal_roic"])
def test_a_dcf_overflow_names_the_dcf_key(
    key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A divisor of 1e-300 overflowed the DCF: the message named valuation.multiple (the
    DCF has none) and blamed the largest input, valuation.net_cash."""
    old = {"sales_to_capital": "sales_to_capital = 1.5", "terminal_roic": "terminal_roic = 0.15"}
    path = _variant(DCF, tmp_path, (old[key], f"{key} = 1e-300"))
    assert _run(path, tmp_path / "out") == 2
    err = _error(capsys)
    assert f": valuation.{key}: " in err and "1e-300" in err
    assert "valuation.multiple" not in err and "DCF equity value" in err


# --------------------------------------------------------------------------- (c) extends


def test_extends_a_folder_says_it_is_a_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "base.toml").mkdir()
    path = _variant(SMALL, tmp_path, ('name = "small"', 'name = "small"\nextends = "base.toml"'))
    assert _run(path, tmp_path / "out", 100) == 2
    err = _error(capsys)
    assert "scenario.extends" in err and "'base.toml' is a folder" in err
    assert "no such file" not in err


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs on this platform")
def test_extends_a_fifo_says_it_is_not_a_regular_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    os.mkfifo(tmp_path / "base.toml")
    path = _variant(SMALL, tmp_path, ('name = "small"', 'name = "small"\nextends = "base.toml"'))
    assert _run(path, tmp_path / "out", 100) == 2  # returns: the pipe is never opened
    err = _error(capsys)
    assert "scenario.extends" in err and "'base.toml' is not a regular file" in err


def test_extends_a_missing_file_still_says_no_such_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _variant(SMALL, tmp_path, ('name = "small"', 'name = "small"\nextends = "gone.toml"'))
    assert _run(path, tmp_path / "out", 100) == 2
    assert "no such file 'gone.toml'" in _error(capsys)


# --------------------------------------------------------------------------- (d) percent


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ("tax_rate = 0.20", 'tax_rate = "20%"', "valuation.tax_rate"),
        ("terminal_growth = 0.03", 'terminal_growth = "3%"', "valuation.terminal_growth"),
        ("fade = 0.5", 'fade = "50%"', "segments.open_platform.fade"),
    ],
)
def test_a_percentage_where_a_plain_number_is_meant_says_how_to_write_it(
    old: str, new: str, key: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _variant(DCF, tmp_path, (old, new))
    assert _run(path, tmp_path / "out", 100) == 2
    err = _error(capsys)
    assert f": {key}: " in err and repr(new.split(" = ")[1].strip('"')) in err
    assert "0.25 = 25%" in err and "is a percentage" not in err


def test_a_percentage_is_accepted_where_a_fraction_is_read(tmp_path: Path) -> None:
    """Keys read as fractions take "15%" (the money refusal is for money keys only)."""
    path = _variant(SMALL, tmp_path, ("annual_probability = 0.15", 'annual_probability = "15%"'))
    assert _run(path, tmp_path / "out", 100) in (0, 1)


# --------------------------------------------------------------------------- (e) counts


@pytest.mark.parametrize("option", ["--paths", "--workers"])
def test_zero_paths_or_workers_says_positive(
    option: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(["run", str(SMALL), option, "0", "--out", str(tmp_path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert option in err and "positive integer (1 or more)" in err and "'0'" in err
    assert "non-negative" not in err


def test_a_law_beyond_double_precision_names_the_file_and_not_the_arithmetic(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A beta with a = 1e308 passes the loader and fails when the run builds its table:
    the one line named no file (a batch did) and carried numpy's IndexError text."""
    path = _variant(
        SMALL,
        tmp_path,
        (
            'severity = { dist = "beta", a = 2, b = 3 }',
            'severity = { dist = "beta", a = 1e308, b = 3 }',
        ),
    )
    assert _run(path, tmp_path / "out") == 2
    err = _error(capsys)
    assert f"{path}: shocks.app-store-removal.severity: parameters beyond what double" in err
    assert "Error" not in err and "index" not in err
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
