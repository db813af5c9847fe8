"""`python -m benchmarks.load` (`make bench-load`): page settle times with many readers at once.

One `streamlit run dashboard.py` over the 1M-invoice benchmark store (benchmarks/data/1m, made or
reused by `make bench`'s own preparation step, which also upgrades it to the code's schema) on
127.0.0.1, and SESSIONS readers at once. Every reader visits the same mix of pages, each in its own
seeded shuffled order, for ROUNDS rounds; every visit is a new Streamlit session, as a new browser
tab is. Two clients can play the readers:

- `--client protocol` (the default) speaks Streamlit's own websocket protocol, with no browser. A
  visit opens /_stcore/stream, sends the `rerun_script` BackMsg a browser sends first (the page's
  URL path as page_name) and reads the server's ForwardMsgs until the page has settled: the last
  script run finished successfully and no new run (an `st.switch_page`, say) started within
  QUIET_MS. This measures the server: what it computes and sends, and nothing of the drawing.
- `--client chromium` drives headless Chromium (Debian's, through Playwright's async API), one
  browser context per reader and a new tab per visit, and waits until the page has settled as
  `benchmarks/pages.py` defines it (SETTLED_JS held for STABLE_MS). On a small machine this
  measures the tabs drawing the pages in software more than the server.

A visit that does not settle within --timeout, or that shows an exception, an error box, no title,
a traceback or NaN/None text, is a failure and is listed.

Before the timed rounds each page is visited once by a single reader, so that the figures are
for pages whose results the server may already have cached; the first-ever computation is what
`make bench-pages` measures as "cold". No visit starts after --max-minutes (counted from the
server's start); those under way finish or time out, and the run reports the visits it has.

`--compare-settings` (protocol client) measures, in one command, --pairs pairs of servers one after
the other on the same store: first with Streamlit's own defaults for what the repo's
.streamlit/config.toml changes (`--server.fileWatcherType auto --runner.postScriptGC true` on the
command line, which wins over the file), then with the repo's settings (no flags). It reports each
setting's p50/p95 per page and overall, the ratio defaults / repo, the server's CPU-seconds and its
peak RSS (VmHWM), and checks the settings each server got as Streamlit loads them.

benchmarks/load.json keeps the latest run of each client (and the latest comparison, under
"settings"), and benchmarks/LOAD.md reports them.
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
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# The readers (protocol and Chromium) are in load_clients; the figures, LOAD.md and --from-saved
# in load_report.
from benchmarks.load_clients import CLIENTS, SEED  # noqa: E402
from benchmarks.load_report import (  # noqa: E402
    SETTING_TITLES,
    SETTINGS,
    comparison_table,
    from_saved,
    load_results,
    markdown,
    pooled,
    ratios,
    runs_table,
    summary,
    table,
)
from benchmarks.pages import CHROMIUM, build_sample, machine, start_app, stop_app  # noqa: E402

HERE = ROOT / "benchmarks"
OUT = HERE / "data" / "load"
RESULTS = HERE / "load.json"
REPORT = HERE / "LOAD.md"
MILLION = HERE / "data" / "1m" / "arlens.duckdb"
MIX = ("overview", "aging", "worklist", "credit", "dso", "statements", "data")
CLIENT_NAMES = ("protocol", "chromium")
CHECKED_OPTIONS = ("server.fileWatcherType", "runner.postScriptGC")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.load",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--client", choices=CLIENT_NAMES, default="protocol",
                        help="protocol: Streamlit's websocket protocol, no browser (default); "
                             "chromium: headless Chromium tabs")  # fmt: skip
    parser.add_argument("--sessions", type=int, help="concurrent readers (default 20; 5 --quick)")
    parser.add_argument("--rounds", type=int, default=2, help="visits of each page per reader")
    parser.add_argument("--store", type=Path, help="an existing store instead of the 1M one")
    parser.add_argument("--quick", action="store_true", help="the sample store, 5 readers")
    parser.add_argument("--pages", default=",".join(MIX), help="comma-separated page names")
    parser.add_argument("--timeout", type=float, default=120, help="seconds a visit may take")
    parser.add_argument("--max-minutes", type=float, default=15, help="cap on the whole run")
    parser.add_argument(
        "--compare-settings",
        action="store_true",
        help="protocol client: the server with Streamlit's defaults (file watcher, post-script "
        "GC) then with the repo's .streamlit/config.toml, back to back, --pairs times",
    )
    parser.add_argument("--pairs", type=int, default=2, help="--compare-settings: pairs to run")
    parser.add_argument(
        "--from-saved",
        action="store_true",
        help="measure nothing: rewrite LOAD.md from load.json's runs",
    )
    args = parser.parse_args(argv)
    if args.sessions is None:
        args.sessions = 5 if args.quick else 20
    args.pages = [p.strip() for p in args.pages.split(",") if p.strip()]
    if args.sessions < 1 or args.rounds < 1 or args.pairs < 1:
        parser.error("--sessions, --rounds and --pairs are at least 1")
    if args.compare_settings and args.client != "protocol":
        parser.error("--compare-settings measures the server: --client protocol only")
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
    shown = db.relative_to(ROOT) if db.is_relative_to(ROOT) else db
    return {"path": str(shown), "file_mb": round(db.stat().st_size / 2**20, 1), **rows}


async def session(n, reader, paths, args, started, deadline, visits, inflight) -> None:
    """One reader: the page mix in its own order, `args.rounds` times. Each visit's record
    notes when it began (started_s, seconds since the server was started)."""
    async with reader() as go:
        rng = random.Random(SEED * 1000 + n)
        for round_ in range(1, args.rounds + 1):
            order = list(paths)
            rng.shuffle(order)
            for name in order:
                if time.monotonic() >= deadline:
                    return
                inflight[n] = (round_, name)
                begun = round(time.monotonic() - started, 3)
                result = await go(paths[name])
                inflight.pop(n, None)
                visits.append({"session": n, "round": round_, "page": name,
                               "started_s": begun, **result})  # fmt: skip
                if result["error"]:
                    log(f"session {n} round {round_} {name}: FAILED {result['error']}")


def server_notes(log_path: Path) -> list[str]:
    """Lines of the server's log worth a look: tracebacks, errors, locks, files in use."""
    keys = ("traceback", "error", "exception", "lock", "in use", "busy")
    lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
    return [line[:200] for line in lines if any(k in line.lower() for k in keys)]


def cpu_seconds(pid: int) -> dict:
    """CPU-seconds so far of process `pid` (with its reaped children) and of the whole machine
    (busy time, all cores)."""
    tick = os.sysconf("SC_CLK_TCK")
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    server = sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
    total = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    busy = (sum(total[:8]) - total[3] - total[4]) / tick  # all but idle and iowait
    return {"server": server, "machine_busy": busy}


async def drive(args, base: str, paths: dict[str, str], started: float, mark=None) -> dict:
    """The warm-up, then the timed rounds (`mark()` called in between)."""
    deadline = started + args.max_minutes * 60
    visits: list[dict] = []
    inflight: dict[int, tuple[int, str]] = {}
    warmup: dict[str, dict] = {}
    capped = False
    async with CLIENTS[args.client](base, args.timeout) as reader:
        async with reader() as go:
            for name, path in paths.items():
                if time.monotonic() >= deadline:
                    capped = True
                    break
                warmup[name] = w = await go(path)
                log(f"warm-up {name}: " + (f"{w['settle_s']:.2f} s" if w["settle_s"] is not None
                                           else f"FAILED {w['error']}"))  # fmt: skip
        if mark:
            mark()
        log(f"{args.client}: {args.sessions} sessions x {args.rounds} rounds x {len(paths)} pages")
        tasks = [asyncio.create_task(session(n, reader, paths, args, started, deadline, visits,
                                             inflight))
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
    cut = [{"session": n, "round": r, "page": name} for n, (r, name) in sorted(inflight.items())]
    return {"visits": visits, "warmup": warmup, "capped": capped, "cut_off": cut}


def server_flags(options: dict) -> list[str]:
    """Streamlit config options as `streamlit run` flags."""
    flags = []
    for name, value in options.items():
        flags += [f"--{name}", str(value).lower() if isinstance(value, bool) else str(value)]
    return flags


CONFIG_CHECK = """
import json, sys
from streamlit import config
from streamlit.web import bootstrap
flags, names = json.loads(sys.argv[1]), json.loads(sys.argv[2])
bootstrap.load_config_options({k.replace(".", "_"): v for k, v in flags.items()})
print(json.dumps({n: [config.get_option(n), config.get_where_defined(n)] for n in names}))
"""


def effective_config(options: dict) -> dict:
    """The values of CHECKED_OPTIONS as Streamlit's `streamlit run` loads them (config files, then
    environment and flags) in the server's working directory and environment with `options` as
    flags: {option: {"value", "set_in"}}. (runner.postScriptGC is a hidden option, which
    `streamlit config show` leaves out.)"""
    out = subprocess.run(
        [sys.executable, "-c", CONFIG_CHECK, json.dumps(options), json.dumps(CHECKED_OPTIONS)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    found = json.loads(out.stdout.strip().splitlines()[-1])
    return {name: {"value": value, "set_in": str(where).replace(str(ROOT) + "/", "")}
            for name, (value, where) in found.items()}  # fmt: skip


def server_memory(pid: int) -> dict:
    """The process's peak resident set (VmHWM) and current one (VmRSS), in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text()
                  .splitlines() if ":" in line)  # fmt: skip
    kb = lambda key: int(fields[key].split()[0])  # noqa: E731
    return {"peak_rss_mb": round(kb("VmHWM") / 1024, 1), "rss_mb": round(kb("VmRSS") / 1024, 1)}


def inotify_instances(pid: int) -> int:
    """How many inotify instances the process holds open: watchdog's file watcher holds one, so
    a server whose file watcher is off has none (unless something else uses inotify)."""
    count = 0
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            count += os.readlink(fd) == "anon_inode:inotify"
    return count


def measure(args, paths: dict[str, str], label: str, db: Path, size: dict,
            settings: str | None = None) -> dict:  # fmt: skip
    """One server, warm-up and timed rounds: the run's record. `settings`: a key of SETTINGS
    (--compare-settings), or None for the server as `make run` would start it."""
    options = SETTINGS[settings] if settings else {}
    config = effective_config(options) if args.client == "protocol" else None
    server_log = OUT / f"server-{label}{'-' + settings if settings else ''}.log"
    load_before = os.getloadavg()
    started = time.monotonic()
    base, process = start_app(db, server_log, server_flags(options))
    log(f"server at {base}" + (f" ({SETTING_TITLES[settings]})" if settings else ""))
    cpu_before = {**cpu_seconds(process.pid), "client": sum(os.times()[:2])}
    try:
        timed: dict = {}
        mark = lambda: timed.update(cpu_seconds(process.pid))  # noqa: E731
        run = asyncio.run(drive(args, base, paths, started, mark))
        cpu_after = {**cpu_seconds(process.pid), "client": sum(os.times()[:2])}
        memory = server_memory(process.pid)
        inotify = inotify_instances(process.pid)
    finally:
        stop_app(process)
    cpu = {k: round(cpu_after[k] - cpu_before[k], 1) for k in cpu_before}
    if args.client == "chromium":  # this script's share only; the browser's is not counted
        del cpu["client"]
    if timed:  # the server's CPU-seconds in the timed rounds alone
        cpu["server_timed"] = round(cpu_after["server"] - timed["server"], 1)
    wall = time.monotonic() - started
    load_after = os.getloadavg()
    visits = run["visits"]
    result = {
        "client": args.client,
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
        "server_settings": settings,
        "server_flags": server_flags(options),
        "effective_config": config,
        "server_memory": memory,
        "server_inotify_instances": inotify,
        "capped": run["capped"],
        "cut_off": run["cut_off"],
        "warmup": run["warmup"],
        "pages": {n: summary([v for v in visits if v["page"] == n]) for n in paths},
        "overall": summary(visits),
        "server_log_notes": server_notes(server_log)[:50],
        "visits": visits,
    }
    o = result["overall"]
    print()
    print(table(result))
    print(f"\n{args.client}: {args.sessions} sessions, {args.rounds} rounds, {o['visits']} visits, "
          f"{o['failures']} failed, {len(run['cut_off'])} cut off; wall {wall:.0f} s"
          f"{' (capped)' if run['capped'] else ''}; load average {load_before[0]:.2f} -> "
          f"{load_after[0]:.2f}")  # fmt: skip
    client = f", this script {cpu['client']:,.0f}" if "client" in cpu else ""
    print(f"CPU-seconds: server {cpu['server']:,.0f}{client}, of {cpu['machine_busy']:,.0f} "
          f"machine busy; server peak RSS {memory['peak_rss_mb']:,.0f} MB")  # fmt: skip
    if config:
        print("server settings: " + ", ".join(f"{n} = {c['value']!r} ({c['set_in']})"
                                              for n, c in config.items()))  # fmt: skip
    for line in result["server_log_notes"][:10]:
        print(f"server log: {line}", file=sys.stderr)
    return result


def compare(args, paths: dict[str, str], label: str, db: Path, size: dict) -> dict:
    """--compare-settings: --pairs pairs of servers, each pair Streamlit's defaults then the
    repo's settings, one after the other on the same store."""
    measured_at = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    load_before = os.getloadavg()
    started = time.monotonic()
    runs = []
    for pair in range(1, args.pairs + 1):
        for name in SETTINGS:
            log(f"pair {pair} of {args.pairs}: {SETTING_TITLES[name]}")
            runs.append({"pair": pair, **measure(args, paths, label, db, size, name)})
    pool = pooled(runs, list(paths))
    return {
        "client": "protocol",
        "measured_at": measured_at,
        "commit": _commit(),
        "machine": machine(),
        "load_average_before": [round(x, 2) for x in load_before],
        "load_average_after": [round(x, 2) for x in os.getloadavg()],
        "wall_s": round(time.monotonic() - started, 1),
        "store_label": label,
        "store": size,
        "sessions": args.sessions,
        "rounds": args.rounds,
        "pairs": args.pairs,
        "pages": list(paths),
        "settings": {
            n: {"title": SETTING_TITLES[n], "flags": server_flags(o)} for n, o in SETTINGS.items()
        },  # fmt: skip
        "pooled": pool,
        "ratios": ratios(pool),
        "runs": runs,
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    outputs = (OUT / "load-quick.json", OUT / "LOAD-quick.md") if args.quick else (RESULTS, REPORT)
    if args.from_saved:
        return from_saved(*outputs)
    if args.client == "chromium" and not Path(CHROMIUM).exists():
        print(f"No Chromium at {CHROMIUM}: sudo apt-get install chromium", file=sys.stderr)
        return 2
    paths = page_paths(args.pages)
    label, db = get_store(args)
    size = store_size(db)
    log(f"store {label}: {db} ({size['invoices']:,} invoices, {size['file_mb']} MB)")
    OUT.mkdir(parents=True, exist_ok=True)
    json_path, md_path = outputs
    if args.compare_settings:
        comparison = compare(args, paths, label, db, size)
        # the protocol section shows the comparison's last run with the repo's settings in full
        last = next(r for r in reversed(comparison["runs"]) if r["server_settings"] == "repo")
        new = {"settings": comparison, "protocol": {k: v for k, v in last.items() if k != "pair"}}
        visits = [v for r in comparison["runs"] for v in r["visits"]]
        print("\n" + comparison_table(comparison) + "\n\n" + runs_table(comparison))
        print(f"\nwall {comparison['wall_s']:.0f} s; load average "
              f"{comparison['load_average_before'][0]:.2f} -> "
              f"{comparison['load_average_after'][0]:.2f}")  # fmt: skip
    else:
        result = measure(args, paths, label, db, size)
        new, visits = {args.client: result}, result["visits"]
    results = load_results(json_path) | new
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    md_path.write_text(markdown(results))
    print(f"Results: {json_path.relative_to(ROOT)}, {md_path.relative_to(ROOT)}")
    failed = [v for v in visits if v["error"]]
    return 1 if failed or not any(v["settle_s"] is not None for v in visits) else 0


def _commit() -> str | None:
    try:
        out = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=ROOT,
                             capture_output=True, text=True, timeout=10)  # fmt: skip
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


if __name__ == "__main__":
    sys.exit(main())
