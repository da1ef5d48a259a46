"""The Ranker page: train from the UI, then metrics, importance and recommendations with reasons."""

from __future__ import annotations

import time
from pathlib import Path

from flowtype_core import open_workbench
from flowtype_core.demo import generate_demo
from flowtype_core.ranker import ModelRegistry
from tests.app.conftest import app_data, logged_in  # noqa: F401  (app_data is a fixture)

PAGE = "pages/ranker.py"


def test_train_from_the_page_then_see_metrics_and_recommendations(app_data: Path) -> None:  # noqa: F811
    wb = open_workbench(data_dir=app_data)
    generate_demo(wb.recorder, participants=6, sessions_per_participant=2, sentences_per_session=10, seed=5)
    assert wb.publisher.wait_idle(timeout=120)  # training reads the lakehouse
    wb.close()

    at = logged_in("researcher").run()
    at.switch_page(PAGE).run()
    assert not at.exception
    assert any("No model yet" in i.value for i in at.info)

    # "Train now" runs the pipeline's train_ranker task on the configured (local) runner.
    next(b for b in at.button if b.label == "Train now").click().run(timeout=120)
    assert not at.exception, [e.value for e in at.exception]
    deadline = time.monotonic() + 180
    while {m.value for m in at.metric if m.label == "train_ranker"} != {"succeeded"}:
        assert time.monotonic() < deadline, [(m.label, m.value) for m in at.metric]
        assert not {m.value for m in at.metric} & {"failed", "cancelled"}, [e.value for e in at.error]
        time.sleep(0.3)
        at.run()
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    record = ModelRegistry(app_data / "models").current()
    assert record is not None
    ndcg = next(m for m in at.metric if m.label == "NDCG@5, held-out typists")
    assert ndcg.value == f"{record.metrics['held_out']['model']['ndcg@5']:.3f}"
    assert set(record.metrics["replay"]) == {"random", "keybr-style", "weakspot", "model"}
    assert len(at.get("plotly_chart")) == 3  # baselines, the offline replay and feature importance
    assert any("Offline replay" in c.proto.spec for c in at.get("plotly_chart"))
    forecast = next(m for m in at.metric if m.label == "Sentences to the target speed")
    assert forecast.value == "no forecast" or forecast.value.isdigit()
    assert any(
        "forecast" in c.value or "sentences to reach" in c.value or "target" in c.value for c in at.caption
    )
    table = at.dataframe[-1].value
    assert len(table) == 5
    assert set(table["why"]) and all(table["why"].str.len() > 0)
