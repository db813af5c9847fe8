"""Bad input through `arlens import`: every case of bad_input/make_cases.py, the same invariants.

For every case, in-process through the command line, on a store seeded with one small valid import:
1. no traceback reaches the user: exit code 0 or 1, never an escaped exception or internal error;
2. a failed import (exit 1) changes no data table;
3. importing the same file again changes nothing;
4. the loaded rows carry exactly the case's amounts, every data row is loaded or rejected
   (loaded + rejected amounts add up to the file's), and no other row appears;
5. each rejected line is kept in rejected_rows with file, line, column, raw value and a reason.
Then what the case itself expects: exit code, message, stored values, notes, applications.
"""

from __future__ import annotations

import re
import shutil
import traceback
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from bad_input.make_cases import CASES, Case, CaseFiles, write_all, write_seed

from arlens.cli import main

DATA_TABLES = ["customers", "invoices", "payments", "applications", "financials", "activities"]
# --table -> (stored table, its key, the amount column that invariant 4 adds up)
TARGETS = {
    "invoices": ("invoices", "invoice_id", "amount"),
    "credit_memos": ("invoices", "invoice_id", "amount"),
    "payments": ("payments", "payment_id", "amount"),
    "customers": ("customers", "customer_id", "credit_limit"),
    "financials": ("financials", "period_end", "revenue"),
    "activities": ("activities", "activity_id", "promised_amount"),
}
MAX_LISTED = 6  # per check, at most this many differences are spelled out
D0 = Decimal("0.00")


@pytest.fixture(scope="session")
def case_files(tmp_path_factory) -> dict[str, CaseFiles]:
    """Every case's files, written once per session by the case script."""
    return write_all(tmp_path_factory.mktemp("bad_input"))


@pytest.fixture(scope="session")
def seeded(tmp_path_factory):
    """A store holding the seed import, one per set of seed arguments, copied for each case."""
    folder = tmp_path_factory.mktemp("seeds")
    seed = write_seed(folder)
    made: dict[tuple, tuple[Path | None, str]] = {}
    states: dict[tuple, State] = {}

    def _seeded(extra: tuple[str, ...], table: str, capsys) -> tuple[Path | None, str, State]:
        """(the seeded file or None, why not, its state as the case's table sees it)."""
        if extra not in made:
            db = folder / f"seed{len(made)}.duckdb"
            argv = ["import", str(seed), "--table", "invoices", "--db", str(db), *extra]
            outcome = run_cli(argv, capsys)
            if outcome.code == 0:
                made[extra] = (db, "")
            else:
                made[extra] = (None, f"seed import {' '.join(extra)} failed: {outcome.brief()}")
        db, why = made[extra]
        if db is not None and (extra, table) not in states:
            states[extra, table] = read_state(db, table)
        return db, why, states.get((extra, table))

    return _seeded


@dataclass
class Outcome:
    code: object
    out: str
    err: str
    escaped: str = ""  # the traceback of an exception that got out of main()

    def brief(self) -> str:
        text = (self.escaped.strip().splitlines() or [""])[-1] or self.err.strip() or self.out
        return f"exit {self.code}: {one_line(text)}"


def one_line(text: str, limit: int = 160) -> str:
    text = " / ".join(line.strip() for line in text.strip().splitlines() if line.strip())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def run_cli(argv: list[str], capsys) -> Outcome:
    """`arlens.cli.main(argv)` in-process, with what it printed."""
    capsys.readouterr()
    escaped = ""
    try:
        code = main(argv)
    except SystemExit as exit_:  # argparse: usage errors
        code = exit_.code
    except Exception:  # noqa: BLE001 - the point is that nothing escapes
        code, escaped = None, traceback.format_exc()
    out, err = capsys.readouterr()
    return Outcome(code, out, err, escaped)


@dataclass
class State:
    tables: dict[str, list]  # every data table's rows, sorted
    rows: dict  # key -> {column: value} of the case's table
    applied: dict[str, Decimal]  # source id -> total applied
    last_import: int
    logs: list  # (rows_loaded, rows_rejected) of imports after `since`
    rejected: list  # (file, line, column, raw_value, reason) of imports after `since`


def read_state(db: Path, table: str, since: int = 0) -> State:
    """Everything the checks look at, read in one connection."""
    target, key, _ = TARGETS[table]
    if not db.exists():
        return State({t: [] for t in DATA_TABLES}, {}, {}, 0, [], [])
    con = duckdb.connect(str(db))
    try:
        tables = {
            t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in DATA_TABLES
        }
        result = con.execute(f"SELECT * FROM {target}")
        names = [d[0] for d in result.description]
        rows = {}
        for values in result.fetchall():
            row = dict(zip(names, values, strict=True))
            rows[row[key]] = row
        applied = dict(
            con.execute("SELECT source_id, sum(amount) FROM applications GROUP BY 1").fetchall()
        )
        last = con.execute("SELECT coalesce(max(import_id), 0) FROM import_log").fetchall()[0][0]
        logs = con.execute(
            "SELECT rows_loaded, rows_rejected FROM import_log WHERE import_id > ? ORDER BY 1",
            [since],
        ).fetchall()
        rejected = con.execute(
            'SELECT file, line, "column", raw_value, reason FROM rejected_rows '
            "WHERE import_id > ? ORDER BY line",
            [since],
        ).fetchall()
    finally:
        con.close()
    return State(tables, rows, applied, int(last), logs, rejected)


def changed_tables(before: State, after: State) -> list[str]:
    return [t for t in DATA_TABLES if before.tables[t] != after.tables[t]]


def listed(items: list[str]) -> str:
    more = len(items) - MAX_LISTED
    return "; ".join(items[:MAX_LISTED]) + (f"; … and {more} more" if more > 0 else "")


def found(pattern: str, text: str) -> bool:
    return re.search(pattern, text, re.IGNORECASE) is not None


def crash_problems(outcome: Outcome, what: str) -> list[str]:
    """Invariant 1: no traceback, exit code 0 or 1, no internal error."""
    problems = []
    if outcome.escaped:
        problems.append(f"{what}: an exception escaped main(): {outcome.brief()}")
    elif outcome.code not in (0, 1):
        problems.append(f"{what}: exit code {outcome.code!r} (0 or 1 expected): {outcome.brief()}")
    printed = outcome.out + outcome.err
    if "Traceback" in printed:
        problems.append(f"{what}: a traceback was printed")
    if found("internal error", printed):
        problems.append(f"{what}: an internal error was reported: {one_line(outcome.err)}")
    return problems


def rejected_problems(case: Case, files: CaseFiles, rejected: list) -> list[str]:
    """Invariant 5: every expected line rejected and kept, with file, line, column, raw, reason."""
    problems = []
    by_line: dict[int, list] = {}
    for row in rejected:
        if row[1] is not None:
            by_line.setdefault(row[1], []).append(row)
    unexpected = sorted(set(by_line) - set(case.rejected))
    if unexpected:
        problems.append(
            "unexpected rejections: "
            + listed([f"line {n} {by_line[n][0][2]} {by_line[n][0][3]!r}: {by_line[n][0][4]}"
                      for n in unexpected])
        )  # fmt: skip
    for line, want in sorted(case.rejected.items()):
        kept = by_line.get(line)
        if not kept:
            problems.append(f"line {line} not rejected (expected /{want.reason}/)")
            continue
        matching = [r for r in kept if found(want.reason, r[4] or "")]
        if not matching:
            reasons = " | ".join(str(r[4]) for r in kept)
            problems.append(f"line {line}: reason {reasons!r} does not match /{want.reason}/")
            continue
        file, _, column, raw, _ = matching[0]
        if not file or files.data.stem.split(".")[0] not in file:
            problems.append(f"line {line}: rejected row names file {file!r}")
        if want.column is not None and column != want.column:
            problems.append(f"line {line}: rejected column {column!r}, expected {want.column!r}")
        if want.raw is not None and raw != want.raw:
            problems.append(f"line {line}: raw value {raw!r}, expected {want.raw!r}")
    return problems


def stored_problems(case: Case, before: State, after: State, logs: list) -> list[str]:
    """Invariant 4 and the stored values: exactly the case's rows, with exactly its values."""
    _, _, amount_column = TARGETS[case.table]
    problems, wrong = [], []
    for key, want in case.rows.items():
        got = after.rows.get(key)
        if got is None:
            wrong.append(f"{key!r} not stored")
            continue
        for column, value in want.items():
            stored = got.get(column, "<no such column>")
            if stored != value or type(stored) is not type(value):
                wrong.append(f"{key} {column}: stored {stored!r}, expected {value!r}")
    if wrong:
        problems.append("stored values: " + listed(wrong))
    extra = sorted(set(after.rows) - set(before.rows) - set(case.rows), key=repr)
    if extra:
        problems.append(
            "rows stored that the case does not expect: " + listed([repr(k) for k in extra])
        )
    # Invariant 4: the stored amounts plus the rejected lines' amounts are the file's amounts.
    expected = [w[amount_column] for w in case.rows.values() if amount_column in w]
    stored = [after.rows.get(k, {}).get(amount_column) for k, w in case.rows.items()
              if amount_column in w]  # fmt: skip
    rejected_total = sum((r.amount for r in case.rejected.values() if r.amount is not None), D0)
    file_total = sum((a for a in expected if a is not None), D0) + rejected_total
    stored_total = sum((a for a in stored if isinstance(a, Decimal)), D0)
    if stored_total + rejected_total != file_total:
        problems.append(
            f"amounts: stored {stored_total} + rejected {rejected_total} = "
            f"{stored_total + rejected_total}, but the file's rows total {file_total}"
        )
    if len(logs) != 1:
        problems.append(f"{len(logs)} import_log rows for one import")
    elif logs[0] != (len(case.rows), len(case.rejected)):
        problems.append(
            f"import_log says {logs[0][0]} loaded, {logs[0][1]} rejected; the file has "
            f"{len(case.rows)} to load and {len(case.rejected)} to reject"
        )
    return problems


def check(case: Case, files: CaseFiles, db: Path, capsys, template_state=None) -> list[str]:
    argv = ["import", str(files.data), "--table", case.table, "--db", str(db), *case.extra]
    if files.mapping is not None:
        argv += ["--mapping", str(files.mapping)]
    for setup, path in zip(case.setup, files.setup, strict=True):
        setup_argv = ["import", str(path), "--table", setup.table, "--db", str(db), *setup.extra]
        outcome = run_cli(setup_argv, capsys)
        if outcome.code != 0:
            return [f"setup import {path.name} failed: {outcome.brief()}"]

    before = template_state if template_state is not None and not case.setup else None
    before = before or read_state(db, case.table)
    first = run_cli(argv, capsys)
    problems = crash_problems(first, "import")
    if problems and first.code not in (0, 1):
        return problems
    printed = first.out + first.err
    for path in (files.data, files.mapping, files.folder):  # fragments must not match a path
        if path is not None:
            printed = printed.replace(str(path), "<path>")
    if first.code != case.exit:
        problems.append(f"exit code {first.code}, expected {case.exit}: {first.brief()}")
    after = read_state(db, case.table, since=before.last_import)
    logs, rejected = after.logs, after.rejected

    if first.code == 1:  # invariant 2
        if changed_tables(before, after):
            problems.append(f"failed import changed {', '.join(changed_tables(before, after))}")
        err = first.err.strip()
        if len(err.splitlines()) != 1:
            problems.append(f"failure message is {len(err.splitlines())} lines, not one")
        if case.message and first.code == case.exit and not found(case.message, printed):
            problems.append(f"message {one_line(first.err)!r} does not match /{case.message}/")
    problems += rejected_problems(case, files, rejected)
    if case.exit == 0 and first.code == 0:
        problems += stored_problems(case, before, after, logs)
        for note in case.notes:
            if not found(note, printed):
                problems.append(f"no note matching /{note}/ in: {one_line(first.out, 300)}")
    for source, amount in case.applied.items():
        got = after.applied.get(source) or D0
        if got != amount:
            problems.append(f"applied from {source}: {got}, expected {amount}")

    again = run_cli(argv, capsys)  # invariant 3
    problems += crash_problems(again, "re-import")
    if again.code != first.code:
        problems.append(f"re-import exit code {again.code}, the first import gave {first.code}")
    changed = changed_tables(after, read_state(db, case.table))
    if changed:
        problems.append(f"re-importing the same file changed {', '.join(changed)}")
    return problems


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input(case: Case, case_files, seeded, tmp_path, capsys):
    """The case's file through `arlens import`: the five invariants, then the case's own outcome."""
    db, state = tmp_path / "ar.duckdb", None
    if case.seed:
        template, why, state = seeded(case.seed_extra, case.table, capsys)
        assert template is not None, why
        shutil.copy(template, db)
    problems = check(case, case_files[case.name], db, capsys, state)
    assert not problems, f"[{case.cls}] {case.about}\n  - " + "\n  - ".join(problems)
