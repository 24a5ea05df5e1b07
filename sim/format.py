"""Every number a person reads: money, probabilities, differences, distributions.

The terminal, the report's pages and ``ipo-sim show`` all format through this module, so
one value reads the same wherever it is printed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "AT_VALUE",
    "USD",
    "Currency",
    "at_short",
    "cents",
    "difference",
    "distribution",
    "interval",
    "money",
    "number",
    "parameters",
    "pct",
    "per_share",
    "points",
    "probability",
    "quantity",
    "shown_currency",
    "shown_in",
    "signed",
    "signed_pct",
    "target_label",
    "yi",
]


@dataclass(frozen=True, slots=True)
class Currency:
    """The currency amounts are shown in, and whether the Chinese reading goes with them.

    Every amount is held in USD; :func:`money` and its kin divide it by
    :attr:`usd_per_unit` and write :attr:`code` before it. :attr:`chinese` says whether
    an amount may carry its 万/亿 reading (``reading=True``): a scenario that writes 亿 or
    万 reads its amounts so, one that does not is not shown them.
    """

    code: str = "USD"
    usd_per_unit: float = 1.0
    chinese: bool = True


#: USD, with the Chinese reading: what amounts are shown in outside :func:`shown_in`.
USD = Currency()
_SHOWN: ContextVar[Currency] = ContextVar("sim.format.shown", default=USD)


def shown_currency() -> Currency:
    """The currency amounts are shown in here (:data:`USD` unless inside :func:`shown_in`)."""
    return _SHOWN.get()


@contextmanager
def shown_in(currency: Currency) -> Iterator[None]:
    """Show every amount formatted inside in ``currency`` (a scenario's reporting currency).

    A context variable rather than an argument: the figures of a report format hundreds
    of amounts through many helpers, and each report (or printed summary) is in one
    currency. The value is restored on exit, so nothing leaks into the next report.

    >>> with shown_in(Currency("EUR", 1.25, chinese=False)):
    ...     money(2.5e9, reading=True), money(2.5e9, short=True)
    ('EUR 2.00 bn', '2 bn')
    """
    token = _SHOWN.set(currency)
    try:
        yield
    finally:
        _SHOWN.reset(token)


def _shown(usd: float) -> tuple[float, Currency]:
    cur = _SHOWN.get()
    return (usd if cur.usd_per_unit == 1.0 else usd / cur.usd_per_unit), cur


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


def per_share(usd: float) -> str:
    """An amount per share in USD, to four significant figures, as prices are written.

    >>> per_share(19.3582), per_share(151.0), per_share(-0.5)
    ('USD 19.36 a share', 'USD 151 a share', '-USD 0.5 a share')
    """
    amount, cur = _shown(usd)
    sign = "-" if amount < 0 else ""
    return f"{sign}{cur.code} {number(abs(amount), 4)} a share"


def cents(usd: float) -> float:
    """``usd``, or 0.0 below half a cent: the rounding noise of a path that lost everything."""
    return 0.0 if round(abs(usd), 2) == 0 else usd


# Past a billion billions fixed-point is unreadable; such a figure is a sign of a broken
# input, shown (with an exponent) so that it can be found rather than formatted nicely.
_HUGE = 1e18


def money(usd: float, *, short: bool = False, reading: bool = False) -> str:
    """An amount in USD for people: ``USD 2.50 bn``, ``USD 72.4 M``, ``USD 950 K``.

    ``bn`` with two decimals from USD 1 bn; ``M`` with one decimal from USD 1 M; ``K``
    and plain amounts to three significant digits. The unit follows the rounded figure
    (999.96 M reads ``USD 1.00 bn``); below half a cent an amount (such as the rounding
    noise of a path that lost all its revenue) reads ``USD 0``; a non-finite one reads
    ``USD nan`` or ``USD inf`` rather than raising.

    Parameters
    ----------
    usd : float
        Amount in USD, shown in :func:`shown_currency` (USD unless inside
        :func:`shown_in`).
    short : bool
        The compact form for axis ticks and narrow table cells under a USD heading: no
        currency, three significant digits without trailing zeros (``2.5 bn``, ``950 K``).
    reading : bool
        Add the Chinese reading (``25.0亿``, ``7000万``) in brackets, from USD 1 K up.

    Examples
    --------
    >>> money(2.5e9), money(2.5e9, reading=True), money(2.5e9, short=True)
    ('USD 2.50 bn', 'USD 2.50 bn (25.0亿)', '2.5 bn')
    >>> money(70e6, reading=True), money(710e6, reading=True), money(950_000)
    ('USD 70.0 M (7000万)', 'USD 710.0 M (7.10亿)', 'USD 950 K')
    >>> money(-0.25), money(-3e-7), money(999.96e6), money(-float("inf"))
    ('-USD 0.25', 'USD 0', 'USD 1.00 bn', '-USD inf')
    """
    if short:
        return _compact(usd)
    value, cur = _shown(usd)
    a = abs(value)
    if math.isfinite(a) and round(a, 2) == 0:
        return f"{cur.code} 0"  # including -0.0 and -3e-7: never "-USD 0.00"
    sign = "-" if value < 0 else ""
    amount, chinese = _full(a)
    text = f"{sign}{cur.code} {amount}"
    return f"{text} ({sign}{chinese})" if reading and chinese and cur.chinese else text


def _full(a: float) -> tuple[str, str]:
    """``a`` (>= 0) in its unit, and its 万/亿 reading ("" below USD 1 K)."""
    if not math.isfinite(a):
        return str(a), ""
    if a >= _HUGE:
        return f"{a / 1e9:.3g} bn", f"{a / 1e8:.3g}亿"
    # Choose the unit by the rounded figure, so 999.96 M shows as 1.00 bn, not 1000.0 M.
    if a >= 1e9 or round(a / 1e6, 1) >= 1000:
        return f"{a / 1e9:.2f} bn", f"{a / 1e8:.1f}亿"
    if a >= 1e8 or round(a / 1e4) >= 10_000:
        # From 1亿 on, Chinese readers count in 亿, not in tens of thousands of 万.
        return f"{a / 1e6:.1f} M", f"{a / 1e8:.2f}亿"
    if a >= 1e6 or round(a / 1e3) >= 1000:
        return f"{a / 1e6:.1f} M", f"{a / 1e4:.0f}万"
    if a >= 1e3 or round(a) >= 1000:
        return f"{_sig3(a / 1e3)} K", f"{_sig3(a / 1e4)}万"
    return _sig3(a), ""


def _sig3(x: float) -> str:
    """``x`` (>= 0) with three significant digits and no exponent: 1.50, 12.3, 950."""
    if round(x, 2) < 10:
        return f"{x:.2f}"
    if round(x, 1) < 100:
        return f"{x:.1f}"
    return f"{x:.0f}"


def _compact(usd: float) -> str:
    """``2.5 bn``, ``72.4 M``, ``950 K``: three significant digits, no trailing zeros."""
    usd = cents(_shown(usd)[0])
    a = abs(usd)
    if a >= 1e9 or round(a / 1e6, 1) >= 1000:
        return f"{number(usd / 1e9)} bn"
    if a >= 1e6:
        return f"{number(usd / 1e6)} M"
    if a >= 1e3:
        return f"{number(usd / 1e3)} K"
    return number(usd)


def yi(usd: float) -> str:
    """The compact Chinese reading of an amount, for ticks: ``25亿`` from 1亿 up, else ``7000万``.

    >>> yi(2.5e9), yi(70e6), yi(0.001)
    ('25亿', '7000万', '0')
    """
    usd = _shown(usd)[0]
    if cents(usd) == 0:
        return "0"
    if abs(usd) >= 1e8:
        return f"{number(usd / 1e8, group=False)}亿"
    return f"{number(usd / 1e4, group=False)}万"


def pct(p: float) -> str:
    """A probability as a percentage with the digits its size needs.

    One decimal from 1 % to 99 %, two significant digits of the tail beyond.

    >>> pct(0.963), pct(0.0011), pct(5e-5), pct(0.99925), pct(0.0), pct(1.0)
    ('96.3%', '0.11%', '0.0050%', '99.925%', '0%', '100%')
    """
    if not math.isfinite(p):
        return "n/a"
    if p <= 0 or p >= 1:
        return f"{min(max(p, 0.0), 1.0):.0%}"
    if 0.01 <= p <= 0.99:
        return f"{p * 100:.1f}%"
    tail = min(p, 1 - p) * 100
    decimals = max(1, 1 - math.floor(math.log10(tail)))
    return f"{(p * 100):.{decimals}f}%"


def margin(m: float | None) -> str:
    """An operating margin, one decimal, or ``"not reachable"`` for ``None`` (an implied
    margin no margin in the searched range reaches).

    >>> margin(0.3104), margin(-0.125), margin(None)
    ('31.0%', '−12.5%', 'not reachable')
    """
    if m is None:
        return "not reachable"
    return f"{m * 100:.1f}%".replace("-", "−")


def signed_pct(x: float) -> str:
    """A return as a signed percentage, whole numbers from 10 % up: ``+33%``, ``−4.2%``.

    >>> signed_pct(0.333), signed_pct(-0.042), signed_pct(0.0), signed_pct(1.5)
    ('+33%', '−4.2%', '0%', '+150%')
    """
    if not math.isfinite(x):
        return "n/a"
    if x == 0:
        return "0%"
    v = x * 100
    text = f"{v:+.0f}%" if abs(v) >= 10 else f"{v:+.1f}%"
    return text.replace("-", "−")


def interval(lo: float, hi: float) -> str:
    """A probability's interval: ``[96.0%, 96.6%]``."""
    return f"[{pct(lo)}, {pct(hi)}]"


def probability(p: float, ci: Sequence[float]) -> str:
    """An estimated probability and its interval: ``96.3% [96.0%, 96.6%]``."""
    return f"{pct(p)} {interval(ci[0], ci[1])}"


def points(d: float, *, unit: bool = True) -> str:
    """A difference of probabilities in percentage points, signed: ``+2.4 pp``.

    One decimal from 1 point up, two significant digits below.

    >>> points(0.024), points(-0.0004), points(0.0), points(0.024, unit=False)
    ('+2.4 pp', '−0.040 pp', '0 pp', '+2.4')
    """
    x = d * 100
    if x == 0:
        text = "0"
    elif abs(x) >= 1:
        text = f"{x:+.1f}"
    else:
        decimals = max(2, 1 - math.floor(math.log10(abs(x))))
        text = f"{x:+.{decimals}f}"
    return text.replace("-", "−") + (" pp" if unit else "")


def difference(d: float, ci: Sequence[float]) -> str:
    """A difference of probabilities and its interval: ``+2.4 pp [+2.1, +2.7]``."""
    return f"{points(d)} [{points(ci[0], unit=False)}, {points(ci[1], unit=False)}]"


def signed_money(usd: float) -> str:
    """A change of a USD amount, signed, short: ``+USD 1.76 bn``, ``−USD 5.55 M``, ``0``."""
    if usd == 0 or not math.isfinite(usd):
        return "0" if usd == 0 else money(usd, short=True)
    return ("+" if usd > 0 else "−") + money(abs(usd), short=True)


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
        return money(x, short=True)
    if kind == "growth":
        return f"{x:+.0%}"
    if kind == "share":
        return f"{x:.0%}"
    if kind == "multiple":
        return f"×{number(x)}"
    return number(x)


def input_number(x: float) -> str:
    """An input as a scenario writes it: at most 12 significant digits, which read back
    exactly as any number written with 12 or fewer, and drop the float noise a
    computation leaves in the last digits (``14.999999999999998``).

    >>> input_number(0.1282), input_number(14.999999999999998), input_number(1e-10)
    ('0.1282', '15', '1e-10')
    """
    return f"{x:.12g}"


def parameters(d: dict[str, Any], *, money_values: bool = False) -> str:
    """A distribution as written in a scenario (``lognormal(median=70 M, sigma=0.3)``).

    ``d`` is the distribution's entry of ``Scenario.to_dict()``; with ``money_values``
    its amounts (from USD 100 K) read as money.
    """
    if d.get("dist") == "fixed":
        value = float(d["value"])
        return money(value, reading=True) if money_values else input_number(value)
    if d.get("dist") == "mixture":
        parts = [
            f"{w:g} x {parameters(c, money_values=money_values)}"
            for w, c in zip(d["weights"], d["components"], strict=True)
        ]
        return f"mixture({' + '.join(parts)})"

    def show(v: Any) -> str:
        if money_values and isinstance(v, float) and abs(v) >= 1e5:
            return money(v)
        return input_number(v) if isinstance(v, float) else str(v)

    params = ", ".join(f"{k}={show(v)}" for k, v in d.items() if k != "dist")
    return f"{d['dist']}({params})"


AT_VALUE = {
    "fair": "fair value at listing",
    "offer": "market value at the offer price",
    "day1": "market value at the day-1 close",
    "end": "market value at the window's end",
    "peak": "market value at the peak daily close",
}
"""What a target read at each ``at`` compares with, in words."""

# Words that already say a label's point in time (whole words, any case).
_AT_WORDS = {
    "fair": r"fair",
    "offer": r"offer",
    "day1": r"day[- ]?1|first[- ]day",
    "end": r"end",
    "peak": r"peak",
}


def at_short(at: str) -> str:
    """A point in time in a few letters, for narrow headings: ``peak``, ``day 1``, ``fair``."""
    return "day 1" if at == "day1" else at


def target_label(label: str, at: str) -> str:
    """A target's label that says which value it reads: ``(at peak)`` appended unless the
    target reads the fair value or the label already names its point in time.

    >>> target_label("brief: 25 bn USD", "peak"), target_label("peak: 25 bn", "peak")
    ('brief: 25 bn USD (at peak)', 'peak: 25 bn')
    >>> target_label("brief: 25 bn USD", "fair"), target_label("B: 1 bn", "day1")
    ('brief: 25 bn USD', 'B: 1 bn (at day 1)')
    """
    if at == "fair" or re.search(rf"\b(?:{_AT_WORDS[at]})\b", label, re.IGNORECASE):
        return label
    return f"{label} (at {at_short(at)})"
