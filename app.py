"""FlowType: the Streamlit entry point. Login gate, then the pages this user's role may open."""

import streamlit as st

from ui.auth import login_gate, login_page
from ui.navigation import pages_for
from ui.resources import workbench

st.set_page_config(page_title="FlowType", page_icon=":material/keyboard:", layout="wide")
wb = workbench()
user = login_gate(wb)


def log_in() -> None:
    login_page(wb)


# A navigation is always declared: without one Streamlit would list the pages/ folder and route to
# its files by URL. Logged out, the login page is the only page there is.
if user is None:
    st.navigation([st.Page(log_in, title="Log in")], position="hidden").run()
else:
    st.navigation(pages_for(user.role)).run()
