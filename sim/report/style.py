"""The report's look: page size, colours, rcParams, and the fonts it draws with.

Chinese amounts (亿, 万) render with a CJK font when matplotlib finds one
(:func:`choose_fonts`); without one every label is transliterated (``25亿`` becomes
``25×10⁸``), so no figure shows missing-glyph boxes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import matplotlib
from matplotlib import font_manager

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
    # Glyphs unhinted: the layout then measures text as the PDF draws it (PDF text is not
    # hinted), and FreeType's hinting was about 40% of Agg's time with text.
    "text.hinting": "no_hinting",
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
    # Figures made at the PNG's resolution: the layout is solved with text measured at
    # the resolution the PNG shows it (the PDF is drawn at its own 72 dpi whatever this
    # says, and the PNG is that page rasterised at this resolution).
    "figure.dpi": PNG_DPI,
}
#: Text, muted text, shock events and the offer price range.
_INK = "#222222"
_MUTED = "#666666"
_EVENT = "#B2182B"
_OFFER = "#E69F00"


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
