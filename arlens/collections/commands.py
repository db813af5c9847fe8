"""The command line of statements and dunning (`arlens statement`, `statements`, `dunning`).

    arlens statement --customer ID [--from D1] [--to D2] [--open-items] [--format pdf|csv] --out PATH
    arlens statements --as-of D [--from D1] [--past-due-only] [--open-items] [--combined] --out DIR
    arlens dunning run --as-of D [--policy FILE] [--confirm | --dry-run] [--send] --out DIR
    arlens dunning history [--customer ID]
    arlens dunning policy [FILE]

Heavy modules (fpdf2, pandas' writers) load inside the commands, so other commands start fast.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from arlens.store import Store, StoreError, resolve_db_path


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _common(p: argparse.ArgumentParser, add_db) -> None:
    p.add_argument("--config", type=Path,
                   help="settings file ([company], [smtp], [pdf]; default: arlens.toml beside the database)")  # fmt: skip
    add_db(p)


def add_parsers(commands, add_db) -> None:
    """The collections commands on the `arlens` parser's subcommands."""
    p = commands.add_parser("statement", help="one customer's statement of account (PDF or CSV)")
    p.add_argument("--customer", required=True, help="the customer's id")
    p.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD", help="first day (default: the first of --to's month)")  # fmt: skip
    p.add_argument(
        "--to",
        dest="end",
        type=_date,
        metavar="YYYY-MM-DD",
        help="last day (default: the newest document)",
    )
    p.add_argument("--open-items", action="store_true", help="only what is outstanding at --to")
    p.add_argument("--format", choices=["pdf", "csv"], default=None,
                   help="default: from --out's suffix, else pdf")  # fmt: skip
    p.add_argument("--out", type=Path, required=True, help="the file to write (or a folder)")
    _common(p, add_db)

    p = commands.add_parser(
        "statements", help="statements of every (past-due) customer into a folder"
    )
    p.add_argument("--as-of", dest="end", type=_date, metavar="YYYY-MM-DD", help="the statements' date (default: the newest document)")  # fmt: skip
    p.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD", help="first day (default: the first of --as-of's month)")  # fmt: skip
    p.add_argument("--past-due-only", action="store_true", help="only customers with past due")
    p.add_argument("--open-items", action="store_true", help="only what is outstanding at --as-of")
    p.add_argument("--combined", action="store_true", help="one file instead of one per customer")
    p.add_argument("--format", choices=["pdf", "csv"], default="pdf")
    p.add_argument("--out", type=Path, required=True, help="the folder to write into")
    _common(p, add_db)

    p = commands.add_parser(
        "dunning", help="dunning runs (reminder letters and emails) and their history"
    )
    sub = p.add_subparsers(dest="dunning_command", required=True)
    run = sub.add_parser("run", help="propose (and with --confirm record) the notices due")
    run.add_argument("--as-of", type=_date, help="the run's date (default: the newest document)")
    run.add_argument("--policy", type=Path, help="dunning policy TOML (default: arlens.toml's [dunning] policy, else the shipped one)")  # fmt: skip
    mode = run.add_mutually_exclusive_group()
    mode.add_argument("--dry-run", action="store_true", help="write the letters, record nothing (the default)")  # fmt: skip
    mode.add_argument("--confirm", action="store_true", help="record each notice as a dunning activity")  # fmt: skip
    run.add_argument("--send", action="store_true",
                     help="email the notices through [smtp] and record those sent (needs --confirm)")  # fmt: skip
    run.add_argument("--from", dest="start", type=_date,
                     help="attach the statement of account from this day (default: the open items)")  # fmt: skip
    run.add_argument("--out", type=Path, required=True, help="folder for the letters, emails and proposal.csv")  # fmt: skip
    _common(run, add_db)
    history = sub.add_parser("history", help="the dunning notices sent, newest first")
    history.add_argument("--customer", help="one customer's")
    history.add_argument("--format", choices=["table", "csv", "json"], default="table")
    add_db(history)
    policy = sub.add_parser("policy", help="print the shipped dunning policy, or check one")
    policy.add_argument("file", nargs="?", type=Path, help="a policy to check and summarise")


def _as_of(store: Store, given: dt.date | None) -> dt.date:
    from arlens import metrics

    day = given or metrics.latest_activity_date(store)
    if day is None:
        raise StoreError("the store has no invoices or payments yet: import some first")
    return day


def _settings(args):
    from arlens.collections.config import load_settings

    return load_settings(args.config, resolve_db_path(args.db))


def _warn_unreconciled(statements) -> None:
    for s in statements:
        for problem in s.problems():
            print(
                f"arlens: warning: {s.customer.customer_id} {s.currency}: {problem}",
                file=sys.stderr,
            )


def _by_customer(statements) -> dict[str, list]:
    groups: dict[str, list] = {}
    for s in statements:
        groups.setdefault(s.customer.customer_id, []).append(s)
    return groups


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def cmd_statement(args) -> int:
    from arlens.collections import render
    from arlens.collections import statements as st

    settings = _settings(args)
    with Store.open(args.db, read_only=True) as store:
        end = _as_of(store, args.end)
        if args.start and args.start > end:
            raise st.StatementError(f"--from {args.start} is after --to {end}")
        customer = st.check_customer(store, args.customer)
        found = st.statements(store, end, args.start, [customer.customer_id], args.open_items)
        if not found:  # nothing ever billed: an empty statement in its currency
            found = [
                st.statement(store, customer.customer_id, end, args.start, None, args.open_items)
            ]
    fmt = args.format or ("csv" if args.out.suffix.lower() == ".csv" else "pdf")
    out = args.out
    if out.is_dir():
        out = out / f"{render.file_stem(customer.customer_id, end)}.{fmt}"
    data = render.statement_csv(found) if fmt == "csv" else render.statement_pdf(found, settings)
    _write(out, data)
    _warn_unreconciled(found)
    for s in found:
        print(f"{customer.customer_id} {customer.name} ({s.currency}): opening "
              f"{s.text(s.opening)}, closing {s.text(s.closing)}, past due {s.text(s.past_due)}")  # fmt: skip
    print(f"wrote {out}")
    return 0


def cmd_statements(args) -> int:
    from arlens.collections import render
    from arlens.collections import statements as st

    started = time.perf_counter()
    settings = _settings(args)
    with Store.open(args.db, read_only=True) as store:
        end = _as_of(store, args.end)
        if args.start and args.start > end:
            raise st.StatementError(f"--from {args.start} is after --as-of {end}")
        ids = st.past_due_customers(store, end) if args.past_due_only else None
        found = st.statements(store, end, args.start, ids, args.open_items)
    _warn_unreconciled(found)
    out, suffix = args.out, args.format
    out.mkdir(parents=True, exist_ok=True)
    if args.combined:
        data = (
            render.statement_csv(found)
            if suffix == "csv"
            else render.statement_pdf(found, settings)
        )
        files = [_write(out / f"statements-{end.isoformat()}.{suffix}", data)]
    else:
        groups = _by_customer(found)
        if suffix == "csv":
            datas = [render.statement_csv(group) for group in groups.values()]
        else:
            datas = render.statement_pdfs(list(groups.values()), settings)
        files = [_write(out / f"{render.file_stem(customer_id, end)}.{suffix}", data)
                 for customer_id, data in zip(groups, datas, strict=True)]  # fmt: skip
    customers = len({s.customer.customer_id for s in found})
    print(f"wrote {len(found):,} statements of {customers:,} customers as of {end} into "
          f"{len(files):,} {suffix.upper()} files in {out} ({time.perf_counter() - started:.1f} s)")  # fmt: skip
    return 0


def cmd_dunning(args) -> int:
    if args.dunning_command == "history":
        return _history(args)
    if args.dunning_command == "policy":
        return _policy(args)
    return _run(args)


def _policy(args) -> int:
    from arlens.collections import dunning

    if args.file is None:
        print(dunning.default_policy_text(), end="")
        return 0
    policy = dunning.load_policy(args.file)
    print(f"{policy.source}: {policy.name}, {policy.top} levels")
    for level in policy.levels:
        extra = "".join([f", fee {level.fee}" if level.fee else "",
                         f", interest {level.interest_rate}% a year" if level.interest_rate else "",
                         f", then {level.action}" if level.action else ""])  # fmt: skip
        print(f"  {level.level} {level.name}: {level.days_past_due}+ days past due, at least "
              f"{level.min_past_due} past due, {level.min_days_since_previous}+ days after the "
              f"previous notice{extra}")  # fmt: skip
    return 0


def _history(args) -> int:
    from arlens.cli import _print
    from arlens.collections import dunning
    from arlens.collections import statements as st

    with Store.open(args.db, read_only=True) as store:
        if args.customer:
            st.check_customer(store, args.customer)
        frame = dunning.history(store, args.customer)
    _print(frame, {"report": "dunning history", "customer": args.customer}, args.format)
    return 0


def _run(args) -> int:
    from arlens.collections import dunning, mail, render
    from arlens.collections import statements as st
    from arlens.exports import to_csv_bytes

    settings = _settings(args)
    if args.send and not args.confirm:
        raise ValueError("--send records what it sends: give --confirm too")
    if args.send and settings.smtp is None:
        raise ValueError(
            "--send needs [smtp] settings (host, port, ...) in arlens.toml or --config"
        )
    policy = dunning.load_policy(args.policy or settings.policy)
    with Store.open(args.db, read_only=not args.confirm) as store:
        as_of = _as_of(store, args.as_of)
        if args.start and args.start > as_of:
            raise st.StatementError(f"--from {args.start} is after --as-of {as_of}")
        run = dunning.propose(store, as_of, policy)
        ids = [n.customer.customer_id for n in run.notices]
        found = st.statements(store, as_of, args.start, ids, open_items_only=args.start is None)
        groups = _by_customer(found)
        out = args.out
        out.mkdir(parents=True, exist_ok=True)
        _write(out / "proposal.csv", to_csv_bytes(run.table()))
        letters = [(n, groups.get(n.customer.customer_id, [])) for n in run.notices]
        messages = []
        for notice, pdf in zip(run.notices, render.letter_pdfs(letters, settings), strict=True):
            _write(out / f"{notice.reference}.pdf", pdf)
            message = mail.notice_message(notice, settings.company, pdf,
                                          settings.smtp.sender if settings.smtp else None)  # fmt: skip
            mail.write_eml(message, out / f"{notice.reference}.eml")
            messages.append(message)
        recorded = _record(store, run, messages, args)
    _summary(run, out, recorded, args)
    return 0


def _record(store: Store, run, messages, args) -> int:
    """Nothing on a dry run; with --confirm every notice; with --send the notices sent."""
    from arlens.collections import dunning, mail

    if not args.confirm:
        return 0
    if not args.send:
        return dunning.confirm(store, run)
    settings = _settings(args)
    try:
        sent = set(mail.send(messages, settings.smtp))
    except mail.MailError as error:
        dunning.confirm(store, run, [n for n in run.notices if n.reference in error.sent])
        raise
    print(f"sent {len(sent):,} emails ({len(messages) - len(sent):,} customers have no email "
          "address: their letters are to post)")  # fmt: skip
    return dunning.confirm(store, run, [n for n in run.notices if n.reference in sent])


def _summary(run, out: Path, recorded: int, args) -> None:
    from collections import Counter

    levels = Counter(n.level.level for n in run.notices)
    skips = Counter(s.kind for s in run.skipped)
    grace = f", past due after {run.grace_days} grace days" if run.grace_days else ""
    print(f"dunning run as of {run.as_of} ({run.policy.name}{grace}): {len(run.notices):,} notices"
          + "".join(f", level {k}: {v:,}" for k, v in sorted(levels.items())))  # fmt: skip
    if skips:
        print(
            "not sent: "
            + ", ".join(f"{SKIP_WORDS.get(k, k)} {v:,}" for k, v in skips.most_common())
        )
    for notice in run.notices:
        if notice.level.action:
            print(f"  {notice.customer.customer_id} {notice.customer.name}: {notice.level.action}")
    print(f"wrote proposal.csv, {len(run.notices):,} letters (.pdf) and emails (.eml) to {out}")
    if not args.confirm:
        print("dry run: nothing recorded (--confirm records these notices as dunning activities)")
    else:
        print(f"recorded {recorded:,} notices as dunning activities")


SKIP_WORDS = {
    "dispute": "in dispute",
    "promise": "promised to pay",
    "blocked": "dunning blocked",
    "today": "already sent today",
    "final": "at the last level",
    "wait": "too soon after the last notice",
    "threshold": "below the next level's threshold",
}
COMMANDS = {"statement": cmd_statement, "statements": cmd_statements, "dunning": cmd_dunning}
