"""Any finite number in any money or ratio key (issue 23, item 1): the run exits 0 or 1
with finite results, or 2 with one line naming a key; never a NaN turned into null in
summary.json, a NumPy RuntimeWarning or a traceback."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sim.cli import main

# Every money or ratio key of a scenario with each optional part (a shock, the DCF beside
# the multiple, the deal, the aftermarket, regimes): (table, key) -> its base value.
BASE: dict[str, dict[str, Any]] = {
    "segments": {
        "revenue": 5e7,
        "booked": 1e7,
        "growth": 0.6,
        "fade": 0.7,
        "terminal_growth": 0.1,
        "volatility": 0.15,
        "region_concentration": 50,
    },
    "shocks": {
        "annual_probability": 0.15,
        "severity": 0.4,
        "recovery_years": 1.5,
        "multiple_hit": 0.1,
    },
    "valuation": {
        "multiple": 20.0,
        "growth_elasticity": 0.3,
        "reference_growth": 0.5,
        "concentration_penalty": 0.2,
        "reference_hhi": 0.4,
        "net_cash": 1e9,
        "operating_margin": -1.5,
        "target_margin": 0.25,
        "tax_rate": 0.2,
        "sales_to_capital": 1.5,
        "wacc": 0.11,
        "terminal_growth": 0.03,
        "terminal_roic": 0.15,
        "failure_probability": 0.2,
        "distress_proceeds": 0.3,
    },
    "offering": {
        "shares_before": 288_246_088,
        "new_shares": 25_389_220,
        "upsize_option": 0.15,
        "over_allotment": 0.15,
        "fees": 0.03,
        "ipo_discount": 0.1,
    },
    "aftermarket": {
        "adjustment": 0.5,
        "day1_noise": 0.1,
        "volatility": 0.9,
        "drift": 0.0,
        "lockup_drop": 0.1,
    },
    "regime": {"day1_noise": 0.3, "multiple": 30.0},
    "targets": {"value": 2.5e9},
}
KEYS = [(table, key) for table, keys in BASE.items() for key in keys]
PATHS = 300  # small: each example is one in-process run of the command


def _toml(value: Any) -> str:
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return "{ " + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + " }"


def _scenario(changes: dict[tuple[str, str], float]) -> str:
    t = {table: dict(keys) for table, keys in BASE.items()}
    for (table, key), value in changes.items():
        t[table][key] = value
    seg, shock, val, off = t["segments"], t["shocks"], t["valuation"], t["offering"]
    lines = [
        '[scenario]\nname = "hostile"\nbase_year = 2024\nhorizon = 4\n',
        '[[segments]]\nname = "app"',
        *(f"{k} = {_toml(v)}" for k, v in seg.items()),
        "regions = { US = 0.6, CN = 0.4 }\n",
        '[[shocks]]\nname = "ban"\nregions = ["US"]',
        *(f"{k} = {_toml(v)}" for k, v in shock.items()),
        '\n[valuation]\nmethod = "both"\nyear = 2026\nmargin_year = 2028',
        *(f"{k} = {_toml(v)}" for k, v in val.items()),
        "\n[offering]\nprice_range = [8, 10]",
        *(f"{k} = {_toml(v)}" for k, v in off.items()),
        "\n[aftermarket]\ndays = 60\nlockup_day = 40",
        *(f"{k} = {_toml(v)}" for k, v in t["aftermarket"].items()),
        '\n[[regimes]]\nname = "hot"\nweight = 0.5\n[regimes.valuation]',
        f"multiple = {_toml(t['regime']['multiple'])}",
        "[regimes.aftermarket]",
        f"day1_noise = {_toml(t['regime']['day1_noise'])}",
        '\n[[regimes]]\nname = "cold"\nweight = 0.5\n',
        f'[[targets]]\nlabel = "t"\nvalue = {_toml(t["targets"]["value"])}\nat = "peak"\n',
    ]
    return "\n".join(lines)


#: Nulls that mean "none" by design: the margin no price on the grid can reach
#: (docs/scenarios.md, implied expectations), a shock's loss when no path had an event.
UNREACHABLE = {
    ".pricing[].implied_target_margin",
    ".shock_impact.median_loss",
    ".shock_impact.mean_value_cut",
}


def _nulls(data: Any, at: str = "") -> list[str]:
    """The key paths of every null in ``data`` (list indices left out)."""
    if data is None:
        return [at]
    if isinstance(data, dict):
        return [p for k, v in data.items() for p in _nulls(v, f"{at}.{k}")]
    if isinstance(data, list):
        return [p for v in data for p in _nulls(v, f"{at}[]")]
    return []


def _run(tmp: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, Path]:
    path = tmp / "hostile.toml"
    path.write_text(text, encoding="utf-8")
    out = tmp / "out"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        argv = ["--paths", str(PATHS), "--format", "json,csv", "--out", str(out), "--quiet"]
        code = main(["run", str(path), *argv])
    err = capsys.readouterr().err
    numeric = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not numeric, f"{numeric[0].message} ({numeric[0].filename}:{numeric[0].lineno})"
    return code, err, out / "hostile" / "summary.json"


@pytest.fixture(scope="module")
def base_nulls(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    """The nulls of the unchanged scenario's summary: optional keys it does not set."""
    tmp = tmp_path_factory.mktemp("base")
    (tmp / "s.toml").write_text(_scenario({}), encoding="utf-8")
    assert main(
        [
            "run",
            str(tmp / "s.toml"),
            "--paths",
            str(PATHS),
            "--format",
            "json",
            "--out",
            str(tmp),
            "--quiet",
        ]
    ) in (0, 1)
    return set(_nulls(json.loads((tmp / "hostile" / "summary.json").read_text())))


def test_the_base_scenario_runs(base_nulls: set[str]) -> None:
    assert all(".sensitivity" not in p for p in base_nulls), base_nulls


# Anything finite, and often a number a key accepts (a fraction, a rate, a multiple), so
# that most examples run rather than stop at the loader.
NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(min_value=0.0, max_value=1.0),
    st.floats(min_value=-1.0, max_value=5.0),
    st.floats(min_value=-1e3, max_value=1e3, allow_nan=False),
    st.floats(min_value=1.0, max_value=1e12),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 1e-300, 5e-324, 1.7e308, -1.7e308, 1e15, 1e154]),
)


@settings(max_examples=120, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(st.sampled_from(KEYS), NUMBERS, min_size=1, max_size=2))
def test_any_finite_number_in_any_key_is_finite_or_refused(
    changes: dict[tuple[str, str], float],
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
    base_nulls: set[str],
) -> None:
    code, err, summary = _run(tmp_path_factory.mktemp("h"), _scenario(changes), capsys)
    assert code in (0, 1, 2), err
    event(f"exit code {code}")
    if code == 2:
        assert err.count("\n") == 1 and err.startswith("ipo-sim: error: "), err
        assert "internal error" not in err and "Traceback" not in err
        return
    data = json.loads(summary.read_text(encoding="utf-8"), parse_constant=float)
    new = sorted(set(_nulls(data)) - base_nulls - UNREACHABLE)
    assert not new, f"null (a number that was not finite) at {new[:5]}"
    text = summary.read_text(encoding="utf-8")
    assert "NaN" not in text and "Infinity" not in text
    assert all(math.isfinite(v) for v in data["valuation"].values() if isinstance(v, float))


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({("aftermarket", "day1_noise"): 800.0}, "aftermarket.day1_noise"),
        ({("regime", "day1_noise"): 800.0}, "regimes.hot.aftermarket.day1_noise"),
        ({("aftermarket", "volatility"): 1e300}, "aftermarket.volatility"),
    ],
)
def test_an_aftermarket_overflow_names_its_key(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    changes: dict[tuple[str, str], float],
    key: str,
) -> None:
    """day1_noise = 800 wrote null into summary.json, warned, and exited 0."""
    code, err, summary = _run(tmp_path, _scenario(changes), capsys)
    assert code == 2 and not summary.exists(), err
    assert f": {key}" in err and err.count("\n") == 1, err


def test_a_heavy_tailed_sentiment_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A Cauchy day-1 sentiment: exp(s) overflows on a few paths in a thousand."""
    text = _scenario({}).replace(
        "day1_noise = 0.1",
        'day1_noise = { dist = "scipy", name = "cauchy", loc = 0, scale = 1 }',
    )
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    code = main(
        [
            "run",
            str(path),
            "--paths",
            "20000",
            "--format",
            "json",
            "--out",
            str(tmp_path / "out"),
            "--quiet",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2, err
    assert "aftermarket.day1_noise: the model's day-1 market value" in err
    assert "lighter tails" in err
