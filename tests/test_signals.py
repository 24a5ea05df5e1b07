"""Stopping a run: Ctrl-C, SIGTERM and SIGHUP with worker processes, and what is left behind.

These tests start ``python -m sim run`` as a real process in its own session, as a shell
starts a job, and signal its whole process group, as a terminal's Ctrl-C does.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from sim.report.write import _processors

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "small.toml"

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finds processes through /proc (Linux)"
)


def _many_segments(path: Path, n: int = 100) -> Path:
    """A scenario whose blocks take seconds each: a run that is still busy when signalled."""
    parts = ['[scenario]\nname = "many"\nbase_year = 2024\nhorizon = 5\n']
    for i in range(n):
        parts.append(
            f'[[segments]]\nname = "s{i}"\nrevenue = "10M"\n'
            'growth = { dist = "lognormal", p50 = 0.3, p90 = 0.5 }\nvolatility = 0.2\n'
            "regions = { US = 0.5, CN = 0.3, other = 0.2 }\n"
        )
    parts.append('[valuation]\nyear = 2026\nmultiple = { dist = "lognormal", p50 = 10, p90 = 20 }')
    parts.append('[[targets]]\nlabel = "t"\nvalue = "1bn"\n')
    path.write_text("\n".join(parts), encoding="utf-8")
    return path


def _default_sighup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_DFL)


def _session(sid: int) -> list[int]:
    """Every live process of session ``sid`` (zombies excluded)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        # pid (comm) state ppid pgrp session ...: comm may hold spaces, so split after it.
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[3]) == sid and fields[0] != "Z":
            found.append(int(entry))
    return found


@pytest.mark.parametrize(
    ("signum", "code"),
    [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)],
    ids=["SIGINT", "SIGTERM", "SIGHUP"],
)
def test_a_signal_to_the_process_group_stops_a_run_with_workers_at_once(
    tmp_path: Path, signum: int, code: int
) -> None:
    scenario = _many_segments(tmp_path / "many.toml")
    out = tmp_path / "out"
    argv = ["run", str(scenario), "--paths", "1000000", "--workers", "2", "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *argv, "--format", "json", "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        # Under nohup (SIGHUP ignored, inherited) ipo-sim leaves SIGHUP ignored, as it
        # should: the run is then not the terminal's to stop. Test it as a terminal sees it.
        preexec_fn=_default_sighup,
    )
    try:
        # Signal once both workers are busy with their first blocks.
        deadline = time.monotonic() + 60
        while len(_session(proc.pid)) < 3 and proc.poll() is None:
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        time.sleep(1.0)
        assert proc.poll() is None, proc.communicate()
        start = time.monotonic()
        os.killpg(proc.pid, signum)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - start
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == code, err
    assert "Traceback" not in err and "Error" not in err, err
    assert err.count("\n") == 1 and err.startswith("ipo-sim: "), err
    assert "no partial files" in err
    # The workers are stopped, not waited for: their blocks take seconds each.
    assert took < 3.0, f"took {took:.1f} s to stop"
    time.sleep(0.2)
    assert _session(proc.pid) == [], "worker processes were left behind"
    assert not out.exists() or list(out.iterdir()) == []


def test_sigterm_while_writing_leaves_no_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sim.output.run_folder

    real = sim.output.run_folder.write_run_files

    def write_then_sigterm(*args: object, **kwargs: object) -> list[Path]:
        files = real(*args, **kwargs)  # type: ignore[arg-type]
        signal.raise_signal(signal.SIGTERM)
        return files

    def unhandled(signum: int, frame: object) -> None:
        raise AssertionError("SIGTERM reached the default handler: the run was killed")

    monkeypatch.setattr(sim.output.run_folder, "write_run_files", write_then_sigterm)
    previous = signal.signal(signal.SIGTERM, unhandled)
    try:
        argv = ["run", str(SMALL), "--paths", "2000", "--format", "json,csv", "--quiet"]
        code = main([*argv, "--out", str(tmp_path)])
    finally:
        assert signal.getsignal(signal.SIGTERM) is unhandled  # main restores what it found
        signal.signal(signal.SIGTERM, previous)
    assert code == 143
    err = capsys.readouterr().err
    assert err == "ipo-sim: stopped by SIGTERM; no partial files were left\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_stale_temporary_folders_of_ours_are_removed_by_the_next_run(tmp_path: Path) -> None:
    dead = 2**22 + 12345  # above Linux's largest process id: no such process
    assert not Path(f"/proc/{dead}").exists()
    stale = tmp_path / f".ipo-sim-tmp.small.{dead}.k3j2h1g0.tmp"
    (stale / "new").mkdir(parents=True)
    (stale / "new" / "report.pdf").write_bytes(b"%PDF-1.4 trunc")
    alive = tmp_path / f".ipo-sim-tmp.small.{os.getppid()}.a1b2c3d4.tmp"  # a live run's: kept
    alive.mkdir()
    old = tmp_path / f".ipo-sim-tmp.small.{os.getppid()}.z9y8x7w6.tmp"  # a live pid, but days old
    old.mkdir()
    day_ago = time.time() - 2 * 24 * 3600
    os.utime(old, (day_ago, day_ago))
    theirs = [
        tmp_path / ".small.notes",
        tmp_path / f".small.{dead}.k3j2h1g0.tmp",
        tmp_path / f".ipo-sim-tmp.other.{dead}.k3j2h1g0.tmp",
    ]
    for folder in theirs:
        folder.mkdir()
    argv = ["run", str(SMALL), "--paths", "2000", "--format", "json", "--quiet"]
    assert main([*argv, "--out", str(tmp_path)]) == 0
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left == sorted(["small", alive.name, *(f.name for f in theirs)])


@pytest.mark.skipif(_processors() < 2, reason="the report is drawn by worker processes")
def test_ctrl_c_while_worker_processes_draw_the_report_stops_them_and_leaves_nothing(
    tmp_path: Path,
) -> None:
    out = tmp_path / "out"
    argv = ["run", str(SMALL), "--paths", "2000", "--format", "pdf,png", "--quiet"]
    # ipo-sim as `python -m sim` runs it, drawing on two processes however busy the
    # machine is (by default a busy machine draws in one).
    two = (
        "import sim.report.write as w; w._idle_processors = lambda: 2; "
        "from sim._entry import main; raise SystemExit(main())"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", two, *argv, "--out", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        # The run itself is one process: a second and third are the report's writers.
        deadline = time.monotonic() + 60
        while len(_session(proc.pid)) < 3 and proc.poll() is None:
            assert time.monotonic() < deadline, "the report's worker processes never started"
            time.sleep(0.02)
        assert proc.poll() is None, proc.communicate()
        start = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - start
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.communicate()
    assert proc.returncode == 130, err
    assert err == "ipo-sim: interrupted; no partial files were left\n", err
    assert took < 3.0, f"took {took:.1f} s to stop"
    time.sleep(0.2)
    assert _session(proc.pid) == [], "worker processes were left behind"
    assert not out.exists() or list(out.iterdir()) == []
