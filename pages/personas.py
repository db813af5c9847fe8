"""Customer personas: who pays how, what to do about each group, and who is slipping."""

import datetime as dt

import pandas as pd
import plotly.express as px
import streamlit as st

from arlens.store import Store
from models import personas
from ui.data import data_version, db_path, require_data, stop_if_empty
from ui.filters import as_of, currency, filters
from ui.format import money, percent

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


@st.cache_data(show_spinner="Clustering payment behaviour…", max_entries=16)
def run(db: str, version: int, day: dt.date):
    """Personas, moves, quarter-end history and model quality at `day`, until the data changes."""
    with Store.open(db, read_only=True) as store:
        result = personas.analyse(store, day)
    return result.personas, result.migrations, result.history, personas.run_metrics(result)


st.title("Customer personas")
require_data()
day, cur, where = as_of(), currency(), filters()
everyone, moves, history, quality = run(str(db_path()), data_version(), day)
shown = personas.apply_filters(everyone, where)
stop_if_empty(shown, "customers with invoices")
moves = moves[moves["customer_id"].isin(shown["customer_id"])]
warning = moves[moves["worse"] & (moves["quarter_end"] == day)]

fit = (f"{quality['k']} clusters by KMeans, silhouette {quality['silhouette']:.2f}, bootstrap "
       f"stability ARI {quality['stability_ari_mean']:.2f} (min {quality['stability_ari_min']:.2f})"
       if quality["k"] else "too few customers to cluster: each is named by the rules")  # fmt: skip
st.caption(f"As of {day:%d %B %Y} · {cur} · {fit}. Personas are fitted on all customers; the "
           "sidebar filters choose whom to show.")  # fmt: skip
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
        st.caption(f"{card['customers']:,} customers · {percent(card['share_of_ar'])} of AR · "
                   f"{percent(card['share_of_past_due'])} of past due")  # fmt: skip
        st.markdown(card["description"] or "")
        st.markdown(f"**Strategy.** {card['strategy']}  \n**Credit.** {card['credit_action']}")

st.subheader("Map of payment behaviour")
order = [p for p in personas.SEVERITY if p in set(shown["persona"])]
fig = px.scatter(
    shown, x="pca_x", y="pca_y", color="persona", color_discrete_map=COLOURS,
    category_orders={"persona": order}, hover_name="name",
    hover_data={"customer_id": True, "mean_days_late": ":.1f", "dispute_rate": ":.0%",
                "past_due_share": ":.0%", "trend_days_late": ":.1f", "pca_x": False, "pca_y": False},
    labels={"pca_x": "principal component 1", "pca_y": "principal component 2", "persona": ""},
)  # fmt: skip
fig.update_layout(height=460, margin=dict(l=10, r=10, t=30, b=10), legend=dict(orientation="h"))
st.plotly_chart(fig, key="persona_map")
st.caption("Each dot is a customer; nearby dots pay alike (PCA of the scaled behaviour features).")

st.subheader("Early warning: moved to a worse persona since the last quarter-end")
columns = {"name": "Customer", "customer_id": "Id", "from_persona": "Was", "to_persona": "Now",
           "from_date": st.column_config.DateColumn("Since"),
           "past_due": st.column_config.NumberColumn("Past due", format="accounting"),
           "open_ar": st.column_config.NumberColumn("Open AR", format="accounting")}  # fmt: skip
if warning.empty:
    st.info("Nobody moved to a worse persona since the last quarter-end.")
else:
    st.dataframe(warning[list(columns)], hide_index=True, key="persona_warning",
                 column_config=columns)  # fmt: skip
with st.expander("Every move over the last four quarters"):
    st.dataframe(moves, hide_index=True, key="persona_moves",
                 column_config={**columns, "quarter_end": st.column_config.DateColumn("To")})  # fmt: skip

st.subheader("Look up a customer")
labels = (shown["name"].fillna(shown["customer_id"]) + " · " + shown["customer_id"]).tolist()
pick = st.selectbox("Customer", range(len(shown)), format_func=lambda i: labels[i],
                    key="persona_customer")  # fmt: skip
row = shown.iloc[pick]
st.markdown(f"### {row['persona']}")
st.markdown(f"{row['description']}  \n**Strategy.** {row['strategy']}  \n"
            f"**Credit.** {row['credit_action']}")  # fmt: skip
path = history[history["customer_id"] == row["customer_id"]]
st.caption("At each quarter-end: " + " → ".join(
    f"{d:%b %Y}: {p}" for d, p in zip(path["date"], path["persona"], strict=True)))  # fmt: skip
features = pd.DataFrame({"feature": list(personas.PROFILE_FEATURES),
                         "value": [row[f] for f in personas.PROFILE_FEATURES]})  # fmt: skip
st.dataframe(features, hide_index=True, key="persona_features")

with st.expander("Model quality"):
    st.dataframe(pd.DataFrame(quality["scores"]), hide_index=True, key="persona_scores")
    st.caption(f"Chosen k = {quality['k']} (best silhouette). Stability: adjusted Rand index between "
               f"the model and {quality['bootstrap_resamples']} refits on bootstrap resamples.")  # fmt: skip
