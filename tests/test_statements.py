"""Statements of account: reconciled to the cent on a hand ledger and on every sample customer,
rendered as PDF (text read back with pypdf, pages drawn with pdftoppm) and CSV.

The hand ledger is tests/data/ledger (see test_metrics_hand.py) plus a customer C3 in EUR whose
payment P5 (1,200, on 5 Mar) names an invoice I7 (1,000) issued only on 10 Mar: 200 is unapplied
cash from 5 Mar, and the 1,000 settles I7 from its own date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from conftest import DATA
from pypdf import PdfReader

from arlens import metrics
from arlens.cli import main
from arlens.collections import render
from arlens.collections import statements as st
from arlens.collections.config import Company, Settings, SettingsError, load_settings
from arlens.ingest.importer import import_file
from arlens.store import Store

D = dt.date(2026, 3, 31)
EURO_NAME = "Żabka Café Dvořák"
INJECTED = '=HYPERLINK("http://x.example","Click")'


def money(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture(scope="module")
def ledger_db(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ledger")
    for table in ("customers", "invoices", "payments", "activities"):
        shutil.copy(DATA / "ledger" / f"{table}.csv", folder / f"{table}.csv")
    with open(folder / "customers.csv", "a") as f:
        f.write(f"C3,{EURO_NAME},Small business,DE,EUR,30,,,Ann\n")
        f.write(f'C4,"{INJECTED.replace(chr(34), chr(34) * 2)}",Small business,US,USD,30,,,Ann\n')
    with open(folder / "invoices.csv", "a") as f:
        f.write("I7,C3,2026-03-10,2026-04-09,1000.00,invoice,,,\n")
        f.write("I8,C4,2026-03-01,2026-03-15,75.00,invoice,,,\n")
    with open(folder / "payments.csv", "a") as f:
        f.write("P5,C3,2026-03-05,1200.00,I7\n")
    path = folder / "ledger.duckdb"
    with Store.open(path) as store:
        for table in ("customers", "invoices", "payments", "activities"):
            import_file(store, folder / f"{table}.csv", table)
    return path


@pytest.fixture
def ledger(ledger_db):
    with Store.open(ledger_db, read_only=True) as store:
        yield store


def rows(statement):
    return [
        (line.date, line.kind, line.document, line.amount, line.balance) for line in statement.lines
    ]


def test_statement_of_c1_reconciles_line_by_line(ledger):
    s = st.statement(ledger, "C1", D, dt.date(2026, 2, 1))
    assert s.currency == "USD" and s.opening == money("1000.00")  # I1, issued 1 Jan
    assert rows(s) == [
        (dt.date(2026, 2, 10), "payment", "P1", money("-400.00"), money("600.00")),
        (dt.date(2026, 2, 15), "invoice", "I2", money("500.00"), money("1100.00")),
        (dt.date(2026, 3, 1), "invoice", "I3", money("300.00"), money("1400.00")),
        (dt.date(2026, 3, 20), "credit_memo", "M1", money("-100.00"), money("1300.00")),
    ]
    assert s.closing == money("1300.00") == s.open_ar  # I1 600 + I2 400 + I3 300
    assert (s.charges, s.credits) == (money("800.00"), money("500.00"))
    assert s.aging == {"Current": money("300.00"), "1-30": money("400.00"), "31-60": money("600.00"),
                       "61-90": 0, "91-120": 0, "121+": 0, "Unapplied": 0}  # fmt: skip
    assert s.past_due == money("1000.00") and s.reconciles
    assert s.lines[0].description == "Payment, applied to I1"
    assert s.lines[3].description == "Credit memo, applied to I2" and s.lines[3].due_date is None
    later = st.statement(ledger, "C1", dt.date(2026, 4, 30), dt.date(2026, 4, 1))
    assert later.opening == money("1300.00") and rows(later) == [
        (dt.date(2026, 4, 5), "payment", "P2", money("-600.00"), money("700.00"))
    ]


def test_statement_of_c2_shows_write_off_paid_date_and_unapplied_as_such(ledger):
    s = st.statement(ledger, "C2", D, dt.date(2026, 3, 1))
    # Before March: I4 2000 − P3 500 + I5 800.
    assert s.opening == money("2300.00")
    assert rows(s) == [
        (dt.date(2026, 3, 5), "credit_memo", "M2", money("-50.00"), money("2250.00")),
        (dt.date(2026, 3, 10), "invoice", "I6", money("1200.00"), money("3450.00")),
        (dt.date(2026, 3, 15), "write_off", "I4", money("-1500.00"), money("1950.00")),
        (dt.date(2026, 3, 20), "payment", "P4", money("-250.00"), money("1700.00")),
        (dt.date(2026, 3, 25), "paid_date", "I6", money("-1200.00"), money("500.00")),
    ]
    assert [line.description for line in s.lines] == [
        "Credit memo, unapplied (on account)", "Invoice", "Written off",
        "Payment, unapplied (on account)", "Paid (the invoice's paid date)",
    ]  # fmt: skip
    assert [line.unapplied for line in s.lines] == [money("-50.00"), 0, 0, money("-250.00"), 0]
    # I5 800 is 90 days past due; the 300 unapplied sits apart from the buckets, net in the total.
    assert s.aging["61-90"] == money("800.00") and s.unapplied == money("-300.00")
    assert s.closing == s.open_ar == money("500.00") and s.reconciles


def test_prepayment_counts_from_the_invoice_date(ledger):
    s = st.statement(ledger, "C3", D, dt.date(2026, 3, 1))
    assert s.currency == "EUR" and s.opening == 0
    assert rows(s) == [
        (dt.date(2026, 3, 5), "payment", "P5", money("-200.00"), money("-200.00")),
        (dt.date(2026, 3, 10), "invoice", "I7", money("1000.00"), money("800.00")),
        (dt.date(2026, 3, 10), "payment", "P5", money("-1000.00"), money("-200.00")),
    ]
    assert s.closing == s.unapplied == money("-200.00") and s.reconciles
    before = st.statement(ledger, "C3", dt.date(2026, 3, 7), dt.date(2026, 3, 1))
    assert before.closing == before.open_ar == money("-200.00")


def test_open_items_variant_lists_only_what_is_outstanding(ledger):
    s = st.statement(ledger, "C2", D, open_items_only=True)
    assert s.start is None and s.opening == 0
    assert [(line.document, line.amount, line.days_past_due) for line in s.lines] == [
        ("I5", money("800.00"), 90), ("M2", money("-50.00"), None), ("P4", money("-250.00"), None),
    ]  # fmt: skip
    assert [line.original for line in s.lines] == [money("800.00"), None, None]
    assert s.closing == money("500.00") and s.reconciles


def test_unknown_customer_and_backwards_period_are_one_line_errors(ledger):
    with pytest.raises(st.StatementError, match="no customer 'C9' in the store; did you mean C"):
        st.statement(ledger, "C9", D)
    with pytest.raises(st.StatementError, match="that is the name of C1"):
        st.statement(ledger, "Alder Tools", D)
    with pytest.raises(st.StatementError, match="starts on 2026-04-01 after it ends"):
        st.statements(ledger, D, dt.date(2026, 4, 1))


@pytest.mark.parametrize("end", [dt.date(2026, 10, 31), dt.date(2025, 6, 30)])
def test_every_sample_customer_reconciles_with_the_aging(sample_db, end):
    """opening + movements = closing = the customer's open AR net of unapplied at `end`, and the
    opening is that at the day before the period (both from metrics.aging, another query)."""
    start = end.replace(day=1)
    with Store.open(sample_db, read_only=True) as store:
        found = st.statements(store, end, start)
        closing = metrics.aging(store, end, net_unapplied=True)
        opening = metrics.aging(store, start - dt.timedelta(days=1), net_unapplied=True)
        customers = int(store.value("SELECT count(*) FROM customers"))
    by_key = {(s.customer.customer_id, s.currency): s for s in found}
    assert len({k[0] for k in by_key}) > 0.8 * customers
    assert [s for s in found if not s.reconciles] == []
    for row in closing.itertuples():
        s = by_key[(row.customer_id, row.currency)]
        assert float(s.closing) == round(row.total, 2), row.customer_id
        assert float(s.unapplied) == round(row.Unapplied, 2)
    before = {(r.customer_id, r.currency): round(r.total, 2) for r in opening.itertuples()}
    for key, s in by_key.items():
        assert float(s.opening) == before.get(key, 0.0), key
        assert s.opening + sum(line.amount for line in s.lines) == s.closing


SETTINGS = Settings(
    company=Company(
        name="Acme Supplies Ltd",
        address=("1 Harbour Road", "Bristol BS1 4XX"),
        email="ar@acme.example",
        remittance=("IBAN GB33 BUKB 2020 1555 5555 55",),
    )
)


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_has_the_customer_amounts_in_its_currency_and_the_euro_sign(ledger):
    s = st.statement(ledger, "C3", D, dt.date(2026, 3, 1))
    data = render.statement_pdf([s], SETTINGS)
    assert data.startswith(b"%PDF")
    text = pdf_text(data)
    for expected in (EURO_NAME, "Statement of account", "Acme Supplies Ltd", "-€200.00",
                     "1,000.00", "Closing balance", "Amounts in EUR", "IBAN GB33",
                     "Unapplied cash and credits (-€200.00)"):  # fmt: skip
        assert expected in text, expected
    usd = pdf_text(render.statement_pdf([st.statement(ledger, "C1", D, dt.date(2026, 2, 1))]))
    assert "$1,300.00" in usd and "Opening balance" in usd and "$1,000.00" in usd


def test_batch_split_per_customer_keeps_each_customer_on_its_own_file(ledger):
    groups = [[s] for s in st.statements(ledger, D, dt.date(2026, 3, 1))]
    files = render.statement_pdfs(groups, SETTINGS)
    assert len(files) == len(groups) == 4
    for group, data in zip(groups, files, strict=True):
        text = pdf_text(data)
        assert group[0].customer.name in text
        others = [g[0].customer.name for g in groups if g is not group]
        assert not any(name in text for name in others)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) missing")
def test_pdf_renders_to_png(ledger, tmp_path):
    s = st.statement(ledger, "C2", D, dt.date(2026, 3, 1))
    (tmp_path / "s.pdf").write_bytes(render.statement_pdf([s], SETTINGS))
    subprocess.run(["pdftoppm", "-r", "50", "-png", str(tmp_path / "s.pdf"), str(tmp_path / "p")],
                   check=True, capture_output=True)  # fmt: skip
    from PIL import Image

    with Image.open(tmp_path / "p-1.png") as page:
        width, height = page.size
        assert abs(height / width - 297 / 210) < 0.01  # A4
        grey = page.convert("L")
        assert grey.getextrema()[0] < 80  # text was drawn, not a blank page


def test_csv_neutralises_formulas_and_keeps_money_numbers(ledger):
    s = st.statement(ledger, "C4", D, dt.date(2026, 3, 1))
    data = render.statement_csv([s]).decode("utf-8-sig")
    table = list(csv.DictReader(io.StringIO(data)))
    assert {row["customer"] for row in table} == {"'" + INJECTED}
    invoice = next(row for row in table if row["document"] == "I8")
    assert (invoice["charges"], invoice["balance"], invoice["due_date"]) == (
        "75.00",
        "75.00",
        "2026-03-15",
    )
    assert [row["kind"] for row in table][:3] == ["opening", "invoice", "closing"]
    aging = {row["description"]: row["balance"] for row in table if row["kind"] == "aging"}
    assert aging["1-30"] == "75.00" and aging["Total"] == "75.00"


def test_cli_statement_and_statements(ledger_db, tmp_path, capsys):
    db = str(ledger_db)
    out = tmp_path / "c1.pdf"
    assert main(["statement", "--customer", "C1", "--from", "2026-02-01", "--to", "2026-03-31",
                 "--out", str(out), "--db", db]) == 0  # fmt: skip
    assert "Alder Tools" in pdf_text(out.read_bytes())
    assert "closing $1,300.00" in capsys.readouterr().out
    assert main(["statement", "--customer", "C1", "--to", "2026-03-31", "--open-items",
                 "--out", str(tmp_path / "c1.csv"), "--db", db]) == 0  # fmt: skip
    assert (
        "I5" not in (tmp_path / "c1.csv").read_text() and "I2" in (tmp_path / "c1.csv").read_text()
    )
    assert main(["statement", "--customer", "C9", "--out", str(out), "--db", db]) == 1
    assert "no customer 'C9'" in capsys.readouterr().err
    assert main(["statement", "--customer", "C1", "--from", "2026-04-01", "--to", "2026-03-31",
                 "--out", str(out), "--db", db]) == 1  # fmt: skip
    assert capsys.readouterr().err.strip() == "arlens: --from 2026-04-01 is after --to 2026-03-31"
    with pytest.raises(SystemExit) as usage:
        main(["statement", "--customer", "C1", "--to", "2026-02-30", "--out", str(out), "--db", db])
    assert (
        usage.value.code == 2 and "not a date (YYYY-MM-DD): '2026-02-30'" in capsys.readouterr().err
    )
    folder = tmp_path / "batch"
    assert main(["statements", "--as-of", "2026-03-31", "--past-due-only", "--out", str(folder),
                 "--db", db]) == 0  # fmt: skip
    # Past due at 31 Mar: C1 (I1, I2), C2 (I5) and C4 (I8); C3's I7 is settled.
    assert sorted(p.name for p in folder.iterdir()) == [
        f"statement-{c}-2026-03-31.pdf" for c in ("C1", "C2", "C4")
    ]
    assert main(["statements", "--as-of", "2026-03-31", "--combined", "--format", "csv",
                 "--out", str(folder), "--db", db]) == 0  # fmt: skip
    assert "wrote 4 statements of 4 customers" in capsys.readouterr().out


def test_settings_file_beside_the_store(tmp_path):
    (tmp_path / "arlens.toml").write_text(
        '[company]\nname = "Acme"\naddress = "1 Road\\nTown"\nlogo = "logo.png"\n'
        '[smtp]\nhost = "mail.example"\nsecurity = "ssl"\n'
    )
    settings = load_settings(None, tmp_path / "arlens.duckdb")
    assert settings.company.address == ("1 Road", "Town")
    assert settings.company.logo == tmp_path / "logo.png"
    assert (settings.smtp.host, settings.smtp.port) == ("mail.example", 465)
    assert load_settings(None, tmp_path / "elsewhere" / "x.duckdb").company.name == ""
    (tmp_path / "bad.toml").write_text('[compnay]\nname = "x"\n')
    with pytest.raises(
        SettingsError, match=r"unknown section \[compnay\]; did you mean \[company\]"
    ):
        load_settings(tmp_path / "bad.toml")
