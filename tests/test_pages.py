"""Every page renders with AppTest, on real data and on an empty database, and shows the CLI's numbers."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import DATA, REPO
from streamlit.testing.v1 import AppTest

from arlens import metrics
from arlens.importer import import_file
from arlens.store import Store
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


def test_overview_shows_the_same_numbers_as_the_queries(monkeypatch, small_db):
    at = run_page(monkeypatch, small_db, "pages/overview.py", as_of="2026-03-31")
    assert not at.exception
    shown = {m.label: m.value for m in at.metric}
    with Store.open(small_db, read_only=True) as store:
        row = metrics.headline(store, dt.date(2026, 3, 31)).iloc[0]
    assert shown["Open AR"] == f"{row.open_ar:,.2f}" == "10,900.49"
    assert shown["Past due"] == f"{row.past_due:,.2f}" == "900.49"
    assert shown["Open invoices"] == "3"


def test_as_of_date_lives_in_the_url(monkeypatch, small_db):
    at = run_page(monkeypatch, small_db, "pages/overview.py", as_of="2026-02-28")
    assert at.date_input(key="as_of").value == dt.date(2026, 2, 28)
    assert at.query_params["as_of"] == "2026-02-28"
