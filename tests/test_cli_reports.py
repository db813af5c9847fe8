"""The report commands answer from the same queries as the pages, with their parameters in JSON."""

from __future__ import annotations

import json

import pytest
from conftest import DATA

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
