"""An import's progress covers reading, writing the CSV store and the lakehouse, in that order."""

from __future__ import annotations

import shutil
from pathlib import Path

from flowtype_core import open_workbench

SAMPLE = Path(__file__).resolve().parents[2].parent / "shared" / "datasets" / "aalto_sample" / "keystrokes"


def test_progress_rises_through_each_phase_and_ends_when_the_lakehouse_has_the_data(tmp_path: Path) -> None:
    folder = tmp_path / "files"
    folder.mkdir()
    for path in sorted(SAMPLE.glob("*_keystrokes.txt"))[:3]:
        shutil.copy(path, folder / path.name)
    wb = open_workbench(data_dir=tmp_path / "data")
    seen: list[tuple[float, str]] = []
    report = wb.import_aalto(folder, progress=lambda fraction, message: seen.append((fraction, message)))
    fractions = [f for f, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    phases = [m.split(":")[0] for _, m in seen]
    order = [
        "Reading files",
        "Writing sessions to the CSV store",
        "Writing to the lakehouse",
    ]
    assert [p for i, p in enumerate(phases) if p in order and (i == 0 or phases[i - 1] != p)] == order
    # The bar is not full while anything is still being written.
    assert all(f < 1.0 for f, m in seen if m.startswith(("Reading", "Writing")))
    assert seen[-1][1] == "Imported" and report["published"]
    assert "Writing sessions to the CSV store: 3/3 sessions" in [m for _, m in seen]
    assert wb.lakehouse.read_table("sessions").height == 3
