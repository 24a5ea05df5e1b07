"""Per-page drawing profile: build, layout, PDF save and PNG save of each report page.

Run from the repository root::

    python benchmarks/profile_pages.py                       # scenarios/baseline.toml
    python benchmarks/profile_pages.py scenarios/dcf.toml --repeat 2

One process, one page at a time, as the report writer draws them with one worker: the
figure is built, its layout solved once (``_frozen``), drawn as a one-page PDF, and that
page rasterised and encoded as the PNG (as the writer does). Prints one line per page
(seconds, best of ``--repeat``, and the figure's artist count) and the totals; writes
nothing else.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from matplotlib.figure import Figure  # noqa: E402

from sim.analysis.summary import summarise  # noqa: E402
from sim.report.layout import _colours_by_value, _Ctx  # noqa: E402
from sim.report.style import (  # noqa: E402
    PNG_DPI,
    SCENARIO_COLOURS,
    _style,
    choose_fonts,
)
from sim.report.units import resolve_units  # noqa: E402
from sim.report.write import _frozen, _page_pdf, _pages, _png_bytes, _raster  # noqa: E402
from sim.run.engine import simulate  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402


def _artists(fig: Figure) -> int:
    return sum(1 for _ in fig.findobj())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", nargs="?", default="scenarios/baseline.toml")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each page (best kept)")
    args = parser.parse_args()
    scenario = load_scenario(ROOT / args.scenario)
    result = simulate(scenario, scenario.simulation.paths, seed=scenario.simulation.seed)
    summary = summarise(result)
    fonts = choose_fonts()
    ctx = _Ctx(
        scenario=result.scenario,
        kept=result.kept,
        summary=summary,
        fonts=fonts,
        colour=SCENARIO_COLOURS[0],
        target_colours=_colours_by_value([t.value_usd for t in scenario.targets]),
        units=resolve_units("auto", [scenario]),
    )
    steps = ("build", "layout", "pdf", "png")
    totals = dict.fromkeys(steps, 0.0)
    print(f"{'page':18s} {'build':>6s} {'layout':>6s} {'pdf':>6s} {'png':>6s} {'all':>6s} artists")
    with _style(fonts):
        for page in _pages(scenario):
            best = dict.fromkeys(steps, float("inf"))
            artists = 0
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                fig = page.draw(ctx)
                t1 = time.perf_counter()
                _frozen(fig)
                t2 = time.perf_counter()
                pdf = _page_pdf(fig, {"CreationDate": None})
                t3 = time.perf_counter()
                _png_bytes(_raster(pdf), PNG_DPI, {"Title": "profile"})
                t4 = time.perf_counter()
                for step, seconds in zip(steps, (t1 - t0, t2 - t1, t3 - t2, t4 - t3), strict=True):
                    best[step] = min(best[step], seconds)
                artists = _artists(fig)
            for step in steps:
                totals[step] += best[step]
            row = " ".join(f"{best[s]:6.3f}" for s in steps)
            print(f"{page.name:18s} {row} {sum(best.values()):6.3f} {artists:7d}")
    row = " ".join(f"{totals[s]:6.3f}" for s in steps)
    print(f"{'total':18s} {row} {sum(totals.values()):6.3f}")


if __name__ == "__main__":
    main()
