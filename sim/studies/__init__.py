"""Several runs at once.

:mod:`~sim.studies.compare` (paired differences between runs,
``comparison.json``), :mod:`~sim.studies.attribution` (a difference split
among the keys that differ) and :mod:`~sim.studies.sweep` (``ipo-sim sweep``:
a grid of settings, paired runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy_face

if TYPE_CHECKING:
    from sim.studies.attribution import Attribution, attribute
    from sim.studies.compare import Comparison, write_comparison
    from sim.studies.sweep import Sweep, parse_set, run_sweep

__all__ = [
    "Attribution",
    "Comparison",
    "Sweep",
    "attribute",
    "parse_set",
    "run_sweep",
    "write_comparison",
]

#: Public name -> the module that defines it, imported when first read.
_LAZY = {
    "Comparison": "sim.studies.compare",
    "write_comparison": "sim.studies.compare",
    "Attribution": "sim.studies.attribution",
    "attribute": "sim.studies.attribution",
    "Sweep": "sim.studies.sweep",
    "parse_set": "sim.studies.sweep",
    "run_sweep": "sim.studies.sweep",
}

__getattr__, __dir__ = lazy_face(__name__, _LAZY, __all__)
