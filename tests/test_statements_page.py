"""The Statements & dunning page with AppTest: a statement closes at the customer's open items, the
dunning table is the run, confirming records it (on a copy of the store) and the worklist then
shows each customer's level, and the call sheet links to the customer's statement and letter."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from conftest import REPO
from page_checks import check_app
from streamlit.testing.v1 import AppTest

from arlens import metrics
from arlens.collections import dunning
from arlens.formats import money
from arlens.ingest.importer import import_file
from arlens.store import Store

PAGE = "pages/statements.py"
DOWNLOADS = {"statement_pdf", "statement_csv", "letter_pdf", "letter_eml", "dunning_zip"}


def open_page(monkeypatch, db, page: str = PAGE, **params) -> AppTest:
    """The page through the frame, as a link opens it (`?page=...&customer=...&as_of=...`)."""
    monkeypatch.setenv("ARLENS_DB", str(db))
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    at.query_params["page"] = page
    for key, value in params.items():
        at.query_params[key] = value
    return at.run()


# A dataframe without selections carries no key in AppTest: each table is found by a column of its own.
TABLES = {"lines": "balance", "aging": "Total", "dunning": "reason", "worklist": "Dunning level"}


def frame(at: AppTest, table: str):
    return next(d.value for d in at.dataframe if TABLES[table] in d.value)


def open_items_total(db, customer_id: str, day: dt.date) -> dict[str, Decimal]:
    """Open AR net of unapplied per currency, summed from metrics.open_items to the cent."""
    with Store.open(db, read_only=True) as store:
        items = metrics.open_items(store, day, filters={"customer_id": customer_id})
    totals: dict[str, Decimal] = {}
    for row in items.itertuples():
        totals[row.currency] = totals.get(row.currency, Decimal(0)) + Decimal(str(row.open_amount))
    return totals


@pytest.fixture(scope="module")
def sample_customer(sample_db) -> tuple[str, dt.date]:
    """A sample customer with past due and unapplied cash at the newest date, and that date."""
    with Store.open(sample_db, read_only=True) as store:
        day = metrics.latest_activity_date(store)
        items = metrics.open_items(store, day)
    unapplied = set(items.loc[items["bucket"] == metrics.UNAPPLIED, "customer_id"])
    late = set(items.loc[items["days_past_due"].fillna(0) > 0, "customer_id"])
    return sorted(unapplied & late)[0], day


@pytest.mark.parametrize("to", [None, dt.date(2026, 6, 30)], ids=["as-of", "earlier"])
def test_statement_closes_at_the_customers_open_items(monkeypatch, sample_db, sample_customer, to):
    """Closing balance = Σ open items net of unapplied at To (metrics.open_items), to the cent."""
    customer, day = sample_customer
    at = open_page(monkeypatch, sample_db, customer=customer, as_of=day.isoformat())
    assert at.selectbox(key="statement_customer").value == customer, "?customer= picks it"
    assert at.date_input(key="statement_from").value == day.replace(day=1)
    assert at.date_input(key="statement_to").value == day
    if to:
        at.date_input(key="statement_from").set_value(to.replace(day=1))
        at.date_input(key="statement_to").set_value(to).run()
    end = to or day
    [(currency, total)] = open_items_total(sample_db, customer, end).items()
    tiles = {m.label: m.value for m in at.metric}
    assert tiles["Closing balance"] == money(total, currency, 2)
    lines = frame(at, "lines")
    assert list(lines["description"][[0, len(lines) - 1]]) == ["Opening balance", "Closing balance"]
    assert round(Decimal(str(lines["balance"].iloc[-1])), 2) == total
    assert tiles["Unapplied"].startswith("-"), "unapplied shown as such, apart from the buckets"
    aging = frame(at, "aging")
    assert round(Decimal(str(aging["Total"].iloc[0])), 2) == total
    check_app(at)


def test_open_items_only_lists_what_is_outstanding(monkeypatch, sample_db, sample_customer):
    """The toggle: one line per open item at To, ending at the same closing balance."""
    customer, day = sample_customer
    at = open_page(monkeypatch, sample_db, customer=customer, as_of=day.isoformat())
    at.toggle(key="statement_open_items").set_value(True).run()
    [(currency, total)] = open_items_total(sample_db, customer, day).items()
    lines = frame(at, "lines")
    with Store.open(sample_db, read_only=True) as store:
        items = metrics.open_items(store, day, filters={"customer_id": customer})
    assert len(lines) == len(items) + 1  # and the closing row
    assert {m.label: m.value for m in at.metric}["Closing balance"] == money(total, currency, 2)
    assert "Opening balance" not in {m.label for m in at.metric}
    check_app(at)


def test_dunning_table_is_the_run_and_every_download_is_there(monkeypatch, sample_db):
    """One row per customer proposed or skipped (dunning.propose), and the five downloads."""
    with Store.open(sample_db, read_only=True) as store:
        day = metrics.latest_activity_date(store)
        run = dunning.propose(store, day)
    first = sorted(run.notices, key=lambda n: (-n.level.level, n.customer.customer_id))[0]
    at = open_page(monkeypatch, sample_db)
    assert at.selectbox(key="statement_customer").value == first.customer.customer_id
    table = frame(at, "dunning")
    assert len(table) == len(run.notices) + len(run.skipped)
    assert (table["notice"] != "Not sent").sum() == len(run.notices) > 0
    skipped = table.set_index("customer_id").loc[[s.customer.customer_id for s in run.skipped]]
    assert list(skipped["reason"]) == [s.reason for s in run.skipped]
    assert {b.key for b in at.get("download_button")} == DOWNLOADS
    assert at.button(key="dunning_confirm").label == f"Confirm: record {len(run.notices)} notices"
    check_app(at)


def test_minimal_register_shows_a_line_not_an_error(monkeypatch, minimal_db):
    """A customer with nothing past due on the minimal register: a statement and one line."""
    with Store.open(minimal_db, read_only=True) as store:
        day = metrics.latest_activity_date(store)
        late = set(metrics.worklist(store, day)["customer_id"])
        customer = min(set(store.df("SELECT customer_id FROM customers")["customer_id"]) - late)
    at = open_page(monkeypatch, minimal_db, customer=customer)
    assert not at.error and not at.exception
    assert f"**No letter due on {day:%d %b %Y}**: nothing past due." in [
        m.value for m in at.markdown
    ]
    assert "Closing balance" in {m.label for m in at.metric}
    check_app(at)


def test_a_store_with_nothing_past_due_says_so_in_one_line(monkeypatch, tmp_path, write):
    """No past due: the dunning section is one line, no table, no buttons."""
    register = write("invoices.csv", "invoice_id,customer_id,invoice_date,due_date,amount\n"
                     "A1,C1,2026-03-01,2026-03-31,100.00\nA2,C2,2026-03-10,2026-04-09,250.00\n")  # fmt: skip
    db = tmp_path / "fresh.duckdb"
    with Store.open(db) as store:
        import_file(store, register, "invoices")
    at = open_page(monkeypatch, db)
    assert [i.value for i in at.info] == [
        "Nothing past due on 10 Mar 2026: no reminders to propose."
    ]
    assert not [d for d in at.dataframe if "reason" in d.value]
    assert not [b for b in at.get("button") if b.key == "dunning_confirm"]
    check_app(at)


def test_confirming_a_run_shows_the_levels_on_the_worklist(monkeypatch, minimal_db, copy_of):
    """Confirm on a copy: the notices are recorded, the run proposes nothing more today, and the
    worklist shows each customer's dunning level and last notice."""
    db = copy_of(minimal_db)
    with Store.open(db, read_only=True) as store:
        day = metrics.latest_activity_date(store)
        run = dunning.propose(store, day)
    sent = {n.customer.customer_id: n.level.level for n in run.notices}
    assert sent and set(sent.values()) == {1}, "the minimal register has no notice yet"
    at = open_page(monkeypatch, db)
    at.button(key="dunning_confirm").click().run()
    assert [s.value for s in at.success] == [
        f"Recorded {len(sent)} notices as dunning activities on {day:%d %b %Y}."
    ]
    assert at.button(key="dunning_confirm").disabled, "nothing more to send today"
    check_app(at)
    with Store.open(db, read_only=True) as store:
        assert set(dunning.history(store)["customer_id"]) == set(sent)

    at = open_page(monkeypatch, db, page="pages/worklist.py")
    grid = frame(at, "worklist").set_index("Id")
    assert {i: grid.loc[i, "Dunning level"] for i in sent} == sent
    assert set(grid.loc[list(sent), "Last notice"].astype(str)) == {day.isoformat()}
    others = grid.index.difference(list(sent))
    assert (grid.loc[others, "Dunning level"] == 0).all() and len(others)
    check_app(at)


def test_a_call_sheet_links_to_its_customers_statement_and_letter(monkeypatch, sample_db):
    """Two clicks: the call sheet's link opens the statement of that customer, with its letter."""
    at = open_page(monkeypatch, sample_db, page="pages/worklist.py")
    first = frame(at, "worklist")["Id"].iloc[0]
    links = at.get("page_link")
    assert links and all(link.proto.page == "statements" for link in links)
    query = dict(part.split("=") for part in links[0].proto.query_string.split("&"))
    assert query["customer"] == first and "as_of" in query
    at = open_page(monkeypatch, sample_db, **query)
    assert at.selectbox(key="statement_customer").value == first
    keys = {b.key for b in at.get("download_button")}
    markdown = " ".join(m.value for m in at.markdown)
    assert "letter_pdf" in keys or "No letter due" in markdown
    check_app(at)
