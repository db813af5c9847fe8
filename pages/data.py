"""Data: bring exports in, see what was rejected and why, and check the data's health."""

import streamlit as st

from arlens.exports import neutralise_text, to_csv_bytes
from arlens.ingest.importer import ImportFailed
from arlens.ingest.mapping import TABLES
from arlens.ingest.uploads import KINDS, MAPPING_KINDS, UploadRefused, max_upload_bytes
from arlens.store import StoreError
from ui import tables
from ui.access import guard
from ui.data import import_upload, query
from ui.filters import as_of
from ui.format import money

PICK = "import_pick"
LAST = "last_import"  # this session's newest import through the page: its result, as shown

user = guard()
st.title("Data")

st.subheader("Import a file")
with st.form("import_form", clear_on_submit=False):
    upload = st.file_uploader("Export file", type=list(KINDS), key="import_file",
                              help=f"Up to {max_upload_bytes() // 2**20:,} MB; larger files: `arlens import` "
                              "from a shell.")  # fmt: skip
    left, mid, right = st.columns(3)
    table = left.selectbox("Table", list(TABLES), key="import_table")
    sheet = mid.text_input("Excel sheet (blank: every sheet)", key="import_sheet")
    mapping = right.file_uploader(
        "Mapping file (TOML, optional)", type=list(MAPPING_KINDS), key="import_mapping"
    )
    submitted = st.form_submit_button("Import", type="primary")

if submitted and upload is not None:
    before = query("import_history")
    newest_before = int(before["import_id"].max()) if before is not None and len(before) else 0
    bar = st.progress(0.0, text="Reading…")
    size_hint = max(1, upload.getvalue().count(b"\n"))
    try:
        result = import_upload(
            user, upload.name, upload.getvalue(), table,
            (mapping.name, mapping.getvalue()) if mapping is not None else None, sheet or None,
            progress=lambda n: bar.progress(min(n / size_hint, 1.0), text=f"{n:,} rows read"),
        )  # fmt: skip
        bar.progress(1.0, text="Done")
        st.session_state[PICK] = result.import_id
        st.session_state[LAST] = {"id": result.import_id, "notes": list(result.notes),
                                  "warnings": list(result.warnings), "file": result.file}  # fmt: skip
    except (ImportFailed, StoreError, UploadRefused, PermissionError) as error:
        bar.empty()
        st.error(str(error))
        after = query("import_history")  # an import that loaded nothing still logs its rejects
        if after is not None and len(after) and int(after["import_id"].max()) > newest_before:
            st.session_state[PICK] = int(after["import_id"].max())
elif submitted:
    st.warning("Choose a file to import first.")

history = query("import_history")
if history is None or history.empty:
    st.info(
        "No imports yet: upload a file above, run `arlens import FILE --table invoices`, or `make run` for the sample."
    )
    st.stop()

st.subheader("Import history")
tables.show(history, key="import_history", labels={"file": "File", "import_id": "Import"})
by_id = history.set_index("import_id")
if st.session_state.get(PICK) not in by_id.index:
    st.session_state.pop(PICK, None)  # newest first by default
chosen = int(st.selectbox("Import", list(by_id.index), key=PICK, format_func=lambda i: (
    f"#{i} · {by_id.loc[i, 'file']} → {by_id.loc[i, 'target_table']} · {by_id.loc[i, 'imported_at']:%d %b %Y %H:%M}")))  # fmt: skip
row = by_id.loc[chosen]
used = query("import_mapping", import_id=chosen)
last = st.session_state.get(LAST) or {}
this_session = last.get("id") == chosen

summary = f"{row['file']}: {row['rows_loaded']:,} rows loaded, {row['rows_rejected']:,} rejected."
(st.success if row["rows_loaded"] and not row["rows_rejected"] else st.warning)(summary)
cells = st.columns(4)
cells[0].metric("Rows read", f"{row['rows_read']:,}")
cells[1].metric("Rows loaded", f"{row['rows_loaded']:,}")
cells[2].metric("Rows rejected", f"{row['rows_rejected']:,}")
cells[3].metric("New customers (stubs)", f"{row['stub_customers']:,}")
notes = last["notes"] if this_session else [n for n in (used.get("notes") or "").splitlines() if n]
if notes:
    st.markdown("**Notes on this import**\n\n" + "\n".join(f"- {note}" for note in notes))
if this_session and last["warnings"]:
    st.markdown("**Warnings about this import's documents**\n\n" + "\n".join(
        f"- {count:,} {what}" + (f" ({money(amount, currency, 2)})" if amount is not None else "")
        for what, currency, count, amount in last["warnings"]))  # fmt: skip

left, right = st.columns(2)
with left:
    st.markdown("**Mapping used**")
    for source in used.get("mapping", {}).get("sources", []):
        st.json({k: source.get(k) for k in ("columns", "date_formats", "decimal_separator", "detected", "unused_headers")},
                expanded=False)  # fmt: skip
with right:
    rejected = query("rejected_rows", import_id=chosen)
    st.markdown(f"**Rejected rows: {len(rejected):,}**")
    if len(rejected):
        # Raw cells, neutralised as shown: the table's toolbar download writes them (DESIGN.md §3).
        tables.show(neutralise_text(rejected.drop(columns="raw_row")), key="rejected_table",
                    labels={"column": "Column", "raw_value": "Value as read"})  # fmt: skip
        st.download_button("Download rejected rows (CSV)", to_csv_bytes(tables.for_download(rejected)), f"rejected_{chosen}.csv",
                           "text/csv", key="rejected_csv")  # fmt: skip

day = as_of()
if day is not None:
    st.subheader("Data health")
    st.caption(f"The whole store as of {day:%d %b %Y}, every import together.")
    tables.show(query("data_health", as_of=day), key="data_health", money=["amount"])
