"""The late-payment risk model: no future leaks, honest validation, safe persistence, scores, page.

Features are checked by hand on the small ledger (tests/data/ledger) and by shifting every row
dated after an invoice: its features must not move. The model is trained once on the bundled
sample (a copy) and once on a plain invoice register made from it.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
from conftest import DATA, REPO
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks
from streamlit.testing.v1 import AppTest

from arlens.ingest.importer import import_file
from arlens.store import Store
from arlens.team.roles import User
from models import risk, risk_eval, risk_persist
from models.risk_pipeline import (
    AS_OF_SCORING,
    FEATURES,
    HoldoutCalibratedClassifier,
    late_model,
    logistic_baseline,
    usable_features,
)
from ui.access import USER
from ui.data import reading

D = dt.date
AS_OF_INVOICE = [f for f in FEATURES if f not in AS_OF_SCORING]

# -- Features: worked by hand, and blind to the future -------------------------------------------


@pytest.fixture(scope="module")
def ledger():
    with Store.memory() as store:
        for table in ("customers", "invoices", "payments", "activities"):
            import_file(store, DATA / "ledger" / f"{table}.csv", table)
        yield store


def test_features_on_the_hand_ledger(ledger):
    """I3 (C1, 1 Mar 2026) and I6 (C2, 10 Mar 2026), worked from tests/data/ledger."""
    f = risk.features(ledger).set_index("invoice_id")
    i3 = f.loc["I3"]
    # Before 1 Mar: I1 1000 (400 paid 10 Feb, due 31 Jan) and I2 500 (due 17 Mar); A1 promise
    # (made 1 Feb) broken on 20 Feb; A2 is dated 1 Mar itself, so it does not count yet.
    assert (i3.prior_invoices, i3.amount_vs_usual, i3.terms_days) == (2, 300 / 750, 30)
    assert (i3.open_balance, i3.past_due, i3.past_due_30) == (1100, 600, 0)
    assert (i3.promises_made, i3.broken_promises, i3.settled_count) == (1, 1, 0)
    assert i3.credit_utilisation == pytest.approx(1100 / 1000)
    assert np.isnan(i3.late_share) and i3.tenure_days == 59
    i6 = f.loc["I6"]
    # Before 10 Mar: I4 2000 (500 paid 1 Dec, written off only on 15 Mar) and I5 800, both
    # more than 30 days past due; one call (A4, 2 Mar).
    assert (i6.prior_invoices, i6.open_balance, i6.past_due, i6.past_due_30) == (
        2,
        2300,
        2300,
        2300,
    )
    assert (i6.collection_actions, i6.settled_count) == (1, 0)
    assert i6.amount_vs_usual == pytest.approx(1200 / 1400)
    assert i6.credit_utilisation == pytest.approx(2300 / 5000)
    # I1 is settled on 5 Apr (P2), 64 days late: I3's features cannot know it, and do not.
    assert f.loc["I1"].prior_invoices == 0 and np.isnan(f.loc["I1"].tenure_days)


def _ledger_rows(seed: int = 3) -> dict[str, list[dict]]:
    """A random ledger: 3 customers, ~15 invoices each over 9 months, payments (some partial,
    some late, some never), disputes, promises (some broken), calls, one write-off."""
    rng = np.random.default_rng(seed)
    rows = {"customers": [], "invoices": [], "payments": [], "activities": []}
    start = D(2025, 1, 1)
    for c in range(3):
        customer = f"C{c}"
        rows["customers"].append({"customer_id": customer, "segment": ["Enterprise", "Retail"][c % 2],
                                  "country": "US", "currency": "USD", "credit_limit": 20000})  # fmt: skip
        for k in range(15):
            day = start + dt.timedelta(days=int(rng.integers(0, 270)))
            due = day + dt.timedelta(days=30)
            amount = round(float(rng.uniform(100, 5000)), 2)
            invoice = f"I{c}{k:02d}"
            row = {"invoice_id": invoice, "customer_id": customer, "invoice_date": day,
                   "due_date": due, "amount": amount, "disputed": bool(rng.random() < 0.2),
                   "written_off_on": None}  # fmt: skip
            fate = rng.random()
            if fate < 0.7:  # paid, maybe in two parts, maybe late
                paid = due + dt.timedelta(days=int(rng.integers(-20, 60)))
                first = round(amount * (0.5 if rng.random() < 0.3 else 1.0), 2)
                rows["payments"].append({"payment_id": f"P{invoice}a", "customer_id": customer,
                                         "payment_date": paid, "amount": first, "invoice_id": invoice})  # fmt: skip
                if first < amount:
                    rows["payments"].append({"payment_id": f"P{invoice}b", "customer_id": customer,
                                             "payment_date": paid + dt.timedelta(days=20),
                                             "amount": round(amount - first, 2), "invoice_id": invoice})  # fmt: skip
            elif fate < 0.8:
                row["written_off_on"] = due + dt.timedelta(days=120)
            rows["invoices"].append(row)
            for j, kind in enumerate(["call", "dispute", "promise"]):
                if rng.random() < 0.4:
                    when = due + dt.timedelta(days=int(rng.integers(1, 40)))
                    promised = when + dt.timedelta(days=7) if kind == "promise" else None
                    rows["activities"].append({
                        "activity_id": f"A{invoice}{j}", "customer_id": customer, "invoice_id": invoice,
                        "activity_date": when, "kind": kind, "promised_date": promised,
                        "promised_amount": amount if promised else None,
                        "outcome": ("broken" if rng.random() < 0.5 else "kept") if promised else None,
                    })  # fmt: skip
    return rows


DATED = {"invoices": ["invoice_date", "due_date", "written_off_on"], "payments": ["payment_date"],
         "activities": ["activity_date", "promised_date"]}  # fmt: skip
WHEN = {"invoices": "invoice_date", "payments": "payment_date", "activities": "activity_date"}


def _future_changed(rows: dict, day: dt.date, shift: int) -> dict:
    """Every row dated after `day` moves `shift` days later with a different amount; promises
    made before `day` but due after it change outcome; new rows dated after `day` appear (an
    invoice, a payment on an old invoice, a dispute, a broken promise). Invoices dated on or
    before `day` keep their own dates."""
    out = {t: [dict(r) for r in rs] for t, rs in rows.items()}
    for table, columns in DATED.items():
        for row in out[table]:
            if row[WHEN[table]] > day:
                for column in columns:
                    if row.get(column) is not None:
                        row[column] += dt.timedelta(days=shift)
                for key in ("amount", "promised_amount"):
                    if row.get(key):
                        row[key] = round(row[key] * 1.5, 2)
            elif table == "activities" and row["promised_date"] and row["promised_date"] > day:
                # a promise made before `day`, due after it: kept or broken is not known yet
                row["promised_date"] += dt.timedelta(days=shift)
                row["outcome"] = "kept" if row["outcome"] == "broken" else "broken"
    later = day + dt.timedelta(days=1)
    old = next(r for r in out["invoices"] if r["invoice_date"] < day)
    out["invoices"].append({"invoice_id": "NEW", "customer_id": old["customer_id"], "invoice_date": later,
                            "due_date": later + dt.timedelta(days=30), "amount": 999.0,
                            "disputed": True, "written_off_on": None})  # fmt: skip
    out["payments"].append({"payment_id": "PNEW", "customer_id": old["customer_id"], "payment_date": later,
                            "amount": float(old["amount"]), "invoice_id": old["invoice_id"]})  # fmt: skip
    out["activities"] += [
        {"activity_id": "ANEW1", "customer_id": old["customer_id"], "invoice_id": old["invoice_id"],
         "activity_date": later, "kind": "dispute", "promised_date": None, "promised_amount": None,
         "outcome": None},
        {"activity_id": "ANEW2", "customer_id": old["customer_id"], "invoice_id": old["invoice_id"],
         "activity_date": later, "kind": "promise", "promised_date": later,
         "promised_amount": 10.0, "outcome": "broken"},
    ]  # fmt: skip
    return out


def _store_from(rows: dict, tmp_path, name: str) -> Store:
    """Import the rows through CSV text, as a user's export would come in."""
    store = Store.memory()
    for table in ("customers", "invoices", "payments", "activities"):
        path = tmp_path / f"{name}_{table}.csv"
        path.write_text(pd.DataFrame(rows[table]).to_csv(index=False))
        import_file(store, path, table)
    return store


@pytest.mark.parametrize("day", [D(2025, 3, 15), D(2025, 5, 1), D(2025, 7, 20)])
def test_no_feature_uses_information_dated_after_the_invoice_date(tmp_path, day):
    """Shifting, changing and adding rows dated after `day` leaves every earlier invoice's
    features as they were (and does change later invoices': the test has teeth)."""
    rows = _ledger_rows()
    with _store_from(rows, tmp_path, "now") as now, _store_from(_future_changed(rows, day, 17), tmp_path, "later") as later:  # fmt: skip
        before = risk.features(now).set_index("invoice_id")
        after = risk.features(later).set_index("invoice_id")
    known = before.index[before["invoice_date"] <= pd.Timestamp(day)]
    assert len(known) >= 5
    pd.testing.assert_frame_equal(before.loc[known, AS_OF_INVOICE], after.loc[known, AS_OF_INVOICE])
    # the invoice's own dispute is read as of its due date: settled once that day has passed
    due = before.index[before["due_date"] <= pd.Timestamp(day)]
    pd.testing.assert_frame_equal(before.loc[due, AS_OF_SCORING], after.loc[due, AS_OF_SCORING])
    moved = before.index[before["invoice_date"] > pd.Timestamp(day)]
    assert not before.loc[moved, FEATURES].equals(after.loc[moved, FEATURES])


def test_scoring_features_equal_training_features(ledger, tmp_path):
    """An open invoice gets the same features when scored as it had for training (all but its
    own dispute status, which is read as of the scoring date: tests/test_risk_select.py)."""
    scoring = risk.features(ledger, scope="score", as_of=D(2026, 3, 31)).set_index("invoice_id")
    assert set(scoring.index) == {"I3", "next:C1", "next:C2"}  # I1, I2, I5 are already late
    with _store_from(_ledger_rows(), tmp_path, "ledger") as store:
        everything = risk.features(store).set_index("invoice_id")
        compared = 0
        for day in (D(2025, 3, 1), D(2025, 6, 15), D(2025, 9, 30)):
            scoring = risk.features(store, scope="score", as_of=day).set_index("invoice_id")
            invoices = scoring[scoring["target"] == "invoice"]
            pd.testing.assert_frame_equal(
                invoices[AS_OF_INVOICE], everything.loc[invoices.index, AS_OF_INVOICE]
            )
            compared += len(invoices)
        assert compared >= 5


# -- Labels and metrics --------------------------------------------------------------------------


def test_labels_as_known_on_a_date(ledger):
    """Late when settled after due, written off, or still open past due; unknown while not due."""
    lab = risk.labels(ledger, D(2026, 3, 31))
    assert (lab.loc["I1", "known"], lab.loc["I1", "late"]) == (True, 1)  # due 31 Jan, open
    assert np.isnan(lab.loc["I1", "days_late"])  # its days late are known only 120 days after due
    assert lab.loc["I4", "late"] == 1 and lab.loc["I5", "late"] == 1  # written off; open past due
    assert lab.loc["I6", "late"] == 0  # settled 25 Mar, due 9 Apr
    assert not lab.loc["I6", "known"] and not lab.loc["I3", "known"]  # not yet due + grace
    assert risk.labels(ledger, D(2026, 2, 1)).loc["I1", "known"]  # 31 Jan due, open on 1 Feb
    assert not risk.labels(ledger, D(2026, 2, 1), grace_days=5).loc["I1", "known"]


def test_metrics_are_refused_on_a_small_test_set():
    y, p = np.array([0, 1] * 50), np.linspace(0, 1, 100)
    assert set(risk_eval.evaluate(y, p).values()) == {None}
    assert "fewer than 200" in risk_eval.refusals(y)["roc_auc"]
    y = np.array([1] * 295 + [0] * 5)
    metrics = risk_eval.evaluate(y, np.linspace(0, 1, 300))
    assert metrics["roc_auc"] is None and metrics["brier"] is not None
    assert "5 on-time" in risk_eval.refusals(y)["roc_auc"]


def test_top_decile_lift_by_hand():
    y = np.array([1, 1, 0, 0, 0, 0, 0, 0, 0, 0] * 2)
    p = np.array([0.9, 0.8] + [0.1] * 8 + [0.7, 0.6] + [0.2] * 8)
    assert risk_eval.top_decile_lift(y, p) == pytest.approx(1.0 / 0.2)  # top 2 both late


@parametrize_with_checks([HoldoutCalibratedClassifier(LogisticRegression())])
def test_holdout_calibrated_classifier_is_a_proper_estimator(estimator, check):
    check(estimator)


# -- Training and scoring on the sample ----------------------------------------------------------


@pytest.fixture(scope="module")
def trained(sample_db, tmp_path_factory):
    """A copy of the sample store, a model trained on it, and its open invoices scored."""
    folder = tmp_path_factory.mktemp("risk")
    db, model_dir = folder / "arlens.duckdb", folder / "models"
    shutil.copy(sample_db, db)
    with Store.open(db) as store:
        report = risk.train(store, model_dir=model_dir)
        as_of = risk.data_end(store)
        scored = risk.score(store, as_of, model_dir=model_dir)
        frame = risk.features(store).iloc[-3000:]  # a small labelled sample for round trips
        y = risk.labels(store, as_of).reindex(frame["invoice_id"])["late"].to_numpy()
    return {"db": db, "models": model_dir, "report": report, "as_of": as_of, "scored": scored,
            "sample": (frame.reset_index(drop=True), y)}  # fmt: skip


def test_on_the_sample_the_shipped_model_beats_the_historical_rate(trained):
    """The sample's planted behaviours are learnable: validation ships a model, and on the test
    period it beats the customer's historical late rate by more than the bootstrap interval."""
    report = trained["report"]
    assert report["shipped"] != "historical_rate" and report["validation"]["chosen"] == report["shipped"]  # fmt: skip
    gain = report["differences"][report["shipped"]]["roc_auc"]
    assert gain["low"] > 0 and gain["difference"] == pytest.approx(
        report["metrics"][report["shipped"]]["roc_auc"] - report["metrics"]["historical_rate"]["roc_auc"]
    )  # fmt: skip
    assert " beats the historical late rate by " in report["verdict"]
    assert report["refused"] == {}
    assert (
        report["train"]["last_invoice_date"]
        < report["cutoff"]
        <= report["test"]["first_invoice_date"]
    )
    assert report["train"]["labels_as_of"] == report["cutoff"]  # training saw no later outcome
    card = json.loads((trained["models"] / risk_persist.CARD_FILE).read_text())
    assert card["data_version"] == report["data_version"] and card["cutoff"] == report["cutoff"]
    assert {"numeric", "categorical"} == set(card["features"])
    assert "in force then" in card["notes"][0]  # utilisation by the limit of the invoice's day
    assert (
        card["curves"]["calibration"][report["shipped"]]["observed"] and card["feature_importance"]
    )
    assert card["dispute_status"]["basis"] == "dated dispute activities"  # the sample has them
    # accuracy beside the majority-class rate, lift beside its ceiling
    context = report["context"]
    assert context["majority_rate"] == pytest.approx(max(report["test"]["late_share"], 1 - report["test"]["late_share"]))  # fmt: skip
    assert (
        1
        < report["metrics"][report["shipped"]]["top_decile_lift"]
        <= context["top_decile_lift_ceiling"]
    )


def test_every_open_invoice_and_customer_is_scored(trained):
    with Store.open(trained["db"], read_only=True) as store:
        open_count = len(store.df("SELECT * FROM open_documents($d)", {"d": trained["as_of"]}))
        scores = store.df("SELECT * FROM invoice_scores")
        customers = risk.customer_risk_scores(store)
        collections = risk.expected_collections(store, trained["as_of"], currency="USD")
        assert risk.has_scores(store)
    assert len(scores) == open_count == trained["scored"]["open_invoices"]
    assert scores["p_late"].between(0, 1).all()
    assert (scores.loc[scores["already_late"], "p_late"] == 1).all()
    assert scores.loc[~scores["already_late"], "p_model"].notna().all()
    assert (scores["expected_payment_date"].dropna() > pd.Timestamp(trained["as_of"])).all()
    assert scores["reasons"].str.contains("pts").any()
    assert set(scores["model_version"]) == {trained["report"]["model_version"]}
    assert len(customers) == 400 and all(0 <= v <= 1 for v in customers.values())
    assert list(collections.columns[:3]) == ["week_start", "currency", "expected_amount"]
    assert len(collections) == 8 and collections["week_start"].iloc[0] <= trained[
        "as_of"
    ] + dt.timedelta(days=7)
    usd = scores[(scores["currency"] == "USD") & scores["expected_payment_date"].notna()]
    first, end = (
        collections["week_start"].iloc[0],
        collections["week_start"].iloc[-1] + dt.timedelta(days=7),
    )
    in_window = usd[usd["expected_payment_date"] < pd.Timestamp(end)]
    assert collections["expected_amount"].sum() == pytest.approx(
        float(in_window["open_amount"].sum())
    )
    assert first.weekday() == 0


def test_skops_round_trip_gives_identical_predictions(trained, tmp_path):
    """A pipeline saved with skops and loaded with the explicit trusted types predicts the same."""
    frame, y = trained["sample"]
    with Store.open(trained["db"], read_only=True) as store:
        pipeline, card = risk.load_model(trained["models"], store)
    fitted = late_model(*usable_features(frame[FEATURES])).fit(frame[FEATURES], y)
    saved = risk_persist.save(tmp_path, {"late": fitted}, card)
    assert risk_persist.untrusted_types(tmp_path / risk_persist.MODEL_FILES["late"]) == []
    loaded = risk_persist.load(tmp_path, saved)["late"]
    np.testing.assert_array_equal(
        fitted.predict_proba(frame[FEATURES]), loaded.predict_proba(frame[FEATURES])
    )
    assert pipeline.predict_proba(frame[FEATURES]).shape == (
        len(frame),
        2,
    )  # the trained one loads too


def test_a_file_with_untrusted_types_is_refused(trained, tmp_path):
    frame, y = trained["sample"]
    other = logistic_baseline(*usable_features(frame[FEATURES])).fit(
        frame[FEATURES], y
    )  # numpy types not on our list
    card = risk_persist.save(tmp_path, {"late": other}, {"model_version": "x"})
    with pytest.raises(risk_persist.ModelError, match="does not trust: numpy"):
        risk_persist.load(tmp_path, card)
    (tmp_path / risk_persist.MODEL_FILES["late"]).write_bytes(b"tampered")
    with pytest.raises(risk_persist.ModelError, match="does not match its model card"):
        risk_persist.load(tmp_path, card)


def test_a_stale_model_is_flagged_not_silently_used(trained, tmp_path):
    db = tmp_path / "later.duckdb"
    shutil.copy(trained["db"], db)
    with Store.open(db) as store:
        store.bump_data_version()  # what an import does
        _, card = risk.load_model(trained["models"], store)
        version = trained["report"]["data_version"]
        assert card["stale"] and card["stale_reason"].startswith(
            f"this store's data changed since training (data version {version} then, "
            f"{version + 1} now"
        )
        with pytest.raises(risk.ModelError, match="stale"):
            risk.score(store, trained["as_of"], model_dir=trained["models"])
        risk.score(store, trained["as_of"], model_dir=trained["models"], allow_stale=True)
        assert risk.scores_info(store)["stale_model"]


def test_a_schema_change_is_a_clear_error(trained, tmp_path):
    shutil.copytree(trained["models"], tmp_path / "models")
    path = tmp_path / "models" / risk_persist.CARD_FILE
    card = json.loads(path.read_text())
    card["schema"]["invoices.amount"] = "DOUBLE"
    path.write_text(json.dumps(card))
    with Store.open(trained["db"], read_only=True) as store, pytest.raises(risk.ModelError, match="schema changed.*invoices.amount"):  # fmt: skip
        risk.load_model(tmp_path / "models", store)


def test_the_score_summary_keeps_currencies_apart(trained):
    """`arlens score` reports the amount at risk of late payment per currency, never one sum."""
    with Store.open(trained["db"], read_only=True) as store:
        per_currency = store.df(
            "SELECT currency, sum(amount_at_risk_of_late_payment) AS at_risk FROM invoice_scores "
            "GROUP BY currency ORDER BY currency"
        )
    summary = trained["scored"][risk.AT_RISK]
    assert "expected_loss" not in trained["scored"]
    assert list(summary) == ["EUR", "GBP", "USD"]
    assert list(summary.values()) == [round(v, 2) for v in per_currency["at_risk"]]


def test_scores_show_only_at_their_date_or_later(trained):
    """A view at an earlier date than the scores gets none of them."""
    before = trained["as_of"] - dt.timedelta(days=1)
    with Store.open(trained["db"], read_only=True) as store:
        assert risk.customer_risk_scores(store, as_of=before) == {}
        assert risk.ranked_invoices(store, as_of=before).empty
        assert risk.score_distribution(store, as_of=before).empty
        assert risk.expected_collections(store, before).empty
        assert len(risk.customer_risk_scores(store, as_of=trained["as_of"])) == 400
        assert len(risk.ranked_invoices(store, as_of=trained["as_of"]))


def test_models_live_beside_their_store(tmp_path, monkeypatch):
    monkeypatch.delenv("ARLENS_MODEL_DIR", raising=False)
    db = tmp_path / "books.duckdb"
    assert risk.resolve_model_dir(db=db) == tmp_path / "books.models"
    assert risk.resolve_model_dir(tmp_path / "mine", db=db) == tmp_path / "mine"
    monkeypatch.setenv("ARLENS_MODEL_DIR", str(tmp_path / "shared"))
    assert risk.resolve_model_dir(db=db) == tmp_path / "shared"
    with Store.memory() as store, pytest.raises(risk.ModelError, match="in-memory"):
        monkeypatch.delenv("ARLENS_MODEL_DIR")
        risk.resolve_model_dir(db=store)


def test_another_stores_model_is_refused(trained, register_db):
    """The register is another store: the sample's model neither loads nor scores there."""
    with Store.open(register_db, read_only=True) as store, pytest.raises(risk.ModelError, match="trained on another store"):  # fmt: skip
        risk.model_card(trained["models"], store)
    card = json.loads((trained["models"] / risk_persist.CARD_FILE).read_text())
    assert card["store"] == str(trained["db"].resolve()) and card["store_id"]


OLD_SCORE_TABLES = (
    "CREATE TABLE invoice_scores (invoice_id VARCHAR, expected_loss DOUBLE, as_of DATE);"
    "CREATE TABLE customer_scores (customer_id VARCHAR, expected_loss DOUBLE, risk_score DOUBLE);"
    "INSERT INTO customer_scores VALUES ('C1', 10.0, 0.5)"
)


def test_outdated_score_tables_are_no_scores():
    with Store.memory() as store:
        store.execute(OLD_SCORE_TABLES)  # an older AR Lens's "expected_loss" scores
        assert not risk.has_scores(store) and risk.scores_info(store) is None
        assert risk.customer_risk_scores(store) == {}


def test_no_scores_means_empty_answers():
    with Store.memory() as store:
        assert not risk.has_scores(store) and risk.customer_risk_scores(store) == {}
        assert risk.expected_collections(store, D(2026, 1, 1)).empty
        with pytest.raises(risk.ModelError, match="no invoices"):
            risk.train(store)


# -- The smallest export: a plain invoice register -----------------------------------------------


@pytest.fixture(scope="module")
def register_db(trained, tmp_path_factory):
    """Invoice number, customer, invoice date, due date, amount, disputed, settled date: no
    customers, payments or activities. Made from 30 of the sample's customers."""
    folder = tmp_path_factory.mktemp("register")
    with Store.open(trained["db"], read_only=True) as source:
        frame = source.df("""
            SELECT invoice_id AS "Invoice No", customer_id AS "Customer",
                   invoice_date AS "Invoice Date", due_date AS "Due Date", amount AS "Amount",
                   CASE WHEN disputed THEN 'Y' ELSE 'N' END AS "Disputed",
                   settled_on AS "Settled Date"
            FROM invoices WHERE doc_type = 'invoice' AND customer_id IN (
                SELECT customer_id FROM customers ORDER BY customer_id LIMIT 30)
            ORDER BY invoice_id""")  # fmt: skip
    (folder / "register.csv").write_text(frame.to_csv(index=False, date_format="%Y-%m-%d"))
    db = folder / "register.duckdb"
    with Store.open(db) as store:
        import_file(store, folder / "register.csv", "invoices")
    return db


def test_a_plain_invoice_register_trains_and_scores(register_db, tmp_path):
    with Store.open(register_db) as store:
        assert store.table_counts()["activities"] == store.table_counts()["payments"] == 0
        report = risk.train(store, model_dir=tmp_path)
        store.execute(OLD_SCORE_TABLES)  # scores of an older version are rebuilt, not mixed in
        result = risk.score(store, risk.data_end(store), model_dir=tmp_path)
        assert risk.has_scores(store) and len(risk.customer_risk_scores(store)) == 30
    assert report["metrics"][report["shipped"]]["roc_auc"] > 0.7
    assert result["open_invoices"] > 0 and result["scored_by_model"] > 0


# -- Layering and the page -----------------------------------------------------------------------


def test_models_never_import_streamlit_or_plotly():
    code = "import sys, models.risk; print(sorted({m.split('.')[0] for m in sys.modules} & {'streamlit', 'plotly'}))"  # fmt: skip
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"


def _page(monkeypatch, db, model_dir, as_of: dt.date, filters: dict) -> AppTest:
    """The page alone, with what ui/filters.py would have put in the session."""
    monkeypatch.setenv("ARLENS_DB", str(db))
    monkeypatch.setenv("ARLENS_MODEL_DIR", str(model_dir))
    at = AppTest.from_file(str(REPO / "pages" / "risk.py"), default_timeout=60)
    at.session_state["as_of_date"] = as_of
    at.session_state[USER] = User.local()  # the frame's part: sign-in off, the local user
    at.session_state["filters"] = filters
    return at


def _run(at: AppTest, button: str | None = None) -> AppTest:
    with reading():  # as dashboard.py does: the page's connection closes when the run ends
        at.button(key=button).click().run() if button else at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_page_with_a_model(monkeypatch, trained):
    at = _run(
        _page(monkeypatch, trained["db"], trained["models"], trained["as_of"], {"currency": "USD"})
    )
    assert not at.info and not at.warning
    metrics, ranked = (d.value for d in at.dataframe)
    report = trained["report"]
    assert len(metrics) == 5 and metrics.columns[0] == "Candidate"
    shipped = metrics[metrics["Candidate"].str.endswith("✓ shipped")].iloc[0]
    auc = report["metrics"][report["shipped"]]["roc_auc"]
    assert shipped["Candidate"].startswith(report["shipped_label"])
    assert shipped["Test ROC AUC"].startswith(f"{auc:.3f} (")
    assert at.success[0].value == report["verdict"]
    at_risk = ranked["Amount at risk of late payment"]
    assert at_risk.is_monotonic_decreasing and set(ranked["Currency"]) == {"USD"}
    assert (at_risk == at_risk.round(2)).all()  # money to the cent, in the download too
    assert any("Scored as of" in c.value for c in at.caption)
    assert at.button(key="risk_retrain_button")


def test_page_without_a_model_trains_from_its_button(monkeypatch, register_db, tmp_path):
    db = tmp_path / "register.duckdb"
    shutil.copy(register_db, db)
    at = _run(_page(monkeypatch, db, tmp_path / "models", D(2026, 10, 31), {}))  # no currencies
    assert "No late-payment model for this store yet" in at.info[0].value
    at = _run(at, button="risk_retrain_button")
    assert not at.info, [i.value for i in at.info] + [e.value for e in at.error]
    assert (tmp_path / "models" / risk_persist.CARD_FILE).exists()
    assert len(at.dataframe) == 2 and len(at.dataframe[1].value) > 0
