"""The market sections of a scenario: ``[[regimes]]`` (DESIGN 3.4), named states of the
market whose versions of random inputs replace the base's on their paths, and
``[aftermarket]`` (DESIGN 3.5), the market after listing."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from sim.distributions import Distribution, parse_distribution
from sim.errors import ScenarioError, unknown_key_message
from sim.money import parse_fraction
from sim.scenario.keys import _declare, _dist_in, _int, _name, _num, _Table, _tables, _unique
from sim.scenario.types import _DECLARED, Aftermarket, Offering, Regime

__all__ = ["DAY1_NOISE_DEFAULT", "MAX_AFTERMARKET_DAYS", "REGIME_TABLES", "WEIGHT_TOLERANCE"]

REGIME_TABLES = ("valuation", "offering", "aftermarket")
_REGIME_KEYS = _declare("regimes", required=("name", "weight"), optional=REGIME_TABLES)
#: How far the weights may sum from 1 (they are then divided by their sum).
WEIGHT_TOLERANCE = 1e-9


def _parse_regimes(
    value: object,
    top: Mapping[str, Any],
    reread: Mapping[str, Callable[[dict[str, Any]], Mapping[str, Distribution]]],
    base: Mapping[str, Distribution],
) -> list[Regime]:
    """``[[regimes]]``: names, weights summing to 1, and each regime's overrides.

    An override must name a random scalar input of its table (``multiple`` of
    ``[valuation]``); it is read by re-reading the table with the override in place, so
    it gets the checks the base key gets, and errors name ``regimes.<name>.<table>.<key>``.
    """
    regimes: list[Regime] = []
    for t, _ in _tables(value, "regimes", _REGIME_KEYS):
        name = _name(t.need("name"), t.key("name"))
        weight = _num(t.need("weight"), t.key("weight"), lo=0.0, hi=1.0, lo_open=True)
        overrides: dict[str, Distribution] = {}
        for table in REGIME_TABLES:
            if t.has(table):
                sub = _Table(t.get(table), t.key(table))
                overrides |= _regime_overrides(sub, table, top, reread[table], base)
        t.done()
        regimes.append(Regime(name, weight, overrides))
    _unique([r.name for r in regimes], "regimes", "regime name")
    if not regimes:
        return regimes
    total = math.fsum(r.weight for r in regimes)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        weights = ", ".join(f"{r.name} {r.weight:g}" for r in regimes)
        raise ScenarioError(
            f"regime weights must sum to 1, they sum to {total:.12g} ({weights})",
            path="regimes",
        )
    return [Regime(r.name, r.weight / total, r.overrides) for r in regimes]


def _regime_overrides(
    sub: _Table,
    table: str,
    top: Mapping[str, Any],
    reread: Callable[[dict[str, Any]], Mapping[str, Distribution]],
    base: Mapping[str, Distribution],
) -> dict[str, Distribution]:
    if table not in top:
        raise ScenarioError(
            f"overrides keys of [{table}], which the scenario lacks", path=sub.path
        )
    scalar_keys = [n.removeprefix(f"{table}.") for n in base if n.startswith(f"{table}.")]
    if table == "aftermarket":
        _refuse_retired(sub)
    for key in sub.data:
        if f"{table}.{key}" in base:
            continue
        if key in _DECLARED.get(table, {}):
            raise ScenarioError(
                f"{table}.{key} is not a random scalar input: a regime overrides only "
                f"distributions ({', '.join(scalar_keys)})",
                path=sub.key(key),
            )
        raise ScenarioError(
            unknown_key_message(key, scalar_keys, what=f"random input of [{table}]"),
            path=sub.key(key),
        )
    if not sub.data:
        return {}
    try:
        inputs = reread({**top[table], **sub.data})
    except ScenarioError as err:
        # Name the override, not the base key it stands in for.
        where = err.path.removeprefix(table).lstrip(".")
        raise ScenarioError(err.message, path=sub.key(where) if where else sub.path) from None
    return {f"{table}.{key}": inputs[f"{table}.{key}"] for key in sub.data}


_AFTERMARKET_KEYS = _declare(
    "aftermarket",
    required=("adjustment", "volatility", "days"),
    optional=("day1_noise", "drift", "lockup_day", "lockup_drop"),
)
#: The most trading days simulated after day 1 (ten years).
MAX_AFTERMARKET_DAYS = 2520
#: ``day1_noise`` when a scenario leaves it out: the Hong Kong Main Board's first day
#: (docs/scenarios.md, "[aftermarket]"). Its mean first-day return
#: ``exp(mean + sd^2 / 2) - 1`` is 7.7%, the Main Board's over 665 IPOs in 2009-2017
#: (Ritter, from Dealogic); its sd 0.29 is the one a normal needs to give both of the
#: published figures of 2025's first nine months (mean first-day return 28%, 24% of
#: listings closing day 1 below the offer): the only published dispersion found.
DAY1_NOISE_DEFAULT: Mapping[str, object] = {"dist": "normal", "mean": 0.032, "sd": 0.29}
#: Keys no longer read, with what replaced them.
_RETIRED = {
    "day1_sentiment": (
        "day1_sentiment (the log premium of the day-1 close over fair value) is retired: "
        "the day-1 close now starts from the offer price, offer x exp(adjustment x "
        "log(fair / offer) + day1_noise); adjustment = 1 with day1_noise = the old "
        "sentiment is the old rule"
    ),
}


def _refuse_retired(t: _Table) -> None:
    """Refuse a retired key of ``[aftermarket]`` (or of a regime's) with its successor."""
    for key, message in _RETIRED.items():
        if t.has(key):
            raise ScenarioError(message, path=t.key(key))


def _parse_aftermarket(value: object, offering: Offering | None) -> Aftermarket | None:
    """``[aftermarket]`` (DESIGN 3.5): needs ``[offering]``, whose shares turn a price
    into a market value."""
    if value is None:
        return None
    t = _Table(value, "aftermarket", _AFTERMARKET_KEYS)
    _refuse_retired(t)
    if offering is None:
        raise ScenarioError(
            "the aftermarket needs an [offering] table: market value is price x shares "
            "after the offer",
            path="aftermarket",
        )

    def dist(key: str, default: object = None) -> Distribution:
        raw = t.need(key) if default is None else t.get(key, default)
        return parse_distribution(
            raw,
            path=t.key(key),
            value=lambda v, p: parse_fraction(v, path=p, lo=-math.inf, hi=math.inf),
        )

    adjustment = _dist_in(
        dist("adjustment"),
        t.key("adjustment"),
        0.0,
        1.0,
        what="the day-1 adjustment towards fair value",
    )
    noise = dist("day1_noise", dict(DAY1_NOISE_DEFAULT))
    volatility = _dist_in(
        dist("volatility"), t.key("volatility"), 0.0, math.inf, what="annualised volatility"
    )
    drift = dist("drift", 0.0)
    days = _int(t.need("days"), t.key("days"), lo=1, hi=MAX_AFTERMARKET_DAYS)
    lockup_day: int | None = None
    drop: Distribution | None = None
    if t.has("lockup_day"):
        lockup_day = _int(t.get("lockup_day"), t.key("lockup_day"), lo=1)
        if lockup_day > days:
            raise ScenarioError(
                f"expected a trading day in 1..{days} (aftermarket.days), got {lockup_day}",
                path=t.key("lockup_day"),
            )
        drop = dist("lockup_drop", 0.0)
        _dist_in(drop, t.key("lockup_drop"), 0.0, 1.0, what="the lock-up drop")
        if drop.support()[1] >= 1.0:
            raise ScenarioError(
                "the lock-up drop must stay below 1 (a price of 0)", path=t.key("lockup_drop")
            )
    elif t.has("lockup_drop"):
        raise ScenarioError(
            "a lock-up drop needs its day (aftermarket.lockup_day)", path=t.key("lockup_drop")
        )
    t.done()
    return Aftermarket(adjustment, noise, volatility, drift, days, lockup_day, drop)
