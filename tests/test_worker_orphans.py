"""Worker processes whose parent is killed outright (SIGKILL: no clean-up runs) exit by
themselves within seconds, even in the middle of a block (issue 23, item 7)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.test_signals import ROOT, _many_segments, _session

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/stat").exists(), reason="finds processes through /proc (Linux)"
)


def test_workers_exit_when_their_parent_is_killed(tmp_path: Path) -> None:
    scenario = _many_segments(tmp_path / "many.toml", n=200)  # blocks of several seconds
    argv = ["run", str(scenario), "--paths", "2000000", "--workers", "2", "--quiet"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", *argv, "--format", "json", "--out", str(tmp_path / "o")],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while len(_session(proc.pid)) < 3 and proc.poll() is None:
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.05)
        time.sleep(1.0)  # both workers busy with a block
        workers = [p for p in _session(proc.pid) if p != proc.pid]
        assert len(workers) >= 2 and proc.poll() is None
        os.kill(proc.pid, signal.SIGKILL)  # the parent only: its workers are not told
        proc.wait(timeout=10)
        time.sleep(5.0)
        left = _session(proc.pid)
    finally:
        for pid in _session(proc.pid):
            os.kill(pid, signal.SIGKILL)
    assert left == [], f"worker processes {left} outlived their parent by 5 s"
