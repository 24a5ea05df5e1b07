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
