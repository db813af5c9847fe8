"""`python -m benchmarks.spark` (`make bench-spark`): the same questions on DuckDB and on Spark.

The benchmark's store (built by `benchmarks.runner.prepare`, reused when present) is exported to
Parquet and opened as a `SparkStore`; each question runs through the one function both engines
share, warm on each side, and the two answers must agree to the cent.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from arlens import metrics
from arlens.engines import spark as spark_engine
from arlens.engines.export import export_parquet
from arlens.store import Store
from benchmarks.questions import AS_OF, QUESTIONS, SIZES, TITLES, arlens_answer, compare
from benchmarks.runner import HERE, ROOT, StepFailed, log, prepare

SPARK_MD = HERE / "SPARK.md"
BEGIN = "<!-- BEGIN GENERATED: `python -m benchmarks.spark` rewrites everything up to the END marker -->"
END = "<!-- END GENERATED -->"
# The two call sheets, checked column by column: these keys identify a row; float columns are
# money (to the cent) except these ratios (1e-6 relative); every other column exactly.
EXTRA = {
    "worklist": (f"collections worklist at {AS_OF}", ["currency", "customer_id"]),
    "credit": (f"credit review at {AS_OF}", ["currency", "customer_id"]),
}
RATIOS = {"utilisation", "risk_score"}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.spark",
        description="AR Lens's questions on DuckDB and on Spark (local mode), timed and compared.",
    )
    parser.add_argument("--sizes", default="1m", help=f"comma-separated, of {', '.join(SIZES)}")
    parser.add_argument("--quick", action="store_true", help="100k smoke run (SPARK.md unchanged)")
    parser.add_argument("--repeat", type=int, default=3, help="best of N after a warm-up (3)")
    parser.add_argument("--data-dir", type=Path, default=HERE / "data", help="benchmarks/data")
    parser.add_argument("--master", default=spark_engine.DEFAULT_MASTER, help="Spark master")
    parser.add_argument("--no-results", action="store_true", help="do not rewrite SPARK.md")
    args = parser.parse_args(argv)
    args.sizes = ["100k"] if args.quick else [s.strip().lower() for s in args.sizes.split(",")]
    if unknown := [s for s in args.sizes if s not in SIZES]:
        parser.error(f"unknown size(s) {', '.join(unknown)}; choose from {', '.join(SIZES)}")
    if args.repeat < 1:
        parser.error("--repeat is at least 1")
    args.data_dir = args.data_dir.resolve()
    return args


def timed(work: Callable[[], object]) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def warm_best(work: Callable[[], pd.DataFrame], repeat: int) -> tuple[float, pd.DataFrame]:
    """One warm-up run, then the best of `repeat`; the last answer."""
    answer = work()
    best = float("inf")
    for _ in range(repeat):
        seconds, answer = timed(work)
        best = min(best, seconds)
    return best, answer


def ask(store, question: str) -> pd.DataFrame:
    if question == "worklist":
        return metrics.worklist(store, AS_OF)
    if question == "credit":
        return metrics.credit_review(store, AS_OF)
    return arlens_answer(store, question)


def _same(a: pd.Series, b: pd.Series, column: str) -> np.ndarray:
    if pd.api.types.is_float_dtype(a) and pd.api.types.is_float_dtype(b):
        x, y = a.to_numpy("float64", na_value=np.nan), b.to_numpy("float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):
            if column in RATIOS:
                equal = np.abs(x - y) <= 1e-6 * np.maximum(np.abs(x), np.abs(y)) + 1e-12
            else:
                equal = np.rint(x * 100) == np.rint(y * 100)
        return equal | (np.isnan(x) & np.isnan(y))
    return np.array(
        [
            (pd.isna(p) and pd.isna(q)) or (not pd.isna(p) and not pd.isna(q) and p == q)
            for p, q in zip(a.astype(object), b.astype(object), strict=True)
        ]
    )


def compare_frames(keys: list[str], duck: pd.DataFrame, spark: pd.DataFrame) -> list[str]:
    """Empty when both answers hold the same rows and columns, amounts equal to the cent."""
    if list(duck.columns) != list(spark.columns):
        return [f"columns differ: {list(duck.columns)} / {list(spark.columns)}"]
    if len(duck) != len(spark):
        return [f"{len(duck):,} DuckDB rows, {len(spark):,} Spark rows"]
    if duck.duplicated(keys).any():
        return [f"repeated keys {keys} in the DuckDB answer"]
    a = duck.sort_values(keys, ignore_index=True)
    b = spark.sort_values(keys, ignore_index=True)
    problems = []
    for column in a.columns:
        wrong = ~_same(a[column], b[column], column)
        if wrong.any():
            shown = pd.DataFrame(
                {**{k: a[k] for k in keys}, "DuckDB": a[column], "Spark": b[column]}
            )
            gap = ""
            if pd.api.types.is_float_dtype(a[column]):
                gap = f" (largest difference {(a[column] - b[column]).abs().max():.3g})"
            problems.append(
                f"{column}: {int(wrong.sum()):,} rows differ{gap}; first:\n"
                + shown[wrong].head(5).to_string(index=False, float_format="{:.10g}".format)
            )
    return problems


def check(question: str, duck: pd.DataFrame, spark: pd.DataFrame) -> list[str]:
    if question in QUESTIONS:
        return compare(question, duck, spark, other="Spark")
    return compare_frames(EXTRA[question][1], duck, spark)


def run_size(size: str, args: argparse.Namespace, facts: dict) -> dict:
    folder = args.data_dir / size
    prepare(size, args.data_dir)
    out: dict = {"size": size, "rows": [], "failed": False}
    with Store.open(folder / "arlens.duckdb", read_only=True) as store:
        log(f"{size}: exporting the store to Parquet")
        out["export_s"], _ = timed(lambda: export_parquet(store, folder / "spark_parquet"))
        if "session_s" not in facts:
            log("starting the Spark session")
            facts["session_s"], _ = timed(lambda: spark_engine.session(args.master))
        out["session_s"] = facts["session_s"]
        out["open_s"], sstore = timed(
            lambda: spark_engine.SparkStore.open(
                str(folder / "spark_parquet"), master=args.master, derive=False
            )
        )
        log(f"{size}: export {out['export_s']:.1f} s, SparkStore.open {out['open_s']:.1f} s")
        for question in (*QUESTIONS, *EXTRA):
            duck_s, duck = warm_best(lambda q=question: ask(store, q), args.repeat)
            spark_s, spark = warm_best(lambda q=question: ask(sstore, q), args.repeat)
            problems = check(question, duck, spark)
            for problem in problems:
                print(f"{size} {question}: DuckDB and Spark DISAGREE\n  {problem}", file=sys.stderr)
            out["failed"] |= bool(problems)
            rows = f"{len(duck):,}" + ("" if len(duck) == len(spark) else f" / {len(spark):,}")
            title = TITLES.get(question) or EXTRA[question][0]
            out["rows"].append((title, rows, duck_s, spark_s, not problems))
            log(f"{size}: {title}: DuckDB {duck_s:.3f} s, Spark {spark_s:.3f} s")
        out["derive"] = derive_on_spark(size, folder, store, args)
    out["failed"] |= out["derive"].get("agree") is False
    return out


def derive_on_spark(size: str, folder: Path, store: Store, args: argparse.Namespace) -> dict:
    """Inputs only to Parquet, derived tables made on Spark, aging by customer checked."""
    spec = importlib.util.find_spec("arlens.engines.spark_derive")
    if spec is None or not hasattr(importlib.import_module(spec.name), "derive"):
        print(
            f"{size}: arlens.engines.spark_derive.derive is not there; derivation on Spark skipped"
        )
        return {"skipped": True}
    inputs = folder / "spark_inputs"
    log(f"{size}: exporting the input tables only, deriving the rest on Spark")
    export_s, _ = timed(lambda: export_parquet(store, inputs, derived=False))
    open_s, sstore = timed(
        lambda: spark_engine.SparkStore.open(str(inputs), master=args.master, derive=True)
    )
    first_s, spark = timed(lambda: arlens_answer(sstore, "aging"))
    problems = compare("aging", arlens_answer(store, "aging"), spark, other="Spark (derived)")
    for problem in problems:
        print(f"{size} aging from Spark-derived tables DISAGREES\n  {problem}", file=sys.stderr)
    return {"export_s": export_s, "open_s": open_s, "first_aging_s": first_s, "agree": not problems}


def machine() -> dict:
    import duckdb
    import pyspark

    try:
        ram = f"{os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30:.0f} GiB RAM"
    except (ValueError, OSError):
        ram = "RAM unknown"
    try:
        java = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
        java = java.splitlines()[0].strip()
    except (OSError, IndexError):
        java = "java unknown"
    return {
        "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "cpus": os.cpu_count(),
        "ram": ram,
        "python": platform.python_version(),
        "duckdb": duckdb.__version__,
        "pyspark": pyspark.__version__,
        "java": java,
    }


def _ratio(duck_s: float, spark_s: float) -> str:
    return f"{spark_s / duck_s:.1f}×" if duck_s else "—"


def print_table(results: list[dict]) -> None:
    print(
        f"\n{'size':<5} {'question':<44} {'rows':>7} {'DuckDB s':>9} {'Spark s':>8} "
        f"{'Spark/DuckDB':>12}  agree"
    )
    for r in results:
        for title, rows, duck_s, spark_s, agree in r["rows"]:
            print(
                f"{r['size']:<5} {title:<44} {rows:>7} {duck_s:>9.3f} {spark_s:>8.3f} "
                f"{_ratio(duck_s, spark_s):>12}  {'yes' if agree else 'NO'}"
            )
        print(
            f"{r['size']}: export_parquet {r['export_s']:.1f} s · Spark session start "
            f"{r['session_s']:.1f} s · SparkStore.open {r['open_s']:.1f} s"
        )
        d = r["derive"]
        if not d.get("skipped"):
            print(
                f"{r['size']}: inputs-only export {d['export_s']:.1f} s · open with derive=True "
                f"{d['open_s']:.1f} s · first aging {d['first_aging_s']:.1f} s · aging "
                f"agrees with DuckDB: {'yes' if d['agree'] else 'NO'}"
            )
    print()


def markdown(results: list[dict], facts: dict, repeat: int) -> str:
    lines = [
        "## Results",
        "",
        f"Run {facts['date']} · `os.cpu_count()` = {facts['cpus']} · {facts['ram']} · Python "
        f"{facts['python']} · DuckDB {facts['duckdb']} · pyspark {facts['pyspark']} · "
        f"{facts['java']} · best of {repeat} after a warm-up run, each side.",
        "",
        "| size | question | rows | DuckDB s | Spark s | Spark / DuckDB | answers agree |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for r in results:
        for title, rows, duck_s, spark_s, agree in r["rows"]:
            lines.append(
                f"| {r['size']} | {title} | {rows} | {duck_s:.3f} | {spark_s:.3f} | "
                f"{_ratio(duck_s, spark_s)} | {'yes' if agree else 'NO'} |"
            )
    lines += ["", "| size | step | s |", "|---|---|---:|"]
    for r in results:
        steps = [
            ("export_parquet (every table)", r["export_s"]),
            ("Spark session start", r["session_s"]),
            ("SparkStore.open", r["open_s"]),
        ]
        d = r["derive"]
        if not d.get("skipped"):
            steps += [
                ("export_parquet(derived=False)", d["export_s"]),
                ("SparkStore.open(derive=True)", d["open_s"]),
                (
                    "first aging on Spark-derived tables "
                    f"(agrees: {'yes' if d['agree'] else 'NO'})",
                    d["first_aging_s"],
                ),
            ]
        lines += [f"| {r['size']} | {name} | {seconds:.1f} |" for name, seconds in steps]
    if any(r["derive"].get("skipped") for r in results):
        lines += ["", "Derivation on Spark: skipped (no `arlens.engines.spark_derive` yet)."]
    return "\n".join(lines) + "\n"


def write_results(text: str) -> None:
    """Replaces what is between the markers; the hand-written text around them stays."""
    head, rest = SPARK_MD.read_text().split(BEGIN, 1)
    SPARK_MD.write_text(head + BEGIN + "\n" + text + END + rest.split(END, 1)[1])
    log(f"wrote {SPARK_MD.relative_to(ROOT)}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    facts = machine()
    results = []
    for size in args.sizes:
        try:
            results.append(run_size(size, args, facts))
        except StepFailed as error:
            log(str(error))
            return 1
    print_table(results)
    if not (args.quick or args.no_results):
        write_results(markdown(results, facts, args.repeat))
    if any(r["failed"] for r in results):
        log("FAILED: DuckDB and Spark disagree (see above)")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
