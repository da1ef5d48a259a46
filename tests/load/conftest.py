"""The browser tier's served-app fixture, shared here rather than copied."""

from tests.browser.conftest import serve_streamlit

__all__ = ["serve_streamlit"]
