"""Raw TOML data -> a validated :class:`~sim.scenario.Scenario`, table by table."""

from __future__ import annotations

import datetime
import hashlib
import json
import math
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from sim import metric_names
from sim.distributions import Distribution, parse_distribution
from sim.errors import ScenarioError, unknown_key_message
from sim.money import (
    canonical_currency,
    format_money,
    money_and_currency,
    parse_fraction,
    parse_money,
)
from sim.scenario.files import _origin, _own_name, _read_chain, _resolve
from sim.scenario.keys import (
    _choice,
    _date,
    _declare,
    _dist_in,
    _growth_path,
    _int,
    _label,
    _list,
    _name,
    _num,
    _str,
    _Table,
    _tables,
    _truncation_hint,
    _unique,
)
from sim.scenario.market import (
    _parse_aftermarket,
    _parse_regimes,
)
from sim.scenario.peers import read_comparables
from sim.scenario.types import (
    DEFAULT_PATHS,
    DEFAULT_SEED,
    EXPECT_STATS,
    GRID_DEFAULT,
    MAX_PATHS,
    SAMPLERS,
    TARGET_AT,
    TARGET_AT_AFTERMARKET,
    Aftermarket,
    Correlation,
    Deal,
    Expectation,
    Offering,
    Scenario,
    Segment,
    Shock,
    SimulationDefaults,
    Target,
    TargetAt,
    _Parsed,
    _scalar_inputs,
)
from sim.scenario.valuation_keys import _parse_valuation, _valuation_keys, _ValuationKeys
from sim.valuation import Valuation
from sim.valuation.ev_to_sales import comparables_of

# --------------------------------------------------------------------------- loading


def load_scenario(path: str | Path) -> Scenario:
    """Read, resolve (``extends``) and validate a scenario file.

    Parameters
    ----------
    path : str or Path
        The TOML file.

    Returns
    -------
    Scenario

    Raises
    ------
    ScenarioError
        Anything wrong with the file, naming the file and the key path.
    """
    path = Path(path)
    chain = _read_chain(path)
    raw = _resolve(chain)
    try:
        # A peer table is relative to the file of the chain that names it.
        peers_dir = _origin("comparables.file", chain).parent
        return build_scenario(
            raw, source=path, own_name=_own_name(chain[0][1], path), peers_dir=peers_dir
        )
    except ScenarioError as err:
        raise err.with_file(str(_origin(err.path, chain))) from None


_TOP_KEYS = _declare(
    "",
    required=("scenario", "segments", "valuation"),
    optional=(
        *("fx", "shocks", "offering", "targets", "regimes", "correlations", "expect"),
        "simulation",
        *("fx", "shocks", "offering", "aftermarket", "targets"),
        *("correlations", "expect", "simulation", "comparables"),
    ),
)
_SCENARIO_KEYS = _declare(
    "scenario",
    required=("base_year", "horizon"),
    optional=("name", "description", "as_of", "listing_date", "currency"),
    elsewhere=("extends",),
)
_TARGET_KEYS = _declare("targets", required=("label", "value"), optional=("at",))


def build_scenario(
    raw: Mapping[str, Any], *, source: Path | None, own_name: str, peers_dir: Path | None = None
) -> Scenario:
    """Validate resolved TOML data into a :class:`Scenario` (see :func:`load_scenario`).

    ``peers_dir`` is the folder ``comparables.file`` is relative to (by default that of
    ``source``); the peer table is the one file read here.
    """
    top = _Table(dict(raw), "", _TOP_KEYS)
    fx = _parse_fx(top.get("fx", {}))

    def money(value: object, path: str) -> float:
        return parse_money(value, path=path, fx=fx)

    def fraction(value: object, path: str) -> float:
        return parse_fraction(value, path=path, lo=-math.inf, hi=math.inf)

    sc = _Table(top.need("scenario"), "scenario", _SCENARIO_KEYS)
    name = own_name
    sc.get("name")
    _name(name, "scenario.name")
    description = _str(sc.get("description", ""), "scenario.description")
    base_year = _int(sc.need("base_year"), "scenario.base_year", lo=1900, hi=2200)
    horizon = _int(sc.need("horizon"), "scenario.horizon", lo=1, hi=50)
    as_of, listing_date = _parse_dates(sc)
    currency = _parse_currency(sc.get("currency", "USD"), fx)
    sc.done()
    years = tuple(range(base_year + 1, base_year + horizon + 1))

    # Regions are collected first so that shares line up across segments.
    seg_entries = list(_tables(top.need("segments"), "segments", _SEGMENT_KEYS))
    if not seg_entries:
        raise ScenarioError("expected at least one [[segments]] entry", path="segments")
    region_tuple = _regions(seg_entries)

    segments: list[Segment] = []
    for table, path in seg_entries:
        segments.append(_parse_segment(table, path, region_tuple, money, fraction, len(years)))
    _unique([s.name for s in segments], "segments", "segment")

    shocks = [
        _parse_shock(t, p, region_tuple, [s.name for s in segments], fraction)
        for t, p in _tables(top.get("shocks", []), "shocks", _SHOCK_KEYS)
    ]
    _unique([k.name for k in shocks], "shocks", "shock")

    peers = None
    if top.has("comparables"):
        folder = peers_dir or (source.parent if source is not None else None)
        peers = read_comparables(
            top.get("comparables"), folder=folder, as_of=as_of, listing_date=listing_date
        )

    def valuation_keys(table: dict[str, Any]) -> _ValuationKeys:
        return _ValuationKeys(_Table(table, "valuation", _valuation_keys()), fx, peers)

    valuation = _parse_valuation(valuation_keys(top.need("valuation")), years)
    if peers is not None and comparables_of(valuation) is None:
        raise ScenarioError(
            f"sets the EV/sales multiple, which method {valuation.method!r} has none of",
            path="comparables",
        )
    offering = _parse_offering(top.get("offering"), fx, valuation)
    aftermarket = _parse_aftermarket(top.get("aftermarket"), offering)

    targets = _parse_targets(top.get("targets", []), money, offering, aftermarket)

    # Each overridable table re-read with a regime's keys in place of its own: the
    # override is checked exactly as the key would be (units, ranges, cross-checks).
    def offering_inputs(table: dict[str, Any]) -> Mapping[str, Distribution]:
        parsed = _parse_offering(table, fx, valuation)
        return _scalar_inputs([], [], valuation, parsed)

    def valuation_inputs(table: dict[str, Any]) -> Mapping[str, Distribution]:
        return _parse_valuation(valuation_keys(table), years).scalar_inputs()

    def aftermarket_inputs(table: dict[str, Any]) -> Mapping[str, Distribution]:
        parsed = _parse_aftermarket(table, offering)
        return parsed.scalar_inputs() if parsed is not None else {}

    reread = {
        "valuation": valuation_inputs,
        "offering": offering_inputs,
        "aftermarket": aftermarket_inputs,
    }
    base_inputs = _scalar_inputs(segments, shocks, valuation, offering, aftermarket=aftermarket)
    regimes = _parse_regimes(top.get("regimes", []), top.data, reread, base_inputs)

    # The names the correlations and the expectations refer to come first, so that the
    # Scenario is built once, complete.
    inputs = _scalar_inputs(segments, shocks, valuation, offering, regimes, aftermarket)
    correlations = _parse_correlations(top.get("correlations", []), inputs)
    parsed = _Parsed(
        base_year,
        years,
        tuple(shocks),
        offering,
        tuple(targets),
        valuation,
        tuple(regimes),
        aftermarket,
    )
    expectations = [
        _parse_expect(t, p, parsed, fx)
        for t, p in _tables(top.get("expect", []), "expect", _EXPECT_KEYS)
    ]
    _unique([e.name for e in expectations if e.name], "expect", "expectation name")
    simulation = _parse_simulation(top.get("simulation", {}))
    top.done()

    canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    digest = hashlib.sha256(canonical.encode("utf-8"))
    if peers is not None:  # the peer table is part of what the results depend on
        digest.update(peers.sha256.encode("ascii"))
    return Scenario(
        name=name,
        description=description,
        base_year=base_year,
        horizon=horizon,
        as_of=as_of,
        listing_date=listing_date,
        fx=fx,
        regions=region_tuple,
        segments=tuple(segments),
        shocks=tuple(shocks),
        valuation=valuation,
        offering=offering,
        targets=tuple(targets),
        correlations=tuple(correlations),
        expectations=tuple(expectations),
        simulation=simulation,
        source=source,
        raw=raw,
        sha256=digest.hexdigest(),
        regimes=tuple(regimes),
        aftermarket=aftermarket,
        currency=currency,
    )


def _parse_currency(value: object, fx: Mapping[str, float]) -> str:
    """``[scenario] currency``: the ISO code the reports are in, USD or one with an [fx] rate."""
    path = "scenario.currency"
    if not isinstance(value, str) or not re.fullmatch(r"[A-Z]{3}", value):
        iso = canonical_currency(value) if isinstance(value, str) else None
        hint = f" ({value!r} is {iso}: write {iso!r})" if iso else ""
        raise ScenarioError(
            f'expected a 3-letter currency code such as "EUR"{hint}, got {value!r}', path=path
        )
    if value != "USD" and value not in fx:
        raise ScenarioError(
            f"no exchange rate for {value}: add it under [fx] ({value} = USD per {value})",
            path=path,
        )
    return value


def _parse_dates(sc: _Table) -> tuple[datetime.date | None, datetime.date | None]:
    """``as_of`` (the information date) and ``listing_date`` (the date values are for)."""
    dates = {
        key: None if (value := sc.get(key)) is None else _date(value, sc.key(key))
        for key in ("as_of", "listing_date")
    }
    as_of, listing = dates["as_of"], dates["listing_date"]
    if as_of is not None and listing is not None and as_of > listing:
        raise ScenarioError(
            f"the information date {as_of.isoformat()} falls after the listing date "
            f"{listing.isoformat()} (scenario.listing_date); expected as_of <= listing_date",
            path=sc.key("as_of"),
        )
    return as_of, listing


def _target_at(t: _Table, offering: Offering | None, aftermarket: Aftermarket | None) -> TargetAt:
    """A target's ``at``: ``fair`` (the default), ``offer`` (needs an offering), or
    ``day1``, ``end``, ``peak`` (need ``[aftermarket]``)."""
    at = _choice(t.get("at", "fair"), t.key("at"), TARGET_AT, what="value")
    if at == "offer" and offering is None:
        raise ScenarioError("at = 'offer' needs an [offering] table", path=t.key("at"))
    if at in TARGET_AT_AFTERMARKET and aftermarket is None:
        raise ScenarioError(f"at = {at!r} needs an [aftermarket] table", path=t.key("at"))
    return at


def _regions(seg_entries: list[tuple[_Table, str]]) -> tuple[str, ...]:
    """Every region the segments name, in the order first named."""
    regions: list[str] = []
    for table, _ in seg_entries:
        for key in ("regions", "regions_at_horizon"):
            value = table.data.get(key)
            if isinstance(value, dict):
                regions.extend(r for r in value if r not in regions)
    return tuple(regions)


def _parse_targets(
    value: object,
    money: Callable[[object, str], float],
    offering: Offering | None,
    aftermarket: Aftermarket | None,
) -> list[Target]:
    targets = []
    for t, _ in _tables(value, "targets", _TARGET_KEYS):
        label = _label(t.need("label"), t.key("label"))
        amount = t.need("value")
        targets.append(
            Target(
                label,
                money(amount, t.key("value")),
                str(amount),
                _target_at(t, offering, aftermarket),
            )
        )
        t.done()
    _unique([t.label for t in targets], "targets", "target label")
    return targets


def _parse_fx(value: object) -> dict[str, float]:
    table = _Table(value, "fx")
    fx: dict[str, float] = {}
    for code in list(table.data):
        path = table.key(code)
        iso = canonical_currency(code)
        if iso == "USD":
            # Amounts are converted to USD, so its rate is 1 by definition; a rate given
            # here would be silently ignored.
            raise ScenarioError(
                "USD is the base currency (its rate is 1 by definition); remove this key",
                path=path,
            )
        if not re.fullmatch(r"[A-Z]{3}", code):
            hint = f"; {code!r} is read as {iso}, so write {iso} = ..." if iso else ""
            if code in ("¥", "￥"):
                hint = "; '¥' is the yen's mark and the yuan's: write JPY = ... or CNY = ..."
            raise ScenarioError(f"expected a 3-letter currency code such as HKD{hint}", path=path)
        fx[code] = _num(table.get(code), path, lo=0.0, lo_open=True)
    if "RMB" in fx and "CNY" not in fx:
        fx["CNY"] = fx["RMB"]
    table.done()
    return fx


def _parse_shares(
    value: object, path: str, regions: tuple[str, ...], fraction: Callable[[object, str], float]
) -> tuple[float, ...]:
    table = _Table(value, path)
    if not table.data:
        raise ScenarioError("expected at least one region share", path=path)
    shares = dict.fromkeys(regions, 0.0)
    for region in list(table.data):
        share = fraction(table.get(region), table.key(region))
        if not 0.0 <= share <= 1.0:
            raise ScenarioError(
                f"expected a share in [0, 1], got {share:g}", path=table.key(region)
            )
        shares[region] = share
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        raise ScenarioError(f"shares must sum to 1, they sum to {total:.6g}", path=path)
    return tuple(shares[r] / total for r in regions)


_SEGMENT_KEYS = _declare(
    "segments",
    required=("name", "revenue", "growth", "regions"),
    optional=(
        *("fade", "terminal_growth", "volatility"),
        *("region_concentration", "regions_at_horizon", "booked"),
    ),
)


def _parse_segment(
    t: _Table,
    path: str,
    regions: tuple[str, ...],
    money: Callable[[object, str], float],
    fraction: Callable[[object, str], float],
    horizon: int,
) -> Segment:
    name = _name(t.need("name"), t.key("name"))
    revenue = parse_distribution(t.need("revenue"), path=t.key("revenue"), value=money)
    _dist_in(revenue, t.key("revenue"), 0.0, math.inf, what="revenue")
    booked_raw = t.get("booked")
    booked = None if booked_raw is None else _booked(booked_raw, revenue, t.key("booked"), money)
    growth, by_year = _growth_path(t.need("growth"), t.key("growth"), fraction, horizon)
    if by_year is not None and t.has("fade"):
        raise ScenarioError("growth given year by year does not fade", path=t.key("fade"))
    fade = _num(t.get("fade", 1.0), t.key("fade"), lo=0.0, hi=1.0)
    terminal = fraction(t.get("terminal_growth", 0.0), t.key("terminal_growth"))
    if terminal <= -1.0:
        raise ScenarioError(
            f"expected a growth rate above -1, got {terminal:g}", path=t.key("terminal_growth")
        )
    vol = _num(t.get("volatility", 0.0), t.key("volatility"), lo=0.0, hi=5.0)
    shares = _parse_shares(t.need("regions"), t.key("regions"), regions, fraction)
    kappa_raw = t.get("region_concentration")
    kappa = None
    if kappa_raw is not None:
        kappa = _num(kappa_raw, t.key("region_concentration"), lo=0.0, lo_open=True)
    horizon_raw = t.get("regions_at_horizon")
    at_horizon = None
    if horizon_raw is not None:
        at_horizon = _parse_shares(horizon_raw, t.key("regions_at_horizon"), regions, fraction)
    t.done()
    return Segment(
        name, revenue, growth, fade, terminal, vol, shares, kappa, at_horizon, booked, by_year
    )


def _booked(
    value: object, revenue: Distribution, path: str, money: Callable[[object, str], float]
) -> float:
    """Revenue already booked in the base year (USD): the base revenue may not go below it.

    Checked from the revenue distribution's support, so that no path can draw less than
    was booked (DESIGN 3.1); an unbounded family must be truncated with ``lower``.
    """
    booked = money(value, path)
    low = revenue.support()[0]
    if low < booked:
        hint = _truncation_hint(revenue, booked, None)
        raise ScenarioError(
            f"{format_money(booked)} is already booked, but the base revenue "
            f"{revenue.describe()} reaches down to {format_money(low)}: the base revenue's "
            f"lower bound must be at least what was booked{hint}",
            path=path,
        )
    return booked


_SHOCK_KEYS = _declare(
    "shocks",
    required=("name", "regions", "annual_probability", "severity", "recovery_years"),
    optional=("segments", "max_events", "multiple_hit"),
)


def _parse_shock(
    t: _Table,
    path: str,
    regions: tuple[str, ...],
    segment_names: list[str],
    fraction: Callable[[object, str], float],
) -> Shock:
    name = _name(t.need("name"), t.key("name"))
    hit_regions = tuple(
        _str(r, f"{t.key('regions')}[{i}]")
        for i, r in enumerate(_list(t.need("regions"), t.key("regions")))
    )
    if not hit_regions:
        raise ScenarioError("expected at least one region", path=t.key("regions"))
    for i, r in enumerate(hit_regions):
        if r not in regions:
            raise ScenarioError(
                unknown_key_message(r, regions, what="region"), path=f"{t.key('regions')}[{i}]"
            )
    seg_raw = t.get("segments")
    if seg_raw is None:
        hit_segments = tuple(segment_names)
    else:
        hit_segments = tuple(
            _str(s, f"{t.key('segments')}[{i}]")
            for i, s in enumerate(_list(seg_raw, t.key("segments")))
        )
        if not hit_segments:
            raise ScenarioError("expected at least one segment", path=t.key("segments"))
        for i, s in enumerate(hit_segments):
            if s not in segment_names:
                raise ScenarioError(
                    unknown_key_message(s, segment_names, what="segment"),
                    path=f"{t.key('segments')}[{i}]",
                )
    prob = parse_distribution(
        t.need("annual_probability"), path=t.key("annual_probability"), value=fraction
    )
    _dist_in(prob, t.key("annual_probability"), 0.0, 1.0, what="a probability")
    severity = parse_distribution(t.need("severity"), path=t.key("severity"), value=fraction)
    _dist_in(severity, t.key("severity"), 0.0, 1.0, what="severity")
    rec_raw = t.need("recovery_years")
    recovery: Distribution | None
    if isinstance(rec_raw, str) and rec_raw.strip().lower() == "permanent":
        recovery = None
    else:
        if isinstance(rec_raw, str):
            raise ScenarioError(
                f'expected a number of years, a distribution or "permanent", got {rec_raw!r}',
                path=t.key("recovery_years"),
            )
        recovery = parse_distribution(rec_raw, path=t.key("recovery_years"))
        _dist_in(
            recovery, t.key("recovery_years"), 0.0, math.inf, lo_open=True, what="recovery time"
        )
    max_raw = t.get("max_events")
    max_events = None if max_raw is None else _int(max_raw, t.key("max_events"), lo=1)
    hit = fraction(t.get("multiple_hit", 0.0), t.key("multiple_hit"))
    if not 0.0 <= hit < 1.0:
        raise ScenarioError(
            f"expected a fraction in [0, 1), got {hit:g}", path=t.key("multiple_hit")
        )
    t.done()
    return Shock(name, hit_regions, hit_segments, prob, severity, recovery, max_events, hit)


_OFFERING_KEYS = _declare(
    "offering",
    required=("price_range",),
    # One of shares_outstanding (the simple form) and shares_before + new_shares (the
    # deal) is required; _parse_offering says which is missing.
    optional=(
        "shares_outstanding",
        "shares_before",
        "new_shares",
        "upsize_option",
        "over_allotment",
        "fees",
        "price_grid",
        "ipo_discount",
        "downward_adjustment",
    ),
)
#: The most the offer may be priced below the range's low: 10%, Hong Kong's pricing
#: flexibility mechanism (HKEX Guidance Letter HKEX-GL90-18, Feb 2018).
MAX_DOWNWARD_ADJUSTMENT = 0.10
_DEAL_KEYS = ("shares_before", "new_shares", "upsize_option", "over_allotment", "fees")


def _parse_offering(
    value: object, fx: Mapping[str, float], valuation: Valuation
) -> Offering | None:
    """``[offering]``: the simple form or the deal (the arithmetic is
    :mod:`sim.model.offering`'s)."""
    if value is None:
        return None
    t = _Table(value, "offering", _OFFERING_KEYS)
    deal_keys = [k for k in _DEAL_KEYS if t.has(k)]
    deal: Deal | None = None
    shares: int | None = None
    if t.has("shares_outstanding"):
        if deal_keys:
            raise ScenarioError(
                f"give either shares_outstanding (the simple form) or the deal "
                f"(offering.{deal_keys[0]}), not both",
                path=t.key("shares_outstanding"),
            )
        shares = _int(t.need("shares_outstanding"), t.key("shares_outstanding"), lo=1)
    else:
        if not deal_keys:
            raise ScenarioError(
                "expected shares_outstanding (the simple form) or shares_before and "
                "new_shares (the deal)",
                path="offering",
            )
        if valuation.ipo_proceeds.support() != (0.0, 0.0):
            raise ScenarioError(
                "the deal's proceeds follow from the price (offering.new_shares): "
                "valuation.ipo_proceeds is the simple form's; give one or the other",
                path="valuation.ipo_proceeds",
            )

        def share(key: str) -> float:
            x = parse_fraction(t.get(key, 0.0), path=t.key(key), lo=-math.inf, hi=math.inf)
            if not 0.0 <= x < 1.0:
                raise ScenarioError(f"expected a fraction in [0, 1), got {x:g}", path=t.key(key))
            return x

        deal = Deal(
            _int(t.need("shares_before"), t.key("shares_before"), lo=1),
            _int(t.need("new_shares"), t.key("new_shares"), lo=1),
            share("upsize_option"),
            share("over_allotment"),
            share("fees"),
        )
    lo, hi, text, currency, rate = _price_pair(t, "price_range", fx)
    if t.has("price_grid"):
        g_lo, g_hi, _, grid_currency, _ = _price_pair(t, "price_grid", fx)
        if grid_currency != currency:
            raise ScenarioError(
                f"expected prices in the range's currency {currency}, got {grid_currency}",
                path=t.key("price_grid"),
            )
    else:
        g_lo, g_hi = lo * GRID_DEFAULT[0], hi * GRID_DEFAULT[1]
    discount = parse_distribution(
        t.get("ipo_discount", 0.0),
        path=t.key("ipo_discount"),
        value=lambda v, p: parse_fraction(v, path=p, lo=-math.inf, hi=math.inf),
    )
    _dist_in(discount, t.key("ipo_discount"), 0.0, 1.0, what="IPO discount")
    if discount.support()[0] >= 1.0:
        raise ScenarioError(
            "the IPO discount must stay below 1 (an offer at a price of 0)",
            path=t.key("ipo_discount"),
        )
    adjustment = parse_fraction(
        t.get("downward_adjustment", 0.0),
        path=t.key("downward_adjustment"),
        lo=-math.inf,
        hi=math.inf,
    )
    if not 0.0 <= adjustment <= MAX_DOWNWARD_ADJUSTMENT:
        raise ScenarioError(
            f"expected a fraction in [0, {MAX_DOWNWARD_ADJUSTMENT:g}] (Hong Kong allows an "
            f"offer at most 10% below the range's low, HKEX-GL90-18), got {adjustment:g}",
            path=t.key("downward_adjustment"),
        )
    t.done()
    return Offering(
        price_range_usd=(lo, hi),
        price_range_text=text,
        currency=currency,
        usd_per_unit=rate,
        price_grid_usd=(g_lo, g_hi),
        ipo_discount=discount,
        shares_outstanding=shares,
        deal=deal,
        downward_adjustment=adjustment,
    )


def _price_pair(
    t: _Table, key: str, fx: Mapping[str, float]
) -> tuple[float, float, tuple[str, str], str, float]:
    """``[low, high]`` money per share in one currency: USD low, high, the text, the
    currency and its rate."""
    pr = _list(t.need(key), t.key(key))
    if len(pr) != 2:
        raise ScenarioError(f"expected [low, high], got {len(pr)} values", path=t.key(key))
    read = [money_and_currency(p, path=f"{t.key(key)}[{i}]", fx=fx) for i, p in enumerate(pr)]
    (lo, cur_lo, rate), (hi, cur_hi, _) = read
    if cur_lo != cur_hi:
        raise ScenarioError(
            f"expected both prices in one currency, got {cur_lo} and {cur_hi}", path=t.key(key)
        )
    if lo > hi:
        raise ScenarioError("expected low <= high", path=t.key(key))
    return lo, hi, (str(pr[0]), str(pr[1])), cur_lo, rate


#: The tables whose scalar inputs a regime may override (``[regimes.<table>]``). A table
#: joins by adding its name here and its re-reader in :func:`build_scenario`.
_CORRELATION_KEYS = _declare("correlations", required=("between", "spearman"))


def _parse_correlations(value: object, known: Mapping[str, Distribution]) -> list[Correlation]:
    out: list[Correlation] = []
    seen: set[tuple[str, str]] = set()
    for i, entry in enumerate(_list(value, "correlations")):
        path = f"correlations[{i}]"
        t = _Table(entry, path, _CORRELATION_KEYS)
        between = _list(t.need("between"), t.key("between"))
        if len(between) != 2:
            raise ScenarioError(
                f"expected two input names, got {len(between)}", path=t.key("between")
            )
        a, b = (_str(x, f"{t.key('between')}[{j}]") for j, x in enumerate(between))
        for j, n in enumerate((a, b)):
            if n not in known:
                raise ScenarioError(
                    unknown_key_message(n, known, what="input"), path=f"{t.key('between')}[{j}]"
                )
            if known[n].is_fixed:
                raise ScenarioError(
                    f"input {n!r} is fixed: there is nothing to correlate",
                    path=f"{t.key('between')}[{j}]",
                )
        if a == b:
            raise ScenarioError("an input cannot be correlated with itself", path=t.key("between"))
        pair = (min(a, b), max(a, b))
        if pair in seen:
            raise ScenarioError(
                f"duplicate correlation between {a!r} and {b!r}", path=t.key("between")
            )
        seen.add(pair)
        rho = _num(t.need("spearman"), t.key("spearman"), lo=-1.0, hi=1.0)
        t.done()
        out.append(Correlation((a, b), rho))
    if out:
        check_correlation_matrix(out)
    return out


def check_correlation_matrix(correlations: list[Correlation]) -> None:
    """Raise if the implied rank-correlation matrix is not positive semi-definite.

    The error names the pairs whose inputs carry the offending (negative) eigenvector.
    """
    names = sorted({n for c in correlations for n in c.between})
    index = {n: i for i, n in enumerate(names)}
    matrix = np.eye(len(names))
    for c in correlations:
        i, j = index[c.between[0]], index[c.between[1]]
        matrix[i, j] = matrix[j, i] = c.spearman
    values, vectors = np.linalg.eigh(matrix)
    if values[0] >= -1e-10:
        return
    weight = np.abs(vectors[:, 0])
    involved = {names[i] for i in np.flatnonzero(weight > 0.2 * weight.max())}
    pairs = [
        f"{c.between[0]} ~ {c.between[1]} ({c.spearman:g})"
        for c in correlations
        if c.between[0] in involved and c.between[1] in involved
    ]
    raise ScenarioError(
        "correlation matrix is not positive semi-definite (smallest eigenvalue "
        f"{values[0]:.3g}); these pairs are inconsistent: {'; '.join(pairs)}",
        path="correlations",
    )


_EXPECT_KEYS = _declare(
    "expect",
    required=("metric", "stat"),
    # threshold and q are required by some stats; exactly one bound is required.
    optional=("name", "threshold", "q", "at_most", "at_least", "between"),
)


def _parse_expect(t: _Table, path: str, s: _Parsed, fx: Mapping[str, float]) -> Expectation:
    # A name is optional (the design's own examples have none); unnamed ones are shown
    # by their statement.
    name = _label(t.get("name"), t.key("name")) if t.has("name") else ""
    metric = _str(t.need("metric"), t.key("metric"))
    unit = metric_names.unit(metric, s, path=t.key("metric"))
    stat = _choice(t.need("stat"), t.key("stat"), EXPECT_STATS, what="stat")
    if unit == "probability" and stat != "mean":
        raise ScenarioError(
            f'{metric} is an indicator (its mean is a probability): it takes stat = "mean"',
            path=t.key("stat"),
        )

    def in_unit(value: object, p: str) -> float:
        if unit == "money":
            return parse_money(value, path=p, fx=fx, allow_negative=True)
        return parse_fraction(value, path=p, lo=-math.inf, hi=math.inf)

    threshold = q = None
    if stat in ("p_at_least", "p_below"):
        threshold = in_unit(t.need("threshold"), t.key("threshold"))
        bound_unit = "probability"
    else:
        bound_unit = unit
        if stat == "quantile":
            q = _num(t.need("q"), t.key("q"), lo=0.0, hi=1.0)
            if not 0.0 < q < 1.0:
                raise ScenarioError(
                    f"expected q strictly between 0 and 1, got {q:g}", path=t.key("q")
                )

    def bound(value: object, p: str) -> float:
        if bound_unit == "money":
            return parse_money(value, path=p, fx=fx, allow_negative=True)
        lim = (0.0, 1.0) if bound_unit == "probability" else (-math.inf, math.inf)
        return parse_fraction(value, path=p, lo=lim[0], hi=lim[1])

    given = [k for k in ("at_most", "at_least", "between") if t.has(k)]
    if len(given) != 1:
        raise ScenarioError(
            "expected exactly one of at_most, at_least, between"
            + (f"; got {', '.join(given)}" if given else ""),
            path=path,
        )
    lo: float | None = None
    hi: float | None = None
    if given[0] == "at_most":
        hi = bound(t.get("at_most"), t.key("at_most"))
    elif given[0] == "at_least":
        lo = bound(t.get("at_least"), t.key("at_least"))
    else:
        pair = _list(t.get("between"), t.key("between"))
        if len(pair) != 2:
            raise ScenarioError("expected [low, high]", path=t.key("between"))
        lo, hi = (bound(v, f"{t.key('between')}[{i}]") for i, v in enumerate(pair))
        if lo > hi:
            raise ScenarioError("expected low <= high", path=t.key("between"))
    t.done(("threshold", "q") if stat in ("quantile", "mean") else ())
    if stat == "mean":
        for k in ("threshold", "q"):
            if t.has(k):
                raise ScenarioError(f"not used with stat = {stat!r}", path=t.key(k))
    if stat == "quantile" and t.has("threshold"):
        raise ScenarioError("not used with stat = 'quantile'", path=t.key("threshold"))
    if stat in ("p_at_least", "p_below") and t.has("q"):
        raise ScenarioError(f"not used with stat = {stat!r}", path=t.key("q"))
    return Expectation(name, metric, stat, threshold, q, (lo, hi), unit)


_SIMULATION_KEYS = _declare("simulation", required=(), optional=("paths", "seed", "sampler"))


def _parse_simulation(value: object) -> SimulationDefaults:
    t = _Table(value, "simulation", _SIMULATION_KEYS)
    paths = _int(t.get("paths", DEFAULT_PATHS), t.key("paths"), lo=1, hi=MAX_PATHS)
    seed = _int(t.get("seed", DEFAULT_SEED), t.key("seed"), lo=0, hi=2**63 - 1)
    sampler = _choice(t.get("sampler", "random"), t.key("sampler"), SAMPLERS, what="sampler")
    t.done()
    return SimulationDefaults(paths, seed, sampler)
