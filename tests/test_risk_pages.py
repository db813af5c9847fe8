"""Aging, Bad-debt exposure, Late-payment risk and Customer personas render on the minimal
register and on the sample, at past, present and default as-of dates, in words a reader reads:
no exception, no nan/None/NaT, no column names, no midnight times. The risk page shows only the
store's own model, and scores as of the sidebar date or before it."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import DATA, REPO
from streamlit.testing.v1 import AppTest

from arlens.ingest.importer import import_file
from arlens.store import Store
from models import risk

PAGES = ["pages/aging.py", "pages/bad_debt.py", "pages/risk.py", "pages/personas.py"]
DATES = ["2024-06-30", "2025-12-31", None]  # None: the default, the newest document
UNREADABLE = re.compile(r"\b(nan|NaN|None|NaT)\b|\d\d:\d\d:\d\d")
SNAKE = re.compile(r"\b[a-z]+_[a-z_]+\b")  # open_ar, countback_dso, past_due, ...


@pytest.fixture(scope="module")
def minimal_scored(tmp_path_factory):
    """The minimal register with a risk model in its own model folder, scored at 31 Dec 2025."""
    path = tmp_path_factory.mktemp("minimal_scored") / "register.duckdb"
    with Store.open(path) as store:
        import_file(store, DATA / "minimal" / "invoices.csv", "invoices")
        risk.train(store)
        risk.score(store, risk.data_end(store))
    return path


def run_page(monkeypatch, db, page: str, as_of: str | None) -> AppTest:
    monkeypatch.setenv("ARLENS_DB", str(db))
    monkeypatch.delenv("ARLENS_MODEL_DIR", raising=False)  # each store's own model folder
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=180)
    if as_of:
        at.query_params["as_of"] = as_of
    at.run()
    at.switch_page(page).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def rendered(at: AppTest) -> list[str]:
    """Every text a reader sees: titles, prose, messages, metrics, table headers and cells."""
    texts = [str(e.value) for kind in ("title", "subheader", "markdown", "caption", "info",
                                       "warning", "error", "success") for e in getattr(at, kind)]  # fmt: skip
    texts += [f"{m.label} {m.value}" for m in at.metric]
    for frame in at.dataframe:
        texts += [str(c) for c in frame.value.columns]
        texts += [str(v) for c in frame.value.columns for v in frame.value[c].head(200)]
    return texts


def headers(at: AppTest) -> list[str]:
    return [str(c) for frame in at.dataframe for c in frame.value.columns]


@pytest.mark.parametrize("as_of", DATES, ids=lambda d: d or "default")
@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("db_kind", ["minimal", "sample"])
def test_page_reads_well(monkeypatch, request, minimal_scored, db_kind, page, as_of):
    db = minimal_scored if db_kind == "minimal" else request.getfixturevalue("sample_db")
    at = run_page(monkeypatch, db, page, as_of)
    texts = rendered(at)
    bad = [t for t in texts if UNREADABLE.search(t)]
    assert not bad, bad[:5]
    snake = [h for h in headers(at) if SNAKE.search(h)]
    assert not snake, snake
    assert len(texts) >= 2  # at least a title and a sentence


def test_rates_and_losses_are_named_apart(monkeypatch, minimal_scored):
    """Bad-debt exposure speaks of the expected credit loss; Late-payment risk of the amount at
    risk of late payment; neither calls anything "expected loss" on its own."""
    bad_debt = rendered(run_page(monkeypatch, minimal_scored, "pages/bad_debt.py", "2025-12-31"))
    late = rendered(run_page(monkeypatch, minimal_scored, "pages/risk.py", "2025-12-31"))
    assert any("Expected credit loss (allowance)" in t for t in bad_debt)
    assert any("Nothing written off in the 12 months of history" in t for t in bad_debt)
    assert any(t == "Amount at risk of late payment" for t in late)
    for t in bad_debt + late:
        assert not re.search(r"(?<!credit )\bexpected loss\b", t, re.I), t


def test_risk_views_use_scores_as_of_the_date_or_before(monkeypatch, minimal_scored):
    at = run_page(monkeypatch, minimal_scored, "pages/risk.py", "2024-06-30")
    assert any("No scores for 30 June 2024" in i.value for i in at.info)
    assert "Amount at risk of late payment" not in headers(at)
    at = run_page(monkeypatch, minimal_scored, "pages/bad_debt.py", "2024-06-30")
    assert "P(late), next invoice (%)" not in headers(at)
    at = run_page(monkeypatch, minimal_scored, "pages/risk.py", "2025-12-31")
    assert "Amount at risk of late payment" in headers(at)


def test_a_page_never_shows_another_stores_model(monkeypatch, minimal_scored, tmp_path):
    """The sample's store, pointed at the minimal register's model folder: refused, and why."""
    other = tmp_path / "other.duckdb"
    with Store.open(other) as store:
        import_file(store, DATA / "ledger" / "invoices.csv", "invoices")
    folder = risk.resolve_model_dir(db=minimal_scored)
    assert folder == minimal_scored.with_name("register.models") and folder.is_dir()
    assert not risk.resolve_model_dir(db=other).exists()  # the other store has no model yet
    at = run_page(monkeypatch, other, "pages/risk.py", None)
    assert "No late-payment model for this store yet" in at.info[0].value
    monkeypatch.setenv("ARLENS_MODEL_DIR", str(folder))  # a folder shared by hand
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=180)
    at.run()
    at.switch_page("pages/risk.py").run()
    assert not at.exception
    assert "trained on another store" in at.info[0].value and not at.dataframe
    copy = tmp_path / "copy.duckdb"  # a copy of a store is the same store: its model fits
    shutil.copy(minimal_scored, copy)
    with Store.open(copy, read_only=True) as store:
        assert risk.model_card(folder, store)["stale"] is False
