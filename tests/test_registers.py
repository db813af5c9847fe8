"""The registers with a known driver of lateness (arlens.registers), read back from the committed
fixtures with plain pandas: each kind's planted driver is there, the dates make sense, the
activities and payments agree with the invoices, and everything imports without a rejected row."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest

from arlens.cli import main
from arlens.ingest.importer import import_file
from arlens.registers import INVOICE_HEADER, generate_register
from arlens.store import Store

REGISTERS = Path(__file__).parent / "data" / "registers"
END = pd.Timestamp(2025, 12, 31)
FOLDERS = ["dispute", "history", "noise", "dispute_dated"]


def invoices(folder: str) -> pd.DataFrame:
    frame = pd.read_csv(
        REGISTERS / folder / "invoices.csv",
        dtype={"customerID": str, "invoiceNumber": str},
        parse_dates=["InvoiceDate", "DueDate", "SettledDate"],
    )
    frame["late"] = (frame["SettledDate"] - frame["DueDate"]).dt.days > 0
    return frame


def settled(folder: str) -> pd.DataFrame:
    frame = invoices(folder)
    return frame[frame["SettledDate"].notna()]


def late_rate(frame: pd.DataFrame, disputed: str) -> float:
    return frame.loc[frame["Disputed"] == disputed, "late"].mean()


def customer_rates(frame: pd.DataFrame, least: int = 20) -> pd.Series:
    """Each customer's share of settled invoices paid late, for customers with `least` or more."""
    per = frame.groupby("customerID")["late"].agg(["mean", "size"])
    return per.loc[per["size"] >= least, "mean"]


def test_same_seed_same_bytes_and_other_seed_differs(tmp_path):
    for name in ("a", "b", "c"):
        seed = 99 if name == "c" else 12
        generate_register(tmp_path / name, "dispute", seed=seed, with_activities=True)
    for file in ("invoices.csv", "activities.csv", "payments.csv"):
        a, b, c = ((tmp_path / name / file).read_bytes() for name in ("a", "b", "c"))
        assert a == b, file
        assert a != c, file
        # the committed fixture is what the generator writes today
        assert a == (REGISTERS / "dispute_dated" / file).read_bytes(), file
    # activities and payments draw from their own stream: the invoices do not change with them
    assert (REGISTERS / "dispute" / "invoices.csv").read_bytes() == (
        tmp_path / "a" / "invoices.csv"
    ).read_bytes()


def test_kinds_differ_for_one_seed(tmp_path):
    texts = {
        kind: (REGISTERS / kind / "invoices.csv").read_bytes()
        for kind in ("dispute", "history", "noise")
    }
    assert len(set(texts.values())) == 3


@pytest.mark.parametrize("folder", FOLDERS)
def test_shape_and_dates(folder):
    frame = invoices(folder)
    header = (REGISTERS / folder / "invoices.csv").read_text().splitlines()[0]
    assert header == ",".join(INVOICE_HEADER)
    assert len(frame) == 4000
    assert frame["customerID"].nunique() == 150
    assert frame["customerID"].str.fullmatch(r"\d{4}-[A-Z]{5}").all()
    assert frame["invoiceNumber"].str.fullmatch(r"\d+").all()
    assert frame["invoiceNumber"].is_unique
    assert frame["countryCode"].str.fullmatch(r"[A-Z]{2}").all()
    assert set(frame["Disputed"]) == {"Yes", "No"}
    assert set(frame["PaperlessBill"]) == {"Paper", "Electronic"}
    assert (frame["InvoiceAmount"] > 0).all()
    assert (frame["InvoiceAmount"].round(2) == frame["InvoiceAmount"]).all()
    assert (frame["DueDate"] >= frame["InvoiceDate"]).all()
    assert set((frame["DueDate"] - frame["InvoiceDate"]).dt.days) <= {15, 30, 45, 60}
    assert frame["InvoiceDate"].min() >= END - pd.Timedelta(days=2 * 365)
    assert frame["InvoiceDate"].max() < END
    done = frame[frame["SettledDate"].notna()]
    assert (done["SettledDate"] >= done["InvoiceDate"]).all()
    assert (done["SettledDate"] <= END).all()
    # on time is at most 20 days early
    assert ((done["DueDate"] - done["SettledDate"]).dt.days <= 20).all()
    # every customer's terms are one number; billing goes from paper to electronic, never back
    terms = (frame["DueDate"] - frame["InvoiceDate"]).dt.days
    assert (terms.groupby(frame["customerID"]).nunique() == 1).all()
    for _, rows in frame.sort_values("InvoiceDate").groupby("customerID"):
        paper = (rows["PaperlessBill"] == "Paper").to_numpy()
        assert not (paper[1:] & ~paper[:-1]).any()
    # some invoices are open at the export, among them some already due
    open_ = frame[frame["SettledDate"].isna()]
    assert 0.01 < len(open_) / len(frame) < 0.15
    assert (open_["DueDate"] <= END).any()


def test_dispute_register_is_driven_by_the_dispute_flag():
    frame = settled("dispute")
    assert 0.08 < (invoices("dispute")["Disputed"] == "Yes").mean() < 0.16
    assert late_rate(frame, "Yes") - late_rate(frame, "No") >= 0.5
    assert 0.65 < late_rate(frame, "Yes") < 0.9
    assert 0.05 < late_rate(frame, "No") < 0.2
    # the customer matters little: per-customer rates about as spread as binomial noise
    assert customer_rates(frame).std() < 0.12


def test_history_register_is_driven_by_the_customer():
    frame = settled("history")
    rates = customer_rates(frame)
    assert len(rates) >= 140  # nearly every customer has 20+ settled invoices
    assert rates.std() >= 0.2
    assert rates.min() < 0.15 and rates.max() > 0.75
    assert abs(late_rate(frame, "Yes") - late_rate(frame, "No")) < 0.1
    assert 0.02 < (invoices("history")["Disputed"] == "Yes").mean() < 0.08
    # billing has no effect
    paper = frame.loc[frame["PaperlessBill"] == "Paper", "late"].mean()
    electronic = frame.loc[frame["PaperlessBill"] == "Electronic", "late"].mean()
    assert abs(paper - electronic) < 0.1
    # stable over time: each customer's rate in the first year predicts its rate in the second
    first = frame["InvoiceDate"] < END - pd.Timedelta(days=365)
    halves = pd.DataFrame(
        {"first": frame[first].groupby("customerID")["late"].mean(),
         "second": frame[~first].groupby("customerID")["late"].mean()}
    )  # fmt: skip
    assert halves["first"].corr(halves["second"]) > 0.7


def test_noise_register_is_mostly_noise():
    frame = settled("noise")
    assert 0.2 <= frame["late"].mean() <= 0.4
    assert customer_rates(frame).std() < 0.12
    assert abs(late_rate(frame, "Yes") - late_rate(frame, "No")) < 0.15


def test_activities_date_every_dispute_and_payments_settle_every_invoice():
    frame = invoices("dispute_dated")
    activities = pd.read_csv(
        REGISTERS / "dispute_dated" / "activities.csv",
        dtype={"customer_id": str, "invoice_id": str},
        parse_dates=["activity_date"],
    )
    payments = pd.read_csv(
        REGISTERS / "dispute_dated" / "payments.csv",
        dtype={"customer_id": str, "invoice_id": str},
        parse_dates=["payment_date"],
    )
    assert activities["activity_id"].is_unique and payments["payment_id"].is_unique
    assert set(activities["kind"]) == {"dispute", "call", "email"}
    by_number = frame.set_index("invoiceNumber")

    disputes = activities[activities["kind"] == "dispute"]
    assert disputes["invoice_id"].is_unique
    disputed = frame.loc[frame["Disputed"] == "Yes", "invoiceNumber"]
    assert set(disputes["invoice_id"]) == set(disputed)
    raised = disputes.set_index("invoice_id")["activity_date"]
    invoiced = by_number.loc[raised.index, "InvoiceDate"]
    assert (raised > invoiced).all()
    assert ((raised - invoiced).dt.days <= 20).all()
    assert (raised <= END).all()
    paid = by_number.loc[raised.index, "SettledDate"]
    assert (paid.isna() | (raised <= paid)).all()

    # calls and emails: on late invoices, after due, not after they are settled
    chases = activities[activities["kind"] != "dispute"].join(by_number, on="invoice_id")
    assert len(chases) > 100
    assert (chases["activity_date"] > chases["DueDate"]).all()
    assert (chases["SettledDate"].isna() | (chases["activity_date"] <= chases["SettledDate"])).all()
    assert (chases["SettledDate"].isna() | chases["late"]).all()
    assert (
        activities["customer_id"]
        == by_number.loc[activities["invoice_id"], "customerID"].to_numpy()
    ).all()

    done = frame[frame["SettledDate"].notna()]
    assert payments["invoice_id"].is_unique
    assert set(payments["invoice_id"]) == set(done["invoiceNumber"])
    joined = payments.join(by_number, on="invoice_id")
    assert (joined["amount"] == joined["InvoiceAmount"]).all()
    assert (joined["payment_date"] == joined["SettledDate"]).all()
    assert (joined["customer_id"] == joined["customerID"]).all()
    assert set(payments["method"]) <= {"ACH", "check", "wire", "card"}
    assert set(payments["currency"]) == {"USD"}


@pytest.mark.parametrize("folder", FOLDERS)
def test_fixture_imports_whole(tmp_path, folder):
    frame = invoices(folder)
    tables = ["invoices"] + (["activities", "payments"] if folder == "dispute_dated" else [])
    with Store.open(tmp_path / "r.duckdb") as store:
        for table in tables:
            path = REGISTERS / folder / f"{table}.csv"
            rows = len(pd.read_csv(path))
            result = import_file(store, path, table)
            assert (result.rows_read, result.rows_loaded, result.rows_rejected) == (rows, rows, 0)
            assert store.value(f"SELECT count(*) FROM {table}") == rows
            assert store.value("SELECT count(*) FROM rejected_rows") == 0
        assert store.value("SELECT count(*) FROM customers") == 150
        assert (
            store.value("SELECT count(*) FROM invoices WHERE disputed")
            == (frame["Disputed"] == "Yes").sum()
        )
        assert store.value("SELECT count(*) FROM invoices WHERE billing_channel IS NULL") == 0
        assert store.value("SELECT count(*) FROM invoices WHERE settled_on IS NOT NULL") == (
            frame["SettledDate"].notna().sum()
        )
        assert store.value("SELECT max(settled_on) FROM invoices") <= dt.date(2025, 12, 31)


def test_cli_writes_a_register(tmp_path, capsys):
    out = tmp_path / "noise"
    args = ["sample", "--register", "noise", "--out", str(out), "--seed", "5", "--customers", "30"]
    assert main(args) == 0
    assert f"{out / 'invoices.csv'}: 4,000 rows" in capsys.readouterr().out
    frame = pd.read_csv(out / "invoices.csv")
    assert frame["customerID"].nunique() == 30
    assert not (out / "activities.csv").exists()
    assert main([*args, "--with-activities"]) == 0
    assert (out / "activities.csv").exists() and (out / "payments.csv").exists()
    assert main(["sample", "--with-activities", "--out", str(tmp_path / "x")]) == 1
