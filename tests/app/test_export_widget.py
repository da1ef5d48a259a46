"""The Data page's export: built on demand, refused with a reason when nothing matches."""

from __future__ import annotations

from datetime import UTC, datetime

from flowtype_core import open_workbench
from tests.app.conftest import logged_in
from tests.conftest import make_batch


def _data_page():
    at = logged_in("researcher").run()
    at.switch_page("pages/data.py").run()
    assert not at.exception
    return at


def test_nothing_to_export_says_so(app_data) -> None:
    at = _data_page()
    assert not at.get("download_button")  # nothing is built until asked
    next(b for b in at.button if b.label == "Build export").click().run()
    assert [e.value.replace("\\", "") for e in at.error] == ["nothing to export: no keystrokes match"]


def test_an_export_is_built_and_offered_for_download(app_data, sentences) -> None:
    wb = open_workbench(data_dir=app_data)
    handle = wb.recorder.start_session("pat", consented_at=datetime.now(UTC))
    wb.recorder.submit_section(handle, 0, sentences[0], make_batch(sentences[0].text, handle.token, 0))
    assert wb.publisher.wait_idle(60)
    wb.close()
    at = _data_page()
    at.selectbox[0].set_value("aalto").run()
    next(b for b in at.button if b.label == "Build export").click().run()
    assert not at.exception and at.success[0].value.startswith("Export ready")
    assert not at.error
    button = at.get("download_button")[0]
    assert button.proto.label == "Download"
