"""Import one AR export into the store: map headers, type and check every value, load what is good.

The whole import is one transaction: it lands whole or changes nothing. Rows that fail a check are
kept in `rejected_rows` with file, line, column, raw value and reason; they never block the rest.
Re-importing a file upserts by key, so it changes nothing the second time.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from arlens import queries
from arlens.ingest.mapping import (
    AMOUNT,
    BOOLEAN,
    DATE,
    INTEGER,
    TABLES,
    Mapping,
    MappingError,
    TableSpec,
    resolve_headers,
)
from arlens.ingest.readers import ReadError, Source, open_source
from arlens.store import Store

DEFAULT_TERMS_DAYS = 30

DATE_FORMATS = [
    "%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%dT%H:%M:%S.%f", "%Y/%m/%d", "%Y%m%d",
    "%m/%d/%Y", "%m/%d/%y", "%m-%d-%Y", "%m/%d/%Y %H:%M", "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p",
    "%d/%m/%Y", "%d.%m.%Y", "%d-%m-%Y", "%d/%m/%y", "%d.%m.%y", "%d.%m.%Y %H:%M:%S",
    "%d/%m/%Y %H:%M", "%d/%m/%Y %H:%M:%S",
    "%d-%b-%Y", "%d %b %Y", "%b %d, %Y", "%d-%b-%y", "%B %d, %Y", "%d %B %Y", "%d-%b-%Y %H:%M:%S",
]  # fmt: skip

TRUE_WORDS = ["true", "t", "yes", "y", "1", "x", "disputed", "j", "ja", "oui", "si", "on"]
FALSE_WORDS = ["false", "f", "no", "n", "0", "nein", "non", "off", "-"]

DOC_TYPES = {
    "invoice": ["invoice", "inv", "in", "rv", "ar", "sale", "sales", "bill", "dr"],
    "credit_memo": ["creditmemo", "credit", "cm", "cr", "creditnote", "cn", "dg", "return"],
    "debit_memo": ["debitmemo", "debit", "dm", "debitnote", "dn"],
}
ACTIVITY_KINDS = {
    "call": ["call", "phone", "phonecall", "telephone", "calloutbound", "callinbound"],
    "email": ["email", "mail", "emailsent"],
    "letter": ["letter", "post"],
    "dunning": ["dunning", "reminder", "dunningletter", "paymentreminder"],
    "promise": ["promise", "ptp", "promisetopay"],
    "dispute": ["dispute", "disputeraised"],
    "note": ["note", "comment", "other", "memo"],
}


class ImportFailed(Exception):
    """Nothing could be loaded; the message is one line naming the file and what to do."""


@dataclass
class ImportResult:
    import_id: int
    file: str
    table: str
    rows_read: int
    rows_loaded: int
    rows_rejected: int
    stub_customers: int
    mapping: dict
    notes: list[str] = field(default_factory=list)
    warnings: list[tuple[str, int, float | None]] = field(default_factory=list)
    rejected_sample: list[dict] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"{self.file} -> {self.table}: {self.rows_read:,} rows read, {self.rows_loaded:,} loaded, "
            f"{self.rows_rejected:,} rejected"
            + (
                f", {self.stub_customers:,} new customers created as stubs"
                if self.stub_customers
                else ""
            )
        ]
        lines += [f"  note: {note}" for note in self.notes]
        for what, count, amount in self.warnings:
            money = f" ({amount:,.2f})" if amount is not None else ""
            lines.append(f"  in the store now: {count:,} {what}{money}")
        for row in self.rejected_sample:
            where = f"line {row['line']}" if row["line"] is not None else "file"
            column = f", {row['column']}" if row["column"] else ""
            raw = f" {row['raw_value']!r}" if row["raw_value"] is not None else ""
            lines.append(f"  rejected {where}{column}{raw}: {row['reason']}")
        if self.rows_rejected > len(self.rejected_sample):
            lines.append(f"  every rejected row: arlens rejects --import {self.import_id}")
        return "\n".join(lines)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def import_file(
    store: Store,
    path: str | Path,
    table: str,
    mapping_path: str | Path | None = None,
    sheet: str | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import one file into `table`; raises ImportFailed (nothing changed) when nothing can load."""
    path = Path(path)
    if table not in TABLES:
        raise ImportFailed(f"unknown table {table!r}; choose one of {', '.join(TABLES)}")
    spec = TABLES[table]
    try:
        mapping = Mapping.load(Path(mapping_path) if mapping_path else None)
        options = dict(mapping.options)
        if sheet:
            options["sheet"] = sheet
        sources = open_source(path, options)
    except (ReadError, MappingError) as error:
        raise ImportFailed(str(error)) from None
    except OSError as error:
        raise ImportFailed(f"{path}: cannot read: {error.strerror or error}") from None

    sha256 = file_sha256(path)
    with store.transaction():
        import_id = int(store.value("SELECT nextval('import_id_seq')"))
        job = _Import(store, spec, mapping, import_id, progress)
        for source in sources:
            job.add_source(source, only_one=len(sources) == 1)
        if job.rows_read == 0:
            raise ImportFailed(f"{path}: nothing loaded: {job.why_nothing_loaded()}")
        stubs = job.finish()
        result = ImportResult(
            import_id=import_id,
            file=str(path),
            table=table,
            rows_read=job.rows_read,
            rows_loaded=job.rows_loaded,
            rows_rejected=job.rows_rejected,
            stub_customers=stubs,
            mapping=job.mapping_record,
            notes=job.notes,
        )
        store.execute(
            "INSERT INTO import_log VALUES ($id, $file, $sha, $table, $read, $loaded, $rejected,"
            " $stubs, $mapping, $notes, now()::TIMESTAMP)",
            {
                "id": import_id,
                "file": str(path),
                "sha": sha256,
                "table": table,
                "read": job.rows_read,
                "loaded": job.rows_loaded,
                "rejected": job.rows_rejected,
                "stubs": stubs,
                "mapping": json.dumps(job.mapping_record),
                "notes": "\n".join(job.notes),
            },
        )
        store.bump_data_version()
        if spec.target in ("invoices", "payments"):
            result.warnings = [
                (what, int(count), float(amount) if amount is not None else None)
                for what, count, amount in store.rows(queries.sql("derive", "import_warnings"))
                if count
            ]
        result.rejected_sample = [
            dict(zip(("line", "column", "raw_value", "reason"), row, strict=False))
            for row in store.rows(
                'SELECT line, "column", raw_value, reason FROM rejected_rows WHERE import_id = ?'
                " ORDER BY line NULLS FIRST LIMIT 10",
                [import_id],
            )
        ]
    if result.rows_loaded == 0:
        # The rejected rows are kept (arlens rejects), but the user must hear that nothing landed.
        raise ImportFailed(f"{path}: nothing loaded: {job.why_nothing_loaded()}")
    return result


def _ident(name: str) -> str:
    """Column names come from TABLES (a whitelist), never from the file; quote them anyway."""
    return '"' + name.replace('"', '""') + '"'


def _fold_sql(expr: str) -> str:
    return f"regexp_replace(lower({expr}), '[^0-9a-z]', '', 'g')"


def _words_case(expr: str, groups: dict[str, list[str]]) -> str:
    """CASE over a fixed vocabulary (constants of this module, not user input)."""
    folded = _fold_sql(expr)
    whens = " ".join(
        f"WHEN {folded} IN ({', '.join(repr(w) for w in words)}) THEN '{name}'"
        for name, words in groups.items()
    )
    return f"CASE {whens} END"


class _Import:
    """The work of one import inside its transaction."""

    def __init__(self, store: Store, spec: TableSpec, mapping: Mapping, import_id: int, progress):
        self.store = store
        self.spec = spec
        self.mapping = mapping
        self.import_id = import_id
        self.progress = progress
        self.rows_read = self.rows_loaded = self.rows_rejected = 0
        self.notes: list[str] = []
        self.mapping_record: dict = {"sources": []}
        self.skipped: list[str] = []

    # -- staging ------------------------------------------------------------------------------

    def add_source(self, source: Source, only_one: bool) -> None:
        spec = self.spec
        try:
            chosen, unused = resolve_headers(source.header, spec, self.mapping)
        except MappingError as error:
            raise ImportFailed(f"{source.name}: {error}") from None
        present = set(chosen) | set(self.mapping.defaults)
        missing = [c for c in spec.required if c not in present]
        if spec.target in ("payments", "activities") and "invoice_id" in present:
            missing = [c for c in missing if c != "customer_id"]  # taken from the invoice
        if missing:
            message = (
                f"no column for {', '.join(missing)} (headers: {', '.join(source.header)}); "
                'name it in a mapping file: [columns] "Your Header" = "' + missing[0] + '"'
            )
            if only_one:
                raise ImportFailed(f"{source.name}: {message}")
            self.skipped.append(source.name)
            self.notes.append(f"{source.name} skipped: {message}")
            return

        # Every source column is staged as read (rejected rows keep all of it); the canonical
        # columns are then picked from it.
        width = len(source.header)
        raw_columns = [f"c{i}" for i in range(width)]
        self.store.execute("DROP TABLE IF EXISTS _raw_stage")
        self.store.execute(
            "CREATE TEMP TABLE _raw_stage (_line BIGINT, "
            + ", ".join(f"{c} VARCHAR" for c in raw_columns)
            + ")"
        )
        for batch in source.batches:
            if len(batch.lines) == 0:
                continue
            arrays = {"_line": pa.array(batch.lines, pa.int64())}
            if batch.table is not None:
                arrays.update(zip(raw_columns, batch.table.columns, strict=True))
            else:
                for name, values in zip(raw_columns, zip(*batch.rows, strict=True), strict=True):
                    arrays[name] = pa.array(values, pa.string())
            self.store.con.register("_arlens_batch", pa.table(arrays))
            try:
                self.store.execute("INSERT INTO _raw_stage BY NAME SELECT * FROM _arlens_batch")
            finally:
                self.store.con.unregister("_arlens_batch")
            self.rows_read += len(batch.lines)
            if self.progress:
                self.progress(self.rows_read)
        picked = ", ".join(
            f"NULLIF(trim(c{chosen[c]}), '') AS {_ident(c)}"
            if c in chosen
            else f"NULL::VARCHAR AS {_ident(c)}"
            for c in spec.columns
        )
        self.store.execute("DROP TABLE IF EXISTS _stage")
        self.store.execute(f"CREATE TEMP TABLE _stage AS SELECT _line, {picked} FROM _raw_stage")
        self.rows_read += len(source.bad_rows)

        for column, value in self.mapping.defaults.items():
            if column in spec.columns:
                self.store.execute(
                    f"UPDATE _stage SET {_ident(column)} = $v WHERE {_ident(column)} IS NULL",
                    {"v": value},
                )
        for column, pairs in self.mapping.values.items():
            if column not in spec.columns:
                raise ImportFailed(f"mapping [values.{column}]: {spec.name} has no column {column}")
            self.store.execute(
                f"UPDATE _stage SET {_ident(column)} = m.value "
                "FROM (SELECT unnest($raws) AS raw, unnest($values) AS value) m "
                f"WHERE trim(_stage.{_ident(column)}) = m.raw",
                {"raws": list(pairs), "values": list(pairs.values())},
            )

        formats = self._detect_date_formats(chosen)
        decimals = self._detect_decimals(chosen)
        self.mapping_record["sources"].append(
            {
                "source": source.name,
                "header": source.header,
                "columns": {c: source.header[i] for c, i in chosen.items()},
                "unused_headers": unused,
                "detected": source.detected,
                "date_formats": formats,
                "decimal_separator": decimals,
                "values": self.mapping.values,
                "defaults": self.mapping.defaults,
            }
        )
        if unused:
            self.notes.append(f"{source.name}: columns not used: {', '.join(unused)}")
        encoding = source.detected.get("encoding")
        if encoding and encoding not in ("utf-8", "utf-8-sig"):
            self.notes.append(f"{source.name}: read as {encoding} (not UTF-8)")
        self._check_and_load(source, chosen, formats, decimals)

    def _detect_date_formats(self, chosen: dict) -> dict[str, str]:
        """Per date column, the format that parses the most sample values (the mapping's wins).

        Day-first and month-first both parse `03/04/2024`; ties go to the format that parses the
        file's other date columns best, then to month-first (M/D/YYYY), and the note says so.
        """
        given = self.mapping.options.get("date")
        date_columns = [c for c, kind in self.spec.columns.items() if kind == DATE and c in chosen]
        if given:
            return {c: given for c in date_columns}
        scores: dict[str, list[int]] = {}
        for column in date_columns:
            counted = ", ".join(f"count(try_strptime(v, $f{i}))" for i in range(len(DATE_FORMATS)))
            counts = self.store.rows(
                f"SELECT {counted} FROM (SELECT DISTINCT trim({_ident(column)}) AS v FROM _stage "
                f"WHERE {_ident(column)} IS NOT NULL LIMIT 2000)",
                {f"f{i}": f for i, f in enumerate(DATE_FORMATS)},
            )[0]
            by_format = dict(zip(DATE_FORMATS, counts, strict=False))
            scores[column] = [by_format.get(f, 0) for f in DATE_FORMATS]
        overall = [sum(s[i] for s in scores.values()) for i in range(len(DATE_FORMATS))]
        formats = {}
        for column, score in scores.items():
            best = max(range(len(DATE_FORMATS)), key=lambda i: (score[i], overall[i], -i))
            formats[column] = DATE_FORMATS[best]
            rivals = [
                DATE_FORMATS[i]
                for i in range(len(DATE_FORMATS))
                if i != best and score[i] == score[best] and score[i] > 0
            ]
            if "%d" in formats[column] and any(
                "%d" in r and r.index("%d") != formats[column].index("%d") for r in rivals
            ):
                self.notes.append(
                    f"{column}: every date reads both day-first and month-first; took "
                    f"{formats[column]} (set [format] date in a mapping file to change it)"
                )
        return formats

    def _detect_decimals(self, chosen: dict) -> dict[str, str]:
        """`1.234,56` and `1,234.56` both occur; a column's last separator before 1-2 digits tells."""
        given = self.mapping.options.get("decimal")
        out = {}
        for column, kind in self.spec.columns.items():
            if kind != AMOUNT or column not in chosen:
                continue
            if given:
                out[column] = given
                continue
            comma, dot = self.store.rows(
                f"SELECT count(*) FILTER (WHERE regexp_matches({_ident(column)}, ',[0-9]{{1,2}}\\s*-?\\)?$')),"
                f" count(*) FILTER (WHERE regexp_matches({_ident(column)}, '\\.[0-9]{{1,2}}\\s*-?\\)?$')) "
                f"FROM (SELECT {_ident(column)} FROM _stage WHERE {_ident(column)} IS NOT NULL LIMIT 5000)"
            )[0]
            out[column] = "," if comma > dot else "."
        return out

    # -- typing and checks --------------------------------------------------------------------

    def _parse(self, column: str, kind: str, formats: dict, decimals: dict) -> str:
        raw = f"trim(_stage.{_ident(column)})"
        if kind == DATE:
            return f"try_strptime({raw}, $date_format_{column})::DATE"
        if kind == AMOUNT:
            keep = "0-9," if decimals.get(column) == "," else "0-9."
            digits = f"replace(regexp_replace({raw}, '[^{keep}]', '', 'g'), ',', '.')"
            negative = f"(regexp_matches({raw}, '^\\(.*\\)$') OR regexp_matches({raw}, '^[^0-9]*-|-\\s*$'))"
            shape = (
                f"regexp_full_match({raw}, "
                "'\\(?\\s*[-+]?\\s*([A-Za-z]{3}|[$€£¥])?\\s*[-+]?\\s*[0-9][0-9.,'' ]*\\s*"
                "([A-Za-z]{3}|[$€£¥])?\\s*-?\\s*\\)?')"
            )
            value = f"TRY_CAST({digits} AS DECIMAL(18,2))"
            return f"CASE WHEN {shape} THEN CASE WHEN {negative} THEN -{value} ELSE {value} END END"
        if kind == INTEGER:
            return (
                f"CASE WHEN lower({raw}) LIKE '%receipt%' THEN 0 "
                f"ELSE TRY_CAST(regexp_extract({raw}, '-?[0-9]+') AS INTEGER) END"
            )
        if kind == BOOLEAN:
            folded = f"lower({raw})"
            return (
                f"CASE WHEN {folded} IN ({', '.join(repr(w) for w in TRUE_WORDS)}) THEN true "
                f"WHEN {folded} IN ({', '.join(repr(w) for w in FALSE_WORDS)}) THEN false END"
            )
        if column == "doc_type":
            return _words_case(raw, DOC_TYPES)
        if column == "kind":
            return _words_case(raw, ACTIVITY_KINDS)
        return f"NULLIF({raw}, '')"

    def _problem(self, condition: str, column: str, reason_sql: str) -> str:
        return (
            f"CASE WHEN {condition} THEN {{'column': '{column}', "
            f"'raw': _stage.{_ident(column)}, 'reason': {reason_sql}}} END"
        )

    def _check_and_load(self, source: Source, chosen: dict, formats: dict, decimals: dict) -> None:
        spec, store = self.spec, self.store
        columns = list(spec.columns)
        typed = [
            f"{self._parse(c, k, formats, decimals)} AS {_ident(c)}"
            for c, k in spec.columns.items()
        ]
        problems = []
        for column, kind in spec.columns.items():
            raw = f"_stage.{_ident(column)}"
            if column in spec.required and not (
                column == "customer_id" and spec.target in ("payments", "activities")
            ):
                problems.append(self._problem(f"{raw} IS NULL", column, "'missing required value'"))
            reason = {
                DATE: f"'not a date in the format {formats.get(column, '%Y-%m-%d')}'",
                AMOUNT: "'not an amount'",
                INTEGER: "'not a whole number of days'",
                BOOLEAN: "'not a yes/no value (map it in [values." + column + "])'",
            }.get(kind)
            if column == "doc_type":
                reason = (
                    "'unknown document type (use invoice, credit_memo or debit_memo, or map it in "
                    "[values.doc_type])'"
                )
            if column == "kind":
                reason = "'unknown activity kind (use " + ", ".join(ACTIVITY_KINDS) + ")'"
            if reason:
                problems.append(
                    self._problem(
                        f"{raw} IS NOT NULL AND t.{_ident(column)} IS NULL", column, reason
                    )
                )
        problems += self._table_checks()
        mapped = "to_json({" + ", ".join(f"'{c}': _stage.{_ident(c)}" for c in columns) + "})"
        store.execute("DROP TABLE IF EXISTS _typed")
        store.execute(
            "CREATE TEMP TABLE _typed AS SELECT _stage._line, "
            + ", ".join(typed)
            + f", md5({mapped}::VARCHAR) AS _row_hash FROM _stage",
            {
                f"date_format_{c}": formats.get(c, "%Y-%m-%d")
                for c, kind in spec.columns.items()
                if kind == DATE
            },
        )
        key = spec.key
        key_sql = self._key_sql()
        store.execute("DROP TABLE IF EXISTS _checked")
        store.execute(
            f"""
            CREATE TEMP TABLE _checked AS
            WITH keyed AS (
                SELECT t.* REPLACE ({key_sql} AS {_ident(key)}) FROM _typed t
            ),
            counted AS (
                SELECT *,
                    count(*) OVER same_key AS _n_same_key,
                    count(DISTINCT _row_hash) OVER same_key AS _n_versions,
                    min(_line) OVER same_key AS _first_line,
                    row_number() OVER (PARTITION BY {_ident(key)} ORDER BY _line) AS _nth
                FROM keyed
                WINDOW same_key AS (PARTITION BY {_ident(key)})
            )
            SELECT t.*,
                list_filter([
                    {", ".join(problems)},
                    CASE WHEN t.{_ident(key)} IS NOT NULL AND t._n_same_key > 1 AND t._n_versions > 1
                        THEN {{'column': '{key}', 'raw': t.{_ident(key)}::VARCHAR,
                              'reason': 'the file has ' || t._n_same_key || ' rows with this ' ||
                                        '{key} and they differ (first at line ' || t._first_line || ')'}}
                        WHEN t.{_ident(key)} IS NOT NULL AND t._n_same_key > 1 AND t._nth > 1
                        THEN {{'column': '{key}', 'raw': t.{_ident(key)}::VARCHAR,
                              'reason': 'repeats line ' || t._first_line}} END
                ], lambda p: p IS NOT NULL) AS _problems
            FROM counted t JOIN _stage USING (_line)
            """
        )
        name = source.name
        store.execute(
            "INSERT INTO rejected_rows SELECT $id, $file, _line, p.column, p.raw, p.reason, "
            f"to_json([{', '.join(f'r.c{i}' for i in range(len(source.header)))}]) "
            "FROM (SELECT _line, unnest(_problems) AS p FROM _checked WHERE len(_problems) > 0) "
            "JOIN _raw_stage r USING (_line)",
            {"id": self.import_id, "file": name},
        )
        for bad in source.bad_rows:
            store.execute(
                "INSERT INTO rejected_rows VALUES ($id, $file, $line, NULL, $raw, $reason, NULL)",
                {
                    "id": self.import_id,
                    "file": name,
                    "line": bad.line,
                    "raw": bad.raw,
                    "reason": bad.reason,
                },
            )
        rejected = int(store.value("SELECT count(*) FROM _checked WHERE len(_problems) > 0"))
        self.rows_rejected += rejected + len(source.bad_rows)
        self.rows_loaded += self._load(chosen)

    def _key_sql(self) -> str:
        """Payments and activities without ids get one made from their content (stable on re-import)."""
        key = self.spec.key
        if key == "payment_id":
            fields = "customer_id, payment_date, amount, invoice_id, reference"
            prefix = "PAY-"
        elif key == "activity_id":
            fields = "customer_id, invoice_id, activity_date, kind, promised_date, outcome"
            prefix = "ACT-"
        else:
            return f"t.{_ident(key)}"
        content = f"md5(concat_ws('|', {fields}))"
        nth = f"row_number() OVER (PARTITION BY {content} ORDER BY _line)"
        return f"coalesce(t.{_ident(key)}, '{prefix}' || left({content}, 16) || '-' || {nth})"

    def _table_checks(self) -> list[str]:
        target, name = self.spec.target, self.spec.name
        checks = []
        if target == "invoices":
            checks.append(
                self._problem(
                    "t.due_date < t.invoice_date",
                    "due_date",
                    "'due date is before the invoice date'",
                )
            )
            checks.append(
                self._problem(
                    "t.written_off_on < t.invoice_date",
                    "written_off_on",
                    "'written off before the invoice date'",
                )
            )
            if name == "invoices":
                checks.append(
                    self._problem(
                        "t.amount < 0 AND _stage.doc_type IS NULL",
                        "amount",
                        "'negative amount without a document type: give credit memos doc_type "
                        "credit_memo, or import them with --table credit_memos'",
                    )
                )
                checks.append(
                    self._problem(
                        "t.amount < 0 AND t.doc_type IN ('invoice', 'debit_memo')",
                        "amount",
                        "'negative amount on an ' || t.doc_type || '; credit memos need doc_type credit_memo'",
                    )
                )
        if target == "payments":
            checks.append(self._problem("t.amount = 0", "amount", "'a payment of zero'"))
        if target in ("payments", "activities"):
            checks.append(
                self._problem(
                    "t.customer_id IS NULL AND NOT EXISTS (SELECT 1 FROM invoices i "
                    "WHERE i.invoice_id = t.invoice_id)",
                    "customer_id",
                    "'missing customer_id, and no known invoice to take it from'",
                )
            )
        return checks

    # -- loading ------------------------------------------------------------------------------

    def _load(self, chosen: dict) -> int:
        spec, store = self.spec, self.store
        present = [
            c
            for c in spec.columns
            if (c in chosen or c in self.mapping.defaults) and c not in spec.helper_columns
        ]
        if spec.key not in present:
            present.insert(0, spec.key)
        select = {c: f"g.{_ident(c)}" for c in present}
        joins = ""
        if spec.target == "invoices":
            terms = "g.payment_terms_days" if "payment_terms_days" in chosen else "NULL::INTEGER"
            select["due_date"] = (
                f"coalesce(g.due_date, g.invoice_date + coalesce({terms}, c.payment_terms_days, "
                f"{DEFAULT_TERMS_DAYS})::INTEGER)"
            )
            select["due_date_derived"] = "g.due_date IS NULL"
            if spec.name == "credit_memos":
                select["doc_type"] = "'credit_memo'"
            else:
                select["doc_type"] = "coalesce(g.doc_type, 'invoice')"
            select["amount"] = (
                "CASE WHEN "
                + select["doc_type"]
                + " = 'credit_memo' THEN -abs(g.amount) ELSE g.amount END"
            )
            if "disputed" in select:
                select["disputed"] = "coalesce(g.disputed, false)"
            joins = "LEFT JOIN customers c ON c.customer_id = g.customer_id"
        if spec.target in ("payments", "activities") and "invoice_id" in present:
            select["customer_id"] = "coalesce(g.customer_id, i.customer_id)"
            joins = "LEFT JOIN invoices i ON i.invoice_id = g.invoice_id"
        if spec.target == "customers":
            select["is_stub"] = "false"
        names = list(select)
        updates = ", ".join(f"{_ident(c)} = excluded.{_ident(c)}" for c in names if c != spec.key)
        conflict = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        store.execute(
            f"INSERT INTO {spec.target} ({', '.join(_ident(c) for c in names)}) "
            f"SELECT {', '.join(select[c] for c in names)} "
            f"FROM _checked g {joins} WHERE len(g._problems) = 0 "
            f"ON CONFLICT ({_ident(spec.key)}) {conflict}"
        )
        loaded = int(store.value("SELECT count(*) FROM _checked WHERE len(_problems) = 0"))
        if spec.target == "invoices":
            derived = store.value(
                "SELECT count(*) FROM _checked WHERE len(_problems) = 0 AND due_date IS NULL"
            )
            if derived:
                self.notes.append(
                    f"{derived:,} rows had no due date: due date = invoice date + the customer's "
                    f"payment terms ({DEFAULT_TERMS_DAYS} days when unknown)"
                )
        return loaded

    def why_nothing_loaded(self) -> str:
        if self.rows_read == 0:
            return (
                "the file has a header but no rows" if not self.skipped else "; ".join(self.notes)
            )
        return f"all {self.rows_rejected:,} rows were rejected; first reasons: " + "; ".join(
            f"line {line} {column or ''}: {reason}"
            for line, column, reason in self.store.rows(
                'SELECT line, "column", reason FROM rejected_rows WHERE import_id = ? '
                "ORDER BY line LIMIT 3",
                [self.import_id],
            )
        )

    def finish(self) -> int:
        """Derived data follows the inputs: stub customers, currencies, applications."""
        store = self.store
        for name in ("_raw_stage", "_stage", "_typed", "_checked"):
            store.execute(f"DROP TABLE IF EXISTS {name}")
        before = int(store.value("SELECT count(*) FROM customers"))
        store.execute(queries.sql("derive", "create_stub_customers"))
        stubs = int(store.value("SELECT count(*) FROM customers")) - before
        store.execute(queries.sql("derive", "fill_invoice_currencies"))
        store.execute(queries.sql("derive", "fill_payment_currencies"))
        if self.spec.target in ("invoices", "payments", "customers"):
            rebuild_derived(store)
        return stubs


def rebuild_derived(store: Store) -> None:
    """Applications, settled dates and unapplied items follow from the documents, always whole."""
    store.execute("DELETE FROM applications")
    store.execute(queries.sql("derive", "rebuild_applications"))
    store.execute(queries.sql("derive", "mark_settled"))
    store.execute("DELETE FROM partial_applications")
    store.execute(queries.sql("derive", "rebuild_partial_applications"))
    store.execute("DELETE FROM unapplied")
    store.execute(queries.sql("derive", "rebuild_unapplied"))
