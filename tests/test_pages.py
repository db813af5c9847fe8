"""Every page renders with AppTest, on real data and on an empty database, and shows the CLI's numbers."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import pandas as pd
import plotly.graph_objects as go
import pytest
from conftest import DATA, REPO
from page_checks import check_app, figure_has_points, problems_in_app
from streamlit.testing.v1 import AppTest

from arlens import metrics
from arlens.ingest.importer import import_file
from arlens.store import Store
from ui import charts, tables
from ui.format import money
from ui.navigation import PAGES

PAGE_FILES = [path for path, *_ in PAGES]
STORES = ["sample", "minimal"]  # the bundled company; a register with the required columns only
AS_OF = ["2024-06-30", "2025-12-31", None]  # None: the default (the newest document)


@pytest.fixture
def small_db(tmp_path):
    path = tmp_path / "small.duckdb"
    with Store.open(path) as store:
        import_file(store, DATA / "register_unusual_headers.csv", "invoices")
    return path


def run_page(monkeypatch, db, page: str, as_of: str | None = None) -> AppTest:
    """One page through the frame (dashboard.py), opened as a shared link opens it: the URL
    names the page (`?page=pages/x.py`, which the frame switches to before any page runs) and
    carries the as-of date."""
    monkeypatch.setenv("ARLENS_DB", str(db))
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    if as_of:
        at.query_params["as_of"] = as_of
    if page != PAGE_FILES[0]:
        at.query_params["page"] = page
    at.run()
    return at


@pytest.mark.parametrize("as_of", AS_OF, ids=lambda d: d or "default")
@pytest.mark.parametrize("db_kind", STORES)
@pytest.mark.parametrize("page", PAGE_FILES, ids=lambda p: Path(p).stem)
def test_page_shows_a_reader_nothing_raw(monkeypatch, request, page, db_kind, as_of):
    """No NaN/None/NaT/undefined, traceback, midnight time, raw header or empty chart frame."""
    at = run_page(monkeypatch, request.getfixturevalue(f"{db_kind}_db"), page, as_of)
    if as_of:
        assert at.date_input(key="as_of").value == dt.date.fromisoformat(as_of)
    title = next(t for path, t, *_ in PAGES if path == page)
    assert [t.value for t in at.title][:1] == [title], "the page itself ran, not another"
    check_app(at)


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
    # C1 over its limit is the one hold candidate (C2's oldest item is exactly 90 days late).
    assert (credit["Over limit"], credit["Hold candidates"], credit["Stale reviews"]) == (
        "1",
        "1 (50%)",
        "1",
    )
    _, bad_debt = shown("pages/bad_debt.py")
    assert bad_debt["Expected credit loss (allowance)"] == money(allowance, "USD")
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


# -- The Data page's import ------------------------------------------------------------------------


def upload(at: AppTest, path: Path, table: str) -> AppTest:
    at.file_uploader(key="import_file").upload(path.name, path.read_bytes(), "text/csv")
    at.selectbox(key="import_table").select(table)
    at.get("form_submit_button")[0].click()
    return at.run()


def test_an_upload_shows_its_own_result_and_name(monkeypatch, tmp_path, minimal_db):
    """After an import on the page: that import's counts and notes, picked, logged by its name."""
    db = tmp_path / "store.duckdb"
    shutil.copy(minimal_db, db)
    at = run_page(monkeypatch, db, "pages/data.py")
    first = at.selectbox(key="import_pick").value
    at.selectbox(key="import_pick").select(first)  # a pick made before the upload
    at.run()
    upload(at, DATA / "bad_invoices.csv", "invoices")
    check_app(at)
    with Store.open(db, read_only=True) as store:
        log = store.rows("SELECT import_id, file FROM import_log ORDER BY import_id")
    newest, name = log[-1]
    assert name == "bad_invoices.csv", "the log names the upload, not its temporary path"
    with Store.open(db, read_only=True) as store:
        leaks = store.value(
            "SELECT count(*) FROM import_log WHERE contains(file || coalesce(notes, '') ||"
            " coalesce(mapping::VARCHAR, ''), 'arlens-upload')"
        ) + store.value("SELECT count(*) FROM rejected_rows WHERE contains(file, 'arlens-upload')")
    assert leaks == 0
    assert not [m.value for m in at.markdown if "arlens-upload" in m.value]
    assert at.selectbox(key="import_pick").value == newest != first
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Rows read"], shown["Rows loaded"], shown["Rows rejected"]) == ("11", "3", "8")
    assert "bad_invoices.csv: 3 rows loaded, 8 rejected." in [w.value for w in at.warning]
    notes = [m.value for m in at.markdown if m.value.startswith("**Notes on this import**")]
    assert len(notes) == 1 and "due date before the invoice date" in notes[0]
    assert "currency" not in notes[0], "the minimal import's note is not repeated as this one's"
    # st.dataframe without selections carries no key: find the tables by their columns
    history, rejected = (
        next(d.value for d in at.dataframe if column in d.value)
        for column in ("target_table", "reason")
    )
    assert "bad_invoices.csv" in set(history["file"]) and not any(
        "/" in f for f in history["file"][:1]
    )
    assert len(rejected) == 8


def test_an_upload_that_loads_nothing_says_why_and_shows_its_rejects(monkeypatch, tmp_path, write):
    """Nothing loaded: one error line naming the upload; its rejected rows are picked."""
    db = tmp_path / "fresh.duckdb"
    bad = write("all_bad.csv", "invoice_id,customer_id,invoice_date,amount\nA1,C1,nope,10\n")
    at = run_page(monkeypatch, db, "pages/data.py")
    upload(at, bad, "invoices")
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1 and at.error[0].value.startswith("all_bad.csv: nothing loaded")
    assert str(tmp_path) not in at.error[0].value and "arlens-upload" not in at.error[0].value
    with Store.open(db, read_only=True) as store:
        logged = store.rows("SELECT import_id, file, rows_loaded FROM import_log")
    assert len(logged) == 1 and logged[0][1:] == ("all_bad.csv", 0)
    assert at.selectbox(key="import_pick").value == logged[0][0]
    assert "**Rejected rows: 1**" in [m.value for m in at.markdown]
    check_app(at, errors_allowed=True)


# -- ui helpers the pages call ---------------------------------------------------------------------


def test_an_empty_chart_is_one_line_not_a_frame():
    """charts.show: an info line for None or a figure without points; the chart otherwise."""
    at = AppTest.from_string(
        "from ui import charts\n"
        "import pandas as pd\n"
        "charts.show(None, 'Nothing yet.', key='a')\n"
        "charts.show(charts.lines(pd.DataFrame({'m': [], 'v': []}), 'm', {'v': 'V'}, 'days'),"
        " 'No months.', key='b')\n"
        "charts.show(charts.bars(pd.DataFrame({'m': ['x'], 'v': [1.0]}), 'm', 'v', 'USD'),"
        " 'unused', key='c')\n"
    ).run()
    assert [i.value for i in at.info] == ["Nothing yet.", "No months."]
    assert len(at.get("plotly_chart")) == 1 and not problems_in_app(at)


def test_month_end_points_sit_on_their_month_end():
    """A 31 Jan point is labelled Jan at 31 Jan (Plotly's own ticks would put it by Feb)."""
    ends = pd.to_datetime(["2025-01-31", "2025-02-28", "2025-03-31"])
    fig = charts.lines(pd.DataFrame({"month_end": ends, "dso": [40.0, 41.0, 39.0]}), "month_end",
                       {"dso": "DSO"}, "days")  # fmt: skip
    axis = fig.layout.xaxis
    assert axis.type == "date" and list(pd.to_datetime(axis.tickvals)) == list(ends)
    assert list(axis.ticktext) == ["Jan 2025", "Feb 2025", "Mar 2025"]
    assert list(pd.to_datetime(fig.data[0].x)) == list(ends)
    assert figure_has_points(fig.to_plotly_json()) and not figure_has_points(go.Figure().to_dict())


def test_tables_read_as_sentences_with_money_and_dates():
    """tables.column_config: sentence-case labels, money in its currency, dates without times."""
    frame = pd.DataFrame({
        "customer_id": ["0001"], "name": ["Acme"], "open_ar": [1234.5],
        "days_since_last_payment": [12], "utilisation": [0.8],
        "credit_limit_reviewed_on": pd.to_datetime(["2024-01-31"]), "1-30": [10.0],
    })  # fmt: skip
    config = tables.column_config(frame, currency="EUR")
    assert {c: config[c]["label"] for c in config} == {
        "customer_id": "Customer ID", "name": "Customer", "open_ar": "Open AR",
        "days_since_last_payment": "Days since last payment", "utilisation": "Utilisation",
        "credit_limit_reviewed_on": "Credit limit reviewed on", "1-30": "1-30",
    }  # fmt: skip
    assert config["open_ar"]["type_config"]["format"] == "€%,.2f"
    assert config["1-30"].get("type_config", {}).get("format") is None, (
        "a bucket is money only if named"
    )
    assert config["utilisation"]["type_config"]["format"] == "percent"
    assert config["credit_limit_reviewed_on"]["type_config"]["type"] == "date"
    assert config["customer_id"]["pinned"] and config["name"]["pinned"]
    assert not config["open_ar"].get("pinned")
    assert list(tables.for_download(frame).columns)[:3] == ["Customer ID", "Customer", "Open AR"]


@pytest.mark.parametrize("db_kind", STORES)
def test_suggested_limits_show_current_suggested_and_why(monkeypatch, request, db_kind):
    """Suggested limits: current and suggested limit, difference, stale flag and the reasoning."""
    at = run_page(monkeypatch, request.getfixturevalue(f"{db_kind}_db"), "pages/limits.py")
    check_app(at)
    table = next(d.value for d in at.dataframe if "suggested_limit" in d.value)
    assert {"credit_limit", "suggested_limit", "difference", "stale", "reasoning"} <= set(table)
    assert len(table) and table["reasoning"].str.contains(r" / 30 = ", regex=False).any()
    assert "limits_csv" in {b.key for b in at.get("download_button")}
    if db_kind == "minimal":  # no terms, no limits: terms from the due dates, every one new
        assert table["reasoning"].str.contains("from due dates", regex=False).all()
        assert table["credit_limit"].isna().all()


@pytest.mark.parametrize(("named", "title"), [("worklist", "Collections worklist"),
                                              ("no-such-page", PAGES[0][1])])  # fmt: skip
def test_a_link_naming_a_page_by_hand_opens_it_or_the_first_page(
    monkeypatch, request, named, title
):
    """`?page=worklist` (typed, not `pages/worklist.py`) opens the worklist; a name of no page
    opens the first page: neither shows a traceback."""
    at = run_page(monkeypatch, request.getfixturevalue("minimal_db"), named)
    assert [t.value for t in at.title][:1] == [title]
    check_app(at)
