"""What the terminal shows: the tables ``ipo-sim`` prints after a run, a check, a
comparison or a sweep (part of the command, :mod:`sim.cli`, the only place that prints)."""

from __future__ import annotations

import io
import re
import unicodedata
from typing import TYPE_CHECKING, Any, TextIO

from sim import format as fmt

if TYPE_CHECKING:
    from sim.analysis.summary import Methods, Summary, TargetEstimate
    from sim.scenario import Scenario
    from sim.studies.attribution import Attribution
    from sim.studies.compare import Comparison
    from sim.valuation import Valuation


_DATES = (("information as of", "as_of"), ("values at listing on", "listing_date"))


def _one_line(text: str) -> str:
    return visible(" ".join(text.split()))


# Control characters (C0 but tab and newline, DEL, C1) and the bidirectional overrides
# that reorder what a terminal shows: a description or label could carry terminal
# escapes (clear the screen, retitle the window, fake a line) or a NUL.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def visible(text: str) -> str:
    """``text`` with every control character written as an escape (``\\u001b``), which
    a terminal shows rather than obeys (and JSON reads back as the same character)."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class VisibleText(io.TextIOBase):
    """A text stream that writes through :func:`visible` to ``inner`` (stdout, stderr).

    Newlines and tabs pass; so does a carriage return when ``returns`` is true (stderr's
    progress lines redraw with it).
    """

    def __init__(self, inner: TextIO, *, returns: bool = False) -> None:
        self.inner = inner
        self._returns = returns

    def write(self, text: str) -> int:
        if self._returns:
            self.inner.write("\r".join(visible(part) for part in text.split("\r")))
        else:
            self.inner.write(visible(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return self.inner.isatty()

    def close(self) -> None:
        """Nothing: the stream it writes to is not its own to close."""

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.inner.encoding


def _count(n: int, noun: str) -> str:
    """``1 file``, ``2 files``; ``1 worker process``, ``2 worker processes``."""
    if n == 1:
        return f"1 {noun}"
    return f"{n:,} {noun}{'es' if noun.endswith('s') else 's'}"


def _print_comparables(c: dict[str, Any], as_of: str | None, out: TextIO) -> None:
    """The ``comparables`` block of ``show``: the fit, each coefficient's interval, notes."""
    on = ", ".join(f"{name} (column {r['column']})" for name, r in c["regressors"].items())
    print(
        f"comparables: {c['file']} (sha256 {c['sha256'][:12]}): {c['n']} peers, "
        f"log(ev / revenue_ntm) on an intercept{' and ' + on if on else ''}; "
        f"df {c['df']}, residual sd {c['residual_sd']:.3f}, R^2 {c['r2']:.2f}",
        file=out,
    )
    for k in c["coefficients"]:
        lo, hi = k["ci90"]
        print(
            f"  {k['term']}: {k['estimate']:.3f} (se {k['se']:.3f}; 90% {lo:.3f} to {hi:.3f})",
            file=out,
        )
    if c["left_out"]:
        print(f"  left out (a value missing): {'; '.join(c['left_out'])}", file=out)
    if c["after_as_of"]:
        print(
            f"  note: priced after as_of {as_of} (before the listing): "
            + "; ".join(c["after_as_of"]),
            file=out,
        )


def _print_sweep(sweep: Any, out: TextIO) -> None:
    print(
        f"sweep of {sweep.scenario}: {_count(len(sweep.points), 'point')}, "
        f"{sweep.paths:,} paths each, seed {sweep.seed} (paired)",
        file=out,
    )
    rows = [
        [
            *(k.path for k in sweep.keys),
            "median value",
            *(
                f"P>={fmt.money(v, short=True)}" + ("" if at == "fair" else f" @{at}")
                for _, v, at in sweep.targets
            ),
        ]
    ]
    for p in sweep.points:
        rows.append(
            [
                *(k.written[j] for k, j in zip(sweep.keys, p.index, strict=True)),
                fmt.money(p.median_usd, short=True),
                *(fmt.pct(x) for x in p.p_at_least),
            ]
        )
    widths = [max(_width(r[j]) for r in rows) for j in range(len(rows[0]))]
    for r in rows:
        print("  " + "  ".join(_rjust(c, w) for c, w in zip(r, widths, strict=True)), file=out)


def _print_scenario(scenario: Scenario, out: TextIO) -> None:
    data = scenario.to_dict()
    sc = data["scenario"]
    print(f"scenario {sc['name']}  (sha256 {sc['sha256'][:12]})", file=out)
    if sc["description"]:
        print(f"  {_one_line(sc['description'])}", file=out)
    print(
        f"  base year {sc['base_year']}, simulated {sc['years'][0]}..{sc['years'][-1]}", file=out
    )
    dates = [(what, sc[key]) for what, key in _DATES if sc[key] is not None]
    if dates:
        print("  " + ", ".join(f"{what} {day}" for what, day in dates), file=out)
    if data["fx"]:
        fx = ", ".join(f"1 {k} = {fmt.input_number(v)} USD" for k, v in data["fx"].items())
        print(f"  fx: {fx}", file=out)
    print("segments:", file=out)
    for s in data["segments"]:
        print(
            f"  {s['name']}: revenue {fmt.parameters(s['revenue'], money_values=True)}; "
            f"growth {fmt.parameters(s['growth'])}; fade {fmt.input_number(s['fade'])}, "
            f"terminal {fmt.input_number(s['terminal_growth'])}, volatility "
            f"{fmt.input_number(s['volatility'])}"
            + (f"; booked {fmt.money(s['booked'])}" if s["booked"] is not None else ""),
            file=out,
        )
        print(
            "    regions "
            + ", ".join(f"{r} {w:.1%}" for r, w in s["regions"].items())
            + (
                f" (Dirichlet kappa {s['region_concentration']:g})"
                if s["region_concentration"]
                else ""
            ),
            file=out,
        )
    for k in data["shocks"]:
        rec = k["recovery_years"]
        rec_text = rec if isinstance(rec, str) else fmt.parameters(rec) + " years"
        print(
            f"shock {k['name']}: {', '.join(k['regions'])} x {', '.join(k['segments'])}; "
            f"p/year {fmt.parameters(k['annual_probability'])}; severity "
            f"{fmt.parameters(k['severity'])}; recovery {rec_text}"
            + (f"; max {k['max_events']}" if k["max_events"] else "")
            + (f"; multiple hit {k['multiple_hit']:.0%}" if k["multiple_hit"] else ""),
            file=out,
        )
    v = data["valuation"]
    how = scenario.valuation.describe(lambda d: fmt.parameters(d.to_dict()))
    deal = scenario.offering is not None and scenario.offering.deal is not None
    proceeds = (
        "from the offering (net of fees, at the offer price)"
        if deal
        else fmt.parameters(v["ipo_proceeds_usd"], money_values=True)
    )
    print(
        f"valuation: {v['method']} at {how}; "
        f"net cash {fmt.parameters(v['net_cash_usd'], money_values=True)}; IPO proceeds "
        f"{proceeds}",
        file=out,
    )
    if data["comparables"] is not None:
        _print_comparables(data["comparables"], sc["as_of"], out)
    # Every other table the scenario sets, key by key as it resolved (new keys included).
    for table in _GENERIC_TABLES:
        if data.get(table):
            print(f"{table}: {_table_text(data[table])}", file=out)
    for t in data["targets"]:
        print(
            f"target {t['label']!r}: {fmt.money(t['value_usd'], reading=True)}  "
            f"(written {t['written']})",
            file=out,
        )
    for r in data["regimes"]:
        overrides = "; ".join(
            f"{name} {fmt.parameters(d, money_values=name in _MONEY_INPUTS)}"
            for name, d in r["overrides"].items()
        )
        print(
            f"regime {r['name']}: weight {fmt.input_number(r['weight'])}"
            + (f"; {overrides}" if overrides else ""),
            file=out,
        )
    for c in data["correlations"]:
        print(
            f"correlation {c['between'][0]} ~ {c['between'][1]}: spearman "
            f"{fmt.input_number(c['spearman'])}",
            file=out,
        )
    for e in data["expect"]:
        print(f"expect {e['text']}", file=out)
    sim = data["simulation"]
    print(
        f"simulation: {sim['paths']:,} paths, seed {sim['seed']}, sampler {sim['sampler']}",
        file=out,
    )


def _print_methods(methods: Methods, out: TextIO) -> None:
    """Method ``both``: the value beside the primary, and their ratio."""
    other, name = (
        (methods.dcf, "the DCF")
        if methods.primary == "multiple"
        else (methods.multiple, "the multiple")
    )
    q, r = other.quantiles, methods.ratio
    print(
        f"  beside it, by {name}: p5 {fmt.money(q.p5, reading=True)} | "
        f"p50 {fmt.money(q.median, reading=True)} | p95 {fmt.money(q.p95, reading=True)}",
        file=out,
    )
    print(
        f"    DCF / multiple, path by path: p5 ×{fmt.number(r.p5, 2)} | "
        f"p50 ×{fmt.number(r.median, 2)} | p95 ×{fmt.number(r.p95, 2)}",
        file=out,
    )


#: Scalar inputs whose parameters are money (shown as amounts by ``show``).
_MONEY_INPUTS = frozenset({"valuation.net_cash", "valuation.ipo_proceeds"})
#: Tables of ``Scenario.to_dict()`` that ``show`` prints key by key.
_GENERIC_TABLES = ("offering", "aftermarket")


def _table_text(table: dict[str, Any]) -> str:
    """``key value; key value`` for a resolved table: distributions as written, amounts in
    USD (``*_usd`` keys) as money, counts with separators; unset keys left out."""
    parts = []
    for key, value in table.items():
        money = key.endswith("_usd")
        name = key.removesuffix("_usd") + (" (USD)" if money else "")
        if value is None or value == []:
            continue
        parts.append(f"{name} {_value_text(value, money=money)}")
    return "; ".join(parts)


def _value_text(value: Any, *, money: bool) -> str:
    if isinstance(value, dict) and "dist" in value:
        return fmt.parameters(value, money_values=money)
    if isinstance(value, list):
        return " .. ".join(_value_text(v, money=money) for v in value)
    if isinstance(value, bool | str):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return (
            fmt.money(value, short=True)
            if money and abs(value) >= 1e5
            else fmt.input_number(value)
        )
    return str(value)


def _print_summary(summary: Summary, out: TextIO, *, valuation: Valuation) -> None:
    from sim.run.sampling import BLOCK_SIZE
    from sim.valuation.both import mean_is_finite

    run, equity = summary.run, summary.equity
    q = equity.quantiles
    print(
        f"{run.scenario}: {run.paths:,} paths, seed {run.seed}, {run.sampler} sampler, "
        f"{run.elapsed_s:.1f} s",
        file=out,
    )
    print(
        f"  equity value at listing ({valuation.describe()}): median "
        f"{fmt.money(q.median, reading=True)}",
        file=out,
    )
    # exp of a Student t (a peer multiple) has no finite mean: the sample's is noise.
    mean = fmt.money(equity.mean, reading=True)
    if not mean_is_finite(valuation):
        # The sample's mean is summary.json's; printed, it would read as a figure.
        mean = "none (the peer multiple is exp of a t: no finite mean; read the quantiles)"
    print(
        f"    p5 {fmt.money(q.p5, reading=True)} | "
        f"p50 {fmt.money(q.median, reading=True)} | p95 {fmt.money(q.p95, reading=True)} | "
        f"mean {mean}",
        file=out,
    )
    if summary.methods is not None:
        _print_methods(summary.methods, out)
    for r in summary.regimes:
        median = fmt.money(r.quantiles.median, reading=True) if r.quantiles else "-"
        print(
            f"  regime {r.name}: P {fmt.pct(r.p)} {fmt.interval(*r.ci95)}, median value {median}",
            file=out,
        )
    if summary.pricing:
        _print_pricing(summary, out)
    if summary.targets:
        width = max(_width(_target_label(t)) for t in summary.targets)
        print(
            f"  {_ljust('target', width)}  {'value':>12}  {'P(value >= target)':>18}  "
            "95% interval",
            file=out,
        )
        for t in summary.targets:
            lo, hi = t.ci95
            print(
                f"  {_ljust(_target_label(t), width)}  {fmt.money(t.value_usd):>12}  "
                f"{fmt.pct(t.p_at_least):>18}  {fmt.interval(lo, hi)}",
                file=out,
            )
    for e in summary.expectations:
        print(f"  expect {e.status}: {e.expectation.text}", file=out)
    if run.sampler != "random" and run.stratified_paths < run.paths:
        print(
            f"  note: {run.sampler} stratifies whole blocks of {BLOCK_SIZE:,} paths; "
            f"{run.paths - run.stratified_paths:,} of these paths are a random subset of a "
            "block's design (use a multiple of the block for full stratification)",
            file=out,
        )
    precision = summary.precision
    if precision is not None:
        state = "reached" if precision.reached else "NOT reached (raise --paths)"
        print(
            f"  precision {precision.requested:g} {state}: largest 95% half-width "
            f"{precision.max_half_width:.4g} at {run.paths:,} paths",
            file=out,
        )
    for w in summary.warnings:
        print(f"  warning: {w.message}", file=out)


#: The widest line and the most lines the comparison table of a batch prints.
_MAX_WIDTH = 200
_MAX_LINES = 60


def _summary_line(summary: Summary, suffix: str = "") -> str:
    """One scenario of a batch in one line of at most :data:`_MAX_WIDTH` columns: its
    median value, P(value >= each target read at fair value), as many as fit, and its
    expectations' outcomes; ``suffix`` (where its files went) closes the line."""
    head = f"{summary.run.scenario}: median {fmt.money(summary.equity.quantiles.median)}"
    tail = []
    if summary.expectations:
        statuses = [e.status for e in summary.expectations]
        counts = [
            f"{statuses.count(s)} {s.upper() if s == 'failed' else s}"
            for s in ("passed", "failed", "inconclusive")
            if s in statuses
        ]
        tail.append("expect " + ", ".join(counts))
    if suffix:
        tail.append(suffix)
    fair = [
        f"{fmt.money(t.value_usd, short=True)} {fmt.pct(t.p_at_least)}"
        for t in summary.targets
        if t.at == "fair"
    ]
    for shown in range(len(fair), -1, -1):
        more = f" (+{len(fair) - shown} in summary.txt)" if shown < len(fair) else ""
        targets = ["P(value >=) " + ", ".join(fair[:shown]) + more] if shown else []
        line = "; ".join([head, *targets, *tail])
        if _width(line) <= _MAX_WIDTH or not shown:
            return line
    return "; ".join([head, *tail])


def _column(value: float, at: str) -> str:
    """A target's column heading: ``2.5 bn``, ``peak 25 bn``."""
    return ("" if at == "fair" else fmt.at_short(at) + " ") + fmt.money(value, short=True)


def _print_comparison(comparison: Comparison, out: TextIO) -> None:
    """The comparison as a table that fits a screen: a row per scenario, a column per
    target (its probability, and below the reference the change in points), at most
    :data:`_MAX_WIDTH` wide and about :data:`_MAX_LINES` long; what does not fit is
    named, and is in ``comparison.json`` and the PDF."""
    names = comparison.names
    how = "paired paths (common random numbers)" if comparison.paired else "independent runs"
    print(
        f"comparison of {', '.join(names)}: differences from {comparison.reference}, {how}"
        if _width(", ".join(names)) <= 120
        else f"comparison of {_count(len(names), 'scenario')}: differences from "
        f"{comparison.reference}, {how}",
        file=out,
    )
    shown_rows = min(len(names), _MAX_LINES - 8)
    rows = [["scenario", "median", *(_column(t.value_usd, t.at) for t in comparison.targets)]]
    for i, name in enumerate(names[:shown_rows]):
        q = comparison.runs[i].quantiles
        row = [
            name + (" (reference)" if i == 0 else ""),
            "-" if q is None else fmt.money(q.median),
        ]
        for t in comparison.targets:
            e = t.estimates[i]
            d = comparison.difference(i, t.value_usd, t.at) if i else None
            cell = "-" if e is None else fmt.pct(e.p_at_least)
            if d is not None:
                star = "*" if d.ci95[0] > 0 or d.ci95[1] < 0 else ""
                cell += f" {fmt.points(d.estimate, unit=False)}{star}"
            row.append(cell)
        rows.append(row)
    widths = [max(_width(r[j]) for r in rows) for j in range(len(rows[0]))]
    # As many target columns as fit in the width, in order.
    keep, used = 2, 2 + widths[0] + 2 + widths[1]
    while keep < len(widths) and used + 2 + widths[keep] <= _MAX_WIDTH:
        used += 2 + widths[keep]
        keep += 1
    for r in rows:
        cells = [
            _ljust(r[0], widths[0]),
            *(_rjust(c, w) for c, w in zip(r[1:keep], widths[1:keep], strict=True)),
        ]
        print("  " + "  ".join(cells), file=out)
    print(
        "  columns: P(value >= target), fair value unless a point in time is named; below "
        "the reference, the change in percentage points (* where its 95% interval excludes 0)",
        file=out,
    )
    codes = sorted({r.currency for r in comparison.runs})
    shown = fmt.shown_currency().code
    if codes != [shown]:
        print(
            f"  the scenarios report in {', '.join(codes)}: amounts here are in the "
            f"reference's currency, {shown}",
            file=out,
        )
    # Each shown column's target by its label, while the lines last.
    room = _MAX_LINES - (len(rows) + 4)
    labels = [(rows[0][2 + j], t.shown) for j, t in enumerate(comparison.targets[: keep - 2])]
    if 0 < len(labels) <= room:
        width = max(_width(c) for c, _ in labels)
        for column, label in labels:
            print(f"    {_rjust(column, width)}: {label}", file=out)
    left_out = []
    if keep < len(widths):
        left_out.append(f"{_count(len(widths) - keep, 'target')} more")
    if shown_rows < len(names):
        left_out.append(f"{_count(len(names) - shown_rows, 'scenario')} more")
    if left_out:
        print(
            f"  {' and '.join(left_out)} than fit here: comparison.json and comparison.pdf "
            "have them all",
            file=out,
        )
    for a in comparison.attribution:
        _print_attribution(a, out)


def _print_attribution(a: Attribution, out: TextIO) -> None:
    print(f"attribution of {a.scenario} - {a.minus}: {a.note}", file=out)
    if not a.contributions:
        return
    # Targets named by their value (and the point in time, unless the fair value): their
    # labels would make the table too wide.
    rows = [["key", "median value", *(_attribution_head(v, at) for _, v, at in a.targets)]]
    for c in a.contributions:
        rows.append([c.key, fmt.signed_money(c.median_usd), *(fmt.points(p) for p in c.p)])
    rows.append(
        [
            "total",
            fmt.signed_money(a.median_b - a.median_a),
            *(fmt.points(pb - pa) for pa, pb in zip(a.p_a, a.p_b, strict=True)),
        ]
    )
    widths = [max(_width(r[j]) for r in rows) for j in range(len(rows[0]))]
    for r in rows:
        cells = [
            _ljust(r[0], widths[0]),
            *(_rjust(c, w) for c, w in zip(r[1:], widths[1:], strict=True)),
        ]
        print("  " + "  ".join(cells), file=out)


def _attribution_head(value: float, at: str) -> str:
    """An attribution column's heading: ``P>=USD 25 bn``, ``peak>=USD 25 bn``."""
    return ("P" if at == "fair" else fmt.at_short(at)) + f">={fmt.money(value, short=True)}"


def _target_label(t: TargetEstimate) -> str:
    """A target's label, with the value it is read against unless that is fair value or
    the label says it already."""
    return fmt.target_label(t.label, t.at)


def _print_pricing(summary: Summary, out: TextIO) -> None:
    """The pricing grid: each price in the offer currency and USD, the implied EV/sales
    and P(fair value per share >= price); the range's prices marked."""
    grid = summary.pricing
    cur = grid[0].currency
    print(f"  pricing: P(fair value per share >= price), price per share in {cur}", file=out)
    dcf = grid[0].dcf
    margin_head = f"  {'DCF margin':>13}" if dcf else ""
    print(
        f"    {'price ' + cur:>12}  {'USD':>8}  {'market value':>14}  {'EV/sales':>8} "
        f"{margin_head} {'P(fair >= price)':>16}  95% interval",
        file=out,
    )
    for p in grid:
        lo, hi = p.ci95
        mark = "  <- range" if p.in_range else ""
        margin = f"  {fmt.margin(p.implied_target_margin):>13}" if dcf else ""
        print(
            f"    {fmt.number(p.price, 4):>12}  {fmt.number(p.price_usd, 4):>8}  "
            f"{fmt.money(p.market_value_usd):>14}  {fmt.number(p.implied_ev_to_sales):>8}x"
            f"{margin} {fmt.pct(p.p_fair_at_least):>16}  {fmt.interval(lo, hi)}{mark}",
            file=out,
        )
    if dcf:
        print(
            "    DCF margin: the target margin at which the DCF fair value per share equals "
            "the price, every other input at its median",
            file=out,
        )
    offer = summary.offer_price
    if offer is not None:
        q = offer.quantiles
        low = f"at the range's low {fmt.pct(offer.p_at_low)}"
        if offer.p_below_range > 0:
            low = (
                f"at or below the range's low {fmt.pct(offer.p_at_low)} (below it "
                f"{fmt.pct(offer.p_below_range)})"
            )
        options = ""
        if offer.p_upsized is not None and offer.p_greenshoe is not None:
            options = (
                f"; upsize exercised {fmt.pct(offer.p_upsized)}, greenshoe "
                f"{fmt.pct(offer.p_greenshoe)}"
            )
        print(
            f"  offer price ({cur}): p5 {fmt.number(q.p5, 4)} | p50 {fmt.number(q.median, 4)} | "
            f"p95 {fmt.number(q.p95, 4)}; {low}, at its high {fmt.pct(offer.p_at_high)}"
            f"{options}",
            file=out,
        )


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: CJK characters take two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _ljust(text: str, width: int) -> str:
    return text + " " * max(0, width - _width(text))


def _rjust(text: str, width: int) -> str:
    return " " * max(0, width - _width(text)) + text
