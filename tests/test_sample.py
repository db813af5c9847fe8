"""The sample generator: deterministic for a seed, and everything it writes imports cleanly."""

from __future__ import annotations

import datetime as dt
import hashlib

from arlens.cli import folder_files
from arlens.ingest.importer import import_file
from arlens.sample import generate
from arlens.store import Store


def digests(folder):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_files_other_seed_other_files(tmp_path):
    generate(tmp_path / "a", customers=30, years=1, seed=3)
    generate(tmp_path / "b", customers=30, years=1, seed=3)
    generate(tmp_path / "c", customers=30, years=1, seed=4)
    assert digests(tmp_path / "a") == digests(tmp_path / "b")
    assert digests(tmp_path / "a")["invoices.csv"] != digests(tmp_path / "c")["invoices.csv"]


def test_generated_exports_import_with_nothing_rejected(tmp_path):
    counts = generate(tmp_path / "s", customers=40, years=2, seed=11)
    with Store.open(tmp_path / "s.duckdb") as store:
        for path, table in folder_files(tmp_path / "s"):
            result = import_file(store, path, table)
            assert result.rows_rejected == 0, result.summary()
            # the wide rates file (Date, USD, GBP) loads one rate per cell
            per_row = 2 if table == "fx_rates" else 1
            assert result.rows_loaded == counts[path.name] * per_row
        assert store.value("SELECT count(*) FROM customers WHERE is_stub") == 0
        # Nothing is dated after the generator's end date.
        last = store.value("SELECT max(payment_date) FROM payments")
        assert last <= dt.date(2026, 10, 31)
