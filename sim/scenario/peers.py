"""``[comparables]``: the peer table a scenario names, read and checked, then fitted.

The table is a CSV file (UTF-8, a header row) with at least the columns of
:data:`COLUMNS`: ``name``, ``as_of`` (the date of the price, ``YYYY-MM-DD``), ``ev`` and
``revenue_ntm`` (USD), ``growth_ntm`` and ``gross_margin`` (fractions), ``venue`` and
``source`` (text); other columns are allowed and ignored unless a regressor names them.
The fit is :mod:`sim.valuation.comparables`'s; this module is the file's side.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import io
import math
import stat
from pathlib import Path

import numpy as np

from sim.errors import ScenarioError, unknown_key_message
from sim.scenario.keys import _DATE_RE, _declare, _list, _str, _Table, _unique
from sim.valuation.comparables import REGRESSORS, Comparables, fit_comparables

__all__ = ["COLUMNS", "MAX_TABLE_BYTES", "read_comparables"]

COLUMNS = ("name", "as_of", "ev", "revenue_ntm", "growth_ntm", "gross_margin", "venue", "source")
"""The columns every peer table has (more are allowed)."""
MAX_TABLE_BYTES = 4 * 2**20
"""The largest peer table read (4 MiB)."""
_TEXT = frozenset({"name", "as_of", "venue", "source"})

_COMPARABLES_KEYS = _declare("comparables", required=("file",), optional=("regressors",))


def read_comparables(
    value: object,
    *,
    folder: Path | None,
    as_of: datetime.date | None,
    listing_date: datetime.date | None,
) -> Comparables:
    """Read ``[comparables]`` and its table, and fit the regression.

    Parameters
    ----------
    value : the ``[comparables]`` table.
    folder : the folder ``file`` is relative to (that of the scenario file that names
        it); ``None`` when the scenario has no file (then ``file`` must be absolute).
    as_of, listing_date : the scenario's dates: a peer priced after ``listing_date`` is
        refused, one priced after ``as_of`` is noted (:attr:`Comparables.after_as_of`).

    Raises
    ------
    ScenarioError
        Naming ``comparables.file`` or ``comparables.regressors``: a missing or
        unreadable file, a missing column, a value that is not a number or a date, a
        non-positive ``ev`` or ``revenue_ntm``, a row dated after the listing, an
        unknown regressor or one with no value on a path, too few usable rows.
    """
    t = _Table(value, "comparables", _COMPARABLES_KEYS)
    file = _str(t.need("file"), t.key("file"))
    regressors = tuple(
        _str(r, f"{t.key('regressors')}[{i}]")
        for i, r in enumerate(_list(t.get("regressors", []), t.key("regressors")))
    )
    t.done()
    if listing_date is None:
        raise ScenarioError(
            "[comparables] needs scenario.listing_date: peers priced up to the listing "
            "are what the book-runners knew, and later rows are refused against it",
            path="scenario.listing_date",
        )
    data = _read_bytes(file, folder, t.key("file"))
    rows, header = _rows(data, file, t.key("file"))
    _unique(list(regressors), t.key("regressors"), "regressor", keyed=False)
    for i, name in enumerate(regressors):
        _check_regressor(name, header, rows, f"{t.key('regressors')}[{i}]", file)
    columns = [REGRESSORS[r].column for r in regressors]
    needed = ("ev", "revenue_ntm", *columns)
    names: list[str] = []
    dates: list[datetime.date] = []
    venues: list[str] = []
    values: list[list[float]] = []
    growth: list[float] = []
    left_out: list[str] = []
    after: list[str] = []
    for line, row in rows:
        where = f"{file} line {line}"
        name = row["name"].strip()
        if not name:
            raise ScenarioError(f"{where}: the peer has no name", path=t.key("file"))
        day = _day(row["as_of"], f"{where} ({name}), column as_of", t.key("file"))
        if day > listing_date:
            raise ScenarioError(
                f"{where} ({name}) is priced on {day.isoformat()}, after the listing on "
                f"{listing_date.isoformat()} (scenario.listing_date): peers priced up to the "
                "listing are what the book-runners knew",
                path=t.key("file"),
            )
        cells: dict[str, float | None] = {
            c: _number(row[c], f"{where} ({name}), column {c}", t.key("file")) for c in needed
        }
        for c in ("ev", "revenue_ntm"):
            cell = cells[c]
            if cell is not None and cell <= 0:
                raise ScenarioError(
                    f"{where} ({name}): {c} must be positive (USD), got {cell:g}",
                    path=t.key("file"),
                )
        missing = [c for c in needed if cells[c] is None]
        if missing:
            left_out.append(f"{name} ({', '.join(missing)})")
            continue
        if as_of is not None and day > as_of:
            after.append(f"{name} ({day.isoformat()})")
        g = _number(row["growth_ntm"], f"{where} ({name}), column growth_ntm", t.key("file"))
        growth.append(math.nan if g is None else g)
        names.append(name)
        dates.append(day)
        venues.append(row["venue"].strip())
        values.append([c for c in (cells[k] for k in needed) if c is not None])
    _unique(names, t.key("file"), f"peer name in {file}", keyed=False)
    table = np.array(values, dtype=np.float64).reshape(len(values), len(needed))
    x = np.column_stack((np.ones(len(values)), table[:, 2:]))
    y = np.log(table[:, 0] / table[:, 1])
    return fit_comparables(
        file=file,
        sha256=hashlib.sha256(data).hexdigest(),
        regressors=regressors,
        names=tuple(names),
        as_of=tuple(dates),
        venue=tuple(venues),
        x=x,
        y=y,
        growth=np.array(growth, dtype=np.float64),
        left_out=tuple(left_out),
        after_as_of=tuple(after),
        path="comparables",
    )


def _read_bytes(file: str, folder: Path | None, path: str) -> bytes:
    target = Path(file)
    if not target.is_absolute():
        if folder is None:
            raise ScenarioError(
                f"{file!r} is relative, but the scenario has no file to be relative to: "
                "give an absolute path",
                path=path,
            )
        target = folder / target
    try:
        info = target.stat()
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(f"{file!r} is not a regular file (looked in {target})", path=path)
        with target.open("rb") as handle:
            data = handle.read(MAX_TABLE_BYTES + 1)
    except FileNotFoundError:
        raise ScenarioError(f"no such file {file!r} (looked for {target})", path=path) from None
    except OSError as err:
        raise ScenarioError(f"cannot read {file!r}: {err.strerror or err}", path=path) from None
    if len(data) > MAX_TABLE_BYTES:
        raise ScenarioError(
            f"{file!r} is larger than {MAX_TABLE_BYTES // 2**20} MiB, the most a peer table "
            "may be",
            path=path,
        )
    return data


def _rows(data: bytes, file: str, path: str) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """The table's rows (with their line numbers) and its header; blank lines skipped."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise ScenarioError(f"{file} is not UTF-8 text ({err.reason})", path=path) from None
    try:
        reader = csv.reader(io.StringIO(text, newline=""))
        lines = list(reader)
    except csv.Error as err:
        raise ScenarioError(f"{file} is not a valid CSV file: {err}", path=path) from None
    if not lines:
        raise ScenarioError(f"{file} is empty: expected a header row", path=path)
    header = [h.strip() for h in lines[0]]
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        raise ScenarioError(
            f"{file} has no column {missing[0]!r} (a peer table has the columns "
            f"{', '.join(COLUMNS)}; it has {', '.join(header)})",
            path=path,
        )
    _unique(header, path, f"column of {file}", keyed=False)
    rows = []
    for number, cells in enumerate(lines[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise ScenarioError(
                f"{file} line {number} has {len(cells)} cells, the header {len(header)}",
                path=path,
            )
        rows.append((number, dict(zip(header, cells, strict=True))))
    return rows, header


def _check_regressor(
    name: str, header: list[str], rows: list[tuple[int, dict[str, str]]], path: str, file: str
) -> None:
    """A regressor is a name of :data:`REGRESSORS` whose column the table has as numbers."""
    if name in REGRESSORS:
        return
    spelled = {r.column: n for n, r in REGRESSORS.items()}
    if name in spelled:
        raise ScenarioError(
            f"{name!r} is the column; the regressor is named {spelled[name]!r}", path=path
        )
    if name in header and name not in _TEXT and _numeric(name, rows):
        raise ScenarioError(
            f"{name!r} is a numeric column of {file} but has no value on a path: the "
            f"regressors with one are {_regressor_list()}",
            path=path,
        )
    raise ScenarioError(
        unknown_key_message(name, REGRESSORS, what="regressor") + f" ({_regressor_list()})",
        path=path,
    )


def _regressor_list() -> str:
    return "; ".join(f"{n} (column {r.column}: {r.path_value})" for n, r in REGRESSORS.items())


def _numeric(column: str, rows: list[tuple[int, dict[str, str]]]) -> bool:
    try:
        return all(math.isfinite(float(row[column])) for _, row in rows if row[column].strip())
    except ValueError:
        return False


def _number(cell: str, where: str, path: str) -> float | None:
    """A finite number, or None for an empty cell (the row is then left out)."""
    text = cell.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ScenarioError(f"{where}: expected a number, got {text!r}", path=path) from None
    if not math.isfinite(value):
        raise ScenarioError(f"{where}: expected a finite number, got {text!r}", path=path)
    return value


def _day(cell: str, where: str, path: str) -> datetime.date:
    text = cell.strip()
    try:
        # fromisoformat also takes 20251205 and week dates; the table promises YYYY-MM-DD.
        if not _DATE_RE.match(text):
            raise ValueError(text)
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise ScenarioError(
            f"{where}: expected a date YYYY-MM-DD, got {text!r}", path=path
        ) from None
