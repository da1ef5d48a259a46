"""The local Jobs API server, driven by the real databricks-sdk client over a socket."""

from __future__ import annotations

import io
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import timedelta

import pytest
from databricks.sdk import WorkspaceClient
from databricks.sdk.errors import (
    AlreadyExists,
    InternalError,
    InvalidParameterValue,
    NotFound,
    PermissionDenied,
    ResourceDoesNotExist,
)
from databricks.sdk.service.jobs import NotebookTask, Run, SubmitTask

from tests.support.jobs_api_server import (
    BLOCKED,
    CANCELED,
    FAILED,
    HANG,
    PENDING,
    RUNNING,
    SKIPPED,
    SUCCESS,
    TERMINATED,
    TERMINATING,
    UPSTREAM_CANCELED,
    UPSTREAM_FAILED,
    JobsApiServer,
    TaskContext,
    task_states,
)

LAYERS = ["bronze", "silver", "gold", "train_ranker"]
NOTEBOOKS = {
    "bronze": "01_bronze",
    "silver": "02_silver",
    "gold": "03_gold",
    "train_ranker": "04_train_ranker",
}
PIPELINE_TASKS = [
    {
        "task_key": key,
        "notebook_task": {"notebook_path": f"/Workspace/flowtype/notebooks/{NOTEBOOKS[key]}"},
        **({"depends_on": [{"task_key": LAYERS[i - 1]}]} if i else {}),
    }
    for i, key in enumerate(LAYERS)
]
MAX_POLLS = 50


@pytest.fixture
def server() -> Iterator[JobsApiServer]:
    with JobsApiServer() as srv:
        yield srv


@pytest.fixture
def client(server: JobsApiServer) -> WorkspaceClient:
    return WorkspaceClient(host=server.base_url, token=server.token, auth_type="pat")


@pytest.fixture
def job_id(server: JobsApiServer) -> int:
    return server.add_job("flowtype-pipeline", PIPELINE_TASKS)


def poll_to_end(client: WorkspaceClient, run_id: int) -> tuple[Run, dict[str, list[str]]]:
    """Poll like the Pipeline page does; returns the final run and each task's observed states."""
    seen: dict[str, list[str]] = {"run": []}
    for _ in range(MAX_POLLS):
        run = client.jobs.get_run(run_id)
        for key, value in [("run", run.state)] + [(task.task_key, task.state) for task in run.tasks]:
            life = value.life_cycle_state.value
            if not seen.setdefault(key, []) or seen[key][-1] != life:
                seen[key].append(life)
        if run.state.life_cycle_state.value == TERMINATED:
            return run, seen
    raise AssertionError(f"run {run_id} did not terminate in {MAX_POLLS} polls: {seen}")


def by_key(run: Run) -> dict[str, tuple[str, str | None, str | None]]:
    return {
        task.task_key: (
            task.state.life_cycle_state.value,
            task.state.result_state.value if task.state.result_state else None,
            task.state.state_message,
        )
        for task in run.tasks
    }


def test_run_now_walks_every_task_through_its_states_in_dependency_order(
    server: JobsApiServer, client: WorkspaceClient, job_id: int
) -> None:
    definition = client.jobs.get(job_id)
    assert [t.task_key for t in definition.settings.tasks] == LAYERS
    assert definition.settings.tasks[3].depends_on[0].task_key == "gold"

    server.steps_per_poll = 0  # first look before anything moved
    run_id = client.jobs.run_now(job_id=job_id).run_id
    fresh = client.jobs.get_run(run_id)
    assert fresh.state.life_cycle_state.value == PENDING
    assert fresh.status.state.value == PENDING
    assert by_key(fresh)["bronze"] == (PENDING, None, "")
    assert task_states(server.run(run_id))["silver"] == (BLOCKED, None)

    server.steps_per_poll = 1
    run, seen = poll_to_end(client, run_id)

    assert seen["run"] == [RUNNING, TERMINATING, TERMINATED]
    assert seen["bronze"] == [RUNNING, TERMINATING, TERMINATED]
    for key in LAYERS[1:]:
        assert seen[key] == [BLOCKED, PENDING, RUNNING, TERMINATING, TERMINATED]
    assert run.state.result_state.value == SUCCESS
    assert run.status.termination_details.code.value == "SUCCESS"
    tasks = {task.task_key: task for task in run.tasks}
    for upstream, downstream in zip(LAYERS, LAYERS[1:], strict=False):
        assert tasks[downstream].start_time >= tasks[upstream].end_time > tasks[upstream].start_time
    assert run.end_time > run.start_time
    assert run.run_page_url == f"{server.base_url}/?o=1234567890123456#job/{job_id}/run/{run_id}"
    assert tasks["gold"].run_page_url.endswith(f"/run/{tasks['gold'].run_id}")
    assert tasks["gold"].notebook_task.notebook_path.endswith("03_gold")
    assert server.calls("run-now")[0].body == {"job_id": job_id}
    assert server.calls("run-now")[0].path == "/api/2.2/jobs/run-now"


def test_submit_runs_one_notebook_task_and_its_action(server: JobsApiServer, client: WorkspaceClient) -> None:
    calls: list[TaskContext] = []
    server.script("silver", action=lambda context: calls.append(context) or {"rows_out": 42})
    server.steps_per_poll = 10

    waiter = client.jobs.submit(
        run_name="flowtype silver",
        tasks=[
            SubmitTask(
                task_key="silver",
                notebook_task=NotebookTask(
                    notebook_path="/Workspace/flowtype/notebooks/02_silver",
                    base_parameters={"catalog": "main", "full_refresh": "false"},
                ),
            )
        ],
    )
    run = waiter.result(timeout=timedelta(seconds=60))

    assert run.state.result_state.value == SUCCESS
    assert run.run_type.value == "SUBMIT_RUN"
    assert [(c.run_id, c.task_key, c.parameters) for c in calls] == [
        (waiter.run_id, "silver", {"catalog": "main", "full_refresh": "false"})
    ]
    assert server.output(waiter.run_id, "silver") == {"rows_out": 42}
    body = server.calls("runs/submit")[0].body
    assert body["tasks"][0]["notebook_task"]["notebook_path"].endswith("02_silver")


def test_failed_task_reports_its_message_and_its_dependents_never_run(
    server: JobsApiServer, client: WorkspaceClient, job_id: int
) -> None:
    server.script("gold", outcome=FAILED, message="3 sections have negative hold times")

    run, seen = poll_to_end(client, client.jobs.run_now(job_id=job_id).run_id)

    assert run.state.result_state.value == FAILED
    assert run.state.state_message == (
        "Task gold failed with message: 3 sections have negative hold times. "
        "This caused all downstream tasks to get skipped."
    )
    assert run.status.termination_details.code.value == "RUN_EXECUTION_ERROR"
    states = by_key(run)
    assert states["silver"] == (TERMINATED, SUCCESS, "")
    assert states["gold"] == (TERMINATED, FAILED, "3 sections have negative hold times")
    assert states["train_ranker"][:2] == (SKIPPED, UPSTREAM_FAILED)
    assert RUNNING not in seen["train_ranker"]
    gold = next(task for task in run.tasks if task.task_key == "gold")
    assert gold.status.termination_details.message == "3 sections have negative hold times"


def test_an_action_that_raises_fails_its_task(
    server: JobsApiServer, client: WorkspaceClient, job_id: int
) -> None:
    def broken_bronze(context: TaskContext) -> None:
        raise ValueError(f"no source files for run {context.run_id}")

    server.script("bronze", action=broken_bronze)
    run, _ = poll_to_end(client, client.jobs.run_now(job_id=job_id).run_id)

    states = by_key(run)
    assert states["bronze"] == (TERMINATED, FAILED, f"ValueError: no source files for run {run.run_id}")
    assert {states[key][:2] for key in LAYERS[1:]} == {(SKIPPED, UPSTREAM_FAILED)}
    assert isinstance(server.output(run.run_id, "bronze"), ValueError)


def test_cancel_of_a_running_run_ends_canceled(
    server: JobsApiServer, client: WorkspaceClient, job_id: int
) -> None:
    server.script("silver", outcome=HANG)
    run_id = client.jobs.run_now(job_id=job_id).run_id
    for _ in range(12):  # far more steps than silver needs: it hangs
        client.jobs.get_run(run_id)
    assert task_states(server.run(run_id))["silver"] == (RUNNING, None)

    server.steps_per_poll = 5
    run = client.jobs.cancel_run(run_id).result(timeout=timedelta(seconds=60))

    assert run.state.life_cycle_state.value == TERMINATED
    assert run.state.result_state.value == CANCELED
    assert run.state.user_cancelled_or_timedout is True
    states = by_key(run)
    assert states["bronze"][:2] == (TERMINATED, SUCCESS)
    assert states["silver"][:2] == (TERMINATED, CANCELED)
    assert states["gold"][:2] == states["train_ranker"][:2] == (SKIPPED, UPSTREAM_CANCELED)
    assert server.calls("runs/cancel")[0].body == {"run_id": run_id}
    client.jobs.cancel_run(run_id)  # cancelling a finished run is accepted and changes nothing
    assert server.run(run_id)["state"]["result_state"] == CANCELED


def test_waiter_calls_back_while_running_then_returns_the_terminated_run(
    server: JobsApiServer, client: WorkspaceClient, job_id: int
) -> None:
    server.steps_per_poll = 7  # 13 steps to the end: the waiter sees RUNNING once, then TERMINATED
    observed: list[str] = []

    run = client.jobs.run_now(job_id=job_id).result(
        timeout=timedelta(seconds=60), callback=lambda r: observed.append(r.state.life_cycle_state.value)
    )

    assert observed == [RUNNING]
    assert run.state.result_state.value == SUCCESS
    assert len(server.calls("runs/get")) == 2


def test_waiter_times_out_on_a_hanging_task(
    server: JobsApiServer, client: WorkspaceClient, job_id: int
) -> None:
    server.script("bronze", outcome=HANG)
    with pytest.raises(TimeoutError, match="timed out"):
        client.jobs.run_now(job_id=job_id).result(timeout=timedelta(seconds=1))


def test_only_runs_the_named_tasks_and_idempotency_token_reuses_the_run(
    server: JobsApiServer, client: WorkspaceClient, job_id: int
) -> None:
    first = client.jobs.run_now(job_id=job_id, only=["silver"], idempotency_token="resubmit-1").run_id
    again = client.jobs.run_now(job_id=job_id, only=["silver"], idempotency_token="resubmit-1").run_id
    assert again == first

    run, _ = poll_to_end(client, first)
    assert by_key(run) == {"silver": (TERMINATED, SUCCESS, "")}


def test_wrong_token_and_unknown_ids_are_errors(
    server: JobsApiServer, client: WorkspaceClient, job_id: int
) -> None:
    intruder = WorkspaceClient(host=server.base_url, token="not-the-token", auth_type="pat")
    with pytest.raises(PermissionDenied, match="Invalid access token"):
        intruder.jobs.run_now(job_id=job_id)
    assert server.calls("run-now")[-1].authorization == "Bearer not-the-token"
    assert not server.calls("runs/get")

    with pytest.raises(InvalidParameterValue, match="Job 999 does not exist"):
        client.jobs.run_now(job_id=999)
    # The SDK turns these 400s into ResourceDoesNotExist from their message, as for real Databricks.
    with pytest.raises(ResourceDoesNotExist, match="Run 999 does not exist"):
        client.jobs.get_run(999)
    with pytest.raises(ResourceDoesNotExist, match="Job 999 does not exist"):
        client.jobs.get(999)


@pytest.mark.parametrize("version", ["2.1", "2.2"])
def test_both_api_versions_answer(server: JobsApiServer, job_id: int, version: str) -> None:
    def call(path: str, token: str = server.token) -> tuple[int, dict]:
        request = urllib.request.Request(
            f"{server.base_url}{path}", headers={"Authorization": f"Bearer {token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as reply:
                return reply.status, json.load(reply)
        except urllib.error.HTTPError as err:
            return err.code, json.load(err)

    status, job = call(f"/api/{version}/jobs/get?job_id={job_id}")
    assert (status, job["settings"]["name"]) == (200, "flowtype-pipeline")
    assert call(f"/api/{version}/jobs/list") == (
        404,
        {"error_code": "ENDPOINT_NOT_FOUND", "message": f"No API found for 'GET /api/{version}/jobs/list'"},
    )
    assert call(f"/api/{version}/jobs/get?job_id={job_id}", token="")[0] == 403


def test_a_malformed_request_gets_an_error_reply_not_a_dropped_connection(
    server: JobsApiServer, client: WorkspaceClient
) -> None:
    malformed = {"tasks": [{"task_key": "a"}, {"task_key": "b", "depends_on": [{}]}]}
    with pytest.raises(InternalError, match="KeyError"):
        client.api_client.do("POST", "/api/2.2/jobs/runs/submit", body=malformed)
    assert len(server.calls("runs/submit")) == 1  # answered once, not retried


def test_files_round_trip_through_the_sdk_byte_for_byte(
    server: JobsApiServer, client: WorkspaceClient
) -> None:
    root = server.volumes.add_volume("main", "flowtype", "staging")
    payload = bytes(range(256)) * 40  # not UTF-8, not JSON: sent and stored as raw bytes
    client.files.create_directory(f"{root}/sessions/p 1/s1")
    client.files.upload(f"{root}/sessions/p 1/s1/keystrokes.csv", io.BytesIO(payload), overwrite=True)

    assert server.volumes.files[f"{root}/sessions/p 1/s1/keystrokes.csv"].data == payload
    (folder,) = client.files.list_directory_contents(f"{root}/sessions")
    assert (folder.name, folder.is_directory) == ("p 1", True)
    (entry,) = client.files.list_directory_contents(f"{root}/sessions/p 1/s1")
    assert (entry.name, entry.is_directory, entry.file_size) == ("keystrokes.csv", False, len(payload))
    assert client.files.download(entry.path).contents.read() == payload  # through a presigned link
    assert [r.method for r in server.requests if r.path.startswith("/presigned/")] == ["GET"]

    server.volumes.presigned = False  # the SDK falls back to GET /api/2.0/fs/files
    assert client.files.download(entry.path).contents.read() == payload
    assert server.requests[-1].method == "GET" and server.requests[-1].path.startswith("/api/2.0/fs/files/")


def test_files_errors_come_back_as_sdk_errors(server: JobsApiServer, client: WorkspaceClient) -> None:
    root = server.volumes.add_volume("main", "flowtype", "staging")
    with pytest.raises(NotFound, match="parent directory"):
        client.files.upload(f"{root}/missing/a.csv", io.BytesIO(b"a"), overwrite=True)
    with pytest.raises(NotFound, match="Volume for path"):
        client.files.create_directory("/Volumes/main/flowtype/other/x")
    with pytest.raises(NotFound, match="does not exist"):
        list(client.files.list_directory_contents(f"{root}/models"))

    client.files.upload(f"{root}/a.csv", io.BytesIO(b"first"), overwrite=True)
    with pytest.raises(AlreadyExists):
        client.files.upload(f"{root}/a.csv", io.BytesIO(b"second"), overwrite=False)
    server.volumes.fail(f"{root}/a.csv", "storage is read-only today")
    with pytest.raises(InternalError, match="read-only"):
        client.files.upload(f"{root}/a.csv", io.BytesIO(b"third"), overwrite=True)
    client.files.upload(f"{root}/a.csv", io.BytesIO(b"fourth"), overwrite=True)  # the failure was once
    assert server.volumes.files[f"{root}/a.csv"].data == b"fourth"

    intruder = WorkspaceClient(host=server.base_url, token="not-the-token", auth_type="pat")
    with pytest.raises(PermissionDenied):
        intruder.files.upload(f"{root}/a.csv", io.BytesIO(b"x"), overwrite=True)
    assert server.volumes.files[f"{root}/a.csv"].data == b"fourth"
