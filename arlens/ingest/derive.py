"""The derived tables follow from the documents: applications, settled dates, partial
applications, unapplied items, the open invoices and month-end balances (arlens/sql/derive.sql).

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
WHOLE_SHARE = 0.25  # an import touching more than this share of the invoices rebuilds them all
INDEX_LOOKUPS = 2000  # up to this many scoped invoices are fetched through the key's index


def begin(store: Store) -> None:
    """Empty scope tables for an import's transaction."""
    for name in ("_scoped_invoices", "_scoped_payments"):  # views after a full rebuild
        _drop(store, name)
    store.execute("CREATE OR REPLACE TEMP TABLE _scope_invoices (invoice_id VARCHAR)")
    store.execute("CREATE OR REPLACE TEMP TABLE _scope_payments (payment_id VARCHAR)")
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _month_end_from (customer_id VARCHAR, from_date DATE)"
    )
    store.execute("DELETE FROM month_end_scope")
    store.execute("CREATE OR REPLACE TEMP TABLE _scope_instalments (invoice_id VARCHAR)")


def note_stored_links(store: Store, target: str, keys: str) -> None:
    """Before an upsert: what the documents named by `keys` (a query of their ids) link to as
    stored, and who owned the invoices among them (a re-export may move an invoice or its date)."""
    if target == "invoices":
        store.execute(
            "CREATE OR REPLACE TEMP TABLE _stored AS SELECT invoice_id, applies_to, customer_id, "
            f"invoice_date FROM invoices WHERE invoice_id IN ({keys})"
        )
        store.execute(
            f"INSERT INTO _scope_invoices SELECT key FROM ({keys}) k(key) "
            "UNION ALL SELECT applies_to FROM _stored WHERE applies_to IS NOT NULL"
        )
        store.execute("INSERT INTO _month_end_from SELECT customer_id, invoice_date FROM _stored")
    elif target == "invoice_instalments":
        # A schedule's parts follow from its instalments and its invoice's amount.
        store.execute(
            "INSERT INTO _scope_instalments SELECT invoice_id FROM _checked WHERE len(_problems) = 0"
        )
    elif target == "payments":
        store.execute(f"INSERT INTO _scope_payments SELECT key FROM ({keys}) k(key)")
        store.execute(
            "INSERT INTO _scope_invoices SELECT invoice_id FROM payments "
            f"WHERE invoice_id IS NOT NULL AND payment_id IN ({keys})"
        )
    elif target == "customers":
        # Their documents whose currency was only assumed may now learn the real one (with the
        # invoices those documents settle: every scoped payment's invoice is scoped).
        store.execute(
            "CREATE OR REPLACE TEMP TABLE _stored AS SELECT invoice_id, applies_to, customer_id, "
            f"invoice_date FROM invoices WHERE currency_assumed AND customer_id IN ({keys})"
        )
        store.execute(
            "INSERT INTO _scope_invoices SELECT unnest([invoice_id, applies_to]) FROM _stored"
        )
        store.execute("INSERT INTO _month_end_from SELECT customer_id, invoice_date FROM _stored")
        store.execute(
            "CREATE OR REPLACE TEMP TABLE _stored AS SELECT payment_id, invoice_id FROM payments "
            f"WHERE currency_assumed AND customer_id IN ({keys})"
        )
        store.execute("INSERT INTO _scope_payments SELECT payment_id FROM _stored")
        store.execute("INSERT INTO _scope_invoices SELECT invoice_id FROM _stored")


def note_file_links(store: Store, link: str | None) -> None:
    """After an upsert: the invoices the file's rows name in `link` (applies_to, invoice_id).
    A link the file leaves empty keeps the stored one, which `note_stored_links` saw."""
    if link:
        store.execute(
            f"INSERT INTO _scope_invoices SELECT {link} FROM _checked "
            f"WHERE len(_problems) = 0 AND {link} IS NOT NULL"
        )


def derive_touched(store: Store, target: str) -> None:
    """Re-derive what the import's scope touched; the rest of the store stays as it was."""
    store.execute(queries.sql("derive", "scope_credit_memos"))
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _scope_invoices AS "
        "SELECT DISTINCT invoice_id FROM _scope_invoices WHERE invoice_id IS NOT NULL"
    )
    store.execute(queries.sql("derive", "scoped_payments"))
    store.execute(
        "CREATE OR REPLACE TEMP TABLE _scope_payments AS "
        "SELECT DISTINCT payment_id FROM _scoped_payments"
    )
    scoped, stored = store.rows(
        "SELECT (SELECT count(*) FROM _scope_invoices), (SELECT count(*) FROM invoices)"
    )[0]
    if scoped > WHOLE_SHARE * stored:
        # A first or very large import: the whole path is faster than a scope of nearly all.
        rebuild_derived(store)
        return
    ids = [row[0] for row in store.rows("SELECT invoice_id FROM _scope_invoices")]
    if len(ids) <= INDEX_LOOKUPS:
        # The primary key's index finds a few thousand ids faster than a scan of every invoice.
        store.execute(
            "CREATE OR REPLACE TEMP TABLE _scoped_invoices AS SELECT * FROM invoices "
            f"WHERE invoice_id IN ({', '.join('?' * len(ids)) or 'NULL'})",
            ids,
        )
    else:
        store.execute(queries.sql("derive", "scoped_invoices"))
    store.execute(queries.sql("derive", "new_applications"))
    deleted = queries.sql("derive", "clear_applications") + " RETURNING *"
    store.con.register("_old_applications", store.con.sql(deleted).to_arrow_table())
    _derive(store)
    _instalment_parts(store, target)
    # Month-end balances change from the earliest application that changed, and from the
    # invoice date of an invoice whose own row this import loaded (before and after).
    store.execute(queries.sql("derive", "month_end_from_applications"))
    if target == "invoices":
        store.execute(
            "INSERT INTO _month_end_from SELECT customer_id, invoice_date FROM _scoped_invoices "
            "WHERE invoice_id IN (SELECT key FROM _imported_keys)"
        )
    store.con.unregister("_old_applications")
    store.execute(
        "INSERT INTO month_end_scope SELECT customer_id, last_day(min(from_date)) "
        "FROM _month_end_from GROUP BY customer_id"
    )
    _month_end_balances(store, whole=False)


def rebuild_derived(store: Store) -> None:
    """Every derived table from scratch: everything is in scope (views, not copies)."""
    begin(store)
    store.execute("INSERT INTO _scope_invoices SELECT invoice_id FROM invoices")
    store.execute("INSERT INTO _scope_payments SELECT payment_id FROM payments")
    _drop(store, "_scoped_invoices")
    _drop(store, "_scoped_payments")
    store.execute("CREATE OR REPLACE TEMP VIEW _scoped_invoices AS SELECT * FROM invoices")
    store.execute("CREATE OR REPLACE TEMP VIEW _scoped_payments AS SELECT * FROM payments")
    store.execute("DELETE FROM applications")  # also rows of invoices no longer in the store
    store.execute("DELETE FROM partial_applications")
    store.execute("DELETE FROM unapplied")
    store.execute("DELETE FROM open_invoices")
    store.execute(queries.sql("derive", "new_applications"))
    _derive(store)
    _month_end_balances(store, whole=True)
    store.execute("DELETE FROM instalment_parts")
    store.execute(queries.sql("derive", "rebuild_instalment_parts"))


def _instalment_parts(store: Store, target: str) -> None:
    """The schedules of the invoices whose instalments (noted at load) or amount this import
    loaded are derived again: their parts depend on nothing else."""
    if target == "invoices":
        store.execute(
            "INSERT INTO _scope_instalments SELECT DISTINCT invoice_id FROM invoice_instalments "
            "WHERE invoice_id IN (SELECT key FROM _imported_keys)"
        )
    if store.value("SELECT count(*) FROM _scope_instalments"):
        store.execute(queries.sql("derive", "clear_instalment_parts"))
        store.execute(queries.sql("derive", "insert_instalment_parts"))


def rebuild_open_invoices(store: Store) -> None:
    """From the stored settled dates: a migration, or documents relabelled across the store."""
    store.execute("DELETE FROM open_invoices")
    store.execute(queries.sql("derive", "rebuild_open_invoices"))


def rebuild_month_end_balances(store: Store) -> None:
    """After a change that relabels documents across the store (the home currency)."""
    rebuild_open_invoices(store)
    store.execute("DELETE FROM month_end_scope")
    _month_end_balances(store, whole=True)


def _derive(store: Store) -> None:
    for name in (
        "insert_applications",
        "settled_dates",
        "mark_settled",
        "mark_instalments_settled",
        "clear_open_invoices",
        "insert_open_invoices",
        "clear_partial_applications",
        "rebuild_partial_applications",
        "clear_unapplied",
        "rebuild_unapplied",
    ):
        store.execute(queries.sql("derive", name))


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
    if whole:
        store.execute("DELETE FROM month_end_balances")
        store.execute("DELETE FROM month_end_scope")
        store.execute(
            "INSERT INTO month_end_scope SELECT DISTINCT customer_id, DATE '0001-01-31' "
            "FROM invoices"
        )
    else:
        store.execute(
            "CREATE OR REPLACE TEMP TABLE _month_end_scope AS SELECT customer_id, "
            "min(from_month_end) AS from_month_end FROM month_end_scope GROUP BY customer_id"
        )
        store.execute("DELETE FROM month_end_scope")
        store.execute("INSERT INTO month_end_scope SELECT * FROM _month_end_scope")
        store.execute(queries.sql("derive", "clear_month_end_balances"))
    start = store.value(
        "SELECT greatest(min(s.from_month_end), (SELECT min(invoice_date) FROM invoices)) "
        "FROM month_end_scope s"
    )
    if start is not None and start <= through:
        store.execute(
            queries.sql("derive", "rebuild_month_end_balances"),
            {"start": start, "through": through, "scoped": not whole},
        )
    store.execute("DELETE FROM month_end_scope")
    store.execute(
        "INSERT INTO settings VALUES ($k, $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        {"k": THROUGH_KEY, "v": str(through)},
    )


def _drop(store: Store, name: str) -> None:
    """A scratch relation of the connection, table or view."""
    if store.value("SELECT count(*) FROM duckdb_views() WHERE temporary AND view_name = ?", [name]):
        store.execute(f"DROP VIEW {name}")
    store.execute(f"DROP TABLE IF EXISTS {name}")
