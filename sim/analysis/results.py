"""The typed pieces of a :class:`~sim.analysis.summary.Summary`, one per block of ``summary.json``.

Each is a frozen dataclass; its fields' metadata (:func:`sim.serial.spec`) says how
:func:`sim.serial.serialise` writes it in the schema's keys and order, and which of its
numbers are money (converted to a reporting currency). :func:`sim.analysis.summary.summarise`
builds them from a run.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from sim.serial import PLAIN, Item, Spec, spec


@dataclass(frozen=True, slots=True)
class Quantiles:
    """A metric's quantiles at :data:`sim.stats.QUANTILE_LEVELS` (or other levels).

    Attributes
    ----------
    levels : tuple of float
        Probabilities in (0, 1), increasing.
    values : tuple of float
        The quantile at each level, in the metric's unit.
    """

    levels: tuple[float, ...]
    values: tuple[float, ...]

    @classmethod
    def from_dict(cls, table: Mapping[str, float]) -> Quantiles:
        """From ``{"0.05": value, ...}`` (the summary.json form)."""
        return cls(tuple(float(k) for k in table), tuple(table.values()))

    def at(self, level: float) -> float:
        """The quantile at ``level`` (one of :attr:`levels`); KeyError otherwise."""
        for q, v in zip(self.levels, self.values, strict=True):
            if q == level:
                return v
        raise KeyError(f"no quantile at {level:g}")

    @property
    def p5(self) -> float:
        return self.at(0.05)

    @property
    def p25(self) -> float:
        return self.at(0.25)

    @property
    def median(self) -> float:
        return self.at(0.5)

    @property
    def p75(self) -> float:
        return self.at(0.75)

    @property
    def p95(self) -> float:
        return self.at(0.95)

    def serial_fields(self) -> Iterator[Item]:
        """Written as ``{"0.05": value, ...}``; money where the field holding it is."""
        for q, v in zip(self.levels, self.values, strict=True):
            yield f"{q:g}", v, PLAIN


@dataclass(frozen=True, slots=True)
class TargetEstimate:
    """P(equity value >= a target) over all paths, with its Wilson 95 % interval.

    ``written`` is the target as the scenario wrote it; None where summary.json leaves it
    out (the shock-off probabilities of ``shock_impact``).
    """

    label: str
    value_usd: float = field(metadata=spec(money=True))
    written: str | None = field(metadata=spec(omit="none"))
    p_at_least: float
    ci95: tuple[float, float]
    se: float
    at: str = "fair"

    serial_order: ClassVar[tuple[str, ...]] = ("label", "value_usd", "written", "at")


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One price of the pricing grid (DESIGN.md 3.2) and what the run says about it.

    Attributes
    ----------
    price : float
        Per share, in the offer currency (:attr:`currency`).
    price_usd : float
        The same price in USD.
    in_range : bool
        Whether the price lies in the offer's price range.
    market_value_usd : float
        ``price x shares after the offer``.
    net_proceeds_usd : float
        Net proceeds at this price (0 in the simple form, whose proceeds are fixed).
    implied_ev_usd : float
        Market value less the median net cash and the net proceeds (the simple form's
        median IPO proceeds).
    implied_ev_to_sales : float
        Implied EV / the median revenue of the valuation year.
    p_fair_at_least : float
        P(fair value per share at this price >= this price), counted exactly.
    dcf : bool
        Whether the scenario has DCF inputs (then :attr:`implied_target_margin` is in
        summary.json, ``null`` where unreachable).
    implied_target_margin : float or None
        The target margin at which the DCF fair value per share at the medians equals
        this price (:mod:`sim.model.implied`); ``None`` when no margin in -100%..100% reaches
        it, or without DCF inputs.
    """

    price: float
    currency: str
    price_usd: float = field(metadata=spec(money=True))
    in_range: bool
    market_value_usd: float = field(metadata=spec(money=True))
    net_proceeds_usd: float = field(metadata=spec(money=True))
    implied_ev_usd: float = field(metadata=spec(money=True))
    implied_ev_to_sales: float
    p_fair_at_least: float
    ci95: tuple[float, float]
    se: float
    dcf: bool = field(default=False, metadata=spec(omit="always"))
    implied_target_margin: float | None = field(
        default=None, metadata=spec(omit=lambda p: not p.dcf)
    )


@dataclass(frozen=True, slots=True)
class MarketValue:
    """Market value (USD) at one point in time (``at``): quantiles and mean.

    ``fair`` is the equity value; ``offer`` the offer price x shares after the offer.
    """

    at: str = field(metadata=spec(omit="always"))
    mean: float = field(metadata=spec(money=True))
    se: float = field(metadata=spec(money=True))
    quantiles: Quantiles = field(metadata=spec(money=True))

    serial_order: ClassVar[tuple[str, ...]] = ("quantiles",)


@dataclass(frozen=True, slots=True)
class FirstDayReturn:
    """The first-day return, day-1 close / offer price - 1, over the paths.

    ``p_at_least_offer`` is the share of paths whose day-1 close is at or above the offer
    price (a return of 0 or more), with its Wilson 95 % interval.
    """

    mean: float
    se: float
    quantiles: Quantiles
    p_at_least_offer: float
    ci95: tuple[float, float]

    serial_order: ClassVar[tuple[str, ...]] = ("quantiles",)


@dataclass(frozen=True, slots=True)
class TargetOverTime:
    """One target's probability at each point in time: ``fair``, ``offer``, ``day1``,
    ``end``, ``peak`` (P(market value there >= the target)), each with its SE."""

    label: str
    value_usd: float = field(metadata=spec(money=True))
    p_at_least: Mapping[str, float]
    se: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class AftermarketSummary:
    """After listing: the fan of market value and each target at each point in time.

    ``fan_values[i][j]`` is the ``fan_levels[j]`` quantile of market value (USD)
    ``fan_days[i]`` trading days after day 1 (day 0 is the day-1 close), exact mixtures
    over the first ``fan_paths`` paths (:func:`sim.model.aftermarket.fan`).
    """

    days: int
    lockup_day: int | None
    fan_days: tuple[int, ...]
    fan_levels: tuple[float, ...]
    fan_values: tuple[tuple[float, ...], ...]
    fan_paths: int
    targets: tuple[TargetOverTime, ...]

    @property
    def fan(self) -> Fan:
        """The fan as summary.json writes it: one list over :attr:`fan_days` per level."""
        return Fan(
            self.fan_paths,
            self.fan_days,
            {
                f"{q:g}": tuple(row[j] for row in self.fan_values)
                for j, q in enumerate(self.fan_levels)
            },
        )

    def serial_fields(self) -> Iterator[Item]:
        yield "days", self.days, PLAIN
        yield "lockup_day", self.lockup_day, PLAIN
        yield "fan", self.fan, PLAIN
        yield "targets", self.targets, PLAIN


@dataclass(frozen=True, slots=True)
class Fan:
    """The aftermarket fan: ``quantiles[level][i]`` is that quantile of market value
    (USD) ``days[i]`` trading days after day 1, over the first ``paths`` paths."""

    paths: int
    days: tuple[int, ...]
    quantiles: Mapping[str, tuple[float, ...]] = field(metadata=spec(money=True))


@dataclass(frozen=True, slots=True)
class OfferPrice:
    """The offer price over the paths, ``clip(fair x (1 - ipo_discount), floor, high)``
    (:func:`sim.model.offering.settle`), and the options the paths exercise.

    ``quantiles`` and ``mean`` are per share in the offer currency; ``p_at_low`` is the
    share of paths priced at the range's low or below it, ``p_below_range`` the share
    below it (only with a downward adjustment), ``p_at_high`` the share at its high;
    ``p_upsized`` and ``p_greenshoe`` the shares of paths exercising the upsize and the
    greenshoe (``None`` in the simple form, which has no options).
    """

    currency: str
    mean: float
    quantiles: Quantiles
    p_at_low: float
    p_at_high: float
    p_below_range: float = 0.0
    p_upsized: float | None = None
    p_greenshoe: float | None = None


@dataclass(frozen=True, slots=True)
class EquityValue:
    """The equity value at listing, USD (the metric ``valuation``): moments and quantiles.

    ``mean``, ``sd`` and ``se`` are over every path of the run: ``sd`` is the sample
    standard deviation with ddof=1 (divided by paths - 1), ``se = sd / sqrt(paths)`` the
    standard error of the mean.
    """

    year: int
    mean: float = field(metadata=spec(money=True))
    sd: float = field(metadata=spec(money=True))
    se: float = field(metadata=spec(money=True))
    quantiles: Quantiles = field(metadata=spec(money=True))
    currency: str = field(default="USD", metadata=spec(currency=True))

    serial_order: ClassVar[tuple[str, ...]] = ("currency",)


@dataclass(frozen=True, slots=True)
class Methods:
    """Method ``both``: each method's equity value and their ratio, path by path.

    Attributes
    ----------
    primary : str
        ``"multiple"`` or ``"dcf"``: the one the run's ``valuation`` (targets, offer
        price, pricing, expectations) is.
    multiple, dcf : EquityValue
        The equity value by the EV/sales multiple and by the DCF (metrics
        ``multiple_value`` and ``dcf_value``).
    ratio : Quantiles
        The DCF's equity value / the multiple's on the same path (``dcf_to_multiple``).
    """

    primary: str
    multiple: EquityValue
    dcf: EquityValue
    ratio: Quantiles = field(
        metadata=spec(key="dcf_to_multiple", shape=lambda q: {"quantiles": q})
    )


@dataclass(frozen=True, slots=True)
class RevenueYear:
    """One year's total revenue, USD: 5 %, 50 % and 95 % quantiles, mean and its se."""

    year: int = field(metadata=spec(omit="always"))
    p5: float = field(metadata=spec(money=True))
    p50: float = field(metadata=spec(money=True))
    p95: float = field(metadata=spec(money=True))
    mean: float = field(metadata=spec(money=True))
    se: float = field(metadata=spec(money=True))


@dataclass(frozen=True, slots=True)
class Concentration:
    """Regional concentration in the valuation year: HHI, top region's share, mean shares."""

    year: int
    hhi: Quantiles
    top_region_share: Quantiles
    region_share_mean: Mapping[str, float]


@dataclass(frozen=True, slots=True)
class ShockEstimate:
    """P(a shock strikes at least once over the horizon), with its Wilson 95 % interval."""

    name: str
    p_any: float
    ci95: tuple[float, float]
    se: float


@dataclass(frozen=True, slots=True)
class RegimeEstimate:
    """One market regime (DESIGN.md 3.4): its probability and the value on its paths.

    Attributes
    ----------
    name : str
    weight : float
        The probability the scenario gives it.
    p : float
        The share of paths in the regime, with its Wilson 95 % interval and standard error.
    mean : float or None
        Mean equity value (USD) over every path of the run in the regime; None when none is.
    quantiles : Quantiles or None
        Equity value quantiles (USD) over the kept paths in the regime (every path when
        the run kept them all); None when no kept path is in it.
    kept_paths : int
        Kept paths in the regime.
    """

    name: str
    weight: float
    p: float
    ci95: tuple[float, float]
    se: float
    mean: float | None = field(metadata=spec(money=True))
    quantiles: Quantiles | None = field(metadata=spec(money=True))
    kept_paths: int


@dataclass(frozen=True, slots=True)
class ShockImpact:
    """What the shocks did to the value.

    Attributes
    ----------
    kept_paths : int
        Kept paths the losses are measured on.
    kept_paths_with_loss : int
        Of them, those with a shock event and a defined loss.
    median_loss : float or None
        Median paired loss ``1 - value / value with shocks off``; None when no path has one.
    mean_value_cut : float or None
        ``1 - mean value / mean value with shocks off`` over the kept paths; None when
        undefined.
    targets_shocks_off : tuple of TargetEstimate, or None
        Each fair-value target's probability with shocks switched off (every path); None
        when the run did not count them.
    targets_left_out : tuple of str
        The labels of the targets read at a market value (``offer``, ``day1``, ``end``,
        ``peak``), which ``targets_shocks_off`` leaves out: the engine values each path
        with shocks off at fair value only (:data:`LEFT_OUT_WHY`).
    """

    kept_paths: int
    kept_paths_with_loss: int
    median_loss: float | None
    mean_value_cut: float | None
    targets_shocks_off: tuple[TargetEstimate, ...] | None = field(metadata=spec(omit="none"))
    targets_left_out: tuple[str, ...] = field(
        default=(), metadata=spec(omit="empty", shape=lambda labels: _left_out(labels))
    )


LEFT_OUT_WHY = (
    "the engine keeps each path's value with shocks switched off at fair value only; the "
    "offer price and the market values after it (day1, end, peak) are computed once, with "
    "the shocks, so targets read at them have no probability with shocks off"
)
"""Why the shock impact leaves out targets read at a market value."""


def _left_out(labels: list[str]) -> dict[str, Any]:
    return {"labels": labels, "why": LEFT_OUT_WHY}


@dataclass(frozen=True, slots=True)
class SensitivityRow:
    """One driver of the equity value: a random input, or a shock's event indicator.

    ``rank_correlation`` is Spearman's with the value; ``first_order`` the first-order
    variance-based (Sobol) index, the share of the value's variance that the driver
    explains alone, with a bootstrap 95% interval ``first_order_ci95``
    (:func:`sim.stats.first_order_bootstrap`); ``swing_usd`` the mean value over the paths
    in the driver's bottom and top decile, USD (for an event indicator: without and with
    an event). Undefined numbers (a driver that does not vary over the kept paths) are NaN.

    A row may be a group of drivers that depend on each other (a regime and the inputs it
    overrides, correlated inputs: :mod:`sim.analysis.dependence`): ``inputs`` names them,
    ``input`` joins them with " + ", ``first_order`` is the group's, taken together;
    its rank correlation and its swing are the value's against its joint bins' mean value
    (:func:`sim.stats.sensitivity`). ``inputs`` is ``(input,)`` for a single driver.
    """

    input: str
    rank_correlation: float
    first_order: float = math.nan
    first_order_ci95: tuple[float, float] = (math.nan, math.nan)
    swing_usd: tuple[float, float] = field(default=(math.nan, math.nan), metadata=spec(money=True))
    inputs: tuple[str, ...] = ()

    @property
    def members(self) -> tuple[str, ...]:
        """The drivers of the row: ``inputs``, or the one ``input``."""
        return self.inputs or (self.input,)

    def serial_fields(self) -> Iterator[Item]:
        """``inputs`` written as :attr:`members` (a single driver's too), after ``input``."""
        yield "input", self.input, PLAIN
        yield "inputs", self.members, PLAIN
        yield "rank_correlation", self.rank_correlation, PLAIN
        yield "first_order", self.first_order, PLAIN
        yield "first_order_ci95", self.first_order_ci95, PLAIN
        yield "swing_usd", self.swing_usd, Spec(money=True)


@dataclass(frozen=True, slots=True)
class DealFigures:
    """The deal's arithmetic (DESIGN.md 3.2, :mod:`sim.model.offering`), worked out once: the
    summary's pricing grid and every page of the report read it from here.

    Money in USD; prices per share in USD (``currency`` and ``usd_per_unit`` turn them
    into the offer currency). The counts are with both options exercised, the
    prospectus' figures and the most there can be (which options each path exercises is
    in :class:`OfferPrice`).

    Attributes
    ----------
    form : {"deal", "simple"}
        ``deal`` where ``[offering]`` gives the deal (``shares_before``, ``new_shares``
        ...), ``simple`` for ``shares_outstanding`` with fixed ``valuation.ipo_proceeds``.
    currency : str
        The offer currency.
    usd_per_unit : float
        USD per unit of the offer currency.
    price_range_usd : (float, float)
        The price range's low and high.
    floor_price_usd : float
        The lowest offer price: low x (1 - downward_adjustment).
    shares_after : float
        Shares outstanding after the offer (``shares_outstanding`` in the simple form).
    break_even_shares : float
        ``N - a``: the fair value per share at a price P is at least P exactly when the
        equity before the offer is at least P x this
        (:func:`sim.model.offering.break_even_shares`).
    proceeds_per_price : float
        ``a``: net proceeds per unit of offer price (0 in the simple form).
    shares_before, new_shares, upsize_option, over_allotment, fees : float or None
        The deal as the scenario gives it; ``None`` in the simple form.
    shares_sold : float or None
        ``new_shares x (1 + upsize_option) x (1 + over_allotment)``; ``None`` in the
        simple form.
    gross_proceeds_usd, net_proceeds_usd : (float, float) or None
        Price x shares sold at the range's low and high, and the same net of fees;
        ``None`` in the simple form (its proceeds are ``valuation.ipo_proceeds``).
    """

    form: str
    currency: str
    usd_per_unit: float
    price_range_usd: tuple[float, float] = field(metadata=spec(money=True))
    floor_price_usd: float = field(metadata=spec(money=True))
    shares_after: float
    break_even_shares: float
    proceeds_per_price: float
    shares_before: float | None = None
    new_shares: float | None = None
    upsize_option: float | None = None
    over_allotment: float | None = None
    fees: float | None = None
    shares_sold: float | None = None
    gross_proceeds_usd: tuple[float, float] | None = field(default=None, metadata=spec(money=True))
    net_proceeds_usd: tuple[float, float] | None = field(default=None, metadata=spec(money=True))


@dataclass(frozen=True, slots=True, eq=False)
class Convergence:
    """Each target's probability as the paths accumulate (the report's appendix).

    Not in summary.json: it has a row per :data:`sim.run.engine.CHECKPOINT` paths, so it
    grows with the run (summary.json's ``targets`` give the final estimates).

    Attributes
    ----------
    paths : (C,) int
        Paths run at each checkpoint, increasing.
    p : (C, targets)
        Each target's P(value >= target) after those paths.
    low, high : (C, targets)
        Its 95% Wilson interval there.
    """

    paths: npt.NDArray[np.int64]
    p: npt.NDArray[np.float64]
    low: npt.NDArray[np.float64]
    high: npt.NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class ValuePerShare:
    """Equity value per share, USD, against the offer price range.

    ``shares_outstanding`` is the shares after the offer; ``basis`` says what the value
    is: the equity value over them in the simple form, the fair value per share at each
    path's offer price with the deal.
    """

    shares_outstanding: float
    mean: float = field(metadata=spec(money=True))
    quantiles: Quantiles = field(metadata=spec(money=True))
    offer_price_range_usd: tuple[float, float] = field(metadata=spec(money=True))
    p_at_least_offer_low: float
    p_at_least_offer_high: float
    currency: str = field(default="USD", metadata=spec(currency=True))
    basis: str = "equity value / shares outstanding"

    serial_order: ClassVar[tuple[str, ...]] = ("currency", "basis")


@dataclass(frozen=True, slots=True)
class Precision:
    """The ``--precision`` rule: the half-width asked for and the largest one reached."""

    requested: float
    max_half_width: float
    reached: bool


@dataclass(frozen=True, slots=True)
class Run:
    """Where a summary came from: the scenario, the code, the seed and how it ran.

    ``backend``: where the blocks ran, ``"serial"`` (this process), ``"process"`` (local
    worker processes), ``"dask"`` (a dask.distributed cluster) or ``"executor"`` (a
    caller's executor); ``workers``: how many blocks ran at once there.
    ``stratified_paths``: the paths an LHS or Sobol design stratified (whole blocks);
    ``quantile_method``: ``"exact"`` when every path was kept, else ``"sketch"`` with
    relative error ``quantile_relative_error``. ``as_of`` and ``listing_date``: the
    scenario's information date and listing date (ISO ``YYYY-MM-DD``), ``None`` when not
    given.
    """

    scenario: str
    scenario_sha256: str
    as_of: str | None
    listing_date: str | None
    version: str
    seed: int
    paths: int
    sampler: str
    elapsed_s: float
    backend: str
    workers: int
    stratified_paths: int
    quantile_method: str
    quantile_relative_error: float


@dataclass(frozen=True, slots=True)
class ComparablesBand:
    """The fit line and its predictive band along growth (the report's comparables page).

    At each ``growth`` (a simple rate) and the scenario's median gross margin (when it is
    a regressor), the predictive multiple's median ``exp(x0'b)`` and its central
    ``level`` interval ``exp(x0'b -+ t * scale(x0))``; before any ``multiple_shift``,
    penalty or shock hit.
    """

    level: float
    gross_margin: float | None
    growth: tuple[float, ...]
    median: tuple[float, ...] = field(metadata=spec(key="multiple_median"))
    low: tuple[float, ...] = field(metadata=spec(key="multiple_low"))
    high: tuple[float, ...] = field(metadata=spec(key="multiple_high"))


@dataclass(frozen=True, slots=True)
class ComparablesSummary:
    """The ``comparables`` block: the peer regression and where the run's paths sit on it.

    Attributes
    ----------
    fit : mapping
        :meth:`sim.valuation.comparables.Comparables.to_dict`: n, df, coefficients with
        their 90% intervals, residual sd, R², the peers.
    multiple_median : float or None
        The median EV/sales multiple of the kept paths (after shift, penalty and shock
        hits); None where the primary method is the DCF.
    growth_median : float
        The median of the paths' revenue growth into the valuation year before shocks.
    kept_paths : int
        The paths the two medians are read from.
    band : ComparablesBand
    """

    fit: Mapping[str, Any] = field(metadata=spec(flatten=True))
    multiple_median: float | None
    growth_median: float
    kept_paths: int
    band: ComparablesBand


@dataclass(frozen=True, slots=True)
class RunWarning:
    """Something about a run's result its reader should know: summary.json's
    ``warnings`` list (empty when there is none), printed on stderr and in summary.txt.

    Attributes
    ----------
    kind : str
        What it is about, stable for programs: ``"thin_terminal_spread"`` (a DCF's
        terminal ``wacc - g`` below 1 point on more than 1% of the paths).
    message : str
        One line for people, naming the keys to look at.
    paths : int
        The paths it concerns (counted over the whole run).
    share : float
        ``paths`` over the run's paths.
    """

    kind: str
    message: str
    paths: int
    share: float
