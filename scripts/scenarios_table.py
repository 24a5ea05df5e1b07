"""Regenerate README.md's "Scenarios" table: one row per shipped scenario (scenarios/*.toml).

Each row: the scenario's file and name, what it believes (the opening clause of its
description, asides in brackets left out) and its headline numbers from summary.json: the
median equity value, P(fair value per share >= the offer range's low) and P(peak market
value >= 25 bn USD) (blank where the scenario has no offering, or no such target at
``peak``)::

    python scripts/scenarios_table.py                 # ipo-sim run scenarios/ (each at its
                                                      # own paths and seed), then rewrite
    python scripts/scenarios_table.py --from reports  # read reports/<name>/summary.json
    python scripts/scenarios_table.py --check         # exit 1 if the table is out of date

The scenarios are whatever ``scenarios/*.toml`` holds when it runs.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SCENARIOS = ROOT / "scenarios"
BEGIN = "<!-- scenarios-table: python scripts/scenarios_table.py -->"
END = "<!-- end scenarios-table -->"
#: The peak target of the table's last column: the brief's 25 bn USD.
PEAK_TARGET_USD = 25e9
#: The longest "what it believes" cell, in characters.
BELIEF_WIDTH = 150
HEADER = (
    "scenario",
    "what it believes",
    "median equity value",
    "P(fair value per share >= offer low)",
    "P(peak >= 25 bn USD)",
)
# A full stop that ends an abbreviation, not a sentence ("Warner Bros. Discovery").
_ABBREVIATIONS = ("Bros", "Inc", "Corp", "Ltd", "Co", "No", "vs", "e.g", "i.e", "approx", "St")


@dataclass(frozen=True, slots=True)
class Row:
    """One scenario's line of the table (probabilities None where it has no such figure)."""

    file: str
    name: str
    believes: str
    median_usd: float
    p_offer_low: float | None
    p_peak_25bn: float | None


def shipped(folder: Path = SCENARIOS) -> list[Path]:
    """The shipped scenario files, in name order (as ``ipo-sim run scenarios/`` runs them)."""
    return sorted(folder.glob("*.toml"), key=lambda p: p.name)


def believes(description: str, width: int = BELIEF_WIDTH) -> str:
    """The opening clause of a description: up to its first ``;`` or full stop, with the
    asides in brackets left out, cut at a word to ``width`` characters.

    >>> believes("The bull case: growth stays (9M +175%, prospectus); the window is hot.")
    'The bull case: growth stays'
    >>> believes("The baseline with the suit Warner Bros. Discovery filed. Two shocks.")
    'The baseline with the suit Warner Bros. Discovery filed'
    """
    text, depth = [], 0
    for ch in " ".join(description.split()):
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth = max(0, depth - 1)
        elif depth == 0:
            text.append(ch)
    flat = re.sub(r"\s+([,;:.])", r"\1", re.sub(r"\s{2,}", " ", "".join(text))).strip()
    end = len(flat)
    for m in re.finditer(r";|\.(?=\s|$)", flat):
        before = flat[: m.start()].rsplit(" ", 1)[-1]
        if m.group() == "." and before in _ABBREVIATIONS:
            continue
        end = m.start()
        break
    clause = flat[:end].strip()
    if len(clause) > width:
        clause = clause[: width - 1].rsplit(" ", 1)[0].rstrip(",:;") + "…"
    return clause


def row(file: str, description: str, summary: Mapping[str, Any]) -> Row:
    """A scenario's row from its description and its summary.json."""
    in_range = [p for p in summary.get("pricing") or () if p["in_range"]]
    low = min(in_range, key=lambda p: p["price"]) if in_range else None
    peak = [
        t
        for t in summary.get("targets") or ()
        if t["at"] == "peak" and abs(t["value_usd"] - PEAK_TARGET_USD) < 0.5
    ]
    return Row(
        file=file,
        name=summary["scenario"],
        believes=believes(description),
        median_usd=summary["valuation"]["quantiles"]["0.5"],
        p_offer_low=None if low is None else low["p_fair_at_least"],
        p_peak_25bn=peak[0]["p_at_least"] if peak else None,
    )


def render(rows: Sequence[Row]) -> str:
    """The table in Markdown, one row per scenario in the order given."""
    from sim import format as fmt

    def cell(p: float | None) -> str:
        return "" if p is None else fmt.pct(p)

    lines = [
        "| " + " | ".join(HEADER) + " |",
        "|---|---|---:|---:|---:|",
    ]
    for r in rows:
        name = f"[`{r.name}`]({r.file})"
        believed = r.believes.replace("|", "\\|")
        median = fmt.money(r.median_usd, reading=True)
        lines.append(
            f"| {name} | {believed} | {median} | {cell(r.p_offer_low)} | {cell(r.p_peak_25bn)} |"
        )
    return "\n".join(lines) + "\n"


def rows_from(folder: Path, files: Sequence[Path] | None = None) -> list[Row]:
    """The rows of ``files`` (default: the shipped ones) from ``folder/<name>/summary.json``."""
    from sim.scenario import load_scenario

    out = []
    for path in shipped() if files is None else files:
        scenario = load_scenario(path)
        found = folder / scenario.name / "summary.json"
        if not found.is_file():
            raise SystemExit(f"{found}: no summary.json for {path.name} (run ipo-sim run first)")
        summary = json.loads(found.read_text(encoding="utf-8"))
        out.append(row(_relative(path), scenario.description, summary))
    return out


def run_all(out: Path) -> None:
    """``ipo-sim run scenarios/`` at each scenario's own paths and seed, summaries only."""
    argv = ["run", "scenarios/", "--format", "json", "--out", str(out), "--quiet"]
    done = subprocess.run(
        [sys.executable, "-m", "sim", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=False,
    )
    # 1: an expectation failed; the numbers are still those of the scenarios as shipped.
    if done.returncode not in (0, 1):
        raise SystemExit(f"ipo-sim {' '.join(argv)} failed ({done.returncode}):\n{done.stderr}")
    if done.returncode == 1:
        print("note: an [[expect]] of a shipped scenario failed", file=sys.stderr)


def block(text: str) -> str:
    """The table now between the README's markers."""
    try:
        return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n") + "\n"
    except IndexError:
        raise SystemExit(f"README.md lacks the markers {BEGIN!r} ... {END!r}") from None


def replace_block(text: str, table: str) -> str:
    """``text`` with the table between the markers replaced by ``table``."""
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    return f"{head}{BEGIN}\n{table}{END}{tail}"


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        help="read <FOLDER>/<name>/summary.json (an earlier ipo-sim run scenarios/ --out "
        "FOLDER) instead of running the scenarios",
    )
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    if args.source is not None:
        table = render(rows_from(args.source))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            run_all(Path(tmp))
            table = render(rows_from(Path(tmp)))
    if args.check:
        if block(text) != table:
            print("README.md's scenarios table is stale: run python scripts/scenarios_table.py")
            return 1
        return 0
    README.write_text(replace_block(text, table), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
