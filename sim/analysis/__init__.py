"""From a run to what it says.

:mod:`~sim.analysis.summary` (``summarise``: a Result -> the typed Summary, the
summary.json schema, its blocks in :mod:`~sim.analysis.results`) and
:mod:`~sim.analysis.expectations` (the verdicts on ``[[expect]]``). It imports
the run and the model and nothing above them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy_face

if TYPE_CHECKING:
    from sim.analysis.expectations import ExpectationOutcome, check_expectation, decide
    from sim.analysis.summary import Summary, TargetEstimate, summarise

__all__ = [
    "ExpectationOutcome",
    "Summary",
    "TargetEstimate",
    "check_expectation",
    "decide",
    "summarise",
]

#: Public name -> the module that defines it, imported when first read.
_LAZY = {
    "Summary": "sim.analysis.summary",
    "TargetEstimate": "sim.analysis.summary",
    "summarise": "sim.analysis.summary",
    "ExpectationOutcome": "sim.analysis.expectations",
    "check_expectation": "sim.analysis.expectations",
    "decide": "sim.analysis.expectations",
}

__getattr__, __dir__ = lazy_face(__name__, _LAZY, __all__)
