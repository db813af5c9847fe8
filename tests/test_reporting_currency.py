"""One total in the reporting currency, worked by hand (DESIGN §4: every amount at the closing
rate on or before the as-of date; a currency with no rate is listed, never summed as is).

The ledger, home currency EUR, as of D = 31 Mar 2026:
  A (USD)  A1 1,000.00 invoiced 1 Feb, due 3 Mar (28 days past due at D)
           A2   250.00 invoiced 20 Mar, due 19 Apr (current)
  B (EUR)  B1   500.00 invoiced 10 Mar, due 9 Apr (current)
           B2   400.00 invoiced 15 Nov 2025, due 15 Dec 2025; 100 paid 10 Jan: 300 open, 106 days
  C (CHF)  C1   300.00 invoiced 1 Mar, due 31 Mar (current); no CHF rate anywhere
Rates, ECB-style (units per euro): 27 Feb USD 1.10, GBP 0.85; 27 Mar USD 1.25, GBP N/A;
2 Apr USD 2.00, GBP 0.90 (after D: never used at D).
So at D one USD is 1/1.25 = 0.80 EUR; one EUR is 0.85 GBP (27 Feb, the last GBP quote) and one
USD is 0.85 / 1.25 = 0.68 GBP (a cross through the euro).
"""

from __future__ import annotations

import datetime as dt

import pytest
from page_checks import check_app

from arlens import currencies, metrics
from arlens.ingest.importer import ImportFailed, import_file
from arlens.store import Store

D = dt.date(2026, 3, 31)
EUR = {"reporting_currency": "EUR"}

CUSTOMERS = "customer_id,name,currency\nA,Alpha Inc,USD\nB,Beta GmbH,EUR\nC,Gamma AG,CHF\n"
INVOICES = """invoice_id,customer_id,invoice_date,due_date,amount,currency
A1,A,2026-02-01,2026-03-03,1000.00,USD
A2,A,2026-03-20,2026-04-19,250.00,USD
B1,B,2026-03-10,2026-04-09,500.00,EUR
B2,B,2025-11-15,2025-12-15,400.00,EUR
C1,C,2026-03-01,2026-03-31,300.00,CHF
"""
PAYMENTS = "payment_id,customer_id,payment_date,amount,invoice_id\nP1,B,2026-01-10,100.00,B2\n"
ECB = "Date,USD,GBP\n2026-02-27,1.10,0.85\n2026-03-27,1.25,N/A\n2026-04-02,2.00,0.90\n"


def load(store: Store, write, rates: str = ECB) -> Store:
    import_file(store, write("customers.csv", CUSTOMERS), "customers", currency="EUR")
    import_file(store, write("invoices.csv", INVOICES), "invoices")
    import_file(store, write("payments.csv", PAYMENTS), "payments")
    import_file(store, write("rates.csv", rates), "fx_rates")
    return store


@pytest.fixture
def ledger(store, write):
    return load(store, write)


def cents(value) -> float:
    return round(float(value), 2)


def test_a_wide_rates_file_is_stored_as_written(ledger):
    rows = ledger.rows(
        "SELECT rate_date::VARCHAR, currency, base_currency, rate::VARCHAR FROM fx_rates "
        "ORDER BY rate_date, base_currency"
    )
    assert rows == [
        ("2026-02-27", "EUR", "GBP", "0.850000000000"),
        ("2026-02-27", "EUR", "USD", "1.100000000000"),
        ("2026-03-27", "EUR", "USD", "1.250000000000"),  # GBP N/A: no quote, not a rate
        ("2026-04-02", "EUR", "GBP", "0.900000000000"),
        ("2026-04-02", "EUR", "USD", "2.000000000000"),
    ]


def test_a_bad_rate_is_rejected_on_its_line_and_column(store, write):
    result = import_file(
        store, write("r.csv", "Date,USD\n2026-01-02,1.08\n2026-01-05,1.0x\n"), "fx_rates"
    )
    assert (result.rows_loaded, result.rows_rejected) == (1, 1)
    assert result.rejected_sample == [
        {"line": 3, "column": "rate", "raw_value": "1.0x", "reason": "not a number"}
    ]


def test_closing_rates_direct_inverse_and_crossed(ledger):
    eur = ledger.df("SELECT currency, rate FROM fx_closing($d, 'EUR')", {"d": D})
    assert dict(zip(eur.currency, eur.rate.round(10), strict=True)) == {
        "EUR": 1.0, "USD": round(1 / 1.25, 10), "GBP": round(1 / 0.85, 10)}  # fmt: skip
    gbp = ledger.df("SELECT currency, rate, via FROM fx_closing($d, 'GBP')", {"d": D})
    got = {r.currency: (round(r.rate, 10), r.via if isinstance(r.via, str) else "-")
           for r in gbp.itertuples()}  # fmt: skip
    assert got["EUR"] == (0.85, "-")
    assert got["USD"] == (round(0.85 / 1.25, 10), "EUR")
    assert "CHF" not in got
    said = currencies.rates_sentence(currencies.rates_used(ledger, D, "EUR"), "EUR", D)
    assert "1 USD = 0.8 EUR (27 Mar 2026)" in said and "CHF" not in said


def test_aging_in_the_reporting_currency(ledger):
    aging = metrics.aging(ledger, D, filters=EUR).set_index("customer_id")
    assert set(aging["currency"]) == {"EUR"}
    assert {c: cents(aging.loc["A", c]) for c in ("Current", "1-30", "total", "past_due")} == {
        "Current": 200.0, "1-30": 800.0, "total": 1000.0, "past_due": 800.0}  # fmt: skip
    assert {c: cents(aging.loc["B", c]) for c in ("Current", "91-120", "total", "past_due")} == {
        "Current": 500.0, "91-120": 300.0, "total": 800.0, "past_due": 300.0}  # fmt: skip
    assert "C" not in aging.index  # no CHF rate: listed below, not summed
    missing = currencies.untranslated(ledger, D, "EUR")
    assert [(r.currency, r.open_items, cents(r.open_amount)) for r in missing.itertuples()] == [
        ("CHF", 1, 300.0)
    ]
    line = currencies.untranslated_sentence(missing, "EUR", D)
    assert "1 open item in CHF (300.00 CHF)" in line and "31 Mar 2026" in line


def test_the_per_currency_view_is_unchanged(ledger):
    aging = metrics.aging(ledger, D, group_by="currency")
    assert {r.currency: cents(r.total) for r in aging.itertuples()} == {
        "CHF": 300.0, "EUR": 800.0, "USD": 1250.0}  # fmt: skip


def test_kpis_in_the_reporting_currency(ledger):
    kpis = metrics.kpis(ledger, D, filters=EUR)
    assert len(kpis) == 1
    row = kpis.iloc[0]
    # open AR 800 + 200 + 500 + 300 = 1,800; credit sales of the 90 days to D: A1 800, A2 200,
    # B1 500 = 1,500 (C1 has no rate); DSO 1,800 / 1,500 × 90 = 108; current 700 → 42.
    assert (row.currency, cents(row.open_ar), cents(row.past_due), cents(row.credit_sales)) == (
        "EUR", 1800.0, 1100.0, 1500.0)  # fmt: skip
    assert (round(row.dso, 6), round(row.best_possible_dso, 6)) == (108.0, 42.0)


def test_a_cross_rate_through_the_euro(ledger):
    aging = metrics.aging(ledger, D, group_by="customer", filters={"reporting_currency": "GBP"})
    # A: 1,000 × 0.68 = 680.00 and 250 × 0.68 = 170.00; B: 800 × 0.85 = 680.00
    assert {r.customer_id: cents(r.total) for r in aging.itertuples()} == {"A": 850.0, "B": 680.0}


def test_the_rate_on_or_before_the_as_of_date(ledger):
    # 1 Mar: the 27 Feb quote, one USD = 1/1.10 EUR: A1 909.09; B2 300; C1 listed.
    on_1_mar = metrics.aging(ledger, dt.date(2026, 3, 1), group_by="none", filters=EUR)
    assert cents(on_1_mar["total"].sum()) == round(round(1000 / 1.1, 2) + 300.0, 2)
    # 15 Feb: no quote yet, so the USD invoice is listed and only the euros are summed.
    early = dt.date(2026, 2, 15)
    assert cents(metrics.aging(ledger, early, group_by="none", filters=EUR)["total"].sum()) == 300.0
    listed = currencies.untranslated(ledger, early, "EUR")
    assert [(r.currency, cents(r.open_amount)) for r in listed.itertuples()] == [("USD", 1000.0)]


def test_the_trend_is_at_the_as_of_rate(ledger):
    trend = metrics.trend(ledger, dt.date(2026, 2, 1), D, filters=EUR)
    assert set(trend["currency"]) == {"EUR"}
    got = {str(r.month_end)[:10]: cents(r.total) for r in trend.itertuples()}
    # 28 Feb: A1 1,000 USD and B2 300 EUR open, both at 31 Mar's rate: 800 + 300.
    assert got == {"2026-02-28": 1100.0, "2026-03-31": 1800.0}


def test_a_narrow_rates_file_quotes_the_reporting_currency(store, write):
    load(store, write)
    store.set_reporting_currency("EUR")
    result = import_file(
        store, write("chf.csv", "Date,Currency,Rate\n2026-03-30,CHF,1.05\n"), "fx_rates"
    )
    assert result.rows_loaded == 1
    aging = metrics.aging(store, D, group_by="customer", filters=EUR).set_index("customer_id")
    assert cents(aging.loc["C", "total"]) == 315.0  # 300 × 1.05
    assert currencies.untranslated(store, D, "EUR").empty


def test_a_wide_file_quoted_per_another_currency(store, write, tmp_path):
    mapping = write("m.toml", '[format]\nquoted_per = "USD"\n')
    import_file(store, write("r.csv", "Date,EUR\n2026-03-02,0.9\n"), "fx_rates", mapping)
    assert store.rows("SELECT currency, base_currency, rate::DOUBLE FROM fx_rates") == [
        ("USD", "EUR", 0.9)
    ]


def test_a_rates_file_without_rates_says_so(store, write):
    with pytest.raises(ImportFailed, match="rate"):
        import_file(store, write("r.csv", "Date,Note\n2026-03-02,closed\n"), "fx_rates")


def test_pages_open_on_the_reporting_total(monkeypatch, tmp_path, write):
    """Several currencies and rates: the sidebar starts on "All currencies in EUR", the overview's
    open AR is the hand total, and the CHF invoice is named in one line."""
    from conftest import REPO
    from streamlit.testing.v1 import AppTest

    from ui.format import money

    db = tmp_path / "fx.duckdb"
    with Store.open(db) as store:
        load(store, write)
        store.set_reporting_currency("EUR")
    monkeypatch.setenv("ARLENS_DB", str(db))
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    at.query_params["as_of"] = D.isoformat()
    at.run()
    assert at.selectbox(key="currency").value == "All currencies in EUR"
    assert at.selectbox(key="currency").options[1:] == ["CHF", "EUR", "USD"]
    open_ar = next(m for m in at.metric if m.label == "Open AR")
    assert open_ar.value == money(1800.0, "EUR")
    assert any("300.00 CHF" in w.value for w in at.warning)
    check_app(at)
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    at.query_params.update(as_of=D.isoformat(), currency="USD")  # one currency: a click, a link
    at.run()
    open_ar = next(m for m in at.metric if m.label == "Open AR")
    assert open_ar.value == money(1250.0, "USD")


def test_a_query_reads_the_translating_twins_of_its_sources():
    from arlens import queries

    sql = "FROM invoiced() i, open_documents(($as_of - 90)) d, unapplied_items($as_of) u"
    assert queries.in_reporting_currency(sql) == (
        "FROM invoiced_in($reporting, $rate_on) i, "
        "open_documents_in($reporting, $rate_on, ($as_of - 90)) d, "
        "unapplied_items_in($reporting, $rate_on, $as_of) u"
    )
