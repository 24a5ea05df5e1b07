"""README.md's "Scenarios" table: its rendering from summaries, and its rows.

Cheap on purpose: the table is rendered from recorded summaries (the golden files), not
from a run of every scenario; ``python scripts/scenarios_table.py --check`` runs them.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from scripts.scenarios_table import (
    BEGIN,
    END,
    README,
    believes,
    block,
    render,
    replace_block,
    row,
    rows_from,
    shipped,
)
from sim import format as fmt

TESTS = Path(__file__).resolve().parent
GOLDEN = TESTS / "data" / "golden"


def _summary(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((GOLDEN / f"{name}.exact.json").read_text("utf-8"))
    return data


def test_row_reads_the_headline_numbers_from_a_summary() -> None:
    summary = _summary("baseline")
    r = row("scenarios/baseline.toml", "The prospectus view (sources); growth slows.", summary)
    assert r.name == "baseline"
    assert r.believes == "The prospectus view"
    assert r.median_usd == summary["valuation"]["quantiles"]["0.5"]
    # The offer range's low is the lowest in-range price of the grid: HK$151.
    low = next(p for p in summary["pricing"] if p["in_range"])
    assert low["price"] == pytest.approx(151.0)
    assert r.p_offer_low == low["p_fair_at_least"]
    peak = [t for t in summary["targets"] if t["at"] == "peak" and t["value_usd"] == 25e9]
    assert len(peak) == 1
    assert r.p_peak_25bn == peak[0]["p_at_least"]
    fair = next(t for t in summary["targets"] if t["at"] == "fair" and t["value_usd"] == 25e9)
    assert r.p_peak_25bn != fair["p_at_least"]  # the peak's, not fair value's


def test_render_leaves_blank_what_a_scenario_lacks() -> None:
    summary = copy.deepcopy(_summary("baseline"))
    full = row("scenarios/baseline.toml", "Full.", summary)
    del summary["pricing"]
    summary["targets"] = [t for t in summary["targets"] if t["at"] != "peak"]
    bare = row("scenarios/bare.toml", "Bare | piped.", {**summary, "scenario": "bare"})
    assert (bare.p_offer_low, bare.p_peak_25bn) == (None, None)
    lines = render([full, bare]).splitlines()
    assert len(lines) == 4
    assert lines[2] == (
        f"| [`baseline`](scenarios/baseline.toml) | Full | "
        f"{fmt.money(full.median_usd, reading=True)} | {fmt.pct(full.p_offer_low or 0)} | "
        f"{fmt.pct(full.p_peak_25bn or 0)} |"
    )
    assert lines[3].endswith(
        r"| Bare \| piped |" + f" {fmt.money(bare.median_usd, reading=True)} |  |  |"
    )
    assert all(line.count(" | ") == 4 for line in lines[2:])


def test_believes_takes_the_opening_clause() -> None:
    assert believes("A (aside; with a stop. Here) view; more.") == "A view"
    assert believes("The suit Warner Bros. Discovery filed. Then.") == (
        "The suit Warner Bros. Discovery filed"
    )
    assert believes("  Spread\n over   lines  ") == "Spread over lines"
    long = believes("word " * 100, width=40)
    assert len(long) <= 40 and long.endswith("…")
    assert believes("") == ""


def test_rows_from_reads_each_scenarios_summary_json(tmp_path: Path) -> None:
    baseline = shipped()[[p.name for p in shipped()].index("baseline.toml")]
    (tmp_path / "baseline").mkdir()
    shutil.copy(GOLDEN / "baseline.exact.json", tmp_path / "baseline" / "summary.json")
    (r,) = rows_from(tmp_path, [baseline])
    assert (r.file, r.name) == ("scenarios/baseline.toml", "baseline")
    assert r.believes == believes(_description(baseline))
    assert r.believes.startswith("MiniMax at its HK IPO, as known on 31 Dec 2025")
    with pytest.raises(SystemExit, match=r"no summary\.json for dcf\.toml"):
        rows_from(tmp_path, [baseline.with_name("dcf.toml")])


def _description(path: Path) -> str:
    from sim.scenario import load_scenario

    return load_scenario(path).description


def test_readme_rows_name_exactly_the_shipped_scenarios() -> None:
    table = block(README.read_text(encoding="utf-8"))
    rows = [line for line in table.splitlines()[2:] if line.startswith("| ")]
    files = [
        m.group(1) for line in rows for m in [re.search(r"\]\((scenarios/[^)]+)\)", line)] if m
    ]
    assert len(files) == len(rows)
    assert files == [f"scenarios/{p.name}" for p in shipped()], (
        "README.md's scenarios table is stale: run python scripts/scenarios_table.py"
    )


def test_replace_block_round_trips() -> None:
    text = README.read_text(encoding="utf-8")
    assert BEGIN in text and END in text
    assert block(replace_block(text, "x\n")) == "x\n"
    assert replace_block(text, block(text)) == text
