"""Roll rates, loss rates and the expected credit loss on a register without write-offs (the
minimal register: invoice number, customer, invoice/due/settled dates, amount, dispute flag,
country) and on a store whose documents carry no currency (a store from before currencies).

Expected values come from tests/reference.py (plain pandas, integer cents) or are worked by hand.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import reference as ref
from conftest import DATA

from arlens import metrics
from arlens.cli import main
from arlens.ingest.derive import rebuild_month_end_balances
from arlens.ingest.importer import import_file
from arlens.store import Store
from models import personas

D = dt.date(2025, 12, 31)
LABELS = metrics.bucket_labels()
FALLBACK = dict(zip(LABELS, metrics.FALLBACK_LOSS_RATES, strict=True))


@pytest.fixture(scope="module")
def register(tmp_path_factory):
    path = tmp_path_factory.mktemp("register") / "register.duckdb"
    with Store.open(path) as store:
        import_file(store, DATA / "minimal" / "invoices.csv", "invoices")
    return path


@pytest.fixture(scope="module")
def store(register):
    with Store.open(register, read_only=True) as s:
        yield s


def _no_currency(path, keep_home: bool):
    """The register as an older AR Lens stored it: no currency anywhere (and maybe no home).
    The tables derived at import are rebuilt from it, as the schema's migrations do."""
    with Store.open(path) as s:
        for table in ("invoices", "customers", "payments", "unapplied"):
            s.execute(f"UPDATE {table} SET currency = NULL")
        if not keep_home:
            s.execute("DELETE FROM settings WHERE key = 'home_currency'")
        rebuild_month_end_balances(s)


def test_roll_rates_match_the_reference_and_each_row_adds_to_one(store):
    ours = metrics.roll_rates(store, D, months=12)
    theirs = ref.roll_rates(ref.load_ledger(store), D, months=12)
    key = ["currency", "from_bucket", "to_bucket"]
    merged = ours[ours["amount"].round(2) != 0].merge(theirs, on=key, suffixes=("", "_ref"))
    assert len(merged) == len(theirs) > 10
    assert (merged["amount"].round(2) == merged["amount_ref"].round(2)).all()
    assert merged["rate"].to_numpy() == pytest.approx(merged["rate_ref"].to_numpy())
    sums = ours.groupby(["currency", "from_bucket"])["rate"].sum()
    assert sums.to_numpy() == pytest.approx(1.0)
    assert "Written off" not in set(ours["to_bucket"])  # the register records no write-offs
    assert set(ours["month_pairs"]) == {12}  # two years of history: 12 month pairs in the window


def test_without_write_offs_the_allowance_uses_the_stated_fallback_rates(store):
    """Before: every loss rate read 0% "from history" and the allowance was $0."""
    table = metrics.allowance(store, D)
    balances = ref.aging(ref.load_ledger(store), D, group_by="currency").iloc[0]
    assert list(table["bucket"]) == LABELS and set(table["source"]) == {"fallback"}
    assert set(table["note"]) == {"fallback: nothing written off in the 12 months of history"}
    for row in table.itertuples():
        assert row.loss_rate == FALLBACK[row.bucket]
        assert round(row.balance, 2) == round(float(balances[row.bucket]), 2)
        assert round(row.allowance, 2) == round(float(balances[row.bucket]) * row.loss_rate, 2)
    assert round(table["allowance"].sum(), 2) == 18_668.48  # Σ of the buckets, each to the cent
    note = metrics.loss_rate_note(table)
    assert note == (
        "Nothing written off in the 12 months of history, so every bucket uses the stated "
        "fallback rates."
    )
    by_customer = metrics.expected_credit_loss_by(store, D)
    cents = len(by_customer) * 0.005  # each customer's figure is rounded to the cent
    assert by_customer["expected_credit_loss"].sum() == pytest.approx(18_668.48, abs=cents)


def test_a_bucket_without_history_passes_its_fallback_rate_on():
    """Over held no balance at the month-ends: it takes its fallback (75%), and the 25% of 1-30
    that rolls into it carries that loss: 1-30 = 0.25 + 0.25 × 0.75, Current = 0.5 × that."""
    rates = pd.DataFrame(
        [
            ("USD", "Current", "Paid", 0.5), ("USD", "Current", "1-30", 0.5),
            ("USD", "1-30", "Paid", 0.5), ("USD", "1-30", "Written off", 0.25),
            ("USD", "1-30", "Over", 0.25),
        ],
        columns=["currency", "from_bucket", "to_bucket", "rate"],
    ).assign(month_pairs=12, bucket_months=12)  # fmt: skip
    loss = metrics.loss_rates(rates, ["Current", "1-30", "Over"]).set_index("bucket")
    assert list(loss["loss_rate"]) == pytest.approx([0.5 * 0.4375, 0.4375, 0.75])
    assert list(loss["source"]) == ["history", "history", "fallback"]
    assert (
        loss.loc["Over", "note"] == "fallback: a balance in this bucket at 0 of the 12 month-ends"
    )
    # Three month-ends of history are enough for a bucket; two are not.
    short = metrics.loss_rates(rates.assign(bucket_months=2), ["Current", "1-30", "Over"])
    assert set(short["source"]) == {"fallback"}
    none_written = metrics.loss_rates(rates[rates["to_bucket"] != "Written off"], ["Current", "1-30", "Over"])  # fmt: skip
    assert set(none_written["note"]) == {
        "fallback: nothing written off in the 12 months of history"
    }


def test_the_matrix_shown_leaves_out_buckets_without_history(store):
    rates = metrics.roll_rates(store, dt.date(2024, 6, 30), months=3)
    shown = metrics.roll_rate_matrix(rates, LABELS, seen_only=True)
    assert "121+" not in shown.index  # nothing was 121+ days past due at those month-ends
    assert shown.sum(axis=1).to_numpy() == pytest.approx(1.0)  # every row shown adds to 100%
    assert len(metrics.roll_rate_matrix(rates, LABELS)) == len(LABELS)


def test_the_trend_has_every_month_end(store):
    ours = metrics.trend(store, dt.date(2024, 1, 1), D)
    theirs = ref.trend(ref.load_ledger(store), dt.date(2024, 1, 1), D)
    assert len(ours) == len(theirs) == 24
    assert ours["total"].round(2).tolist() == theirs["total"].round(2).tolist()


@pytest.mark.parametrize("keep_home", [True, False])
def test_documents_without_a_currency_still_add_up(register, tmp_path, keep_home):
    """The failures a user saw on an old store: `No objects to concatenate`, roll rates all 0%,
    a blank trend, fallback rates "for want of history", personas' `argmax of an empty sequence`."""
    path = tmp_path / "old.duckdb"
    path.write_bytes(register.read_bytes())
    _no_currency(path, keep_home)
    with Store.open(register, read_only=True) as new, Store.open(path, read_only=True) as old:
        expected = metrics.allowance(new, D)
        table = metrics.allowance(old, D)
        assert table["allowance"].round(2).tolist() == expected["allowance"].round(2).tolist()
        currencies = {"none" if pd.isna(c) else c for c in table["currency"]}
        assert currencies == ({"USD"} if keep_home else {"none"})
        by_customer = metrics.expected_credit_loss_by(old, D)["expected_credit_loss"]
        assert (
            by_customer.tolist()
            == metrics.expected_credit_loss_by(new, D)["expected_credit_loss"].tolist()
        )
        rates = metrics.roll_rates(old, D, months=3)
        assert rates["rate"].notna().all()
        assert rates.groupby("from_bucket")["rate"].sum().to_numpy() == pytest.approx(1.0)
        assert len(metrics.trend(old, dt.date(2025, 1, 1), D)) == 12
        summary = personas.analyse(old, D).summary
        assert summary["customers"].sum() == 100 and summary["share_of_ar"].sum() == pytest.approx(
            1
        )


def test_personas_say_what_they_need_when_history_is_too_short(register, store, capsys):
    with pytest.raises(personas.PersonaDataError, match="none of the 56 customers"):
        personas.analyse(store, dt.date(2024, 1, 31))
    code = main(["personas", "--db", str(register), "--as-of", "2024-01-31", "--no-store"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("arlens: personas need at least one customer with 180 days")
