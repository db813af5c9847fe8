"""Header synonyms that must not collide, and mapping files that are wrong in one clear line."""

from __future__ import annotations

import pytest

from arlens.ingest.mapping import (
    FORMAT_KEYS,
    TABLES,
    Mapping,
    MappingError,
    fold,
    payment_amount_problem,
    resolve_headers,
)


def chosen_headers(header: list[str], table: str, mapping: Mapping | None = None) -> dict:
    chosen, _ = resolve_headers(header, TABLES[table], mapping or Mapping())
    return {column: header[i] for column, i in chosen.items()}


def test_fold_drops_accents_case_and_punctuation():
    assert fold("Nettofälligkeit") == "nettofalligkeit"
    assert fold("Straße") == "strasse"
    assert fold("Amount in doc. curr.") == "amountindoccurr"
    assert fold("Country/Region\u00a0Code") == "countryregioncode"


@pytest.mark.parametrize(
    "header, column, source",
    [
        (["Total", "Grand Total"], "amount", "Grand Total"),  # ERPNext: Total is before tax
        (["Invoice ID", "Invoice Number"], "invoice_id", "Invoice Number"),  # Zoho's ID is internal
        (["Customer Name", "Customer No."], "customer_id", "Customer No."),
        (["Amount", "Accounts Receivable Amount"], "amount", "Accounts Receivable Amount"),  # Sage
        (["Customer", "Customer Name"], "customer_id", "Customer"),  # ERPNext: the id
        (["ContactName", "Total"], "customer_id", "ContactName"),  # Xero has no customer number
        (["Amount", "Original Amount", "Remaining Amount"], "amount", "Amount"),
        (["Amount", "Remaining Amount"], "open_amount", "Remaining Amount"),
    ],
)
def test_specific_invoice_header_wins_over_generic_one(header, column, source):
    assert chosen_headers(header, "invoices")[column] == source


def test_a_customers_file_keeps_its_name_column_for_the_name():
    assert chosen_headers(["ContactName", "AccountNumber"], "customers") == {
        "customer_id": "AccountNumber",
        "name": "ContactName",
    }


@pytest.mark.parametrize(
    "header",
    ["Open Balance", "Amount Due", "Balance Due", "Open Amount", "amount_residual",
     "Outstanding Amount", "Remaining Amount", "Residual", "Offener Betrag", "AMOUNT_DUE_REMAINING"],
)  # fmt: skip
def test_open_balance_headers_map_to_open_amount(header):
    assert chosen_headers(["Invoice No", "Customer", "Date", header], "invoices") == {
        "invoice_id": "Invoice No",
        "customer_id": "Customer",
        "invoice_date": "Date",
        "open_amount": header,
    }


@pytest.mark.parametrize("table", ["invoices", "credit_memos"])
def test_open_amount_and_country_are_helpers_of_invoice_files(table):
    spec = TABLES[table]
    assert spec.columns["open_amount"] == "amount"
    assert {"open_amount", "country", "payment_terms_days"} <= set(spec.helper_columns)


@pytest.mark.parametrize("header", ["countryCode", "country_code", "region", "Country/Region"])
@pytest.mark.parametrize("table", ["customers", "invoices"])
def test_country_headers(header, table):
    assert chosen_headers(["Customer No", header], table)["country"] == header


# -- amounts and currencies in SAP, NetSuite and Business Central ---------------------------------

SAP_BOTH = [
    "Amount in doc. curr.",
    "Document currency",
    "Amount in local currency",
    "Local Currency",
]


@pytest.mark.parametrize(
    "header, amount, currency",
    [
        (SAP_BOTH, "Amount in doc. curr.", "Document currency"),
        (SAP_BOTH[::-1], "Amount in doc. curr.", "Document currency"),
        # The local amount with the document's currency beside it: the local currency goes with it.
        (["Amount in local currency", "Local Currency", "Document currency"],
         "Amount in local currency", "Local Currency"),
        # The document's amount without its currency: the local pair is whole, so it is taken.
        (["Amount in doc. curr.", "Amount in local currency", "Local Currency"],
         "Amount in local currency", "Local Currency"),
        # NetSuite: Amount is in the base currency, Currency is the transaction's.
        (["Amount", "Amount (Foreign Currency)", "Currency"], "Amount (Foreign Currency)", "Currency"),
        (["Amount", "Amount (LCY)", "Currency Code"], "Amount", "Currency Code"),
        (["Betrag in Hauswährung", "Hauswährung"], "Betrag in Hauswährung", "Hauswährung"),
    ],
)  # fmt: skip
def test_amount_and_currency_come_from_the_same_side(header, amount, currency):
    chosen = chosen_headers(header, "invoices")
    assert (chosen["amount"], chosen["currency"]) == (amount, currency)


def test_document_amount_beside_only_the_local_currency_gets_no_currency():
    """Labelling it with the local currency would be a guess; the home currency rule decides."""
    chosen = chosen_headers(["Amount in doc. curr.", "Local Currency"], "invoices")
    assert chosen["amount"] == "Amount in doc. curr." and "currency" not in chosen


def test_open_amount_follows_the_amount_side():
    header = ["Amount (Foreign Currency)", "Currency", "Amount Remaining",
              "Amount Remaining (Foreign Currency)"]  # fmt: skip
    assert (
        chosen_headers(header, "invoices")["open_amount"] == "Amount Remaining (Foreign Currency)"
    )


def test_mapping_file_choice_of_amount_brings_its_currency():
    mapping = Mapping(columns={"Amount in local currency": "amount"})
    chosen = chosen_headers(SAP_BOTH, "invoices", mapping)
    assert (chosen["amount"], chosen["currency"]) == ("Amount in local currency", "Local Currency")


# -- payments -------------------------------------------------------------------------------------


def test_payment_amount_wins_over_the_invoice_amount_in_a_payments_file():
    header = ["Customer", "Invoice No", "Invoice Amount", "Payment Amount", "Payment Date"]
    assert chosen_headers(header, "payments")["amount"] == "Payment Amount"
    assert payment_amount_problem(header) is None


def test_invoice_amount_is_never_a_payment_amount():
    header = ["Customer", "Invoice No", "Invoice Amount", "Payment Date"]
    assert "amount" not in chosen_headers(header, "payments")
    problem = payment_amount_problem(header)
    assert "'Invoice Amount'" in problem and '"amount"' in problem and "\n" not in problem
    # In an invoices file it is the amount.
    assert chosen_headers(header, "invoices")["amount"] == "Invoice Amount"


@pytest.mark.parametrize(
    "header", [["Customer", "Amount"], ["Customer", "Date"], ["Customer", "Amount Paid"]]
)
def test_no_payment_amount_problem_when_there_is_none(header):
    assert payment_amount_problem(header) is None


def test_a_payment_number_is_the_payment_id_not_the_invoice():
    chosen = chosen_headers(["Number", "Customer", "Date", "Amount"], "payments")
    assert chosen["payment_id"] == "Number" and "invoice_id" not in chosen


# -- mapping files --------------------------------------------------------------------------------


def load(tmp_path, text: str) -> Mapping:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    return Mapping.load(path)


def test_every_format_setting_is_accepted(tmp_path):
    mapping = load(
        tmp_path,
        '[format]\ndate = "%d.%m.%Y"\ndecimal = ","\ndelimiter = ";"\nencoding = "cp1252"\n'
        'sheet = "Jan"\nheader_row = 3\nskip_rows = 0\ncurrency = "EUR"\n'
        'two_digit_year_pivot = 50\nexport_date = 2026-03-31\nquoted_per = "USD"\n',
    )
    assert set(mapping.options) == set(FORMAT_KEYS)


@pytest.mark.parametrize("delimiter", ['"\\t"', "'\\t'", '"tab"', '"|"'])
def test_tab_and_one_character_delimiters_are_accepted(tmp_path, delimiter):
    assert load(tmp_path, f"[format]\ndelimiter = {delimiter}\n").options["delimiter"]


@pytest.mark.parametrize(
    "text, fragments",
    [
        ("[colums]\n", ["unknown section [colums]", "did you mean columns?", "[format]"]),
        ('[format]\ndelimeter = ";"\n', ["[format] delimeter: unknown setting",
                                          "did you mean delimiter?", "two_digit_year_pivot"]),
        ('[defaults]\ncurency = "EUR"\n', ["[defaults] curency: no table has that column",
                                           "did you mean currency?", "customer_id"]),
        ('[values.dispted]\n"J" = true\n', ["[values.dispted]: no table has that column",
                                            "did you mean disputed?"]),
        ('[columns]\n"Kunde" = "custmer_id"\n', ["[columns] 'Kunde' = 'custmer_id'",
                                                 "no table has that column",
                                                 "did you mean customer_id?"]),
        ('[format]\ndelimiter = ";;"\n', ["[format] delimiter = ';;'", "exactly one character",
                                          '"tab"']),
        ('[format]\ndelimiter = ""\n', ["[format] delimiter = ''", "exactly one character"]),
        ('[format]\ndate = "%d.%m"\n', ["[format] date = '%d.%m'", "lacks a year", "%Y or %y"]),
        ('[format]\ndate = "%H:%M"\n', ["lacks a day and a month and a year"]),
        ('[format]\ndate = "%d.%m.%Q"\n', ["[format] date = '%d.%m.%Q'", "not a strptime format",
                                           "bad directive"]),
        ("[format]\ndate = 20260131\n", ["[format] date = 20260131", "as text"]),
        ('[format]\nencoding = "utf9"\n', ["[format] encoding = 'utf9'", "no such encoding",
                                           '"cp1252"']),
        ('[format]\ndecimal = ";"\n', ["[format] decimal = ';'", 'use "." or ","']),
        ("[format]\nheader_row = 0\n", ["[format] header_row = 0", "whole number from 1"]),
        ('[format]\nheader_row = "2"\n', ["[format] header_row = '2'", "whole number from 1"]),
        ("[format]\nheader_row = true\n", ["[format] header_row = True", "whole number from 1"]),
        ("[format]\nskip_rows = -1\n", ["[format] skip_rows = -1", "whole number from 0"]),
        ("[format]\nskip_rows = 1.5\n", ["[format] skip_rows = 1.5", "whole number from 0"]),
        ('[format]\ncurrency = "euro"\n', ["[format] currency = 'euro'", "three-letter"]),
        ('[format]\ntwo_digit_year_pivot = "50"\n', ["[format] two_digit_year_pivot = '50'",
                                                     "whole number"]),
        ('[format]\nexport_date = "31.03.2026"\n', ["[format] export_date = '31.03.2026'",
                                                     "2026-03-31"]),
        ('columns = "Kunde"\n', ["columns must be a section"]),
        ("[values]\ndisputed = 1\n", ["[values.disputed] must list", '"J" = true']),
        ("[columns\n", ["mapping.toml"]),
    ],
)  # fmt: skip
def test_a_wrong_mapping_file_fails_in_one_line_naming_file_key_and_what_is_allowed(
    tmp_path, text, fragments
):
    with pytest.raises(MappingError) as failure:
        load(tmp_path, text)
    message = str(failure.value)
    assert "\n" not in message
    assert message.startswith(str(tmp_path / "mapping.toml"))
    for fragment in fragments:
        assert fragment in message


def test_open_items_export_pairs_its_open_amount_with_the_same_currency():
    header = ["TRX_NUMBER", "ACCTD_AMOUNT_DUE_REMAINING", "Local Currency", "INVOICE_CURRENCY_CODE"]
    chosen = chosen_headers(header, "invoices")
    assert (chosen["open_amount"], chosen["currency"]) == (
        "ACCTD_AMOUNT_DUE_REMAINING",
        "Local Currency",
    )
