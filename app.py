"""FlowType: the Streamlit entry point. Login gate, then the pages this user's role may open."""

import streamlit as st

from ui.auth import login_gate
from ui.navigation import pages_for
from ui.resources import workbench

st.set_page_config(page_title="FlowType", page_icon=":material/keyboard:", layout="wide")
user = login_gate(workbench())
if user is None:
    st.stop()
st.navigation(pages_for(user.role)).run()
