"""Train the late-payment scorer on every register we try it on and print the candidates ×
registers × metrics table (validation and test ROC AUC, test Brier and log loss, the shipped
scorer and its verdict). `python -m benchmarks.risk_registers [--out table.md] [extra.csv ...]`.

The registers: the bundled sample, the minimal register (tests/data/minimal), the generated ones
with a known driver of lateness (tests/data/registers: dispute, dispute with dated activities,
history, noise) and any invoice register given on the command line (e.g. a public one).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from arlens.ingest.importer import import_file
from arlens.store import Store
from models import risk

REPO = Path(__file__).resolve().parents[1]
REGISTERS = {
    "sample": [
        (REPO / "sample_data" / f"{t}.csv", t)
        for t in ("customers", "invoices", "payments", "financials", "activities")
    ],  # fmt: skip
    "minimal": [(REPO / "tests/data/minimal/invoices.csv", "invoices")],
    "dispute": [(REPO / "tests/data/registers/dispute/invoices.csv", "invoices")],
    "dispute (dated)": [
        (REPO / "tests/data/registers/dispute_dated" / f"{t}.csv", t)
        for t in ("invoices", "payments", "activities")
    ],  # fmt: skip
    "history": [(REPO / "tests/data/registers/history/invoices.csv", "invoices")],
    "noise": [(REPO / "tests/data/registers/noise/invoices.csv", "invoices")],
}


def run(name: str, files, folder: Path) -> list[dict]:
    db = folder / f"{name.replace(' ', '_').replace('(', '').replace(')', '')}.duckdb"
    with Store.open(db) as store:
        for path, table in files:
            import_file(store, path, table, currency="USD")
        report = risk.train(store)
    rows = []
    for key, about in report["candidates"].items():
        label = about["label"]
        validation = (report["validation"]["metrics"] or {}).get(key) or {}
        test = report["metrics"][key]
        ci = (report["intervals"].get(key) or {}).get("roc_auc") or (None, None)
        rows.append({
            "register": name, "candidate": label, "shipped": key == report["shipped"],
            "val_auc": validation.get("roc_auc"), "test_auc": test["roc_auc"], "ci": ci,
            "brier": test["brier"], "log_loss": test["log_loss"], "verdict": report["verdict"],
            "seconds": report["seconds"]["total"],
        })  # fmt: skip
    return rows


def _f(v):
    return "–" if v is None else f"{v:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("extra", nargs="*", type=Path, help="more invoice registers (CSV)")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    registers = dict(REGISTERS)
    for path in args.extra:
        registers[path.stem] = [(path, "invoices")]
    lines = ["| register | candidate | validation ROC AUC | test ROC AUC (95% CI) | test Brier | test log loss |",
             "|---|---|---|---|---|---|"]  # fmt: skip
    verdicts = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, files in registers.items():
            rows = run(name, files, Path(tmp))
            for r in rows:
                mark = " **shipped**" if r["shipped"] else ""
                ci = f" ({_f(r['ci'][0])}–{_f(r['ci'][1])})" if r["ci"][0] is not None else ""
                lines.append(f"| {name} | {r['candidate']}{mark} | {_f(r['val_auc'])} | {_f(r['test_auc'])}{ci} | {_f(r['brier'])} | {_f(r['log_loss'])} |")  # fmt: skip
            verdicts.append(f"- {name} ({rows[0]['seconds']:.0f} s): {rows[0]['verdict']}")
            print(lines[-len(rows) :], verdicts[-1], sep="\n", flush=True)
    text = "\n".join(lines + [""] + verdicts) + "\n"
    print(text)
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
