"""Suggested credit limits (issue #14 item 7), on a ledger worked by hand at 31 March 2026.

The window is the 12 calendar months April 2025 - March 2026.
  L1 Peak Ltd (USD, 30 days, limit 20,000 reviewed 30 Jun 2025): invoices of 9,000 (Nov 2025),
     10,000 + 4,000 (Jan 2026) and 6,000 (Feb 2026); 50,000 in Jan 2025 is outside the window.
     Peak month January 14,000. Days late: 10, 14 and 18 on the three settled in the window, 19 so
     far on the February one still open: median (14 + 18) / 2 = 16.
     14,000 × (30 + 16) / 30 = 21,466.67 → 22,000 (current 20,000: +2,000, 2,000 / 22,000).
     Average basis: 29,000 / 12 = 2,416.67 × 46 / 30 = 3,705.56 → 4,000.
  L2 Quiet Ltd (USD, limit 5,000 reviewed 15 Jan 2023: stale): nothing sold since 2024.
  L3 Risky GmbH (EUR, 60 days, limit 10,000): 3,000 in Dec 2025 paid on its due date, 1,500 in
     March not yet due. 3,000 × (60 + 0) / 30 = 6,000 → 6,000 (-4,000, 4,000 / 10,000 = 0.4);
     with a risk score of 0.62 (high: × 0.75) 4,500 → 5,000 (-5,000, 0.5).
  L4 New Co (USD, no terms, no limit): 2,500 on 1 Mar 2026 due 15 Mar, open: terms 14 from the
     due date, 16 days late so far: 2,500 × (14 + 16) / 30 = 2,500 → 3,000 (no limit: first).
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
import pytest

from arlens import credit_limits
from arlens.cli import main
from arlens.credit_limits import LimitRule, suggested_limits
from arlens.store import Store
from tests.conftest import store_from_texts

DAY = dt.date(2026, 3, 31)
CUSTOMERS = """customer_id,name,currency,payment_terms_days,credit_limit,credit_limit_reviewed_on
L1,Peak Ltd,USD,30,20000.00,2025-06-30
L2,Quiet Ltd,USD,30,5000.00,2023-01-15
L3,Risky GmbH,EUR,60,10000.00,2026-01-01
L4,New Co,USD,,,
"""
INVOICES = """invoice_id,customer_id,invoice_date,due_date,amount,currency
OLD,L1,2025-01-10,2025-02-09,50000.00,USD
N1,L1,2025-11-01,2025-12-01,9000.00,USD
J1,L1,2026-01-05,2026-02-04,10000.00,USD
J2,L1,2026-01-20,2026-02-19,4000.00,USD
F1,L1,2026-02-10,2026-03-12,6000.00,USD
Q1,L2,2024-05-01,2024-05-31,1000.00,USD
D1,L3,2025-12-01,2026-01-30,3000.00,EUR
M1,L3,2026-03-01,2026-04-30,1500.00,EUR
W1,L4,2026-03-01,2026-03-15,2500.00,USD
"""
PAYMENTS = """payment_id,customer_id,payment_date,amount,invoice_id,currency
P0,L1,2025-02-09,50000.00,OLD,USD
P1,L1,2025-12-11,9000.00,N1,USD
P2,L1,2026-02-18,10000.00,J1,USD
P3,L1,2026-03-09,4000.00,J2,USD
PQ,L2,2024-05-31,1000.00,Q1,USD
PD,L3,2026-01-30,3000.00,D1,EUR
"""


@pytest.fixture
def limits_db(tmp_path):
    files = {"customers": CUSTOMERS, "invoices": INVOICES, "payments": PAYMENTS}
    return store_from_texts(tmp_path, "limits.duckdb", files)


def by_id(frame) -> dict:
    return {row.customer_id: row for row in frame.itertuples()}


def test_peak_month_times_terms_and_usual_days_late(limits_db):
    with Store.open(limits_db, read_only=True) as store:
        rows = by_id(suggested_limits(store, DAY))
    l1 = rows["L1"]
    assert (l1.monthly_sales, l1.peak_month, l1.terms_days, l1.days_late) == (
        14000.0,
        dt.date(2026, 1, 1),
        30,
        16,
    )
    assert (l1.credit_limit, l1.suggested_limit, l1.difference) == (20000.0, 22000.0, 2000.0)
    assert l1.relative_difference == pytest.approx(2000 / 22000)
    assert l1.reasoning == (
        "Peak month (Jan 2026) $14,000 × (30 terms + 16 days late) / 30 = $21,467; "
        "rounded up to $22,000"
    )
    l4 = rows["L4"]  # terms from its due date, days late so far on its open invoice
    assert pd.isna(l4.credit_limit) and (l4.suggested_limit, l4.terms_days, l4.days_late) == (
        3000.0,
        14,
        16,
    )
    assert l4.reasoning == (
        "Peak month (Mar 2026) $2,500 × (14 terms (from due dates) + 16 days late) / 30 = $2,500; "
        "rounded up to $3,000"
    )
    l3 = rows["L3"]
    assert (l3.currency, l3.suggested_limit, l3.difference) == ("EUR", 6000.0, -4000.0)


def test_a_customer_without_sales_in_the_window_gets_no_suggestion_and_a_reason(limits_db):
    with Store.open(limits_db, read_only=True) as store:
        frame = suggested_limits(store, DAY)
    l2 = by_id(frame)["L2"]
    assert frame["customer_id"].iloc[-1] == "L2"  # after every customer with a suggestion
    assert pd.isna(l2.suggested_limit) and pd.isna(l2.difference)
    assert (l2.credit_limit, l2.stale) == (5000.0, True)
    assert l2.reasoning == (
        "No credit sales in USD in the 12 months to 31 Mar 2026: no suggestion (is the limit "
        "still needed?)"
    )
    assert list(frame["stale"]) == [False, False, False, True]


def test_ordered_by_difference_relative_to_the_larger_limit(limits_db):
    with Store.open(limits_db, read_only=True) as store:
        plain = suggested_limits(store, DAY)
        scored = suggested_limits(store, DAY, risk_scores={"L3": 0.62, "L1": 0.1})
    # no limit (1.0), 4,000 / 10,000, 2,000 / 22,000, no suggestion
    assert list(plain["customer_id"]) == ["L4", "L3", "L1", "L2"]
    assert list(plain["relative_difference"][:3]) == pytest.approx([1.0, 0.4, 2000 / 22000])
    assert list(scored["customer_id"]) == ["L4", "L3", "L1", "L2"]


def test_a_high_risk_score_lowers_the_suggestion(limits_db):
    with Store.open(limits_db, read_only=True) as store:
        rows = by_id(suggested_limits(store, DAY, risk_scores={"L3": 0.62, "L1": 0.1}))
    l3 = rows["L3"]
    assert (l3.suggested_limit, l3.difference, l3.factor, l3.risk_score) == (
        5000.0,
        -5000.0,
        0.75,
        0.62,
    )
    assert l3.relative_difference == 0.5
    assert l3.reasoning == (
        "Peak month (Dec 2025) €3,000 × (60 terms + 0 days late) / 30 = €6,000; "
        "high risk score 0.62: × 0.75 = €4,500; rounded up to €5,000"
    )
    assert rows["L1"].suggested_limit == 22000.0
    assert "risk score 0.10: no change" in rows["L1"].reasoning
    assert "no risk score" in rows["L4"].reasoning  # others are scored: say this one is not


def test_the_persona_caps_and_the_lower_factor_applies(limits_db):
    with Store.open(limits_db) as store:
        store.execute(
            "CREATE TABLE customer_personas (customer_id VARCHAR, as_of DATE, persona VARCHAR, "
            "strategy VARCHAR, credit_action VARCHAR)"
        )
        store.execute(
            "INSERT INTO customer_personas VALUES "
            "('L1', DATE '2026-03-31', 'Strong but slow — stretching terms', '', ''), "
            "('L3', DATE '2026-03-31', 'Deteriorating', '', '')"
        )
        rows = by_id(suggested_limits(store, DAY, risk_scores={"L3": 0.62}))
    l1 = rows["L1"]  # 22,000 would be an increase: kept at 20,000
    assert (l1.suggested_limit, l1.difference) == (20000.0, 0.0)
    assert l1.reasoning.endswith(
        "rounded up to $22,000; persona Strong but slow — stretching terms: no increase, kept at "
        "$20,000"
    )
    l3 = rows["L3"]  # the lower of × 0.75 (score) and × 0.5 (persona): 6,000 × 0.5 = 3,000
    assert (l3.suggested_limit, l3.factor) == (3000.0, 0.5)
    assert "high risk score 0.62: × 0.75; persona Deteriorating: × 0.5; the lower applies = €3,000" in l3.reasoning  # fmt: skip
    assert "no persona" in rows["L4"].reasoning


def test_the_average_basis_and_the_step_are_parameters(limits_db):
    with Store.open(limits_db, read_only=True) as store:
        rows = by_id(suggested_limits(store, DAY, rule=LimitRule(basis="average")))
        fine = by_id(suggested_limits(store, DAY, rule=LimitRule(step=100)))
    assert rows["L1"].suggested_limit == 4000.0
    assert rows["L1"].reasoning.startswith(
        "Average month $2,417 ($29,000 / 12) × (30 terms + 16 days late) / 30 = $3,706"
    )
    assert fine["L1"].suggested_limit == 21500.0
    with pytest.raises(ValueError, match="basis"):
        LimitRule(basis="median")


def test_the_persona_names_are_the_models(limits_db):
    from models.persona_rules import SEVERITY

    rule = LimitRule()
    assert {name for name, _ in rule.persona_factors} | set(rule.no_increase) <= set(SEVERITY)
    assert "peak month" in rule.describe("USD") and credit_limits.BASES == ("peak", "average")


def test_the_command_line(limits_db, capsys):
    assert main(["limits", "--as-of", DAY.isoformat(), "--format", "csv", "--db", str(limits_db)]) == 0  # fmt: skip
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [(r["customer_id"], r["suggested_limit"]) for r in rows] == [
        ("L4", "3000.0"), ("L3", "6000.0"), ("L1", "22000.0"), ("L2", "")
    ]  # fmt: skip


def test_the_current_limit_is_the_one_in_force_at_the_date(limits_db):
    with Store.open(limits_db) as store:
        store.execute(
            "INSERT INTO credit_limits (limit_key, customer_id, effective_from, credit_limit, "
            "reviewed_on, approved_by) VALUES ('L1|2026-02-01', 'L1', DATE '2026-02-01', 25000, "
            "DATE '2026-02-01', 'CFO')"
        )
        now = by_id(suggested_limits(store, DAY))["L1"]
        before = by_id(suggested_limits(store, dt.date(2026, 1, 31)))["L1"]
    assert (now.credit_limit, now.reviewed_on, now.difference) == (
        25000.0, dt.date(2026, 2, 1), -3000.0
    )  # fmt: skip
    assert before.credit_limit == 20000.0  # no history row in force yet: the customers file's
