"""Write business_central_aged_accounts_receivable.xlsx, a Dynamics 365 Business Central "Aged
Accounts Receivable" report (report 120) as it is saved to Excel: title rows, a section row per
customer, a subtotal per customer and a grand total in local currency.

Amounts are entered as exact decimals and written as numbers, dates as dates, document numbers
as numbers (as Business Central's Excel export does). Run from the repository root:
    .venv/bin/python tests/data/exports/reports/make_reports.py
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import openpyxl

HERE = Path(__file__).parent
BUCKETS = ["Not Due", "0-30 days", "31-60 days", "61-90 days", "Over 90 days"]
HEADER = ["Posting Date", "Document Type", "Document No.", "Due Date", "Original Amount", "Balance"]

# customer no., name -> (posting date, type, document no., due date, original, balance, bucket)
CUSTOMERS = {
    ("10000", "Adatum Corporation"): [
        ("2026-01-12", "Invoice", 103017, "2026-02-11", "4890.20", "4890.20", "31-60 days"),
        ("2026-03-05", "Invoice", 103029, "2026-04-04", "2133.00", "2133.00", "Not Due"),
    ],
    ("20000", "Trey Research"): [
        ("2025-11-20", "Invoice", 102988, "2025-12-20", "12500.00", "7500.00", "Over 90 days"),
        ("2026-02-25", "Invoice", 103024, "2026-03-27", "1780.40", "1780.40", "0-30 days"),
        ("2026-03-15", "Credit Memo", 104006, "2026-03-15", "-420.00", "-420.00", "0-30 days"),
    ],
    ("30000", "School of Fine Art"): [
        ("2026-01-30", "Invoice", 103021, "2026-03-01", "3306.75", "3306.75", "0-30 days"),
        ("2026-03-20", "Invoice", 103033, "2026-04-19", "955.50", "955.50", "Not Due"),
    ],
    ("40000", "Alpine Ski House"): [
        ("2025-12-18", "Invoice", 103003, "2026-01-17", "6212.00", "6212.00", "61-90 days"),
        ("2026-03-28", "Invoice", 103036, "2026-04-27", "1499.95", "1499.95", "Not Due"),
    ],
}


def _totals_row(label: str, by_bucket: dict[str, Decimal]) -> list:
    amounts = [float(by_bucket[b]) if by_bucket[b] else None for b in BUCKETS]
    return [label, None, None, None, None, float(sum(by_bucket.values())), *amounts]


def main() -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Aged Accounts Receivable"
    sheet.append(["Aged Accounts Receivable"])
    sheet.append(["CRONUS USA, Inc."])
    sheet.append(["Aged by Due Date"])
    sheet.append(["Aged As Of", dt.date(2026, 3, 31)])
    sheet.append([])
    sheet.append([*HEADER, *BUCKETS])
    grand = dict.fromkeys(BUCKETS, Decimal(0))
    for (number, name), entries in CUSTOMERS.items():
        sheet.append([f"Customer No.: {number}  Name: {name}"])
        by_bucket = dict.fromkeys(BUCKETS, Decimal(0))
        for posted, kind, document, due, original, balance, bucket in entries:
            amounts = [float(Decimal(balance)) if b == bucket else None for b in BUCKETS]
            sheet.append(
                [
                    dt.date.fromisoformat(posted),
                    kind,
                    document,
                    dt.date.fromisoformat(due),
                    float(Decimal(original)),
                    float(Decimal(balance)),
                    *amounts,
                ]
            )
            by_bucket[bucket] += Decimal(balance)
            grand[bucket] += Decimal(balance)
        sheet.append(_totals_row(f"{number} {name} Total", by_bucket))
    sheet.append([])
    sheet.append(_totals_row("Total (LCY)", grand))
    for row in sheet.iter_rows(min_row=7):
        for cell in row:
            if isinstance(cell.value, dt.date):
                cell.number_format = "mm/dd/yyyy"
            elif isinstance(cell.value, float):
                cell.number_format = "#,##0.00"
    book.save(HERE / "business_central_aged_accounts_receivable.xlsx")


if __name__ == "__main__":
    main()
