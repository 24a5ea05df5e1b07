"""The money scale of a report's axes: USD, 亿 (10⁸ USD), or both.

``auto`` (the default) draws both scales where a scenario writes its amounts in 亿 or 万
and USD alone elsewhere; ``usd``, ``yi`` and ``both`` choose for every scenario.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, cast, get_args

from sim import format as fmt
from sim.money import writes_chinese
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
    return writes_chinese(scenario.raw)


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
    """The 亿 scale's unit as the fonts can draw it: ``亿 USD``, or ``10⁸ USD`` (in the
    currency shown, :func:`sim.format.shown_currency`)."""
    code = fmt.shown_currency().code
    return f"亿 {code}" if fonts.cjk else f"10⁸ {code}"


def money_label(what: str, units: Units, fonts: Fonts, *, log: bool = False) -> str:
    """An axis label in the axis's main unit: ``equity value, USD (log scale)``, in the
    currency shown (:func:`sim.format.shown_currency`)."""
    code = fmt.shown_currency().code
    if units != "yi":
        unit = code
    elif fonts.cjk:
        unit = f"亿 {code} (1亿 = 10⁸)"
    else:
        unit = f"10⁸ {code}"
    return f"{what}, {unit}" + (" (log scale)" if log else "")
