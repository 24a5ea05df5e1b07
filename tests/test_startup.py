"""Fast commands: `ipo-sim --help` and `show` import neither the engine nor scipy (no
quantile table is built to read a scenario) nor matplotlib, and a Ctrl-C while the
modules load ends in one line and exit code 130."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BASELINE = ROOT / "scenarios" / "baseline.toml"

# Runs `python -m sim ARGS` after importing MODULES, and reports what got imported.
_MODULES_AFTER = """\
import runpy, sys
sys.argv = ["ipo-sim", *sys.argv[1:]]
try:
    runpy.run_module("sim", run_name="__main__")
except SystemExit:
    pass
heavy = ("scipy", "matplotlib", "sim.run.engine", "sim.analysis.summary", "sim.report")
sys.__stdout__.write("LOADED " + " ".join(m for m in heavy if m in sys.modules) + "\\n")
"""

# Sends this process a real SIGINT when MODULE starts to load, then runs `python -m sim`.
_INTERRUPT_AT = """\
import os, signal, sys
target = sys.argv[1]

class Interrupt:
    def find_spec(self, name, path=None, target_=None):
        if name == target:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, Interrupt())
sys.argv = ["ipo-sim", *sys.argv[2:]]
import runpy
runpy.run_module("sim", run_name="__main__")
"""


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


@pytest.mark.parametrize("argv", [["--help"], ["show", str(BASELINE)]], ids=["help", "show"])
def test_fast_commands_load_no_engine_scipy_or_matplotlib(argv: list[str]) -> None:
    done = _python(_MODULES_AFTER, *argv)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1].split() == ["LOADED"]


@pytest.mark.parametrize(
    "module",
    ["numpy", "sim.distributions"],
    ids=["while-the-command-line-loads", "while-the-scenario-module-loads"],
)
def test_ctrl_c_while_modules_load_is_one_line_and_exit_130(module: str) -> None:
    done = _python(_INTERRUPT_AT, module, "show", str(BASELINE))
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("ipo-sim: interrupted")
    assert done.stdout == ""
