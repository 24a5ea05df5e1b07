"""Every number a person reads: money, probabilities, differences, distributions.

The terminal, the report's pages and ``ipo-sim show`` all format through this module, so
one value reads the same wherever it is printed.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = [
    "cents",
    "distribution",
    "interval",
    "money",
    "number",
    "pct",
    "points",
    "quantity",
    "signed",
    "yi",
]


def number(x: float, digits: int = 3, *, group: bool = True) -> str:
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


def cents(usd: float) -> float:
    """``usd``, or 0.0 below half a cent: the rounding noise of a path that lost everything."""
    return 0.0 if round(abs(usd), 2) == 0 else usd


def money(usd: float) -> str:
    """``2.5 bn``, ``72.4 M``, ``950 K``: an amount in USD units for axes and tables."""
    usd = cents(usd)
    a = abs(usd)
    if a >= 1e9 or round(a / 1e6, 1) >= 1000:
        return f"{number(usd / 1e9)} bn"
    if a >= 1e6:
        return f"{number(usd / 1e6)} M"
    if a >= 1e3:
        return f"{number(usd / 1e3)} K"
    return number(usd)


def yi(usd: float) -> str:
    """The Chinese reading of an amount: ``25亿`` from 1亿 (1e8 USD) up, else ``7000万``."""
    if cents(usd) == 0:
        return "0"
    if abs(usd) >= 1e8:
        return f"{number(usd / 1e8, group=False)}亿"
    return f"{number(usd / 1e4, group=False)}万"


def pct(p: float) -> str:
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


def interval(lo: float, hi: float) -> str:
    return f"{pct(lo)} – {pct(hi)}"


def points(d: float, *, unit: bool = True) -> str:
    """A difference of probabilities in percentage points, signed (``+2.4 pts``)."""
    x = d * 100
    if x == 0:
        return "0 pts" if unit else "0"
    if abs(x) >= 1:
        text = f"{x:+.1f}"
    else:
        decimals = max(2, 1 - math.floor(math.log10(abs(x))))
        text = f"{x:+.{decimals}f}"
    return text.replace("-", "−") + (" pts" if unit else "")


def signed(x: float) -> str:
    """A correlation, signed, with two decimals (more when it is tiny but not zero)."""
    text = f"{x:+.2f}" if abs(x) >= 0.005 or x == 0 else f"{x:+.1g}"
    return text.replace("-", "−")


def distribution(dist: Any, kind: str, *, note: bool = False) -> str:
    """A distribution as its 10th, 50th and 90th percentiles (or its one value).

    ``dist`` is any of :mod:`sim.distributions` (``is_fixed`` and ``ppf``); ``kind`` is
    one of :func:`quantity`'s.
    """
    if dist.is_fixed:
        return quantity(float(dist.ppf(np.array([0.5]))[0]), kind)
    q = dist.ppf(np.array([0.1, 0.5, 0.9]))
    text = " · ".join(quantity(float(v), kind) for v in q)
    return text + ("  (p10 · p50 · p90)" if note else "")


def quantity(x: float, kind: str) -> str:
    """``x`` read as ``kind``: ``"money"``, ``"growth"``, ``"share"``, ``"multiple"``."""
    if kind == "money":
        return money(x)
    if kind == "growth":
        return f"{x:+.0%}"
    if kind == "share":
        return f"{x:.0%}"
    if kind == "multiple":
        return f"×{number(x)}"
    return number(x)
