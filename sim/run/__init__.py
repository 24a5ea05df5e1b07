"""A run: keyed streams, blocks, executors.

:mod:`~sim.run.sampling` (uniforms per input from keyed streams, the copula),
:mod:`~sim.run.engine` (``simulate``: blocks, the accumulator, the precision
rule), :mod:`~sim.run.workers` and :mod:`~sim.run.cluster` (where blocks run),
:mod:`~sim.run.checks` (finiteness of each block). It imports the model and
nothing above it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy_face

if TYPE_CHECKING:
    from sim.run.cluster import Cluster
    from sim.run.engine import Kept, Result, simulate
    from sim.run.sampling import BLOCK_SIZE, Copula, block_draws
    from sim.run.workers import run_tasks

__all__ = [
    "BLOCK_SIZE",
    "Cluster",
    "Copula",
    "Kept",
    "Result",
    "block_draws",
    "run_tasks",
    "simulate",
]

#: Public name -> the module that defines it, imported when first read.
_LAZY = {
    "Kept": "sim.run.engine",
    "Result": "sim.run.engine",
    "simulate": "sim.run.engine",
    "BLOCK_SIZE": "sim.run.sampling",
    "Copula": "sim.run.sampling",
    "block_draws": "sim.run.sampling",
    "run_tasks": "sim.run.workers",
    "Cluster": "sim.run.cluster",
}

__getattr__, __dir__ = lazy_face(__name__, _LAZY, __all__)
