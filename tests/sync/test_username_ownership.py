"""Issue 13 item 4: a username that already owns data (an imported typist, a deleted account's
sessions, rows only a lakehouse still holds) cannot be registered."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from flowtype_core import open_workbench
from flowtype_core.errors import InvalidInput
from tests.sync.conftest import with_demo
from tests.sync.test_import_identity import aalto_file

PASSWORD = "correct horse battery"


def test_usernames_that_own_data_are_refused_on_every_path(backend: Any, tmp_path: Path) -> None:
    wb = open_workbench(**backend.settings())
    try:
        wb.accounts.create_user("lead", PASSWORD, role="researcher")
        wb.import_aalto(aalto_file(tmp_path / "dataset", "109", "s1").parent)
        with_demo(wb, participants=2, sessions=1, sentences=1)  # demo-01, demo-02: no accounts
        for taken, where in (
            ("aalto-109", "session store"),
            ("AALTO-109", "session store"),
            ("demo-01", "session store"),
        ):
            with pytest.raises(InvalidInput, match=f"already owns data in the {where}"):
                wb.accounts.create_user(taken, PASSWORD, role="participant")
        # Only the lakehouse still holds demo-02 (its CSV folder was removed by hand).
        shutil.rmtree(wb.store.root / "demo-02")
        with pytest.raises(InvalidInput, match=f"already owns data in the {backend.kind} lakehouse"):
            wb.accounts.create_user("demo-02", PASSWORD, role="participant")
        assert wb.accounts.create_user("newcomer", PASSWORD, role="participant").username == "newcomer"
        assert [u.username for u in wb.accounts.users("participant")] == ["newcomer"]
    finally:
        wb.close()
