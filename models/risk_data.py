"""What the risk model reads from a store: point-in-time features and labels (the SQL is in
arlens/sql/risk_model.sql), where a store keeps its model, and which store a model belongs to.
Shared by training (models/risk_train.py) and scoring (models/risk.py); no Streamlit, no
scikit-learn estimators.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from threadpoolctl import threadpool_limits

from arlens.store import Store, resolve_db_path
from models.risk_persist import ModelError
from models.risk_scores import _date, _sql

DAYS_CAP = 120  # days late beyond this (or written off): collection doubtful, no payment date
MODEL_DIR_SUFFIX = ".models"  # the store's model folder: <db stem>.models beside the file
DISPUTE_BASIS = {
    True: "dated dispute activities",
    False: "status at export",
}


def _threads(fitting: bool = False):
    """Thread pools (OpenMP, BLAS) while fitting or predicting: one thread unless
    $ARLENS_MODEL_THREADS says more (for fitting). The trees open a parallel region per node or
    tree; on our sizes that costs about what it saves, and it stalls many times over when the
    cores are shared with other work (a dashboard, DuckDB, a colleague's tests)."""
    threads = int(os.environ.get("ARLENS_MODEL_THREADS") or 1) if fitting else 1
    return threadpool_limits(threads)


def resolve_model_dir(
    model_dir: str | os.PathLike | None = None, db: str | os.PathLike | Store | None = None
) -> Path:
    """The model folder of a store: `model_dir`, else $ARLENS_MODEL_DIR, else the folder
    `<db stem>.models` beside the database file `db` (a path or an open Store; None: the default
    database, $ARLENS_DB else data/arlens.duckdb). A folder named by hand may hold another
    store's model: `model_card` refuses it. Raises ModelError for an in-memory store without a
    folder."""
    if model_dir:
        return Path(model_dir)
    if os.environ.get("ARLENS_MODEL_DIR"):
        return Path(os.environ["ARLENS_MODEL_DIR"])
    path = db.path if isinstance(db, Store) else resolve_db_path(db)
    if path is None:
        raise ModelError("an in-memory store has no model folder: give one (model_dir)")
    path = Path(path)
    return path.with_name(path.stem + MODEL_DIR_SUFFIX)


def store_id(store: Store) -> str | None:
    """Which store this is, for telling a model trained on it from one trained on another: a
    hash of its first import (file, checksum, time), which later imports and copying the file
    keep; the file's path for a store never imported into; None for an in-memory one."""
    first = store.rows(
        "SELECT import_id, file, sha256, imported_at FROM import_log ORDER BY import_id LIMIT 1"
    )
    if first:
        return hashlib.sha256(repr(first[0]).encode()).hexdigest()[:16]
    return str(Path(store.path).resolve()) if store.path else None


# -- Features and labels -------------------------------------------------------------------------


def features(
    store: Store, scope: str = "all", as_of: dt.date | None = None, grace_days: int = 0
) -> pd.DataFrame:
    """Point-in-time features (arlens/sql/risk_model.sql `features`), ordered by invoice date.

    scope 'all': every invoice and debit memo, as of its invoice date. scope 'score': the
    documents open at `as_of` that are not yet more than `grace_days` past due, plus one typical
    next invoice per customer dated `as_of` + 1 (target = 'next').
    """
    if scope not in ("all", "score"):
        raise ValueError("scope is 'all' or 'score'")
    if scope == "score" and as_of is None:
        raise ValueError("scoring features need an as-of date")
    params = {"scope": scope, "as_of": as_of, "grace_days": int(grace_days)}
    frame = store.df(_sql("features"), params)
    return frame.sort_values(["invoice_date", "invoice_id"], kind="stable", ignore_index=True)


def labels(
    store: Store, horizon: dt.date, grace_days: int = 0, cap: int = DAYS_CAP
) -> pd.DataFrame:
    """What was known at `horizon` about every invoice: known, late (0/1), days_late (capped)."""
    params = {"horizon": horizon, "grace_days": int(grace_days), "cap": int(cap)}
    return store.df(_sql("labels"), params).set_index("invoice_id")


def labels_for(store: Store, frame: pd.DataFrame, horizon: dt.date, grace_days: int = 0) -> pd.DataFrame:  # fmt: skip
    """`labels` row for row with `frame` (features, in their order). Both come sorted by invoice
    date and id, so the common case needs no lookup by id."""
    found = labels(store, horizon, grace_days)
    if len(found) == len(frame) and (found.index.to_numpy() == frame["invoice_id"].to_numpy()).all():  # fmt: skip
        return found
    return found.reindex(frame["invoice_id"])


def data_end(store: Store) -> dt.date | None:
    """The newest date in the store: outcomes are known up to it."""
    return _date(store.value(_sql("data_end")))


def dispute_basis(store: Store) -> str:
    """Where an invoice's own dispute status comes from: dated dispute activities when the store
    has any, else the register's dispute flag (its status at export)."""
    return DISPUTE_BASIS[bool(store.value(_sql("dispute_basis")))]


@contextmanager
def _timed(seconds: dict, step: str):
    started = time.perf_counter()
    yield
    seconds[step] = round(time.perf_counter() - started, 2)


def _schema(store: Store) -> dict[str, str]:
    """{table.column: type} of the tables the features read."""
    return dict(sorted(store.rows(_sql("required_columns"))))
