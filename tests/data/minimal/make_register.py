"""Write the minimal register: what most first exports look like.

2,000 invoices of 100 customers over two years with invoice, due and settled dates, an amount, a
dispute flag and a country code; no currency, names, segments, credit limits, payments,
activities or financials. Deterministic; run `python tests/data/minimal/make_register.py`.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).parent
START = dt.date(2024, 1, 1)
EXPORTED = dt.date(2025, 12, 31)


def rows(seed: int = 11) -> list[list[str]]:
    rng = random.Random(seed)
    countries = ["US", "CA", "GB", "DE", "FR", "MX"]
    customers = [
        (f"{rng.randrange(1000, 9999)}-{''.join(rng.choices('ABCDEFGHJKLMNPQRSTUVWXYZ', k=5))}",
         rng.choice(countries), rng.choice([15, 30, 45, 60]), rng.random())
        for _ in range(100)
    ]  # fmt: skip
    out = []
    for n in range(2000):
        customer, country, terms, lateness = customers[n % 100]
        invoice_date = START + dt.timedelta(days=rng.randrange(0, (EXPORTED - START).days))
        due_date = invoice_date + dt.timedelta(days=terms)
        disputed = rng.random() < 0.08
        days_late = int(rng.expovariate(1 / (5 + 40 * lateness))) - 5 + (25 if disputed else 0)
        settled = due_date + dt.timedelta(days=days_late)
        if settled < invoice_date:
            settled = invoice_date + dt.timedelta(days=1)
        settled_text = settled.isoformat() if settled <= EXPORTED else ""
        amount = round(rng.lognormvariate(7.5, 1.0), 2)
        out.append([
            country, customer, f"{6100000 + n}", invoice_date.isoformat(), due_date.isoformat(),
            settled_text, f"{amount:.2f}", "Yes" if disputed else "No",
        ])  # fmt: skip
    return out


def main() -> None:
    header = ["countryCode", "customerID", "invoiceNumber", "InvoiceDate", "DueDate",
              "SettledDate", "InvoiceAmount", "Disputed"]  # fmt: skip
    with (HERE / "invoices.csv").open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows())


if __name__ == "__main__":
    main()
