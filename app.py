"""FlowType: the Streamlit entry point. Login gate, then the pages this user's role may open.

`streamlit run app.py` finds `app` below (an `st.App`: Streamlit plus the login cookie's routes
and the cross-origin isolation headers) by importing this file as a module, then runs the file
as the page script (`__name__ == "__main__"`) on every rerun; AppTest runs it the same way.
"""

import streamlit as st


def main() -> None:
    """One script run: the login page (under every page's URL, so a deep link survives the
    login) or the role's navigation."""
    from ui.auth import login_gate, login_page
    from ui.navigation import pages_for, url_paths
    from ui.resources import workbench

    st.set_page_config(page_title="FlowType", page_icon="⌨️", layout="wide")
    wb = workbench()
    user = login_gate(wb)
    # A navigation is always declared: without one Streamlit would list the pages/ folder and
    # route to its files by URL. Logged out, every page's URL shows the login page.
    if user is None:

        def log_in_page(url_path: str) -> st.Page:
            def log_in() -> None:
                login_page(wb, url_path)

            return st.Page(log_in, title="Log in", url_path=url_path or None, default=not url_path)

        st.navigation([log_in_page(url) for url in ["", *url_paths()]], position="hidden").run()
    else:
        st.navigation(pages_for(user.role)).run()


if __name__ == "__main__":
    main()
else:
    from starlette.middleware import Middleware
    from streamlit.runtime.pages_manager import PagesManager

    from ui.http_headers import IsolationHeaders
    from ui.login_cookie import routes

    # With a pages/ folder, Streamlit serves the process's first run as a v1 multipage app until
    # some run calls st.navigation: a deep link opened first thing ran pages/x.py without this
    # gate. This script always declares its navigation, so say so before the first session.
    PagesManager.uses_pages_directory = False
    app = st.App(__file__, routes=routes(), middleware=[Middleware(IsolationHeaders)])
