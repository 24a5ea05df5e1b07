"""``summarise(result) -> Summary``: the machine-readable results of DESIGN.md section 6.

A :class:`Summary` holds frozen dataclasses, one per block of ``summary.json``;
:meth:`Summary.to_dict` writes them in the schema's keys and order. More keys were added
over time (``se`` and intervals everywhere, the quantile method, value per share) but none
renamed.

Names: the metric ``valuation`` of the scenario format and of ``summary.json`` is the
*equity value at listing* (enterprise value plus net cash plus IPO proceeds); inside the
code it is called ``equity`` (:attr:`Summary.equity`, ``Kept.equity``), because
"valuation" there names the method that produces it (:mod:`sim.valuation`,
``Scenario.valuation``).
"""

from __future__ import annotations

import csv
import datetime
import io
import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sim import metrics
from sim._version import __version__
from sim.distributions import Distribution
from sim.engine import Kept, Result
from sim.expectations import ExpectationOutcome, check_expectation
from sim.offering import (
    grid_prices,
    grid_thresholds,
    net_proceeds,
    offer_thresholds,
    shares_after,
)
from sim.results import (
    Concentration,
    EquityValue,
    MarketValue,
    OfferPrice,
    Precision,
    PricePoint,
    Quantiles,
    RevenueYear,
    Run,
    SensitivityRow,
    ShockEstimate,
    ShockImpact,
    TargetEstimate,
    ValuePerShare,
)
from sim.sampling import BLOCK_SIZE
from sim.stats import QUANTILE_LEVELS, proportion_se, quantiles, spearman, wilson_interval

__all__ = [
    "Concentration",
    "EquityValue",
    "MarketValue",
    "OfferPrice",
    "Precision",
    "PricePoint",
    "Quantiles",
    "RevenueYear",
    "Run",
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
        ``fair``, and ``offer`` with an ``[offering]``.
    offer_price : OfferPrice or None
        For a scenario with an ``[offering]`` only.
    """

    run: Run
    equity: EquityValue
    targets: tuple[TargetEstimate, ...]
    revenue: tuple[RevenueYear, ...]
    concentration: Concentration
    shocks: tuple[ShockEstimate, ...]
    sensitivity: tuple[SensitivityRow, ...]
    expectations: tuple[ExpectationOutcome, ...]
    precision: Precision | None = None
    shock_impact: ShockImpact | None = None
    value_per_share: ValuePerShare | None = None
    pricing: tuple[PricePoint, ...] = ()
    market_value: tuple[MarketValue, ...] = ()
    offer_price: OfferPrice | None = None

    @property
    def failed(self) -> bool:
        """True when an ``[[expect]]`` entry failed (the run exits 1)."""
        return any(o.status == "failed" for o in self.expectations)

    def to_dict(self) -> dict[str, Any]:
        """The summary.json schema (a new dict each call)."""
        data = self.run.to_dict()
        data |= {
            "valuation": self.equity.to_dict(),
            "targets": [t.to_dict() for t in self.targets],
            "revenue": {str(r.year): r.to_dict() for r in self.revenue},
            "concentration": self.concentration.to_dict(),
            "shocks": [s.to_dict() for s in self.shocks],
            "sensitivity": [r.to_dict() for r in self.sensitivity],
            "expectations": [o.to_dict() for o in self.expectations],
        }
        if self.precision is not None:
            data["precision"] = self.precision.to_dict()
        if self.shock_impact is not None:
            data["shock_impact"] = self.shock_impact.to_dict()
        if self.value_per_share is not None:
            data["value_per_share"] = self.value_per_share.to_dict()
        if self.pricing:
            data["pricing"] = [p.to_dict() for p in self.pricing]
        if self.offer_price is not None:
            data["offer_price"] = self.offer_price.to_dict()
        if self.market_value:
            data["market_value"] = {m.at: m.to_dict() for m in self.market_value}
        return data

    def to_json(self) -> str:
        return json.dumps(_finite(self.to_dict()), indent=2, ensure_ascii=False) + "\n"

    def to_csv(self) -> str:
        """One row per target (``kind`` target), then one per price of the pricing grid
        (``kind`` pricing: ``value_usd`` is the price per share in USD and ``p_at_least``
        P(fair value per share >= price))."""
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
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
                ]
            )
        return buf.getvalue()


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


def _sensitivity(result: Result) -> tuple[SensitivityRow, ...]:
    """Spearman rank correlation of each drawn input with equity value, strongest first.

    First-order (variance-based) indices are not computed yet: ``first_order`` is None.
    """
    kept = result.kept
    names = list(kept.inputs)
    if not names or kept.n < 3:
        return ()
    rho = spearman(np.stack([kept.inputs[x] for x in names], axis=1), kept.values.equity)
    order = sorted(range(len(names)), key=lambda i: -abs(rho[i]) if math.isfinite(rho[i]) else 0.0)
    return tuple(SensitivityRow(names[i], float(rho[i])) for i in order)


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
        # but is not streamed twice: the fair-value targets only.
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


def _value_per_share(result: Result) -> ValuePerShare | None:
    offering = result.scenario.offering
    if offering is None:
        return None
    vps = result.streams[metrics.VALUE_PER_SHARE.name()]
    lo, hi = offering.price_range_usd
    return ValuePerShare(
        shares_outstanding=shares_after(offering),
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


def _pricing(result: Result, revenue: tuple[RevenueYear, ...]) -> tuple[PricePoint, ...]:
    """The pricing grid: for each price, market value, implied EV and EV/sales (at the
    medians of net cash and valuation-year revenue), and P(fair per share >= price)."""
    scenario = result.scenario
    offering = scenario.offering
    if offering is None:
        return ()
    n = result.paths
    stream = result.streams[metrics.PRE_OFFER.name()]
    shares = shares_after(offering)
    cash = _median(scenario.valuation.net_cash) + _median(scenario.valuation.ipo_proceeds)
    sales = next(r.p50 for r in revenue if r.year == scenario.valuation.year)
    lo, hi = offering.price_range_usd
    out = []
    for price, threshold in zip(grid_prices(offering), grid_thresholds(offering), strict=True):
        count = stream.count_at_least(threshold)
        value = price * shares
        proceeds = net_proceeds(offering, price)
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
    name = metrics.MARKET_VALUE.name("offer")
    stream = result.streams[name]
    per_unit = shares_after(offering) * offering.usd_per_unit
    q = _quantiles(result, name)
    above_low, at_high = (stream.count_at_least(t) for t in offer_thresholds(offering))
    return OfferPrice(
        currency=offering.currency,
        mean=stream.mean / per_unit,
        quantiles=Quantiles(q.levels, tuple(v / per_unit for v in q.values)),
        p_at_low=1 - above_low / result.paths,
        p_at_high=at_high / result.paths,
    )


def summarise(result: Result) -> Summary:
    """Summarise a run: equity value, targets, revenue, concentration, shocks, sensitivity.

    Quantiles are exact sample quantiles when every path was kept, else read from the
    streaming sketch (relative error ``quantile_relative_error``).
    """
    scenario = result.scenario
    n = result.paths
    val = result.streams[metrics.VALUATION.name()]
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
    precision = None
    if result.precision is not None:
        precision = Precision(
            result.precision, result.max_half_width, result.max_half_width < result.precision
        )
    return Summary(
        run=_run(result),
        equity=EquityValue(
            year=scenario.valuation.year,
            mean=val.mean,
            sd=val.sd,
            se=val.se,
            quantiles=_quantiles(result, metrics.VALUATION.name()),
        ),
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
        sensitivity=_sensitivity(result),
        expectations=tuple(check_expectation(result, e) for e in scenario.expectations),
        precision=precision,
        shock_impact=_shock_impact(result, targets) if scenario.shocks else None,
        value_per_share=_value_per_share(result),
        pricing=_pricing(result, revenue),
        market_value=_market_value(result),
        offer_price=_offer_price(result),
    )
