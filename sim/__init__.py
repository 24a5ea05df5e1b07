"""ipo-sim: Monte Carlo IPO valuation.

The data flow is one pure function per stage::

    scenario = load_scenario("scenarios/baseline.toml")
    result = simulate(scenario, 200_000, seed=1)
    summary = summarise(result)
"""

from sim._version import __version__
from sim.engine import Result, simulate
from sim.errors import InfeasibleDistribution, ScenarioError, SimError
from sim.money import format_money, parse_money
from sim.scenario import Scenario, load_scenario
from sim.summary import Summary, summarise

__all__ = [
    "InfeasibleDistribution",
    "Result",
    "Scenario",
    "ScenarioError",
    "SimError",
    "Summary",
    "__version__",
    "format_money",
    "load_scenario",
    "parse_money",
    "simulate",
    "summarise",
]
