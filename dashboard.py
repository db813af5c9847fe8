"""AR Lens: the entry script is only the frame and the router."""

import streamlit as st

from ui.access import current_user, refuse
from ui.data import reading
from ui.filters import return_to_page, sidebar_filters
from ui.navigation import PAGES

st.set_page_config(page_title="AR Lens", page_icon=":material/account_balance:", layout="wide")

user = current_user()  # the sign-in screen stops here when sign-in is on and no one is signed in
# Every page stays routable at its own URL (a link to a page the user may not open gets a
# refusal, not "page not found"); the menu shows the user's own. The app's root is a hidden
# page that opens the first of them: after signing in, a collector lands on the worklist.
sections: dict[str, list] = {}
pages = {}
for path, title, icon, section in PAGES:
    visibility = "visible" if user.may_open(path) else "hidden"
    pages[path] = st.Page(path, title=title, icon=icon, visibility=visibility)
    sections.setdefault(section, []).append(pages[path])
home = st.Page(lambda: None, title="AR Lens", url_path="home", default=True, visibility="hidden")
sections[next(iter(sections))].insert(0, home)
page = st.navigation(sections, expanded=True)
if page.url_path == "":
    first = next(path for path in pages if user.may_open(path))
    st.switch_page(pages[first], query_params=st.query_params.to_dict())
return_to_page()
if not user.may_open(page.url_path):
    refuse(user, page.url_path)
with reading():
    sidebar_filters()
    page.run()
