"""The one registry of metrics: the per-path quantities a run streams and ``[[expect]]`` names.

A metric is named by a pattern with at most one blank: ``valuation``, ``revenue.<year>``,
``shocks.<name>.p_any``. Each entry of :data:`METRICS` says, for its pattern:

- its unit (``money`` in USD, ``fraction``, or ``probability``), which decides how the
  threshold and bounds of an ``[[expect]]`` entry are read;
- which blanks a scenario fills in (its years, its shocks' names), and the loader's message
  for a name that fits the pattern but names nothing in the scenario;
- how its per-path values are read from the model's :class:`sim.model.PathValues` (or from
  the run's kept arrays, ``Result.kept.values``);
- the thresholds the engine counts exactly for it, besides those the expectations name;
- for an indicator (a probability: did the event happen on the path?), how the run counts
  the paths where it did, instead of streaming it.

The loader, the engine, the expectations and the summary ask this module; none of them
parses a metric name. Adding a metric is one entry here (and its row in docs/scenarios.md
when ``[[expect]]`` may name it).

>>> find("revenue.2025").pattern
'revenue.<year>'
>>> EXPECT_METRICS[:2]
('valuation', 'revenue.<year>')
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from sim.errors import ScenarioError, SimError, unknown_key_message

if TYPE_CHECKING:
    from sim.engine import Result
    from sim.model import PathValues
    from sim.scenario import Aftermarket, Offering, Scenario, Shock, Target
    from sim.scenario.types import Regime
    from sim.valuation import ValuationMethod

__all__ = [
    "DCF_VALUE",
    "EXPECT_METRICS",
    "FIRST_DAY_RETURN",
    "GREENSHOE",
    "HHI",
    "MARKET_VALUE",
    "METRICS",
    "MULTIPLE_VALUE",
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
    "Metric",
    "Scope",
    "Unit",
    "find",
    "per_path",
    "stream_name",
    "streamed",
    "target_metric",
    "target_values",
    "thresholds",
    "unit",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
Unit: TypeAlias = Literal["money", "fraction", "probability"]


class Scope(Protocol):
    """What the registry reads of a scenario to know its metrics (a Scenario is one).

    The loader passes the parts it has parsed before the expectations, so that the
    :class:`~sim.scenario.Scenario` is built once, with its expectations.
    """

    @property
    def base_year(self) -> int: ...
    @property
    def years(self) -> tuple[int, ...]: ...
    @property
    def shocks(self) -> Sequence[Shock]: ...
    @property
    def offering(self) -> Offering | None: ...
    @property
    def targets(self) -> Sequence[Target]: ...
    @property
    def valuation(self) -> ValuationMethod: ...
    @property
    def regimes(self) -> Sequence[Regime]: ...
    @property
    def aftermarket(self) -> Aftermarket | None: ...


def _one(scope: Scope) -> tuple[str, ...]:
    return ("",)


def _none(scope: Scope) -> tuple[float, ...]:
    return ()


def _absent(scope: Scope, name: str, fill: str) -> str:
    return f"the scenario has no metric {name!r}"


@dataclass(frozen=True, slots=True)
class Metric:
    """One entry of the registry: a pattern of metric names and how to read them.

    Attributes
    ----------
    pattern : str
        ``"valuation"``, or a name with one blank in angle brackets (``"revenue.<year>"``).
    unit : {"money", "fraction", "probability"}
    fills : callable
        ``fills(scope)``: the blanks the scenario fills in, in the order of ``read``'s
        index (``("",)`` for a pattern without a blank; ``()`` when the scenario has none).
    read : callable
        ``read(values, i)``: the per-path values (n,) of the ``i``-th fill, from the
        model's PathValues (a block's, or the run's kept ones).
    missing : callable
        ``missing(scope, name, fill)``: the loader's message for a name that fits the
        pattern but that the scenario does not have.
    own_thresholds : callable
        ``own_thresholds(scope)``: the thresholds counted exactly for each name of the
        pattern whatever the expectations say (the targets, the offer price range).
    count : callable, optional
        For an indicator: ``count(result, fill)``, the paths of the run on which the event
        happened. Indicators are counted by the engine, not streamed.
    expect : bool
        Whether an ``[[expect]]`` entry may name it.
    same_as : mapping of str to str
        Fills whose values are another metric's stream (``market_value.fair`` is
        ``valuation``): not streamed twice, read from that stream.
    """

    pattern: str
    unit: Unit
    fills: Callable[[Scope], tuple[str, ...]]
    read: Callable[[PathValues, int], FloatArray]
    missing: Callable[[Scope, str, str], str] = _absent
    own_thresholds: Callable[[Scope], tuple[float, ...]] = _none
    count: Callable[[Result, str], int] | None = None
    expect: bool = True
    same_as: Mapping[str, str] = field(default_factory=dict)

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

    def names(self, scope: Scope) -> tuple[str, ...]:
        """Every name of this pattern that ``scope`` has, in ``read``'s order."""
        return tuple(self.name(f) for f in self.fills(scope))


def _present(values: PathValues, field: str, metric: str) -> FloatArray:
    """``values.<field>``, which a metric's ``fills()`` promised is there."""
    out: FloatArray | None = getattr(values, field)
    if out is None:  # pragma: no cover - fills() says there is one
        raise AssertionError(f"{metric} read without what it needs ({field} is None)")
    return out


def _vps(values: PathValues, i: int) -> FloatArray:
    return _present(values, "value_per_share", "value_per_share")


def _years(scope: Scope) -> tuple[str, ...]:
    # Compared as text: "²" passes isdigit, and "02025" is no metric the engine names.
    return tuple(str(y) for y in (scope.base_year, *scope.years))


def _shock_names(scope: Scope) -> tuple[str, ...]:
    return tuple(k.name for k in scope.shocks)


def _shock_count(result: Result, fill: str) -> int:
    names = _shock_names(result.scenario)
    if fill not in names:
        raise SimError(f"no shock named {fill!r}")
    return int(result.shock_counts[names.index(fill)])


def _regime_names(scope: Scope) -> tuple[str, ...]:
    return tuple(r.name for r in scope.regimes)


def _regime(values: PathValues, i: int) -> FloatArray:
    if values.regime is None:  # pragma: no cover - fills() says there are regimes
        raise AssertionError("regime read without regimes")
    indicator: FloatArray = (values.regime == i).astype(np.float64)
    return indicator


def _regime_count(result: Result, fill: str) -> int:
    names = _regime_names(result.scenario)
    if fill not in names:
        raise SimError(f"no regime named {fill!r}")
    return int(result.regime_counts[names.index(fill)])


def _regime_missing(scope: Scope, name: str, fill: str) -> str:
    if not scope.regimes:
        return f"{name} needs [[regimes]]"
    return unknown_key_message(fill, _regime_names(scope), what="regime")


def _target_values(scope: Scope) -> tuple[float, ...]:
    """Every target's value, whatever its ``at``: each point in time's stream counts them
    all, so that a target's probability can be read at every point in time."""
    return tuple(sorted({t.value_usd for t in scope.targets}))


def _offerings(scope: Scope) -> tuple[str, ...]:
    return ("",) if scope.offering is not None else ()


_AT = ("fair", "offer", "day1", "end", "peak")
_AFTER = ("day1", "end", "peak")


def _market_value_fills(scope: Scope) -> tuple[str, ...]:
    if scope.offering is None:
        return ("fair",)
    return _AT if scope.aftermarket is not None else ("fair", "offer")


def _market_value(values: PathValues, i: int) -> FloatArray:
    out = (
        values.equity,
        values.market_value_offer,
        values.market_value_day1,
        values.market_value_end,
        values.market_value_peak,
    )[i]
    if out is None:  # pragma: no cover - fills() says there is one
        raise AssertionError(f"market_value.{_AT[i]} read without its table")
    return out


def _market_value_missing(scope: Scope, name: str, fill: str) -> str:
    if fill in _AFTER:
        return f"{name} needs an [aftermarket] table"
    if fill == "offer":
        return f"{name} needs an [offering] table"
    return unknown_key_message(fill, _AT, what="value")


def _offer_thresholds(scope: Scope) -> tuple[float, ...]:
    """The targets at every point in time but ``fair`` (whose stream is ``valuation``'s).

    The registry gives a pattern's thresholds to each of its names; counting a target of
    one point in time at another's costs one comparison a path and keeps them side by
    side (the aftermarket page shows each target at each point in time)."""
    return _target_values(scope)


def _offer_price(values: PathValues, i: int) -> FloatArray:
    return _present(values, "offer_price_usd", "offer_price")


def _offer_price_thresholds(scope: Scope) -> tuple[float, ...]:
    """The range's ends: P(offer < low) is one minus the share at or above ``low``,
    P(offer <= low) one minus the share at or above the next float above it, P(offer =
    high) the share at or above ``high``."""
    if scope.offering is None:
        return ()
    lo, hi = scope.offering.price_range_usd
    return (lo, float(np.nextafter(lo, np.inf)), hi)


def _deals(scope: Scope) -> tuple[str, ...]:
    return ("",) if scope.offering is not None and scope.offering.deal is not None else ()


def _upsized(values: PathValues, i: int) -> FloatArray:
    return _present(values, "upsized", "offering.upsized")


def _greenshoe(values: PathValues, i: int) -> FloatArray:
    return _present(values, "greenshoe", "offering.greenshoe")


def _half(scope: Scope) -> tuple[float, ...]:
    """An indicator's one threshold: the share at or above 0.5 is its share of 1s."""
    return (0.5,)


def _aftermarkets(scope: Scope) -> tuple[str, ...]:
    return ("",) if scope.aftermarket is not None else ()


def _first_day_return(values: PathValues, i: int) -> FloatArray:
    return _present(values, "first_day_return", "first_day_return")


def _pre_offer(values: PathValues, i: int) -> FloatArray:
    return _present(values, "pre_offer", "pre_offer")


def _grid_thresholds(scope: Scope) -> tuple[float, ...]:
    from sim.offering import grid_thresholds

    return grid_thresholds(scope.offering) if scope.offering is not None else ()


VALUATION = Metric(
    "valuation", "money", _one, lambda v, i: v.equity, own_thresholds=_target_values
)
VALUATION_UNSHOCKED = Metric(
    "valuation_unshocked",
    "money",
    _one,
    lambda v, i: v.equity_unshocked,
    own_thresholds=_target_values,
    expect=False,
)
REVENUE = Metric(
    "revenue.<year>",
    "money",
    _years,
    lambda v, i: v.revenue[:, i],
    missing=lambda s, name, fill: (
        f"expected revenue.<year> with a year in {s.base_year}..{s.years[-1]}, got {name!r}"
    ),
)
HHI = Metric("hhi", "fraction", _one, lambda v, i: v.hhi)
TOP_REGION_SHARE = Metric("top_region_share", "fraction", _one, lambda v, i: v.top_region_share)
SHOCK_P_ANY = Metric(
    "shocks.<name>.p_any",
    "probability",
    _shock_names,
    lambda v, i: v.shock_any[:, i].astype(np.float64),
    missing=lambda s, name, fill: unknown_key_message(fill, _shock_names(s), what="shock"),
    count=_shock_count,
)
VALUE_PER_SHARE = Metric(
    "value_per_share",
    "money",
    _offerings,
    _vps,
    missing=lambda s, name, fill: "value_per_share needs an [offering] table",
    own_thresholds=lambda s: s.offering.price_range_usd if s.offering is not None else (),
)

MARKET_VALUE = Metric(
    "market_value.<at>",
    "money",
    _market_value_fills,
    _market_value,
    missing=_market_value_missing,
    own_thresholds=_offer_thresholds,
    same_as={"fair": "valuation"},
)
"""Market value at a point in time: ``fair`` is the equity value (``valuation``),
``offer`` the offer price x shares after the offer. Its own thresholds are ``offer``'s
(``fair`` is read from ``valuation``'s stream)."""
PRE_OFFER = Metric(
    "pre_offer",
    "money",
    _offerings,
    _pre_offer,
    own_thresholds=_grid_thresholds,
    expect=False,
)
"""Equity before the offer's proceeds at a price; its counts at the pricing grid's
thresholds are P(fair value per share at P >= P) (:func:`sim.offering.grid_thresholds`)."""
FIRST_DAY_RETURN = Metric(
    "first_day_return",
    "fraction",
    _aftermarkets,
    _first_day_return,
    missing=lambda s, name, fill: "first_day_return needs an [aftermarket] table",
    own_thresholds=lambda s: (0.0,),
)
"""Day-1 close / offer price - 1 (:mod:`sim.aftermarket`); its own threshold 0 counts
the paths that close day 1 at or above the offer."""
OFFER_PRICE = Metric(
    "offer_price",
    "money",
    _offerings,
    _offer_price,
    own_thresholds=_offer_price_thresholds,
    expect=False,
)
"""The offer price, USD per share (:func:`sim.offering.settle`); its thresholds count the
paths priced below the range, at or below its low, and at its high."""
UPSIZED = Metric(
    "offering.upsized", "fraction", _deals, _upsized, own_thresholds=_half, expect=False
)
"""1 where the path exercises the upsize (offer size adjustment option), else 0."""
GREENSHOE = Metric(
    "offering.greenshoe", "fraction", _deals, _greenshoe, own_thresholds=_half, expect=False
)
"""1 where the path exercises the greenshoe (over-allotment option), else 0."""


def _dcf_fills(scope: Scope) -> tuple[str, ...]:
    return ("",) if scope.valuation.method in ("dcf", "both") else ()


def _both_fills(scope: Scope) -> tuple[str, ...]:
    return ("",) if scope.valuation.method == "both" else ()


def _dcf_value(values: PathValues, i: int) -> FloatArray:
    return _present(values, "equity_dcf", "dcf_value")


def _multiple_value(values: PathValues, i: int) -> FloatArray:
    return _present(values, "equity_multiple", "multiple_value")


def _value_ratio(values: PathValues, i: int) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio: FloatArray = _dcf_value(values, i) / _multiple_value(values, i)
    return ratio


DCF_VALUE = Metric(
    "dcf_value",
    "money",
    _dcf_fills,
    _dcf_value,
    missing=lambda s, name, fill: 'dcf_value needs method = "dcf" or "both" in [valuation]',
)
"""The DCF's equity value (``valuation`` itself under ``dcf``; beside it under ``both``)."""
MULTIPLE_VALUE = Metric("multiple_value", "money", _both_fills, _multiple_value, expect=False)
"""The EV/sales multiple's equity value under method ``both``."""
VALUE_RATIO = Metric("dcf_to_multiple", "fraction", _both_fills, _value_ratio, expect=False)
"""Under method ``both``: the DCF's equity value / the multiple's, per path."""
REGIME = Metric(
    "regime.<name>",
    "probability",
    _regime_names,
    _regime,
    missing=_regime_missing,
    count=_regime_count,
)
"""Whether the path is in the named regime; its mean is P(regime) (DESIGN.md 3.4)."""

METRICS: tuple[Metric, ...] = (
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
"""Every metric, in the order the engine streams them."""

EXPECT_METRICS: tuple[str, ...] = tuple(m.pattern for m in METRICS if m.expect)
"""The metrics an ``[[expect]]`` may name (``<year>`` and ``<name>`` filled in)."""


def find(name: str) -> Metric | None:
    """The registry entry whose pattern ``name`` fits, or None."""
    return next((m for m in METRICS if m.fill_of(name) is not None), None)


def unit(name: str, scope: Scope, *, path: str) -> Unit:
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


def stream_name(name: str) -> str:
    """The stream that holds metric ``name``'s values: ``name`` itself, or the metric it
    is the same as (``market_value.fair`` -> ``valuation``)."""
    metric = find(name)
    fill = metric.fill_of(name) if metric is not None else None
    if metric is None or fill is None:
        return name
    return metric.same_as.get(fill, name)


def target_metric(target: Target) -> str:
    """The metric a target is read against: ``valuation`` (``at = "fair"``) or
    ``market_value.<at>``."""
    return _at_metric(target.at)


def _at_metric(at: str) -> str:
    return VALUATION.name() if at == "fair" else MARKET_VALUE.name(at)


def streamed(scope: Scope, values: PathValues) -> Iterator[tuple[str, FloatArray]]:
    """Each streamed metric's per-path values (indicators are counted instead), by name."""
    for metric in METRICS:
        if metric.count is None:
            for i, fill in enumerate(metric.fills(scope)):
                if fill not in metric.same_as:
                    yield metric.name(fill), metric.read(values, i)


def per_path(scope: Scope, values: PathValues, name: str) -> FloatArray | None:
    """The per-path values of one streamed metric, or None when there is no such stream."""
    metric = find(name)
    if metric is None or metric.count is not None:
        return None
    fills = metric.fills(scope)
    fill = metric.fill_of(name)
    return metric.read(values, fills.index(fill)) if fill in fills else None


def thresholds(scenario: Scenario) -> dict[str, tuple[float, ...]]:
    """The thresholds whose exceedance each streamed metric's stream counts exactly.

    A metric's own (the targets for ``valuation``, the price range for
    ``value_per_share``) and those the scenario's expectations name.
    """
    out: dict[str, list[float]] = {}
    for metric in METRICS:
        if metric.count is None:
            for fill in metric.fills(scenario):
                if fill not in metric.same_as:
                    out[metric.name(fill)] = list(metric.own_thresholds(scenario))
    for e in scenario.expectations:
        if e.threshold is not None:
            out.setdefault(stream_name(e.metric), []).append(e.threshold)
    return {k: tuple(sorted(set(v))) for k, v in out.items()}


def target_values(scope: Scope, values: PathValues, at: str) -> FloatArray | None:
    """The per-path values a target read at ``at`` compares with: the fair value (``fair``)
    or the market value at that point in time; None when the scenario has none."""
    return per_path(scope, values, _at_metric(at))
