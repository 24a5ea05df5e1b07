"""The shipped scenarios as a committee would check them."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.run.engine import simulate
from sim.scenario import load_scenario

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_the_baseline_never_books_less_than_the_nine_months_already_booked() -> None:
    """Re-based on what was known at listing: no path's 2025 revenue is below 9M 2025."""
    scenario = load_scenario(SCENARIOS / "baseline.toml")
    assert scenario.base_year == 2025
    booked = np.array([s.booked for s in scenario.segments], dtype=float)
    assert np.all(booked > 0)  # every segment states its booked nine months
    result = simulate(scenario, 3 * 65_536 + 17, seed=2026, sampler="lhs")
    base = result.kept.values.segment_revenue[:, :, 0]  # (paths, segments), the base year
    assert result.exact and base.shape == (result.paths, len(booked))
    assert int((base < booked).sum()) == 0
    assert int((base.sum(axis=1) < booked.sum()).sum()) == 0
    # ... and the bound is not idle: some paths come close to it.
    assert float((base.sum(axis=1) / booked.sum()).min()) < 1.4
