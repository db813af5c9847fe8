"""Real exports of ten ERP and accounting systems import by their own header names alone.

Each file in tests/data/exports uses its system's column names and formats (sources in
systems.json); systems.json also says, worked by hand from the file, what the store must hold.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest
from conftest import DATA

from arlens.ingest.importer import import_file
from arlens.ingest.mapping import TABLES, Mapping, resolve_headers
from arlens.ingest.readers import open_source

EXPORTS = DATA / "exports"
EXPECTED = {
    name: expected
    for name, expected in json.loads((EXPORTS / "systems.json").read_text("utf-8")).items()
    if not name.startswith("_")
}
FIELDS = [
    "invoice_id",
    "customer_id",
    "invoice_date",
    "due_date",
    "amount",
    "currency",
    "paid_date",
]


def _typed(row: dict) -> dict:
    """An expected row as the store returns it; fields the file does not give are left out."""
    out = {}
    for name, value in row.items():
        if name == "currency" and value is None:
            continue  # the file names no currency: the store's home currency, whatever it is
        if name in ("invoice_date", "due_date", "paid_date") and value is not None:
            value = dt.date.fromisoformat(value)
        if name == "amount":
            value = Decimal(value)
        out[name] = value
    return out


def _stored(store, expected_rows: list[dict]) -> list[dict]:
    """What the store holds, limited to the fields each expected row gives (all for others)."""
    fields = {row["invoice_id"]: list(_typed(row)) for row in expected_rows}
    rows = store.rows(f"SELECT {', '.join(FIELDS)} FROM invoices ORDER BY invoice_id")
    stored = [dict(zip(FIELDS, row, strict=True)) for row in rows]
    return [{f: row[f] for f in fields.get(row["invoice_id"], FIELDS)} for row in stored]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_export_header_maps_to_the_columns_its_system_means(name):
    """The synonym lists alone pick these source columns (no mapping file)."""
    [source] = open_source(EXPORTS / name, {})
    chosen, _ = resolve_headers(source.header, TABLES[EXPECTED[name]["table"]], Mapping())
    assert {column: source.header[i] for column, i in chosen.items()} == EXPECTED[name]["columns"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_export_imports_every_row_as_written(store, name):
    """Counts, then every row's id, customer, dates, amount and currency, then sums to the cent."""
    expected = EXPECTED[name]
    result = import_file(store, EXPORTS / name, expected["table"])
    assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (
        expected["rows"],
        expected["loaded"],
        expected["rejected"],
    )
    if "rejected_lines" in expected:
        lines = store.rows("SELECT DISTINCT line FROM rejected_rows ORDER BY line")
        assert [line for (line,) in lines] == expected["rejected_lines"]

    want = sorted((_typed(row) for row in expected["invoices"]), key=lambda r: r["invoice_id"])
    assert _stored(store, expected["invoices"]) == want

    sums: dict[str, Decimal] = {}
    amounts = dict(store.rows("SELECT invoice_id, amount FROM invoices"))
    for row in expected["invoices"]:
        key = row["currency"] or "home"
        sums[key] = sums.get(key, Decimal("0")) + amounts[row["invoice_id"]]
    assert sums == {currency: Decimal(total) for currency, total in expected["amount_sums"].items()}


@pytest.mark.parametrize(
    "name", sorted(n for n, e in EXPECTED.items() if e["amounts_are_open_balances"])
)
def test_open_items_export_has_only_the_open_balance(name):
    """Its only money column is the open balance: that is what the store must take as amount."""
    [source] = open_source(EXPORTS / name, {})
    chosen, _ = resolve_headers(source.header, TABLES["invoices"], Mapping())
    assert "open_amount" in chosen and "amount" not in chosen


@pytest.mark.parametrize("name", sorted(n for n, e in EXPECTED.items() if "countries" in e))
def test_export_gives_its_customers_their_country(store, name):
    """An invoice file's country column lands on the customer."""
    expected = EXPECTED[name]
    import_file(store, EXPORTS / name, expected["table"])
    countries = dict(store.rows("SELECT customer_id, country FROM customers"))
    assert {c: countries.get(c) for c in expected["countries"]} == expected["countries"]
