"""``method = "ev_to_sales"``: EV = valuation-year revenue x an adjusted EV/sales multiple.

``log M = log M0 + growth_elasticity * (l_val - log(1 + reference_growth))
- concentration_penalty * (HHI - reference_hhi) + sum log(1 - multiple_hit)``, with M0
the drawn ``valuation.multiple``, ``l_val`` the log growth of total revenue into the
valuation year before shocks (a recovery from a shock is not growth the market pays for)
and the last sum over shocks with an event in the valuation year or the
year before (DESIGN.md section 3, "Valuation").
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np

from sim.distributions import Distribution
from sim.errors import ScenarioError
from sim.valuation import Keys, Paths, Shared, ValuationMethod, Valued

__all__ = ["EvToSales"]


@dataclass(frozen=True, slots=True, eq=False)
class EvToSales(ValuationMethod):
    """How the market prices the valuation year's revenue (EV/sales).

    Attributes
    ----------
    multiple : Distribution
        The base multiple M0 (> 0).
    growth_elasticity : float
        How much the log multiple moves per unit of log growth above the reference.
    reference_growth : float
        The growth rate (simple, > -1) the base multiple is for.
    concentration_penalty : float
        How much the log multiple falls per unit of HHI above the reference.
    reference_hhi : float
        The HHI (in [0, 1]) the base multiple is for.
    """

    multiple: Distribution
    growth_elasticity: float
    reference_growth: float
    concentration_penalty: float
    reference_hhi: float

    name: ClassVar[str] = "ev_to_sales"
    own_keys: ClassVar[dict[str, bool]] = {
        "multiple": True,
        "growth_elasticity": False,
        "reference_growth": False,
        "concentration_penalty": False,
        "reference_hhi": False,
    }
    input_labels: ClassVar[dict[str, str]] = {"valuation.multiple": "EV/sales multiple"}

    @classmethod
    def parse(cls, keys: Keys, shared: Shared) -> Self:
        multiple = keys.distribution("multiple", lo=0.0, lo_open=True, what="the multiple")
        elasticity = keys.number("growth_elasticity", 0.0)
        ref_growth = keys.fraction("reference_growth", 0.0)
        if ref_growth <= -1.0:
            raise ScenarioError(
                f"expected a growth rate above -1, got {ref_growth:g}",
                path=keys.path("reference_growth"),
            )
        penalty = keys.number("concentration_penalty", 0.0)
        ref_hhi = keys.fraction("reference_hhi", 0.0)
        if not 0.0 <= ref_hhi <= 1.0:
            raise ScenarioError(
                f"expected an HHI in [0, 1], got {ref_hhi:g}", path=keys.path("reference_hhi")
            )
        return cls(*shared, multiple, elasticity, ref_growth, penalty, ref_hhi)

    def inputs(self) -> dict[str, Distribution]:
        return {"valuation.multiple": self.multiple}

    def enterprise_value(self, paths: Paths) -> Valued:
        rev, v = paths.revenue, paths.row
        log_m = np.log(paths.draws["valuation.multiple"])
        if self.growth_elasticity != 0.0:
            clean = paths.revenue_unshocked
            with np.errstate(divide="ignore", invalid="ignore"):
                growth = np.log(clean[v] / clean[v - 1])
            growth = np.nan_to_num(growth, nan=0.0, posinf=0.0, neginf=0.0)
            log_m += self.growth_elasticity * (growth - math.log1p(self.reference_growth))
        if self.concentration_penalty != 0.0:
            log_m -= self.concentration_penalty * (paths.hhi - self.reference_hhi)
        if paths.log_multiple_hit is not None:
            log_m += paths.log_multiple_hit
        multiple = np.exp(log_m)
        return Valued(ev=rev[v] * multiple, multiple=multiple)

    def describe(self, show: Callable[[Distribution], str] | None = None) -> str:
        return f"{self.year} revenue x {show(self.multiple) if show else 'multiple'}"

    def settings(self) -> dict[str, Any]:
        return {
            "multiple": self.multiple.to_dict(),
            "growth_elasticity": self.growth_elasticity,
            "reference_growth": self.reference_growth,
            "concentration_penalty": self.concentration_penalty,
            "reference_hhi": self.reference_hhi,
        }
