"""A run's folder, written whole.

:mod:`~sim.output.run_folder` (``write_run``: the folder ``ipo-sim run``
writes, its formats), :mod:`~sim.output.outputs` (a folder written aside and
swapped in) and :mod:`~sim.output.xlsx` (``summary.xlsx``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim._lazy import lazy_face

if TYPE_CHECKING:
    from sim.output.outputs import check_out, write_outputs
    from sim.output.run_folder import FORMATS, RunFolder, check_formats, write_run
    from sim.output.xlsx import write_workbook

__all__ = [
    "FORMATS",
    "RunFolder",
    "check_formats",
    "check_out",
    "write_outputs",
    "write_run",
    "write_workbook",
]

#: Public name -> the module that defines it, imported when first read.
_LAZY = {
    "FORMATS": "sim.output.run_folder",
    "RunFolder": "sim.output.run_folder",
    "check_formats": "sim.output.run_folder",
    "write_run": "sim.output.run_folder",
    "check_out": "sim.output.outputs",
    "write_outputs": "sim.output.outputs",
    "write_workbook": "sim.output.xlsx",
}

__getattr__, __dir__ = lazy_face(__name__, _LAZY, __all__)
