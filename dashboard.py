"""AR Lens: the entry script is only the frame and the router."""

import streamlit as st

from ui.data import reading
from ui.filters import return_to_page, sidebar_filters
from ui.navigation import PAGES

st.set_page_config(page_title="AR Lens", page_icon=":material/account_balance:", layout="wide")

sections: dict[str, list] = {}
for path, title, icon, section in PAGES:
    sections.setdefault(section, []).append(st.Page(path, title=title, icon=icon))
page = st.navigation(sections)
return_to_page()
with reading():
    sidebar_filters()
    page.run()
