"""A big resync reaches each backend as big batches: a constant number of writes per batch."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flowtype_core import Workbench
from flowtype_core.sync.report import IN_SYNC, MISSING
from flowtype_core.sync.service import SyncService
from tests.sync.conftest import assert_exactly_once
from tests.sync.synthetic import synthetic, write_store

SECTIONS, KEYS = 4, 150  # 600 presses a session: 20 sessions are already too big for one JSON statement


def test_resync_cost_does_not_grow_with_the_rows(backend: Any, sync_wb: Workbench) -> None:
    sync = SyncService.for_workbench(sync_wb)
    costs = []
    for first, sessions in ((0, 20), (20, 80)):  # 12k presses, then 48k more: one batch each
        write_store(sync_wb.data_dir, *synthetic(sessions, SECTIONS, KEYS, first_session=first))
        assert sync.validate().counts()[MISSING] == sessions * SECTIONS
        before = Counter(backend.writes())
        result = sync.resync()
        assert result.ok and result.rows == sessions * SECTIONS * KEYS
        costs.append(Counter(backend.writes()) - before)
    assert costs[0] == costs[1], costs
    if backend.kind == "databricks":  # staged through the volume, not sent as parameters
        assert costs[0]["PUT"] >= 1 and costs[0]["PUT"] == costs[0]["REMOVE"]
    assert sum(costs[1].values()) <= 9
    assert sync.validate(full=True).counts()[IN_SYNC] == 100 * SECTIONS
    assert_exactly_once(sync_wb)
