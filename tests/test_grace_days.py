"""Grace days (issue #14): an item counts as past due for the worklist, the call sheets and dunning
only when it is more than `grace_days` past its due date; aging stays on the due date.

The company, at 31 March 2026 (worked by hand):
  G1 A1 4,000 due 28 Mar 2026 (3 days past due) and A2 700 due 19 Feb 2026 (40 days past due)
  G2 B1   500 due 28 Mar 2026 (3 days past due)
Grace 0: G1 has 4,700 past due; its 31-60 bucket holds 700, less than 20% of 4,700 (940) and
less than 1,000, so the sentence is "$4,700 is past due"; G2 has 500 past due.
Grace 5: the 3-day items are not past due: G1 has 700 past due, all over 30 days ("$700 is over
30 days past due"); G2 has nothing past due. The aging is the same either way.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from arlens import metrics
from arlens.cli import main
from arlens.collections import dunning
from arlens.collections.config import Company
from arlens.ingest.importer import import_file
from arlens.store import Store

DAY = dt.date(2026, 3, 31)
CUSTOMERS = """customer_id,name,currency,payment_terms_days
G1,Grace One Ltd,USD,30
G2,Grace Two Ltd,USD,30
"""
INVOICES = """invoice_id,customer_id,invoice_date,due_date,amount
A1,G1,2026-02-26,2026-03-28,4000.00
A2,G1,2026-01-20,2026-02-19,700.00
B1,G2,2026-02-26,2026-03-28,500.00
"""
# Level 1 from the first day past due and any amount: the 3-day items are dunned unless graced.
EAGER_POLICY = """name = "Eager"
[[levels]]
name = "Reminder"
days_past_due = 1
subject = "Reminder: {total_past_due}"
body = "Dear {contact}, {sentence}."
"""


@pytest.fixture
def grace_db(tmp_path):
    path = tmp_path / "grace.duckdb"
    (tmp_path / "customers.csv").write_text(CUSTOMERS)
    (tmp_path / "invoices.csv").write_text(INVOICES)
    with Store.open(path) as store:
        import_file(store, tmp_path / "customers.csv", "customers")
        import_file(store, tmp_path / "invoices.csv", "invoices")
    return path


@pytest.fixture
def eager(tmp_path):
    path = tmp_path / "eager.toml"
    path.write_text(EAGER_POLICY)
    return dunning.load_policy(path)


def sheets(store: Store, **grace) -> dict[str, tuple[float, str]]:
    work = metrics.worklist(store, DAY, **grace)
    return {r.customer_id: (float(r.past_due), r.summary) for r in work.itertuples()}


def test_a_three_day_item_is_past_due_without_grace_and_not_with_five(grace_db):
    with Store.open(grace_db, read_only=True) as store:
        assert store.grace_days() == 0
        assert (
            sheets(store)
            == sheets(store, grace_days=0)
            == {
                "G1": (4700.0, "$4,700 is past due"),
                "G2": (500.0, "$500 is past due"),
            }
        )
        assert sheets(store, grace_days=5) == {"G1": (700.0, "$700 is over 30 days past due")}
        # a 3-day item is past due with 2 grace days, not with 3 (past due: days > grace)
        assert set(sheets(store, grace_days=2)) == {"G1", "G2"}
        assert set(sheets(store, grace_days=3)) == {"G1"}


def test_the_worklist_keeps_counting_days_from_the_due_date(grace_db):
    with Store.open(grace_db, read_only=True) as store:
        row = metrics.worklist(store, DAY, grace_days=5).iloc[0]
        assert (row.max_days_past_due, row.invoice_1, row.invoice_2) == (40, "A2", None)
        assert float(row.priority) == 700 * 40
        aging = metrics.aging(store, DAY)  # aging stays on the due date
        assert float(aging["1-30"].sum()) == 4500.0 and float(aging["31-60"].sum()) == 700.0


def test_the_store_setting_is_the_default(grace_db):
    with Store.open(grace_db) as store:
        store.set_grace_days(5)
        assert metrics.grace_days(store) == 5
        assert sheets(store) == {"G1": (700.0, "$700 is over 30 days past due")}
        assert set(sheets(store, grace_days=0)) == {"G1", "G2"}  # a parameter overrides it
        with pytest.raises(ValueError, match="0 or more"):
            metrics.worklist(store, DAY, grace_days=-1)


def test_dunning_leaves_graced_items_alone(grace_db, eager):
    with Store.open(grace_db, read_only=True) as store:
        run = dunning.propose(store, DAY, eager, grace_days=0)
        assert sorted(n.customer.customer_id for n in run.notices) == ["G1", "G2"]
        g2 = next(n for n in run.notices if n.customer.customer_id == "G2")
        assert (g2.oldest_days, g2.dues[0].past_due) == (3, Decimal("500.00"))

        run = dunning.propose(store, DAY, eager, grace_days=5)
        assert run.grace_days == 5 and run.skipped == []
        (g1,) = run.notices
        assert g1.customer.customer_id == "G1"
        assert (g1.oldest_days, g1.dues[0].past_due) == (40, Decimal("700.00"))
        assert g1.dues[0].sentence == "$700 is over 30 days past due"
        assert g1.body(Company(name="Acme")) == (
            "Dear Accounts Payable team, $700 is over 30 days past due."
        )
        assert dunning.notice_for(store, "G2", DAY, eager, grace_days=5) is None
        assert list(dunning.last_notices(store, DAY, grace_days=5)["customer_id"]) == ["G1"]


def test_the_default_policy_skips_a_three_day_item_without_grace_and_ignores_it_with(grace_db):
    with Store.open(grace_db) as store:
        skipped = dunning.propose(store, DAY).skipped  # level 1 needs 7 days past due
        assert [(s.customer.customer_id, s.kind) for s in skipped] == [("G2", "threshold")]
        store.set_grace_days(5)
        run = dunning.propose(store, DAY)
        assert run.grace_days == 5
        assert [d.customer.customer_id for d in [*run.notices, *run.skipped]] == ["G1"]


def test_the_command_line_uses_the_setting(grace_db, capsys):
    assert main(["config", "grace-days", "5", "--db", str(grace_db)]) == 0
    capsys.readouterr()
    assert main(["worklist", "--as-of", DAY.isoformat(), "--format", "json", "--db", str(grace_db)]) == 0  # fmt: skip
    rows = json.loads(capsys.readouterr().out)["rows"]
    assert [(r["customer_id"], r["summary"]) for r in rows] == [
        ("G1", "$700 is over 30 days past due")
    ]
