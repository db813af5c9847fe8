"""Team use end to end in Chromium: sign-in against a local OpenID Connect provider
(oidc-provider-mock), each role's pages and actions (also by direct URL), a collector's promise on
the worklist, a credit manager's hold and limit, and five sessions logging notes while
`arlens import` holds the store: every note stored exactly once, no traceback."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from arlens.store import Store
from tests.conftest import REPO, store_from_texts
from tests.page_checks import check_text
from tests.test_browser import screenshot

oidc = pytest.importorskip("tests.oidc", reason="the sign-in harness needs oidc-provider-mock")
pytest.importorskip("oidc_provider_mock", reason="oidc-provider-mock is not installed")
pytest.importorskip("authlib", reason="st.login needs Authlib")
CHROMIUM = os.environ.get("ARLENS_CHROMIUM", "/usr/bin/chromium")
pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
    pytest.mark.filterwarnings("ignore:get_jwt_config:DeprecationWarning"),
]
SCREENSHOTS = REPO / "docs" / "screenshots"
ARTIFACTS = REPO / "tests" / "artifacts" / "team"

COLLECTORS = [f"col{n}@example.com" for n in range(1, 6)]
CUSTOMERS = "customer_id,name,currency,credit_limit,credit_limit_reviewed_on,collector\n" + "".join(
    f"{c},{name},USD,{limit},2024-01-10,{who}\n"
    for c, name, limit, who in zip("ABCDE", ["Alder Ltd", "Birch plc", "Cedar Co", "Dogwood AG",
                                            "Elm SA"], [10000, 8000, 6000, 20000, 5000],
                                   COLLECTORS, strict=True)
)  # fmt: skip
# Each customer one past-due invoice (A the largest), one current; the latest date is 20 Mar 2026.
INVOICES = "invoice_id,customer_id,invoice_date,due_date,amount,currency\n" + "".join(
    f"{c}1,{c},2026-01-0{n + 1},2026-02-0{n + 1},{9000 - 1000 * n},USD\n"
    f"{c}2,{c},2026-03-0{n + 1},2026-04-0{n + 1},500,USD\n"
    for n, c in enumerate("ABCDE")
)
PAYMENTS = (
    "payment_id,customer_id,payment_date,amount,currency,invoice_id\nP1,E,2026-03-20,100,USD,E1\n"
)
AS_OF = dt.date(2026, 3, 20)
ROLES = """
[roles]
admin = ["ana@example.com"]
credit_manager = ["group:ar-credit"]
collector = ["group:ar-collectors"]
viewer = ["vera@example.com"]

[access]
collectors_see = "assigned"

[credit]
limit_approval_above = 15000
"""
USERS = {  # email: groups
    "vera@example.com": [],
    "ana@example.com": [],
    "maya@example.com": ["ar-credit"],
    "noah@example.com": ["ar-credit"],
    **{email: ["ar-collectors"] for email in COLLECTORS},
}


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    """The store, its roles file beside it, the provider and the signed-in dashboard."""
    folder = tmp_path_factory.mktemp("team")
    db = store_from_texts(folder, "arlens.duckdb",
                          {"customers": CUSTOMERS, "invoices": INVOICES, "payments": PAYMENTS})  # fmt: skip
    (folder / "arlens.toml").write_text(ROLES)
    with oidc.oidc_provider() as issuer:
        port = oidc.free_port()
        secrets = oidc.write_secrets(folder, issuer, port)
        log = folder / "streamlit.log"
        process = oidc.start_streamlit(REPO / "dashboard.py", port, secrets, ["--db", str(db)],
                                       log=log)  # fmt: skip
        try:
            yield {"url": oidc.app_url(port), "db": db, "log": log, "folder": folder,
                   "secret": secrets.read_text()}  # fmt: skip
        finally:
            oidc.stop(process)


def signed_in(browser, app, email: str):
    """A new browser session signed in as `email` (the groups of USERS), on its first page."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.goto(app["url"])
    settle(page)
    oidc.sign_in(page, app["url"], email, USERS[email], email.split("@")[0].capitalize())
    settle(page)
    return page


def settle(page, timeout_ms: int = 60_000) -> None:
    for _ in range(2):  # the script may start again right after it stopped (a switch_page)
        oidc.wait_for_app(page, timeout_ms)
        page.wait_for_timeout(250)
    oidc.wait_for_app(page, timeout_ms)


def visit(page, app, path: str) -> str:
    page.goto(f"{app['url']}/{path}")
    settle(page)
    text = page.locator("body").inner_text()
    check_text(text, path)
    return text


def menu(page) -> list[str]:
    links = page.get_by_test_id("stSidebarNav").locator("a").all_inner_texts()
    return [text.strip().splitlines()[-1].strip() for text in links]  # after the icon's name


REFUSED = "may not open this page"


def test_no_page_shows_before_sign_in_even_by_direct_url(app, browser):
    page = browser.new_page()
    for path in ("data", "", "audit", "worklist?customer=A"):  # a fresh server: data first
        page.goto(f"{app['url']}/{path}")
        settle(page)
        text = page.locator("body").inner_text()
        assert "Sign in" in text and "Alder" not in text and "Import a file" not in text, path
    page.close()


@pytest.mark.parametrize(
    "email, menu_has, menu_lacks, opens, refuses",
    [
        ("vera@example.com", ["Overview", "Credit limits", "Collections worklist"], ["Data", "Audit trail"],
         {"worklist": "collectors log calls"}, ["data", "audit"]),
        ("col1@example.com", ["Collections worklist", "Statements & dunning"], ["Overview", "Data"],
         {"worklist": "Log what the customer said"}, ["overview", "data", "credit", "audit"]),
        ("maya@example.com", ["Overview", "Credit limits"], ["Data", "Audit trail"],
         {"credit": "Place or release a hold"}, ["data", "audit"]),
        ("ana@example.com", ["Overview", "Data", "Audit trail"], [],
         {"data": "Import a file", "audit": "Audit trail"}, []),
    ],
)  # fmt: skip
def test_each_role_sees_and_opens_exactly_its_pages(
    app, browser, email, menu_has, menu_lacks, opens, refuses
):
    page = signed_in(browser, app, email)
    shown = menu(page)
    assert set(menu_has) <= set(shown) and not set(menu_lacks) & set(shown), shown
    for path, words in opens.items():
        text = visit(page, app, path)
        assert words in text and REFUSED not in text, (email, path)
    for path in refuses:
        text = visit(page, app, path)
        assert REFUSED in text, (email, path)
        assert "Import a file" not in text and "Hold candidates" not in text, (email, path)
    page.context.close()


def test_a_collector_sees_only_their_customers_and_logs_a_promise_the_worklist_shows(app, browser):
    page = signed_in(browser, app, "col2@example.com")
    text = visit(page, app, f"worklist?as_of={AS_OF.isoformat()}")
    assert "Birch plc" in text and "Alder Ltd" not in text  # B is col2's, A col1's
    page.get_by_role("tab", name="Promise to pay").click()
    day = page.get_by_role("spinbutton", name="day, To pay by")  # the date input's day segment
    day.click()
    day.press_sequentially(f"{AS_OF.day:02d}")
    page.get_by_label("Amount (USD)").fill("3000")
    page.get_by_role("button", name="Log the promise").click()
    page.get_by_test_id("stAlertContentSuccess").wait_for(timeout=60_000)
    settle(page)
    text = page.locator("body").inner_text()
    assert "Promise to pay $3,000.00 by 20 Mar 2026 logged for Birch plc." in text
    assert "Promise due today" in text  # the call sheet's first line
    screenshot(page, ARTIFACTS / "collector.png")
    with Store.open(app["db"], read_only=True) as store:
        rows = store.rows("SELECT customer_id, promised_date, promised_amount, created_by FROM "
                          "activities WHERE kind = 'promise'")  # fmt: skip
    assert rows == [("B", AS_OF, 3000, "col2@example.com")]
    page.context.close()


def test_a_credit_manager_holds_orders_and_a_big_limit_waits_for_another(app, browser):
    page = signed_in(browser, app, "maya@example.com")
    visit(page, app, f"credit?as_of={AS_OF.isoformat()}")
    form = page.get_by_test_id("stForm").filter(has_text="Place or release a hold")
    form.get_by_label("Why").fill("45 days past due, no answer")
    form.get_by_role("button", name="Hold orders").click()
    page.get_by_test_id("stAlertContentSuccess").wait_for(timeout=60_000)
    settle(page)
    assert "orders are on hold" in page.locator("body").inner_text()
    # the what-if's customer (the first in the review) to 18,000: above the 15,000 policy
    page.get_by_label(re.compile("Proposed limit")).fill("18000")
    page.get_by_label(re.compile("Proposed limit")).press("Enter")
    settle(page)
    limit_form = page.get_by_test_id("stForm").filter(has_text="as the limit from")
    limit_form.get_by_label("Why").fill("new bank guarantee")
    limit_form.get_by_role("button", name="Ask for approval").click()
    page.get_by_test_id("stAlertContentSuccess").wait_for(timeout=60_000)
    settle(page)
    text = page.locator("body").inner_text()
    assert "Limits waiting for approval" in text and "another credit manager decides" in text
    screenshot(page, ARTIFACTS / "credit_manager.png")
    page.context.close()
    other = signed_in(browser, app, "noah@example.com")
    visit(other, app, f"credit?as_of={AS_OF.isoformat()}")
    other.get_by_role("button", name="Approve").click()
    other.get_by_test_id("stAlertContentSuccess").wait_for(timeout=60_000)
    with Store.open(app["db"], read_only=True) as store:
        assert store.rows("SELECT credit_limit, approved_by, set_by FROM credit_limits WHERE "
                          "set_by IS NOT NULL") == [(18000, "noah@example.com", "maya@example.com")]  # fmt: skip
        assert store.rows("SELECT action, created_by FROM order_holds") == [
            ("hold", "maya@example.com")
        ]
    other.context.close()


def _big_register(path: Path, rows: int) -> None:
    with path.open("w") as out:
        out.write("invoice_id,customer_id,invoice_date,due_date,amount,currency\n")
        for n in range(rows):
            out.write(f"X{n:07d},X{n % 500:03d},2026-02-{n % 28 + 1:02d},2026-03-{n % 28 + 1:02d},"
                      f"{n % 900 + 100}.25,USD\n")  # fmt: skip


def test_five_sessions_log_notes_while_an_import_holds_the_store(app, browser):
    pages = [signed_in(browser, app, email) for email in COLLECTORS]
    for page in pages:
        visit(page, app, f"worklist?as_of={AS_OF.isoformat()}")
        page.get_by_role("tab", name="Note").click()
    register = app["folder"] / "big.csv"
    _big_register(register, 120_000)
    importer = subprocess.Popen(
        [sys.executable, "-m", "arlens", "import", str(register), "--table", "invoices", "--db",
         str(app["db"])], cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)  # fmt: skip
    time.sleep(1.5)  # the import has the file (it opens it first)
    notes = {page: f"session {n}: left a voicemail" for n, page in enumerate(pages, start=1)}
    saw_busy, saved = set(), set()
    deadline = time.monotonic() + 240
    while len(saved) < len(pages) and time.monotonic() < deadline:
        for page in pages:
            if page in saved:
                continue
            box = page.get_by_role("textbox", name="Note", exact=True)
            assert box.input_value() in ("", notes[page])  # what was typed is kept
            box.fill(notes[page])
            page.get_by_role("button", name="Save the note").click()
            settle(page)
            text = page.locator("body").inner_text()
            check_text(text, "worklist during an import")
            if "Not saved yet" in text:
                assert "in use by arlens import" in text and "What you typed is kept" in text
                assert (
                    page.get_by_role("textbox", name="Note", exact=True).input_value()
                    == notes[page]
                )
                saw_busy.add(page)
            elif "Note saved for" in text:
                saved.add(page)
        time.sleep(0.5)
    output = importer.communicate(timeout=300)[0].decode()
    assert importer.returncode == 0, output
    assert len(saved) == len(pages) and saw_busy, (len(saved), len(saw_busy))
    with Store.open(app["db"], read_only=True) as store:
        stored = store.rows("SELECT note, created_by, count(*) FROM activities WHERE kind = 'note' "
                            "GROUP BY ALL ORDER BY note")  # fmt: skip
        audited = store.value("SELECT count(*) FROM audit_log WHERE action = 'note'")
        imported = store.value("SELECT count(*) FROM invoices WHERE invoice_id LIKE 'X%'")
    assert stored == [(notes[p], email, 1) for p, email in zip(pages, COLLECTORS, strict=True)]
    assert audited == len(pages) and imported == 120_000
    for page in pages:
        page.context.close()
    log = app["log"].read_text(errors="replace")
    assert "Traceback" not in log, log[-3000:]
    assert oidc.CLIENT_SECRET not in log and "cookie_secret" not in log  # secrets never logged


def test_screenshots_for_the_readme(app):
    """Copies of the collector's and credit manager's views (taken above) for docs/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name in ("collector", "credit_manager"):
        source = ARTIFACTS / f"{name}.png"
        if source.exists():
            shutil.copy(source, SCREENSHOTS / f"team_{name}.png")
