"""The run table the CLI prints: amounts around zero and negative amounts."""

from __future__ import annotations

import io
from pathlib import Path

from sim import load_scenario, simulate, summarise
from sim.cli.printing import _print_summary
from tests.builders import all_lost_sections, scenario


def test_all_lost_run_prints_zero_not_minus_zero() -> None:
    # Dirichlet shares sum to 1 only up to rounding, so the values are ±3e-7, not 0
    # (limited liability floors the negative half at 0, issue 21: 0 and a few 1e-7).
    result = simulate(scenario(**all_lost_sections()), 20_000, seed=3)
    equity = result.kept.values.equity
    assert equity.min() == 0.0 < equity.max()  # the premise: rounding noise
    out = io.StringIO()
    _print_summary(summarise(result), out, valuation=result.scenario.valuation)
    text = out.getvalue()
    assert "): median USD 0\n" in text
    assert "p5 USD 0 | p50 USD 0 | p95 USD 0 | mean USD 0\n" in text
    assert "-USD" not in text and "0.00" not in text.split("target")[0]


def test_a_peer_multiples_mean_is_named_noise_not_led_with() -> None:
    """exp of a Student t has no finite mean: the run's line leads with the median and
    says why its mean is not a figure to read (the baseline's was ~70x its median)."""
    sc = load_scenario(Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml")
    out = io.StringIO()
    _print_summary(summarise(simulate(sc, 5_000, seed=3)), out, valuation=sc.valuation)
    first, second = out.getvalue().splitlines()[1:3]
    assert ": median USD" in first and "mean" not in first
    assert second.endswith(
        "mean none (the peer multiple is exp of a t: no finite mean; read the quantiles)"
    )
    assert "mean USD" not in second
