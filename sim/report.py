"""Reports: a run's figures as ``report.pdf`` and PNG files; several runs side by side.

Every figure is a :class:`matplotlib.figure.Figure` drawn on the Agg canvas; pyplot (and
its global state) is never imported, and rcParams are only changed inside
:func:`matplotlib.rc_context`. Each figure is built once by its own function and written
to both the PDF (one page) and its PNG, so the two never disagree.

Plots use the exact per-path arrays kept by the engine (``result.kept``); the numbers
printed (target probabilities, quantiles, shock probabilities) come from the summary,
which counts every path.

Chinese amounts (亿, 万) render with a CJK font when matplotlib finds one
(:func:`choose_fonts`); without one every label is transliterated (``25亿`` becomes
``25×10⁸``), so no figure shows missing-glyph boxes.
"""

from __future__ import annotations

import logging
import math
import textwrap
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import matplotlib
import numpy as np
import numpy.typing as npt
from matplotlib import font_manager
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.colors import to_hex
from matplotlib.figure import Figure, FigureBase, SubFigure
from matplotlib.font_manager import FontProperties
from matplotlib.legend import Legend
from matplotlib.legend_handler import HandlerBase
from matplotlib.patches import Circle
from matplotlib.table import Table
from matplotlib.text import Text
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    MaxNLocator,
    NullFormatter,
    PercentFormatter,
)
from matplotlib.transforms import Transform

from sim._version import __version__
from sim.compare import TargetDifference, compare_targets, paired, shared_targets, target_p
from sim.engine import Result
from sim.scenario import Scenario
from sim.stats import Z95
from sim.summary import Summary

__all__ = [
    "CJK_FAMILIES",
    "PNG_DPI",
    "SCENARIO_COLOURS",
    "Fonts",
    "choose_fonts",
    "render",
    "render_comparison",
]

FloatArray = npt.NDArray[np.float64]

#: Resolution of the PNG files (dots per inch).
PNG_DPI = 150
#: A4 landscape, inches: the page size of both PDFs and every PNG.
PAGE = (11.69, 8.27)
#: One colour per scenario, by its position in a run or a comparison (Okabe-Ito: it
#: stays distinguishable for colour-blind readers).
SCENARIO_COLOURS = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#8C564B",
    "#332288",
)
#: CJK families matplotlib may find, most common first (Linux, then macOS and Windows).
CJK_FAMILIES = (
    "WenQuanYi Micro Hei",
    "WenQuanYi Zen Hei",
    "Noto Sans CJK SC",
    "Noto Sans SC",
    "Noto Sans CJK JP",
    "Source Han Sans SC",
    "Source Han Sans CN",
    "Droid Sans Fallback",
    "AR PL UMing CN",
    "SimHei",
    "Microsoft YaHei",
    "PingFang SC",
    "Heiti SC",
    "Hiragino Sans GB",
    "Arial Unicode MS",
)
LATIN_FAMILY = "DejaVu Sans"
# Chinese amount and currency words, read out where no CJK font can draw them.
_TRANSLITERATIONS = (
    ("万亿", "×10¹²"),
    ("亿", "×10⁸"),
    ("万", "×10⁴"),
    ("美元", " USD"),
    ("港元", " HKD"),
    ("港币", " HKD"),
    ("港幣", " HKD"),
    ("人民币", " RMB"),
    ("人民幣", " RMB"),
    ("元", " CNY"),
)
_RC: dict[str, Any] = {
    # No mathtext: "HK$151 – HK$165" is a price range, not an equation.
    "text.parse_math": False,
    "font.size": 9,
    "axes.titlesize": 10.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.titlepad": 8,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "xtick.labelsize": 8.5,
    "ytick.labelsize": 8.5,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
}
_INK = "#222222"
_MUTED = "#666666"
_EVENT = "#B2182B"
_OFFER = "#E69F00"
_KEY_QUANTILES = ("0.01", "0.05", "0.1", "0.25", "0.5", "0.75", "0.9", "0.95", "0.99")


# --------------------------------------------------------------------------- fonts


@dataclass(frozen=True, slots=True)
class Fonts:
    """The font families a report is drawn with, and the characters they can draw.

    Attributes
    ----------
    families : tuple of str
        ``font.family`` for matplotlib: DejaVu Sans first (Latin text, digits, ×, ≥),
        then the CJK family (if any) that missing glyphs fall back to.
    cjk : str or None
        The CJK family found, or ``None``: then labels are transliterated.
    coverage : frozenset of int
        Code points some family in ``families`` has a glyph for.
    """

    families: tuple[str, ...]
    cjk: str | None
    coverage: frozenset[int]

    def text(self, s: str) -> str:
        """``s`` with every character the fonts cannot draw replaced, never shown as a box.

        Chinese amounts are read out (``25亿`` -> ``25×10⁸``); other runs of undrawable
        characters become ``…``.
        """
        if self._drawable(s):
            return s
        for word, spelled in _TRANSLITERATIONS:
            if not self._drawable(word):
                s = s.replace(word, spelled)
        out: list[str] = []
        for ch in s:
            if self._drawable(ch):
                out.append(ch)
            elif not out or out[-1] != "…":
                out.append("…")
        return "".join(out)

    def _drawable(self, s: str) -> bool:
        return all(ord(ch) in self.coverage or ch in "\n\t" for ch in s)


def _font_path(family: str) -> str | None:
    try:
        path = font_manager.findfont(
            font_manager.FontProperties(family=family), fallback_to_default=False
        )
    except ValueError:
        return None
    return str(path)


def _charmap(path: str) -> frozenset[int]:
    return frozenset(font_manager.get_font(path).get_charmap())


def choose_fonts(*, cjk: bool = True, candidates: Sequence[str] = CJK_FAMILIES) -> Fonts:
    """Choose the report fonts: DejaVu Sans with the first CJK family matplotlib finds.

    Parameters
    ----------
    cjk : bool
        False forces the fallback (no CJK family; Chinese amounts transliterated), as on
        a machine without CJK fonts.
    candidates : sequence of str
        CJK family names to look for, in order of preference.

    Returns
    -------
    Fonts

    Examples
    --------
    >>> fonts = choose_fonts(cjk=False)
    >>> fonts.cjk is None, fonts.text("article: 25亿 USD")
    (True, 'article: 25×10⁸ USD')
    """
    latin = _font_path(LATIN_FAMILY)
    coverage = _charmap(latin) if latin else frozenset(range(32, 127))
    if cjk:
        installed = {f.name for f in font_manager.fontManager.ttflist}
        for family in candidates:
            path = _font_path(family) if family in installed else None
            if path is None:
                continue
            glyphs = _charmap(path)
            if ord("亿") in glyphs and ord("万") in glyphs:
                return Fonts((LATIN_FAMILY, family), family, coverage | glyphs)
    return Fonts((LATIN_FAMILY,), None, coverage)


class _NoWeightFallbackNotice(logging.Filter):
    """Drops matplotlib's notice that a CJK family has no bold face.

    CJK families usually ship one weight; bold Latin text comes from DejaVu Sans Bold and
    CJK glyphs in bold text are drawn regular, which is expected, not worth a log line.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("findfont: Failed to find font weight")


@contextmanager
def _style(fonts: Fonts) -> Iterator[None]:
    """The report's rcParams and fonts, for the figures built and saved inside."""
    logger = logging.getLogger("matplotlib.font_manager")
    notice = _NoWeightFallbackNotice()
    logger.addFilter(notice)
    try:
        with matplotlib.rc_context({**_RC, "font.family": list(fonts.families)}):  # type: ignore[dict-item]
            yield
    finally:
        logger.removeFilter(notice)


# --------------------------------------------------------------------------- formatting


def _num(x: float, digits: int = 3, *, group: bool = True) -> str:
    """A number to ``digits`` significant figures, no exponent and no trailing zeros."""
    if not math.isfinite(x):
        return str(x)
    if x == 0:
        return "0"
    if abs(x) >= 10**digits:
        return f"{x:,.0f}" if group else f"{x:.0f}"
    decimals = max(0, digits - 1 - math.floor(math.log10(abs(x))))
    text = f"{x:.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _cents(usd: float) -> float:
    """``usd``, or 0.0 below half a cent: the rounding noise of a path that lost everything."""
    return 0.0 if round(abs(usd), 2) == 0 else usd


def _money(usd: float) -> str:
    """``2.5 bn``, ``72.4 M``, ``950 K``: an amount in USD units for axes and tables."""
    usd = _cents(usd)
    a = abs(usd)
    if a >= 1e9 or round(a / 1e6, 1) >= 1000:
        return f"{_num(usd / 1e9)} bn"
    if a >= 1e6:
        return f"{_num(usd / 1e6)} M"
    if a >= 1e3:
        return f"{_num(usd / 1e3)} K"
    return _num(usd)


def _yi(usd: float) -> str:
    """The Chinese reading of an amount: ``25亿`` from 1亿 (1e8 USD) up, else ``7000万``."""
    if _cents(usd) == 0:
        return "0"
    if abs(usd) >= 1e8:
        return f"{_num(usd / 1e8, group=False)}亿"
    return f"{_num(usd / 1e4, group=False)}万"


def _pct(p: float) -> str:
    """A probability as a percentage with the digits its size needs (``0.0055%``)."""
    if not math.isfinite(p):
        return "n/a"
    if p <= 0 or p >= 1:
        return f"{min(max(p, 0.0), 1.0):.0%}"
    if 0.01 <= p <= 0.99:
        return f"{p * 100:.1f}%"
    tail = min(p, 1 - p) * 100
    decimals = max(1, 1 - math.floor(math.log10(tail)))
    return f"{(p * 100):.{decimals}f}%"


def _interval(lo: float, hi: float) -> str:
    return f"{_pct(lo)} – {_pct(hi)}"


def _pts(d: float) -> str:
    """A difference of probabilities in percentage points, signed (``+2.4 pts``)."""
    x = d * 100
    if x == 0:
        return "0 pts"
    if abs(x) >= 1:
        text = f"{x:+.1f}"
    else:
        decimals = max(2, 1 - math.floor(math.log10(abs(x))))
        text = f"{x:+.{decimals}f}"
    return text.replace("-", "−") + " pts"


def _signed(x: float) -> str:
    """A correlation, signed, with two decimals (more when it is tiny but not zero)."""
    text = f"{x:+.2f}" if abs(x) >= 0.005 or x == 0 else f"{x:+.1g}"
    return text.replace("-", "−")


def _wilson(
    k: FloatArray | npt.NDArray[np.int64], n: FloatArray | npt.NDArray[np.int64] | int
) -> tuple[FloatArray, FloatArray]:
    """Wilson 95 % intervals for many proportions ``k / n`` at once (sim.stats' formula)."""
    kk = np.asarray(k, dtype=np.float64)
    nn = np.maximum(np.asarray(n, dtype=np.float64), 1.0)
    z2 = Z95 * Z95
    p = kk / nn
    denom = 1.0 + z2 / nn
    centre = (p + z2 / (2 * nn)) / denom
    half = Z95 * np.sqrt(np.maximum(p * (1 - p), 0.0) / nn + z2 / (4 * nn * nn)) / denom
    lo = np.where(kk <= 0, 0.0, np.maximum(0.0, centre - half))
    hi = np.where(kk >= nn, 1.0, np.minimum(1.0, centre + half))
    return lo, hi


def _log_ticks(lo: float, hi: float) -> list[float]:
    """Round values (a 1-2-3-5 series, finer for a narrow range) for a log axis."""
    decades = math.log10(hi / lo)
    if decades > 3:
        mantissas: tuple[float, ...] = (1,)
    elif decades > 2:
        mantissas = (1, 2, 5)
    elif decades > 0.8:
        mantissas = (1, 2, 3, 5)
    elif decades > 0.3:
        mantissas = (1, 1.5, 2, 3, 4, 5, 6, 8)
    else:
        mantissas = (1, 1.2, 1.4, 1.6, 1.8, 2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9)
    ticks = [
        m * 10.0**e
        for e in range(math.floor(math.log10(lo)), math.ceil(math.log10(hi)) + 1)
        for m in mantissas
        if lo <= m * 10.0**e <= hi
    ]
    if len(ticks) < 3:
        ticks = [float(v) for v in np.geomspace(lo, hi, 5)]
    return ticks


def _to_yi(v: Any) -> Any:
    return np.asarray(v, dtype=np.float64) / 1e8


def _from_yi(v: Any) -> Any:
    return np.asarray(v, dtype=np.float64) * 1e8


def _set_money_axis(
    ax: Axes, which: str, lo: float, hi: float, *, log: bool, yi: bool, fonts: Fonts
) -> None:
    """Money ticks (USD) on ``ax``'s x or y axis, and a 亿 reading opposite when ``yi``."""
    axis = ax.xaxis if which == "x" else ax.yaxis
    if which == "x":
        ax.set_xlim(lo, hi)
        if log:
            ax.set_xscale("log")
    else:
        ax.set_ylim(lo, hi)
        if log:
            ax.set_yscale("log")
    if log:
        axis.set_major_locator(FixedLocator(_log_ticks(lo, hi)))
        axis.set_minor_formatter(NullFormatter())
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: _money(v)))
    if not yi:
        return
    if which == "x":
        sec = ax.secondary_xaxis("top", functions=(_to_yi, _from_yi))
        sec_axis: Any = sec.xaxis
    else:
        sec = ax.secondary_yaxis("right", functions=(_to_yi, _from_yi))
        sec_axis = sec.yaxis
    if log:
        sec_axis.set_major_locator(FixedLocator(_log_ticks(lo / 1e8, hi / 1e8)))
        sec_axis.set_minor_formatter(NullFormatter())
    sec_axis.set_major_formatter(FuncFormatter(lambda v, _pos: fonts.text(_yi(v * 1e8))))
    sec.tick_params(labelsize=7.5, colors=_MUTED)


# --------------------------------------------------------------------------- layout helpers


@dataclass(frozen=True, slots=True)
class _Ctx:
    """What every figure of one scenario's report needs."""

    result: Result
    summary: Summary
    fonts: Fonts
    colour: str
    target_colours: tuple[str, ...]

    @property
    def scenario(self) -> Scenario:
        return self.result.scenario

    @property
    def data(self) -> dict[str, Any]:
        return self.summary.data

    @property
    def yi(self) -> bool:
        return self.result.scenario.writes_yi

    @property
    def value_scale(self) -> float:
        """The size of the plotted equity values, with shocks and without (0 if none)."""
        kept = self.result.kept
        if kept.n == 0:
            return 0.0
        return float(max(np.abs(kept.equity).max(), np.abs(kept.equity_unshocked).max()))

    def t(self, s: str) -> str:
        return self.fonts.text(s)

    def footer(self) -> str:
        d = self.data
        parts = [
            f"ipo-sim {d['version']}",
            f"scenario {d['scenario']}",
            f"sha256 {d['scenario_sha256'][:12]}…",
            f"seed {d['seed']}",
            f"{d['paths']:,} paths ({d['sampler']})",
        ]
        kept = self.result.kept.n
        if kept < self.result.paths:
            parts.append(f"plots show the first {kept:,} paths; printed figures count all")
        return self.t("  ·  ".join(parts))


def _target_colours(n: int) -> tuple[str, ...]:
    """Colours for ``n`` targets ranked by value: purple to orange, no scenario colour."""
    if n == 0:
        return ()
    cmap = matplotlib.colormaps["plasma"]
    stops = np.linspace(0.1, 0.8, n) if n > 1 else np.array([0.45])
    return tuple(to_hex(cmap(float(s))) for s in stops)


def _colours_by_value(values: Sequence[float]) -> tuple[str, ...]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    palette = _target_colours(len(order))
    colours = [""] * len(order)
    for rank, i in enumerate(order):
        colours[i] = palette[rank]
    return tuple(colours)


def _page(title: str, footer: str, *, note: str = "") -> tuple[Figure, SubFigure]:
    """A blank A4-landscape page: the body (constrained layout) over a footer strip.

    The footer lives in its own subfigure, so no legend or label placed by the layout
    engine can run into it.
    """
    fig = Figure(figsize=PAGE, layout="constrained")
    FigureCanvasAgg(fig)
    engine = fig.get_layout_engine()
    assert engine is not None
    engine.set(h_pad=0.05, w_pad=0.08, hspace=0.0, wspace=0.0)  # type: ignore[call-arg]
    parts = fig.subfigures(2, 1, height_ratios=(0.972, 0.028), squeeze=False)
    body: SubFigure = parts[0, 0]
    foot: SubFigure = parts[1, 0]
    if title:
        body.suptitle(title, x=0.012, ha="left", fontsize=14, fontweight="bold")
    foot.text(0.01, 0.5, footer, fontsize=6.5, color=_MUTED, ha="left", va="center")
    if note:
        foot.text(0.99, 0.5, note, fontsize=6.5, color=_MUTED, ha="right", va="center")
    return fig, body


def _message(ax: Axes, text: str) -> None:
    """An empty panel that says why it is empty."""
    ax.set_axis_off()
    ax.text(
        0.5, 0.5, text, ha="center", va="center", fontsize=11, color=_MUTED, transform=ax.transAxes
    )


class _Bubble(Artist):
    """A legend handle: a target's number in a disc of its colour."""

    def __init__(self, number: int, colour: str) -> None:
        super().__init__()
        self.number = number
        self.colour = colour


class _BubbleHandler(HandlerBase):
    """Draws a :class:`_Bubble` in a legend."""

    def create_artists(
        self,
        legend: Legend,
        orig_handle: Artist,
        xdescent: float,
        ydescent: float,
        width: float,
        height: float,
        fontsize: float,
        trans: Transform,
    ) -> list[Artist]:
        assert isinstance(orig_handle, _Bubble)
        cx, cy = width / 2 - xdescent, height / 2 - ydescent
        disc = Circle((cx, cy), radius=0.6 * height, color=orig_handle.colour, transform=trans)
        label = Text(
            cx,
            cy,
            str(orig_handle.number),
            ha="center",
            va="center_baseline",
            color="white",
            fontsize=0.8 * fontsize,
            fontweight="bold",
            transform=trans,
        )
        return [disc, label]


def _bubble(ax: Axes, x: float, y: float, number: int, colour: str) -> None:
    """A target's number in a disc at ``x`` (data) and ``y`` (axes fraction)."""
    ax.annotate(
        str(number),
        xy=(x, y),
        xycoords=("data", "axes fraction"),
        ha="center",
        va="center",
        fontsize=7,
        fontweight="bold",
        color="white",
        bbox={"boxstyle": "circle,pad=0.25", "fc": colour, "ec": "none"},
        annotation_clip=False,
        zorder=6,
    )


def _stagger(xs: Sequence[float], width: float) -> list[int]:
    """A row for each label at axis fraction ``xs`` so that labels within ``width`` of
    each other never share a row."""
    rows = [0] * len(xs)
    last: dict[int, float] = {}
    for i in sorted(range(len(xs)), key=lambda j: xs[j]):
        row = 0
        while row in last and xs[i] - last[row] < width:
            row += 1
        rows[i] = row
        last[row] = xs[i]
    return rows


def _wrap(s: str, width: int) -> str:
    return "\n".join(textwrap.wrap(s, width)) or s


def _target_key(
    where: FigureBase,
    fonts: Fonts,
    targets: Sequence[dict[str, Any]],
    colours: Sequence[str],
    *,
    loc: Literal["outside right upper", "outside lower center"],
    ncols: int,
    width: int,
) -> None:
    """The numbered target key: number, label, and P(value >= target) with its interval.

    At most :data:`_MAX_TARGETS_DRAWN` targets, the first in the scenario; the title says
    how many more there are.
    """
    if not targets:
        return
    title = "Targets: P(value ≥ target), 95% interval"
    if len(targets) > _MAX_TARGETS_DRAWN:
        title += f"\nthe first {_MAX_TARGETS_DRAWN} of {len(targets):,}; all in summary.csv"
        targets = targets[:_MAX_TARGETS_DRAWN]
    labels = [
        fonts.text(
            _wrap(t["label"], width)
            + f"\nP(value ≥ {_money(t['value_usd'])}) = {_pct(t['p_at_least'])}"
            + f"  [{_interval(*t['ci95'])}]"
        )
        for t in targets
    ]
    _bubble_legend(
        where,
        colours[: len(targets)],
        labels,
        title=title,
        loc=loc,
        ncols=ncols,
        labelspacing=0.9,
        columnspacing=2.0,
    )


def _bubble_legend(
    where: FigureBase | Axes,
    colours: Sequence[str],
    labels: Sequence[str],
    *,
    title: str,
    **layout: Any,
) -> None:
    """A legend keyed by numbered coloured discs (1, 2, ...), in the report's style."""
    where.legend(
        [_Bubble(i + 1, c) for i, c in enumerate(colours)],
        labels,
        handler_map={_Bubble: _BubbleHandler()},
        title=title,
        title_fontproperties={"weight": "bold", "size": 9},
        alignment="left",
        handlelength=1.2,
        handleheight=1.2,
        fontsize=8,
        **layout,
    )


# A spread of values below this fraction of their scale is float rounding, not a distribution.
_NOISE = 1e-9


def _same_value(values: FloatArray, scale: float) -> float | None:
    """The value every path gives, when ``values`` differ only by float rounding; else None.

    ``scale`` is the size of the amounts the values are made of (the values with shocks
    off, say): a path that loses all its revenue is worth 0 up to rounding (±1e-7), and a
    spread that small against billions must not be drawn as a distribution.
    """
    if values.size == 0:
        return None
    lo, hi = float(values.min()), float(values.max())
    size = max(abs(lo), abs(hi), scale)
    if hi - lo > _NOISE * size:
        return None
    mid = lo + (hi - lo) / 2
    return 0.0 if abs(mid) <= _NOISE * size else mid


def _value_axis(
    values: FloatArray, extra: Sequence[float], scale: float
) -> tuple[float, float, bool]:
    """``(lo, hi, log)``: a log axis when every value is clearly positive, else a linear one.

    A log axis would silently drop the paths worth 0 or less (and stretch rounding noise
    around 0 over decades), so those get a linear axis covering them and every ``extra``.
    """
    size = max(scale, float(np.abs(values).max()) if values.size else 0.0)
    if values.size == 0 or float(values.min()) > _NOISE * size:
        return (*_value_range(values, extra), True)
    lo, hi = (float(v) for v in np.quantile(values, [0.0005, 0.9995]))
    marks = [v for v in extra if math.isfinite(v)]
    lo, hi = min([lo, 0.0, *marks]), max([hi, *marks])
    pad = 0.05 * (hi - lo) if hi > lo else max(abs(hi), 1.0)
    return lo - pad, hi + pad, False


def _value_range(values: FloatArray, extra: Sequence[float]) -> tuple[float, float]:
    """A log-axis range covering the bulk of ``values`` and every positive ``extra``."""
    pos = values[values > 0]
    if pos.size == 0:
        pos = np.array([1.0])
    lo, hi = (float(v) for v in np.quantile(pos, [0.0005, 0.9995]))
    marks = [v for v in extra if v > 0]
    lo = min([lo, *marks])
    hi = max([hi, *marks])
    if hi <= lo * 1.05:
        lo, hi = lo / 1.5, hi * 1.5
    return lo / 1.15, hi * 1.15


# --------------------------------------------------------------------------- page 1: summary


class _Measure:
    """Text widths in points, as the figure's Agg renderer lays the text out."""

    def __init__(self, fig: Figure) -> None:
        canvas = fig.canvas
        assert isinstance(canvas, FigureCanvasAgg)
        self._renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
        self._scale = 72.0 / fig.dpi

    def width(self, s: str, fontsize: float, *, bold: bool = False) -> float:
        prop = FontProperties(size=fontsize, weight="bold" if bold else "normal")
        w, _, _ = self._renderer.get_text_width_height_descent(s, prop, ismath=False)
        return float(w) * self._scale

    def fit(self, s: str, width_pt: float, fontsize: float, *, bold: bool = False) -> str:
        """``s``, cut short with ``…`` where it would be wider than ``width_pt``."""
        if self.width(s, fontsize, bold=bold) <= width_pt:
            return s
        lo, hi = 0, len(s)  # the longest prefix that fits, by bisection
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.width(s[:mid].rstrip() + "…", fontsize, bold=bold) <= width_pt:
                lo = mid
            else:
                hi = mid - 1
        return s[:lo].rstrip(" ,;·") + "…"

    def wrap(self, s: str, width_pt: float, fontsize: float, *, max_lines: int) -> list[str]:
        """``s`` broken into lines no wider than ``width_pt``; the last one cut if need be."""
        lines: list[str] = []
        current = ""
        words = s.split()
        for k, word in enumerate(words):
            trial = f"{current} {word}".strip()
            if not current or self.width(trial, fontsize) <= width_pt:
                current = trial
                continue
            lines.append(current)
            current = word
            if len(lines) == max_lines - 1:
                current = " ".join(words[k:])
                break
        lines.append(self.fit(current, width_pt, fontsize))
        return lines


def _table(
    ax: Axes,
    measure: _Measure,
    top: float,
    rows: list[list[str]],
    *,
    x: float,
    width: float,
    col_widths: Sequence[float],
    header: Sequence[str] | None = None,
    row_h: float = 0.03,
    fontsize: float = 8.5,
    align: Sequence[str] | None = None,
) -> tuple[float, Table]:
    """A plain table on the page axes (figure fractions), its top edge at ``top``.

    Text wider than its column is cut with ``…``. Returns the bottom edge and the table.
    """
    cells = ([list(header)] if header else []) + rows
    h = row_h * len(cells)
    total = sum(col_widths)
    widths_pt = [width * PAGE[0] * 72 * w / total for w in col_widths]
    pad = 3.0  # points between a cell's edge and its text
    fitted = [
        [
            "\n".join(
                measure.fit(line, widths_pt[c] - pad - 2, fontsize, bold=bool(header) and r == 0)
                for line in text.split("\n")
            )
            for c, text in enumerate(row)
        ]
        for r, row in enumerate(cells)
    ]
    table = ax.table(
        cellText=fitted,
        colWidths=[w / total for w in col_widths],
        bbox=(x, top - h, width, h),  # type: ignore[arg-type]
        edges="horizontal",
    )
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    for (r, c), cell in table.get_celld().items():
        cell.set_edgecolor("#cccccc")
        cell.set_linewidth(0.5)
        cell.PAD = pad / widths_pt[c]
        txt = cell.get_text()
        txt.set_horizontalalignment(align[c] if align else "left")  # type: ignore[arg-type]
        if header and r == 0:
            txt.set_fontweight("bold")
            cell.set_facecolor("#f2f2f2")
            cell.visible_edges = "closed"
            cell.set_edgecolor("#f2f2f2")
    return top - h, table


def _heading(ax: Axes, x: float, y: float, text: str) -> float:
    ax.text(x, y, text, fontsize=10.5, fontweight="bold", va="top", color=_INK)
    return y - 0.032


def _describe_dist(dist: Any, kind: str, *, note: bool = False) -> str:
    """A distribution as its 10th, 50th and 90th percentiles (or its one value)."""
    if dist.is_fixed:
        return _fmt_kind(float(dist.ppf(np.array([0.5]))[0]), kind)
    q = dist.ppf(np.array([0.1, 0.5, 0.9]))
    text = " · ".join(_fmt_kind(float(v), kind) for v in q)
    return text + ("  (p10 · p50 · p90)" if note else "")


def _fmt_kind(x: float, kind: str) -> str:
    if kind == "money":
        return _money(x)
    if kind == "growth":
        return f"{x:+.0%}"
    if kind == "share":
        return f"{x:.0%}"
    if kind == "multiple":
        return f"×{_num(x)}"
    return _num(x)


def _text_page(footer: str) -> tuple[Figure, Axes, _Measure]:
    """A page of tables and text: one invisible axes over the page in (0..1) units."""
    fig = Figure(figsize=PAGE)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_axis_off()
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.text(0.01, 0.008, footer, fontsize=6.5, color=_MUTED, va="bottom")
    return fig, ax, _Measure(fig)


# The most rows, markers or panels drawn of one kind: past these a page would collapse
# (100 segments, 1000 targets); the rest are counted ("… and 985 more").
_MAX_SEGMENT_ROWS = 12
_MAX_SHOCK_ROWS = 8
_MAX_TARGET_ROWS = 15
_MAX_EXPECTATION_ROWS = 6
_MAX_TARGETS_DRAWN = 12
_MAX_SHOCKS_DRAWN = 6
_MAX_LEGEND_SEGMENTS = 12


def _more(
    ax: Axes, x: float, y: float, shown: int, total: int, what: str, *, fontsize: float
) -> float:
    """Under a table cut to ``shown`` of ``total`` rows: "… and K more <what>"; the new y."""
    if total <= shown:
        return y
    ax.text(
        x,
        y - 0.006,
        f"… and {total - shown:,} more {what}",
        fontsize=fontsize,
        va="top",
        color=_MUTED,
    )
    return y - 0.03


def _first_of(shown: int, total: int) -> str:
    """A title's note when only the first ``shown`` of ``total`` items are drawn."""
    return f"\n(the first {shown} of {total:,})" if total > shown else ""


def _fig_summary(ctx: _Ctx) -> Figure:
    d = ctx.data
    sc = ctx.scenario
    t = ctx.t
    fig, ax, m = _text_page(ctx.footer())
    page_w = PAGE[0] * 72  # points
    v = d["valuation"]
    q = v["quantiles"]
    title = m.fit(t(f"{sc.name}: IPO valuation report"), 0.94 * page_w, 18, bold=True)
    ax.text(0.03, 0.965, title, fontsize=18, fontweight="bold", va="top")
    reading = f" ({_yi(q['0.5'])})" if ctx.yi else ""
    headline = t(
        f"Median equity value at listing USD {_money(q['0.5'])}{reading}; 90% of the paths lie "
        f"between {_money(q['0.05'])} and {_money(q['0.95'])}. Valued on {v['year']} revenue "
        f"× an EV/sales multiple, plus net cash and IPO proceeds."
    )
    head_lines = m.wrap(headline, 0.94 * page_w, 10.5, max_lines=2)
    ax.text(
        0.03, 0.915, "\n".join(head_lines), fontsize=10.5, va="top", color=_INK, linespacing=1.4
    )
    top = 0.875 - 0.024 * (len(head_lines) - 1)

    lx, lw = 0.03, 0.455
    rx, rw = 0.525, 0.445
    fs = 8.5
    description = t(" ".join(sc.description.split()) or "(no description)")
    lines = m.wrap(description, lw * page_w, 8.2, max_lines=7)
    # One row height for every table: as roomy as the fuller column allows.
    heads = 0.032 + 0.035  # a heading and the gap before the next one
    left_fixed = 4 * heads + 0.0195 * len(lines)
    segments = sc.segments[:_MAX_SEGMENT_ROWS]
    shocks = sc.shocks[:_MAX_SHOCK_ROWS]
    targets = d["targets"][:_MAX_TARGET_ROWS]
    expectations = d["expectations"][:_MAX_EXPECTATION_ROWS]
    cut_left = (len(segments) < len(sc.segments)) + (len(shocks) < len(sc.shocks))
    cut_right = (len(targets) < len(d["targets"])) + (len(expectations) < len(d["expectations"]))
    left_fixed += 0.03 * cut_left
    left_rows = len(segments) + 1 + 5 + max(len(shocks) + 1, 1)
    right_fixed = (4 if expectations else 3) * heads + 0.03 * cut_right
    right_rows = len(targets) + 1 + (3 if ctx.yi else 2) + 1.7 * len(expectations) + 6
    row_h = min(
        0.033, (top - 0.03 - left_fixed) / left_rows, (top - 0.03 - right_fixed) / right_rows
    )

    y = _heading(ax, lx, top, "Scenario")
    ax.text(lx, y, "\n".join(lines), fontsize=8.2, va="top", color=_INK, linespacing=1.4)
    y -= 0.0195 * len(lines) + 0.03

    y = _heading(
        ax,
        lx,
        y,
        f"Segments: revenue {sc.base_year} (USD), growth into {sc.base_year + 1} "
        "(p10 · p50 · p90)",
    )
    seg_rows = []
    for s in segments:
        shares = sorted(zip(sc.regions, s.shares, strict=True), key=lambda rs: -rs[1])
        seg_rows.append(
            [
                t(s.name),
                _describe_dist(s.revenue, "money"),
                _describe_dist(s.growth, "growth"),
                t(", ".join(f"{r} {w:.0%}" for r, w in shares[:3] if w > 0)),
            ]
        )
    y, _ = _table(
        ax,
        m,
        y,
        seg_rows,
        x=lx,
        width=lw,
        col_widths=(0.19, 0.13, 0.33, 0.35),
        row_h=row_h,
        fontsize=fs,
        header=("segment", "revenue", "growth", "main regions"),
    )
    y = _more(ax, lx, y, len(segments), len(sc.segments), "segments", fontsize=fs)
    y -= 0.035

    y = _heading(ax, lx, y, "Valuation and offering (amounts in USD)")
    val = sc.valuation
    val_rows = [
        ["method", f"EV/sales × {val.year} revenue; equity = EV + net cash + IPO proceeds"],
        ["EV/sales multiple", _describe_dist(val.multiple, "multiple", note=True)],
        ["net cash", _describe_dist(val.net_cash, "money", note=True)],
        ["IPO proceeds", _describe_dist(val.ipo_proceeds, "money", note=True)],
    ]
    if sc.offering is not None:
        lo, hi = sc.offering.price_range_usd
        written = " – ".join(sc.offering.price_range_text)
        val_rows.append(
            [
                "offering",
                f"{sc.offering.shares_outstanding:,} shares at {written} "
                f"(USD {lo:.2f} – {hi:.2f})",
            ]
        )
    y, _ = _table(
        ax,
        m,
        y,
        [[t(a), t(b)] for a, b in val_rows],
        x=lx,
        width=lw,
        col_widths=(0.22, 0.78),
        row_h=row_h,
        fontsize=fs,
    )
    y -= 0.035

    y = _heading(ax, lx, y, "Shocks (means of their inputs)")
    if sc.shocks:
        all_segments = {s.name for s in sc.segments}
        shock_rows = []
        for k in shocks:
            hit_all = set(k.segments or all_segments) == all_segments
            segs = "all segments" if hit_all else ", ".join(k.segments)
            rec = "permanent" if k.recovery_years is None else f"{k.recovery_years.mean():.1f} y"
            shock_rows.append(
                [
                    t(k.name),
                    t(f"{', '.join(k.regions)} × {segs}"),
                    f"{k.annual_probability.mean():.1%}",
                    f"{k.severity.mean():.0%}",
                    rec,
                    f"−{k.multiple_hit:.0%}" if k.multiple_hit else "none",
                ]
            )
        y, _ = _table(
            ax,
            m,
            y,
            shock_rows,
            x=lx,
            width=lw,
            col_widths=(0.23, 0.25, 0.11, 0.12, 0.15, 0.14),
            row_h=row_h,
            fontsize=fs,
            header=("shock", "hits", "p / year", "severity", "recovery", "multiple"),
        )
        _more(ax, lx, y, len(shocks), len(sc.shocks), "shocks", fontsize=fs)
    else:
        ax.text(lx, y, "none: this scenario has no shocks", fontsize=fs, va="top", color=_MUTED)

    # Right column: the results and where they came from.
    y = _heading(ax, rx, top, "Targets: P(equity value ≥ target)")
    target_rows = [
        [
            str(i + 1),
            t(tg["label"]),
            _money(tg["value_usd"]),
            _pct(tg["p_at_least"]),
            _interval(*tg["ci95"]),
        ]
        for i, tg in enumerate(targets)
    ]
    if target_rows:
        y, table = _table(
            ax,
            m,
            y,
            target_rows,
            x=rx,
            width=rw,
            col_widths=(0.05, 0.44, 0.11, 0.13, 0.27),
            header=("", "target", "USD", "P", "95% interval"),
            row_h=row_h,
            fontsize=fs,
            align=("center", "left", "right", "right", "right"),
        )
        for i in range(len(target_rows)):
            cell = table[i + 1, 0]
            cell.visible_edges = "closed"
            cell.set_facecolor(ctx.target_colours[i])
            cell.set_edgecolor("white")
            cell.set_linewidth(1.5)
            cell.get_text().set_color("white")
            cell.get_text().set_fontweight("bold")
        y = _more(
            ax, rx, y, len(targets), len(d["targets"]), "targets (all in summary.csv)", fontsize=fs
        )
    else:
        ax.text(rx, y, "no targets in this scenario", fontsize=fs, va="top", color=_MUTED)
        y -= 0.03
    y -= 0.035

    how = "exact" if d["quantile_method"] == "exact" else "streaming-sketch"
    y = _heading(ax, rx, y, f"Equity value at listing, USD ({how} quantiles)")
    labels = ["", "p1", "p5", "p10", "p25", "p50", "p75", "p90", "p95", "p99", "mean"]
    values = [_cents(q[k]) for k in _KEY_QUANTILES] + [_cents(v["mean"])]
    # One unit per row, so that the cells hold bare numbers and stay narrow.
    unit, scale = ("USD bn", 1e9) if abs(q["0.5"]) >= 1e8 else ("USD M", 1e6)
    q_rows = [[unit, *(_num(x / scale) for x in values)]]
    if ctx.yi:
        yi_unit = "亿 USD" if ctx.fonts.cjk else "10⁸ USD"
        q_rows.append([yi_unit, *(_num(x / 1e8, group=False) for x in values)])
    y, _ = _table(
        ax,
        m,
        y,
        q_rows,
        x=rx,
        width=rw,
        col_widths=[1.5] + [1.0] * (len(labels) - 1),
        header=labels,
        align=["left"] + ["right"] * (len(labels) - 1),
        row_h=row_h,
        fontsize=fs - 0.5,
    )
    y -= 0.035

    if expectations:
        y = _heading(ax, rx, y, "Expectations stated in the scenario")
        text_w = 0.85 * rw * page_w - 8
        exp_rows = [
            [e["status"], "\n".join(m.wrap(t(e["text"]), text_w, fs - 0.5, max_lines=2))]
            for e in expectations
        ]
        y, table = _table(
            ax,
            m,
            y,
            exp_rows,
            x=rx,
            width=rw,
            col_widths=(0.15, 0.85),
            row_h=1.7 * row_h,
            fontsize=fs - 0.5,
        )
        status_colours = {"passed": "#1a7f37", "failed": "#c62828", "inconclusive": "#b26a00"}
        for i, e in enumerate(expectations):
            table[i, 0].get_text().set_color(status_colours.get(e["status"], _INK))
            table[i, 0].get_text().set_fontweight("bold")
        what = "expectations (all in summary.json)"
        y = _more(ax, rx, y, len(expectations), len(d["expectations"]), what, fontsize=fs)
        y -= 0.035

    y = _heading(ax, rx, y, "Run provenance")
    kept = ctx.result.kept.n
    prov = [
        ["scenario", t(d["scenario"] + (f"  ({sc.source.name})" if sc.source else ""))],
        ["SHA-256", d["scenario_sha256"]],
        ["seed, sampler", f"{d['seed']}, {d['sampler']}"],
        [
            "paths",
            f"{d['paths']:,}"
            + (f"  (plots use the first {kept:,})" if kept < d["paths"] else "  (all plotted)"),
        ],
        ["package", f"ipo-sim {d['version']}"],
        ["run time", f"{d['elapsed_s']:.2f} s on {d.get('workers', 1)} worker(s)"],
    ]
    _table(ax, m, y, prov, x=rx, width=rw, col_widths=(0.17, 0.83), row_h=row_h, fontsize=fs - 1)
    return fig


# --------------------------------------------------------------------------- page 2: histogram


def _hist(ax: Axes, values: FloatArray, lo: float, hi: float, colour: str, *, log: bool) -> float:
    """A histogram (log or linear bins) as the percentage of paths per bin; returns the peak."""
    edges = np.geomspace(lo, hi, 121) if log else np.linspace(lo, hi, 121)
    counts, _ = np.histogram(values, bins=edges)
    share = counts / max(values.size, 1) * 100
    ax.stairs(share, edges, fill=True, color=colour, alpha=0.55, linewidth=0)
    ax.stairs(share, edges, color=colour, linewidth=0.8)
    return float(share.max()) if share.size else 0.0


def _quantile_strip(ax: Axes, q: dict[str, float], y: float) -> None:
    """p5-p95 (thin), p25-p75 (thick) and the median (dot) as a strip at height ``y``."""
    ax.plot([q["0.05"], q["0.95"]], [y, y], color=_INK, lw=1.2, solid_capstyle="butt")
    ax.plot([q["0.25"], q["0.75"]], [y, y], color=_INK, lw=5, solid_capstyle="butt")
    ax.plot([q["0.5"]], [y], "o", color="white", mec=_INK, ms=6, zorder=5)
    marks = [("0.5", "median", "center", 0, 8)]
    if q["0.95"] > q["0.05"] * 1.02:  # else the three labels would sit on one another
        marks += [("0.05", "p5", "right", -4, 0), ("0.95", "p95", "left", 4, 0)]
    for key, name, ha, dx, dy in marks:
        ax.annotate(
            f"{name} {_money(q[key])}",
            (q[key], y),
            xytext=(dx, dy),
            textcoords="offset points",
            ha=ha,
            va="bottom" if dy else "center",
            fontsize=7.5,
            color=_INK,
        )


def _fig_valuation(ctx: _Ctx) -> Figure:
    kept = ctx.result.kept
    d = ctx.data
    fig, body = _page(ctx.t(f"Equity value at listing: {d['scenario']}"), ctx.footer())
    ax = body.add_subplot()
    targets = d["targets"]

    def key() -> None:
        _target_key(
            body,
            ctx.fonts,
            targets,
            ctx.target_colours,
            loc="outside right upper",
            ncols=1,
            width=36,
        )

    same = _same_value(kept.equity, ctx.value_scale)
    if same is not None:
        reading = f" ({_yi(same)})" if ctx.yi else ""
        _message(
            ax,
            ctx.t(
                f"All {kept.n:,} plotted paths give the same value: USD {_money(same)}"
                f"{reading}.\nThere is no distribution to draw; each target's probability "
                "is in the key."
            ),
        )
        key()
        return fig
    drawn = [tg["value_usd"] for tg in targets[:_MAX_TARGETS_DRAWN]]
    lo, hi, log = _value_axis(kept.equity, drawn, ctx.value_scale)
    peak = _hist(ax, kept.equity, lo, hi, ctx.colour, log=log)
    _set_money_axis(ax, "x", lo, hi, log=log, yi=ctx.yi, fonts=ctx.fonts)
    ax.set_ylim(0, peak * 1.45 if peak > 0 else 1)
    # Ticks only up to the peak: the room above it holds labels, not data.
    ax.yaxis.set_major_locator(
        FixedLocator([v for v in MaxNLocator(6).tick_values(0, peak) if v <= peak * 1.02])
    )
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    ax.set_ylabel("share of paths in each bin")
    xlabel = "equity value at listing, USD" + (" (log scale)" if log else "")
    if ctx.yi:
        xlabel += "; top axis in 亿 USD (1亿 = 10⁸)" if ctx.fonts.cjk else "; top axis in 10⁸ USD"
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", which="major")
    _quantile_strip(ax, d["valuation"]["quantiles"], peak * 1.13)

    # Targets: lines in their colours; numbered discs, staggered so that none overlap.
    shown = [
        (i, tg)
        for i, tg in enumerate(targets[:_MAX_TARGETS_DRAWN])
        if tg["value_usd"] > 0 or not log
    ]
    if log:
        xs = [math.log(tg["value_usd"] / lo) / math.log(hi / lo) for _, tg in shown]
    else:
        xs = [(tg["value_usd"] - lo) / (hi - lo) for _, tg in shown]
    for (i, tg), row in zip(shown, _stagger(xs, 0.03), strict=True):
        ax.axvline(tg["value_usd"], color=ctx.target_colours[i], lw=1.4, zorder=4)
        _bubble(ax, tg["value_usd"], 0.955 - 0.055 * row, i + 1, ctx.target_colours[i])
    if not targets:
        ax.text(
            0.99,
            0.97,
            "no targets in this scenario",
            ha="right",
            va="top",
            transform=ax.transAxes,
            color=_MUTED,
        )
    key()
    return fig


# --------------------------------------------------------------------------- page 3: exceedance


def _fig_exceedance(ctx: _Ctx) -> Figure:
    kept = ctx.result.kept
    d = ctx.data
    fig, body = _page(ctx.t(f"P(equity value ≥ x): {d['scenario']}"), ctx.footer())
    left, right = body.subplots(1, 2)
    targets = d["targets"]

    def key() -> None:
        _target_key(
            body,
            ctx.fonts,
            targets,
            ctx.target_colours,
            loc="outside lower center",
            ncols=min(3, max(1, len(targets))),
            width=46,
        )

    same = _same_value(kept.equity, ctx.value_scale)
    if same is not None:
        _message(
            left,
            ctx.t(
                f"All {kept.n:,} plotted paths give the same value, USD {_money(same)}:\n"
                "P(value ≥ x) is 100% up to it and 0 above, a step with nothing to draw."
            ),
        )
        right.set_axis_off()
        key()
        return fig
    drawn = [tg["value_usd"] for tg in targets[:_MAX_TARGETS_DRAWN]]
    lo, hi, log = _value_axis(kept.equity, drawn, ctx.value_scale)
    n = kept.n
    grid = np.geomspace(lo, hi, 400) if log else np.linspace(lo, hi, 400)
    at_least = n - np.searchsorted(np.sort(kept.equity), grid, side="left")
    p = at_least / max(n, 1)
    band_lo, band_hi = _wilson(at_least, n)
    floor = 0.5 / max(n, 1)
    for ax, log_y in ((left, False), (right, True)):
        ax.fill_between(
            grid,
            band_lo,
            band_hi,
            color=ctx.colour,
            alpha=0.25,
            lw=0,
            label="95% interval (Wilson)",
        )
        ax.plot(grid, p, color=ctx.colour, lw=1.8, label=f"P(value ≥ x), {n:,} paths")
        _set_money_axis(ax, "x", lo, hi, log=log, yi=ctx.yi, fonts=ctx.fonts)
        ax.grid(axis="x", which="major")
        ax.set_xlabel("x: equity value at listing, USD" + (" (log scale)" if log else ""))
        if log_y:
            ax.set_yscale("log")
            ax.set_ylim(floor, 1.6)
            ax.set_title("the tail (log scale)")
            ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{_num(v * 100)}%"))
        else:
            ax.set_ylim(0, 1.04)
            ax.set_title("the whole range")
            ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
        ax.set_ylabel("probability that the value is at least x")
        for i, tg in enumerate(targets[:_MAX_TARGETS_DRAWN]):
            x, pt = tg["value_usd"], tg["p_at_least"]
            if (log and x <= 0) or (log_y and pt <= 0):
                continue
            colour = ctx.target_colours[i]
            ax.axvline(x, color=colour, lw=0.8, alpha=0.6, zorder=3)
            lo_ci, hi_ci = tg["ci95"]
            y0 = max(pt, floor) if log_y else pt
            ax.errorbar(
                [x],
                [y0],
                yerr=[[y0 - max(lo_ci, floor if log_y else 0.0)], [hi_ci - y0]],
                fmt="o",
                color=colour,
                ms=5,
                capsize=3,
                zorder=5,
            )
            ax.annotate(
                str(i + 1),
                (x, y0),
                xytext=(6, 6),
                textcoords="offset points",
                fontsize=8,
                fontweight="bold",
                color=colour,
            )
        ax.legend(loc="lower left" if log_y else "upper right", fontsize=7.5)
    key()
    return fig


# --------------------------------------------------------------------------- page 4: revenue


def _fig_revenue(ctx: _Ctx) -> Figure:
    kept = ctx.result.kept
    sc = ctx.scenario
    fig, body = _page(ctx.t(f"Revenue by year: {sc.name}"), ctx.footer())
    fan, seg = body.subplots(1, 2, width_ratios=(1.15, 1))
    years = np.array((sc.base_year, *sc.years))
    if kept.n == 0:
        _message(fan, "no paths kept")
        _message(seg, "no paths kept")
        return fig
    qs = np.quantile(kept.revenue, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    fan.fill_between(years, qs[0], qs[4], color=ctx.colour, alpha=0.18, lw=0, label="5–95%")
    fan.fill_between(years, qs[1], qs[3], color=ctx.colour, alpha=0.38, lw=0, label="25–75%")
    fan.plot(years, qs[2], "o-", color=ctx.colour, lw=2, ms=4, label="median")
    for yr, med in zip(years, qs[2], strict=True):
        fan.annotate(
            _money(float(med)),
            (yr, med),
            xytext=(0, 7),
            textcoords="offset points",
            ha="center",
            fontsize=7.5,
            color=_INK,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
        )
    _set_money_axis(
        fan, "y", 0.0, float(qs[4].max()) * 1.08 or 1.0, log=False, yi=ctx.yi, fonts=ctx.fonts
    )
    fan.axvline(sc.valuation.year, color=_MUTED, ls=":", lw=1)
    fan.annotate(
        f"valuation year {sc.valuation.year}",
        (sc.valuation.year, 1.0),
        xycoords=("data", "axes fraction"),
        xytext=(3, -3),
        textcoords="offset points",
        va="top",
        fontsize=7.5,
        color=_MUTED,
    )
    fan.set_xticks(years, [f"{y}\n(actual)" if y == sc.base_year else str(y) for y in years])
    fan.set_xlim(years[0] - 0.3, years[-1] + 0.3)
    fan.set_ylabel("total revenue, USD")
    fan.set_title("total revenue: median and bands across paths")
    fan.legend(loc="upper left")

    # By segment, the means: they add up to the mean total, which medians would not.
    means = kept.segment_revenue.mean(axis=0)  # (segments, years)
    palette = matplotlib.colormaps["Set2"]
    bottom = np.zeros(len(years))
    total = means.sum(axis=0)
    for s, segment in enumerate(sc.segments):
        seg.bar(
            years,
            means[s],
            bottom=bottom,
            color=palette(s % 8),
            width=0.62,
            label=ctx.t(segment.name),
            edgecolor="white",
            lw=0.6,
        )
        for j, yr in enumerate(years):
            share = means[s, j] / total[j] if total[j] > 0 else 0.0
            if share >= 0.08:
                seg.text(
                    yr,
                    bottom[j] + means[s, j] / 2,
                    f"{share:.0%}",
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color=_INK,
                )
        bottom += means[s]
    for yr, tot in zip(years, total, strict=True):
        seg.annotate(
            _money(float(tot)),
            (yr, tot),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            fontsize=7.5,
        )
    _set_money_axis(
        seg, "y", 0.0, float(total.max()) * 1.12 or 1.0, log=False, yi=ctx.yi, fonts=ctx.fonts
    )
    seg.set_xticks(years, [str(y) for y in years])
    seg.set_ylabel("mean revenue, USD")
    seg.set_title("mean revenue by segment (share of the year's total)")
    seg.grid(axis="x", visible=False)
    handles, names = seg.get_legend_handles_labels()
    if len(handles) > _MAX_LEGEND_SEGMENTS:
        # The legend lists the first segments only, saying so; the bars hold them all.
        n_seg = len(handles)
        handles, names = handles[:_MAX_LEGEND_SEGMENTS], names[:_MAX_LEGEND_SEGMENTS]
        title = f"segment (the first {_MAX_LEGEND_SEGMENTS} of {n_seg:,})"
    else:
        title = "segment"
    seg.legend(handles[::-1], names[::-1], loc="upper left", title=title)
    return fig


# --------------------------------------------------------------------------- page 5: regions


def _hist_share(ax: Axes, values: FloatArray, colour: str, *, what: str) -> None:
    """A histogram of a share (0..1) as the percentage of paths per bin."""
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-9:
        ax.bar([lo], [100], width=0.01, color=colour)
        ax.set_xlim(max(0.0, lo - 0.1), min(lo + 0.1, 1.02))
        ax.text(
            0.5,
            0.6,
            f"{what} is {lo:.2f} on every path",
            transform=ax.transAxes,
            ha="center",
            color=_MUTED,
        )
    else:
        pad = 0.05 * (hi - lo)
        edges = np.linspace(lo - pad, hi + pad, 61)
        counts, _ = np.histogram(values, bins=edges)
        ax.stairs(counts / values.size * 100, edges, fill=True, color=colour, alpha=0.55)
        ax.set_xlim(edges[0], edges[-1])
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    ax.set_ylabel("share of paths")


def _median_line(ax: Axes, x: float, text: str) -> None:
    """A vertical line at ``x`` labelled at the top, on the side with room for the label."""
    ax.axvline(x, color=_INK, lw=1.2)
    x0, x1 = ax.get_xlim()
    right_part = x1 > x0 and (x - x0) / (x1 - x0) > 0.7
    ax.annotate(
        text,
        (x, 1),
        xycoords=("data", "axes fraction"),
        xytext=(-4 if right_part else 4, -4),
        textcoords="offset points",
        ha="right" if right_part else "left",
        va="top",
        fontsize=7.5,
    )


def _fig_concentration(ctx: _Ctx) -> Figure:
    kept = ctx.result.kept
    sc = ctx.scenario
    year = sc.valuation.year
    fig, body = _page(
        ctx.t(f"Regional concentration of revenue in {year}: {sc.name}"), ctx.footer()
    )
    (shares_ax, top_ax), (hhi_ax, topshare_ax) = body.subplots(2, 2)
    if kept.n == 0:
        for ax in (shares_ax, top_ax, hhi_ax, topshare_ax):
            _message(ax, "no paths kept")
        return fig
    regions = [ctx.t(r) for r in sc.regions]
    shares = kept.region_shares
    mean = shares.mean(axis=0)
    p5, p95 = np.quantile(shares, [0.05, 0.95], axis=0)
    order = np.argsort(mean)
    ypos = np.arange(len(regions))
    shares_ax.barh(ypos, mean[order], color=ctx.colour, alpha=0.75, height=0.6)
    shares_ax.errorbar(
        mean[order],
        ypos,
        xerr=[mean[order] - p5[order], p95[order] - mean[order]],
        fmt="none",
        ecolor=_INK,
        capsize=3,
        lw=1,
    )
    for y, i in zip(ypos, order, strict=True):
        shares_ax.text(p95[i] + 0.01, y, f"{mean[i]:.0%}", va="center", fontsize=8)
    shares_ax.set_yticks(ypos, [regions[i] for i in order])
    shares_ax.set_xlim(0, min(1.0, float(p95.max()) * 1.2 + 0.04))
    shares_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    shares_ax.set_title(f"share of {year} revenue by region: mean, whiskers 5–95%")
    shares_ax.grid(axis="y", visible=False)

    top = np.bincount(np.argmax(shares, axis=1), minlength=len(regions)) / kept.n
    top_order = np.argsort(top)
    top_ax.barh(ypos, top[top_order], color=_MUTED, alpha=0.75, height=0.6)
    for y, i in zip(ypos, top_order, strict=True):
        top_ax.text(top[i] + 0.01, y, _pct(float(top[i])), va="center", fontsize=8)
    top_ax.set_yticks(ypos, [regions[i] for i in top_order])
    top_ax.set_xlim(0, 1.1)
    top_ax.set_xticks(np.linspace(0, 1, 6))
    top_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    top_ax.set_title("which region is the largest (share of paths)")
    top_ax.grid(axis="y", visible=False)

    conc = ctx.data["concentration"]
    _hist_share(hhi_ax, kept.hhi, ctx.colour, what="HHI")
    _median_line(hhi_ax, conc["hhi"]["0.5"], f"median {conc['hhi']['0.5']:.3f}")
    ref = sc.valuation.reference_hhi
    x0, x1 = hhi_ax.get_xlim()
    if sc.valuation.concentration_penalty and x0 <= ref <= x1:
        hhi_ax.axvline(ref, color=_EVENT, lw=1, ls="--")
        hhi_ax.annotate(
            f"reference HHI {ref:g}: above it the\nmultiple is cut, below it raised",
            xy=(ref, 0.62),
            xycoords=("data", "axes fraction"),
            xytext=(0.97, 0.72),
            textcoords="axes fraction",
            ha="right",
            va="center",
            fontsize=7.5,
            color=_EVENT,
            arrowprops={"arrowstyle": "->", "color": _EVENT, "lw": 0.8},
        )
    hhi_ax.set_title("Herfindahl index HHI = Σ share²")
    n_reg = len(regions)
    hhi_ax.set_xlabel(f"HHI (1/{n_reg} = {1 / n_reg:.2f} is an even split; 1 is one region)")

    _hist_share(topshare_ax, kept.top_region_share, ctx.colour, what="the largest share")
    med = conc["top_region_share"]["0.5"]
    _median_line(topshare_ax, med, f"median {med:.0%}")
    topshare_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    topshare_ax.set_title("share of the largest region")
    topshare_ax.set_xlabel("largest region's share of revenue")
    return fig


# --------------------------------------------------------------------------- page 6: shocks


def _fig_shocks(ctx: _Ctx) -> Figure:
    kept = ctx.result.kept
    sc = ctx.scenario
    d = ctx.data
    year = sc.valuation.year
    fig, body = _page(ctx.t(f"Shock impact: {sc.name}"), ctx.footer())
    m = _Measure(fig)
    if not sc.shocks:
        _message(
            body.add_subplot(),
            "This scenario has no shocks: no event can hit its "
            "revenue or multiple,\nso there is no impact to show.",
        )
        return fig
    (box_ax, p_ax), (loss_ax, tgt_ax) = body.subplots(2, 2)
    if kept.n == 0:
        for ax in (box_ax, p_ax, loss_ax, tgt_ax):
            _message(ax, "no paths kept")
        return fig
    hit = kept.shock_any.any(axis=1)
    groups: list[tuple[str, FloatArray, str]] = [
        ("all paths", kept.equity, ctx.colour),
        ("no event", kept.equity[~hit], ctx.colour),
    ]
    for k, shock in enumerate(sc.shocks[:_MAX_SHOCKS_DRAWN]):
        groups.append((f"event: {shock.name}", kept.equity[kept.shock_any[:, k]], _EVENT))
    groups.append(("shocks switched off\n(the same paths)", kept.equity_unshocked, _MUTED))
    ypos = np.arange(len(groups))[::-1].astype(float)
    labels = []
    whisk_lo, whisk_hi = [], []
    for (name, values, colour), y in zip(groups, ypos, strict=True):
        labels.append(ctx.t(f"{name}\n{values.size:,} paths ({_pct(values.size / kept.n)})"))
        if values.size == 0:
            box_ax.text(
                0.02,
                y,
                "no paths",
                transform=box_ax.get_yaxis_transform(),
                va="center",
                color=_MUTED,
                fontsize=8,
            )
            continue
        p5, p25, p50, p75, p95 = (
            float(v) for v in np.quantile(values, [0.05, 0.25, 0.5, 0.75, 0.95])
        )
        whisk_lo.append(p5)
        whisk_hi.append(p95)
        box_ax.plot([p5, p95], [y, y], color=colour, lw=1.2)
        box_ax.plot([p5, p5], [y - 0.12, y + 0.12], color=colour, lw=1.2)
        box_ax.plot([p95, p95], [y - 0.12, y + 0.12], color=colour, lw=1.2)
        box_ax.barh(y, p75 - p25, left=p25, height=0.5, color=colour, alpha=0.85)
        box_ax.plot([p50, p50], [y - 0.25, y + 0.25], color="white", lw=2)
        box_ax.annotate(
            f"median {_money(p50)}",
            (p95, y),
            xytext=(5, 0),
            textcoords="offset points",
            va="center",
            fontsize=7.5,
        )
    # A log axis while every whisker is clearly positive; paths worth 0 (all revenue lost)
    # or less need a linear one, which also keeps rounding noise around 0 at 0.
    log = bool(whisk_lo) and min(whisk_lo) > _NOISE * ctx.value_scale
    if log:
        lo, hi = min(whisk_lo) / 1.25, max(whisk_hi) * 2.2
    else:
        lo, hi = min([0.0, *whisk_lo]), max([0.0, *whisk_hi])
        span = hi - lo if hi - lo > _NOISE * ctx.value_scale else max(ctx.value_scale, 1.0)
        lo, hi = lo - 0.05 * span, hi + 0.45 * span  # room on the right for the labels
    _set_money_axis(box_ax, "x", lo, hi, log=log, yi=False, fonts=ctx.fonts)
    box_ax.set_yticks(ypos, labels, fontsize=7.8)
    box_ax.set_ylim(-0.6, len(groups) - 0.4)
    box_ax.grid(axis="y", visible=False)
    box_ax.set_title(
        f"equity value by shock event up to {year}" + _first_of(_MAX_SHOCKS_DRAWN, len(sc.shocks))
    )
    box_ax.set_xlabel(
        f"equity value, USD{' (log scale)' if log else ''}: box 25–75%, whiskers 5–95%"
    )

    rows = d["shocks"][:_MAX_SHOCKS_DRAWN]
    y = np.arange(len(rows))[::-1].astype(float)
    pa = np.array([r["p_any"] for r in rows])
    ci = np.array([r["ci95"] for r in rows])
    p_ax.barh(y, pa, color=_EVENT, alpha=0.75, height=0.5)
    p_ax.errorbar(pa, y, xerr=[pa - ci[:, 0], ci[:, 1] - pa], fmt="none", ecolor=_INK, capsize=3)
    for yy, r in zip(y, rows, strict=True):
        p_ax.text(
            r["ci95"][1] + 0.008,
            yy,
            f"{_pct(r['p_any'])}  [{_interval(*r['ci95'])}]",
            va="center",
            fontsize=8,
        )
    p_ax.set_yticks(y, [ctx.t(r["name"]) for r in rows])
    room = max(0, 3 - len(rows)) / 2  # thin bars, centred, when there are few shocks
    p_ax.set_ylim(-0.7 - room, len(rows) - 0.3 + room)
    p_ax.set_xlim(0, min(1.0, float(ci[:, 1].max()) * 1.6 + 0.03))
    p_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    p_ax.set_title(
        f"P(at least one event by {year})" + _first_of(_MAX_SHOCKS_DRAWN, len(d["shocks"]))
    )
    p_ax.set_xlabel(f"share of all {d['paths']:,} paths, with 95% intervals")
    p_ax.grid(axis="y", visible=False)

    with np.errstate(divide="ignore", invalid="ignore"):
        loss = 1 - kept.equity[hit] / kept.equity_unshocked[hit]
    loss = loss[np.isfinite(loss)]
    if loss.size:
        q_lo, q_hi = (float(v) for v in np.quantile(loss, [0.001, 0.999]))
        edges = np.linspace(min(0.0, q_lo), max(q_hi, 0.05) * 1.05, 61)
        counts, _ = np.histogram(np.clip(loss, edges[0], edges[-1]), bins=edges)
        share = counts / loss.size * 100
        loss_ax.stairs(share, edges, fill=True, color=_EVENT, alpha=0.6)
        # Room above the bars: the median's label takes the top line, the mean-loss note
        # the lines below it, on the side away from the median, so they never overlap.
        loss_ax.set_xlim(edges[0], edges[-1])
        peak = float(share.max())
        loss_ax.set_ylim(0, peak * 1.5 or 1.0)
        loss_ax.yaxis.set_major_locator(
            FixedLocator([v for v in MaxNLocator(6).tick_values(0, peak) if v <= peak * 1.02])
        )
        med = float(np.median(loss))
        _median_line(loss_ax, med, f"median loss {med:.0%}")
        mean_cut = 1 - float(kept.equity.mean()) / float(kept.equity_unshocked.mean())
        left = (med - edges[0]) / (edges[-1] - edges[0]) > 0.5
        loss_ax.annotate(
            f"over all paths, shocks cut\nthe mean value by {mean_cut:.1%}",
            (0.02 if left else 0.98, 1),
            xycoords="axes fraction",
            xytext=(0, -18),
            textcoords="offset points",
            ha="left" if left else "right",
            va="top",
            fontsize=8,
        )
        loss_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
        loss_ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
        loss_ax.set_xlabel("value lost: 1 − value ÷ value with shocks off (the same path)")
        loss_ax.set_ylabel("share of the paths with an event")
    else:
        _message(loss_ax, f"no plotted path has an event by {year}")
    loss_ax.set_title("value lost on the paths with an event (paired)")

    all_targets = d["targets"]
    targets = all_targets[:_MAX_TARGETS_DRAWN]
    off = ctx.result.streams.get("valuation_unshocked")
    if targets and off is not None:
        yt = np.arange(len(targets))[::-1].astype(float)
        with_p = np.array([tg["p_at_least"] for tg in targets])
        off_p = np.array([off.count_at_least(tg["value_usd"]) / d["paths"] for tg in targets])
        tgt_ax.barh(yt + 0.19, off_p, height=0.36, color=_MUTED, alpha=0.7, label="shocks off")
        tgt_ax.barh(
            yt - 0.19, with_p, height=0.36, color=ctx.colour, alpha=0.85, label="with shocks"
        )
        for yy, a, b in zip(yt, with_p, off_p, strict=True):
            tgt_ax.text(
                max(a, b) + 0.015,
                yy,
                f"{_pct(float(a))} vs {_pct(float(b))}  ({_pts(float(a - b))})",
                va="center",
                fontsize=7.5,
            )
        tgt_ax.set_yticks(
            yt,
            [m.fit(ctx.t(f"{i + 1}  {tg['label']}"), 150, 7.8) for i, tg in enumerate(targets)],
            fontsize=7.8,
        )
        for i, lab in enumerate(tgt_ax.get_yticklabels()):
            lab.set_color(ctx.target_colours[i])
        tgt_ax.set_xlim(0, 1.5)
        tgt_ax.set_xticks(np.linspace(0, 1, 5))
        tgt_ax.xaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
        tgt_ax.legend(loc="lower right")
        tgt_ax.grid(axis="y", visible=False)
        tgt_ax.set_title(
            "P(value ≥ target): with shocks against shocks off"
            + _first_of(_MAX_TARGETS_DRAWN, len(all_targets))
        )
    else:
        _message(tgt_ax, "no targets")
    return fig


# --------------------------------------------------------------------------- page 7: tornado


_INPUT_NAMES = {
    "valuation.multiple": "EV/sales multiple",
    "valuation.net_cash": "net cash",
    "valuation.ipo_proceeds": "IPO proceeds",
}


def _pretty_input(name: str) -> str:
    """``segments.hailuo.growth`` -> ``hailuo: growth``: an input's name for readers."""
    if name in _INPUT_NAMES:
        return _INPUT_NAMES[name]
    parts = name.split(".")
    if len(parts) == 3 and parts[0] in ("segments", "shocks"):
        return f"{parts[1]}: {parts[2].replace('_', ' ')}"
    return name.replace("_", " ").replace(".", ": ")


def _fig_sensitivity(ctx: _Ctx) -> Figure:
    d = ctx.data
    rows_all = [
        r
        for r in d["sensitivity"]
        if r["rank_correlation"] is not None and math.isfinite(r["rank_correlation"])
    ]
    rows = rows_all[:12]
    note = (
        "Rank correlation measures a monotone association, one input at a time; "
        "first-order (variance-based) indices are not computed yet."
    )
    has_first = any(r.get("first_order") is not None for r in rows)
    fig, body = _page(
        ctx.t(f"What drives the value: {d['scenario']}"),
        ctx.footer(),
        note="" if has_first else note,
    )
    ax = body.add_subplot()
    if not rows:
        _message(
            ax,
            "No random inputs: every input of this scenario is fixed,\n"
            "so no input explains a spread of the value.",
        )
        return fig
    rho = np.array([r["rank_correlation"] for r in rows])
    y = np.arange(len(rows))[::-1].astype(float)
    h = 0.38 if has_first else 0.62
    shift = h / 2 if has_first else 0.0
    colours = [ctx.colour if v >= 0 else _EVENT for v in rho]
    ax.barh(
        y + shift,
        rho,
        height=h,
        color=colours,
        alpha=0.85,
        label="Spearman rank correlation with the value",
    )
    if has_first:
        fo = np.array(
            [r.get("first_order") if r.get("first_order") is not None else np.nan for r in rows],
            dtype=float,
        )
        ax.barh(
            y - shift,
            fo,
            height=h,
            color=_MUTED,
            alpha=0.8,
            label="first-order (variance-based) index",
        )
        ax.legend(loc="lower right")
    for yy, v in zip(y, rho, strict=True):
        ax.annotate(
            _signed(float(v)),
            (v, yy + shift),
            xytext=(4 if v >= 0 else -4, 0),
            textcoords="offset points",
            ha="left" if v >= 0 else "right",
            va="center",
            fontsize=8,
        )
    ax.axvline(0, color=_INK, lw=0.8)
    lim = min(1.05, float(np.abs(rho).max()) * 1.2 + 0.05)
    ax.set_xlim(-lim, lim)
    ax.set_yticks(y, [ctx.t(_pretty_input(r["input"])) for r in rows])
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Spearman rank correlation with equity value at listing (−1 to +1)")
    shown = (
        f"the {len(rows)} strongest of {len(rows_all)} random inputs"
        if len(rows_all) > len(rows)
        else f"all {len(rows)} random inputs"
    )
    ax.set_title(f"Sensitivity tornado: {shown}, strongest first")
    return fig


# --------------------------------------------------------------------------- page 8: convergence


def _fig_convergence(ctx: _Ctx) -> Figure:
    d = ctx.data
    res = ctx.result
    fig, body = _page(
        ctx.t(f"Convergence of the target probabilities: {d['scenario']}"),
        ctx.footer(),
        note="line: estimate after n paths · band: 95% Wilson interval · dashed: final estimate",
    )
    m = _Measure(fig)
    targets = d["targets"]
    checkpoints = np.asarray(res.checkpoints, dtype=np.float64)
    if not targets or checkpoints.size == 0:
        _message(body.add_subplot(), "No targets: nothing to converge.")
        return fig
    # With more targets than panels, the last cell says how many are left out.
    shown = targets[:12] if len(targets) <= 12 else targets[:11]
    ncols = 1 if len(shown) == 1 else 2 if len(shown) <= 4 else 3
    nrows = math.ceil(len(shown) / ncols)
    axes = np.asarray(body.subplots(nrows, ncols, squeeze=False)).ravel()
    counts = np.asarray(res.target_counts, dtype=np.float64)
    for i, tg in enumerate(shown):
        ax: Axes = axes[i]
        colour = ctx.target_colours[i]
        p = counts[:, i] / checkpoints
        lo, hi = _wilson(counts[:, i], checkpoints)
        ax.fill_between(checkpoints, lo, hi, color=colour, alpha=0.22, lw=0)
        ax.plot(checkpoints, p, color=colour, lw=1.5)
        ax.axhline(tg["p_at_least"], color=_INK, lw=0.8, ls="--")
        if checkpoints.size > 1:
            ax.set_xscale("log")
            ax.set_xlim(checkpoints[0], checkpoints[-1])
        ymin, ymax = float(lo.min()), float(hi.max())
        pad = max((ymax - ymin) * 0.08, 1e-6)
        y0, y1 = max(0.0, ymin - pad), min(1.0, ymax + pad)
        ax.set_ylim(y0, y1)
        # Steps of 1, 2 or 5 units, so that one significant digit of the step is exact.
        locator = MaxNLocator(nbins=6, steps=[1, 2, 5, 10])
        ticks = [v for v in locator.tick_values(y0, y1) if y0 <= v <= y1]
        ax.yaxis.set_major_locator(FixedLocator(ticks))
        step = round((ticks[1] - ticks[0]) * 100, 12) if len(ticks) > 1 else 1.0
        ax.yaxis.set_major_formatter(
            PercentFormatter(xmax=1, decimals=max(0, -math.floor(math.log10(step))))
        )
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_title(
            m.fit(ctx.t(f"{i + 1}  {tg['label']}"), 240, 9.5, bold=True),
            color=colour,
            fontsize=9.5,
        )
        # The final estimate and interval, on the side of the panel the curve leaves free.
        low = (tg["p_at_least"] - y0) / (y1 - y0) < 0.5
        ax.text(
            0.98,
            0.95 if low else 0.04,
            f"{_pct(tg['p_at_least'])}  [{_interval(*tg['ci95'])}]",
            transform=ax.transAxes,
            ha="right",
            va="top" if low else "bottom",
            fontsize=7.5,
            bbox={"fc": "white", "ec": "none", "alpha": 0.85, "pad": 1},
        )
        ax.tick_params(labelsize=7.5)
        if i + ncols >= len(shown):
            ax.set_xlabel("paths (log scale)")
    for ax in axes[len(shown) :]:
        ax.set_axis_off()
    if len(targets) > len(shown):
        axes[len(shown)].set_axis_off()
        axes[len(shown)].text(
            0.5,
            0.5,
            f"… and {len(targets) - len(shown):,} more targets\n(all in summary.csv)",
            ha="center",
            transform=axes[len(shown)].transAxes,
            color=_MUTED,
        )
    return fig


# --------------------------------------------------------------------------- page 9: per share


def _fig_value_per_share(ctx: _Ctx) -> Figure:
    sc = ctx.scenario
    offering = sc.offering
    assert offering is not None
    d = ctx.data
    fig, body = _page(ctx.t(f"Value per share against the offer price: {sc.name}"), ctx.footer())
    ax = body.add_subplot()
    vps = ctx.result.kept.value_per_share
    if vps is None or vps.size == 0:
        _message(ax, "no paths kept")
        return fig
    lo_p, hi_p = offering.price_range_usd
    q_lo, q_hi = (float(v) for v in np.quantile(vps, [0.002, 0.995]))
    x0 = min(q_lo, lo_p) * 0.9 if q_lo > 0 else min(q_lo, lo_p) * 1.1
    x1 = max(q_hi, hi_p) * 1.08
    edges = np.linspace(x0, x1, 91)
    counts, _ = np.histogram(vps, bins=edges)
    share = counts / vps.size * 100
    ax.axvspan(lo_p, hi_p, color=_OFFER, alpha=0.25, lw=0, zorder=0)
    ax.stairs(share, edges, fill=True, color=ctx.colour, alpha=0.55)
    ax.stairs(share, edges, color=ctx.colour, lw=0.8)
    ax.set_xlim(x0, x1)
    ax.set_ylim(0, (float(share.max()) or 1.0) * 1.35)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=1))
    ax.set_ylabel("share of paths in each bin")
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: _num(v)))
    ax.set_xlabel("equity value per share, USD")
    ax.grid(axis="x", which="major")
    written_lo, written_hi = offering.price_range_text
    ax.annotate(
        ctx.t(f"offer price range\n{written_lo} – {written_hi}\n(USD {lo_p:.2f} – {hi_p:.2f})"),
        ((lo_p + hi_p) / 2, 0.97),
        xycoords=("data", "axes fraction"),
        ha="center",
        va="top",
        fontsize=8,
        color="#8a5a00",
        fontweight="bold",
    )
    vd = d["value_per_share"]
    med = vd["quantiles"]["0.5"]
    ax.axvline(med, color=_INK, lw=1.2, ls="--")
    ax.annotate(
        f"median USD {med:.2f}",
        (med, 0.80),
        xycoords=("data", "axes fraction"),
        xytext=(-5, 0),
        textcoords="offset points",
        ha="right",
        fontsize=8,
    )
    text = ctx.t(
        f"P(value per share ≥ {written_lo}) = {_pct(vd['p_at_least_offer_low'])}\n"
        f"P(value per share ≥ {written_hi}) = {_pct(vd['p_at_least_offer_high'])}\n"
        f"{offering.shares_outstanding:,} shares outstanding after the offer"
    )
    ax.text(
        0.985,
        0.80,
        text,
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=8.5,
        linespacing=1.5,
        multialignment="left",
        bbox={"fc": "white", "ec": "#cccccc", "boxstyle": "round,pad=0.6"},
    )
    hkd = sc.fx.get("HKD")
    if hkd:
        sec = ax.secondary_xaxis(
            "top", functions=(lambda v: np.asarray(v) / hkd, lambda v: np.asarray(v) * hkd)
        )
        sec.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"HK${_num(v)}"))
        sec.tick_params(labelsize=7.5, colors=_MUTED)
        sec.set_xlabel(f"HK$ per share (at {1 / hkd:.2f} HKD per USD)", fontsize=8, color=_MUTED)
    return fig


# --------------------------------------------------------------------------- writing


def _pages(scenario: Scenario) -> list[tuple[str, Callable[[_Ctx], Figure]]]:
    """The report's pages in order, as (PNG name, figure builder) pairs."""
    pages: list[tuple[str, Callable[[_Ctx], Figure]]] = [
        ("summary.png", _fig_summary),
        ("valuation.png", _fig_valuation),
        ("exceedance.png", _fig_exceedance),
        ("revenue.png", _fig_revenue),
        ("concentration.png", _fig_concentration),
        ("shocks.png", _fig_shocks),
        ("sensitivity.png", _fig_sensitivity),
        ("convergence.png", _fig_convergence),
    ]
    if scenario.offering is not None:
        pages.append(("value_per_share.png", _fig_value_per_share))
    return pages


def _write(
    figures: Iterator[tuple[str, Figure]],
    out_dir: Path,
    pdf_name: str,
    metadata: dict[str, str],
    formats: Sequence[str],
) -> list[Path]:
    """Write each figure as a PDF page and/or a PNG, one figure at a time."""
    want_pdf, want_png = "pdf" in formats, "png" in formats
    if not (want_pdf or want_png):
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    pdf_path = out_dir / pdf_name
    png_meta = {"Title": metadata["Title"], "Software": metadata["Creator"]}
    pdf = PdfPages(pdf_path, metadata=metadata) if want_pdf else None
    try:
        for name, fig in figures:
            if pdf is not None:
                pdf.savefig(fig)  # type: ignore[no-untyped-call]
                # The layout is solved in figure fractions: keep it for the PNG rather
                # than solving it again (the costliest step of a save).
                fig.set_layout_engine("none")
            if want_png:
                path = out_dir / name
                fig.savefig(path, dpi=PNG_DPI, metadata=png_meta)
                written.append(path)
    finally:
        if pdf is not None:
            pdf.close()  # type: ignore[no-untyped-call]
    if pdf is not None:
        written.insert(0, pdf_path)
    return written


def render(
    result: Result,
    summary: Summary,
    out_dir: Path,
    *,
    formats: Sequence[str],
    fonts: Fonts | None = None,
    colour: int = 0,
) -> list[Path]:
    """Write one run's report: ``report.pdf`` and one PNG per figure.

    Parameters
    ----------
    result : Result
        The run; its kept arrays are plotted.
    summary : Summary
        ``summarise(result)``; its numbers are printed.
    out_dir : Path
        Folder to write into (created if missing).
    formats : sequence of str
        ``"pdf"`` writes ``report.pdf``; ``"png"`` writes ``summary.png``,
        ``valuation.png``, ``exceedance.png``, ``revenue.png``, ``concentration.png``,
        ``shocks.png``, ``sensitivity.png``, ``convergence.png`` and, with an
        ``[offering]``, ``value_per_share.png`` (at :data:`PNG_DPI`). Others are ignored.
    fonts : Fonts, optional
        The fonts to draw with; by default :func:`choose_fonts`.
    colour : int
        The scenario's position in its run, which picks its colour from
        :data:`SCENARIO_COLOURS` (the comparison report uses the same colours).

    Returns
    -------
    list of Path
        The files written, the PDF first.
    """
    fonts = fonts if fonts is not None else choose_fonts()
    scenario = result.scenario
    ctx = _Ctx(
        result=result,
        summary=summary,
        fonts=fonts,
        colour=SCENARIO_COLOURS[colour % len(SCENARIO_COLOURS)],
        target_colours=_colours_by_value([t.value_usd for t in scenario.targets]),
    )
    metadata = {
        "Title": f"ipo-sim report: {scenario.name}",
        "Subject": scenario.name,
        "Keywords": f"sha256:{scenario.sha256}",
        "Creator": f"ipo-sim {__version__}",
    }
    with _style(fonts):
        figures = ((name, build(ctx)) for name, build in _pages(scenario))
        return _write(figures, out_dir, "report.pdf", metadata, formats)


# --------------------------------------------------------------------------- comparison


@dataclass(frozen=True, slots=True)
class _Cmp:
    """What every page of a comparison needs."""

    results: Sequence[Result]
    summaries: Sequence[Summary]
    fonts: Fonts
    targets: list[tuple[str, float]]  # (label, USD) of every target; the first label wins
    diffs: list[TargetDifference]
    paired: bool

    def t(self, s: str) -> str:
        return self.fonts.text(s)

    @staticmethod
    def colour(i: int) -> str:
        return SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)]

    def names(self) -> list[str]:
        return [self.t(r.scenario.name) for r in self.results]

    def footer(self) -> str:
        runs = ", ".join(
            f"{r.scenario.name} (sha256 {r.scenario.sha256[:8]}…)" for r in self.results
        )
        how = "paired: common random numbers" if self.paired else "independent runs"
        return self.t(f"ipo-sim {__version__}  ·  {runs}  ·  {how}")

    def p(self, i: int, value: float) -> tuple[float, tuple[float, float], float] | None:
        """Scenario ``i``'s P(value >= ``value``), interval and se; None if not its target."""
        return target_p(self.summaries[i], value)


def _fig_cmp_overview(c: _Cmp) -> Figure:
    fig, ax, m = _text_page(c.footer())
    ax.text(
        0.03,
        0.965,
        m.fit(c.t("Scenario comparison: " + " vs ".join(c.names())), 780, 18, bold=True),
        fontsize=18,
        fontweight="bold",
        va="top",
    )
    if c.paired:
        how = (
            "Paired, common random numbers: the runs used the same seed, path count and "
            "sampler, so path k of every run drew the same inputs. Differences are measured "
            "path by path, far more precisely than two independent runs would allow."
        )
    elif len(c.results) > 1:
        how = (
            "Independent runs: the runs differ in seed, path count or sampler, so their paths "
            "do not pair up; a difference's standard error is sqrt(se_A² + se_B²)."
        )
    else:
        how = "One scenario: nothing to compare it with."
    ax.text(
        0.03,
        0.915,
        "\n".join(textwrap.wrap(how, 150)),
        fontsize=9.5,
        va="top",
        color=_INK,
        linespacing=1.4,
    )
    y = _heading(ax, 0.03, 0.83, "Scenarios: equity value at listing, USD")
    rows = []
    for r, s in zip(c.results, c.summaries, strict=True):
        q = s.data["valuation"]["quantiles"]
        rows.append(
            [
                "",
                c.t(r.scenario.name),
                f"{r.paths:,}",
                str(r.seed),
                r.sampler,
                r.scenario.sha256[:16] + "…",
                _money(q["0.05"]),
                _money(q["0.5"]),
                _money(q["0.95"]),
                _money(s.data["valuation"]["mean"]),
            ]
        )
    y, table = _table(
        ax,
        m,
        y,
        rows,
        x=0.03,
        width=0.94,
        col_widths=(0.03, 0.2, 0.09, 0.1, 0.07, 0.17, 0.085, 0.085, 0.085, 0.085),
        header=(
            "",
            "scenario",
            "paths",
            "seed",
            "sampler",
            "scenario SHA-256",
            "p5",
            "median",
            "p95",
            "mean",
        ),
        align=(
            "center",
            "left",
            "right",
            "right",
            "left",
            "left",
            "right",
            "right",
            "right",
            "right",
        ),
        row_h=0.034,
        fontsize=9,
    )
    for i in range(len(rows)):
        cell = table[i + 1, 0]
        cell.visible_edges = "closed"
        cell.set_facecolor(c.colour(i))
        cell.set_edgecolor("white")
        cell.set_linewidth(1.5)
    y -= 0.05
    y = _heading(
        ax,
        0.03,
        y,
        "Targets: P(equity value ≥ target) and the change against "
        f"{c.names()[0]}, with 95% intervals",
    )
    ncol = len(c.results)
    diffs = {(d.value_usd, d.scenario): d for d in c.diffs}
    trows = []
    for label, value in c.targets:
        row = [c.t(label), _money(value)]
        for i in range(ncol):
            p = c.p(i, value)
            row.append("—" if p is None else f"{_pct(p[0])}  [{_interval(*p[1])}]")
        for i in range(1, ncol):
            d = diffs.get((value, i))
            row.append(
                "—"
                if d is None
                else f"{_pts(d.estimate)}  [{_pts(d.ci95[0])[:-4]}, {_pts(d.ci95[1])[:-4]}]"
            )
        trows.append(row)
    if trows:
        n_cols = 2 * ncol - 1
        y, table = _table(
            ax,
            m,
            y,
            trows,
            x=0.03,
            width=0.94,
            col_widths=(0.24, 0.07, *[0.69 / n_cols] * n_cols),
            header=("target", "USD", *c.names(), *[f"Δ {n}" for n in c.names()[1:]]),
            align=("left", "right", *["right"] * n_cols),
            row_h=min(0.034, 0.5 / (len(trows) + 1)),
            fontsize=8.5 if n_cols <= 3 else 7.5,
        )
        for i in range(ncol):
            table[0, 2 + i].get_text().set_color(c.colour(i))
        for i in range(1, ncol):
            table[0, 1 + ncol + i].get_text().set_color(c.colour(i))
    for i, r in enumerate(c.results):
        missing = [label for label, v in c.targets if c.p(i, v) is None]
        if missing:
            y -= 0.012
            ax.text(
                0.03,
                y,
                m.fit(c.t(f"{r.scenario.name} has no target at: " + ", ".join(missing)), 780, 8),
                fontsize=8,
                color=_MUTED,
                va="top",
            )
            y -= 0.02
    return fig


def _violin(ax: Axes, x: float, values: FloatArray, colour: str, lo: float, hi: float) -> None:
    """A violin on a log value axis: the smoothed density of log(value), mirrored."""
    pos = values[values > 0]
    if pos.size == 0:
        return
    edges = np.linspace(math.log10(lo), math.log10(hi), 241)
    counts, _ = np.histogram(np.log10(pos), bins=edges)
    kernel = np.exp(-0.5 * (np.arange(-8, 9) / 2.5) ** 2)
    dens = np.convolve(counts.astype(np.float64), kernel / kernel.sum(), mode="same")
    if dens.max() > 0:
        dens = dens / dens.max() * 0.38
    centres = 10 ** ((edges[:-1] + edges[1:]) / 2)
    keep = dens > 0.002
    ax.fill_betweenx(centres[keep], x - dens[keep], x + dens[keep], color=colour, alpha=0.35, lw=0)
    p5, p25, p50, p75, p95 = (float(v) for v in np.quantile(pos, [0.05, 0.25, 0.5, 0.75, 0.95]))
    ax.plot([x, x], [p5, p95], color=colour, lw=1.3)
    ax.plot([x, x], [p25, p75], color=colour, lw=7, solid_capstyle="butt")
    ax.plot([x], [p50], "o", color="white", mec=colour, ms=6, zorder=5)
    ax.annotate(
        f"median {_money(p50)}",
        (x, p50),
        xytext=(12, 0),
        textcoords="offset points",
        va="center",
        fontsize=8,
        color=_INK,
        bbox={"fc": "white", "ec": "none", "alpha": 0.8, "pad": 1},
    )


def _cmp_target_rows(c: _Cmp) -> list[dict[str, Any]]:
    """The comparison's targets as summary rows of the first scenario that has each."""
    rows = []
    for label, value in c.targets:
        for i in range(len(c.results)):
            p = c.p(i, value)
            if p is not None:
                rows.append(
                    {
                        "label": label,
                        "value_usd": value,
                        "p_at_least": p[0],
                        "ci95": list(p[1]),
                        "scenario": i,
                    }
                )
                break
    return rows


def _fig_cmp_values(c: _Cmp) -> Figure:
    fig, body = _page("Equity value at listing by scenario", c.footer())
    ax = body.add_subplot()
    values = [r.kept.equity for r in c.results]
    lo, hi = _value_range(np.concatenate(values), [v for _, v in c.targets])
    for i, v in enumerate(values):
        _violin(ax, float(i), v, c.colour(i), lo, hi)
    colours = _colours_by_value([v for _, v in c.targets])
    ys = [math.log(v / lo) / math.log(hi / lo) for _, v in c.targets if v > 0]
    rows = iter(_stagger(ys, 0.03))
    for j, (_, value) in enumerate(c.targets):
        if value <= 0:
            continue
        ax.axhline(value, color=colours[j], lw=1, ls="--", zorder=1)
        ax.annotate(
            str(j + 1),
            xy=(1.0, value),
            xycoords=("axes fraction", "data"),
            xytext=(-10 - 18 * next(rows), 0),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=7,
            fontweight="bold",
            color="white",
            bbox={"boxstyle": "circle,pad=0.25", "fc": colours[j], "ec": "none"},
            zorder=6,
        )
    _set_money_axis(
        ax, "y", lo, hi, log=True, yi=any(r.scenario.writes_yi for r in c.results), fonts=c.fonts
    )
    ax.set_xticks(range(len(values)), c.names())
    for i, lab in enumerate(ax.get_xticklabels()):
        lab.set_color(c.colour(i))
        lab.set_fontweight("bold")
    ax.set_xlim(-0.6, len(values) - 0.4)
    ax.grid(axis="x", visible=False)
    ax.set_ylabel("equity value at listing, USD (log scale)")
    ax.set_title(
        "density of the value (violin); 25–75% (thick), 5–95% (thin), median (dot); "
        "dashed: targets"
    )
    key = _cmp_target_rows(c)
    if key:
        _bubble_legend(
            body,
            colours[: len(key)],
            [c.t(_wrap(row["label"], 30)) for row in key],
            title="Targets",
            loc="outside right upper",
            labelspacing=0.8,
        )
    if any(r.kept.n < r.paths for r in c.results):
        ax.text(
            0.0,
            -0.08,
            "plots use each run's kept paths",
            transform=ax.transAxes,
            fontsize=7.5,
            color=_MUTED,
        )
    return fig


def _fig_cmp_targets(c: _Cmp) -> Figure:
    fig, body = _page("Target probabilities by scenario", c.footer())
    ax = body.add_subplot()
    if not c.targets:
        _message(ax, "No targets in these scenarios.")
        return fig
    k = len(c.results)
    width = 0.8 / k
    x = np.arange(len(c.targets))
    small = k > 3 or len(c.targets) > 6
    for i in range(k):
        for j, (_, value) in enumerate(c.targets):
            p = c.p(i, value)
            if p is None:
                continue
            xx = x[j] - 0.4 + width * (i + 0.5)
            ax.bar(
                xx,
                p[0],
                width=width * 0.9,
                color=c.colour(i),
                alpha=0.85,
                label=c.names()[i] if j == 0 else None,
            )
            ax.errorbar(
                [xx],
                [p[0]],
                yerr=[[p[0] - p[1][0]], [p[1][1] - p[0]]],
                fmt="none",
                ecolor=_INK,
                capsize=2,
                lw=0.9,
            )
            ax.annotate(
                _pct(p[0]),
                (xx, p[1][1]),
                xytext=(0, 3),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=7 if small else 8,
                rotation=90 if small else 0,
            )
    ax.set_xticks(x, [c.t(_wrap(label, 28)) for label, _ in c.targets], fontsize=8)
    ax.set_ylim(0, 1.12)
    ax.set_yticks(np.linspace(0, 1, 6))
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1, decimals=0))
    ax.set_ylabel("P(equity value ≥ target)")
    ax.grid(axis="x", visible=False)
    ax.set_title("P(value ≥ target) in each scenario, with 95% intervals (Wilson)")
    ax.legend(loc="upper right", title="scenario")
    return fig


def _fig_cmp_differences(c: _Cmp) -> Figure:
    how = "paired, common random numbers" if c.paired else "independent runs"
    first = c.names()[0]
    fig, body = _page(c.t(f"Change in target probabilities against {first} ({how})"), c.footer())
    ax = body.add_subplot()
    diffs = c.diffs
    if not diffs:
        _message(ax, "Nothing to compare: one scenario, or no target shared by value.")
        return fig
    index = {value: j for j, (_, value) in enumerate(c.targets)}
    rows = sorted({index[d.value_usd] for d in diffs})
    k = len(c.results) - 1
    step = 0.6 / max(k, 1)
    ypos = {t: float(len(rows) - 1 - r) for r, t in enumerate(rows)}
    finite = [d for d in diffs if math.isfinite(d.se)]
    left = min([0.0, *(d.ci95[0] for d in finite)])
    right = max([0.0, *(d.ci95[1] for d in finite)])
    span = max(right - left, 0.001)
    for d in diffs:
        y = ypos[index[d.value_usd]] + (k - 1) * step / 2 - (d.scenario - 1) * step
        lo, hi = d.ci95
        colour = c.colour(d.scenario)
        ax.errorbar(
            [d.estimate],
            [y],
            xerr=[[d.estimate - lo], [hi - d.estimate]],
            fmt="o",
            color=colour,
            ms=6,
            capsize=4,
            lw=1.5,
            label=c.names()[d.scenario] if index[d.value_usd] == rows[0] else None,
        )
        # The figures in a column right of the plot, where they cannot cover a marker.
        ax.annotate(
            f"{_pts(d.estimate)}   [{_pts(lo)[:-4]}, {_pts(hi)[:-4]}]",
            xy=(1.0, y),
            xycoords=("axes fraction", "data"),
            xytext=(10, 0),
            textcoords="offset points",
            va="center",
            fontsize=8.5,
            color=colour,
        )
    ax.axvline(0, color=_INK, lw=0.9)
    ax.set_xlim(left - 0.08 * span, right + 0.08 * span)
    ax.annotate(
        "change  [95% interval]",
        xy=(1.0, len(rows) - 0.45),
        xycoords=("axes fraction", "data"),
        xytext=(10, 0),
        textcoords="offset points",
        va="bottom",
        fontsize=8.5,
        fontweight="bold",
    )
    ax.xaxis.set_major_formatter(
        FuncFormatter(
            lambda v, _pos: (f"{v * 100:+.{_decimals(span * 100)}f}" if v else "0").replace(
                "-", "−"
            )
        )
    )
    ax.set_yticks([ypos[t] for t in rows], [c.t(_wrap(c.targets[t][0], 30)) for t in rows])
    ax.set_ylim(-0.6, len(rows) - 0.4)
    ax.grid(axis="y", visible=False)
    ax.set_xlabel(
        f"P(value ≥ target) in the scenario minus in {first}, percentage points; "
        "bars: 95% intervals"
    )
    if c.paired:
        gains = [d.se_independent / d.se for d in diffs if d.se > 0]
        gain = f": {float(np.median(gains)):.1f}× narrower than independent runs" if gains else ""
        ax.set_title(f"intervals from the per-path differences{gain}")
    else:
        ax.set_title("standard error sqrt(se_A² + se_B²)")
    if k > 1:
        ax.legend(loc="lower right", title="scenario")
    return fig


def _decimals(span: float) -> int:
    """Decimals for ticks over a range of about ``span`` (e.g. 0.4 -> 1, 30 -> 0)."""
    return max(0, 1 - math.floor(math.log10(span))) if span > 0 else 0


def render_comparison(
    results: Sequence[Result],
    summaries: Sequence[Summary],
    out_dir: Path,
    formats: Sequence[str] = ("pdf", "png"),
    *,
    fonts: Fonts | None = None,
) -> list[Path]:
    """Write a comparison of several runs: ``comparison.pdf`` and its PNGs.

    Pages: an overview table; the value distributions side by side (violins on a log
    axis); the target probabilities grouped by target; and each scenario's difference in
    each target probability from the first scenario's, with a 95 % interval. Runs with
    the same seed, path count and sampler share common random numbers, so the difference
    is taken path by path (paired); otherwise the runs count as independent. Targets are
    matched by value (the label is the first scenario's).

    Parameters
    ----------
    results, summaries : sequences of Result and Summary, in the same order
        The first is the reference for the differences; position i has colour
        ``SCENARIO_COLOURS[i]`` on every page.
    out_dir : Path
        Folder to write into (created if missing).
    formats : sequence of str
        ``"pdf"`` writes ``comparison.pdf``; ``"png"`` writes ``comparison_overview.png``,
        ``comparison_values.png``, ``comparison_targets.png`` and
        ``comparison_differences.png``.
    fonts : Fonts, optional
        The fonts to draw with; by default :func:`choose_fonts`.

    Returns
    -------
    list of Path
        The files written, the PDF first.

    Raises
    ------
    ValueError
        No results, or not one summary per result.
    """
    if not results or len(results) != len(summaries):
        raise ValueError("render_comparison needs one summary per result, and at least one")
    fonts = fonts if fonts is not None else choose_fonts()
    c = _Cmp(
        results,
        summaries,
        fonts,
        shared_targets(summaries),
        compare_targets(results, summaries),
        paired(results),
    )
    names = [r.scenario.name for r in results]
    metadata = {
        "Title": "ipo-sim comparison: " + " vs ".join(names),
        "Subject": ", ".join(names),
        "Keywords": " ".join(f"sha256:{r.scenario.sha256}" for r in results),
        "Creator": f"ipo-sim {__version__}",
    }
    pages: list[tuple[str, Callable[[_Cmp], Figure]]] = [
        ("comparison_overview.png", _fig_cmp_overview),
        ("comparison_values.png", _fig_cmp_values),
        ("comparison_targets.png", _fig_cmp_targets),
        ("comparison_differences.png", _fig_cmp_differences),
    ]
    with _style(fonts):
        figures = ((name, build(c)) for name, build in pages)
        return _write(figures, out_dir, "comparison.pdf", metadata, formats)
