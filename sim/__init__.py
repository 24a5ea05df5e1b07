"""ipo-sim: Monte Carlo IPO valuation.

The data flow is one pure function per stage::

    scenario = load_scenario("scenarios/baseline.toml")   # or loads_scenario(toml_text)
    result = simulate(scenario)          # paths, seed, sampler: the scenario's [simulation]
    summary = summarise(result)
    folder = write_run(scenario, "reports")   # reports/<name>/, as `ipo-sim run` writes it

The names below are imported on first use (PEP 562), so that ``import sim`` and the
commands that need no simulation (``ipo-sim --help``, ``ipo-sim show``) do not pay for
importing the engine and scipy.stats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy_face
from sim._version import __version__
from sim.errors import InfeasibleDistribution, ScenarioError, SimError

if TYPE_CHECKING:
    from sim.analysis.summary import Summary, summarise
    from sim.money import format_money, parse_money
    from sim.output.run_folder import RunFolder, write_run
    from sim.run.engine import Result, simulate
    from sim.scenario import Scenario, load_scenario, loads_scenario

__all__ = [
    "InfeasibleDistribution",
    "Result",
    "RunFolder",
    "Scenario",
    "ScenarioError",
    "SimError",
    "Summary",
    "__version__",
    "format_money",
    "load_scenario",
    "loads_scenario",
    "parse_money",
    "simulate",
    "summarise",
    "write_run",
]

#: Public name -> the module that defines it, imported when the name is first read.
_LAZY = {
    "Result": "sim.run.engine",
    "simulate": "sim.run.engine",
    "format_money": "sim.money",
    "parse_money": "sim.money",
    "RunFolder": "sim.output.run_folder",
    "write_run": "sim.output.run_folder",
    "Scenario": "sim.scenario",
    "load_scenario": "sim.scenario",
    "loads_scenario": "sim.scenario",
    "Summary": "sim.analysis.summary",
    "summarise": "sim.analysis.summary",
}


__getattr__, __dir__ = lazy_face(__name__, _LAZY, __all__)
