"""`python -m benchmarks.load` (`make bench-load`): page settle times with many readers at once.

One `streamlit run dashboard.py` over the 1M-invoice benchmark store (benchmarks/data/1m, made or
reused by `make bench`'s own preparation step) on 127.0.0.1, and one headless Chromium (Debian's,
through Playwright's async API) holding SESSIONS browser contexts: each context is one reader.
Every reader visits the same mix of pages, each in its own seeded shuffled order, for ROUNDS
rounds, all readers at once. A visit's time is from navigation start to the page having settled,
as `benchmarks/pages.py` defines it (SETTLED_JS held for STABLE_MS). A visit that does not settle
within --timeout, or that shows an exception, an error box, a traceback or NaN/None text, is a
failure and is listed.

Before the timed rounds each page is visited once by a single reader, so that the figures are
for pages whose results the server may already have cached; the first-ever computation is what
`make bench-pages` measures as "cold". The whole run stops after --max-minutes and reports the
visits it has.

`--quick`: the bundled sample store (imported afresh into benchmarks/data/load/) and 5 readers,
a smoke run whose results go to benchmarks/data/load/ and leave benchmarks/load.json and
benchmarks/LOAD.md alone.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import json
import os
import random
import subprocess
import sys
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.pages import (  # noqa: E402
    CHROMIUM,
    SETTLED_JS,
    STABLE_MS,
    WAIT_JS,
    build_sample,
    machine,
    page_url,
    start_app,
    stop_app,
)

HERE = ROOT / "benchmarks"
OUT = HERE / "data" / "load"
RESULTS = HERE / "load.json"
REPORT = HERE / "LOAD.md"
MILLION = HERE / "data" / "1m" / "arlens.duckdb"
MIX = ("overview", "aging", "worklist", "credit", "dso", "statements", "data")
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SEED = 7


async def prepare_context(context, base_url: str) -> None:
    """Hook run on every browser context before its first visit: where a sign-in (OpenID Connect)
    will go once the app requires one. Nothing to do while the app is open."""
    return None


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.load", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--sessions", type=int, help="concurrent readers (default 20; 5 --quick)")
    parser.add_argument("--rounds", type=int, default=2, help="visits of each page per reader")
    parser.add_argument("--store", type=Path, help="an existing store instead of the 1M one")
    parser.add_argument("--quick", action="store_true", help="the sample store, 5 readers")
    parser.add_argument("--pages", default=",".join(MIX), help="comma-separated page names")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a visit may take")
    parser.add_argument("--max-minutes", type=float, default=15, help="cap on the whole run")
    args = parser.parse_args(argv)
    if args.sessions is None:
        args.sessions = 5 if args.quick else 20
    args.pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    if args.sessions < 1 or args.rounds < 1:
        parser.error("--sessions and --rounds are at least 1")
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def page_paths(names: list[str]) -> dict[str, str]:
    """Page name (file stem) -> its path in the navigation."""
    from ui.navigation import PAGES

    known = {Path(path).stem: path for path, *_ in PAGES}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown page(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return {n: known[n] for n in names}


def get_store(args: argparse.Namespace) -> tuple[str, Path]:
    """(label, path) of the store to serve; builds or reuses it as the other benchmarks do."""
    if args.store:
        if not args.store.exists():
            raise SystemExit(f"no store at {args.store}")
        return args.store.stem, args.store.resolve()
    if args.quick:
        db = OUT / "sample.duckdb"
        log(f"importing the bundled sample into {db.relative_to(ROOT)}")
        build_sample(db)
        return "sample", db
    from benchmarks.runner import prepare

    prepare("1m", HERE / "data")  # generates, imports or upgrades only what is missing or stale
    return "1m", MILLION


def store_size(db: Path) -> dict:
    """Row counts and file size, read before the server opens the file."""
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = {t: con.execute(f"SELECT count(*) FROM {t}").fetchall()[0][0]
                for t in ("customers", "invoices", "payments")}  # fmt: skip
    finally:
        con.close()
    return {"path": str(db), "file_mb": round(db.stat().st_size / 2**20, 1), **rows}


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
    from playwright.async_api import Error

    result: dict = {"settle_s": None, "wall_s": None, "error": None}
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
        if "did not settle" in message:
            message = f"did not settle within {timeout_s:g} s"
        result["error"] = message
    finally:
        with contextlib.suppress(Error):
            await page.close()
    return result


async def session(n, browser, base, paths, args, deadline, visits, inflight) -> None:
    """One reader: its own context, the page mix in its own order, `args.rounds` times."""
    context = await browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        await prepare_context(context, base)
        rng = random.Random(SEED * 1000 + n)
        for round_ in range(1, args.rounds + 1):
            order = list(paths)
            rng.shuffle(order)
            for name in order:
                if time.monotonic() >= deadline:
                    return
                inflight[n] = (round_, name)
                result = await visit(context, page_url(base, paths[name]), args.timeout)
                inflight.pop(n, None)
                visits.append({"session": n, "round": round_, "page": name, **result})
                if result["error"]:
                    log(f"session {n} round {round_} {name}: FAILED {result['error']}")
    finally:
        await context.close()


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default)."""
    if not values:
        return None
    s = sorted(values)
    at = (len(s) - 1) * q
    low = int(at)
    high = min(low + 1, len(s) - 1)
    return round(s[low] + (s[high] - s[low]) * (at - low), 2)


def summary(visits: list[dict]) -> dict:
    times = [v["settle_s"] for v in visits if v["settle_s"] is not None]
    return {"visits": len(visits), "ok": len(times), "failures": len(visits) - len(times),
            "p50_s": percentile(times, 0.5), "p95_s": percentile(times, 0.95),
            "max_s": round(max(times), 2) if times else None}  # fmt: skip


def server_notes(log_path: Path) -> list[str]:
    """Lines of the server's log worth a look: tracebacks, errors, locks, files in use."""
    keys = ("traceback", "error", "exception", "lock", "in use", "busy")
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    return [line[:200] for line in lines if any(k in line.lower() for k in keys)]


def _cell(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def table(result: dict) -> str:
    lines = ["| page | visits | failures | p50 s | p95 s | max s | warm-up s |",
             "|---|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    rows = [*result["pages"].items(), ("**all pages**", result["overall"])]
    for name, row in rows:
        warm = result["warmup"].get(name, {}).get("settle_s")
        lines.append(f"| {name} | {row['visits']} | {row['failures']} | {_cell(row['p50_s'])} | "
                     f"{_cell(row['p95_s'])} | {_cell(row['max_s'])} | {_cell(warm)} |")  # fmt: skip
    return "\n".join(lines)


def _wrap(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=100, break_on_hyphens=False)


def markdown(result: dict) -> str:
    m, s, o, cpu = result["machine"], result["store"], result["overall"], result["cpu_s"]
    load_before = " / ".join(f"{x:.2f}" for x in result["load_average_before"])
    load_after = " / ".join(f"{x:.2f}" for x in result["load_average_after"])
    failures = [v for v in result["visits"] if v["error"]]
    cut = result["cut_off"]
    capped = "reached" if result["capped"] else "not reached"
    cut_text = f", {len(cut)} cut off by the cap and not counted" if cut else ""
    intro = f"""`make bench-load` (`python -m benchmarks.load`), run {result["measured_at"]}
        (commit {result["commit"]}): {result["sessions"]} readers at once, {result["rounds"]}
        rounds of {len(result["pages"])} pages each, on the {result["store_label"]} store
        ({s["invoices"]:,} invoices, {s["payments"]:,} payments, {s["customers"]:,} customers;
        {s["file_mb"]:,} MB). Wall time {result["wall_s"]:.0f} s (cap {result["max_minutes"]:g}
        min, {capped}); {o["visits"]} timed visits, {o["failures"]} failed{cut_text}."""
    legend = """Seconds from navigation start to the page having settled, over the timed visits
        that settled without a problem. Warm-up: the one visit per page by a single reader before
        the timed rounds."""
    method = f"""One Streamlit server (`streamlit run dashboard.py`) serves the store on 127.0.0.1,
        and one headless Chromium holds {result["sessions"]} browser contexts, one per reader,
        all running at the same time. Each reader visits the pages above in its own shuffled
        order (seed {SEED}) in every round; each visit opens a new tab, so it is a new Streamlit
        session, while the context keeps the browser's cache of the app's JavaScript. A visit
        counts from the browser's navigation start until the page has settled, as
        `benchmarks/pages.py` defines it: the script has stopped running, nothing is stale or
        still loading, the title is shown, every visible chart has drawn and every visible table
        has its canvas, and all of that has held for {STABLE_MS} ms. A visit that has not settled
        after {result["timeout_s"]:g} s, or that shows an exception, an error box, a traceback or
        NaN/None text, is a failure. Before the timed rounds one reader visits each page once, so
        the timed visits find whatever the server caches already computed; the first-ever
        computation of a page is measured separately, as "cold", by `make bench-pages`
        (benchmarks/pages.json). The server, the browser and this script share one machine
        ({m["cores"]} cores, {m["cpu"]}, {m["memory_gb"]} GB), which is shared with other work
        that is not controlled: load average (1/5/15 min) {load_before} before the run and
        {load_after} after it. Of the {cpu["machine_busy"]:,.0f} CPU-seconds the machine was busy
        during the run, the Streamlit server used {cpu["server"]:,.0f}; the rest went to the
        browser drawing the pages and to whatever else ran on the machine. The figures are from a single run and give the order of
        magnitude, not a precise capacity."""
    text = "# Page settle times under load\n\n" + _wrap(intro) + "\n\n" + table(result)
    text += "\n\n" + _wrap(legend) + "\n\n## Method\n\n" + _wrap(method) + "\n"
    if failures:
        text += "\n## Failures\n\n" + "\n".join(
            f"- session {v['session']} round {v['round']} {v['page']}: {v['error']}"
            for v in failures
        ) + "\n"  # fmt: skip
    if cut:
        text += "\n" + _wrap("Cut off by the cap: " + ", ".join(
            f"session {c['session']} {c['page']}" for c in cut) + ".") + "\n"  # fmt: skip
    return text


def cpu_seconds(pid: int) -> dict:
    """CPU-seconds so far of process `pid` (with its reaped children) and of the whole machine
    (busy time, all cores)."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    server = sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
    total = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    busy = (sum(total[:8]) - total[3] - total[4]) / tick  # all but idle and iowait
    return {"server": server, "machine_busy": busy}


async def drive(args, base: str, paths: dict[str, str], started: float) -> dict:
    from playwright.async_api import async_playwright

    deadline = started + args.max_minutes * 60
    visits: list[dict] = []
    inflight: dict[int, tuple[int, str]] = {}
    warmup: dict[str, dict] = {}
    capped = False
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        try:
            context = await browser.new_context(viewport={"width": 1400, "height": 1000})
            await prepare_context(context, base)
            for name, path in paths.items():
                if time.monotonic() >= deadline:
                    capped = True
                    break
                warmup[name] = await visit(context, page_url(base, path), args.timeout)
                w = warmup[name]
                log(f"warm-up {name}: " + (f"{w['settle_s']:.2f} s" if w["settle_s"] is not None
                                           else f"FAILED {w['error']}"))  # fmt: skip
            await context.close()
            log(f"{args.sessions} sessions x {args.rounds} rounds x {len(paths)} pages")
            tasks = [asyncio.create_task(session(n, browser, base, paths, args, deadline,
                                                 visits, inflight))
                     for n in range(1, args.sessions + 1)]  # fmt: skip
            remaining = max(deadline - time.monotonic(), 0)
            done, pending = await asyncio.wait(tasks, timeout=remaining + args.timeout + 30)
            if pending or time.monotonic() >= deadline:
                capped = True
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
            for task in done:
                if task.exception() is not None:
                    log(f"a session stopped: {task.exception()!r}")
        finally:
            await browser.close()
    cut = [{"session": n, "round": r, "page": name} for n, (r, name) in sorted(inflight.items())]
    return {"visits": visits, "warmup": warmup, "capped": capped, "cut_off": cut}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if not Path(CHROMIUM).exists():
        print(f"No Chromium at {CHROMIUM}: sudo apt-get install chromium", file=sys.stderr)
        return 2
    paths = page_paths(args.pages)
    label, db = get_store(args)
    size = store_size(db)
    log(f"store {label}: {db} ({size['invoices']:,} invoices, {size['file_mb']} MB)")
    OUT.mkdir(parents=True, exist_ok=True)
    server_log = OUT / f"server-{label}.log"
    load_before = os.getloadavg()
    started = time.monotonic()
    base, process = start_app(db, server_log)
    log(f"server at {base}")
    cpu_before = cpu_seconds(process.pid)
    try:
        run = asyncio.run(drive(args, base, paths, started))
        cpu_after = cpu_seconds(process.pid)
    finally:
        stop_app(process)
    cpu = {k: round(cpu_after[k] - cpu_before[k], 1) for k in cpu_before}
    wall = time.monotonic() - started
    load_after = os.getloadavg()

    visits = run["visits"]
    result = {
        "measured_at": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "commit": _commit(),
        "machine": machine(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in load_after],
        "store_label": label,
        "store": size,
        "sessions": args.sessions,
        "rounds": args.rounds,
        "timeout_s": args.timeout,
        "max_minutes": args.max_minutes,
        "wall_s": round(wall, 1),
        "cpu_s": cpu,
        "capped": run["capped"],
        "cut_off": run["cut_off"],
        "warmup": run["warmup"],
        "pages": {n: summary([v for v in visits if v["page"] == n]) for n in paths},
        "overall": summary(visits),
        "server_log_notes": server_notes(server_log)[:50],
        "visits": visits,
    }
    json_path, md_path = (
        (OUT / "load-quick.json", OUT / "LOAD-quick.md") if args.quick else (RESULTS, REPORT)
    )
    json_path.write_text(json.dumps(result, indent=2) + "\n")
    md_path.write_text(markdown(result))
    print()
    print(table(result))
    o = result["overall"]
    print(f"\n{args.sessions} sessions, {args.rounds} rounds, {o['visits']} visits, "
          f"{o['failures']} failed, {len(run['cut_off'])} cut off; wall {wall:.0f} s"
          f"{' (capped)' if run['capped'] else ''}; load average {load_before[0]:.2f} -> "
          f"{load_after[0]:.2f}")  # fmt: skip
    print(f"CPU-seconds: server {cpu['server']:,.0f} of {cpu['machine_busy']:,.0f} machine busy")
    for line in result["server_log_notes"][:10]:
        print(f"server log: {line}", file=sys.stderr)
    print(f"Results: {json_path.relative_to(ROOT)}, {md_path.relative_to(ROOT)}")
    return 1 if o["failures"] or not o["ok"] else 0


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                             capture_output=True, text=True, timeout=10)  # fmt: skip
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


if __name__ == "__main__":
    sys.exit(main())
