"""Data: what the store holds and where it came from."""

import streamlit as st

from ui.data import query

st.title("Data")
imports = query("import_history")
if imports is None or imports.empty:
    st.info(
        "No imports yet: `arlens import FILE --table invoices` or `make run` for the sample data."
    )
    st.stop()
st.subheader("Import history")
st.dataframe(imports, hide_index=True, key="import_history")
