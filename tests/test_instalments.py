"""Payment schedules: an invoice due in instalments ages, falls past due, is dunned and is named on
the call sheet per instalment; what was settled pays the instalments in due-date order.

The hand-worked ledger (amounts in USD):
  C1  INV-1 1,000.00 invoiced 1 Jan 2026 in two instalments: 400.00 due 31 Jan (D1), 600.00 due
      2 Mar (D2); P1 pays 500.00 on 10 Feb.
  C2  INV-2 100.00 invoiced 1 Jan in thirds by share (0.33333333, 0.33333333, 0.33333334) due
      15 Feb, 15 Mar, 15 Apr: 33.33, 33.33 and, taking the rounding, 33.34.
  C3  INV-3 1,000.00 due 31 Jan with instalments of 300.00 + 600.00 = 900.00: they do not add up,
      so the invoice stays due on 31 Jan (and the import says so). CM-1, a credit memo of 200.00,
      names instalments too: credit memos are never due in instalments.
  C4  INV-4 3,000.00 invoiced 1 Dec 2025 in three instalments of 1,000.00 due 31 Dec, 30 Jan,
      1 Mar; P4 pays 500.00 on 15 Jan. INV-5 1,200.00 due 28 Feb 2026, no schedule.
  C5  INV-6 800.00, disputed, in two instalments of 400.00 due 31 Jan and 28 Feb.
Every expected value below is worked by hand in the comment beside it.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from decimal import Decimal
from pathlib import Path

import pytest
import reference as ref
import test_metrics_reference as mr
from conftest import DATA
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from arlens import metrics, queries
from arlens.collections import dunning, statements
from arlens.ingest.derive import rebuild_derived
from arlens.ingest.importer import import_file
from arlens.store import Store

CUSTOMERS = """customer_id,name,currency
C1,Acme Ltd,USD
C2,Beta Inc,USD
C3,Gamma LLC,USD
C4,Delta Corp,USD
C5,Epsilon SA,USD
"""
INVOICES = """invoice_id,customer_id,invoice_date,due_date,amount,doc_type,disputed,applies_to
INV-1,C1,2026-01-01,2026-03-02,1000.00,invoice,false,
INV-2,C2,2026-01-01,2026-04-15,100.00,invoice,false,
INV-3,C3,2026-01-01,2026-01-31,1000.00,invoice,false,
CM-1,C3,2026-01-05,2026-01-05,-200.00,credit_memo,false,
INV-4,C4,2025-12-01,2026-03-01,3000.00,invoice,false,
INV-5,C4,2026-01-29,2026-02-28,1200.00,invoice,false,
INV-6,C5,2026-01-01,2026-02-28,800.00,invoice,true,
"""
PAYMENTS = """payment_id,customer_id,payment_date,amount,invoice_id
P1,C1,2026-02-10,500.00,INV-1
P4,C4,2026-01-15,500.00,INV-4
"""
INSTALMENTS = """invoice_id,due_date,amount,share
INV-1,2026-01-31,400.00,
INV-1,2026-03-02,600.00,
INV-2,2026-02-15,,0.33333333
INV-2,2026-03-15,,0.33333333
INV-2,2026-04-15,,0.33333334
INV-3,2026-01-31,300.00,
INV-3,2026-03-02,600.00,
CM-1,2026-01-05,100.00,
CM-1,2026-02-05,100.00,
INV-4,2025-12-31,1000.00,
INV-4,2026-01-30,1000.00,
INV-4,2026-03-01,1000.00,
INV-6,2026-01-31,400.00,
INV-6,2026-02-28,400.00,
"""


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def load(store: Store, write, **files: str) -> dict:
    """Import the given CSV texts (table name -> text) in the order given; the results by table."""
    results = {}
    for table, text in files.items():
        results[table] = import_file(store, write(f"{table}.csv", text), table)
    return results


@pytest.fixture
def ledger(write):
    with Store.memory() as store:
        results = load(
            store,
            write,
            customers=CUSTOMERS,
            invoices=INVOICES,
            payments=PAYMENTS,
            invoice_instalments=INSTALMENTS,
        )
        store.results = results
        yield store


def items(store: Store, as_of: dt.date, customer: str) -> set[tuple]:
    """(invoice, instalment, due date, amount, open amount, days past due) open at as_of."""
    rows = store.rows(
        "SELECT invoice_id, instalment, due_date, amount, open_amount, days_past_due "
        "FROM open_documents($d) WHERE customer_id = $c",
        {"d": as_of, "c": customer},
    )
    return {(i, n, due, float(a), float(o), days) for i, n, due, a, o, days in rows}


def aging_row(store: Store, as_of: dt.date, customer: str) -> dict:
    """The customer's aging by bucket (non-zero ones), past due and total."""
    frame = metrics.aging(store, as_of).set_index("customer_id")
    if customer not in frame.index:
        return {}
    row = frame.loc[customer]
    buckets = ["Current", "1-30", "31-60", "61-90", "91-120", "121+"]
    out = {b: round(float(row[b]), 2) for b in buckets if row[b]}
    return out | {
        "past_due": round(float(row["past_due"]), 2),
        "total": round(float(row["total"]), 2),
    }


# -- C1: two instalments by amount, a payment that settles the first -------------------------------


def test_a_payment_settles_the_first_instalment_and_part_of_the_second(ledger):
    """1,000 in 400 (D1) + 600 (D2), 500 paid: instalment 1 settled, instalment 2 open 500 aged
    from D2."""
    # 15 Apr: settled 500 → instalment 1 (400) paid, 100 of instalment 2 → 500 open, due 2 Mar:
    # 15 Apr − 2 Mar = 44 days.
    assert items(ledger, day("2026-04-15"), "C1") == {
        ("INV-1", 2, day("2026-03-02"), 600.0, 500.0, 44)
    }


@pytest.mark.parametrize(
    "as_of, expected",
    [
        # 5 Feb, before the payment: instalment 1 (400, due 31 Jan) is 5 days past due (1-30),
        # instalment 2 (600, due 2 Mar) is current. The invoice's own due date (2 Mar) would have
        # had nothing past due.
        ("2026-02-05", {"Current": 600.0, "1-30": 400.0, "past_due": 400.0, "total": 1000.0}),
        # 20 Feb, after P1 (500 on 10 Feb): instalment 1 paid, instalment 2 open 500, current.
        ("2026-02-20", {"Current": 500.0, "past_due": 0.0, "total": 500.0}),
        # 15 Apr: instalment 2's 500 is 44 days past due (31-60).
        ("2026-04-15", {"31-60": 500.0, "past_due": 500.0, "total": 500.0}),
    ],
)
def test_aging_and_past_due_at_three_dates(ledger, as_of, expected):
    assert aging_row(ledger, day(as_of), "C1") == expected


def test_before_its_first_due_date_nothing_is_past_due_and_the_total_is_the_invoice(ledger):
    # 31 Jan: instalment 1 is due today (0 days: current), instalment 2 in 30 days.
    assert items(ledger, day("2026-01-31"), "C1") == {
        ("INV-1", 1, day("2026-01-31"), 400.0, 400.0, 0),
        ("INV-1", 2, day("2026-03-02"), 600.0, 600.0, -30),
    }
    assert aging_row(ledger, day("2026-01-31"), "C1") == {
        "Current": 1000.0,
        "past_due": 0.0,
        "total": 1000.0,
    }


# -- C2: shares with rounding ---------------------------------------------------------------------


def test_thirds_by_share_round_each_and_the_last_takes_the_rest(ledger):
    # 100.00 × 0.33333333 = 33.333333 → 33.33 (twice); the last: 100.00 − 66.66 = 33.34.
    assert ledger.rows(
        "SELECT instalment, due_date, amount, amount_before FROM instalment_parts "
        "WHERE invoice_id = 'INV-2' ORDER BY instalment"
    ) == [
        (1, day("2026-02-15"), Decimal("33.33"), Decimal("0.00")),
        (2, day("2026-03-15"), Decimal("33.33"), Decimal("33.33")),
        (3, day("2026-04-15"), Decimal("33.34"), Decimal("66.66")),
    ]
    # 15 Apr: 59 and 31 days past due (both 31-60), the last due today (current).
    assert aging_row(ledger, day("2026-04-15"), "C2") == {
        "Current": 33.34,
        "31-60": 66.66,
        "past_due": 66.66,
        "total": 100.0,
    }


# -- C3: a schedule that does not add up; a credit memo ----------------------------------------------


def test_a_schedule_that_does_not_add_up_leaves_the_invoice_on_its_own_due_date(ledger):
    # 300 + 600 = 900 ≠ 1,000: one row, due 31 Jan, 1,000 open; 15 Feb − 31 Jan = 15 days.
    assert items(ledger, day("2026-02-15"), "C3") == {
        ("INV-3", None, day("2026-01-31"), 1000.0, 1000.0, 15)
    }
    notes = "\n".join(ledger.results["invoice_instalments"].notes)
    assert (
        "instalments of 1 invoice: they do not add up to the invoice (not used: the invoice stays "
        "due on its own due date until its instalments add up to its amount, or their shares to "
        "100%): INV-3 (instalments 900.00, invoice 1,000.00)"
    ) in notes
    assert "instalments of 1 invoice: it is a credit memo (kept but not used" in notes
    assert "CM-1" in notes


def test_a_credit_memo_is_never_split_and_stays_an_unapplied_credit(ledger):
    assert ledger.rows("SELECT * FROM instalment_parts WHERE invoice_id = 'CM-1'") == []
    open_items = metrics.open_items(ledger, day("2026-02-15"))
    credit = open_items[open_items["document_id"] == "CM-1"]
    assert [(r.item_type, round(r.open_amount, 2)) for r in credit.itertuples()] == [
        ("unapplied_credit", -200.0)
    ]


def test_rejected_rows_name_the_line_and_why(write):
    with Store.memory() as store:
        load(store, write, invoices=INVOICES)
        result = import_file(
            store,
            write(
                "bad.csv",
                "invoice_id,due_date,amount,share\n"
                "INV-1,2026-01-31,-400.00,\n"
                "INV-1,2026-03-02,,\n"
                "INV-2,2026-02-15,,50\n"
                "INV-5,2026-02-28,1200.00,\n",
            ),
            "invoice_instalments",
        )
        reasons = {(r["line"], r["column"]): r["reason"] for r in result.rejected_sample}
    assert (result.rows_loaded, result.rows_rejected) == (1, 3)
    assert reasons[(2, "amount")].startswith("an instalment of zero or less")
    assert reasons[(3, "amount")] == "neither an amount nor a share of the invoice"
    assert reasons[(4, "share")].startswith("a share is a fraction of the invoice from 0 to 1")


# -- C4: the collector's worklist and sentence; dunning ---------------------------------------------

AS_OF = day("2026-04-15")


def test_worklist_names_an_invoice_once_with_its_past_due_part(ledger):
    """At 15 Apr, INV-4 (3,000 less 500 paid) is past due in three instalments: 500 due 31 Dec
    (105 days, 91-120), 1,000 due 30 Jan (75 days, 61-90), 1,000 due 1 Mar (45 days, 31-60);
    INV-5's 1,200 is 46 days past due (31-60). Past due 3,700."""
    row = metrics.worklist(ledger, AS_OF).set_index("customer_id").loc["C4"]
    assert round(float(row.past_due), 2) == 3700.0
    # Oldest bucket after 1-30 holding ≥ 20% of 3,700 (740) or ≥ 1,000: 91-120 has 500 (no),
    # 61-90 has 1,000 (yes) → "over 60 days": 1,000 + 500 = 1,500.
    assert row.summary == "$1,500 is over 60 days past due"
    assert int(row.max_days_past_due) == 105
    # The largest past-due invoices: INV-4 once, 500 + 1,000 + 1,000 = 2,500, due since its oldest
    # past-due instalment (31 Dec); then INV-5 1,200 due 28 Feb.
    assert (row.invoice_1, round(float(row.invoice_1_amount), 2), row.invoice_1_due.date()) == (
        "INV-4",
        2500.0,
        day("2025-12-31"),
    )
    assert (row.invoice_2, round(float(row.invoice_2_amount), 2), row.invoice_2_due.date()) == (
        "INV-5",
        1200.0,
        day("2026-02-28"),
    )
    # Priority Σ open × days: 500×105 + 1,000×75 + 1,000×45 + 1,200×46 = 227,700.
    assert round(float(row.priority), 2) == 227700.0


def test_dunning_state_counts_each_instalment_from_its_due_date(ledger):
    state = dunning._state(ledger, AS_OF, 0)
    [c4] = state["C4"]
    # Past due 3,700; oldest item instalment 1 of INV-4, due 31 Dec (105 days); interest base
    # Σ open × days = 227,700 (as on the worklist).
    assert (c4["past_due"], c4["oldest_due"], c4["oldest_days"], c4["oldest_invoice"]) == (
        Decimal("3700.00"),
        day("2025-12-31"),
        105,
        "INV-4",
    )
    assert c4["amount_days"] == Decimal("227700.00")
    # INV-6 (disputed) is past due in two instalments (400 due 31 Jan, 400 due 28 Feb): the
    # dispute names it once.
    [c5] = state["C5"]
    assert (c5["past_due"], c5["disputed"]) == (Decimal("800.00"), ["INV-6"])


def test_a_dunning_run_skips_the_disputed_invoice_once_and_dunns_the_rest(ledger):
    run = dunning.propose(ledger, AS_OF)
    skipped = {s.customer.customer_id: s.reason for s in run.skipped}
    assert skipped["C5"] == "open dispute on INV-6"
    notice = {n.customer.customer_id: n for n in run.notices}["C4"]
    [due] = notice.dues
    assert due.largest == (
        ("INV-4", Decimal("2500.00"), day("2025-12-31")),
        ("INV-5", Decimal("1200.00"), day("2026-02-28")),
    )


def test_statement_lists_each_open_instalment(ledger):
    statement = statements.statement(ledger, "C4", AS_OF, open_items_only=True)
    # each instalment with its part (original) and what is open of it, by due date
    lines = [
        (ln.document, ln.description, ln.due_date, ln.original, ln.amount) for ln in statement.lines
    ]
    assert lines == [
        ("INV-4", "Instalment 1", day("2025-12-31"), Decimal("1000.00"), Decimal("500.00")),
        ("INV-4", "Instalment 2", day("2026-01-30"), Decimal("1000.00"), Decimal("1000.00")),
        ("INV-5", "Invoice", day("2026-02-28"), Decimal("1200.00"), Decimal("1200.00")),
        ("INV-4", "Instalment 3", day("2026-03-01"), Decimal("1000.00"), Decimal("1000.00")),
    ]
    assert statement.closing == Decimal("3700.00")


# -- peer-style cases: ERPNext's accounts receivable report, based_on_payment_terms ----------------
# ERPNext shows one line per payment-schedule row with its own due date and outstanding, and
# allocates an invoice's payments and credit notes to its terms in due-date order. Our own data.


@pytest.fixture
def erp_style(write):
    """INV-7 1,200 in three terms of 400 due 31 Jan, 28 Feb, 31 Mar; a credit note of 300
    against it on 10 Feb; 500 paid on 5 Mar. INV-8 600 in two terms of 50% (portion written
    as a percentage); 700 paid on 20 Feb (100 more than the invoice). INV-9 900 in two terms,
    written off on 31 Mar."""
    with Store.memory() as store:
        load(
            store,
            write,
            invoices="invoice_id,customer_id,invoice_date,due_date,amount,doc_type,applies_to,"
            "written_off_on\n"
            "INV-7,K1,2026-01-01,2026-03-31,1200.00,invoice,,\n"
            "CN-7,K1,2026-02-10,2026-02-10,-300.00,credit_memo,INV-7,\n"
            "INV-8,K1,2026-01-15,2026-03-16,600.00,invoice,,\n"
            "INV-9,K2,2026-01-01,2026-02-28,900.00,invoice,,2026-03-31\n",
            payments="payment_id,customer_id,payment_date,amount,invoice_id\n"
            "PE-1,K1,2026-03-05,500.00,INV-7\n"
            "PE-2,K1,2026-02-20,700.00,INV-8\n",
            invoice_instalments="Sales Invoice,Due Date,Invoice Portion\n"
            "INV-7,2026-01-31,33.333333\n"
            "INV-7,2026-02-28,33.333333\n"
            "INV-7,2026-03-31,33.333334\n"
            "INV-8,2026-02-14,50%\n"
            "INV-8,2026-03-16,50\n"
            "INV-9,2026-01-31,50\n"
            "INV-9,2026-02-28,50\n",
        )
        yield store


def test_erp_terms_read_the_portion_as_a_percentage(erp_style):
    shares = erp_style.rows(
        "SELECT invoice_id, due_date, share FROM invoice_instalments ORDER BY 1, 2"
    )
    # 33.333333 → 0.33333333; "50%" and "50" → 0.5.
    assert [s for _, _, s in shares] == [
        Decimal("0.33333333"),
        Decimal("0.33333333"),
        Decimal("0.33333334"),
        Decimal("0.50000000"),
        Decimal("0.50000000"),
        Decimal("0.50000000"),
        Decimal("0.50000000"),
    ]


def test_erp_credit_note_and_payment_settle_terms_in_due_date_order(erp_style):
    # 1,200 × 0.33333333 = 399.999996 → 400.00 (twice); the last 1,200 − 800 = 400.00.
    # 15 Feb: the credit note's 300 pays 300 of term 1 → term 1 open 100 (15 days: 1-30),
    # terms 2 and 3 open 400 each, not yet due.
    assert items(erp_style, day("2026-02-15"), "K1") - _inv8(erp_style, "2026-02-15") == {
        ("INV-7", 1, day("2026-01-31"), 400.0, 100.0, 15),
        ("INV-7", 2, day("2026-02-28"), 400.0, 400.0, -13),
        ("INV-7", 3, day("2026-03-31"), 400.0, 400.0, -44),
    }
    # 10 Mar: 300 + 500 = 800 settled: terms 1 and 2 paid, term 3 open 400 (due in 21 days).
    assert items(erp_style, day("2026-03-10"), "K1") == {
        ("INV-7", 3, day("2026-03-31"), 400.0, 400.0, -21)
    }


def _inv8(store, as_of):
    return {row for row in items(store, day(as_of), "K1") if row[0] == "INV-8"}


def test_erp_overpayment_settles_every_term_and_leaves_unapplied_cash(erp_style):
    # 5 Feb: nothing paid yet → terms of 300 due 14 Feb and 16 Mar.
    assert _inv8(erp_style, "2026-02-05") == {
        ("INV-8", 1, day("2026-02-14"), 300.0, 300.0, -9),
        ("INV-8", 2, day("2026-03-16"), 300.0, 300.0, -39),
    }
    # 20 Feb: 700 paid on a 600 invoice → both terms settled; 100 is unapplied cash.
    assert _inv8(erp_style, "2026-02-20") == set()
    cash = metrics.open_items(erp_style, day("2026-02-20"))
    cash = cash[cash["item_type"] == "unapplied_cash"]
    assert [round(v, 2) for v in cash["open_amount"]] == [-100.0]


def test_erp_write_off_settles_the_remaining_terms(erp_style):
    # 15 Mar: both terms of 450 open (43 and 15 days: 31-60 and 1-30).
    assert aging_row(erp_style, day("2026-03-15"), "K2") == {
        "1-30": 450.0,
        "31-60": 450.0,
        "past_due": 900.0,
        "total": 900.0,
    }
    # 31 Mar: written off → nothing open.
    assert aging_row(erp_style, day("2026-03-31"), "K2") == {}


# -- imports: one fixture per system's shape ----------------------------------------------------------

SYSTEMS = {
    # ERPNext's Payment Schedule rows (parent, due_date, invoice_portion in percent,
    # payment_amount) for the Sales Invoice export in tests/data/exports.
    "erpnext_payment_schedule.csv": (
        "erpnext_sales_invoice.csv",
        {"invoice_id": "parent", "due_date": "due_date", "amount": "payment_amount",
         "portion_percent": "invoice_portion"},
        (7, 7, 0),
        [
            ("ACC-SINV-2026-00003", 1, "2026-02-21", "2070.00"),
            ("ACC-SINV-2026-00003", 2, "2026-03-21", "1380.00"),
            ("ACC-SINV-2026-00004", 1, "2026-03-05", "118295.00"),
            ("ACC-SINV-2026-00004", 2, "2026-04-04", "118295.00"),
            ("ACC-SINV-2026-00006", 1, "2026-03-29", "376020.00"),
            ("ACC-SINV-2026-00006", 2, "2026-04-28", "376020.00"),
            ("ACC-SINV-2026-00006", 3, "2026-05-28", "501360.00"),
        ],
    ),
    # Odoo's receivable journal items, one per term: the amount in the invoice's currency wins
    # over Debit (company currency); the credit note's negative line is rejected.
    "odoo_receivable_lines.csv": (
        "odoo_customer_invoices.csv",
        {"invoice_id": "Journal Entry", "due_date": "Due Date", "amount": "Amount in Currency"},
        (6, 5, 1),
        [
            ("INV/2026/00003", 1, "2026-02-18", "7260.00"),
            ("INV/2026/00003", 2, "2026-03-20", "7260.00"),
            ("INV/2026/00005", 1, "2026-03-18", "2016.67"),
            ("INV/2026/00005", 2, "2026-04-17", "2016.67"),
            ("INV/2026/00005", 3, "2026-05-17", "2016.66"),
        ],
    ),
    # SAP FBL5N with several line items per document, each with its net due date; the credit
    # memo's line (1,200.00-) is rejected.
    "sap_fbl5n_line_items.csv": (
        "sap_fbl5n_en.csv",
        {"invoice_id": "Document Number", "due_date": "Net due date",
         "amount": "Amount in doc. curr."},
        (5, 4, 1),
        [
            ("90000023", 1, "2026-02-21", "4100.00"),
            ("90000023", 2, "2026-03-23", "4100.00"),
            ("90000040", 1, "2026-03-18", "10500.00"),
            ("90000040", 2, "2026-04-17", "10500.00"),
        ],
    ),
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(SYSTEMS))
def test_system_export_imports_as_a_payment_schedule(store, name):
    invoices, columns, counts, parts = SYSTEMS[name]
    import_file(store, DATA / "exports" / invoices, "invoices")
    result = import_file(store, DATA / "instalments" / name, "invoice_instalments")
    assert result.mapping["sources"][0]["columns"] == columns
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == counts
    assert (
        store.rows(
            "SELECT invoice_id, instalment, due_date::VARCHAR, amount::VARCHAR FROM instalment_parts "
            "ORDER BY invoice_id, instalment"
        )
        == parts
    )
    # Every schedule adds up to its invoice: the open items total what the invoices leave open.
    split, whole = store.rows(
        "SELECT (SELECT sum(open_amount) FROM open_documents(DATE '2026-04-30')), "
        "(SELECT sum(amount - coalesce(applied, 0)) FROM open_invoices "
        " WHERE coalesce(last_applied_on, DATE '2026-04-30') <= DATE '2026-04-30')"
    )[0]
    assert split == whole


def test_erpnext_schedule_ages_each_term_at_the_export_date(store):
    import_file(store, DATA / "exports" / "erpnext_sales_invoice.csv", "invoices")
    import_file(store, DATA / "instalments" / "erpnext_payment_schedule.csv", "invoice_instalments")
    # ACC-SINV-2026-00004: 2,36,590 in two halves of 1,18,295 due 5 Mar and 4 Apr; the export's
    # outstanding 1,36,590 means 1,00,000 was paid by the export date (9 Apr, the file's newest
    # date): term 1 open 18,295 (35 days), term 2 open 1,18,295 (5 days).
    rows = store.rows(
        "SELECT instalment, open_amount, days_past_due FROM open_documents(DATE '2026-04-09') "
        "WHERE invoice_id = 'ACC-SINV-2026-00004' ORDER BY instalment"
    )
    assert rows == [(1, Decimal("18295.00"), 35), (2, Decimal("118295.00"), 5)]


# -- incremental upkeep ------------------------------------------------------------------------------


def parts(store: Store) -> list[tuple]:
    return sorted(store.rows("SELECT * FROM instalment_parts"), key=repr)


def test_instalments_before_their_invoice_apply_once_it_is_imported(write):
    with Store.memory() as store:
        first = load(store, write, invoice_instalments=INSTALMENTS)["invoice_instalments"]
        assert parts(store) == []
        assert any("the invoice is not in the store" in note for note in first.notes)
        load(store, write, customers=CUSTOMERS, invoices=INVOICES, payments=PAYMENTS)
        incremental = parts(store)
        rebuild_derived(store)
        assert parts(store) == incremental
        # INV-1, INV-2, INV-4, INV-6: 2 + 3 + 3 + 2 parts (INV-3 does not add up; CM-1 a credit).
        assert len(incremental) == 10


def test_an_invoice_whose_amount_changes_leaves_its_schedule_until_it_adds_up_again(ledger, write):
    result = import_file(
        ledger,
        write(
            "fix.csv", "invoice_id,customer_id,invoice_date,amount\nINV-1,C1,2026-01-01,1100.00\n"
        ),
        "invoices",
    )
    # 400 + 600 ≠ 1,100: INV-1 is due on its own due date (2 Mar), 1,100 − 500 = 600 open.
    assert any("INV-1 (instalments 1,000.00, invoice 1,100.00)" in n for n in result.notes)
    assert items(ledger, day("2026-04-15"), "C1") == {
        ("INV-1", None, day("2026-03-02"), 1100.0, 600.0, 44)
    }
    incremental = parts(ledger)
    rebuild_derived(ledger)
    assert parts(ledger) == incremental


def test_a_reimported_schedule_replaces_the_stored_one(ledger, write):
    # INV-3's schedule corrected: 400 + 600 = 1,000, the old 300 due 31 Jan goes.
    import_file(
        ledger,
        write(
            "fixed.csv",
            "invoice_id,due_date,amount\nINV-3,2026-02-15,400.00\nINV-3,2026-03-02,600.00\n",
        ),
        "invoice_instalments",
    )
    assert ledger.rows(
        "SELECT due_date::VARCHAR, amount::VARCHAR FROM invoice_instalments "
        "WHERE invoice_id = 'INV-3' ORDER BY due_date"
    ) == [("2026-02-15", "400.00"), ("2026-03-02", "600.00")]
    # 20 Feb: instalment 1 (400) 5 days past due, instalment 2 (600) current.
    assert items(ledger, day("2026-02-20"), "C3") == {
        ("INV-3", 1, day("2026-02-15"), 400.0, 400.0, 5),
        ("INV-3", 2, day("2026-03-02"), 600.0, 600.0, -10),
    }


def test_parts_of_settled_invoices_know_when_they_were_settled(ledger, write):
    # P5 pays INV-1's last 500 on 1 May: the invoice, and so its parts, are settled that day.
    import_file(
        ledger,
        write("p.csv", "payment_id,customer_id,payment_date,amount,invoice_id\n"
              "P5,C1,2026-05-01,500.00,INV-1\n"),
        "payments",
    )  # fmt: skip
    assert set(
        ledger.rows("SELECT settled_on FROM instalment_parts WHERE invoice_id = 'INV-1'")
    ) == {(day("2026-05-01"),)}
    # Before that day its instalment 2 is still open; from then on nothing.
    assert items(ledger, day("2026-04-30"), "C1") == {
        ("INV-1", 2, day("2026-03-02"), 600.0, 500.0, 59)
    }
    assert items(ledger, day("2026-05-01"), "C1") == set()
    incremental = parts(ledger)
    rebuild_derived(ledger)
    assert parts(ledger) == incremental


def test_month_end_balances_stay_on_the_invoice_due_date(ledger):
    """The trend and roll rates keep invoices whole, on their own due date (README): at 31 Jan
    C4 has INV-4 2,500 open (3,000 − 500) due 1 Mar and INV-5 1,200 due 28 Feb, all current,
    although INV-4's first instalments were due 31 Dec and 30 Jan."""
    assert ledger.rows(
        "SELECT bucket_index, open_amount FROM month_end_balances "
        "WHERE customer_id = 'C4' AND month_end = DATE '2026-01-31'"
    ) == [(0, Decimal("3700.00"))]
    # ... while the aging at that date splits INV-4: 500 due 31 Dec (31 days), 1,000 due 30 Jan
    # (1 day), 1,000 due 1 Mar and INV-5's 1,200 current.
    assert aging_row(ledger, day("2026-01-31"), "C4") == {
        "Current": 2200.0,
        "1-30": 1000.0,
        "31-60": 500.0,
        "past_due": 1500.0,
        "total": 3700.0,
    }


# -- parity with the independent pandas reference (tests/reference.py) ------------------------------


@st.composite
def ledgers_with_schedules(draw):
    """A random small company (test_metrics_reference.ledgers) whose invoices are now and then
    due in instalments: by amounts, by shares (rounding), or by a schedule that does not add up;
    credit memos get instalments too (never used)."""
    tables = draw(mr.ledgers())
    rows = []
    for invoice in tables["invoices"]:
        kind = draw(st.sampled_from(["none", "none", "amounts", "shares", "misfit"]))
        if kind == "none":
            continue
        cents = abs(int(invoice.get("_cents") or round(float(invoice["amount"]) * 100)))
        n = draw(st.integers(1, 4))
        offsets = sorted(draw(st.sets(st.integers(-10, 120), min_size=n, max_size=n)))
        dues = [invoice["invoice_date"] + k * mr.DAY for k in offsets]
        if kind == "shares":
            shares = draw(
                st.sampled_from(
                    [["1"], ["0.5", "0.5"], ["0.33333333", "0.33333333", "0.33333334"],
                     ["0.25", "0.75"], ["0.3", "0.3", "0.4"], ["0.1", "0.2", "0.3", "0.4"]]
                )
            )  # fmt: skip
            dues = [invoice["invoice_date"] + (10 + 17 * k) * mr.DAY for k in range(len(shares))]
            rows += [(invoice["invoice_id"], d, "", s) for d, s in zip(dues, shares, strict=True)]
            continue
        cuts = sorted(draw(st.sets(st.integers(1, max(cents - 1, 1)), max_size=n - 1)))
        edges = [0, *[c for c in cuts if 0 < c < cents], cents]
        parts = [b - a for a, b in zip(edges, edges[1:], strict=False)]
        if kind == "misfit":
            parts[-1] += draw(st.sampled_from([-1, 1, 100]))
        dues = dues[: len(parts)] + [
            dues[-1] + (k + 1) * mr.DAY for k in range(len(parts) - len(dues))
        ]
        rows += [
            (invoice["invoice_id"], d, mr._amount_text(p), "")
            for d, p in zip(dues, parts, strict=True)
            if p > 0
        ]
    return tables, rows, draw(mr.cases(tables))


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)
@given(ledgers_with_schedules())
def test_metrics_match_the_reference_with_payment_schedules(case):
    """Every metric equals the pandas reference, which splits invoices into instalments itself."""
    tables, schedule, case = case
    with tempfile.TemporaryDirectory() as folder, Store.memory() as store:
        mr.import_ledger(store, Path(folder), tables)
        if schedule:
            path = Path(folder) / "invoice_instalments.csv"
            path.write_text(
                "invoice_id,due_date,amount,share\n"
                + "".join(f"{i},{d.isoformat()},{a},{s}\n" for i, d, a, s in schedule)
            )
            import_file(store, path, "invoice_instalments")
        ledger = ref.load_ledger(store)
        failures = []
        for name, (call, keys, kinds) in mr.comparisons(case).items():
            if name == "open_items":  # an invoice's instalments share its document id
                keys = [*keys, "due_date"]
            try:
                mr.assert_same(name, call(metrics, store), call(ref, ledger), keys, kinds)
            except AssertionError as failure:
                failures.append(str(failure))
        assert not failures, "\n\n".join(failures)


def test_cash_collected_on_an_invoice_in_instalments_counts_once(ledger):
    """The forecast back-test's truth: at 31 Jan INV-1 is open in two instalments; P1's 500 on
    10 Feb is collected once (week of Monday 9 Feb), not once per instalment."""
    collected = ledger.rows(
        queries.sql("risk_model", "collected_by_week"),
        {"as_of": day("2026-01-31"), "weeks": 3},
    )
    # also INV-4's P4 (15 Jan) is before the date; nothing else is paid in those weeks
    assert collected == [("USD", day("2026-02-09"), 500.0)]
