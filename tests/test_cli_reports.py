"""The report commands answer from the same queries as the pages, with their parameters in JSON."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import DATA

from arlens import cli
from arlens.cli import REPORTS, main
from arlens.ingest.importer import import_file
from arlens.store import Store


@pytest.fixture(scope="module")
def ledger_db(tmp_path_factory):
    path = tmp_path_factory.mktemp("ledger") / "ledger.duckdb"
    with Store.open(path) as store:
        for table in ("customers", "invoices", "payments", "activities"):
            import_file(store, DATA / "ledger" / f"{table}.csv", table)
    return str(path)


def run_json(capsys, *args) -> dict:
    assert main([*args, "--format", "json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("command", list(REPORTS))
def test_every_report_runs_in_every_format(capsys, ledger_db, command):
    for fmt in ("table", "csv", "json"):
        assert main([command, "--db", ledger_db, "--as-of", "2026-03-31", "--format", fmt]) == 0
        assert capsys.readouterr().out.strip()


def test_aging_json_carries_its_parameters(capsys, ledger_db):
    out = run_json(capsys, "aging", "--db", ledger_db, "--as-of", "2026-03-31", "--group-by", "none",
                   "--buckets", "30,60", "--salesperson", "Ann")  # fmt: skip
    assert out["parameters"] == {
        "report": "aging", "as_of": "2026-03-31", "basis": "due", "buckets": [30, 60],
        "group_by": "none", "net_unapplied": False, "filters": {"salesperson": "Ann"},
    }  # fmt: skip
    [row] = out["rows"]
    assert (row["Current"], row["1-30"], row["31-60"], row["61+"], row["total"]) == (
        300,
        400,
        600,
        0,
        1300,
    )


def test_kpis_and_worklist_from_the_shell(capsys, ledger_db):
    kpis = run_json(capsys, "kpis", "--db", ledger_db, "--as-of", "2026-03-31")["rows"][0]
    assert round(kpis["dso"], 6) == 63.0 and round(kpis["countback_dso"], 6) == 62.1
    work = run_json(capsys, "worklist", "--db", ledger_db, "--as-of", "2026-03-31")["rows"]
    assert [w["summary"] for w in work] == [
        "$800 is over 60 days past due",
        "$600 is over 30 days past due",
    ]


def test_bad_bucket_edges_fail_in_one_line(capsys, ledger_db):
    assert main(["aging", "--db", ledger_db, "--buckets", "60,30"]) == 1
    assert "increasing" in capsys.readouterr().err


def test_rejects_shows_the_last_import_even_when_it_had_none(tmp_path, capsys):
    db = str(tmp_path / "rejects.duckdb")
    Store.open(db).close()
    assert main(["rejects", "--db", db]) == 0
    assert capsys.readouterr().out == "no imports yet\n"
    bad, clean = DATA / "bad_invoices.csv", DATA / "ledger" / "invoices.csv"
    for path in (bad, clean):
        assert main(["import", str(path), "--table", "invoices", "--db", db]) == 0
    capsys.readouterr()
    assert main(["rejects", "--db", db]) == 0
    assert capsys.readouterr().out == f"import 2 ({clean}) had no rejected rows\n"
    assert main(["rejects", "--db", db, "--import", "1"]) == 0
    header, *rows = list(csv.reader(io.StringIO(capsys.readouterr().out, newline="")))
    assert header == ["file", "line", "column", "raw_value", "reason"]
    assert rows and {row[0] for row in rows} == {str(bad)}
    assert main(["rejects", "--db", db, "--import", "9"]) == 1
    assert capsys.readouterr().err == "arlens: no import 9: `arlens imports` lists them\n"


def test_an_unexpected_error_is_one_line_not_a_traceback(monkeypatch, capsys, ledger_db):
    def broken(args):
        raise RuntimeError("the query went\nwrong")

    monkeypatch.setitem(cli.COMMANDS, "status", broken)
    monkeypatch.setattr(cli, "cmd_report", broken)
    for argv in (["status", "--db", ledger_db], ["aging", "--db", ledger_db]):
        assert main(argv) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert captured.err == (
            "arlens: internal error: RuntimeError: the query went wrong (please report it)\n"
        )
