"""Golden results: the shipped scenarios at a fixed seed give the summary they were recorded with.

A refactor must leave every number of summary.json as it was (apart from the run time), to
a relative 1e-9: numpy's SIMD exp/log and BLAS differ in the last bits between processors
(an AMD EPYC moved every golden by 1-3 ulp), which is not a change of the model.
A deliberate change of the model or of the statistics records new golden files::

    IPO_SIM_UPDATE_GOLDEN=1 python -m pytest -q tests/test_golden.py

and the commit that does so says why the numbers moved.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path
from typing import Any

import pytest

from sim.analysis.summary import summarise
from sim.run.engine import simulate
from sim.scenario import load_scenario

TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "data" / "golden"
SCENARIOS = [*sorted((TESTS.parent / "scenarios").glob("*.toml")), TESTS / "data" / "small.toml"]
UPDATE = os.environ.get("IPO_SIM_UPDATE_GOLDEN") == "1"
# More than one block (so blocks merge), and a kept prefix shorter than the run (so the
# sketch's quantiles are read too).
RUNS = {
    "exact": {"paths": 70_000, "seed": 7, "sampler": "random"},
    "sketch": {"paths": 70_000, "seed": 11, "sampler": "lhs", "keep": 5_000},
}
VOLATILE = ("elapsed_s",)
# Processor-dependent rounding (last bits of SIMD transcendental functions) stays far below
# this; a change of the model or of the statistics moves numbers far above it.
RTOL = 1e-9


def _summary(path: Path, run: dict[str, Any]) -> dict[str, Any]:
    scenario = load_scenario(path)
    options = dict(run)
    result = simulate(scenario, options.pop("paths"), **options)
    data: dict[str, Any] = json.loads(summarise(result).to_json())
    for key in VOLATILE:
        data.pop(key)
    return data


def _differences(old: Any, new: Any, where: str = "") -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        out = [f"{where}.{k}: missing now" for k in old.keys() - new.keys()]
        out += [f"{where}.{k}: new key" for k in new.keys() - old.keys()]
        if old.keys() == new.keys() and list(old) != list(new):
            # summary.json is read by people and diffed between runs: its order is kept too.
            out.append(f"{where}: keys reordered {list(old)} -> {list(new)}")
        for k in old.keys() & new.keys():
            out += _differences(old[k], new[k], f"{where}.{k}")
        return out
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [
            d
            for i, (a, b) in enumerate(zip(old, new, strict=True))
            for d in _differences(a, b, f"{where}[{i}]")
        ]
    if isinstance(old, float) and isinstance(new, float) and math.isclose(old, new, rel_tol=RTOL):
        return []
    return [] if old == new else [f"{where}: {old!r} -> {new!r}"]


@pytest.mark.parametrize("run", sorted(RUNS))
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_summary_matches_the_golden_file(path: Path, run: str) -> None:
    golden = GOLDEN / f"{path.stem}.{run}.json"
    data = _summary(path, RUNS[run])
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    expected = json.loads(golden.read_text(encoding="utf-8"))
    differences = _differences(expected, data)
    assert not differences, "\n".join(differences[:20])
