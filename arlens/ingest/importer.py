"""Import one AR export into the store: map headers, type and check every value, load what is good.

The whole import is one transaction: it lands whole or changes nothing. Rows that fail a check are
kept in `rejected_rows` with file, line, column, raw value and reason; they never block the rest.
Re-importing a file upserts by key, so it changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from arlens import queries
from arlens.ingest import columns, derive, rates, values
from arlens.ingest.columns import ACTIVITY_KINDS
from arlens.ingest.columns import ident as _ident
from arlens.ingest.mapping import (
    AMOUNT,
    BOOLEAN,
    DATE,
    ID,
    INTEGER,
    NUMBER,
    TABLES,
    Mapping,
    MappingError,
    TableSpec,
    payment_amount_problem,
    resolve_headers,
)
from arlens.ingest.readers import ReadError, Source, open_source
from arlens.store import Store, StoreError

DEFAULT_TERMS_DAYS = 30


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
    # (what, currency, how many, amount) about the documents this import loaded
    warnings: list[tuple[str, str | None, int, float | None]] = field(default_factory=list)
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
        for what, currency, count, amount in self.warnings:
            money = f" ({currency or ''} {amount:,.2f})" if amount is not None else ""
            lines.append(f"  warning: {count:,} {what}{money}")
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
    currency: str | None = None,
    display_name: str | None = None,
) -> ImportResult:
    """Import one file into `table`; raises ImportFailed (nothing changed) when nothing can load.

    `currency` sets the store's home currency on its first import (what documents without a
    currency are in); later it must agree with the one set. `display_name` is what the log,
    notes, rejected rows and messages call the file (an upload's own name, not the temporary
    path it was saved under); default: the path.
    """
    path = Path(path)
    shown = display_name or str(path)
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
        raise ImportFailed(str(error).replace(str(path), shown)) from None
    except OSError as error:
        raise ImportFailed(f"{shown}: cannot read: {error.strerror or error}") from None
    if spec.target == "fx_rates":  # ECB-style `Date, USD, GBP, …`: one source per currency
        per = str(mapping.options.get("quoted_per", "EUR"))
        sources = [part for source in sources for part in rates.split_wide(source, per)]
    for source in sources:
        source.name = source.name.replace(str(path), shown, 1)

    home = store.home_currency()
    if currency and home and currency.strip().upper() != home:
        raise ImportFailed(
            f"the store's home currency is {home}, not {currency.upper()}; change it with "
            f"`arlens config currency {currency.upper()}`"
        )
    sha256 = file_sha256(path)
    with store.transaction():
        import_id = int(store.value("SELECT nextval('import_id_seq')"))
        job = _Import(store, spec, mapping, import_id, progress)
        store.execute("DROP TABLE IF EXISTS _imported_keys")
        store.execute("CREATE TEMP TABLE _imported_keys (key VARCHAR)")
        derive.begin(store)
        for source in sources:
            job.add_source(source, only_one=len(sources) == 1)
        if job.rows_read == 0:
            raise ImportFailed(f"{shown}: nothing loaded: {job.why_nothing_loaded()}")
        stubs = job.finish(currency or mapping.defaults.get("currency"))
        result = ImportResult(
            import_id=import_id,
            file=shown,
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
                "file": shown,
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
        store.audit("import", shown, {"table": table, "import_id": import_id, "sha256": sha256,
                                      "rows_read": job.rows_read, "rows_loaded": job.rows_loaded,
                                      "rows_rejected": job.rows_rejected})  # fmt: skip
        store.bump_data_version()
        if spec.target in ("invoices", "payments"):
            result.warnings = [
                (what, currency, int(count), float(amount) if amount is not None else None)
                for what, currency, count, amount in store.rows(
                    queries.sql("derive", "import_warnings")
                )
                if count
            ]
        store.execute("DROP TABLE IF EXISTS _imported_keys")
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
        raise ImportFailed(f"{shown}: nothing loaded: {job.why_nothing_loaded()}")
    return result


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
        self.touched_customers = False
        self.negative_is_credit = False

    # -- staging ------------------------------------------------------------------------------

    def add_source(self, source: Source, only_one: bool) -> None:
        spec = self.spec
        try:
            chosen, unused = resolve_headers(source.header, spec, self.mapping)
        except MappingError as error:
            raise ImportFailed(f"{source.name}: {error}") from None
        present = set(chosen) | set(self.mapping.defaults)
        if "open_amount" in present:
            present.add("amount")  # an open-items export: what was open is the amount
        missing = [c for c in spec.required if c not in present]
        if spec.target in ("payments", "activities") and "invoice_id" in present:
            missing = [c for c in missing if c != "customer_id"]  # taken from the invoice
        problem = (
            payment_amount_problem(source.header)
            if spec.target == "payments" and "amount" in missing
            else None
        )
        if missing:
            message = problem or (
                f"no column for {', '.join(missing)} (headers: {', '.join(source.header)}); "
                'name it in a mapping file: [columns] "Your Header" = "' + missing[0] + '"'
            )
            if only_one:
                raise ImportFailed(f"{source.name}: {message}")
            self.skipped.append(source.name)
            self.notes.append(f"{source.name} skipped: {message}")
            return

        self._stage(source, chosen)
        columns.fix_spreadsheet_ids(self.store, spec, chosen, self.notes)
        dates = columns.read_dates(self.store, spec, self.mapping, chosen, source, self.notes)
        marks = columns.decide_decimal_marks(self.store, spec, self.mapping, chosen, source)
        self.mapping_record["sources"].append(
            {
                "source": source.name,
                "header": source.header,
                "columns": {c: source.header[i] for c, i in chosen.items()},
                "unused_headers": unused,
                "detected": source.detected,
                "date_orders": {c: values.describe(d) for c, d in dates.items()},
                "decimal_marks": marks,
                "values": self.mapping.values,
                "defaults": self.mapping.defaults,
            }
        )
        self.notes += [f"{source.name}: {note}" for note in getattr(source, "notes", [])]
        if unused:
            self.notes.append(f"{source.name}: columns not used: {', '.join(unused)}")
        encoding = source.detected.get("encoding")
        if encoding and encoding not in ("utf-8", "utf-8-sig"):
            self.notes.append(f"{source.name}: read as {encoding} (not UTF-8)")
        self._check_and_load(source, chosen, dates, marks)

    def _stage(self, source: Source, chosen: dict) -> None:
        """Every source column is staged as read (rejected rows keep all of it); the canonical
        columns are then picked from it, stripped of whitespace of every kind."""
        spec = self.spec
        raw_columns = [f"c{i}" for i in range(len(source.header))]
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
                for name, column in zip(raw_columns, zip(*batch.rows, strict=True), strict=True):
                    arrays[name] = pa.array(column, pa.string())
            self.store.con.register("_arlens_batch", pa.table(arrays))
            try:
                self.store.execute("INSERT INTO _raw_stage BY NAME SELECT * FROM _arlens_batch")
            finally:
                self.store.con.unregister("_arlens_batch")
            self.rows_read += len(batch.lines)
            if self.progress:
                self.progress(self.rows_read)
        picked = ", ".join(
            f"{values.clean_text_sql(f'c{chosen[c]}')} AS {_ident(c)}"
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
                f"WHERE _stage.{_ident(column)} = m.raw",
                {"raws": list(pairs), "values": list(pairs.values())},
            )

    def _check_and_load(self, source: Source, chosen: dict, dates: dict, marks: dict) -> None:
        spec, store = self.spec, self.store
        typed = [
            item
            for c, k in spec.columns.items()
            for item in columns.typed_items(c, k, marks, dates)
        ]
        amount_parts = "".join(
            f", {values.amount_parts_or_plain_sql(_ident(c), m)} AS {_ident('_p_' + c)}"
            for c, m in marks.items()
        )
        date_joins = " ".join(
            f"LEFT JOIN {_ident('_dates_' + c)} {_ident('_d_' + c)} "
            f"ON {_ident('_d_' + c)}.raw = s.{_ident(c)}"
            for c in dates
        )
        problems = []
        for column, kind in spec.columns.items():
            raw = f"_stage.{_ident(column)}"
            if (
                column in spec.required
                and not (column == "customer_id" and spec.target in ("payments", "activities"))
                and not (column == "amount" and "open_amount" in chosen and "amount" not in chosen)
            ):
                problems.append(
                    columns.problem(f"{raw} IS NULL", column, "'missing required value'")
                )
            reason = {
                DATE: f"t.{_ident('_why_' + column)}",
                AMOUNT: f"coalesce(t.{_ident('_why_' + column)}, 'not an amount')",
                INTEGER: "'not a whole number of days'",
                NUMBER: "'not a number'",
                BOOLEAN: "'not a yes/no value (map it in [values." + column + "])'",
            }.get(kind)
            if column == "doc_type":
                reason = (
                    "'unknown document type (use invoice, credit_memo or debit_memo, or map it in "
                    "[values.doc_type])'"
                )
            if column == "kind":
                reason = "'unknown activity kind (use " + ", ".join(ACTIVITY_KINDS) + ")'"
            if column == "currency":
                problems.append(
                    columns.problem(
                        f"{raw} IS NOT NULL AND NOT regexp_full_match(t.currency, '[A-Z]{{3}}')",
                        column,
                        "'not a currency code (use ISO codes such as USD, EUR, GBP)'",
                    )
                )
            if kind == ID:
                problems.append(
                    columns.problem(
                        f"CASE WHEN strpos(lower({raw}), 'e') > 0 "
                        f"THEN regexp_full_match({raw}, '[0-9]\\.[0-9]+[eE]\\+?[0-9]+') END",
                        column,
                        "'written in scientific notation by a spreadsheet: its digits are lost; "
                        "export the column as text'",
                    )
                )
            if reason:
                problems.append(
                    columns.problem(
                        f"{raw} IS NOT NULL AND t.{_ident(column)} IS NULL", column, reason
                    )
                )
        for column in ("amount", "open_amount"):
            if column in marks and "currency" in spec.columns:
                problems.append(
                    columns.problem(
                        f"t.currency IS NOT NULL AND t.{_ident('_cur_' + column)} IS NOT NULL "
                        f"AND t.currency <> t.{_ident('_cur_' + column)}",
                        column,
                        f"'the amount is written in ' || t.{_ident('_cur_' + column)} || "
                        "' but the currency column says ' || t.currency",
                    )
                )
        # In an aging report or open-items export a negative open balance is a credit (a credit
        # note or an unapplied payment), not a mistake.
        self.negative_is_credit = bool(source.detected.get("report")) or (
            "open_amount" in chosen and "amount" not in chosen
        )
        problems += columns.table_checks(spec, self.negative_is_credit)
        mapped = "to_json({" + ", ".join(f"'{c}': _stage.{_ident(c)}" for c in spec.columns) + "})"
        store.execute("DROP TABLE IF EXISTS _typed")
        store.execute(
            "CREATE TEMP TABLE _typed AS SELECT s._line, "
            + ", ".join(typed)
            + f", md5({mapped.replace('_stage.', 's.')}::VARCHAR) AS _row_hash "
            f"FROM (SELECT *{amount_parts} FROM _stage) s {date_joins}"
        )
        key = spec.key
        key_sql = columns.key_sql(spec)
        store.execute("DROP TABLE IF EXISTS _checked")
        store.execute(
            f"""
            CREATE TEMP TABLE _checked AS
            WITH keyed AS (
                SELECT t.* REPLACE ({key_sql} AS {_ident(key)}) FROM _typed t
            ),
            repeated AS (
                -- Keys on more than one row: a few, so no window over the whole file.
                SELECT {_ident(key)} AS _repeated_key, count(*) AS _n_same_key,
                    count(DISTINCT _row_hash) AS _n_versions, min(_line) AS _first_line
                FROM keyed WHERE {_ident(key)} IS NOT NULL
                GROUP BY {_ident(key)} HAVING count(*) > 1
            )
            SELECT t.*,
                list_filter([
                    {", ".join(problems)},
                    CASE WHEN r._n_versions > 1
                        THEN {{'column': '{key}', 'raw': t.{_ident(key)}::VARCHAR,
                              'reason': 'the file has ' || r._n_same_key || ' rows with this ' ||
                                        '{key} and they differ (first at line ' || r._first_line || ')'}}
                        WHEN t._line > r._first_line
                        THEN {{'column': '{key}', 'raw': t.{_ident(key)}::VARCHAR,
                              'reason': 'repeats line ' || r._first_line}} END
                ], lambda p: p IS NOT NULL) AS _problems
            FROM keyed t
            LEFT JOIN repeated r ON r._repeated_key = t.{_ident(key)}
            JOIN _stage USING (_line)
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
        self._check_totals(source, chosen, marks)

    def _check_totals(self, source: Source, chosen: dict, marks: dict) -> None:
        """A report's grand total row must equal the rows read from it; say so when not."""
        totals = getattr(source, "totals", None) or {}
        for column in ("amount", "open_amount"):
            if column not in chosen:
                continue
            text = totals.get(source.header[chosen[column]])
            if not text:
                continue
            parts = values.amount_parts_sql("$t")
            stated = self.store.value(
                f"SELECT {values.amount_value_sql('p', marks[column])} FROM (SELECT {parts} AS p)",
                {"t": text},
            )
            loaded = self.store.value(
                f"SELECT coalesce(sum({_ident(column)}), 0) FROM _checked WHERE len(_problems) = 0"
            )
            if stated is None:
                self.notes.append(
                    f"{source.name}: the total row's {column} {text!r} is not an amount"
                )
            elif stated == loaded:
                self.notes.append(
                    f"{source.name}: the file's total {stated:,.2f} equals the rows loaded"
                )
            else:
                self.notes.append(
                    f"{source.name}: the file's total is {stated:,.2f} but the rows loaded add up "
                    f"to {loaded:,.2f} (difference {stated - loaded:,.2f}: see the rejected rows)"
                )

    # -- loading ------------------------------------------------------------------------------

    def _load(self, chosen: dict) -> int:
        """Upsert the good rows. A stored value is never replaced by NULL, nor by one derived
        from a column the file lacks (a re-export without due dates keeps the real ones)."""
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
        keep_stored: set[str] = set()
        if "currency" in spec.columns and spec.target != "fx_rates":
            amount_currency = "g._cur_amount" if "amount" in chosen else "NULL"
            if "open_amount" in chosen:
                amount_currency = f"coalesce({amount_currency}, g._cur_open_amount)"
            select["currency"] = (
                f"coalesce(g.currency, {amount_currency})"
                if "currency" in present
                else amount_currency
            )
            # A currency read in the file is real, even where an earlier import assumed one.
            select["currency_assumed"] = "false"
        if spec.target == "invoices":
            if "amount" not in chosen and "open_amount" in chosen:
                select["amount"] = "g.open_amount"
                self.notes.append(
                    "the file has no original amounts: each invoice's amount is what was open "
                    "when it was exported"
                )
            elif "open_amount" in chosen:
                export_date = self._export_date(chosen)
                select["open_amount_exported"] = "g.open_amount"
                select["exported_on"] = f"DATE '{export_date.isoformat()}'"
                self.notes.append(
                    f"open balances are taken as of {export_date:%Y-%m-%d} (the file's newest "
                    "date; set [format] export_date to change it): what was paid before then "
                    "settles each invoice on that day"
                )
            terms = "g.payment_terms_days" if "payment_terms_days" in chosen else "NULL::INTEGER"
            select["due_date"] = (
                f"coalesce(g.due_date, g.invoice_date + coalesce({terms}, c.payment_terms_days, "
                f"{DEFAULT_TERMS_DAYS})::INTEGER)"
            )
            select["due_date_derived"] = "g.due_date IS NULL"
            if spec.name == "credit_memos":
                select["doc_type"] = "'credit_memo'"
            else:
                select["doc_type"] = (
                    "coalesce(g.doc_type, CASE WHEN g.amount < 0 OR g.open_amount < 0 "
                    "THEN 'credit_memo' ELSE 'invoice' END)"
                    if self.negative_is_credit
                    else "coalesce(g.doc_type, 'invoice')"
                )
                if "doc_type" not in chosen:
                    keep_stored.add("doc_type")
            select["amount"] = (
                "CASE WHEN "
                + select["doc_type"]
                + f" = 'credit_memo' THEN -abs({select['amount']}) ELSE {select['amount']} END"
            )
            if "disputed" in select:
                select["disputed"] = "coalesce(g.disputed, false)"
            joins = "LEFT JOIN customers c ON c.customer_id = g.customer_id"
        if spec.target == "fx_rates":
            base = self.rates_base()
            select["base_currency"] = f"coalesce(g.base_currency, '{base}')"
            select["rate_key"] = (
                f"concat_ws('|', g.currency, {select['base_currency']}, g.rate_date::VARCHAR)"
            )
            if "base_currency" not in chosen:
                self.notes.append(f"each rate is taken as the value of one unit in {base}")
        if spec.target == "invoice_instalments" and "portion_percent" in chosen:
            select["share"] = "coalesce(g.share, g.portion_percent)"  # typed as a share
        if spec.target in ("payments", "activities") and "invoice_id" in present:
            select["customer_id"] = "coalesce(g.customer_id, i.customer_id)"
            joins = "LEFT JOIN invoices i ON i.invoice_id = g.invoice_id"
        if spec.target == "customers":
            select["is_stub"] = "false"
        names = list(select)
        target = _ident(spec.target)
        updates = []
        for c in names:
            if c == spec.key:
                continue
            column = _ident(c)
            if c == "due_date" and spec.target == "invoices":
                # A real due date stays when the new one would only be derived from terms.
                update = (
                    f"CASE WHEN excluded.due_date_derived AND NOT {target}.due_date_derived "
                    f"THEN {target}.due_date ELSE excluded.due_date END"
                )
            elif c == "currency_assumed":
                update = (
                    f"CASE WHEN excluded.currency IS NOT NULL THEN false "
                    f"ELSE {target}.currency_assumed END"
                )
            elif c == "due_date_derived":
                update = f"{target}.due_date_derived AND excluded.due_date_derived"
            elif c in keep_stored:
                update = f"{target}.{column}"
            else:
                update = f"coalesce(excluded.{column}, {target}.{column})"
            updates.append(f"{column} = {update}")
        conflict = f"DO UPDATE SET {', '.join(updates)}" if updates else "DO NOTHING"
        loaded_keys = f"SELECT {_ident(spec.key)} FROM _checked WHERE len(_problems) = 0"
        derive.note_stored_links(store, spec.target, loaded_keys)
        if spec.target == "invoice_instalments":
            # A file's rows for an invoice are its whole schedule: instalments stored before
            # (other due dates) go, unless this import loaded them (an earlier sheet).
            store.execute(
                "DELETE FROM invoice_instalments WHERE invoice_id IN (SELECT invoice_id FROM "
                f"_checked WHERE len(_problems) = 0) AND instalment_key NOT IN ({loaded_keys}) "
                "AND instalment_key NOT IN (SELECT key FROM _imported_keys)"
            )
        store.execute(
            f"INSERT INTO {target} ({', '.join(_ident(c) for c in names)}) "
            f"SELECT {', '.join(select[c] for c in names)} "
            f"FROM _checked g {joins} WHERE len(g._problems) = 0 "
            f"ON CONFLICT ({_ident(spec.key)}) {conflict}"
        )
        loaded = int(store.value("SELECT count(*) FROM _checked WHERE len(_problems) = 0"))
        store.execute("CREATE TEMP TABLE IF NOT EXISTS _imported_keys (key VARCHAR)")
        store.execute(f"INSERT INTO _imported_keys {loaded_keys}")
        link = {"invoices": "applies_to", "payments": "invoice_id"}.get(spec.target)
        derive.note_file_links(store, link if link in present else None)
        if spec.target == "invoices":
            self._invoice_notes(chosen)
        if spec.target in ("invoices", "invoice_instalments"):
            self.notes += instalment_notes(store, spec.target)
        if spec.target == "customers" or (spec.target == "invoices" and "country" in chosen):
            self.touched_customers = True
        if spec.target == "invoices" and "country" in chosen:
            store.execute(
                "CREATE TEMP TABLE IF NOT EXISTS _invoice_countries (customer_id VARCHAR, country VARCHAR)"
            )
            store.execute(
                "INSERT INTO _invoice_countries SELECT customer_id, mode(country) FROM _checked "
                "WHERE len(_problems) = 0 AND country IS NOT NULL GROUP BY customer_id"
            )
        self._case_notes()
        return loaded

    def rates_base(self) -> str:
        """A rates file without a base currency quotes rates to the reporting currency (else the
        home currency): what one unit of each currency is worth in it."""
        base = (
            self.mapping.defaults.get("base_currency")
            or self.store.reporting_currency()
            or self.store.home_currency()
            or "USD"
        )
        base = str(base).strip().upper()
        if not re.fullmatch("[A-Z]{3}", base):
            raise ImportFailed(f"base currency {base!r} is not a currency code")
        return base

    def _export_date(self, chosen: dict):
        given = self.mapping.options.get("export_date")
        if given:
            return dt.date.fromisoformat(str(given))
        dates = [c for c in ("invoice_date", "due_date", "paid_date") if c in chosen]
        newest = self.store.value(
            "SELECT max(greatest(" + ", ".join(_ident(c) for c in ["invoice_date"] + dates) + "))"
            " FROM _checked WHERE len(_problems) = 0"
        )
        return newest or dt.date.today()

    def _invoice_notes(self, chosen: dict) -> None:
        derived, early = self.store.rows(
            "SELECT count(*) FILTER (WHERE due_date IS NULL), "
            "count(*) FILTER (WHERE due_date < invoice_date) "
            "FROM _checked WHERE len(_problems) = 0"
        )[0]
        if derived:
            self.notes.append(
                f"{derived:,} rows had no due date: due date = invoice date + the customer's "
                f"payment terms ({DEFAULT_TERMS_DAYS} days when unknown)"
            )
        if early:
            self.notes.append(
                f"{early:,} rows have a due date before the invoice date (kept: SAP-style "
                "systems count terms from a baseline date that can precede posting)"
            )

    def _case_notes(self) -> None:
        """Ids that differ from another only by case are kept apart, and the user hears of it."""
        where = {self.spec.key: self.spec.target}
        if "customer_id" in self.spec.columns:
            where["customer_id"] = "customers"
        for column, table in where.items():
            if column not in ("customer_id", "invoice_id"):
                continue
            col = _ident(column)
            clashes = self.store.rows(
                f"WITH file AS (SELECT DISTINCT {col} AS k FROM _checked "
                f"WHERE len(_problems) = 0 AND {col} IS NOT NULL), "
                f"known AS (SELECT k FROM file UNION SELECT {col} FROM {_ident(table)} "
                f"WHERE lower({col}) IN (SELECT lower(k) FROM file)) "
                "SELECT min(k), max(k) FROM known "
                "GROUP BY lower(k) HAVING count(*) > 1 ORDER BY 1 LIMIT 3"
            )
            if clashes:
                examples = ", ".join(f"{a!r} and {b!r}" for a, b in clashes)
                self.notes.append(
                    f"{column}: some ids differ from another only by case ({examples}); kept as "
                    "different ids"
                )

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

    def finish(self, currency: str | None) -> int:
        """Derived data follows the inputs: stub customers, currencies, applications."""
        store = self.store
        for name in ("_raw_stage", "_stage", "_typed", "_checked"):
            store.execute(f"DROP TABLE IF EXISTS {name}")
        for table in store.rows(
            "SELECT table_name FROM duckdb_tables() WHERE temporary AND table_name LIKE '\\_dates\\_%' ESCAPE '\\'"
        ):
            store.execute(f"DROP TABLE IF EXISTS {_ident(table[0])}")
        before = int(store.value("SELECT count(*) FROM customers"))
        store.execute(queries.sql("derive", "create_stub_customers"), {"table": self.spec.target})
        stubs = int(store.value("SELECT count(*) FROM customers")) - before
        if store.value(
            "SELECT count(*) FROM duckdb_tables() WHERE table_name = '_invoice_countries'"
        ):
            store.execute(queries.sql("derive", "fill_customer_countries"))
            store.execute("DROP TABLE _invoice_countries")
        try:
            home, assumed = store.ensure_home_currency(currency)
        except StoreError as error:
            raise ImportFailed(str(error)) from None
        if assumed:
            self.notes.append(
                f"no currency in the file or the store: amounts are taken as {home}, the store's "
                "home currency (set it with --currency on the first import, or "
                "`arlens config currency EUR`)"
            )
        fill_currencies(store)
        derive.derive_touched(store, self.spec.target)
        return stubs


def instalment_notes(store: Store, table: str) -> list[str]:
    """What the user should know of the payment schedules an import touched (the instalments it
    loaded, or those of the invoices it loaded): the ones that do not apply, and why."""
    found: dict[str, list[tuple]] = {}
    for row in store.rows(queries.sql("derive", "instalment_problems"), {"table": table}):
        found.setdefault(row[1], []).append(row)

    def listed(rows, detail=lambda r: r[0]) -> str:
        more = f" and {len(rows) - 3:,} more" if len(rows) > 3 else ""
        return ", ".join(detail(r) for r in rows[:3]) + more

    def sums(r) -> str:
        invoice_id, _, amount, amount_total, share_total, _ = r
        given = (
            f"instalments {amount_total:,.2f}"
            if amount_total is not None
            else f"shares {share_total.normalize():f}"
        )
        return f"{invoice_id} ({given}, invoice {amount:,.2f})"

    reasons = {
        "missing": "the invoice is not in the store (kept: its schedule applies once it is imported)",
        "credit": "it is a credit memo (kept but not used: only invoices and debit memos are due "
        "in instalments)",
        "mixed": "some are amounts and some shares (not used: the invoice stays due on its own "
        "due date; give every instalment one way)",
        "sum": "they do not add up to the invoice (not used: the invoice stays due on its own due "
        "date until its instalments add up to its amount, or their shares to 100%)",
    }
    notes = []
    for key, why in reasons.items():
        rows = found.get(key)
        if rows:
            n = len(rows)
            detail = listed(rows, sums) if key == "sum" else listed(rows)
            notes.append(f"instalments of {n:,} invoice{'' if n == 1 else 's'}: {why}: {detail}")
    return notes


def fill_currencies(store: Store) -> None:
    """Nothing reaches a metric without a currency: a document takes its own, else its invoice's
    or customer's, else the store's home currency."""
    home = store.home_currency()
    store.execute(queries.sql("derive", "fill_invoice_currencies"))
    store.execute(queries.sql("derive", "fill_payment_currencies"))
    store.execute(queries.sql("derive", "fill_customer_currencies"), {"home": home})
    store.execute(queries.sql("derive", "fill_invoice_currencies"))
    store.execute(queries.sql("derive", "fill_payment_currencies"))
    store.execute(queries.sql("derive", "fill_order_currencies"), {"home": home})


rebuild_derived = derive.rebuild_derived  # the whole path, under its older name
