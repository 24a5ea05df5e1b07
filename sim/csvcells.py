"""CSV cells that a spreadsheet reads as text, never as a formula (CSV injection).

A label such as ``=HYPERLINK("http://...")`` written as is becomes a live formula when
the file is opened in Excel or LibreOffice. OWASP's rule ("CSV Injection"): a cell that
starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is prefixed with a
single quote, which the spreadsheet shows as text; a number (``-0.25``, ``+1e5``) is
left as it is. Used by every CSV ipo-sim writes (:mod:`sim.analysis.summary`,
:mod:`sim.studies.sweep`).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from typing import IO

__all__ = ["SafeWriter", "csv_cell"]

_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:inf|nan)")


def csv_cell(value: object) -> object:
    """``value``, or a string a spreadsheet cannot evaluate.

    >>> csv_cell('=HYPERLINK("http://x")'), csv_cell("-0.25"), csv_cell(-3)
    ('\\'=HYPERLINK("http://x")', '-0.25', -3)
    """
    if isinstance(value, str) and value.startswith(_TRIGGERS) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


class SafeWriter:
    """A :func:`csv.writer` (``\n`` line ends) whose every cell goes through
    :func:`csv_cell`."""

    def __init__(self, out: IO[str]) -> None:
        self._writer = csv.writer(out, lineterminator="\n")

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([csv_cell(v) for v in row])
