"""Tests for the ``ipo-sim`` command: show, check, run; exit codes 0 / 1 / 2 / 130.

Most tests call :func:`sim.cli.main` in-process with ``capsys`` (fast); one real
subprocess proves ``python -m sim`` works.
"""

from __future__ import annotations

import csv
import json
import math
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import sim.analysis.summary
import sim.cli
import sim.output.run_folder
import sim.run.engine
from sim.cli import main
from sim.money import format_money
from sim.scenario import load_scenario

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"
DATA = TESTS / "data"
SMALL = DATA / "small.toml"
FAILING = DATA / "failing_expect.toml"
BAD = TESTS / "invalid" / "unknown_key_segment_growht.toml"
HKD = 0.1282
PATHS = "20000"
QUANTILE_KEYS = {"0.01", "0.05", "0.1", "0.25", "0.5", "0.75", "0.9", "0.95", "0.99"}


def _one_error_line(err: str) -> str:
    """The single stderr line of a user error."""
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert "Traceback" not in err
    assert err.startswith("ipo-sim")
    return err.rstrip("\n")


def _run(out: Path, *scenarios: Path, extra: tuple[str, ...] = ()) -> int:
    argv = ["run", *map(str, scenarios), "--paths", PATHS, "--format", "json,csv"]
    return main([*argv, "--out", str(out), "--quiet", *extra])


def _listing(folder: Path) -> list[str]:
    """Every entry under ``folder``, hidden ones included, relative and sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


def _contents(folder: Path) -> dict[str, bytes]:
    return {p: (folder / p).read_bytes() for p in _listing(folder) if (folder / p).is_file()}


# --------------------------------------------------------------------------- show


def test_show_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(BASELINE)]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    scenario = load_scenario(BASELINE)
    assert out.startswith(f"scenario baseline  (sha256 {scenario.sha256[:12]})")
    assert "1 HKD = 0.1282 USD" in out
    for seg in scenario.segments:
        assert f"  {seg.name}: revenue " in out
    assert f"{format_money(4e10)}  (written 40bn)" in out
    assert "(written 25亿)" in out
    for r in scenario.regimes:
        assert f"regime {r.name}: weight {r.weight:g}; valuation.multiple_shift normal(" in out
    assert "comparables: peers-2025-12.csv" in out
    assert "simulation: " in out


def _distribution_tables(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, dict):
        found = [node] if "dist" in node else []
        for value in node.values():
            found.extend(_distribution_tables(value))
        return found
    if isinstance(node, list):
        return [d for v in node for d in _distribution_tables(v)]
    return []


def test_show_json_is_usd(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(BASELINE), "--json"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    data = json.loads(out)
    scenario = load_scenario(BASELINE)
    assert data == json.loads(json.dumps(scenario.to_dict()))
    assert data["scenario"]["name"] == "baseline"
    assert data["scenario"]["sha256"] == scenario.sha256
    assert data["offering"]["price_range_usd"] == [151 * HKD, 165 * HKD]
    assert data["offering"]["price_range"] == ["HK$151", "HK$165"]
    written = {t["written"]: t["value_usd"] for t in data["targets"]}
    assert written["25亿"] == 2.5e9
    assert written["40bn"] == 4e10
    # Every parameter of every distribution is a plain number (USD where it is money):
    # no "19.5M" or "HK$151" survives into the resolved scenario.
    tables = _distribution_tables(data)
    assert len(tables) >= 2 * len(data["segments"])
    for table in tables:
        for key, value in table.items():
            if key in ("dist", "name", "components"):
                continue
            values = value if isinstance(value, list) else [value]
            assert all(isinstance(v, int | float) and math.isfinite(v) for v in values), table


def test_show_json_resolves_extends(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["show", str(DATA / "child.toml"), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["scenario"]["name"] == "child"
    assert [s["name"] for s in data["segments"]] == ["talkie", "open_platform", "hailuo"]
    assert data["offering"]["price_range_usd"] == [140 * HKD, 150 * HKD]
    assert {t["label"]: t["value_usd"] for t in data["targets"]}["prospectus: HK$60 bn"] == (
        60e9 * HKD
    )


def test_python_m_sim_show() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "sim", "show", "scenarios/baseline.toml"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("scenario baseline")
    assert proc.stderr == ""


# --------------------------------------------------------------------------- check


def test_check_baseline_passes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(BASELINE), "--paths", PATHS, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert f"{BASELINE}: baseline: " in out
    assert "20,000 paths" in out
    assert "FAILED" not in out


def test_check_without_expectations(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = SMALL.read_text(encoding="utf-8")
    path = tmp_path / "quiet.toml"
    path.write_text(text[: text.index("[[expect]]")], encoding="utf-8")
    assert main(["check", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{path}: ok (small: 2 segments")
    assert out.count("\n") == 1


def test_check_failing_expect_exits_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(FAILING), "--paths", PATHS, "--quiet"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    assert "FAILED" in out and "stretch" in out


def test_check_several_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(SMALL), str(FAILING), "--paths", PATHS, "--quiet"]) == 1
    capsys.readouterr()
    # A bad file among good ones is still bad input (a batch: the good one is checked
    # too, and a closing line counts the outcomes; tests/test_batch.py).
    assert main(["check", str(SMALL), str(BAD), "--paths", PATHS, "--quiet"]) == 2
    out, err = capsys.readouterr()
    error, closing = err.splitlines()
    assert "segments.talkie.growht" in error
    assert closing.endswith("1 bad input (unknown_key_segment_growht.toml); exit code 2")
    assert f"{SMALL}: small: 1 expectations" in out


def test_check_bad_input_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", str(BAD)]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert _one_error_line(err) == (
        f"ipo-sim: error: {BAD}: segments.talkie.growht: unknown key 'growht'; "
        "did you mean 'growth'?"
    )


# --------------------------------------------------------------------------- run


def test_run_writes_summary_json_and_csv(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, BASELINE) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert "wrote 3 files" in out
    assert _listing(tmp_path) == [
        "baseline",
        "baseline/summary.csv",
        "baseline/summary.json",
        "baseline/summary.txt",
    ]
    # summary.txt holds what the run printed, from its first line to the last table's.
    printed = out.split("  wrote ")[0]
    assert (tmp_path / "baseline" / "summary.txt").read_text(encoding="utf-8") == printed
    scenario = load_scenario(BASELINE)

    summary = json.loads((tmp_path / "baseline" / "summary.json").read_text(encoding="utf-8"))
    assert {
        "scenario",
        "scenario_sha256",
        "version",
        "seed",
        "paths",
        "sampler",
        "elapsed_s",
        "valuation",
        "targets",
        "revenue",
        "concentration",
        "shocks",
        "sensitivity",
        "expectations",
    } <= set(summary)
    assert summary["scenario"] == "baseline"
    assert summary["scenario_sha256"] == scenario.sha256
    assert summary["version"] == sim.__version__
    assert summary["paths"] == int(PATHS)
    assert summary["seed"] == scenario.simulation.seed
    assert summary["sampler"] == scenario.simulation.sampler
    assert summary["elapsed_s"] >= 0
    v = summary["valuation"]
    assert v["currency"] == "USD"
    assert {"mean", "sd", "quantiles"} <= set(v)
    assert set(v["quantiles"]) >= QUANTILE_KEYS
    qs = [v["quantiles"][k] for k in sorted(QUANTILE_KEYS, key=float)]
    assert qs == sorted(qs)
    assert [t["label"] for t in summary["targets"]] == [t.label for t in scenario.targets]
    for t, target in zip(summary["targets"], scenario.targets, strict=True):
        assert {"label", "value_usd", "p_at_least", "ci95", "se"} <= set(t)
        assert t["value_usd"] == target.value_usd
        lo, hi = t["ci95"]
        assert 0 <= lo <= t["p_at_least"] <= hi <= 1
    assert set(summary["revenue"]) >= {str(y) for y in scenario.years}
    for year in scenario.years:
        assert {"p5", "p50", "p95", "mean"} <= set(summary["revenue"][str(year)])
    assert {"hhi", "top_region_share"} <= set(summary["concentration"])
    assert [s["name"] for s in summary["shocks"]] == [k.name for k in scenario.shocks]
    assert all(0 <= s["p_any"] <= 1 for s in summary["shocks"])
    for s in summary["sensitivity"]:
        assert {
            "input",
            "rank_correlation",
            "first_order",
            "first_order_ci95",
            "swing_usd",
        } <= set(s)
    assert len(summary["expectations"]) == len(scenario.expectations)
    for e in summary["expectations"]:
        assert {"text", "passed", "estimate", "ci95"} <= set(e)
        assert isinstance(e["passed"], bool)

    with (tmp_path / "baseline" / "summary.csv").open(encoding="utf-8-sig", newline="") as f:
        every = list(csv.DictReader(f))
    # The targets first, then the pricing grid (the baseline has an offering).
    kinds = [r["kind"] for r in every]
    assert kinds == ["target"] * len(scenario.targets) + ["pricing"] * len(summary["pricing"])
    pricing = every[len(scenario.targets) :]
    assert [float(r["p_at_least"]) for r in pricing] == pytest.approx(
        [p["p_fair_at_least"] for p in summary["pricing"]], abs=5e-7
    )
    rows = every[: len(scenario.targets)]
    assert [r["label"] for r in rows] == [t.label for t in scenario.targets]
    assert [float(r["value_usd"]) for r in rows] == [t.value_usd for t in scenario.targets]
    assert [float(r["p_at_least"]) for r in rows] == pytest.approx(
        [t["p_at_least"] for t in summary["targets"]], abs=5e-7
    )


def test_summary_csv_starts_with_a_bom_so_excel_reads_yi(tmp_path: Path) -> None:
    # Excel opens a CSV without a byte-order mark in the local code page and garbles 亿.
    assert _run(tmp_path, SMALL) == 0
    raw = (tmp_path / "small" / "summary.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert raw.count(b"\xef\xbb\xbf") == 1
    with (tmp_path / "small" / "summary.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    summary = json.loads((tmp_path / "small" / "summary.json").read_text(encoding="utf-8"))
    assert rows[0][:3] == ["scenario", "label", "value_usd"]
    targets = rows[1 : 1 + len(summary["targets"])]  # then the pricing rows
    assert [r[1] for r in targets] == [t["label"] for t in summary["targets"]]
    assert "article: 25亿 USD" in [r[1] for r in targets]
    assert [float(r[3]) for r in targets] == pytest.approx(
        [t["p_at_least"] for t in summary["targets"]], abs=5e-7
    )


def test_run_options_override_the_scenario(tmp_path: Path) -> None:
    assert _run(tmp_path, SMALL, extra=("--seed", "5", "--sampler", "lhs")) == 0
    summary = json.loads((tmp_path / "small" / "summary.json").read_text(encoding="utf-8"))
    assert (summary["seed"], summary["sampler"], summary["paths"]) == (5, "lhs", 20000)


def test_run_failing_expect_exits_1_and_writes(tmp_path: Path) -> None:
    assert _run(tmp_path, FAILING) == 1
    summary = json.loads(
        (tmp_path / "failing-expect" / "summary.json").read_text(encoding="utf-8")
    )
    assert [e["passed"] for e in summary["expectations"]] == [False]


def test_run_bad_input_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "reports"
    assert _run(out, BAD) == 2
    assert "segments.talkie.growht" in _one_error_line(capsys.readouterr().err)
    assert not out.exists()
    # Beside a good file (a batch), the good one is run and written all the same.
    assert _run(out, SMALL, BAD) == 2
    assert "segments.talkie.growht" in capsys.readouterr().err.splitlines()[0]
    assert sorted(p.name for p in out.iterdir()) == ["small"]


@pytest.mark.parametrize("formats", ["json,xls", "pdf,,zip", "JSON,html", "", " , "])
def test_run_unknown_format_exits_2(
    formats: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", str(SMALL), "--format", formats, "--out", str(tmp_path / "r"), "--quiet"]
    assert main(argv) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--format" in line
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize("command", ["run", "compare"])
def test_unknown_units_is_a_one_line_usage_error(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _no_simulation(monkeypatch)
    argv = [command, str(SMALL), str(SMALL), "--units", "bad", "--out", str(tmp_path / "r")]
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--units" in line and "'bad'" in line
    assert "auto" in line and "usd" in line and "yi" in line and "both" in line
    assert not (tmp_path / "r").exists()


def test_units_choices_are_the_reports() -> None:
    from sim.report.units import UNITS_CHOICES

    assert sim.cli.UNITS == UNITS_CHOICES


@pytest.mark.parametrize(("extra", "units"), [((), "auto"), (("--units", "yi"), "yi")])
def test_units_reach_both_reports(
    extra: tuple[str, ...], units: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sim.report

    seen: list[tuple[str, object]] = []

    def render(*_: object, units: object, **__: object) -> list[Path]:
        seen.append(("render", units))
        return []

    def render_comparison(*_: object, units: object, **__: object) -> list[Path]:
        seen.append(("render_comparison", units))
        return []

    # The CLI imports both from sim.report when it draws.
    monkeypatch.setattr(sim.report, "render", render)
    monkeypatch.setattr(sim.report, "render_comparison", render_comparison)
    other = tmp_path / "other.toml"
    other.write_text(SMALL.read_text("utf-8").replace('"small"', '"other"', 1), "utf-8")
    argv = ["run", str(SMALL), str(other), "--paths", "2000", "--format", "json,pdf"]
    assert main([*argv, "--out", str(tmp_path / "r"), "--quiet", *extra]) == 0
    argv = ["compare", str(SMALL), str(other), "--paths", "2000", "--format", "json,png"]
    assert main([*argv, "--out", str(tmp_path / "c"), "--quiet", *extra]) == 0
    assert seen == [
        ("render", units),
        ("render", units),
        ("render_comparison", units),
        ("render_comparison", units),
    ]


def test_run_two_scenarios_with_one_name_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path / "r", SMALL, SMALL) == 2
    assert "share the name 'small'" in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "r").exists()


def test_compare_two_scenarios_with_one_name_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # comparison.json keys each run's probabilities by name: one would hide the other.
    argv = ["compare", str(SMALL), str(SMALL), "--paths", PATHS, "--out", str(tmp_path / "r")]
    assert main([*argv, "--quiet"]) == 2
    assert "share the name 'small'" in _one_error_line(capsys.readouterr().err)
    assert not (tmp_path / "r").exists()


def _no_simulation(monkeypatch: pytest.MonkeyPatch) -> None:
    def simulate(*_: object, **__: object) -> Any:
        raise AssertionError("simulated before checking the output folder")

    monkeypatch.setattr(sim.run.engine, "simulate", simulate)  # the CLI imports it when it runs


def test_run_out_is_a_file_exits_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_simulation(monkeypatch)
    blocker = tmp_path / "taken"
    blocker.write_text("not a folder", encoding="utf-8")
    for out in (blocker, blocker / "below"):
        assert _run(out, SMALL) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert line.startswith("ipo-sim: error: --out: ")
        assert "taken" in line
    assert blocker.read_text(encoding="utf-8") == "not a folder"


def test_run_scenario_folder_is_a_file_exits_2_before_simulating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_simulation(monkeypatch)
    (tmp_path / "small").write_text("mine", encoding="utf-8")
    assert _run(tmp_path, SMALL) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--out" in line and "small is a file" in line
    assert (tmp_path / "small").read_text(encoding="utf-8") == "mine"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0,
    reason="root writes into any folder whatever its mode",
)
def test_run_unwritable_out_exits_2_before_simulating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_simulation(monkeypatch)
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        assert _run(locked, SMALL) == 2
    finally:
        locked.chmod(0o700)
    line = _one_error_line(capsys.readouterr().err)
    assert "--out: cannot write in" in line and "ermission denied" in line


def test_run_long_scenario_name_exits_2_naming_scenario_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _no_simulation(monkeypatch)
    long = tmp_path / "long.toml"
    text = SMALL.read_text("utf-8").replace('name = "small"', f'name = "{"n" * 300}"', 1)
    long.write_text(text, encoding="utf-8")
    assert _run(tmp_path / "r", long) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "scenario.name" in line and "at most 100 characters" in line
    assert not (tmp_path / "r").exists()


def test_run_replaces_the_whole_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["run", str(SMALL), "--paths", "3000", "--quiet", "--out", str(tmp_path)]
    assert main([*argv, "--format", "json,csv,pdf,png"]) == 0
    assert (tmp_path / "small" / "report.pdf").is_file()
    assert main([*argv, "--format", "json,csv", "--seed", "7"]) == 0
    capsys.readouterr()
    # Only the second run's files: no PDF or PNG of the first run is left beside them.
    assert _listing(tmp_path) == [
        "small",
        "small/summary.csv",
        "small/summary.json",
        "small/summary.txt",
    ]
    data = json.loads((tmp_path / "small" / "summary.json").read_text(encoding="utf-8"))
    assert data["seed"] == 7


@pytest.mark.parametrize("command", ["run", "compare"])
def test_a_folder_ipo_sim_did_not_write_is_never_replaced(
    command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # `--out .` in a project whose `src/` matches a scenario name, say.
    second = tmp_path / "other.toml"
    second.write_text(SMALL.read_text("utf-8").replace('"small"', '"other"', 1), "utf-8")
    mine = tmp_path / "out" / ("small" if command == "run" else "comparison")
    mine.mkdir(parents=True)
    (mine / "main.py").write_text("print('mine')\n", encoding="utf-8")
    (mine / "summary.json").write_text("{}", encoding="utf-8")
    _no_simulation(monkeypatch)
    scenarios = [str(SMALL)] if command == "run" else [str(SMALL), str(second)]
    argv = [command, *scenarios, "--paths", "2000", "--quiet", "--out", str(tmp_path / "out")]
    assert main([*argv, "--format", "json"]) == 2
    line = _one_error_line(capsys.readouterr().err)
    assert "--out" in line and "did not write" in line and "'main.py'" in line
    assert sorted(p.name for p in mine.iterdir()) == ["main.py", "summary.json"]


def test_an_empty_folder_or_an_earlier_comparison_is_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "small").mkdir()
    (tmp_path / "comparison").mkdir()
    for name in ("comparison.json", "comparison_values.png"):
        (tmp_path / "comparison" / name).write_text("old", encoding="utf-8")
    other = tmp_path / "other.toml"
    other.write_text(SMALL.read_text("utf-8").replace('"small"', '"other"', 1), "utf-8")
    assert _run(tmp_path, SMALL, other, extra=("--format", "json")) == 0
    capsys.readouterr()
    assert _listing(tmp_path / "comparison") == ["comparison.json"]
    assert (tmp_path / "comparison" / "comparison.json").read_text("utf-8") != "old"


def test_wrote_counts_files_in_proper_english(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other = tmp_path / "other.toml"
    other.write_text(SMALL.read_text("utf-8").replace('"small"', '"other"', 1), "utf-8")
    assert _run(tmp_path, SMALL, other, extra=("--format", "json")) == 0
    assert "comparison: wrote 1 file to " in capsys.readouterr().out
    assert _run(tmp_path, SMALL) == 0
    assert "  wrote 3 files to " in capsys.readouterr().out


def test_workers_record_the_processes_that_ran(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["run", str(SMALL), "--paths", PATHS, "--format", "json", "--workers", "1000"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    err = capsys.readouterr().err
    # 20,000 paths are one block: one process ran it.
    data = json.loads((tmp_path / "small" / "summary.json").read_text(encoding="utf-8"))
    assert data["workers"] == 1
    assert "ran on 1 worker process, not 1000" in _one_error_line(err)


# --------------------------------------------------------------------------- internal errors


def _bug(*_: object, **__: object) -> Any:
    raise ValueError("boom: an example bug")


def test_an_internal_error_has_its_own_exit_code_and_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sim.analysis.summary, "summarise", _bug)
    assert _run(tmp_path, SMALL) == 3
    line = _one_error_line(capsys.readouterr().err)
    assert "internal error" in line and "bug in ipo-sim" in line
    assert "ValueError: boom: an example bug" in line
    assert "--debug" in line


@pytest.mark.parametrize("where", ["before", "after"])
def test_debug_prints_the_traceback_of_an_internal_error(
    where: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sim.analysis.summary, "summarise", _bug)
    argv = ["run", str(SMALL), "--paths", "2000", "--quiet", "--out", str(tmp_path)]
    argv = ["--debug", *argv] if where == "before" else [*argv, "--debug"]
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert err.startswith("Traceback (most recent call last):")
    assert "in _bug" in err
    assert err.splitlines()[-1].startswith("ipo-sim: internal error")


def test_user_errors_keep_exit_code_2_with_debug(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--debug", "check", str(BAD)]) == 2
    _one_error_line(capsys.readouterr().err)


@pytest.mark.parametrize(
    "argv",
    [
        ["run", str(SMALL), "--paths", "0"],
        ["run", str(SMALL), "--paths", "1_000_000_000_001"],
        ["run", str(SMALL), "--seed", "-3"],
        ["run", str(SMALL), "--sampler", "halton"],
        ["check"],
        ["frobnicate"],
        [],
    ],
    ids=[
        "paths-0",
        "paths-over-the-cap",
        "negative-seed",
        "unknown-sampler",
        "no-scenario",
        "unknown-command",
        "none",
    ],
)
def test_usage_errors_exit_2_in_one_line(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert "error" in _one_error_line(err)


# --------------------------------------------------------------------------- interruption


def _interrupt(*_: object, **__: object) -> Any:
    raise KeyboardInterrupt


def test_interrupt_before_writing_exits_130(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sim.analysis.summary, "summarise", _interrupt)
    out = tmp_path / "reports"
    assert _run(out, SMALL) == 130
    assert "interrupted" in _one_error_line(capsys.readouterr().err)
    assert not out.exists() or _listing(out) == []


def test_interrupt_while_rendering_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = sim.output.run_folder.write_run_files

    def half_then_interrupt(*args: Any, **kwargs: Any) -> list[Path]:
        real(*args, **kwargs)  # every file written into the temporary folder...
        raise KeyboardInterrupt  # ...and then Ctrl-C before any is moved into place

    monkeypatch.setattr(sim.output.run_folder, "write_run_files", half_then_interrupt)
    assert _run(tmp_path, SMALL) == 130
    assert "interrupted" in _one_error_line(capsys.readouterr().err)
    assert _listing(tmp_path) == []


def test_interrupted_rerun_keeps_previous_outputs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, SMALL) == 0
    before = _contents(tmp_path)
    real = sim.output.run_folder.write_run_files

    def half_then_interrupt(*args: Any, **kwargs: Any) -> list[Path]:
        real(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(sim.output.run_folder, "write_run_files", half_then_interrupt)
    assert _run(tmp_path, SMALL, extra=("--seed", "99")) == 130
    capsys.readouterr()
    assert _contents(tmp_path) == before


def test_rerun_replaces_the_folder_atomically(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, SMALL) == 0
    first = json.loads((tmp_path / "small" / "summary.json").read_text(encoding="utf-8"))
    moves: list[tuple[Path, Path]] = []
    real_replace = os.replace

    def spy(src: Any, dst: Any) -> None:
        moves.append((Path(src), Path(dst)))
        real_replace(src, dst)

    monkeypatch.setattr("sim.output.outputs.os.replace", spy)
    assert _run(tmp_path, SMALL, extra=("--seed", "99")) == 0
    capsys.readouterr()
    second = json.loads((tmp_path / "small" / "summary.json").read_text(encoding="utf-8"))
    assert (first["seed"], second["seed"]) == (1, 99)
    assert _listing(tmp_path) == [
        "small",
        "small/summary.csv",
        "small/summary.json",
        "small/summary.txt",
    ]
    # The new folder is written whole in a hidden temporary folder beside the output
    # folder (same file system), and swapped in by two renames: old out, new in.
    (old, aside), (new, final) = moves
    assert old == final == tmp_path / "small"
    assert aside.parent == new.parent
    assert aside.parent.parent == tmp_path
    assert aside.parent.name.startswith(".ipo-sim-tmp.small.")
    assert aside.parent.name.endswith(".tmp")


def test_compare_pairs_scenarios_and_writes_comparison_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    article = ROOT / "scenarios" / "article-2025-06.toml"
    code = main(
        [
            "compare",
            str(BASELINE),
            str(article),
            "--paths",
            PATHS,
            "--quiet",
            "--format",
            "json",
            "--out",
            str(tmp_path),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "paired paths (common random numbers)" in out
    data = json.loads((tmp_path / "comparison" / "comparison.json").read_text("utf-8"))
    assert data["paired"] is True
    assert [s["name"] for s in data["scenarios"]] == ["baseline", "article-2025-06"]
    assert {s["seed"] for s in data["scenarios"]} == {load_scenario(BASELINE).simulation.seed}
    # Every target, whatever value it reads, is compared: the brief's ladder at the peak too.
    targets = load_scenario(BASELINE).targets
    assert {t.at for t in targets} == {"fair", "peak"}
    assert len(data["differences"]) == len(data["targets"]) == len(targets)
    assert [(d["value_usd"], d["at"]) for d in data["differences"]] == [
        (t.value_usd, t.at) for t in targets
    ]
    # The label says "peak" already: the point in time is not appended a second time.
    assert "peak 25 bn: peak within six months: 25 bn USD (brief)\n" in out
    assert "(at peak)" not in out
    for d in data["differences"]:
        assert d["paired"] is True
        p = data["targets"]
        row = next(t for t in p if (t["value_usd"], t["at"]) == (d["value_usd"], d["at"]))
        assert math.isclose(
            d["estimate"],
            row["p_at_least"]["article-2025-06"] - row["p_at_least"]["baseline"],
            abs_tol=1e-12,
        )


def test_compare_needs_two_scenarios(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["compare", str(BASELINE), "--paths", PATHS, "--quiet"]) == 2
    _one_error_line(capsys.readouterr().err)


def test_run_of_several_scenarios_writes_a_comparison(tmp_path: Path) -> None:
    article = ROOT / "scenarios" / "article-2025-06.toml"
    assert _run(tmp_path, BASELINE, article, extra=("--format", "json")) == 0
    assert (tmp_path / "comparison" / "comparison.json").is_file()
    assert (tmp_path / "baseline" / "summary.json").is_file()
    assert (tmp_path / "article-2025-06" / "summary.json").is_file()


def test_precision_reports_whether_it_was_reached(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, BASELINE, extra=("--precision", "0.0001")) == 0
    out = capsys.readouterr().out
    assert "NOT reached" in out
    data = json.loads((tmp_path / "baseline" / "summary.json").read_text("utf-8"))
    assert data["precision"]["reached"] is False
    assert data["precision"]["max_half_width"] > 0.0001
    # Precision is checked at block ends: the first block of 65,536 paths suffices here.
    argv = ["run", str(BASELINE), "--paths", "300000", "--precision", "0.01", "--quiet"]
    assert main([*argv, "--format", "json", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "baseline" / "summary.json").read_text("utf-8"))
    assert data["precision"]["reached"] is True
    assert data["paths"] < 300_000


def test_precision_without_targets_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = re.sub(r"\[\[targets\]\]\nlabel = .*\nvalue = .*\n", "", SMALL.read_text("utf-8"))
    bare = tmp_path / "bare.toml"
    bare.write_text(text, encoding="utf-8")
    assert "[[targets]]" not in bare.read_text("utf-8")
    assert _run(tmp_path, bare, extra=("--precision", "0.01")) == 2
    _one_error_line(capsys.readouterr().err)


def test_ctrl_c_during_the_final_moves_is_held_until_they_are_done(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every output of the run lands, then the interrupt is raised (exit 130)."""
    import signal

    real_replace = os.replace
    moved: list[str] = []

    def replace_then_interrupt(src: Any, dst: Any) -> None:
        real_replace(src, dst)
        moved.append(str(dst))
        if len(moved) == 1:
            signal.raise_signal(signal.SIGINT)

    assert _run(tmp_path, SMALL) == 0
    monkeypatch.setattr("sim.output.outputs.os.replace", replace_then_interrupt)
    assert _run(tmp_path, SMALL, extra=("--seed", "99")) == 130
    assert _listing(tmp_path) == [
        "small",
        "small/summary.csv",
        "small/summary.json",
        "small/summary.txt",
    ]
    data = json.loads((tmp_path / "small" / "summary.json").read_text(encoding="utf-8"))
    assert data["seed"] == 99
    assert len(moved) == 2
