"""The readers of `python -m benchmarks.load`: how a visit to a page is made and when it has settled
or failed.

- `protocol_client` speaks Streamlit's websocket protocol, with no browser: a visit opens
  /_stcore/stream, sends the `rerun_script` BackMsg a new browser tab sends first and reads the
  server's ForwardMsgs until the last script run finished successfully and no new run started
  within QUIET_MS; the elements of that run are then checked for what a reader should never see.
- `chromium_client` drives headless Chromium (one browser context per reader, a new tab per
  visit) and waits until the page has settled as `benchmarks/pages.py` defines it.

Each yields reader(), an async context manager that yields the reader's visit(path) -> {"settle_s",
"wall_s", "error", "timed_out", ...}; settle_s is None on a failure.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from benchmarks.pages import CHROMIUM, SETTLED_JS, STABLE_MS, WAIT_JS, page_url

BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SEED = 7  # each reader's page order is shuffled with Random(SEED * 1000 + its number)
QUIET_MS = 300  # protocol: settled = the last run finished and no new one started this long after
# protocol: the string fields of an element a reader reads (a `label` is read on any element)
TEXT_FIELDS = {"markdown": ("body",), "heading": ("body",), "alert": ("body", "title"),
               "text": ("body",), "code": ("code_text",), "metric": ("body", "delta")}  # fmt: skip


async def prepare_context(context, base_url: str) -> None:
    """Hook run on every browser context before its first visit: where a sign-in (OpenID Connect)
    will go once the app requires one. Nothing to do while the app is open."""
    return None


def protocol_headers(base_url: str) -> dict[str, str]:
    """Hook for the protocol client's websocket handshake: where a sign-in's cookie will go once
    the app requires one. None while the app is open."""
    return {}


async def page_problems(page) -> list[str]:
    """What a reader should never see: exception elements, error boxes (as pages.problems), and a
    traceback or NaN/None/NaT/undefined as a word in the page's text (as the tests check)."""
    from tests.page_checks import problems_in_text

    found = await page.get_by_test_id("stException").all_inner_texts()
    found += await page.get_by_test_id("stAlertContentError").all_inner_texts()
    shown = [text.strip().splitlines()[0][:200] for text in found if text.strip()]
    text = await page.inner_text("body", timeout=30_000)
    return shown + [p[:200] for p in problems_in_text(text, "text")]


async def visit(context, url: str, timeout_s: float) -> dict:
    """One visit in a new tab: {"settle_s", "wall_s", "error"}; settle_s is None on a failure."""
    from playwright.async_api import Error, TimeoutError

    result: dict = {"settle_s": None, "wall_s": None, "error": None, "timed_out": False}
    started = time.monotonic()
    page = await context.new_page()
    try:
        await page.goto(url, wait_until="commit", timeout=timeout_s * 1000)
        settled_ms = await page.evaluate(WAIT_JS, [SETTLED_JS, STABLE_MS, timeout_s * 1000])
        result["wall_s"] = round(time.monotonic() - started, 3)
        shown = await page_problems(page)
        if shown:
            result["error"] = "; ".join(shown)
        else:
            result["settle_s"] = round(settled_ms / 1000, 3)
    except Error as error:
        message = str(error).splitlines()[0][:200]
        if "did not settle" in message or isinstance(error, TimeoutError):
            message = f"did not settle within {timeout_s:g} s ({message})"
            result["timed_out"] = True
        result["error"] = message
    finally:
        with contextlib.suppress(Error):
            await page.close()
    return result


def page_name(path: str) -> str:
    """What a browser at the page's URL (benchmarks.pages.page_url) sends as page_name: the URL
    path, empty at the app's root (the first page, which the root opens by st.switch_page)."""
    return page_url("", path).lstrip("/")


def rerun_request(base: str, path: str) -> bytes:
    """The BackMsg a new browser tab at the page's URL sends once its websocket is open."""
    from streamlit.proto.BackMsg_pb2 import BackMsg

    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = ""
    state.page_name = page_name(path)
    info = state.context_info
    info.timezone, info.timezone_offset, info.locale = "UTC", 0, "en-US"
    info.url, info.is_embedded, info.color_scheme = page_url(base, path), False, "light"
    return msg.SerializeToString()


def element_problems(elements: dict) -> list[str]:
    """What a reader should never see, from the elements a visit's last run left (delta path ->
    Element): exception elements, error boxes, no title (an h1 in the main area), and a traceback
    or NaN/None/NaT/undefined as a word in the text a reader reads (TEXT_FIELDS and labels; not
    table cells or chart data, which the browser's check does not read either)."""
    from google.protobuf.descriptor import FieldDescriptor
    from streamlit.proto.Alert_pb2 import Alert

    from tests.page_checks import problems_in_text

    found, titled = [], False
    for path, element in sorted(elements.items()):
        kind = element.WhichOneof("type")
        if kind is None:
            continue
        part = getattr(element, kind)
        if kind == "exception":
            first = (part.message.strip().splitlines() or [""])[0]
            found.append(f"exception: {part.type}: {first}"[:200])
            continue
        if kind == "alert" and part.format == Alert.ERROR:
            found.append(f"error box: {(part.body.strip().splitlines() or [''])[0]}"[:200])
        if kind == "heading" and part.tag == "h1" and path[:1] == (0,):
            titled = True
        texts = [getattr(part, name) for name in TEXT_FIELDS.get(kind, ())]
        label = part.DESCRIPTOR.fields_by_name.get("label")
        if label is not None and label.type == FieldDescriptor.TYPE_STRING:
            texts.append(part.label)
        for text in texts:
            found += [problem[:200] for problem in problems_in_text(text, kind)]
    if not titled:
        found.append("no title")
    return found


async def read_runs(ws, result: dict) -> tuple[float | None, dict, list[str]]:
    """Read the server's messages until the page has settled: a run finished successfully and no
    new run started within QUIET_MS. (monotonic time of that finish, the last run's elements by
    delta path, problems that end the visit early); counts runs and bytes into `result`."""
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    finished, elements = None, {}
    while True:
        if finished is None:
            data = await ws.recv()
        else:
            quiet = finished + QUIET_MS / 1000 - time.monotonic()
            try:
                data = await asyncio.wait_for(ws.recv(), max(quiet, 0))
            except TimeoutError:
                return finished, elements, []
        result["received_kb"] += len(data) / 1024
        msg = ForwardMsg.FromString(data)
        kind = msg.WhichOneof("type")
        if kind == "new_session":  # a script run starts: the page is drawn afresh
            result["runs"] += 1
            finished, elements = None, {}
        elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
            elements[tuple(msg.metadata.delta_path)] = msg.delta.new_element
        elif kind == "script_finished":
            if msg.script_finished == ForwardMsg.FINISHED_SUCCESSFULLY:
                finished = time.monotonic()
            elif msg.script_finished == ForwardMsg.FINISHED_WITH_COMPILE_ERROR:
                return None, elements, ["the script did not compile"]
        elif kind == "page_not_found":
            return None, elements, [f"page not found: {msg.page_not_found.page_name!r}"]
        elif kind == "auth_redirect":
            return None, elements, ["the app asks for a sign-in"]
        elif kind == "session_event" and msg.session_event.WhichOneof("type"):
            event = msg.session_event.WhichOneof("type")
            if event == "script_compilation_exception":
                return None, elements, [f"session event: {event}"]


async def protocol_visit(base: str, path: str, timeout_s: float) -> dict:
    """One visit as a new session over Streamlit's websocket protocol, no browser: {"settle_s",
    "wall_s", "error", "timed_out", "runs", "received_kb"}; settle_s is None on a failure. The
    time counts from opening the websocket to the end of the last run."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import WebSocketException

    result: dict = {"settle_s": None, "wall_s": None, "error": None, "timed_out": False,
                    "runs": 0, "received_kb": 0.0}  # fmt: skip
    started = time.monotonic()
    url = "ws" + base.removeprefix("http") + "/_stcore/stream"
    try:
        async with connect(url, subprotocols=["streamlit"], origin=base,
                           additional_headers=protocol_headers(base), max_size=None,
                           ping_interval=None, open_timeout=timeout_s,
                           close_timeout=5) as ws:  # fmt: skip
            await ws.send(rerun_request(base, path))
            remaining = started + timeout_s - time.monotonic()
            async with asyncio.timeout(max(remaining, 0)):
                finished, elements, problems = await read_runs(ws, result)
        result["wall_s"] = round(time.monotonic() - started, 3)
        problems = problems or element_problems(elements)
        if problems:
            result["error"] = "; ".join(problems)
        else:
            result["settle_s"] = round(finished - started, 3)
    except TimeoutError:
        result["error"] = f"did not settle within {timeout_s:g} s ({result['runs']} runs begun)"
        result["timed_out"] = True
    except (OSError, WebSocketException) as error:
        result["error"] = f"websocket: {error!r}"[:200]
    result["received_kb"] = round(result["received_kb"], 1)
    return result


@contextlib.asynccontextmanager
async def protocol_client(base: str, timeout_s: float):
    """Readers that speak Streamlit's websocket protocol: yields reader(), an async context
    manager that yields the reader's visit(path)."""

    @contextlib.asynccontextmanager
    async def reader():
        yield lambda path: protocol_visit(base, path, timeout_s)

    yield reader


@contextlib.asynccontextmanager
async def chromium_client(base: str, timeout_s: float):
    """Readers as the browser contexts of one headless Chromium: yields reader(), an async
    context manager that yields the reader's visit(path), each visit in a new tab."""
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)

        @contextlib.asynccontextmanager
        async def reader():
            context = await browser.new_context(viewport={"width": 1400, "height": 1000})
            try:
                await prepare_context(context, base)
                yield lambda path: visit(context, page_url(base, path), timeout_s)
            finally:
                await context.close()

        try:
            yield reader
        finally:
            await browser.close()


CLIENTS = {"protocol": protocol_client, "chromium": chromium_client}
