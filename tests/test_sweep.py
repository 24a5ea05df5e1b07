"""``ipo-sim sweep``: --set parsing, paired points equal to separate runs, bad input."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from sim.analysis.summary import summarise
from sim.cli import main
from sim.errors import SimError
from sim.run.engine import simulate
from sim.scenario import load_scenario
from sim.studies.sweep import parse_set, split_values

PATHS = 3000
SEED = 11

_TOML = """
[scenario]
name = "s"
base_year = 2024
horizon = 2

[[segments]]
name = "talkie"
revenue = "{revenue}"
growth = {growth}
regions = {{ X = 1.0 }}

[valuation]
year = 2026
multiple = {multiple}

[[targets]]
label = "1 bn"
value = "1bn"

[[targets]]
label = "2 bn"
value = "2bn"
"""

_GROWTH = '{ dist = "normal", mean = 0.5, sd = 0.2, lower = -1 }'


def _write(tmp_path: Path, name: str, **over: str) -> Path:
    fields = {"revenue": "100M", "growth": _GROWTH, "multiple": "10"} | over
    path = tmp_path / f"{name}.toml"
    path.write_text(_TOML.format(**fields), encoding="utf-8")
    return path


def test_values_split_at_commas_outside_tables_arrays_and_quotes() -> None:
    text = '8, { dist = "lognormal", p50 = 10, p90 = 16 },[1, 2],"a,b", 70M'
    assert split_values(text) == [
        "8",
        '{ dist = "lognormal", p50 = 10, p90 = 16 }',
        "[1, 2]",
        '"a,b"',
        "70M",
    ]
    key = parse_set(f"valuation.multiple={text}")
    assert key.values == (8, {"dist": "lognormal", "p50": 10, "p90": 16}, [1, 2], "a,b", "70M")


def test_sweep_points_equal_separate_runs_of_the_same_values_and_seed(tmp_path: Path) -> None:
    base = _write(tmp_path, "s")
    growth = '{ dist = "normal", mean = 0.8, sd = 0.3, lower = -1 }'
    out = tmp_path / "out"
    argv = [
        "sweep",
        str(base),
        "--set",
        "valuation.multiple=8,12",
        "--set",
        f"segments.talkie.growth={_GROWTH},{growth}",
        "--set",
        "segments.talkie.revenue=100M,1.5亿",
        "--paths",
        str(PATHS),
        "--seed",
        str(SEED),
        "-q",
        "--out",
        str(out),
        "--format",
        "json,csv",
    ]
    assert main(argv) == 0
    data = json.loads((out / "s-sweep" / "sweep.json").read_text(encoding="utf-8"))
    assert [k["key"] for k in data["keys"]] == [
        "valuation.multiple",
        "segments.talkie.growth",
        "segments.talkie.revenue",
    ]
    assert len(data["points"]) == 8
    checked = 0
    for point in data["points"]:
        chosen = point["set"]
        path = _write(
            tmp_path,
            "one",
            multiple=chosen["valuation.multiple"],
            growth=chosen["segments.talkie.growth"],
            revenue=chosen["segments.talkie.revenue"],
        )
        summary = summarise(simulate(load_scenario(path), PATHS, seed=SEED))
        assert point["median_usd"] == summary.equity.quantiles.median
        assert point["mean_usd"] == summary.equity.mean
        assert [t["p_at_least"] for t in point["targets"]] == [
            t.p_at_least for t in summary.targets
        ]
        checked += 1
    assert checked == 8
    medians = {
        (p["set"]["valuation.multiple"], p["set"]["segments.talkie.revenue"]): p["median_usd"]
        for p in data["points"]
        if p["set"]["segments.talkie.growth"] == _GROWTH
    }
    assert medians[("8", "100M")] < medians[("12", "100M")] < medians[("12", "1.5亿")]
    with (out / "s-sweep" / "sweep.csv").open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 8 * 2  # a row per (point, target)
    assert {r["target"] for r in rows} == {"1 bn", "2 bn"}


def test_sweep_draws_a_page_per_key(tmp_path: Path) -> None:
    base = _write(tmp_path, "s")
    out = tmp_path / "out"
    argv = [
        "sweep",
        str(base),
        "--set",
        "valuation.multiple=8,10,12",
        "--set",
        "segments.talkie.revenue=100M,200M",
    ]
    assert main([*argv, "--paths", "1000", "-q", "--out", str(out)]) == 0
    names = sorted(p.name for p in (out / "s-sweep").iterdir())
    assert names == ["sweep.csv", "sweep.json", "sweep.pdf", "sweep_1.png", "sweep_2.png"]


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("valuation.multipel=8,10", "valuation.multipel"),
        ("segments.tlakie.growth=0.1", "no segments entry with name 'tlakie'"),
        ("nosuch.key=1", "no table 'nosuch'"),
        (
            "segments.talkie.growht.p50=0.5",
            "no key 'growht' in segments.talkie; did you mean 'growth'?",
        ),
        ("valuation.multiple=8,{ dist = ", "cannot read"),
        ("valuation.multiple=8,abc", "valuation.multiple"),
        ("segments.talkie.revenue=100M,25B亿", "segments.talkie.revenue"),
        ("valuation.multiple", "expected KEY=V1,V2"),
        ("valuation.multiple=8,,10", "empty value"),
        ("simulation.seed=1,2", "--seed"),
    ],
)
def test_a_bad_set_is_one_line_exit_2_and_nothing_written(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], setting: str, says: str
) -> None:
    base = _write(tmp_path, "s")
    out = tmp_path / "out"
    code = main(["sweep", str(base), "--set", setting, "--paths", "500", "-q", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and says in err and "Traceback" not in err
    assert not out.exists()


def test_a_sweep_refuses_precision_which_would_unpair_its_points(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = _write(tmp_path, "s")
    argv = ["sweep", str(base), "--set", "valuation.multiple=8,10", "--precision", "0.01"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    assert "--precision" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_parse_set_refuses_a_malformed_key() -> None:
    with pytest.raises(SimError, match="not a key path"):
        parse_set("valuation..multiple=1")


def test_a_sweep_reads_each_target_at_its_own_point_in_time(tmp_path: Path) -> None:
    """The baseline's 25 bn at fair value and at the peak are two targets; sweeping the
    volatility after listing moves the peak's probability and leaves fair value's alone."""
    baseline = Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml"
    out = tmp_path / "out"
    argv = ["sweep", str(baseline), "--set", "aftermarket.volatility=0.3,1.5"]
    assert main([*argv, "--paths", "4000", "-q", "--format", "json", "--out", str(out)]) == 0
    data = json.loads((out / "baseline-sweep" / "sweep.json").read_text("utf-8"))
    ats = {t["at"] for t in data["targets"]}
    assert {"fair", "peak"} <= ats
    low, high = (
        {(t["value_usd"], t["at"]): t["p_at_least"] for t in point["targets"]}
        for point in data["points"]
    )
    key_fair, key_peak = (25e9, "fair"), (25e9, "peak")
    assert low[key_fair] == high[key_fair]  # the same paths, and fair value ignores it
    assert high[key_peak] > low[key_peak]  # a wilder walk reaches higher peaks
