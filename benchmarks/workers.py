"""The steps of a benchmark, each run in a subprocess of its own by `python -m benchmarks`:

    python -m benchmarks.workers generate --customers N --out DIR --json FILE
    python -m benchmarks.workers import --csv-dir DIR --db FILE --json FILE
    python -m benchmarks.workers export --db FILE --out DIR --json FILE
    python -m benchmarks.workers arlens --db FILE --repeat N --answers DIR --json FILE [--explain DIR]
    python -m benchmarks.workers pandas --parquet DIR --repeat N --answers DIR --json FILE
    python -m benchmarks.workers polars --parquet DIR --repeat N --answers DIR --json FILE
    python -m benchmarks.workers cli --db FILE --repeat N --answers DIR --json FILE
    python -m benchmarks.workers increment --db FILE --json FILE
    python -m benchmarks.workers memory --db FILE --json FILE
    python -m benchmarks.workers upgrade --db FILE --json FILE

Each writes its figures as JSON (the pandas and Polars workers after every question, so that
what they measured survives when they have to stop at their memory limit). Peak memory is the
process's own `ru_maxrss`, so it belongs to that side alone.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import threading
import time
from pathlib import Path

MEMORY_EXCEEDED = 3  # exit code of the pandas worker when it passed --mem-limit-gb


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _write(path: Path, payload: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str))
    tmp.replace(path)


def _log(message: str) -> None:
    print(f"    [{time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- data -----------------------------------------------------------------------------------------


def generate(args) -> None:
    from arlens import sample
    from benchmarks.questions import SEED, YEARS

    started = time.perf_counter()
    rows = sample.generate(args.out, customers=args.customers, years=YEARS, seed=SEED)
    seconds = time.perf_counter() - started
    sizes = {name: (Path(args.out) / name).stat().st_size for name in rows}
    _write(
        args.json,
        {
            "customers": args.customers,
            "seed": SEED,
            "years": YEARS,
            "rows": rows,
            "bytes": sizes,
            "seconds": seconds,
            "peak_rss_mb": peak_rss_mb(),
            "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        },
    )


IMPORTED = ("customers", "invoices", "payments")


def code_fingerprint() -> str:
    """What the derived tables of a store depend on (schema changes are migrations): a store
    whose applications were derived by another derive.sql is imported again."""
    import hashlib
    from importlib import resources

    text = resources.files("arlens").joinpath("sql").joinpath("derive.sql").read_text()
    statements = [line for line in text.splitlines() if not line.lstrip().startswith("--")]
    return hashlib.sha256("\n".join(statements).encode()).hexdigest()[:16]  # comments aside


def import_(args) -> None:
    from arlens.ingest.importer import import_file
    from arlens.store import Store

    out = {
        "tables": {},
        "when": time.strftime("%Y-%m-%d %H:%M:%S"),
        "fingerprint": code_fingerprint(),
    }
    with Store.open(args.db) as store:
        for table in IMPORTED:
            path = Path(args.csv_dir) / f"{table}.csv"
            _log(f"importing {path.name} ({path.stat().st_size / 1e6:,.0f} MB)")
            started = time.perf_counter()
            result = import_file(store, path, table)
            seconds = time.perf_counter() - started
            out["tables"][table] = {
                "rows_read": result.rows_read,
                "rows_loaded": result.rows_loaded,
                "rows_rejected": result.rows_rejected,
                "bytes": path.stat().st_size,
                "seconds": seconds,
                "rows_per_s": result.rows_read / seconds,
            }
            _log(f"{table}: {result.rows_loaded:,} rows in {seconds:,.1f} s")
        out["counts"] = store.table_counts()
    out["peak_rss_mb"] = peak_rss_mb()
    _write(args.json, out)


# The raw input columns, as imported (payments' currency is left out: the store derives it).
EXPORTED = {
    "customers": "customer_id, name, currency",
    "invoices": "invoice_id, customer_id, invoice_date, due_date, amount, doc_type, currency, "
    "paid_date, written_off_on, applies_to",
    "payments": "payment_id, customer_id, payment_date, amount, invoice_id",
}


def export(args) -> None:
    import duckdb

    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    con = duckdb.connect(str(args.db), read_only=True)
    try:
        for table, columns in EXPORTED.items():
            target = out_dir / f"{table}.parquet"
            con.execute(
                f"COPY (SELECT {columns} FROM {table}) TO '{target}' (FORMAT parquet)"
            ).fetchall()
    finally:
        con.close()
    _write(
        args.json,
        {
            "seconds": time.perf_counter() - started,
            "bytes": {t: (out_dir / f"{t}.parquet").stat().st_size for t in EXPORTED},
        },
    )


# -- the sides ------------------------------------------------------------------------------------


def _explain(store, question: str) -> str:
    """EXPLAIN ANALYZE of the named query behind an AR Lens question."""
    from arlens import metrics, queries
    from benchmarks.questions import AS_OF, EDGES, TREND_START, WINDOW_DAYS

    domain, name, extra = {
        "aging": ("aging", "aging", {"as_of": AS_OF, "group_by": "customer"}),
        "kpis": ("kpis", "kpis", {"as_of": AS_OF, "window_days": WINDOW_DAYS}),
        "trend": ("aging", "trend", {"start": TREND_START, "end": AS_OF}),
    }[question]
    query = queries.load(domain)[name]
    params = metrics._params(None, basis="due", edges=list(EDGES), **extra)
    params = {k: v for k, v in params.items() if k in query.parameters}
    rows = store.con.execute("EXPLAIN ANALYZE " + query.sql, params).fetchall()
    return "\n".join(str(row[-1]) for row in rows)


def arlens(args) -> None:
    from arlens.store import Store
    from benchmarks.questions import QUESTIONS, arlens_answer

    answers = Path(args.answers)
    answers.mkdir(parents=True, exist_ok=True)
    out: dict = {"questions": {}}
    with Store.open(args.db, read_only=True) as store:
        for question in QUESTIONS:
            started = time.perf_counter()
            arlens_answer(store, question)  # warm-up: file pages, macros, plan caches
            warmup = time.perf_counter() - started
            times = []
            for _ in range(args.repeat):
                started = time.perf_counter()
                answer = arlens_answer(store, question)
                times.append(time.perf_counter() - started)
            answer.to_parquet(answers / f"arlens_{question}.parquet")
            out["questions"][question] = {
                "best": min(times),
                "times": times,
                "warmup": warmup,
                "rows": len(answer),
            }
            _log(f"AR Lens {question}: best {min(times):.3f} s of {args.repeat}")
            if args.explain:
                Path(args.explain).mkdir(parents=True, exist_ok=True)
                (Path(args.explain) / f"explain_{question}.txt").write_text(
                    _explain(store, question)
                )
    out["peak_rss_mb"] = peak_rss_mb()
    _write(args.json, out)


def _watch_memory(limit_gb: float, json_path: Path, state: dict, side: str = "pandas") -> None:
    """Stop the process (exit MEMORY_EXCEEDED) once its resident memory passes limit_gb."""
    page = os.sysconf("SC_PAGE_SIZE")

    def watch():
        while True:
            with open("/proc/self/statm") as f:
                rss = int(f.read().split()[1]) * page
            state["max_seen_gb"] = max(state.get("max_seen_gb", 0), rss / 1e9)
            if rss > limit_gb * 1e9:
                state["exceeded"] = (
                    f"resident memory passed {limit_gb:g} GB during {state.get('step')}"
                )
                state["peak_rss_mb"] = peak_rss_mb()
                _write(json_path, state)
                print(f"    {side}: {state['exceeded']}; stopped", flush=True)
                os._exit(MEMORY_EXCEEDED)
            time.sleep(0.05)

    threading.Thread(target=watch, daemon=True).start()


def pandas_(args) -> None:
    from benchmarks import pandas_ar
    from benchmarks.questions import QUESTIONS

    answers = Path(args.answers)
    answers.mkdir(parents=True, exist_ok=True)
    state: dict = {"questions": {}, "step": "load"}
    if args.mem_limit_gb:
        _watch_memory(args.mem_limit_gb, Path(args.json), state)
    started = time.perf_counter()
    raw = pandas_ar.load(Path(args.parquet))
    state["load"] = time.perf_counter() - started
    _log(f"pandas load: {state['load']:.2f} s")
    _write(args.json, state)
    for question in QUESTIONS:
        state["step"] = question
        runs = []
        book = answer = None
        for _ in range(args.repeat):
            book = answer = None  # free the last run's before the next
            started = time.perf_counter()
            book = pandas_ar.settle(raw)
            settled = time.perf_counter()
            answer = pandas_ar.answer(book, question)
            runs.append((settled - started, time.perf_counter() - settled))
        answer.to_parquet(answers / f"pandas_{question}.parquet")
        state["questions"][question] = {
            "best": min(s + a for s, a in runs),
            "best_settle": min(s for s, _ in runs),
            "best_answer": min(a for _, a in runs),
            "runs": runs,
            "rows": len(answer),
        }
        state["peak_rss_mb"] = peak_rss_mb()
        _write(args.json, state)
        _log(
            f"pandas {question}: best {state['questions'][question]['best']:.3f} s "
            f"(settlements {state['questions'][question]['best_settle']:.3f} s)"
        )
    state["step"] = "done"
    state["peak_rss_mb"] = peak_rss_mb()
    _write(args.json, state)


def polars_(args) -> None:
    """Polars: settlements from the Parquet files (best of N), then each question answered
    from the settlements in memory (best of N)."""
    from benchmarks import polars_ar
    from benchmarks.questions import QUESTIONS

    answers = Path(args.answers)
    answers.mkdir(parents=True, exist_ok=True)
    state: dict = {"questions": {}, "step": "settle"}
    if args.mem_limit_gb:
        _watch_memory(args.mem_limit_gb, Path(args.json), state, "Polars")
    settle_times = []
    book = None
    for _ in range(args.repeat):
        book = None  # free the last run's before the next
        started = time.perf_counter()
        book = polars_ar.settle(polars_ar.scan(Path(args.parquet)))
        settle_times.append(time.perf_counter() - started)
    state["best_settle"] = min(settle_times)
    state["settle_times"] = settle_times
    _log(f"Polars settlements from Parquet: best {state['best_settle']:.2f} s")
    _write(args.json, state)
    for question in QUESTIONS:
        state["step"] = question
        times = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            answer = polars_ar.answer(book, question)
            times.append(time.perf_counter() - started)
        answer.to_parquet(answers / f"polars_{question}.parquet")
        state["questions"][question] = {
            "best_answer": min(times),
            "best": state["best_settle"] + min(times),
            "times": times,
            "rows": len(answer),
        }
        state["peak_rss_mb"] = peak_rss_mb()
        _write(args.json, state)
        _log(f"Polars {question}: answer-only best {min(times):.3f} s")
    state["step"] = "done"
    state["peak_rss_mb"] = peak_rss_mb()
    _write(args.json, state)


def _arlens_command() -> list[str]:
    arlens = Path(sys.executable).with_name("arlens")
    return [str(arlens)] if arlens.exists() else [sys.executable, "-m", "arlens"]


def cli_commands(db: Path) -> dict[str, list[str]]:
    """The three questions as a reader types them at the command line."""
    from benchmarks.questions import AS_OF, TREND_START

    common = ["--as-of", str(AS_OF), "--db", str(db), "--format", "csv"]
    return {
        "aging": [*_arlens_command(), "aging", *common],
        "kpis": [*_arlens_command(), "kpis", *common],
        "trend": [*_arlens_command(), "trend", "--start", str(TREND_START), *common],
    }


def _timed_run(command: list[str]) -> tuple[float, str]:
    """Wall clock of a whole process (start-up, imports, opening the store, the answer)."""
    import subprocess

    started = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, done.stdout


def cli(args) -> None:
    """AR Lens cold: `arlens aging|kpis|trend ... --format csv`, each a fresh process, best of N;
    the CSV of the last run is kept to be checked against the in-process answer."""
    answers = Path(args.answers)
    answers.mkdir(parents=True, exist_ok=True)
    out: dict = {"questions": {}}
    for question, command in cli_commands(Path(args.db)).items():
        times = []
        for _ in range(args.repeat):
            seconds, text = _timed_run(command)
            times.append(seconds)
        (answers / f"cli_{question}.csv").write_text(text)
        out["questions"][question] = {"best": min(times), "times": times, "command": command}
        _log(f"arlens {question} (whole process): best {min(times):.3f} s of {args.repeat}")
        _write(args.json, out)


INCREMENT_DAY = "2026-11-01"  # the day after the sample's last


def _increment_files(db: Path, folder: Path, rows: int = 500) -> dict[str, Path]:
    """A day's exports: `rows` new invoices (to existing customers) and `rows` payments, each
    paying an existing open invoice in full."""
    import duckdb

    folder.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(db), read_only=True)
    try:
        con.execute(
            f"""COPY (
                SELECT printf('INVD%07d', row_number() OVER (ORDER BY customer_id)) AS invoice_id,
                       customer_id,
                       DATE '{INCREMENT_DAY}' AS invoice_date,
                       DATE '{INCREMENT_DAY}' + 30 AS due_date,
                       round(100 + (hash(customer_id) % 500000) / 100, 2) AS amount,
                       'invoice' AS doc_type,
                       currency
                FROM (SELECT customer_id, currency FROM customers ORDER BY customer_id LIMIT {rows})
            ) TO '{folder / "invoices.csv"}' (HEADER)"""
        )
        con.execute(
            f"""COPY (
                SELECT printf('PAYD%07d', row_number() OVER (ORDER BY invoice_id)) AS payment_id,
                       customer_id,
                       DATE '{INCREMENT_DAY}' AS payment_date,
                       amount,
                       invoice_id
                FROM (
                    SELECT invoice_id, customer_id, amount FROM invoices
                    WHERE settled_on IS NULL AND amount > 0
                    ORDER BY invoice_date DESC, invoice_id LIMIT {rows}
                )
            ) TO '{folder / "payments.csv"}' (HEADER)"""
        )
    finally:
        con.close()
    return {"invoices": folder / "invoices.csv", "payments": folder / "payments.csv"}


def _copy_store(db: Path, copy: Path) -> float:
    import shutil

    started = time.perf_counter()
    for suffix in ("", ".wal"):
        Path(str(copy) + suffix).unlink(missing_ok=True)
        if Path(str(db) + suffix).exists():
            shutil.copyfile(str(db) + suffix, str(copy) + suffix)
    return time.perf_counter() - started


def _remove_store(copy: Path) -> None:
    for suffix in ("", ".wal"):
        Path(str(copy) + suffix).unlink(missing_ok=True)


def increment(args) -> None:
    """A day's 1,000 rows (500 invoices, 500 payments) imported into a copy of the store: as
    `arlens import` processes, in-process with import_file, against rebuilding every derived
    table of the copy (rebuild_derived, what each import did before imports were incremental)."""
    from arlens.ingest import importer
    from arlens.store import Store

    db = Path(args.db)
    folder = db.parent / "increment"
    copy = db.parent / "increment.duckdb"
    files = _increment_files(db, folder)
    out: dict = {
        "files": {t: {"path": str(p), "rows": 500} for t, p in files.items()},
        "rows": 1000,
        "cli": {},
        "in_process": {},
    }
    try:
        out["copy_s"] = _copy_store(db, copy)
        _log(f"copied {db.name} ({db.stat().st_size / 1e9:.2f} GB) in {out['copy_s']:.1f} s")
        for table, path in files.items():
            command = [*_arlens_command(), "import", str(path), "--table", table, "--db", str(copy)]
            out["cli"][table], _ = _timed_run(command)
            _log(f"arlens import {path.name} (whole process): {out['cli'][table]:.2f} s")
        out["cli_total"] = sum(out["cli"].values())

        _copy_store(db, copy)
        rebuild = getattr(importer, "rebuild_derived", None)
        if rebuild is None:
            from arlens.ingest.derive import rebuild_derived as rebuild
        with Store.open(copy) as store:
            for table, path in files.items():
                started = time.perf_counter()
                result = importer.import_file(store, path, table)
                out["in_process"][table] = time.perf_counter() - started
                out["files"][table]["rows_loaded"] = result.rows_loaded
                _log(f"import_file {path.name}: {out['in_process'][table]:.2f} s")
            out["in_process_total"] = sum(out["in_process"].values())
            started = time.perf_counter()
            with store.transaction():
                rebuild(store)
            out["rebuild_s"] = time.perf_counter() - started
            _log(f"rebuild_derived (every derived table): {out['rebuild_s']:.2f} s")
    finally:
        _remove_store(copy)
    out["peak_rss_mb"] = peak_rss_mb()
    _write(args.json, out)


def upgrade(args) -> None:
    """Bring a reused store up to the current schema (what `arlens status --upgrade` does)."""
    from arlens.store import Store

    with Store.open(args.db) as store:
        version = store.schema_version() if hasattr(store, "schema_version") else None
    _write(args.json, {"schema_version": version, "fingerprint": code_fingerprint()})


def memory(args) -> None:
    """Peak memory of AR Lens answering the three questions once, in a fresh process."""
    from arlens.store import Store
    from benchmarks.questions import QUESTIONS, arlens_answer

    with Store.open(args.db, read_only=True) as store:
        for question in QUESTIONS:
            arlens_answer(store, question)
    _write(args.json, {"peak_rss_mb": peak_rss_mb()})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.workers")
    steps = parser.add_subparsers(dest="step", required=True)
    p = steps.add_parser("generate")
    p.add_argument("--customers", type=int, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = steps.add_parser("import")
    p.add_argument("--csv-dir", type=Path, required=True)
    p.add_argument("--db", type=Path, required=True)
    p = steps.add_parser("export")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--out", type=Path, required=True)
    p = steps.add_parser("arlens")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--answers", type=Path, required=True)
    p.add_argument("--explain", type=Path)
    p = steps.add_parser("pandas")
    p.add_argument("--parquet", type=Path, required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--answers", type=Path, required=True)
    p.add_argument("--mem-limit-gb", type=float, default=0)
    p = steps.add_parser("polars")
    p.add_argument("--parquet", type=Path, required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--answers", type=Path, required=True)
    p.add_argument("--mem-limit-gb", type=float, default=0)
    p = steps.add_parser("cli")
    p.add_argument("--db", type=Path, required=True)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--answers", type=Path, required=True)
    p = steps.add_parser("increment")
    p.add_argument("--db", type=Path, required=True)
    p = steps.add_parser("memory")
    p.add_argument("--db", type=Path, required=True)
    p = steps.add_parser("upgrade")
    p.add_argument("--db", type=Path, required=True)
    for p in steps.choices.values():
        p.add_argument("--json", type=Path, required=True)
    args = parser.parse_args(argv)
    {
        "generate": generate,
        "import": import_,
        "export": export,
        "arlens": arlens,
        "pandas": pandas_,
        "polars": polars_,
        "cli": cli,
        "increment": increment,
        "memory": memory,
        "upgrade": upgrade,
    }[args.step](args)


if __name__ == "__main__":
    sys.exit(main())
