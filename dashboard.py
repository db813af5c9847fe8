"""AR Lens: the entry script is only the frame and the router."""

from pathlib import Path

import streamlit as st

from ui.access import current_user, refuse
from ui.data import reading
from ui.filters import return_to_page, sidebar_filters
from ui.navigation import PAGES

st.set_page_config(page_title="AR Lens", page_icon=":material/account_balance:", layout="wide")

user = current_user()  # the sign-in screen stops here when sign-in is on and no one is signed in
# Every page stays routable (a link to it gets a refusal, not "page not found"); the menu shows
# the user's own, and the first of them opens by default.
first = next(path for path, *_ in PAGES if user.may_open(path))
sections: dict[str, list] = {}
for path, title, icon, section in PAGES:
    visibility = "visible" if user.may_open(path) else "hidden"
    page = st.Page(path, title=title, icon=icon, default=path == first, visibility=visibility)
    sections.setdefault(section, []).append(page)
page = st.navigation(sections)
return_to_page()
opened = page.url_path or Path(first).stem  # the default page's url_path is ""
if not user.may_open(opened):
    refuse(user, opened)
with reading():
    sidebar_filters()
    page.run()
