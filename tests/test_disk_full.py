"""A disk that fills up while the outputs are written: one line, exit 2, nothing changed."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from sim.analysis.summary import Summary
from sim.cli import main

SMALL = Path(__file__).resolve().parent / "data" / "small.toml"


def _run(out: Path, seed: str) -> int:
    argv = ["run", str(SMALL), "--paths", "2000", "--seed", seed, "--format", "json,csv"]
    return main([*argv, "--out", str(out), "--quiet"])


def test_a_full_disk_is_one_line_and_keeps_the_previous_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(tmp_path, "1") == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "small").iterdir()}
    capsys.readouterr()

    def full(self: Summary) -> str:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Summary, "to_csv", full)
    assert _run(tmp_path, "2") == 2
    err = capsys.readouterr().err
    assert err == "ipo-sim: error: No space left on device; nothing was written\n"
    after = {p.name: p.read_bytes() for p in (tmp_path / "small").iterdir()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["small"]
