"""Attribution of a comparison to each differing key: Shapley values, sequential beyond 8."""

from __future__ import annotations

import itertools
import json
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from sim.cli import main
from sim.studies.attribution import (
    MAX_SHAPLEY_KEYS,
    Attribution,
    attribute,
    differing_keys,
    key_name,
    sequential,
    shapley,
)
from tests.builders import raw_scenario

PATHS = 4000
SEED = 7


def _segment(**over: Any) -> dict[str, Any]:
    seg = {
        "name": "a",
        "revenue": 100e6,
        "growth": {"dist": "normal", "mean": 0.5, "sd": 0.2, "lower": -1},
        "regions": {"X": 1.0},
    }
    seg.update(over)
    return seg


def _raw(**over: Any) -> dict[str, Any]:
    return raw_scenario(
        segments=[_segment()],
        valuation={"year": 2026, "multiple": {"dist": "lognormal", "p50": 8.0, "p90": 14.0}},
        targets=[{"label": "1 bn", "value": 1e9}, {"label": "2 bn", "value": 2e9}],
        **over,
    )


def _attribute(a: dict[str, Any], b: dict[str, Any]) -> Attribution:
    return attribute(
        a,
        b,
        names=("a", "b"),
        source=None,
        targets=[("1 bn", 1e9, "fair"), ("2 bn", 2e9, "fair")],
        paths=PATHS,
        seed=SEED,
        sampler="random",
    )


def _game(k: int, rng: np.random.Generator) -> list[tuple[Fraction, ...]]:
    """A random game of k players with two outputs, as exact fractions of floats."""
    return [tuple(Fraction(float(x)) for x in rng.normal(size=2) * 1e9) for _ in range(1 << k)]


@pytest.mark.parametrize("k", [1, 3, 8])
def test_shapley_values_sum_to_the_whole_difference_exactly(k: int) -> None:
    v = _game(k, np.random.default_rng(k))
    phi = shapley(k, lambda mask: v[mask])
    for o in range(2):
        assert sum(p[o] for p in phi) == v[-1][o] - v[0][o]


def test_shapley_gives_a_player_that_changes_nothing_zero_and_splits_symmetric_ones() -> None:
    # v(S) = 3 * [player 0 in S] + 5 * [players 1 and 2 both in S]; player 3 is a dummy.
    def v(mask: int) -> tuple[Fraction]:
        return (Fraction(3 * (mask & 1) + 5 * ((mask & 6) == 6)),)

    phi = shapley(4, v)
    assert [p[0] for p in phi] == [3, Fraction(5, 2), Fraction(5, 2), 0]


def test_sequential_takes_each_step_in_order() -> None:
    v = _game(4, np.random.default_rng(1))
    phi = sequential(4, lambda mask: v[mask])
    prefix = [v[(1 << i) - 1][0] for i in range(5)]
    assert [p[0] for p in phi] == [b - a for a, b in itertools.pairwise(prefix)]
    assert sum(p[0] for p in phi) == v[-1][0] - v[0][0]


def test_keys_are_leaves_and_whole_distribution_tables_and_entries_by_name() -> None:
    a = _raw(fx={"EUR": 1.1})
    b = _raw(fx={"EUR": 1.2})
    b["segments"][0]["growth"]["sd"] = 0.3
    b["valuation"]["multiple"] = 9.0
    b["segments"].append(_segment(name="b"))
    b["scenario"]["description"] = "not simulated"
    b["targets"].append({"label": "3 bn", "value": 3e9})
    assert [key_name(k) for k in differing_keys(a, b)] == [
        "segments.a.growth",
        "segments.b",
        "valuation.multiple",
        "fx.EUR",
    ]


def test_attribution_sums_to_the_paired_difference_and_an_unused_key_gets_zero() -> None:
    a = _raw(fx={"EUR": 1.1})
    b = _raw(fx={"EUR": 1.2})  # a rate no amount is written in: changes nothing
    b["valuation"]["multiple"] = {"dist": "lognormal", "p50": 10.0, "p90": 16.0}
    b["segments"][0]["growth"] = {"dist": "normal", "mean": 0.7, "sd": 0.2, "lower": -1}
    att = _attribute(a, b)
    assert att.method == "shapley" and att.runs == 8 and att.error is None
    by_key = {c.key: c for c in att.contributions}
    assert set(by_key) == {"segments.a.growth", "valuation.multiple", "fx.EUR"}
    assert by_key["fx.EUR"].median_usd == 0 and by_key["fx.EUR"].p == (0.0, 0.0)
    assert by_key["valuation.multiple"].median_usd > 0
    assert by_key["segments.a.growth"].median_usd > 0
    # Efficiency: each contribution is an exact sum rounded once, so the floats' sum is
    # the difference to within rounding of each term.
    total = att.median_b - att.median_a
    assert math.fsum(c.median_usd for c in att.contributions) == pytest.approx(total, rel=1e-14)
    for j in range(2):
        assert math.fsum(c.p[j] for c in att.contributions) == pytest.approx(
            att.p_b[j] - att.p_a[j], abs=1e-15
        )


def test_beyond_eight_keys_the_attribution_is_sequential_in_file_order() -> None:
    codes = ("AUD", "CAD", "CHF", "EUR", "GBP", "JPY", "NZD", "SEK", "SGD")
    n = len(codes)
    assert n > MAX_SHAPLEY_KEYS
    a = _raw(fx=dict.fromkeys(codes, 1.0))
    b = _raw(fx=dict.fromkeys(codes, 2.0))
    b["valuation"]["multiple"] = 12.0
    att = _attribute(a, b)
    assert att.method == "sequential" and att.runs == n + 2
    assert "sequential" in att.note and "order" in att.note
    assert [c.key for c in att.contributions] == [
        "valuation.multiple",
        *(f"fx.{c}" for c in codes),
    ]
    assert all(c.median_usd == 0 for c in att.contributions[1:])
    assert att.contributions[0].median_usd == att.median_b - att.median_a


def test_a_hybrid_the_loader_refuses_switches_the_segment_whole_and_says_so() -> None:
    a = _raw()
    b = _raw()
    # B books 150 M of a base revenue of 200 M: with A's 100 M revenue, invalid alone.
    b["segments"][0].update(revenue=200e6, booked=150e6)
    att = _attribute(a, b)
    assert att.grouped and att.error is None
    assert [c.key for c in att.contributions] == ["segments.a"]
    assert "refuses" in att.note


_TOML = """
[scenario]
name = "{name}"
base_year = {base_year}
horizon = 2

[[segments]]
name = "a"
revenue = "100M"
growth = {{ dist = "normal", mean = 0.5, sd = 0.2, lower = -1 }}
regions = {{ X = 1.0 }}

[valuation]
year = {year}
multiple = {multiple}

[[targets]]
label = "1 bn"
value = "1bn"
"""


def test_compare_writes_the_attribution_and_its_waterfall(tmp_path: Path) -> None:
    files = []
    for name, multiple in (("a", 8), ("b", 12)):
        path = tmp_path / f"{name}.toml"
        text = _TOML.format(name=name, multiple=multiple, base_year=2024, year=2026)
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    out = tmp_path / "out"
    argv = ["compare", *files, "--paths", "2000", "--attribution-paths", "1000", "-q"]
    assert main([*argv, "--out", str(out)]) == 0
    data = json.loads((out / "comparison" / "comparison.json").read_text(encoding="utf-8"))
    (att,) = data["attribution"]
    assert att["method"] == "shapley" and att["paths"] == 1000
    assert [c["key"] for c in att["contributions"]] == ["valuation.multiple"]
    assert (out / "comparison" / "comparison_attribution.png").is_file()


def test_when_every_hybrid_is_refused_there_is_no_attribution_and_it_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # B moves the base year and the valuation year together: either alone is invalid.
    files = []
    for name, base_year, year in (("a", 2024, 2026), ("b", 2026, 2028)):
        path = tmp_path / f"{name}.toml"
        text = _TOML.format(name=name, multiple=10, base_year=base_year, year=year)
        path.write_text(text, encoding="utf-8")
        files.append(str(path))
    out = tmp_path / "out"
    argv = ["compare", *files, "--paths", "2000", "--attribution-paths", "1000", "-q"]
    assert main([*argv, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "no attribution: a with scenario.base_year switched to b's values is not a valid" in (
        printed
    )
    data = json.loads((out / "comparison" / "comparison.json").read_text(encoding="utf-8"))
    (att,) = data["attribution"]
    assert att["method"] == "none" and att["contributions"] == []
    assert "valuation.year" in att["error"] and att["median_usd"]["scenario"] is None
    assert (out / "comparison" / "comparison_attribution.png").is_file()


def test_attribution_reads_each_target_at_its_own_point_in_time() -> None:
    """A peak target is attributed on the peak market value: the fair value is 2250 on
    every path, so P(fair >= 3000) is 0 in both, while the day-1 sentiment alone moves
    P(peak >= 3000) and its contribution is the whole change."""
    market = {"shares_outstanding": 1_000, "price_range": [1.0, 3.0]}

    def raw(sentiment: float) -> dict[str, Any]:
        return raw_scenario(
            offering=market,
            aftermarket={
                "adjustment": 1.0,
                "day1_noise": sentiment,
                "volatility": 0.6,
                "days": 60,
            },
            targets=[{"label": "top", "value": 3000.0, "at": "peak"}],
        )

    a = attribute(
        raw(0.0),
        raw(0.15),
        names=("a", "b"),
        source=None,
        # One label at two points in time: comparison.json keeps them apart.
        targets=[("3000", 3000.0, "fair"), ("3000", 3000.0, "peak")],
        paths=PATHS,
        seed=SEED,
        sampler="random",
    )
    assert a.method == "shapley" and [c.key for c in a.contributions] == ["aftermarket.day1_noise"]
    assert a.p_a[0] == a.p_b[0] == 0.0  # the fair value is 2250 on every path
    assert 0 < a.p_a[1] < a.p_b[1]
    assert a.contributions[0].p[1] == pytest.approx(a.p_b[1] - a.p_a[1], abs=1e-15)
    data = a.to_dict()
    assert data["targets"][1]["at"] == "peak"
    assert list(data["contributions"][0]["p_at_least"]) == ["3000", "3000 (at peak)"]
