"""Valuation methods (DESIGN.md section 3): revenue paths -> enterprise value.

A method is one module here holding one frozen dataclass, a subclass of
:class:`ValuationMethod`. The ``[valuation]`` table of a scenario is parsed into an
instance of the class its ``method`` key names (:data:`METHODS`), so
``Scenario.valuation`` is a tagged union (:data:`Valuation`): the shared keys (``method``,
``year``, ``net_cash``, ``ipo_proceeds``) live on the base class, the method's own keys on
its subclass. The model computes revenue, shocks and concentration, then hands them to the
method as :class:`Paths`; the method returns the enterprise value of each path
(:class:`Valued`), and the model adds net cash and IPO proceeds to make the equity value.

Adding a valuation method
-------------------------
To add a method, say ``dcf``:

1. Write ``sim/valuation/dcf.py``: a ``@dataclass(frozen=True, slots=True, eq=False)``
   subclass of :class:`ValuationMethod` with its own keys as fields, and its hooks:

   ``name``
       The ``method`` value that selects it (``"dcf"``).
   ``own_keys``
       Its own keys of ``[valuation]``, each mapped to whether it is required (the
       loader's key table and docs/scenarios.md follow from it).
   ``parse(keys, shared)``
       Read its own keys through :class:`Keys` (which gives the key-path error messages
       and the unknown-key checks of every other table) and return the instance.
   ``inputs()``
       The scalar inputs it draws, by name (``"valuation.wacc"`` -> its distribution);
       they are sampled, correlated and ranked in the sensitivity analysis like any other.
   ``fit_years(years, path)`` (optional)
       Checks against the simulated years once the horizon is known (``margin_year``).
   ``enterprise_value(paths)``
       Vectorised over paths: :class:`Paths` in (revenue by year, the valuation year's
       row, concentration, shock hits and every draw), :class:`Valued` out.
   ``describe(show)``, ``settings()``, ``input_labels``
       Its line for people (the command line and the report), its keys as JSON-able data
       for ``Scenario.to_dict``, and readable names of its inputs.
2. Register it below: import the class, add it to :data:`METHODS` and to the
   :data:`Valuation` union (drop its name from :data:`PLANNED` if it is there).
3. Document its keys in docs/scenarios.md under ``[valuation]`` (a test compares that
   table with the loader's), and write ``tests/test_valuation_dcf.py``: its closed forms
   (a flat company is a perpetuity), its refusals (each with the key path), and a
   scenario using it end to end.

See :mod:`sim.valuation.ev_to_sales` for a complete method.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Literal, NamedTuple, Protocol, Self, TypeAlias

import numpy as np
import numpy.typing as npt

from sim.distributions import Distribution
from sim.errors import ScenarioError, unknown_key_message

if TYPE_CHECKING:
    from sim.valuation.comparables import Comparables

__all__ = [
    "METHODS",
    "PLANNED",
    "Keys",
    "Paths",
    "Shared",
    "Valuation",
    "ValuationMethod",
    "Valued",
    "clean_growth",
    "method_class",
    "table_keys",
]

FloatArray = npt.NDArray[np.float64]
Unit = Literal["number", "fraction", "money", "signed_money"]


class Keys(Protocol):
    """The ``[valuation]`` table as the loader hands it to a method's :meth:`parse`.

    Each reader takes one key (a later unknown-key check rejects keys nobody took) and
    raises :class:`~sim.errors.ScenarioError` naming the key path. ``default=None`` makes
    the key required.
    """

    def path(self, key: str) -> str:
        """The key's full path, ``"valuation.<key>"``, for a method's own errors."""
        ...

    @property
    def comparables(self) -> Comparables | None:
        """The scenario's ``[comparables]`` peer table, read and fitted by the loader."""
        ...

    def has(self, key: str) -> bool:
        """Whether the table gives ``key`` (for an optional key without a default)."""
        ...

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        lo: float = -math.inf,
        hi: float = math.inf,
        lo_open: bool = False,
    ) -> float:
        """A plain number in ``[lo, hi]`` (``(lo, hi]`` with ``lo_open``)."""
        ...

    def fraction(self, key: str, default: float | None = None) -> float:
        """A number or a percentage string (``"35%"``)."""
        ...

    def text(self, key: str, default: str | None = None) -> str:
        """A string (``primary = "dcf"``)."""
        ...

    def distribution(
        self,
        key: str,
        default: float | None = None,
        *,
        unit: Unit = "number",
        lo: float = -math.inf,
        hi: float = math.inf,
        lo_open: bool = False,
        what: str = "",
    ) -> Distribution:
        """A number or a distribution table whose support lies in ``[lo, hi]``.

        ``unit`` says how plain values read: numbers, fractions, money in USD (``"2.5bn"``,
        ``"25亿"``, non-negative) or signed money; ``what`` names the quantity in the
        support error ("the multiple must lie in (0, inf]; ...").
        """
        ...

    def distributions(
        self,
        key: str,
        *,
        unit: Unit = "number",
        lo: float = -math.inf,
        hi: float = math.inf,
        lo_open: bool = False,
        what: str = "",
    ) -> tuple[Distribution, ...] | None:
        """The entries of ``key`` when it is an array (one per simulated year), each read
        as :meth:`distribution` reads a value, its path ``"valuation.<key>[k]"`` (k from
        1); ``None`` when the key is absent or not an array."""
        ...


class Shared(NamedTuple):
    """The keys every method takes, parsed by the loader before the method's own."""

    year: int
    net_cash: Distribution
    ipo_proceeds: Distribution


@dataclass(frozen=True, slots=True, eq=False)
class Paths:
    """What a method sees of one block of paths; arrays are path-last.

    Attributes
    ----------
    revenue : (horizon + 1, n) total revenue in USD, the base year in row 0.
    revenue_unshocked : (horizon + 1, n)
        The same before shocks (``revenue`` itself on the unshocked pass): growth the
        market pays for is read from it, since a recovery from a shock is not growth.
    row : int
        The valuation year's row in ``revenue`` (``valuation.year - base_year``, >= 1).
    hhi : (n,) Herfindahl index of the regional shares at the valuation year.
    log_multiple_hit : (n,) or None
        ``sum log(1 - multiple_hit)`` over the shocks with an event in the valuation year
        or the year before; ``None`` on the unshocked pass and in a scenario without shocks.
    draws : mapping of str to (n,) arrays
        Every input of the block by name, the method's own scalar inputs among them.
    cash : (n,) or None
        The cash a failing company can burn: net cash, IPO proceeds and the deal's
        proceeds at the range's low (:func:`sim.model.core.runway_cash`); None: net cash plus
        ``ipo_proceeds`` from ``draws``.
    """

    revenue: FloatArray
    revenue_unshocked: FloatArray
    row: int
    hhi: FloatArray
    log_multiple_hit: FloatArray | None
    draws: Mapping[str, FloatArray]
    cash: FloatArray | None = None


def clean_growth(revenue_unshocked: FloatArray, row: int) -> FloatArray:
    """Total revenue growth into the valuation year before shocks, (n,), a simple rate.

    ``revenue_unshocked`` is (horizon + 1, n) as in :class:`Paths`, ``row`` the valuation
    year's row. The growth the market pays for (a recovery from a shock is not growth);
    0 on a path whose revenue the year before is 0.
    """
    clean, v = revenue_unshocked, row
    with np.errstate(divide="ignore", invalid="ignore"):
        growth = clean[v] / clean[v - 1] - 1.0
    return np.asarray(np.nan_to_num(growth, nan=0.0, posinf=0.0, neginf=0.0), dtype=np.float64)


@dataclass(frozen=True, slots=True, eq=False)
class Valued:
    """A method's answer for a block of paths (USD).

    Attributes
    ----------
    ev : (n,) enterprise value.
    multiple : (n,) the EV/sales multiple, stated or implied, at the valuation year.
    ev_by_method : mapping of str to (n,) arrays, or None
        Method ``both`` only: each method's EV (``"multiple"``, ``"dcf"``); ``ev`` is the
        primary's.
    """

    ev: FloatArray
    multiple: FloatArray
    ev_by_method: Mapping[str, FloatArray] | None = None


@dataclass(frozen=True, slots=True, eq=False)
class ValuationMethod:
    """The shared part of ``[valuation]`` and the hooks every method implements.

    Attributes
    ----------
    year : int
        The valuation year (a simulated year).
    net_cash : Distribution
        Net cash in USD (may be negative), added to EV.
    ipo_proceeds : Distribution
        IPO proceeds in USD, added to EV.
    """

    year: int
    net_cash: Distribution
    ipo_proceeds: Distribution

    name: ClassVar[str]
    own_keys: ClassVar[Mapping[str, bool]]
    input_labels: ClassVar[Mapping[str, str]] = {}

    @classmethod
    def parse(cls, keys: Keys, shared: Shared) -> Self:
        """Read the method's own keys and build it (hook)."""
        raise NotImplementedError

    def fit_years(self, years: tuple[int, ...], path: str) -> Self:
        """Check the method's years against the simulated ``years`` (hook, optional).

        Called by the loader after :meth:`parse`, once the horizon is known; returns the
        method (or a copy that knows the years). ``path`` is ``"valuation"``.
        """
        return self

    def inputs(self) -> dict[str, Distribution]:
        """The method's own scalar inputs by stable name, fixed ones included (hook)."""
        raise NotImplementedError

    def shown_inputs(self) -> dict[str, Distribution]:
        """The inputs a reader is shown (hook): :meth:`inputs` less any draw that only
        serves the method's arithmetic."""
        return self.inputs()

    def enterprise_value(self, paths: Paths) -> Valued:
        """EV of every path of a block (hook; pure and vectorised)."""
        raise NotImplementedError

    def describe(self, show: Callable[[Distribution], str] | None = None) -> str:
        """How EV is made, for people: ``"2026 revenue x multiple"`` (hook).

        With ``show``, the method's inputs are written out through it
        (``"2026 revenue x lognormal(p50=20, p90=40)"``).
        """
        raise NotImplementedError

    def settings(self) -> dict[str, Any]:
        """The method's own keys as JSON-able data (hook)."""
        raise NotImplementedError

    @property
    def method(self) -> str:
        """The tag: the ``method`` key that chose this class."""
        return self.name

    def scalar_inputs(self) -> dict[str, Distribution]:
        """Every scalar input of ``[valuation]``: the method's, then net cash and proceeds."""
        return {
            **self.inputs(),
            "valuation.net_cash": self.net_cash,
            "valuation.ipo_proceeds": self.ipo_proceeds,
        }

    def to_dict(self) -> dict[str, Any]:
        """``[valuation]`` as JSON-able data, amounts in USD (for ``Scenario.to_dict``)."""
        return {
            "method": self.name,
            "year": self.year,
            **self.settings(),
            "net_cash_usd": self.net_cash.to_dict(),
            "ipo_proceeds_usd": self.ipo_proceeds.to_dict(),
        }


# Registration. The methods import the base above, so they are imported after it.
from sim.valuation.both import Both  # noqa: E402
from sim.valuation.dcf import Dcf  # noqa: E402
from sim.valuation.ev_to_sales import EvToSales  # noqa: E402

Valuation: TypeAlias = EvToSales | Dcf | Both
"""A parsed ``[valuation]`` table: the union of the classes in :data:`METHODS`."""
METHODS: Mapping[str, type[Valuation]] = {m.name: m for m in (EvToSales, Dcf, Both)}
"""Every valuation method by its ``method`` name."""
PLANNED: Mapping[str, str] = {}
"""Methods the design names but no module implements yet, with the error they give."""
DEFAULT_METHOD = "ev_to_sales"
SHARED_KEYS: Mapping[str, bool] = {"method": False, "year": True}
SHARED_VALUE_KEYS: Mapping[str, bool] = {"net_cash": False, "ipo_proceeds": False}


def table_keys() -> dict[str, bool]:
    """Every key ``[valuation]`` takes under some method, and whether it is required.

    A method's own key is required when some method requires it; the loader checks it
    against the method the table names. (``both`` takes the keys of the other two, and
    ``primary``.)
    """
    out = dict(SHARED_KEYS)
    for method in METHODS.values():
        for key, required in method.own_keys.items():
            out[key] = out.get(key, False) or required
    return {**out, **SHARED_VALUE_KEYS}


def method_class(name: str, path: str) -> type[Valuation]:
    """The class of the method called ``name``; ``path`` names the key in errors."""
    if name in METHODS:
        return METHODS[name]
    if name in PLANNED:
        raise ScenarioError(PLANNED[name], path=path)
    raise ScenarioError(unknown_key_message(name, METHODS, what="method"), path=path)
