"""Customer personas: planted behaviours recovered, names from centroids, point in time, moves, page."""

from __future__ import annotations

import datetime as dt
import math
import shutil
import statistics

import pandas as pd
import pytest
from conftest import REPO
from sklearn.metrics import adjusted_rand_score
from streamlit.testing.v1 import AppTest

from arlens import metrics
from arlens.ingest.importer import import_file
from arlens.store import Store
from arlens.team.roles import User
from models import personas
from models.personas import (
    DETERIORATING,
    DISORGANISED,
    NEW,
    ON_TIME,
    PROMPT,
    STRAINED,
    STRETCHER,
)
from ui.access import USER

D = dt.date
AS_OF = D(2026, 10, 31)  # the sample's last day


# -- On the sample: the planted behaviours come back, named after their centroids ---------------


@pytest.fixture(scope="module")
def sample_copy(sample_db, tmp_path_factory):
    """A copy of the sample store (personas are written into it)."""
    target = tmp_path_factory.mktemp("personas") / "sample.duckdb"
    shutil.copy(sample_db, target)
    return target


@pytest.fixture(scope="module")
def result(sample_copy):
    with Store.open(sample_copy, read_only=True) as store:
        return personas.analyse(store, AS_OF)


def test_planted_behaviours_land_in_the_same_persona(result):
    """Customers generated with the same behaviour share a persona: ARI > 0.6, and each planted
    behaviour's most common persona is the one named for it."""
    planted = pd.read_csv(REPO / "sample_data" / "behaviours.csv", dtype=str)
    both = result.personas.merge(planted, on="customer_id", validate="one_to_one")
    assert len(both) == len(planted) == 400
    assert adjusted_rand_score(both["behaviour"], both["persona"]) > 0.6
    majority = both.groupby("behaviour")["persona"].agg(lambda s: s.mode().iloc[0]).to_dict()
    assert majority == {
        "prompt": PROMPT,
        "stretcher": STRETCHER,
        "deteriorating": DETERIORATING,
        "disorganised": DISORGANISED,
        "new": NEW,
    }


def test_persona_names_follow_from_the_centroids(result):
    """Every cluster's name, description, strategy and credit action are the rules applied to its
    centroid (median of its members, original units), and every member carries them."""
    clusters = result.model.clusters
    assert len(clusters) == result.model.k
    for centroid in clusters.to_dict("records"):
        assert personas.name_cluster(centroid) == (
            centroid["persona"],
            centroid["description"],
            centroid["strategy"],
            centroid["credit_action"],
        )
    members = result.personas[result.personas["cluster"] >= 0]
    expected = members["cluster"].map(clusters.set_index("cluster")["persona"])
    assert (members["persona"] == expected).all()
    thin = result.personas[result.personas["thin_history"]]
    assert (thin["persona"] == NEW).all() and (thin["cluster"] == -1).all()


def test_quality_and_stability_are_reported(result):
    model = result.model
    scores = model.scores.set_index("k")
    assert list(scores.index) == [3, 4, 5, 6, 7]
    assert model.k == scores["silhouette"].idxmax()
    assert 0.8 <= model.stability["min"] <= model.stability["mean"] <= 1
    assert len(model.stability["values"]) == personas.N_BOOTSTRAP
    metrics = personas.run_metrics(result)
    assert metrics["silhouette"] == pytest.approx(scores["silhouette"].max(), abs=1e-4)
    assert sum(p["customers"] for p in metrics["personas"]) == 400
    assert {"pca_x", "pca_y", "strategy", "credit_action", "description"} <= set(result.personas)


def test_persona_amounts_never_mix_currencies(result):
    summary = personas.persona_summary(result.personas)
    usd = result.personas[result.personas["currency"] == "USD"]
    assert set(summary["currency"]) == {"USD"}  # the currency with the most open AR
    assert summary["open_ar"].sum() == pytest.approx(usd["open_ar"].sum())
    assert summary["customers"].sum() == 400 and summary["share_of_ar"].sum() == pytest.approx(1)
    eur = personas.persona_summary(result.personas, currency="EUR")
    assert eur["open_ar"].sum() == pytest.approx(
        result.personas.loc[result.personas["currency"] == "EUR", "open_ar"].sum()
    )


def test_gaussian_mixture_is_chosen_by_bic(result):
    model = personas.fit_personas(result.personas, method="gmm", n_bootstrap=3)
    scores = model.scores.set_index("k")
    assert model.method == "gmm" and model.k == scores["bic"].idxmin()
    assert len(model.stability["values"]) == 3


def test_results_are_stored_for_the_pages_and_the_worklist(sample_copy, result):
    with Store.open(sample_copy) as store:
        version, stamp = store.data_version(), metrics.results_stamp(store)
        rows, info = personas.run_report(store, AS_OF, save=True)
        # The data did not change (a trained risk model stays current), but the pages' cache key did.
        assert store.data_version() == info["data_version"] == version
        assert metrics.results_stamp(store) != stamp
        rows_again, _ = personas.run_report(store, AS_OF, save=True)  # replaces, not appends
    assert len(rows) == len(rows_again) == 400 and info["k"] == result.model.k
    assert rows["persona"].tolist() == rows_again["persona"].tolist()
    with Store.open(sample_copy, read_only=True) as store:
        stored = personas.personas_for_worklist(store)
        moves = store.value("SELECT count(*) FROM persona_migrations WHERE as_of = ?", [AS_OF])
        runs = store.value("SELECT count(*) FROM persona_runs")
        earlier = personas.personas_for_worklist(store, D(2026, 1, 1))
    assert list(stored.columns) == [
        "customer_id",
        "persona",
        "strategy",
        "credit_action",
        "persona_as_of",
    ]
    assert len(stored) == 400 and (stored["persona_as_of"] == AS_OF).all()
    by_id = stored.set_index("customer_id")["persona"]
    assert (result.personas.set_index("customer_id")["persona"] == by_id).all()
    assert moves == len(result.migrations) and runs == 1
    assert earlier.empty  # no run on or before that date


def test_worklist_personas_are_empty_before_any_run(store):
    frame = personas.personas_for_worklist(store)
    assert frame.empty and "persona" in frame and "strategy" in frame


# -- Naming rules on hand-made centroids ---------------------------------------------------------

ESTABLISHED = {"tenure_days": 900, "settled_invoices": 40}


@pytest.mark.parametrize(
    "centroid, name",
    [
        ({"mean_days_late": -1, "sd_days_late": 3, "late_share": 0.2}, PROMPT),
        ({"mean_days_late": 5.0, "dispute_rate": 0.05}, PROMPT),
        ({"mean_days_late": 8, "sd_days_late": 6}, ON_TIME),
        (
            {
                "mean_days_late": 25,
                "sd_days_late": 8,
                "broken_promise_rate": 0.05,
                "credit_utilisation": 0.3,
            },
            STRETCHER,
        ),  # fmt: skip
        ({"mean_days_late": 25, "sd_days_late": 8, "credit_utilisation": math.nan}, STRETCHER),
        ({"mean_days_late": 25, "sd_days_late": 8, "credit_utilisation": 1.2}, STRAINED),
        ({"mean_days_late": 25, "sd_days_late": 30, "broken_promise_rate": 0.1}, STRAINED),
        ({"mean_days_late": 25, "sd_days_late": 8, "broken_promise_rate": 0.5}, STRAINED),
        ({"mean_days_late": 27, "sd_days_late": 27, "dispute_rate": 0.25}, DISORGANISED),
        ({"mean_days_late": 2, "dispute_rate": 0.12}, DISORGANISED),
        ({"mean_days_late": 50, "trend_days_late": 7.4, "dispute_rate": 0.3}, DETERIORATING),
        ({"mean_days_late": 3, "trend_days_late": 3.0}, DETERIORATING),
        ({"mean_days_late": 3, "trend_days_late": math.nan}, PROMPT),
    ],
)
def test_naming_rules(centroid, name):
    got = personas.name_cluster({**ESTABLISHED, **centroid})
    assert got[0] == name
    assert got[2:] == personas.PLAYBOOK[name]


@pytest.mark.parametrize(
    "history",
    [{"tenure_days": 120, "settled_invoices": 40}, {"tenure_days": 900, "settled_invoices": 5},
     {"tenure_days": 900, "settled_invoices": 40, "mean_days_late": math.nan}],
)  # fmt: skip
def test_thin_history_is_set_apart_whatever_the_behaviour(history):
    centroid = {"mean_days_late": 60, "trend_days_late": 9, "dispute_rate": 0.4, **history}
    assert personas.name_cluster(centroid)[0] == NEW


def test_descriptions_are_numbers():
    text = personas.name_cluster(
        {**ESTABLISHED, "mean_days_late": 25.6, "sd_days_late": 9.9, "late_share": 1.0,
         "trend_days_late": -0.004, "dispute_rate": 0.017, "broken_promise_rate": 0,
         "past_due_share": 0.357, "credit_utilisation": 0.306}
    )[1]  # fmt: skip
    assert text == (
        "Pays 26 days after due (±10); 100% of invoices late; lateness +0.0 days a month; "
        "2% disputed; 0% of promises broken; 36% of AR past due; 31% of limit used."
    )


@pytest.mark.parametrize(
    "before, after, worse",
    [(PROMPT, STRETCHER, True), (STRETCHER, DETERIORATING, True), (ON_TIME, DISORGANISED, True),
     (DETERIORATING, STRAINED, False), (PROMPT, PROMPT, False), (NEW, DETERIORATING, False),
     (PROMPT, NEW, False)],
)  # fmt: skip
def test_severity_order(before, after, worse):
    assert personas.is_worse(before, after) is worse


def test_quarter_ends():
    assert personas.quarter_ends(D(2026, 10, 31), 4) == [
        D(2025, 12, 31), D(2026, 3, 31), D(2026, 6, 30), D(2026, 9, 30)]  # fmt: skip
    assert personas.quarter_ends(D(2026, 3, 31), 2) == [D(2025, 9, 30), D(2025, 12, 31)]


# -- Point in time, on a ledger worked by hand ----------------------------------------------------

CUSTOMERS = """customer_id,name,segment,country,currency,payment_terms_days,credit_limit
A,Alder Tools,Small business,US,USD,30,10000.00
"""
# I01..I10: 100.00 each, dated the 1st of Jun 2025 .. Mar 2026, due 30 days later.
INVOICE_DATES = [D(2025, m, 1) for m in range(6, 13)] + [D(2026, m, 1) for m in (1, 2, 3)]
DAYS_LATE = [0, 5, 0, 10, 0, 20, 0, 10]  # I01..I08, paid by 31 Mar 2026; I09, I10 open then
ACTIVITIES = """activity_id,customer_id,invoice_id,activity_date,kind,promised_date,promised_amount,outcome
X1,A,I06,2025-11-05,dispute,,,customer disputes pricing
X2,A,I06,2025-12-05,promise,2025-12-15,100.00,broken
X3,A,I08,2026-02-01,promise,2026-02-10,100.00,kept
"""
# Everything below is dated after 31 Mar 2026 (or its outcome is only known after it).
LATER_INVOICES = """invoice_id,customer_id,invoice_date,due_date,amount,disputed
I11,A,2026-04-01,2026-05-01,5000.00,true
"""
LATER_PAYMENTS = """payment_id,customer_id,payment_date,amount,invoice_id
P09,A,2026-04-15,100.00,I09
P10,A,2026-04-10,100.00,I10
"""
LATER_ACTIVITIES = """activity_id,customer_id,invoice_id,activity_date,kind,promised_date,promised_amount,outcome
X4,A,I07,2026-04-02,dispute,,,customer disputes quantity
X5,A,I09,2026-03-25,promise,2026-04-05,100.00,broken
X6,A,I10,2026-04-03,promise,2026-04-08,100.00,broken
"""


def _invoices(dates, customer="A", prefix="I", terms=30) -> str:
    lines = ["invoice_id,customer_id,invoice_date,due_date,amount"]
    for n, day in enumerate(dates, 1):
        lines.append(f"{prefix}{n:02d},{customer},{day},{day + dt.timedelta(days=terms)},100.00")
    return "\n".join(lines) + "\n"


def _payments(dates, days_late, customer="A", prefix="I", terms=30) -> str:
    lines = ["payment_id,customer_id,payment_date,amount,invoice_id"]
    for n, (day, late) in enumerate(zip(dates, days_late, strict=False), 1):
        paid = day + dt.timedelta(days=terms + late)
        lines.append(f"P{customer}{n:02d},{customer},{paid},100.00,{prefix}{n:02d}")
    return "\n".join(lines) + "\n"


@pytest.fixture
def ledger(store, write):
    files = [("customers", CUSTOMERS), ("invoices", _invoices(INVOICE_DATES)),
             ("payments", _payments(INVOICE_DATES, DAYS_LATE)), ("activities", ACTIVITIES)]  # fmt: skip
    for table, text in files:
        import_file(store, write(f"{table}.csv", text), table)
    return store


def test_features_worked_by_hand(ledger):
    row = personas.behaviour_features(ledger, D(2026, 3, 31)).iloc[0]
    assert row["settled_invoices"] == 8
    assert row["mean_days_late"] == pytest.approx(45 / 8)
    assert row["sd_days_late"] == pytest.approx(statistics.stdev(DAYS_LATE))
    assert row["late_share"] == pytest.approx(4 / 8)
    assert row["dispute_rate"] == pytest.approx(1 / 10)
    assert row["broken_promise_rate"] == pytest.approx(1 / 2)
    assert (row["open_ar"], row["past_due"], row["past_due_share"]) == (200, 100, 0.5)
    assert row["credit_utilisation"] == pytest.approx(200 / 10000)
    assert row["tenure_days"] == (D(2026, 3, 31) - D(2025, 6, 1)).days == 303
    assert row["days_since_last_payment"] == (D(2026, 3, 31) - D(2026, 2, 10)).days
    assert row["invoices_per_month"] == pytest.approx(10 / (303 / 30.4375))
    assert not row["thin_history"]


def test_features_ignore_everything_dated_after_as_of(ledger, write):
    """Invoices, payments, disputes and promise outcomes after the as-of date change nothing."""
    day = D(2026, 3, 31)
    before = personas.behaviour_features(ledger, day)
    for table, text in [("invoices", LATER_INVOICES), ("payments", LATER_PAYMENTS),
                        ("activities", LATER_ACTIVITIES)]:  # fmt: skip
        import_file(ledger, write(f"later_{table}.csv", text), table)
    after = personas.behaviour_features(ledger, day)
    pd.testing.assert_frame_equal(before, after)
    moved_on = personas.behaviour_features(ledger, D(2026, 4, 30)).iloc[0]
    assert moved_on["open_ar"] == 5000  # the later rows do count once their dates have come


# -- Migration -----------------------------------------------------------------------------------


def test_migration_flags_a_customer_moving_from_good_to_worse(store, write):
    """G paid on the due date through 2025, then 40 days late; S always paid on the due date."""
    dates = [D(2025, m, 1) for m in range(1, 13)] + [D(2026, m, 1) for m in range(1, 6)]
    late = [0 if (day + dt.timedelta(days=30)).year == 2025 else 40 for day in dates]
    customers = (
        "customer_id,name,currency,credit_limit\nG,Gorse Ltd,USD,5000\nS,Sloe Ltd,USD,5000\n"
    )
    import_file(store, write("customers.csv", customers), "customers")
    for code in ("G", "S"):
        invoices = _invoices(dates, customer=code, prefix=code)
        payments = _payments(dates, late if code == "G" else [0] * len(dates), code, code)
        import_file(store, write(f"{code}_invoices.csv", invoices), "invoices")
        import_file(store, write(f"{code}_payments.csv", payments), "payments")

    moves = personas.migration(store, D(2026, 6, 30), quarters=2)
    assert moves[["customer_id", "from_date", "quarter_end", "from_persona", "to_persona", "worse"]].to_dict("records") == [
        {"customer_id": "G", "from_date": D(2026, 3, 31), "quarter_end": D(2026, 6, 30),
         "from_persona": PROMPT, "to_persona": DETERIORATING, "worse": True}
    ]  # fmt: skip
    history = personas.persona_history(store, D(2026, 6, 30), quarters=2)
    path = history[history["customer_id"] == "G"].sort_values("date")["persona"].tolist()
    assert path[0] == PROMPT and path[-1] == DETERIORATING
    assert set(history.loc[history["customer_id"] == "S", "persona"]) == {PROMPT}


# -- The page ------------------------------------------------------------------------------------


def _page(monkeypatch, db, day=AS_OF, where=None) -> AppTest:
    monkeypatch.setenv("ARLENS_DB", str(db))
    at = AppTest.from_file(str(REPO / "pages" / "personas.py"), default_timeout=60)
    at.session_state["as_of_date"] = day
    at.session_state[USER] = User.local()  # the frame's part: sign-in off, the local user
    at.session_state["filters"] = where if where is not None else {"currency": "USD"}
    return at.run()


def test_page_renders_map_cards_moves_and_lookup(monkeypatch, sample_copy):
    at = _page(monkeypatch, sample_copy)
    assert not at.exception, [e.value for e in at.exception]
    shown = {m.label: m.value for m in at.metric}
    assert shown["Personas"] == "5" and int(shown["Customers"]) > 0
    assert len(at.get("plotly_chart")) == 1
    headings = [m.value for m in at.markdown]
    assert any(PROMPT in h for h in headings) and any(DETERIORATING in h for h in headings)
    at.selectbox(key="persona_customer").set_value(1).run()
    assert not at.exception
    assert any(m.value.startswith("### ") for m in at.markdown)


def test_page_on_an_empty_store_says_what_to_do(monkeypatch, tmp_path):
    db = tmp_path / "empty.duckdb"
    Store.open(db).close()
    at = _page(monkeypatch, db, where={})
    assert not at.exception and at.info
