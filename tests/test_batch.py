"""A batch: ``ipo-sim run`` and ``ipo-sim check`` of a folder (or of several files).

Each file is run whatever befell the others; the exit code is the worst file's
(internal error 3 > bad input 2 > expectation failed 1 > 0). Small scenarios from
tests/data are copied into temporary folders.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import sim.analysis.summary
import sim.format
from sim.cli import main

DATA = Path(__file__).resolve().parent / "data"
PATHS = "2000"
BAD_TOML = '[scenario]\nextends = "small.toml"\nname = "bad"\n\n[valuation]\nmultiple = "twelve"\n'


def _folder(tmp_path: Path, *, failing: bool = False, bad: bool = False) -> Path:
    """A folder of scenarios: small.toml, other.toml (small renamed), and optionally the
    failing expectation and a file with a bad value."""
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(DATA / "small.toml", folder / "small.toml")
    text = (DATA / "small.toml").read_text("utf-8")
    (folder / "other.toml").write_text(text.replace('"small"', '"other"', 1), "utf-8")
    if failing:
        shutil.copy(DATA / "failing_expect.toml", folder / "failing_expect.toml")
    if bad:
        (folder / "bad.toml").write_text(BAD_TOML, "utf-8")
    return folder


def _check(*args: Path | str, quiet: bool = True) -> int:
    return main(["check", *map(str, args), "--paths", PATHS, *(["--quiet"] if quiet else [])])


def _run(out: Path, *args: Path | str, quiet: bool = True) -> int:
    argv = ["run", *map(str, args), "--paths", PATHS, "--format", "json", "--out", str(out)]
    return main([*argv, *(["--quiet"] if quiet else [])])


def test_check_a_folder_runs_every_file_in_name_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path)
    (folder / "notes.txt").write_text("not a scenario", "utf-8")
    (folder / "sub").mkdir()
    (folder / "sub" / "deeper.toml").write_text(BAD_TOML, "utf-8")  # not recursive
    assert _check(folder, quiet=False) == 0
    out, err = capsys.readouterr()
    checked = [line.split(":")[0] for line in out.splitlines() if not line.startswith(" ")]
    assert checked == [str(folder / "other.toml"), str(folder / "small.toml")]
    assert err.splitlines() == [
        f"ipo-sim: check 1/2: {folder / 'other.toml'}",
        f"ipo-sim: check 2/2: {folder / 'small.toml'}",
        "ipo-sim: 2 scenario files: 2 ok; exit code 0",
    ]


def test_quiet_batch_prints_no_progress_lines(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _check(_folder(tmp_path)) == 0
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("failing", "bad", "code"),
    [(False, False, 0), (True, False, 1), (False, True, 2), (True, True, 2)],
)
def test_check_exits_with_the_worst_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], failing: bool, bad: bool, code: int
) -> None:
    folder = _folder(tmp_path, failing=failing, bad=bad)
    assert _check(folder) == code
    out, err = capsys.readouterr()
    # The good files are checked whatever came before them (bad.toml sorts first).
    assert f"{folder / 'other.toml'}: other: 1 expectations" in out
    assert f"{folder / 'small.toml'}: small: 1 expectations" in out
    assert ("FAILED" in out) == failing
    lines = err.splitlines()
    if bad:
        assert lines[0] == (
            f"ipo-sim: error: {folder / 'bad.toml'}: valuation.multiple: expected a number, "
            "got the string 'twelve'"
        )
    if code:
        assert lines[-1].startswith("ipo-sim: 3 scenario files: ") or lines[-1].startswith(
            "ipo-sim: 4 scenario files: "
        )
        assert lines[-1].endswith(f"; exit code {code}")
    else:
        assert err == ""


def test_an_internal_error_is_worst_and_does_not_stop_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = sim.analysis.summary.summarise

    def summarise(result: Any, *args: Any, **kwargs: Any) -> Any:
        if result.scenario.name == "other":
            raise ZeroDivisionError("a bug")
        return real(result, *args, **kwargs)

    monkeypatch.setattr(sim.analysis.summary, "summarise", summarise)
    folder = _folder(tmp_path, failing=True, bad=True)
    assert _check(folder) == 3
    out, err = capsys.readouterr()
    assert f"{folder / 'small.toml'}: small: 1 expectations" in out
    assert "FAILED" in out  # failing_expect.toml, checked after the bug in other.toml
    assert (
        f"ipo-sim: internal error (a bug in ipo-sim, please report it): "
        f"{folder / 'other.toml'}: ZeroDivisionError: a bug" in err
    )
    assert "Traceback" not in err
    assert err.splitlines()[-1] == (
        "ipo-sim: 4 scenario files: 1 ok, 1 expectation failed (failing_expect.toml), "
        "1 bad input (bad.toml), 1 internal error (other.toml); exit code 3"
    )


def test_run_a_folder_writes_each_report_and_the_comparison_of_the_good_ones(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, failing=True, bad=True)
    out = tmp_path / "reports"
    assert _run(out, folder, quiet=False) == 2
    printed, err = capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == [
        "comparison",
        "failing-expect",
        "other",
        "small",
    ]
    for name in ("failing-expect", "other", "small"):
        summary = json.loads((out / name / "summary.json").read_text("utf-8"))
        assert summary["scenario"] == name
    comparison = json.loads((out / "comparison" / "comparison.json").read_text("utf-8"))
    assert [s["name"] for s in comparison["scenarios"]] == ["failing-expect", "other", "small"]
    assert "comparison of failing-expect, other, small" in printed
    lines = err.splitlines()
    assert lines[0].startswith(f"ipo-sim: error: {folder / 'bad.toml'}: ")
    assert lines[1:4] == [
        f"ipo-sim: run 2/4: {folder / 'failing_expect.toml'}",
        f"ipo-sim: run 3/4: {folder / 'other.toml'}",
        f"ipo-sim: run 4/4: {folder / 'small.toml'}",
    ]
    assert lines[-1] == (
        "ipo-sim: 4 scenario files: 2 ok, 1 expectation failed (failing_expect.toml), "
        "1 bad input (bad.toml); exit code 2"
    )


def test_run_with_one_good_file_left_writes_no_comparison(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = tmp_path / "scenarios"
    folder.mkdir()
    shutil.copy(DATA / "small.toml", folder / "small.toml")
    (folder / "bad.toml").write_text(BAD_TOML, "utf-8")
    out = tmp_path / "reports"
    assert _run(out, folder) == 2
    assert sorted(p.name for p in out.iterdir()) == ["small"]
    assert "comparison" not in capsys.readouterr().out


def test_mixed_files_and_folders(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path)
    extra = tmp_path / "extra.toml"
    extra.write_text(
        (DATA / "small.toml").read_text("utf-8").replace('"small"', '"extra"', 1), "utf-8"
    )
    assert _check(extra, folder) == 0
    out = capsys.readouterr().out
    checked = [line.split(":")[0] for line in out.splitlines() if not line.startswith(" ")]
    assert checked == [str(extra), str(folder / "other.toml"), str(folder / "small.toml")]
    reports = tmp_path / "reports"
    assert _run(reports, folder, extra) == 0
    comparison = json.loads((reports / "comparison" / "comparison.json").read_text("utf-8"))
    assert [s["name"] for s in comparison["scenarios"]] == ["other", "small", "extra"]


@pytest.mark.parametrize("command", ["run", "check"])
def test_a_folder_without_scenarios_is_one_line_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "README.md").write_text("no scenarios here", "utf-8")
    argv = [command, str(empty), "--quiet", *(["--out", str(tmp_path / "r")] * (command == "run"))]
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.err == f"ipo-sim: error: {empty}: no scenario files (*.toml) in this folder\n"
    assert captured.out == ""
    assert not (tmp_path / "r").exists()


def test_one_file_is_not_a_batch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BAD_TOML.replace('"small.toml"', repr(str(DATA / "small.toml"))), "utf-8")
    assert _check(bad, quiet=False) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "scenario files" not in err  # no batch closing line


def test_help_states_the_order_of_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("run", "check"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert "a batch exits with its worst file's: 3 > 2 > 1 > 0" in text
        assert "a folder: its *.toml files in name order" in text


def test_a_failed_comparison_is_reported_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.studies.compare

    def compare(*_: Any, **__: Any) -> Any:
        raise RuntimeError("a bug in compare")

    monkeypatch.setattr(sim.studies.compare, "compare", compare)
    out = tmp_path / "reports"
    assert _run(out, _folder(tmp_path)) == 3
    err = capsys.readouterr().err
    assert f"{out / 'comparison'}: RuntimeError: a bug in compare" in err
    assert err.splitlines()[-1] == (
        "ipo-sim: 2 scenario files: 2 ok, 1 internal error (comparison); exit code 3"
    )
    assert sorted(p.name for p in out.iterdir()) == ["other", "small"]


def _renamed(folder: Path, file: str, name: str) -> None:
    text = (DATA / "small.toml").read_text("utf-8")
    (folder / file).write_text(text.replace('"small"', f'"{name}"', 1), "utf-8")


@pytest.mark.parametrize("command", ["run", "compare"])
def test_reference_is_named_or_baseline_or_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    folder = _folder(tmp_path)  # other.toml, small.toml

    def reference(*extra: str) -> tuple[str, list[str]]:
        out = tmp_path / "reports"
        argv = [command, str(folder), "--paths", PATHS, "--format", "json", "--quiet"]
        assert main([*argv, "--out", str(out), *extra]) == 0
        printed = capsys.readouterr().out
        data = json.loads((out / "comparison" / "comparison.json").read_text("utf-8"))
        names = [s["name"] for s in data["scenarios"]]
        assert names[0] == data["reference"]
        assert {d["minus"] for d in data["differences"]} <= {data["reference"]}
        assert f"differences from {data['reference']}," in printed
        assert f"  {data['reference']} (reference)  " in printed
        return data["reference"], names

    # No baseline: the first file's scenario.
    assert reference() == ("other", ["other", "small"])
    # Named: it moves first, the others keep their order.
    _renamed(folder, "third.toml", "third")
    assert reference("--reference", "small") == ("small", ["small", "other", "third"])
    # A scenario named baseline is the default, wherever its file sorts.
    _renamed(folder, "zzz.toml", "baseline")
    assert reference() == ("baseline", ["baseline", "other", "small", "third"])


@pytest.mark.parametrize("command", ["run", "compare"])
def test_an_unknown_reference_is_one_line_and_nothing_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    folder = _folder(tmp_path)
    out = tmp_path / "reports"
    argv = [command, str(folder), "--paths", PATHS, "--quiet", "--out", str(out)]
    assert main([*argv, "--reference", "smal"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "ipo-sim: error: --reference: no scenario named 'smal'; did you mean 'small'? "
        "(the scenarios: other, small)\n"
    )
    assert not out.exists() or not any(out.iterdir())


def test_a_batch_prints_a_line_per_scenario_and_writes_summary_txt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _folder(tmp_path, failing=True)
    out = tmp_path / "reports"
    assert _run(out, folder) == 1
    printed = capsys.readouterr().out.splitlines()
    names = ["failing-expect", "other", "small"]
    for name in names:
        text = (out / name / "summary.txt").read_text("utf-8")
        assert text.startswith(f"{name}: 2,000 paths")
        (line,) = [x for x in printed if x.startswith(f"{name}: median ")]
        assert line.endswith(f"; wrote 2 files to {out / name}/")  # json and txt
        assert ("1 FAILED" in line) == (name == "failing-expect")
        summary = json.loads((out / name / "summary.json").read_text("utf-8"))
        for t in summary["targets"]:
            if t["at"] == "fair":
                assert f"{sim.format.money(t['value_usd'], short=True)} " in line
    # The per-scenario tables are in the folders, not on the screen.
    assert not any(x.startswith("  expect ") for x in printed)
    assert len(printed) <= 60 and max(map(len, printed)) <= 200
