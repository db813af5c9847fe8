"""The collections worklist and the credit review, worked by hand, and their two pages.

The hand store (built in tmp_path from the CSV text below), at as-of 31 Mar 2026, with the
Aging page's buckets 1-30, 31-60, 61-90, 91-120, 121+:

  the collector's sentence ("the oldest bucket holding ≥ 20% of the past due or ≥ 1,000")
    T20    400.00 10 days + 100.00 70 days: 100 is exactly 20% of 500  → over 60 days
    T20B   400.01 10 days + 100.00 70 days: just under 20%, under 1,000 → "$500 is past due"
    K1    9000.00 10 days + 1000.00 100 days: exactly 1,000 (10%)     → over 90 days
    K1B   9000.00 10 days + 999.99 100 days: under both                → "$10,000 is past due"
    OLD   1500.00 40 days + 1500.00 121 days: the 121+ bucket          → over 120 days
    E120  1500.00 40 days + 1500.00 120 days: 120 days is 91-120        → over 90 days
    TAIL  5000.00 40 days + 50.00 200 days: 121+ too small; 31-60 and older → "$5,050 … 30 days"
    YOUNG  800.00 5 days                                                 → "$800 is past due"
    T3     300 + 200 at 10-20 days + 100 at 40 days (17%): the two largest only
    NN     an invoice for a customer the customers file does not know (a stub without a name)

  the credit review (default hold rule: exposure > 100% of the limit, or ≥ 5,000 and ≥ 50% of
  the exposure more than 90 days past due, 25% after 3 broken promises in 90 days)
    L1    limit 10,000.00 reviewed 31 Mar 2024 (24 months to the day: not stale), owes 10,000.00
    L2    limit 10,000.00 reviewed 30 Mar 2024 (stale), owes 10,000.01: over by a cent
    Z0    limit 0, owes 100.00: over it, utilisation undefined
    HALF  no limit; 6,000.00 91 days late of 12,000.00: exactly half
    UNDER no limit; 5,999.99 91 days late of 12,000.00: just under half
    D90   no limit; 12,000.00 exactly 90 days late: not *more* than 90
    BP3   no limit; 5,000.00 91 days late of 20,000.00 (25%) and 3 broken promises
    BP2   the same with 2 broken promises
    SMALL no limit; 4,999.99 91 days late, all of its exposure: under the 5,000 minimum
"""

from __future__ import annotations

import datetime as dt
import io
import json

import pandas as pd
import pytest
from conftest import REPO
from page_checks import check_app, check_download
from streamlit.testing.v1 import AppTest

from arlens import metrics
from arlens.cli import main
from arlens.exports import to_csv_bytes, to_excel_bytes
from arlens.store import Store
from tests.conftest import store_from_texts

D = dt.date(2026, 3, 31)
PAGES = ["pages/worklist.py", "pages/credit.py"]

# (customer, [(days past due, amount), ...]); an invoice 0 days past due (or less) is current.
OPEN = {
    "T20": [(10, "400.00"), (70, "100.00")],
    "T20B": [(10, "400.01"), (70, "100.00")],
    "K1": [(10, "9000.00"), (100, "1000.00")],
    "K1B": [(10, "9000.00"), (100, "999.99")],
    "OLD": [(40, "1500.00"), (121, "1500.00")],
    "E120": [(40, "1500.00"), (120, "1500.00")],
    "TAIL": [(40, "5000.00"), (200, "50.00")],
    "YOUNG": [(5, "800.00")],
    "T3": [(10, "300.00"), (20, "200.00"), (40, "100.00")],
    "NN": [(15, "93.00")],
    "L1": [(-5, "10000.00")],
    "L2": [(-5, "10000.01")],
    "Z0": [(-5, "100.00")],
    "HALF": [(91, "6000.00"), (-5, "6000.00")],
    "UNDER": [(91, "5999.99"), (-5, "6000.01")],
    "D90": [(90, "12000.00")],
    "BP3": [(91, "5000.00"), (-5, "15000.00")],
    "BP2": [(91, "5000.00"), (-5, "15000.00")],
    "SMALL": [(91, "4999.99")],
}
CUSTOMERS = """customer_id,name,currency,credit_limit,credit_limit_reviewed_on
T20,Twenty Percent Ltd,USD,,
T20B,Just Under Ltd,USD,,
K1,Thousand Inc,USD,,
K1B,Almost Thousand Inc,USD,,
OLD,Old Debts Co,USD,,
E120,Edge Co,USD,,
TAIL,Long Tail Co,USD,,
YOUNG,Young Co,USD,,
T3,Three Invoices Co,USD,,
L1,At Limit Ltd,USD,10000.00,2024-03-31
L2,Over By A Cent Ltd,USD,10000.00,2024-03-30
Z0,Zero Limit Ltd,USD,0,2026-01-01
HALF,Half Late Inc,USD,,
UNDER,Under Half Inc,USD,,
D90,Ninety Days Inc,USD,,
BP3,Three Broken Inc,USD,,
BP2,Two Broken Inc,USD,,
SMALL,Small Late Inc,USD,,
"""


def _activities() -> str:
    lines = ["activity_id,customer_id,activity_date,kind,promised_date,outcome"]
    for customer, broken in (("BP3", 3), ("BP2", 2)):
        for k in range(broken):  # promised 10, 20, 30 days before the as-of date, all broken
            promised = D - dt.timedelta(days=10 * (k + 1))
            made = promised - dt.timedelta(days=7)
            lines.append(f"{customer}-{k},{customer},{made},promise,{promised},broken")
    return "\n".join(lines) + "\n"


def _invoices() -> str:
    lines = ["invoice_id,customer_id,invoice_date,due_date,amount"]
    for customer, items in OPEN.items():
        for k, (late, amount) in enumerate(items, start=1):
            due = D - dt.timedelta(days=late)
            lines.append(f"{customer}-{k},{customer},{due - dt.timedelta(days=30)},{due},{amount}")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def hand_db(tmp_path_factory):
    files = {"customers": CUSTOMERS, "invoices": _invoices(), "activities": _activities()}
    return store_from_texts(tmp_path_factory.mktemp("hand"), "hand.duckdb", files)


@pytest.fixture(scope="module")
def hand(hand_db):
    with Store.open(hand_db, read_only=True) as store:
        yield store


# -- the collector's sentence ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "customer, sentence",
    [
        ("T20", "$100 is over 60 days past due"),  # exactly 20%
        ("T20B", "$500 is past due"),  # 19.99...%: under both
        ("K1", "$1,000 is over 90 days past due"),  # exactly 1,000
        ("K1B", "$10,000 is past due"),
        ("OLD", "$1,500 is over 120 days past due"),  # the 121+ bucket
        ("E120", "$1,500 is over 90 days past due"),  # 120 days is still 91-120
        ("TAIL", "$5,050 is over 30 days past due"),  # that bucket *and older*
        ("YOUNG", "$800 is past due"),  # only 1-30: never "over 0 days"
        ("T3", "$600 is past due"),
        ("NN", "$93 is past due"),
    ],
)
def test_the_collectors_sentence_at_each_boundary(hand, customer, sentence):
    [row] = metrics.worklist(hand, D, filters={"customer_id": customer}).itertuples()
    assert row.summary == sentence


def test_a_call_sheet_names_the_two_largest_invoices_and_a_name_or_the_id(hand):
    work = metrics.worklist(hand, D).set_index("customer_id")
    t3 = work.loc["T3"]
    assert (t3.invoice_1, t3.invoice_1_amount, t3.invoice_2, t3.invoice_2_amount) == (
        "T3-1",
        300.0,
        "T3-2",
        200.0,
    )
    assert t3.invoice_1_due.date() == D - dt.timedelta(days=10)
    assert work.loc["NN", "name"] == "NN" and work.loc["T3", "name"] == "Three Invoices Co"
    assert work.loc["OLD", "sentence_days"] == 120 and work.loc["OLD", "sentence_amount"] == 1500
    assert pd.isna(work.loc["YOUNG", "sentence_days"])


def test_the_worklist_sheet_reads_as_a_person_reads_it(hand):
    sheet = metrics.worklist_sheet(metrics.worklist(hand, D))
    assert list(sheet.columns[:4]) == ["Customer", "Id", "Currency", "What to say"]
    assert "Persona" not in sheet and "Risk score" not in sheet  # nothing to show: no column
    assert sheet.set_index("Id").loc["T3", "Largest due"] == D - dt.timedelta(days=10)
    check_download(to_csv_bytes(sheet), "worklist.csv")
    check_download(to_excel_bytes(sheet, "Worklist"), "worklist.xlsx")


@pytest.mark.parametrize("db_kind", ["minimal", "sample"])
def test_worklist_downloads_carry_no_none_or_nan(request, db_kind):
    with Store.open(request.getfixturevalue(f"{db_kind}_db"), read_only=True) as store:
        work = metrics.worklist(store, metrics.latest_activity_date(store))
    sheet = metrics.worklist_sheet(work)
    assert not any("_" in c for c in sheet.columns)
    check_download(to_csv_bytes(sheet), "worklist.csv")
    check_download(to_excel_bytes(sheet, "Worklist"), "worklist.xlsx")


# -- the credit review -----------------------------------------------------------------------------


def test_limits_stale_reviews_and_no_limit(hand):
    review = metrics.credit_review(hand, D).set_index("customer_id")
    assert list(review.loc[["L1", "L2", "Z0"], "over_limit"]) == [False, True, True]  # strictly >
    assert review.loc["L1", "utilisation"] == 1.0 and pd.isna(review.loc["Z0", "utilisation"])
    # Only a limit can be stale: 24 months to the day is not older than 24 months.
    assert set(review.index[review["stale_review"]]) == {"L2"}
    assert set(review.index[~review["no_limit"]]) == {"L1", "L2", "Z0"}
    assert review.loc["HALF", "no_limit"] and not review.loc["HALF", "stale_review"]


def test_hold_candidates_ranked_by_exposure_at_risk_with_reasons_in_words(hand):
    review = metrics.credit_review(hand, D)
    holds = review[review["hold"]]
    assert dict(zip(holds["customer_id"], holds["hold_reasons"], strict=True)) == {
        "HALF": "$6,000 over 90 days past due (50% of exposure)",
        "BP3": "$5,000 over 90 days past due (25% of exposure); 3 broken promises in 90 days",
        "Z0": "exposure $100 on a limit of 0",
        "L2": "exposure 100% of the limit",
    }
    assert list(holds["customer_id"]) == [
        "HALF",
        "BP3",
        "Z0",
        "L2",
    ]  # at risk 6000, 5000, 100, 0.01
    assert list(holds["at_risk"]) == [6000.0, 5000.0, 100.0, 0.01]
    assert list(review["hold"]).index(False) == len(holds), "hold candidates come first"
    calm = review.set_index("customer_id").loc[["L1", "UNDER", "D90", "BP2", "SMALL"]]
    assert not calm["hold"].any() and set(calm["hold_reasons"]) == {""}


@pytest.mark.parametrize(
    "rule, held, released",
    [
        (metrics.HoldRule(days=60), {"D90"}, set()),  # 90 days late is now seriously late
        (metrics.HoldRule(broken_promises=2), {"BP2"}, set()),
        (metrics.HoldRule(utilisation=1.2), set(), {"L2"}),  # a limit of 0 is still exceeded
        (metrics.HoldRule(min_amount=4999.99), {"SMALL"}, set()),
        (metrics.HoldRule(share=0.4999), {"UNDER"}, set()),
    ],
)
def test_every_hold_threshold_is_a_parameter(hand, rule, held, released):
    default = metrics.credit_review(hand, D)
    changed = metrics.credit_review(hand, D, rule=rule)
    before = set(default.loc[default["hold"], "customer_id"])
    after = set(changed.loc[changed["hold"], "customer_id"])
    assert (after - before, before - after) == (held, released)


def test_the_default_rule_flags_a_workable_share_of_the_sample(sample_db):
    """DESIGN §4's "any open invoice > 60 days past due" flagged 57% of the sample's customers
    at its newest date; the default rule flags 14.5% (58 of 400), 12% of the USD customers."""
    with Store.open(sample_db, read_only=True) as store:
        day = metrics.latest_activity_date(store)
        review = metrics.credit_review(store, day)
        usd = metrics.credit_review(store, day, filters={"currency": "USD"})
        old_rule = metrics.credit_review(
            store, day, rule=metrics.HoldRule(days=60, min_amount=0.01, share=0)
        )
    assert 0.05 <= review["hold"].mean() <= 0.15 and 0.05 <= usd["hold"].mean() <= 0.15
    assert old_rule["hold"].mean() > 0.5
    assert (review["hold_reasons"] != "").sum() == review["hold"].sum()


def test_the_what_if_uses_the_same_rule(hand):
    raised = metrics.credit_review(hand, D, proposed_limits={"Z0": 100.0}).set_index("customer_id")
    assert not raised.loc["Z0", "hold"] and raised.loc["Z0", "utilisation"] == 1.0
    given = metrics.credit_review(hand, D, proposed_limits={"HALF": 11_000}).set_index(
        "customer_id"
    )
    assert given.loc["HALF", "hold_reasons"] == (
        "exposure 109% of the limit; $6,000 over 90 days past due (50% of exposure)"
    )


# -- the command line ------------------------------------------------------------------------------


def test_credit_review_thresholds_from_the_shell(capsys, hand_db):
    assert main(["credit-review", "--db", str(hand_db), "--as-of", D.isoformat(),
                 "--hold-days", "60", "--format", "json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["parameters"]["hold_days"] == 60 and "than 60 days" in out["parameters"]["hold_rule"]
    held = {r["customer_id"] for r in out["rows"] if r["hold"]}
    assert held == {"HALF", "BP3", "Z0", "L2", "D90"}


@pytest.mark.parametrize("report", ["worklist", "credit-review"])
def test_shell_tables_show_no_none_or_nan(capsys, minimal_db, report):
    assert main([report, "--db", str(minimal_db)]) == 0
    text = capsys.readouterr().out
    for word in ("None", "NaN", "NaT", "nan", "<NA>"):
        assert word not in text.split(), word


# -- the pages -------------------------------------------------------------------------------------


def run_page(monkeypatch, db, page: str, as_of: str | None = None) -> AppTest:
    monkeypatch.setenv("ARLENS_DB", str(db))
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    if as_of:
        at.query_params["as_of"] = as_of
    at.query_params["page"] = page
    at.run()
    return at


@pytest.mark.parametrize("as_of", ["2024-06-30", "2025-12-31", None], ids=lambda d: d or "default")
@pytest.mark.parametrize("db_kind", ["minimal", "sample"])
@pytest.mark.parametrize("page", PAGES)
def test_page_renders_without_raw_values(monkeypatch, request, page, db_kind, as_of):
    """No exception, no nan/None/NaT, no raw header, no cell that would show None, no empty chart."""
    at = run_page(monkeypatch, request.getfixturevalue(f"{db_kind}_db"), page, as_of)
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value in ("Collections worklist", "Credit limits")
    check_app(at)


def test_no_limits_yet_says_what_to_import(monkeypatch, minimal_db):
    at = run_page(monkeypatch, minimal_db, "pages/credit.py")
    assert [i.value for i in at.info] == [
        "No credit limits yet: import customers with a credit_limit column."
    ]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Stale reviews"] == "0" and shown["With a limit"] == "0"


def test_hold_rule_widgets_change_the_list(monkeypatch, hand_db):
    at = run_page(monkeypatch, hand_db, "pages/credit.py", D.isoformat())
    assert {m.label: m.value for m in at.metric}["Hold candidates"] == "4 (21%)"  # of 19
    at.number_input(key="hold_days").set_value(60).run()
    assert {m.label: m.value for m in at.metric}["Hold candidates"] == "5 (26%)"  # and D90
    check_app(at)


def test_the_what_if_follows_the_customer(monkeypatch, hand_db):
    """Each customer starts from its own limit; a limit of 0 and no limit are said in words."""
    at = run_page(monkeypatch, hand_db, "pages/credit.py", D.isoformat())
    with Store.open(hand_db, read_only=True) as store:
        order = list(metrics.credit_review(store, D, filters={"currency": "USD"})["customer_id"])
    picker = at.selectbox(key="what_if_customer")

    picker.set_value(order.index("L1")).run()
    assert at.number_input(key="what_if_limit_L1").value == 10_000.0
    assert {m.label: m.value for m in at.metric}["Utilisation"] == "100%"
    at.number_input(key="what_if_limit_L1").set_value(0.0).run()
    shown = {m.label: m.value for m in at.metric}
    assert (shown["Utilisation"], shown["Hold"]) == ("limit 0", "Yes")
    assert any("exposure $10,000 on a limit of 0" in c.value for c in at.caption)
    check_app(at)

    at.selectbox(key="what_if_customer").set_value(order.index("L2")).run()
    assert at.number_input(key="what_if_limit_L2").value == 10_000.0  # not L1's 0
    assert {m.label: m.value for m in at.metric}["Utilisation"] == "100%"

    at.selectbox(key="what_if_customer").set_value(order.index("HALF")).run()
    assert at.number_input(key="what_if_limit_HALF").value is None
    assert any("has no credit limit" in c.value for c in at.caption)
    assert not any("with a limit of" in c.value for c in at.caption)
    check_app(at)


def test_worklist_call_sheets_on_the_minimal_register(monkeypatch, minimal_db):
    at = run_page(monkeypatch, minimal_db, "pages/worklist.py")
    headings = [m.value for m in at.markdown if m.value.startswith("**")]
    assert headings and all(" · " not in h for h in headings)  # no name: the id, once
    table = at.dataframe[0].value
    assert list(table.columns[:3]) == ["Customer", "Id", "What to say"]
    assert not io.StringIO(table.to_csv()).getvalue().count("nan")
