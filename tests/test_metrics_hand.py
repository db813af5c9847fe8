"""Metrics on a ledger small enough to work by hand (tests/data/ledger), compared to the cent.

The ledger, at as-of 31 Mar 2026:
  C1  I1 1000 due 31 Jan; paid 400 on 10 Feb (P1) and 600 on 5 Apr (P2, after the as-of date)
      I2  500 due 17 Mar; credit memo M1 −100 on 20 Mar applies to it
      I3  300 due 31 Mar (due on the as-of date: current)
      promises broken on 20 Feb and 10 Mar; one open for 5 Apr
  C2  I4 2000 due 31 Oct 2025; paid 500 on 1 Dec (P3), written off 15 Mar 2026
      I5  800 due 31 Dec 2025, unpaid
      I6 1200 invoiced 10 Mar, paid (settled date) 25 Mar
      M2 −50 credit memo with no invoice named (unapplied credit); P4 250 with no invoice (unapplied cash)
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import DATA

from arlens import metrics
from arlens.ingest.importer import import_file
from arlens.store import Store

D = dt.date(2026, 3, 31)


@pytest.fixture(scope="module")
def ledger():
    with Store.memory() as store:
        for table in ("customers", "invoices", "payments", "activities"):
            import_file(store, DATA / "ledger" / f"{table}.csv", table)
        yield store


def cents(frame, columns):
    return {c: round(float(frame[c]), 2) for c in columns}


def test_open_items_at_the_as_of_date(ledger):
    items = metrics.open_items(ledger, D)
    got = {(r.document_id, round(r.open_amount, 2), r.bucket) for r in items.itertuples()}
    assert got == {
        ("I1", 600.0, "31-60"),  # P2 is dated after the as-of date: it does not count
        ("I2", 400.0, "1-30"),
        ("I3", 300.0, "Current"),  # due today is current
        ("I5", 800.0, "61-90"),  # 90 days past due: upper bounds are inclusive
        ("M2", -50.0, "Unapplied"),
        ("P4", -250.0, "Unapplied"),
    }


def test_aging_by_customer_reconciles(ledger):
    aging = metrics.aging(ledger, D).set_index("customer_id")
    assert cents(aging.loc["C1"], ["Current", "1-30", "31-60", "61-90", "121+", "total", "past_due"]) == {
        "Current": 300.0, "1-30": 400.0, "31-60": 600.0, "61-90": 0.0, "121+": 0.0,
        "total": 1300.0, "past_due": 1000.0,
    }  # fmt: skip
    assert cents(aging.loc["C2"], ["61-90", "Unapplied", "total", "past_due"]) == {
        "61-90": 800.0, "Unapplied": -300.0, "total": 800.0, "past_due": 800.0,
    }  # fmt: skip
    net = metrics.aging(ledger, D, net_unapplied=True).set_index("customer_id")
    assert round(net.loc["C2", "total"], 2) == 500.0


def test_aging_earlier_date_and_other_bases(ledger):
    feb = metrics.aging(ledger, dt.date(2026, 2, 28), group_by="none").iloc[0]
    assert cents(feb, ["Current", "1-30", "31-60", "91-120", "Unapplied", "total"]) == {
        "Current": 500.0, "1-30": 600.0, "31-60": 800.0, "91-120": 1500.0, "Unapplied": 0.0,
        "total": 3400.0,
    }  # fmt: skip
    by_invoice_date = metrics.aging(ledger, D, basis="invoice", group_by="none").iloc[0]
    assert cents(by_invoice_date, ["0-30", "31-60", "61-90", "91-120", "121+"]) == {
        "0-30": 300.0, "31-60": 400.0, "61-90": 600.0, "91-120": 800.0, "121+": 0.0,
    }  # fmt: skip
    custom = metrics.aging(ledger, D, edges=(30, 60), group_by="segment").set_index("segment")
    assert list(custom.columns[1:5]) == ["Current", "1-30", "31-60", "61+"]
    assert round(custom.loc["Enterprise", "61+"], 2) == 800.0


def test_filters_narrow_every_figure(ledger):
    only_c1 = metrics.aging(ledger, D, group_by="none", filters={"salesperson": "Ann"}).iloc[0]
    assert round(only_c1["total"], 2) == 1300.0
    none = metrics.aging(ledger, D, filters={"currency": "EUR"})
    assert none.empty


def test_trend_month_ends(ledger):
    trend = metrics.trend(ledger, dt.date(2026, 1, 1), D)
    trend = trend.set_index(trend["month_end"].dt.date)
    assert [round(t, 2) for t in trend["total"]] == [3300.0, 3400.0, 2100.0]
    jan = trend.loc[dt.date(2026, 1, 31)]
    assert cents(jan, ["Current", "31-60", "91-120"]) == {
        "Current": 1000.0,
        "31-60": 800.0,
        "91-120": 1500.0,
    }


def test_kpis_worked_by_hand(ledger):
    k = metrics.kpis(ledger, D).iloc[0]
    # Credit sales in (31 Dec, 31 Mar]: I1 1000 + I2 500 + I3 300 + I6 1200 = 3000.
    assert cents(k, ["open_ar", "current_ar", "past_due", "credit_sales"]) == {
        "open_ar": 2100.0, "current_ar": 300.0, "past_due": 1800.0, "credit_sales": 3000.0,
    }  # fmt: skip
    assert k.dso == pytest.approx(2100 / 3000 * 90)  # 63.0
    assert k.best_possible_dso == pytest.approx(300 / 3000 * 90)  # 9.0
    assert k["add"] == pytest.approx(54.0)
    # Countback: March sales 1500 (31 days) and February 500 (28) consumed, then 100 of
    # January's 1000 (31 days): 31 + 28 + 3.1.
    assert k.countback_dso == pytest.approx(62.1)
    # CEI: AR at 31 Dec = 1500 (I4) + 800 (I5); (2300 + 3000 − 2100) / (2300 + 3000 − 300).
    assert k.cei == pytest.approx(64.0)


def test_kpi_series_matches_kpis_at_each_month_end(ledger):
    series = metrics.kpi_series(ledger, dt.date(2026, 1, 1), D)
    series = series.set_index(series["month_end"].dt.date)
    at_d = metrics.kpis(ledger, D).iloc[0]
    assert series.loc[D, "dso"] == pytest.approx(at_d.dso)
    assert series.loc[D, "countback_dso"] == pytest.approx(at_d.countback_dso)
    # March alone: AR 28 Feb 3400 + March sales 1500 − AR 31 Mar 2100, over 3400 + 1500 − 300.
    assert series.loc[D, "cei"] == pytest.approx((3400 + 1500 - 2100) / (3400 + 1500 - 300) * 100)


def test_roll_rates_february_to_march(ledger):
    rates = metrics.roll_rates(ledger, D, months=1)
    got = {
        (r.from_bucket, r.to_bucket): (round(r.amount, 2), round(r.rate, 6))
        for r in rates.itertuples()
    }
    assert got == {
        ("Current", "1-30"): (400.0, 0.8),
        ("Current", "Paid"): (100.0, 0.2),  # the credit memo
        ("1-30", "31-60"): (600.0, 1.0),
        ("31-60", "61-90"): (800.0, 1.0),
        ("91-120", "Written off"): (1500.0, 1.0),
    }


def test_loss_rates_read_the_roll_rates_as_a_chain():
    labels = ["Current", "1-30", "Over"]

    rates = pd.DataFrame(
        [
            ("USD", "Current", "Paid", 0.5), ("USD", "Current", "1-30", 0.5),
            ("USD", "1-30", "Paid", 0.5), ("USD", "1-30", "Over", 0.5),
            ("USD", "Over", "Over", 0.5), ("USD", "Over", "Written off", 0.25),
            ("USD", "Over", "Paid", 0.25),
        ],
        columns=["currency", "from_bucket", "to_bucket", "rate"],
    )  # fmt: skip
    rates["month_pairs"] = 12
    loss = metrics.loss_rates(rates, labels).set_index("bucket")["loss_rate"]
    # From Over: 0.25 / (1 − 0.5) = 0.5; from 1-30: 0.5 × 0.5; from Current: 0.5 × 0.25.
    assert list(loss.round(6)) == [0.125, 0.25, 0.5]
    thin = metrics.loss_rates(rates.assign(month_pairs=1), labels)
    assert set(thin["source"]) == {"fallback"}


def test_concentration(ledger):
    c = metrics.concentration(ledger, D).iloc[0]
    assert c.customers == 2 and c.top10_share_open == pytest.approx(1.0)
    assert c.hhi == pytest.approx(10_000 * (1300**2 + 800**2) / 2100**2)


def test_credit_review_and_hold_reasons(ledger):
    review = metrics.credit_review(ledger, D).set_index("customer_id")
    c1, c2 = review.loc["C1"], review.loc["C2"]
    assert (round(c1.exposure, 2), c1.utilisation, c1.over_limit, c1.stale_review) == (
        1300.0,
        1.3,
        True,
        True,
    )
    assert c1.days_since_last_payment == 49  # P1 on 10 Feb; P2 (5 Apr) is after the as-of date
    # Over its limit; its 2 broken promises are under the default 3 and nothing is 90+ days late.
    assert c1.hold and c1.hold_reasons == "exposure 130% of the limit"
    assert (c2.over_limit, c2.stale_review, c2.max_days_past_due) == (False, False, 90)
    # I5 is exactly 90 days past due: not *more* than 90, and 800 is under the 5,000 minimum.
    assert (c2.seriously_late, c2.hold, c2.hold_reasons) == (0, False, "")
    stricter = metrics.HoldRule(days=60, min_amount=500, broken_promises=2)
    again = metrics.credit_review(ledger, D, rule=stricter).set_index("customer_id")
    assert again.loc["C2", "hold_reasons"] == "$800 over 60 days past due (100% of exposure)"
    assert (
        again.loc["C1", "hold_reasons"]
        == "exposure 130% of the limit; 2 broken promises in 90 days"
    )


def test_worklist_call_sheets(ledger):
    work = metrics.worklist(ledger, D)
    assert list(work.customer_id) == ["C2", "C1"]  # 800 × 90 days before 600 × 59 + 400 × 14
    c2, c1 = work.iloc[0], work.iloc[1]
    assert c2.summary == "$800 is over 60 days past due"
    assert (c2.invoice_1, round(c2.invoice_1_amount, 2), c2.invoice_1_due.date()) == (
        "I5",
        800.0,
        dt.date(2025, 12, 31),
    )
    assert pd.isna(c2.invoice_2) and c2.priority == pytest.approx(72_000)
    assert c1.summary == "$600 is over 30 days past due"
    assert [c1.invoice_1, c1.invoice_2] == ["I1", "I2"]
    assert c1.priority == pytest.approx(600 * 59 + 400 * 14)
    assert (c1.open_promises, c1.broken_promises_90d) == (1, 2)
    assert c1.next_promised_date.date() == dt.date(2026, 4, 5)
    with_risk = metrics.worklist(ledger, D, risk_scores={"C1": 3.0})
    assert list(with_risk.customer_id) == ["C1", "C2"]


@pytest.mark.parametrize(
    "past_due, over_amount, over_days, currency, expected",
    [
        (10_000, 10_000, 30, "USD", "$10,000 is over 30 days past due"),
        (800, None, None, "USD", "$800 is past due"),
        (5_000, 2_500.5, 120, "EUR", "€2,501 is over 120 days past due"),
        (93, None, None, None, "93 is past due"),  # never "None 93 is past due"
    ],
)
def test_call_summary_sentence(past_due, over_amount, over_days, currency, expected):
    assert metrics.call_summary(past_due, over_amount, over_days, currency) == expected


def test_money_formats():
    assert metrics.money(950.4, "EUR") == "€950"
    assert metrics.money(1200, "CHF") == "CHF 1,200"


def test_what_if_limit_uses_the_same_rules(ledger):
    raised = metrics.credit_review(ledger, D, proposed_limits={"C1": 1300.0}).set_index(
        "customer_id"
    )
    assert raised.loc["C1", "over_limit"] == False  # noqa: E712 (exposure 1300 is not > 1300)
    assert raised.loc["C1", "hold_reasons"] == "" and not raised.loc["C1", "hold"]
    assert raised.loc["C1", "limit_is_proposed"] and not raised.loc["C2", "limit_is_proposed"]
    lowered = metrics.credit_review(ledger, D, proposed_limits={"C2": 799.99}).set_index(
        "customer_id"
    )
    assert lowered.loc["C2", "hold_reasons"] == "exposure 100% of the limit"  # 800 / 799.99
    zero = metrics.credit_review(ledger, D, proposed_limits={"C2": 0}).set_index("customer_id")
    assert pd.isna(zero.loc["C2", "utilisation"]) and zero.loc["C2", "over_limit"]
    assert zero.loc["C2", "hold_reasons"] == "exposure $800 on a limit of 0"


def test_cash_conversion_cycle_from_financials(tmp_path):
    """DSO from the invoices where they cover the period, else from the financials' receivables."""
    store = Store.memory()
    for table in ("customers", "invoices", "payments"):
        import_file(store, DATA / "ledger" / f"{table}.csv", table)
    path = tmp_path / "financials.csv"
    path.write_text(
        "Period End,Revenue,Credit Sales,COGS,Inventory,Accounts Payable,Accounts Receivable\n"
        "2025-09-30,4000,3000,2000,3000,1000,1500\n"
        "2026-03-31,4000,3000,2000,3000,1000,9999\n"
    )
    import_file(store, path, "financials")
    ccc = metrics.cash_conversion_cycle(store, "USD").set_index("period_end")
    sep, mar = ccc.iloc[0], ccc.iloc[1]
    # The first period's length is its month (30 days); the second runs 182 days from 30 Sep.
    assert (sep.days, mar.days) == (30, 182)
    assert sep.dso_source == "financials" and sep.dso == pytest.approx(1500 / 3000 * 30)
    assert sep.dio == pytest.approx(3000 / 2000 * 30) and sep.dpo == pytest.approx(1000 / 2000 * 30)
    assert sep.ccc == pytest.approx(15 + 45 - 15)
    # The first invoice (I4) is dated 1 Oct 2025: (30 Sep, 31 Mar] is covered, September is not.
    assert mar.dso_source == "receivables"
    # Open AR at 31 Mar 2100 over credit sales in (30 Sep, 31 Mar]: all six invoices, 5800.
    assert mar.dso == pytest.approx(2100 / 5800 * 182)
