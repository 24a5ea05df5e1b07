"""A reporting currency: ``[scenario] currency = "EUR"`` puts every report, printed table
and summary.json amount in EUR, and a scenario that writes no 亿 or 万 shows none.

The EUR scenario is tests/data/small.toml with its 亿 amounts written in euros; its USD
twin differs only by the currency key, so both runs draw the same paths (the currency is
not simulated) and the EUR figures are the USD ones over the [fx] rate. A second pair
extends scenarios/dcf.toml (method both, regimes, shocks, the deal, the aftermarket, the
comparables), so that every block of summary.json is compared number by number.
"""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest

from sim.cli import main
from sim.errors import ScenarioError
from sim.scenario import load_scenario

DATA = Path(__file__).resolve().parent / "data"
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
EUR = 1.08
# The amounts of summary.json written under their own key (not ending in _usd): in a EUR
# run each is the USD run's over the rate, inside a block that says "currency": "EUR".
# Written here from the schema, not from the serialiser's marks, so that a mark left off
# (or put on a ratio) fails.
IN_PLACE = re.compile(
    r"(valuation|methods\.(multiple|dcf))\.(mean|sd|se|quantiles\..+)"
    r"|revenue\.\d+\.(p5|p50|p95|mean|se)"
    r"|market_value\.\w+\.(mean|se|quantiles\..+)"
    r"|regimes\[\d+\]\.(mean|quantiles\..+)"
    r"|value_per_share\.(mean|quantiles\..+)"
    r"|aftermarket\.fan\.quantiles\..+"
)
# Provenance that differs between a scenario and its twin by construction.
OWN = {"scenario", "scenario_sha256", "elapsed_s"}


def _euro_text(currency: str | None) -> str:
    text = (DATA / "small.toml").read_text("utf-8")
    name = 'name = "euro"' + (f'\ncurrency = "{currency}"' if currency else "")
    text = text.replace('name = "small"', name)
    text = text.replace("HKD = 0.1282", f"HKD = 0.1282\nEUR = {EUR}")
    text = text.replace(
        'label = "article: 25亿 USD"\nvalue = "25亿"', 'label = "mark"\nvalue = "€2.3bn"'
    )
    text = text.replace('threshold = "40亿"', 'threshold = "€3.7bn"')
    assert "亿" not in text and "万" not in text
    return text


def _pdf_text(path: Path) -> str:
    doc = pdfium.PdfDocument(path)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in doc)
    finally:
        doc.close()


def _dcf_text(currency: str | None) -> str:
    lines = [f'extends = "{(SCENARIOS / "dcf.toml").as_posix()}"']
    lines += [f'currency = "{currency}"'] if currency else []
    return "[scenario]\n" + "\n".join(lines) + f"\n\n[fx]\nEUR = {EUR}\n"


@pytest.fixture(scope="module")
def dcf_runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """scenarios/dcf.toml in EUR and as it is (its USD twin), json and csv: the folders."""
    folder = tmp_path_factory.mktemp("eur_dcf")
    (folder / "dcf_eur.toml").write_text(_dcf_text("EUR"), "utf-8")
    (folder / "dcf_usd.toml").write_text(_dcf_text(None), "utf-8")
    out = folder / "reports"
    argv = ["--paths", "4000", "--quiet", "--format", "json,csv", "--out", str(out)]
    for name in ("dcf_eur", "dcf_usd"):
        assert main(["run", str(folder / f"{name}.toml"), *argv]) in (0, 1)
    return out / "dcf_eur", out / "dcf_usd"


def _same_in_eur(usd: Any, eur: Any, where: str, labelled: bool) -> int:
    """Assert that ``eur`` is ``usd`` with every amount in EUR; the amounts compared."""
    if isinstance(usd, dict):
        assert isinstance(eur, dict), where
        labelled = labelled or eur.get("currency") == "EUR"
        extra = eur.keys() - usd.keys()
        for key in extra:  # a twin of a _usd key, or a block's currency label
            assert key == "currency" or key.removesuffix("_eur") + "_usd" in usd, (where, key)
        n = 0
        for key, value in usd.items():
            inner = f"{where}.{key}" if where else key
            if inner in OWN:
                continue
            if key == "currency" and value == "USD":
                assert eur[key] == "EUR", inner  # valuation's and value_per_share's label
                continue
            if key.endswith("_usd"):
                # The key keeps USD; its twin ending in _eur is the same amount in EUR.
                assert eur[key] == value, inner
                n += _scaled(value, eur[key.removesuffix("_usd") + "_eur"], inner)
                continue
            n += _same_in_eur(value, eur[key], inner, labelled)
        return n
    if isinstance(usd, list):
        assert isinstance(eur, list) and len(eur) == len(usd), where
        return sum(
            _same_in_eur(u, e, f"{where}[{i}]", labelled)
            for i, (u, e) in enumerate(zip(usd, eur, strict=True))
        )
    if isinstance(usd, float) and IN_PLACE.fullmatch(where):
        assert labelled, f"{where}: an amount in EUR in a block that does not say so"
        return _scaled(usd, eur, where)
    assert eur == usd, where
    return 0


def _scaled(usd: Any, eur: Any, where: str) -> int:
    if isinstance(usd, list):
        return sum(_scaled(u, e, where) for u, e in zip(usd, eur, strict=True))
    if usd is None:
        assert eur is None, where
        return 0
    assert eur == pytest.approx(usd / EUR, rel=1e-12), where
    return 1


def test_every_amount_of_summary_json_is_in_eur(dcf_runs: tuple[Path, Path]) -> None:
    eur_dir, usd_dir = dcf_runs
    eur = json.loads((eur_dir / "summary.json").read_text("utf-8"))
    usd = json.loads((usd_dir / "summary.json").read_text("utf-8"))
    for block in ("methods", "regimes", "aftermarket", "pricing", "value_per_share"):
        assert block in usd, block  # the pair covers every money block
    assert eur.pop("currency")["code"] == "EUR"
    # The expectations: a money metric's amounts (its threshold, or its bound and
    # estimate) in EUR with the entry saying so, the text too; compared by hand below.
    stated = load_scenario(eur_dir.parent.parent / "dcf_eur.toml").expectations
    money_stats = 0
    for e, u, x in zip(stated, usd.pop("expectations"), eur.pop("expectations"), strict=True):
        assert not re.search(r"USD ?\d", x["text"]), x["text"]
        if e.unit != "money":
            assert x == u
            continue
        assert x.pop("currency") == "EUR" and "EUR" in x.pop("text")
        u.pop("text")
        keys = ["threshold"] if e.stat in ("p_at_least", "p_below") else ["estimate", "ci95"]
        for key in keys:
            money_stats += _scaled(u.pop(key), x.pop(key), f"expectations.{e.name}.{key}")
        if e.stat not in ("p_at_least", "p_below"):
            money_stats += _scaled(
                next(iter(u.pop("bound").values())), next(iter(x.pop("bound").values())), "bound"
            )
        assert x == u
    compared = _same_in_eur(usd, eur, "", labelled=False)
    assert compared > 200 and money_stats >= 1
    # The per-share prices of the deal stay in the offer currency, and say which.
    assert eur["offer_price"] == usd["offer_price"] and eur["offer_price"]["currency"] == "HKD"
    assert {p["currency"] for p in eur["pricing"]} == {"HKD"}


def test_summary_csv_has_the_eur_twins_of_its_usd_columns(dcf_runs: tuple[Path, Path]) -> None:
    eur_dir, usd_dir = dcf_runs
    eur_text = (eur_dir / "summary.csv").read_text("utf-8-sig")
    usd_text = (usd_dir / "summary.csv").read_text("utf-8-sig")
    eur = list(csv.DictReader(io.StringIO(eur_text)))
    usd = list(csv.DictReader(io.StringIO(usd_text)))
    assert list(eur[0]) == [*usd[0], "value_eur", "market_value_eur"]
    assert len(eur) == len(usd) and {r["kind"] for r in eur} == {"target", "pricing"}
    for e, u in zip(eur, usd, strict=True):
        assert {k: v for k, v in e.items() if k in u and k != "scenario"} == {
            k: v for k, v in u.items() if k != "scenario"
        }
        assert float(e["value_eur"]) == pytest.approx(float(u["value_usd"]) / EUR, rel=1e-12)
        if u["market_value_usd"]:
            got = float(e["market_value_eur"])
            assert got == pytest.approx(float(u["market_value_usd"]) / EUR, rel=1e-12)
        else:
            assert e["market_value_eur"] == ""


def test_check_prints_the_expectations_in_eur(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "euro.toml").write_text(_euro_text("EUR"), "utf-8")
    assert main(["check", str(tmp_path / "euro.toml"), "--paths", "2000"]) == 0
    printed = capsys.readouterr().out
    assert "P(valuation >= EUR 3.70 bn) <= 0.5" in printed
    assert not re.search(r"USD ?\d", printed) and "亿" not in printed


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The EUR scenario and its USD twin run once (json, csv, pdf); the folder and the
    EUR run's printed text."""
    folder = tmp_path_factory.mktemp("eur")
    (folder / "euro.toml").write_text(_euro_text("EUR"), "utf-8")
    (folder / "twin.toml").write_text(_euro_text(None).replace('"euro"', '"twin"', 1), "utf-8")
    out = folder / "reports"
    argv = ["--paths", "3000", "--quiet", "--out", str(out)]
    assert main(["run", str(folder / "euro.toml"), "--format", "json,csv,pdf", *argv]) == 0
    printed = (out / "euro" / "summary.txt").read_text("utf-8")
    assert main(["run", str(folder / "twin.toml"), "--format", "json,csv", *argv]) == 0
    return out, printed


def test_summary_json_is_in_eur_and_says_so(runs: tuple[Path, str]) -> None:
    out, _ = runs
    eur = json.loads((out / "euro" / "summary.json").read_text("utf-8"))
    usd = json.loads((out / "twin" / "summary.json").read_text("utf-8"))
    assert eur["currency"]["code"] == "EUR" and eur["currency"]["usd_per_unit"] == EUR
    assert "_usd keeps USD" in eur["currency"]["note"]
    assert "currency" not in usd  # a USD run's summary.json is as it always was
    assert eur["valuation"]["currency"] == "EUR" and usd["valuation"]["currency"] == "USD"
    for q, v in usd["valuation"]["quantiles"].items():
        assert eur["valuation"]["quantiles"][q] == pytest.approx(v / EUR, rel=1e-12)
    assert eur["valuation"]["mean"] == pytest.approx(usd["valuation"]["mean"] / EUR)
    for year, r in usd["revenue"].items():
        assert eur["revenue"][year]["p50"] == pytest.approx(r["p50"] / EUR)
        assert eur["revenue"][year]["currency"] == "EUR"
    for at, m in usd["market_value"].items():
        assert eur["market_value"][at]["mean"] == pytest.approx(m["mean"] / EUR)
    # value_usd keeps its meaning; value_eur is the same target in EUR (written "€2.3bn").
    mark = eur["targets"][0]
    assert mark["value_usd"] == pytest.approx(2.3e9 * EUR)
    assert mark["value_eur"] == pytest.approx(2.3e9) and "value_eur" not in usd["targets"][0]
    assert [t["p_at_least"] for t in eur["targets"]] == [t["p_at_least"] for t in usd["targets"]]


def test_report_and_printed_tables_are_in_eur_without_yi(runs: tuple[Path, str]) -> None:
    out, printed = runs
    text = _pdf_text(out / "euro" / "report.pdf")
    for shown in (text, printed):
        assert re.search(r"EUR \d", shown)
        # No amount in USD: "USD" is left only in a label the scenario wrote.
        assert not re.search(r"USD ?\d", shown.replace("brief: 40 bn USD", ""))
        assert "亿" not in shown and "万" not in shown and "10⁸" not in shown
    assert "Equity value at listing, EUR" in text
    assert "mark  " in printed and "EUR 2.30 bn" in printed


@pytest.mark.parametrize(
    ("value", "fx", "words"),
    [
        ('"EUR"', "", "no exchange rate for EUR: add it under [fx]"),
        ('"eur"', "EUR = 1.08", "expected a 3-letter currency code"),
        ('"€"', "EUR = 1.08", "'€' is EUR: write 'EUR'"),
        ("1", "", "expected a 3-letter currency code"),
    ],
)
def test_a_bad_currency_is_one_line_naming_the_key(
    tmp_path: Path, value: str, fx: str, words: str
) -> None:
    text = (DATA / "small.toml").read_text("utf-8")
    text = text.replace('name = "small"', f'name = "small"\ncurrency = {value}')
    text = text.replace("HKD = 0.1282", "HKD = 0.1282\n" + fx)
    (tmp_path / "bad.toml").write_text(text, "utf-8")
    with pytest.raises(ScenarioError, match=re.escape(words)) as err:
        load_scenario(tmp_path / "bad.toml")
    assert err.value.path == "scenario.currency"


def test_xlsx_gives_the_eur_amounts_of_summary_json(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    (tmp_path / "euro.toml").write_text(_euro_text("EUR"), "utf-8")
    argv = ["run", str(tmp_path / "euro.toml"), "--paths", "2000", "--quiet"]
    assert main([*argv, "--format", "json,xlsx", "--out", str(tmp_path)]) == 0
    data = json.loads((tmp_path / "euro" / "summary.json").read_text("utf-8"))
    book = openpyxl.load_workbook(tmp_path / "euro" / "summary.xlsx")
    rows = list(book["pricing"].iter_rows(values_only=True))
    assert rows[0][:6] == (
        "price (HKD)",
        "price (EUR)",
        "in range",
        "market value (EUR)",
        "net proceeds (EUR)",
        "implied EV (EUR)",
    )
    for row, point in zip(rows[1:], data["pricing"], strict=True):
        want = [point[k] for k in ("price", "price_eur")]
        want += [point[k] for k in ("market_value_eur", "net_proceeds_eur", "implied_ev_eur")]
        assert [row[0], row[1], row[3], row[4], row[5]] == pytest.approx(want, rel=1e-12)
    equity = next(book["quantiles"].iter_rows(min_row=2, max_row=2, values_only=True))
    assert equity[:2] == ("equity value", "EUR")
    want = list(data["valuation"]["quantiles"].values())
    assert list(equity[3:]) == pytest.approx(want, rel=1e-12)
    targets = list(book["targets"].iter_rows(values_only=True))
    assert targets[0][1] == "value (EUR)" and targets[1][1] == pytest.approx(2.3e9)
    assert next(book["paths"].iter_rows(values_only=True))[1] == "equity value (EUR)"


def test_a_usd_scenario_without_yi_gets_none_in_summary_json(runs: tuple[Path, str]) -> None:
    """The twin writes no 亿 or 万 (the threshold "€3.7bn" read at the EUR rate): its
    summary.json, summary.csv and summary.txt show USD amounts only, the expectations'
    text included (it used to carry a 亿 reading in every USD run)."""
    out, _ = runs
    usd = json.loads((out / "twin" / "summary.json").read_text("utf-8"))
    assert usd["expectations"] and "USD" in usd["expectations"][0]["text"]
    for name in ("summary.json", "summary.csv", "summary.txt"):
        text = (out / "twin" / name).read_text("utf-8")
        assert "亿" not in text and "万" not in text, name
