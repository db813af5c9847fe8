"""Credit exposure with open orders, grace days, customer groups, limit history and a reporting
currency, worked by hand (issue #14). The store is built in tmp_path from the CSV text below; the
as-of date is D = 31 Mar 2026 and every customer is in USD unless said otherwise.

  open orders (status open or shipped, dated ≤ D, count; cancelled, invoiced and later ones don't)
    O1  limit 1,000; invoice 600 (current); orders A 300 open (1 Mar), B 200 shipped (10 Mar),
        C 500 cancelled, D 400 invoiced, E 50 open dated 5 Apr (after D)
        exposure = 600 + 300 + 200 = 1,100 > 1,000: over, utilisation 110%
        queue: A 600 + 300 = 900 ≤ 1,000; B 900 + 200 = 1,100 > 1,000 → B flagged (over by 100)
    O2  limit 1,000; invoice 700; order A 300 (1 Mar): 700 + 300 = 1,000, not > → not flagged;
        order B 0.01 (2 Mar): 1,000 + 0.01 > 1,000 → flagged (Odoo warns on credit + amount > limit)
    O3  limit 0; order A 10: any order over a limit of 0 → flagged, exposure before 0
  grace days (hold rule: ≥ 5,000 and ≥ 50% of exposure more than 90 days past due)
    G1  no limit; 6,000 92 days past due + 6,000 current. Grace 0: 92 > 90 → hold.
        Grace 5: 92 − 5 = 87 ≤ 90 → no hold; still past due (92 > 5).
    G2  no limit; 1,000 3 days past due. Grace 0: past due 1,000; grace 5: past due 0.
  groups (P ← C1 ← C1A: a 3-level chain; P ← C2 ← C2A; C2 has its own limit)
    P   limit 10,000 (reviewed 30 Jun 2025), invoice 4,000
    C1  no limit, invoice 3,000            → P's pool
    C1A no limit, invoice 2,000 + order 500 → P's pool (grandchild)
    C2  limit 2,000, invoice 1,500          → its own pool, with C2A
    C2A no limit, invoice 600               → C2's pool
    P's pool = 4,000 + 3,000 + 2,500 = 9,500 ≤ 10,000 (95%): not over. Were C2 in it: 11,600, over.
    C2's pool = 1,500 + 600 = 2,100 > 2,000 (105%): C2 and C2A held for the limit.
    Group P: 5 members, exposure 11,600, 1 member with its own limit, 2 members on hold.
    X1 ↔ X2 a loop, X3 → X1: one group "X1" (smallest id on the loop), nothing hangs.
  limit history (H: customers.credit_limit 5,000 reviewed 1 Feb 2026 = the current limit)
    credit_limits: from 1 Jan 2024 limit 2,000 reviewed 1 May 2023; from 1 Jul 2025 limit 5,000
    reviewed 20 Jun 2025. Invoice 3,000 dated 1 Mar 2024, due 31 Mar 2024, never paid.
    at 30 Jun 2025: limit 2,000 (history), utilisation 150%, over; reviewed 1 May 2023 < 30 Jun 2023
                    (24 months before): stale
    at D:           limit 5,000 (history), utilisation 60%, reviewed 20 Jun 2025: not stale
    at 31 Dec 2023: no history row yet → customers' 5,000 (current), nothing open
  the risk model's credit_utilisation (R: current limit 4,000; from 1 Jan 2024 a limit of 1,000)
    R-2 dated 1 Mar 2024: R-1's 500 open the day before / the 1,000 then = 0.5 (not 500 / 4,000)
  reporting currency (M: USD, limit 10,000 USD; 1 USD = 0.9 EUR on 31 Mar 2026, 0.5 on 15 Apr)
    invoices 5,000 USD, 2,000 EUR, 1,000 CHF (no CHF rate); order 1,000 USD
    own currency: exposure 5,000 + 1,000 = 6,000 USD (60%); EUR and CHF counted apart (2)
    in EUR:       4,500 + 2,000 + 900 = 7,400 EUR; limit 9,000 EUR; 82.2%; CHF 1,000 listed
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
from conftest import REPO
from page_checks import check_app
from streamlit.testing.v1 import AppTest

from arlens import credit, metrics
from arlens.store import Store
from tests.conftest import store_from_texts

D = dt.date(2026, 3, 31)

CUSTOMERS = """customer_id,name,currency,credit_limit,credit_limit_reviewed_on,parent_id
O1,Orders One,USD,1000.00,2026-01-01,
O2,Orders Two,USD,1000.00,2026-01-01,
O3,Zero Limit Orders,USD,0,2026-01-01,
G1,Grace One,USD,,,
G2,Grace Two,USD,,,
P,Parent Holdings,USD,10000.00,2025-06-30,
C1,Child One,USD,,,P
C1A,Grandchild One,USD,,,C1
C2,Child Two,USD,2000.00,2026-01-01,P
C2A,Grandchild Two,USD,,,C2
X1,Loop One,USD,,,X2
X2,Loop Two,USD,,,X1
X3,Below The Loop,USD,,,X1
H,History Ltd,USD,5000.00,2026-02-01,
M,Many Currencies,USD,10000.00,2026-01-01,
R,Risk Features Ltd,USD,4000.00,2026-01-01,
"""

# (customer, days past due at D, amount, currency); invoice date = due date − 30 days.
OPEN = [
    ("O1", -10, "600.00", "USD"),
    ("O2", -10, "700.00", "USD"),
    ("G1", 92, "6000.00", "USD"),
    ("G1", -5, "6000.00", "USD"),
    ("G2", 3, "1000.00", "USD"),
    ("P", -5, "4000.00", "USD"),
    ("C1", -5, "3000.00", "USD"),
    ("C1A", -5, "2000.00", "USD"),
    ("C2", -5, "1500.00", "USD"),
    ("C2A", -5, "600.00", "USD"),
    ("X1", 10, "10.00", "USD"),
    ("X3", 10, "20.00", "USD"),
    ("M", -5, "5000.00", "USD"),
    ("M", -5, "2000.00", "EUR"),
    ("M", -5, "1000.00", "CHF"),
]
ORDERS = """order_id,customer_id,order_date,amount,currency,status
O1-A,O1,2026-03-01,300.00,USD,open
O1-B,O1,2026-03-10,200.00,USD,shipped
O1-C,O1,2026-03-05,500.00,USD,cancelled
O1-D,O1,2026-03-06,400.00,USD,invoiced
O1-E,O1,2026-04-05,50.00,USD,open
O2-A,O2,2026-03-01,300.00,USD,open
O2-B,O2,2026-03-02,0.01,USD,open
O3-A,O3,2026-03-15,10.00,USD,open
C1A-1,C1A,2026-03-20,500.00,USD,open
M-1,M,2026-03-20,1000.00,USD,open
"""
LIMITS = """customer_id,effective_from,credit_limit,reviewed_on,approved_by
H,2024-01-01,2000.00,2023-05-01,CFO
H,2025-07-01,5000.00,2025-06-20,CFO
R,2024-01-01,1000.00,2023-12-20,CFO
"""
RATES = """rate_date,currency,base_currency,rate
2026-03-31,USD,EUR,0.9
2026-04-15,USD,EUR,0.5
"""


def _invoices() -> str:
    lines = ["invoice_id,customer_id,invoice_date,due_date,amount,currency"]
    for k, (customer, late, amount, cur) in enumerate(OPEN, start=1):
        due = D - dt.timedelta(days=late)
        lines.append(
            f"{customer}-{k},{customer},{due - dt.timedelta(days=30)},{due},{amount},{cur}"
        )
    lines.append("H-1,H,2024-03-01,2024-03-31,3000.00,USD")
    lines.append("R-1,R,2024-02-01,2024-03-02,500.00,USD")
    lines.append("R-2,R,2024-03-01,2024-03-31,700.00,USD")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def credit_db(tmp_path_factory):
    files = {"customers": CUSTOMERS, "invoices": _invoices(), "orders": ORDERS,
             "credit_limits": LIMITS, "fx_rates": RATES}  # fmt: skip
    return store_from_texts(tmp_path_factory.mktemp("credit"), "credit.duckdb", files)


@pytest.fixture(scope="module")
def books(credit_db):
    with Store.open(credit_db, read_only=True) as store:
        yield store


def review_of(store, as_of=D, **kwargs) -> pd.DataFrame:
    return metrics.credit_review(store, as_of, **kwargs).set_index("customer_id")


def money_of(row, *columns) -> tuple:
    return tuple(round(float(row[c]), 2) for c in columns)


# -- open orders ---------------------------------------------------------------------------------


def test_open_orders_count_in_exposure_cancelled_invoiced_and_later_ones_do_not(books):
    o1 = review_of(books).loc["O1"]
    assert money_of(o1, "open_ar", "open_orders", "exposure") == (600.0, 500.0, 1100.0)
    assert o1.orders_counted == 2 and o1.utilisation == pytest.approx(1.1) and o1.over_limit
    assert o1.hold_reasons == "exposure 110% of the limit"
    # On 5 Mar only order A (1 Mar) is dated, and the invoice (dated 11 Mar) is not yet issued.
    early = review_of(books, dt.date(2026, 3, 5)).loc["O1"]
    assert money_of(early, "open_ar", "exposure") == (0.0, 300.0) and not early.over_limit


def test_orders_that_push_over_the_limit_are_flagged_in_order_date_order(books):
    flagged = metrics.order_warnings(books, D)
    got = [
        (r.order_id, r.customer_id, round(r.amount, 2), round(r.exposure_before, 2),
         round(r.credit_limit, 2), round(r.over_by, 2))
        for r in flagged.itertuples()
    ]  # fmt: skip
    assert got == [  # dated 2, 10 and 15 Mar
        ("O2-B", "O2", 0.01, 1000.0, 1000.0, 0.01),  # A reached exactly 1,000: not over
        ("O1-B", "O1", 200.0, 900.0, 1000.0, 100.0),  # A took it to 900; B to 1,100
        ("O3-A", "O3", 10.0, 0.0, 0.0, 10.0),  # a limit of 0: any order
    ]
    assert list(flagged["order_date"].dt.date) == sorted(flagged["order_date"].dt.date)


def test_what_if_limit_releases_the_order_warning(books):
    raised = metrics.order_warnings(books, D, proposed_limits={"O1": 1100})
    assert "O1-B" not in set(raised["order_id"])  # 1,100 is not over 1,100


# -- grace days ------------------------------------------------------------------------------------


def test_grace_days_shift_when_an_item_counts_as_past_due_for_holds(books):
    strict, graced = review_of(books, grace_days=0), review_of(books, grace_days=5)
    assert strict.loc["G1", "hold"] and not graced.loc["G1", "hold"]
    assert strict.loc["G1", "hold_reasons"] == "$6,000 over 90 days past due (50% of exposure)"
    assert money_of(graced.loc["G1"], "past_due", "seriously_late") == (6000.0, 0.0)
    assert money_of(strict.loc["G2"], "past_due") == (1000.0,)
    assert money_of(graced.loc["G2"], "past_due") == (0.0,)
    assert pd.isna(graced.loc["G2", "max_days_past_due"])
    assert strict.loc["G2", "max_days_past_due"] == 3  # days stay counted from the due date
    rule = metrics.HoldRule(days=85)  # 92 − 5 = 87 > 85: held again, said with the grace days
    again = review_of(books, grace_days=5, rule=rule).loc["G1"]
    assert again.hold_reasons == "$6,000 over 85 days past due after 5 grace days (50% of exposure)"


def test_the_store_setting_is_the_default_grace_and_the_page_states_it(
    monkeypatch, credit_db, copy_of
):
    path = copy_of(credit_db)
    with Store.open(path) as store:
        store.set_grace_days(5)
        assert not review_of(store).loc["G1", "hold"]
        assert credit.credit_settings(store)["grace_days"] == 5
    rule = metrics.HoldRule()
    assert "more than 90 days past due after 5 grace days" in rule.describe("USD", 5)
    at = run_page(monkeypatch, path, D.isoformat())
    assert not at.exception, [e.value for e in at.exception]
    line = next(c.value for c in at.caption if c.value.startswith("Exposure = "))
    assert "Grace days: 5. For holds an item is past due only when it is more than 5 days" in line
    check_app(at)


# -- groups ----------------------------------------------------------------------------------------


def test_a_child_with_its_own_limit_is_checked_against_it_not_the_parents_pool(books):
    review = review_of(books)
    assert set(review.loc[["P", "C1", "C1A", "C2", "C2A"], "group_id"]) == {"P"}
    assert list(review.loc[["P", "C1", "C1A", "C2", "C2A"], "limit_holder"]) == [
        "P", "P", "P", "C2", "C2",
    ]  # fmt: skip
    p, c1a = review.loc["P"], review.loc["C1A"]
    assert money_of(p, "exposure", "pool_exposure", "credit_limit") == (4000.0, 9500.0, 10000.0)
    assert p.utilisation == pytest.approx(0.95) and not p.over_limit and not p.hold
    assert money_of(c1a, "exposure", "pool_exposure") == (2500.0, 9500.0)  # 2,000 + order 500
    c2, c2a = review.loc["C2"], review.loc["C2A"]
    assert money_of(c2, "pool_exposure") == (2100.0,) and c2.over_limit and c2a.over_limit
    assert c2.hold_reasons == "pool exposure 105% of the limit (with 1 customer it covers)"
    assert c2a.hold_reasons == "Child Two's pool 105% of the limit"


def test_group_rows_roll_up_a_three_level_chain(books):
    groups = metrics.credit_groups(books, D).set_index("group_id")
    p = groups.loc["P"]
    assert (p.members, p.members_with_own_limit, p.members_on_hold, p.limits_exceeded) == (
        5,
        1,
        2,
        1,
    )
    assert money_of(p, "group_exposure", "pool_exposure", "credit_limit") == (
        11600.0,
        9500.0,
        10000.0,
    )
    assert p.utilisation == pytest.approx(0.95) and not p.over_limit and p.hold
    assert p.hold_summary == "1 member over its own limit; 2 of 5 members on hold"
    members = metrics.credit_review(books, D, group="P")
    assert set(members["customer_id"]) == {"P", "C1", "C1A", "C2", "C2A"}


def test_a_parent_loop_is_one_group_and_ends(books):
    review = review_of(books)
    assert set(review.loc[["X1", "X3"], "group_id"]) == {"X1"}
    groups = metrics.credit_groups(books, D).set_index("group_id")
    assert groups.loc["X1", "members"] == 3 and "X2" not in groups.index
    assert money_of(groups.loc["X1"], "group_exposure") == (30.0,)
    assert pd.isna(groups.loc["X1", "pool_exposure"]) and groups.loc["X1", "no_limit"]
    assert groups.loc["X1", "hold_summary"] == "no hold"


def test_a_proposed_limit_on_a_child_splits_the_pool(books):
    review = review_of(books, proposed_limits={"C1": 3000})
    assert money_of(review.loc["P"], "pool_exposure") == (4000.0,)  # P alone
    c1 = review.loc["C1"]
    assert money_of(c1, "pool_exposure") == (5500.0,) and c1.over_limit  # C1 + C1A
    assert review.loc["C1A", "limit_holder"] == "C1"


# -- limit history ---------------------------------------------------------------------------------


def test_the_limit_in_force_at_each_date_with_its_own_review(books):
    before = review_of(books, dt.date(2025, 6, 30)).loc["H"]
    assert (before.credit_limit, before.limit_source, before.utilisation) == (
        2000.0,
        "history",
        1.5,
    )
    assert before.over_limit and before.stale_review  # reviewed 1 May 2023 < 30 Jun 2023
    after = review_of(books).loc["H"]
    assert (after.credit_limit, after.limit_source, after.utilisation) == (5000.0, "history", 0.6)
    assert not after.over_limit and not after.stale_review  # reviewed 20 Jun 2025
    assert after.credit_limit_reviewed_on.date() == dt.date(2025, 6, 20)
    first = review_of(books, dt.date(2023, 12, 31)).loc["H"]  # before any history row
    assert (first.credit_limit, first.limit_source, first.exposure) == (5000.0, "current", 0.0)


def test_the_risk_models_utilisation_uses_the_limit_in_force_then(books):
    from models.risk_data import features

    frame = features(books).set_index("invoice_id")
    assert frame.loc["R-2", "credit_utilisation"] == 0.5
    assert frame.loc["R-1", "credit_utilisation"] == 0.0  # nothing open the day before


# -- reporting currency ----------------------------------------------------------------------------


def test_own_currency_exposure_counts_other_currencies_apart(books):
    m = review_of(books).loc["M"]
    assert money_of(m, "open_ar", "open_orders", "exposure") == (5000.0, 1000.0, 6000.0)
    assert (m.currency, m.open_in_other_currencies, m.utilisation) == ("USD", 2, 0.6)


def test_reporting_currency_translates_exposure_orders_and_the_limit(books):
    m = review_of(books, reporting="EUR").loc["M"]
    assert m.currency == "EUR" and m.customer_currency == "USD"
    assert money_of(m, "open_ar", "open_orders", "exposure", "credit_limit") == (
        6500.0, 900.0, 7400.0, 9000.0,
    )  # fmt: skip
    assert m.utilisation == pytest.approx(7400 / 9000)
    assert (m.untranslated_items, m.open_in_other_currencies) == (1, 0)
    missing = metrics.untranslated_items(books, D, "EUR")
    assert [(r.customer_id, r.kind, r.currency, r.amount) for r in missing.itertuples()] == [
        ("M", "invoice", "CHF", 1000.0)
    ]
    line = credit.untranslated_sentence(missing, "EUR", D)
    assert "CHF 1,000" in line and "no CHF rate on or before 31 Mar 2026" in line
    # The same through the sidebar's filter; the filter key never reaches the SQL as a filter.
    same = review_of(books, filters={"reporting_currency": "EUR"}).loc["M"]
    assert money_of(same, "exposure") == (7400.0,)


def test_a_limit_without_a_rate_is_listed_not_used(books):
    chf = review_of(books, reporting="CHF")  # no CHF rate at all: nothing translates
    m = chf.loc["M"]
    assert m.limit_untranslated and pd.isna(m.credit_limit) and not m.over_limit
    assert money_of(m, "exposure") == (1000.0,)  # the CHF invoice alone, as it is
    kinds = set(metrics.untranslated_items(books, D, "CHF")["kind"])
    assert kinds == {"invoice", "order", "limit"}


# -- the page --------------------------------------------------------------------------------------


def run_page(monkeypatch, db, as_of: str | None = None, **params) -> AppTest:
    monkeypatch.setenv("ARLENS_DB", str(db))
    at = AppTest.from_file(str(REPO / "dashboard.py"), default_timeout=120)
    if as_of:
        at.query_params["as_of"] = as_of
    at.query_params.update(params)
    at.query_params["page"] = "pages/credit.py"
    at.run()
    return at


def table_with(at: AppTest, *columns: str) -> pd.DataFrame:
    """The first table on the page with these headers (AppTest keeps no dataframe keys)."""
    return next(d.value for d in at.dataframe if set(columns) <= set(d.value.columns))


def test_the_page_shows_orders_groups_and_grace_days(monkeypatch, credit_db):
    at = run_page(monkeypatch, credit_db, D.isoformat())
    assert not at.exception, [e.value for e in at.exception]
    check_app(at)
    assert any("Grace days: 0" in c.value for c in at.caption)
    assert "Orders over the limit" in [s.value for s in at.subheader]
    flagged = table_with(at, "Order", "Exposure before it (USD)")
    assert list(flagged["Order"]) == ["O2-B", "O1-B", "O3-A"]
    groups = table_with(at, "Members")
    assert set(groups["Id"]) == {"P", "X1"}
    at.selectbox(key="credit_group").set_value(list(groups["Id"]).index("P")).run()
    assert set(table_with(at, "Limit of", "Why")["Id"]) == {"P", "C1", "C1A", "C2", "C2A"}
    check_app(at)


def test_the_page_without_orders_says_they_count_once_imported(monkeypatch, minimal_db):
    at = run_page(monkeypatch, minimal_db)
    assert not at.exception
    assert any("orders count once imported" in c.value for c in at.caption)
    check_app(at)


def test_the_page_in_the_reporting_currency_lists_what_it_cannot_translate(monkeypatch, credit_db):
    """Rates but no reporting currency set: the home currency (USD) is the reporting view."""
    at = run_page(monkeypatch, credit_db, D.isoformat())
    assert at.selectbox(key="currency").value == "All currencies in USD"
    assert not at.exception, [e.value for e in at.exception]
    check_app(at)
    line = next(c.value for c in at.caption if "credit review" in c.value)
    assert "open item M-15 of M (CHF 1,000)" in line and "no CHF rate" in line
    at = run_page(monkeypatch, credit_db, D.isoformat(), currency="USD")  # one currency, a link
    assert not at.exception, [e.value for e in at.exception]
    check_app(at)
    line = next(c.value for c in at.caption if c.value.startswith("Exposure = "))
    assert "2 open items in another currency than the limit's are not in the exposure" in line
