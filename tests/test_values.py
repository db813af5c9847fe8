"""Values read as a careful person reads them: amounts per column, dates, currencies, re-exports."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from arlens.cli import main
from arlens.ingest import values
from arlens.ingest.importer import import_file
from arlens.store import Store

D = dt.date


def amounts(store) -> dict[str, Decimal]:
    return dict(store.rows("SELECT invoice_id, amount FROM invoices"))


def register(write, name: str, cells: list[str], delimiter: str = ",", extra: str = "") -> str:
    """An invoice file with one row per amount cell (quoted), invoice ids I1, I2, …"""
    header = delimiter.join(["invoice_id", "customer_id", "invoice_date", "amount"]) + extra
    lines = [header] + [
        delimiter.join([f"I{n}", "C1", "2026-01-05", f'"{cell}"'])
        for n, cell in enumerate(cells, 1)
    ]
    return write(name, "\n".join(lines) + "\n")


@pytest.mark.parametrize(
    "cells, delimiter, expected",
    [
        # European money with signs and codes on either side.
        (
            ["1.234,56 €", "1.234,56 EUR", "12,00 €", "EUR 7,5"],
            ";",
            ["1234.56", "1234.56", "12.00", "7.50"],
        ),
        # Whole euros with a thousands dot in a decimal-comma column.
        (["12,50", "1.234", "2.500,00"], ";", ["12.50", "1234.00", "2500.00"]),
        # A column of only `1.234` in a `;` file: the file's shape says European.
        (["1.234", "2.500"], ";", ["1234.00", "2500.00"]),
        # The same in a comma file reads with a decimal point... and has three decimals: rejected.
        (["$1,234.56", "1,234", "12.5"], ",", ["1234.56", "1234.00", "12.50"]),
        # Spaces, NBSP and narrow NBSP as thousands separators; Swiss apostrophes.
        (["1 234,56", "1\u00a0234,56", "1\u202f234,56"], ";", ["1234.56", "1234.56", "1234.56"]),
        (["1'234.56", "99.90"], ",", ["1234.56", "99.90"]),
        # Indian lakh grouping.
        (["1,18,000.00", "12,53,400.50"], ",", ["118000.00", "1253400.50"]),
        # Trailing zeros beyond cents are exact, not rounded.
        (["10.500", "3.10"], ",", ["10.50", "3.10"]),
    ],
)
def test_amounts_read_by_the_columns_format(store, write, cells, delimiter, expected):
    path = register(write, "r.csv", cells, delimiter)
    result = import_file(store, path, "invoices")
    assert result.rows_rejected == 0, result.summary()
    assert [amounts(store)[f"I{n}"] for n in range(1, len(cells) + 1)] == [
        Decimal(e) for e in expected
    ]


@pytest.mark.parametrize(
    "cells, line, fragment",
    [
        (["1,234.56", "12.50", "1.234,56"], 4, "with a decimal comma it reads 1234.56"),
        (["12,50", "1.234,56", "7.25"], 4, "with a decimal point it reads 7.25"),
        (["10.005", "12.50"], 2, "more than two decimals"),
        (["abc", "12.50"], 2, "not an amount"),
        (["12.3.4", "12.50"], 2, "not an amount"),
        (["(12.50", "12.50"], 2, "not an amount"),
    ],
)
def test_a_value_that_contradicts_its_column_is_rejected_with_both_readings(
    store, write, cells, line, fragment
):
    result = import_file(store, register(write, "r.csv", cells), "invoices")
    rejected = store.rows('SELECT line, "column", reason FROM rejected_rows')
    assert result.rows_rejected == 1
    assert rejected[0][:2] == (line, "amount") and fragment in rejected[0][2], rejected


def test_accounting_negatives_on_credit_memos(store, write):
    path = register(write, "cm.csv", ["(1,234.56)", "50.00-", "100.00 CR", "−12.00"])
    import_file(store, path, "credit_memos")
    assert amounts(store) == {
        "I1": Decimal("-1234.56"),
        "I2": Decimal("-50.00"),
        "I3": Decimal("-100.00"),
        "I4": Decimal("-12.00"),
    }


def test_currency_written_in_the_amount_is_the_documents(store, write):
    path = write(
        "r.csv",
        "invoice_id,customer_id,invoice_date,amount,currency\n"
        "I1,C1,2026-01-05,€12.00,\nI2,C1,2026-01-05,£5.00,GBP\nI3,C1,2026-01-05,EUR 5.00,USD\n",
    )
    result = import_file(store, path, "invoices")
    assert dict(store.rows("SELECT invoice_id, currency FROM invoices")) == {
        "I1": "EUR",
        "I2": "GBP",
    }
    assert result.rows_rejected == 1
    assert "written in EUR but the currency column says USD" in store.value(
        "SELECT reason FROM rejected_rows"
    )


@pytest.mark.parametrize(
    "texts, expected",
    [
        (["01/02/24", "12/31/24"], [D(2024, 1, 2), D(2024, 12, 31)]),
        (["12-Jan-24", "Jan 12, 2024", "12-Jan-2024"], [D(2024, 1, 12)] * 3),
        (["2024-01-12 00:00:00", "2024-01-12T09:30", "01/12/2024 9:30 AM"], [D(2024, 1, 12)] * 3),
        (["13/04/2024", "03/04/2024"], [D(2024, 4, 13), D(2024, 4, 3)]),
        (["03.04.2024"], [D(2024, 4, 3)]),
        (["12. März 2024", "12.Okt.2024", "12 févr. 2024", "3 août 2024"],
         [D(2024, 3, 12), D(2024, 10, 12), D(2024, 2, 12), D(2024, 8, 3)]),
        (["12-ene-2024", "5 dic 2024", "12 gen 2024", "1 ott 2024"],
         [D(2024, 1, 12), D(2024, 12, 5), D(2024, 1, 12), D(2024, 10, 1)]),
        (["12 mrt 2024", "1 mei 2024", "12 fev 2024", "1 out 2024"],
         [D(2024, 3, 12), D(2024, 5, 1), D(2024, 2, 12), D(2024, 10, 1)]),
        (["45292", "45322"], [D(2024, 1, 1), D(2024, 1, 31)]),
        (["20240131"], [D(2024, 1, 31)]),
    ],
)  # fmt: skip
def test_dates(texts, expected):
    column = values.read_date_column(texts, pivot=values.default_pivot(D(2026, 12, 1)))
    assert [column.values[t] for t in texts] == expected
    assert not column.reasons


def test_two_digit_year_pivot_and_impossible_dates():
    today = D(2026, 12, 1)
    assert values.default_pivot(today) == 47  # 20yy at most 20 years ahead: 2046 yes, 2047 no
    column = values.read_date_column(["01/02/46", "01/02/47", "02/30/2024"], pivot=47)
    assert column.values["01/02/46"] == D(2046, 1, 2)
    assert column.values["01/02/47"] == D(1947, 1, 2)
    assert column.values["02/30/2024"] is None and "no such day" in column.reasons["02/30/2024"]


def test_day_first_column_rejects_a_month_first_value_with_both_readings():
    column = values.read_date_column(["13/04/2024", "14/04/2024", "04/15/2024"])
    assert column.order == values.DMY
    assert column.values["04/15/2024"] is None
    assert "2024-04-15 month-first" in column.reasons["04/15/2024"]


def test_ids_lose_every_kind_of_padding_and_spreadsheet_floats(store, write):
    path = write(
        "r.csv",
        "invoice_id,customer_id,invoice_date,amount\n"
        "1002003004.0,\t0000101093\u00a0,2026-01-05,10.00\n"
        "1002003005.0,\u200b0000101093 ,2026-01-05,10.00\n",
    )
    result = import_file(store, path, "invoices")
    assert store.rows("SELECT invoice_id, customer_id FROM invoices ORDER BY 1") == [
        ("1002003004", "0000101093"),
        ("1002003005", "0000101093"),
    ]
    assert result.stub_customers == 1
    assert any("written as a decimal number" in n for n in result.notes)


def test_ids_differing_only_by_case_are_reported(store, write):
    import_file(store, register(write, "a.csv", ["1.00"]), "invoices")
    path = write("b.csv", "invoice_id,customer_id,invoice_date,amount\ni1,C1,2026-01-05,2.00\n")
    result = import_file(store, path, "invoices")
    assert any("only by case" in n and "'I1' and 'i1'" in n for n in result.notes)


def test_home_currency_set_once_then_changed_for_what_assumed_it(tmp_path, write, capsys):
    db = str(tmp_path / "h.duckdb")
    path = register(write, "r.csv", ["10.00"])
    assert main(["import", str(path), "--table", "invoices", "--db", db, "--currency", "eur"]) == 0
    other = write(
        "o.csv", "invoice_id,customer_id,invoice_date,amount,currency\nX1,C2,2026-01-05,5.00,GBP\n"
    )
    assert main(["import", str(other), "--table", "invoices", "--db", db]) == 0
    assert main(["import", str(path), "--table", "invoices", "--db", db, "--currency", "USD"]) == 1
    assert "home currency is EUR" in capsys.readouterr().err
    assert main(["config", "currency", "CHF", "--db", db]) == 0
    with Store.open(db, read_only=True) as store:
        assert store.rows("SELECT invoice_id, currency FROM invoices ORDER BY 1") == [
            ("I1", "CHF"),
            ("X1", "GBP"),
        ]
        assert store.rows("SELECT customer_id, currency FROM customers ORDER BY 1") == [
            ("C1", "CHF"),
            ("C2", "GBP"),
        ]


def test_no_currency_anywhere_takes_usd_and_says_so(store, write):
    result = import_file(store, register(write, "r.csv", ["10.00"]), "invoices")
    assert store.home_currency() == "USD"
    assert any("taken as USD" in n for n in result.notes)
    assert store.value("SELECT count(*) FROM invoices WHERE currency IS NULL") == 0


def test_payment_in_another_currency_is_not_applied(store, write):
    invoices = write(
        "i.csv",
        "invoice_id,customer_id,invoice_date,amount,currency\nI1,C1,2026-01-05,100.00,EUR\n",
    )
    payments = write(
        "p.csv",
        "payment_id,customer_id,payment_date,amount,invoice_id,currency\n"
        "P1,C1,2026-02-01,100.00,I1,USD\nP2,C1,2026-02-01,40.00,I1,EUR\n",
    )
    import_file(store, invoices, "invoices")
    result = import_file(store, payments, "payments")
    assert store.rows("SELECT source_id, amount FROM applications") == [("P2", Decimal("40.00"))]
    assert store.rows("SELECT document_id, currency, open_amount FROM unapplied") == [
        ("P1", "USD", Decimal("-100.00"))
    ]
    assert [(w[1], w[2], w[3]) for w in result.warnings if "another currency" in w[0]] == [
        ("USD", 1, 100.0)
    ]


def test_negative_payment_is_a_reversal_unless_a_refund(store, write):
    payments = write(
        "p.csv",
        "payment_id,customer_id,payment_date,amount,method\n"
        "P1,C1,2026-02-01,-50.00,wire\nP2,C1,2026-02-01,-20.00,Refund\n",
    )
    result = import_file(store, payments, "payments")
    assert store.rows("SELECT payment_id, amount FROM payments") == [("P2", Decimal("-20.00"))]
    assert result.rows_rejected == 1
    assert "negative payment" in store.value("SELECT reason FROM rejected_rows")


def test_partial_re_export_keeps_due_dates_doc_types_and_values_it_lacks(store, write):
    first = write(
        "a.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount,doc_type,po_number\n"
        "I1,C1,2026-01-05,2026-03-01,100.00,invoice,PO-1\n"
        "M1,C1,2026-01-06,2026-01-06,-10.00,credit_memo,\n",
    )
    second = write(
        "b.csv",
        "invoice_id,customer_id,invoice_date,amount,paid_date,po_number\n"
        "I1,C1,2026-01-05,100.00,2026-03-03,\nM1,C1,2026-01-06,-10.00,,\n",
    )
    import_file(store, first, "invoices")
    result = import_file(store, second, "invoices")  # no due dates, no document types
    assert result.rows_rejected == 0, result.summary()
    assert store.rows(
        "SELECT invoice_id, due_date, due_date_derived, doc_type, amount, po_number, paid_date "
        "FROM invoices ORDER BY 1"
    ) == [
        ("I1", D(2026, 3, 1), False, "invoice", Decimal("100.00"), "PO-1", D(2026, 3, 3)),
        ("M1", D(2026, 1, 6), False, "credit_memo", Decimal("-10.00"), None, None),
    ]


def test_open_items_export_settles_what_was_paid_before_the_export(store, write):
    invoices = write(
        "o.csv",
        "Invoice Number,Customer,Invoice Date,Due Date,Amount,Open Balance\n"
        "I1,C1,2026-01-05,2026-02-04,100.00,40.00\n"
        "I2,C1,2026-03-10,2026-04-09,70.00,70.00\n"
        "I3,C1,2026-02-01,2026-03-03,30.00,0.00\n",
    )
    result = import_file(store, invoices, "invoices")
    assert any("as of 2026-04-09" in n for n in result.notes)
    assert store.rows(
        "SELECT source_type, invoice_id, applied_on, amount FROM applications ORDER BY 2"
    ) == [
        ("open_balance", "I1", D(2026, 4, 9), Decimal("60.00")),
        ("open_balance", "I3", D(2026, 4, 9), Decimal("30.00")),
    ]
