"""Tests for sim.scenario: TOML -> a validated, frozen Scenario in which every amount is USD.

Three parts:

* the corpus of invalid scenarios in ``tests/invalid/`` (one mistake per file; the first
  comment line names the key path the error must give, the second a message substring);
* valid loading: the shipped baseline, money in USD, ``extends`` and its merge rules
  (fixtures in ``tests/data/``), names, SHA-256;
* a fuzz test that mutates valid scenarios at random: loading either succeeds or raises
  :class:`ScenarioError`, never anything else, and nothing in a scenario is evaluated.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.cli import main
from sim.cli.printing import _print_scenario
from sim.distributions import (
    DISTRIBUTIONS,
    MAX_DISTRIBUTION_NESTING,
    MIN_TRUNCATED_MASS,
    PARAMETERS,
    TRUNCATABLE,
    parse_distribution,
)
from sim.errors import ScenarioError
from sim.money import _CURRENCY_ALIASES, _SCALE_WORDS, _SCALES
from sim.scenario import (
    EXPECT_METRICS,
    EXPECT_STATS,
    KEYS,
    MAX_EXTENDS,
    MAX_FILE_BYTES,
    MAX_NESTING,
    Scenario,
    build_scenario,
    load_scenario,
    resolve_raw,
)
from sim.valuation.dcf import Dcf
from sim.valuation.ev_to_sales import EvToSales
from tests.builders import raw_scenario

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
DATA = TESTS / "data"
INVALID = TESTS / "invalid"
CORPUS = sorted(INVALID.rglob("*.toml"))
HKD = 0.1282


# --------------------------------------------------------------------------- the corpus


def _header(path: Path) -> tuple[str, str]:
    """``(key path, message substring)`` from a corpus file's ``# expect:`` / ``# message:``."""
    # Decoded leniently: one file is deliberately not UTF-8 after its header.
    lines = path.read_bytes().decode("utf-8", errors="replace").splitlines()
    assert lines[0].startswith("# expect:"), f"{path.name}: first line must be '# expect: ...'"
    expected = lines[0].removeprefix("# expect:").strip()
    message = ""
    if len(lines) > 1 and lines[1].startswith("# message:"):
        message = lines[1].removeprefix("# message:").strip()
    return expected, message


def _case_id(path: Path) -> str:
    return path.relative_to(INVALID).as_posix()


def test_corpus_is_large_enough() -> None:
    assert len(CORPUS) >= 35
    # Every file says which key it breaks; most say how.
    assert sum(1 for p in CORPUS if _header(p)[1]) >= 35


@pytest.mark.parametrize("path", CORPUS, ids=_case_id)
def test_invalid_scenario_names_the_key(path: Path) -> None:
    expected, message = _header(path)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    err = info.value
    assert err.path == expected, f"{path.name}: {err}"
    assert message in err.message, f"{path.name}: {err}"
    assert err.file is not None
    assert Path(err.file).resolve() == path.resolve()
    # str() is "file: path: message", the line the command line prints.
    assert str(err) == ": ".join(p for p in (err.file, err.path, err.message) if p)


@pytest.mark.parametrize("path", CORPUS, ids=_case_id)
def test_invalid_scenario_is_one_line_and_exit_2(
    path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["check", str(path), "--quiet"], ["show", str(path)]):
        assert main(argv) == 2
        out, err = capsys.readouterr()
        assert out == ""
        assert err.endswith("\n") and err.count("\n") == 1, err
        assert err.startswith("ipo-sim: error: ")
        assert "Traceback" not in err
        expected, _ = _header(path)
        assert expected in err


@pytest.mark.parametrize(
    "name", ["unknown_key_segment_growht.toml", "money_no_fx.toml", "cycle/a.toml"]
)
def test_invalid_scenario_in_a_real_process(name: str) -> None:
    path = INVALID / name
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "check", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert _header(path)[0] in proc.stderr


def test_issue_example_reads_as_written() -> None:
    """The issue's own wording: "growht: unknown key; did you mean 'growth'?"."""
    path = INVALID / "unknown_key_segment_growht.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(info.value) == (
        f"{path}: segments.talkie.growht: unknown key 'growht'; did you mean 'growth'?"
    )


def test_misspelt_required_key_that_is_another_tables_key_is_just_missing() -> None:
    """[simulation] is close to [valuation] but a real key: it is not called a typo."""
    raw = raw_scenario(simulation={"paths": 10})
    del raw["valuation"]
    with pytest.raises(ScenarioError) as info:
        build_scenario(raw, source=None, own_name="t")
    assert info.value.path == "valuation"
    assert "missing" in info.value.message


def test_name_taken_from_an_unsafe_file_stem(tmp_path: Path) -> None:
    source = (DATA / "small.toml").read_text(encoding="utf-8")
    path = tmp_path / "with space.toml"
    path.write_text(source.replace('name = "small"\n', ""), encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.path == "scenario.name"
    assert "'with space'" in info.value.message


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="no such scenario file"):
        load_scenario(tmp_path / "absent.toml")
    with pytest.raises(ScenarioError, match="is a folder"):
        load_scenario(tmp_path)


def test_expect_on_revenue_of_a_non_ascii_digit_year() -> None:
    """A year of "²" passes str.isdigit but is none: a ScenarioError, not a ValueError."""
    raw = raw_scenario(
        expect=[{"name": "e", "metric": "revenue.²", "stat": "mean", "at_least": 0}]
    )
    with pytest.raises(ScenarioError) as info:
        build_scenario(raw, source=None, own_name="t")
    assert info.value.path == "expect.e.metric"


# --------------------------------------------------------------------------- valid loading


@pytest.fixture(scope="module")
def baseline() -> Scenario:
    return load_scenario(BASELINE)


def test_baseline_loads(baseline: Scenario) -> None:
    # Only what the scenario format and the issue fix: the numbers are the analysts'.
    assert baseline.name == "baseline"
    assert baseline.years == (2026, 2027, 2028)
    assert baseline.base_year == 2025  # re-based on what was known at listing
    assert "talkie" in [s.name for s in baseline.segments]
    assert baseline.shocks
    assert len(set(baseline.regions)) == len(baseline.regions)
    for seg in baseline.segments:
        assert math.isclose(sum(seg.shares), 1.0)
    assert baseline.source == BASELINE
    assert baseline.valuation.year in baseline.years


def test_baseline_amounts_are_usd(baseline: Scenario) -> None:
    assert baseline.fx == {"HKD": HKD}
    assert baseline.offering is not None
    assert baseline.offering.price_range_usd == (151 * HKD, 165 * HKD)
    assert baseline.offering.price_range_text == ("HK$151", "HK$165")
    targets = {t.text: t.value_usd for t in baseline.targets}
    assert targets["25亿"] == 2.5e9
    assert targets["40亿"] == 4e9
    assert targets["25bn"] == 2.5e10
    assert targets["40bn"] == 4e10
    # Every amount written as a money string comes out as the USD it names.
    raw = {s["name"]: s for s in baseline.raw["segments"]}
    for seg in baseline.segments:
        written = raw[seg.name]["revenue"]
        if isinstance(written, str) and written.endswith("M"):
            value = seg.revenue.to_dict()["value"]
            assert value == float(Decimal(written.removesuffix("M")).scaleb(6))


def test_to_dict_is_json_and_usd(baseline: Scenario) -> None:
    data = json.loads(json.dumps(baseline.to_dict(), allow_nan=False, ensure_ascii=False))
    assert data["scenario"]["name"] == "baseline"
    assert data["scenario"]["sha256"] == baseline.sha256
    assert data["offering"]["price_range_usd"] == [151 * HKD, 165 * HKD]
    written = {t["written"]: t["value_usd"] for t in data["targets"]}
    assert (written["25亿"], written["40bn"]) == (2.5e9, 4e10)


def test_scenario_is_frozen(baseline: Scenario) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        baseline.name = "other"  # type: ignore[misc]


def test_fixture_base_loads() -> None:
    small = load_scenario(DATA / "small.toml")
    assert small.name == "small"
    assert small.offering is not None
    assert small.offering.price_range_usd == (151 * HKD, 165 * HKD)
    assert [t.value_usd for t in small.targets] == [2.5e9, 4e10]


def test_percent_strings_and_money_distributions() -> None:
    raw = raw_scenario(
        segments=[
            {
                "name": "a",
                "revenue": {"dist": "uniform", "min": "7000万", "max": "1.2亿"},
                "growth": "35%",
                "terminal_growth": "5%",
                "regions": {"X": "60%", "Y": "40%"},
            }
        ],
        fx={"HKD": 0.125},
        targets=[{"label": "hk", "value": "51B HKD"}],
    )
    s = build_scenario(raw, source=None, own_name="t")
    seg = s.segments[0]
    assert seg.revenue.to_dict() == {"dist": "uniform", "min": 7e7, "max": 1.2e8}
    assert seg.growth.to_dict() == {"dist": "fixed", "value": 0.35}
    assert seg.terminal_growth == 0.05
    assert seg.shares == (0.6, 0.4)
    assert s.targets[0].value_usd == 51e9 * 0.125


# --------------------------------------------------------------------------- extends


@pytest.fixture(scope="module")
def child() -> Scenario:
    return load_scenario(DATA / "child.toml")


def test_extends_takes_the_file_stem_as_name(child: Scenario) -> None:
    assert child.name == "child"  # not the base's "small"
    assert child.description.startswith("small, with a faster talkie")
    assert child.base_year == 2024 and child.years == (2025, 2026, 2027)


def test_extends_tables_merge(child: Scenario) -> None:
    v = child.valuation
    assert isinstance(v, EvToSales)
    assert v.year == 2027
    assert v.method == "ev_to_sales"
    assert v.net_cash.to_dict() == {"dist": "fixed", "value": 1.05e9}
    # A table without `dist` merges into the base's distribution table.
    assert v.multiple is not None
    assert v.multiple.to_dict() == {"dist": "lognormal", "p50": 20.0, "p90": 50.0}
    assert child.fx == {"HKD": HKD}
    assert child.simulation.seed == 7
    assert child.simulation.paths == 1000
    assert child.simulation.sampler == "random"


def test_extends_arrays_replace(child: Scenario) -> None:
    assert child.offering is not None
    assert child.offering.price_range_usd == (140 * HKD, 150 * HKD)
    assert child.offering.shares_outstanding == 313_635_308
    (shock,) = child.shocks
    assert shock.regions == ("US",)


def test_extends_segments_merge_by_name(child: Scenario) -> None:
    segs = {s.name: s for s in child.segments}
    assert list(segs) == ["talkie", "open_platform", "hailuo"]  # new entries append
    talkie = segs["talkie"]
    assert talkie.revenue.to_dict() == {"dist": "fixed", "value": 19.5e6}
    assert talkie.fade == 0.6
    # Another `dist` replaces the distribution table instead of merging into it.
    assert talkie.growth.to_dict() == {"dist": "lognormal", "p50": 0.8, "p90": 1.5}
    assert segs["hailuo"].revenue.to_dict() == {"dist": "fixed", "value": 2.35e6}
    assert child.regions == ("US", "JP", "other", "CN", "SG")


def test_extends_shocks_targets_expect_merge(child: Scenario) -> None:
    (shock,) = child.shocks
    assert shock.name == "app-store-removal"
    assert shock.annual_probability.to_dict() == {"dist": "fixed", "value": 0.2}
    assert shock.severity.to_dict()["dist"] == "beta"  # kept from the base
    assert shock.max_events == 2
    targets = {t.label: t.value_usd for t in child.targets}
    assert targets == {
        "article: 25亿 USD": 2.5e9,
        "brief: 40 bn USD": 4.5e10,
        "prospectus: HK$60 bn": 60e9 * HKD,
    }
    (e,) = child.expectations
    assert (e.metric, e.stat, e.threshold, e.bounds) == (
        "valuation",
        "p_at_least",
        4e9,
        (None, 0.6),
    )


def test_extends_correlations_merge_by_pair(child: Scenario) -> None:
    pairs = {frozenset(c.between): c.spearman for c in child.correlations}
    assert pairs == {
        frozenset({"segments.talkie.growth", "segments.open_platform.growth"}): 0.2,
        frozenset({"segments.hailuo.growth", "segments.open_platform.growth"}): 0.4,
    }
    assert len(child.correlations) == 2


def test_extends_resolves_paths_from_each_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # nothing may depend on the working folder
    g = load_scenario(DATA / "sub" / "grandchild.toml")
    assert g.name == "grandchild"
    assert g.years == (2025, 2026, 2027, 2028)
    assert g.valuation.year == 2028
    assert [s.name for s in g.segments] == ["talkie", "open_platform", "hailuo"]
    assert g.simulation.seed == 7  # from child.toml, whose own base is small.toml


def test_resolve_raw_drops_extends_and_keeps_base_keys() -> None:
    raw = resolve_raw(DATA / "child.toml")
    assert "extends" not in raw["scenario"]
    assert raw["scenario"]["name"] == "small"  # the base's, unused: the file names itself
    assert raw["scenario"]["base_year"] == 2024


def test_extends_to_another_method_drops_the_old_methods_keys(tmp_path: Path) -> None:
    """small.toml values by EV/sales (multiple, growth_elasticity, ...): a child naming
    method "dcf" keeps the base's year and net cash, not the multiple's keys (which the
    DCF would refuse as unknown)."""
    shutil.copy(DATA / "small.toml", tmp_path / "small.toml")
    dcf = tomllib.loads((DATA / "dcf_small.toml").read_text(encoding="utf-8"))["valuation"]
    own = {k: v for k, v in dcf.items() if k not in ("year", "net_cash")}
    lines = [f"{k} = {json.dumps(v)}" for k, v in own.items() if not isinstance(v, dict)]
    lines += [
        f"{k} = {{ {', '.join(f'{a} = {json.dumps(b)}' for a, b in v.items())} }}"
        for k, v in own.items()
        if isinstance(v, dict)
    ]
    (tmp_path / "c.toml").write_text(
        '[scenario]\nextends = "small.toml"\nhorizon = 5\n[valuation]\n' + "\n".join(lines),
        encoding="utf-8",
    )
    base = load_scenario(tmp_path / "small.toml")
    child = load_scenario(tmp_path / "c.toml")
    assert isinstance(base.valuation, EvToSales) and isinstance(child.valuation, Dcf)
    assert child.valuation.year == base.valuation.year
    assert child.valuation.net_cash.to_dict() == base.valuation.net_cash.to_dict()
    raw = resolve_raw(tmp_path / "c.toml")["valuation"]
    assert "multiple" not in raw and raw["wacc"] == dcf["wacc"]


def test_extends_copy_moves_with_its_base(tmp_path: Path) -> None:
    """A copied pair of files resolves relative to the copy, not to tests/data."""
    shutil.copy(DATA / "small.toml", tmp_path / "small.toml")
    shutil.copy(DATA / "child.toml", tmp_path / "child.toml")
    assert (
        load_scenario(tmp_path / "child.toml").sha256 == load_scenario(DATA / "child.toml").sha256
    )
    (tmp_path / "small.toml").unlink()
    with pytest.raises(ScenarioError) as info:
        load_scenario(tmp_path / "child.toml")
    assert info.value.path == "scenario.extends"


# --------------------------------------------------------------------------- sha256


def test_sha256_is_stable_and_follows_content(tmp_path: Path) -> None:
    a = load_scenario(BASELINE)
    b = load_scenario(BASELINE)
    assert a.sha256 == b.sha256
    assert len(a.sha256) == 64 and int(a.sha256, 16) >= 0
    text = BASELINE.read_text(encoding="utf-8")
    copy_path = tmp_path / "baseline.toml"
    shutil.copy(BASELINE.parent / "peers-2025-12.csv", tmp_path)
    # Comments and layout are not content.
    copy_path.write_text("# a comment\n\n" + text, encoding="utf-8")
    assert load_scenario(copy_path).sha256 == a.sha256
    copy_path.write_text(text.replace("max_events = 2", "max_events = 3"), encoding="utf-8")
    assert load_scenario(copy_path).sha256 != a.sha256


def test_sha256_of_a_child_follows_its_base(tmp_path: Path) -> None:
    shutil.copy(DATA / "small.toml", tmp_path / "small.toml")
    shutil.copy(DATA / "child.toml", tmp_path / "child.toml")
    before = load_scenario(tmp_path / "child.toml").sha256
    base = (tmp_path / "small.toml").read_text(encoding="utf-8")
    (tmp_path / "small.toml").write_text(base.replace("fade = 0.6", "fade = 0.5"), "utf-8")
    assert load_scenario(tmp_path / "child.toml").sha256 != before


# --------------------------------------------------------------------------- data, not code

EVIL = "__import__('os').system('echo pwned')"


def _evil(tmp_path: Path) -> str:
    marker = tmp_path / "pwned"
    return f"__import__('pathlib').Path({str(marker)!r}).touch()"


@pytest.mark.parametrize(
    "where",
    [
        ("segments", 0, "revenue"),
        ("segments", 0, "growth"),
        ("segments", 0, "fade"),
        ("segments", 0, "regions", "X"),
        ("valuation", "multiple"),
        ("valuation", "year"),
        ("targets", 0, "value"),
        ("scenario", "base_year"),
    ],
    ids=lambda w: ".".join(map(str, w)),
)
def test_strings_are_never_evaluated(
    where: tuple[Any, ...], tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    for text in (EVIL, _evil(tmp_path), f"{{'dist': 'fixed', 'value': {EVIL}}}"):
        raw = raw_scenario()
        node: Any = raw
        for key in where[:-1]:
            node = node[key]
        node[where[-1]] = text
        with pytest.raises(ScenarioError) as info:
            build_scenario(raw, source=None, own_name="t")
        names = {"segments": "a", "targets": "t1"}
        expected = ".".join(names[str(where[0])] if k == 0 else str(k) for k in where)
        assert info.value.path == expected
    assert not (tmp_path / "pwned").exists()
    assert "pwned" not in capfd.readouterr().out


def test_evil_distribution_and_names(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    code = _evil(tmp_path)
    cases: list[tuple[dict[str, Any], str]] = [
        (raw_scenario(valuation={"year": 2026, "multiple": {"dist": code}}), "valuation.multiple"),
        (
            raw_scenario(valuation={"year": 2026, "multiple": {"dist": "scipy", "name": code}}),
            "valuation.multiple.name",
        ),
        (
            raw_scenario(valuation={"year": 2026, "multiple": 10.0, "method": code}),
            "valuation.method",
        ),
        (raw_scenario(simulation={"sampler": code}), "simulation.sampler"),
    ]
    for raw, path in cases:
        with pytest.raises(ScenarioError) as info:
            build_scenario(raw, source=None, own_name="t")
        assert info.value.path.startswith(path)
    with pytest.raises(ScenarioError):
        build_scenario(raw_scenario(), source=None, own_name=code)
    assert not (tmp_path / "pwned").exists()
    assert "pwned" not in capfd.readouterr().out


# --------------------------------------------------------------------------- fuzz

BASELINE_RAW = resolve_raw(BASELINE)
SMALL_RAW = resolve_raw(DATA / "small.toml")
SEEDS: list[dict[str, Any]] = [
    BASELINE_RAW,
    SMALL_RAW,
    raw_scenario(),
    raw_scenario(
        shocks=[
            {
                "name": "ban",
                "regions": ["X"],
                "annual_probability": {"dist": "uniform", "min": 0.0, "max": 0.2},
                "severity": {"dist": "triangular", "min": 0.1, "mode": 0.5, "max": 1.0},
                "recovery_years": "permanent",
            }
        ],
        offering={"shares_outstanding": 1000, "price_range": [1.0, 2.0]},
        expect=[
            {
                "name": "q",
                "metric": "revenue.2025",
                "stat": "quantile",
                "q": 0.5,
                "between": ["100", "1K"],
            },
            {"name": "p", "metric": "shocks.ban.p_any", "stat": "mean", "at_most": 0.5},
        ],
    ),
]

ODD_NUMBERS = [
    math.nan,
    math.inf,
    -math.inf,
    1e308,
    -1e308,
    0,
    0.0,
    -0.0,
    -1,
    -1.0,
    1,
    5e-324,
    2**63,
    -(2**63),
    10**400,
    0.5,
    1.5,
]
ODD_STRINGS = [
    "",
    " ",
    "nan",
    "inf",
    "-inf",
    "1e400",
    "1e99999999999999999",
    "25B亿",
    "HK$5",
    "HK$5B",
    "US$3B HKD",
    "¥3亿",
    "3亿元",
    "-0",
    "--5",
    "1,2,3M",
    "1.5.5",
    "0x10",
    "1_000_",
    "3 万亿",
    "1.2万亿",
    "²M",
    "١٢M",
    "35%",
    "-35%",
    "1e308%",
    "permanent",
    "fixed",
    "metalog",
    "valuation",
    "revenue.2025",
    "revenue.²",
    "shocks.ban.p_any",
    "segments.a.growth",
    "segments.talkie.growth",
    "70 million USD",
    "5 thousand HKD",
    "51B HKD",
    "EUR 3",
    "\x00",
    "../..",
    EVIL,
]

_leaf = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.sampled_from(ODD_STRINGS),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=12),
    st.dates(),
    st.times(),
    st.datetimes(),
)
_junk = st.recursive(
    _leaf,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)
# Keys a user might write: the real ones, typos of them, and junk.
_keys = st.one_of(
    st.sampled_from(
        [
            "dist",
            "value",
            "name",
            "growht",
            "revenue",
            "p10",
            "p50",
            "p90",
            "lower",
            "upper",
            "quantiles",
            "weights",
            "components",
            "between",
            "at_most",
            "q",
            "threshold",
            "extends",
            "",
            "0.5",
        ]
    ),
    st.text(max_size=10),
)
_SCIPY = ["gamma", "lognorm", "norm", "beta", "t", "weibull_min", "genextreme", "poisson"]


def _node_paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key path below ``node`` (dict keys and list indices)."""
    out: list[tuple[Any, ...]] = []
    items: list[tuple[Any, Any]] = []
    if isinstance(node, dict):
        items = list(node.items())
    elif isinstance(node, list):
        items = list(enumerate(node))
    for key, value in items:
        here = (*prefix, key)
        out.append(here)
        out.extend(_node_paths(value, here))
    return out


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for key in path:
        node = node[key]
    return node


def _mutate(raw: dict[str, Any], data: st.DataObject) -> None:
    """Apply one random mutation at a random key path of ``raw`` (in place)."""
    paths = _node_paths(raw)
    if not paths:
        raw[data.draw(_keys, label="key")] = data.draw(_junk, label="junk")
        return
    path = data.draw(st.sampled_from(paths), label="path")
    parent, key = _get(raw, path[:-1]), path[-1]
    old = parent[key]
    ops: list[Callable[[], Any]] = [
        lambda: data.draw(_junk, label="junk"),
        lambda: data.draw(st.sampled_from(ODD_NUMBERS), label="number"),
        lambda: data.draw(st.sampled_from(ODD_STRINGS), label="string"),
        lambda: [old],  # nest deeper in a list
        lambda: {"dist": "fixed", "value": old},
        lambda: {"dist": "mixture", "weights": [1.0], "components": [old]},
        lambda: {data.draw(_keys, label="key"): old},
    ]
    if isinstance(old, dict):
        ops.append(lambda: list(old.values()))  # a table becomes a list
        ops.append(lambda: [old, copy.deepcopy(old)])
        if "dist" in old:
            ops.append(
                lambda: {**old, "dist": data.draw(st.sampled_from(DISTRIBUTIONS), label="dist")}
            )
            ops.append(
                lambda: {
                    **old,
                    "dist": "scipy",
                    "name": data.draw(st.sampled_from(_SCIPY), label="scipy"),
                    data.draw(st.sampled_from(["a", "s", "c", "df", "loc", "scale"])): data.draw(
                        st.sampled_from(ODD_NUMBERS), label="shape"
                    ),
                }
            )
    if isinstance(old, list):
        ops.append(lambda: old[:-1])
        ops.append(lambda: [*old, copy.deepcopy(old[0]) if old else 0])
    if isinstance(old, int | float) and not isinstance(old, bool):
        ops.append(lambda: old * data.draw(st.sampled_from([-1, 10, 1e-300, 1e300, 2])))
    drop = data.draw(st.booleans(), label="drop")
    if drop:
        del parent[key]
        return
    parent[key] = data.draw(st.sampled_from(ops), label="op")()
    if isinstance(parent, dict) and data.draw(st.booleans(), label="junk key"):
        parent[data.draw(_keys, label="key")] = data.draw(_junk, label="junk")


def _load_or_reject(raw: dict[str, Any], own_name: str = "fuzz") -> Scenario | None:
    """Build ``raw``: a Scenario or a ScenarioError; anything else fails the test."""
    try:
        scenario = build_scenario(raw, source=None, own_name=own_name, peers_dir=BASELINE.parent)
    except ScenarioError as err:
        assert isinstance(err.path, str)
        assert err.message
        return None
    # Whatever loads can be shown, as JSON and for people.
    json.dumps(scenario.to_dict(), allow_nan=False, ensure_ascii=False)
    _print_scenario(scenario, io.StringIO())
    return scenario


@given(data=st.data())
def test_fuzz_mutated_scenarios_load_or_raise_scenario_error(data: st.DataObject) -> None:
    raw = copy.deepcopy(data.draw(st.sampled_from(SEEDS), label="seed"))
    for _ in range(data.draw(st.integers(1, 4), label="mutations")):
        _mutate(raw, data)
    _load_or_reject(raw)


@given(data=st.data())
def test_fuzz_one_mutation_in_a_small_scenario(data: st.DataObject) -> None:
    raw = copy.deepcopy(data.draw(st.sampled_from(SEEDS[1:]), label="seed"))
    _mutate(raw, data)
    name = data.draw(st.sampled_from(["fuzz", "../x", "", "a b", "ok.name", "a/b"]))
    _load_or_reject(raw, own_name=name)


_param = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.floats(-10.0, 10.0),
    st.floats(allow_nan=False),
    st.sampled_from(["70M", "25亿", "35%", "HK$5", "x"]),
)


@st.composite
def _distributions(draw: st.DrawFn, depth: int = 0) -> dict[str, Any]:
    """A distribution table with random parameters (of the right names, mostly)."""
    dist = draw(st.sampled_from(DISTRIBUTIONS if depth < 1 else DISTRIBUTIONS[:-2]))
    names = {
        "fixed": ["value"],
        "normal": ["mean", "sd"],
        "lognormal": draw(st.sampled_from([["p50", "p90"], ["mu", "sigma"], ["mean", "sd"]])),
        "triangular": ["min", "mode", "max"],
        "pert": ["min", "mode", "max", "lambda"],
        "uniform": ["min", "max"],
        "beta": ["a", "b", "min", "max"],
        "metalog": ["p10", "p50", "p90", "lower", "upper", "terms"],
        "mixture": [],
        "scipy": ["loc", "scale"],
    }[dist]
    table: dict[str, Any] = {"dist": dist}
    for key in names:
        if draw(st.integers(0, 5)):  # mostly present
            table[key] = draw(_param)
    if dist == "mixture":
        n = draw(st.integers(1, 3))
        table["weights"] = draw(
            st.lists(st.sampled_from([0.5, 0.25, 1.0, 0.0, -0.5]), min_size=n, max_size=n)
        )
        table["components"] = [draw(_distributions(depth + 1)) for _ in range(n)]
    if dist == "scipy":
        table["name"] = draw(st.sampled_from(_SCIPY))
        for key in draw(st.lists(st.sampled_from(["a", "s", "c", "df", "b"]), max_size=2)):
            table[key] = draw(_param)
    return table


@given(
    spec=_distributions(),
    where=st.sampled_from(
        [
            ("segments", 0, "revenue"),
            ("segments", 0, "growth"),
            ("valuation", "multiple"),
            ("valuation", "net_cash"),
            ("valuation", "ipo_proceeds"),
            ("shocks", 0, "annual_probability"),
            ("shocks", 0, "severity"),
            ("shocks", 0, "recovery_years"),
        ]
    ),
)
def test_fuzz_random_distributions_load_or_raise_scenario_error(
    spec: dict[str, Any], where: tuple[Any, ...]
) -> None:
    raw = copy.deepcopy(SEEDS[3])
    _get(raw, where[:-1])[where[-1]] = spec
    _load_or_reject(raw)


def test_fuzz_seeds_are_valid() -> None:
    for raw in SEEDS:
        assert _load_or_reject(copy.deepcopy(raw)) is not None


def test_dates_are_not_years() -> None:
    raw = raw_scenario()
    raw["scenario"]["base_year"] = datetime.date(2024, 1, 1)
    with pytest.raises(ScenarioError) as info:
        build_scenario(raw, source=None, own_name="t")
    assert info.value.path == "scenario.base_year"


@pytest.mark.parametrize(
    "metric", ["revenue.02025", "revenue.2025.0", "revenue. 2025", "revenue."]
)
def test_expect_revenue_year_is_written_plainly(metric: str) -> None:
    """The engine names its streams revenue.2025: any other spelling is rejected on load."""
    raw = raw_scenario(expect=[{"name": "e", "metric": metric, "stat": "mean", "at_least": 0}])
    with pytest.raises(ScenarioError) as info:
        build_scenario(raw, source=None, own_name="t")
    assert info.value.path == "expect.e.metric"


def test_unreadable_paths_are_scenario_errors(tmp_path: Path) -> None:
    """A name too long or a symlink loop is a ScenarioError, not an OSError."""
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / ("x" * 300 + ".toml"))
    child = tmp_path / "child.toml"
    child.write_text(f'[scenario]\nextends = "{"y" * 300}.toml"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert info.value.path == "scenario.extends"
    try:
        (tmp_path / "a.toml").symlink_to(tmp_path / "b.toml")
        (tmp_path / "b.toml").symlink_to(tmp_path / "a.toml")
    except OSError:  # pragma: no cover - no symlinks on this system
        pytest.skip("symlinks not available")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "a.toml")
    child.write_text('[scenario]\nextends = "a.toml"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert info.value.path == "scenario.extends"


# Found by the fuzz tests: parameters that overflow double precision while the
# distribution is built must still be ScenarioErrors.
@pytest.mark.parametrize(
    "spec",
    [
        pytest.param({"dist": "beta", "a": 2.0, "b": 2.7e154}, id="beta-huge-b"),
        pytest.param({"dist": "pert", "min": -1e308, "mode": 0.0, "max": 1e307}, id="pert-wide"),
        pytest.param({"dist": "lognormal", "mean": 1e-300, "sd": 1e-12}, id="lognormal-cv"),
        pytest.param({"dist": "lognormal", "mu": 0.0, "sigma": 1e200}, id="lognormal-sigma"),
        pytest.param(
            {
                "dist": "mixture",
                "weights": [1.0],
                "components": [{"dist": "triangular", "min": 0.0, "mode": 1.0, "max": 1e307}],
            },
            id="mixture-wide-triangular",
        ),
    ],
)
def test_extreme_distribution_parameters_are_scenario_errors(spec: dict[str, Any]) -> None:
    raw = raw_scenario(valuation={"year": 2026, "multiple": spec})
    _load_or_reject(raw)


def test_extends_replaces_regional_shares_whole(tmp_path: Path) -> None:
    base = tmp_path / "base.toml"
    base.write_text((DATA / "small.toml").read_text("utf-8"), encoding="utf-8")
    raw = resolve_raw(base)
    segment = raw["segments"][0]["name"]
    child = tmp_path / "child.toml"
    child.write_text(
        f'[scenario]\nextends = "base.toml"\nname = "child"\n\n[[segments]]\n'
        f'name = "{segment}"\nregions = {{ US = 0.5, JP = 0.5 }}\n',
        encoding="utf-8",
    )
    scenario = load_scenario(child)
    seg = next(s for s in scenario.segments if s.name == segment)
    shares = dict(zip(scenario.regions, seg.shares, strict=True))
    # The base's "other" share is gone, not merged in beside the new split.
    assert shares == {**dict.fromkeys(scenario.regions, 0.0), "US": 0.5, "JP": 0.5}


def test_expect_without_a_name_as_in_the_design(tmp_path: Path) -> None:
    """DESIGN.md section 7 writes expectations without names."""
    path = tmp_path / "unnamed.toml"
    text = (DATA / "small.toml").read_text("utf-8")
    path.write_text(
        text + '\n[[expect]]\nmetric = "valuation"\nstat = "p_at_least"\n'
        'threshold = "40亿"\nat_most = 0.30\n',
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    unnamed = [e for e in scenario.expectations if not e.name]
    assert len(unnamed) == 1
    assert unnamed[0].text.startswith("P(valuation >= ")


def test_an_inherited_mistake_names_the_base_file(tmp_path: Path) -> None:
    base = tmp_path / "base.toml"
    text = (DATA / "small.toml").read_text("utf-8")
    base.write_text(text.replace("fade = 0.6", "fade = 1.6"), encoding="utf-8")
    child = tmp_path / "child.toml"
    child.write_text('[scenario]\nextends = "base.toml"\nname = "child"\n', encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert info.value.path == "segments.talkie.fade"
    assert info.value.file == str(base)
    # The same key overridden (wrongly) in the child is the child's mistake.
    child.write_text(
        '[scenario]\nextends = "base.toml"\nname = "child"\n\n'
        '[[segments]]\nname = "talkie"\nfade = 2.0\n',
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert info.value.file == str(child)


def test_each_file_of_an_extends_chain_is_read_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also when a mistake is traced back to the file that wrote it."""
    base = tmp_path / "base.toml"
    text = (DATA / "small.toml").read_text("utf-8")
    base.write_text(text, encoding="utf-8")
    middle = tmp_path / "middle.toml"
    middle.write_text('[scenario]\nextends = "base.toml"\n', encoding="utf-8")
    child = tmp_path / "child.toml"
    child.write_text('[scenario]\nextends = "middle.toml"\nname = "child"\n', encoding="utf-8")
    reads: list[str] = []
    real_open = Path.open

    def counting_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        reads.append(self.name)
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", counting_open)
    assert load_scenario(child).name == "child"
    assert sorted(reads) == ["base.toml", "child.toml", "middle.toml"], reads
    base.write_text(text.replace("fade = 0.6", "fade = 1.6"), encoding="utf-8")
    reads.clear()
    with pytest.raises(ScenarioError) as info:
        load_scenario(child)
    assert info.value.file == str(base)
    assert sorted(reads) == ["base.toml", "child.toml", "middle.toml"], reads


# --------------------------------------------------------------------------- bounded input


def _small_text() -> str:
    return (DATA / "small.toml").read_text("utf-8")


def test_a_file_over_the_size_bound_is_refused_unread(tmp_path: Path) -> None:
    """A valid scenario padded past 4 MiB is refused by its size, naming file and bound."""
    path = tmp_path / "padded.toml"
    pad = ("# " + "x" * 97 + "\n") * (MAX_FILE_BYTES // 100 + 1)
    path.write_text(_small_text() + pad, encoding="utf-8")
    assert path.stat().st_size > MAX_FILE_BYTES
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.file == str(path)
    assert str(info.value) == f"{path}: larger than 4 MiB, the most a scenario file may be"
    # At the bound itself the file is read.
    path.write_text(_small_text() + pad[: MAX_FILE_BYTES - len(_small_text().encode())])
    assert path.stat().st_size == MAX_FILE_BYTES
    assert load_scenario(path).name == "small"


def _special_file(kind: str, tmp_path: Path) -> Path:
    if kind == "fifo":
        if not hasattr(os, "mkfifo"):  # pragma: no cover - not POSIX
            pytest.skip("no named pipes here")
        path = tmp_path / "pipe.toml"
        os.mkfifo(path)
        return path
    path = Path("/dev/zero")
    if not path.exists():  # pragma: no cover - not POSIX
        pytest.skip("no /dev/zero here")
    return path


@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_a_device_or_pipe_is_refused_at_once(kind: str, tmp_path: Path) -> None:
    """`ipo-sim check /dev/zero` read without end; a named pipe blocked for ever."""
    path = _special_file(kind, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "check", str(path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr == (
        f"ipo-sim: error: {path}: is not a regular file (a device, pipe or socket); "
        "give a .toml file\n"
    )


def test_a_leading_byte_order_mark_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + _small_text().encode("utf-8"))
    with_bom = load_scenario(path)
    assert with_bom.name == "small"
    assert with_bom.sha256 == load_scenario(DATA / "small.toml").sha256
    # Only at the start: one in the middle of the file is still invalid TOML.
    path.write_bytes(_small_text().encode("utf-8") + b"\xef\xbb\xbf\n")
    with pytest.raises(ScenarioError, match="invalid TOML"):
        load_scenario(path)


def _extends_chain(tmp_path: Path, bases: int) -> Path:
    """``f0.toml`` extends ``f1.toml`` ... extends ``f<bases>.toml``, a valid scenario."""
    (tmp_path / f"f{bases}.toml").write_text(_small_text(), encoding="utf-8")
    for i in range(bases):
        (tmp_path / f"f{i}.toml").write_text(
            f'[scenario]\nextends = "f{i + 1}.toml"\n', encoding="utf-8"
        )
    return tmp_path / "f0.toml"


def test_an_extends_chain_is_bounded(tmp_path: Path) -> None:
    """999 files deep ended in a RecursionError traceback."""
    top = _extends_chain(tmp_path, 999)
    with pytest.raises(ScenarioError) as info:
        load_scenario(top)
    err = info.value
    assert err.path == "scenario.extends"
    assert err.file == str(tmp_path / f"f{MAX_EXTENDS}.toml")
    assert (
        err.message
        == f"more than {MAX_EXTENDS} levels of extends below f0.toml; shorten the chain"
    )


def test_an_extends_chain_at_the_bound_loads(tmp_path: Path) -> None:
    top = _extends_chain(tmp_path, MAX_EXTENDS)
    assert load_scenario(top).segments[0].name == "talkie"


def test_an_extends_chain_too_deep_is_one_line_on_the_command_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    top = _extends_chain(tmp_path, 999)
    assert main(["check", str(top)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "levels of extends" in err


def _deep_mixture(levels: int) -> dict[str, Any]:
    """``levels`` mixtures, each the only component of the one above, around a normal."""
    spec: dict[str, Any] = {"dist": "normal", "mean": 20.0, "sd": 1.0, "lower": 1.0}
    for _ in range(levels):
        spec = {"dist": "mixture", "weights": [1.0], "components": [spec]}
    return spec


def test_mixture_nesting_is_bounded() -> None:
    raw = raw_scenario(
        valuation={"year": 2026, "multiple": _deep_mixture(MAX_DISTRIBUTION_NESTING + 1)}
    )
    with pytest.raises(ScenarioError) as info:
        build_scenario(raw, source=None, own_name="t")
    inner = ".components[0]" * MAX_DISTRIBUTION_NESTING
    assert info.value.path == f"valuation.multiple{inner}"
    assert f"mixtures nested more than {MAX_DISTRIBUTION_NESTING} deep" in info.value.message
    raw = raw_scenario(
        valuation={"year": 2026, "multiple": _deep_mixture(MAX_DISTRIBUTION_NESTING)}
    )
    build_scenario(raw, source=None, own_name="t")


def _write_deep_mixture_file(path: Path, levels: int) -> None:
    """The mixture written with [..] table headers, the way TOML nests without limit."""
    text = _small_text().replace('multiple = { dist = "lognormal", p50 = 20, p90 = 40 }\n', "")
    key = "valuation.multiple"
    lines = [text, f'[{key}]\ndist = "mixture"\nweights = [1.0]']
    for _ in range(levels - 1):
        key += ".components"
        lines.append(f'[[{key}]]\ndist = "mixture"\nweights = [1.0]')
    lines.append(f'[[{key}.components]]\ndist = "fixed"\nvalue = 20\n')
    path.write_text("\n".join(lines), encoding="utf-8")


def test_a_mixture_400_deep_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """400 nested mixtures ended in a 3,002-line RecursionError traceback."""
    path = tmp_path / "deep.toml"
    _write_deep_mixture_file(path, 400)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.path.startswith("valuation.multiple.components[0].")
    assert info.value.message == f"tables and arrays nested more than {MAX_NESTING} deep"
    assert main(["check", str(path)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("form", ["inline-table", "array"])
def test_inline_nesting_beyond_the_parser_is_one_line(form: str, tmp_path: Path) -> None:
    depth = 5000
    value = (
        "{a = " * depth + "1" + "}" * depth
        if form == "inline-table"
        else "[" * depth + "1" + "]" * depth
    )
    path = tmp_path / "inline.toml"
    path.write_text(_small_text() + f"\n[extra]\ndeep = {value}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert "nested too deeply" in info.value.message
    assert info.value.file == str(path)


def test_nesting_within_the_bound_reaches_the_key_check(tmp_path: Path) -> None:
    path = tmp_path / "nested.toml"
    value = "{a = " * 40 + "1" + "}" * 40
    path.write_text(_small_text() + f"\n[extra]\ndeep = {value}\n", encoding="utf-8")
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert info.value.path == "extra"
    assert "unknown key" in info.value.message


# --------------------------------------------------------------------------- the reference

DOC = ROOT / "docs" / "scenarios.md"


def _doc_table(marker: str) -> list[list[str]]:
    """The rows (cells stripped) of the Markdown table after ``<!-- marker -->``."""
    lines = DOC.read_text("utf-8").splitlines()
    start = lines.index(f"<!-- {marker} -->") + 3  # the header and the separator row
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    assert rows, marker
    return rows


def _ticked(cell: str) -> list[str]:
    """The `code` spans of a cell, in order."""
    return cell.split("`")[1::2]


@pytest.mark.parametrize("table", list(KEYS), ids=lambda t: t or "top")
def test_reference_lists_every_key_the_loader_takes(table: str) -> None:
    rows = _doc_table(f"keys: {table or '(top)'}")
    documented = {_ticked(row[0])[0]: row[1] == "required" for row in rows}
    assert documented == dict(KEYS[table])


#: Tables the example leaves out: [comparables] needs a peer table beside the file, and
#: its keys replace the example's `multiple` (tests/test_comparables.py covers them).
_NOT_IN_EXAMPLE = ("comparables",)
_COMPARABLES_KEYS = ("gross_margin", "multiple_shift")


@pytest.mark.parametrize("table", [t for t in KEYS if t and t not in _NOT_IN_EXAMPLE], ids=str)
def test_reference_required_keys_are_required_and_the_rest_optional(table: str) -> None:
    """Against the loader's behaviour: dropping a required key is the error for that key."""
    full = _doc_example()
    for key, required in KEYS[table].items():
        raw = copy.deepcopy(full)
        entry = raw[table][0] if isinstance(raw[table], list) else raw[table]
        if key not in entry or key in ("threshold", "q", "at_most", "at_least", "between"):
            continue  # the stat decides whether these are required
        if table == "offering" and key == "shares_outstanding":
            continue  # the simple form's count, or the deal's: one of them is required
        if table == "aftermarket" and key == "lockup_day":
            continue  # optional, but lockup_drop needs it (tested on its own)
        del entry[key]
        if table == "scenario" and key == "name":
            continue  # the file name stands in
        if required:
            with pytest.raises(ScenarioError, match="required key is missing"):
                build_scenario(raw, source=None, own_name="example")
        else:
            build_scenario(raw, source=None, own_name="example")


_DEAL_KEYS = ("shares_before", "new_shares", "upsize_option", "over_allotment", "fees")


def _doc_example() -> dict[str, Any]:
    text = DOC.read_text("utf-8")
    block = text.split("<!-- example -->\n```toml\n", 1)[1].split("```", 1)[0]
    return tomllib.loads(block)


def test_reference_example_loads_and_uses_every_key(tmp_path: Path) -> None:
    raw = _doc_example()
    path = tmp_path / "example.toml"
    path.write_text(
        DOC.read_text("utf-8").split("<!-- example -->\n```toml\n", 1)[1].split("```", 1)[0],
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    assert scenario.name == "example"
    for table, keys in KEYS.items():
        if not table:
            assert set(raw) == set(keys) - set(_NOT_IN_EXAMPLE)
            continue
        if table in _NOT_IN_EXAMPLE:
            continue
        entries = raw[table] if isinstance(raw[table], list) else [raw[table]]
        used = {k for e in entries for k in e}
        # `extends` needs a second file: the extends tests cover it. The deal's keys
        # replace the example's simple form of [offering]: tests/data/deal.toml uses them.
        # The DCF's keys are another method's: tests/data/dcf_small.toml uses them (and
        # primary, method both's: tests/test_valuation_both.py). The comparables' keys of
        # [valuation] go with [comparables].
        left = {"extends", *_DEAL_KEYS, *Dcf.own_keys, "primary", *_COMPARABLES_KEYS}
        assert used >= set(keys) - left, table


def test_reference_lists_every_distribution_and_parameter() -> None:
    rows = _doc_table("distributions")
    documented = {_ticked(row[0])[0]: set(_ticked(row[1])) for row in rows}
    assert list(documented) == list(DISTRIBUTIONS)
    for name, params in PARAMETERS.items():
        assert documented[name] == set(params), name
    # Truncation is documented on exactly the distributions that take it.
    assert {n for n, p in documented.items() if "lower" in p and n != "metalog"} == set(
        TRUNCATABLE
    )


def test_reference_parameters_are_accepted() -> None:
    """Each documented parameter passes the key check: the error is the unknown key after it."""
    for name, params in PARAMETERS.items():
        for key in params:
            spec: dict[str, object] = (
                {"dist": name, "name": "gamma"} if name == "scipy" else {"dist": name}
            )
            spec |= {key: spec.get(key, 1.0), "zz_unknown": 1}
            with pytest.raises(ScenarioError) as info:
                parse_distribution(spec, path="x")
            assert info.value.path == "x.zz_unknown", (name, key, str(info.value))


def test_reference_lists_every_metric_and_stat() -> None:
    metrics = [_ticked(row[0])[0] for row in _doc_table("metrics")]
    assert metrics == list(EXPECT_METRICS)
    stats = [_ticked(row[0])[0] for row in _doc_table("stats")]
    assert stats == list(EXPECT_STATS)
    # And every documented metric is accepted.
    examples = {
        "revenue.<year>": "revenue.2025",
        "shocks.<name>.p_any": "shocks.app-store-removal.p_any",
        "market_value.<at>": "market_value.peak",
        "regime.<name>": "regime.hot",
    }
    base = resolve_raw(DATA / "small.toml")
    base["aftermarket"] = {"adjustment": 1.0, "day1_noise": 0.1, "volatility": 0.8, "days": 126}
    dcf = resolve_raw(DATA / "dcf_small.toml")  # dcf_value needs a DCF
    for metric in metrics:
        raw = copy.deepcopy(dcf if metric == "dcf_value" else base)
        raw["regimes"] = [{"name": "hot", "weight": 1.0}]
        raw["expect"] = [
            {"name": "m", "metric": examples.get(metric, metric), "stat": "mean", "at_least": 0}
        ]
        build_scenario(raw, source=None, own_name="small")


def test_reference_lists_every_currency_alias_and_scale() -> None:
    documented = {alias: row[1] for row in _doc_table("currencies") for alias in _ticked(row[0])}
    assert documented == _CURRENCY_ALIASES | {"¥": "JPY or CNY", "￥": "JPY or CNY"}
    scales = {word: row[1] for row in _doc_table("scales") for word in _ticked(row[0])}
    expected = {w: f"10^{p}" for w, p in (_SCALES | _SCALE_WORDS).items()}
    assert scales == expected
    text = DOC.read_text("utf-8")
    assert "**`¥` is the mark of the yen and of the yuan**" in text


def test_readme_points_to_the_reference() -> None:
    readme = (ROOT / "README.md").read_text("utf-8")
    assert "docs/scenarios.md" in readme
    assert "the\nproject's scenario format" not in readme


def test_reference_states_the_loader_bounds() -> None:
    text = " ".join(DOC.read_text("utf-8").split())
    assert f"at most {MAX_FILE_BYTES // 2**20} MiB" in text
    assert f"At most {MAX_EXTENDS} files below the one you run" in text
    assert f"mixtures nest at most {MAX_DISTRIBUTION_NESTING} deep" in text
    assert f"at least {MIN_TRUNCATED_MASS:g} of the distribution's probability" in text


# --------------------------------------------------------------------------- what was known


def test_as_of_and_listing_date_read_as_strings_or_toml_dates() -> None:
    text = (
        (DATA / "small.toml")
        .read_text(encoding="utf-8")
        .replace("horizon = ", 'as_of = "2025-12-31"\nlisting_date = 2026-01-09\nhorizon = ', 1)
    )
    raw = tomllib.loads(text)
    assert isinstance(raw["scenario"]["listing_date"], datetime.date)
    sc = build_scenario(raw, source=None, own_name="dated")
    assert sc.as_of == datetime.date(2025, 12, 31)
    assert sc.listing_date == datetime.date(2026, 1, 9)
    assert sc.to_dict()["scenario"]["as_of"] == "2025-12-31"
    assert sc.to_dict()["scenario"]["listing_date"] == "2026-01-09"
    out = io.StringIO()
    _print_scenario(sc, out)
    assert "information as of 2025-12-31, values at listing on 2026-01-09" in out.getvalue()


def test_dates_are_optional_and_may_be_the_same_day() -> None:
    sc = build_scenario(raw_scenario(), source=None, own_name="t")
    assert sc.as_of is None and sc.listing_date is None
    assert sc.to_dict()["scenario"]["as_of"] is None
    same = raw_scenario(
        scenario={"name": "t", "base_year": 2024, "horizon": 2, "as_of": "2026-01-09"}
    )
    same["scenario"]["listing_date"] = datetime.date(2026, 1, 9)
    sc = build_scenario(same, source=None, own_name="t")
    assert sc.as_of == sc.listing_date


@pytest.mark.parametrize("value", ["2025-02-30", "2025-1-5", "next week", 20251231, True])
def test_a_date_that_is_not_one_names_its_key(value: object) -> None:
    raw = raw_scenario(scenario={"name": "t", "base_year": 2024, "horizon": 2, "as_of": value})
    with pytest.raises(ScenarioError, match="expected a date") as info:
        build_scenario(raw, source=None, own_name="t")
    assert info.value.path == "scenario.as_of"


def _segment_with(revenue: object, booked: object) -> dict[str, Any]:
    raw = raw_scenario()
    raw["fx"] = {"HKD": HKD}
    raw["segments"][0].update(revenue=revenue, booked=booked)
    return raw


@pytest.mark.parametrize(
    ("revenue", "booked"),
    [
        ({"dist": "uniform", "min": "12M", "max": "20M"}, "12.5M"),
        ({"dist": "lognormal", "p50": "16M", "p90": "20M"}, "1M"),
        ({"dist": "normal", "mean": "16M", "sd": "2M", "lower": "11M"}, "12M"),
        ({"dist": "metalog", "p10": "13M", "p50": "15M", "p90": "18M", "lower": 0}, "12M"),
        ({"dist": "triangular", "min": "HK$90M", "mode": "HK$95M", "max": "HK$99M"}, "HK$91M"),
        ("11.9M", "12M"),
    ],
)
def test_booked_above_the_base_revenues_lower_support_is_refused(
    revenue: object, booked: object
) -> None:
    with pytest.raises(ScenarioError, match="already booked") as info:
        build_scenario(_segment_with(revenue, booked), source=None, own_name="t")
    assert info.value.path == "segments.a.booked"


def test_an_unbounded_base_revenue_is_refused_with_booked() -> None:
    """A normal reaches -inf: refused (as revenue below 0) until truncated."""
    raw = _segment_with({"dist": "normal", "mean": "16M", "sd": "2M"}, "12M")
    with pytest.raises(ScenarioError, match="truncate it with lower") as info:
        build_scenario(raw, source=None, own_name="t")
    assert info.value.path == "segments.a.revenue"


@pytest.mark.parametrize("booked", ["-1M", "twelve", True, {"dist": "fixed", "value": 1}])
def test_booked_is_a_non_negative_money_amount(booked: object) -> None:
    raw = _segment_with({"dist": "uniform", "min": "12M", "max": "20M"}, booked)
    with pytest.raises(ScenarioError) as info:
        build_scenario(raw, source=None, own_name="t")
    assert info.value.path == "segments.a.booked"


@pytest.mark.parametrize(
    ("revenue", "booked"),
    [
        ({"dist": "uniform", "min": "12M", "max": "20M"}, "12M"),
        ({"dist": "normal", "mean": "16M", "sd": "2M", "lower": "12M"}, "12M"),
        ({"dist": "metalog", "p10": "13M", "p50": "15M", "p90": "18M", "lower": "12M"}, "12M"),
        ({"dist": "triangular", "min": "HK$90M", "mode": "HK$95M", "max": "HK$99M"}, "HK$90M"),
        ("12M", "12M"),
        ("12M", 0),
    ],
)
def test_booked_at_or_below_the_lower_support_is_kept_in_usd(
    revenue: object, booked: object
) -> None:
    sc = build_scenario(_segment_with(revenue, booked), source=None, own_name="t")
    seg = sc.segments[0]
    assert seg.booked is not None
    assert seg.booked <= seg.revenue.support()[0]
    assert sc.to_dict()["segments"][0]["booked"] == seg.booked
    if booked == "HK$90M":
        assert seg.booked == pytest.approx(90e6 * HKD)


def test_booked_is_optional() -> None:
    sc = build_scenario(raw_scenario(), source=None, own_name="t")
    assert sc.segments[0].booked is None
    assert sc.to_dict()["segments"][0]["booked"] is None
