"""``[valuation]``: its declared keys and the reader a valuation method parses it by.

The shared keys (``method``, ``year``, ``net_cash``, ``ipo_proceeds``) are read here and
each method's own in its module (:mod:`sim.valuation`), through :class:`_ValuationKeys`,
the :class:`sim.valuation.Keys` of a scenario table. Split from :mod:`sim.scenario.parse`
(which calls :func:`_parse_valuation`) to keep that module to its size.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from types import MappingProxyType

from sim.distributions import Distribution, parse_distribution, plain_number
from sim.errors import ScenarioError
from sim.money import parse_fraction, parse_money
from sim.scenario.keys import _dist_in, _int, _Keys, _num, _str, _Table
from sim.scenario.types import _DECLARED
from sim.valuation import DEFAULT_METHOD, Shared, Unit, Valuation, method_class, table_keys
from sim.valuation.comparables import Comparables


def _valuation_keys() -> _Keys:
    """The shared keys and every registered method's own (see :mod:`sim.valuation`).

    Built from the registry when a table is read, so that a method registered later (a
    new module, or a test's) brings its keys with it.
    """
    keys = table_keys()
    return _Keys(
        "valuation",
        required=tuple(k for k, required in keys.items() if required),
        optional=tuple(k for k, required in keys.items() if not required),
    )


_DECLARED["valuation"] = MappingProxyType(dict(_valuation_keys().declared))


class _ValuationKeys:
    """The ``[valuation]`` table as :class:`sim.valuation.Keys`: what a method reads it by."""

    def __init__(
        self, table: _Table, fx: Mapping[str, float], peers: Comparables | None = None
    ) -> None:
        self.table = table
        self.fx = fx
        self.comparables = peers

    def path(self, key: str) -> str:
        return self.table.key(key)

    def has(self, key: str) -> bool:
        return self.table.has(key)

    def _value(self, key: str, default: object) -> object:
        return self.table.need(key) if default is None else self.table.get(key, default)

    def number(
        self,
        key: str,
        default: float | None = None,
        *,
        lo: float = -math.inf,
        hi: float = math.inf,
        lo_open: bool = False,
    ) -> float:
        return _num(self._value(key, default), self.path(key), lo=lo, hi=hi, lo_open=lo_open)

    def fraction(self, key: str, default: float | None = None) -> float:
        return parse_fraction(
            self._value(key, default), path=self.path(key), lo=-math.inf, hi=math.inf
        )

    def text(self, key: str, default: str | None = None) -> str:
        return _str(self._value(key, default), self.path(key))

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
        path = self.path(key)
        return self._read(self._value(key, default), path, unit, lo, hi, lo_open, what)

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
        value = self.table.data.get(key)
        if not isinstance(value, list):
            return None
        self.table.get(key)  # taken
        path = self.path(key)
        if not value:
            raise ScenarioError("expected one entry per simulated year, got none", path=path)
        return tuple(
            self._read(entry, f"{path}[{k}]", unit, lo, hi, lo_open, what)
            for k, entry in enumerate(value, start=1)
        )

    def _read(
        self,
        value: object,
        path: str,
        unit: Unit,
        lo: float,
        hi: float,
        lo_open: bool,
        what: str,
    ) -> Distribution:
        fx = self.fx
        readers: dict[str, Callable[[object, str], float]] = {
            "number": plain_number,
            "fraction": lambda v, p: parse_fraction(v, path=p, lo=-math.inf, hi=math.inf),
            "money": lambda v, p: parse_money(v, path=p, fx=fx),
            "signed_money": lambda v, p: parse_money(v, path=p, fx=fx, allow_negative=True),
        }
        dist = parse_distribution(value, path=path, value=readers[unit])
        if lo > -math.inf or hi < math.inf:
            _dist_in(dist, path, lo, hi, lo_open=lo_open, what=what)
        return dist


def _parse_valuation(keys: _ValuationKeys, years: tuple[int, ...]) -> Valuation:
    """The shared keys here, the method's own in its module (:mod:`sim.valuation`)."""
    t = keys.table
    method = method_class(_str(t.get("method", DEFAULT_METHOD), t.key("method")), t.key("method"))
    year = _int(t.need("year"), t.key("year"))
    if year not in years:
        raise ScenarioError(
            f"expected a simulated year in {years[0]}..{years[-1]}, got {year}", path=t.key("year")
        )
    net_cash = keys.distribution("net_cash", 0.0, unit="signed_money")
    proceeds = keys.distribution("ipo_proceeds", 0.0, unit="money", lo=0.0, what="IPO proceeds")
    valuation = method.parse(keys, Shared(year, net_cash, proceeds))
    t.done()
    return valuation.fit_years(years, t.path)
