"""The scenario as data: frozen dataclasses, money in USD, and the format's constants."""

from __future__ import annotations

import datetime
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, TypeAlias, TypeVar, get_args

from sim import format as fmt
from sim.distributions import Distribution, RegimeIndex
from sim.money import format_money
from sim.valuation import Valuation
from sim.valuation.ev_to_sales import comparables_of

Sampler: TypeAlias = Literal["random", "lhs", "sobol"]
Stat: TypeAlias = Literal["p_at_least", "p_below", "quantile", "mean"]
SAMPLERS: tuple[Sampler, ...] = get_args(Sampler)
EXPECT_STATS: tuple[Stat, ...] = get_args(Stat)
# A plain name (it names an output folder): not starting with '.', so no name is hidden,
# nor can it take the reserved prefix of ipo-sim's temporary folders (sim.output.outputs).
_NAME_RE = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
_MERGE_KEYS = {
    "segments": "name",
    "shocks": "name",
    "targets": "label",
    "expect": "name",
    "correlations": "between",
    "regimes": "name",
}
_DECLARED: dict[str, Mapping[str, bool]] = {}
KEYS: Mapping[str, Mapping[str, bool]] = MappingProxyType(_DECLARED)
"""Every key of every scenario table ("" is the top level), and whether it is required
(``threshold``, ``q`` and the bounds of ``[[expect]]`` are required by its ``stat``).
``[fx]`` and the share tables (``regions``, ``regions_at_horizon``) take names of the
user's choosing. Each table's parser declares its keys next to it (:func:`_declare`), and
those declarations fill this table; the parser reads no key it did not declare, the
loader takes no key outside this table, and docs/scenarios.md is tested against it."""
# Share tables are replaced whole under `extends`: shares must sum to 1, so a child's
# split is meant as the whole split, not as an edit of some regions.
_REPLACED_TABLES = frozenset({"regions", "regions_at_horizon"})
MAX_FILE_BYTES = 4 * 2**20
"""The largest scenario file read (4 MiB): the shipped ones are about 10 KB."""
MAX_EXTENDS = 32
"""The longest ``extends`` chain: a file and at most this many bases below it."""
MAX_NESTING = 64
"""The deepest nesting of tables and arrays in a scenario file (a mixture of mixtures
of distributions takes two levels per mixture; see :data:`MAX_DISTRIBUTION_NESTING`)."""
_C = TypeVar("_C", bound=str)
DEFAULT_PATHS = 200_000
#: The most paths a run may have (``simulation.paths`` and the command line's --paths).
MAX_PATHS = 10**12
#: The longest name (of a scenario, segment or shock): a scenario's name names a folder.
MAX_NAME_LENGTH = 100
DEFAULT_SEED = 20250618
#: The pricing grid's default span (``[offering] grid``), as fractions of the range's low
#: and high (DESIGN 3.2).
GRID_DEFAULT = (0.70, 1.50)


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True, slots=True, eq=False)
class Segment:
    """A product line.

    ``shares`` and ``shares_at_horizon`` are aligned with :attr:`Scenario.regions`.
    ``booked`` is revenue already booked in the base year (USD), when given: the base
    revenue's support lies at or above it.
    """

    name: str
    revenue: Distribution
    growth: Distribution
    fade: float
    terminal_growth: float
    volatility: float
    shares: tuple[float, ...]
    region_concentration: float | None
    shares_at_horizon: tuple[float, ...] | None
    booked: float | None = None
    growth_by_year: tuple[Distribution, ...] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class Shock:
    """An adverse event (app-store removal, ban, sanction) hitting named regions/segments.

    ``recovery_years`` is ``None`` for a permanent loss.
    """

    name: str
    regions: tuple[str, ...]
    segments: tuple[str, ...]
    annual_probability: Distribution
    severity: Distribution
    recovery_years: Distribution | None
    max_events: int | None
    multiple_hit: float


@dataclass(frozen=True, slots=True)
class Deal:
    """The deal of ``[offering]`` (DESIGN.md 3.2): counts and fractions as written.

    The arithmetic (shares sold, proceeds, shares after) is :mod:`sim.model.offering`'s.
    """

    shares_before: int
    new_shares: int
    upsize_option: float
    over_allotment: float
    fees: float


@dataclass(frozen=True, slots=True, eq=False)
class Offering:
    """The offering: the price range, and the deal or the simple form's fixed share count.

    Exactly one of ``shares_outstanding`` (the simple form: fixed shares, with
    ``valuation.ipo_proceeds`` fixed proceeds) and ``deal`` is set.

    Attributes
    ----------
    price_range_usd : (low, high) USD per share.
    price_range_text : the range as written.
    currency : the ISO code the range is written in (the offer currency).
    usd_per_unit : USD per unit of ``currency`` (1 for USD).
    price_grid_usd : (low, high) USD per share the pricing grid spans.
    ipo_discount : the discount of the offer to fair value per share, in [0, 1).
    downward_adjustment : how far below the range's low the offer may be priced, a
        fraction in [0, 0.1] (Hong Kong's pricing flexibility, HKEX-GL90-18); 0 clips
        the offer at the low.
    """

    price_range_usd: tuple[float, float]
    price_range_text: tuple[str, str]
    currency: str
    usd_per_unit: float
    price_grid_usd: tuple[float, float]
    ipo_discount: Distribution
    shares_outstanding: int | None = None
    deal: Deal | None = None
    downward_adjustment: float = 0.0


TargetAt: TypeAlias = Literal["fair", "offer", "day1", "end", "peak"]
TARGET_AT: tuple[TargetAt, ...] = get_args(TargetAt)
#: Values of a target's ``at`` that need the ``[aftermarket]`` table.
TARGET_AT_AFTERMARKET: tuple[TargetAt, ...] = ("day1", "end", "peak")


@dataclass(frozen=True, slots=True)
class Aftermarket:
    """``[aftermarket]`` (DESIGN 3.5): from the day-1 close through ``days`` trading days.

    ``adjustment`` (lambda in [0, 1]: the share of the log gap between fair value per share
    and the offer price the day-1 close closes), ``day1_noise`` (epsilon, the market's log
    first-day return beyond it), ``volatility`` (annualised, of the log price), ``drift``
    (annual, of the log price) and ``lockup_drop`` (the fraction lost on ``lockup_day``)
    are scalar inputs; the day-1 close is ``offer x exp(lambda log(fair / offer) +
    epsilon)`` and the walk is :mod:`sim.model.aftermarket`'s.
    """

    adjustment: Distribution
    day1_noise: Distribution
    volatility: Distribution
    drift: Distribution
    days: int
    lockup_day: int | None = None
    lockup_drop: Distribution | None = None

    def scalar_inputs(self) -> dict[str, Distribution]:
        """The table's random inputs by stable name (``aftermarket.<key>``)."""
        out = {
            "aftermarket.adjustment": self.adjustment,
            "aftermarket.day1_noise": self.day1_noise,
            "aftermarket.volatility": self.volatility,
            "aftermarket.drift": self.drift,
        }
        if self.lockup_drop is not None:
            out["aftermarket.lockup_drop"] = self.lockup_drop
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "adjustment": self.adjustment.to_dict(),
            "day1_noise": self.day1_noise.to_dict(),
            "volatility": self.volatility.to_dict(),
            "drift": self.drift.to_dict(),
            "days": self.days,
            "lockup_day": self.lockup_day,
            "lockup_drop": None if self.lockup_drop is None else self.lockup_drop.to_dict(),
        }


@dataclass(frozen=True, slots=True)
class Target:
    """A labelled valuation target; ``text`` keeps the amount as the user wrote it.

    ``at`` is the value it is read against: ``fair`` (the equity value), ``offer`` (the
    market value at the offer price), or with ``[aftermarket]`` the market value at the
    day-1 close (``day1``), after ``days`` trading days (``end``) or at the highest
    daily close in between (``peak``).
    """

    label: str
    value_usd: float
    text: str
    at: TargetAt = "fair"


@dataclass(frozen=True, slots=True, eq=False)
class Regime:
    """A named state of the market (DESIGN.md 3.4), drawn on a share ``weight`` of paths.

    ``overrides`` maps scalar input names (``"valuation.multiple"``) to the distribution
    the input follows on this regime's paths; the others follow the base tables.
    """

    name: str
    weight: float
    overrides: Mapping[str, Distribution]


#: The keyed scalar input that draws each path's regime (its index, 0..K-1).
REGIME_INPUT = "regime"


@dataclass(frozen=True, slots=True)
class Correlation:
    """A Spearman rank correlation between two named scalar inputs."""

    between: tuple[str, str]
    spearman: float


@dataclass(frozen=True, slots=True)
class Expectation:
    """An assumption stated in the scenario and tested with Monte Carlo error in mind.

    ``threshold`` is in the metric's unit (USD, a share, or a probability); ``bounds``
    ``(lower, upper)``, with ``None`` for an open side, in the statistic's (a probability
    for ``p_at_least`` / ``p_below``, else the metric's). ``unit`` is the metric's unit
    (``money``, ``fraction`` or ``probability``; ``""`` where unknown), for the text.
    """

    name: str
    metric: str
    stat: Stat
    threshold: float | None
    q: float | None
    bounds: tuple[float | None, float | None]
    unit: str = ""

    @property
    def text(self) -> str:
        """A one-line statement of the assertion, for reports and the command line."""
        threshold = self._in_metric_unit(self.threshold)
        what = {
            "p_at_least": f"P({self.metric} >= {threshold})",
            "p_below": f"P({self.metric} < {threshold})",
            "quantile": f"q{self.q:g}({self.metric})" if self.q is not None else "",
            "mean": f"mean({self.metric})",
        }[self.stat]
        lo, hi = self.bounds
        if lo is not None and hi is not None:
            bound = f"in [{self.statistic_text(lo)}, {self.statistic_text(hi)}]"
        elif hi is not None:
            bound = f"<= {self.statistic_text(hi)}"
        else:
            bound = f">= {self.statistic_text(lo)}"
        return f"{self.name}: {what} {bound}" if self.name else f"{what} {bound}"

    def statistic_text(self, x: float | None, digits: int = 6) -> str:
        """A value of the statistic (a bound, an estimate) as a person reads it.

        A probability for ``p_at_least`` / ``p_below``; else in the metric's unit (money
        per share for ``value_per_share``); a plain number to ``digits`` significant
        figures.
        """
        if self.stat in ("p_at_least", "p_below"):
            return _fmt_num(x, digits)
        return self._in_metric_unit(x, digits)

    def _in_metric_unit(self, x: float | None, digits: int = 6) -> str:
        if x is not None and self.unit == "money" and self.metric == "value_per_share":
            return fmt.per_share(x)
        return _fmt_num(x, digits)


@dataclass(frozen=True, slots=True)
class SimulationDefaults:
    """Run defaults from ``[simulation]``; the command line overrides them."""

    paths: int = DEFAULT_PATHS
    seed: int = DEFAULT_SEED
    sampler: Sampler = "random"


@dataclass(frozen=True, slots=True, eq=False)
class Scenario:
    """A validated scenario. Every amount is USD; every name cross-reference resolved.

    Attributes
    ----------
    years : tuple[int, ...]
        The simulated years, ``base_year + 1 .. base_year + horizon``.
    regions : tuple[str, ...]
        Every region named by a segment, in order of first appearance.
    raw : dict
        The resolved TOML (after ``extends``), as the user wrote it.
    sha256 : str
        SHA-256 of the canonical JSON of ``raw``: identifies the scenario's content.
    as_of, listing_date : datetime.date or None
        The information date and the date the values are for (DESIGN 3.1), when given.
    currency : str
        The reporting currency (``[scenario] currency``, default USD): reports, tables and
        summary.json give money in it, converted at :attr:`usd_per_unit`. The scenario
        itself, like every amount here, stays in USD.
    """

    name: str
    description: str
    base_year: int
    horizon: int
    as_of: datetime.date | None
    listing_date: datetime.date | None
    fx: Mapping[str, float]
    regions: tuple[str, ...]
    segments: tuple[Segment, ...]
    shocks: tuple[Shock, ...]
    valuation: Valuation
    offering: Offering | None
    targets: tuple[Target, ...]
    correlations: tuple[Correlation, ...]
    expectations: tuple[Expectation, ...]
    simulation: SimulationDefaults
    source: Path | None
    raw: Mapping[str, Any] = field(repr=False)
    sha256: str = ""
    regimes: tuple[Regime, ...] = ()
    aftermarket: Aftermarket | None = None
    currency: str = "USD"

    @property
    def usd_per_unit(self) -> float:
        """USD per unit of the reporting currency (its ``[fx]`` rate; 1 for USD)."""
        return 1.0 if self.currency == "USD" else float(self.fx[self.currency])

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.base_year + 1, self.base_year + self.horizon + 1))

    def scalar_inputs(self) -> dict[str, Distribution]:
        """Every scalar input (drawn once per path) by its stable name, fixed ones included.

        These names key the random streams, the correlations and the sensitivity analysis.
        """
        return _scalar_inputs(
            self.segments,
            self.shocks,
            self.valuation,
            self.offering,
            self.regimes,
            self.aftermarket,
        )

    def regime_overrides(self) -> dict[str, tuple[Distribution | None, ...]]:
        """Per overridden scalar input, its distribution in each regime (None: the base's)."""
        names = {name for r in self.regimes for name in r.overrides}
        return {name: tuple(r.overrides.get(name) for r in self.regimes) for name in sorted(names)}

    def to_dict(self) -> dict[str, Any]:
        """The resolved scenario as JSON-able data, every amount in USD."""
        regions = self.regions
        return {
            "scenario": {
                "name": self.name,
                "description": self.description,
                "base_year": self.base_year,
                "horizon": self.horizon,
                "years": list(self.years),
                "as_of": _iso(self.as_of),
                "listing_date": _iso(self.listing_date),
                "currency": self.currency,
                "sha256": self.sha256,
                "source": str(self.source) if self.source else None,
            },
            "fx": dict(self.fx),
            "regions": list(regions),
            "segments": [
                {
                    "name": s.name,
                    "revenue": s.revenue.to_dict(),
                    "growth": (
                        s.growth.to_dict()
                        if s.growth_by_year is None
                        else [d.to_dict() for d in s.growth_by_year]
                    ),
                    "fade": s.fade,
                    "terminal_growth": s.terminal_growth,
                    "volatility": s.volatility,
                    "regions": _share_dict(regions, s.shares),
                    "region_concentration": s.region_concentration,
                    "regions_at_horizon": (
                        _share_dict(regions, s.shares_at_horizon)
                        if s.shares_at_horizon is not None
                        else None
                    ),
                    "booked": s.booked,
                }
                for s in self.segments
            ],
            "shocks": [
                {
                    "name": k.name,
                    "regions": list(k.regions),
                    "segments": list(k.segments),
                    "annual_probability": k.annual_probability.to_dict(),
                    "severity": k.severity.to_dict(),
                    "recovery_years": (
                        k.recovery_years.to_dict() if k.recovery_years is not None else "permanent"
                    ),
                    "max_events": k.max_events,
                    "multiple_hit": k.multiple_hit,
                }
                for k in self.shocks
            ],
            "valuation": self.valuation.to_dict(),
            "comparables": _comparables_dict(self.valuation),
            "offering": _offering_dict(self.offering) if self.offering else None,
            "aftermarket": self.aftermarket.to_dict() if self.aftermarket else None,
            "targets": [
                {"label": t.label, "value_usd": t.value_usd, "written": t.text, "at": t.at}
                for t in self.targets
            ],
            "correlations": [
                {"between": list(c.between), "spearman": c.spearman} for c in self.correlations
            ],
            "expect": [
                {
                    "name": e.name,
                    "metric": e.metric,
                    "stat": e.stat,
                    "threshold": e.threshold,
                    "q": e.q,
                    "bounds": list(e.bounds),
                    "text": e.text,
                }
                for e in self.expectations
            ],
            "regimes": [
                {
                    "name": r.name,
                    "weight": r.weight,
                    "overrides": {k: d.to_dict() for k, d in r.overrides.items()},
                }
                for r in self.regimes
            ],
            "simulation": {
                "paths": self.simulation.paths,
                "seed": self.simulation.seed,
                "sampler": self.simulation.sampler,
            },
        }


def growth_entry(segment_key: str, k: int) -> str:
    """The input name of year k's growth (k from 1) of a segment whose growth is given year
    by year: ``growth_entry("segments.x", 2) == "segments.x.growth[2]"``."""
    return f"{segment_key}.growth[{k}]"


def _scalar_inputs(
    segments: Sequence[Segment],
    shocks: Sequence[Shock],
    valuation: Valuation,
    offering: Offering | None = None,
    regimes: Sequence[Regime] = (),
    aftermarket: Aftermarket | None = None,
) -> dict[str, Distribution]:
    """See :meth:`Scenario.scalar_inputs` (the loader asks before the Scenario exists)."""
    out: dict[str, Distribution] = {}
    for seg in segments:
        out[f"segments.{seg.name}.revenue"] = seg.revenue
        if seg.growth_by_year is None:
            out[f"segments.{seg.name}.growth"] = seg.growth
        else:
            for k, dist in enumerate(seg.growth_by_year, start=1):
                out[growth_entry(f"segments.{seg.name}", k)] = dist
    for shock in shocks:
        out[f"shocks.{shock.name}.annual_probability"] = shock.annual_probability
        out[f"shocks.{shock.name}.severity"] = shock.severity
        if shock.recovery_years is not None:
            out[f"shocks.{shock.name}.recovery_years"] = shock.recovery_years
    out.update(valuation.scalar_inputs())
    if offering is not None:
        out["offering.ipo_discount"] = offering.ipo_discount
    if regimes:
        out[REGIME_INPUT] = RegimeIndex(tuple(r.weight for r in regimes))
    if aftermarket is not None:
        out.update(aftermarket.scalar_inputs())
    return out


@dataclass(frozen=True, slots=True, eq=False)
class _Parsed:
    """The parts of a scenario that name its metrics, parsed before its expectations."""

    base_year: int
    years: tuple[int, ...]
    shocks: tuple[Shock, ...]
    offering: Offering | None
    targets: tuple[Target, ...]
    valuation: Valuation
    regimes: tuple[Regime, ...] = ()
    aftermarket: Aftermarket | None = None


def _comparables_dict(valuation: Valuation) -> dict[str, Any] | None:
    peers = comparables_of(valuation)
    return None if peers is None else peers.to_dict()


def _iso(day: datetime.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _offering_dict(o: Offering) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if o.deal is not None:
        d = o.deal
        out |= {
            "shares_before": d.shares_before,
            "new_shares": d.new_shares,
            "upsize_option": d.upsize_option,
            "over_allotment": d.over_allotment,
            "fees": d.fees,
        }
    else:
        out["shares_outstanding"] = o.shares_outstanding
    return out | {
        "price_range_usd": list(o.price_range_usd),
        "price_range": list(o.price_range_text),
        "currency": o.currency,
        "price_grid_usd": list(o.price_grid_usd),
        "ipo_discount": o.ipo_discount.to_dict(),
        "downward_adjustment": o.downward_adjustment,
    }


def _share_dict(regions: tuple[str, ...], shares: tuple[float, ...]) -> dict[str, float]:
    return {r: w for r, w in zip(regions, shares, strict=True) if w > 0}


def _fmt_num(x: float | None, digits: int = 6) -> str:
    if x is None:
        return "-"
    if abs(x) >= 1e5:
        return format_money(x)
    return f"{x:.{digits}g}"
