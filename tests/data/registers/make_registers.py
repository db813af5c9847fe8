"""Write the registers whose lateness has a known driver (arlens.registers).

`dispute/`, `history/` and `noise/` each hold an invoices.csv of the default size (4,000 invoices
of 150 customers over the two years to 2025-12-31); `dispute_dated/` is the dispute register with
activities.csv (a dated dispute for every disputed invoice, calls and emails) and payments.csv.
Seeds are fixed, so the files are byte-identical on every run;
run `python tests/data/registers/make_registers.py`.
"""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parents[2]))

from arlens.registers import generate_register  # noqa: E402

# folder: (kind, seed, with_activities)
REGISTERS = {
    "dispute": ("dispute", 12, False),
    "history": ("history", 12, False),
    "noise": ("noise", 12, False),
    "dispute_dated": ("dispute", 12, True),
}


def main() -> None:
    for folder, (kind, seed, with_activities) in REGISTERS.items():
        counts = generate_register(HERE / folder, kind, seed=seed, with_activities=with_activities)
        for name, rows in counts.items():
            print(f"{HERE / folder / name}: {rows:,} rows")


if __name__ == "__main__":
    main()
