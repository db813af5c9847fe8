"""`arlens.metrics` (SQL) against `reference` (plain pandas, re-deriving every settlement itself).

Random small ledgers are written as CSV exports, imported the way a user imports them, and every
metric is compared at a random as-of date: amounts to the cent, counts, labels, dates, flags and
sentences exactly, ratios (DSO, CEI, utilisation, rates, HHI) within 1e-6 relative.
"""

from __future__ import annotations

import csv
import datetime as dt
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import reference as ref
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arlens import metrics
from arlens.ingest.importer import import_file
from arlens.store import Store

D = dt.date
DAY = dt.timedelta(days=1)
TABLES = ["customers", "invoices", "payments", "activities"]
COLUMNS = {
    "customers": [
        "customer_id",
        "name",
        "segment",
        "country",
        "currency",
        "payment_terms_days",
        "credit_limit",
        "credit_limit_reviewed_on",
        "salesperson",
    ],
    "invoices": [
        "invoice_id",
        "customer_id",
        "invoice_date",
        "due_date",
        "amount",
        "doc_type",
        "currency",
        "paid_date",
        "written_off_on",
        "applies_to",
    ],
    "payments": ["payment_id", "customer_id", "payment_date", "amount", "invoice_id", "currency"],
    "activities": [
        "activity_id",
        "customer_id",
        "invoice_id",
        "activity_date",
        "kind",
        "promised_date",
        "promised_amount",
        "outcome",
    ],
}
GROUP_COLUMN = {"customer": "customer_id", "segment": "segment", "country": "country"}
GROUP_COLUMN |= {"salesperson": "salesperson", "currency": None, None: None}


# -- comparing frames ------------------------------------------------------------------------------


def _missing(value) -> bool:
    if value is None or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _as_date(value):
    return None if _missing(value) else pd.Timestamp(value).date()


def _as_cents(value):
    return None if _missing(value) else round(float(value), 2)


def _as_int(value):
    return None if _missing(value) else int(value)


def _as_text(value):
    return None if _missing(value) else str(value)


def _as_bool(value):
    return None if _missing(value) else bool(value)


def _cells(frame: pd.DataFrame, kinds: dict[str, str]) -> pd.DataFrame:
    """Every cell as a plain Python value of its kind, missing as None (so NaN == NaN)."""
    convert = {
        "date": _as_date,
        "amount": _as_cents,
        "int": _as_int,
        "text": _as_text,
        "bool": _as_bool,
        "ratio": lambda v: None if _missing(v) else float(v),
    }
    out = pd.DataFrame(index=range(len(frame)))
    for column in frame.columns:
        kind = kinds.get(column, "text")
        out[column] = pd.Series(
            [convert[kind](v) for v in frame[column].tolist()], index=out.index, dtype="object"
        )
    return out


def _sort_key(value):
    return (value is None, "" if value is None else str(value))


def _sorted(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    key_rows = list(frame[keys].itertuples(index=False, name=None))
    order = sorted(range(len(frame)), key=lambda i: [_sort_key(v) for v in key_rows[i]])
    return frame.iloc[order].reset_index(drop=True)


def _ratio_equal(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-9)


def assert_same(
    name: str,
    actual: pd.DataFrame,
    expected: pd.DataFrame,
    keys: list[str],
    kinds: dict[str, str],
    context: str = "",
) -> None:
    """Same columns, same rows (by key), same cells; otherwise a readable diff of what differs."""
    header = f"{name} differs from the reference{(' (' + context + ')') if context else ''}"
    # arlens may add columns for its pages (a customer's name, ...) and order them for display:
    # the specified ones must be there.
    missing = [c for c in expected.columns if c not in set(actual.columns)]
    assert not missing, f"{header}: no column {missing} in {list(actual.columns)}"
    actual = actual[list(expected.columns)]
    got = _sorted(_cells(actual, kinds), keys)
    want = _sorted(_cells(expected, kinds), keys)
    got_keys = [tuple(r) for r in got[keys].itertuples(index=False, name=None)]
    want_keys = [tuple(r) for r in want[keys].itertuples(index=False, name=None)]
    problems = []
    if len(set(got_keys)) != len(got_keys):
        problems.append(f"duplicate keys in arlens: {sorted(got_keys, key=repr)}")
    got_set, want_set = set(got_keys), set(want_keys)
    only_got = {k for k in got_keys if k not in want_set}
    only_want = {k for k in want_keys if k not in got_set}
    pd_opts = {"display.width": 250, "display.max_columns": 40, "display.max_colwidth": 60}
    with pd.option_context(*[x for kv in pd_opts.items() for x in kv]):
        if only_got:
            rows = got[[k in only_got for k in got_keys]]
            problems.append(f"{len(rows)} rows only in arlens ({keys}):\n{_head(rows)}")
        if only_want:
            rows = want[[k in only_want for k in want_keys]]
            problems.append(f"{len(rows)} rows only in the reference ({keys}):\n{_head(rows)}")
        columns = list(actual.columns)
        ratio = [kinds.get(c) == "ratio" for c in columns]
        want_rows = dict(zip(want_keys, want.itertuples(index=False, name=None), strict=True))
        cell_diffs = []
        for key, row in zip(got_keys, got.itertuples(index=False, name=None), strict=True):
            other = want_rows.get(key)
            if other is None:
                continue
            for column, is_ratio, a, b in zip(columns, ratio, row, other, strict=True):
                if not (_ratio_equal(a, b) if is_ratio else a == b):
                    cell_diffs.append({"key": key, "column": column, "arlens": a, "reference": b})
        if cell_diffs:
            problems.append(f"{len(cell_diffs)} cells differ:\n{_head(pd.DataFrame(cell_diffs))}")
    assert not problems, header + ":\n" + "\n".join(problems)


def _head(frame: pd.DataFrame, n: int = 12) -> str:
    text = frame.head(n).to_string()
    return text + (f"\n... and {len(frame) - n} more" if len(frame) > n else "")


def _bucket_kinds(labels) -> dict[str, str]:
    return dict.fromkeys([*labels, "Unapplied", "past_due", "total"], "amount")


OPEN_ITEM_KINDS = {
    "document_date": "date",
    "due_date": "date",
    "open_amount": "amount",
    "days_past_due": "int",
    "days_outstanding": "int",
}
KPI_KINDS = dict.fromkeys(["open_ar", "current_ar", "past_due", "credit_sales"], "amount")
KPI_KINDS |= dict.fromkeys(["dso", "best_possible_dso", "add", "countback_dso", "cei"], "ratio")
ROLL_KINDS = {"amount": "amount", "rate": "ratio"}
CONCENTRATION_KINDS = {"customers": "int", "hhi": "ratio"}
CONCENTRATION_KINDS |= {"top10_share_open": "ratio", "top10_share_past_due": "ratio"}
CREDIT_KINDS = {
    "exposure": "amount",
    "credit_limit": "amount",
    "utilisation": "ratio",
    "over_limit": "bool",
    "stale_review": "bool",
    "days_since_last_payment": "int",
    "past_due": "amount",
    "max_days_past_due": "int",
    "broken_promises_90d": "int",
    "no_limit": "bool",
    "seriously_late": "amount",
    "open_in_other_currencies": "int",
    "at_risk": "amount",
    "hold_for_limit": "bool",
    "hold_for_lateness": "bool",
    "hold": "bool",
}
WORKLIST_KINDS = {
    "past_due": "amount",
    "sentence_days": "int",
    "sentence_amount": "amount",
    "invoice_1_amount": "amount",
    "invoice_1_due": "date",
    "invoice_2_amount": "amount",
    "invoice_2_due": "date",
    "open_promises": "int",
    "broken_promises_90d": "int",
    "priority": "amount",
}


def _without_zero_amounts(frame: pd.DataFrame) -> pd.DataFrame:
    """Roll-rate rows with amount 0 may be omitted (either side)."""
    return frame[frame["amount"].astype("float64").round(2) != 0].reset_index(drop=True)


def _hold_reasons_blank(frame: pd.DataFrame) -> pd.DataFrame:
    """No reasons may come back as '' or None."""
    frame = frame.copy()
    frame["hold_reasons"] = frame["hold_reasons"].map(lambda v: "" if _missing(v) else v)
    return frame


def comparisons(case: dict) -> dict:
    """name -> (call on either side, keys, kinds): every metric of `case` (as_of, basis, edges,
    group_by, net_unapplied, filters, window_days, trend_start, roll_months)."""
    as_of, filters = case["as_of"], case["filters"]
    basis, edges = case["basis"], case["edges"]
    group = case["group_by"]
    labels = ref.bucket_labels(basis, edges)
    aging_args = {"basis": basis, "edges": edges, "group_by": group}
    aging_args |= {"net_unapplied": case["net_unapplied"], "filters": filters}
    roll_args = {"months": case["roll_months"], "edges": edges, "filters": filters}
    return {
        "open_items": (
            lambda m, x: m.open_items(x, as_of, basis=basis, edges=edges, filters=filters),
            ["item_type", "document_id"],
            OPEN_ITEM_KINDS,
        ),
        "aging": (
            lambda m, x: m.aging(x, as_of, **aging_args),
            ["currency"] + ([GROUP_COLUMN[group]] if GROUP_COLUMN[group] else []),
            _bucket_kinds(labels),
        ),
        "kpis": (
            lambda m, x: m.kpis(x, as_of, window_days=case["window_days"], filters=filters),
            ["currency"],
            KPI_KINDS,
        ),
        "trend": (
            lambda m, x: m.trend(
                x, case["trend_start"], as_of, basis=basis, edges=edges, filters=filters
            ),
            ["month_end", "currency"],
            _bucket_kinds(labels) | {"month_end": "date"},
        ),
        "roll_rates": (
            lambda m, x: _without_zero_amounts(m.roll_rates(x, as_of, **roll_args)),
            ["currency", "from_bucket", "to_bucket"],
            ROLL_KINDS,
        ),
        "concentration": (
            lambda m, x: m.concentration(x, as_of, filters=filters),
            ["currency"],
            CONCENTRATION_KINDS,
        ),
        "credit_review": (
            lambda m, x: _hold_reasons_blank(m.credit_review(x, as_of, filters=filters)),
            ["customer_id"],
            CREDIT_KINDS,
        ),
        "worklist": (
            lambda m, x: m.worklist(x, as_of, filters=filters, edges=edges),
            ["customer_id", "currency"],
            WORKLIST_KINDS,
        ),
    }


METRICS = ["bucket_labels", "open_items", "aging", "kpis", "trend", "roll_rates"]
METRICS += ["concentration", "credit_review", "worklist"]
# One exception class per metric, so that Hypothesis keeps (and shrinks) a separate example for
# each metric that differs instead of one example for whichever differs most often.
MISMATCH = {name: type(f"{name}_differs", (AssertionError,), {}) for name in METRICS}


def compare_everything(store: Store, ledger: ref.Ledger, case: dict, only=None) -> None:
    """Run every comparison (or those named in `only`); fail once, listing every difference."""
    context = ", ".join(f"{k}={v!r}" for k, v in case.items())
    failures = []
    labels = (
        metrics.bucket_labels(case["basis"], case["edges"]),
        ref.bucket_labels(case["basis"], case["edges"]),
    )
    if labels[0] != labels[1]:
        failures.append(
            ("bucket_labels", f"bucket_labels differ ({context}): {labels[0]} != {labels[1]}")
        )
    for name, (call, keys, kinds) in comparisons(case).items():
        if only and name not in only:
            continue
        actual = call(metrics, store)
        try:
            assert_same(name, actual, call(ref, ledger), keys, kinds, context)
            if name == "worklist":  # a promise due today or broken yesterday first, then priority
                order = [(pd.notna(f), round(float(p), 2))
                         for f, p in zip(actual["follow_up"], actual["priority"], strict=True)]  # fmt: skip
                assert order == sorted(order, reverse=True), (
                    f"worklist is not ordered by follow-up and priority ({context}): {order}"
                )
        except AssertionError as failure:
            failures.append((name, str(failure)))
    if failures:
        raise MISMATCH[failures[0][0]]("\n\n".join(message for _, message in failures))


# -- random ledgers -------------------------------------------------------------------------------


def _amount_text(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    return f"{sign}{abs(cents) // 100}.{abs(cents) % 100:02d}"


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def write_ledger(folder: Path, tables: dict[str, list[dict]]) -> dict[str, Path]:
    paths = {}
    for table in TABLES:
        path = folder / f"{table}.csv"
        with path.open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(COLUMNS[table])
            for row in tables[table]:
                writer.writerow([_cell(row.get(column)) for column in COLUMNS[table]])
        paths[table] = path
    return paths


def import_ledger(store: Store, folder: Path, tables: dict[str, list[dict]]) -> None:
    paths = write_ledger(folder, tables)
    for table in TABLES:
        if not tables[table]:
            continue
        result = import_file(store, paths[table], table)
        assert result.rows_rejected == 0, result.summary()


def _days(draw, lo: int, hi: int) -> dt.timedelta:
    return draw(st.integers(lo, hi)) * DAY


def _month_end(day: dt.date) -> dt.date:
    return (pd.Timestamp(day) + pd.offsets.MonthEnd(0)).date()


@st.composite
def ledgers(draw) -> dict[str, list[dict]]:
    """A small company: customers, invoices and memos, payments, promises.

    Dates come mostly from a small pool (month-ends among them) so that what makes the rules
    bite happens often: claims on the same day, settlements on the as-of date or a month-end."""
    pool = draw(st.lists(st.dates(D(2025, 1, 1), D(2026, 12, 31)), min_size=2, max_size=6))
    pool += [_month_end(d) for d in pool[:2]]
    any_day = st.sampled_from(pool) | st.dates(D(2025, 1, 1), D(2026, 12, 31))

    def after(day: dt.date, most: int) -> dt.date:
        """A day from `day` on: a pool day when one fits, else up to `most` days later."""
        later = [d for d in pool if day <= d <= day + most * DAY]
        if later and draw(st.booleans()):
            return draw(st.sampled_from(later))
        return day + _days(draw, 0, most)

    customers = []
    for k in range(draw(st.integers(2, 5))):
        customers.append(
            {
                "customer_id": f"{k + 1:04d}",
                "name": f"Customer {k + 1}",
                "segment": draw(st.sampled_from(["SMB", "Enterprise", None])),
                "country": draw(st.sampled_from(["US", "DE", None])),
                # Mostly USD and EUR; now and then a currency written with its code (CHF).
                "currency": draw(st.sampled_from(["USD", "EUR", "USD", "EUR", "GBP", "CHF"])),
                "payment_terms_days": draw(st.sampled_from([None, 0, 15, 30, 60])),
                "credit_limit": draw(st.none() | st.integers(1_000, 3_000_000).map(_amount_text)),
                "credit_limit_reviewed_on": draw(
                    st.none() | st.dates(D(2022, 1, 1), D(2026, 12, 31))
                ),
                "salesperson": draw(st.sampled_from(["Ann", "Bob", None])),
            }
        )
    money = st.sampled_from([10_000, 50_000, 123_456, 12_350]) | st.integers(1, 2_000_000)

    invoices, positive = [], []
    for k in range(draw(st.integers(1, 30))):
        customer = draw(st.sampled_from(customers))
        day = draw(any_day)
        cents = draw(money)
        terms = draw(st.none() | st.sampled_from([0, 1, 30, 31, 45, 60, 90]))
        row = {
            "invoice_id": f"INV{k:03d}",
            "customer_id": customer["customer_id"],
            "invoice_date": day,
            "due_date": None if terms is None else day + terms * DAY,
            "amount": _amount_text(cents),
            "doc_type": draw(st.sampled_from(["invoice", "invoice", "invoice", "debit_memo"])),
            "currency": draw(st.sampled_from([None, customer["currency"]])),
            "paid_date": after(day, 150) if draw(st.integers(0, 6)) == 0 else None,
            "written_off_on": after(day, 400) if draw(st.integers(0, 9)) == 0 else None,
            "_cents": cents,
        }
        invoices.append(row)
        positive.append(row)

    def claim(target: dict) -> int:
        """All of what the invoice asks, part of it, or more."""
        whole = target["_cents"]
        return draw(
            st.sampled_from([whole, whole // 2 or 1])
            | st.integers(1, whole)
            | st.integers(whole + 1, 2 * whole + 100)
        )

    payments = []
    for k in range(draw(st.integers(0, 25))):
        kind = draw(st.sampled_from(["invoice", "invoice", "invoice", "on_account", "unknown"]))
        if kind == "invoice":
            target = draw(st.sampled_from(positive))
            invoice_id = target["invoice_id"]
            customer = next(c for c in customers if c["customer_id"] == target["customer_id"])
            # Mostly on or after the invoice date; now and then before it (a prepayment).
            if draw(st.integers(0, 9)) == 0:
                day = target["invoice_date"] - _days(draw, 1, 10)
            else:
                day = after(target["invoice_date"], 200)
            cents = claim(target)
            # A payment naming a known invoice may leave the customer to the invoice.
            customer_id = draw(st.sampled_from([customer["customer_id"], None]))
        else:
            customer = draw(st.sampled_from(customers))
            customer_id = customer["customer_id"]
            invoice_id = "INV404" if kind == "unknown" else None
            day, cents = draw(any_day), draw(money)
        payments.append(
            {
                "payment_id": f"P{k:03d}",
                "customer_id": customer_id,
                "payment_date": day,
                "amount": _amount_text(cents),
                "invoice_id": invoice_id,
                "currency": draw(st.sampled_from([None, customer["currency"]])),
            }
        )

    for k in range(draw(st.integers(0, 6))):
        target = draw(st.none() | st.sampled_from(positive) | st.just("unknown"))
        if isinstance(target, dict):
            customer_id = target["customer_id"]
            # Often on the day a payment for the same invoice came in: who settles first?
            paid_on = [
                p["payment_date"] for p in payments if p["invoice_id"] == target["invoice_id"]
            ]
            if paid_on and draw(st.booleans()):
                day = draw(st.sampled_from(paid_on))
            else:
                day = after(target["invoice_date"], 150)
            cents = claim(target)
            applies_to = target["invoice_id"]
        else:
            customer_id = draw(st.sampled_from(customers))["customer_id"]
            day, cents = draw(any_day), draw(money)
            applies_to = "INV999" if target == "unknown" else None
        invoices.append(
            {
                "invoice_id": f"CM{k:02d}",
                "customer_id": customer_id,
                "invoice_date": day,
                "amount": _amount_text(-cents),
                "doc_type": "credit_memo",
                "applies_to": applies_to,
            }
        )

    activities = []
    for k in range(draw(st.integers(0, 8))):
        customer = draw(st.sampled_from(customers))
        day = draw(any_day)
        promise = draw(st.booleans())
        activities.append(
            {
                "activity_id": f"A{k:03d}",
                "customer_id": customer["customer_id"],
                "activity_date": day,
                "kind": "promise" if promise else "call",
                # Mostly promised after the call; sometimes logged after the promised date.
                "promised_date": day + _days(draw, -10, 20) if promise else None,
                "promised_amount": _amount_text(draw(money)) if promise else None,
                "outcome": draw(st.sampled_from(["kept", "broken", None])) if promise else None,
            }
        )
    for row in invoices:
        row.pop("_cents", None)
    return {
        "customers": customers,
        "invoices": invoices,
        "payments": payments,
        "activities": activities,
    }


edges_strategy = st.just((30, 60, 90, 120)) | st.lists(
    st.integers(1, 200), min_size=1, max_size=5, unique=True
).map(lambda xs: tuple(sorted(xs)))


@st.composite
def cases(draw, tables: dict[str, list[dict]]) -> dict:
    customers = tables["customers"]
    edges = draw(edges_strategy)
    days = sorted(
        {v for rows in tables.values() for row in rows for v in row.values() if isinstance(v, D)}
    )
    dues = sorted({row["due_date"] for row in tables["invoices"] if row.get("due_date")})
    where = draw(
        st.sampled_from(["anywhere", "near a date", "near a date", "on an edge", "month-end"])
    )
    if where == "near a date":  # settlements, promises and invoices on the day itself
        as_of = draw(st.sampled_from(days)) + _days(draw, -1, 1)
    elif where == "on an edge" and dues:  # days past due exactly at a bucket bound
        as_of = (
            draw(st.sampled_from(dues))
            + (draw(st.sampled_from(edges)) + draw(st.integers(0, 1))) * DAY
        )
    elif where == "month-end":
        as_of = _month_end(draw(st.sampled_from(days)))
    else:
        as_of = draw(st.dates(D(2024, 12, 1), D(2027, 6, 30)))
    filters = None
    if draw(st.integers(0, 2)) == 0:
        key = draw(
            st.sampled_from(["segment", "country", "salesperson", "currency", "customer_id"])
        )
        values = sorted({c[key] for c in customers if c[key] is not None} | {"nobody"})
        filters = {key: draw(st.sampled_from(values))}
    return {
        "as_of": as_of,
        "basis": draw(st.sampled_from(["due", "invoice"])),
        "edges": edges,
        "group_by": draw(st.sampled_from(list(GROUP_COLUMN))),
        "net_unapplied": draw(st.booleans()),
        "filters": filters,
        "window_days": draw(st.sampled_from([90, 30, 91, 365])),
        "trend_start": as_of - _days(draw, 0, 400),
        "roll_months": draw(st.integers(1, 4)),
    }


@st.composite
def ledgers_and_cases(draw):
    tables = draw(ledgers())
    return tables, draw(cases(tables))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ledgers_and_cases())
def test_metrics_match_the_reference_on_random_ledgers(ledger_and_case):
    """Every metric equals the independent pandas reference on a random small company."""
    tables, case = ledger_and_case
    with tempfile.TemporaryDirectory() as folder, Store.memory() as store:
        import_ledger(store, Path(folder), tables)
        ledger = ref.load_ledger(store)
        compare_everything(store, ledger, case)


# -- boundaries, by hand ----------------------------------------------------------------------------

BOUNDARY_LEDGER = {
    "customers": [
        {"customer_id": "0001", "segment": "SMB", "country": "US", "currency": "USD",
         "credit_limit": "150.00", "credit_limit_reviewed_on": D(2023, 3, 31), "salesperson": "Ann"},
        {"customer_id": "0002", "segment": "Enterprise", "country": "DE", "currency": "EUR",
         "credit_limit": None, "credit_limit_reviewed_on": None, "salesperson": None},
    ],
    "invoices": [
        # Paid by a payment and a credit memo on the same day that together bring too much.
        {"invoice_id": "A1", "customer_id": "0001", "invoice_date": D(2025, 1, 15),
         "due_date": D(2025, 2, 14), "amount": "100.00"},
        {"invoice_id": "M1", "customer_id": "0001", "invoice_date": D(2025, 3, 31),
         "amount": "-60.00", "doc_type": "credit_memo", "applies_to": "A1"},
        # Due exactly 30 and 31 days before 31 March; one settled on a month-end.
        {"invoice_id": "A2", "customer_id": "0001", "invoice_date": D(2025, 1, 30),
         "due_date": D(2025, 3, 1), "amount": "123.50", "paid_date": D(2025, 4, 30)},
        {"invoice_id": "A3", "customer_id": "0001", "invoice_date": D(2025, 1, 28),
         "due_date": D(2025, 2, 28), "amount": "50.00", "doc_type": "debit_memo"},
        # Written off on a month-end, after a partial payment made before it was issued.
        {"invoice_id": "B1", "customer_id": "0002", "invoice_date": D(2024, 11, 30),
         "due_date": D(2024, 12, 30), "amount": "1000.00", "written_off_on": D(2025, 2, 28)},
        {"invoice_id": "B2", "customer_id": "0002", "invoice_date": D(2025, 2, 1),
         "due_date": D(2025, 3, 3), "amount": "2000.00"},
        {"invoice_id": "M2", "customer_id": "0002", "invoice_date": D(2025, 3, 31),
         "amount": "-25.00", "doc_type": "credit_memo"},
    ],
    "payments": [
        {"payment_id": "P1", "customer_id": "0001", "payment_date": D(2025, 3, 31),
         "amount": "70.00", "invoice_id": "A1"},
        {"payment_id": "P2", "customer_id": "0002", "payment_date": D(2024, 11, 25),
         "amount": "400.00", "invoice_id": "B1"},
        {"payment_id": "P3", "customer_id": "0002", "payment_date": D(2025, 3, 31),
         "amount": "3000.00", "invoice_id": "B2"},
    ],
    "activities": [
        # Promised for 31 March (open on the day), and two broken promises, one logged late.
        {"activity_id": "C1", "customer_id": "0001", "activity_date": D(2025, 3, 20),
         "kind": "promise", "promised_date": D(2025, 3, 31), "outcome": "kept"},
        {"activity_id": "C2", "customer_id": "0001", "activity_date": D(2025, 3, 1),
         "kind": "promise", "promised_date": D(2025, 3, 10), "outcome": "broken"},
        {"activity_id": "C3", "customer_id": "0001", "activity_date": D(2025, 4, 5),
         "kind": "promise", "promised_date": D(2025, 3, 25), "outcome": "broken"},
    ],
}  # fmt: skip


@pytest.mark.parametrize(
    "as_of", [D(2025, 3, 30), D(2025, 3, 31), D(2025, 4, 1), D(2025, 4, 30), D(2025, 5, 31)]
)
@pytest.mark.parametrize("edges", [(30, 60, 90, 120), (29, 30, 31)])
def test_metrics_match_the_reference_on_the_boundaries(tmp_path, as_of, edges):
    """Same-day claims, settlements on the as-of date and on month-ends, days past due on a
    bucket edge, a promise due on the day and one logged after it was broken."""
    tables = {t: BOUNDARY_LEDGER.get(t, []) for t in TABLES}
    with Store.memory() as store:
        import_ledger(store, tmp_path, tables)
        case = {
            "as_of": as_of,
            "basis": "due",
            "edges": edges,
            "group_by": "customer",
            "net_unapplied": True,
            "filters": None,
            "window_days": 90,
            "trend_start": D(2024, 11, 1),
            "roll_months": 4,
        }
        compare_everything(store, ref.load_ledger(store), case)


# -- the bundled sample ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sample(sample_db):
    with Store.open(sample_db, read_only=True) as store:
        yield store, ref.load_ledger(store)


@pytest.mark.parametrize("as_of", [D(2026, 10, 31), D(2025, 6, 30)])
@pytest.mark.parametrize(
    "basis, edges, group_by, net_unapplied, filters",
    [
        ("due", (30, 60, 90, 120), "customer", False, None),
        ("invoice", (30, 60, 90), "segment", True, None),
        ("due", (15, 45), "country", False, {"currency": "EUR"}),
    ],
)
def test_metrics_match_the_reference_on_the_sample(
    sample, as_of, basis, edges, group_by, net_unapplied, filters
):
    """The same comparison on the bundled sample company."""
    store, ledger = sample
    case = {
        "as_of": as_of,
        "basis": basis,
        "edges": edges,
        "group_by": group_by,
        "net_unapplied": net_unapplied,
        "filters": filters,
        "window_days": 90,
        "trend_start": as_of - 365 * DAY,
        "roll_months": 3,
    }
    compare_everything(store, ledger, case)


def test_reference_settles_claims_in_order():
    """The reference itself, worked by hand: payment, credit, paid date and write-off in order."""
    ledger = ref.Ledger(
        customers=pd.DataFrame(
            {
                "customer_id": ["C1"],
                "segment": [None],
                "country": [None],
                "salesperson": [None],
                "currency": ["USD"],
                "credit_limit": [np.nan],
                "credit_limit_reviewed_on": [pd.NaT],
            }
        ),
        invoices=pd.DataFrame(
            {
                "invoice_id": ["I1", "M1"],
                "customer_id": ["C1", "C1"],
                "invoice_date": pd.to_datetime(["2026-01-01", "2026-01-10"]),
                "due_date": pd.to_datetime(["2026-01-31", "2026-01-10"]),
                "amount": [100.00, -30.00],
                "doc_type": ["invoice", "credit_memo"],
                "currency": ["USD", "USD"],
                "paid_date": pd.to_datetime([None, None]),
                "written_off_on": pd.to_datetime(["2026-03-31", None]),
                "applies_to": [None, "I1"],
            }
        ),
        payments=pd.DataFrame(
            {
                "payment_id": ["P1", "P2"],
                "customer_id": ["C1", "C1"],
                "payment_date": pd.to_datetime(["2026-01-10", "2026-02-01"]),
                "amount": [50.00, 40.00],
                "invoice_id": ["I1", "I1"],
                "currency": [None, None],
            }
        ),
        activities=pd.DataFrame(
            columns=[
                "customer_id",
                "activity_date",
                "kind",
                "promised_date",
                "outcome",
            ]
        ),
    )
    # 10 Jan: P1 settles 50 (payments before credits on a day), then M1 30; 1 Feb: P2 settles the
    # last 20 and leaves 20 unapplied; the write-off finds nothing open.
    items = ref.open_items(ledger, D(2026, 1, 15))
    assert items[["document_id", "open_amount"]].values.tolist() == [["I1", 20.0]]
    items = ref.open_items(ledger, D(2026, 4, 1))
    assert items[["item_type", "document_id", "open_amount"]].values.tolist() == [
        ["unapplied_cash", "P2", -20.0]
    ]
