"""Named SQL queries kept in `arlens/sql/*.sql`, one file per domain.

A query starts with a `-- name: <name>` line; the comment lines after it are its documentation;
the rest, up to the next name, is the SQL, with `$name` parameters. A reader goes from a number on
a page to its SQL in one hop: `queries.sql("aging", "by_customer")`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Query:
    name: str
    doc: str
    sql: str

    @property
    def parameters(self) -> list[str]:
        return parameters_of(self.sql)


def parameters_of(sql_text: str) -> list[str]:
    return sorted(set(re.findall(r"\$([a-z_][a-z0-9_]*)", sql_text)))


@cache
def load(domain: str) -> dict[str, Query]:
    text = resources.files("arlens").joinpath("sql").joinpath(f"{domain}.sql").read_text()
    queries: dict[str, Query] = {}
    for block in re.split(r"^-- name: ", text, flags=re.M)[1:]:
        name, _, body = block.partition("\n")
        doc_lines, sql_lines = [], []
        for line in body.splitlines():
            if not sql_lines and line.startswith("--"):
                doc_lines.append(line[2:].strip())
            else:
                sql_lines.append(line)
        queries[name.strip()] = Query(
            name.strip(), "\n".join(doc_lines), "\n".join(sql_lines).strip()
        )
    return queries


def sql(domain: str, name: str) -> str:
    return load(domain)[name].sql


# The sources every metric reads, each with a reporting-currency twin in macros.sql.
TRANSLATED_SOURCES = ("open_documents", "unapplied_items", "open_at_month_ends", "month_end_open",
                      "invoiced")  # fmt: skip
_SOURCE_CALL = re.compile(r"\b(" + "|".join(TRANSLATED_SOURCES) + r")\((\s*\))?")


def in_reporting_currency(sql_text: str) -> str:
    """The same query with every amount in the reporting currency: each source macro call becomes
    its twin, `open_documents(x)` → `open_documents_in($reporting, $rate_on, x)`. The metric's own
    SQL stays the one definition; only where its rows come from changes."""
    return _SOURCE_CALL.sub(
        lambda m: f"{m[1]}_in($reporting, $rate_on" + (")" if m[2] else ", "), sql_text
    )
