"""The library as a notebook uses it: run settings from ``[simulation]``, scenarios from
TOML text, a run's folder written from Python (``write_run``) as the command writes it,
and ``summary.xlsx``."""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import sim
from sim.cli import main
from sim.errors import ScenarioError, SimError
from sim.output.run_folder import XLSX_MISSING, check_formats, write_run
from sim.scenario import load_scenario, loads_scenario

DATA = Path(__file__).parent / "data"
SMALL = DATA / "small.toml"
DEAL = DATA / "deal.toml"
CHILD = DATA / "child.toml"

TEXT = """
[scenario]
name = "from-text"
base_year = 2025
horizon = 2

[[segments]]
name = "api"
revenue = "50M"
growth = { dist = "triangular", min = 0.1, mode = 0.4, max = 0.9 }
regions = { world = 1.0 }

[valuation]
year = 2026
multiple = { dist = "lognormal", p50 = 10, p90 = 16 }

[[targets]]
label = "1 bn"
value = "1bn"

[simulation]
paths = 3000
seed = 11
sampler = "lhs"
"""


def _same(numbers: list[float]) -> Any:
    """``numbers`` as an xlsx file holds them: openpyxl writes 16 significant digits (Excel
    itself keeps 15), so a float comes back within one part in 10^15."""
    return pytest.approx(numbers, rel=1e-15, abs=0)


def _summary_json(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    del data["elapsed_s"]  # the one field that differs between two runs of one setting
    return data


# --------------------------------------------------------------------------- simulate


def test_simulate_takes_paths_seed_and_sampler_from_the_scenario() -> None:
    scenario = loads_scenario(TEXT)
    result = sim.simulate(scenario)
    assert (result.paths, result.seed, result.sampler) == (3000, 11, "lhs")
    explicit = sim.simulate(scenario, 3000, seed=11, sampler="lhs")
    assert np.array_equal(result.kept.values.equity, explicit.kept.values.equity)


def test_simulate_arguments_override_the_scenario() -> None:
    scenario = loads_scenario(TEXT)
    result = sim.simulate(scenario, 2000, seed=5)
    assert (result.paths, result.seed, result.sampler) == (2000, 5, "lhs")
    assert sim.simulate(scenario, sampler="random").sampler == "random"


def test_simulate_without_settings_anywhere_says_what_to_pass() -> None:
    bare = dataclasses.replace(loads_scenario(TEXT), simulation=None)  # type: ignore[arg-type]
    with pytest.raises(SimError, match=r"no paths or seed or sampler given.*pass paths=\.\.\."):
        sim.simulate(bare)
    assert sim.simulate(bare, 1000, seed=1, sampler="random").paths == 1000


# --------------------------------------------------------------------------- loads_scenario


def test_loads_scenario_reads_text_as_load_scenario_reads_the_file() -> None:
    text = SMALL.read_text(encoding="utf-8")
    from_text, from_file = loads_scenario(text), load_scenario(SMALL)
    assert from_text.sha256 == from_file.sha256
    assert from_text.source is None and from_file.source == SMALL
    a, b = from_text.to_dict(), from_file.to_dict()
    a["scenario"].pop("source")
    b["scenario"].pop("source")
    assert a == b


def test_loads_scenario_resolves_extends_against_base_dir() -> None:
    text = CHILD.read_text(encoding="utf-8")
    from_text, from_file = loads_scenario(text, base_dir=DATA), load_scenario(CHILD)
    assert from_text.sha256 == from_file.sha256
    assert from_text.name == "scenario"  # no [scenario] name, no file to be named after
    assert [s.name for s in from_text.segments] == [s.name for s in from_file.segments]


def test_loads_scenario_refuses_extends_without_base_dir() -> None:
    text = CHILD.read_text(encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"^<text>: scenario\.extends: .*pass base_dir"):
        loads_scenario(text)
    with pytest.raises(ScenarioError, match=r"no such file 'small\.toml'"):
        loads_scenario(text, base_dir=DATA / "sub")


def test_loads_scenario_errors_name_the_text_and_the_key() -> None:
    with pytest.raises(ScenarioError, match=r"^<text>: segments\.api\.growht: unknown key"):
        loads_scenario(TEXT.replace("growth =", "growht ="))
    with pytest.raises(ScenarioError, match=r"^<text>: invalid TOML"):
        loads_scenario("[scenario")
    with pytest.raises(TypeError, match="expected TOML text"):
        loads_scenario(SMALL)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- write_run


def test_write_run_writes_the_folder_the_command_writes(tmp_path: Path) -> None:
    argv = ["run", str(SMALL), "--paths", "4000", "--seed", "3", "--format", "json,csv"]
    assert main([*argv, "--out", str(tmp_path / "cli"), "--quiet"]) == 0
    done = write_run(
        load_scenario(SMALL), tmp_path / "api", paths=4000, seed=3, formats=("json", "csv")
    )
    cli = tmp_path / "cli" / "small"
    assert done.folder == tmp_path / "api" / "small"
    assert sorted(p.name for p in done.files) == sorted(p.name for p in cli.iterdir())
    assert _summary_json(done.folder) == _summary_json(cli)
    csv = "summary.csv"
    assert (done.folder / csv).read_bytes() == (cli / csv).read_bytes()
    assert done.summary.run.paths == done.result.paths == 4000
    # Nothing but the folder: the temporary folder it was written in is gone.
    assert sorted(p.name for p in (tmp_path / "api").iterdir()) == ["small"]


def test_write_run_defaults_to_the_scenarios_simulation(tmp_path: Path) -> None:
    done = write_run(loads_scenario(TEXT), tmp_path, formats=["json"])
    assert [p.name for p in done.files] == ["summary.json", "summary.txt"]
    run = _summary_json(done.folder)
    assert (run["paths"], run["seed"], run["sampler"]) == (3000, 11, "lhs")


def test_write_run_refuses_bad_formats_before_simulating(tmp_path: Path) -> None:
    with pytest.raises(SimError, match=r"unknown format 'docx'"):
        write_run(loads_scenario(TEXT), tmp_path / "out", formats=["json", "docx"])
    assert not (tmp_path / "out").exists()
    with pytest.raises(ValueError, match="not with it"):
        write_run(loads_scenario(TEXT), tmp_path, paths=10, run=sim.simulate)


def test_write_run_and_simulate_are_public() -> None:
    for name in ("loads_scenario", "write_run", "RunFolder"):
        assert name in sim.__all__
        assert getattr(sim, name) is not None


# --------------------------------------------------------------------------- xlsx


def test_xlsx_pricing_grid_reads_back_equal_to_summary_json(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    argv = ["run", str(DEAL), "--paths", "5000", "--format", "json,xlsx", "--quiet"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    folder = tmp_path / "deal"
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(folder / "summary.xlsx")
    assert book.sheetnames == [
        *("summary", "quantiles", "targets", "regimes", "sensitivity", "pricing"),
        *("inputs", "paths"),
    ]
    sheet = book["pricing"]
    rows = list(sheet.iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[0] == "price (HKD)"
    assert len(body) == len(summary["pricing"]) > 3
    for row, point in zip(body, summary["pricing"], strict=True):
        got = [row[0], row[1], row[3], row[4], row[5], row[6], row[7], row[8], row[9], row[10]]
        want = [
            *(point[k] for k in ("price", "price_usd", "market_value_usd", "net_proceeds_usd")),
            *(point[k] for k in ("implied_ev_usd", "implied_ev_to_sales", "p_fair_at_least")),
            *point["ci95"],
            point["se"],
        ]
        assert got == _same(want)
        assert row[2] is point["in_range"]
    # Numbers with number formats, not strings.
    first = next(sheet.iter_rows(min_row=2, max_row=2))
    assert isinstance(first[3].value, float) and first[3].number_format == "#,##0"
    assert first[7].number_format == "0.00%"
    targets = list(book["targets"].iter_rows(min_row=2, values_only=True))
    assert [t[4] for t in targets] == _same([t["p_at_least"] for t in summary["targets"]])
    quantiles = next(book["quantiles"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert quantiles[0] == "equity value"
    assert list(quantiles[3:]) == _same(list(summary["valuation"]["quantiles"].values()))
    inputs = dict(book["inputs"].iter_rows(min_row=2, values_only=True))
    assert inputs["offering.new_shares"] == 25_389_220
    assert inputs["segments.talkie.revenue"] == "19.5M"  # as written
    paths = list(book["paths"].iter_rows(values_only=True))
    assert len(paths) == 1 + 2000 and paths[0][1] == "equity value (USD)"
    assert all(isinstance(v, float) for v in paths[1][1:4])


def test_xlsx_rerun_replaces_its_own_folder(tmp_path: Path) -> None:
    pytest.importorskip("openpyxl")
    argv = ["run", str(SMALL), "--paths", "2000", "--format", "xlsx", "--quiet"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    assert main([*argv, "--seed", "9", "--out", str(tmp_path)]) == 0
    assert sorted(p.name for p in (tmp_path / "small").iterdir()) == [
        "summary.json",
        "summary.txt",
        "summary.xlsx",
    ]


def test_xlsx_without_openpyxl_is_one_line_and_exit_2(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # None in sys.modules makes `import openpyxl` raise ImportError, as where it is missing.
    for name in [m for m in sys.modules if m == "openpyxl" or m.startswith("openpyxl.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "openpyxl", None)
    argv = ["run", str(SMALL), "--paths", "2000", "--format", "json,xlsx", "--quiet"]
    assert main([*argv, "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err == f"ipo-sim: error: --format: {XLSX_MISSING} (got 'json,xlsx')\n"
    assert 'pip install "ipo-sim[xlsx]"' in err
    assert not (tmp_path / "out").exists()
    with pytest.raises(SimError, match=r"xlsx needs openpyxl"):
        check_formats(["xlsx"])


def test_sweep_refuses_xlsx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["sweep", str(SMALL), "--set", "valuation.multiple=8,10", "--format", "xlsx"]
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert "unknown format 'xlsx'" in capsys.readouterr().err


def test_compare_refuses_xlsx(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["compare", str(SMALL), str(CHILD), "--format", "json,xlsx"]
    assert main([*argv, "--out", str(tmp_path)]) == 2
    assert "unknown format 'xlsx'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
