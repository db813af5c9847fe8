"""Every page renders with AppTest, on real data and on an empty database, and shows the CLI's numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import DATA, REPO
from streamlit.testing.v1 import AppTest

from arlens import metrics
from arlens.ingest.importer import import_file
from arlens.store import Store
from ui.format import money
from ui.navigation import PAGES

PAGE_FILES = [path for path, *_ in PAGES]


@pytest.fixture
def small_db(tmp_path):
    path = tmp_path / "small.duckdb"
    with Store.open(path) as store:
        import_file(store, DATA / "register_unusual_headers.csv", "invoices")
    return path


def run_page(monkeypatch, db, page: str, as_of: str | None = None) -> AppTest:
    monkeypatch.setenv("ARLENS_DB", str(db))
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60)
    if as_of:
        at.query_params["as_of"] = as_of
    at.run()
    if page != PAGE_FILES[0]:
        at.switch_page(page).run()
    return at


@pytest.mark.parametrize("page", PAGE_FILES)
@pytest.mark.parametrize("db_kind", ["sample", "empty", "missing"])
def test_every_page_renders_without_exception(monkeypatch, tmp_path, request, page, db_kind):
    if db_kind == "sample":
        db = request.getfixturevalue("sample_db")
    elif db_kind == "empty":
        db = tmp_path / "empty.duckdb"
        Store.open(db).close()
    else:
        db = tmp_path / "missing.duckdb"
    at = run_page(monkeypatch, db, page)
    assert not at.exception, [e.value for e in at.exception]
    if db_kind != "sample":
        assert at.info, "an empty store shows a helpful empty state"


@pytest.fixture
def ledger_db(tmp_path):
    path = tmp_path / "ledger.duckdb"
    with Store.open(path) as store:
        for table in ("customers", "invoices", "payments", "activities"):
            import_file(store, DATA / "ledger" / f"{table}.csv", table)
    return path


def test_key_numbers_equal_the_command_lines(monkeypatch, ledger_db):
    """Every page's headline figures, against the same queries the CLI prints (ledger worked by hand)."""
    day = dt.date(2026, 3, 31)
    with Store.open(ledger_db, read_only=True) as store:
        kpis = metrics.kpis(store, day).iloc[0]
        allowance = metrics.allowance(store, day)["allowance"].sum()
        work = metrics.worklist(store, day)

    def shown(page):
        at = run_page(monkeypatch, ledger_db, page, as_of=day.isoformat())
        assert not at.exception, [e.value for e in at.exception]
        return at, {m.label: m.value for m in at.metric}

    _, overview = shown("pages/overview.py")
    assert overview["Open AR"] == money(kpis.open_ar, "USD") == "$2,100"
    assert overview["Past due"] == "$1,800"
    assert overview["DSO"] == f"{kpis.dso:,.1f} days" == "63.0 days"
    _, dso = shown("pages/dso.py")
    assert dso["Countback DSO"] == "62.1 days" and dso["CEI"] == "64.0%"
    _, aging = shown("pages/aging.py")
    assert aging["Total open AR"] == "$2.1K" and aging["31-60"] == "$600"
    _, credit = shown("pages/credit.py")
    assert (credit["Over limit"], credit["Hold candidates"], credit["Stale reviews"]) == (
        "1",
        "2",
        "1",
    )
    _, bad_debt = shown("pages/bad_debt.py")
    assert bad_debt["Allowance (expected loss)"] == money(allowance, "USD")
    at, _ = shown("pages/worklist.py")
    sentences = [m.value for m in at.markdown if "past due" in m.value]
    assert (
        sentences[:2]
        == [f"### {s}" for s in work["summary"][:2]]
        == [
            "### $800 is over 60 days past due",
            "### $600 is over 30 days past due",
        ]
    )


def test_filters_live_in_the_url(monkeypatch, ledger_db):
    monkeypatch.setenv("ARLENS_DB", str(ledger_db))
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=60)
    at.query_params["as_of"] = "2026-02-28"
    at.query_params["salesperson"] = "Ann"
    at.run()
    assert at.date_input(key="as_of").value == dt.date(2026, 2, 28)
    assert at.selectbox(key="salesperson").value == "Ann"
    assert at.query_params["as_of"] == "2026-02-28" and at.query_params["currency"] == "USD"
    shown = {m.label: m.value for m in at.metric}
    assert shown["Open AR"] == "$1,100"  # only Ann's C1 on 28 Feb: I1 1000 − 400, plus I2 500
