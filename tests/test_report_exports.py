"""Report-style exports (aging reports with title rows, customer sections, subtotals and a grand
total) import by detection and synonyms alone, and their grand total is checked."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from conftest import DATA

from arlens.ingest.importer import import_file

REPORTS = DATA / "exports" / "reports"
EXPECTED = json.loads((REPORTS / "expected.json").read_text())


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_report_imports_whole_and_matches_its_grand_total(store, name):
    expected = EXPECTED[name]
    result = import_file(store, REPORTS / name, "invoices")
    assert (result.rows_loaded, result.rows_rejected) == (expected["data_rows"], 0), (
        result.summary()
    )
    total = Decimal(expected["grand_total"])
    assert any(f"the file's total {total:,.2f} equals the rows loaded" in n for n in result.notes)
    # The hand-written expectation, not the importer's own check: every row, to the cent.
    # What is open at the export: the open balance where the file also had original amounts.
    stored = dict(
        store.rows("SELECT invoice_id, coalesce(open_amount_exported, amount) FROM invoices")
    )
    assert sum(stored.values()) == total
    for _line, _customer, invoice, amount in expected["rows"]:
        negative = amount.startswith("(") or amount.startswith("-")
        digits = Decimal(re.sub(r"[^0-9.]", "", amount))
        assert stored[invoice] == (-digits if negative else digits), invoice
    customers = dict(store.rows("SELECT invoice_id, customer_id FROM invoices"))
    assert {customers[r[2]] for r in expected["rows"]} == {r[1] for r in expected["rows"]}
