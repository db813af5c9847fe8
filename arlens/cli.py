"""The `arlens` command line: the same store and queries the pages use."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

import pandas as pd

from arlens import metrics
from arlens.collections import commands as collections_commands
from arlens.exports import write_csv
from arlens.ingest.derive import rebuild_derived
from arlens.ingest.importer import ImportFailed, import_file
from arlens.ingest.mapping import TABLES
from arlens.store import Store, StoreError

# Money computed with rates, rounded to cents in CSV (sums of amounts are cents already).
COMPUTED_MONEY = ("allowance",)
# The order a folder of exports is imported in: customers first, so that documents find them.
FOLDER_ORDER = ["customers", "invoices", "credit_memos", "payments", "financials", "activities",
                "invoice_instalments", "orders", "credit_limits", "fx_rates"]  # fmt: skip


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database file (default: $ARLENS_DB, else data/arlens.duckdb)")


def _add_currency(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--currency",
        help="the store's home currency, set on its first import: what documents without a "
        "currency are in (default: the most common one in the data, else USD)",
    )


MODELS_HELP = (
    "model folder (default: $ARLENS_MODEL_DIR, else <db stem>.models beside the database: each "
    "store keeps its own model; one trained on another store is refused)"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arlens", description="Accounts-receivable analytics.")
    parser.add_argument(
        "--engine",
        choices=["duckdb", "spark"],
        default="duckdb",
        help="what runs the reports: the DuckDB store (default) or Spark over tables written by "
        "`arlens export` (--data); the same SQL either way",
    )
    parser.add_argument(
        "--spark-master",
        help=f"with --engine spark: the cluster (spark://host:7077, yarn, k8s://...; default "
        f"{SPARK_MASTER}, or what spark-submit set)",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser(
        "export", help="write the store's tables as Parquet with a manifest (for Spark and others)"
    )
    p.add_argument("--format", choices=["parquet"], default="parquet")
    p.add_argument("--out", type=Path, required=True, help="folder to write (replaced tables)")
    p.add_argument(
        "--partition",
        choices=["year", "none"],
        default="year",
        help="split the documents by year of their date (default) or not",
    )
    p.add_argument(
        "--inputs-only",
        action="store_true",
        help="only what was imported: the reading engine derives settlements itself",
    )
    _add_db(p)

    p = commands.add_parser("import", help="import one export file into the store")
    p.add_argument("file", type=Path)
    p.add_argument("--table", required=True, choices=list(TABLES))
    p.add_argument("--mapping", type=Path, help="TOML mapping file (headers, values, formats)")
    p.add_argument("--sheet", help="Excel sheet to read (default: every sheet)")
    _add_currency(p)
    _add_db(p)

    p = commands.add_parser(
        "import-folder", help="import every <table>.csv (or .xlsx/.parquet/.jsonl) in a folder"
    )
    p.add_argument("folder", type=Path)
    _add_currency(p)
    _add_db(p)

    p = commands.add_parser(
        "config",
        help="show or change a store setting (home currency, reporting currency, grace days)",
    )
    p.add_argument(
        "setting",
        nargs="?",
        choices=["currency", "reporting-currency", "grace-days"],
        help="the setting to show or set",
    )
    p.add_argument("value", nargs="?", help="the new value, e.g. EUR or 5")
    _add_db(p)

    p = commands.add_parser("sample", help="generate a realistic company's AR exports")
    p.add_argument("--customers", type=int, help="default 400 (a register: 150)")
    p.add_argument("--years", type=int, help="default 3 (a register: 2)")
    p.add_argument("--seed", type=int, help="default 7 (a register: 12)")
    p.add_argument("--out", type=Path, help="default sample_data (a register: registers/<kind>)")
    p.add_argument(
        "--register",
        choices=["dispute", "history", "noise"],
        help="instead: one invoice register (invoices.csv) whose lateness is driven by the "
        "dispute flag, the customer's own history, or mostly noise",
    )
    p.add_argument(
        "--with-activities",
        action="store_true",
        help="with --register: also activities.csv (dated disputes, calls) and payments.csv",
    )

    p = commands.add_parser("rejects", help="rows an import rejected, with line, column and reason")
    p.add_argument("--import", dest="import_id", type=int, help="one import (default: the last)")
    _add_db(p)

    p = commands.add_parser("imports", help="import history")
    _add_db(p)

    p = commands.add_parser(
        "audit", help="the audit trail (imports, retrains, settings, actions) as CSV"
    )
    p.add_argument("--since", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: 30 days ago)")
    p.add_argument("--until", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: today)")
    p.add_argument("--user", help="one user (an email, or `login (command line)`)")
    p.add_argument("--action", help="one action: import, retrain, setting, promise, hold, …")
    _add_db(p)

    p = commands.add_parser("status", help="what the store holds")
    p.add_argument(
        "--upgrade", action="store_true", help="bring a file from an older AR Lens up to date"
    )
    p.add_argument(
        "--rebuild",
        action="store_true",
        help="re-derive applications, unapplied items and month-end balances from scratch "
        "(imports re-derive only what they touch)",
    )
    _add_db(p)

    p = commands.add_parser(
        "train", help="train the late-payment risk model; prints its validation as JSON"
    )
    p.add_argument("--cutoff", type=dt.date.fromisoformat,
                   help="train on invoices issued before this date, test on the rest (default: automatic)")  # fmt: skip
    p.add_argument(
        "--grace-days", type=int, default=0, help="days after due that still count as on time"
    )
    p.add_argument("--models", type=Path, help=MODELS_HELP)
    _add_db(p)

    p = commands.add_parser(
        "score", help="score every open invoice and customer with the risk model"
    )
    p.add_argument(
        "--as-of", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: newest document)"
    )
    p.add_argument("--models", type=Path, help=MODELS_HELP)
    p.add_argument("--allow-stale", action="store_true",
                   help="score with a model trained on older data (the scores say so)")  # fmt: skip
    _add_db(p)

    p = commands.add_parser(
        "personas", help="cluster payment behaviour into personas, each with a strategy; store them"
    )
    p.add_argument(
        "--as-of", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: newest document)"
    )
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    p.add_argument(
        "--no-store", action="store_true", help="compute only: open the database read-only"
    )
    _add_db(p)

    collections_commands.add_parsers(commands, _add_db)  # statement, statements, dunning

    for name, help_text in REPORTS.items():
        p = commands.add_parser(name, help=help_text)
        _add_report_options(p, name)
    return parser


SPARK_MASTER = "local[*]"
# The reports `--engine spark` answers (the others read DuckDB-only tables: stored risk scores).
SPARK_REPORTS = ("aging", "open-items", "kpis", "trend", "rollrate", "allowance", "concentration",
                 "ccc", "credit-review", "worklist")  # fmt: skip

REPORTS = {
    "aging": "open AR by aging bucket, per customer (or segment, country, ...)",
    "open-items": "every open item at the as-of date with its bucket",
    "kpis": "DSO, best possible DSO, ADD, countback DSO, CEI",
    "trend": "aging at every month-end of a date range (or the KPIs with --kpis)",
    "rollrate": "roll rates between month-ends, with paid and written off",
    "allowance": "expected credit loss (the allowance) by bucket from historical roll rates",
    "concentration": "top-10 share of open AR and past due, HHI",
    "ccc": "DIO, DPO, DSO and the cash conversion cycle per financial period",
    "credit-review": "exposure, limits, stale reviews and hold candidates",
    "worklist": "past-due customers in priority order, each with its call sheet",
    "limits": "suggested credit limits from recent sales and payment, beside the current ones",
}


def _add_report_options(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument(
        "--as-of", type=dt.date.fromisoformat, help="YYYY-MM-DD (default: newest document)"
    )
    for key in ("segment", "country", "salesperson", "currency", "customer"):
        p.add_argument(f"--{key}", help=f"only this {key}")
    p.add_argument("--format", choices=["table", "csv", "json"], default="table")
    _add_db(p)
    if name in SPARK_REPORTS:
        p.add_argument(
            "--data", help="with --engine spark: the folder (or s3a://, abfss://, ... URL) of "
            "the tables `arlens export` wrote"
        )  # fmt: skip
        p.add_argument(
            "--derive",
            action="store_true",
            help="with --engine spark: derive settlements on Spark even when the export has them "
            "(done anyway when it holds the inputs only)",
        )
    if name in ("aging", "open-items", "trend"):
        p.add_argument("--basis", choices=["due", "invoice"], default="due")
    if name in ("aging", "open-items", "trend", "rollrate", "allowance"):
        p.add_argument(
            "--buckets", type=_edges, default=metrics.DEFAULT_EDGES, help="edges, e.g. 30,60,90,120"
        )
    if name == "aging":
        p.add_argument("--group-by", choices=list(metrics.GROUPS), default="customer")
        p.add_argument(
            "--net-unapplied",
            action="store_true",
            help="net unapplied cash and credits into the total",
        )
    if name in ("kpis", "trend"):
        p.add_argument(
            "--window", type=int, default=metrics.DEFAULT_WINDOW_DAYS, help="DSO window in days"
        )
    if name == "trend":
        p.add_argument(
            "--start", type=dt.date.fromisoformat, help="default: 24 months before --as-of"
        )
        p.add_argument("--kpis", action="store_true", help="the KPI series instead of the aging")
    if name == "rollrate":
        p.add_argument("--months", type=int, default=1, help="month pairs pooled (default 1)")
    if name == "allowance":
        p.add_argument("--history-months", type=int, default=12)
    if name == "limits":
        from arlens.credit_limits import BASES, LimitRule

        p.add_argument("--limit-basis", choices=BASES, default=LimitRule.basis,
                       help="monthly credit sales: the peak month (default) or the average")  # fmt: skip
        p.add_argument("--months", type=int, default=LimitRule.months,
                       help=f"months of sales and payments looked at (default {LimitRule.months})")  # fmt: skip
        p.add_argument("--step", type=float, default=LimitRule.step,
                       help=f"round suggestions up to a multiple of this (default {LimitRule.step:,.0f})")  # fmt: skip
    if name == "credit-review":
        rule = metrics.HoldRule()
        p.add_argument(
            "--hold-days",
            type=int,
            default=rule.days,
            help=f"days past due that count as seriously late (default {rule.days})",
        )
        p.add_argument(
            "--hold-min-amount",
            type=float,
            default=rule.min_amount,
            help="least amount seriously late, in the customer's currency "
            f"(default {rule.min_amount:,.0f})",
        )
        p.add_argument(
            "--hold-share",
            type=float,
            default=rule.share,
            help="least share of the exposure seriously late, halved after "
            f"--hold-broken-promises (default {rule.share})",
        )
        p.add_argument(
            "--hold-broken-promises",
            type=int,
            default=rule.broken_promises,
            help="broken promises in 90 days that halve --hold-share "
            f"(default {rule.broken_promises})",
        )
        p.add_argument(
            "--hold-utilisation",
            type=float,
            default=rule.utilisation,
            help=f"hold when exposure ÷ limit is above this (default {rule.utilisation}: over it)",
        )


def _edges(text: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("bucket edges are whole days, e.g. 30,60,90,120") from None


def cmd_report(args) -> int:
    filters = {
        key: value
        for key, value in (
            ("segment", args.segment),
            ("country", args.country),
            ("salesperson", args.salesperson),
            ("currency", args.currency),
            ("customer_id", args.customer),
        )
        if value
    }
    with _report_store(args) as store:
        as_of = args.as_of or metrics.latest_activity_date(store)
        if as_of is None:
            raise StoreError("the store has no invoices or payments yet: import some first")
        frame, parameters = _report(store, args, as_of, filters)
    parameters = {"report": args.command, "as_of": as_of, **parameters, "filters": filters}
    if args.engine == "spark":
        parameters["engine"] = f"spark ({args.spark_master or SPARK_MASTER})"
    _print(frame, parameters, args.format)
    return 0


def _report_store(args):
    """The DuckDB store, read-only; or with --engine spark the exported tables on Spark."""
    if args.engine != "spark":
        return Store.open(args.db, read_only=True)
    if args.command not in SPARK_REPORTS:
        raise ValueError(f"{args.command} runs on the DuckDB engine only")
    if not args.data:
        raise ValueError(
            "--engine spark reads the tables `arlens export --format parquet --out DIR` wrote: "
            "give --data DIR"
        )
    from arlens.engines.export import read_manifest
    from arlens.engines.spark import SparkStore

    try:
        if "://" not in args.data:  # a local folder is checked before Spark starts
            read_manifest(args.data)
        return SparkStore.open(args.data, args.spark_master, derive=True if args.derive else None)
    except FileNotFoundError as error:
        raise ValueError(str(error)) from None


def cmd_export(args) -> int:
    from arlens.engines.export import export_parquet

    with Store.open(args.db, read_only=True) as store:
        manifest = export_parquet(
            store, args.out, partition=args.partition, derived=not args.inputs_only
        )
    for name, table in manifest["tables"].items():
        split = f", by {table['partitioned_by']}" if table["partitioned_by"] else ""
        print(f"{args.out / name}: {table['rows']:,} rows ({table['kind']}{split})")
    print(f"{args.out / 'manifest.json'}: schema {manifest['schema_version']}, "
          f"data version {manifest['data_version']}")  # fmt: skip
    return 0


def _report(store: Store, args, as_of: dt.date, filters: dict):
    name = args.command
    if name == "aging":
        p = {
            "basis": args.basis,
            "buckets": list(args.buckets),
            "group_by": args.group_by,
            "net_unapplied": args.net_unapplied,
        }
        return metrics.aging(
            store, as_of, args.basis, args.buckets, args.group_by, args.net_unapplied, filters
        ), p
    if name == "open-items":
        p = {"basis": args.basis, "buckets": list(args.buckets)}
        return metrics.open_items(store, as_of, args.basis, args.buckets, filters), p
    if name == "kpis":
        return metrics.kpis(store, as_of, args.window, filters), {"window_days": args.window}
    if name == "trend":
        start = args.start or (as_of - relativedelta_months(24))
        p = {
            "start": start,
            "window_days": args.window,
            "basis": args.basis,
            "buckets": list(args.buckets),
        }
        if args.kpis:
            return metrics.kpi_series(store, start, as_of, args.window, filters), p
        return metrics.trend(store, start, as_of, args.basis, args.buckets, filters), p
    if name == "rollrate":
        p = {"months": args.months, "buckets": list(args.buckets)}
        return metrics.roll_rates(store, as_of, args.months, args.buckets, filters), p
    if name == "allowance":
        p = {"history_months": args.history_months, "buckets": list(args.buckets),
             "fallback_loss_rates": list(metrics.FALLBACK_LOSS_RATES)}  # fmt: skip
        return metrics.allowance(store, as_of, args.history_months, args.buckets, filters), p
    if name == "concentration":
        return metrics.concentration(store, as_of, filters), {}
    if name == "ccc":
        return metrics.cash_conversion_cycle(store, filters.get("currency"), as_of), {}
    if name == "credit-review":
        rule = metrics.HoldRule(
            days=args.hold_days,
            share=args.hold_share,
            min_amount=args.hold_min_amount,
            broken_promises=args.hold_broken_promises,
            utilisation=args.hold_utilisation,
        )
        return metrics.credit_review(store, as_of, filters, rule=rule), {
            **rule.params(),
            "hold_rule": rule.describe(),
        }
    from models.risk import customer_risk_scores  # the stored scores of `arlens score`

    if name == "limits":
        from arlens.credit_limits import LimitRule, suggested_limits

        rule = LimitRule(basis=args.limit_basis, months=args.months, step=args.step)
        scores = customer_risk_scores(store, as_of)
        return suggested_limits(store, as_of, filters, scores, rule), {
            "rule": rule.describe(),
            "risk_scored_customers": len(scores),
        }
    # Stored risk scores live in the DuckDB store only: on Spark the priority is amount × days.
    scores = customer_risk_scores(store) if isinstance(store, Store) else {}
    return metrics.worklist(store, as_of, filters, risk_scores=scores), {
        "risk_scored_customers": len(scores)
    }


def relativedelta_months(months: int) -> dt.timedelta:
    """Roughly `months` calendar months back (the trend starts at a month-end anyway)."""
    return dt.timedelta(days=round(months * 365.25 / 12))


def _print(frame: pd.DataFrame, parameters: dict, fmt: str) -> None:
    if fmt == "csv":
        write_csv(frame, sys.stdout, money=COMPUTED_MONEY)
    elif fmt == "json":
        rows = json.loads(frame.to_json(orient="records", date_format="iso"))
        print(json.dumps({"parameters": parameters, "rows": rows}, default=str, indent=2))
    elif frame.empty:
        print("nothing to show")
    else:
        with pd.option_context(
            "display.max_rows", 500, "display.width", 200, "display.max_columns", 40
        ):
            print(_readable(frame).to_string(index=False, float_format=lambda x: f"{x:,.2f}"))


def _readable(frame: pd.DataFrame) -> pd.DataFrame:
    """For the table format: a missing value is blank (not None/NaN/NaT/<NA>) and a date column
    shows no midnight time."""
    out = frame.copy()
    for name in out.columns:
        column = out[name]
        if pd.api.types.is_datetime64_any_dtype(column):
            midnight = (column.dropna() == column.dropna().dt.normalize()).all()
            out[name] = [
                "" if pd.isna(v) else (v.date().isoformat() if midnight else str(v)) for v in column
            ]
        elif column.isna().any():
            if pd.api.types.is_float_dtype(column):
                out[name] = ["" if pd.isna(v) else f"{v:,.2f}" for v in column]
            else:
                out[name] = ["" if pd.isna(v) else v for v in column.astype(object)]
    return out


def main(argv: list[str] | None = None) -> int:
    """Exit 0 on success, 1 for a problem the user can fix, 2 for usage errors and our bugs: every
    failure is one line on stderr, never a traceback."""
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS.get(args.command, cmd_report)(args)
    except (StoreError, ImportFailed, ValueError) as error:
        print(f"arlens: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # `arlens worklist | head`: the reader has gone; stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except KeyboardInterrupt:
        print("arlens: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug: one line the user can paste into a report, no traceback
        message = " ".join(str(error).split())
        print(
            f"arlens: internal error: {type(error).__name__}: {message} (please report it)",
            file=sys.stderr,
        )
        return 2


def cmd_import(args) -> int:
    with Store.open(args.db) as store:
        result = import_file(
            store, args.file, args.table, args.mapping, args.sheet, currency=args.currency
        )
    print(result.summary())
    return 0


def folder_files(folder: Path) -> list[tuple[Path, str]]:
    found = []
    for table in FOLDER_ORDER:
        for suffix in (".csv", ".tsv", ".xlsx", ".parquet", ".jsonl"):
            path = folder / f"{table}{suffix}"
            if path.exists():
                found.append((path, table))
    return found


def cmd_import_folder(args) -> int:
    files = folder_files(args.folder)
    if not files:
        raise ImportFailed(
            f"{args.folder}: no files named after a table ({', '.join(FOLDER_ORDER)})"
        )
    with Store.open(args.db) as store:
        for path, table in files:
            print(import_file(store, path, table, currency=args.currency).summary())
    return 0


def cmd_config(args) -> int:
    """`arlens config` lists the settings; `arlens config currency EUR` changes one."""
    if args.value is None:
        with Store.open(args.db, read_only=True) as store:
            shown = {
                "currency": store.home_currency() or "(not set: the first import sets it)",
                "reporting-currency": store.reporting_currency()
                or "(not set: totals stay per currency)",
                "grace-days": store.grace_days(),
            }
        for name, value in shown.items():
            if args.setting in (None, name):
                print(f"{name} = {value}")
        return 0
    if args.setting in (None, "currency"):
        with Store.open(args.db) as store, store.transaction():
            old = store.home_currency()
            store.set_home_currency(args.value)
            store.bump_data_version()
            new = store.home_currency()
        changed = (
            f" (was {old}; documents imported without a currency are now {new})" if old else ""
        )
        print(f"currency = {new}{changed}")
        return 0
    with Store.open(args.db) as store, store.transaction():
        if args.setting == "reporting-currency":
            store.set_reporting_currency(args.value)
            value = store.reporting_currency()
        else:
            store.set_grace_days(args.value)
            value = store.grace_days()
        store.bump_data_version()
    print(f"{args.setting} = {value}")
    return 0


def cmd_sample(args) -> int:
    if args.register:
        from arlens.registers import generate_register

        out = args.out or Path("registers") / args.register
        given = {"seed": args.seed, "customers": args.customers, "years": args.years}
        counts = generate_register(
            out,
            args.register,
            with_activities=args.with_activities,
            **{key: value for key, value in given.items() if value is not None},
        )
    else:
        from arlens.sample import generate

        if args.with_activities:
            raise ValueError("--with-activities goes with --register")
        out = args.out or Path("sample_data")
        counts = generate(
            out,
            customers=400 if args.customers is None else args.customers,
            years=3 if args.years is None else args.years,
            seed=7 if args.seed is None else args.seed,
        )
    for name, rows in counts.items():
        print(f"{out / name}: {rows:,} rows")
    return 0


def cmd_rejects(args) -> int:
    """The rows one import rejected: by default the last import's, even when it had none."""
    with Store.open(args.db, read_only=True) as store:
        history = metrics.import_history(store).set_index("import_id")
        if history.empty:
            print("no imports yet")
            return 0
        import_id = history.index[0] if args.import_id is None else args.import_id
        if import_id not in history.index:
            raise StoreError(f"no import {import_id}: `arlens imports` lists them")
        frame = metrics.rejected_rows(store, int(import_id)).drop(columns="raw_row")
    if frame.empty:
        print(f"import {import_id} ({history.loc[import_id, 'file']}) had no rejected rows")
    else:
        write_csv(frame, sys.stdout)
    return 0


def cmd_imports(args) -> int:
    with Store.open(args.db, read_only=True) as store:
        frame = store.df(
            "SELECT import_id, imported_at, file, target_table, rows_read, rows_loaded, "
            "rows_rejected, stub_customers FROM import_log ORDER BY import_id"
        )
    print(frame.to_string(index=False) if not frame.empty else "no imports yet")
    return 0


def cmd_audit(args) -> int:
    """The trail as CSV on stdout, safe to open in a spreadsheet (arlens.team.audit)."""
    from arlens.team import audit

    until = args.until or dt.date.today()
    since = args.since or until - dt.timedelta(days=30)
    with Store.open(args.db, read_only=True) as store:
        frame = audit.trail(store, since, until, args.user, args.action)
    sys.stdout.write(audit.trail_csv(frame).decode("utf-8-sig"))
    return 0


def cmd_status(args) -> int:
    with Store.open(args.db, read_only=not (args.upgrade or args.rebuild)) as store:
        if args.rebuild:
            started = time.perf_counter()
            with store.transaction():
                rebuild_derived(store)
                store.bump_data_version()
            print(f"re-derived every derived table in {time.perf_counter() - started:.1f} s")
        print(f"{store.path}: data version {store.data_version()}")
        for table, count in store.table_counts().items():
            print(f"  {table:<13}{count:>12,}")
    return 0


def cmd_train(args) -> int:
    from models import risk  # scikit-learn is loaded for this command only

    def progress(fraction: float, message: str) -> None:
        print(f"{fraction:4.0%} {message}", file=sys.stderr)

    with Store.open(args.db, read_only=True) as store:
        report = risk.train(
            store,
            cutoff=args.cutoff,
            grace_days=args.grace_days,
            model_dir=risk.resolve_model_dir(args.models, store),
            progress=progress,
        )
    with Store.open(args.db) as store:  # a moment read-write, to log it
        store.audit("retrain", "late-payment model", _audit_summary(report))
    print(json.dumps(report, indent=2, default=str))
    return 0


def _audit_summary(report: dict) -> dict:
    """The top-level facts of a model run (not its tables) for the audit trail."""
    return {k: v for k, v in report.items() if isinstance(v, str | int | float | bool) or v is None}


def cmd_score(args) -> int:
    from models import risk

    with Store.open(args.db) as store:
        as_of = args.as_of or metrics.latest_activity_date(store)
        if as_of is None:
            raise StoreError("the store has no invoices or payments yet: import some first")
        result = risk.score(
            store,
            as_of,
            model_dir=risk.resolve_model_dir(args.models, store),
            allow_stale=args.allow_stale,
        )
        store.audit("retrain", "risk scores", {"as_of": as_of, **_audit_summary(result)})
    print(json.dumps(result, indent=2, default=str))
    return 0


def cmd_personas(args) -> int:
    from models import personas  # scikit-learn is loaded for this command only

    with Store.open(args.db, read_only=args.no_store) as store:
        as_of = args.as_of or metrics.latest_activity_date(store)
        if as_of is None:
            raise StoreError("the store has no invoices or payments yet: import some first")
        frame, info = personas.run_report(store, as_of, save=not args.no_store)
        if not args.no_store:
            store.audit("retrain", "customer personas", {"as_of": as_of, **_audit_summary(info)})
    parameters = {"report": "personas", "as_of": as_of, "stored": not args.no_store, **info}
    if args.format == "table":
        _print(pd.DataFrame(info["personas"]), parameters, "table")
        print(personas.summary_text(info))
    else:
        _print(frame, parameters, args.format)
    return 0


COMMANDS = {
    "export": cmd_export,
    "import": cmd_import,
    "import-folder": cmd_import_folder,
    "config": cmd_config,
    "sample": cmd_sample,
    "rejects": cmd_rejects,
    "imports": cmd_imports,
    "audit": cmd_audit,
    "status": cmd_status,
    "personas": cmd_personas,
    "train": cmd_train,
    "score": cmd_score,
    **collections_commands.COMMANDS,
}
