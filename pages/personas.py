"""Customer personas: who pays how, what to do about each group, and who is slipping."""

import datetime as dt

import pandas as pd
import plotly.express as px
import streamlit as st

from arlens import currencies
from models import personas
from ui.access import guard
from ui.data import current_store, data_version, db_path, require_data, results_stamp, stop_if_empty
from ui.filters import as_of, currency, filters, reporting
from ui.format import money, percent, table

COLOURS = {personas.PROMPT: "#1a9850", personas.ON_TIME: "#91cf60", personas.STRETCHER: "#2b6cb0",
           personas.DISORGANISED: "#9333ea", personas.STRAINED: "#fc8d59",
           personas.DETERIORATING: "#d73027", personas.NEW: "#9ca3af"}  # fmt: skip
DOTS = {
    personas.PROMPT: "green",
    personas.ON_TIME: "green",
    personas.STRETCHER: "blue",
    personas.DISORGANISED: "violet",
    personas.STRAINED: "orange",
    personas.DETERIORATING: "red",
    personas.NEW: "gray",
}  # the cards' markdown colours
MONEY = ["open_ar", "past_due"]  # what the reporting view translates
LABELS = {feature: label for feature, (label, _) in personas.FEATURE_LABELS.items()}


@st.cache_data(show_spinner="Clustering payment behaviour…", max_entries=16, persist="disk")
def run(db: str, version: int, stamp: str, day: dt.date):
    """Personas, moves, quarter-end history and model quality at `day` (or the one line saying
    what the data lacks), until the data changes.

    The fit takes seconds on a large store (15 s at 1M invoices), so it runs once per store, data
    version and date and is kept on disk: a restarted dashboard reads it instead of refitting.
    `stamp` (the newest import's time, the models' stored results) tells a store rebuilt at the
    same path, whose version count restarts, from the one fitted."""
    try:
        result = personas.analyse(current_store(), day)
    except personas.PersonaDataError as error:
        return None, str(error)
    return (result.personas, result.migrations, result.history, personas.run_metrics(result)), None


guard()
st.title("Customer personas")
require_data()
day, cur, where = as_of(), currency(), filters()
computed, problem = run(str(db_path()), data_version(), results_stamp(), day)
if computed is None:
    st.info(f"No personas as of {day:%d %B %Y}: {problem[:1].upper()}{problem[1:]}.")
    st.stop()
everyone, moves, history, quality = computed
if reporting():  # every customer, its money translated (personas are fitted per customer)
    where.pop("reporting_currency")
    everyone = currencies.translate(current_store(), everyone, day, reporting(), MONEY)
shown = personas.apply_filters(everyone, where)
stop_if_empty(shown, "customers with invoices")
shown = shown.assign(
    name=shown["name"].astype(object).where(shown["name"].notna(), shown["customer_id"])
)
moves = moves[moves["customer_id"].isin(shown["customer_id"])]
moves = moves.assign(
    name=moves["name"].astype(object).where(moves["name"].notna(), moves["customer_id"])
)
warning = moves[moves["worse"] & (moves["quarter_end"] == day)]


def _two(value) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.2f}"


fit = (f"{quality['k']} clusters by KMeans, silhouette {_two(quality['silhouette'])}, bootstrap "
       f"stability ARI {_two(quality['stability_ari_mean'])} "
       f"(min {_two(quality['stability_ari_min'])})"
       if quality["k"] else "too few customers to cluster: each is named by the rules")  # fmt: skip
st.caption(f"As of {day:%d %B %Y}{f' · {cur}' if cur else ''} · {fit}. Personas are fitted on all "
           "customers; the sidebar filters choose whom to show.")  # fmt: skip
cols = st.columns(4)
cols[0].metric("Customers", f"{len(shown):,}", border=True)
cols[1].metric("Personas", f"{shown['persona'].nunique()}", border=True)
cols[2].metric("Moved to a worse persona", f"{len(warning):,}", border=True,
               help="Since the last quarter-end: the early-warning list below")  # fmt: skip
cols[3].metric("Past due", money(shown["past_due"].sum(), cur), border=True)

st.subheader("Personas")
summary = personas.persona_summary(shown, currency=cur)
cards = st.columns(3)
for i, card in enumerate(summary.to_dict("records")):
    with cards[i % 3].container(border=True):
        st.markdown(f"**:{DOTS[card['persona']]}[:material/circle:] {card['persona']}**")
        n = card["customers"]
        st.caption(f"{n:,} customer{'' if n == 1 else 's'} · {percent(card['share_of_ar'])} of AR · "
                   f"{percent(card['share_of_past_due'])} of past due")  # fmt: skip
        st.markdown(card["description"] or "")
        st.markdown(f"**Strategy.** {card['strategy']}  \n**Credit.** {card['credit_action']}")

st.subheader("Map of payment behaviour")
if quality["pca_explained_variance"]:
    order = [p for p in personas.SEVERITY if p in set(shown["persona"])]
    fig = px.scatter(
        shown.rename(columns=LABELS), x="pca_x", y="pca_y", color="persona",
        color_discrete_map=COLOURS, category_orders={"persona": order}, hover_name="name",
        hover_data={"customer_id": True, LABELS["mean_days_late"]: ":.1f",
                    LABELS["dispute_rate"]: ":.0%", LABELS["past_due_share"]: ":.0%",
                    LABELS["trend_days_late"]: ":.1f", "pca_x": False, "pca_y": False},
        labels={"pca_x": "principal component 1", "pca_y": "principal component 2", "persona": "",
                "customer_id": "Customer id"},
    )  # fmt: skip
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h"))
    st.plotly_chart(fig, key="persona_map")
    st.caption(
        "Each dot is a customer; nearby dots pay alike (PCA of the scaled behaviour features)."
    )
else:
    st.info("The map needs at least 3 customers with enough payment history to place them.")

st.subheader("Early warning: moved to a worse persona since the last quarter-end")
MOVE_COLUMNS = {"name": ("Customer", "text"), "customer_id": ("Customer id", "text"),
                "from_persona": ("Was", "text"), "to_persona": ("Now", "text"),
                "from_date": ("Since", "date"), "past_due": ("Past due", "money"),
                "open_ar": ("Open AR", "money")}  # fmt: skip
MONEY = st.column_config.NumberColumn(format="accounting")
PINNED = {"Customer": st.column_config.TextColumn(pinned=True)}
if warning.empty:
    st.info("Nobody moved to a worse persona since the last quarter-end.")
else:
    st.dataframe(table(warning, MOVE_COLUMNS), hide_index=True, key="persona_warning",
                 column_config=PINNED | {"Past due": MONEY, "Open AR": MONEY})  # fmt: skip
with st.expander("Every move over the last four quarters"):
    if moves.empty:
        st.caption("No customer changed persona between these quarter-ends.")
    else:
        every = moves.assign(direction=moves["worse"].map({True: "worse", False: "not worse"}))
        st.dataframe(
            table(every, MOVE_COLUMNS | {"quarter_end": ("To", "date"),
                                         "direction": ("Direction", "text")}),
            hide_index=True, key="persona_moves",
            column_config=PINNED | {"Past due": MONEY, "Open AR": MONEY},
        )  # fmt: skip

st.subheader("Look up a customer")
labels = (shown["name"] + " · " + shown["customer_id"]).tolist()
pick = st.selectbox("Customer", range(len(shown)), format_func=lambda i: labels[i],
                    key="persona_customer")  # fmt: skip
row = shown.iloc[pick]
st.markdown(f"### {row['persona']}")
st.markdown(f"{row['description']}  \n**Strategy.** {row['strategy']}  \n"
            f"**Credit.** {row['credit_action']}")  # fmt: skip
path = history[history["customer_id"] == row["customer_id"]]
st.caption("At each quarter-end: " + " → ".join(
    f"{d:%b %Y}: {p}" for d, p in zip(path["date"], path["persona"], strict=True)))  # fmt: skip
features = pd.DataFrame({
    "Behaviour": [LABELS[f] for f in personas.PROFILE_FEATURES],
    "Value": [personas.feature_value(f, row[f], row["currency"]) for f in personas.PROFILE_FEATURES],
})  # fmt: skip
st.dataframe(features, hide_index=True, key="persona_features")

with st.expander("Model quality"):
    scores = pd.DataFrame(quality["scores"], columns=["k", "silhouette", "bic"])
    if scores.empty:
        st.caption(
            "No clustering: too few customers with enough history; each is named by the rules."
        )
    else:
        st.dataframe(table(scores, {"k": ("Clusters (k)", "count"),
                                    "silhouette": ("Silhouette", "text"), "bic": ("BIC", "text")}),
                     hide_index=True, key="persona_scores")  # fmt: skip
        st.caption(f"Chosen k = {quality['k']} (best silhouette). Stability: adjusted Rand index "
                   f"between the model and {quality['bootstrap_resamples']} refits on bootstrap "
                   "resamples.")  # fmt: skip
