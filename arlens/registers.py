"""Seeded invoice registers whose lateness has one known driver.

Why: the late-payment risk model picks its scorer by validation; to check that it picks the right
one we need registers where the truth is planted. Each `kind` plants one driver of lateness:

* `dispute`: the invoice's own dispute flag (late ~0.8 when disputed, ~0.12 when not);
* `history`: the customer's stable propensity only, so the customer's share of earlier invoices
  paid late is the best possible scorer;
* `noise`: almost nothing (late ~0.3 independently, a very weak customer effect).

The register has the shape of IBM's public "WA_Fn-UseC_-Accounts-Receivable" file, one row per
invoice. Optional activities (a dated dispute for every disputed invoice, calls and emails on late
ones) and payments (one per settled invoice) go beside it. The same arguments give byte-identical
files; activities and payments draw from their own stream, so invoices.csv does not change with
`with_activities`.
"""

from __future__ import annotations

import csv
import datetime
from pathlib import Path

import numpy as np

KINDS = ("dispute", "history", "noise")
INVOICE_HEADER = ["countryCode", "customerID", "invoiceNumber", "InvoiceDate", "DueDate",
                  "SettledDate", "InvoiceAmount", "Disputed", "PaperlessBill"]  # fmt: skip
ACTIVITY_HEADER = ["activity_id", "customer_id", "invoice_id", "activity_date", "kind",
                   "promised_date", "promised_amount", "outcome"]  # fmt: skip
PAYMENT_HEADER = ["payment_id", "customer_id", "payment_date", "amount", "invoice_id", "method",
                  "reference", "currency"]  # fmt: skip

COUNTRIES = ["US", "CA", "GB", "DE", "FR", "MX"]
COUNTRY_SHARE = [0.45, 0.15, 0.12, 0.12, 0.08, 0.08]
TERMS = np.array([15, 30, 45, 60])
TERMS_SHARE = [0.15, 0.45, 0.25, 0.15]
LETTERS = np.array(list("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
METHODS = ["ACH", "check", "wire", "card"]
METHOD_SHARE = [0.5, 0.25, 0.15, 0.1]
DISPUTE_REASONS = ["pricing", "quantity", "missing PO", "damaged goods", "not received"]
CALLED = ["left voicemail", "reached AP", "no answer", "AP says in payment run"]
EMAILED = ["sent statement", "sent copy invoice", "asked for payment date"]

DAYS_LATE_MEAN = 15  # days late beyond the first, when late
DISPUTED_DAYS_LATE_MEAN = 30  # `dispute` only: a disputed invoice waits for its resolution
EARLY_DAYS = 20  # on time: settled 0..EARLY_DAYS days before due
RECENT_DAYS = 60  # due this close to the export: some are still open however they would pay
RECENT_OPEN = 0.03
VERY_LATE_DAYS = 60  # this late: some are never paid by the export
VERY_LATE_OPEN = 0.15


def generate_register(
    out_dir,
    kind: str,
    seed: int = 12,
    customers: int = 150,
    invoices: int = 4000,
    end_date: datetime.date = datetime.date(2025, 12, 31),
    years: int = 2,
    with_activities: bool = False,
) -> dict[str, int]:
    """Write invoices.csv (and activities.csv, payments.csv) into `out_dir`; {file: rows}."""
    if kind not in KINDS:
        raise ValueError(f"unknown register kind {kind!r}; choose one of {', '.join(KINDS)}")
    if customers < 1 or invoices < 1 or years < 1:
        raise ValueError("customers, invoices and years must be at least 1")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    register_seq, extra_seq = np.random.SeedSequence(seed).spawn(2)
    start = end_date - datetime.timedelta(days=365 * years)
    inv = _invoices(np.random.default_rng(register_seq), kind, customers, invoices, start, end_date)
    counts = {"invoices.csv": _write(out / "invoices.csv", INVOICE_HEADER, _invoice_rows(inv))}
    if with_activities:
        rng = np.random.default_rng(extra_seq)
        counts["activities.csv"] = _write(
            out / "activities.csv", ACTIVITY_HEADER, _activity_rows(rng, inv)
        )
        counts["payments.csv"] = _write(
            out / "payments.csv", PAYMENT_HEADER, _payment_rows(rng, inv)
        )
    return counts


def _customer_ids(rng: np.random.Generator, n: int) -> list[str]:
    """IDs like `8411-WWULW`, drawn until unique."""
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < n:
        text = f"{rng.integers(1000, 10000)}-{''.join(rng.choice(LETTERS, 5))}"
        if text not in seen:
            seen.add(text)
            ids.append(text)
    return ids


def _invoices(rng, kind, n_customers, n, start, end_date) -> dict:
    """Every invoice as arrays; days are counted from `start`, the export is day `end`."""
    end = (end_date - start).days
    ids = _customer_ids(rng, n_customers)
    country = rng.choice(len(COUNTRIES), n_customers, p=COUNTRY_SHARE)
    terms = rng.choice(TERMS, n_customers, p=TERMS_SHARE)
    scale = rng.lognormal(7.3, 0.7, n_customers)  # the customer's typical invoice
    # Paper customers; half of them go electronic once, on a random day.
    paper = rng.random(n_customers) < 0.6
    switch = np.where(
        paper & (rng.random(n_customers) < 0.5), rng.integers(0, end, n_customers), end
    )
    switch = np.where(paper, switch, -1)

    # Every customer gets the same number of invoices (±1): with the defaults ~27 each, enough
    # for a customer's own late rate to estimate its propensity well.
    cust = rng.permutation(np.arange(n) % n_customers)
    day = rng.integers(0, end, n)  # the last invoice date is the day before the export
    amount = np.maximum(np.round(scale[cust] * rng.lognormal(0.0, 0.6, n), 2), 1.0)
    on_paper = day < switch[cust]
    due = day + terms[cust]

    if kind == "dispute":
        disputed = rng.random(n) < 0.12
        effect = rng.uniform(-0.04, 0.04, n_customers)
        p_late = np.where(disputed, 0.78, 0.10) + 0.04 * on_paper + effect[cust]
    elif kind == "history":
        disputed = rng.random(n) < 0.05
        propensity = 0.02 + 0.88 * rng.beta(0.7, 0.9, n_customers)
        p_late = propensity[cust]
    else:
        disputed = rng.random(n) < 0.06
        effect = rng.uniform(-0.03, 0.03, n_customers)
        p_late = 0.29 + 0.06 * disputed + effect[cust]
    late = rng.random(n) < np.clip(p_late, 0.0, 1.0)

    mean = np.where(disputed & (kind == "dispute"), DISPUTED_DAYS_LATE_MEAN, DAYS_LATE_MEAN)
    days_late = 1 + np.floor(rng.exponential(mean)).astype(np.int64)
    # On time: up to EARLY_DAYS before due, never before the invoice date (a disputed invoice
    # not on it either, so that its dispute can be dated before it is settled).
    early = rng.integers(0, EARLY_DAYS + 1, n)
    on_time = np.maximum(due - early, day + disputed)
    settled = np.where(late, due + days_late, on_time)

    recent = (due > end - RECENT_DAYS) & (due <= end) & (rng.random(n) < RECENT_OPEN)
    never = late & (days_late >= VERY_LATE_DAYS) & (rng.random(n) < VERY_LATE_OPEN)
    is_open = (settled > end) | recent | never

    order = np.lexsort((cust, day))
    number = int(rng.integers(10_000_000, 80_000_000)) + np.arange(n)
    return {
        "start": np.datetime64(start, "D"),
        "end": end,
        "ids": np.array(ids),
        "country": np.array(COUNTRIES)[country],
        "cust": cust[order],
        "number": number.astype(str),
        "day": day[order],
        "due": due[order],
        "settled": settled[order],
        "open": is_open[order],
        "amount": amount[order],
        "disputed": disputed[order],
        "paper": on_paper[order],
        "late": late[order],
    }


def _dates(inv: dict, days: np.ndarray) -> np.ndarray:
    return (inv["start"] + days.astype("timedelta64[D]")).astype(str)


def _invoice_rows(inv: dict) -> list[list[str]]:
    settled = np.where(inv["open"], "", _dates(inv, inv["settled"]))
    columns = [
        inv["country"][inv["cust"]],
        inv["ids"][inv["cust"]],
        inv["number"],
        _dates(inv, inv["day"]),
        _dates(inv, inv["due"]),
        settled,
        [f"{a:.2f}" for a in inv["amount"]],
        np.where(inv["disputed"], "Yes", "No"),
        np.where(inv["paper"], "Paper", "Electronic"),
    ]
    return [list(row) for row in zip(*columns, strict=True)]


def _activity_rows(rng: np.random.Generator, inv: dict) -> list[list[str]]:
    """A dispute 1-20 days after each disputed invoice (on or before it is settled and the
    export), so the dispute has a date; calls and emails between due and settled on late ones."""
    end, day, due = inv["end"], inv["day"], inv["due"]
    last = np.where(inv["open"], end, np.minimum(inv["settled"], end))
    found = []  # (day, invoice index, kind, outcome)
    for i in np.flatnonzero(inv["disputed"]):
        raised = min(int(day[i] + rng.integers(1, 21)), int(last[i]))
        found.append((raised, i, "dispute", f"customer disputes {rng.choice(DISPUTE_REASONS)}"))
    for i in np.flatnonzero(inv["late"]):
        low, high = int(due[i]) + 1, int(last[i])
        if low > high:
            continue  # not yet past due at the export
        for _ in range(rng.choice(3, p=[0.4, 0.4, 0.2])):
            kind = "call" if rng.random() < 0.5 else "email"
            outcome = rng.choice(CALLED if kind == "call" else EMAILED)
            found.append((int(rng.integers(low, high + 1)), i, kind, str(outcome)))
    found.sort(key=lambda a: (a[0], a[1], a[2]))
    dates = _dates(inv, np.array([a[0] for a in found], dtype=np.int64))
    return [
        [f"ACT{k + 1:07d}", inv["ids"][inv["cust"][i]], inv["number"][i], date, kind, "", "", text]
        for k, ((_, i, kind, text), date) in enumerate(zip(found, dates, strict=True))
    ]


def _payment_rows(rng: np.random.Generator, inv: dict) -> list[list[str]]:
    """One payment per settled invoice, on its settled date, for its whole amount."""
    paid = np.flatnonzero(~inv["open"])
    paid = paid[np.lexsort((paid, inv["settled"][paid]))]
    habit = rng.choice(len(METHODS), len(inv["ids"]), p=METHOD_SHARE)  # each customer's way
    method = np.where(rng.random(len(paid)) < 0.1, rng.integers(0, len(METHODS), len(paid)),
                      habit[inv["cust"][paid]])  # fmt: skip
    dates = _dates(inv, inv["settled"][paid])
    reference = rng.integers(100_000_000, 1_000_000_000, len(paid))
    return [
        [
            f"PAY{k + 1:07d}",
            inv["ids"][inv["cust"][i]],
            date,
            f"{inv['amount'][i]:.2f}",
            inv["number"][i],
            METHODS[m],
            f"{METHODS[m][:3].upper()}{ref}",
            "USD",
        ]  # fmt: skip
        for k, (i, date, m, ref) in enumerate(zip(paid, dates, method, reference, strict=True))
    ]


def _write(path: Path, header: list[str], rows: list[list[str]]) -> int:
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return len(rows)
