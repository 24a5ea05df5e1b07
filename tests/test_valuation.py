"""The valuation seam: a method is one class behind the hooks of sim.valuation."""

from __future__ import annotations

import io
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Self

import numpy as np
import pytest

import sim.scenario.types
from sim.analysis.summary import summarise
from sim.cli.printing import _print_summary
from sim.distributions import Distribution
from sim.errors import ScenarioError
from sim.run.engine import simulate
from sim.scenario import KEYS
from sim.valuation import (
    METHODS,
    Keys,
    Paths,
    Shared,
    ValuationMethod,
    Valued,
    method_class,
    table_keys,
)
from sim.valuation.both import Both
from sim.valuation.dcf import Dcf
from sim.valuation.ev_to_sales import EvToSales
from tests.builders import scenario


@dataclass(frozen=True, slots=True, eq=False)
class FlatEv(ValuationMethod):
    """A toy method: EV is drawn outright, whatever the revenue."""

    ev: Distribution

    name: ClassVar[str] = "flat_ev"
    own_keys: ClassVar[dict[str, bool]] = {"ev": True}
    input_labels: ClassVar[dict[str, str]] = {"valuation.ev": "enterprise value"}

    @classmethod
    def parse(cls, keys: Keys, shared: Shared) -> Self:
        ev = keys.distribution("ev", unit="money", lo=0.0, what="EV")
        return cls(*shared, ev)

    def inputs(self) -> dict[str, Distribution]:
        return {"valuation.ev": self.ev}

    def enterprise_value(self, paths: Paths) -> Valued:
        ev = np.asarray(paths.draws["valuation.ev"], dtype=float)
        return Valued(ev=ev, multiple=ev / paths.revenue[paths.row])

    def describe(self, show: Callable[[Distribution], str] | None = None) -> str:
        return f"a flat EV of {show(self.ev)}" if show else "a flat EV"

    def settings(self) -> dict[str, Any]:
        return {"ev": self.ev.to_dict()}


@pytest.fixture
def flat_ev(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register :class:`FlatEv` the way a module of sim/valuation/ is registered."""
    monkeypatch.setitem(METHODS, FlatEv.name, FlatEv)
    monkeypatch.setitem(sim.scenario.types._DECLARED, "valuation", table_keys())


FLAT = {
    "method": "flat_ev",
    "year": 2026,
    "ev": {"dist": "uniform", "min": "1bn", "max": "2bn"},
    "net_cash": "100M",
}


def test_the_key_table_is_the_shared_keys_and_each_methods_own() -> None:
    keys = dict(KEYS["valuation"])
    assert keys == table_keys()
    # The loader lists each table's required keys first, then its optional ones.
    must = [k for k, r in table_keys().items() if r]
    assert list(keys)[: len(must)] == must
    for method in METHODS.values():
        for key, required in method.own_keys.items():
            assert keys[key] is required


@pytest.mark.usefixtures("flat_ev")
def test_a_new_method_is_one_class_behind_the_hooks() -> None:
    sc = scenario(valuation=FLAT)
    assert isinstance(sc.valuation, FlatEv)
    assert sc.valuation.method == "flat_ev"
    assert "valuation.ev" in sc.scalar_inputs()
    assert "valuation.multiple" not in sc.scalar_inputs()
    assert sc.to_dict()["valuation"]["ev"] == {"dist": "uniform", "min": 1e9, "max": 2e9}
    n = 20_000
    res = simulate(sc, n, seed=41)
    ev = res.kept.values.equity - 1e8
    assert ev.min() >= 1e9 and ev.max() <= 2e9
    # Revenue 100 grows by half a year: the model hands the method its 2026 revenue.
    assert np.allclose(res.kept.values.multiple, ev / 225.0)
    sd = 1e9 / math.sqrt(12.0)
    assert abs(res.streams["valuation"].mean - 1.6e9) <= 4 * sd / math.sqrt(n)


@pytest.mark.usefixtures("flat_ev")
def test_a_method_owns_its_keys() -> None:
    """Another method's key is an unknown key; its own required key is required."""
    with pytest.raises(ScenarioError, match="unknown key 'multiple'") as info:
        scenario(valuation={**FLAT, "multiple": 10.0})
    assert info.value.path == "valuation.multiple"
    with pytest.raises(ScenarioError, match="required key is missing") as info:
        scenario(valuation={"method": "flat_ev", "year": 2026})
    assert info.value.path == "valuation.ev"
    with pytest.raises(ScenarioError, match="EV must lie in") as info:
        scenario(valuation={**FLAT, "ev": {"dist": "normal", "mean": 1e9, "sd": 1e8}})
    assert info.value.path == "valuation.ev"


@pytest.mark.usefixtures("flat_ev")
def test_the_command_line_asks_the_method_for_its_description() -> None:
    sc = scenario(valuation=FLAT)
    out = io.StringIO()
    _print_summary(summarise(simulate(sc, 100, seed=1)), out, valuation=sc.valuation)
    assert "equity value at listing (a flat EV): median" in out.getvalue()


def test_ev_to_sales_describes_itself() -> None:
    multiple = {"dist": "lognormal", "p50": 20, "p90": 40}
    sc = scenario(valuation={"year": 2026, "multiple": multiple})
    assert isinstance(sc.valuation, EvToSales)
    assert sc.valuation.describe() == "2026 revenue x multiple"
    shown = sc.valuation.describe(lambda d: d.describe())
    assert shown == "2026 revenue x lognormal(p50=20, p90=40)"
    # Every input it draws has a readable name (the comparables add inputs of their own).
    assert set(sc.valuation.inputs()) <= set(EvToSales.input_labels)


def test_method_names_are_looked_up_in_the_registry() -> None:
    assert method_class("ev_to_sales", "valuation.method") is EvToSales
    assert method_class("dcf", "valuation.method") is Dcf
    assert method_class("both", "valuation.method") is Both
    with pytest.raises(ScenarioError, match="did you mean 'ev_to_sales'"):
        method_class("ev_to_sale", "valuation.method")
