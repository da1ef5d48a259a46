"""Analytics under each role: researchers see everyone, a participant only themselves."""

from __future__ import annotations

import json
import re
import shutil
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest

from flowtype_core import open_workbench
from flowtype_core.accounts import AccountStore
from flowtype_core.demo import generate_demo
from tests.app.conftest import PASSWORD, ROOT, logged_in
from tests.conftest import make_batch


@pytest.fixture
def populated(app_data):
    wb = open_workbench(data_dir=app_data)
    generate_demo(wb.recorder, participants=3, sessions_per_participant=2, sentences_per_session=3)
    handle = wb.recorder.start_session("pat", consented_at=datetime.now(UTC))
    from flowtype_core.corpus import load_corpus

    sentence = load_corpus()[0]
    wb.recorder.submit_section(handle, 0, sentence, make_batch(sentence.text, handle.token, 0))
    assert wb.publisher.wait_idle(60)
    return app_data


def _caption(at) -> str:
    return next(c.value for c in at.caption if "participant" in c.value and " · " in c.value)


def test_researcher_sees_everyone_and_can_filter(populated):
    at = logged_in("researcher").run()
    at.switch_page("pages/analytics.py").run()
    assert not at.exception
    assert _caption(at).startswith("4 participants")
    at.sidebar.multiselect[0].select("demo-01").run()
    assert not at.exception
    assert _caption(at).startswith("1 participant ·")
    at.segmented_control(key="analytics_view").set_value("Population standing").run()
    placed = [m.value for m in at.markdown if "demo-01" in m.value]
    assert placed and re.search(r"at the \d+(st|nd|rd|th) percentile of 4 loaded typists", placed[0])


def test_participant_sees_only_their_own_data(populated):
    at = logged_in("participant").run()
    at.switch_page("pages/analytics.py").run()
    assert not at.exception
    assert _caption(at).startswith("1 participant · 1 sentence ·")
    # No participant picker exists for a participant; the only session offered is their own.
    labels = [m.label for m in at.sidebar.multiselect]
    assert labels == ["Sessions"]
    assert all("demo" not in option for option in at.sidebar.multiselect[0].options)


def test_participant_without_data_sees_a_hint(app_data):
    at = logged_in("participant", username="pia").run()
    at.switch_page("pages/analytics.py").run()
    assert not at.exception
    assert any("You have no typing data yet" in i.value for i in at.info)


def _figures(at) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in at.get("plotly_chart")]


def test_every_view_renders_its_own_figures_only(populated):
    at = logged_in("analyst").run()
    view = at.segmented_control(key="analytics_view")
    assert view.value == "Speed over sessions"
    assert len(_figures(at)) == 1  # only the open view is built, not all of them
    expected = {"Population standing": 1, "Timing": 2, "Keyboard": 2, "Digraphs": 1, "Slips": 1, "Export": 0}
    for name, count in expected.items():
        at.segmented_control(key="analytics_view").set_value(name).run()
        assert not at.exception, name
        assert len(_figures(at)) == count, name
    assert [b.proto.label for b in at.get("download_button")] == ["Download CSV", "Download Parquet"]


def test_figures_use_human_labels_and_binned_histograms(populated):
    at = logged_in("analyst").run()
    at.segmented_control(key="analytics_view").set_value("Timing").run()
    iki, hold = _figures(at)
    assert len(iki["data"][0]["x"]) == 60 and len(hold["data"][0]["x"]) == 60  # bins, not presses
    text = json.dumps([iki, hold] + [m.proto.label for m in at.metric])
    assert "iki_ms" not in text and "participant_id" not in text and "hold_ms" not in text
    assert all(m.proto.help for m in at.metric)  # every metric card explains itself


def test_a_filter_that_empties_the_data_names_the_filter(populated):
    at = logged_in("researcher").run()
    at.switch_page("pages/analytics.py").run()
    before = date.today() - timedelta(days=2 * 365)  # demo data is typed today
    at.sidebar.date_input[1].set_value(before).run()
    assert not at.exception
    message = " ".join(i.value for i in at.info)
    assert "No key presses match these filters" in message and str(before) in message
    assert "demo data" not in message


def test_an_empty_lakehouse_points_researchers_at_the_data_page(app_data):
    at = logged_in("researcher").run()
    at.switch_page("pages/analytics.py").run()
    assert any("No typing data has been recorded yet" in i.value and "Data page" in i.value for i in at.info)


@pytest.fixture
def imported(app_data, tmp_path):
    """Two Aalto typists: both have a session called "aalto"."""
    sample = sorted(
        (ROOT.parent / "shared" / "datasets" / "aalto_sample" / "keystrokes").glob("*_keystrokes.txt")
    )
    folder = tmp_path / "two"
    folder.mkdir()
    for path in sample[:2]:
        shutil.copy(path, folder / path.name)
    open_workbench(data_dir=app_data).import_aalto(folder)
    return app_data


def test_a_session_option_selects_one_imported_typist(imported):
    at = logged_in("analyst").run()
    sessions = at.sidebar.multiselect[1]
    assert len(sessions.options) == 2 and all(" · aalto" in o for o in sessions.options)
    sessions.select(sessions.options[0]).run()
    assert not at.exception
    assert _caption(at).startswith("1 participant ·")


def test_a_participant_receives_no_other_participants_value(imported):
    wb = open_workbench(data_dir=imported)
    ids = sorted(set(wb.lakehouse.read_table("sessions").get_column("participant_id").to_list()))
    me, other = ids
    AccountStore(imported).create_user(me, PASSWORD, role="participant", name="Typist")
    from flowtype_core.metrics import participant_metrics, section_metrics

    theirs = section_metrics(wb.lakehouse.read_table("keystrokes", participant_id=other))
    values = [v for v in participant_metrics(theirs).row(0) if isinstance(v, float)]
    values += [
        v for column in ("wpm", "iki_mean_ms", "consistency") for v in theirs.get_column(column).to_list()
    ]
    at = logged_in("participant", username=me).run()
    at.switch_page("pages/analytics.py").run()
    sent = []
    for name in at.segmented_control(key="analytics_view").options:
        at.segmented_control(key="analytics_view").set_value(name).run()
        if name == "Population standing":
            for metric in at.selectbox[0].options:
                at.selectbox[0].set_value(
                    at.selectbox[0].options[at.selectbox[0].options.index(metric)]
                ).run()
                sent.append(json.dumps(_figures(at)) + " ".join(m.value for m in at.markdown))
        sent.append(json.dumps(_figures(at)) + " ".join(m.value for m in at.markdown))
    assert not at.exception
    payload = " ".join(sent)
    for value in values:
        assert repr(value) not in payload and f"{value:.6g}" not in payload, value


def test_invalid_sections_are_left_out_by_default_with_a_count_and_a_toggle(populated):
    wb = open_workbench(data_dir=populated)
    sections = wb.lakehouse.read_table("sections", participant_id="demo-01").sort("test_section_id")
    flagged = sections.head(2).with_columns(
        pl.lit(False).alias("valid"), pl.Series("quality_flags", ["too_fast", "too_fast,pasted"])
    )
    keys = wb.lakehouse.read_table("keystrokes", participant_id="demo-01")
    wb.lakehouse.replace_sections(flagged, keys.join(flagged.select("test_section_id"), on="test_section_id"))
    at = logged_in("analyst").run()
    assert not at.exception
    note = next(c.value for c in at.caption if "quality rules" in c.value)
    assert note.startswith("Left out: 2 sentences") and "too_fast 2, pasted 1" in note
    total = (
        sections.height
        + wb.lakehouse.read_table("sections").filter(pl.col("participant_id") != "demo-01").height
    )
    assert f"{total - 2} sentences" in _caption(at)
    at.sidebar.toggle[0].set_value(False).run()
    assert f"{total} sentences" in _caption(at)
    assert next(c.value for c in at.caption if "quality rules" in c.value).startswith("Included: 2 sentences")
