"""The run table the CLI prints: amounts around zero and negative amounts."""

from __future__ import annotations

import io

from sim import simulate, summarise
from sim.cli import _print_summary
from tests.builders import scenario

_REGIONS = {"CN": 0.25, "US": 0.25, "SG": 0.12, "JP": 0.08, "other": 0.30}


def test_all_lost_run_prints_zero_not_minus_zero() -> None:
    # Dirichlet shares sum to 1 only up to rounding, so the values are ±3e-7, not 0.
    segment = {
        "name": "a",
        "revenue": 3e7,
        "growth": 0.5,
        "regions": _REGIONS,
        "region_concentration": 40,
    }
    wipe = {
        "name": "wipe",
        "regions": list(_REGIONS),
        "annual_probability": 1,
        "severity": 1,
        "recovery_years": "permanent",
    }
    result = simulate(scenario(segments=[segment], shocks=[wipe]), 20_000, seed=3)
    assert result.kept.values.equity.min() < 0  # the premise: negative rounding noise
    out = io.StringIO()
    _print_summary(summarise(result), out, valuation=result.scenario.valuation)
    text = out.getvalue()
    assert "mean USD 0\n" in text
    assert "p5 USD 0 | p50 USD 0 | p95 USD 0\n" in text
    assert "-USD" not in text and "0.00" not in text.split("target")[0]
