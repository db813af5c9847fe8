"""Every page in a real headless Chromium, on the sample and on the minimal register: no error box,
nothing raw in its visible text or downloads (tests/page_checks.py), a screenshot each
(tests/artifacts/<store>/<page>.png)."""

from __future__ import annotations

import email
import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile
from pathlib import Path

import pytest
from conftest import REPO
from page_checks import check_download, check_text

from arlens.store import Store
from ui.navigation import PAGES

CHROMIUM = os.environ.get("ARLENS_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "tests" / "artifacts"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM}"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_app(db: Path, model_dir: Path | None = None):
    """`streamlit run` on a free port over `db`; polls /_stcore/health until it answers."""
    port = free_port()
    env = {**os.environ, "ARLENS_MODEL_DIR": str(model_dir or db.parent / "models")}
    process = subprocess.Popen(
        [
            sys.executable, "-m", "streamlit", "run", str(REPO / "dashboard.py"),
            "--server.port", str(port), "--server.address", "127.0.0.1",
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--", "--db", str(db),
        ],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(process.stdout.read().decode(errors="replace")) from None
            time.sleep(0.3)
    return url, process


def stop_app(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


PREPARE_SAMPLE = """
import sys
from pathlib import Path
from arlens.store import Store
from models import personas, risk
db, models = Path(sys.argv[1]), Path(sys.argv[2])
with Store.open(db) as store:
    day = store.value("SELECT max(invoice_date) FROM invoices")
    risk.train(store, model_dir=models)
    risk.score(store, day, model_dir=models)
    personas.run_report(store, day, save=True)
"""


@pytest.fixture(scope="module")
def sample_in_preparation(sample_db, tmp_path_factory):
    """A copy of the sample getting a trained risk model, scores and personas (every panel has
    something), in a process of its own: it trains while the minimal register's pages run."""
    import shutil

    folder = tmp_path_factory.mktemp("browser_sample")
    db, models = folder / "store.duckdb", folder / "models"
    shutil.copy(sample_db, db)
    log = folder / "prepare.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", PREPARE_SAMPLE, str(db), str(models)],
            cwd=REPO, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    yield db, models, process, log
    if process.poll() is None:
        process.kill()


@pytest.fixture(scope="module", params=["minimal", "sample"])
def served(request, tmp_path_factory, sample_in_preparation):
    """(store name, url): a server over a copy of the store. The minimal register is left as
    its first import leaves it (no model, no personas); the sample comes fully prepared."""
    import shutil

    kind = request.param
    if kind == "sample":
        db, models, preparing, log = sample_in_preparation
        assert preparing.wait(timeout=600) == 0, log.read_text(errors="replace")[-2000:]
    else:
        folder = tmp_path_factory.mktemp(f"browser_{kind}")
        db, models = folder / "store.duckdb", folder / "models"
        shutil.copy(request.getfixturevalue(f"{kind}_db"), db)
    url, process = start_app(db, models)
    yield kind, url
    stop_app(process)


@pytest.fixture
def empty_app_url(tmp_path):
    url, process = start_app(tmp_path / "fresh.duckdb")
    yield url
    stop_app(process)


@pytest.fixture(scope="module")
def context(browser):
    """One browser context for the page tests: the app's scripts and styles load once, from
    its cache, instead of once per page (each test still opens a fresh page and session)."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    yield context
    context.close()


def wait_for_app_run(page, timeout_ms: int = 90_000) -> None:
    """The one place that waits: the script has finished and nothing is still running."""
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms
    )
    page.wait_for_timeout(300)  # let the last delta paint
    page.wait_for_selector(
        "[data-testid='stApp'][data-test-script-state='notRunning']", timeout=timeout_ms
    )


def page_url(base: str, path: str) -> str:
    slug = Path(path).stem
    return base + ("/" if path == PAGES[0][0] else f"/{slug}")


def screenshot(page, path: Path) -> None:
    """The whole page: Streamlit scrolls inside its main block, so full_page alone stops at the
    viewport; grow the viewport to the content first (capped), then put it back."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stSidebarContent]')].map(e => e.scrollHeight), 0)"
    )
    page.set_viewport_size(
        {"width": size["width"], "height": min(max(height, size["height"]), 8000)}
    )
    page.wait_for_timeout(200)
    page.screenshot(path=str(path), full_page=True, timeout=60_000)
    page.set_viewport_size(size)


def visible_text(page) -> str:
    """The page's text as a reader sees it: the body's text plus what the inputs show (a
    selectbox's chosen option lives in its input's value, not in the text)."""
    values = page.locator("input:not([type=file]):not([type=hidden])").evaluate_all(
        "inputs => inputs.map(i => i.value)"
    )
    return page.locator("body").inner_text() + "\n" + "\n".join(v for v in values if v)


def check_file(data: bytes, name: str) -> None:
    """A download by its kind: a PDF, an email with its PDF attached, a zip of them (each member
    checked), else a CSV or Excel file through page_checks."""
    if name.endswith(".pdf"):
        assert data.startswith(b"%PDF-"), f"{name} is not a PDF"
    elif name.endswith(".eml"):
        message = email.message_from_bytes(data)
        attached = [p.get_filename() for p in message.walk() if p.get_filename()]
        assert message["Subject"] and attached and attached[0].endswith(".pdf"), name
    elif name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            assert "proposal.csv" in names and any(n.endswith(".pdf") for n in names), names
            for member in names:
                check_file(archive.read(member), member)
    else:
        check_download(data, name)


def downloads(page) -> list[tuple[str, bytes]]:
    """Click every download button on the page; (file name, bytes) of each download."""
    got = []
    buttons = page.get_by_test_id("stDownloadButton")
    for i in range(buttons.count()):
        wait_for_app_run(page)  # a click while the script reruns (after a download) is lost
        with page.expect_download(timeout=60_000) as info:
            buttons.nth(i).locator("button").click()
        download = info.value
        got.append((download.suggested_filename, Path(download.path()).read_bytes()))
    return got


@pytest.mark.parametrize("path, title", [pytest.param(p, t, id=Path(p).stem) for p, t, *_ in PAGES])
def test_page_in_chromium(served, context, path, title):
    """Opens the page: its title, no exception or error box, nothing raw shown; a screenshot."""
    kind, url = served
    page = context.new_page()
    try:
        started = time.monotonic()
        page.goto(page_url(url, path))
        wait_for_app_run(page)
        elapsed = time.monotonic() - started
        screenshot(page, ARTIFACTS / kind / f"{Path(path).stem}.png")
        with (ARTIFACTS / "timings.txt").open("a") as log:
            log.write(f"{kind}\t{path}\t{elapsed:.2f}s\n")
        exceptions = page.get_by_test_id("stException").all_inner_texts()
        assert not exceptions, exceptions[0][:300]
        errors = page.get_by_test_id("stAlertContentError").all_inner_texts()
        assert not errors, errors
        assert page.get_by_test_id("stHeading").filter(has_text=title).count() >= 1
        check_text(visible_text(page), f"{kind} {Path(path).stem}")
        for name, data in downloads(page):
            check_file(data, name)
        if path == "pages/overview.py":
            values = page.get_by_test_id("stMetricValue").all_inner_texts()
            assert values and all(v.strip() for v in values)
    finally:
        page.close()


def test_import_through_the_browser_then_see_the_numbers(empty_app_url, browser):
    """A fresh store: the empty state, then an upload on the Data page, then figures on the Overview."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(empty_app_url)
    wait_for_app_run(page)
    assert (
        page.get_by_test_id("stAlertContentInfo").filter(has_text="No receivables data yet").count()
        == 1
    )
    page.goto(f"{empty_app_url}/data")
    wait_for_app_run(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").first.set_input_files(
        str(REPO / "tests" / "data" / "register_unusual_headers.csv")
    )
    wait_for_app_run(page)
    page.get_by_test_id("stSelectbox").filter(has_text="Table").click()
    page.get_by_role("option", name="invoices", exact=True).click()
    page.get_by_test_id("stFormSubmitButton").click()
    page.get_by_test_id("stAlertContentSuccess").wait_for(timeout=60_000)
    assert "5 rows loaded, 0 rejected" in page.get_by_test_id("stAlertContentSuccess").inner_text()
    wait_for_app_run(page)
    picked = page.get_by_role("combobox", name="Import", exact=True).input_value()
    assert picked.startswith("#1 · register_unusual_headers.csv → invoices"), picked
    assert "arlens-upload" not in visible_text(page), "the upload's temporary path is not shown"
    check_text(visible_text(page), "data after import")
    screenshot(page, ARTIFACTS / "empty" / "data_after_import.png")
    page.goto(f"{empty_app_url}/?as_of=2026-03-31")
    wait_for_app_run(page)
    values = page.get_by_test_id("stMetricValue").all_inner_texts()
    # Open AR worked by hand for this register; no currency column: the home currency, USD.
    assert "$10,900" in values
    page.close()


def test_a_shared_link_is_the_first_request_of_a_fresh_server(sample_db, browser):
    """Streamlit's pages/ fallback must not bypass the frame: the link opens its page, filters kept."""
    url, process = start_app(sample_db)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{url}/aging?as_of=2026-06-30&segment=Enterprise")
        wait_for_app_run(page)
        assert page.get_by_test_id("stException").count() == 0
        assert page.get_by_test_id("stHeading").filter(has_text="Aging").count() >= 1
        assert "as_of=2026-06-30" in page.url and "segment=Enterprise" in page.url
        page.close()
    finally:
        stop_app(process)


def test_from_the_worklist_to_a_letter_in_two_clicks(minimal_db, tmp_path, browser):
    """The call sheet's link opens the customer's statement; its letter button gives the letter
    with the statement attached (the minimal register: no notice sent yet, letters are due)."""
    import shutil

    from pypdf import PdfReader

    from arlens import metrics
    from arlens.collections import dunning

    db = tmp_path / "store.duckdb"
    shutil.copy(minimal_db, db)
    with Store.open(db, read_only=True) as store:
        day = metrics.latest_activity_date(store)
        shown = {"currency": metrics.main_currency(store)}  # the worklist page's default filter
        top_five = list(metrics.worklist(store, day, shown)["customer_id"][:5])
        due = {n.customer.customer_id: n for n in dunning.propose(store, day).notices}
    customer = next(c for c in top_five if c in due)
    url, process = start_app(db)
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
        page.goto(f"{url}/worklist")
        wait_for_app_run(page)
        page.locator(f"[data-testid=stPageLink] a[href*='customer={customer}']").click()  # 1
        wait_for_app_run(page)
        assert "/statements" in page.url and f"customer={customer}" in page.url
        assert customer in page.get_by_role("combobox", name="Customer", exact=True).input_value()
        check_text(visible_text(page), "statement from the worklist")
        screenshot(page, ARTIFACTS / "minimal" / "statements_from_worklist.png")
        button = page.get_by_test_id("stDownloadButton").filter(has_text="Letter (PDF)")
        with page.expect_download(timeout=60_000) as info:
            button.locator("button").click()  # 2
        assert info.value.suggested_filename == f"{due[customer].reference}.pdf"
        reader = PdfReader(info.value.path())
        text = "\n".join(p.extract_text() for p in reader.pages)
        assert len(reader.pages) >= 2 and due[customer].level.name in text
        assert "Statement of open items" in text and customer in text
        page.close()
    finally:
        stop_app(process)
