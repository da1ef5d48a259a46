"""Where pipeline runs execute: a local background process or a Databricks job, one interface."""

from flowtype_core.backends import RUNNERS
from flowtype_core.pipeline.runners.base import FINAL_STATES, TASK_STATES, Runner, RunRecord, TaskRecord
from flowtype_core.pipeline.runners.registry import open_runner

__all__ = ["FINAL_STATES", "RUNNERS", "TASK_STATES", "RunRecord", "Runner", "TaskRecord", "open_runner"]
