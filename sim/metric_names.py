"""The names of the metrics and their units: what a scenario file may name, and nothing else.

A metric is named by a pattern with at most one blank: ``valuation``, ``revenue.<year>``,
``shocks.<name>.p_any``. Each entry of :data:`NAMES` says, for its pattern, its unit
(``money`` in USD, ``fraction``, or ``probability``: how the threshold and bounds of an
``[[expect]]`` entry are read), which blanks a scenario fills in (its years, its shocks'
names) and the loader's message for a name that fits the pattern but names nothing in the
scenario.

This module is a leaf: it imports nothing of ``sim`` but :mod:`sim.errors`, so that the
scenario parser can check an ``[[expect]]`` metric without importing what computes the
metrics. :mod:`sim.metrics` adds to each entry how its per-path values are read and
counted; its :data:`~sim.metrics.METRICS` holds the same patterns in the same order (a
test holds them to it).

>>> find("revenue.2025").pattern
'revenue.<year>'
>>> EXPECT_METRICS[:2]
('valuation', 'revenue.<year>')
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol, TypeAlias

from sim.errors import ScenarioError, unknown_key_message

__all__ = [
    "DCF_VALUE",
    "EXPECT_METRICS",
    "FIRST_DAY_RETURN",
    "GREENSHOE",
    "HHI",
    "MARKET_VALUE",
    "MARKET_VALUE_AT",
    "MULTIPLE_VALUE",
    "NAMES",
    "OFFER_PRICE",
    "PRE_OFFER",
    "REGIME",
    "REVENUE",
    "SHOCK_P_ANY",
    "TOP_REGION_SHARE",
    "UPSIZED",
    "VALUATION",
    "VALUATION_UNSHOCKED",
    "VALUE_PER_SHARE",
    "VALUE_RATIO",
    "MetricName",
    "NameScope",
    "Unit",
    "find",
    "regime_names",
    "shock_names",
    "unit",
]

Unit: TypeAlias = Literal["money", "fraction", "probability"]


# The scenario's parts as this module reads them, stated structurally so that the leaf
# needs no import of the scenario's types (a Scenario, and the parser's partial one, fit).
class _Named(Protocol):
    @property
    def name(self) -> str: ...


class _Offering(Protocol):
    @property
    def deal(self) -> object | None: ...


class _Method(Protocol):
    @property
    def method(self) -> str: ...


class NameScope(Protocol):
    """What the names read of a scenario to know which metrics it has.

    A :class:`~sim.scenario.Scenario` is one; so is the loader's partial scenario, parsed
    before the expectations so that the Scenario is built once, with its expectations.
    """

    @property
    def base_year(self) -> int: ...
    @property
    def years(self) -> tuple[int, ...]: ...
    @property
    def shocks(self) -> Sequence[_Named]: ...
    @property
    def offering(self) -> _Offering | None: ...
    @property
    def valuation(self) -> _Method: ...
    @property
    def regimes(self) -> Sequence[_Named]: ...
    @property
    def aftermarket(self) -> object | None: ...


def _absent(scope: NameScope, name: str, fill: str) -> str:
    return f"the scenario has no metric {name!r}"


@dataclass(frozen=True, slots=True)
class MetricName:
    """One entry of the names: a pattern of metric names, its unit and its blanks.

    Attributes
    ----------
    pattern : str
        ``"valuation"``, or a name with one blank in angle brackets (``"revenue.<year>"``).
    unit : {"money", "fraction", "probability"}
    fills : callable
        ``fills(scope)``: the blanks the scenario fills in, in the order the engine reads
        them (``("",)`` for a pattern without a blank; ``()`` when the scenario has none).
    missing : callable
        ``missing(scope, name, fill)``: the loader's message for a name that fits the
        pattern but that the scenario does not have.
    expect : bool
        Whether an ``[[expect]]`` entry may name it.
    """

    pattern: str
    unit: Unit
    fills: Callable[[NameScope], tuple[str, ...]]
    missing: Callable[[NameScope, str, str], str] = _absent
    expect: bool = True

    @property
    def _ends(self) -> tuple[str, str] | None:
        """The text before and after the blank; None for a pattern without one."""
        if "<" not in self.pattern:
            return None
        head, rest = self.pattern.split("<", 1)
        return head, rest.split(">", 1)[1]

    def fill_of(self, name: str) -> str | None:
        """The blank ``name`` fills in when it fits the pattern (``""`` without a blank)."""
        ends = self._ends
        if ends is None:
            return "" if name == self.pattern else None
        head, tail = ends
        if name.startswith(head) and name.endswith(tail):
            return name.removeprefix(head).removesuffix(tail)
        return None

    def name(self, fill: object = "") -> str:
        """The metric name with its blank filled in: ``REVENUE.name(2025)``."""
        ends = self._ends
        return self.pattern if ends is None else f"{ends[0]}{fill}{ends[1]}"

    def names(self, scope: NameScope) -> tuple[str, ...]:
        """Every name of this pattern that ``scope`` has, in ``fills``' order."""
        return tuple(self.name(f) for f in self.fills(scope))


def _one(scope: NameScope) -> tuple[str, ...]:
    return ("",)


def _years(scope: NameScope) -> tuple[str, ...]:
    # Compared as text: "²" passes isdigit, and "02025" is no metric the engine names.
    return tuple(str(y) for y in (scope.base_year, *scope.years))


def shock_names(scope: NameScope) -> tuple[str, ...]:
    """The blanks of ``shocks.<name>.p_any``: the scenario's shocks, in its order."""
    return tuple(k.name for k in scope.shocks)


def regime_names(scope: NameScope) -> tuple[str, ...]:
    """The blanks of ``regime.<name>``: the scenario's regimes, in its order."""
    return tuple(r.name for r in scope.regimes)


def _regime_missing(scope: NameScope, name: str, fill: str) -> str:
    if not scope.regimes:
        return f"{name} needs [[regimes]]"
    return unknown_key_message(fill, regime_names(scope), what="regime")


def _offerings(scope: NameScope) -> tuple[str, ...]:
    return ("",) if scope.offering is not None else ()


MARKET_VALUE_AT: tuple[str, ...] = ("fair", "offer", "day1", "end", "peak")
"""The blanks of ``market_value.<at>``, in the order the engine reads them."""
_AFTER = ("day1", "end", "peak")


def _market_value_fills(scope: NameScope) -> tuple[str, ...]:
    if scope.offering is None:
        return ("fair",)
    return MARKET_VALUE_AT if scope.aftermarket is not None else ("fair", "offer")


def _market_value_missing(scope: NameScope, name: str, fill: str) -> str:
    if fill in _AFTER:
        return f"{name} needs an [aftermarket] table"
    if fill == "offer":
        return f"{name} needs an [offering] table"
    return unknown_key_message(fill, MARKET_VALUE_AT, what="value")


def _deals(scope: NameScope) -> tuple[str, ...]:
    return ("",) if scope.offering is not None and scope.offering.deal is not None else ()


def _aftermarkets(scope: NameScope) -> tuple[str, ...]:
    return ("",) if scope.aftermarket is not None else ()


def _dcf_fills(scope: NameScope) -> tuple[str, ...]:
    return ("",) if scope.valuation.method in ("dcf", "both") else ()


def _both_fills(scope: NameScope) -> tuple[str, ...]:
    return ("",) if scope.valuation.method == "both" else ()


VALUATION = MetricName("valuation", "money", _one)
"""The equity value at listing."""
VALUATION_UNSHOCKED = MetricName("valuation_unshocked", "money", _one, expect=False)
"""The equity value had no shock hit."""
REVENUE = MetricName(
    "revenue.<year>",
    "money",
    _years,
    missing=lambda s, name, fill: (
        f"expected revenue.<year> with a year in {s.base_year}..{s.years[-1]}, got {name!r}"
    ),
)
"""Total revenue of a year from ``base_year`` to the horizon."""
HHI = MetricName("hhi", "fraction", _one)
"""Herfindahl index of revenue by region in the valuation year."""
TOP_REGION_SHARE = MetricName("top_region_share", "fraction", _one)
"""The largest region's share of revenue in the valuation year."""
SHOCK_P_ANY = MetricName(
    "shocks.<name>.p_any",
    "probability",
    shock_names,
    missing=lambda s, name, fill: unknown_key_message(fill, shock_names(s), what="shock"),
)
"""Whether the shock hit in or before the valuation year."""
VALUE_PER_SHARE = MetricName(
    "value_per_share",
    "money",
    _offerings,
    missing=lambda s, name, fill: "value_per_share needs an [offering] table",
)
"""The equity value per share."""
MARKET_VALUE = MetricName(
    "market_value.<at>", "money", _market_value_fills, missing=_market_value_missing
)
"""Market value at a point in time: ``fair`` is the equity value (``valuation``),
``offer`` the offer price x shares after the offer, ``day1``, ``end``, ``peak`` after
listing."""
PRE_OFFER = MetricName("pre_offer", "money", _offerings, expect=False)
"""Equity before the offer's proceeds at a price."""
DCF_VALUE = MetricName(
    "dcf_value",
    "money",
    _dcf_fills,
    missing=lambda s, name, fill: 'dcf_value needs method = "dcf" or "both" in [valuation]',
)
"""The DCF's equity value (``valuation`` itself under ``dcf``; beside it under ``both``)."""
MULTIPLE_VALUE = MetricName("multiple_value", "money", _both_fills, expect=False)
"""The EV/sales multiple's equity value under method ``both``."""
VALUE_RATIO = MetricName("dcf_to_multiple", "fraction", _both_fills, expect=False)
"""Under method ``both``: the DCF's equity value / the multiple's, per path."""
REGIME = MetricName("regime.<name>", "probability", regime_names, missing=_regime_missing)
"""Whether the path is in the named regime; its mean is P(regime) (DESIGN.md 3.4)."""
FIRST_DAY_RETURN = MetricName(
    "first_day_return",
    "fraction",
    _aftermarkets,
    missing=lambda s, name, fill: "first_day_return needs an [aftermarket] table",
)
"""Day-1 close / offer price - 1."""
OFFER_PRICE = MetricName("offer_price", "money", _offerings, expect=False)
"""The offer price, USD per share."""
UPSIZED = MetricName("offering.upsized", "fraction", _deals, expect=False)
"""1 where the path exercises the upsize (offer size adjustment option), else 0."""
GREENSHOE = MetricName("offering.greenshoe", "fraction", _deals, expect=False)
"""1 where the path exercises the greenshoe (over-allotment option), else 0."""

NAMES: tuple[MetricName, ...] = (
    VALUATION,
    VALUATION_UNSHOCKED,
    REVENUE,
    HHI,
    TOP_REGION_SHARE,
    SHOCK_P_ANY,
    VALUE_PER_SHARE,
    MARKET_VALUE,
    PRE_OFFER,
    DCF_VALUE,
    MULTIPLE_VALUE,
    VALUE_RATIO,
    REGIME,
    FIRST_DAY_RETURN,
    OFFER_PRICE,
    UPSIZED,
    GREENSHOE,
)
"""Every metric name, in the order the engine streams them (:data:`sim.metrics.METRICS`)."""

EXPECT_METRICS: tuple[str, ...] = tuple(m.pattern for m in NAMES if m.expect)
"""The metrics an ``[[expect]]`` may name (``<year>`` and ``<name>`` filled in)."""


def find(name: str) -> MetricName | None:
    """The entry whose pattern ``name`` fits, or None."""
    return next((m for m in NAMES if m.fill_of(name) is not None), None)


def unit(name: str, scope: NameScope, *, path: str) -> Unit:
    """The unit of the metric an ``[[expect]]`` entry names, checked against the scenario.

    Raises
    ------
    ScenarioError
        At ``path``: an unknown metric, or one the scenario does not have.
    """
    metric = find(name)
    if metric is None or not metric.expect:
        raise ScenarioError(
            f"unknown metric {name!r}; expected {', '.join(EXPECT_METRICS[:-1])} "
            f"or {EXPECT_METRICS[-1]}",
            path=path,
        )
    fill = metric.fill_of(name)
    assert fill is not None
    if fill not in metric.fills(scope):
        raise ScenarioError(metric.missing(scope, name, fill), path=path)
    return metric.unit
