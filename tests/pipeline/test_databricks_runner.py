"""DatabricksJobsRunner with the real databricks-sdk against a local Jobs API server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from flowtype_core.config import DatabricksSettings, Settings
from flowtype_core.pipeline import local_context, run_targets
from flowtype_core.pipeline.layers import LAYERS
from flowtype_core.pipeline.runners import open_runner
from flowtype_core.pipeline.runners.databricks_jobs import DatabricksJobsRunner
from tests.support.jobs_api_server import HANG, JobsApiServer, TaskContext

NOTEBOOKS = "/Workspace/Users/ci@example.com/.bundle/flowtype/dev/files/notebooks"
JOB_TASKS = [
    {"task_key": "bronze", "notebook_task": {"notebook_path": f"{NOTEBOOKS}/01_bronze_ingestion"}},
    {
        "task_key": "silver",
        "depends_on": [{"task_key": "bronze"}],
        "notebook_task": {"notebook_path": f"{NOTEBOOKS}/02_silver_transformations"},
    },
    {
        "task_key": "gold",
        "depends_on": [{"task_key": "silver"}],
        "notebook_task": {"notebook_path": f"{NOTEBOOKS}/03_gold_aggregations"},
    },
    {
        "task_key": "train_ranker",
        "depends_on": [{"task_key": "gold"}],
        "notebook_task": {"notebook_path": f"{NOTEBOOKS}/04_train_ranker"},
    },
]
for task in JOB_TASKS:
    task["existing_cluster_id"] = "0101-000000-flowtype"


@pytest.fixture
def server() -> Iterator[JobsApiServer]:
    with JobsApiServer() as running:
        yield running


@pytest.fixture
def runner(server: JobsApiServer, tmp_path: Path) -> DatabricksJobsRunner:
    job_id = server.add_job("flowtype-pipeline", JOB_TASKS)
    settings = Settings(
        data_dir=tmp_path / "data",
        runner="databricks",
        strict=False,
        databricks=DatabricksSettings(server_url=server.base_url, token=server.token, job_id=str(job_id)),
    )
    built = open_runner(settings)
    assert isinstance(built, DatabricksJobsRunner)
    return built


def watch(runner: DatabricksJobsRunner, run_id: str, limit: int = 40) -> list[dict[str, str]]:
    """Poll until the run ends; each poll's task states (the server moves one step per poll)."""
    seen = []
    for _ in range(limit):
        record = runner.status(run_id)
        seen.append({t.name: t.state for t in record.tasks})
        if record.is_final:
            return seen
    raise AssertionError(f"run {run_id} did not finish in {limit} polls: {seen[-1]}")


def test_run_all_moves_through_task_states_to_success(
    runner: DatabricksJobsRunner, server: JobsApiServer
) -> None:
    started = runner.start("all")
    assert started.external_id is not None

    seen = [{t.name: t.state for t in started.tasks}, *watch(runner, started.run_id)]

    for task in ("bronze", "silver", "gold", "train_ranker"):
        states = [poll[task] for poll in seen]
        assert states.index("pending") < states.index("running") < states.index("succeeded")
    final = runner.status(started.run_id)
    assert final.state == "succeeded" and final.error is None
    assert final.url == f"{server.base_url}/?o=1234567890123456#job/{runner.job_id}/run/{final.external_id}"
    assert all(t.seconds is not None and t.seconds > 0 and t.url for t in final.tasks)
    (call,) = server.calls("run-now")
    assert call.body["job_id"] == runner.job_id
    assert call.authorization == f"Bearer {server.token}"
    assert [r.run_id for r in runner.runs()] == [started.run_id]  # kept for the history view


def test_a_failed_task_reports_its_message_and_skips_the_rest(
    runner: DatabricksJobsRunner, server: JobsApiServer
) -> None:
    server.script("silver", outcome="FAILED", message="expectation press_time_integer failed on 3 rows")
    started = runner.start("all")

    watch(runner, started.run_id)

    final = runner.status(started.run_id)
    assert final.state == "failed"
    assert [t.state for t in final.tasks] == ["succeeded", "failed", "cancelled", "cancelled"]
    assert final.task("silver").error == "expectation press_time_integer failed on 3 rows"
    assert final.task("gold").error == "Upstream task(s) failed."
    assert "Task silver failed with message: expectation press_time_integer failed on 3 rows" in final.error


def test_cancel_ends_the_run_cancelled(runner: DatabricksJobsRunner, server: JobsApiServer) -> None:
    server.script("bronze", outcome=HANG)
    started = runner.start("all")
    while runner.status(started.run_id).task("bronze").state != "running":
        pass  # each poll advances the server one step; HANG keeps bronze running

    runner.cancel(started.run_id)
    watch(runner, started.run_id)

    final = runner.status(started.run_id)
    assert final.state == "cancelled"
    assert [t.state for t in final.tasks] == ["cancelled"] * 4
    assert len(server.calls("runs/cancel")) == 1


def test_one_layer_is_submitted_with_the_jobs_own_notebook_and_runs_it(
    runner: DatabricksJobsRunner, server: JobsApiServer, store_copy: Callable[..., Path]
) -> None:
    data_dir = store_copy(2)

    def run_layer(context: TaskContext) -> object:  # what the notebook does on the cluster
        return LAYERS[context.task_key](local_context(data_dir)).to_dict()

    server.script("bronze", action=run_layer)
    started = runner.start("bronze")
    watch(runner, started.run_id)

    final = runner.status(started.run_id)
    assert final.state == "succeeded"
    (submit,) = server.calls("runs/submit")
    (task,) = submit.body["tasks"]
    assert task["notebook_task"]["notebook_path"] == f"{NOTEBOOKS}/01_bronze_ingestion"
    assert task["existing_cluster_id"] == "0101-000000-flowtype"
    assert "depends_on" not in task
    assert server.output(int(final.external_id), "bronze")["rows_written"] > 0
    assert local_context(data_dir).catalog.version("bronze_keystrokes") == 0


def test_training_is_submitted_watched_and_its_failure_reported(
    runner: DatabricksJobsRunner, server: JobsApiServer, store_copy: Callable[..., Path]
) -> None:
    data_dir = store_copy(4)
    run_targets(["bronze", "silver", "gold"], local_context(data_dir))

    def train(context: TaskContext) -> object:  # what 04_train_ranker does on the cluster
        return LAYERS[context.task_key](local_context(data_dir)).to_dict()

    server.script("train_ranker", action=train)
    started = runner.start("train_ranker")
    seen = [poll["train_ranker"] for poll in watch(runner, started.run_id)]

    assert seen[0] == "running" and seen[-1] == "succeeded"
    (submit,) = server.calls("runs/submit")
    assert submit.body["tasks"][0]["notebook_task"]["notebook_path"] == f"{NOTEBOOKS}/04_train_ranker"
    trained = server.output(int(started.external_id), "train_ranker")["details"]
    assert trained["trained"] is True and 0 < trained["ndcg@5"] <= 1

    server.script("train_ranker", outcome="FAILED", message="LightGBMError: no typist has 5 sentences")
    failed = runner.start("train_ranker")
    watch(runner, failed.run_id)
    final = runner.status(failed.run_id)
    assert final.state == "failed"
    assert final.task("train_ranker").error == "LightGBMError: no typist has 5 sentences"
