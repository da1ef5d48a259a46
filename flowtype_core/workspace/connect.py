"""Spark through Databricks Connect: a notebook's or `pipeline run --engine spark-connect`'s session.

`spark_session()` signs in like every other Databricks client (the SDK `Config` of `auth.py`,
handed to `DatabricksSession.builder.sdkConfig`) and uses the configured cluster
(DATABRICKS_CLUSTER_ID) or else serverless compute
(https://docs.databricks.com/aws/en/dev-tools/databricks-connect/python/install). SPARK_REMOTE
(`sc://host:port`) points it at any Spark Connect server instead, as `DatabricksSession.builder.remote`
does. databricks-connect needs Python 3.12 and brings its own pyspark, so it is installed apart
(requirements-connect.txt). Nothing here reaches for the SparkContext: Connect has none.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flowtype_core.extras import require
from flowtype_core.workspace.auth import sdk_config
from flowtype_core.workspace.settings import workspace_problems

if TYPE_CHECKING:
    from flowtype_core.config import Settings


class SparkConnectEngine:
    """The `spark-connect` engine (`FLOWTYPE_ENGINE`, `--engine`): a Spark session from Databricks Connect."""

    name = "spark-connect"

    @classmethod
    def settings_problems(cls, settings: Settings) -> list[str]:
        db = settings.databricks
        return [] if db.spark_remote else workspace_problems(db)

    def __init__(self, settings: Settings) -> None:
        self.db = settings.databricks

    def session(self) -> Any:
        """A (shared) Spark Connect session on the configured compute."""
        connect = require("databricks.connect", "the spark-connect engine (Databricks Connect)")
        builder = connect.DatabricksSession.builder
        if self.db.spark_remote:
            return builder.remote(self.db.spark_remote).getOrCreate()
        builder = builder.sdkConfig(sdk_config(self.db))
        builder = builder.clusterId(self.db.cluster_id) if self.db.cluster_id else builder.serverless(True)
        return builder.getOrCreate()


def spark_session(settings: Settings | None = None) -> Any:
    """A notebook's Spark session through Databricks Connect, configured like the rest of FlowType."""
    if settings is None:
        from flowtype_core.config import load_settings

        settings = load_settings({"FLOWTYPE_ENGINE": SparkConnectEngine.name})
    return SparkConnectEngine(settings).session()
