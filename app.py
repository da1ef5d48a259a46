"""FlowType: the Streamlit entry point. Login gate, then the pages this user's role may open."""

import streamlit as st

from ui.auth import login_gate
from ui.navigation import pages_for
from ui.resources import workbench

st.set_page_config(page_title="FlowType", page_icon=":material/keyboard:", layout="wide")
user = login_gate(workbench())
if user is None:
    # Logged out: declare a navigation with nothing behind it, so no page file is routable by URL
    # (without st.navigation Streamlit would fall back to listing the pages/ folder).
    st.navigation([st.Page(lambda: None, title="Log in", url_path="login")], position="hidden").run()
    st.stop()
st.navigation(pages_for(user.role)).run()
