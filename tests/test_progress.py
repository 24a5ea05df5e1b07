"""Progress bars: on stderr at a terminal, over paths and over the report's files; never
off a terminal or with --quiet."""

from __future__ import annotations

import os
import select
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main

ROOT = Path(__file__).resolve().parent.parent
SMALL = ROOT / "tests" / "data" / "small.toml"
# Two blocks' worth of paths: the bar moves at least once before it ends.
ARGV = ["run", str(SMALL), "--paths", "140000", "--format", "json,csv"]


def _run_in_terminal(argv: list[str], out: Path) -> tuple[int, str]:
    """``python -m sim ARGV`` with stderr on a pseudo-terminal: exit code, what it shows."""
    pty = pytest.importorskip("pty")
    fcntl = pytest.importorskip("fcntl")
    termios = pytest.importorskip("termios")
    master, slave = pty.openpty()
    # A terminal 100 columns wide (a new pseudo-terminal has none: tqdm would draw nothing).
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *argv, "--out", str(out)],
        cwd=ROOT,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
    )
    os.close(slave)
    shown = b""
    try:
        while True:
            ready, _, _ = select.select([master], [], [], 120)
            if not ready:
                break
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the terminal's other end closed: the process is done
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(master)
        code = proc.wait(timeout=120)
    return code, shown.decode("utf-8", "replace")


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_a_terminal_shows_a_bar_over_paths_and_one_over_the_report_files(tmp_path: Path) -> None:
    argv = ["run", str(SMALL), "--paths", "140000", "--format", "json,png"]
    code, shown = _run_in_terminal(argv, tmp_path)
    assert code == 0, shown
    assert "small:" in shown and "path" in shown and "%|" in shown, shown
    # The report's bar counts files: every PNG of the small scenario's report.
    pngs = len(list((tmp_path / "small").glob("*.png")))
    assert pngs > 1
    # (tqdm redraws at most every 0.1 s and clears the bar at the end, so the last count
    # drawn depends on timing: the total it counts to does not.)
    assert "small: report:" in shown and f"/{pngs} [" in shown, shown


@pytest.mark.skipif(sys.platform == "win32", reason="pseudo-terminals are POSIX")
def test_quiet_shows_no_bar_even_at_a_terminal(tmp_path: Path) -> None:
    code, shown = _run_in_terminal([*ARGV, "--quiet"], tmp_path)
    assert code == 0, shown
    assert shown == "", shown


def test_no_bar_when_stderr_is_not_a_terminal(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert not sys.stderr.isatty()
    assert main([*ARGV, "--out", str(tmp_path)]) == 0
    assert capsys.readouterr().err == ""


def test_the_bar_follows_isatty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main([*ARGV, "--out", str(tmp_path / "a")]) == 0
    assert "%|" in capsys.readouterr().err
    assert main([*ARGV, "--out", str(tmp_path / "b"), "--quiet"]) == 0
    assert capsys.readouterr().err == ""
