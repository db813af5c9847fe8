"""Late-payment risk: which open invoices will be paid late, and how far to trust the model.

The model is this store's own (its model folder beside the database file); the scores shown are
those computed for the sidebar date or before it, never later ones."""

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from arlens import currencies
from arlens.store import StoreError
from models import risk, risk_report
from models.risk_eval import METRIC_NAMES
from ui import charts
from ui.access import guard, this_user
from ui.data import current_store, db_path, require_data, write_as
from ui.filters import as_of, currency, reporting
from ui.format import money, percent, table

COLOURS = {"trees": "#2b6cb0", "trees_small": "#63b3ed", "logistic": "#d97706",
           "logistic_strong": "#f6ad55", "historical_rate": "#6b7280"}  # fmt: skip
LEGEND = dict(orientation="h", yanchor="bottom", y=1.02, x=0)

guard()
st.title("Late-payment risk")
require_data()
day, cur = as_of(), currency()
model_dir = risk.resolve_model_dir(db=db_path())

store = current_store()
try:
    card, problem = risk.model_card(model_dir, store), None
except risk.ModelError as error:
    card, problem = None, str(error)
info = risk.scores_info(store)
per_currency = None if reporting() else cur
ranked = risk.ranked_invoices(store, per_currency, limit=500, as_of=day) if info else None
spread = risk.score_distribution(store, per_currency, as_of=day) if info else None
if reporting() and ranked is not None and not ranked.empty:  # one ranking in one currency
    ranked = currencies.translate(store, ranked, day, reporting(),
                                  ["open_amount", "amount_at_risk_of_late_payment"])  # fmt: skip
    ranked = ranked.sort_values("amount_at_risk_of_late_payment", ascending=False)


def run(cutoff=None, grace_days=None, train: bool = True) -> None:
    """Retrain (reading the store) and score (writing it) with a progress bar."""
    bar = st.progress(0.0, text="Starting…")
    user = this_user()
    try:
        user.require("retrain")
        report = None
        if train:
            report = risk.train(current_store(), cutoff=cutoff, grace_days=grace_days, model_dir=model_dir,
                                progress=lambda f, text: bar.progress(0.8 * f, text=text))  # fmt: skip

        def score(writer):
            result = risk.score(writer, day, model_dir=model_dir,
                                progress=lambda f, text: bar.progress(0.8 + 0.2 * f, text=f"Scoring: {text}"))  # fmt: skip
            writer.audit("retrain", "late-payment model" if train else "risk scores",
                         {"as_of": day, "trained": train, "cutoff": cutoff, "grace_days": grace_days,
                          "model_version": (report or {}).get("model_version")})  # fmt: skip
            return result

        write_as(user, score)
    except (risk.ModelError, StoreError, PermissionError) as error:
        bar.empty()
        st.error(str(error))
        return
    st.rerun()


def retrain_form() -> None:
    if not this_user().may("retrain"):
        st.caption(f"{this_user().role_names().capitalize()}: an admin retrains the model.")
        return
    with st.form("risk_retrain"):
        left, right = st.columns(2)
        cutoff = left.date_input("Cut-off (blank: automatic)", value=None, key="risk_cutoff",
                                 help="Train on invoices issued before it, test on those after.")  # fmt: skip
        grace = right.number_input("Grace days", min_value=0, max_value=90, step=1, key="risk_grace",
                                   value=int(card["grace_days"]) if card else 0,
                                   help="Days after due that still count as on time.")  # fmt: skip
        if st.form_submit_button("Retrain and score", type="primary", key="risk_retrain_button"):
            run(cutoff, int(grace))


if card is None:
    st.info(
        "No late-payment model for this store yet. Train one here (about a minute for a million "
        "invoices), or from a shell: `arlens train` then `arlens score`."
        + (f"\n\nThe saved model cannot be used: {problem}." if problem else "")
    )
    retrain_form()
    st.stop()

if card["stale"]:
    st.warning(f"The model is stale: {card['stale_reason']}.")
test, train = card["test"], card["train"]
st.caption(
    f"Model {card['model_version']}, trained on this store · late = paid more than "
    f"{card['grace_days']} days after due · trained on {train['invoices']:,} invoices issued "
    f"before {card['cutoff']}, tested on {test['invoices']:,} issued from then to "
    f"{card['data_end']} ({percent(test['late_share'])} late)."
)

st.subheader("Which scorer, and how good is it?")
beats = card["shipped"] != "historical_rate" and "beats" in card["verdict"]
(st.success if beats else st.warning)(card["verdict"])
st.caption(
    f"Shipped: **{card['shipped_label']}**, chosen by rolling-origin validation inside the "
    f"training window ({card['selection_reason']}). The test period only reports; intervals are "
    "95% bootstrap intervals, resampling customers."
)
st.dataframe(risk_report.candidates_table(card), hide_index=True, key="risk_metrics")
context = risk_report.context_line(card)
if context:
    st.caption(context)
for metric, reason in card["refused"].items():
    st.caption(f"{METRIC_NAMES[metric]} not reported: {reason}.")
st.caption(f"Dispute status of the invoice itself: {card['dispute_status']['basis']}. {card['dispute_status']['note']}")  # fmt: skip
st.caption(risk_report.payment_dates_line(card))

left, right = st.columns(2)
curves = card.get("curves") or {}
shown = [
    k for k in card["candidates"] if k in (card["shipped"], "historical_rate", "logistic", "trees")
]
if not curves:
    st.caption("No calibration or ROC curves: the test set is too small to draw them.")
if curves:
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Perfect",
                               line=dict(color="#d1d5db", dash="dot")))  # fmt: skip
    for key in shown:
        c = curves["calibration"][key]
        fig.add_scatter(x=c["predicted"], y=c["observed"], name=card["candidates"][key]["label"],
                        mode="lines+markers", line=dict(color=COLOURS.get(key)))  # fmt: skip
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), legend=LEGEND)
    fig.update_xaxes(title="predicted P(late)", tickformat=".0%")
    fig.update_yaxes(title="observed share late", tickformat=".0%")
    left.markdown("**Calibration** (test invoices, 10 equal groups)")
    left.plotly_chart(fig, key="risk_calibration")
    fig = go.Figure(go.Scatter(x=[0, 1], y=[0, 1], mode="lines", name="Chance",
                               line=dict(color="#d1d5db", dash="dot")))  # fmt: skip
    for key in shown:
        c = curves["roc"][key]
        auc = card["metrics"][key]["roc_auc"]
        fig.add_scatter(x=c["fpr"], y=c["tpr"], name=f"{card['candidates'][key]['label']} ({auc:.3f})",
                        mode="lines", line=dict(color=COLOURS.get(key)))  # fmt: skip
    fig.update_layout(height=380, margin=dict(l=10, r=10, t=30, b=10), legend=LEGEND)
    fig.update_xaxes(title="false positive rate")
    fig.update_yaxes(title="true positive rate")
    right.markdown("**ROC curves** (test invoices)")
    right.plotly_chart(fig, key="risk_roc")

left, right = st.columns(2)
importance = pd.DataFrame(card["feature_importance"])
if not importance.empty:
    top = importance.head(15).iloc[::-1]
    names = top["feature"].str.replace("_", " ").str.capitalize()
    fig = go.Figure(go.Bar(x=top["importance"], y=names, orientation="h", marker_color="#2b6cb0"))
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10))
    fig.update_xaxes(title="drop in ROC AUC when shuffled")
    left.markdown(f"**Feature importance** ({card['shipped_label']})")
    left.plotly_chart(fig, key="risk_importance")
else:
    left.caption(f"Feature importance {card['feature_importance_note']}.")
fig = None
if spread is not None and len(spread):
    fig = go.Figure(go.Bar(x=spread["p_from"] + 0.025, y=spread["invoices"], width=0.045, marker_color="#d97706"))  # fmt: skip
    fig.update_layout(height=420, margin=dict(l=10, r=10, t=30, b=10))
    fig.update_xaxes(title="P(late)", tickformat=".0%", range=[0, 1])
    fig.update_yaxes(title="open invoices")
right.markdown("**Scores of open invoices not yet late**")
charts.show(fig, f"No open invoice not yet late was scored as of {day:%d %b %Y} or before.",
            key="risk_distribution", where=right)  # fmt: skip

AT_RISK = "Amount at risk of late payment"
st.subheader(f"Open invoices by {AT_RISK.lower()}")
if info is None:
    st.info("The open invoices have not been scored yet.")
elif info["as_of"] > day:
    st.info(
        f"No scores for {day:%d %B %Y}: the stored scores are as of {info['as_of']:%d %B %Y}, "
        "after it (a view at a date never uses later scores). Score as of this date to see them."
    )
else:
    st.caption(
        f"Scored as of {info['as_of']:%d %B %Y}"
        + (f" (before {day:%d %B %Y}: the invoices open then)" if info["as_of"] < day else "")
        + f" with model {info['model_version']}"
        + (" (a stale model)" if info["stale_model"] else "")
        + (" · data changed since: score again" if not info["current"] else "")
        + f". {AT_RISK} = open amount × P(late); P(late) is 1 once an invoice is past due. "
        "Not an expected credit loss (Bad-debt exposure page)."
    )
if info is not None and info["as_of"] != day and this_user().may("retrain") and st.button(f"Score as of {day:%d %b %Y}", key="risk_rescore"):  # fmt: skip
    run(train=False)
if ranked is not None and len(ranked):
    shown = table(ranked.assign(p_late=ranked["p_late"] * 100), {
        "invoice_id": ("Invoice", "text"), "name": ("Customer", "text"),
        "customer_id": ("Customer id", "text"), "currency": ("Currency", "text"),
        "due_date": ("Due", "date"), "days_past_due": ("Days past due", "count"),
        "open_amount": ("Open", "money"), "p_late": ("P(late) (%)", "percent"),
        risk.AT_RISK: (AT_RISK, "money"), "expected_payment_date": ("Expected payment", "date"),
        "reasons": ("Why", "text"),
    })  # fmt: skip
    st.dataframe(
        shown, hide_index=True, key="risk_ranked",
        column_config={
            "Invoice": st.column_config.TextColumn(pinned=True),
            "Open": st.column_config.NumberColumn(format="accounting"),
            "P(late) (%)": st.column_config.ProgressColumn(min_value=0.0, max_value=100.0, format="%.0f%%"),
            AT_RISK: st.column_config.NumberColumn(format="accounting"),
        },
    )  # fmt: skip
    st.caption(f"Largest: {money(ranked[risk.AT_RISK].iloc[0], cur, 2)} on invoice {ranked['invoice_id'].iloc[0]}.")  # fmt: skip

st.subheader("Retrain")
st.caption("Train again on the current data, then score the open invoices as of the sidebar date.")
retrain_form()
