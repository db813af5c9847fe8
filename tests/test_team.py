"""Team use without a browser: roles, the actions' rows and audit lines, promises kept or broken,
holds and limits with approval, writes while another process holds the file, uploads."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from arlens import metrics
from arlens.ingest.uploads import UploadRefused, check_upload, safe_name, upload_folder
from arlens.store import Store, StoreBusyError
from arlens.team import actions, audit
from arlens.team.actions import ActionError
from arlens.team.roles import (
    ADMIN,
    COLLECTOR,
    CREDIT_MANAGER,
    VIEWER,
    Access,
    AccessError,
    Refused,
    User,
    load_access,
    user_for,
)
from arlens.team.writes import ReadWriteLock, write
from tests.conftest import REPO, store_from_texts

AS_OF = dt.date(2026, 3, 31)
CUSTOMERS = """customer_id,name,currency,credit_limit,credit_limit_reviewed_on,collector
A,Alder Ltd,USD,10000,2025-01-15,cara@example.com
B,Birch plc,USD,5000,2025-06-01,dan@example.com
C,Cedar Co,USD,,,
"""
# A: 4,000 open 30 days past due (priority 120,000); B: 10,000 open 60 days past due (600,000).
INVOICES = """invoice_id,customer_id,invoice_date,due_date,amount,currency
A1,A,2026-01-30,2026-03-01,4000,USD
B1,B,2026-01-01,2026-01-30,10000,USD
C1,C,2026-02-01,2026-03-03,700,USD
"""
PAYMENTS = """payment_id,customer_id,payment_date,amount,currency,invoice_id
P1,C,2026-03-20,300,USD,C1
"""

CARA = User("cara@example.com", "Cara", frozenset({COLLECTOR}), assigned_only=True)
CARLOS = User("carlos@example.com", "Carlos", frozenset({COLLECTOR}), assigned_only=False)
MAYA = User("maya@example.com", "Maya", frozenset({CREDIT_MANAGER}))
NOAH = User("noah@example.com", "Noah", frozenset({CREDIT_MANAGER}))
VERA = User("vera@example.com", "Vera", frozenset({VIEWER}))


@pytest.fixture
def db(tmp_path) -> Path:
    files = {"customers": CUSTOMERS, "invoices": INVOICES, "payments": PAYMENTS}
    return store_from_texts(tmp_path, "team.duckdb", files)


# -- Roles ---------------------------------------------------------------------------------------


def test_roles_come_from_emails_groups_and_domains(tmp_path):
    settings = tmp_path / "arlens.toml"
    settings.write_text(
        '[roles]\nadmin = ["Ana@Example.com"]\ncredit_manager = ["group:ar-credit"]\n'
        'collector = ["group:ar-collectors", "cara@example.com"]\nviewer = ["*@example.com"]\n'
        '[access]\ngroups_claim = "roles"\ncollectors_see = "all"\n'
        "[credit]\nlimit_approval_above = 50000\n"
    )
    access = load_access(None, tmp_path / "x.duckdb")  # arlens.toml beside the store
    assert access.roles_of("ana@example.com") == {ADMIN, VIEWER}
    assert access.roles_of("ben@example.com", ("AR-Credit",)) == {CREDIT_MANAGER, VIEWER}
    assert access.roles_of("cara@example.com") == {COLLECTOR, VIEWER}
    assert access.roles_of("eve@evil.example", ("ar-collectors",)) == {COLLECTOR}
    assert access.roles_of("eve@evil.example") == frozenset()
    assert access.roles_of(None, ()) == frozenset()
    assert access.groups_claim == "roles" and not access.collectors_see_assigned
    assert access.limit_approval_above == Decimal("50000")
    # a provider that sends one group as text, several joined with commas
    user = user_for(access, "Eve@Evil.example", "Eve", "ar-credit, ar-collectors")
    assert user.email == "eve@evil.example" and user.roles == {CREDIT_MANAGER, COLLECTOR}


@pytest.mark.parametrize(
    "text, words",
    [
        ('[roles]\nowner = ["a@b.c"]\n', "[roles] owner: unknown setting"),
        ('[roles]\nadmin = "a@b.c"\ncollector = [1]\n', "[roles] collector must be a list"),
        ('[access]\ncollectors_see = "mine"\n', "collectors_see = 'mine': use \"assigned\""),
        ('[credit]\nlimit_approval_above = "lots"\n', "give an amount"),
        ("[rolls]\nadmin = []\n", "did you mean [roles]?"),
    ],
)
def test_a_wrong_roles_file_is_one_line_naming_file_and_key(tmp_path, text, words):
    settings = tmp_path / "team.toml"
    settings.write_text(text)
    with pytest.raises((AccessError, ValueError)) as error:
        load_access(settings)
    assert str(settings) in str(error.value) and words in str(error.value)


def test_each_role_opens_its_pages_and_takes_its_actions():
    pages = ["overview", "dso", "ccc", "aging", "worklist", "statements", "credit", "limits",
             "bad_debt", "risk", "personas", "data", "audit"]  # fmt: skip
    reads = set(pages) - {"data", "audit"}
    opens = {role: {p for p in pages if User("x@y.z", "", frozenset({role})).may_open(f"pages/{p}.py")}
             for role in (VIEWER, COLLECTOR, CREDIT_MANAGER, ADMIN)}  # fmt: skip
    assert opens[VIEWER] == reads
    assert opens[COLLECTOR] == {"worklist", "statements"}
    assert opens[CREDIT_MANAGER] == reads
    assert opens[ADMIN] == set(pages)
    assert not User("x@y.z", "", frozenset()).may_open("pages/overview.py")
    does = {role: {a for a in ("promise", "hold", "credit_limit", "import", "setting")
                   if User("x@y.z", "", frozenset({role})).may(a)}
            for role in (VIEWER, COLLECTOR, CREDIT_MANAGER, ADMIN)}  # fmt: skip
    assert does == {VIEWER: set(), COLLECTOR: {"promise"}, CREDIT_MANAGER: {"hold", "credit_limit"},
                    ADMIN: {"import", "setting"}}  # fmt: skip
    local = User.local()
    assert all(local.may_open(f"pages/{p}.py") for p in pages) and local.may("hold")
    assert local.scope() is None and CARA.scope() == "cara@example.com" and CARLOS.scope() is None


# -- Collector actions ---------------------------------------------------------------------------


def _activities(store: Store) -> list[tuple]:
    return store.rows(
        "SELECT activity_id, customer_id, kind, activity_date, promised_date, promised_amount, "
        "outcome, note, created_by FROM activities ORDER BY activity_id"
    )


def test_a_promise_is_one_activity_row_with_who_and_when_and_one_audit_line(db):
    with Store.open(db) as store:
        store.actor = CARA.email
        before = dt.datetime.now() - dt.timedelta(seconds=1)
        assert actions.log_activity(store, CARA, "promise", "A", day=AS_OF, key="k1",
                                    promised_date=AS_OF + dt.timedelta(days=5),
                                    promised_amount=2500, note="paying half")  # fmt: skip
        # the same submission again (a double click, a retry): nothing written twice
        assert not actions.log_activity(store, CARA, "promise", "A", day=AS_OF, key="k1",
                                        promised_date=AS_OF + dt.timedelta(days=5),
                                        promised_amount=2500)  # fmt: skip
        assert _activities(store) == [("k1", "A", "promise", AS_OF, dt.date(2026, 4, 5),
                                       Decimal("2500.00"), None, "paying half", "cara@example.com")]  # fmt: skip
        created = store.value("SELECT created_at FROM activities")
        assert before <= created <= dt.datetime.now() + dt.timedelta(seconds=1)
        (line,) = store.rows("SELECT audit_id, user_name, action, target, details FROM audit_log "
                             "WHERE action = 'promise'")  # fmt: skip
        assert line[:4] == ("k1", "cara@example.com", "promise", "A")
        assert json.loads(line[4]) == {"customer": "Alder Ltd", "date": "2026-03-31",
                                       "promised_date": "2026-04-05", "promised_amount": "2500.00",
                                       "note": "paying half"}  # fmt: skip


def test_actions_are_checked_on_the_server(db):
    with Store.open(db) as store:
        with pytest.raises(Refused, match="is not assigned to cara@example.com"):
            actions.log_activity(store, CARA, "note", "B", day=AS_OF, key="k", note="hi")
        with pytest.raises(Refused, match="may not log a call: that is for a collector"):
            actions.log_activity(store, VERA, "call", "A", day=AS_OF, key="k", outcome="reached")
        with pytest.raises(Refused, match="place an order hold"):
            actions.set_hold(store, CARA, "A", True, "late", day=AS_OF, key="k")
        with pytest.raises(ActionError, match="on or after 31 Mar 2026"):
            actions.log_activity(store, CARA, "promise", "A", day=AS_OF, key="k",
                                 promised_date=AS_OF - dt.timedelta(days=1), promised_amount=1)  # fmt: skip
        with pytest.raises(ActionError, match="invoice B1 is not Alder Ltd's"):
            actions.log_activity(store, CARA, "dispute", "A", day=AS_OF, key="k", invoice_id="B1",
                                 outcome="pricing", note="x")  # fmt: skip
        with pytest.raises(ActionError, match="after today: log it when it happens"):
            actions.log_activity(store, CARA, "note", "A", day=dt.date.today() + dt.timedelta(days=1),
                                 key="k", note="later")  # fmt: skip
        with pytest.raises(ActionError, match="choose the call's outcome"):
            actions.log_activity(store, CARA, "call", "A", day=AS_OF, key="k", outcome=None)
        assert _activities(store) == [] and not store.rows(
            "SELECT * FROM audit_log WHERE audit_id = 'k'"
        )
        # a collector who sees every customer may act on B
        assert actions.log_activity(store, CARLOS, "dispute", "B", day=AS_OF, key="d1",
                                    invoice_id="B1", outcome="pricing", note="=HYPERLINK(\"x\")")  # fmt: skip


def _worklist(store: Store, day: dt.date = AS_OF):
    return metrics.worklist(store, as_of=day).set_index("customer_id")


def test_promises_due_today_or_broken_yesterday_come_first(db):
    with Store.open(db) as store:
        plain = _worklist(store)
        assert list(plain.index) == ["B", "A", "C"]  # by Σ open × days: 600,000 > 120,000 > 11,200
        actions.log_activity(store, CARLOS, "promise", "A", day=AS_OF - dt.timedelta(days=3),
                             key="p-a", promised_date=AS_OF, promised_amount=4000)  # fmt: skip
        actions.log_activity(store, CARLOS, "promise", "C", day=AS_OF - dt.timedelta(days=5),
                             key="p-c", promised_date=AS_OF - dt.timedelta(days=1), promised_amount=400)  # fmt: skip
        work = _worklist(store)
        assert list(work.index) == ["A", "C", "B"]  # both flagged first (A's priority is higher)
        assert work.loc["A", "follow_up"] == "promise due today"
        assert work.loc["C", "follow_up"] == "promise broken yesterday"
        assert work.loc["A", "open_promises"] == 1 and work.loc["C", "broken_promises_90d"] == 1
        # the next day A's promise is broken (nothing paid), C's is two days old: no flag
        next_day = _worklist(store, AS_OF + dt.timedelta(days=1))
        assert next_day.loc["A", "follow_up"] == "promise broken yesterday"
        assert next_day.index[0] == "A" and pd.isna(next_day.loc["C", "follow_up"])
        review = metrics.credit_review(store, as_of=AS_OF).set_index("customer_id")
        assert (
            review.loc["C", "broken_promises_90d"] == 1
            and review.loc["A", "broken_promises_90d"] == 0
        )


def test_a_promise_is_kept_when_the_customer_paid_it_by_the_date(db):
    with Store.open(db) as store:
        actions.log_activity(store, CARLOS, "promise", "C", day=dt.date(2026, 3, 18), key="p",
                             promised_date=dt.date(2026, 3, 25), promised_amount=300)  # fmt: skip
        # P1 (300 on 20 Mar) is in the window and covers it
        status = store.rows("SELECT status, paid_towards FROM promises_at(?::DATE)", [AS_OF])
        assert status == [("kept", Decimal("300.00"))]
        store.execute("UPDATE activities SET promised_amount = 300.01")
        assert store.value("SELECT status FROM promises_at(?::DATE)", [AS_OF]) == "broken"
        assert (
            store.value("SELECT status FROM promises_at(?::DATE)", [dt.date(2026, 3, 25)]) == "open"
        )


# -- Credit actions ------------------------------------------------------------------------------


def test_a_hold_is_placed_refused_twice_and_released(db):
    with Store.open(db) as store:
        assert actions.set_hold(store, MAYA, "B", True, "60 days past due", day=AS_OF, key="h1")
        with pytest.raises(ActionError, match="already on hold since 31 Mar 2026"):
            actions.set_hold(store, NOAH, "B", True, "again", day=AS_OF, key="h2")
        held = actions.holds_in_force(store)
        assert held[["customer_id", "reason", "held_by"]].values.tolist() == [
            ["B", "60 days past due", "maya@example.com"]]  # fmt: skip
        assert actions.set_hold(store, NOAH, "B", False, "paid", day=AS_OF, key="h3")
        assert actions.holds_in_force(store).empty
        assert [r[0] for r in store.rows("SELECT action FROM order_holds ORDER BY created_at")] == [
            "hold", "release"]  # fmt: skip


def test_a_limit_goes_into_the_history_and_the_old_one_stays_for_earlier_dates(db):
    with Store.open(db) as store:
        assert actions.request_limit(store, MAYA, Access(), "A", 12000, "annual review",
                                     day=AS_OF, key="l1") == "applied"  # fmt: skip
        history = store.rows("SELECT effective_from, credit_limit, reviewed_on, set_by FROM "
                             "credit_limits ORDER BY effective_from")  # fmt: skip
        assert history == [(dt.date(2025, 1, 15), Decimal("10000.00"), dt.date(2025, 1, 15), None),
                           (AS_OF, Decimal("12000.00"), AS_OF, "maya@example.com")]  # fmt: skip
        assert store.rows("SELECT credit_limit, credit_limit_reviewed_on FROM customers "
                          "WHERE customer_id = 'A'") == [(Decimal("12000.00"), AS_OF)]  # fmt: skip
        now = metrics.credit_review(store, as_of=AS_OF).set_index("customer_id")
        earlier = metrics.credit_review(store, as_of=AS_OF - dt.timedelta(days=1)).set_index(
            "customer_id"
        )
        assert now.loc["A", "credit_limit"] == 12000 and earlier.loc["A", "credit_limit"] == 10000


def test_a_limit_above_the_policy_waits_for_another_credit_manager(db):
    policy = Access(limit_approval_above=Decimal("20000"))
    with Store.open(db) as store:
        assert actions.request_limit(store, MAYA, policy, "B", 25000, "new guarantee",
                                     day=AS_OF, key="l2") == "pending"  # fmt: skip
        assert store.value("SELECT credit_limit FROM customers WHERE customer_id = 'B'") == 5000
        (request,) = actions.pending_limits(store)["request_id"]
        with pytest.raises(Refused, match="another credit manager must decide it"):
            actions.decide_limit(store, MAYA, request, True, key="d1")
        assert actions.decide_limit(store, NOAH, request, True, key="d2")
        assert not actions.decide_limit(store, NOAH, request, True, key="d2")  # sent twice
        assert store.rows("SELECT credit_limit, approved_by, set_by FROM credit_limits WHERE "
                          "effective_from = ?", [AS_OF]) == [(Decimal("25000.00"), "noah@example.com",
                                                              "maya@example.com")]  # fmt: skip
        assert actions.pending_limits(store).empty
        with pytest.raises(ActionError, match="already applied"):
            actions.decide_limit(store, NOAH, request, False, key="d3")


# -- Writes, audit, uploads ----------------------------------------------------------------------

HOLD = """
import sys, time
from arlens.store import Store
with Store.open(sys.argv[1]) as store:
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
"""


def test_a_write_while_another_process_holds_the_file_says_so_then_lands_once(db):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(db), "4"], stdout=subprocess.PIPE,
                              text=True, cwd=REPO)  # fmt: skip
    assert holder.stdout.readline().strip() == "holding"

    def work(store):
        return actions.log_activity(store, CARA, "note", "A", day=AS_OF, key="n1", note="left VM")

    with pytest.raises(StoreBusyError, match="is in use by"):
        write(db, CARA, work)
    holder.wait(timeout=30)
    assert write(db, CARA, work) and not write(db, CARA, work)
    with Store.open(db, read_only=True) as store:
        assert store.rows("SELECT activity_id, created_by FROM activities") == [
            ("n1", "cara@example.com")
        ]
        assert (
            store.value("SELECT user_name FROM audit_log WHERE audit_id = 'n1'")
            == "cara@example.com"
        )


def test_the_lock_lets_a_writer_in_between_readers():
    lock, order = ReadWriteLock(), []
    assert lock.acquire_read()

    def writer():
        with lock.writing():
            order.append("write")

    thread = threading.Thread(target=writer)
    thread.start()
    time.sleep(0.2)
    assert order == [] and not lock.acquire_read(timeout=0.2)  # new readers wait behind the writer
    lock.release_read()
    thread.join(5)
    assert order == ["write"] and lock.acquire_read(timeout=1)


def test_imports_settings_and_actions_are_in_the_audit_trail_and_its_csv_is_safe(db):
    with Store.open(db) as store:
        store.actor = "ana@example.com"
        store.set_grace_days(5)
        store.set_grace_days(5)  # no change, no line
        actions.log_activity(store, CARLOS, "dispute", "B", day=AS_OF, key="d1", invoice_id="B1",
                             outcome="pricing", note="=HYPERLINK(\"http://x\")")  # fmt: skip
        trail = audit.trail(store, dt.date(2000, 1, 1), dt.date.today())
    assert trail["action"].tolist().count("import") == 3  # customers, invoices, payments
    setting = trail[trail["action"] == "setting"].sort_values("logged_at")
    # the first import set the home currency (as the command line's user), then Ana the grace days
    assert setting["target"].tolist() == ["home_currency", "grace_days"]
    assert setting["user_name"].iloc[0].endswith("(command line)")
    assert setting["user_name"].iloc[1] == "ana@example.com"
    assert [json.loads(d) for d in setting["details"]] == [{"before": None, "after": "USD"},
                                                           {"before": None, "after": "5"}]  # fmt: skip
    imported = json.loads(trail[trail["target"].str.endswith("invoices.csv")]["details"].iloc[0])
    assert (imported["table"], imported["rows_loaded"], imported["rows_rejected"]) == (
        "invoices",
        3,
        0,
    )
    text = audit.trail_csv(trail.assign(target=trail["target"].where(trail["action"] != "setting",
                                                                     "=cmd|' /C calc'!A0")))  # fmt: skip
    cells = [line.split(",") for line in text.decode().splitlines()]
    assert any(cell.startswith("'=cmd") for row in cells for cell in row)
    assert not any(cell.startswith(("=", "+", "@")) for row in cells for cell in row)


def test_uploads_are_limited_by_size_and_kind_and_saved_inside_the_store_folder(tmp_path):
    assert check_upload("../../etc/passwd.csv", b"a,b\n1,2\n") == "passwd.csv"
    assert safe_name("..\\..\\win.ini") == "win.ini" and safe_name("\x00.bashrc") == "bashrc"
    assert check_upload("book.xlsx", b"PK\x03\x04rest") == "book.xlsx"
    refusals = {
        ("big.csv", b"a\n" * 600): "is over the 0 MB upload limit",
        ("run.sh", b"echo"): "does not read .sh files",
        ("fake.xlsx", b"<html>"): "not a real .xlsx file",
        ("bin.csv", b"\x00\x01\x02"): "binary, not .csv text",
        ("empty.csv", b""): "the file is empty",
    }
    for (name, data), words in refusals.items():
        with pytest.raises(UploadRefused, match=words):
            check_upload(name, data, limit=1000)
    db = tmp_path / "store" / "arlens.duckdb"
    with upload_folder(db) as folder:
        assert folder.parent == (tmp_path / "store" / "uploads").resolve() and folder.is_dir()
    assert not folder.exists()


def test_dunning_skips_a_customer_with_a_promise_logged_in_the_app(db):
    from arlens.collections import dunning

    with Store.open(db) as store:
        before = {n.customer.customer_id for n in dunning.propose(store, AS_OF).notices}
        actions.log_activity(store, CARLOS, "promise", "B", day=AS_OF, key="p-b",
                             promised_date=AS_OF + dt.timedelta(days=3), promised_amount=10000)  # fmt: skip
        run = dunning.propose(store, AS_OF)
    assert "B" in before and "B" not in {n.customer.customer_id for n in run.notices}
    (skip,) = [s for s in run.skipped if s.customer.customer_id == "B"]
    assert skip.kind == "promise" and skip.reason == "promised to pay by 3 April 2026"
