"""FlowType core: capture, store, lakehouse, sync, metrics, pipeline and ranker, without a UI.

Notebooks and the app share these objects: `open_workbench()` gives the configured store,
lakehouses and recorder for a data directory; `spark_session()` a Spark session through
Databricks Connect (the `connect` extra), configured the same way.
"""

from flowtype_core.config import Settings, load_settings
from flowtype_core.workbench import Workbench, open_workbench
from flowtype_core.workspace.connect import spark_session

__all__ = ["Settings", "Workbench", "load_settings", "open_workbench", "spark_session"]
