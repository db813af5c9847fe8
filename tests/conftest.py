"""Shared fixtures: every test builds its own store from small files, in memory or in tmp_path."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from arlens.ingest.importer import import_file
from arlens.store import Store

DATA = Path(__file__).parent / "data"
REPO = Path(__file__).parent.parent


@pytest.fixture
def store():
    with Store.memory() as s:
        yield s


@pytest.fixture
def write(tmp_path):
    """Write a small text file into tmp_path and return its path."""

    def _write(name: str, text: str, encoding: str = "utf-8") -> Path:
        path = tmp_path / name
        path.write_bytes(text.encode(encoding))
        return path

    return _write


def snapshot(store: Store) -> dict[str, list[tuple]]:
    """Every canonical table's rows, sorted: equal snapshots mean nothing changed."""
    tables = ["customers", "invoices", "payments", "applications", "financials", "activities"]
    return {t: sorted(store.rows(f"SELECT * FROM {t}"), key=repr) for t in tables}


@pytest.fixture(scope="session")
def sample_db(tmp_path_factory) -> Path:
    """The bundled sample data imported once per test session (what `make run` builds)."""
    path = tmp_path_factory.mktemp("sample") / "arlens.duckdb"
    with Store.open(path) as s:
        for table in ["customers", "invoices", "payments", "financials", "activities", "fx_rates",
                      "orders", "credit_limits"]:  # fmt: skip
            import_file(s, REPO / "sample_data" / f"{table}.csv", table)
    return path


@pytest.fixture(scope="session")
def minimal_db(tmp_path_factory) -> Path:
    """The minimal register (invoice number, customer id, invoice/due/settled dates, amount,
    dispute flag, country code; nothing else) imported once per test session."""
    path = tmp_path_factory.mktemp("minimal") / "arlens.duckdb"
    with Store.open(path) as s:
        import_file(s, DATA / "minimal" / "invoices.csv", "invoices")
    return path


def store_from_texts(folder: Path, name: str, files: dict[str, str]) -> Path:
    """A store file `name` in `folder` with each table imported from its CSV text (written beside
    it, in the order given); every row must load."""
    path = folder / name
    with Store.open(path) as store:
        for table, text in files.items():
            (folder / f"{table}.csv").write_text(text)
            result = import_file(store, folder / f"{table}.csv", table)
            assert result.rows_rejected == 0, result.summary()
    return path


@pytest.fixture
def copy_of(tmp_path):
    def _copy(path: Path) -> Path:
        target = tmp_path / path.name
        shutil.copy(path, target)
        return target

    return _copy


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium, headless (Playwright never downloads a browser here), one per module."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=os.environ.get("ARLENS_CHROMIUM", "/usr/bin/chromium"),
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield browser
        browser.close()
