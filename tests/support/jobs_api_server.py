"""A local Databricks Jobs API (2.1 and 2.2) for driving the real `databricks-sdk` in tests.

Real Databricks cannot run here, and a mock of the SDK would not catch a wrong field name, a missing
state or a bad URL. This server speaks the wire format the SDK parses, and moves runs through their
states deterministically: each `runs/get` advances the polled run by `steps_per_poll` steps (0 =
only explicit `advance()`), never by wall-clock time. Outcomes are scripted per task key, and a task
can execute a Python callable (for example a notebook's layer function) when it runs.

    with JobsApiServer() as server:
        job_id = server.add_job("pipeline", [{"task_key": "bronze"}, {"task_key": "silver", "depends_on": [...]}])
        server.script("silver", outcome="FAILED", message="expectation failed")
        w = WorkspaceClient(host=server.base_url, token=server.token, auth_type="pat")
        run_id = w.jobs.run_now(job_id=job_id).run_id

One step moves every unfinished task by one transition: BLOCKED (waiting for `depends_on`) ->
PENDING -> RUNNING -> TERMINATING -> TERMINATED, and the run PENDING -> RUNNING -> TERMINATING ->
TERMINATED. Dependents of a task that did not succeed become SKIPPED with UPSTREAM_FAILED (or
UPSTREAM_CANCELED). A cancel moves started tasks to TERMINATING at once; two steps later the run is
TERMINATED / CANCELED. Times come from a per-run logical clock that advances `tick_ms` per step.
Endpoints, fields and states follow the Jobs API reference (https://docs.databricks.com/api/workspace/jobs:
run-now, runs/submit, runs/get with `state.life_cycle_state` / `result_state` and `status`, runs/cancel,
runs/get-output).

The same server holds Unity Catalog volumes behind the Files API (`server.volumes`, see
`files_api.py`), so a test can watch a runner move files and a job read or write them.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.files_api import ApiError, Reply, Volumes

WORKSPACE_ID = "1234567890123456"
CREATOR = "flowtype-tests@example.com"

# Life-cycle states (RunLifeCycleState) and results (RunResultState) as the API spells them.
BLOCKED, PENDING, RUNNING = "BLOCKED", "PENDING", "RUNNING"
TERMINATING, TERMINATED, SKIPPED = "TERMINATING", "TERMINATED", "SKIPPED"
SUCCESS, FAILED, CANCELED = "SUCCESS", "FAILED", "CANCELED"
UPSTREAM_FAILED, UPSTREAM_CANCELED = "UPSTREAM_FAILED", "UPSTREAM_CANCELED"
HANG = "HANG"  # scripted outcome: stay RUNNING until the run is cancelled

FINAL_STATES = (TERMINATED, SKIPPED)
DEFAULT_FAILURE = "Workload failed, see run output for details"
CANCEL_MESSAGE = "Run cancelled by user."
UPSTREAM_MESSAGES = {
    UPSTREAM_FAILED: "Upstream task(s) failed.",
    UPSTREAM_CANCELED: "Upstream task(s) cancelled.",
}
# RunStatus.termination_details (code, type) for each result.
TERMINATION = {
    SUCCESS: ("SUCCESS", "SUCCESS"),
    FAILED: ("RUN_EXECUTION_ERROR", "CLIENT_ERROR"),
    CANCELED: ("USER_CANCELED", "SUCCESS"),
    UPSTREAM_FAILED: ("SKIPPED", "SUCCESS"),
    UPSTREAM_CANCELED: ("SKIPPED", "SUCCESS"),
}
JOBS_PATH = re.compile(r"^/api/2\.[12]/jobs/(?P<endpoint>[a-z/-]+)$")


@dataclass(frozen=True)
class TaskContext:
    """What a scripted action sees: which run and task it executes, with its resolved parameters."""

    run_id: int
    task_key: str
    task: dict[str, Any]
    parameters: dict[str, str]


@dataclass(frozen=True)
class TaskScript:
    """How a task ends: SUCCESS, FAILED (with message) or HANG; `action` runs when the task runs."""

    outcome: str = SUCCESS
    message: str | None = None
    action: Callable[[TaskContext], Any] | None = None


@dataclass(frozen=True)
class RecordedRequest:
    """One request as received, for assertions on what the client actually sent."""

    method: str
    path: str
    query: dict[str, str]
    body: dict[str, Any] | None
    authorization: str | None


@dataclass
class _TaskRun:
    spec: dict[str, Any]
    run_id: int
    life: str
    start_time: int = 0
    end_time: int = 0
    result: str | None = None  # exposed only once the task is final, as the real API does
    message: str = ""
    outcome: tuple[str, str] | None = None  # decided while RUNNING, revealed at TERMINATED

    @property
    def key(self) -> str:
        return self.spec["task_key"]

    @property
    def depends_on(self) -> list[str]:
        return [dep["task_key"] for dep in self.spec.get("depends_on", [])]

    def finish(self, life: str, result: str, message: str, now: int) -> None:
        self.life, self.result, self.message, self.end_time = life, result, message, now
        self.start_time = self.start_time or now


@dataclass
class _Run:
    run_id: int
    job_id: int
    run_name: str
    run_type: str
    tasks: list[_TaskRun]  # topological order (runs/get lists them in definition order)
    definition_order: list[str]
    parameters: dict[str, str]
    overriding: dict[str, Any]
    clock: int
    start_time: int
    life: str = PENDING
    result: str | None = None
    message: str = ""
    end_time: int = 0
    cancelled: bool = False
    outputs: dict[str, Any] = field(default_factory=dict)

    def task(self, key: str) -> _TaskRun:
        return next(task for task in self.tasks if task.key == key)


def _topological(tasks: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Tasks ordered so each comes after its dependencies; rejects unknown keys and cycles like the API."""
    by_key: dict[str, dict[str, Any]] = {}
    for task in tasks:
        key = task.get("task_key")
        if not isinstance(key, str) or not key or key in by_key:
            raise ApiError(
                HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", f"Invalid or duplicate task_key {key!r}"
            )
        by_key[key] = task
    ordered: list[dict[str, Any]] = []
    placed: set[str] = set()
    while len(ordered) < len(tasks):
        ready = [
            task
            for key, task in by_key.items()
            if key not in placed and all(dep["task_key"] in placed for dep in task.get("depends_on", []))
        ]
        if not ready:
            missing = {dep["task_key"] for t in tasks for dep in t.get("depends_on", [])} - by_key.keys()
            reason = f"unknown task(s) {sorted(missing)}" if missing else "a dependency cycle"
            raise ApiError(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", f"Invalid depends_on: {reason}")
        ordered.extend(ready)
        placed.update(task["task_key"] for task in ready)
    return ordered


class JobsApiServer:
    """The Jobs API on 127.0.0.1 with scripted, step-driven runs; use as a context manager."""

    def __init__(self, token: str = "dapi-test-token", steps_per_poll: int = 1, tick_ms: int = 1000) -> None:
        self.token = token
        self.steps_per_poll = steps_per_poll
        self.tick_ms = tick_ms
        self.requests: list[RecordedRequest] = []
        self._lock = threading.RLock()
        self._jobs: dict[int, dict[str, Any]] = {}
        self._runs: dict[int, _Run] = {}
        self._scripts: dict[str, TaskScript] = {}
        self._idempotency: dict[str, int] = {}
        self._next_id = 1000
        self._epoch_ms = int(time.time() * 1000)
        self._next_start_ms = self._epoch_ms
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self.volumes = Volumes(self.base_url, self._epoch_ms)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="jobs-api-server",
            daemon=True,
        )

    # -- lifecycle --------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The host to give `WorkspaceClient(host=...)`."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> JobsApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> JobsApiServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- test controls ----------------------------------------------------------------------------
    def add_job(
        self, name: str, tasks: list[dict[str, Any]], parameters: dict[str, str] | None = None
    ) -> int:
        """Declare a job (the `databricks.yml` job, in API form); returns its job_id."""
        _topological(tasks)
        with self._lock:
            job_id = self._new_id()
            self._jobs[job_id] = {
                "job_id": job_id,
                "created_time": self._epoch_ms,
                "creator_user_name": CREATOR,
                "run_as_user_name": CREATOR,
                "settings": {
                    "name": name,
                    "tasks": tasks,
                    "format": "MULTI_TASK",
                    "max_concurrent_runs": 1,
                    "parameters": [{"name": k, "default": v} for k, v in (parameters or {}).items()],
                },
            }
            return job_id

    def script(
        self,
        task_key: str,
        outcome: str = SUCCESS,
        message: str | None = None,
        action: Callable[[TaskContext], Any] | None = None,
    ) -> None:
        """Decide how every later run of `task_key` ends; an action's exception fails the task.

        The action runs in the request thread that advances the run, under the server's lock: it
        must not call this server itself.
        """
        if outcome not in (SUCCESS, FAILED, HANG):
            raise ValueError(f"outcome must be SUCCESS, FAILED or HANG, not {outcome!r}")
        with self._lock:
            self._scripts[task_key] = TaskScript(outcome, message, action)

    def advance(self, run_id: int, steps: int = 1) -> dict[str, Any]:
        """Move a run `steps` steps on and return it as `runs/get` would."""
        with self._lock:
            run = self._run(run_id)
            for _ in range(steps):
                self._step(run)
            return self._render(run)

    def run(self, run_id: int) -> dict[str, Any]:
        """A run as `runs/get` would return it, without advancing it."""
        with self._lock:
            return self._render(self._run(run_id))

    def output(self, run_id: int, task_key: str) -> Any:
        """What the task's scripted action returned in that run (or the exception it raised)."""
        with self._lock:
            return self._run(run_id).outputs[task_key]

    def calls(self, endpoint: str) -> list[RecordedRequest]:
        """Recorded requests to one Jobs endpoint (e.g. "runs/get"), whichever API version was used."""
        return [
            req
            for req in list(self.requests)
            if (match := JOBS_PATH.match(req.path)) and match.group("endpoint") == endpoint
        ]

    # -- state machine ----------------------------------------------------------------------------
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id

    def _run(self, run_id: int) -> _Run:
        try:
            return self._runs[int(run_id)]
        except (KeyError, ValueError):
            raise ApiError(
                HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", f"Run {run_id} does not exist."
            ) from None

    def _create_run(
        self,
        job_id: int,
        run_name: str,
        run_type: str,
        tasks: list[dict[str, Any]],
        parameters: dict[str, str],
        overriding: dict[str, Any],
    ) -> _Run:
        run_id = self._new_id()
        self._next_start_ms += self.tick_ms  # distinct, ordered start times
        clock = self._next_start_ms
        task_runs = [
            _TaskRun(
                spec=spec,
                run_id=self._new_id(),
                life=BLOCKED if spec.get("depends_on") else PENDING,
                start_time=0 if spec.get("depends_on") else clock,
            )
            for spec in _topological(tasks)
        ]
        run = _Run(
            run_id=run_id,
            job_id=job_id,
            run_name=run_name,
            run_type=run_type,
            tasks=task_runs,
            definition_order=[spec["task_key"] for spec in tasks],
            parameters=parameters,
            overriding=overriding,
            clock=clock,
            start_time=clock,
        )
        self._runs[run_id] = run
        return run

    def _step(self, run: _Run) -> None:
        """One tick: every unfinished task moves one transition, then the run's own state follows."""
        if run.life == TERMINATED:
            return
        run.clock += self.tick_ms
        if run.life == TERMINATING and all(task.life in FINAL_STATES for task in run.tasks):
            run.life, run.end_time = TERMINATED, run.clock
            return
        for task in run.tasks:
            self._step_task(run, task)
        self._release_blocked(run)
        if all(task.life in FINAL_STATES for task in run.tasks):
            run.life = TERMINATING
            run.result, run.message = self._run_result(run)
        elif run.life == PENDING and any(task.life not in (BLOCKED, PENDING) for task in run.tasks):
            run.life = RUNNING

    def _step_task(self, run: _Run, task: _TaskRun) -> None:
        if task.life == PENDING:
            task.life = RUNNING
        elif task.life == RUNNING:
            script = self._scripts.get(task.key, TaskScript())
            if script.outcome != HANG:
                task.outcome = self._execute(run, task, script)
                task.life = TERMINATING
        elif task.life == TERMINATING and task.outcome is not None:
            task.finish(TERMINATED, *task.outcome, run.clock)

    def _execute(self, run: _Run, task: _TaskRun, script: TaskScript) -> tuple[str, str]:
        """Run the scripted action (if any) and decide the task's result and message."""
        if script.action is not None:
            context = TaskContext(run.run_id, task.key, task.spec, self._task_parameters(run, task))
            try:
                run.outputs[task.key] = script.action(context)
            except Exception as exc:
                run.outputs[task.key] = exc  # the test can re-raise it to see the traceback
                return FAILED, f"{type(exc).__name__}: {exc}"
        if script.outcome == FAILED:
            return FAILED, script.message or DEFAULT_FAILURE
        return SUCCESS, ""

    @staticmethod
    def _task_parameters(run: _Run, task: _TaskRun) -> dict[str, str]:
        """Notebook widget values: the task's base_parameters overridden by the run's parameters."""
        base = task.spec.get("notebook_task", {}).get("base_parameters", {})
        return {**base, **run.parameters}

    @staticmethod
    def _release_blocked(run: _Run) -> None:
        """Start tasks whose dependencies all succeeded; skip those with a failed or cancelled one."""
        for task in run.tasks:  # topological order, so a skip cascades in one pass
            if task.life != BLOCKED:
                continue
            upstream = [run.task(key) for key in task.depends_on]
            results = {dep.result for dep in upstream if dep.life in FINAL_STATES}
            if results & {CANCELED, UPSTREAM_CANCELED}:
                task.finish(SKIPPED, UPSTREAM_CANCELED, UPSTREAM_MESSAGES[UPSTREAM_CANCELED], run.clock)
            elif results - {SUCCESS}:
                task.finish(SKIPPED, UPSTREAM_FAILED, UPSTREAM_MESSAGES[UPSTREAM_FAILED], run.clock)
            elif all(dep.life == TERMINATED for dep in upstream):
                task.life, task.start_time = PENDING, run.clock

    @staticmethod
    def _run_result(run: _Run) -> tuple[str, str]:
        if run.cancelled:
            return CANCELED, CANCEL_MESSAGE
        failed = [task for task in run.tasks if task.result == FAILED]
        if not failed:
            return SUCCESS, ""
        first = failed[0]
        message = f"Task {first.key} failed with message: {first.message.rstrip('.')}."
        if any(task.result == UPSTREAM_FAILED for task in run.tasks):
            message += " This caused all downstream tasks to get skipped."
        return FAILED, message

    def _cancel(self, run: _Run) -> None:
        """Started tasks stop (TERMINATING, then CANCELED); waiting ones are skipped as upstream-cancelled."""
        if run.life in (TERMINATING, TERMINATED):
            return
        run.cancelled = True
        for task in run.tasks:
            if task.life in (PENDING, RUNNING):
                task.life, task.outcome = TERMINATING, (CANCELED, CANCEL_MESSAGE)
            elif task.life == BLOCKED:
                task.finish(SKIPPED, UPSTREAM_CANCELED, UPSTREAM_MESSAGES[UPSTREAM_CANCELED], run.clock)
        run.life = TERMINATING

    # -- wire format ------------------------------------------------------------------------------
    def _page_url(self, job_id: int, run_id: int) -> str:
        return f"{self.base_url}/?o={WORKSPACE_ID}#job/{job_id}/run/{run_id}"

    @staticmethod
    def _state(life: str, result: str | None, message: str, cancelled: bool = False) -> dict[str, Any]:
        state: dict[str, Any] = {"life_cycle_state": life, "state_message": message}
        if life in FINAL_STATES and result is not None:
            state["result_state"] = result
            state["user_cancelled_or_timedout"] = cancelled
        return state

    @staticmethod
    def _status(life: str, result: str | None, message: str) -> dict[str, Any]:
        """The newer `status` object: SKIPPED is reported as TERMINATED with a SKIPPED code."""
        if life not in FINAL_STATES or result is None:
            return {"state": life}
        code, kind = TERMINATION[result]
        return {"state": TERMINATED, "termination_details": {"code": code, "type": kind, "message": message}}

    def _render(self, run: _Run) -> dict[str, Any]:
        tasks = {task.key: task for task in run.tasks}
        rendered_tasks = []
        for key in run.definition_order:
            task = tasks[key]
            body = {
                **{k: v for k, v in task.spec.items() if k != "depends_on"},
                "run_id": task.run_id,
                "attempt_number": 0,
                "start_time": task.start_time,
                "end_time": task.end_time,
                "run_duration": task.end_time - task.start_time if task.end_time else 0,
                "state": self._state(task.life, task.result, task.message, run.cancelled),
                "status": self._status(task.life, task.result, task.message),
                "run_page_url": self._page_url(run.job_id, task.run_id),
            }
            if task.spec.get("depends_on"):
                body["depends_on"] = task.spec["depends_on"]
            rendered_tasks.append(body)
        return {
            "job_id": run.job_id,
            "run_id": run.run_id,
            "number_in_job": run.run_id,
            "original_attempt_run_id": run.run_id,
            "run_name": run.run_name,
            "run_type": run.run_type,
            "format": "MULTI_TASK",
            "creator_user_name": CREATOR,
            "attempt_number": 0,
            "start_time": run.start_time,
            "end_time": run.end_time,
            "run_duration": run.end_time - run.start_time if run.end_time else 0,
            "state": self._state(run.life, run.result, run.message, run.cancelled),
            "status": self._status(run.life, run.result, run.message),
            "tasks": rendered_tasks,
            "run_page_url": self._page_url(run.job_id, run.run_id),
            "overriding_parameters": run.overriding,
            "job_parameters": [{"name": k, "value": v} for k, v in run.parameters.items()],
        }

    # -- endpoints --------------------------------------------------------------------------------
    def _dispatch(
        self, method: str, path: str, query: dict[str, str], body: dict[str, Any]
    ) -> dict[str, Any]:
        found = JOBS_PATH.match(path)
        with self._lock:
            match (method, found.group("endpoint") if found else None):
                case ("POST", "run-now"):
                    return self._run_now(body)
                case ("POST", "runs/submit"):
                    return self._submit(body)
                case ("GET", "runs/get"):
                    return self.advance(self._int(query, "run_id"), self.steps_per_poll)
                case ("POST", "runs/cancel"):
                    self._cancel(self._run(self._int(body, "run_id")))
                    return {}
                case ("GET", "get"):
                    return self._job(self._int(query, "job_id"))
                case ("GET", "runs/get-output"):
                    return self._task_output(self._int(query, "run_id"))
        raise ApiError(HTTPStatus.NOT_FOUND, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")

    def _task_output(self, task_run_id: int) -> dict[str, Any]:
        """`runs/get-output` of one task run (https://docs.databricks.com/api/workspace/jobs/getrunoutput):
        `notebook_output.result` is the value the notebook passed to `dbutils.notebook.exit` (here: a
        scripted action that returned a string); a notebook that never called it has an empty
        output. The id of a run with several tasks is refused, as the real API refuses it."""
        for run in self._runs.values():
            if run.run_id == task_run_id and len(run.tasks) > 1:
                raise ApiError(
                    HTTPStatus.BAD_REQUEST,
                    "INVALID_PARAMETER_VALUE",
                    "Retrieving the output of runs with multiple tasks is not supported. "
                    "Please retrieve the output of each individual task run instead.",
                )
            for task in run.tasks:
                if task.run_id == task_run_id or (run.run_id == task_run_id and len(run.tasks) == 1):
                    result = run.outputs.get(task.key)
                    output = {"result": result, "truncated": False} if isinstance(result, str) else {}
                    return {
                        "notebook_output": output,
                        "metadata": {"run_id": task.run_id, "task_key": task.key},
                    }
        raise ApiError(
            HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", f"Run {task_run_id} does not exist."
        )

    @staticmethod
    def _int(source: dict[str, Any], name: str) -> int:
        try:
            return int(source[name])
        except (KeyError, TypeError, ValueError):
            raise ApiError(
                HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", f"Missing or invalid {name}"
            ) from None

    def _job(self, job_id: int) -> dict[str, Any]:
        if job_id not in self._jobs:
            raise ApiError(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", f"Job {job_id} does not exist.")
        return self._jobs[job_id]

    def _reuse(self, body: dict[str, Any]) -> dict[str, Any] | None:
        """A repeated idempotency_token returns the run it started instead of starting another."""
        token = body.get("idempotency_token")
        return {"run_id": self._idempotency[token]} if token in self._idempotency else None

    def _remember(self, body: dict[str, Any], run: _Run) -> dict[str, Any]:
        if token := body.get("idempotency_token"):
            self._idempotency[token] = run.run_id
        return {"run_id": run.run_id, "number_in_job": run.run_id}

    def _run_now(self, body: dict[str, Any]) -> dict[str, Any]:
        if reused := self._reuse(body):
            return reused
        job = self._job(self._int(body, "job_id"))
        settings = job["settings"]
        tasks = settings["tasks"]
        if only := body.get("only"):
            # `only` runs a subset; dependencies on tasks left out are dropped, as the API does.
            tasks = [
                {**task, "depends_on": [dep for dep in task.get("depends_on", []) if dep["task_key"] in only]}
                for task in tasks
                if task["task_key"] in only
            ]
            if len(tasks) != len(set(only)):
                raise ApiError(
                    HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", f"Unknown task key in only={only}"
                )
        defaults = {p["name"]: p["default"] for p in settings.get("parameters", [])}
        parameters = {**defaults, **body.get("notebook_params", {}), **body.get("job_parameters", {})}
        overriding = {k: body[k] for k in ("notebook_params", "job_parameters", "only") if k in body}
        run = self._create_run(job["job_id"], settings["name"], "JOB_RUN", tasks, parameters, overriding)
        return self._remember(body, run)

    def _submit(self, body: dict[str, Any]) -> dict[str, Any]:
        if reused := self._reuse(body):
            return reused
        tasks = body.get("tasks")
        if not tasks:
            raise ApiError(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", "At least one task is required")
        # A one-time run still gets a (hidden) job id, as on Databricks.
        run = self._create_run(self._new_id(), body.get("run_name", "Untitled"), "SUBMIT_RUN", tasks, {}, {})
        return self._remember(body, run)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: avoid 40 ms stalls

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet: the requests are recorded on the server object instead."""

            def _handle(self, method: str) -> None:
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                query = dict(parse_qsl(url.query))
                try:
                    body = json.loads(raw) if raw else None
                except (json.JSONDecodeError, UnicodeDecodeError):
                    body = None
                auth = self.headers.get("Authorization")
                server.requests.append(RecordedRequest(method, url.path, query, body, auth))
                try:
                    reply = self._route(method, url.path, query, body, auth, raw)
                except ApiError as err:
                    self._send(err.status, {"error_code": err.error_code, "message": err.message})
                except Exception as exc:  # a reply, not a dropped socket the SDK would retry for minutes
                    message = f"jobs_api_server bug or malformed request: {type(exc).__name__}: {exc}"
                    self._send(
                        HTTPStatus.INTERNAL_SERVER_ERROR, {"error_code": "INTERNAL_ERROR", "message": message}
                    )
                else:
                    if isinstance(reply, Reply):
                        self._send_raw(reply)
                    else:
                        self._send(HTTPStatus.OK, reply)

            def _route(
                self,
                method: str,
                path: str,
                query: dict[str, str],
                body: dict[str, Any] | None,
                auth: str | None,
                raw: bytes,
            ) -> dict[str, Any] | Reply:
                if path == "/.well-known/databricks-config":  # unauthenticated discovery, as on a workspace
                    return {"workspace_id": WORKSPACE_ID, "oidc_endpoint": f"{server.base_url}/oidc"}
                presigned = server.volumes.is_presigned(
                    path
                )  # the link is the credential, as on cloud storage
                if not presigned and auth != f"Bearer {server.token}":
                    raise ApiError(HTTPStatus.FORBIDDEN, "PERMISSION_DENIED", "Invalid access token.")
                if presigned or server.volumes.handles(path):
                    return server.volumes.dispatch(method, path, query, raw)
                if raw and body is None:
                    raise ApiError(
                        HTTPStatus.BAD_REQUEST, "MALFORMED_REQUEST", "Request body is not valid JSON"
                    )
                return server._dispatch(method, path, query, body or {})

            def _send(self, status: HTTPStatus, payload: dict[str, Any]) -> None:
                self._send_raw(
                    Reply(status, json.dumps(payload).encode(), (("Content-Type", "application/json"),))
                )

            def _send_raw(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

        return Handler


def task_states(run: dict[str, Any]) -> dict[str, tuple[str, str | None]]:
    """task_key -> (life_cycle_state, result_state) of a rendered run: compact for assertions."""
    return {
        task["task_key"]: (task["state"]["life_cycle_state"], task["state"].get("result_state"))
        for task in run["tasks"]
    }
