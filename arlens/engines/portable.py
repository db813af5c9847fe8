"""The metric SQL for engines other than DuckDB: the same text, its macros expanded, transpiled.

`arlens/sql/*.sql` is written in DuckDB's dialect and leans on TEMP macros (`open_documents(as_of)`,
`bucket_index(...)`) for its shared definitions. Spark has no macros, so before transpiling each
macro call is replaced by the macro's body with the call's arguments put in for its parameters —
the same substitution DuckDB makes — and the query then goes through sqlglot into Spark SQL. The
`$name` parameters stay parameters (`:name` in Spark, bound by `spark.sql(text, args=...)`).
There is no second copy of any definition: a change to macros.sql or to a query reaches both
engines.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import sqlglot
from sqlglot import exp, transforms
from sqlglot.dialects.spark import Spark
from sqlglot.generators.spark import SparkGenerator

from arlens import queries

_DEFAULT = re.compile(r"(\w+)\s*:=\s*([^,)]+)")


@dataclass(frozen=True)
class Macro:
    name: str
    parameters: tuple[str, ...]
    body: exp.Expression
    is_table: bool
    defaults: dict[str, exp.Expression] = field(default_factory=dict)


def parse_macros(text: str) -> dict[str, Macro]:
    """The `CREATE ... MACRO` statements of a file, by name. sqlglot does not read a default in a
    macro's header (`scoped := false`): it is taken out first and kept as the default."""
    macros: dict[str, Macro] = {}
    for statement in _split_statements(text):
        header, _, _ = statement.partition(" AS ")
        defaults = {
            name: sqlglot.parse_one(value, read="duckdb")
            for name, value in _DEFAULT.findall(header)
        }
        statement = _DEFAULT.sub(r"\1", header) + statement[len(header) :]
        tree = sqlglot.parse_one(statement, read="duckdb")
        if not isinstance(tree, exp.Create) or str(tree.args.get("kind")).upper() != "MACRO":
            raise ValueError(f"not a macro: {statement[:60]}")
        function = tree.this
        name = function.this.name
        parameters = tuple(p.name for p in function.expressions)
        body = tree.expression
        macros[name] = Macro(name, parameters, body, isinstance(body, exp.Query), defaults)
    return macros


def _split_statements(text: str) -> list[str]:
    """Statements end with `;` at the end of a line (none of ours has one inside a string)."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("--"))
    return [part.strip() for part in re.split(r";\s*$", text, flags=re.M) if part.strip()]


@cache
def shared_macros() -> dict[str, Macro]:
    """macros.sql and credit.sql's building blocks: every macro a metric query can call."""
    text = resources.files("arlens").joinpath("sql").joinpath("macros.sql").read_text()
    return {**parse_macros(text), **parse_macros(queries.sql("credit", "credit_macros"))}


def _arguments(call: exp.Anonymous, macro: Macro) -> dict[str, exp.Expression]:
    given: dict[str, exp.Expression] = dict(macro.defaults)
    position = 0
    for argument in call.expressions:
        if isinstance(argument, exp.PropertyEQ | exp.Kwarg):
            given[argument.this.name] = argument.expression
        else:
            given[macro.parameters[position]] = argument
            position += 1
    missing = [p for p in macro.parameters if p not in given]
    if missing:
        raise ValueError(f"{macro.name}() is called without {', '.join(missing)}")
    return given


def _substitute(macro: Macro, arguments: dict[str, exp.Expression], serial: int) -> exp.Expression:
    """The macro's body with its parameters replaced, as DuckDB reads them: an unqualified name
    that is a parameter is the parameter (`customers.segment = segment`)."""

    def put_in(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.Column) and not node.table and node.name in arguments:
            return arguments[node.name].copy()
        return node

    body = macro.body.copy().transform(put_in)
    return _own_cte_names(body, f"{macro.name}_{serial}")


def _own_cte_names(body: exp.Expression, prefix: str) -> exp.Expression:
    """A macro body's CTEs renamed `<macro>_<n>__<cte>`: sqlglot lifts a subquery's CTEs to the
    top for Spark, where two bodies' `items` (or the query's own) would collide."""
    with_ = body.args.get("with_") or body.args.get("with")
    if not with_:
        return body
    names = {cte.alias: f"{prefix}__{cte.alias}" for cte in with_.expressions}
    for table in body.find_all(exp.Table):
        if not table.db and table.name in names:
            if not table.alias:
                table.set("alias", exp.TableAlias(this=exp.to_identifier(table.name)))
            table.set("this", exp.to_identifier(names[table.name]))
    for cte in with_.expressions:
        cte.args["alias"].set("this", exp.to_identifier(names[cte.alias]))  # keeps a column list
    return body


def expand(sql_text: str, macros: dict[str, Macro] | None = None) -> exp.Expression:
    """The query with every macro call replaced by its body (macros calling macros included): a
    table macro becomes a subquery under the call's alias (or the macro's name), a scalar macro a
    parenthesised expression."""
    macros = shared_macros() if macros is None else macros
    tree = sqlglot.parse_one(sql_text, read="duckdb")
    serial = itertools.count(1)
    for _ in range(50):  # deeper than any chain of ours; a macro calling itself would not end
        changed = False
        for table in list(tree.find_all(exp.Table)):
            call = table.this
            if isinstance(call, exp.Anonymous) and call.name.lower() in macros:
                macro = macros[call.name.lower()]
                alias = table.args.get("alias") or exp.TableAlias(
                    this=exp.to_identifier(macro.name)
                )
                body = _substitute(macro, _arguments(call, macro), next(serial))
                table.replace(exp.Subquery(this=body, alias=alias.copy()))
                changed = True
        for call in list(tree.find_all(exp.Anonymous)):
            macro = macros.get(call.name.lower())  # SQL names know no case
            if macro and not macro.is_table:
                body = _substitute(macro, _arguments(call, macro), next(serial))
                call.replace(exp.Paren(this=body))
                changed = True
        if not changed:
            return tree
    raise ValueError("macro expansion does not end (a macro calls itself?)")


def _ranges_as_spark(tree: exp.Expression) -> exp.Expression:
    """`FROM range(1, 25) t(k)` reads the same in Spark (sqlglot would make it an EXPLODE that
    loses the column's name)."""
    for table in list(tree.find_all(exp.Table)):
        series = table.this
        if isinstance(series, exp.GenerateSeries) and series.args.get("is_end_exclusive"):
            call = exp.Anonymous(this="range", expressions=[series.args["start"].copy(),
                                                            series.args["end"].copy()])  # fmt: skip
            table.set("this", call)
    return tree


def _intervals_as_spark(tree: exp.Expression) -> exp.Expression:
    """`INTERVAL (k - 1) MONTH`: Spark takes a computed length through make_ym_interval /
    make_dt_interval (its INTERVAL takes a literal only)."""
    for interval in list(tree.find_all(exp.Interval)):
        length, unit = interval.this, str(interval.unit.name if interval.unit else "").upper()
        if length is None or isinstance(length, exp.Literal):
            continue
        length = exp.cast(length.unnest(), "INT")
        zero = exp.Literal.number(0)
        arguments = {"YEAR": [length, zero], "MONTH": [zero, length], "DAY": [length]}.get(unit)
        if arguments is None:
            raise ValueError(f"no Spark form for INTERVAL (...) {unit}")
        maker = "make_dt_interval" if unit == "DAY" else "make_ym_interval"
        interval.replace(exp.Anonymous(this=maker, expressions=arguments))
    return tree


def _lists_as_spark(tree: exp.Expression) -> exp.Expression:
    """List indexing as Spark counts it. DuckDB counts from 1 and sqlglot moves a literal index
    (`a[1]` → `a[0]`) but leaves a computed one (`$edges[bucket - 1]`), which Spark would read one
    place off: element_at counts from 1 like DuckDB. `list_slice(a, from, to)` (both ends in) is
    Spark's `slice(a, from, length)`; `list_position` is `array_position` (0, not NULL, when
    the value is not there)."""
    for bracket in list(tree.find_all(exp.Bracket)):
        index = bracket.expressions
        if len(index) == 1 and not isinstance(index[0], exp.Literal | exp.Slice):
            position = exp.cast(index[0].copy(), "INT")
            bracket.replace(exp.Anonymous(this="element_at",
                                          expressions=[bracket.this.copy(), position]))  # fmt: skip
    for call in list(tree.find_all(exp.Anonymous)):
        if call.name.lower() == "list_position":  # not found: NULL in DuckDB, 0 in Spark
            found = exp.Anonymous(this="array_position",
                                  expressions=[e.copy() for e in call.expressions])  # fmt: skip
            call.replace(exp.Nullif(this=found, expression=exp.Literal.number(0)))
    for call in list(tree.find_all(exp.Anonymous)):
        if call.name.lower() == "list_slice":
            values, start, end = (e.copy() for e in call.expressions)
            length = exp.Sub(this=exp.Paren(this=end), expression=exp.Paren(this=start.copy()))
            length = exp.cast(exp.Add(this=length, expression=exp.Literal.number(1)), "INT")
            start = exp.cast(start, "INT")
            call.replace(exp.Anonymous(this="slice", expressions=[values, start, length]))
    return tree


def _division_as_duckdb(tree: exp.Expression) -> exp.Expression:
    """`a / b` is a DOUBLE in DuckDB whatever a and b are; Spark divides two DECIMALs into a
    DECIMAL of at most 6 places (a utilisation of 0.4456024691 would come back 0.445602)."""
    for division in list(tree.find_all(exp.Div)):
        division.set("this", exp.cast(division.this.copy(), "DOUBLE"))
    return tree


class _SparkGenerator(SparkGenerator):
    """Spark 4 reads QUALIFY itself: no rewrite into a subquery (sqlglot's Spark 2 heritage)."""

    TRANSFORMS = {
        **SparkGenerator.TRANSFORMS,
        exp.Select: transforms.preprocess(
            [
                transforms.eliminate_distinct_on,
                transforms.unnest_to_explode,
                transforms.any_to_exists,
            ]
        ),
    }


class SparkSQL(Spark):
    Generator = _SparkGenerator


def to_spark(sql_text: str, macros: dict[str, Macro] | None = None) -> str:
    """Spark SQL for a DuckDB query of ours, `$name` parameters as `:name`."""
    tree = expand(sql_text, macros)
    for rewrite in (_ranges_as_spark, _intervals_as_spark, _lists_as_spark, _division_as_duckdb):
        tree = rewrite(tree)
    return tree.sql(dialect=SparkSQL, pretty=True)
