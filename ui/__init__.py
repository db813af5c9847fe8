"""Streamlit glue shared by the pages: the store, cached queries, the sidebar filters.

Only this package and `pages/` import streamlit; `arlens/` and `models/` never do.
"""
