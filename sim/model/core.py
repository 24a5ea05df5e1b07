"""The model (DESIGN.md section 3): draws -> revenue paths, shares, shocks -> valuation.

Pure functions over arrays shaped ``(paths, ...)``; the only loops are over years, segments
and shocks, never over paths. :func:`inputs` declares every random input the model
consumes; :func:`evaluate` turns one block of draws into :class:`PathValues`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Final, Literal, TypeAlias

import numpy as np
import numpy.typing as npt

from sim.model.aftermarket import first_day_log_return, greenshoe_rule, walk, walk_dims
from sim.model.offering import GreenshoeRule, Settlement, floor_price, proceeds_per_price, settle
from sim.scenario import Scenario
from sim.scenario.types import REGIME_INPUT, growth_entry
from sim.valuation import Paths, clean_growth
from sim.valuation.ev_to_sales import comparables_of

__all__ = [
    "InputKind",
    "InputSpec",
    "PathValues",
    "equity_claims",
    "evaluate",
    "greenshoe_rule_of",
    "input_summaries",
    "inputs",
    "limited",
    "runway_cash",
    "segment_revenue",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

# How an input's values are made from its keyed stream (see sim.run.sampling).
InputKind: TypeAlias = Literal["scalar", "normal", "uniform", "dirichlet"]
SCALAR: Final = "scalar"  # one value per path through the marginal's inverse CDF (copula-able)
NORMAL: Final = "normal"  # `dim` standard normals per path (yearly growth noise)
UNIFORM: Final = "uniform"  # `dim` uniforms per path (event indicators)
DIRICHLET: Final = "dirichlet"  # one Dirichlet(alpha) vector per path (regional shares)


@dataclass(frozen=True, slots=True, eq=False)
class InputSpec:
    """One random input the model consumes.

    Parameters
    ----------
    name : str
        Stable name; keys the input's random stream (``"segments.talkie.growth"``).
    kind : str
        ``"scalar"``, ``"normal"``, ``"uniform"`` or ``"dirichlet"``.
    dim : int
        Values per path (1 for scalars; years for noise/events; regions for Dirichlet).
    alpha : tuple of float
        Dirichlet concentration per component (only for ``"dirichlet"``).
    """

    name: str
    kind: InputKind
    dim: int = 1
    alpha: tuple[float, ...] = ()


@dataclass(frozen=True, slots=True, eq=False)
class PathValues:
    """The model's outputs for a block of paths (all money in USD).

    Attributes
    ----------
    equity : (n,) equity value at listing.
    equity_unshocked : (n,) the same paths with every shock switched off.
    revenue : (n, horizon + 1) total revenue, base year first.
    segment_revenue : (n, segments, horizon + 1) revenue by segment after shocks.
    region_shares : (n, regions) shares of total revenue at the valuation year.
    hhi : (n,) Herfindahl index of the regional shares at the valuation year.
    top_region_share : (n,) the largest regional share at the valuation year.
    multiple : (n,) EV/sales multiple after adjustments.
    shock_any : (n, shocks) an event up to and including the valuation year.
    value_per_share : (n,) equity / shares after the offer (with the deal, the fair value
        per share at the path's offer price), or ``None`` without an offering.
    pre_offer : (n,) equity before the offer's proceeds at a price: EV + net cash (plus
        the simple form's fixed proceeds); ``None`` without an offering.
    offer_price_usd : (n,) the offer price, USD per share (:func:`sim.model.offering.settle`;
        summary.json's ``offer_price`` is per share in the offer currency); ``None``
        without an offering.
    market_value_offer : (n,) offer price x shares after the offer; ``None`` without an
        offering.
    shares_after : (n,) shares outstanding after the offer with the options the path
        exercises; ``None`` without an offering.
    upsized, greenshoe : (n,) 1.0 where the path exercises the upsize (at pricing) or the
        greenshoe (after day 1), else 0.0 (:func:`sim.model.offering.settle`); ``None``
        without an offering.
    equity_dcf : (n,) the DCF's equity value at listing (with an offering, at the offer
        price the DCF's value gives); ``None`` unless the method is ``dcf`` or ``both``.
    equity_multiple : (n,) the same by the EV/sales multiple; ``None`` unless the method
        is ``both``.
    valuation_growth : (n,) total revenue growth into the valuation year before shocks
        (a simple rate), the comparables' regressor ``growth``; ``None`` without
        ``[comparables]``.
    regime : (n,) int, the index of the path's regime in ``Scenario.regimes``; ``None``
        without regimes.
    market_value_day1, market_value_end, market_value_peak : (n,) with ``[aftermarket]``:
        market value at the day-1 close, after ``days`` trading days, and at the highest
        daily close (:mod:`sim.model.aftermarket`); ``None`` without.
    first_day_return : (n,) day-1 close / offer price - 1; ``None`` without.
    walk : (n, 3) with ``[aftermarket]``: each path's volatility, drift and lock-up drop
        (0 without a lock-up), which with the day-1 value give its market value's law on
        any later day (:func:`sim.model.aftermarket.fan`); ``None`` without.
    """

    equity: FloatArray
    equity_unshocked: FloatArray
    revenue: FloatArray
    segment_revenue: FloatArray
    region_shares: FloatArray
    hhi: FloatArray
    top_region_share: FloatArray
    multiple: FloatArray
    shock_any: BoolArray
    value_per_share: FloatArray | None
    pre_offer: FloatArray | None = None
    offer_price_usd: FloatArray | None = None
    market_value_offer: FloatArray | None = None
    shares_after: FloatArray | None = None
    upsized: FloatArray | None = None
    greenshoe: FloatArray | None = None
    equity_dcf: FloatArray | None = None
    equity_multiple: FloatArray | None = None
    valuation_growth: FloatArray | None = None
    regime: npt.NDArray[np.int64] | None = None
    market_value_day1: FloatArray | None = None
    market_value_end: FloatArray | None = None
    market_value_peak: FloatArray | None = None
    first_day_return: FloatArray | None = None
    walk: FloatArray | None = None


def inputs(scenario: Scenario) -> tuple[InputSpec, ...]:
    """Every random input of ``scenario``, in a stable order.

    Scalar inputs whose distribution is a point mass are still listed (the sampler skips
    their streams), so that the model sees every name.
    """
    horizon = scenario.horizon
    specs = [InputSpec(name, SCALAR) for name in scenario.scalar_inputs()]
    for seg in scenario.segments:
        if seg.volatility > 0:
            specs.append(InputSpec(f"segments.{seg.name}.noise", NORMAL, horizon))
        if seg.region_concentration is not None:
            kappa = seg.region_concentration
            specs.append(
                InputSpec(
                    f"segments.{seg.name}.regions",
                    DIRICHLET,
                    len(seg.shares),
                    tuple(kappa * w for w in seg.shares),
                )
            )
            if seg.shares_at_horizon is not None:
                specs.append(
                    InputSpec(
                        f"segments.{seg.name}.regions_at_horizon",
                        DIRICHLET,
                        len(seg.shares),
                        tuple(kappa * w for w in seg.shares_at_horizon),
                    )
                )
    for shock in scenario.shocks:
        specs.append(InputSpec(f"shocks.{shock.name}.events", UNIFORM, horizon))
    if scenario.aftermarket is not None:
        specs.append(InputSpec("aftermarket.walk", UNIFORM, walk_dims(scenario.aftermarket)))
    return tuple(specs)


def input_summaries(scenario: Scenario, draws: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
    """A scalar per path for each multi-dimensional input, for the sensitivity analysis.

    - ``segments.<s>.noise`` (horizon, n): the segment's log-revenue shock to the
      valuation year, ``volatility * sum of its noise in years 1..valuation``: the whole
      effect of the noise on that year's revenue.
    - ``segments.<s>.regions`` and ``.regions_at_horizon`` (regions, n): the share of the
      region with the largest base weight (the first such region on a tie), the one whose
      share moves the concentration most.

    Shock events are summarised by the model's own ``shock_any`` (an event to the
    valuation year), not here.

    Returns
    -------
    dict of input name -> (n,) array; inputs the scenario does not draw are left out.
    """
    row = scenario.valuation.year - scenario.base_year
    out: dict[str, FloatArray] = {}
    for seg in scenario.segments:
        key = f"segments.{seg.name}"
        noise = draws.get(f"{key}.noise")
        if noise is not None:
            out[f"{key}.noise"] = seg.volatility * noise[:row].sum(axis=0)
        for suffix, weights in (
            ("regions", seg.shares),
            ("regions_at_horizon", seg.shares_at_horizon),
        ):
            shares = draws.get(f"{key}.{suffix}")
            if shares is not None and weights is not None:
                out[f"{key}.{suffix}"] = shares[int(np.argmax(weights))]
    return out


def _shares(
    scenario: Scenario, draws: Mapping[str, FloatArray]
) -> list[tuple[FloatArray, FloatArray]]:
    """Per segment, the base-year and horizon shares, each shaped (regions, n or 1)."""
    out = []
    for seg in scenario.segments:
        drawn = draws.get(f"segments.{seg.name}.regions")
        base = drawn if drawn is not None else np.asarray(seg.shares)[:, None]
        end = base
        if seg.shares_at_horizon is not None:
            drawn_end = draws.get(f"segments.{seg.name}.regions_at_horizon")
            end = (
                drawn_end if drawn_end is not None else np.asarray(seg.shares_at_horizon)[:, None]
            )
        out.append((base, end))
    return out


def _shock_multipliers(
    scenario: Scenario, draws: Mapping[str, FloatArray], n: int
) -> tuple[list[FloatArray], list[BoolArray]]:
    """Per shock: the multiplier (horizon, n) on affected revenue, and the events (horizon, n).

    An event in year t scales affected revenue in year t+k by
    ``1 - severity * max(0, 1 - k / recovery)`` (permanent: ``1 - severity``); events of
    the same shock compound multiplicatively.
    """
    horizon = scenario.horizon
    multipliers = []
    events_all = []
    for shock in scenario.shocks:
        key = f"shocks.{shock.name}"
        events = draws[f"{key}.events"] < draws[f"{key}.annual_probability"]
        if shock.max_events is not None:
            # Keep an event only while the running count stays within the cap (a running
            # count by year: cumsum over a boolean axis 0 is many times slower).
            count = np.zeros(n, dtype=np.int32)
            for t in range(horizon):
                count += events[t]
                events[t] &= count <= shock.max_events
        severity = draws[f"{key}.severity"]
        mult = np.ones((horizon, n))
        if shock.recovery_years is None:
            kept = 1.0 - severity
            for t in range(horizon):
                mult[t:] *= np.where(events[t], kept, 1.0)
        else:
            recovery = draws[f"{key}.recovery_years"]
            for k in range(horizon):
                # The share of the loss still felt k years after an event.
                ramp = severity if k == 0 else severity * np.maximum(0.0, 1.0 - k / recovery)
                for t in range(horizon - k):
                    mult[t + k] *= np.where(events[t], 1.0 - ramp, 1.0)
        multipliers.append(mult)
        events_all.append(events)
    return multipliers, events_all


@dataclass(frozen=True, slots=True, eq=False)
class _Shocked:
    """Revenue after the shock stage; arrays path-last, money in USD.

    Attributes
    ----------
    segment_revenue : (segments, horizon + 1, n) by segment after shocks.
    revenue : (horizon + 1, n) total after shocks.
    revenue_clean : (horizon + 1, n) total with every shock switched off.
    region_revenue : (regions, n) by region at the valuation year, after shocks.
    region_clean : (regions, n) by region at the valuation year, without shocks.
    any_event : (shocks, n) an event up to and including the valuation year.
    log_multiple_hit : (n,) or None
        ``sum log(1 - multiple_hit)`` over shocks with an event in the valuation year or
        the year before; ``None`` without shocks.
    """

    segment_revenue: FloatArray
    revenue: FloatArray
    revenue_clean: FloatArray
    region_revenue: FloatArray
    region_clean: FloatArray
    any_event: BoolArray
    log_multiple_hit: FloatArray | None


@dataclass(frozen=True, slots=True, eq=False)
class _Concentration:
    """Regional shares (regions, n), HHI (n,) and top share (n,) at the valuation year;
    ``hhi_clean`` is the HHI with every shock switched off."""

    shares: FloatArray
    hhi: FloatArray
    top: FloatArray
    hhi_clean: FloatArray


def evaluate(scenario: Scenario, draws: Mapping[str, FloatArray]) -> PathValues:
    """Run the model on one block of draws.

    The stages, each a function of its own: segment revenue before shocks
    (:func:`segment_revenue`), shocks (:func:`_apply_shocks`), concentration
    (:func:`_concentrate`), then the valuation method (:mod:`sim.valuation`) and the cash
    that turns its EV into equity (:func:`_equity`).

    Arrays are laid out path-last internally (a row per year, region or segment is
    contiguous, which is what makes the arithmetic fast); the outputs are (n, ...) views.

    Parameters
    ----------
    scenario : Scenario
    draws : mapping of str to ndarray
        For every :class:`InputSpec` of :func:`inputs`: scalars shaped (n,), noise shaped
        (horizon, n) standard normal, events shaped (horizon, n) uniform, Dirichlet shares
        shaped (regions, n).

    Returns
    -------
    PathValues
    """
    row = scenario.valuation.year - scenario.base_year  # in (base, y1..yH)
    shocked = _apply_shocks(scenario, draws, segment_revenue(scenario, draws), row)
    conc = _concentrate(shocked, row)
    equity, equity_clean, multiple, by_method = _equity(scenario, draws, shocked, conc, row)
    per_share = pre_offer = None
    deal: Settlement | None = None
    offering = scenario.offering
    if offering is not None:
        rule = greenshoe_rule_of(scenario, draws)
        discount = draws["offering.ipo_discount"]
        # Each method's own value: its own offer price and options on the path (what a
        # run of that method alone gives).
        for key, pre in by_method.items():
            by_method[key] = settle(offering, pre, discount, rule).equity
        # The equity so far is the value before the offer's proceeds at a price; the
        # price on each path is the fixed point of the discounted fair value (3.2).
        pre_offer = equity
        deal = settle(offering, pre_offer, discount, rule)
        equity = deal.equity
        if equity_clean is pre_offer:  # no shocks: one pass
            equity_clean = equity
        elif offering.deal is not None:
            equity_clean = settle(offering, equity_clean, discount, rule).equity
    # Limited liability on the company's whole equity, the offer's new money included
    # (losses the going concern has yet to fund would burn that too): never below 0.
    equity, equity_clean = limited(equity), limited(equity_clean)
    by_method = {k: limited(e) for k, e in by_method.items()}
    if deal is not None:
        deal = replace(deal, equity=equity)
        per_share = deal.value_per_share
    after = _aftermarket(scenario, draws, deal)
    offer = {}
    if deal is not None:
        offer = {
            "offer_price_usd": deal.price,
            "market_value_offer": deal.price * deal.shares_after,
            "shares_after": deal.shares_after,
            "upsized": deal.upsized.astype(np.float64),
            "greenshoe": deal.greenshoe.astype(np.float64),
        }
    return PathValues(
        equity=equity,
        equity_unshocked=equity_clean,
        revenue=shocked.revenue.T,
        segment_revenue=shocked.segment_revenue.transpose(2, 0, 1),
        region_shares=conc.shares.T,
        hhi=conc.hhi,
        top_region_share=conc.top,
        multiple=multiple,
        shock_any=shocked.any_event.T,
        value_per_share=per_share,
        pre_offer=pre_offer,
        **offer,
        equity_dcf=equity if scenario.valuation.method == "dcf" else by_method.get("dcf"),
        equity_multiple=by_method.get("multiple"),
        valuation_growth=(
            clean_growth(shocked.revenue_clean, row)
            if comparables_of(scenario.valuation) is not None
            else None
        ),
        regime=draws[REGIME_INPUT].astype(np.int64) if scenario.regimes else None,
        **after,
    )


def greenshoe_rule_of(scenario: Scenario, draws: Mapping[str, FloatArray]) -> GreenshoeRule | None:
    """The greenshoe's rule (:func:`sim.model.aftermarket.greenshoe_rule`); ``None`` without
    ``[aftermarket]`` (no day 1: exercised as allotted)."""
    if scenario.aftermarket is None:
        return None
    return greenshoe_rule(draws["aftermarket.adjustment"], draws["aftermarket.day1_noise"])


def _aftermarket(
    scenario: Scenario, draws: Mapping[str, FloatArray], deal: Settlement | None
) -> dict[str, FloatArray]:
    """The :class:`PathValues` fields of ``[aftermarket]`` (none without it)."""
    am = scenario.aftermarket
    if am is None:
        return {}
    assert deal is not None  # the loader requires an offering
    price, shares = deal.price, deal.shares_after
    n = len(price)
    drop = draws["aftermarket.lockup_drop"] if am.lockup_day is not None else np.zeros(n)
    vol, drift = draws["aftermarket.volatility"], draws["aftermarket.drift"]
    r = first_day_log_return(
        draws["aftermarket.adjustment"],
        deal.value_per_share,
        price,
        draws["aftermarket.day1_noise"],
    )
    # A path whose fair value is 0 or less trades at 0: walked from 1 and zeroed below.
    listed = np.isfinite(r)
    x0 = np.where(listed, np.log(price) + np.where(listed, r, 0.0), 0.0)
    # An absurd log price (a day-1 noise of 1e307) overflows inside the walk: the block's
    # checks (sim/run/checks.py) then refuse the run naming the key, with no warning printed.
    with np.errstate(over="ignore", invalid="ignore"):
        w = walk(am, x0, vol, drift, drop, draws["aftermarket.walk"])
    value = shares * listed  # market value per unit of price; 0 on unlisted paths
    day1_price = np.exp(w.day1) * listed
    return {
        "market_value_day1": day1_price * shares,
        "market_value_end": np.exp(w.end) * value,
        "market_value_peak": np.exp(w.peak) * value,
        "first_day_return": np.where(listed, np.expm1(np.where(listed, r, 0.0)), -1.0),
        "walk": np.column_stack((np.broadcast_to(vol, (n,)), np.broadcast_to(drift, (n,)), drop)),
    }


def segment_revenue(scenario: Scenario, draws: Mapping[str, FloatArray]) -> FloatArray:
    """Segment revenue before shocks, (segments, horizon + 1, n), the base year in row 0.

    ``l_st = l_term + (l_s1 - l_term) * fade^(t-1) + vol_s * e_st`` and
    ``R_st = R_s0 * exp(sum_{k<=t} l_sk)`` (DESIGN.md section 3, "Growth"); a segment whose
    growth is given year by year has ``l_st = log(1 + growth[t]) + vol_s * e_st``.
    """
    horizon = scenario.horizon
    n = len(draws["valuation.net_cash"])
    raw = np.empty((len(scenario.segments), horizon + 1, n))
    for s, seg in enumerate(scenario.segments):
        key = f"segments.{seg.name}"
        by_year = seg.growth_by_year is not None
        l1 = None if by_year else np.log1p(draws[f"{key}.growth"])
        l_term = math.log1p(seg.terminal_growth)
        noise = draws.get(f"{key}.noise")
        raw[s, 0] = draws[f"{key}.revenue"]
        log_level = np.zeros(n)
        for t in range(1, horizon + 1):
            if l1 is None:  # growth given year by year: no fade
                log_level += np.log1p(draws[growth_entry(key, t)])
            else:
                fade = seg.fade ** (t - 1)
                log_level += l_term * (1.0 - fade) + l1 * fade
            if noise is not None:
                log_level += seg.volatility * noise[t - 1]
            raw[s, t] = np.exp(log_level)
        raw[s, 1:] *= raw[s, 0]
    return raw


def _apply_shocks(
    scenario: Scenario, draws: Mapping[str, FloatArray], raw: FloatArray, v: int
) -> _Shocked:
    """Scale ``raw`` (segment revenue before shocks, modified in place) by the shocks.

    Only the (segment, region) cells some shock hits need arrays; the factor
    ``f_st = sum_r w_srt * prod_k m_kt^{hit} = 1 - sum_{hit r} w_srt (1 - prod m)``.
    """
    horizon, n = scenario.horizon, raw.shape[2]
    n_reg = len(scenario.regions)
    shares = _shares(scenario, draws)
    multipliers, events = _shock_multipliers(scenario, draws, n)
    hit_masks = [_hit_mask(scenario, k) for k in range(len(scenario.shocks))]
    revenue_clean = raw.sum(axis=0)
    region_clean = np.zeros((n_reg, n))
    region_loss = np.zeros((n_reg, n))
    at_v = v / horizon  # how far the shares have moved towards the horizon targets
    for s in range(len(scenario.segments)):
        base, end = shares[s]
        seg_v = raw[s, v]
        region_clean += seg_v * (base if end is base else base + (end - base) * at_v)
        hit_regions = [r for r in range(n_reg) if any(m[s, r] for m in hit_masks)]
        if not hit_regions:
            continue
        loss = np.zeros((horizon, n))
        for r in hit_regions:
            cell = [multipliers[k] for k, m in enumerate(hit_masks) if m[s, r]]
            kept_share = functools.reduce(np.multiply, cell)
            share = base[r] if end is base else _share_path(base[r], end[r], horizon)
            lost = share * (1.0 - kept_share)
            loss += lost
            region_loss[r] += seg_v * lost[v - 1]
        raw[s, 1:] *= 1.0 - loss
    if not scenario.shocks:
        return _Shocked(
            raw, revenue_clean, revenue_clean, region_clean, region_clean, _no_events(n), None
        )
    any_event, log_hit = _event_summary(scenario, events, v)
    return _Shocked(
        segment_revenue=raw,
        revenue=raw.sum(axis=0),
        revenue_clean=revenue_clean,
        region_revenue=region_clean - region_loss,
        region_clean=region_clean,
        any_event=any_event,
        log_multiple_hit=log_hit,
    )


def _no_events(n: int) -> BoolArray:
    return np.zeros((0, n), dtype=bool)


def _event_summary(
    scenario: Scenario, events: list[BoolArray], v: int
) -> tuple[BoolArray, FloatArray]:
    """Per shock, whether it hit up to the valuation year (shocks, n); and the summed log
    multiple hit (n,) of the shocks with an event in the valuation year or the year before."""
    n = events[0].shape[1]
    log_hit = np.zeros(n)
    any_event = np.zeros((len(scenario.shocks), n), dtype=bool)
    for k, shock in enumerate(scenario.shocks):
        ev = events[k]
        any_event[k] = ev[:v].any(axis=0)
        if shock.multiple_hit > 0:
            recent = ev[v - 1] | ev[v - 2] if v >= 2 else ev[v - 1]
            log_hit += recent * math.log1p(-shock.multiple_hit)
    return any_event, log_hit


def _concentrate(shocked: _Shocked, v: int) -> _Concentration:
    """Concentration at the valuation year, with and without shocks."""
    region_rev = shocked.region_revenue
    total_v = shocked.revenue[v]
    lost_all = total_v <= 0.0
    if lost_all.any():
        # A path whose revenue is all lost has no split of its own: it keeps its pre-shock
        # split rather than reading as a perfectly diversified HHI of 0.
        region_rev = np.where(lost_all, shocked.region_clean, region_rev)
        total_v = np.where(lost_all, shocked.revenue_clean[v], total_v)
    shares, hhi, top = _concentration(region_rev, total_v)
    hhi_clean = hhi
    if shocked.log_multiple_hit is not None:
        _, hhi_clean, _ = _concentration(shocked.region_clean, shocked.revenue_clean[v])
    return _Concentration(shares, hhi, top, hhi_clean)


def _equity(
    scenario: Scenario,
    draws: Mapping[str, FloatArray],
    shocked: _Shocked,
    conc: _Concentration,
    v: int,
) -> tuple[FloatArray, FloatArray, FloatArray, dict[str, FloatArray]]:
    """Equity (n,), equity without shocks (n,) and the multiple (n,): the method's EV
    plus net cash and IPO proceeds less the options (:func:`equity_claims`), before the
    floor of limited liability (:func:`evaluate` applies it once the deal's proceeds are
    in); and for method ``both`` each method's equity by name (``"multiple"``, ``"dcf"``;
    empty for the others)."""
    method = scenario.valuation
    claims = equity_claims(draws)
    runway = runway_cash(scenario, draws)
    valued = method.enterprise_value(
        Paths(
            shocked.revenue,
            shocked.revenue_clean,
            v,
            conc.hhi,
            shocked.log_multiple_hit,
            draws,
            runway,
        )
    )
    equity = valued.ev + claims
    by_method = {k: ev + claims for k, ev in (valued.ev_by_method or {}).items()}
    if shocked.log_multiple_hit is None:
        return equity, equity, valued.multiple, by_method
    clean_revenue = shocked.revenue_clean
    clean = method.enterprise_value(
        Paths(clean_revenue, clean_revenue, v, conc.hhi_clean, None, draws, runway)
    )
    return equity, clean.ev + claims, valued.multiple, by_method


def equity_claims(draws: Mapping[str, FloatArray]) -> FloatArray:
    """What turns EV into equity before the offer (n,): net cash + ``ipo_proceeds``, less
    the employee options (``valuation.options_value``, a claim on the equity) if any."""
    out: FloatArray = draws["valuation.net_cash"] + draws["valuation.ipo_proceeds"]
    options = draws.get("valuation.options_value")
    if options is not None:
        out = out - options
    return out


def limited(equity: FloatArray) -> FloatArray:
    """Limited liability: ``max(equity, 0)``; the owners lose at most their stake."""
    out: FloatArray = np.maximum(equity, 0.0)
    return out


def runway_cash(scenario: Scenario, draws: Mapping[str, FloatArray]) -> FloatArray:
    """The cash a DCF's runway rule lets a company burn (n,): net cash + ``ipo_proceeds``
    + the deal's net proceeds at the lowest offer price without either option (the least
    the deal raises; the path's own price depends on the value the runway decides, so it
    cannot be used)."""
    out: FloatArray = draws["valuation.net_cash"] + draws["valuation.ipo_proceeds"]
    offering = scenario.offering
    if offering is not None and offering.deal is not None:
        least = proceeds_per_price(offering, upsize=False, greenshoe=False)
        out = out + least * floor_price(offering)
    return out


def _share_path(base: FloatArray, end: FloatArray, horizon: int) -> FloatArray:
    """Shares in years 1..H, (H, n), moving linearly from the base year to the horizon."""
    frac = np.arange(1, horizon + 1)[:, None] / horizon
    return base + (end - base) * frac


def _hit_mask(scenario: Scenario, k: int) -> npt.NDArray[np.bool_]:
    shock = scenario.shocks[k]
    mask = np.zeros((len(scenario.segments), len(scenario.regions)), dtype=bool)
    for s, seg in enumerate(scenario.segments):
        if seg.name in shock.segments:
            for r, region in enumerate(scenario.regions):
                mask[s, r] = region in shock.regions
    return mask


def _concentration(
    region_rev: FloatArray, total: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Regional shares (R, n), their HHI (n,) and the top share (n,)."""
    # A path whose revenue is all lost has no regional split: its shares are 0. A divide,
    # not a product with 1 / total: a total that underflowed to a subnormal (a decline of
    # 1e-300 over the horizon) has an infinite reciprocal, while each region's revenue
    # over it is still a share in [0, 1].
    shares = np.divide(region_rev, total, out=np.zeros_like(region_rev), where=total > 0)
    hhi = np.zeros(shares.shape[1])
    for row in shares:
        hhi += row * row
    return shares, hhi, shares.max(axis=0)
