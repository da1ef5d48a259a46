"""Long-lived objects for the Streamlit process, cached once (SPEC: connections in cache_resource)."""

from __future__ import annotations

import argparse
import os
import re
import sys

import streamlit as st

from flowtype_core import Workbench, open_workbench
from flowtype_core.errors import ConfigError
from flowtype_core.redaction import redact

# Every ASCII punctuation character may be backslash-escaped in CommonMark; escaping them all also
# defuses Streamlit's own `:emoji:`, `:color[...]` and `$math$` syntax.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def _data_dir() -> str | None:
    """`streamlit run app.py -- --data-dir D`, else $FLOWTYPE_DATA_DIR, else the settings' default."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--data-dir")
    known, _ = parser.parse_known_args(sys.argv[1:])
    return known.data_dir or os.environ.get("FLOWTYPE_DATA_DIR")


@st.cache_resource(show_spinner=False)
def _open(data_dir: str | None) -> Workbench:
    wb = open_workbench(data_dir=data_dir)
    wb.publisher.start()  # lakehouse pushes happen in the background, never in a page run
    return wb


def workbench() -> Workbench:
    """The configured workbench; stops the page with a clear message when settings are wrong."""
    try:
        return _open(_data_dir())
    except ConfigError as exc:
        st.error(f"FlowType cannot start: {redact(exc)}")
        st.stop()
        raise  # unreachable: st.stop ends the script run


def as_plain_text(text: str) -> str:
    """`text` escaped so Streamlit's Markdown shows it as written: a message may quote what a
    sender chose (a field name), which must not become a link, an image or styled text."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


def show_error(exc: BaseException) -> None:
    """Errors shown in the UI never carry secrets and are shown as plain text."""
    st.error(as_plain_text(redact(exc)))
