"""A reporting currency: ``[scenario] currency = "EUR"`` puts every report, printed table
and summary.json amount in EUR, and a scenario that writes no 亿 or 万 shows none.

The EUR scenario is tests/data/small.toml with its 亿 amounts written in euros; its USD
twin differs only by the currency key, so both runs draw the same paths (the currency is
not simulated) and the EUR figures are the USD ones over the [fx] rate.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pypdfium2 as pdfium
import pytest

from sim.cli import main
from sim.errors import ScenarioError
from sim.scenario import load_scenario

DATA = Path(__file__).resolve().parent / "data"
EUR = 1.08


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
    assert main(["run", str(folder / "twin.toml"), "--format", "json", *argv]) == 0
    return out, printed


def test_summary_json_is_in_eur_and_says_so(runs: tuple[Path, str]) -> None:
    out, _ = runs
    eur = json.loads((out / "euro" / "summary.json").read_text("utf-8"))
    usd = json.loads((out / "twin" / "summary.json").read_text("utf-8"))
    assert eur["currency"]["code"] == "EUR" and eur["currency"]["usd_per_unit"] == EUR
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
    # value_usd keeps its meaning; value is the same target in EUR (written "€2.3bn").
    mark = eur["targets"][0]
    assert mark["value_usd"] == pytest.approx(2.3e9 * EUR)
    assert mark["value"] == pytest.approx(2.3e9) and mark["currency"] == "EUR"
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
