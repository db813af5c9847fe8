"""Run the benchmarks size by size, check the two sides agree, print and record the figures."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from benchmarks.questions import QUESTIONS, SEED, SIZES, TITLES, compare

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "RESULTS.md"
MEMORY_EXCEEDED = 3
CSV_FILES = ("customers.csv", "invoices.csv", "payments.csv")
PARQUET_FILES = ("customers.parquet", "invoices.parquet", "payments.parquet")
TARGET_AGING_S = 1.0
TARGET_TREND_S = 2.0
TARGET_PAGE_S = 0.3
TARGET_RATIO = 10.0
TARGET_MEMORY_GB = 4.0
TARGET_IMPORT_S_PER_GB = 60.0


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks",
        description="AR Lens (DuckDB) against a plain-pandas baseline on generated receivables.",
    )
    parser.add_argument(
        "--sizes", default="1m,10m", help=f"comma-separated, of {', '.join(SIZES)} (default 1m,10m)"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=HERE / "data",
        help="generated CSVs, DuckDB files and Parquet, reused when present (default "
        "benchmarks/data, git-ignored)",
    )
    parser.add_argument("--repeat", type=int, default=3, help="report the best of N (default 3)")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="a 100k-invoice smoke run instead of --sizes (leaves RESULTS.md alone)",
    )
    parser.add_argument(
        "--pandas-mem-limit-gb",
        type=float,
        default=12.0,
        help="stop the pandas side when its resident memory passes this (default 12)",
    )
    parser.add_argument(
        "--explain",
        action="store_true",
        help="also write EXPLAIN ANALYZE of the AR Lens queries to DATA_DIR/SIZE/explain_*.txt",
    )
    parser.add_argument(
        "--no-results", action="store_true", help="print only; do not rewrite RESULTS.md"
    )
    parser.add_argument(
        "--from-saved",
        action="store_true",
        help="measure nothing: print and rewrite RESULTS.md from the last run's figures "
        "(DATA_DIR/SIZE/results.json)",
    )
    args = parser.parse_args(argv)
    args.sizes = ["100k"] if args.quick else [s.strip().lower() for s in args.sizes.split(",")]
    unknown = [s for s in args.sizes if s not in SIZES]
    if unknown:
        parser.error(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    if args.repeat < 1:
        parser.error("--repeat is at least 1")
    return args


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def read_json(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except (OSError, ValueError):
        return None


def worker(step: str, json_path: Path, *options) -> tuple[int, dict | None]:
    """Run one step in a fresh Python process; its figures come back through json_path."""
    json_path.unlink(missing_ok=True)
    command = [sys.executable, "-m", "benchmarks.workers", step, *map(str, options)]
    code = subprocess.run([*command, "--json", str(json_path)], cwd=ROOT).returncode
    return code, read_json(json_path)


class StepFailed(Exception):
    pass


def prepare(size: str, data_dir: Path) -> dict:
    """CSV files, DuckDB store and Parquet files for one size: made once, then reused."""
    folder = data_dir / size
    csv_dir, db, parquet = folder / "csv", folder / "arlens.duckdb", folder / "parquet"
    out: dict = {}
    made = False

    generated = read_json(folder / "generate.json")
    if (
        generated is None
        or generated.get("customers") != SIZES[size]
        or generated.get("seed") != SEED
        or not all((csv_dir / f).exists() for f in CSV_FILES)
    ):
        log(f"{size}: generating sample CSVs ({SIZES[size]:,} customers, seed {SEED})")
        shutil.rmtree(csv_dir, ignore_errors=True)
        code, generated = worker(
            "generate", folder / "generate.json", "--customers", SIZES[size], "--out", csv_dir
        )
        if code or generated is None:
            raise StepFailed(f"{size}: generating the sample failed (exit {code})")
        made = True
    else:
        generated["cached"] = True
    out["generate"] = generated
    log(
        f"{size}: {generated['rows']['invoices.csv']:,} invoices, "
        f"{generated['rows']['payments.csv']:,} payments; generated in "
        f"{generated['seconds']:.1f} s" + (" (earlier run, reused)" if not made else "")
    )

    imported = None if made else read_json(folder / "import.json")
    if imported is not None and db.exists():
        # A reused store is brought up to the current schema; one whose derived tables were
        # built by another derive.sql is imported again.
        code, upgraded = worker("upgrade", folder / "upgrade.json", "--db", db)
        if code or upgraded is None:
            raise StepFailed(f"{size}: upgrading the reused store failed (exit {code})")
        if upgraded["fingerprint"] != imported.get("fingerprint"):
            log(f"{size}: arlens/sql/derive.sql changed since the store was built")
            imported = None
    if imported is None or not db.exists():
        log(f"{size}: importing customers, invoices, payments into a fresh {db.name}")
        for stale in (db, db.with_name(db.name + ".wal")):
            stale.unlink(missing_ok=True)
        code, imported = worker("import", folder / "import.json", "--csv-dir", csv_dir, "--db", db)
        if code or imported is None:
            raise StepFailed(f"{size}: the import failed (exit {code})")
        made = True
    else:
        imported["cached"] = True
    out["import"] = imported
    for table, figures in imported["tables"].items():
        log(
            f"{size}: import {table}: {figures['rows_read']:,} rows in {figures['seconds']:.1f} s "
            f"= {figures['rows_per_s']:,.0f} rows/s"
            + (" (reused)" if imported.get("cached") else "")
        )

    exported = None if made else read_json(folder / "export.json")
    if exported is None or not all((parquet / f).exists() for f in PARQUET_FILES):
        log(f"{size}: writing the raw tables to Parquet for pandas")
        shutil.rmtree(parquet, ignore_errors=True)
        code, exported = worker("export", folder / "export.json", "--db", db, "--out", parquet)
        if code or exported is None:
            raise StepFailed(f"{size}: writing Parquet failed (exit {code})")
    out["export"] = exported
    return out


def measure(size: str, args: argparse.Namespace) -> dict:
    """Time both sides on one size, check their answers, measure AR Lens's peak memory."""
    folder = args.data_dir / size
    answers = folder / "answers"
    shutil.rmtree(answers, ignore_errors=True)
    out: dict = {"errors": [], "mismatches": {}}

    log(f"{size}: AR Lens, best of {args.repeat} after a warm-up run")
    explain = ["--explain", folder] if args.explain else []
    code, out["arlens"] = worker(
        "arlens",
        folder / "arlens.json",
        "--db",
        folder / "arlens.duckdb",
        "--repeat",
        args.repeat,
        "--answers",
        answers,
        *explain,
    )
    if code or out["arlens"] is None:
        out["errors"].append(f"AR Lens timing failed (exit {code})")
        out["arlens"] = out["arlens"] or {"questions": {}}

    log(f"{size}: AR Lens peak memory (fresh process, the three questions once)")
    code, out["memory"] = worker("memory", folder / "memory.json", "--db", folder / "arlens.duckdb")
    if code or out["memory"] is None:
        out["errors"].append(f"AR Lens memory run failed (exit {code})")

    log(f"{size}: pandas, best of {args.repeat} (settlements derived from the raw tables each run)")
    code, out["pandas"] = worker(
        "pandas",
        folder / "pandas.json",
        "--parquet",
        folder / "parquet",
        "--repeat",
        args.repeat,
        "--answers",
        answers,
        "--mem-limit-gb",
        args.pandas_mem_limit_gb,
    )
    out["pandas"] = out["pandas"] or {"questions": {}}
    if code == MEMORY_EXCEEDED:
        out["pandas"]["stopped"] = out["pandas"].get("exceeded") or "memory limit"
    elif code:
        out["errors"].append(f"pandas run failed (exit {code})")

    for question in QUESTIONS:
        ours, theirs = (
            answers / f"arlens_{question}.parquet",
            answers / f"pandas_{question}.parquet",
        )
        if not (ours.exists() and theirs.exists()):
            continue
        problems = compare(question, pd.read_parquet(ours), pd.read_parquet(theirs))
        if problems:
            out["mismatches"][question] = problems
            print(f"\n{size} {question}: AR Lens and pandas DISAGREE", file=sys.stderr)
            for problem in problems:
                print("  " + problem.replace("\n", "\n    "), file=sys.stderr)
            print(file=sys.stderr)
        else:
            log(f"{size}: {question}: answers agree")
    return out


# -- figures --------------------------------------------------------------------------------------


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if value < 10 else f"{value:.1f}"


def question_rows(results: dict) -> list[dict]:
    rows = []
    for size, r in results.items():
        if "arlens" not in r:
            continue
        for question in QUESTIONS:
            ours = r["arlens"]["questions"].get(question, {})
            theirs = r["pandas"]["questions"].get(question, {})
            a, p = ours.get("best"), theirs.get("best")
            if question in r["mismatches"]:
                agree = "MISMATCH"
            elif a is None or p is None:
                agree = "not compared"
            else:
                agree = "yes"
            count = ours.get("rows")
            if count is not None and theirs.get("rows") not in (None, count):
                count = f"{count:,} / {theirs['rows']:,} (pandas)"
            rows.append(
                {
                    "size": size,
                    "question": TITLES[question],
                    "rows": count,
                    "arlens": a,
                    "pandas": p,
                    "ratio": p / a if a and p else None,
                    "pandas_answer": theirs.get("best_answer"),
                    "agree": agree,
                    "pandas_stopped": r["pandas"].get("stopped") if p is None else None,
                }
            )
    return rows


def print_table(results: dict) -> None:
    rows = question_rows(results)
    header = (
        f"{'size':<5} {'question':<42} {'rows':>8} {'AR Lens s':>10} {'pandas s':>9} "
        f"{'ratio':>7} {'pandas answer-only s':>21}  agree"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for row in rows:
        ratio = f"{row['ratio']:.1f}x" if row["ratio"] else "—"
        count = f"{row['rows']:,}" if isinstance(row["rows"], int) else str(row["rows"] or "—")
        print(
            f"{row['size']:<5} {row['question']:<42} {count:>8} {_seconds(row['arlens']):>10} "
            f"{_seconds(row['pandas']):>9} {ratio:>7} {_seconds(row['pandas_answer']):>21}  "
            f"{row['agree']}"
        )
    print()
    for size, r in results.items():
        if "prepare" not in r:
            continue
        gen, imp = r["prepare"]["generate"], r["prepare"]["import"]
        parts = [f"generation {gen['seconds']:.1f} s"]
        parts += [
            f"import {t} {f['rows_per_s']:,.0f} rows/s ({f['seconds']:.1f} s)"
            for t, f in imp["tables"].items()
            if t != "customers"
        ]
        if r.get("pandas", {}).get("load") is not None:
            parts.append(f"pandas load {r['pandas']['load']:.2f} s")
        memory = (r.get("memory") or {}).get("peak_rss_mb")
        if memory:
            parts.append(f"AR Lens peak memory {memory / 1024:.2f} GiB")
        if r.get("pandas", {}).get("peak_rss_mb"):
            parts.append(f"pandas peak memory {r['pandas']['peak_rss_mb'] / 1024:.2f} GiB")
        if r.get("pandas", {}).get("stopped"):
            parts.append(f"pandas stopped: {r['pandas']['stopped']}")
        print(f"{size}: " + "; ".join(parts))
    print()
    for target in targets(results):
        print(f"{target['status']:<12} {target['target']}: {target['measured']}")
    print()


def targets(results: dict) -> list[dict]:
    """DESIGN.md §5 and the benchmark issue's targets, met or not."""

    def arlens(size, question):
        return results.get(size, {}).get("arlens", {}).get("questions", {}).get(question, {})

    def pandas(size, question):
        return results.get(size, {}).get("pandas", {}).get("questions", {}).get(question, {})

    def status(ok):
        return "not measured" if ok is None else ("met" if ok else "NOT MET")

    out = []
    aging = arlens("10m", "aging").get("best")
    out.append(
        {
            "target": f"aging by customer over 10M invoices + payments < {TARGET_AGING_S:g} s",
            "measured": f"{aging:.3f} s" if aging is not None else "10m not run",
            "status": status(None if aging is None else aging < TARGET_AGING_S),
        }
    )
    for question in QUESTIONS:
        a, p = arlens("10m", question).get("best"), pandas("10m", question).get("best")
        stopped = results.get("10m", {}).get("pandas", {}).get("stopped")
        if a is not None and p is not None:
            measured = f"{p / a:.1f}x (pandas {p:.2f} s / AR Lens {a:.3f} s)"
            answer_only = pandas("10m", question).get("best_answer")
            if answer_only:
                measured += f"; {answer_only / a:.1f}x against pandas answer-only"
            ok = p / a >= TARGET_RATIO
        else:
            measured, ok = (f"pandas stopped: {stopped}" if stopped else "10m not run"), None
        out.append(
            {
                "target": f">= {TARGET_RATIO:g}x faster than pandas at 10M: {TITLES[question]}",
                "measured": measured,
                "status": status(ok),
            }
        )
    trend = arlens("1m", "trend").get("best")
    out.append(
        {
            "target": f"24-month aging trend over 1M invoices < {TARGET_TREND_S:g} s",
            "measured": f"{trend:.3f} s" if trend is not None else "1m not run",
            "status": status(None if trend is None else trend < TARGET_TREND_S),
        }
    )
    memory = results.get("10m", {}).get("memory") or {}
    gb = memory["peak_rss_mb"] * 1024 * 1024 / 1e9 if memory.get("peak_rss_mb") else None
    out.append(
        {
            "target": f"AR Lens memory under {TARGET_MEMORY_GB:g} GB at 10M (peak RSS, the three "
            "questions)",
            "measured": f"{gb:.2f} GB" if gb is not None else "10m not run",
            "status": status(None if gb is None else gb < TARGET_MEMORY_GB),
        }
    )
    worst = [arlens("1m", q).get("best") for q in QUESTIONS]
    worst = max(worst) if all(w is not None for w in worst) else None
    out.append(
        {
            "target": f"every page's queries < {TARGET_PAGE_S * 1000:g} ms at 1M (here: the three "
            "benchmarked questions)",
            "measured": f"slowest {worst * 1000:.0f} ms" if worst is not None else "1m not run",
            "status": status(None if worst is None else worst < TARGET_PAGE_S),
        }
    )
    largest = next((s for s in ("10m", "1m") if "prepare" in results.get(s, {})), None)
    if largest:
        invoices = results[largest]["prepare"]["import"]["tables"]["invoices"]
        per_gb = invoices["seconds"] / (invoices["bytes"] / 1e9)
        out.append(
            {
                "target": f"import of a 1 GB CSV < {TARGET_IMPORT_S_PER_GB:g} s",
                "measured": f"invoices.csv at {largest}, {invoices['bytes'] / 1e9:.2f} GB in "
                f"{invoices['seconds']:.1f} s = {per_gb:.0f} s per GB",
                "status": status(per_gb < TARGET_IMPORT_S_PER_GB),
            }
        )
    return out


# -- RESULTS.md -----------------------------------------------------------------------------------

BEGIN = "<!-- BEGIN GENERATED: `python -m benchmarks` rewrites everything up to the END marker -->"
END = "<!-- END GENERATED -->"
INTRO = """# AR Lens benchmarks

`make bench` (or `python -m benchmarks`) generates a sample company with `arlens.sample` (seed 7,
~1M and ~10M invoices), imports it with `arlens.ingest.importer.import_file` into a fresh DuckDB file,
writes the same raw tables to Parquet, and asks three questions of both AR Lens (the store opened
read-only, `arlens.metrics`) and a plain-pandas baseline (`benchmarks/pandas_ar.py`): aging by
customer at 2026-10-31, the KPI set at that date, and the aging trend over the 24 month-ends
ending there. The answers must agree (to the cent, ratios to 1e-6) or the run exits non-zero.

The pandas side is a fair, vectorised implementation: it starts from the raw tables, re-derives
settlements from payments, credit memos (`applies_to`), paid dates and write-offs in every timed
run (AR Lens derives them at import), and its load from Parquet is timed apart. Its
"answer-only" figure is the same run without the settlement step, for a reader who would keep
the derived settlements in memory. Each side runs in a process of its own; peak memory is that
process's `ru_maxrss`. `--quick` is a 100k smoke run; `--sizes`, `--repeat`, `--data-dir`,
`--explain` (EXPLAIN ANALYZE of the queries) are in `--help`.

"""


def _run_date(results: dict) -> str:
    dates = sorted(r["measured_at"] for r in results.values() if r.get("measured_at"))
    if not dates:
        return dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    return dates[0] if dates[0][:10] == dates[-1][:10] else f"{dates[0]} to {dates[-1]}"


def _markdown(results: dict, args: argparse.Namespace) -> str:
    import duckdb
    import numpy
    import pyarrow

    try:
        ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
        ram_text = f"{ram:.0f} GiB RAM"
    except (ValueError, OSError):
        ram_text = "RAM unknown"
    lines = [
        "## Results",
        "",
        f"Run {_run_date(results)} · `os.cpu_count()` = {os.cpu_count()}"
        f" · {ram_text} · Python {platform.python_version()} · DuckDB {duckdb.__version__} · "
        f"pandas {pd.__version__} · pyarrow {pyarrow.__version__} · NumPy {numpy.__version__} · "
        f"best of {args.repeat} (AR Lens after a warm-up run).",
        "",
        "**Ratios were measured in one run on a shared, noisy machine** (other work was running "
        "on the same 2 cores); read them as indicative, not exact.",
        "",
        "### Questions",
        "",
        "| size | question | rows | AR Lens s | pandas s | ratio (pandas / AR Lens) | pandas "
        "answer-only s | answers agree |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for row in question_rows(results):
        ratio = f"{row['ratio']:.1f}×" if row["ratio"] else "—"
        pandas_s = _seconds(row["pandas"])
        if row["pandas_stopped"]:
            pandas_s = f"stopped ({row['pandas_stopped']})"
        count = f"{row['rows']:,}" if isinstance(row["rows"], int) else str(row["rows"] or "—")
        lines.append(
            f"| {row['size']} | {row['question']} | {count} | {_seconds(row['arlens'])} | "
            f"{pandas_s} | {ratio} | {_seconds(row['pandas_answer'])} | {row['agree']} |"
        )
    lines += [
        "",
        "pandas s = settlements derived from the raw tables + the answer (compute only; loading "
        "is below).",
        "",
        "### Data, import, load, memory",
        "",
        "| size | customers | invoices + memos | payments | CSV MB | generation s | import "
        "invoices rows/s | import payments rows/s | pandas load s | pandas settlements s | "
        "AR Lens peak GB | pandas peak GB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, r in results.items():
        if "prepare" not in r:
            continue
        gen, imp = r["prepare"]["generate"], r["prepare"]["import"]["tables"]
        when = ""
        if r["prepare"]["import"].get("cached"):
            when = f" (imported {r['prepare']['import']['when'][:16]}, reused)"
        csv_mb = sum(gen["bytes"].get(f, 0) for f in CSV_FILES) / 1e6
        pandas_side = r.get("pandas") or {}
        settle = [q.get("best_settle") for q in pandas_side.get("questions", {}).values()]
        settle = min(settle) if settle else None
        ours = (r.get("memory") or {}).get("peak_rss_mb")
        theirs = pandas_side.get("peak_rss_mb")
        ours_gb = f"{ours * 1024 * 1024 / 1e9:.2f}" if ours else "—"
        theirs_gb = f"{theirs * 1024 * 1024 / 1e9:.2f}" if theirs else "—"
        if pandas_side.get("stopped"):
            theirs_gb += f" (stopped: {pandas_side['stopped']})"
        lines.append(
            f"| {size} | {gen['rows']['customers.csv']:,} | {gen['rows']['invoices.csv']:,} | "
            f"{gen['rows']['payments.csv']:,} | {csv_mb:,.0f} | {gen['seconds']:.1f} | "
            f"{imp['invoices']['rows_per_s']:,.0f} ({imp['invoices']['seconds']:.0f} s) | "
            f"{imp['payments']['rows_per_s']:,.0f} ({imp['payments']['seconds']:.0f} s){when} | "
            f"{_seconds(pandas_side.get('load'))} | {_seconds(settle)} | {ours_gb} | "
            f"{theirs_gb} |"
        )
    lines += [
        "",
        "Import rows/s: rows read / seconds of `import_file` (one transaction: reading, checks, "
        "upsert, and re-deriving applications and unapplied items). Peak memory: `ru_maxrss` of "
        "a fresh process answering the three questions once (AR Lens) or loading and answering "
        "them best-of-N (pandas).",
        "",
        "### Targets (DESIGN.md §5 and the benchmark issue)",
        "",
        "| target | measured | status |",
        "|---|---|---|",
    ]
    for target in targets(results):
        lines.append(f"| {target['target']} | {target['measured']} | {target['status']} |")
    mismatches = [
        (size, q, problems)
        for size, r in results.items()
        for q, problems in r.get("mismatches", {}).items()
    ]
    errors = [(size, e) for size, r in results.items() for e in r.get("errors", [])]
    if mismatches or errors:
        lines += ["", "### Where the run failed", ""]
        for size, error in errors:
            lines.append(f"- {size}: {error}")
        for size, question, problems in mismatches:
            lines += [
                f"- {size}, {TITLES[question]}: AR Lens and pandas disagree",
                "",
                "```",
                *"\n\n".join(problems).splitlines(),
                "```",
                "",
            ]
    return "\n".join(lines).rstrip() + "\n"


def write_results(results: dict, args: argparse.Namespace) -> None:
    text = RESULTS.read_text() if RESULTS.exists() else INTRO + BEGIN + "\n" + END + "\n"
    generated = BEGIN + "\n" + _markdown(results, args) + END
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + generated + tail
    else:
        text = text.rstrip() + "\n\n" + generated + "\n"
    RESULTS.write_text(text)
    log(f"wrote {RESULTS.relative_to(ROOT)}")


def from_saved(args: argparse.Namespace) -> int:
    results = {}
    for size in args.sizes:
        saved = read_json(args.data_dir / size / "results.json")
        if saved is None:
            log(f"{size}: no saved figures in {args.data_dir / size}")
            continue
        results[size] = saved
    if not results:
        return 1
    print_table(results)
    if not args.no_results:
        write_results(results, args)
    return int(any(r.get("errors") or r.get("mismatches") for r in results.values()))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.data_dir = args.data_dir.resolve()
    if args.from_saved:
        return from_saved(args)
    results: dict = {}
    failed = False
    for size in args.sizes:
        results[size] = {}
        try:
            results[size]["prepare"] = prepare(size, args.data_dir)
        except StepFailed as error:
            log(str(error))
            results[size]["errors"] = [str(error)]
            failed = True
            continue
        results[size].update(measure(size, args))
        results[size]["measured_at"] = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
        failed |= bool(results[size]["errors"] or results[size]["mismatches"])
        (args.data_dir / size / "results.json").write_text(
            json.dumps(results[size], indent=2, default=str)
        )
    print_table(results)
    if not (args.quick or args.no_results):
        write_results(results, args)
    if failed:
        log("FAILED: see the mismatches or errors above")
        return 1
    return 0
