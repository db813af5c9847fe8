"""Dunning runs over time with confirmations, written against the semantics of ERPNext's dunning
and Odoo's follow-up levels (our own cases): levels advance one step per run, a minimum number of
days separates notices, thresholds and minimum amounts hold, disputed, promised and blocked
customers are skipped with the reason, and a second run on a day proposes nothing new. The
letters come out as PDF, the emails as RFC 5322 files with the PDF attached.

The company (default policy: level 1 at 7 days past due and 50, level 2 at 30 days, 100 and 14
days after the previous notice, level 3 at 60, level 4 at 90, both 14 days after):
  K1 I1 1000 due 31 Jan 2026, 250 paid on 20 Jan: 750 past due from 1 Feb
  K7 I7 2000 due 1 Oct 2025: 120+ days past due from the start, no notice yet
  K2 I2 500 due 31 Jan, flagged disputed         K9 I9 500 due 31 Jan, a dispute activity on 3 Feb
  K3 I3 500 due 31 Jan, promised on 1 Feb for 15 Feb
  K4 I4 500 due 31 Jan, dunning blocked           K5 I5 30 due 31 Jan (below every minimum)
  K6 I6 500 due 31 Jan; a level-3 notice of 15 Dec 2025 (about an invoice since paid)
  K8 I8 500 due 1 Dec 2025; a notice "Level 2 reminder" of 10 Jan 2026 (no level column)
"""

from __future__ import annotations

import datetime as dt
import email
import io
import smtplib
from decimal import Decimal
from email import policy as email_policy

import pytest
from pypdf import PdfReader

from arlens.cli import main
from arlens.collections import dunning, mail, render
from arlens.collections import statements as st
from arlens.collections.config import Company
from arlens.store import SCHEMA_VERSION, Store
from tests.conftest import store_from_texts

CUSTOMERS = """customer_id,name,country,currency,payment_terms_days,Contact Name,E-mail,Telephone,Do Not Dun
K1,Kestrel Ltd,GB,EUR,30,Kim Lee,ap@kestrel.example,+44 20 7946 0001,no
K2,Disputing GmbH,DE,EUR,30,,,,
K3,Promising SA,FR,EUR,30,,,,
K4,Blocked BV,NL,EUR,30,,,,yes
K5,Small Sums Ltd,GB,EUR,30,,,,
K6,Paid Before Ltd,GB,EUR,30,,,,
K7,Very Late Oy,FI,EUR,30,Aino,"ap@late.example; bad address",,
K8,Written Before AB,SE,EUR,30,,,,
K9,Argues Later Srl,IT,EUR,30,,,,
"""
INVOICES = """invoice_id,customer_id,invoice_date,due_date,amount,disputed
I1,K1,2026-01-01,2026-01-31,1000.00,false
I2,K2,2026-01-01,2026-01-31,500.00,true
I3,K3,2026-01-01,2026-01-31,500.00,false
I4,K4,2026-01-01,2026-01-31,500.00,false
I5,K5,2026-01-01,2026-01-31,30.00,false
I6,K6,2026-01-01,2026-01-31,500.00,false
I6OLD,K6,2025-10-01,2025-10-31,500.00,false
I7,K7,2025-09-01,2025-10-01,2000.00,false
I8,K8,2025-11-01,2025-12-01,500.00,false
I9,K9,2026-01-01,2026-01-31,500.00,false
"""
PAYMENTS = """payment_id,customer_id,payment_date,amount,invoice_id
P1,K1,2026-01-20,250.00,I1
P6,K6,2025-12-20,500.00,I6OLD
"""
ACTIVITIES = """activity_id,customer_id,invoice_id,activity_date,kind,promised_date,outcome,level
A1,K3,I3,2026-02-01,promise,2026-02-15,,
A2,K6,I6OLD,2025-12-15,dunning,,final notice,3
A3,K8,I8,2026-01-10,dunning,,Level 2 reminder,
A4,K9,I9,2026-02-03,dispute,,customer disputes pricing,
"""
COMPANY = Company(name="Acme Supplies Ltd", email="ar@acme.example", phone="+44 117 496 0000",
                  remittance=("IBAN GB33 BUKB 2020 1555 5555 55",))  # fmt: skip


@pytest.fixture
def company_db(tmp_path):
    files = {"customers": CUSTOMERS, "invoices": INVOICES, "payments": PAYMENTS,
             "activities": ACTIVITIES}  # fmt: skip
    return store_from_texts(tmp_path, "company.duckdb", files)


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def decisions(store, as_of: dt.date, policy=None) -> dict[str, tuple]:
    """customer -> ("notice", level) or (skip kind, reason)."""
    run = dunning.propose(store, as_of, policy)
    out = {n.customer.customer_id: ("notice", n.level.level) for n in run.notices}
    out |= {s.customer.customer_id: (s.kind, s.reason) for s in run.skipped}
    return out


def test_contacts_and_the_block_flag_import(company_db):
    with Store.open(company_db, read_only=True) as store:
        people = st.customers(store)
        levels = dict(store.rows("SELECT activity_id, level FROM activities"))
    k1 = people["K1"]
    assert (k1.contact_name, k1.email, k1.phone) == (
        "Kim Lee",
        "ap@kestrel.example",
        "+44 20 7946 0001",
    )
    assert people["K4"].dunning_blocked and not k1.dunning_blocked
    assert levels == {"A1": None, "A2": 3, "A3": None, "A4": None}


def test_skips_say_why(company_db):
    with Store.open(company_db, read_only=True) as store:
        got = decisions(store, day("2026-02-07"))
    assert got["K2"] == ("dispute", "open dispute on I2")  # the invoice's flag
    assert got["K9"] == ("dispute", "open dispute on I9")  # a dated dispute activity
    assert got["K3"] == ("promise", "promised to pay by 15 February 2026")
    assert got["K4"] == ("blocked", "dunning blocked for this customer")
    assert got["K5"] == ("threshold", "past due below level 1's minimum of 50.00")
    # K6's level-3 notice was about I6OLD, paid since: its I6 starts again at level 1.
    assert got["K6"] == ("notice", 1)
    # K8's "Level 2 reminder" counts as level 2; 28 days later and 68 days past due: level 3.
    assert got["K8"] == ("notice", 3)
    with Store.open(company_db, read_only=True) as store:
        assert decisions(store, day("2026-02-02"))["K9"][0] == "threshold"  # disputed from 3 Feb
        assert decisions(store, day("2026-02-16"))["K3"] == ("notice", 1)  # the promise expired


def test_levels_advance_one_step_per_confirmed_run(company_db):
    """K7 is 120+ days past due from the start, yet goes 1, 2, 3, 4 one run at a time, each at
    least 14 days after the previous notice; K1 waits for each level's days past due."""
    runs = [
        ("2026-02-05", {"K1": ("threshold", "oldest item 5 days past due; level 1 needs 7"), "K7": ("notice", 1)}),
        ("2026-02-07", {"K1": ("notice", 1), "K7": ("wait", "level 1 sent 2 days ago; level 2 needs 14")}),
        ("2026-02-19", {"K1": ("threshold", "oldest item 19 days past due; level 2 needs 30"), "K7": ("notice", 2)}),
        ("2026-03-02", {"K1": ("notice", 2), "K7": ("wait", "level 2 sent 11 days ago; level 3 needs 14")}),
        ("2026-03-05", {"K1": ("threshold", "oldest item 33 days past due; level 3 needs 60"), "K7": ("notice", 3)}),
        ("2026-04-01", {"K1": ("notice", 3), "K7": ("notice", 4)}),
        ("2026-05-01", {"K1": ("notice", 4), "K7": ("final", "at the last level (4) since 1 April 2026")}),
    ]  # fmt: skip
    for when, expected in runs:
        with Store.open(company_db) as store:
            run = dunning.propose(store, day(when))
            got = decisions(store, day(when))
            assert {k: got[k] for k in expected} == expected, when
            assert dunning.confirm(store, run) == len(run.notices)
            # Running again on the same day proposes nothing new and records nothing twice.
            again = dunning.propose(store, day(when))
            assert again.notices == []
            assert {s.kind for s in again.skipped if s.customer.customer_id in expected} <= {
                "today",
                "threshold",
                "wait",
                "final",
            }
            assert dunning.confirm(store, run) == 0
    with Store.open(company_db, read_only=True) as store:
        history = dunning.history(store, "K7")
        k1 = dunning.history(store, "K1")
    assert list(history["level"]) == [4, 3, 2, 1]
    assert [d.date() for d in history["activity_date"]] == [
        day("2026-04-01"), day("2026-03-05"), day("2026-02-19"), day("2026-02-05")]  # fmt: skip
    assert list(history["document"]) == [f"DUN-{d:%Y%m%d}-K7-L{n}.pdf" for d, n in
                                         zip(history["activity_date"], [4, 3, 2, 1], strict=True)]  # fmt: skip
    assert list(k1["level"]) == [4, 3, 2, 1] and set(k1["invoice_id"]) == {"I1"}
    assert set(history["outcome"]) >= {"level 1 friendly reminder", "level 4 account on hold"}


def test_a_notice_carries_the_call_sheet_and_the_charges(company_db, tmp_path):
    policy_file = tmp_path / "policy.toml"
    policy_file.write_text(
        dunning.default_policy_text().replace(
            "min_past_due = 50\n", "min_past_due = 50\nfee = 10\ninterest_rate = 8\n", 1
        )  # fmt: skip
    )
    policy = dunning.load_policy(policy_file)
    with Store.open(company_db, read_only=True) as store:
        run = dunning.propose(store, day("2026-02-07"), policy)
    k1 = next(n for n in run.notices if n.customer.customer_id == "K1")
    [due] = k1.dues
    assert (due.currency, due.past_due, due.oldest_days, due.oldest_invoice) == (
        "EUR",
        Decimal("750.00"),
        7,
        "I1",
    )
    # Interest: 750 × 7 days × 8% / 365 = 1.1506… → 1.15.
    assert (due.fee, due.interest, due.total_due) == (
        Decimal("10"),
        Decimal("1.15"),
        Decimal("761.15"),
    )
    body = k1.body(COMPANY)
    assert body.startswith("Dear Kim Lee,")
    assert "€750.00 past due as of 7 February 2026: €750 is past due." in body
    assert "- I1: €750.00, due 31 January 2026" in body
    assert (
        k1.subject(COMPANY)
        == "Payment reminder: €750.00 past due on your account with Acme Supplies Ltd"
    )
    k7 = next(n for n in run.notices if n.customer.customer_id == "K7")
    assert "€2,000 is over 120 days past due" in k7.fields(COMPANY)["sentence"]
    assert dunning.load_policy().level(1).fee == 0  # the shipped policy charges nothing


@pytest.mark.parametrize(
    "change, message",
    [
        ((": {sentence}.", ": {sentence.__class__}."), "unknown field {sentence.__class__}"),
        ((": {sentence}.", ": {secret}."), "unknown field {secret}"),
        (
            ("days_past_due = 30", "days_past_due = 3"),
            "level 2 days_past_due 3 is below level 1's 7",
        ),
        (("level = 2", "level = 5"), "levels are numbered 1, 2, 3"),
        (("min_past_due = 50", "min_past_due = -1"), "min_past_due = -1: give a number, 0 or more"),
    ],
)
def test_a_wrong_policy_is_one_line_naming_the_level(tmp_path, change, message):
    path = tmp_path / "policy.toml"
    path.write_text(dunning.default_policy_text().replace(*change, 1))
    with pytest.raises(dunning.PolicyError, match=message.replace("{", r"\{").replace("(", r"\(")):
        dunning.load_policy(path)


def test_letter_pdf_and_eml_with_the_statement_attached(company_db, tmp_path):
    with Store.open(company_db, read_only=True) as store:
        run = dunning.propose(store, day("2026-02-07"))
        k1 = next(n for n in run.notices if n.customer.customer_id == "K1")
        statements = st.statements(
            store, day("2026-02-07"), customer_ids=["K1"], open_items_only=True
        )
    pdf = render.letter_pdf(k1, statements, None)
    pages = PdfReader(io.BytesIO(pdf)).pages
    assert len(pages) == 2
    assert (
        "Dear Kim Lee," in pages[0].extract_text()
        and "DUN-20260207-K1-L1" in pages[0].extract_text()
    )
    assert (
        "Statement of open items" in pages[1].extract_text()
        and "€750.00" in pages[1].extract_text()
    )
    path = mail.write_eml(mail.notice_message(k1, COMPANY, pdf), tmp_path / "k1.eml")
    parsed = email.message_from_bytes(path.read_bytes(), policy=email_policy.default)
    assert parsed["To"] == "Kim Lee <ap@kestrel.example>"
    assert parsed["From"] == "Acme Supplies Ltd <ar@acme.example>"
    assert parsed["Subject"].startswith("Payment reminder: €750.00 past due")
    assert parsed["X-Unsent"] == "1"
    assert "Dear Kim Lee," in parsed.get_body(("plain",)).get_content()
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_filename() == "DUN-20260207-K1-L1.pdf"
    assert attachment.get_content() == pdf
    k7 = next(n for n in run.notices if n.customer.customer_id == "K7")
    assert (
        str(mail.notice_message(k7, COMPANY, pdf)["To"]) == "Aino <ap@late.example>"
    )  # bad one dropped
    k6 = next(n for n in run.notices if n.customer.customer_id == "K6")
    assert mail.notice_message(k6, COMPANY, pdf)["To"] is None  # no email: a letter to post


def test_cli_dry_run_confirm_history_and_send(company_db, tmp_path, capsys, monkeypatch):
    db, out = str(company_db), tmp_path / "run"
    args = ["dunning", "run", "--as-of", "2026-02-07", "--out", str(out), "--db", db]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "dry run: nothing recorded" in printed and "4 notices, level 1: 3, level 3: 1" in printed
    assert sorted(p.name for p in out.glob("*.eml")) == [
        "DUN-20260207-K1-L1.eml", "DUN-20260207-K6-L1.eml", "DUN-20260207-K7-L1.eml",
        "DUN-20260207-K8-L3.eml"]  # fmt: skip
    proposal = (out / "proposal.csv").read_text("utf-8-sig")
    assert "open dispute on I2" in proposal and "DUN-20260207-K8-L3" in proposal
    with Store.open(company_db, read_only=True) as store:
        assert dunning.history(store).query("activity_date >= '2026-02-01'").empty
    assert main([*args, "--send", "--confirm"]) == 1
    assert "--send needs [smtp] settings" in capsys.readouterr().err
    assert main([*args, "--send"]) == 1
    assert "give --confirm too" in capsys.readouterr().err

    sent = []

    class FakeSMTP:
        def __init__(self, host, port, timeout=None):
            self.host = host

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def starttls(self, context=None):
            pass

        def login(self, user, password):
            assert (user, password) == ("ar", "s3cret")

        def send_message(self, message, from_addr=None):
            sent.append(message)

    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setenv("TEST_SMTP_PASSWORD", "s3cret")
    config = tmp_path / "arlens.toml"
    config.write_text('[company]\nname = "Acme"\nemail = "ar@acme.example"\n'
                      '[smtp]\nhost = "localhost"\nusername = "ar"\npassword_env = "TEST_SMTP_PASSWORD"\n')  # fmt: skip
    assert main([*args, "--confirm", "--send", "--config", str(config)]) == 0
    printed = capsys.readouterr().out
    assert [str(m["To"]) for m in sent] == [
        "Kim Lee <ap@kestrel.example>",
        "Aino <ap@late.example>",
    ]
    assert sent[0]["X-Unsent"] is None
    assert "recorded 2 notices" in printed  # only what was sent: K6 and K8 have no address
    assert main(["dunning", "history", "--format", "csv", "--db", db]) == 0
    history = capsys.readouterr().out
    assert "DUN-20260207-K1-L1" in history and "DUN-20260207-K6-L1" not in history
    assert (
        main(
            ["dunning", "run", "--as-of", "2026-02-07", "--confirm", "--out", str(out), "--db", db]
        )
        == 0
    )
    assert "recorded 2 notices" in capsys.readouterr().out  # K6 and K8; K1 had its notice today
    assert main(["dunning", "policy"]) == 0 and "[[levels]]" in capsys.readouterr().out
    assert main(["dunning", "history", "--customer", "K0", "--db", db]) == 1


def test_a_version_6_file_gets_the_new_columns(tmp_path):
    path = tmp_path / "old.duckdb"
    with Store.open(path) as store:
        for table, column in (("customers", "contact_name"), ("customers", "email"),
                              ("customers", "phone"), ("customers", "dunning_blocked"),
                              ("activities", "level"), ("activities", "document")):  # fmt: skip
            store.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
        store.execute("UPDATE store_meta SET schema_version = 6")
    with Store.open(path) as store:
        assert store.schema_version() == SCHEMA_VERSION
        columns = {r[0] for r in store.rows("SELECT column_name FROM duckdb_columns() "
                                            "WHERE table_name IN ('customers', 'activities')")}  # fmt: skip
    assert {"contact_name", "email", "phone", "dunning_blocked", "level", "document"} <= columns


def test_one_customers_letter_for_a_page(company_db):
    """What the worklist page calls: the customer's notice (or why none), then its files."""
    from arlens.collections.config import Settings

    with Store.open(company_db, read_only=True) as store:
        k1 = dunning.notice_for(store, "K1", day("2026-02-07"))
        assert dunning.notice_for(store, "K2", day("2026-02-07")).reason == "open dispute on I2"
        assert dunning.notice_for(store, "K1", day("2026-01-15")) is None  # nothing past due yet
        pdf, message = mail.notice_files(store, k1, Settings(company=COMPANY))
    assert (k1.level.level, k1.reference) == (1, "DUN-20260207-K1-L1")
    assert "Statement of open items" in PdfReader(io.BytesIO(pdf)).pages[1].extract_text()
    assert next(message.iter_attachments()).get_content() == pdf
