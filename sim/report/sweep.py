"""The sweep report: a page per swept key, each target's probability and the median
equity value against the key's value, with 95 % intervals."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, PercentFormatter

from sim import format as fmt
from sim._version import __version__
from sim.report.axes import _money_tick
from sim.report.layout import _message, _page, _wrap
from sim.report.style import SCENARIO_COLOURS, Fonts, choose_fonts
from sim.report.write import _write
from sim.studies.sweep import Point, Sweep

_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
_DASHES = ("-", "--", ":", "-.")


def render_sweep(
    sweep: Sweep,
    out_dir: Path,
    formats: Sequence[str] = ("pdf", "png"),
    *,
    fonts: Fonts | None = None,
) -> list[Path]:
    """Write ``sweep.pdf`` and ``sweep_<n>.png`` (one per swept key, in ``--set`` order).

    On the page of key i, its values run along the x axis (evenly spaced, labelled as
    written); where other keys are swept too, each combination of their values is its own
    line (marker and dash). Left: each target's P(value >= target), colour per target.
    Right: the median equity value. Bars: 95 % intervals (Wilson; order statistics).
    """
    fonts = fonts if fonts is not None else choose_fonts()
    metadata = {
        "Title": f"ipo-sim sweep: {sweep.scenario}",
        "Subject": ", ".join(k.path for k in sweep.keys),
        "Keywords": f"sha256:{sweep.scenario_sha256}",
        "Creator": f"ipo-sim {__version__}",
    }

    pages = [
        (f"sweep_{i + 1}.png", partial(_draw_key, i=i, fonts=fonts))
        for i in range(len(sweep.keys))
    ]
    return _write(pages, sweep, fonts, out_dir, "sweep.pdf", metadata, formats)


def _draw_key(sweep: Sweep, *, i: int, fonts: Fonts) -> Figure:
    """Key i's page (module-level: worker processes draw it)."""
    return _fig_key(sweep, i, fonts)


def _lines(sweep: Sweep, i: int) -> list[tuple[str, list[Point]]]:
    """For key i: one line per combination of the other keys' values, its points in the
    order of key i's values."""
    others = [j for j in range(len(sweep.keys)) if j != i]
    out = []
    for combo in itertools.product(*(range(len(sweep.keys[j].values)) for j in others)):
        points = [
            p
            for p in sweep.points
            if all(p.index[j] == c for j, c in zip(others, combo, strict=True))
        ]
        points.sort(key=lambda p: p.index[i])
        label = ", ".join(
            f"{sweep.keys[j].path} = {sweep.keys[j].written[c]}"
            for j, c in zip(others, combo, strict=True)
        )
        out.append((label, points))
    return out


def _fig_key(sweep: Sweep, i: int, fonts: Fonts) -> Figure:
    key = sweep.keys[i]
    footer = fonts.text(
        f"ipo-sim {__version__}  ·  {sweep.scenario} (sha256 {sweep.scenario_sha256[:8]}…)  ·  "
        f"{sweep.paths:,} paths per point, seed {sweep.seed}, {sweep.sampler}: every point "
        "drew the same inputs (paired)"
    )
    fig, body = _page(fonts.text(f"Sweep of {key.path}: {sweep.scenario}"), footer)
    left, right = body.subplots(1, 2)
    lines = _lines(sweep, i)
    xs = list(range(len(key.values)))
    ticks = [
        fonts.text(_wrap(_tick(v, w), 26)) for v, w in zip(key.values, key.written, strict=True)
    ]
    if sweep.targets:
        # A colour per target value, so that a ladder at fair value and the same ladder
        # at a later point in time pair up; the later points in time drawn hollow.
        values = list(dict.fromkeys(value for _, value, _ in sweep.targets))
        for t, (label, value, at) in enumerate(sweep.targets):
            colour = SCENARIO_COLOURS[values.index(value) % len(SCENARIO_COLOURS)]
            for n, (_combo, points) in enumerate(lines):
                _errorbar(
                    left,
                    xs,
                    [p.p_at_least[t] for p in points],
                    [p.ci95[t] for p in points],
                    colour,
                    n,
                    fonts.text(fmt.target_label(f"{label} ({fmt.money(value, short=True)})", at))
                    if n == 0
                    else None,
                    hollow=at != "fair",
                )
        left.yaxis.set_major_formatter(PercentFormatter(1.0))
        left.set_ylim(-0.02, 1.02)
        left.set_ylabel("P(value ≥ target), 95% intervals: fair value unless named")
        left.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=7.5, title="target", ncol=2
        )
    else:
        _message(left, "The scenario has no targets.")
    for n, (combo, points) in enumerate(lines):
        _errorbar(
            right,
            xs,
            [p.median_usd for p in points],
            [p.median_ci95 for p in points],
            "#222222",
            n,
            fonts.text(combo) if combo else None,
        )
    right.yaxis.set_major_formatter(FuncFormatter(_money_tick))
    right.set_ylabel("median equity value at listing, USD (95% interval)")
    if len(lines) > 1:
        right.legend(
            loc="upper center", bbox_to_anchor=(0.5, -0.13), fontsize=7.5, title="other keys"
        )
    for ax in (left, right):
        ax.set_xticks(xs, ticks)
        ax.set_xlabel(fonts.text(key.path))
        ax.set_xlim(-0.4, len(xs) - 0.6)
    return fig


def _tick(value: object, written: str) -> str:
    """A value as a tick label: a distribution table in the report's own words."""
    if isinstance(value, dict):
        return fmt.parameters(value)
    return written


def _errorbar(
    ax: Axes,
    xs: list[int],
    ys: list[float],
    cis: list[tuple[float, float]],
    colour: str,
    n: int,
    label: str | None,
    *,
    hollow: bool = False,
) -> None:
    lo = [max(y - c[0], 0.0) for y, c in zip(ys, cis, strict=True)]
    hi = [max(c[1] - y, 0.0) for y, c in zip(ys, cis, strict=True)]
    ax.errorbar(
        xs,
        ys,
        yerr=[lo, hi],
        color=colour,
        marker=_MARKERS[n % len(_MARKERS)],
        linestyle=_DASHES[n % len(_DASHES)],
        ms=5,
        mfc="white" if hollow else colour,
        capsize=3,
        lw=1.3,
        alpha=0.85 if hollow else 1.0,
        label=label,
    )
