"""Data: bring exports in, see what was rejected and why, and check the data's health."""

import tempfile
from pathlib import Path

import streamlit as st

from arlens.exports import neutralise_text, to_csv_bytes
from arlens.ingest.importer import ImportFailed, import_file
from arlens.ingest.mapping import TABLES
from arlens.store import StoreError
from ui.data import open_for_import, query
from ui.filters import as_of

st.title("Data")

st.subheader("Import a file")
with st.form("import_form", clear_on_submit=False):
    upload = st.file_uploader("Export file", type=["csv", "tsv", "txt", "xlsx", "xls", "parquet", "jsonl", "json"],
                              key="import_file")  # fmt: skip
    left, mid, right = st.columns(3)
    table = left.selectbox("Table", list(TABLES), key="import_table")
    sheet = mid.text_input("Excel sheet (blank: every sheet)", key="import_sheet")
    mapping = right.file_uploader(
        "Mapping file (TOML, optional)", type=["toml"], key="import_mapping"
    )
    submitted = st.form_submit_button("Import", type="primary")

if submitted and upload is not None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / upload.name
        path.write_bytes(upload.getvalue())
        mapping_path = None
        if mapping is not None:
            mapping_path = Path(tmp) / mapping.name
            mapping_path.write_bytes(mapping.getvalue())
        bar = st.progress(0.0, text="Reading…")
        size_hint = max(1, upload.getvalue().count(b"\n"))
        try:
            with open_for_import() as store:
                result = import_file(
                    store, path, table, mapping_path, sheet or None,
                    progress=lambda n: bar.progress(min(n / size_hint, 1.0), text=f"{n:,} rows read"),
                )  # fmt: skip
            bar.progress(1.0, text="Done")
            st.success(
                f"{upload.name}: {result.rows_loaded:,} rows loaded, {result.rows_rejected:,} rejected."
            )
            st.code(result.summary(), language=None)
        except (ImportFailed, StoreError) as error:
            bar.empty()
            st.error(str(error))
elif submitted:
    st.warning("Choose a file to import first.")

history = query("import_history")
if history is None or history.empty:
    st.info(
        "No imports yet: upload a file above, run `arlens import FILE --table invoices`, or `make run` for the sample."
    )
    st.stop()

st.subheader("Import history")
st.dataframe(history, hide_index=True, key="import_history")
ids = history["import_id"].tolist()
chosen = st.selectbox("Import", ids, key="import_pick",
                      format_func=lambda i: f"#{i} · {history.set_index('import_id').loc[i, 'file']}")  # fmt: skip
left, right = st.columns(2)
with left:
    st.markdown("**Mapping used**")
    used = query("import_mapping", import_id=int(chosen))
    for source in used.get("mapping", {}).get("sources", []):
        st.json({k: source.get(k) for k in ("columns", "date_formats", "decimal_separator", "detected", "unused_headers")},
                expanded=False)  # fmt: skip
    if used.get("notes"):
        st.caption(used["notes"])
with right:
    rejected = query("rejected_rows", import_id=int(chosen))
    st.markdown(f"**Rejected rows: {len(rejected):,}**")
    if len(rejected):
        # Raw cells, neutralised as shown: the table's toolbar download writes them (DESIGN.md §3).
        shown = neutralise_text(rejected.drop(columns="raw_row"))
        st.dataframe(shown, hide_index=True, key="rejected_table")
        st.download_button("Download rejected rows (CSV)", to_csv_bytes(rejected), f"rejected_{chosen}.csv",
                           "text/csv", key="rejected_csv")  # fmt: skip

day = as_of()
if day is not None:
    st.subheader("Data health")
    health = query("data_health", as_of=day)
    st.dataframe(health, hide_index=True, key="data_health",
                 column_config={"amount": st.column_config.NumberColumn("Amount", format="accounting")})  # fmt: skip
