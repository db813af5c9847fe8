"""Imports re-derive only what they touch; the result must equal a rebuild from scratch.

A generated company is imported in pieces, in several orders (payments before the invoices they
name, credit memos before their invoices, customers last), with re-exports that move what the
derivation depends on: a payment re-pointed to another invoice, a credit memo's applies_to
changed, an invoice's amount, date and customer changed, paid dates, an open-items export, a
payment in another currency, and a piece that reaches into a new month. After every import each
derived table is compared with `rebuild_derived` run on the same inputs.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from arlens import metrics
from arlens.ingest import derive
from arlens.ingest.derive import rebuild_derived
from arlens.ingest.importer import import_file
from arlens.sample import generate
from arlens.store import Store

DERIVED = {
    "applications": "SELECT * FROM applications",
    "partial_applications": "SELECT * FROM partial_applications",
    "unapplied": "SELECT * FROM unapplied",
    "month_end_balances": "SELECT * FROM month_end_balances",
    "open_invoices": "SELECT * FROM open_invoices",
    "settled_on": "SELECT invoice_id, settled_on FROM invoices",
    "through": "SELECT value FROM settings WHERE key = 'month_end_balances_through'",
}


def derived(store: Store) -> dict[str, list[tuple]]:
    return {name: sorted(store.rows(sql), key=repr) for name, sql in DERIVED.items()}


def assert_same_as_rebuild(store: Store, step: str) -> dict[str, list[tuple]]:
    incremental = derived(store)
    store.con.begin()
    rebuild_derived(store)
    rebuilt = derived(store)
    store.con.rollback()
    for name in DERIVED:
        assert incremental[name] == rebuilt[name], f"{name} differs after {step}"
    # The open invoices are the invoice rows as they now are, not as an earlier import saw them.
    current = store.rows(
        "SELECT i.invoice_id, i.customer_id, i.doc_type, i.currency, i.invoice_date, i.due_date, "
        "i.amount, coalesce(sum(a.amount), 0), max(a.applied_on) FROM invoices i "
        "LEFT JOIN applications a USING (invoice_id) "
        "WHERE i.amount > 0 AND i.settled_on IS NULL GROUP BY ALL"
    )
    assert incremental["open_invoices"] == sorted(current, key=repr), step
    return incremental


@pytest.fixture(scope="module")
def company(tmp_path_factory):
    folder = tmp_path_factory.mktemp("company")
    generate(folder, customers=24, years=2, seed=11, end_date=dt.date(2026, 9, 30))
    read = {
        name: pd.read_csv(folder / f"{name}.csv", dtype=str, keep_default_na=False)
        for name in ("customers", "invoices", "payments")
    }
    return folder, read


def pieces(company, order):
    """(table, frame) pieces: invoices and payments each cut in three by date."""
    _, read = company
    invoices, payments = read["invoices"], read["payments"]

    def cuts(dates):
        ordered = sorted(dates)
        return [ordered[len(ordered) * 2 // 5], ordered[len(ordered) * 4 // 5]]

    inv_cut, pay_cut = cuts(invoices["invoice_date"]), cuts(payments["payment_date"])

    def thirds(frame, column, cuts):
        a = frame[frame[column] <= cuts[0]]
        b = frame[(frame[column] > cuts[0]) & (frame[column] <= cuts[1])]
        c = frame[frame[column] > cuts[1]]
        return [a, b, c]

    inv, pay = thirds(invoices, "invoice_date", inv_cut), thirds(payments, "payment_date", pay_cut)
    named = {"customers": [("customers", read["customers"])]}
    named["inv"] = [("invoices", f) for f in inv]
    named["pay"] = [("payments", f) for f in pay]
    if order == "customers_first":
        return named["customers"] + [
            x for pair in zip(named["inv"], named["pay"], strict=True) for x in pair
        ]
    if order == "payments_first":
        return named["pay"] + named["inv"] + named["customers"]
    if order == "newest_first":
        return named["inv"][::-1] + named["pay"][::-1] + named["customers"]
    raise ValueError(order)


def load(store, tmp_path, table, frame, name):
    path = tmp_path / f"{name}.csv"
    frame.to_csv(path, index=False)
    import_file(store, path, table)


@pytest.mark.parametrize("order", ["customers_first", "payments_first", "newest_first"])
def test_pieces_in_any_order_equal_a_rebuild(company, tmp_path, order, monkeypatch):
    # Every piece takes the incremental path (a large one would otherwise rebuild everything).
    monkeypatch.setattr(derive, "WHOLE_SHARE", 1.0)
    with Store.memory() as store:
        for k, (table, frame) in enumerate(pieces(company, order)):
            load(store, tmp_path, table, frame, f"{order}_{k}")
            assert_same_as_rebuild(store, f"piece {k} ({table})")
        # The whole company in one go gives the same tables as the pieces.
        in_pieces = derived(store)
    folder, _ = company
    with Store.memory() as whole:
        for table in ("customers", "invoices", "payments"):
            import_file(whole, folder / f"{table}.csv", table)
        assert derived(whole) == in_pieces


@pytest.fixture
def loaded(company):
    folder, read = company
    store = Store.memory()
    for table in ("customers", "invoices", "payments"):
        import_file(store, folder / f"{table}.csv", table)
    yield store, read
    store.close()


def _open_invoice(store, skip=0):
    return store.rows(
        "SELECT invoice_id, customer_id, currency, amount, invoice_date FROM invoices "
        "WHERE doc_type = 'invoice' AND settled_on IS NULL AND amount > 100 "
        "ORDER BY invoice_id LIMIT 1 OFFSET ?",
        [skip],
    )[0]


def test_re_exports_that_move_links_equal_a_rebuild(loaded, tmp_path):
    store, read = loaded
    before = derived(store)
    payments = read["payments"]
    # A payment re-pointed at another (open) invoice of another customer, in the same currency.
    paid = payments[payments["invoice_id"] != ""].iloc[0].copy()
    target = store.rows(
        "SELECT invoice_id, customer_id FROM invoices WHERE doc_type = 'invoice' "
        "AND settled_on IS NULL AND currency = (SELECT currency FROM payments WHERE payment_id = ?) "
        "AND invoice_id <> ? ORDER BY invoice_id LIMIT 1",
        [paid["payment_id"], paid["invoice_id"]],
    )[0]
    paid["invoice_id"], paid["customer_id"] = target
    load(store, tmp_path, "payments", paid.to_frame().T, "repointed")
    after = assert_same_as_rebuild(store, "a re-pointed payment")
    assert after["applications"] != before["applications"]

    # An invoice re-exported with a higher amount, an earlier date and another customer.
    invoices = read["invoices"]
    moved = invoices[invoices["doc_type"] == "invoice"].iloc[5].copy()
    other = read["customers"]["customer_id"].iloc[-1]
    moved["customer_id"] = other
    moved["amount"] = f"{float(moved['amount']) * 2:.2f}"
    moved["invoice_date"] = (
        dt.date.fromisoformat(moved["invoice_date"]) - dt.timedelta(days=200)
    ).isoformat()
    load(store, tmp_path, "invoices", moved.to_frame().T, "moved")
    after = assert_same_as_rebuild(store, "a moved invoice")
    assert (
        store.value("SELECT customer_id FROM invoices WHERE invoice_id = ?", [moved["invoice_id"]])
        == other
    )

    # A credit memo now credits another invoice.
    memos = invoices[(invoices["doc_type"] == "credit_memo") & (invoices["applies_to"] != "")]
    memo = memos.iloc[0].copy()
    memo["applies_to"] = _open_invoice(store)[0]
    load(store, tmp_path, "invoices", memo.to_frame().T, "memo")
    assert_same_as_rebuild(store, "a credit memo applied elsewhere")


def test_paid_dates_open_items_other_currency_and_a_new_month(loaded, tmp_path, write):
    store, _ = loaded
    first = _open_invoice(store, 0)
    second = _open_invoice(store, 1)
    third = _open_invoice(store, 2)
    through_before = store.value(
        "SELECT value FROM settings WHERE key = 'month_end_balances_through'"
    )
    # A paid date on one invoice (register style) and a payment in another currency on another.
    path = write(
        "paid.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount,currency,paid_date\n"
        f"{first[0]},{first[1]},{first[4]},{first[4]},{first[3]},{first[2]},2026-09-29\n",
    )
    import_file(store, path, "invoices")
    assert_same_as_rebuild(store, "a paid date")
    other = "JPY" if second[2] != "JPY" else "CHF"
    path = write(
        "fx.csv",
        "payment_id,customer_id,payment_date,amount,invoice_id,currency\n"
        f"FX1,{second[1]},2026-09-28,50.00,{second[0]},{other}\n",
    )
    import_file(store, path, "payments")
    assert_same_as_rebuild(store, "a payment in another currency")
    # An open-items export: the third invoice has 10.00 open at 2026-10-15, and a new invoice
    # reaches into October (a month-end no balance covered yet).
    path = write(
        "open.csv",
        "invoice_id,customer_id,invoice_date,due_date,amount,open_amount,currency\n"
        f"{third[0]},{third[1]},{third[4]},{third[4]},{third[3]},10.00,{third[2]}\n"
        f"NEW1,{third[1]},2026-10-31,2026-11-30,500.00,500.00,{third[2]}\n",
    )
    import_file(store, path, "invoices")
    after = assert_same_as_rebuild(store, "an open-items export into a new month")
    assert through_before == "2026-09-30" and after["through"] == [("2026-10-31",)]


@pytest.mark.parametrize("end", [dt.date(2026, 10, 31), dt.date(2027, 1, 31)])
def test_trend_from_month_end_balances_equals_the_expansion(sample_db, end):
    """With the default edges on the due basis the trend reads month-end balances (and ages
    invoices only for month-ends after the newest document): it must equal the expansion of
    invoices × month-ends that other edges use."""
    start = dt.date(2024, 11, 30)
    with Store.open(sample_db, read_only=True) as store:
        for filters in ({}, {"segment": "Enterprise"}, {"currency": "EUR"}):
            params = metrics._params(
                filters, start=start, end=end, basis="due", edges=list(metrics.DEFAULT_EDGES)
            )
            fast = metrics._run(store, "aging", "trend_from_balances", params)
            slow = metrics._run(store, "aging", "trend", params)
            assert fast["month_end"].nunique() == 24 + (end.year - 2026) * 3
            pd.testing.assert_frame_equal(fast, slow, check_dtype=False)
            if not filters.get("segment"):
                unfiltered = metrics._run(store, "aging", "trend_all_from_balances", params)
                pd.testing.assert_frame_equal(unfiltered, slow, check_dtype=False)
        assert metrics._trend_query("due", metrics.DEFAULT_EDGES) == "trend_from_balances"
        assert metrics._trend_query("due", metrics.DEFAULT_EDGES, {"segment": None}) == (
            "trend_all_from_balances"
        )
        assert metrics._trend_query("due", (30, 60)) == "trend"
        assert metrics._trend_query("invoice", metrics.DEFAULT_EDGES) == "trend"


def test_a_new_home_currency_relabels_the_open_invoices(tmp_path):
    """Documents imported without a currency take the home one; changing it relabels them, in the
    open invoices too (aging reads those)."""
    register = tmp_path / "register.csv"
    register.write_text(
        "invoice_id,customer_id,invoice_date,due_date,amount\n"
        "A1,C1,2026-01-05,2026-02-04,100.00\n"
        "A2,C1,2026-02-05,2026-03-07,250.50\n"
    )
    with Store.open(tmp_path / "s.duckdb") as store:
        import_file(store, register, "invoices", currency="USD")
        store.set_home_currency("EUR")
        assert store.rows("SELECT DISTINCT currency FROM open_invoices") == [("EUR",)]
        assert_same_as_rebuild(store, "a new home currency")
        aging = metrics.aging(store, dt.date(2026, 3, 31), group_by="currency")
        assert aging[["currency", "total"]].values.tolist() == [["EUR", 350.50]]
