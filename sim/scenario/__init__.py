"""Scenario files: TOML -> a validated, frozen :class:`Scenario` in which money is USD.

Only this package reads scenario files. Every key is checked: unknown keys get a
close-match hint, values their type and range, and names the cross-references they make.
Values are data: nothing in a scenario file is ever evaluated.

Modules: :mod:`~sim.scenario.types` (the dataclasses and the format's constants),
:mod:`~sim.scenario.files` (bounded reads, ``extends`` and its merge rules),
:mod:`~sim.scenario.keys` (declared keys and typed reads), :mod:`~sim.scenario.parse`
(each table's parser, :func:`load_scenario` and :func:`build_scenario`),
:mod:`~sim.scenario.text` (:func:`loads_scenario`: a scenario from TOML text).
"""

from sim.metric_names import EXPECT_METRICS
from sim.scenario.files import resolve_raw
from sim.scenario.parse import build_scenario, check_correlation_matrix, load_scenario
from sim.scenario.text import TEXT_SOURCE, loads_scenario
from sim.scenario.types import (
    DEFAULT_PATHS,
    DEFAULT_SEED,
    EXPECT_STATS,
    GRID_DEFAULT,
    KEYS,
    MAX_EXTENDS,
    MAX_FILE_BYTES,
    MAX_NAME_LENGTH,
    MAX_NESTING,
    MAX_PATHS,
    SAMPLERS,
    TARGET_AT,
    Aftermarket,
    Correlation,
    Deal,
    Expectation,
    Offering,
    Sampler,
    Scenario,
    Segment,
    Shock,
    SimulationDefaults,
    Stat,
    Target,
)
from sim.valuation import Valuation

__all__ = [
    "DEFAULT_PATHS",
    "DEFAULT_SEED",
    "EXPECT_METRICS",
    "EXPECT_STATS",
    "GRID_DEFAULT",
    "KEYS",
    "MAX_EXTENDS",
    "MAX_FILE_BYTES",
    "MAX_NAME_LENGTH",
    "MAX_NESTING",
    "MAX_PATHS",
    "SAMPLERS",
    "TARGET_AT",
    "TEXT_SOURCE",
    "Aftermarket",
    "Correlation",
    "Deal",
    "Expectation",
    "Offering",
    "Sampler",
    "Scenario",
    "Segment",
    "Shock",
    "SimulationDefaults",
    "Stat",
    "Target",
    "Valuation",
    "build_scenario",
    "check_correlation_matrix",
    "load_scenario",
    "loads_scenario",
    "resolve_raw",
]
