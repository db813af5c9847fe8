"""The docs stay honest: every command, report and named query is documented."""

from __future__ import annotations

from importlib import resources

import pytest
from conftest import REPO

from arlens import queries
from arlens.cli import COMMANDS, REPORTS

README = (REPO / "README.md").read_text()
SQL_DOMAINS = sorted(
    p.name[:-4]
    for p in resources.files("arlens").joinpath("sql").iterdir()
    if p.name.endswith(".sql") and p.name != "macros.sql"
)


@pytest.mark.parametrize("command", [*COMMANDS, *REPORTS])
def test_every_command_is_in_the_readme(command):
    assert f"arlens {command}" in README


@pytest.mark.parametrize("domain", SQL_DOMAINS)
def test_every_named_query_says_what_it_answers(domain):
    for name, query in queries.load(domain).items():
        assert query.doc.strip(), f"{domain}.{name} has no comment"


@pytest.mark.parametrize(
    "term",
    ["Open amount at D", "Unapplied cash", "Aging, due-date basis", "Past due", "DSO", "Best possible DSO",
     "Countback DSO", "CEI", "DIO, DPO, CCC", "Roll rates", "Allowance", "Concentration", "Credit review",
     "Collector call sheet"],
)  # fmt: skip
def test_every_metric_is_defined_in_how_numbers_are_computed(term):
    section = README.split("## How numbers are computed", 1)[1].split("\n## ", 1)[0]
    assert f"**{term}" in section
