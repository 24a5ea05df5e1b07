"""The one serialiser (sim.serial): what a field's marks do, on a block it has never seen.

A block added to the Summary later (a deal's figures, say) is written by the same rules
without a line of its own; these tests write such a block and read the rules back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import pytest

from sim.analysis.results import Quantiles
from sim.serial import serialise, spec


@dataclass(frozen=True, slots=True)
class Leg:
    name: str
    amount: float = field(metadata=spec(money=True))
    share: float


@dataclass(frozen=True, slots=True)
class Deal:
    gross_usd: float = field(metadata=spec(money=True))
    fees: Quantiles = field(metadata=spec(money=True))
    legs: tuple[Leg, ...] = field(metadata=spec(keyed="name"))
    note: str | None = field(default=None, metadata=spec(omit="none"))
    internal: int = field(default=0, metadata=spec(omit="always"))
    ratio: float = field(default=0.5, metadata=spec(key="fee_ratio"))
    spread: tuple[float, float] = field(
        default=(1.0, 2.0), metadata=spec(money=True, shape=lambda v: {"between": v})
    )


DEAL = Deal(
    gross_usd=1080.0,
    fees=Quantiles((0.05, 0.5), (10.8, 21.6)),
    legs=(Leg("primary", 540.0, 0.5), Leg("secondary", 540.0, 0.5)),
)


def test_a_usd_run_writes_fields_as_they_are() -> None:
    assert serialise(DEAL) == {
        "gross_usd": 1080.0,
        "fees": {"0.05": 10.8, "0.5": 21.6},
        "legs": {
            "primary": {"name": "primary", "amount": 540.0, "share": 0.5},
            "secondary": {"name": "secondary", "amount": 540.0, "share": 0.5},
        },
        "fee_ratio": 0.5,
        "spread": {"between": [1.0, 2.0]},
    }


def test_a_reporting_currency_converts_money_and_says_so() -> None:
    data = serialise(DEAL, currency="EUR", usd_per_unit=1.08)
    # A _usd key keeps USD and is followed by its twin; nothing else moves; the block
    # holds amounts under their own keys (fees, spread), so it ends saying their currency.
    assert list(data) == [
        *("gross_usd", "gross_eur", "fees", "legs", "fee_ratio", "spread", "currency")
    ]
    assert data["currency"] == "EUR"
    assert data["gross_usd"] == 1080.0 and data["gross_eur"] == pytest.approx(1000.0)
    assert data["fees"] == pytest.approx({"0.05": 10.0, "0.5": 20.0})
    assert data["spread"]["between"] == pytest.approx([1 / 1.08, 2 / 1.08])
    assert data["fee_ratio"] == 0.5  # not money
    # The leg holds an amount under its own key: its block says which currency.
    leg = data["legs"]["primary"]
    assert leg == {
        "name": "primary",
        "amount": pytest.approx(500.0),
        "share": 0.5,
        "currency": "EUR",
    }


def test_omission_rules_and_non_finite_numbers() -> None:
    deal = Deal(
        gross_usd=math.nan,
        fees=Quantiles((0.5,), (1.0,)),
        legs=(),
        note="priced",
        internal=3,
    )
    data = serialise(deal, currency="GBP", usd_per_unit=1.25)
    assert data["note"] == "priced" and "internal" not in data and data["legs"] == {}
    assert math.isnan(data["gross_usd"]) and math.isnan(data["gross_gbp"])
    assert data["fees"] == {"0.5": 0.8}
