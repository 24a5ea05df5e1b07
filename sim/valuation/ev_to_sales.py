"""``method = "ev_to_sales"``: EV = valuation-year revenue x an adjusted EV/sales multiple.

``log M = log M0 + growth_elasticity * (l_val - log(1 + reference_growth))
- concentration_penalty * (HHI - reference_hhi) + sum log(1 - multiple_hit)``, with M0
the drawn ``valuation.multiple``, ``l_val`` the log growth of total revenue into the
valuation year before shocks (a recovery from a shock is not growth the market pays for)
and the last sum over shocks with an event in the valuation year or the
year before (DESIGN.md section 3, "Valuation").

With ``[comparables]`` (a peer table, :mod:`sim.valuation.comparables`) the multiple is
no longer stated: ``log M0`` is a draw from the peer regression's posterior predictive at
the path's own regressors, ``x0'b + scale(x0) * t`` with ``t`` the input
``valuation.comparables`` (a standard t with n - p degrees of freedom), plus
``valuation.multiple_shift`` (a stated judgement, e.g. a regime's premium; default 0).
Growth is then a regressor, so ``growth_elasticity`` is refused beside it; the
concentration penalty and the shocks' multiple hits still apply on top.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import numpy.typing as npt

from sim.distributions import Distribution
from sim.distributions.student import StudentT
from sim.errors import ScenarioError
from sim.valuation import Keys, Paths, Shared, ValuationMethod, Valued, clean_growth
from sim.valuation.comparables import REGRESSORS, Comparables

__all__ = ["COMPARABLES_INPUT", "EvToSales", "comparables_of"]

COMPARABLES_INPUT = "valuation.comparables"
"""The keyed scalar input of the comparables' predictive draw: a standard t(n - p)."""
#: Keys that state the multiple, or move it with growth: the peer table does both.
_STATED = ("multiple", "growth_elasticity", "reference_growth")
#: Keys read only with [comparables].
_WITH_PEERS = ("gross_margin", "multiple_shift")


@dataclass(frozen=True, slots=True, eq=False)
class EvToSales(ValuationMethod):
    """How the market prices the valuation year's revenue (EV/sales).

    Attributes
    ----------
    multiple : Distribution or None
        The base multiple M0 (> 0); None with ``[comparables]``.
    growth_elasticity : float
        How much the log multiple moves per unit of log growth above the reference.
    reference_growth : float
        The growth rate (simple, > -1) the base multiple is for.
    concentration_penalty : float
        How much the log multiple falls per unit of HHI above the reference.
    reference_hhi : float
        The HHI (in [0, 1]) the base multiple is for.
    comparables : Comparables or None
        The fitted peer table (``[comparables]``), which then sets the base multiple.
    gross_margin : Distribution or None
        The company's gross margin in the valuation year (the regressor
        ``gross_margin``'s value on a path); None unless the fit uses it.
    multiple_shift : Distribution or None
        A log shift of the fitted multiple (judgement; 0.1 is about +10.5%); None
        without ``[comparables]``.
    """

    multiple: Distribution | None
    growth_elasticity: float
    reference_growth: float
    concentration_penalty: float
    reference_hhi: float
    comparables: Comparables | None = None
    gross_margin: Distribution | None = None
    multiple_shift: Distribution | None = None

    name: ClassVar[str] = "ev_to_sales"
    own_keys: ClassVar[dict[str, bool]] = {
        "multiple": True,
        "growth_elasticity": False,
        "reference_growth": False,
        "concentration_penalty": False,
        "reference_hhi": False,
        "gross_margin": False,
        "multiple_shift": False,
    }
    input_labels: ClassVar[dict[str, str]] = {
        "valuation.multiple": "EV/sales multiple",
        COMPARABLES_INPUT: "peer multiple (predictive t)",
        "valuation.gross_margin": "gross margin",
        "valuation.multiple_shift": "multiple shift (judgement)",
    }

    @classmethod
    def parse(cls, keys: Keys, shared: Shared) -> Self:
        peers = keys.comparables
        if peers is not None:
            return cls._parse_with_peers(keys, shared, peers)
        for key in _WITH_PEERS:
            if keys.has(key):
                raise ScenarioError(
                    "read only with a [comparables] peer table (it moves the fitted "
                    "multiple); without one, state valuation.multiple itself",
                    path=keys.path(key),
                )
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

    @classmethod
    def _parse_with_peers(cls, keys: Keys, shared: Shared, peers: Comparables) -> Self:
        for key in _STATED:
            if keys.has(key):
                raise ScenarioError(
                    "refused beside [comparables]: the peer table sets the multiple and "
                    "its response to growth; remove one (a judgement on top goes in "
                    "valuation.multiple_shift)",
                    path=keys.path(key),
                )
        margin = None
        if "gross_margin" in peers.regressors:
            if not keys.has("gross_margin"):
                raise ScenarioError(
                    "required: comparables.regressors names gross_margin, whose value on "
                    "a path is this key (a fraction or a distribution)",
                    path=keys.path("gross_margin"),
                )
            margin = keys.distribution(
                "gross_margin", unit="fraction", lo=-10.0, hi=1.0, what="the gross margin"
            )
        elif keys.has("gross_margin"):
            raise ScenarioError(
                "not a regressor of [comparables]: add gross_margin to "
                "comparables.regressors, or remove this key",
                path=keys.path("gross_margin"),
            )
        shift = keys.distribution("multiple_shift", 0.0)
        penalty = keys.number("concentration_penalty", 0.0)
        ref_hhi = keys.fraction("reference_hhi", 0.0)
        if not 0.0 <= ref_hhi <= 1.0:
            raise ScenarioError(
                f"expected an HHI in [0, 1], got {ref_hhi:g}", path=keys.path("reference_hhi")
            )
        return cls(*shared, None, 0.0, 0.0, penalty, ref_hhi, peers, margin, shift)

    def inputs(self) -> dict[str, Distribution]:
        if self.comparables is None:
            assert self.multiple is not None
            return {"valuation.multiple": self.multiple}
        assert self.multiple_shift is not None
        out: dict[str, Distribution] = {
            COMPARABLES_INPUT: StudentT(self.comparables.df),
            "valuation.multiple_shift": self.multiple_shift,
        }
        if self.gross_margin is not None:
            out["valuation.gross_margin"] = self.gross_margin
        return out

    def _fitted_log_multiple(self, paths: Paths, peers: Comparables) -> npt.NDArray[np.float64]:
        """``x0'b + scale(x0) * t + shift`` on every path (before penalty and hits)."""
        n = paths.revenue.shape[1]
        rows = [np.ones(n)]
        for name in peers.regressors:
            if name == "growth":
                rows.append(clean_growth(paths.revenue_unshocked, paths.row))
            else:
                rows.append(np.broadcast_to(paths.draws[f"valuation.{name}"], (n,)))
        loc, scale = peers.predictive(np.vstack(rows))
        draws = paths.draws
        return np.asarray(
            loc + scale * draws[COMPARABLES_INPUT] + draws["valuation.multiple_shift"],
            dtype=np.float64,
        )

    def enterprise_value(self, paths: Paths) -> Valued:
        rev, v = paths.revenue, paths.row
        if self.comparables is not None:
            log_m = self._fitted_log_multiple(paths, self.comparables)
        else:
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
        peers = self.comparables
        if peers is None:
            assert self.multiple is not None
            return f"{self.year} revenue x {show(self.multiple) if show else 'multiple'}"
        on = ", ".join(REGRESSORS[r].column for r in peers.regressors) or "an intercept"
        text = (
            f"{self.year} revenue x the peer multiple ({peers.n} peers of {peers.file}, "
            f"log EV/sales on {on}; predictive t with {peers.df} df)"
        )
        if show is not None and self.gross_margin is not None:
            text += f", gross margin {show(self.gross_margin)}"
        shift = self.multiple_shift
        if show is not None and shift is not None and not (shift.is_fixed and shift.mean() == 0):
            text += f", log-shifted by {show(shift)}"
        return text

    def settings(self) -> dict[str, Any]:
        if self.comparables is not None:
            assert self.multiple_shift is not None
            return {
                "multiple": "comparables",
                "gross_margin": None if self.gross_margin is None else self.gross_margin.to_dict(),
                "multiple_shift": self.multiple_shift.to_dict(),
                "concentration_penalty": self.concentration_penalty,
                "reference_hhi": self.reference_hhi,
            }
        assert self.multiple is not None
        return {
            "multiple": self.multiple.to_dict(),
            "growth_elasticity": self.growth_elasticity,
            "reference_growth": self.reference_growth,
            "concentration_penalty": self.concentration_penalty,
            "reference_hhi": self.reference_hhi,
        }


def comparables_of(valuation: ValuationMethod) -> Comparables | None:
    """The fitted peer table behind a valuation's multiple (method ``ev_to_sales``, or
    ``both``'s EV/sales half), or None."""
    method = getattr(valuation, "ev_to_sales", valuation)
    return method.comparables if isinstance(method, EvToSales) else None
