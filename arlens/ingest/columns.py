"""How each staged column becomes a typed value: what is decided per column, and the SQL.

Every decision here is made once for a whole column (its day/month order, its decimal mark, ids a
spreadsheet wrote as floats) from all of its values, never value by value (DESIGN.md §3).
"""

from __future__ import annotations

import pyarrow as pa

from arlens.ingest import values
from arlens.ingest.mapping import AMOUNT, BOOLEAN, DATE, ID, INTEGER, NUMBER, Mapping, TableSpec
from arlens.ingest.readers import Source
from arlens.store import Store

TRUE_WORDS = ["true", "t", "yes", "y", "1", "x", "disputed", "j", "ja", "oui", "si", "on"]
FALSE_WORDS = ["false", "f", "no", "n", "0", "nein", "non", "off", "-"]

DOC_TYPES = {
    "invoice": [
        "invoice",
        "inv",
        "in",
        "rv",
        "ar",
        "sale",
        "sales",
        "bill",
        "dr",
        "salesinvoice",
        "customerinvoice",
        "taxinvoice",
        "accrec",
        "accountsreceivable",
        "si",  # Sage: sales invoice
    ],
    "credit_memo": [
        "creditmemo",
        "credit",
        "cm",
        "cr",
        "creditnote",
        "cn",
        "dg",
        "return",
        "salescreditnote",
        "customercreditnote",
        "accreccredit",
        "salesreturn",
        "sc",  # Sage: sales credit
        # Payments on account listed in an aging report are open credits of the customer.
        "sa",
        "sr",
        "paymentonaccount",
        "payment",
        "receipt",
    ],
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


def ident(name: str) -> str:
    """Column names come from TABLES (a whitelist), never from the file; quote them anyway."""
    return '"' + name.replace('"', '""') + '"'


def _fold_sql(expr: str) -> str:
    return f"regexp_replace(lower({expr}), '[^0-9a-z]', '', 'g')"


def words_case(expr: str, groups: dict[str, list[str]]) -> str:
    """CASE over a fixed vocabulary (constants of this module, not user input)."""
    folded = _fold_sql(expr)
    whens = " ".join(
        f"WHEN {folded} IN ({', '.join(repr(w) for w in words)}) THEN '{name}'"
        for name, words in groups.items()
    )
    return f"CASE {whens} END"


def fix_spreadsheet_ids(store: Store, spec: TableSpec, chosen: dict, notes: list[str]) -> None:
    """A key column a spreadsheet or dataframe wrote as floats (`1002003004.0` in every row)
    is read as the integer a person sees; a mix of `.0` and other ids is left as written."""
    for column, kind in spec.columns.items():
        if kind != ID or column not in chosen:
            continue
        col = ident(column)
        all_float, any_value = store.rows(
            f"SELECT bool_and(regexp_full_match({col}, '-?[0-9]+\\.0+')), count({col}) "
            f"FROM _stage WHERE {col} IS NOT NULL"
        )[0]
        if all_float and any_value:
            store.execute(f"UPDATE _stage SET {col} = regexp_replace({col}, '\\.0+$', '')")
            notes.append(
                f"{column}: every value was written as a decimal number (like "
                "1002003004.0): read as the whole number"
            )


def read_dates(
    store: Store, spec: TableSpec, mapping: Mapping, chosen: dict, source: Source, notes: list[str]
) -> dict[str, values.DateColumn]:
    """Each date column read over its distinct texts into a lookup table `_dates_<column>`."""
    given = mapping.options.get("date")
    pivot = mapping.options.get("two_digit_year_pivot")
    present = set(chosen) | set(mapping.defaults)
    columns = [c for c, kind in spec.columns.items() if kind == DATE and c in present]
    texts = {
        c: [
            row[0]
            for row in store.rows(
                f"SELECT DISTINCT {ident(c)} FROM _stage WHERE {ident(c)} IS NOT NULL"
            )
        ]
        for c in columns
    }
    # A column that shows its day/month order decides the file's undecided ones.
    read = {c: values.read_date_column(texts[c], None, given, pivot) for c in columns}
    shown = [d.order for d in read.values() if d.order and not d.ambiguous and not d.serials]
    hint = max(set(shown), key=shown.count) if shown else None
    if hint is None and european_file(source, mapping):
        hint = values.DMY
    for c in columns:
        if read[c].ambiguous and hint:
            read[c] = values.read_date_column(texts[c], hint, given, pivot)
    for c, column in read.items():
        rows = pa.table(
            {
                "raw": pa.array(list(column.values), pa.string()),
                "value": pa.array(list(column.values.values()), pa.date32()),
                "reason": pa.array([column.reasons.get(t) for t in column.values], pa.string()),
            }
        )
        store.execute(f"DROP TABLE IF EXISTS {ident('_dates_' + c)}")
        store.con.register("_arlens_dates", rows)
        try:
            store.execute(
                f"CREATE TEMP TABLE {ident('_dates_' + c)} AS SELECT * FROM _arlens_dates"
            )
        finally:
            store.con.unregister("_arlens_dates")
        if column.ambiguous and any(column.values.values()):
            notes.append(
                f"{c}: every date reads both day-first and month-first; took month-first "
                "(set [format] date in a mapping file to change it)"
            )
        if column.had_times:
            notes.append(f"{c}: the values carry a time of day; the date is kept")
        if column.serials:
            notes.append(f"{c}: read as Excel serial day numbers")
        if column.two_digit_years:
            notes.append(
                f"{c}: two-digit years read as 20yy when that is at most 20 years ahead, else 19yy"
            )
    return read


def european_file(source: Source, mapping: Mapping) -> bool:
    """A `;` delimiter or a stated decimal comma: numbers and dates are written the European way."""
    return source.detected.get("delimiter") == ";" or mapping.options.get("decimal") == ","


def decide_decimal_marks(
    store: Store, spec: TableSpec, mapping: Mapping, chosen: dict, source: Source
) -> dict[str, str]:
    """One decimal mark per amount column, from every value in it (the mapping's wins).

    A column whose values all read either way (`1.234`, `250`) follows the file's other
    amount columns, then the file's shape (a `;` delimiter: European), then the decimal point.
    """
    given = mapping.options.get("decimal")
    present = set(chosen) | set(mapping.defaults)
    columns = [c for c, kind in spec.columns.items() if kind == AMOUNT and c in present]
    if given:
        return dict.fromkeys(columns, given)
    decided: dict[str, str | None] = {}
    for column in columns:
        parts = values.amount_parts_sql(ident(column))
        only_point, only_comma = store.rows(
            f"SELECT {values.amount_evidence_sql('p')} FROM "
            f"(SELECT {parts} AS p FROM _stage WHERE {ident(column)} IS NOT NULL)"
        )[0]
        decided[column], _ = values.decide_decimal_mark(only_point, only_comma, None)
    shown = [m for m in decided.values() if m]
    hint = max(set(shown), key=shown.count) if shown else None
    if hint is None:
        hint = values.DECIMAL_COMMA if european_file(source, mapping) else values.DECIMAL_POINT
    return {c: m or hint for c, m in decided.items()}


def typed_items(column: str, kind: str, marks: dict, dates: dict) -> list[str]:
    """SQL select items for one column: its typed value, and for amounts and dates the
    reason a non-empty value could not be read (`_why_<column>`)."""
    raw = f"s.{ident(column)}"
    why = ident("_why_" + column)
    if kind == DATE and column not in dates:
        return [f"NULL::DATE AS {ident(column)}", f"NULL::VARCHAR AS {why}"]
    if kind == AMOUNT and column not in marks:
        items = [f"NULL::DECIMAL(18,2) AS {ident(column)}", f"NULL::VARCHAR AS {why}"]
        if column in ("amount", "open_amount"):
            items.append(f"NULL::VARCHAR AS {ident('_cur_' + column)}")
        return items
    if kind == DATE:
        lookup = ident("_d_" + column)
        return [
            f"{lookup}.value AS {ident(column)}",
            f"{lookup}.reason AS {ident('_why_' + column)}",
        ]
    if kind == AMOUNT:
        parts, mark = f"s.{ident('_p_' + column)}", marks[column]
        full = values.amount_value_sql(parts, mark)
        items = [
            f"CASE WHEN {parts} IS NULL THEN {values.plain_amount_sql(raw)} ELSE {full} END "
            f"AS {ident(column)}",
            f"CASE WHEN {parts} IS NOT NULL AND ({full}) IS NULL "
            f"THEN {values.amount_reason_sql(parts, mark, raw)} END AS {ident('_why_' + column)}",
        ]
        if column in ("amount", "open_amount"):
            items.append(
                f"CASE WHEN {parts} IS NOT NULL THEN {values.amount_currency_sql(parts)} END "
                f"AS {ident('_cur_' + column)}"
            )
        return items
    if kind == NUMBER:
        # `0.9135`, `0,9135`, `1,234.5678`, `50%` (a hundredth); anything else is not read.
        text = f"replace({raw}, ' ', '')"
        digits = (
            f"CASE WHEN regexp_full_match({text}, '-?[0-9]+([.,][0-9]+)?%?') "
            f"THEN replace(rtrim({text}, '%'), ',', '.') "
            f"WHEN regexp_full_match({text}, '-?[0-9]{{1,3}}(,[0-9]{{3}})+([.][0-9]+)?%?') "
            f"THEN replace(rtrim({text}, '%'), ',', '') END"
        )
        value = f"TRY_CAST({digits} AS DECIMAL(24,12))"
        if column == "portion_percent":  # a percentage with or without its sign: 50 = 50% = half
            return [f"{value} / 100 AS {ident(column)}"]
        return [
            f"CASE WHEN {raw} LIKE '%\\%' ESCAPE '\\' THEN {value} / 100 ELSE {value} END "
            f"AS {ident(column)}"
        ]
    if kind == INTEGER:
        return [
            f"CASE WHEN lower({raw}) LIKE '%receipt%' THEN 0 "
            f"ELSE TRY_CAST(regexp_extract({raw}, '-?[0-9]+') AS INTEGER) END AS {ident(column)}"
        ]
    if kind == BOOLEAN:
        folded = f"lower({raw})"
        return [
            f"CASE WHEN {folded} IN ({', '.join(repr(w) for w in TRUE_WORDS)}) THEN true "
            f"WHEN {folded} IN ({', '.join(repr(w) for w in FALSE_WORDS)}) THEN false END "
            f"AS {ident(column)}"
        ]
    if column == "doc_type":
        return [f"{words_case(raw, DOC_TYPES)} AS {ident(column)}"]
    if column == "kind":
        return [f"{words_case(raw, ACTIVITY_KINDS)} AS {ident(column)}"]
    if column == "currency":
        return [f"upper({raw}) AS {ident(column)}"]
    return [f"{raw} AS {ident(column)}"]


def problem(condition: str, column: str, reason_sql: str) -> str:
    """A struct naming the column, its raw text and why, when `condition` holds (else NULL)."""
    return (
        f"CASE WHEN {condition} THEN {{'column': '{column}', "
        f"'raw': _stage.{ident(column)}, 'reason': {reason_sql}}} END"
    )


def key_sql(spec: TableSpec) -> str:
    """Payments and activities without ids get one made from their content (stable on re-import);
    tables named by several columns get `a|b|c` of them."""
    key = spec.key
    if spec.natural_key:
        parts = ", ".join(f"coalesce(t.{ident(c)}::VARCHAR, '')" for c in spec.natural_key)
        return f"concat_ws('|', {parts})"
    if key == "payment_id":
        fields = "customer_id, payment_date, amount, invoice_id, reference"
        prefix = "PAY-"
    elif key == "activity_id":
        fields = "customer_id, invoice_id, activity_date, kind, promised_date, outcome"
        prefix = "ACT-"
    else:
        return f"t.{ident(key)}"
    content = f"md5(concat_ws('|', {fields}))"
    nth = f"row_number() OVER (PARTITION BY {content} ORDER BY _line)"
    return f"coalesce(t.{ident(key)}, '{prefix}' || left({content}, 16) || '-' || {nth})"


def table_checks(spec: TableSpec, negative_is_credit: bool = False) -> list[str]:
    """The checks a table adds to its columns' own (signs, payments, customers to take)."""
    target, name = spec.target, spec.name
    checks = []
    if target == "invoices":
        checks.append(
            problem(
                "t.written_off_on < t.invoice_date",
                "written_off_on",
                "'written off before the invoice date'",
            )
        )
        if name == "invoices" and not negative_is_credit:
            checks.append(
                problem(
                    "t.amount < 0 AND _stage.doc_type IS NULL AND NOT EXISTS (SELECT 1 FROM "
                    "invoices s WHERE s.invoice_id = t.invoice_id AND s.doc_type = 'credit_memo')",
                    "amount",
                    "'negative amount without a document type: give credit memos doc_type "
                    "credit_memo, or import them with --table credit_memos'",
                )
            )
            checks.append(
                problem(
                    "t.amount < 0 AND t.doc_type IN ('invoice', 'debit_memo')",
                    "amount",
                    "'negative amount on an ' || t.doc_type || '; credit memos need doc_type credit_memo'",
                )
            )
    if target == "payments":
        checks.append(problem("t.amount = 0", "amount", "'a payment of zero'"))
        checks.append(
            problem(
                "t.amount < 0 AND NOT regexp_matches(lower(concat_ws(' ', t.method, t.payment_type)), "
                "'refund')",
                "amount",
                "'negative payment (a reversal?): leave reversals out of the export, or give "
                "refunds the method refund'",
            )
        )
    if target == "invoice_instalments":
        checks += [
            problem(
                "t.amount <= 0",
                "amount",
                "'an instalment of zero or less (instalments are parts of an invoice or debit "
                "memo; a credit is not paid in instalments)'",
            ),
            problem(
                "t.share <= 0 OR t.share > 1",
                "share",
                "'a share is a fraction of the invoice from 0 to 1 (0.5 or 50%); for a "
                "percentage column such as 50, map it to portion_percent'",
            ),
            problem(
                "t.portion_percent <= 0 OR t.portion_percent > 1",
                "portion_percent",
                "'a portion is a percentage of the invoice above 0 and at most 100'",
            ),
            problem(
                "t.amount IS NULL AND t.share IS NULL AND t.portion_percent IS NULL",
                "amount",
                "'neither an amount nor a share of the invoice'",
            ),
        ]
    if target in ("payments", "activities"):
        checks.append(
            problem(
                # (the store's invoices are searched for the file's ids only: one pass)
                "t.customer_id IS NULL AND (t.invoice_id IS NULL OR t.invoice_id NOT IN ("
                "SELECT invoice_id FROM invoices WHERE invoice_id IN ("
                "SELECT invoice_id FROM _typed WHERE customer_id IS NULL)))",
                "customer_id",
                "'missing customer_id, and no known invoice to take it from'",
            )
        )
    return checks
