"""The Data page: demo data in one click, and a dataset import from a server folder."""

from __future__ import annotations

import shutil

import pytest

from flowtype_core import open_workbench
from flowtype_core.accounts import AccountStore
from flowtype_core.datasets.upload import import_uploaded
from flowtype_core.errors import InvalidInput
from tests.app.conftest import logged_in
from tests.conftest import AALTO_DIR
from tests.core.test_import_hostile import hostile_folder


def test_load_demo_data_in_one_click(app_data):
    at = logged_in("researcher").run()
    at.switch_page("pages/data.py").run()
    next(b for b in at.button if b.label == "Load demo data").click().run(timeout=120)
    assert not at.exception
    assert any("sessions" in s.value for s in at.success)
    wb = open_workbench(data_dir=app_data)
    assert wb.publisher.wait_idle(120)
    assert wb.lakehouse.read_table("sessions").height == 8 * 3


def test_import_from_a_server_folder(app_data, tmp_path):
    folder = tmp_path / "few"
    folder.mkdir()
    for path in sorted(AALTO_DIR.glob("*_keystrokes.txt"))[:3]:
        shutil.copy(path, folder / path.name)
    at = logged_in("researcher").run()
    at.switch_page("pages/data.py").run()
    at.text_input[0].input(str(folder)).run()
    next(b for b in at.button if b.label == "Import folder").click().run(timeout=120)
    assert not at.exception
    assert any(s.value.startswith("3 participants") for s in at.success)


def test_a_hostile_import_shows_what_was_left_out_and_why(app_data, tmp_path):
    at = logged_in("researcher").run()
    at.switch_page("pages/data.py").run()
    at.text_input[0].input(str(hostile_folder(tmp_path))).run()
    next(b for b in at.button if b.label == "Import folder").click().run(timeout=120)
    assert not at.exception
    assert any(s.value.startswith("1 participants") and "6 rows left out" in s.value for s in at.success)
    (warning,) = at.warning
    assert "1 time out of range" in warning.value and "2 files could not be read" in warning.value
    assert "1 rows kept with bytes that are not UTF-8" in warning.value


def test_uploaded_names_are_checked(app_data):
    wb = open_workbench(data_dir=app_data)
    with pytest.raises(InvalidInput, match="not a dataset file name"):
        import_uploaded(wb, [("../../etc/passwd", b"x")])
    data = sorted(AALTO_DIR.glob("*_keystrokes.txt"))[0]
    report = import_uploaded(wb, [(data.name, data.read_bytes())])
    assert report["participants"] == 1 and report["written_sessions"] == 1


def test_registering_an_imported_typists_id_is_refused_on_the_participants_page(app_data, tmp_path):
    wb = open_workbench(data_dir=app_data)
    wb.import_aalto(hostile_folder(tmp_path))  # the dataset typist 7 becomes aalto-7
    wb.close()
    at = logged_in("researcher").run()
    at.switch_page("pages/participants.py").run()
    form = {t.label: t for t in at.text_input}
    form["Username (letters, digits, '_', '.', '-')"].input("aalto-7")
    form["Initial password (at least 8 characters)"].input("long enough pass")
    next(b for b in at.button if b.label == "Register").click().run()
    assert not at.exception
    assert any("already owns data in the session store" in e.value for e in at.error)
    assert "aalto-7" not in {u.username for u in AccountStore(app_data).users()}
