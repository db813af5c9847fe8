"""Importing exports: formats, header synonyms, mapping files, and what happens to bad input."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import DATA, snapshot

from arlens import metrics
from arlens.ingest.importer import ImportFailed, _Import, import_file
from arlens.ingest.mapping import TABLES, Mapping, resolve_headers
from arlens.store import Store

D = dt.date


def invoice_rows(store):
    return store.rows(
        "SELECT invoice_id, customer_id, invoice_date, due_date, amount, doc_type, disputed "
        "FROM invoices ORDER BY invoice_id"
    )


def test_plain_register_with_settled_dates_and_unusual_headers(store):
    """An invoice register with only a settled date per invoice imports with nothing rejected."""
    result = import_file(store, DATA / "register_unusual_headers.csv", "invoices")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (5, 5, 0)
    assert result.stub_customers == 3
    assert result.mapping["sources"][0]["date_orders"]["invoice_date"] == "month-first"
    assert invoice_rows(store)[:2] == [
        (
            "0001001",
            "0000611365",
            D(2026, 1, 5),
            D(2026, 2, 4),
            Decimal("1200.00"),
            "invoice",
            False,
        ),
        (
            "0001002",
            "0000611365",
            D(2026, 1, 20),
            D(2026, 2, 19),
            Decimal("800.50"),
            "invoice",
            True,
        ),
    ]
    assert store.rows("SELECT * FROM applications ORDER BY invoice_id") == [
        ("paid_date", "0001001", "0001001", D(2026, 2, 10), Decimal("1200.00")),
        ("paid_date", "0001003", "0001003", D(2026, 3, 1), Decimal("2500.00")),
    ]
    # Worked by hand: open 800.50 + 99.99 + 10,000 on 31 Mar; past due 800.50 + 99.99.
    headline = metrics.headline(store, D(2026, 3, 31)).iloc[0]
    assert (round(headline.open_ar, 2), round(headline.past_due, 2), headline.open_invoices) == (
        10900.49,
        900.49,
        3,
    )


@pytest.mark.parametrize(
    "header, column, table",
    [
        ("Invoice No", "invoice_id", "invoices"),
        ("Inv #", "invoice_id", "invoices"),
        ("Document Number", "invoice_id", "invoices"),
        ("customerID", "customer_id", "invoices"),
        ("Cust No", "customer_id", "invoices"),
        ("Clearing Date", "paid_date", "invoices"),
        ("SettledDate", "paid_date", "invoices"),
        ("Net Due Date", "due_date", "invoices"),
        ("Payment Date", "paid_date", "invoices"),
        ("Payment Date", "payment_date", "payments"),
        ("Receipt No.", "payment_id", "payments"),
        ("Check Number", "reference", "payments"),
        ("Credit Limit", "credit_limit", "customers"),
        ("Last Review Date", "credit_limit_reviewed_on", "customers"),
        ("Terms", "payment_terms_days", "customers"),
        ("PTP Date", "promised_date", "activities"),
        ("Cost of Goods Sold", "cogs", "financials"),
    ],
)
def test_header_synonyms(header, column, table):
    chosen, _ = resolve_headers(["Something Else", header], TABLES[table], Mapping())
    assert chosen[column] == 1


def test_specific_header_wins_over_generic_one():
    """`Customer` (a name) must not take customer_id when `Customer No` is there."""
    chosen, _ = resolve_headers(["Customer", "Customer No"], TABLES["customers"], Mapping())
    assert chosen["customer_id"] == 1


def test_mapping_file_with_decimal_comma_and_value_maps(store):
    result = import_file(store, DATA / "erp_de.csv", "invoices", DATA / "erp_de.toml")
    assert result.rows_rejected == 0
    assert result.mapping["sources"][0]["detected"]["delimiter"] == ";"
    assert invoice_rows(store) == [
        (
            "GS-001",
            "00042",
            D(2026, 1, 20),
            D(2026, 1, 20),
            Decimal("-34.56"),
            "credit_memo",
            False,
        ),
        ("RE-001", "00042", D(2026, 1, 5), D(2026, 2, 4), Decimal("1234.56"), "invoice", True),
        ("RE-002", "00042", D(2026, 1, 10), D(2026, 2, 9), Decimal("99.90"), "invoice", False),
    ]
    assert store.rows("SELECT DISTINCT currency FROM invoices") == [("EUR",)]
    logged = json.loads(store.value("SELECT mapping FROM import_log"))
    assert logged["sources"][0]["columns"]["due_date"] == "Fällig am"


THREE_INVOICES = [
    {"Invoice": "007", "Customer": "0042", "Date": D(2026, 1, 5), "Due": D(2026, 2, 4),
     "Amount": 1234.5, "Disputed": "no"},
    {"Invoice": "008", "Customer": "0042", "Date": D(2026, 1, 6), "Due": D(2026, 2, 5),
     "Amount": 10.0, "Disputed": "yes"},
    {"Invoice": "009", "Customer": "0043", "Date": D(2026, 1, 7), "Due": D(2026, 2, 6),
     "Amount": 0.99, "Disputed": "no"},
]  # fmt: skip
EXPECTED_THREE = [
    ("007", "0042", D(2026, 1, 5), D(2026, 2, 4), Decimal("1234.50"), "invoice", False),
    ("008", "0042", D(2026, 1, 6), D(2026, 2, 5), Decimal("10.00"), "invoice", True),
    ("009", "0043", D(2026, 1, 7), D(2026, 2, 6), Decimal("0.99"), "invoice", False),
]


def _write_format(tmp_path, kind: str):
    rows = THREE_INVOICES
    header = list(rows[0])
    if kind in ("csv", "tsv"):
        sep = "," if kind == "csv" else "\t"
        path = tmp_path / f"invoices.{kind}"
        lines = [sep.join(header)] + [sep.join(str(r[h]) for h in header) for r in rows]
        path.write_text("\n".join(lines) + "\n")
    elif kind == "xlsx":
        import openpyxl

        path = tmp_path / "invoices.xlsx"
        book = openpyxl.Workbook()
        jan = book.active
        jan.title = "Jan"
        jan.append(header)
        for r in rows[:2]:
            jan.append([r[h] for h in header])
        feb = book.create_sheet("Feb")
        feb.append(header)
        feb.append([rows[2][h] for h in header])
        book.create_sheet("Notes").append(["just a note"])
        book.save(path)
    elif kind == "parquet":
        path = tmp_path / "invoices.parquet"
        pq.write_table(pa.Table.from_pylist(rows), path)
    else:
        path = tmp_path / "invoices.jsonl"
        path.write_text("\n".join(json.dumps(r, default=str) for r in rows) + "\n")
    return path


@pytest.mark.parametrize("kind", ["csv", "tsv", "xlsx", "parquet", "jsonl"])
def test_every_format_gives_the_same_invoices(store, tmp_path, kind):
    result = import_file(store, _write_format(tmp_path, kind), "invoices")
    assert result.rows_rejected == 0
    assert invoice_rows(store) == EXPECTED_THREE


def test_named_sheet_only(store, tmp_path):
    import_file(store, _write_format(tmp_path, "xlsx"), "invoices", sheet="Feb")
    assert invoice_rows(store) == EXPECTED_THREE[2:]


def test_bad_rows_are_rejected_with_line_column_and_reason_and_the_rest_loads(store):
    result = import_file(store, DATA / "bad_invoices.csv", "invoices")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (11, 3, 8)
    # A5's due date precedes its invoice date: kept and counted (SAP baseline dates), not rejected.
    assert [r[0] for r in invoice_rows(store)] == ["A1", "A5", "A8"]
    assert any("1 rows have a due date before the invoice date" in n for n in result.notes)
    rejected = store.rows(
        'SELECT line, "column", raw_value, reason FROM rejected_rows ORDER BY line, "column"'
    )
    by_line = {}
    for line, column, raw, reason in rejected:
        by_line.setdefault(line, []).append((column, raw, reason))
    assert by_line[3] == [("amount", "abc", "not an amount")]
    assert by_line[4] == [("invoice_date", "not-a-date", "not a date")]
    assert by_line[5] == [("customer_id", None, "missing required value")]
    assert 6 not in by_line
    assert by_line[7][0][0] == "amount" and "without a document type" in by_line[7][0][2]
    assert "differ" in by_line[8][0][2] and "differ" in by_line[9][0][2]
    assert by_line[11] == [("invoice_id", "A8", "repeats line 10")]
    assert "truncated" in by_line[12][0][2]
    # The raw row travels with the rejection, so nothing is lost.
    raw_row = json.loads(store.value("SELECT raw_row FROM rejected_rows WHERE line = 3"))
    assert raw_row == ["A2", "C1", "2026-01-11", "2026-02-10", "abc"]


def test_negative_amount_with_credit_memo_type_loads(store, write):
    path = write(
        "memos.csv",
        "invoice_id,customer_id,invoice_date,amount,doc_type,applies_to\n"
        "I1,C1,2026-01-01,100.00,invoice,\n"
        "M1,C1,2026-01-15,-30.00,credit memo,I1\n"
        "M2,C1,2026-01-16,-5.00,CM,\n",
    )
    import_file(store, path, "invoices")
    assert store.rows("SELECT invoice_id, amount, doc_type FROM invoices ORDER BY 1") == [
        ("I1", Decimal("100.00"), "invoice"),
        ("M1", Decimal("-30.00"), "credit_memo"),
        ("M2", Decimal("-5.00"), "credit_memo"),
    ]
    # The documented credit applies on its own date; the undocumented one stays unapplied.
    assert store.rows("SELECT * FROM applications") == [
        ("credit_memo", "M1", "I1", D(2026, 1, 15), Decimal("30.00"))
    ]
    # No due date in the file: invoice date + 30 days (customer terms unknown), and flagged.
    assert store.rows(
        "SELECT due_date, due_date_derived FROM invoices WHERE invoice_id = 'I1'"
    ) == [(D(2026, 1, 31), True)]


def test_credit_memos_table_makes_amounts_negative(store, write):
    path = write(
        "cm.csv",
        "Credit Memo No,Customer,Credit Memo Date,Credit Amount,Original Invoice\nX1,C1,2026-02-01,25.00,I9\n",
    )
    result = import_file(store, path, "credit_memos")
    assert store.rows("SELECT invoice_id, amount, doc_type, applies_to FROM invoices") == [
        ("X1", Decimal("-25.00"), "credit_memo", "I9")
    ]
    assert any(
        "credit memos name an invoice that is not in the store" in w[0] for w in result.warnings
    )


def test_payments_partial_over_and_unknown_invoice(store, write):
    import_file(
        store,
        write(
            "inv.csv",
            "invoice_id,customer_id,invoice_date,due_date,amount\n"
            "I1,C1,2026-01-01,2026-01-31,100.00\nI2,C1,2026-01-02,2026-02-01,200.00\n",
        ),
        "invoices",
    )
    result = import_file(
        store,
        write(
            "pay.csv",
            "payment_id,customer_id,payment_date,amount,invoice_id\n"
            "P1,C1,2026-01-20,40.00,I1\n"
            "P2,C1,2026-02-05,80.00,I1\n"
            "P3,,2026-02-06,200.00,I2\n"
            "P4,C1,2026-02-07,55.00,I404\n"
            "P5,C1,2026-02-08,10.00,\n",
        ),
        "payments",
    )
    assert result.rows_rejected == 0
    assert store.rows(
        "SELECT source_id, invoice_id, applied_on, amount FROM applications ORDER BY 1"
    ) == [
        ("P1", "I1", D(2026, 1, 20), Decimal("40.00")),
        ("P2", "I1", D(2026, 2, 5), Decimal("60.00")),  # 80 paid, 60 was open: 20 stays unapplied
        ("P3", "I2", D(2026, 2, 6), Decimal("200.00")),
    ]
    # P3 named no customer: it is taken from its invoice.
    assert store.value("SELECT customer_id FROM payments WHERE payment_id = 'P3'") == "C1"
    warnings = {what: (count, amount) for what, _currency, count, amount in result.warnings}
    assert warnings[
        "payments name an invoice that is not in the store (kept as unapplied cash)"
    ] == (1, 55.0)
    assert warnings[
        "payments bring more than was open on their invoice (the excess stays as unapplied cash)"
    ] == (1, 20.0)


def test_payment_ids_are_made_when_absent_and_stable(store, write):
    text = "Customer,Receipt Date,Amount\nC1,2026-01-05,10.00\nC1,2026-01-05,10.00\n"
    path = write("pay.csv", text)
    import_file(store, path, "payments")
    first = store.rows("SELECT payment_id FROM payments ORDER BY 1")
    import_file(store, path, "payments")
    assert len(first) == 2  # two real payments of the same amount on the same day
    assert store.rows("SELECT payment_id FROM payments ORDER BY 1") == first


def test_write_off_settles_what_is_left_on_its_date(store, write):
    import_file(
        store,
        write(
            "inv.csv",
            "invoice_id,customer_id,invoice_date,due_date,amount,written_off_on\n"
            "I1,C1,2025-01-01,2025-01-31,100.00,2025-09-30\n",
        ),
        "invoices",
    )
    import_file(
        store,
        write(
            "pay.csv",
            "payment_id,customer_id,payment_date,amount,invoice_id\nP1,C1,2025-03-01,30,I1\n",
        ),
        "payments",
    )
    assert store.rows("SELECT source_type, applied_on, amount FROM applications ORDER BY 2") == [
        ("payment", D(2025, 3, 1), Decimal("30.00")),
        ("write_off", D(2025, 9, 30), Decimal("70.00")),
    ]


def test_truncated_file_keeps_the_cut_row(store, write):
    path = write(
        "cut.csv",
        'invoice_id,customer_id,invoice_date,amount\nT1,C1,2026-01-01,5.00\nT2,C1,2026-01-02,6.00\nT3,"C',
    )
    result = import_file(store, path, "invoices")
    assert (result.rows_loaded, result.rows_rejected) == (2, 1)
    line, raw, reason = store.rows("SELECT line, raw_value, reason FROM rejected_rows")[0]
    assert line == 4 and raw.startswith("T3") and "truncated" in reason


def test_non_utf8_file_is_decoded_not_mangled(store, write):
    path = write(
        "customers.csv",
        "customer_id,name,country\n0001,Müller Stahlbau GmbH,DE\n0002,Café Crème SARL €,FR\n",
        encoding="cp1252",
    )
    result = import_file(store, path, "customers")
    assert store.rows("SELECT customer_id, name FROM customers ORDER BY 1") == [
        ("0001", "Müller Stahlbau GmbH"),
        ("0002", "Café Crème SARL €"),
    ]
    assert any("cp1252" in note for note in result.notes)


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "empty"),
        ("invoice_id,customer_id,invoice_date,amount\n", "header but no rows"),
        ("number,client,when\n1,2,3\n", "no column for"),
        ("invoice_id,customer_id,invoice_date,amount\nX,C,bad,bad\n", "all 1 rows were rejected"),
    ],
)
def test_nothing_loadable_fails_in_one_line_and_changes_nothing(store, write, text, message):
    before = snapshot(store)
    with pytest.raises(ImportFailed, match=message) as failure:
        import_file(store, write("x.csv", text), "invoices")
    assert "\n" not in str(failure.value)
    assert snapshot(store) == before


def test_unknown_table(store):
    with pytest.raises(ImportFailed, match="unknown table 'invoice'"):
        import_file(store, DATA / "bad_invoices.csv", "invoice")


def test_failure_in_the_middle_changes_nothing(tmp_path, monkeypatch):
    from arlens.store import Store

    db = tmp_path / "ar.duckdb"
    with Store.open(db) as store:
        import_file(store, DATA / "register_unusual_headers.csv", "invoices")
        before, version = snapshot(store), store.data_version()

    def crash(self, currency):
        self.store.execute("DELETE FROM applications")
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(_Import, "finish", crash)
    with Store.open(db) as store, pytest.raises(RuntimeError):
        import_file(store, DATA / "bad_invoices.csv", "invoices")
    with Store.open(db) as store:
        assert snapshot(store) == before
        assert store.data_version() == version
        assert store.value("SELECT count(*) FROM import_log") == 1
        assert store.value("SELECT count(*) FROM rejected_rows") == 0


def test_reimporting_the_same_files_changes_nothing(store, write):
    invoices = DATA / "register_unusual_headers.csv"
    payments = write(
        "p.csv", "customer_id,payment_date,amount,invoice_id\n0000611365,2026-03-01,100,0001002\n"
    )
    import_file(store, invoices, "invoices")
    import_file(store, payments, "payments")
    once = snapshot(store)
    import_file(store, invoices, "invoices")
    import_file(store, payments, "payments")
    assert snapshot(store) == once


def test_partial_customer_file_updates_only_its_columns(store, write):
    import_file(store, write("c.csv", "customer_id,name,credit_limit\n01,Acme,5000\n"), "customers")
    import_file(store, write("l.csv", "Cust No,Credit Limit\n01,7500.00\n"), "customers")
    assert store.rows("SELECT name, credit_limit FROM customers") == [("Acme", Decimal("7500.00"))]


def test_json_lines_keep_a_bad_line_and_load_the_rest(store, write):
    path = write(
        "inv.jsonl",
        '{"invoice_id": "1", "customer_id": "C", "invoice_date": "2026-01-01", "amount": 5}\n'
        "not json\n\n"
        '{"invoice_id": "2", "customer_id": "C", "invoice_date": "2026-01-02", "amount": 6.5}\n',
    )
    result = import_file(store, path, "invoices")
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (3, 2, 1)
    assert store.rows("SELECT line, raw_value FROM rejected_rows") == [(2, "not json")]
    assert [r[4] for r in invoice_rows(store)] == [Decimal("5.00"), Decimal("6.50")]


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_plain_and_quoted_csv_paths_agree_on_rows_and_lines(tmp_path, newline):
    """Quote-free files go to Arrow's parser, others to Python's csv module: same rows, same lines."""
    rows = [
        "invoice_id,customer_id,invoice_date,amount,po_number",
        "B1,C1,2026-01-01,10.00,PO1",
        "",
        "B2,C1,2026-01-02,11.00,PO2",
        "B3,C1,2026-01-03",
        "B4,C1,2026-01-04,13.00,PO4,extra",
        "B5,C1,not a date,14.00,PO5",
        "B6,C1,2026-01-06,15.00,PO6",
    ]
    plain = tmp_path / "plain.csv"
    plain.write_bytes(newline.join(rows).encode() + newline.encode())
    quoted = tmp_path / "quoted.csv"
    quoted.write_bytes(
        newline.join([*rows[:-1], 'B6,C1,2026-01-06,15.00,"PO6"']).encode() + newline.encode()
    )
    outcomes = []
    for path in (plain, quoted):
        with Store.memory() as store:
            result = import_file(store, path, "invoices")
            outcomes.append(
                (
                    result.rows_read,
                    result.rows_loaded,
                    store.rows("SELECT invoice_id, amount, po_number FROM invoices ORDER BY 1"),
                    store.rows('SELECT line, "column", reason FROM rejected_rows ORDER BY line'),
                )
            )
    assert outcomes[0] == outcomes[1]
    read, loaded, invoices, rejected = outcomes[0]
    assert (read, loaded) == (6, 3) and [i[0] for i in invoices] == ["B1", "B2", "B6"]
    assert [(line, column) for line, column, _ in rejected] == [
        (5, None),
        (6, None),
        (7, "invoice_date"),
    ]


def test_plain_fast_path_keeps_line_numbers(store, write):
    """No quote, blank or malformed line: the Arrow path, and a bad value still names its line."""
    text = "invoice_id,customer_id,invoice_date,amount\n" + "".join(
        f"F{i},C1,{'2026-13-45' if i == 4 else '2026-01-02'},{i}.50\n" for i in range(1, 8)
    )
    path = write("plain.csv", text)
    from arlens.ingest.readers import open_source

    [source] = open_source(path, {})
    [batch] = list(source.batches)
    assert batch.table is not None and list(batch.lines) == list(range(2, 9))
    result = import_file(store, path, "invoices")
    assert (result.rows_loaded, result.rows_rejected) == (6, 1)
    assert store.rows('SELECT line, "column", raw_value FROM rejected_rows') == [
        (5, "invoice_date", "2026-13-45")
    ]
