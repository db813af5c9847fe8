"""`python -m benchmarks.pages` (`make bench-pages`): how long each dashboard page takes to settle.

For each store a fresh `streamlit run dashboard.py` is started and driven by a headless Chromium
(Debian's, through Playwright). A page's time is from navigation start (the browser's
`performance.timeOrigin`) to the page having settled: the script is not running, no element is
stale, the page's title is shown, every chart has drawn and every table has its canvas, and it
stays so for a moment (a rerun that starts after a short pause is caught); no element shows its
loading placeholder.

* cold: the first visit of each page after the server started, pages visited once each in the
  navigation's order in one fresh browser context. Results cached by an earlier page (the sidebar's
  queries, the Overview's KPIs) are therefore warm for later pages, as for a real first reader.
* warm: the best of three later visits, each in a new tab of that browser context: a new
  Streamlit session (the script runs again, from the caches), with the browser's cache of the
  app's JavaScript kept, as for a reader coming back to the page.

Stores: the bundled sample (imported afresh into benchmarks/data/pages/, as `make run` builds it)
and the 1M-invoice benchmark store (benchmarks/data/1m/arlens.duckdb, built by `make bench`;
opened read-only by the app, never written). A screenshot of each page goes to
benchmarks/data/pages/<store>/<page>.png; the results to benchmarks/pages.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ui.navigation import PAGES  # noqa: E402

OUT = ROOT / "benchmarks" / "data" / "pages"
RESULTS = ROOT / "benchmarks" / "pages.json"
STORES = {
    "sample": OUT / "sample.duckdb",
    "1m": ROOT / "benchmarks" / "data" / "1m" / "arlens.duckdb",
}
CHROMIUM = os.environ.get("ARLENS_CHROMIUM", "/usr/bin/chromium")
WARM_RUNS = 3
STABLE_MS = 600  # settled = the condition holds this long without a break
TIMEOUT_S = int(os.environ.get("BENCH_TIMEOUT", 300))
TARGETS = {"warm_s": 1.5, "cold_s": 3.0}

# True when the page has settled; polled in the page. Charts and tables count when visible only
# (one in a closed expander is never drawn).
SETTLED_JS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  if (!app || app.getAttribute("data-test-script-state") !== "notRunning") return false;
  if (document.querySelector("[data-stale='true']")) return false;
  // an element whose code is still loading shows a grey placeholder
  if (document.querySelector("[data-testid='stSkeletonElement'], [data-testid='stSkeleton'], [data-testid='stAppSkeleton']")) return false;
  if (document.querySelector("[data-testid='stStatusWidgetRunningIcon'], [data-testid='stStatusWidgetRunningManIcon']")) return false;
  const main = document.querySelector("[data-testid='stMain']");
  if (!main || !main.querySelector("h1")) return false;
  const shown = (e) => !e.closest("details:not([open])") && e.checkVisibility();  // not in a closed expander
  for (const chart of main.querySelectorAll("[data-testid='stPlotlyChart']"))
    if (shown(chart) && !chart.querySelector(".main-svg")) return false;
  for (const grid of main.querySelectorAll("[data-testid='stDataFrame']"))
    if (shown(grid) && !grid.querySelector("canvas")) return false;
  return true;
}"""

# Polls SETTLED_JS every 25 ms; resolves with the time (ms since navigation start) at which the
# condition became true and then held for STABLE_MS.
WAIT_JS = """([settled, stableMs, timeoutMs]) => new Promise((resolve, reject) => {
  const check = eval(settled);
  let since = null;
  const tick = () => {
    const now = performance.now();
    if (check()) {
      if (since === null) since = now;
      if (now - since >= stableMs) return resolve(since);
    } else since = null;
    if (now > timeoutMs) return reject(new Error("page did not settle"));
    setTimeout(tick, 25);
  };
  tick();
})"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def build_sample(path: Path) -> None:
    """The sample store as the Makefile's $(DB) target builds it, afresh."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in (path, path.with_name(path.name + ".wal")):
        stale.unlink(missing_ok=True)
    arlens = Path(sys.executable).with_name("arlens")
    command = [str(arlens)] if arlens.exists() else [sys.executable, "-m", "arlens"]
    subprocess.run([*command, "import-folder", "sample_data", "--db", str(path)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)  # fmt: skip


def start_app(db: Path, log: Path, flags: Sequence[str] = ()):
    """`streamlit run dashboard.py -- --db <db>` on a free port; returns (url, process) once
    /_stcore/health answers. `flags`: more Streamlit command-line flags, after the ones given
    here (`--server.fileWatcherType auto`, say). The model folder is an empty temporary one: the
    benchmark never writes beside the store."""
    port = free_port()
    env = {**os.environ, "ARLENS_MODEL_DIR": tempfile.mkdtemp(prefix="arlens-bench-models-")}
    streamlit = Path(sys.executable).with_name("streamlit")
    out = log.open("wb")
    process = subprocess.Popen(
        [str(streamlit), "run", "dashboard.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true",
         "--browser.gatherUsageStats", "false", *flags, "--", "--db", str(db)],
        cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return url, process
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                raise RuntimeError(log.read_text(errors="replace")[-3000:]) from None
            time.sleep(0.2)


def stop_app(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()


def page_url(base: str, path: str) -> str:
    return base + ("/" if path == PAGES[0][0] else f"/{Path(path).stem}")


def visit(context, url: str) -> tuple[float | None, object]:
    """Open `url` in a new tab of `context`; (seconds to settle or None when it did not within
    TIMEOUT_S, the open page)."""
    from playwright.sync_api import Error

    page = context.new_page()
    page.goto(url, wait_until="commit", timeout=TIMEOUT_S * 1000)
    try:
        settled_ms = page.evaluate(WAIT_JS, [SETTLED_JS, STABLE_MS, TIMEOUT_S * 1000])
    except Error:
        return None, page
    return settled_ms / 1000, page


def best(values: list[float | None]) -> float | None:
    done = [v for v in values if v is not None]
    return round(min(done), 3) if done else None


def _s(seconds: float | None) -> str:
    return "did not settle" if seconds is None else f"{seconds:.2f} s"


def problems(page) -> list[str]:
    """What a reader should never see: an exception or an error box."""
    found = page.get_by_test_id("stException").all_inner_texts()
    found += page.get_by_test_id("stAlertContentError").all_inner_texts()
    return [text.strip().splitlines()[0][:200] for text in found if text.strip()]


def screenshot(page, path: Path) -> None:
    """The whole page (Streamlit scrolls inside its main block: grow the viewport first)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    size = page.viewport_size
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
        "[data-testid=stSidebarContent]')].map(e => e.scrollHeight), 0)"
    )
    page.set_viewport_size(
        {"width": size["width"], "height": min(max(height, size["height"]), 8000)}
    )
    page.wait_for_timeout(300)
    page.screenshot(path=str(path), full_page=True, timeout=60_000)
    page.set_viewport_size(size)


def new_context(browser):
    return browser.new_context(viewport={"width": 1400, "height": 1000})


def measure_store(browser, name: str, db: Path) -> dict:
    """Cold then warm timings of every page on a fresh server over `db`."""
    OUT.mkdir(parents=True, exist_ok=True)
    url, process = start_app(db, OUT / f"{name}-server.log")
    results: dict[str, dict] = {}
    try:
        context = new_context(browser)
        for path, title, *_ in PAGES:
            seconds, page = visit(context, page_url(url, path))
            results[Path(path).stem] = {"title": title, "cold_s": best([seconds])}
            page.close()
            print(f"  {name} {Path(path).stem}: cold {_s(seconds)}", flush=True)
        for path, _, *_ in PAGES:
            stem, runs = Path(path).stem, []
            for run in range(WARM_RUNS):
                seconds, page = visit(context, page_url(url, path))
                runs.append(seconds)
                if run == WARM_RUNS - 1:
                    screenshot(page, OUT / name / f"{stem}.png")
                    shown = problems(page)
                    if shown:
                        results[stem]["problems"] = shown
                page.close()
            results[stem]["warm_s"] = best(runs)
            print(f"  {name} {stem}: warm {_s(results[stem]['warm_s'])}", flush=True)
        context.close()
    finally:
        stop_app(process)
    return results


def machine() -> dict:
    cpu = platform.processor()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    return {"system": platform.platform(), "python": platform.python_version(), "cpu": cpu,
            "cores": os.cpu_count(), "memory_gb": memory}  # fmt: skip


def table(stores: dict) -> str:
    """The results as a markdown table: a row per page, cold and warm per store."""
    names = list(stores)
    head = "| page | " + " | ".join(f"{n} cold s | {n} warm s" for n in names) + " |"
    lines = [head, "|---|" + "---:|---:|" * len(names)]
    for path, title, *_ in PAGES:
        cells = []
        for n in names:
            row = stores[n].get(Path(path).stem, {})
            for key in ("cold_s", "warm_s"):
                value = row.get(key)
                mark = " ✗" if n == "1m" and value is not None and value > TARGETS[key] else ""
                cells.append("–" if value is None else f"{value:.2f}{mark}")
        lines.append(f"| {title} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.pages", description=__doc__)
    parser.add_argument("--stores", default="sample,1m", help="comma-separated of sample, 1m")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"No Chromium at {CHROMIUM}: sudo apt-get install chromium", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    stores = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        for name in args.stores.split(","):
            db = STORES[name]
            if name == "sample":
                build_sample(db)
            elif not db.exists():
                print(f"{db} is missing: `make bench` builds it; skipping {name}", file=sys.stderr)
                continue
            print(f"{name}: {db}", flush=True)
            stores[name] = measure_store(browser, name, db)
        browser.close()
    if RESULTS.exists():  # a run of some stores keeps the others' last figures
        stores = {**json.loads(RESULTS.read_text()).get("stores", {}), **stores}
    result = {"measured_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
              "machine": machine(), "stores": stores}  # fmt: skip
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(table(stores))
    print(f"\n✗: over the 1M target (warm {TARGETS['warm_s']} s, cold {TARGETS['cold_s']} s). "
          f"Screenshots: {OUT.relative_to(ROOT)}/<store>/; results: {RESULTS.relative_to(ROOT)}")  # fmt: skip
    for name, pages in stores.items():
        for stem, row in pages.items():
            for text in row.get("problems", []):
                print(f"PROBLEM {name} {stem}: {text}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
