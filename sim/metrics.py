"""The one registry of metrics: the per-path quantities a run streams and ``[[expect]]`` names.

Each entry of :data:`METRICS` is its entry of :mod:`sim.metric_names` (the pattern, such
as ``revenue.<year>``, its unit, the blanks a scenario fills in, the loader's message for
a name the scenario does not have) and, besides:

- how its per-path values are read from the model's :class:`sim.model.core.PathValues` (or from
  the run's kept arrays, ``Result.kept.values``);
- the thresholds the engine counts exactly for it, besides those the expectations name;
- for an indicator (a probability: did the event happen on the path?), how the run counts
  the paths where it did, instead of streaming it.

The names live in a leaf module so that the scenario parser, which checks an
``[[expect]]`` entry's metric and unit, imports none of this module's readers (nor what
they read). The engine, the expectations and the summary ask this module; none of them
parses a metric name. Adding a metric is one entry in each of the two modules (and its row
in docs/scenarios.md when ``[[expect]]`` may name it).

>>> find("revenue.2025").pattern
'revenue.<year>'
>>> EXPECT_METRICS[:2]
('valuation', 'revenue.<year>')
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol, TypeAlias

import numpy as np
import numpy.typing as npt

from sim import metric_names as names
from sim.errors import SimError
from sim.metric_names import EXPECT_METRICS, MetricName, Unit, unit

if TYPE_CHECKING:
    from sim.model.core import PathValues
    from sim.run.engine import Result
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


class Scope(Protocol):
    """What the registry reads of a scenario to know its metrics (a Scenario is one).

    The names' :class:`~sim.metric_names.NameScope` and, for the thresholds, the targets
    and the offering's price range.
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


def _none(scope: Scope) -> tuple[float, ...]:
    return ()


@dataclass(frozen=True, slots=True)
class Metric(MetricName):
    """One entry of the registry: its name's entry and how to read its values.

    Attributes
    ----------
    pattern, unit, fills, missing, expect
        As its :class:`~sim.metric_names.MetricName`.
    read : callable
        ``read(values, i)``: the per-path values (n,) of the ``i``-th fill, from the
        model's PathValues (a block's, or the run's kept ones).
    own_thresholds : callable
        ``own_thresholds(scope)``: the thresholds counted exactly for each name of the
        pattern whatever the expectations say (the targets, the offer price range).
    count : callable, optional
        For an indicator: ``count(result, fill)``, the paths of the run on which the event
        happened. Indicators are counted by the engine, not streamed.
    same_as : mapping of str to str
        Fills whose values are another metric's stream (``market_value.fair`` is
        ``valuation``): not streamed twice, read from that stream.
    """

    read: Callable[[PathValues, int], FloatArray] = field(kw_only=True)
    own_thresholds: Callable[[Scope], tuple[float, ...]] = field(default=_none, kw_only=True)
    count: Callable[[Result, str], int] | None = field(default=None, kw_only=True)
    same_as: Mapping[str, str] = field(default_factory=dict, kw_only=True)


#: Each metric by its pattern, as :func:`_reads` builds them (for :data:`METRICS`).
_READERS: dict[str, Metric] = {}


def _reads(
    name: MetricName,
    read: Callable[[PathValues, int], FloatArray],
    *,
    own_thresholds: Callable[[Scope], tuple[float, ...]] = _none,
    count: Callable[[Result, str], int] | None = None,
    same_as: Mapping[str, str] | None = None,
) -> Metric:
    """The metric named by ``name``, read by ``read``: the name's fields copied, so that
    a pattern, its unit and its blanks are written once (in :mod:`sim.metric_names`).
    Registered under its pattern for :data:`METRICS`."""
    metric = Metric(
        name.pattern,
        name.unit,
        name.fills,
        name.missing,
        name.expect,
        read=read,
        own_thresholds=own_thresholds,
        count=count,
        same_as={} if same_as is None else same_as,
    )
    _READERS[name.pattern] = metric
    return metric


def _present(values: PathValues, field: str, metric: str) -> FloatArray:
    """``values.<field>``, which a metric's ``fills()`` promised is there."""
    out: FloatArray | None = getattr(values, field)
    if out is None:  # pragma: no cover - fills() says there is one
        raise AssertionError(f"{metric} read without what it needs ({field} is None)")
    return out


def _vps(values: PathValues, i: int) -> FloatArray:
    return _present(values, "value_per_share", "value_per_share")


def _shock_count(result: Result, fill: str) -> int:
    shocks = names.shock_names(result.scenario)
    if fill not in shocks:
        raise SimError(f"no shock named {fill!r}")
    return int(result.shock_counts[shocks.index(fill)])


def _regime(values: PathValues, i: int) -> FloatArray:
    if values.regime is None:  # pragma: no cover - fills() says there are regimes
        raise AssertionError("regime read without regimes")
    indicator: FloatArray = (values.regime == i).astype(np.float64)
    return indicator


def _regime_count(result: Result, fill: str) -> int:
    regimes = names.regime_names(result.scenario)
    if fill not in regimes:
        raise SimError(f"no regime named {fill!r}")
    return int(result.regime_counts[regimes.index(fill)])


def _target_values(scope: Scope) -> tuple[float, ...]:
    """Every target's value, whatever its ``at``: each point in time's stream counts them
    all, so that a target's probability can be read at every point in time."""
    return tuple(sorted({t.value_usd for t in scope.targets}))


def _market_value(values: PathValues, i: int) -> FloatArray:
    out = (
        values.equity,
        values.market_value_offer,
        values.market_value_day1,
        values.market_value_end,
        values.market_value_peak,
    )[i]
    if out is None:  # pragma: no cover - fills() says there is one
        raise AssertionError(f"market_value.{names.MARKET_VALUE_AT[i]} read without its table")
    return out


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


def _upsized(values: PathValues, i: int) -> FloatArray:
    return _present(values, "upsized", "offering.upsized")


def _greenshoe(values: PathValues, i: int) -> FloatArray:
    return _present(values, "greenshoe", "offering.greenshoe")


def _half(scope: Scope) -> tuple[float, ...]:
    """An indicator's one threshold: the share at or above 0.5 is its share of 1s."""
    return (0.5,)


def _first_day_return(values: PathValues, i: int) -> FloatArray:
    return _present(values, "first_day_return", "first_day_return")


def _pre_offer(values: PathValues, i: int) -> FloatArray:
    return _present(values, "pre_offer", "pre_offer")


def _grid_thresholds(scope: Scope) -> tuple[float, ...]:
    from sim.model.offering import grid_thresholds

    return grid_thresholds(scope.offering) if scope.offering is not None else ()


def _dcf_value(values: PathValues, i: int) -> FloatArray:
    return _present(values, "equity_dcf", "dcf_value")


def _multiple_value(values: PathValues, i: int) -> FloatArray:
    return _present(values, "equity_multiple", "multiple_value")


def _value_ratio(values: PathValues, i: int) -> FloatArray:
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio: FloatArray = _dcf_value(values, i) / _multiple_value(values, i)
    return ratio


VALUATION = _reads(names.VALUATION, lambda v, i: v.equity, own_thresholds=_target_values)
VALUATION_UNSHOCKED = _reads(
    names.VALUATION_UNSHOCKED, lambda v, i: v.equity_unshocked, own_thresholds=_target_values
)
REVENUE = _reads(names.REVENUE, lambda v, i: v.revenue[:, i])
HHI = _reads(names.HHI, lambda v, i: v.hhi)
TOP_REGION_SHARE = _reads(names.TOP_REGION_SHARE, lambda v, i: v.top_region_share)
SHOCK_P_ANY = _reads(
    names.SHOCK_P_ANY, lambda v, i: v.shock_any[:, i].astype(np.float64), count=_shock_count
)
VALUE_PER_SHARE = _reads(
    names.VALUE_PER_SHARE,
    _vps,
    own_thresholds=lambda s: s.offering.price_range_usd if s.offering is not None else (),
)
MARKET_VALUE = _reads(
    names.MARKET_VALUE,
    _market_value,
    own_thresholds=_offer_thresholds,
    same_as={"fair": "valuation"},
)
"""Market value at a point in time: ``fair`` is the equity value (``valuation``),
``offer`` the offer price x shares after the offer. Its own thresholds are ``offer``'s
(``fair`` is read from ``valuation``'s stream)."""
PRE_OFFER = _reads(names.PRE_OFFER, _pre_offer, own_thresholds=_grid_thresholds)
"""Equity before the offer's proceeds at a price; its counts at the pricing grid's
thresholds are P(fair value per share at P >= P) (:func:`sim.model.offering.grid_thresholds`)."""
FIRST_DAY_RETURN = _reads(
    names.FIRST_DAY_RETURN, _first_day_return, own_thresholds=lambda s: (0.0,)
)
"""Day-1 close / offer price - 1 (:mod:`sim.model.aftermarket`); its own threshold 0 counts
the paths that close day 1 at or above the offer."""
OFFER_PRICE = _reads(names.OFFER_PRICE, _offer_price, own_thresholds=_offer_price_thresholds)
"""The offer price, USD per share (:func:`sim.model.offering.settle`); its thresholds count the
paths priced below the range, at or below its low, and at its high."""
UPSIZED = _reads(names.UPSIZED, _upsized, own_thresholds=_half)
"""1 where the path exercises the upsize (offer size adjustment option), else 0."""
GREENSHOE = _reads(names.GREENSHOE, _greenshoe, own_thresholds=_half)
"""1 where the path exercises the greenshoe (over-allotment option), else 0."""
DCF_VALUE = _reads(names.DCF_VALUE, _dcf_value)
"""The DCF's equity value (``valuation`` itself under ``dcf``; beside it under ``both``)."""
MULTIPLE_VALUE = _reads(names.MULTIPLE_VALUE, _multiple_value)
"""The EV/sales multiple's equity value under method ``both``."""
VALUE_RATIO = _reads(names.VALUE_RATIO, _value_ratio)
"""Under method ``both``: the DCF's equity value / the multiple's, per path."""
REGIME = _reads(names.REGIME, _regime, count=_regime_count)
"""Whether the path is in the named regime; its mean is P(regime) (DESIGN.md 3.4)."""

# In the names' order; a name without its reader fails here, at import.
METRICS: tuple[Metric, ...] = tuple(_READERS[n.pattern] for n in names.NAMES)
"""Every metric, in the order the engine streams them (:data:`sim.metric_names.NAMES`'s)."""


def find(name: str) -> Metric | None:
    """The registry entry whose pattern ``name`` fits, or None."""
    return next((m for m in METRICS if m.fill_of(name) is not None), None)


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
