"""``method = "both"``: the EV/sales multiple and the DCF on every path.

Both methods value the same paths from the same draws (common random numbers: each input
keeps its own keyed stream, so a path's two values are exactly those of separate
``ev_to_sales`` and ``dcf`` runs with the same seed). ``primary`` names the one whose
value is the run's ``valuation``: what the targets, the offer price, the pricing grid
and the expectations read. The other is reported beside it (``dcf_value``,
``multiple_value`` and their ratio, DESIGN.md section 3).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from sim.distributions import Distribution
from sim.errors import ScenarioError, unknown_key_message
from sim.valuation import Keys, Paths, Shared, ValuationMethod, Valued
from sim.valuation.dcf import Dcf
from sim.valuation.ev_to_sales import EvToSales

__all__ = ["PRIMARIES", "Both", "mean_is_finite"]

PRIMARIES = ("multiple", "dcf")
"""The values ``valuation.primary`` takes: the EV/sales multiple's or the DCF's."""


@dataclass(frozen=True, slots=True, eq=False)
class Both(ValuationMethod):
    """The EV/sales multiple and the DCF of the same paths; ``primary`` is the valuation.

    Attributes
    ----------
    multiple : EvToSales
        The EV/sales method, from its keys of the same table.
    dcf : Dcf
        The DCF, from its keys of the same table.
    primary : str
        ``"multiple"`` or ``"dcf"``: the value the targets and pricing read.
    """

    ev_to_sales: EvToSales
    dcf: Dcf
    primary: str

    name: ClassVar[str] = "both"
    own_keys: ClassVar[dict[str, bool]] = {
        **EvToSales.own_keys,
        **Dcf.own_keys,
        "primary": False,
    }
    input_labels: ClassVar[dict[str, str]] = {**EvToSales.input_labels, **Dcf.input_labels}

    @classmethod
    def parse(cls, keys: Keys, shared: Shared) -> Self:
        primary = keys.text("primary", PRIMARIES[0])
        if primary not in PRIMARIES:
            raise ScenarioError(
                unknown_key_message(primary, PRIMARIES, what="primary method"),
                path=keys.path("primary"),
            )
        return cls(*shared, EvToSales.parse(keys, shared), Dcf.parse(keys, shared), primary)

    def fit_years(self, years: tuple[int, ...], path: str) -> Self:
        return type(self)(
            self.year,
            self.net_cash,
            self.ipo_proceeds,
            self.ev_to_sales,
            self.dcf.fit_years(years, path),
            self.primary,
        )

    def inputs(self) -> dict[str, Distribution]:
        return {**self.ev_to_sales.inputs(), **self.dcf.inputs()}

    def shown_inputs(self) -> dict[str, Distribution]:
        return {**self.ev_to_sales.shown_inputs(), **self.dcf.shown_inputs()}

    def enterprise_value(self, paths: Paths) -> Valued:
        by_multiple = self.ev_to_sales.enterprise_value(paths)
        by_dcf = self.dcf.enterprise_value(paths)
        first = by_multiple if self.primary == "multiple" else by_dcf
        return Valued(
            ev=first.ev,
            multiple=first.multiple,
            ev_by_method={"multiple": by_multiple.ev, "dcf": by_dcf.ev},
        )

    def describe(self, show: Callable[[Distribution], str] | None = None) -> str:
        parts = [self.ev_to_sales.describe(show), self.dcf.describe(show)]
        if self.primary == "dcf":
            parts.reverse()
        return f"{parts[0]} (primary); beside it {parts[1]}"

    def settings(self) -> dict[str, Any]:
        return {
            "primary": self.primary,
            **self.ev_to_sales.settings(),
            **self.dcf.settings(),
        }


def mean_is_finite(val: object) -> bool:
    """Whether the value's law has a finite mean: not where it rides on a peer multiple.

    With ``[comparables]`` the multiple is ``exp`` of a Student t, whose mean is infinite:
    a run's sample mean then moves with the few paths drawn furthest out, and reports say
    so instead of leading with it.
    """
    primary = val.ev_to_sales if isinstance(val, Both) and val.primary != "dcf" else val
    return not (isinstance(primary, EvToSales) and primary.comparables is not None)
