"""Small scenarios built in code for the model and engine tests."""

from __future__ import annotations

import copy
from typing import Any

from sim.scenario import Scenario, build_scenario


def raw_scenario(**sections: Any) -> dict[str, Any]:
    """A minimal valid scenario as TOML-shaped data; keyword sections replace defaults."""
    raw: dict[str, Any] = {
        "scenario": {"name": "t", "base_year": 2024, "horizon": 2},
        "segments": [
            {"name": "a", "revenue": 100.0, "growth": 0.5, "regions": {"X": 1.0}},
        ],
        "valuation": {"year": 2026, "multiple": 10.0},
        "targets": [{"label": "t1", "value": 2000.0}],
    }
    for key, value in sections.items():
        raw[key] = copy.deepcopy(value)
    return raw


def scenario(**sections: Any) -> Scenario:
    """A validated scenario from :func:`raw_scenario`."""
    raw = raw_scenario(**sections)
    return build_scenario(raw, source=None, own_name=raw["scenario"]["name"])


_ALL_LOST_REGIONS = {"CN": 0.25, "US": 0.25, "SG": 0.12, "JP": 0.08, "other": 0.30}


def all_lost_sections() -> dict[str, Any]:
    """Sections of a scenario whose every path loses all its revenue: one segment with
    random (Dirichlet) regional shares and a certain, total, permanent shock everywhere.

    The shares sum to 1 only up to rounding, so values are 0 only up to float noise.
    """
    segment = {
        "name": "a",
        "revenue": 3e7,
        "growth": 0.5,
        "regions": _ALL_LOST_REGIONS,
        "region_concentration": 40,
    }
    wipe = {
        "name": "wipe",
        "regions": list(_ALL_LOST_REGIONS),
        "annual_probability": 1,
        "severity": 1,
        "recovery_years": "permanent",
    }
    return {"segments": [segment], "shocks": [wipe]}
