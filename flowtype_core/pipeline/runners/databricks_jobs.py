"""Runs pipeline targets as Databricks jobs through the Jobs API (`databricks-sdk`).

`all` runs the deployed job (`databricks.yml`: bronze -> silver -> gold -> train_ranker) with
`run-now`; one layer is submitted as a one-time run of that job's own task (same notebook, same
compute) with `runs/submit`. `status` polls `runs/get` and maps each task's life cycle and result
onto the runner states; records are kept like the local runner's, with the run page URL.

The job works on the configured Unity Catalog volume (passed as the notebooks' parameters): a run
that starts with bronze first uploads the new or changed session files there, and once a run that
trained the ranker succeeds, its model is downloaded into `<data-dir>/models` for the app.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any

from flowtype_core.config import Settings
from flowtype_core.errors import ConfigError, FlowTypeError
from flowtype_core.pipeline.plan import plan
from flowtype_core.pipeline.runners.base import (
    CANCELLED,
    FAILED,
    PENDING,
    RUNNING,
    SUCCEEDED,
    Runner,
    RunRecord,
    RunStore,
    TaskRecord,
    new_run_id,
)
from flowtype_core.pipeline.runners.volume_files import Volume, download_model, upload_sessions
from flowtype_core.ranker.model import ModelRegistry, models_dir_of
from flowtype_core.redaction import redact
from flowtype_core.workspace.auth import workspace_client
from flowtype_core.workspace.settings import workspace_problems

_WAITING = {"PENDING", "QUEUED", "BLOCKED", "WAITING_FOR_RETRY"}
_GOING = {"RUNNING", "TERMINATING"}
_CANCELLED_RESULTS = {"CANCELED", "UPSTREAM_CANCELED", "EXCLUDED", "DISABLED"}


def runner_state(state: Any) -> str:
    """Our state for a Jobs API `RunState` (run or task)."""
    if state is None or state.life_cycle_state is None:
        return PENDING
    life = state.life_cycle_state.value
    result = state.result_state.value if state.result_state is not None else None
    if life in _WAITING:
        return PENDING
    if life in _GOING:
        return RUNNING
    if result in ("SUCCESS", "SUCCESS_WITH_FAILURES"):
        return SUCCEEDED
    if result in _CANCELLED_RESULTS or life == "SKIPPED":
        return CANCELLED
    return FAILED


def _iso(epoch_ms: int | None) -> str | None:
    if not epoch_ms:
        return None
    return datetime.fromtimestamp(epoch_ms / 1000, UTC).isoformat(timespec="milliseconds")


class DatabricksJobsRunner(Runner):
    """The configured job (`DATABRICKS_JOB_ID`) on the configured workspace."""

    name = "databricks"

    @classmethod
    def settings_problems(cls, settings: Settings) -> list[str]:
        return workspace_problems(settings.databricks)

    def __init__(self, settings: Settings) -> None:
        super().__init__(RunStore(settings.data_dir))
        db = settings.databricks
        if not db.job_id:
            raise ConfigError(
                "DATABRICKS_JOB_ID is not set: deploy the bundle (`databricks bundle deploy`) and set it to "
                "the id of the flowtype pipeline job, or use FLOWTYPE_RUNNER=local"
            )
        self.job_id = int(db.job_id)
        self.data_dir = settings.data_dir
        self.volume = Volume.of(db)
        self.client = workspace_client(db)

    def _job_task(self, task_key: str) -> dict[str, Any]:
        """The job's own definition of one task, as a one-time-run task (no dependencies)."""
        job = self.client.jobs.get(self.job_id)
        settings = job.settings
        tasks = {t.task_key: t.as_dict() for t in (settings.tasks or [])}
        if task_key not in tasks:
            raise ConfigError(f"job {self.job_id} has no task {task_key!r} (it has {', '.join(tasks)})")
        task = {k: v for k, v in tasks[task_key].items() if k not in ("depends_on", "job_cluster_key")}
        if "notebook_task" in task:
            notebook = task["notebook_task"]
            notebook["base_parameters"] = {**notebook.get("base_parameters", {}), **self.volume.parameters()}
        cluster_key = tasks[task_key].get("job_cluster_key")
        if cluster_key:
            clusters = {c.job_cluster_key: c.new_cluster for c in (settings.job_clusters or [])}
            task["new_cluster"] = clusters[cluster_key].as_dict()
        return task

    def start(self, target: str) -> RunRecord:
        from databricks.sdk.service import jobs

        tasks = plan(target)
        record = RunRecord(new_run_id(), self.name, target, [TaskRecord(t) for t in tasks])
        if "bronze" in tasks:  # bronze reads the volume's copy of the session files
            record.details["upload"] = upload_sessions(
                self.client.files, self.data_dir, self.volume
            ).to_dict()
        if target == "all":
            waiter = self.client.jobs.run_now(
                job_id=self.job_id, job_parameters=self.volume.parameters(), idempotency_token=record.run_id
            )
        else:
            (task_key,) = tasks
            job = self.client.jobs.get(self.job_id)
            waiter = self.client.jobs.submit(
                run_name=f"flowtype {task_key} ({record.run_id})",
                tasks=[jobs.SubmitTask.from_dict(self._job_task(task_key))],
                environments=job.settings.environments,
                idempotency_token=record.run_id,
            )
        record.external_id = str(waiter.run_id)
        self.store.save(record)
        return record

    def status(self, run_id: str) -> RunRecord:
        record = self.store.load(run_id)
        if record.is_final or record.external_id is None:
            return record
        run = self.client.jobs.get_run(int(record.external_id))
        record.url = run.run_page_url
        record.state = runner_state(run.state)
        record.started_at = record.started_at or _iso(run.start_time)
        if record.is_final:
            record.ended_at = _iso(run.end_time) or record.ended_at
            if record.state != SUCCEEDED and run.state is not None:
                record.error = redact(run.state.state_message or "") or None
        known = {t.name: t for t in record.tasks}
        record.tasks = [
            self._task(known.get(t.task_key) or TaskRecord(t.task_key), t) for t in run.tasks or []
        ]
        if record.state == SUCCEEDED and "train_ranker" in plan(record.target):
            try:
                record.details["model"] = self.sync_models()
            except FlowTypeError as exc:  # the run still succeeded; the Ranker page fetches again
                record.details["model"] = {"error": str(exc)}
        self.store.save(record)
        return record

    def sync_models(self) -> dict[str, Any]:
        """Download the newest model the job registered on the volume, unless it is here already."""
        registry = ModelRegistry(models_dir_of(self.data_dir))
        return download_model(self.client.files, self.volume, registry).to_dict()

    def _task(self, task: TaskRecord, remote: Any) -> TaskRecord:
        task.state = runner_state(remote.state)
        task.url = remote.run_page_url
        task.started_at = _iso(remote.start_time)
        task.ended_at = _iso(remote.end_time)
        if remote.end_time and remote.start_time:
            task.seconds = round((remote.end_time - remote.start_time) / 1000, 3)
        if task.state in (FAILED, CANCELLED) and remote.state is not None:
            task.error = redact(remote.state.state_message or "") or None
        if task.state == SUCCEEDED and not task.details and remote.run_id:
            self._read_output(task, remote.run_id)
        return task

    def _read_output(self, task: TaskRecord, task_run_id: int) -> None:
        """Counts a layer notebook reported with `dbutils.notebook.exit(json)`, when available."""
        from databricks.sdk.errors import DatabricksError

        with contextlib.suppress(DatabricksError, ValueError, TypeError):
            output = self.client.jobs.get_run_output(task_run_id)
            result = json.loads(output.notebook_output.result) if output.notebook_output else None
            if isinstance(result, dict):
                for name in ("rows_in", "rows_written", "quarantined"):
                    setattr(task, name, result.get(name))
                task.details = result.get("details") or {}

    def cancel(self, run_id: str) -> RunRecord:
        record = self.store.load(run_id)
        if record.is_final or record.external_id is None:
            return record
        self.client.jobs.cancel_run(int(record.external_id))
        return self.status(run_id)
