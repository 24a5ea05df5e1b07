"""The money scale of a report's axes: USD, 亿 (10⁸ USD), or both.

``auto`` (the default) draws both scales where a scenario writes its amounts in 亿 or 万
and USD alone elsewhere; ``usd``, ``yi`` and ``both`` choose for every scenario.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Literal, cast, get_args

from sim.report.style import Fonts
from sim.scenario import Scenario

#: How a report scales its money axes: ``usd`` (USD alone), ``yi`` (亿 as the main
#: scale), ``both`` (USD, with 亿 on the opposite side).
Units = Literal["usd", "yi", "both"]
#: What :func:`~sim.report.render` accepts: a :data:`Units`, or ``auto``.
UnitsChoice = Literal["auto", "usd", "yi", "both"]
UNITS_CHOICES: tuple[str, ...] = get_args(UnitsChoice)


def writes_yi(scenario: Scenario) -> bool:
    """Whether the scenario, as written (after ``extends``), writes 亿 or 万 anywhere."""
    written = json.dumps(scenario.raw, sort_keys=True, ensure_ascii=False, default=str)
    return "亿" in written or "万" in written


def resolve_units(units: str, scenarios: Iterable[Scenario]) -> Units:
    """``units``, with ``auto`` made ``both`` when any of ``scenarios`` writes 亿, else ``usd``.

    Raises
    ------
    ValueError
        ``units`` is not one of :data:`UNITS_CHOICES`.
    """
    if units == "auto":
        return "both" if any(writes_yi(s) for s in scenarios) else "usd"
    if units in get_args(Units):
        return cast(Units, units)
    raise ValueError(f"units: expected one of {', '.join(UNITS_CHOICES)}, got {units!r}")


def yi_unit(fonts: Fonts) -> str:
    """The 亿 scale's unit as the fonts can draw it: ``亿 USD``, or ``10⁸ USD``."""
    return "亿 USD" if fonts.cjk else "10⁸ USD"


def money_label(what: str, units: Units, fonts: Fonts, *, log: bool = False) -> str:
    """An axis label in the axis's main unit: ``equity value, USD (log scale)``."""
    if units != "yi":
        unit = "USD"
    elif fonts.cjk:
        unit = "亿 USD (1亿 = 10⁸)"
    else:
        unit = "10⁸ USD"
    return f"{what}, {unit}" + (" (log scale)" if log else "")
