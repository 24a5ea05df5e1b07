"""``method = "dcf"``: EV = the discounted free cash flows to the firm, with failure risk.

Damodaran's young-growth model (DESIGN.md section 3.3), on each path's revenue after
shocks. The operating margin moves linearly from ``operating_margin`` in the base year to
``target_margin`` in ``margin_year``, then holds; ``EBIT_t = R_t m_t``; tax at
``tax_rate`` on positive EBIT only; reinvestment ``(R_t - R_{t-1}) / sales_to_capital``;
``FCFF_t = EBIT_t - tax_t - reinvestment_t`` at year ends, from ``valuation.year`` to the
horizon's last year, the k-th (k = 0 for ``valuation.year``) discounted by
``(1 + wacc)^(k + 1)`` to the start of ``valuation.year``. The terminal value at the last
year N is ``FCFF_{N+1} / (wacc - g)`` with
``FCFF_{N+1} = EBIT_N (1 + g)(1 - tax) - reinvestment_{N+1}``, discounted like year N's
cash flow. Terminal reinvestment is ``EBIT_N (1 + g)(1 - tax) g / terminal_roic`` when
``terminal_roic`` is given, and otherwise the explicit years' rule carried on, revenue
growing at g: ``g R_N / sales_to_capital`` (growth is never free). A path fails with
``failure_probability`` (drawn against the uniform input ``valuation.failure``) and then
keeps ``distress_proceeds`` x its going-concern EV where that is positive, and nothing
where it is not: ``d max(EV, 0)``.

Why the floor: distress proceeds are what a failed company's assets fetch in a sale, a
fraction of what they were worth as a going concern (Damodaran's young-growth model).
A going concern worth less than nothing has no such fraction: ``d x EV`` of a negative EV
would be a failed company whose buyers pay to take on part of its losses, and it would
make failing worth more the more negative the going concern (a failed path at
``0.3 x -100`` beats a surviving one at ``-100`` by 70). A buyer pays nothing, and
limited liability leaves the owners with nothing, so the proceeds are 0. The going
concern itself is left as valued, negative or not (it is the cash flows' value; that the
owners could walk away from a negative one is an option this model does not price).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from sim.distributions import Distribution, Uniform
from sim.errors import ScenarioError
from sim.valuation import FloatArray, Keys, Paths, Shared, ValuationMethod, Valued

__all__ = ["FAILURE_DRAW", "Dcf", "DcfParts"]

FAILURE_DRAW = "valuation.failure"
"""The uniform scalar input a path's failure is drawn against (fails when below p)."""


@dataclass(frozen=True, slots=True, eq=False)
class DcfParts:
    """The DCF of a block of paths in its parts (USD; arrays path-last).

    Attributes
    ----------
    margin : (rows, n) the operating margin of each year, the base year in row 0.
    explicit : (n,) the present value of the explicit years' free cash flows.
    terminal : (n,) the present value of the terminal value.
    failed : (n,) whether the path failed.
    ev : (n,) the EV: ``explicit + terminal`` (the going concern), or on a failed path
        the distress proceeds.
    """

    margin: FloatArray
    explicit: FloatArray
    terminal: FloatArray
    failed: npt.NDArray[np.bool_]
    ev: FloatArray

    @property
    def going_concern(self) -> FloatArray:
        """(n,) the EV had the path not failed: ``explicit + terminal``."""
        out: FloatArray = self.explicit + self.terminal
        return out


_TRUNCATE = "; truncate it with upper (below 1) in its table"


def _below_one(keys: Keys, key: str, dist: Distribution, what: str) -> Distribution:
    """Refuse a distribution whose support reaches 1 (``[.., 1)`` ranges)."""
    lo, hi = dist.support()
    if hi >= 1.0:
        raise ScenarioError(
            f"{what} must lie below 1; {dist.describe()} has support [{lo:g}, {hi:g}]"
            + (
                _TRUNCATE if dist.to_dict().get("dist") in ("normal", "lognormal", "scipy") else ""
            ),
            path=keys.path(key),
        )
    return dist


@dataclass(frozen=True, slots=True, eq=False)
class Dcf(ValuationMethod):
    """The cash flows the revenue could become, discounted, with a chance of failure.

    Attributes
    ----------
    operating_margin, target_margin : Distribution
        The base year's operating margin and the one reached in ``margin_year`` (in
        [-10, 1]).
    margin_year : int
        The simulated year the target margin is reached (then held).
    tax_rate : Distribution
        On positive EBIT only, in [0, 1).
    sales_to_capital : Distribution
        Revenue increase per unit reinvested (> 0).
    wacc : Distribution
        The discount rate, in (0, 1), above ``terminal_growth`` on both supports.
    terminal_growth : Distribution
        The cash flows' growth after the last year.
    terminal_roic : Distribution or None
        Return on terminal reinvestment (> 0): reinvestment = g / roic of after-tax EBIT.
    failure_probability, distress_proceeds : Distribution
        In [0, 1]: the chance a path fails and the fraction of its EV it then keeps.
    last_year : int
        The horizon's last year (set by :meth:`fit_years`).
    """

    operating_margin: Distribution
    target_margin: Distribution
    margin_year: int
    tax_rate: Distribution
    sales_to_capital: Distribution
    wacc: Distribution
    terminal_growth: Distribution
    terminal_roic: Distribution | None
    failure_probability: Distribution
    distress_proceeds: Distribution
    last_year: int = 0

    name: ClassVar[str] = "dcf"
    own_keys: ClassVar[dict[str, bool]] = {
        "operating_margin": True,
        "target_margin": True,
        "margin_year": True,
        "tax_rate": True,
        "sales_to_capital": True,
        "wacc": True,
        "terminal_growth": True,
        "terminal_roic": False,
        "failure_probability": False,
        "distress_proceeds": False,
    }
    input_labels: ClassVar[dict[str, str]] = {
        "valuation.operating_margin": "base-year operating margin",
        "valuation.target_margin": "target operating margin",
        "valuation.tax_rate": "tax rate",
        "valuation.sales_to_capital": "sales to capital",
        "valuation.wacc": "cost of capital (WACC)",
        "valuation.terminal_growth": "terminal growth",
        "valuation.terminal_roic": "terminal ROIC",
        "valuation.failure_probability": "failure probability",
        "valuation.distress_proceeds": "distress proceeds",
        FAILURE_DRAW: "failure (the draw)",
    }

    @classmethod
    def parse(cls, keys: Keys, shared: Shared) -> Self:
        def margin(key: str) -> Distribution:
            return keys.distribution(key, lo=-10.0, hi=1.0, what="an operating margin")

        operating, target = margin("operating_margin"), margin("target_margin")
        year_raw = keys.number("margin_year")
        if year_raw != int(year_raw):
            raise ScenarioError(
                f"expected a year (an integer), got {year_raw:g}", path=keys.path("margin_year")
            )
        tax = keys.distribution("tax_rate", lo=0.0, hi=1.0, what="the tax rate")
        _below_one(keys, "tax_rate", tax, "the tax rate")
        s2c = keys.distribution("sales_to_capital", lo=0.0, lo_open=True, what="sales to capital")
        wacc = keys.distribution("wacc", lo=0.0, hi=1.0, lo_open=True, what="the wacc")
        _below_one(keys, "wacc", wacc, "the wacc")
        growth = keys.distribution("terminal_growth", lo=-1.0, lo_open=True, what="growth")
        w_lo, g_hi = wacc.support()[0], growth.support()[1]
        if not w_lo > g_hi:
            raise ScenarioError(
                f"valuation.wacc must exceed valuation.terminal_growth on both supports: "
                f"wacc's lowest value {w_lo:g} is not above terminal_growth's highest "
                f"{g_hi:g}",
                path=keys.path("wacc"),
            )
        roic = None
        if keys.has("terminal_roic"):
            roic = keys.distribution("terminal_roic", lo=0.0, lo_open=True, what="the ROIC")
        p = keys.distribution("failure_probability", 0.0, lo=0.0, hi=1.0, what="a probability")
        d = keys.distribution("distress_proceeds", 0.0, lo=0.0, hi=1.0, what="a fraction")
        return cls(*shared, operating, target, int(year_raw), tax, s2c, wacc, growth, roic, p, d)

    def fit_years(self, years: tuple[int, ...], path: str) -> Self:
        if self.margin_year not in years:
            raise ScenarioError(
                f"expected a simulated year in {years[0]}..{years[-1]} (the horizon must "
                f"reach margin_year), got {self.margin_year}",
                path=path + ".margin_year",
            )
        return dataclasses.replace(self, last_year=years[-1])

    def inputs(self) -> dict[str, Distribution]:
        out = {
            "valuation.operating_margin": self.operating_margin,
            "valuation.target_margin": self.target_margin,
            "valuation.tax_rate": self.tax_rate,
            "valuation.sales_to_capital": self.sales_to_capital,
            "valuation.wacc": self.wacc,
            "valuation.terminal_growth": self.terminal_growth,
        }
        if self.terminal_roic is not None:
            out["valuation.terminal_roic"] = self.terminal_roic
        out["valuation.failure_probability"] = self.failure_probability
        out["valuation.distress_proceeds"] = self.distress_proceeds
        if self.failure_probability.support()[1] > 0.0:
            out[FAILURE_DRAW] = Uniform(0.0, 1.0)
        return out

    def shown_inputs(self) -> dict[str, Distribution]:
        # The failure draw is a uniform the probability is read against, not a view.
        return {k: d for k, d in self.inputs().items() if k != FAILURE_DRAW}

    def margins(self, base_year: int, rows: int, draws: Mapping[str, FloatArray]) -> FloatArray:
        """The operating margin of rows ``0..rows-1`` (base year first), (rows, n)."""
        m0 = np.asarray(draws["valuation.operating_margin"], dtype=np.float64)
        m1 = np.asarray(draws["valuation.target_margin"], dtype=np.float64)
        span = self.margin_year - base_year
        w = np.minimum(np.arange(rows, dtype=np.float64) / span, 1.0)[:, None]
        # Weighted so that the weight 1 gives the target exactly (m0 + (m1 - m0) does not).
        out: FloatArray = m0 * (1.0 - w) + m1 * w
        return out

    def enterprise_value(self, paths: Paths) -> Valued:
        parts = self.components(paths)
        return Valued(ev=parts.ev, multiple=parts.ev / paths.revenue[paths.row])

    def components(self, paths: Paths) -> DcfParts:
        """The DCF of ``paths`` in its parts (what :meth:`enterprise_value` adds up).

        Reads only ``revenue``, ``row`` and the method's draws of ``paths``; the report
        calls it on the kept paths.
        """
        rev, v, d = paths.revenue, paths.row, paths.draws
        rows = rev.shape[0]
        base_year = self.year - v
        margins = self.margins(base_year, rows, d)
        margin = margins[v:]
        tax = d["valuation.tax_rate"]
        wacc = d["valuation.wacc"]
        s2c = d["valuation.sales_to_capital"]
        g = d["valuation.terminal_growth"]
        ebit = rev[v:] * margin
        after_tax = ebit - tax * np.maximum(ebit, 0.0)
        fcff = after_tax - (rev[v:] - rev[v - 1 : -1]) / s2c
        k = np.arange(1, rows - v + 1, dtype=np.float64)[:, None]
        discount = (1.0 + wacc) ** -k
        explicit = np.sum(fcff * discount, axis=0)
        ebit_next = ebit[-1] * (1.0 + g)
        nopat_next = ebit_next - tax * np.maximum(ebit_next, 0.0)
        if "valuation.terminal_roic" in d:
            reinvest = nopat_next * g / d["valuation.terminal_roic"]
        else:
            reinvest = g * rev[-1] / s2c
        terminal = (nopat_next - reinvest) / (wacc - g) * discount[-1]
        ev = explicit + terminal
        if FAILURE_DRAW in d:
            fails = d[FAILURE_DRAW] < d["valuation.failure_probability"]
            # A sale's proceeds are never negative (see the module's docstring).
            proceeds = d["valuation.distress_proceeds"] * np.maximum(ev, 0.0)
            ev = np.where(fails, proceeds, ev)
        else:
            fails = np.zeros(ev.shape, dtype=bool)
        return DcfParts(margins, explicit, terminal, fails, ev)

    def describe(self, show: Callable[[Distribution], str] | None = None) -> str:
        years = f"{self.year}-{self.last_year}" if self.last_year > self.year else f"{self.year}"
        if show is None:
            return f"DCF of {years} cash flows at wacc"
        text = (
            f"DCF of {years} cash flows at wacc {show(self.wacc)}, margin "
            f"{show(self.operating_margin)} -> {show(self.target_margin)} by "
            f"{self.margin_year}, terminal growth {show(self.terminal_growth)}"
        )
        if self.failure_probability.support()[1] > 0.0:
            text += f", failure {show(self.failure_probability)}"
        return text

    def settings(self) -> dict[str, Any]:
        roic = self.terminal_roic
        return {
            "operating_margin": self.operating_margin.to_dict(),
            "target_margin": self.target_margin.to_dict(),
            "margin_year": self.margin_year,
            "tax_rate": self.tax_rate.to_dict(),
            "sales_to_capital": self.sales_to_capital.to_dict(),
            "wacc": self.wacc.to_dict(),
            "terminal_growth": self.terminal_growth.to_dict(),
            "terminal_roic": None if roic is None else roic.to_dict(),
            "failure_probability": self.failure_probability.to_dict(),
            "distress_proceeds": self.distress_proceeds.to_dict(),
        }
