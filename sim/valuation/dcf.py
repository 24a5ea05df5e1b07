"""``method = "dcf"``: EV = the discounted free cash flows to the firm, with failure risk.

Damodaran's young-growth model (DESIGN.md section 3.3), on each path's revenue after
shocks. The operating margin moves linearly from ``operating_margin`` in the base year to
``target_margin`` in ``margin_year``, then holds (or, with ``margins``, is given year by
year); ``EBIT_t = R_t m_t``; tax at ``tax_rate`` on positive EBIT (with ``nol``, on what
is left of it after the carried-forward losses); reinvestment
``(R_t - R_{t-1}) / sales_to_capital``; ``FCFF_t = EBIT_t - tax_t - reinvestment_t`` at
year ends, from ``valuation.year`` to the horizon's last year. The k-th year (k = 1 for
``valuation.year``) is discounted by ``DF_k = prod_{j <= k} 1 / (1 + wacc_j)`` to the start
of ``valuation.year`` (``(1 + wacc)^-k`` for one rate); with ``discounting = "mid-year"``
each year's cash flow arrives half a year earlier: ``DF_k (1 + wacc_k)^0.5``. The terminal
value at the last year N is ``FCFF_{N+1} / (terminal_wacc - g)`` with
``FCFF_{N+1} = EBIT_N (1 + g)(1 - terminal_tax_rate) - reinvestment_{N+1}`` (taxed in
full: an NOL still left at N is not carried into the perpetuity), discounted by ``DF_N``
(and, mid-year, times ``(1 + terminal_wacc)^0.5``). Terminal reinvestment is
``EBIT_N (1 + g)(1 - tax) g / terminal_roic`` when ``terminal_roic`` is given, and
otherwise the explicit years' rule carried on, revenue growing at g:
``g R_N / sales_to_capital`` (growth is never free).

Year-by-year inputs
-------------------
``tax_rate``, ``sales_to_capital``, ``wacc`` and ``margins`` may be arrays, one entry per
simulated year (entry k for the k-th simulated year, ``base_year + k``); each entry is
an input of its own, named ``"valuation.wacc[k]"`` (k from 1), drawn, correlated and
ranked like any other. ``terminal_wacc`` and ``terminal_tax_rate`` default to the last
year's.

Failure (the rule; docs/scenarios.md says the same)
---------------------------------------------------
Write ``G`` for a path's going-concern EV, ``C`` for its cash at the valuation (net cash
plus IPO proceeds) and ``d`` for ``distress_proceeds``. A failed path's EV is never above
``G``: failure can only take value away.

- ``failure = "fixed"`` (the default): a path fails when its uniform draw
  ``valuation.failure`` is below ``failure_probability`` (common random numbers: a larger
  probability fails a superset of the paths). Its business then fetches ``d G`` where
  ``G > 0`` (Damodaran's distress proceeds, a share of the going-concern value; the cash
  stays the owners'); where ``G <= 0`` there is nothing to sell and the going concern's
  losses are already in its value, so the EV stays ``G``: ``min(d max(G, 0), G)``.
- ``failure = "runway"``: a path fails in the first explicit year t whose cumulative
  free cash flow from the valuation year on is below ``-C`` (the burn has used up the
  cash). What is left at t is the rest of the business sold at ``d`` of its going-concern
  value then, ``d max(V_t, 0)``, plus the cash left, ``C + sum_{k <= t} FCFF_k`` (below
  0: owed to whoever funded the shortfall, ahead of the owners); discounted from t, its
  present value is ``d max(PV_{>t}, 0) + DF_t (C + sum_{k <= t} FCFF_k)``, and the EV is
  that less ``C``, capped at ``G``.
- ``failure = "both"``: either rule, the lower EV where both apply.

The equity value made from the EV (:mod:`sim.model`) is ``max(EV + C - options_value, 0)``:
limited liability, the owners can lose their stake and no more. Each path's value is
therefore non-increasing in the failure probability, and so is every quantile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self, TypeAlias

import numpy as np
import numpy.typing as npt

from sim.distributions import Distribution, Uniform
from sim.errors import ScenarioError, unknown_key_message
from sim.valuation import FloatArray, Keys, Paths, Shared, ValuationMethod, Valued

__all__ = [
    "DISCOUNTING",
    "FAILURE_DRAW",
    "FAILURE_RULES",
    "THIN_SPREAD",
    "THIN_SPREAD_SHARE",
    "Dcf",
    "DcfParts",
    "Yearly",
    "entry_name",
]

THIN_SPREAD = 0.01
"""A terminal ``wacc - g`` below this (1 point) is thin: the terminal value is then over
100 times the next year's cash flow and a run warns when more than
:data:`THIN_SPREAD_SHARE` of its paths have one."""
THIN_SPREAD_SHARE = 0.01
"""The share of paths with a thin terminal spread above which a run warns."""

FAILURE_DRAW = "valuation.failure"
"""The uniform scalar input a path's failure is drawn against (fails when below p)."""
FAILURE_RULES = ("fixed", "runway", "both")
"""The values of ``valuation.failure``."""
DISCOUNTING = ("end-year", "mid-year")
"""The values of ``valuation.discounting``."""

Yearly: TypeAlias = Distribution | tuple[Distribution, ...]
"""One input for every year, or one per simulated year (entry k for year k)."""


def entry_name(name: str, k: int) -> str:
    """The input name of entry ``k`` (from 1) of a year-by-year key: ``valuation.wacc[3]``."""
    return f"{name}[{k}]"


def _named(name: str, value: Yearly) -> dict[str, Distribution]:
    if isinstance(value, tuple):
        return {entry_name(name, k): d for k, d in enumerate(value, start=1)}
    return {name: value}


def _rows(draws: Mapping[str, FloatArray], name: str, value: Yearly, v: int, rows: int) -> Any:
    """Rows ``v..rows-1`` of a year-by-year input, (rows - v, n); a single input, (n,)."""
    if isinstance(value, tuple):
        return np.stack([np.asarray(draws[entry_name(name, k)]) for k in range(v, rows)])
    return draws[name]


def _last(name: str, value: Yearly) -> tuple[str, Distribution]:
    if isinstance(value, tuple):
        return entry_name(name, len(value)), value[-1]
    return name, value


@dataclass(frozen=True, slots=True, eq=False)
class DcfParts:
    """The DCF of a block of paths in its parts (USD; arrays path-last).

    Attributes
    ----------
    margin : (rows, n) the operating margin of each year, the base year in row 0 (NaN
        there when ``margins`` gives the years and no ``operating_margin`` the base year).
    explicit : (n,) the present value of the explicit years' free cash flows.
    terminal : (n,) the present value of the terminal value.
    failed : (n,) whether the path failed (by either rule).
    ev : (n,) the EV: ``explicit + terminal`` (the going concern), or on a failed path
        what failure leaves (never more).
    runway_failed : (n,) whether the path's burn used up its cash (``failure`` runway or
        both; all False otherwise).
    """

    margin: FloatArray
    explicit: FloatArray
    terminal: FloatArray
    failed: npt.NDArray[np.bool_]
    ev: FloatArray
    runway_failed: npt.NDArray[np.bool_]

    @property
    def going_concern(self) -> FloatArray:
        """(n,) the EV had the path not failed: ``explicit + terminal``."""
        out: FloatArray = self.explicit + self.terminal
        return out


_TRUNCATE = "; truncate it with upper (below 1) in its table"


def _below_one(path: str, dist: Distribution, what: str) -> Distribution:
    """Refuse a distribution whose support reaches 1 (``[.., 1)`` ranges)."""
    lo, hi = dist.support()
    if hi >= 1.0:
        raise ScenarioError(
            f"{what} must lie below 1; {dist.describe()} has support [{lo:g}, {hi:g}]"
            + (
                _TRUNCATE if dist.to_dict().get("dist") in ("normal", "lognormal", "scipy") else ""
            ),
            path=path,
        )
    return dist


def _yearly(
    keys: Keys,
    key: str,
    default: float | None = None,
    *,
    below_one: bool = False,
    **bounds: Any,
) -> Yearly:
    """A key that is one input or an array of them, one per simulated year."""
    entries = keys.distributions(key, **bounds)
    if entries is None:
        one = keys.distribution(key, default, **bounds)
        if below_one:
            _below_one(keys.path(key), one, bounds["what"])
        return one
    if below_one:
        for k, dist in enumerate(entries, start=1):
            _below_one(entry_name(keys.path(key), k), dist, bounds["what"])
    return entries


def _choice(keys: Keys, key: str, choices: tuple[str, ...], what: str) -> str:
    text = keys.text(key, choices[0])
    if text not in choices:
        raise ScenarioError(unknown_key_message(text, choices, what=what), path=keys.path(key))
    return text


@dataclass(frozen=True, slots=True, eq=False)
class Dcf(ValuationMethod):
    """The cash flows the revenue could become, discounted, with a chance of failure.

    Attributes
    ----------
    operating_margin : Distribution or None
        The base year's operating margin (in [-10, 1]); optional with ``margins``.
    target_margin : Distribution or None
        The margin reached in ``margin_year`` (then held); None with ``margins``.
    margin_year : int or None
        The simulated year the target margin is reached; None with ``margins``.
    tax_rate : Distribution or tuple of Distribution
        On positive EBIT only, in [0, 1); one per simulated year when a tuple.
    sales_to_capital : Distribution or tuple of Distribution
        Revenue increase per unit reinvested (> 0).
    wacc : Distribution or tuple of Distribution
        The discount rate of each year, in (0, 1).
    terminal_growth : Distribution
        The cash flows' growth after the last year, below the terminal wacc.
    terminal_roic : Distribution or None
        Return on terminal reinvestment (> 0): reinvestment = g / roic of after-tax EBIT.
    failure_probability, distress_proceeds : Distribution
        In [0, 1]: the chance a path fails (fixed rule) and the fraction of its
        going-concern EV its business then fetches.
    margins : tuple of Distribution or None
        The operating margin of each simulated year (replaces the linear path).
    terminal_wacc, terminal_tax_rate : Distribution or None
        The terminal year's rates (None: the last year's).
    nol : Distribution or None
        The net operating loss carried into the valuation year (USD); None: no losses are
        carried (tax on positive EBIT only).
    options_value : Distribution or None
        Employee options (USD), a claim on the equity, subtracted before per-share values.
    discounting : str
        ``"end-year"`` or ``"mid-year"``.
    failure : str
        ``"fixed"``, ``"runway"`` or ``"both"`` (the module's docstring).
    last_year : int
        The horizon's last year (set by :meth:`fit_years`).
    """

    operating_margin: Distribution | None
    target_margin: Distribution | None
    margin_year: int | None
    tax_rate: Yearly
    sales_to_capital: Yearly
    wacc: Yearly
    terminal_growth: Distribution
    terminal_roic: Distribution | None
    failure_probability: Distribution
    distress_proceeds: Distribution
    margins_by_year: tuple[Distribution, ...] | None = None
    terminal_wacc: Distribution | None = None
    terminal_tax_rate: Distribution | None = None
    nol: Distribution | None = None
    options_value: Distribution | None = None
    discounting: str = "end-year"
    failure: str = "fixed"
    last_year: int = 0

    name: ClassVar[str] = "dcf"
    own_keys: ClassVar[dict[str, bool]] = {
        # Required unless `margins` gives the years (Dcf.parse says so).
        "operating_margin": False,
        "target_margin": False,
        "margin_year": False,
        "tax_rate": True,
        "sales_to_capital": True,
        "wacc": True,
        "terminal_growth": True,
        "terminal_roic": False,
        "failure_probability": False,
        "distress_proceeds": False,
        "margins": False,
        "terminal_wacc": False,
        "terminal_tax_rate": False,
        "nol": False,
        "options_value": False,
        "discounting": False,
        "failure": False,
    }
    input_labels: ClassVar[dict[str, str]] = {
        "valuation.operating_margin": "base-year operating margin",
        "valuation.target_margin": "target operating margin",
        "valuation.margins": "operating margin",
        "valuation.tax_rate": "tax rate",
        "valuation.sales_to_capital": "sales to capital",
        "valuation.wacc": "cost of capital (WACC)",
        "valuation.terminal_wacc": "terminal cost of capital",
        "valuation.terminal_tax_rate": "terminal tax rate",
        "valuation.terminal_growth": "terminal growth",
        "valuation.terminal_roic": "terminal ROIC",
        "valuation.failure_probability": "failure probability",
        "valuation.distress_proceeds": "distress proceeds",
        "valuation.nol": "opening NOL",
        "valuation.options_value": "employee options",
        FAILURE_DRAW: "failure (the draw)",
    }

    @classmethod
    def parse(cls, keys: Keys, shared: Shared) -> Self:
        margin_bounds: dict[str, Any] = {"lo": -10.0, "hi": 1.0, "what": "an operating margin"}
        by_year = keys.distributions("margins", **margin_bounds)
        if keys.has("margins") and by_year is None:
            raise ScenarioError(
                "expected an array of margins, one per simulated year (a single margin is "
                "operating_margin and target_margin)",
                path=keys.path("margins"),
            )
        operating = target = year = None
        if by_year is None or keys.has("operating_margin"):
            operating = keys.distribution("operating_margin", **margin_bounds)
        if by_year is None:
            target = keys.distribution("target_margin", **margin_bounds)
            year_raw = keys.number("margin_year")
            if year_raw != int(year_raw):
                raise ScenarioError(
                    f"expected a year (an integer), got {year_raw:g}",
                    path=keys.path("margin_year"),
                )
            year = int(year_raw)
        else:
            for key in ("target_margin", "margin_year"):
                if keys.has(key):
                    raise ScenarioError(
                        "margins gives every year's margin: drop target_margin and margin_year",
                        path=keys.path(key),
                    )
        tax_bounds: dict[str, Any] = {"lo": 0.0, "hi": 1.0, "what": "the tax rate"}
        tax = _yearly(keys, "tax_rate", below_one=True, **tax_bounds)
        s2c = _yearly(keys, "sales_to_capital", lo=0.0, lo_open=True, what="sales to capital")
        wacc_bounds: dict[str, Any] = {"lo": 0.0, "hi": 1.0, "lo_open": True, "what": "the wacc"}
        wacc = _yearly(keys, "wacc", below_one=True, **wacc_bounds)
        terminal_wacc = terminal_tax = None
        if keys.has("terminal_wacc"):
            terminal_wacc = keys.distribution("terminal_wacc", **wacc_bounds)
            _below_one(keys.path("terminal_wacc"), terminal_wacc, "the wacc")
        if keys.has("terminal_tax_rate"):
            terminal_tax = keys.distribution("terminal_tax_rate", **tax_bounds)
            _below_one(keys.path("terminal_tax_rate"), terminal_tax, "the tax rate")
        growth = keys.distribution("terminal_growth", lo=-1.0, lo_open=True, what="growth")
        roic = None
        if keys.has("terminal_roic"):
            roic = keys.distribution("terminal_roic", lo=0.0, lo_open=True, what="the ROIC")
        failure = _choice(keys, "failure", FAILURE_RULES, "failure rule")
        if failure == "runway" and keys.has("failure_probability"):
            raise ScenarioError(
                'failure = "runway" fails paths by their cash alone: drop '
                'failure_probability, or write failure = "both"',
                path=keys.path("failure_probability"),
            )
        p = keys.distribution("failure_probability", 0.0, lo=0.0, hi=1.0, what="a probability")
        d = keys.distribution("distress_proceeds", 0.0, lo=0.0, hi=1.0, what="a fraction")
        money: dict[str, Any] = {"unit": "money", "lo": 0.0, "what": "an amount"}
        nol = keys.distribution("nol", **money) if keys.has("nol") else None
        options = None
        if keys.has("options_value"):
            options = keys.distribution("options_value", **money)
        discounting = _choice(keys, "discounting", DISCOUNTING, "discounting")
        out = cls(
            *shared,
            operating,
            target,
            year,
            tax,
            s2c,
            wacc,
            growth,
            roic,
            p,
            d,
            by_year,
            terminal_wacc,
            terminal_tax,
            nol,
            options,
            discounting,
            failure,
        )
        out._check_terminal_wacc(keys)
        return out

    def _check_terminal_wacc(self, keys: Keys) -> None:
        if self.terminal_wacc is not None:
            name, wacc = "valuation.terminal_wacc", self.terminal_wacc
        else:
            name, wacc = _last("valuation.wacc", self.wacc)
        w_lo, g_hi = wacc.support()[0], self.terminal_growth.support()[1]
        if not w_lo > g_hi:
            raise ScenarioError(
                f"{name} must exceed valuation.terminal_growth on both supports: "
                f"{name.removeprefix('valuation.')}'s lowest value {w_lo:g} is not above "
                f"terminal_growth's highest {g_hi:g}",
                path=keys.path(name.removeprefix("valuation.")),
            )

    def fit_years(self, years: tuple[int, ...], path: str) -> Self:
        if self.margin_year is not None and self.margin_year not in years:
            raise ScenarioError(
                f"expected a simulated year in {years[0]}..{years[-1]} (the horizon must "
                f"reach margin_year), got {self.margin_year}",
                path=path + ".margin_year",
            )
        for key in ("margins_by_year", "tax_rate", "sales_to_capital", "wacc"):
            value = getattr(self, key)
            if isinstance(value, tuple) and len(value) != len(years):
                name = "margins" if key == "margins_by_year" else key
                raise ScenarioError(
                    f"expected one entry per simulated year, {len(years)} "
                    f"({years[0]}..{years[-1]}), got {len(value)}",
                    path=f"{path}.{name}",
                )
        return dataclasses.replace(self, last_year=years[-1])

    def inputs(self) -> dict[str, Distribution]:
        out: dict[str, Distribution] = {}
        if self.operating_margin is not None:
            out["valuation.operating_margin"] = self.operating_margin
        if self.target_margin is not None:
            out["valuation.target_margin"] = self.target_margin
        if self.margins_by_year is not None:
            out.update(_named("valuation.margins", self.margins_by_year))
        out.update(_named("valuation.tax_rate", self.tax_rate))
        out.update(_named("valuation.sales_to_capital", self.sales_to_capital))
        out.update(_named("valuation.wacc", self.wacc))
        if self.terminal_wacc is not None:
            out["valuation.terminal_wacc"] = self.terminal_wacc
        if self.terminal_tax_rate is not None:
            out["valuation.terminal_tax_rate"] = self.terminal_tax_rate
        out["valuation.terminal_growth"] = self.terminal_growth
        if self.terminal_roic is not None:
            out["valuation.terminal_roic"] = self.terminal_roic
        if self.failure != "runway":
            out["valuation.failure_probability"] = self.failure_probability
        out["valuation.distress_proceeds"] = self.distress_proceeds
        if self.nol is not None:
            out["valuation.nol"] = self.nol
        if self.options_value is not None:
            out["valuation.options_value"] = self.options_value
        if self.failure != "runway" and self.failure_probability.support()[1] > 0.0:
            out[FAILURE_DRAW] = Uniform(0.0, 1.0)
        return out

    def shown_inputs(self) -> dict[str, Distribution]:
        # The failure draw is a uniform the probability is read against, not a view.
        return {k: d for k, d in self.inputs().items() if k != FAILURE_DRAW}

    def input_label(self, name: str) -> str:
        """A reader's name for one of :meth:`inputs` (``"cost of capital (WACC), year 3"``)."""
        base, _, rest = name.partition("[")
        label = self.input_labels.get(base, base)
        return f"{label}, year {rest.rstrip(']')}" if rest else label

    def margins(self, base_year: int, rows: int, draws: Mapping[str, FloatArray]) -> FloatArray:
        """The operating margin of rows ``0..rows-1`` (base year first), (rows, n)."""
        if self.margins_by_year is not None:
            later = [draws[entry_name("valuation.margins", k)] for k in range(1, rows)]
            base = draws.get("valuation.operating_margin")
            first = np.full(np.shape(later[0]), np.nan) if base is None else base
            stacked: FloatArray = np.stack([first, *later]).astype(np.float64)
            return stacked
        assert self.margin_year is not None
        m0 = np.asarray(draws["valuation.operating_margin"], dtype=np.float64)
        m1 = np.asarray(draws["valuation.target_margin"], dtype=np.float64)
        span = self.margin_year - base_year
        w = np.minimum(np.arange(rows, dtype=np.float64) / span, 1.0)[:, None]
        # Weighted so that the weight 1 gives the target exactly (m0 + (m1 - m0) does not).
        out: FloatArray = m0 * (1.0 - w) + m1 * w
        return out

    def terminal_spread(self, draws: Mapping[str, FloatArray]) -> FloatArray:
        """(n,) each path's ``terminal_wacc - g``, the terminal value's denominator.

        Loading keeps it above 0 on the supports; near 0 the terminal value (and so the
        EV) grows without bound while staying finite: 1e-10 gives 1e10 times a year's
        cash flow, which the engine counts (:data:`THIN_SPREAD`) rather than refuses.
        """
        w_t = draws[_last("valuation.wacc", self.wacc)[0]]
        if self.terminal_wacc is not None:
            w_t = draws["valuation.terminal_wacc"]
        spread: FloatArray = w_t - draws["valuation.terminal_growth"]
        return spread

    def enterprise_value(self, paths: Paths) -> Valued:
        parts = self.components(paths)
        return Valued(ev=parts.ev, multiple=parts.ev / paths.revenue[paths.row])

    def components(self, paths: Paths) -> DcfParts:
        """The DCF of ``paths`` in its parts (what :meth:`enterprise_value` adds up).

        Reads only ``revenue``, ``row``, ``cash`` and the method's draws of ``paths``
        (``valuation.net_cash`` and ``valuation.ipo_proceeds`` too when ``cash`` is None
        and the runway rule needs it); the report calls it on the kept paths.
        """
        rev, v, d = paths.revenue, paths.row, paths.draws
        rows = rev.shape[0]
        base_year = self.year - v
        margins = self.margins(base_year, rows, d)
        margin = margins[v:]
        tax = _rows(d, "valuation.tax_rate", self.tax_rate, v, rows)
        wacc = _rows(d, "valuation.wacc", self.wacc, v, rows)
        s2c = _rows(d, "valuation.sales_to_capital", self.sales_to_capital, v, rows)
        g = d["valuation.terminal_growth"]
        ebit = rev[v:] * margin
        after_tax = ebit - tax * self._taxable(ebit, d)
        fcff = after_tax - (rev[v:] - rev[v - 1 : -1]) / s2c
        if isinstance(self.wacc, tuple):
            discount = 1.0 / np.cumprod(1.0 + wacc, axis=0)
        else:
            k = np.arange(1, rows - v + 1, dtype=np.float64)[:, None]
            discount = (1.0 + wacc) ** -k
        flow_discount = discount
        if self.discounting == "mid-year":
            flow_discount = discount * np.sqrt(1.0 + wacc)
        pv = fcff * flow_discount
        explicit = np.sum(pv, axis=0)
        w_t = d[_last("valuation.wacc", self.wacc)[0]]
        if self.terminal_wacc is not None:
            w_t = d["valuation.terminal_wacc"]
        tax_t = tax[-1] if isinstance(self.tax_rate, tuple) else tax
        if self.terminal_tax_rate is not None:
            tax_t = d["valuation.terminal_tax_rate"]
        s2c_t = s2c[-1] if isinstance(self.sales_to_capital, tuple) else s2c
        ebit_next = ebit[-1] * (1.0 + g)
        nopat_next = ebit_next - tax_t * np.maximum(ebit_next, 0.0)
        if "valuation.terminal_roic" in d:
            reinvest = nopat_next * g / d["valuation.terminal_roic"]
        else:
            reinvest = g * rev[-1] / s2c_t
        terminal = (nopat_next - reinvest) / (w_t - g) * discount[-1]
        if self.discounting == "mid-year":
            terminal = terminal * np.sqrt(1.0 + w_t)
        going = explicit + terminal
        ev = going
        n = going.shape[0]
        fails = np.zeros(n, dtype=bool)
        if FAILURE_DRAW in d:
            fails = d[FAILURE_DRAW] < d["valuation.failure_probability"]
            # A positive going concern fetches d of itself; a negative one nothing, and
            # its losses stay (see the module's docstring): never above the going concern.
            distress = d["valuation.distress_proceeds"]
            failed = np.where(going > 0.0, distress * going, going)
            ev = np.where(fails, failed, ev)
        runway = np.zeros(n, dtype=bool)
        if self.failure != "fixed":
            runway, runway_ev = self._runway(paths, fcff, pv, terminal, discount, going)
            ev = np.where(runway, np.minimum(runway_ev, ev), ev)
            fails = fails | runway
        return DcfParts(margins, explicit, terminal, fails, ev, runway)

    def _taxable(self, ebit: FloatArray, d: Mapping[str, FloatArray]) -> FloatArray:
        """The EBIT taxed each year: the positive part, less the NOL carried in."""
        if self.nol is None:
            out: FloatArray = np.maximum(ebit, 0.0)
            return out
        nol = np.array(d["valuation.nol"], dtype=np.float64, copy=True)
        taxable = np.empty_like(ebit)
        for t in range(ebit.shape[0]):  # years, not paths
            taxable[t] = np.maximum(ebit[t] - nol, 0.0)
            nol = np.maximum(nol - ebit[t], 0.0)  # a loss adds to it, a profit uses it
        return taxable

    def _runway(
        self,
        paths: Paths,
        fcff: FloatArray,
        pv: FloatArray,
        terminal: FloatArray,
        discount: FloatArray,
        going: FloatArray,
    ) -> tuple[npt.NDArray[np.bool_], FloatArray]:
        """Which paths' burn uses up their cash, and their EV then (module's docstring)."""
        d = paths.draws
        cash = paths.cash
        if cash is None:
            cash = d["valuation.net_cash"] + d["valuation.ipo_proceeds"]
        left = cash + np.cumsum(fcff, axis=0)  # (years, n): cash at each year's end
        short = left < 0.0
        runs_out: npt.NDArray[np.bool_] = np.asarray(short.any(axis=0))
        t = np.argmax(short, axis=0)[None, :]
        after = going - np.cumsum(pv, axis=0)  # PV of the years after t and the terminal
        sold = d["valuation.distress_proceeds"] * np.maximum(
            np.take_along_axis(after, t, axis=0)[0], 0.0
        )
        owed = np.take_along_axis(discount * left, t, axis=0)[0]
        ev: FloatArray = np.minimum(sold + owed - cash, going)
        return runs_out, ev

    def describe(self, show: Callable[[Distribution], str] | None = None) -> str:
        years = f"{self.year}-{self.last_year}" if self.last_year > self.year else f"{self.year}"
        if show is None:
            return f"DCF of {years} cash flows at wacc"
        wacc = self.wacc
        if isinstance(wacc, tuple):
            wacc_text = f"{show(wacc[0])} .. {show(wacc[-1])} by year"
        else:
            wacc_text = show(wacc)
        if self.margins_by_year is not None:
            m = self.margins_by_year
            margin_text = f"margin {show(m[0])} .. {show(m[-1])} by year"
        else:
            assert self.operating_margin is not None and self.target_margin is not None
            margin_text = (
                f"margin {show(self.operating_margin)} -> {show(self.target_margin)} by "
                f"{self.margin_year}"
            )
        text = (
            f"DCF of {years} cash flows at wacc {wacc_text}, {margin_text}, terminal growth "
            f"{show(self.terminal_growth)}"
        )
        if self.failure != "runway" and self.failure_probability.support()[1] > 0.0:
            text += f", failure {show(self.failure_probability)}"
        if self.failure != "fixed":
            text += ", failure when the cash runs out"
        return text

    def settings(self) -> dict[str, Any]:
        def opt(dist: Distribution | None) -> Any:
            return None if dist is None else dist.to_dict()

        def yearly(value: Yearly) -> Any:
            if isinstance(value, tuple):
                return [dist.to_dict() for dist in value]
            return value.to_dict()

        out: dict[str, Any] = {
            "operating_margin": opt(self.operating_margin),
            "target_margin": opt(self.target_margin),
            "margin_year": self.margin_year,
            "tax_rate": yearly(self.tax_rate),
            "sales_to_capital": yearly(self.sales_to_capital),
            "wacc": yearly(self.wacc),
            "terminal_growth": self.terminal_growth.to_dict(),
            "terminal_roic": opt(self.terminal_roic),
            "failure_probability": self.failure_probability.to_dict(),
            "distress_proceeds": self.distress_proceeds.to_dict(),
        }
        # The practitioners' keys appear only when given (a run without them writes what
        # it wrote before them).
        extra = {
            "margins": None if self.margins_by_year is None else yearly(self.margins_by_year),
            "terminal_wacc": opt(self.terminal_wacc),
            "terminal_tax_rate": opt(self.terminal_tax_rate),
            "nol_usd": opt(self.nol),
            "options_value_usd": opt(self.options_value),
        }
        out.update({k: v for k, v in extra.items() if v is not None})
        if self.discounting != DISCOUNTING[0]:
            out["discounting"] = self.discounting
        if self.failure != FAILURE_RULES[0]:
            out["failure"] = self.failure
        return out
