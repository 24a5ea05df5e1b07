"""The model written again as a plain per-path Python loop: a reference and a speed anchor.

:func:`equity_per_path` follows DESIGN.md section 3 one path at a time with Python floats
(``math`` and ``random``), sharing nothing with :mod:`sim.model` but the scenario and its
distributions' quantile functions. Its draws are its own, so it agrees with the engine
in distribution, not path by path: tests/test_per_path.py checks that the two agree
within their standard errors, and the benchmark times it against the engine.

It covers EV/sales scenarios without an offering, correlations, regimes or horizon
shares (:func:`covers` says whether it covers a scenario).
"""

from __future__ import annotations

import math
import random

import numpy as np

from sim.distributions import Distribution
from sim.scenario import Scenario
from sim.valuation.ev_to_sales import EvToSales

__all__ = ["covers", "equity_per_path"]


def covers(scenario: Scenario) -> bool:
    """Whether :func:`equity_per_path` implements everything ``scenario`` uses."""
    return (
        isinstance(scenario.valuation, EvToSales)
        and scenario.offering is None
        and not scenario.correlations
        and all(seg.shares_at_horizon is None for seg in scenario.segments)
        and all(shock.max_events is None for shock in scenario.shocks)
    )


def equity_per_path(scenario: Scenario, paths: int, *, seed: int) -> list[float]:
    """Equity value at listing on each of ``paths`` paths, one path at a time."""
    if not covers(scenario):
        raise ValueError(f"the per-path reference does not cover scenario {scenario.name!r}")
    rng = random.Random(seed)
    marginals = scenario.scalar_inputs()
    fixed = {name: float(d.ppf(np.array([0.5]))[0]) for name, d in marginals.items() if d.is_fixed}
    random_names = [name for name, d in marginals.items() if not d.is_fixed]
    return [_one_path(scenario, rng, marginals, fixed, random_names) for _ in range(paths)]


def _one_path(
    scenario: Scenario,
    rng: random.Random,
    marginals: dict[str, Distribution],
    fixed: dict[str, float],
    random_names: list[str],
) -> float:
    x = dict(fixed)
    for name in random_names:
        x[name] = float(marginals[name].ppf(np.array([rng.random()]))[0])
    horizon = scenario.horizon
    v = scenario.valuation.year - scenario.base_year
    regions = scenario.regions

    # Segment revenue before shocks, years 0..horizon; regional shares per segment.
    clean: list[list[float]] = []
    shares: list[list[float]] = []
    for seg in scenario.segments:
        key = f"segments.{seg.name}"
        l1 = math.log1p(x[f"{key}.growth"])
        l_term = math.log1p(seg.terminal_growth)
        level = 0.0
        row = [x[f"{key}.revenue"]]
        for t in range(1, horizon + 1):
            fade = seg.fade ** (t - 1)
            level += l_term * (1.0 - fade) + l1 * fade
            if seg.volatility > 0:
                level += seg.volatility * rng.gauss(0.0, 1.0)
            row.append(row[0] * math.exp(level))
        clean.append(row)
        if seg.region_concentration is None:
            shares.append(list(seg.shares))
        else:
            g = [
                rng.gammavariate(seg.region_concentration * w, 1.0) if w > 0 else 0.0
                for w in seg.shares
            ]
            total = sum(g)
            shares.append([gi / total for gi in g])

    # Shocks: per shock, the events by year and the multiplier on hit revenue by year.
    events: list[list[bool]] = []
    kept: list[list[float]] = []
    for shock in scenario.shocks:
        key = f"shocks.{shock.name}"
        p = x[f"{key}.annual_probability"]
        severity = x[f"{key}.severity"]
        recovery = None if shock.recovery_years is None else x[f"{key}.recovery_years"]
        ev = [rng.random() < p for _ in range(horizon)]
        mult = [1.0] * horizon
        for t in range(horizon):
            if not ev[t]:
                continue
            for later in range(t, horizon):
                k = later - t
                felt = 1.0 if recovery is None else max(0.0, 1.0 - k / recovery)
                mult[later] *= 1.0 - severity * felt
        events.append(ev)
        kept.append(mult)

    # Shocked segment revenue and region revenue at the valuation year.
    total_v = total_clean_v = total_clean_prev = 0.0
    region_rev = [0.0] * len(regions)
    region_clean = [0.0] * len(regions)
    for s, seg in enumerate(scenario.segments):
        factor_v = 1.0
        for r, region in enumerate(regions):
            cell = 1.0
            for k, shock in enumerate(scenario.shocks):
                if seg.name in shock.segments and region in shock.regions:
                    cell *= kept[k][v - 1]
            factor_v -= shares[s][r] * (1.0 - cell)
            region_rev[r] += clean[s][v] * shares[s][r] * cell
            region_clean[r] += clean[s][v] * shares[s][r]
        total_v += clean[s][v] * factor_v
        total_clean_v += clean[s][v]
        total_clean_prev += clean[s][v - 1]
    if total_v <= 0.0:
        region_rev, total_for_shares = region_clean, total_clean_v
    else:
        total_for_shares = total_v
    hhi = sum((r / total_for_shares) ** 2 for r in region_rev) if total_for_shares > 0 else 0.0

    method = scenario.valuation
    assert isinstance(method, EvToSales)
    log_m = math.log(x["valuation.multiple"])
    if method.growth_elasticity != 0.0:
        growth = math.log(total_clean_v / total_clean_prev) if total_clean_prev > 0 else 0.0
        log_m += method.growth_elasticity * (growth - math.log1p(method.reference_growth))
    log_m -= method.concentration_penalty * (hhi - method.reference_hhi)
    for k, shock in enumerate(scenario.shocks):
        recent = events[k][v - 1] or (v >= 2 and events[k][v - 2])
        if shock.multiple_hit > 0 and recent:
            log_m += math.log1p(-shock.multiple_hit)
    return total_v * math.exp(log_m) + x["valuation.net_cash"] + x["valuation.ipo_proceeds"]
