"""A rejected batch's message is shown as plain text: a field name the sender chose never renders
as a link, an image or styled text (issue 20 item 3)."""

from __future__ import annotations

import html
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.app.conftest import logged_in
from tests.conftest import make_batch
from ui.resources import as_plain_text
from ui.typing_widgets import CAPTURE_KEY, RUN_KEY

# CommonMark plus the GitHub extensions Streamlit's renderer also speaks.
MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
HOSTILE = [
    "[win a prize](http://e.vil)",
    "![pixel](http://e.vil/p.png)",
    "**loud** _quiet_ `code` ~~gone~~",
    "# heading",
    "<b>bold</b> &amp; <script>x</script>",
    "| a | b |\n|---|---|\n| 1 | 2 |",
    "1. listed\n- bulleted\n> quoted",
    "back\\slash \\[ and $x^2$ :red[red] :smile:",
]


def _as_shown(markdown: str) -> str:
    return MARKDOWN.render(markdown)


@pytest.mark.parametrize("text", HOSTILE)
def test_escaped_text_renders_as_exactly_that_text(text):
    rendered = _as_shown(as_plain_text(text))
    assert rendered == f"<p>{html.escape(text, quote=False)}</p>\n"
    assert not any(
        tag in rendered for tag in ("<a ", "<img", "<strong", "<em", "<code", "<h1", "<table", "<li")
    )


def test_a_rejected_batch_with_markdown_in_a_field_name_is_shown_as_typed(app_data: Path):
    at = logged_in("participant").run()
    at.checkbox[0].check()
    at.button[0].click().run()
    run = at.session_state[RUN_KEY]
    batch = make_batch(run.current.sentence.text, run.handle.token, run.index)
    batch["[win](http://e.vil)"] = 1
    batch["![x](http://e.vil/i.png)"] = 2
    at.session_state[CAPTURE_KEY] = {"submit": batch}
    at.run()
    assert not at.exception, at.exception
    shown = [e.value for e in at.error]
    assert len(shown) == 1
    rendered = _as_shown(shown[0])
    assert "<a " not in rendered and "<img" not in rendered
    expected = "keystroke batch rejected: the batch has unknown field(s) '![x](http://e.vil/i.png)', '[win](http://e.vil)'"
    assert rendered == f"<p>{html.escape(expected, quote=False)}</p>\n"
