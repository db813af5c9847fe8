"""The derived tables follow from the documents: applications, settled dates, partial
applications, unapplied items and month-end balances (arlens/sql/derive.sql).

An import re-derives only what it touched, because a 1,000-row daily file must not cost a rebuild
of ten million invoices. What an invoice's derived rows depend on is local: its own row, the
payments naming it and the credit memos applying to it. So the scope of an import is the invoices
it loaded, plus every invoice that one of its payments or credit memos names now or named before
(the old link matters: a re-pointed payment frees its old invoice), plus the payments and credit
memos naming those invoices (their unapplied rest changes with them). Month-end balances are
re-derived for the customers of those invoices (old and new owner) from the month-end of the
earliest invoice date involved, since an invoice is open at no month-end before its date.
`rebuild_derived` keeps the whole path (`arlens status --rebuild`, schema migrations); a test
checks that both give the same tables.
"""

from __future__ import annotations

from arlens import queries
from arlens.store import Store

THROUGH_KEY = "month_end_balances_through"


def begin(store: Store) -> None:
    """Empty scope tables for an import's transaction."""
    store.execute("CREATE OR REPLACE TEMP TABLE _scope_invoices (invoice_id VARCHAR)")
    store.execute("CREATE OR REPLACE TEMP TABLE _scope_payments (payment_id VARCHAR)")
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _scope_owners (customer_id VARCHAR, invoice_date DATE)"
    )
    store.execute("DELETE FROM month_end_scope")


def note_links(store: Store, target: str, keys: str) -> None:
    """Record the invoices that the documents named by `keys` (a query of their ids) touch, as
    they stand now. Called before an upsert (the old links) and after it (the new ones)."""
    if target == "invoices":
        store.execute(
            f"INSERT INTO _scope_invoices SELECT key FROM ({keys}) k(key) "
            "UNION ALL SELECT applies_to FROM invoices "
            f"WHERE applies_to IS NOT NULL AND invoice_id IN ({keys})"
        )
    elif target == "payments":
        store.execute(f"INSERT INTO _scope_payments SELECT key FROM ({keys}) k(key)")
        store.execute(
            "INSERT INTO _scope_invoices SELECT invoice_id FROM payments "
            f"WHERE invoice_id IS NOT NULL AND payment_id IN ({keys})"
        )
    elif target == "customers":
        # Their documents whose currency was only assumed may now learn the real one.
        store.execute(
            "INSERT INTO _scope_invoices SELECT invoice_id FROM invoices "
            f"WHERE currency_assumed AND customer_id IN ({keys})"
        )
        store.execute(
            "INSERT INTO _scope_payments SELECT payment_id FROM payments "
            f"WHERE currency_assumed AND customer_id IN ({keys})"
        )
    else:
        return
    # Who owned those invoices then, and from when (a re-import may move an invoice or its date).
    store.execute(
        "INSERT INTO _scope_owners SELECT customer_id, invoice_date FROM invoices "
        "WHERE invoice_id IN (SELECT invoice_id FROM _scope_invoices)"
    )


def derive_touched(store: Store) -> None:
    """Re-derive what the import's scope touched; the rest of the store stays as it was."""
    # Payments and credit memos naming a touched invoice share its claims: their rest changes.
    store.execute(
        "INSERT INTO _scope_payments SELECT payment_id FROM payments "
        "WHERE invoice_id IN (SELECT invoice_id FROM _scope_invoices)"
    )
    store.execute(
        "INSERT INTO _scope_invoices SELECT invoice_id FROM invoices "
        "WHERE amount < 0 AND applies_to IN (SELECT invoice_id FROM _scope_invoices)"
    )
    for table in ("_scope_invoices", "_scope_payments"):
        key = "invoice_id" if table == "_scope_invoices" else "payment_id"
        store.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT DISTINCT {key} FROM {table}")
    _derive(store, whole=False)
    store.execute(
        "INSERT INTO _scope_owners SELECT customer_id, invoice_date FROM invoices "
        "WHERE invoice_id IN (SELECT invoice_id FROM _scope_invoices)"
    )
    # From the month-end on or after each customer's earliest touched invoice date.
    store.execute(
        "INSERT INTO month_end_scope SELECT customer_id, last_day(min(invoice_date)) "
        "FROM _scope_owners GROUP BY customer_id"
    )
    _month_end_balances(store, whole=False)


def rebuild_derived(store: Store) -> None:
    """Every derived table from scratch."""
    begin(store)
    _derive(store, whole=True)
    _month_end_balances(store, whole=True)


def rebuild_month_end_balances(store: Store) -> None:
    """After a change that relabels documents across the store (the home currency)."""
    store.execute("DELETE FROM month_end_scope")
    _month_end_balances(store, whole=True)


def _derive(store: Store, whole: bool) -> None:
    scope = {"all": whole}
    for name in (
        "clear_applications",
        "rebuild_applications",
        "mark_settled",
        "clear_partial_applications",
        "rebuild_partial_applications",
        "clear_unapplied",
        "rebuild_unapplied",
    ):
        store.execute(queries.sql("derive", name), scope)


def _month_end_balances(store: Store, whole: bool) -> None:
    through = store.value(queries.sql("derive", "month_end_balances_through"))
    before = store.value("SELECT value FROM settings WHERE key = ?", [THROUGH_KEY])
    if through is None:
        store.execute("DELETE FROM month_end_balances")
        store.execute("DELETE FROM settings WHERE key = ?", [THROUGH_KEY])
        return
    if not whole and before is not None and str(through) != before:
        if str(through) > before:
            # New month-ends: every customer gets them (all that is open then is in them).
            store.execute(
                "INSERT INTO month_end_scope SELECT customer_id, last_day($after::DATE + 1) "
                "FROM customers",
                {"after": before},
            )
        store.execute("DELETE FROM month_end_balances WHERE month_end > ?", [through])
    if not whole and before is None:
        whole = True  # a store that never had them (first import, or an older AR Lens)
    scope = {"all": whole}
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _month_end_scope AS SELECT customer_id, "
        "min(from_month_end) AS from_month_end FROM month_end_scope GROUP BY customer_id"
    )
    store.execute("DELETE FROM month_end_scope")
    store.execute("INSERT INTO month_end_scope SELECT * FROM _month_end_scope")
    store.execute(queries.sql("derive", "clear_month_end_balances"), scope)
    start = (
        store.value("SELECT min(invoice_date) FROM invoices")
        if whole
        else store.value("SELECT min(from_month_end) FROM month_end_scope")
    )
    if start is not None and start <= through:
        store.execute(
            queries.sql("derive", "rebuild_month_end_balances"),
            {"all": whole, "start": start, "through": through},
        )
    store.execute("DELETE FROM month_end_scope")
    store.execute(
        "INSERT INTO settings VALUES ($k, $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"k": THROUGH_KEY, "v": str(through)},
    )
