"""``summarise(result) -> Summary``: the machine-readable results of DESIGN.md section 6.

A :class:`Summary` holds frozen dataclasses, one per block of ``summary.json``;
:meth:`Summary.to_dict` writes them in the schema's keys and order with the one
serialiser, :func:`sim.serial.serialise`, which also puts their money in the reporting
currency. More keys were added over time (``se`` and intervals everywhere, the quantile
method, value per share) but none renamed.

Names: the metric ``valuation`` of the scenario format and of ``summary.json`` is the
*equity value at listing* (enterprise value plus net cash plus IPO proceeds); inside the
code it is called ``equity`` (:attr:`Summary.equity`, ``Kept.equity``), because
"valuation" there names the method that produces it (:mod:`sim.valuation`,
``Scenario.valuation``).
"""

from __future__ import annotations

import datetime
import io
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar

import numpy as np
import numpy.typing as npt

from sim import format as fmt
from sim import metrics
from sim._version import __version__
from sim.analysis.dependence import GROUPING, GROUPING_OF_RANKS
from sim.analysis.expectations import ExpectationOutcome, check_expectation
from sim.analysis.results import (
    AftermarketSummary,
    ComparablesBand,
    ComparablesSummary,
    Concentration,
    Convergence,
    DealFigures,
    EquityValue,
    FirstDayReturn,
    MarketValue,
    Methods,
    OfferPrice,
    Precision,
    PricePoint,
    Quantiles,
    RegimeEstimate,
    RevenueYear,
    Run,
    RunWarning,
    SensitivityRow,
    ShockEstimate,
    ShockImpact,
    TargetEstimate,
    TargetOverTime,
    ValuePerShare,
)
from sim.analysis.sensitivity import sensitivity_rows, unexplained
from sim.csvcells import SafeWriter
from sim.distributions import Distribution
from sim.distributions.student import t_quantile
from sim.model.implied import dcf_inputs
from sim.model.offering import (
    break_even_shares,
    floor_price,
    grid_prices,
    grid_thresholds,
    proceeds_per_price,
    shares_after,
    shares_sold,
)
from sim.money import writes_chinese
from sim.run.engine import Kept, Result
from sim.run.sampling import BLOCK_SIZE
from sim.serial import PLAIN, Item, dataclass_items, serialise, spec
from sim.stats import (
    QUANTILE_LEVELS,
    proportion_se,
    quantiles,
    wilson_interval,
)
from sim.valuation.both import Both, mean_is_finite
from sim.valuation.comparables import INTERVAL
from sim.valuation.dcf import THIN_SPREAD, THIN_SPREAD_SHARE, Dcf
from sim.valuation.ev_to_sales import comparables_of

__all__ = [
    "AftermarketSummary",
    "ComparablesSummary",
    "Concentration",
    "Convergence",
    "DealFigures",
    "EquityValue",
    "FirstDayReturn",
    "MarketValue",
    "Methods",
    "OfferPrice",
    "Precision",
    "PricePoint",
    "Quantiles",
    "RegimeEstimate",
    "RevenueYear",
    "Run",
    "RunWarning",
    "SensitivityRow",
    "ShockEstimate",
    "ShockImpact",
    "Summary",
    "TargetEstimate",
    "ValuePerShare",
    "paired_loss",
    "summarise",
]


@dataclass(frozen=True, slots=True, eq=False)
class Summary:
    """A run's results as typed fields; :meth:`to_dict` gives the summary.json schema.

    Attributes
    ----------
    run : Run
        Provenance: scenario, version, seed, paths, sampler, timing, quantile method.
    equity : EquityValue
        The equity value at listing (summary.json's ``valuation``).
    targets : tuple of TargetEstimate
        One per scenario target, in the scenario's order.
    revenue : tuple of RevenueYear
        The base year, then each simulated year.
    concentration : Concentration
    shocks : tuple of ShockEstimate
    sensitivity : tuple of SensitivityRow
        Strongest first.
    expectations : tuple of ExpectationOutcome
        One per ``[[expect]]`` entry.
    precision : Precision or None
        With ``--precision`` only.
    shock_impact : ShockImpact or None
        For a scenario with shocks only.
    value_per_share : ValuePerShare or None
        For a scenario with an ``[offering]`` only.
    pricing : tuple of PricePoint
        The pricing grid, increasing prices; empty without an ``[offering]``.
    market_value : tuple of MarketValue
        ``fair``, and ``offer`` with an ``[offering]``; ``day1``, ``end`` and ``peak``
        with ``[aftermarket]``.
    offer_price : OfferPrice or None
        For a scenario with an ``[offering]`` only.
    methods : Methods or None
        Method ``both`` only: each method's value, their ratio and the primary.
    regimes : tuple of RegimeEstimate
        One per ``[[regimes]]`` entry, in the scenario's order; empty without regimes.
    first_day_return : FirstDayReturn or None
        For a scenario with ``[aftermarket]`` only.
    aftermarket : AftermarketSummary or None
        For a scenario with ``[aftermarket]`` only.
    currency, usd_per_unit : str, float
        The reporting currency (``[scenario] currency``) and its rate, USD per unit. Every
        amount above is held in USD; :meth:`to_dict` writes it in this currency (the
        fields marked money, :mod:`sim.serial`).
    chinese : bool
        Whether the scenario writes 亿 or 万: amounts in text (the expectations') carry
        their 万/亿 reading in a reporting currency other than USD only then.
    comparables : ComparablesSummary or None
        For a scenario with ``[comparables]`` only.
    deal : DealFigures or None
        The deal's arithmetic (shares, proceeds, break-even shares), for a scenario with
        an ``[offering]`` only; the pricing grid is built from it and the report reads it.
    convergence : Convergence or None
        Each target's probability as the paths accumulate (the report's appendix); not
        in summary.json (it grows with the run).

    warnings : tuple of RunWarning
        What the reader should know about the result (summary.json's ``warnings``,
        always present, empty when there is nothing to say).

    :func:`summarise` builds it from a :class:`~sim.run.engine.Result` alone, a reduction
    that never calls the model: what needs the model was computed by the run.
    """

    run: Run = field(metadata=spec(flatten=True))
    equity: EquityValue = field(metadata=spec(key="valuation"))
    targets: tuple[TargetEstimate, ...]
    revenue: tuple[RevenueYear, ...] = field(metadata=spec(keyed="year"))
    concentration: Concentration
    shocks: tuple[ShockEstimate, ...]
    sensitivity: tuple[SensitivityRow, ...]
    expectations: tuple[ExpectationOutcome, ...]
    precision: Precision | None = field(default=None, metadata=spec(omit="none"))
    shock_impact: ShockImpact | None = field(default=None, metadata=spec(omit="none"))
    value_per_share: ValuePerShare | None = field(default=None, metadata=spec(omit="none"))
    pricing: tuple[PricePoint, ...] = field(default=(), metadata=spec(omit="empty"))
    market_value: tuple[MarketValue, ...] = field(
        default=(), metadata=spec(omit="empty", keyed="at")
    )
    offer_price: OfferPrice | None = field(default=None, metadata=spec(omit="none"))
    methods: Methods | None = field(default=None, metadata=spec(omit="none"))
    regimes: tuple[RegimeEstimate, ...] = field(default=(), metadata=spec(omit="empty"))
    first_day_return: FirstDayReturn | None = field(default=None, metadata=spec(omit="none"))
    aftermarket: AftermarketSummary | None = field(default=None, metadata=spec(omit="none"))
    # The reporting currency is how the rest is written, not a block of its own: the
    # serialiser converts with it, and serial_fields writes it as the `currency` block.
    currency: str = field(default="USD", metadata=spec(omit="always"))
    usd_per_unit: float = field(default=1.0, metadata=spec(omit="always"))
    chinese: bool = field(default=True, metadata=spec(omit="always"))
    comparables: ComparablesSummary | None = field(default=None, metadata=spec(omit="none"))
    deal: DealFigures | None = field(default=None, metadata=spec(omit="none"))
    # One row per checkpoint for the convergence page: not written to summary.json.
    convergence: Convergence | None = field(default=None, metadata=spec(omit="always"))
    warnings: tuple[RunWarning, ...] = ()
    # How the sensitivity rows were made: grouped first-order shares, of the value or of
    # its rank (sim.analysis.dependence).
    sensitivity_method: str = GROUPING

    # summary.json gave offer_price before market_value before the fields were typed.
    serial_order: ClassVar[tuple[str, ...]] = (
        "run",
        "valuation",
        "targets",
        "revenue",
        "concentration",
        "shocks",
        "sensitivity",
        "sensitivity_method",
        "sensitivity_unexplained",
        "expectations",
        "precision",
        "shock_impact",
        "value_per_share",
        "pricing",
        "offer_price",
        "deal",
    )

    @property
    def failed(self) -> bool:
        """True when an ``[[expect]]`` entry failed (the run exits 1)."""
        return any(o.status == "failed" for o in self.expectations)

    def serial_fields(self) -> Iterator[Item]:
        """The fields, then (in a reporting currency other than USD) the ``currency``
        block that says how the money was converted."""
        yield from dataclass_items(self)
        # What the sensitivity rows leave to interactions: beside them, not a field of each.
        yield "sensitivity_unexplained", unexplained(self.sensitivity), PLAIN
        if self.currency != "USD":
            yield "currency", _currency_block(self.currency, self.usd_per_unit), PLAIN

    def to_dict(self) -> dict[str, Any]:
        """The summary.json schema (a new dict each call), money in :attr:`currency`."""
        # The expectations' text shows its amounts in the reporting currency, with a 亿
        # reading only where the scenario writes 亿 or 万 (as every other output).
        with fmt.shown_in(fmt.Currency(self.currency, self.usd_per_unit, self.chinese)):
            data: dict[str, Any] = serialise(
                self, currency=self.currency, usd_per_unit=self.usd_per_unit
            )
        return data

    def to_json(self) -> str:
        return json.dumps(_finite(self.to_dict()), indent=2, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        """One row per target (``kind`` target), then one per price of the pricing grid
        (``kind`` pricing: ``value_usd`` is the price per share in USD and ``p_at_least``
        P(fair value per share >= price); ``implied_target_margin`` is empty without DCF
        inputs and where no margin reaches the price).

        In a reporting currency other than USD (``eur`` for EUR), two columns follow, as
        summary.json's twins of its ``_usd`` keys: ``value_eur`` and ``market_value_eur``,
        the two USD columns converted at the ``[fx]`` rate; a USD run's file is as it was.
        """
        buf = io.StringIO()
        writer = SafeWriter(buf)
        twins = self.currency != "USD"
        suffix = self.currency.lower()

        def in_currency(*usd: float | None) -> list[str]:
            # The twin cells of a row, empty where the USD cell is.
            if not twins:
                return []
            return ["" if x is None else repr(x / self.usd_per_unit) for x in usd]

        writer.writerow(
            [
                "scenario",
                "label",
                "value_usd",
                "p_at_least",
                "ci95_low",
                "ci95_high",
                "se",
                "paths",
                "seed",
                "kind",
                "at",
                "price",
                "currency",
                "market_value_usd",
                "implied_ev_to_sales",
                "implied_target_margin",
                *([f"value_{suffix}", f"market_value_{suffix}"] if twins else []),
            ]
        )
        run = self.run
        for t in self.targets:
            writer.writerow(
                [
                    run.scenario,
                    t.label,
                    repr(t.value_usd),
                    *_probability_cells(t.p_at_least, t.ci95, t.se),
                    run.paths,
                    run.seed,
                    "target",
                    t.at,
                    "",
                    "",
                    "",
                    "",
                    "",
                    *in_currency(t.value_usd, None),
                ]
            )
        for p in self.pricing:
            writer.writerow(
                [
                    run.scenario,
                    f"price {p.price:.6g} {p.currency}",
                    repr(p.price_usd),
                    *_probability_cells(p.p_fair_at_least, p.ci95, p.se),
                    run.paths,
                    run.seed,
                    "pricing",
                    "fair",
                    repr(p.price),
                    p.currency,
                    repr(p.market_value_usd),
                    repr(p.implied_ev_to_sales),
                    "" if p.implied_target_margin is None else repr(p.implied_target_margin),
                    *in_currency(p.price_usd, p.market_value_usd),
                ]
            )
        return buf.getvalue()


def _currency_block(code: str, usd_per_unit: float) -> dict[str, Any]:
    """summary.json's ``currency`` block: which currency its money is in, and how."""
    suffix = code.lower()
    return {
        "code": code,
        "usd_per_unit": usd_per_unit,
        "note": f"every amount is in {code} (USD / usd_per_unit), its block saying "
        f'"currency": "{code}", except: a key ending in _usd keeps USD and is followed by '
        f"its twin ending in _{suffix}; offer_price and pricing[].price are per share in "
        "the offer currency their own currency key names",
    }


def _probability_cells(p: float, ci95: tuple[float, float], se: float) -> list[str]:
    return [f"{p:.6f}", f"{ci95[0]:.6f}", f"{ci95[1]:.6f}", f"{se:.6f}"]


def _finite(value: Any) -> Any:
    """JSON has no NaN: undefined numbers become null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value


def _quantiles(result: Result, metric: str) -> Quantiles:
    """A streamed metric's quantiles: exact when every path was kept, else from its sketch."""
    exact = metrics.per_path(result.scenario, result.kept.values, metric)
    if exact is not None and result.exact:
        return Quantiles.from_dict(quantiles(exact))
    sketch = result.streams[metrics.stream_name(metric)].sketch
    return Quantiles(QUANTILE_LEVELS, tuple(sketch.quantile(q) for q in QUANTILE_LEVELS))


def _target(
    label: str, value: float, written: str | None, count: int, n: int, at: str = "fair"
) -> TargetEstimate:
    return TargetEstimate(
        label, value, written, count / n, wilson_interval(count, n), proportion_se(count, n), at
    )


def paired_loss(kept: Kept) -> npt.NDArray[np.float64]:
    """The value each kept path with a shock event lost: 1 - value / value with shocks off.

    Paired: both values are the same path's, with its shocks on and switched off. Paths
    whose loss is undefined (worth 0 with shocks off) are left out.

    Returns
    -------
    (m,) array, one entry per kept path with an event and a finite loss.
    """
    hit = kept.values.shock_any.any(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        loss = 1 - kept.values.equity[hit] / kept.values.equity_unshocked[hit]
    return loss[np.isfinite(loss)]


def _shock_impact(result: Result, targets: tuple[TargetEstimate, ...]) -> ShockImpact:
    """What the shocks did: each target's probability with shocks off (every path), and the
    paired loss of the kept paths with an event (``median_loss``: None when none has one)."""
    n = result.paths
    kept = result.kept
    loss = paired_loss(kept)
    cut = None
    off_mean = float(kept.values.equity_unshocked.mean()) if loss.size else 0.0
    if off_mean != 0:
        # Over the kept paths, all of them: how much lower the mean is with shocks on.
        cut = 1 - float(kept.values.equity.mean()) / off_mean
    off = result.streams.get("valuation_unshocked")
    targets_off = None
    if off is not None:
        # Shocks switched off change the fair value; the offer follows it on each path
        # but is not streamed twice: the fair-value targets only (the others are named in
        # targets_left_out).
        targets_off = tuple(
            _target(t.label, t.value_usd, None, off.count_at_least(t.value_usd), n)
            for t in targets
            if t.at == "fair"
        )
    return ShockImpact(
        kept_paths=kept.n,
        kept_paths_with_loss=int(loss.size),
        median_loss=float(np.median(loss)) if loss.size else None,
        mean_value_cut=cut,
        targets_shocks_off=targets_off,
        targets_left_out=tuple(t.label for t in targets if t.at != "fair"),
    )


def _run(result: Result) -> Run:
    val = result.streams[metrics.VALUATION.name()]
    return Run(
        scenario=result.scenario.name,
        scenario_sha256=result.scenario.sha256,
        as_of=_iso(result.scenario.as_of),
        listing_date=_iso(result.scenario.listing_date),
        version=__version__,
        seed=result.seed,
        paths=result.paths,
        sampler=result.sampler,
        elapsed_s=result.elapsed_s,
        backend=result.backend,
        workers=result.workers,
        # LHS and Sobol lay out designs over whole blocks; paths of a short final block
        # are a random subset of a design and carry no stratification.
        stratified_paths=(
            0 if result.sampler == "random" else (result.paths // BLOCK_SIZE) * BLOCK_SIZE
        ),
        quantile_method="exact" if result.exact else "sketch",
        quantile_relative_error=0.0 if result.exact else val.sketch.alpha,
    )


def _iso(day: datetime.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _revenue(result: Result) -> tuple[RevenueYear, ...]:
    out = []
    for year in (result.scenario.base_year, *result.scenario.years):
        name = metrics.REVENUE.name(year)
        s = result.streams[name]
        q = _quantiles(result, name)
        out.append(RevenueYear(year, q.p5, q.median, q.p95, s.mean, s.se))
    return tuple(out)


def _value_per_share(result: Result, deal: DealFigures | None) -> ValuePerShare | None:
    offering = result.scenario.offering
    if offering is None or deal is None:
        return None
    vps = result.streams[metrics.VALUE_PER_SHARE.name()]
    lo, hi = deal.price_range_usd
    return ValuePerShare(
        shares_outstanding=deal.shares_after,
        mean=vps.mean,
        quantiles=_quantiles(result, metrics.VALUE_PER_SHARE.name()),
        offer_price_range_usd=(lo, hi),
        p_at_least_offer_low=vps.count_at_least(lo) / result.paths,
        p_at_least_offer_high=vps.count_at_least(hi) / result.paths,
        basis=(
            "equity value / shares outstanding"
            if offering.deal is None
            else "fair value per share at each path's offer price"
        ),
    )


def _median(dist: Distribution) -> float:
    return float(dist.ppf(np.array([0.5]))[0])


def _deal(result: Result) -> DealFigures | None:
    """The deal's arithmetic, once (:mod:`sim.model.offering`); ``None`` without an offering."""
    offering = result.scenario.offering
    if offering is None:
        return None
    lo, hi = offering.price_range_usd
    simple = DealFigures(
        form="simple",
        currency=offering.currency,
        usd_per_unit=offering.usd_per_unit,
        price_range_usd=(lo, hi),
        floor_price_usd=floor_price(offering),
        shares_after=shares_after(offering),
        break_even_shares=break_even_shares(offering),
        proceeds_per_price=proceeds_per_price(offering),
    )
    deal = offering.deal
    if deal is None:
        return simple
    sold = shares_sold(deal)
    net = simple.proceeds_per_price  # per unit of price, as the pricing grid's proceeds
    return replace(
        simple,
        form="deal",
        shares_before=float(deal.shares_before),
        new_shares=float(deal.new_shares),
        upsize_option=deal.upsize_option,
        over_allotment=deal.over_allotment,
        fees=deal.fees,
        shares_sold=sold,
        gross_proceeds_usd=(lo * sold, hi * sold),
        net_proceeds_usd=(lo * net, hi * net),
    )


def _pricing(
    result: Result, revenue: tuple[RevenueYear, ...], deal: DealFigures | None
) -> tuple[PricePoint, ...]:
    """The pricing grid: for each price, market value, implied EV and EV/sales (at the
    medians of net cash and valuation-year revenue), and P(fair per share >= price);
    the implied target margins are the run's
    (:attr:`sim.run.engine.Result.implied_target_margins`)."""
    scenario = result.scenario
    offering = scenario.offering
    if offering is None or deal is None:
        return ()
    n = result.paths
    stream = result.streams[metrics.PRE_OFFER.name()]
    cash = _median(scenario.valuation.net_cash) + _median(scenario.valuation.ipo_proceeds)
    sales = next(r.p50 for r in revenue if r.year == scenario.valuation.year)
    lo, hi = deal.price_range_usd
    prices = grid_prices(offering)
    dcf = dcf_inputs(scenario) is not None
    implied = result.implied_target_margins or (None,) * len(prices)
    out = []
    for price, threshold, margin in zip(prices, grid_thresholds(offering), implied, strict=True):
        count = stream.count_at_least(threshold)
        value = price * deal.shares_after
        proceeds = price * deal.proceeds_per_price
        ev = value - cash - proceeds
        out.append(
            PricePoint(
                price=price / offering.usd_per_unit,
                currency=offering.currency,
                price_usd=price,
                in_range=lo <= price <= hi,
                market_value_usd=value,
                net_proceeds_usd=proceeds,
                implied_ev_usd=ev,
                implied_ev_to_sales=ev / sales if sales > 0 else math.nan,
                p_fair_at_least=count / n,
                ci95=wilson_interval(count, n),
                se=proportion_se(count, n),
                dcf=dcf,
                implied_target_margin=margin,
            )
        )
    return tuple(out)


def _market_value(result: Result) -> tuple[MarketValue, ...]:
    out = []
    for name in metrics.MARKET_VALUE.names(result.scenario):
        fill = metrics.MARKET_VALUE.fill_of(name)
        assert fill is not None
        stream = result.streams[metrics.stream_name(name)]
        out.append(MarketValue(fill, stream.mean, stream.se, _quantiles(result, name)))
    return tuple(out)


def _offer_price(result: Result) -> OfferPrice | None:
    offering = result.scenario.offering
    if offering is None:
        return None
    name = metrics.OFFER_PRICE.name()
    stream = result.streams[name]
    per_unit = offering.usd_per_unit
    q = _quantiles(result, name)
    lo, hi = offering.price_range_usd
    n = result.paths
    at_low = stream.count_at_least(float(np.nextafter(lo, np.inf)))
    options: dict[str, float | None] = {"p_upsized": None, "p_greenshoe": None}
    if offering.deal is not None:
        for key, metric in (("p_upsized", metrics.UPSIZED), ("p_greenshoe", metrics.GREENSHOE)):
            options[key] = result.streams[metric.name()].count_at_least(0.5) / n
    return OfferPrice(
        currency=offering.currency,
        mean=stream.mean / per_unit,
        quantiles=Quantiles(q.levels, tuple(v / per_unit for v in q.values)),
        p_at_low=1 - at_low / n,
        p_at_high=stream.count_at_least(hi) / n,
        p_below_range=1 - stream.count_at_least(lo) / n,
        **options,
    )


def _equity_value(result: Result, metric: str) -> EquityValue:
    stream = result.streams[metrics.stream_name(metric)]
    return EquityValue(
        year=result.scenario.valuation.year,
        mean=stream.mean,
        sd=stream.sd,
        se=stream.se,
        quantiles=_quantiles(result, metric),
    )


def _methods(result: Result) -> Methods | None:
    """Method ``both``: each method's equity value and the quantiles of their ratio."""
    valuation = result.scenario.valuation
    if not isinstance(valuation, Both):
        return None
    return Methods(
        primary=valuation.primary,
        multiple=_equity_value(result, metrics.MULTIPLE_VALUE.name()),
        dcf=_equity_value(result, metrics.DCF_VALUE.name()),
        ratio=_quantiles(result, metrics.VALUE_RATIO.name()),
    )


def _first_day_return(result: Result) -> FirstDayReturn | None:
    if result.scenario.aftermarket is None:
        return None
    name = metrics.FIRST_DAY_RETURN.name()
    stream = result.streams[name]
    count, n = stream.count_at_least(0.0), result.paths
    return FirstDayReturn(
        stream.mean, stream.se, _quantiles(result, name), count / n, wilson_interval(count, n)
    )


def _aftermarket(result: Result) -> AftermarketSummary | None:
    am = result.scenario.aftermarket
    fan = result.fan
    if am is None or fan is None:
        return None
    n = result.paths
    rows = []
    for t in result.scenario.targets:
        p: dict[str, float] = {}
        se: dict[str, float] = {}
        for name in metrics.MARKET_VALUE.names(result.scenario):
            at = metrics.MARKET_VALUE.fill_of(name)
            assert at is not None
            count = result.streams[metrics.stream_name(name)].count_at_least(t.value_usd)
            p[at], se[at] = count / n, proportion_se(count, n)
        rows.append(TargetOverTime(t.label, t.value_usd, p, se))
    return AftermarketSummary(
        days=am.days,
        lockup_day=am.lockup_day,
        fan_days=fan.days,
        fan_levels=fan.levels,
        fan_values=fan.values,
        fan_paths=fan.paths,
        targets=tuple(rows),
    )


def summarise(result: Result) -> Summary:
    """Summarise a run: equity value, targets, revenue, concentration, shocks, sensitivity.

    Quantiles are exact sample quantiles when every path was kept, else read from the
    streaming sketch (relative error ``quantile_relative_error``).
    """
    scenario = result.scenario
    n = result.paths
    targets = tuple(
        _target(
            t.label,
            t.value_usd,
            t.text,
            result.streams[metrics.stream_name(metrics.target_metric(t))].count_at_least(
                t.value_usd
            ),
            n,
            t.at,
        )
        for t in scenario.targets
    )
    shocks = []
    for k, shock in enumerate(scenario.shocks):
        count = int(result.shock_counts[k])
        shocks.append(
            ShockEstimate(
                shock.name, count / n, wilson_interval(count, n), proportion_se(count, n)
            )
        )
    revenue = _revenue(result)
    deal = _deal(result)
    # A peer multiple (exp of a Student t) gives the value an infinite variance: its
    # variance shares are noise about 0, its rank's are not.
    of_ranks = not mean_is_finite(scenario.valuation)
    precision = None
    if result.precision is not None:
        precision = Precision(
            result.precision, result.max_half_width, result.max_half_width < result.precision
        )
    return Summary(
        run=_run(result),
        equity=_equity_value(result, metrics.VALUATION.name()),
        targets=targets,
        revenue=revenue,
        concentration=Concentration(
            year=scenario.valuation.year,
            hhi=_quantiles(result, metrics.HHI.name()),
            top_region_share=_quantiles(result, metrics.TOP_REGION_SHARE.name()),
            region_share_mean={
                r: float(result.region_share_sums[i] / n) for i, r in enumerate(scenario.regions)
            },
        ),
        shocks=tuple(shocks),
        sensitivity=sensitivity_rows(result, of_ranks=of_ranks),
        sensitivity_method=GROUPING_OF_RANKS if of_ranks else GROUPING,
        expectations=tuple(check_expectation(result, e) for e in scenario.expectations),
        precision=precision,
        shock_impact=_shock_impact(result, targets) if scenario.shocks else None,
        value_per_share=_value_per_share(result, deal),
        pricing=_pricing(result, revenue, deal),
        market_value=_market_value(result),
        offer_price=_offer_price(result),
        methods=_methods(result),
        regimes=_regimes(result),
        first_day_return=_first_day_return(result),
        aftermarket=_aftermarket(result),
        currency=scenario.currency,
        usd_per_unit=scenario.usd_per_unit,
        chinese=writes_chinese(scenario.raw),
        comparables=_comparables(result),
        deal=deal,
        convergence=_convergence(result),
        warnings=_warnings(result),
    )


def _convergence(result: Result) -> Convergence:
    """Each target's estimate and Wilson interval at every checkpoint of the run."""
    paths = np.asarray(result.checkpoints, dtype=np.int64)
    counts = np.asarray(result.target_counts, dtype=np.float64)
    n = paths.astype(np.float64)[:, None]
    low, high = wilson_interval(counts, n) if counts.size else (counts, counts)
    p = counts / n if counts.size else counts
    for a in (paths, p, low, high):
        a.setflags(write=False)
    return Convergence(paths=paths, p=p, low=low, high=high)


def _warnings(result: Result) -> tuple[RunWarning, ...]:
    """The run's warnings: a thin DCF terminal spread on more than 1% of the paths."""
    n, thin = result.paths, result.thin_spread_paths
    if n == 0 or thin <= THIN_SPREAD_SHARE * n:
        return ()
    share = thin / n
    method = result.scenario.valuation
    dcf = method.dcf if isinstance(method, Both) else method
    terminal = isinstance(dcf, Dcf) and dcf.terminal_wacc is not None
    wacc = "valuation.terminal_wacc" if terminal else "valuation.wacc"
    message = (
        f"the DCF's terminal {wacc} - valuation.terminal_growth is below "
        f"{THIN_SPREAD:.0%} on {thin:,} of {n:,} paths ({share:.1%}): there the terminal "
        "value is over 100 times the next year's cash flow and dominates the result; "
        "check that the cost of capital and the growth after the horizon are meant"
    )
    return (RunWarning("thin_terminal_spread", message, thin, share),)


#: Points of the comparables' fit line along growth.
BAND_POINTS = 61


def _comparables(result: Result) -> ComparablesSummary | None:
    """The peer fit, the kept paths' median multiple and growth, and the fit's band along
    growth (over the peers' growth and the paths' 1st to 99th percentiles)."""
    valuation = result.scenario.valuation
    peers = comparables_of(valuation)
    if peers is None:
        return None
    values = result.kept.values
    growth = values.valuation_growth
    assert growth is not None
    kept = result.kept.n > 0
    primary_dcf = isinstance(valuation, Both) and valuation.primary == "dcf"
    span = peers.growth[np.isfinite(peers.growth)]
    if kept:
        span = np.concatenate((span, np.quantile(growth, [0.01, 0.99])))
    lo, hi = (float(span.min()), float(span.max())) if span.size else (0.0, 1.0)
    pad = 0.05 * (hi - lo) if hi > lo else 0.5
    grid = np.linspace(lo - pad, hi + pad, BAND_POINTS)
    x0 = [np.ones_like(grid)]
    margin = None
    for name in peers.regressors:
        if name == "growth":
            x0.append(grid)
        else:  # gross_margin, at its median
            dist = valuation.scalar_inputs()[f"valuation.{name}"]
            margin = _median(dist)
            x0.append(np.full_like(grid, margin))
    loc, scale = peers.predictive(np.vstack(x0))
    t = t_quantile(0.5 + INTERVAL / 2.0, peers.df)
    band = ComparablesBand(
        level=INTERVAL,
        gross_margin=margin,
        growth=tuple(float(g) for g in grid),
        median=tuple(float(v) for v in np.exp(loc)),
        low=tuple(float(v) for v in np.exp(loc - t * scale)),
        high=tuple(float(v) for v in np.exp(loc + t * scale)),
    )
    return ComparablesSummary(
        fit=peers.to_dict(),
        multiple_median=float(np.median(values.multiple)) if kept and not primary_dcf else None,
        growth_median=float(np.median(growth)) if kept else math.nan,
        kept_paths=result.kept.n,
        band=band,
    )


def _regimes(result: Result) -> tuple[RegimeEstimate, ...]:
    """Each regime's probability (all paths), mean value (all paths) and value quantiles
    (the kept paths in it)."""
    n = result.paths
    regime = result.kept.values.regime
    equity = result.kept.values.equity
    out = []
    for k, r in enumerate(result.scenario.regimes):
        count = int(result.regime_counts[k])
        on = equity[regime == k] if regime is not None else equity[:0]
        out.append(
            RegimeEstimate(
                name=r.name,
                weight=r.weight,
                p=count / n,
                ci95=wilson_interval(count, n),
                se=proportion_se(count, n),
                mean=float(result.regime_value_sums[k] / count) if count else None,
                quantiles=Quantiles.from_dict(quantiles(on)) if on.size else None,
                kept_paths=int(on.size),
            )
        )
    return tuple(out)
