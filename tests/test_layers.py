"""The scenario parser sits below the model: importing it imports nothing above it.

``sim.metrics`` is still imported (the parser checks an ``[[expect]]`` metric's name and
unit against the one registry of metrics, which also says how the engine reads them);
splitting the registry's names from its readers is left for the package's restructure.
"""

from __future__ import annotations

import json
import subprocess
import sys

ABOVE_THE_PARSER = (
    "sim.engine",
    "sim.model",
    "sim.offering",
    "sim.report",
    "sim.summary",
    "sim.run_folder",
    "sim.cli",
    "matplotlib",
)


def test_importing_the_scenario_parser_imports_nothing_above_it() -> None:
    code = (
        "import json, sys\n"
        "import sim.scenario\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('sim', 'matplotlib')))))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    loaded = set(json.loads(out))
    assert "sim.scenario.parse" in loaded  # the probe saw the parser itself
    assert sorted(loaded & set(ABOVE_THE_PARSER)) == []
