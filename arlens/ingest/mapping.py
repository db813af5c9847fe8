"""Which source header is which canonical column, and how each table's columns are typed.

ERP exports name the same thing a dozen ways (`Invoice No`, `Inv #`, `Document Number`, `BELNR`).
Headers are compared after folding case and dropping everything but letters and digits, so the
list below names each spelling once. A TOML mapping file adds or overrides anything.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

# Column kinds: how the text of a cell becomes a value (see importer.parse_expression).
ID, TEXT, DATE, AMOUNT, INTEGER, BOOLEAN = "id", "text", "date", "amount", "integer", "boolean"


@dataclass(frozen=True)
class TableSpec:
    """A table as the user imports it: `credit_memos` lands in `invoices`."""

    name: str
    target: str
    key: str
    required: tuple[str, ...]
    columns: dict[str, str]
    # Columns that help loading but are not stored (an invoice file's own payment terms).
    helper_columns: tuple[str, ...] = ()


TABLES: dict[str, TableSpec] = {
    "customers": TableSpec(
        "customers",
        "customers",
        "customer_id",
        ("customer_id",),
        {
            "customer_id": ID,
            "name": TEXT,
            "segment": TEXT,
            "industry": TEXT,
            "country": TEXT,
            "currency": TEXT,
            "payment_terms_days": INTEGER,
            "credit_limit": AMOUNT,
            "credit_limit_reviewed_on": DATE,
            "risk_rating": TEXT,
            "salesperson": TEXT,
            "parent_id": ID,
        },
    ),
    "invoices": TableSpec(
        "invoices",
        "invoices",
        "invoice_id",
        ("invoice_id", "customer_id", "invoice_date", "amount"),
        {
            "invoice_id": ID,
            "customer_id": ID,
            "invoice_date": DATE,
            "due_date": DATE,
            "amount": AMOUNT,
            "doc_type": TEXT,
            "currency": TEXT,
            "disputed": BOOLEAN,
            "dispute_reason": TEXT,
            "po_number": TEXT,
            "paid_date": DATE,
            "written_off_on": DATE,
            "applies_to": ID,
            "payment_terms_days": INTEGER,
        },
        helper_columns=("payment_terms_days",),
    ),
    "payments": TableSpec(
        "payments",
        "payments",
        "payment_id",
        ("customer_id", "payment_date", "amount"),
        {
            "payment_id": ID,
            "customer_id": ID,
            "payment_date": DATE,
            "amount": AMOUNT,
            "invoice_id": ID,
            "method": TEXT,
            "reference": TEXT,
            "currency": TEXT,
        },
    ),
    "financials": TableSpec(
        "financials",
        "financials",
        "period_end",
        ("period_end",),
        {
            "period_end": DATE,
            "revenue": AMOUNT,
            "credit_sales": AMOUNT,
            "cogs": AMOUNT,
            "inventory": AMOUNT,
            "accounts_payable": AMOUNT,
            "accounts_receivable": AMOUNT,
        },
    ),
    "activities": TableSpec(
        "activities",
        "activities",
        "activity_id",
        ("customer_id", "activity_date", "kind"),
        {
            "activity_id": ID,
            "customer_id": ID,
            "invoice_id": ID,
            "activity_date": DATE,
            "kind": TEXT,
            "promised_date": DATE,
            "promised_amount": AMOUNT,
            "outcome": TEXT,
        },
    ),
}
TABLES["credit_memos"] = TableSpec(
    "credit_memos",
    "invoices",
    "invoice_id",
    ("invoice_id", "customer_id", "invoice_date", "amount"),
    TABLES["invoices"].columns,
    helper_columns=("payment_terms_days",),
)

# Spellings seen in ERP and accounting exports, per canonical column (folded: see fold()).
SYNONYMS: dict[str, list[str]] = {
    "invoice_id": [
        "invoiceid",
        "invoiceno",
        "invoicenumber",
        "invoicenum",
        "invno",
        "invnumber",
        "inv",
        "invid",
        "invoice",
        "documentnumber",
        "documentno",
        "documentid",
        "docno",
        "docnum",
        "docnumber",
        "document",
        "belnr",
        "billingdocument",
        "transactionnumber",
        "refdocno",
        "creditmemo",
        "creditmemono",
        "creditmemonumber",
        "creditnote",
        "creditnoteno",
        "cmno",
        "appliedtoinvoice",
        "appliedto",
    ],
    "customer_id": [
        "customerid",
        "customerno",
        "customernumber",
        "customercode",
        "custno",
        "custid",
        "custnumber",
        "custcode",
        "accountno",
        "accountnumber",
        "accountid",
        "kunnr",
        "debtorno",
        "debtorid",
        "clientid",
        "clientno",
        "soldto",
        "billto",
        "payer",
        "customer",
        "cust",
        "account",
        "debtor",
    ],
    "name": [
        "name",
        "customername",
        "custname",
        "companyname",
        "company",
        "accountname",
        "debtorname",
        "clientname",
        "client",
        "legalname",
    ],
    "segment": ["segment", "customersegment", "customergroup", "tier", "class"],
    "industry": ["industry", "sector", "vertical", "naics", "sic"],
    "country": ["country", "countrycode", "land1", "nation"],
    "currency": ["currency", "curr", "cur", "currencycode", "ccy", "doccurrency", "waers"],
    "payment_terms_days": [
        "paymenttermsdays",
        "terms",
        "paymentterms",
        "termsdays",
        "netdays",
        "termdays",
        "creditterms",
        "zterm",
    ],
    "credit_limit": ["creditlimit", "limit", "creditline", "approvedlimit", "klimk"],
    "credit_limit_reviewed_on": [
        "creditlimitreviewedon",
        "reviewedon",
        "lastreviewdate",
        "lastreviewed",
        "reviewdate",
        "creditreviewdate",
        "limitreviewdate",
        "lastcreditreview",
        "limitreviewedon",
    ],
    "risk_rating": [
        "riskrating",
        "risk",
        "rating",
        "riskclass",
        "riskcategory",
        "creditrating",
        "riskscore",
    ],
    "salesperson": ["salesperson", "salesrep", "rep", "accountmanager", "sales", "owner"],
    "parent_id": ["parentid", "parent", "parentcustomer", "parentaccount", "parentno"],
    "invoice_date": [
        "invoicedate",
        "invdate",
        "documentdate",
        "docdate",
        "billingdate",
        "postingdate",
        "issuedate",
        "issuedon",
        "transactiondate",
        "date",
        "bldat",
        "creditmemodate",
    ],
    "due_date": [
        "duedate",
        "due",
        "paymentduedate",
        "netduedate",
        "maturitydate",
        "netdue",
        "dueon",
    ],
    "amount": [
        "amount",
        "invoiceamount",
        "amt",
        "total",
        "totalamount",
        "grossamount",
        "documentamount",
        "originalamount",
        "invoicetotal",
        "value",
        "amountdoccurrency",
        "paymentamount",
        "amountpaid",
        "receiptamount",
        "creditamount",
        "wrbtr",
    ],
    "doc_type": ["doctype", "documenttype", "type", "transactiontype", "invoicetype", "blart"],
    "disputed": ["disputed", "dispute", "isdisputed", "indispute", "disputeflag"],
    "dispute_reason": ["disputereason", "reasoncode", "disputecode", "reason"],
    "po_number": ["ponumber", "po", "pono", "purchaseorder", "customerpo", "ponum"],
    "paid_date": [
        "paiddate",
        "settleddate",
        "settlementdate",
        "clearingdate",
        "cleareddate",
        "datepaid",
        "paymentdate",
        "closeddate",
        "closedate",
        "augdt",
        "fullypaidon",
    ],
    "written_off_on": ["writtenoffon", "writeoffdate", "writtenoffdate", "baddebtdate"],
    "applies_to": [
        "appliesto",
        "originalinvoice",
        "referenceinvoice",
        "relatedinvoice",
        "originalinvoiceid",
        "originalinvoiceno",
        "invoicereference",
    ],
    "payment_id": [
        "paymentid",
        "paymentno",
        "paymentnumber",
        "receiptno",
        "receiptid",
        "receiptnumber",
        "transactionid",
        "cashreceiptid",
    ],
    "payment_date": [
        "paymentdate",
        "receiptdate",
        "date",
        "paiddate",
        "receiveddate",
        "depositdate",
        "valuedate",
        "datereceived",
    ],
    "method": ["method", "paymentmethod", "paymenttype", "tender"],
    "reference": ["reference", "ref", "checknumber", "checkno", "chequeno", "remittance", "memo"],
    "period_end": ["periodend", "period", "month", "monthend", "date", "periodenddate"],
    "revenue": ["revenue", "sales", "totalrevenue", "netsales", "turnover"],
    "credit_sales": ["creditsales", "salesoncredit"],
    "cogs": ["cogs", "costofgoodssold", "costofsales", "cos"],
    "inventory": ["inventory", "stock", "inventories"],
    "accounts_payable": ["accountspayable", "payables", "ap", "tradepayables"],
    "accounts_receivable": ["accountsreceivable", "receivables", "ar", "tradereceivables"],
    "activity_id": ["activityid", "noteid", "actionid", "id"],
    "activity_date": ["activitydate", "date", "createdon", "notedate", "actiondate", "contactdate"],
    "kind": ["kind", "type", "activitytype", "action", "channel"],
    "promised_date": ["promiseddate", "promisedate", "ptpdate", "promisetopaydate"],
    "promised_amount": ["promisedamount", "promiseamount", "ptpamount", "promisetopayamount"],
    "outcome": ["outcome", "result", "note", "notes", "comment", "comments", "status"],
}


def fold(header: str) -> str:
    """`Inv #` -> `inv`, `customerID` -> `customerid`, `Due_Date` -> `duedate`."""
    return re.sub(r"[^0-9a-z]", "", header.lower())


class MappingError(Exception):
    """The mapping file is wrong; the message is one line naming the file."""


@dataclass
class Mapping:
    """What a TOML mapping file says; empty when none is given."""

    columns: dict[str, str] = field(default_factory=dict)  # source header -> canonical column
    values: dict[str, dict[str, str]] = field(default_factory=dict)  # column -> {raw: value}
    defaults: dict[str, str] = field(default_factory=dict)  # column -> value when absent
    options: dict = field(default_factory=dict)  # date, decimal, delimiter, encoding, sheet

    @classmethod
    def load(cls, path: Path | None) -> Mapping:
        if path is None:
            return cls()
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as error:
            raise MappingError(f"{path}: {error}") from None
        known = {"columns", "values", "defaults", "format"}
        unknown = set(data) - known
        if unknown:
            raise MappingError(
                f"{path}: unknown section(s) {', '.join(sorted(unknown))}; "
                f"use {', '.join(sorted(known))}"
            )
        values = {
            col: {str(k): _value_text(v) for k, v in table.items()}
            for col, table in data.get("values", {}).items()
        }
        return cls(
            columns={str(k): str(v) for k, v in data.get("columns", {}).items()},
            values=values,
            defaults={str(k): _value_text(v) for k, v in data.get("defaults", {}).items()},
            options=dict(data.get("format", {})),
        )


def _value_text(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def resolve_headers(header: list[str], spec: TableSpec, mapping: Mapping) -> tuple[dict, list]:
    """Map each canonical column to one source column index.

    The mapping file wins, then an exact canonical name, then the synonym list in its order.
    Returns ({column: index}, [headers left unused]).
    """
    chosen: dict[str, int] = {}
    used: set[int] = set()
    for source, column in mapping.columns.items():
        if column not in spec.columns:
            raise MappingError(
                f"mapping names column {column!r}, which {spec.name} does not have "
                f"(columns: {', '.join(spec.columns)})"
            )
        matches = [i for i, h in enumerate(header) if h == source or fold(h) == fold(source)]
        if matches:
            chosen[column] = matches[0]
            used.add(matches[0])
    folded = [fold(h) for h in header]
    for column in spec.columns:
        if column in chosen:
            continue
        candidates = [fold(column)] + SYNONYMS.get(column, [])
        for candidate in candidates:
            index = next(
                (i for i, h in enumerate(folded) if h == candidate and i not in used), None
            )
            if index is not None:
                chosen[column] = index
                used.add(index)
                break
    unused = [h for i, h in enumerate(header) if i not in used and h]
    return chosen, unused
