"""Money amounts as users write them ("25亿", "2.5bn", "HK$51B") -> USD, and back.

The project's rule is that an amount is read exactly or rejected, never guessed: the
numeric part is parsed as a :class:`decimal.Decimal`, the scale is applied as an exact
power of ten, and only then is the result rounded (once) to a float. A currency other
than USD is converted with the scenario's ``[fx]`` table (USD per unit); a missing rate
is an error, not an assumption.

Grammar of a money string (surrounding whitespace ignored)::

    [-] [currency mark] [-] number [scale] [currency code or word]

* number: ``1500000``, ``2.5``, ``1,234,567`` (groups of three after the first),
  ``1_000_000`` (one ``_`` between digits, as in Python), ``1.2e9``;
* scale, at most one: ``K``/``k``/``thousand`` (1e3), ``M``/``m``/``mn``/``MM``/``million``
  (1e6), ``B``/``b``/``bn``/``billion`` (1e9), ``T``/``tn``/``trillion`` (1e12),
  ``万`` (1e4), ``亿`` (1e8), ``万亿`` (1e12);
* currency, at most one, before the number (``US$``, ``$``, ``HK$``, ``€``, ``£``, ``¥``,
  ``USD``, ``HKD``, ``RMB``, ...) or after it (``HKD``, ``USD``, ``€``, ``美元``, ``港元``,
  ``人民币``, ``元``, ...); ``¥`` is the yen's mark and the yuan's, so it reads as JPY or
  CNY, whichever of the two ``[fx]`` has a rate for (an error with both or neither);
* ``-`` only where a negative amount is allowed.
"""

from __future__ import annotations

import json
import math
import numbers
import re
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sim.errors import ScenarioError
from sim.format import Currency, money

if TYPE_CHECKING:
    from sim.scenario import Scenario

__all__ = [
    "batch_currency",
    "canonical_currency",
    "format_money",
    "money_and_currency",
    "money_string",
    "parse_fraction",
    "parse_money",
    "reporting_currency",
    "writes_chinese",
]

_EXAMPLES = "70M, 2.5bn, 25亿, HK$51B"

# Currency marks and words that are not ISO codes. "元" means renminbi here because the
# scenarios are about Chinese and Hong Kong listings (the scenario format's contract);
# "¥" is read by _yen_or_yuan.
_CURRENCY_ALIASES: dict[str, str] = {
    "$": "USD",
    "US$": "USD",
    "美元": "USD",
    "HK$": "HKD",
    "港元": "HKD",
    "港币": "HKD",
    "港幣": "HKD",
    "RMB": "CNY",
    "人民币": "CNY",
    "人民幣": "CNY",
    "元": "CNY",
    "€": "EUR",
    "£": "GBP",
}
# "¥" is the yen's mark and the yuan's: an amount written with it is read in whichever
# of JPY and CNY the [fx] table has a rate for, and is an error when it has both or none.
_YEN_OR_YUAN = ("¥", "￥")

# Scales as powers of ten, so that applying one is an exact exponent shift.
_SCALES: dict[str, int] = {
    "K": 3,
    "k": 3,
    "M": 6,
    "m": 6,
    "mn": 6,
    "Mn": 6,
    "MM": 6,
    "B": 9,
    "b": 9,
    "bn": 9,
    "Bn": 9,
    "BN": 9,
    "T": 12,
    "tn": 12,
    "Tn": 12,
    "TN": 12,
    "万": 4,
    "亿": 8,
    "万亿": 12,
}
_SCALE_WORDS: dict[str, int] = {"thousand": 3, "million": 6, "billion": 9, "trillion": 12}

# money_string's units: the spellings it writes, each one the parser reads back.
_UNITS: dict[str, int] = {"": 0, "K": 3, "M": 6, "bn": 9, "T": 12, "万": 4, "亿": 8, "万亿": 12}


def _alternation(words: list[str]) -> str:
    # Longest first, so that "万亿" wins over "万" and "mn" over "m".
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


# A 3-letter code must not run on into more letters ("BHKD" is "B" then "HKD", and
# "MXN" is a code, not "M" followed by junk).
_CODE = r"[A-Z]{3}(?![A-Za-z])"
_PREFIX_RE = re.compile(rf"(US\$|HK\$|\$|¥|￥|€|£|{_CODE})\s*")
_SUFFIX_CURRENCY_RE = re.compile(rf"({_CODE}|美元|港元|港币|港幣|人民币|人民幣|元|€|£)")
_SCALE_RE = re.compile(rf"({_alternation(list(_SCALES))})")
_SCALE_WORD_RE = re.compile(rf"({_alternation(list(_SCALE_WORDS))})(?![A-Za-z])", re.I)
# ASCII digits only: Decimal would also take other scripts' digits, which nobody means.
_NUMBER_RE = re.compile(
    r"""
    (?: [0-9]{1,3}(?:,[0-9]{3})+      # 1,234,567: groups of exactly three
      | [0-9]+(?:_[0-9]+)*            # 1500000 or 1_500_000
    )
    (?:\.[0-9]+(?:_[0-9]+)*)?         # digits both sides of the point, as TOML requires
    (?:[eE][+-]?[0-9]+)?              # 1.2e9
    """,
    re.X,
)
_FRACTION_NUMBER_RE = re.compile(
    r"-?[0-9]+(?:_[0-9]+)*(?:\.[0-9]+(?:_[0-9]+)*)?(?:[eE][+-]?[0-9]+)?"
)


def canonical_currency(code: str) -> str | None:
    """Map a currency mark, code or word to its ISO 4217 code.

    Parameters
    ----------
    code : str
        A mark or code exactly as written, e.g. ``"HK$"``, ``"RMB"``, ``"美元"``.

    Returns
    -------
    str or None
        ``"USD"`` for ``US$``, ``$``, ``USD``, ``美元``; ``"HKD"`` for ``HK$``, ``HKD``,
        ``港元``, ``港币``; ``"CNY"`` for ``RMB``, ``CNY``, ``人民币``, ``元``; ``"EUR"``
        for ``€`` and ``"GBP"`` for ``£``; any
        other three upper-case ASCII letters as themselves; ``None`` for anything else.

    Examples
    --------
    >>> canonical_currency("HK$"), canonical_currency("元"), canonical_currency("EUR")
    ('HKD', 'CNY', 'EUR')
    >>> canonical_currency("usd") is None
    True
    """
    if code in _CURRENCY_ALIASES:
        return _CURRENCY_ALIASES[code]
    if len(code) == 3 and code.isascii() and code.isalpha() and code.isupper():
        return code
    return None


def _describe(value: object) -> str:
    """``value`` as a user would recognise it from the TOML file."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, list | tuple):
        return f"an array {value!r}"
    if isinstance(value, Mapping):
        return f"a table {value!r}"
    if value is None:
        return "nothing (None)"
    if isinstance(value, numbers.Real | Decimal):
        return repr(value)
    return f"{type(value).__name__} {value!r}"


def _expected(value: object) -> str:
    return f"expected a money amount such as {_EXAMPLES}; got {_describe(value)}"


def _count(n: int) -> str:
    return {2: "two", 3: "three"}.get(n, str(n))


def _shift(number: Decimal, places: int) -> Decimal:
    """``number * 10**places``, exactly (no context rounding, unlike ``scaleb``)."""
    sign, digits, exponent = number.as_tuple()
    if not isinstance(exponent, int):  # NaN and infinities never pass the regexes
        raise AssertionError(f"non-finite Decimal {number}")
    return Decimal((sign, digits, exponent + places))


def _to_float(value: object) -> float:
    """A number (see :func:`_is_number`) -> float; inf when too large, nan when unreadable."""
    try:
        return float(value)  # type: ignore[arg-type]  # callers pass numbers only
    except OverflowError:  # an int beyond the float range
        return math.inf
    except ValueError:  # Decimal("sNaN") refuses to convert
        return math.nan


def _number_to_float(value: object, *, path: str, what: str) -> float:
    """A number (see :func:`_is_number`) -> finite float, or ScenarioError."""
    result = _to_float(value)
    if not math.isfinite(result):
        raise ScenarioError(f"expected a finite {what}, got {value!r}", path=path)
    return result


def _is_number(value: object) -> bool:
    # numbers.Real takes numpy scalars and Fraction; bool is an int but never a number
    # here, since `true` in a TOML file is a typo, not 1 USD.
    return not isinstance(value, bool) and isinstance(value, numbers.Real | Decimal)


def _fx_rate(currency: str, fx: Mapping[str, float] | None, *, text: str, path: str) -> float:
    """USD per unit of ``currency`` (an ISO code) from the ``[fx]`` table."""
    if currency == "USD":
        return 1.0
    keys = [currency, "RMB"] if currency == "CNY" else [currency]
    found = [(key, fx[key]) for key in keys if fx is not None and key in fx]
    if not found:
        raise ScenarioError(
            f"no exchange rate for {currency} in {text!r}: add it under [fx] (USD per {currency})",
            path=path,
        )
    rates = []
    for key, rate in found:
        value = _to_float(rate) if _is_number(rate) else math.nan
        if not (math.isfinite(value) and value > 0):
            # The rate's own key is the place to fix, so the error points there.
            raise ScenarioError(
                f"exchange rate for {key} must be a finite number > 0 (USD per {key}), "
                f"got {_describe(rate)}",
                path=f"fx.{key}",
            )
        rates.append(value)
    if len(set(rates)) > 1:
        raise ScenarioError(
            f"[fx] gives two different rates for {currency} "
            f"(CNY = {found[0][1]!r}, RMB = {found[1][1]!r}); keep one",
            path="fx",
        )
    return rates[0]


def parse_money(
    value: object,
    *,
    path: str,
    fx: Mapping[str, float] | None = None,
    allow_negative: bool = False,
) -> float:
    """Read a money amount exactly and return it in USD.

    Parameters
    ----------
    value : object
        An ``int`` or ``float`` (USD), or a string such as ``"70M"``, ``"2.5bn"``,
        ``"25亿"``, ``"7000万"``, ``"US$3B"``, ``"HK$51B"``, ``"51B HKD"``, ``"3亿元"``.
        See the module docstring for the full grammar.
    path : str
        Dotted key path of the value in the scenario, carried by any error.
    fx : Mapping[str, float], optional
        The scenario's ``[fx]`` table: USD per unit of each ISO currency code. ``RMB`` is
        accepted as a key for ``CNY``. Needed only for amounts not in USD.
    allow_negative : bool, default False
        Accept amounts below zero (e.g. net debt written as negative net cash).

    Returns
    -------
    float
        The amount in USD, finite. Exact (the float nearest the written amount) for USD;
        otherwise that float times the exchange rate.

    Raises
    ------
    ScenarioError
        For anything that is not exactly one amount: a bool, a non-finite number, a
        negative amount without ``allow_negative``, a percentage, two scales
        (``"25B亿"``), two currencies (``"US$3B HKD"``), a currency with no (or a bad)
        ``[fx]`` rate, an amount too large for a float, or text that is not a number.

    Examples
    --------
    >>> parse_money("2.5bn", path="x"), parse_money("7000万", path="x")
    (2500000000.0, 70000000.0)
    >>> parse_money("HK$51B", path="x", fx={"HKD": 0.125})
    6375000000.0
    """
    if _is_number(value):
        amount = _number_to_float(value, path=path, what="money amount")
        if amount < 0 and not allow_negative:
            raise ScenarioError(f"expected a non-negative money amount, got {value!r}", path=path)
        return amount + 0.0  # -0.0 -> 0.0, so that zero prints as "0"
    if not isinstance(value, str):
        raise ScenarioError(_expected(value), path=path)
    return _parse_money_text(value, path=path, fx=fx, allow_negative=allow_negative)[0]


def money_and_currency(
    value: object, *, path: str, fx: Mapping[str, float] | None = None
) -> tuple[float, str, float]:
    """Read a money amount as :func:`parse_money` does, and say which currency it was in.

    Returns
    -------
    usd, currency, rate
        The amount in USD, the ISO code it was written in (``"USD"`` for a plain
        number), and that currency's rate (USD per unit, 1 for USD).

    Examples
    --------
    >>> money_and_currency("HK$151", path="x", fx={"HKD": 0.125})
    (18.875, 'HKD', 0.125)
    """
    if not isinstance(value, str):
        return parse_money(value, path=path, fx=fx), "USD", 1.0
    usd, currency = _parse_money_text(value, path=path, fx=fx, allow_negative=False)
    return usd, currency, _fx_rate(currency, fx, text=value, path=path)


def _yen_or_yuan(value: str, fx: Mapping[str, float] | None, *, path: str) -> str:
    """The currency ``¥`` means in ``value``: JPY or CNY, whichever ``[fx]`` has a rate for."""
    keys = set(fx or ())
    found = [code for code, names in (("JPY", {"JPY"}), ("CNY", {"CNY", "RMB"})) if keys & names]
    if len(found) == 1:
        return found[0]
    what = "rates for both" if found else "a rate for neither"
    raise ScenarioError(
        f"{value!r}: '¥' is the yen's mark and the yuan's, and [fx] has {what}; write the "
        "code (JPY or CNY), or give [fx] a rate for only the one you mean",
        path=path,
    )


def _parse_money_text(
    value: str, *, path: str, fx: Mapping[str, float] | None, allow_negative: bool
) -> tuple[float, str]:
    text = value.strip()
    if "%" in text:
        raise ScenarioError(
            f"{value!r} is a percentage, not a money amount; "
            f"expected a money amount such as {_EXAMPLES}",
            path=path,
        )
    negative = False
    pos = 0
    if text.startswith("-"):
        negative, pos = True, 1
    currencies: list[str] = []
    # Collect every leading mark so that "$HK$3" is reported as two currencies rather
    # than as unreadable text.
    while match := _PREFIX_RE.match(text, pos):
        currencies.append(match.group(1))
        pos = match.end()
    if text.startswith("-", pos):
        if negative:
            raise ScenarioError(_expected(value), path=path)
        negative, pos = True, pos + 1
    number = _NUMBER_RE.match(text, pos)
    if number is None:
        raise ScenarioError(_expected(value), path=path)
    pos = number.end()

    scales: list[tuple[str, int]] = []
    after_currency = False
    while pos < len(text):
        if text[pos].isspace():
            pos += 1
            continue
        if match := _SUFFIX_CURRENCY_RE.match(text, pos):
            currencies.append(match.group(1))
            after_currency = True
        elif match := _SCALE_WORD_RE.match(text, pos) or _SCALE_RE.match(text, pos):
            word = match.group(1)
            scales.append((word, _SCALE_WORDS.get(word.lower(), _SCALES.get(word, 0))))
            if after_currency:
                raise ScenarioError(
                    f"{value!r}: the scale ({word!r}) must come before the currency "
                    f"({currencies[-1]!r}), e.g. '51B HKD'",
                    path=path,
                )
        else:
            raise ScenarioError(f"{_expected(value)} (could not read {text[pos:]!r})", path=path)
        pos = match.end()

    if len(scales) > 1:
        names = " and ".join(repr(word) for word, _ in scales)
        raise ScenarioError(
            f"ambiguous amount {value!r}: {_count(len(scales))} scales ({names})", path=path
        )
    if len(currencies) > 1:
        names = " and ".join(repr(c) for c in currencies)
        raise ScenarioError(
            f"ambiguous amount {value!r}: {_count(len(currencies))} currencies ({names})",
            path=path,
        )
    if negative and not allow_negative:
        raise ScenarioError(f"expected a non-negative money amount, got {value!r}", path=path)

    currency = "USD"
    if currencies and currencies[0] in _YEN_OR_YUAN:
        currency = _yen_or_yuan(value, fx, path=path)
    elif currencies:
        iso = canonical_currency(currencies[0])
        # The regexes admit only marks that canonical_currency knows.
        assert iso is not None
        currency = iso
    rate = _fx_rate(currency, fx, text=value, path=path)

    try:
        exact = Decimal(number.group().replace(",", "").replace("_", ""))
        if scales:
            exact = _shift(exact, scales[0][1])
        amount = float(exact)
    except (InvalidOperation, OverflowError, ValueError):
        # Only an exponent beyond what Decimal represents gets here ("1e99999999999999999").
        raise ScenarioError(f"money amount {value!r} is out of range", path=path) from None
    if negative:
        amount = -amount
    usd = amount * rate
    if not math.isfinite(usd):
        raise ScenarioError(
            f"money amount {value!r} is too large (beyond the float range)", path=path
        )
    return usd + 0.0, currency  # "-0" -> 0.0


def parse_fraction(value: object, *, path: str, lo: float = 0.0, hi: float = 1.0) -> float:
    """Read a fraction written as a number or a percentage, checked to lie in ``[lo, hi]``.

    Parameters
    ----------
    value : object
        A number (``0.35``), a percent string (``"35%"``, ``"12.5 %"``, ``"-20%"``) or a
        plain numeric string (``"0.35"``).
    path : str
        Dotted key path of the value in the scenario, carried by any error.
    lo, hi : float, default 0.0 and 1.0
        Inclusive bounds.

    Returns
    -------
    float
        The fraction; a percentage is divided by 100 exactly before rounding to float.

    Raises
    ------
    ScenarioError
        For a bool, a non-finite number, unreadable text, or a value outside
        ``[lo, hi]``.

    Examples
    --------
    >>> parse_fraction("35%", path="x"), parse_fraction("12.5 %", path="x")
    (0.35, 0.125)
    >>> parse_fraction(0.5, path="x", lo=-1.0, hi=1.0)
    0.5
    """
    if _is_number(value):
        result = _number_to_float(value, path=path, what="number")
        shown = repr(value)
    elif isinstance(value, str):
        text = value.strip()
        percent = text.endswith("%")
        digits = text[:-1].rstrip() if percent else text
        if not _FRACTION_NUMBER_RE.fullmatch(digits):
            raise ScenarioError(
                f"expected a fraction such as 0.35 or '35%'; got {_describe(value)}", path=path
            )
        try:
            exact = _shift(Decimal(digits.replace("_", "")), -2 if percent else 0)
            result = float(exact)
        except (InvalidOperation, OverflowError, ValueError):
            result = math.inf
        if not math.isfinite(result):
            raise ScenarioError(f"fraction {value!r} is out of range", path=path)
        shown = f"{value!r} (= {result!r})"
    else:
        raise ScenarioError(
            f"expected a fraction such as 0.35 or '35%'; got {_describe(value)}", path=path
        )
    if not lo <= result <= hi:
        raise ScenarioError(f"expected a value in [{lo:g}, {hi:g}], got {shown}", path=path)
    return result


def format_money(usd: float) -> str:
    """A USD amount for people, with the Chinese 万/亿 reading alongside.

    The money format of every output: :func:`sim.format.money` with ``reading=True``.

    Examples
    --------
    >>> format_money(2.5e9)
    'USD 2.50 bn (25.0亿)'
    >>> format_money(70e6), format_money(30.52e6), format_money(710e6)
    ('USD 70.0 M (7000万)', 'USD 30.5 M (3052万)', 'USD 710.0 M (7.10亿)')
    >>> format_money(950_000), format_money(512), format_money(-2.5e9)
    ('USD 950 K (95.0万)', 'USD 512', '-USD 2.50 bn (-25.0亿)')
    >>> format_money(float("nan")), format_money(-float("inf"))
    ('USD nan', '-USD inf')
    """
    return money(usd, reading=True)


def money_string(usd: float, unit: str) -> str:
    """Write a USD amount as an exact string in one unit, which :func:`parse_money` reads back.

    The digits are those of ``repr(usd)`` (the shortest decimal that round-trips the
    float) with the decimal point moved by the unit's power of ten, so the round trip
    ``parse_money(money_string(x, u), path="", allow_negative=True) == x`` is exact.

    Parameters
    ----------
    usd : float
        A finite amount in USD.
    unit : str
        One of ``""``, ``"K"``, ``"M"``, ``"bn"``, ``"T"``, ``"万"``, ``"亿"``, ``"万亿"``.

    Returns
    -------
    str
        E.g. ``"2.5bn"``, ``"25亿"``, ``"70M"``.

    Raises
    ------
    ValueError
        If ``usd`` is not finite or ``unit`` is not one of the above; these are
        programming errors, not a user's (the values come from code, not a scenario).

    Examples
    --------
    >>> money_string(2.5e9, "bn"), money_string(2.5e9, "亿"), money_string(70e6, "万")
    ('2.5bn', '25亿', '7000万')
    """
    if unit not in _UNITS:
        raise ValueError(f"unknown unit {unit!r}; expected one of {sorted(_UNITS)}")
    if not math.isfinite(usd):
        raise ValueError(f"cannot write a non-finite amount ({usd!r}) as money")
    # + 0.0 turns -0.0 into 0.0, which parse_money reads without allow_negative.
    scaled = _shift(Decimal(repr(float(usd) + 0.0)), -_UNITS[unit]).normalize()
    # Fixed-point reads best; only extreme magnitudes fall back to an exponent, which the
    # parser also reads.
    digits = format(scaled, "f") if -30 <= scaled.adjusted() <= 30 else str(scaled)
    return f"{digits}{unit}"


def writes_chinese(raw: Mapping[str, Any]) -> bool:
    """Whether a scenario, as written (after ``extends``), writes 亿 or 万 anywhere."""
    written = json.dumps(raw, sort_keys=True, ensure_ascii=False, default=str)
    return "亿" in written or "万" in written


def reporting_currency(scenario: Scenario) -> Currency:
    """The currency a scenario's outputs are in (``[scenario] currency``), with the 万/亿
    reading only where the scenario writes 亿 or 万."""
    return Currency(scenario.currency, scenario.usd_per_unit, writes_chinese(scenario.raw))


def batch_currency(scenarios: Iterable[Scenario]) -> Currency:
    """The currency a comparison is in: the first (the reference) scenario's, whatever
    the others'; the 万/亿 reading where any of them writes 亿 or 万."""
    listed = list(scenarios)
    first = reporting_currency(listed[0])
    chinese = any(writes_chinese(s.raw) for s in listed)
    return Currency(first.code, first.usd_per_unit, chinese)
