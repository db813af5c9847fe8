"""The `arlens` command line: the same store and queries the pages use."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from arlens.importer import ImportFailed, import_file
from arlens.mapping import TABLES
from arlens.store import Store, StoreError

# The order a folder of exports is imported in: customers first, so that documents find them.
FOLDER_ORDER = ["customers", "invoices", "credit_memos", "payments", "financials", "activities"]


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", help="database file (default: $ARLENS_DB, else data/arlens.duckdb)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="arlens", description="Accounts-receivable analytics.")
    commands = parser.add_subparsers(dest="command", required=True)

    p = commands.add_parser("import", help="import one export file into the store")
    p.add_argument("file", type=Path)
    p.add_argument("--table", required=True, choices=list(TABLES))
    p.add_argument("--mapping", type=Path, help="TOML mapping file (headers, values, formats)")
    p.add_argument("--sheet", help="Excel sheet to read (default: every sheet)")
    _add_db(p)

    p = commands.add_parser(
        "import-folder", help="import every <table>.csv (or .xlsx/.parquet/.jsonl) in a folder"
    )
    p.add_argument("folder", type=Path)
    _add_db(p)

    p = commands.add_parser("sample", help="generate a realistic company's AR exports")
    p.add_argument("--customers", type=int, default=400)
    p.add_argument("--years", type=int, default=3)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=Path("sample_data"))

    p = commands.add_parser("rejects", help="rows an import rejected, with line, column and reason")
    p.add_argument("--import", dest="import_id", type=int, help="one import (default: the last)")
    _add_db(p)

    p = commands.add_parser("imports", help="import history")
    _add_db(p)

    p = commands.add_parser("status", help="what the store holds")
    _add_db(p)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except (StoreError, ImportFailed) as error:
        print(f"arlens: {error}", file=sys.stderr)
        return 1


def cmd_import(args) -> int:
    with Store.open(args.db) as store:
        result = import_file(store, args.file, args.table, args.mapping, args.sheet)
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
            print(import_file(store, path, table).summary())
    return 0


def cmd_sample(args) -> int:
    from arlens.sample import generate

    counts = generate(args.out, customers=args.customers, years=args.years, seed=args.seed)
    for name, rows in counts.items():
        print(f"{args.out / name}: {rows:,} rows")
    return 0


def cmd_rejects(args) -> int:
    with Store.open(args.db, read_only=True) as store:
        import_id = args.import_id or store.value("SELECT max(import_id) FROM rejected_rows")
        frame = store.df(
            'SELECT file, line, "column", raw_value, reason FROM rejected_rows '
            "WHERE import_id = ? ORDER BY line NULLS FIRST",
            [import_id],
        )
    if frame.empty:
        print("no rejected rows")
    else:
        frame.to_csv(sys.stdout, index=False)
    return 0


def cmd_imports(args) -> int:
    with Store.open(args.db, read_only=True) as store:
        frame = store.df(
            "SELECT import_id, imported_at, file, target_table, rows_read, rows_loaded, "
            "rows_rejected, stub_customers FROM import_log ORDER BY import_id"
        )
    print(frame.to_string(index=False) if not frame.empty else "no imports yet")
    return 0


def cmd_status(args) -> int:
    with Store.open(args.db, read_only=True) as store:
        print(f"{store.path}: data version {store.data_version()}")
        for table, count in store.table_counts().items():
            print(f"  {table:<13}{count:>12,}")
    return 0


COMMANDS = {
    "import": cmd_import,
    "import-folder": cmd_import_folder,
    "sample": cmd_sample,
    "rejects": cmd_rejects,
    "imports": cmd_imports,
    "status": cmd_status,
}
