"""``summary.xlsx``: a run as a workbook, every number a number with its number format.

Sheets: ``summary`` (provenance and the equity value's moments), ``quantiles`` (each
metric's quantiles, revenue by year), ``targets``, ``regimes``, ``sensitivity``,
``pricing`` (the pricing grid, as summary.json's ``pricing``), ``inputs`` (the scenario
as read: each key path of the resolved TOML and its value as written) and ``paths`` (the
first :data:`SAMPLE_ROWS` kept paths: the model's outputs and the random inputs drawn).
Money is in the run's reporting currency (``[scenario] currency``, USD by default, the
code in each money column's header), converted at its ``[fx]`` rate as summary.json's
money is; the offer price and the pricing grid's first price column are per share in the
offer currency their header names. A number the run could not define (NaN, an empty
regime) is an empty cell: a spreadsheet has no NaN.

openpyxl is an optional dependency (``pip install "ipo-sim[xlsx]"``): this module imports
it when it writes, and :func:`sim.output.run_folder.check_formats` refuses ``xlsx`` before any
simulation where it is missing.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim.serial import serialise
from sim.stats import QUANTILE_LEVELS

if TYPE_CHECKING:
    from sim.analysis.summary import Summary
    from sim.run.engine import Result

__all__ = ["SAMPLE_ROWS", "SHEETS", "write_workbook"]

#: Rows of the ``paths`` sheet at most (the first kept paths).
SAMPLE_ROWS = 2_000
#: The sheets, in order.
SHEETS = (
    "summary",
    "quantiles",
    "targets",
    "regimes",
    "sensitivity",
    "pricing",
    "inputs",
    "paths",
)
# Number formats (Excel's codes).
USD = "#,##0"
PRICE = "#,##0.00"
PROB = "0.00%"
SHARE = "0.0%"
RATIO = "0.00"
MULTIPLE = '0.0"x"'
INT = "#,##0"
TEXT = "@"

Cell = float | int | str | bool | None


def write_workbook(result: Result, summary: Summary, path: Path) -> Path:
    """Write ``summary.xlsx`` for one run at ``path`` and return ``path``.

    Parameters
    ----------
    result : Result
        The run: its scenario (the ``inputs`` sheet) and kept paths (``paths``).
    summary : Summary
        ``summarise(result)``: every other sheet, the same numbers as summary.json.
    path : Path
        The file to write (in the run's temporary folder: it is swapped in whole).
    """
    from openpyxl import Workbook

    # Write-only: rows are streamed, several times faster than cells set one by one.
    book = Workbook(write_only=True)
    writers: dict[str, Callable[[Any], None]] = {
        "summary": lambda sheet: _summary_sheet(sheet, summary),
        "quantiles": lambda sheet: _quantiles_sheet(sheet, summary),
        "targets": lambda sheet: _targets_sheet(sheet, summary),
        "regimes": lambda sheet: _regimes_sheet(sheet, summary),
        "sensitivity": lambda sheet: _sensitivity_sheet(sheet, summary),
        "pricing": lambda sheet: _pricing_sheet(sheet, summary),
        "inputs": lambda sheet: _inputs_sheet(sheet, result.scenario.raw),
        "paths": lambda sheet: _paths_sheet(sheet, result),
    }
    assert tuple(writers) == SHEETS
    for name, write in writers.items():
        write(book.create_sheet(name))
    book.save(path)
    return path


# --------------------------------------------------------------------------- writing


def _cell(value: object) -> Cell:
    """A value as a cell: numbers stay numbers (numpy's too), NaN and inf are empty."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    return str(value)


class _Sheet:
    """Rows appended to a write-only sheet, each cell with its number format."""

    def __init__(self, sheet: Any) -> None:
        self.sheet = sheet

    def header(self, headers: Sequence[str]) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Font

        bold = Font(bold=True)
        cells = []
        for h in headers:
            c = WriteOnlyCell(self.sheet, value=h)
            c.font = bold
            cells.append(c)
        self.sheet.append(cells)

    def row(self, values: Sequence[object], formats: Sequence[str | None]) -> None:
        from openpyxl.cell import WriteOnlyCell

        cells = []
        for value, fmt in zip(values, formats, strict=True):
            c = WriteOnlyCell(self.sheet, value=_cell(value))
            if fmt is not None:
                c.number_format = fmt
            cells.append(c)
        self.sheet.append(cells)

    def blank(self) -> None:
        self.sheet.append([])


def _start(sheet: Any, headers: Sequence[str], first_width: int | None = None) -> _Sheet:
    """The sheet begun: column widths from the headers, the first column ``first_width``
    wide if given (a write-only sheet takes them before any row), the first row frozen
    and written as the bold header row."""
    from openpyxl.utils import get_column_letter

    for j, header in enumerate(headers, start=1):
        width = min(max(len(header) + 2, 12), 60)
        if j == 1 and first_width is not None:
            width = first_width
        sheet.column_dimensions[get_column_letter(j)].width = width
    sheet.freeze_panes = "A2"
    out = _Sheet(sheet)
    out.header(headers)
    return out


def _table(
    sheet: Any,
    columns: Sequence[tuple[str, str | None]],
    rows: Iterable[Sequence[object]],
    first_width: int | None = None,
) -> None:
    """A sheet that is one table: a header row, then ``rows``; ``columns`` gives each
    column's (header, number format or None)."""
    out = _start(sheet, [h for h, _ in columns], first_width)
    formats = [f for _, f in columns]
    for row in rows:
        out.row(row, formats)


def _q(levels: Sequence[float]) -> list[str]:
    return [f"q{level:g}" for level in levels]


# --------------------------------------------------------------------------- sheets


class _Money:
    """A run's reporting currency: USD amounts converted, and the code for headers."""

    def __init__(self, summary: Summary) -> None:
        self.code = summary.currency
        self.usd_per_unit = summary.usd_per_unit

    def __call__(self, usd: float | None) -> float | None:
        return None if usd is None else usd / self.usd_per_unit

    def all(self, usd: Iterable[float | None]) -> list[float | None]:
        return [self(x) for x in usd]


def _summary_sheet(sheet: Any, summary: Summary) -> None:
    run, equity, m = summary.run, summary.equity, _Money(summary)
    rows: list[tuple[str, object, str | None]] = [
        (key, value, INT if key in ("paths", "workers", "stratified_paths") else None)
        for key, value in serialise(run).items()
    ]
    rows += [
        ("reporting currency", m.code, None),
        ("valuation year", equity.year, None),
        (f"equity value mean ({m.code})", m(equity.mean), USD),
        (f"equity value sd ({m.code}; ddof=1, over every path)", m(equity.sd), USD),
        (f"equity value se of the mean ({m.code})", m(equity.se), USD),
    ]
    if summary.value_per_share is not None:
        v = summary.value_per_share
        rows += [
            (f"value per share mean ({m.code})", m(v.mean), PRICE),
            ("P(value per share >= offer low)", v.p_at_least_offer_low, PROB),
            ("P(value per share >= offer high)", v.p_at_least_offer_high, PROB),
        ]
    if summary.offer_price is not None:
        o = summary.offer_price
        rows += [
            (f"offer price mean ({o.currency})", o.mean, PRICE),
            ("share of paths priced at the range's low", o.p_at_low, PROB),
            ("share of paths priced at the range's high", o.p_at_high, PROB),
        ]
    if summary.first_day_return is not None:
        f = summary.first_day_return
        rows += [
            ("first-day return mean", f.mean, PROB),
            ("P(day-1 close >= offer price)", f.p_at_least_offer, PROB),
        ]
    out = _start(sheet, ["field", "value"], first_width=48)
    for key, value, fmt in rows:
        out.row([key, value], [None, fmt])


def _quantiles_sheet(sheet: Any, summary: Summary) -> None:
    levels = QUANTILE_LEVELS
    m = _Money(summary)
    # The equity value's rows are money (the reporting currency's format); the offer
    # price's per share in the offer currency; the first-day return a fraction.
    rows: list[tuple[str, str, str, float | None, Sequence[float | None]]] = [
        (
            "equity value",
            m.code,
            USD,
            m(summary.equity.mean),
            m.all(summary.equity.quantiles.values),
        )
    ]
    for mv in summary.market_value:
        rows.append(
            (f"market value at {mv.at}", m.code, USD, m(mv.mean), m.all(mv.quantiles.values))
        )
    if summary.value_per_share is not None:
        v = summary.value_per_share
        rows.append(("value per share", m.code, PRICE, m(v.mean), m.all(v.quantiles.values)))
    if summary.offer_price is not None:
        o = summary.offer_price
        rows.append(("offer price", o.currency, PRICE, o.mean, o.quantiles.values))
    if summary.first_day_return is not None:
        f = summary.first_day_return
        rows.append(("first-day return", "fraction", PROB, f.mean, f.quantiles.values))
    if summary.methods is not None:
        for name, e in (("multiple", summary.methods.multiple), ("dcf", summary.methods.dcf)):
            rows.append(
                (f"equity value by {name}", m.code, USD, m(e.mean), m.all(e.quantiles.values))
            )
    headers = ["metric", "unit", "mean", *_q(levels)]
    out = _start(sheet, headers, first_width=28)
    for metric, unit, fmt, mean, values in rows:  # each row in its unit's format
        out.row([metric, unit, mean, *values], [None, None, *[fmt] * (1 + len(values))])
    out.blank()
    out.header(
        ["revenue year", *(f"{col} ({m.code})" for col in ("p5", "p50", "p95", "mean", "se"))]
    )
    for y in summary.revenue:
        out.row([y.year, *m.all((y.p5, y.p50, y.p95, y.mean, y.se))], [None, *[USD] * 5])


def _targets_sheet(sheet: Any, summary: Summary) -> None:
    m = _Money(summary)
    columns = [
        ("label", None),
        (f"value ({m.code})", USD),
        ("as written", TEXT),
        ("at", None),
        ("P(value >= target)", PROB),
        ("95% low", PROB),
        ("95% high", PROB),
        ("se", PROB),
    ]
    _table(
        sheet,
        columns,
        (
            (t.label, m(t.value_usd), t.written, t.at, t.p_at_least, *t.ci95, t.se)
            for t in summary.targets
        ),
        first_width=56,
    )


def _regimes_sheet(sheet: Any, summary: Summary) -> None:
    levels = QUANTILE_LEVELS
    m = _Money(summary)
    columns = [
        ("regime", None),
        ("weight", SHARE),
        ("P(regime)", PROB),
        ("95% low", PROB),
        ("95% high", PROB),
        ("se", PROB),
        (f"mean equity value ({m.code})", USD),
        ("kept paths", INT),
        *[(f"equity value q{q:g} ({m.code})", USD) for q in levels],
    ]
    rows = []
    for g in summary.regimes:
        values = m.all(g.quantiles.values) if g.quantiles is not None else [None] * len(levels)
        rows.append((g.name, g.weight, g.p, *g.ci95, g.se, m(g.mean), g.kept_paths, *values))
    _table(sheet, columns, rows)


def _sensitivity_sheet(sheet: Any, summary: Summary) -> None:
    m = _Money(summary)
    columns = [
        ("input", None),
        ("first-order index", RATIO),
        ("95% low", RATIO),
        ("95% high", RATIO),
        (f"mean value, bottom decile ({m.code})", USD),
        (f"mean value, top decile ({m.code})", USD),
        ("rank correlation", RATIO),
    ]
    _table(
        sheet,
        columns,
        (
            (s.input, s.first_order, *s.first_order_ci95, *m.all(s.swing_usd), s.rank_correlation)
            for s in summary.sensitivity
        ),
        first_width=40,
    )


def _pricing_sheet(sheet: Any, summary: Summary) -> None:
    currency = summary.pricing[0].currency if summary.pricing else ""
    m = _Money(summary)
    # The first price is the deal's own, in the offer currency; the second and the
    # amounts in the reporting currency (USD unless the scenario names another).
    columns = [
        (f"price ({currency})" if currency else "price", PRICE),
        (f"price ({m.code})", PRICE),
        ("in range", None),
        (f"market value ({m.code})", USD),
        (f"net proceeds ({m.code})", USD),
        (f"implied EV ({m.code})", USD),
        ("implied EV/sales", MULTIPLE),
        ("P(fair value per share >= price)", PROB),
        ("95% low", PROB),
        ("95% high", PROB),
        ("se", PROB),
        ("implied target margin", SHARE),
    ]
    _table(
        sheet,
        columns,
        (
            (
                p.price,
                m(p.price_usd),
                p.in_range,
                m(p.market_value_usd),
                m(p.net_proceeds_usd),
                m(p.implied_ev_usd),
                p.implied_ev_to_sales,
                p.p_fair_at_least,
                *p.ci95,
                p.se,
                p.implied_target_margin,
            )
            for p in summary.pricing
        ),
    )


def _inputs_sheet(sheet: Any, raw: Mapping[str, Any]) -> None:
    _table(sheet, [("key", None), ("value as written", None)], _flatten(raw, ""), 48)


def _flatten(data: object, path: str) -> list[tuple[str, object]]:
    """Each leaf of a TOML document as (key path, value); entries of an array of tables
    are named by their ``name`` (or ``label``) as error messages name them."""
    if isinstance(data, Mapping):
        out: list[tuple[str, object]] = []
        for key, value in data.items():
            out += _flatten(value, f"{path}.{key}" if path else str(key))
        return out
    if isinstance(data, list) and data and all(isinstance(v, Mapping) for v in data):
        out = []
        for i, entry in enumerate(data):
            label = entry.get("name", entry.get("label"))
            sub = f"{path}.{label}" if isinstance(label, str) and label else f"{path}[{i}]"
            out += _flatten(entry, sub)
        return out
    if isinstance(data, list):
        if all(isinstance(v, int | float | str | bool) for v in data):
            return [(f"{path}[{i}]", v) for i, v in enumerate(data)] if data else [(path, "[]")]
        out = []
        for i, v in enumerate(data):
            out += _flatten(v, f"{path}[{i}]")
        return out
    if isinstance(data, int | float | str | bool):
        return [(path, data)]
    return [(path, str(data))]  # dates and times, as TOML wrote them


def _paths_sheet(sheet: Any, result: Result) -> None:
    kept = result.kept
    n = min(kept.n, SAMPLE_ROWS)
    v = kept.values
    scenario = result.scenario
    columns: list[tuple[str, str | None]] = [("path", INT)]
    data: list[Sequence[object]] = [range(n)]

    def add(header: str, fmt: str | None, values: Any) -> None:
        if values is not None:
            columns.append((header, fmt))
            data.append(np.asarray(values)[:n].tolist())

    code, usd_per_unit = result.scenario.currency, result.scenario.usd_per_unit

    def money(header: str, fmt: str, values: Any) -> None:
        # A USD amount per path, in the reporting currency.
        if values is not None:
            add(f"{header} ({code})", fmt, np.asarray(values)[:n] / usd_per_unit)

    money("equity value", USD, v.equity)
    money("equity value, shocks off", USD, v.equity_unshocked)
    money("value per share", PRICE, v.value_per_share)
    money("offer price", PRICE, v.offer_price_usd)
    money("market value at offer", USD, v.market_value_offer)
    money("market value day 1", USD, v.market_value_day1)
    money("market value at end", USD, v.market_value_end)
    money("market value at peak", USD, v.market_value_peak)
    add("first-day return", PROB, v.first_day_return)
    money("equity value by dcf", USD, v.equity_dcf)
    money("equity value by multiple", USD, v.equity_multiple)
    add("EV/sales multiple", MULTIPLE, v.multiple)
    years = (scenario.base_year, *scenario.years)
    for k, year in enumerate(years):
        money(f"revenue {year}", USD, v.revenue[:n, k])
    add("HHI", RATIO, v.hhi)
    add("top region share", SHARE, v.top_region_share)
    if v.regime is not None:
        names = [r.name for r in scenario.regimes]
        columns.append(("regime", None))
        data.append([names[int(i)] for i in v.regime[:n]])
    for j, shock in enumerate(scenario.shocks):
        add(f"shock {shock.name} (an event)", None, v.shock_any[:n, j])
    for name, values in kept.inputs.items():
        add(f"input {name}", None, values)
    _table(sheet, columns, zip(*data, strict=True))
