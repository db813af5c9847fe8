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
        return sorted(set(re.findall(r"\$([a-z_][a-z0-9_]*)", self.sql)))


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
