"""The figures and the report of `python -m benchmarks.load`: percentiles of the visits, the
tables, LOAD.md's sections (a run's method in the words of its client, the settings comparison),
and `--from-saved`, which recomputes the summaries from load.json's recorded visits and writes
LOAD.md again.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from benchmarks.load_clients import QUIET_MS, SEED
from benchmarks.pages import STABLE_MS

INF = float("inf")
# --compare-settings: the server's settings compared, in this order within a pair. "defaults" puts
# back Streamlit's own defaults for what the repo's .streamlit/config.toml changes, on the command
# line (which overrides the file); "repo" passes nothing, so the server reads the file.
SETTINGS = {"defaults": {"server.fileWatcherType": "auto", "runner.postScriptGC": True},
            "repo": {}}  # fmt: skip
SETTING_TITLES = {"defaults": "Streamlit's defaults", "repo": "the repo's settings"}


def percentile(values: list[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (numpy's default); infinite (a visit that
    timed out) when it falls on or next to an infinite value."""
    if not values:
        return None
    s = sorted(values)
    at = (len(s) - 1) * q
    low = int(at)
    high = min(low + 1, len(s) - 1)
    if s[low] == INF or (s[high] == INF and at > low):
        return INF
    return round(s[low] + (s[high] - s[low]) * (at - low), 2)


def summary(visits: list[dict]) -> dict:
    """Percentiles of the visits that settled without a problem (p50_s, p95_s, max_s), and of
    those together with the ones that timed out, counted as slower than any (p50_all_s,
    p95_all_s; null when the percentile falls among the timed-out visits)."""
    times = [v["settle_s"] for v in visits if v["settle_s"] is not None]
    with_timeouts = times + [INF for v in visits if v.get("timed_out")]
    finite = lambda x: None if x == INF else x  # noqa: E731
    return {"visits": len(visits), "ok": len(times), "failures": len(visits) - len(times),
            "timed_out": sum(1 for v in visits if v.get("timed_out")),
            "p50_s": percentile(times, 0.5), "p95_s": percentile(times, 0.95),
            "max_s": round(max(times), 2) if times else None,
            "p50_all_s": finite(percentile(with_timeouts, 0.5)),
            "p95_all_s": finite(percentile(with_timeouts, 0.95))}  # fmt: skip


def _cell(value) -> str:
    return "–" if value is None else f"{value:.2f}"


def table(result: dict) -> str:
    over = f"> {result['timeout_s']:g}"
    lines = ["| page | visits | failed | of which timed out | p50 s | p95 s | max s "
             "| p50 s, timeouts in | p95 s, timeouts in | warm-up s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    rows = [*result["pages"].items(), ("**all pages**", result["overall"])]
    for name, row in rows:
        warm = result["warmup"].get(name, {}).get("settle_s")
        cells = [name, row["visits"], row["failures"], row["timed_out"], _cell(row["p50_s"]),
                 _cell(row["p95_s"]), _cell(row["max_s"])]  # fmt: skip
        for key in ("p50_all_s", "p95_all_s"):
            value = row[key]
            cells.append(over if value is None and row["timed_out"] else _cell(value))
        cells.append(_cell(warm))
        lines.append("| " + " | ".join(str(c) for c in cells) + " |")
    return "\n".join(lines)


def _wrap(text: str) -> str:
    return textwrap.fill(" ".join(text.split()), width=100, break_on_hyphens=False)


def _share(part: float, whole: float) -> str:
    return f"{100 * part / whole:.0f}%" if whole else "–"


def _method(result: dict) -> str:
    """How the run was made, in the words that fit its client."""
    m, cpu, n, timeout = result["machine"], result["cpu_s"], result["sessions"], result["timeout_s"]
    load_before = " / ".join(f"{x:.2f}" for x in result["load_average_before"])
    load_after = " / ".join(f"{x:.2f}" for x in result["load_average_after"])
    had = m["cores"] * result["wall_s"]
    warm = """Before the timed rounds one reader visits each page once, so the timed visits find
        whatever the server caches already computed; the first-ever computation of a page is
        measured separately, as "cold", by `make bench-pages` (benchmarks/pages.json)."""
    machine_ = f"""({m["cores"]} cores, {m["cpu"]}, {m["memory_gb"]} GB), which is shared with
        other work that is not controlled: load average (1/5/15 min) {load_before} before the run
        and {load_after} after it. The machine was busy for {cpu["machine_busy"]:,.0f}
        CPU-seconds of the {had:,.0f} it had during the run ({m["cores"]} cores times the wall
        time)"""
    single = (
        "The figures are from a single run and give the order of magnitude, not a precise capacity."
    )
    if result.get("client", "chromium") == "protocol":
        return f"""One Streamlit server (`streamlit run dashboard.py`, started as `make
            bench-pages` starts it; no sign-in is configured) serves the store on 127.0.0.1.
            This script plays the {n} readers itself, without a browser, all at the same time;
            each reader visits the pages above in its own shuffled order (seed {SEED}) in every
            round. A visit opens a websocket to the server's `/_stcore/stream`, as a new browser
            tab does, so it is a new Streamlit session; sends what a tab sends first, a
            `rerun_script` request naming the page by its URL path (no query string, no widget
            values, nothing cached); and reads the protobuf messages the server sends back. The
            overview is opened at the app's root, as the browser run did, so each of its visits
            is two script runs: the root's, which switches to the overview, then the
            overview's. The page has settled when a script run has finished successfully and no
            new run has begun within {QUIET_MS} ms. A visit counts from opening the websocket to
            the end of that last run: everything the server computes and sends for the page,
            and none of what a browser would then do with it (no JavaScript, no drawing of
            charts and tables). A visit fails when it has not settled after {timeout:g} s, when
            the server reports a page not found or a script that does not compile, or when the
            elements of its last run include an exception, an error box, no title, or a
            traceback or NaN/None in the text a reader reads (headings, markdown, metrics,
            alerts, labels; not table cells or chart data). {warm} The server and this script
            share one machine {machine_}; of those, the Streamlit server used
            {cpu["server"]:,.0f} ({_share(cpu["server"], cpu["machine_busy"])}; on average
            {cpu["server"] / result["wall_s"]:.2f} of the {m["cores"]} cores), this script,
            reading every reader's messages, {cpu.get("client", 0):,.0f}, and the rest went to
            whatever else ran on the machine. {single}"""
    text = f"""One Streamlit server (`streamlit run dashboard.py`) serves the store on 127.0.0.1,
        and one headless Chromium holds {n} browser contexts, one per reader, all running at the
        same time. Each reader visits the pages above in its own shuffled order (seed {SEED}) in
        every round; each visit opens a new tab, so it is a new Streamlit session, while the
        context keeps the browser's cache of the app's JavaScript. A visit counts from the
        browser's navigation start until the page has settled, as `benchmarks/pages.py` defines
        it: the script has stopped running, nothing is stale or still loading, the title is
        shown, every visible chart has drawn and every visible table has its canvas, and all of
        that has held for {STABLE_MS} ms. A visit that has not settled after {timeout:g} s, or
        that shows an exception, an error box, a traceback or NaN/None text, is a failure.
        {warm} The server, the browser and this script share one machine {machine_}; of those,
        the Streamlit server used {cpu["server"]:,.0f}
        ({_share(cpu["server"], cpu["machine_busy"])}), and the rest went to the browser drawing
        the pages and to whatever else ran on the machine. {single}"""
    return text


def section(result: dict) -> str:
    """One run's part of LOAD.md: what was run, the table, the legend, the method, failures."""
    s, o = result["store"], result["overall"]
    failures = [v for v in result["visits"] if v["error"]]
    cut = result["cut_off"]
    capped = "was reached" if result["capped"] else "was not reached"
    cut_text = f", {len(cut)} cut off by the cap and not counted" if cut else ""
    protocol = result.get("client", "chromium") == "protocol"
    command = "python -m benchmarks.load" + ("" if protocol else " --client chromium")
    what = f"`{command}`"
    if result.get("server_settings"):
        what = f"""The last server with {SETTING_TITLES[result["server_settings"]]} in `{command}
            --compare-settings` (the comparison above)"""
    intro = f"""{what}, run {result["measured_at"]} (commit {result["commit"]}):
        {result["sessions"]} readers at once, {result["rounds"]} rounds of
        {len(result["pages"])} pages each, on the {result["store_label"]} store
        ({s["invoices"]:,} invoices, {s["payments"]:,} payments, {s["customers"]:,} customers;
        {s["file_mb"]:,} MB). Wall time {result["wall_s"]:.0f} s; the cap, no new visit after
        {result["max_minutes"]:g} min, {capped}. {o["visits"]} timed visits, {o["failures"]}
        failed{cut_text}."""
    start = "Seconds from navigation start to the page having settled"
    if protocol:
        start = "Seconds from opening the websocket to the end of the page's last script run"
    legend = f"""{start}. p50, p95 and max are over the timed visits that settled without a
        problem; "timeouts in" counts the visits that had not settled after
        {result["timeout_s"]:g} s as slower than any other ("> {result["timeout_s"]:g}": the
        percentile falls among them). Warm-up: the one visit per page by a single reader before
        the timed rounds."""
    text = _wrap(intro) + "\n\n" + table(result) + "\n\n" + _wrap(legend) + "\n"
    text += "\n### Method\n\n" + _wrap(_method(result)) + "\n"
    if failures:
        timed_out = [v for v in failures if v.get("timed_out")]
        lines = [f"- session {v['session']} round {v['round']} {v['page']}: {v['error']}"
                 for v in failures if not v.get("timed_out")]  # fmt: skip
        if timed_out:
            by_page = ", ".join(f"{n} {row['timed_out']}" for n, row in result["pages"].items()
                                if row["timed_out"])  # fmt: skip
            lines.insert(0, f"- {len(timed_out)} visits did not settle within "
                            f"{result['timeout_s']:g} s ({by_page}); every one is listed in "
                            "load.json's `visits`.")  # fmt: skip
        text += "\n### Failures\n\n" + "\n".join(lines) + "\n"
    if cut:
        text += "\n" + _wrap("Cut off by the cap: " + ", ".join(
            f"session {c['session']} {c['page']}" for c in cut) + ".") + "\n"  # fmt: skip
    return text


def _num(value, digits: int = 2) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def comparison_table(c: dict) -> str:
    """Per page and overall, the p50 and p95 of each setting's visits (all pairs pooled) and the
    ratio defaults ÷ repo."""
    d, r, q = c["pooled"]["defaults"], c["pooled"]["repo"], c["ratios"]
    lines = ["| page | defaults p50 s | repo p50 s | p50 ratio | defaults p95 s | repo p95 s "
             "| p95 ratio | visits (failed), defaults | visits (failed), repo |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]  # fmt: skip
    rows = [(n, d["pages"][n], r["pages"][n], q[n]) for n in c["pages"]]
    rows.append(("**all pages**", d["overall"], r["overall"], q["all pages"]))
    for name, a, b, ratio in rows:
        cells = [name, _num(a["p50_s"]), _num(b["p50_s"]), _num(ratio["p50"]), _num(a["p95_s"]),
                 _num(b["p95_s"]), _num(ratio["p95"]), f"{a['visits']} ({a['failures']})",
                 f"{b['visits']} ({b['failures']})"]  # fmt: skip
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def runs_table(c: dict) -> str:
    """One row per server run in the order run, and each pair's ratios defaults ÷ repo."""
    lines = ["| run | settings | visits (failed) | p50 s | p95 s | server CPU s | of which "
             "timed rounds | CPU s per timed visit | peak RSS MB | wall s "
             "| load average before → after |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]  # fmt: skip
    for pair in range(1, c["pairs"] + 1):
        mine = {r["server_settings"]: r for r in c["runs"] if r["pair"] == pair}
        for name, r in mine.items():
            o, cpu, timed = r["overall"], r["cpu_s"]["server"], _timed_cpu(r)
            cells = [f"{pair}{'ab'[list(SETTINGS).index(name)]}", name,
                     f"{o['visits']} ({o['failures']})", _num(o["p50_s"]), _num(o["p95_s"]),
                     _num(cpu, 0), _num(timed, 0), _num(timed / o["visits"] if o["visits"] else None),
                     _num(r["server_memory"]["peak_rss_mb"], 0), _num(r["wall_s"], 0),
                     f"{r['load_average_before'][0]:.1f} → {r['load_average_after'][0]:.1f}"]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
        if len(mine) == 2:
            a, b = mine["defaults"], mine["repo"]
            per = lambda r: _timed_cpu(r) / max(r["overall"]["visits"], 1)  # noqa: E731
            rss = b["server_memory"]["peak_rss_mb"] - a["server_memory"]["peak_rss_mb"]
            cells = [f"{pair}", "ratio defaults ÷ repo", "",
                     _num(_ratio(a["overall"]["p50_s"], b["overall"]["p50_s"])),
                     _num(_ratio(a["overall"]["p95_s"], b["overall"]["p95_s"])),
                     _num(_ratio(a["cpu_s"]["server"], b["cpu_s"]["server"])),
                     _num(_ratio(_timed_cpu(a), _timed_cpu(b))),
                     _num(_ratio(per(a), per(b))), f"repo {rss:+,.0f} MB", "", ""]  # fmt: skip
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def comparison_section(c: dict) -> str:
    """LOAD.md's first section: Streamlit's defaults against the repo's settings."""
    d, r, q, s = c["pooled"]["defaults"], c["pooled"]["repo"], c["ratios"], c["store"]
    runs, m = c["runs"], c["machine"]
    load = lambda x: " / ".join(f"{v:.2f}" for v in x)  # noqa: E731
    failures = sum(x["overall"]["failures"] for x in runs)
    capped = sum(1 for x in runs if x["capped"])
    configs = []
    for name in SETTINGS:
        seen = {json.dumps(x["effective_config"], sort_keys=True) for x in runs
                if x["server_settings"] == name}  # fmt: skip
        config = json.loads(seen.pop()) if len(seen) == 1 else None
        inotify = sorted({x["server_inotify_instances"] for x in runs
                          if x["server_settings"] == name})  # fmt: skip
        values = ("varied between runs" if config is None else ", ".join(
            f"`{n} = {json.dumps(v['value'])}` (from {v['set_in']})" for n, v in config.items()))  # fmt: skip
        configs.append(f"{SETTING_TITLES[name]}: {values}; inotify instances held by the server "
                       f"at the end of its run: {', '.join(map(str, inotify))}")  # fmt: skip
    dp, rp = d["overall"], r["overall"]
    rss_d, rss_r = d["peak_rss_mb"], r["peak_rss_mb"]
    intro = f"""`python -m benchmarks.load --compare-settings`, run {c["measured_at"]} (commit
        {c["commit"]}), one command: {c["pairs"]} pair(s) of servers, one after the other on
        the same {c["store_label"]} store ({s["invoices"]:,} invoices, {s["file_mb"]:,} MB). In
        each pair the first server ("defaults") runs with Streamlit's own defaults for the two
        settings the repo changes, given on the command line, which wins over
        .streamlit/config.toml: `{" ".join(c["settings"]["defaults"]["flags"])}`, that is a
        file watcher on the app's code and a full garbage collection after every script run.
        The second ("repo") gets no such flags and reads .streamlit/config.toml: no file
        watcher (`fileWatcherType = "none"`) and no collection after each run
        (`postScriptGC = false`; Python's own collector still runs). Each server is new, gets
        the same warm-up (one visit per page) and then the same load: {c["sessions"]} readers
        at once, {c["rounds"]} rounds of the {len(c["pages"])} pages, over Streamlit's protocol,
        exactly as in the protocol section below. Wall time {c["wall_s"]:.0f} s for all
        {len(runs)} servers; {failures} failed visits; {capped} run(s) reached the
        {runs[0]["max_minutes"]:g}-min cap. Machine: {m["cores"]} cores, {m["cpu"]},
        {m["memory_gb"]} GB, shared with other work that is not controlled (a test suite may
        have been running): load average (1/5/15 min) {load(c["load_average_before"])} before
        the command and {load(c["load_average_after"])} after it."""
    legend = """Each setting's visits from all pairs taken together. Seconds from opening the
        websocket to the end of the page's last script run, over the visits that settled
        without a problem. Ratio = defaults ÷ repo: above 1, the page is faster with the
        repo's settings."""
    runs_legend = """Every server in the order it ran (a = defaults, b = repo). Server CPU s:
        the CPU time of the Streamlit process from its first warm-up visit to the end of the
        timed rounds; "of which timed rounds" leaves the warm-up out, and "per timed visit"
        divides that by the timed visits. Peak RSS: the process's VmHWM (/proc/PID/status) just
        before it was stopped, the most memory it held at any moment. The load average is the
        1-minute one, read before the server started and after it stopped."""
    cpu_d, cpu_r = d["server_cpu_s_per_visit"], r["server_cpu_s_per_visit"]
    pairs = [
        {x["server_settings"]: x for x in runs if x["pair"] == n} for n in range(1, c["pairs"] + 1)
    ]
    pairs = [x for x in pairs if len(x) == 2]
    peak = lambda x: x["server_memory"]["peak_rss_mb"]  # noqa: E731
    rss_steps = ", ".join(
        f"{peak(x['repo']) - peak(x['defaults']):+,.0f} MB "
        f"({100 * peak(x['repo']) / peak(x['defaults']) - 100:+.0f}%)"
        for x in pairs
    )
    end_rss = {
        n: ", ".join(
            f"{x['server_memory']['rss_mb']:,.0f}" for x in runs if x["server_settings"] == n
        )
        for n in SETTINGS
    }
    spread = lambda n, key: [x["overall"][key] for x in runs if x["server_settings"] == n]  # noqa: E731
    span = lambda v: f"{_num(min(v))}–{_num(max(v))}" if len(v) > 1 else _num(v[0])  # noqa: E731
    pair_ratios = [_ratio(x["defaults"]["overall"]["p50_s"], x["repo"]["overall"]["p50_s"])
                   for x in pairs]  # fmt: skip
    p50s = {n: [v for v in spread(n, "p50_s") if v is not None] for n in SETTINGS}
    if all(p50s.values()) and (max(p50s["repo"]) < min(p50s["defaults"])
                               or max(p50s["defaults"]) < min(p50s["repo"])):  # fmt: skip
        apart = "the two settings' ranges do not overlap"
    else:
        apart = "the two settings' ranges overlap, so the difference is within the noise"
    findings = f"""Overall, p50 {_num(dp["p50_s"])} s with the defaults against
        {_num(rp["p50_s"])} s with the repo's settings (ratio {_num(q["all pages"]["p50"])}),
        p95 {_num(dp["p95_s"])} s against {_num(rp["p95_s"])} s (ratio
        {_num(q["all pages"]["p95"])}). The server spent {_num(cpu_d)} CPU-seconds per timed
        visit with the defaults and {_num(cpu_r)} with the repo's settings (ratio
        {_num(q["server_cpu_s_per_visit"])}; {_num(d["server_cpu_s"], 0)} and
        {_num(r["server_cpu_s"], 0)} CPU-seconds in all, warm-ups included). From one run to
        the next the overall p50 ranged over {span(spread("defaults", "p50_s"))} s with the
        defaults and {span(spread("repo", "p50_s"))} s with the repo's settings, the ratio of a
        pair over {span([x for x in pair_ratios if x is not None] or [None])}; {apart}.
        Memory: the server's peak RSS, pair by pair, was {rss_steps} with the repo's settings against
        the defaults; the highest over
        all runs was {rss_d:,.0f} MB with the defaults and {rss_r:,.0f} MB with the repo's
        settings, and at the end of the runs the server held {end_rss["defaults"]} MB with the
        defaults and {end_rss["repo"]} MB with the repo's settings."""
    check = (
        """The settings each server ran with, as Streamlit loads them (config file, then
        environment and flags) from the repo's root with that server's flags, checked before
        each run (`runner.postScriptGC` is a hidden option, which `streamlit config show`
        leaves out); watchdog's file watcher holds an inotify instance, so the count also
        shows whether a watcher ran. """
        + "; ".join(configs)
        + "."
    )
    return (_wrap(intro) + "\n\n" + comparison_table(c) + "\n\n" + _wrap(legend) + "\n\n"
            + runs_table(c) + "\n\n" + _wrap(runs_legend) + "\n\n" + _wrap(findings)
            + "\n\n" + _wrap(check) + "\n")  # fmt: skip


def markdown(results: dict) -> str:
    """LOAD.md: the settings comparison, the protocol run (the server's times), the Chromium
    run."""
    protocol, chromium = results.get("protocol"), results.get("chromium")
    comparison = results.get("settings")
    text = "# Page settle times under load\n\n"
    text += (
        _wrap("""`make bench-load` (`python -m benchmarks.load`) sends many readers at once to
        one AR Lens server and times how long each page takes to settle. The readers can be
        played in two ways, and on a small machine the two measure different things.""")
        + "\n"
    )
    if comparison:
        text += (f"\n## Streamlit's defaults against the repo's settings, "
                 f"{comparison['sessions']} sessions\n\n" + comparison_section(comparison))  # fmt: skip
    if protocol:
        text += f"\n## The server: {protocol['sessions']} sessions over Streamlit's protocol\n\n"
        text += (
            _wrap("""These readers speak Streamlit's websocket protocol directly and draw
            nothing, so the times are the server's own: running each page's script and sending
            its elements.""")
            + "\n\n"
            + section(protocol)
        )
    if chromium:
        c, m = chromium["cpu_s"], chromium["machine"]
        text += f"\n## The same visits in {chromium['sessions']} Chromium tabs\n\n"
        text += _wrap(f"""`--client chromium` reads the pages as a person would, in headless
            Chromium tabs, and waits until every chart and table has been drawn. With
            {chromium["sessions"]} tabs on {m["cores"]} cores and no GPU, that drawing, done in
            software, is most of the work: during this run the Streamlit server used
            {c["server"]:,.0f} of the {c["machine_busy"]:,.0f} CPU-seconds the machine was busy
            ({_share(c["server"], c["machine_busy"])}), and the load average rose to
            {chromium["load_average_after"][0]:.0f}. The times below are therefore those of
            {chromium["sessions"]} tabs competing for {m["cores"]} cores more than of the
            server: what readers would wait for if all their browsers ran on the server's
            machine.""")
        text += "\n\n" + section(chromium)
    return text


def load_results(path: Path) -> dict:
    """load.json: the latest run of each client, by client name. A file from before the protocol
    client holds one Chromium run."""
    if not path.exists():
        return {}
    saved = json.loads(path.read_text())
    if "visits" in saved:
        return {"chromium": {"client": "chromium", **saved}}
    return saved


def from_saved(json_path: Path, md_path: Path) -> int:
    """The summaries and the report again from the runs' recorded visits."""
    results = load_results(json_path)
    if not results:
        raise SystemExit(f"no runs in {json_path}")
    comparison = results.get("settings")
    runs = [r for k, r in results.items() if k != "settings"] + (comparison or {}).get("runs", [])
    for result in runs:
        visits = result["visits"]
        for v in visits:
            v.setdefault("timed_out", (v["error"] or "").startswith("did not settle"))
        result["pages"] = {n: summary([v for v in visits if v["page"] == n])
                           for n in result["pages"]}  # fmt: skip
        result["overall"] = summary(visits)
    if comparison:
        comparison["pooled"] = pooled(comparison["runs"], comparison["pages"])
        comparison["ratios"] = ratios(comparison["pooled"])
        print(f"settings:\n{comparison_table(comparison)}\n\n{runs_table(comparison)}\n")
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    md_path.write_text(markdown(results))
    for name, result in results.items():
        if name != "settings":
            print(f"{name}:\n{table(result)}\n")
    return 0


def pooled(runs: list[dict], pages: list[str]) -> dict:
    """Each setting's runs taken together: the summaries over all their visits, the server's
    CPU-seconds (total and per timed visit) and the highest peak RSS."""
    out = {}
    for name in SETTINGS:
        mine = [r for r in runs if r["server_settings"] == name]
        if not mine:
            continue
        visits = [v for r in mine for v in r["visits"]]
        cpu = sum(r["cpu_s"]["server"] for r in mine)
        timed = sum(_timed_cpu(r) for r in mine)
        out[name] = {
            "runs": len(mine),
            "pages": {n: summary([v for v in visits if v["page"] == n]) for n in pages},
            "overall": summary(visits),
            "server_cpu_s": round(cpu, 1),
            "server_cpu_s_timed": round(timed, 1),
            "server_cpu_s_per_visit": round(timed / len(visits), 2) if visits else None,
            "peak_rss_mb": max(r["server_memory"]["peak_rss_mb"] for r in mine),
        }
    return out


def _timed_cpu(run: dict) -> float:
    """The server's CPU-seconds in a run's timed rounds (all of its run when not recorded)."""
    return run["cpu_s"].get("server_timed", run["cpu_s"]["server"])


def _ratio(a: float | None, b: float | None) -> float | None:
    return round(a / b, 2) if a is not None and b else None


def ratios(pool: dict) -> dict:
    """defaults ÷ repo of the pooled p50 and p95, per page and overall, and of the CPU."""
    d, r = pool.get("defaults"), pool.get("repo")
    if not d or not r:
        return {}
    rows = {**{n: (d["pages"][n], r["pages"][n]) for n in d["pages"]},
            "all pages": (d["overall"], r["overall"])}  # fmt: skip
    out = {n: {"p50": _ratio(a["p50_s"], b["p50_s"]), "p95": _ratio(a["p95_s"], b["p95_s"])}
           for n, (a, b) in rows.items()}  # fmt: skip
    out["server_cpu_s"] = _ratio(d["server_cpu_s"], r["server_cpu_s"])
    out["server_cpu_s_per_visit"] = _ratio(d["server_cpu_s_per_visit"],
                                           r["server_cpu_s_per_visit"])  # fmt: skip
    return out
