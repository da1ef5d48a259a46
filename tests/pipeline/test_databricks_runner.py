"""DatabricksJobsRunner with the real databricks-sdk against a local Jobs and Files API server."""

from __future__ import annotations

import json
import logging
import runpy
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from flowtype_core import redaction
from flowtype_core.accounts import AccountStore
from flowtype_core.cli.pipeline import summary
from flowtype_core.config import DatabricksSettings, Settings
from flowtype_core.pipeline import local_context, run_targets
from flowtype_core.pipeline.layers import LAYERS, PipelineContext
from flowtype_core.pipeline.runners import open_runner
from flowtype_core.pipeline.runners.base import RunRecord
from flowtype_core.pipeline.runners.databricks_jobs import DatabricksJobsRunner
from flowtype_core.pipeline.runners.volume_files import MANIFEST, MANIFEST_DIR, VolumeTransferError
from flowtype_core.pipeline.tables import SOURCES
from flowtype_core.ranker.model import ModelRegistry
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
VOLUME = {"catalog": "main", "schema": "flowtype", "volume": "flowtype_staging"}  # the settings' defaults
PAGES = Path(__file__).resolve().parents[2] / "pages"
NOTEBOOK_FILES = Path(__file__).resolve().parents[2] / "notebooks"


@pytest.fixture
def server() -> Iterator[JobsApiServer]:
    with JobsApiServer() as running:
        yield running


@pytest.fixture
def runner(server: JobsApiServer, tmp_path: Path) -> DatabricksJobsRunner:
    job_id = server.add_job("flowtype-pipeline", JOB_TASKS, parameters=VOLUME)
    server.volumes.add_volume(*VOLUME.values())
    settings = Settings(
        data_dir=tmp_path / "data",
        runner="databricks",
        strict=False,
        databricks=DatabricksSettings(server_url=server.base_url, token=server.token, job_id=str(job_id)),
    )
    built = open_runner(settings)
    assert isinstance(built, DatabricksJobsRunner)
    return built


def poll_until(
    runner: DatabricksJobsRunner, run_id: str, done: Callable[[RunRecord], bool], limit: int = 40
) -> list[dict[str, str]]:
    """Poll until `done(record)`; each poll's task states. The server moves one step per poll, so
    `limit` polls is the deadline (no wall clock): a run that never gets there fails the test."""
    seen = []
    for _ in range(limit):
        record = runner.status(run_id)
        seen.append({t.name: t.state for t in record.tasks})
        if done(record):
            return seen
    raise AssertionError(f"run {run_id} did not get there in {limit} polls: {seen[-1] if seen else None}")


def watch(runner: DatabricksJobsRunner, run_id: str, limit: int = 40) -> list[dict[str, str]]:
    """Poll until the run ends (at most `limit` polls)."""
    return poll_until(runner, run_id, lambda record: record.is_final, limit)


class NotebookUtils:
    """`dbutils` as a job's notebook sees it, for running a notebook's own code here: widgets
    answer the task's `base_parameters` (else their default) and `notebook.exit` hands the value to
    the job as the task's output (https://docs.databricks.com/aws/en/dev-tools/databricks-utils)."""

    def __init__(self, parameters: dict[str, str]) -> None:
        self.exit_value: str | None = None
        self._values = dict(parameters)
        self.widgets = SimpleNamespace(text=self._text, get=self._values.__getitem__)
        self.notebook = SimpleNamespace(exit=self._exit)

    def _text(self, name: str, default: str, label: str | None = None) -> None:
        self._values.setdefault(name, default)

    def _exit(self, value: str) -> None:
        self.exit_value = value


def run_notebook(context: TaskContext) -> str:
    """What the cluster does with a notebook task: run that notebook's own file; its exit value."""
    path = NOTEBOOK_FILES / (Path(context.task["notebook_task"]["notebook_path"]).name + ".py")
    dbutils = NotebookUtils(context.task["notebook_task"].get("base_parameters", {}))
    runpy.run_path(str(path), init_globals={"dbutils": dbutils}, run_name="__main__")
    assert dbutils.exit_value is not None, f"{path.name} did not call dbutils.notebook.exit"
    return dbutils.exit_value


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
    # Each poll advances the server one step; HANG keeps bronze running.
    poll_until(runner, started.run_id, lambda record: record.task("bronze").state == "running")

    runner.cancel(started.run_id)
    watch(runner, started.run_id)

    final = runner.status(started.run_id)
    assert final.state == "cancelled"
    assert [t.state for t in final.tasks] == ["cancelled"] * 4
    assert len(server.calls("runs/cancel")) == 1


def test_one_layer_is_submitted_with_the_jobs_own_notebook_and_runs_it(
    runner: DatabricksJobsRunner,
    server: JobsApiServer,
    store_copy: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data_dir = store_copy(2)
    monkeypatch.setenv("FLOWTYPE_DATA_DIR", str(data_dir))  # the notebook's laptop branch reads it
    monkeypatch.chdir(NOTEBOOK_FILES)  # where Databricks runs a notebook from
    server.script("bronze", action=run_notebook)  # the notebook file the task names, its own code

    started = runner.start("bronze")
    watch(runner, started.run_id)

    final = runner.status(started.run_id)
    assert final.state == "succeeded"
    (submit,) = server.calls("runs/submit")
    (task,) = submit.body["tasks"]
    assert task["notebook_task"]["notebook_path"] == f"{NOTEBOOKS}/01_bronze_ingestion"
    assert task["existing_cluster_id"] == "0101-000000-flowtype"
    assert "depends_on" not in task
    exited = json.loads(server.output(int(final.external_id), "bronze"))
    assert exited["layer"] == "bronze" and exited["rows_written"] > 0
    catalog = local_context(data_dir).catalog
    written = sum(catalog.to_polars(catalog.scan(t)).height for t in exited["tables"])
    assert exited["rows_written"] == written  # what the notebook reported is what it wrote
    # The runner read the notebook's exit value back through `runs/get-output`.
    bronze = final.task("bronze")
    assert (bronze.rows_in, bronze.rows_written) == (exited["rows_in"], exited["rows_written"])
    assert server.calls("runs/get-output")


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


# -- session files to the volume, models back ----------------------------------------------------
def session_files(data_dir: Path) -> dict[str, bytes]:
    """The store's session CSVs that bronze reads (keystrokes, sections), by their path on the volume."""
    root = "/Volumes/main/flowtype/flowtype_staging"
    read = {source.file_name for source in SOURCES}
    return {
        f"{root}/{p.relative_to(data_dir).as_posix()}": p.read_bytes()
        for p in data_dir.glob("sessions/*/*/*.csv")
        if p.name in read
    }


def uploads(server: JobsApiServer) -> list[str]:
    return [r.path for r in server.requests if r.method == "PUT" and r.path.startswith("/api/2.0/fs/files/")]


def stored(server: JobsApiServer) -> dict[str, bytes]:
    return {path: f.data for path, f in server.volumes.files.items()}


def test_bronze_uploads_new_and_changed_session_files_and_nothing_twice(
    runner: DatabricksJobsRunner, server: JobsApiServer, store_copy: Callable[..., Path]
) -> None:
    data_dir = store_copy(2)
    local = session_files(data_dir)

    first = runner.start("bronze")

    assert stored(server) == local  # byte-identical copies where the bronze notebook reads
    assert first.details["upload"] == {
        "destination": "/Volumes/main/flowtype/flowtype_staging/sessions",
        "files": len(local),
        "bytes": sum(map(len, local.values())),
        "unchanged": 0,
    }
    (submit,) = server.calls("runs/submit")  # the notebook is told which volume to read
    assert submit.body["tasks"][0]["notebook_task"]["base_parameters"] == VOLUME
    sent = len(uploads(server))

    again = runner.start("all")
    assert uploads(server)[sent:] == []
    assert again.details["upload"]["files"] == 0 and again.details["upload"]["unchanged"] == len(local)
    assert server.calls("run-now")[0].body["job_parameters"] == VOLUME
    assert (
        summary(runner.store.load(again.run_id))["details"]["upload"]["files"] == 0
    )  # `pipeline run --json`

    changed, touched = sorted(data_dir.glob("sessions/*/*/sections.csv"))[:2]
    changed.write_bytes(changed.read_bytes() + changed.read_bytes().splitlines(keepends=True)[-1])
    touched.write_bytes(touched.read_bytes())  # a new mtime, the same content: not sent again
    third = runner.start("bronze")
    assert third.details["upload"]["files"] == 1 and uploads(server)[sent:] == [uploads(server)[-1]]
    assert stored(server) == session_files(data_dir)

    runner.start("silver")  # reads no source files: uploads nothing
    assert len(uploads(server)) == sent + 1


def test_a_failed_upload_fails_the_trigger_and_the_next_one_sends_what_is_missing(
    runner: DatabricksJobsRunner,
    server: JobsApiServer,
    store_copy: Callable[..., Path],
    caplog: pytest.LogCaptureFixture,
) -> None:
    redaction.install()  # as the app and the CLI do
    caplog.set_level(logging.DEBUG)
    data_dir = store_copy(2)
    local = session_files(data_dir)
    broken = sorted(local)[len(local) // 2]
    server.volumes.fail(broken, f"storage rejected the write for Authorization: Bearer {server.token}")

    with pytest.raises(VolumeTransferError) as failure:
        runner.start("all")

    message = str(failure.value)
    assert broken.removeprefix("/Volumes/main/flowtype/flowtype_staging/") in message
    assert "storage rejected the write" in message and "sent when the pipeline is triggered again" in message
    assert server.token not in message and server.token not in caplog.text
    assert not server.calls("run-now") and runner.runs() == []  # no run was started
    manifest = json.loads((data_dir / MANIFEST_DIR / MANIFEST).read_text())["files"]
    on_volume = {p.removeprefix("/Volumes/main/flowtype/flowtype_staging/") for p in stored(server)}
    assert set(manifest) == on_volume and broken not in stored(server)

    retried = runner.start("all")

    assert retried.details["upload"]["files"] == len(local) - len(on_volume)
    assert stored(server) == local


def train_on_the_volume(server: JobsApiServer, data_dir: Path, job_models: Path) -> dict[str, object]:
    """What 04_train_ranker does on the cluster: train from gold, register under the volume's models/."""
    models = "/Volumes/main/flowtype/flowtype_staging/models"
    result = LAYERS["train_ranker"](PipelineContext(local_context(data_dir).catalog, data_dir, job_models))
    for path in sorted(job_models.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            server.volumes.put(f"{models}/{path.relative_to(job_models).as_posix()}", path.read_bytes())
    return result.to_dict()


def test_a_model_trained_by_the_job_is_downloaded_once_and_served(
    runner: DatabricksJobsRunner, server: JobsApiServer, store_copy: Callable[..., Path], tmp_path: Path
) -> None:
    data_dir = store_copy(4)
    run_targets(["bronze", "silver", "gold"], local_context(data_dir))
    job_models = tmp_path / "job_models"
    server.script("train_ranker", action=lambda context: train_on_the_volume(server, data_dir, job_models))
    registry = ModelRegistry(data_dir / "models")
    assert registry.current() is None

    started = runner.start("train_ranker")
    watch(runner, started.run_id)

    final = runner.status(started.run_id)
    current = registry.current()
    assert final.state == "succeeded" and current is not None
    assert final.details["model"]["source"] == "/Volumes/main/flowtype/flowtype_staging/models/v0001"
    assert final.details["model"]["version"] == current.version
    for path in (job_models / "v0001").iterdir():
        assert (Path(current.model_path) / path.name).read_bytes() == path.read_bytes()
    assert current.load().score is not None and current.metrics == json.loads(
        (job_models / "v0001" / "metrics.json").read_text()
    )
    requests = len(server.requests)

    assert runner.sync_models() == {**final.details["model"], "files": 0, "bytes": 0}
    assert not [r for r in server.requests[requests:] if r.method == "POST" or "/presigned/" in r.path]
    assert [v.version for v in registry.versions()] == [current.version]

    newer = "/Volumes/main/flowtype/flowtype_staging/models/v0002"  # the job registered another version
    for path in (job_models / "v0001").iterdir():
        server.volumes.put(f"{newer}/{path.name}", path.read_bytes())
    fetched = runner.sync_models()
    assert fetched["source"] == newer and fetched["version"] == registry.current().version != current.version


def test_the_pages_show_the_upload_and_serve_the_jobs_model(
    runner: DatabricksJobsRunner,
    server: JobsApiServer,
    store_copy: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data_dir = store_copy(4)
    run_targets(["bronze", "silver", "gold"], local_context(data_dir))
    train_on_the_volume(server, data_dir, tmp_path / "job_models")
    AccountStore(data_dir).create_user("rita", "correct-horse", role="researcher", name="Rita")
    for name, value in {
        "FLOWTYPE_DATA_DIR": str(data_dir),
        "FLOWTYPE_RUNNER": "databricks",
        "FLOWTYPE_STRICT": "false",
        "FLOWTYPE_DATABRICKS_SERVER_URL": server.base_url,
        "DATABRICKS_TOKEN": server.token,
        "DATABRICKS_JOB_ID": str(runner.job_id),
    }.items():
        monkeypatch.setenv(name, value)
    st.cache_resource.clear()  # the workbench and runner are cached per server: this test has its own
    st.cache_data.clear()

    def page(name: str) -> AppTest:
        at = AppTest.from_file(str(PAGES / name), default_timeout=60)
        at.session_state["flowtype_user"] = AccountStore(data_dir).get("rita")
        return at.run()

    ranker = page("ranker.py")
    assert not ranker.exception, ranker.exception
    current = ModelRegistry(data_dir / "models").current()
    assert current is not None  # fetched from the volume when the page looked for a model
    assert [t.value for t in ranker.toast] == [
        f"Fetched the model /Volumes/main/flowtype/flowtype_staging/models/v0001 as {current.version}"
    ]
    ndcg = next(m for m in ranker.metric if m.label == "NDCG@5, held-out typists")
    assert ndcg.value == f"{current.ndcg5:.3f}"

    pipeline = page("pipeline.py")
    pipeline.selectbox[0].select("all")
    next(b for b in pipeline.button if b.label == "Start").click()
    pipeline.run()
    assert not pipeline.exception, pipeline.exception
    files = len(session_files(data_dir))
    assert any(
        c.value.startswith(
            f"upload: destination /Volumes/main/flowtype/flowtype_staging/sessions, files {files},"
        )
        for c in pipeline.caption
    ), [c.value for c in pipeline.caption]
