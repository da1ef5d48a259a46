"""FlowType core: capture, store, lakehouse, sync, metrics, pipeline and ranker, without a UI.

Notebooks and the app share these objects: `open_workbench()` gives the configured store,
lakehouses and recorder for a data directory.
"""

from flowtype_core.config import Settings, load_settings
from flowtype_core.workbench import Workbench, open_workbench

__all__ = ["Settings", "Workbench", "load_settings", "open_workbench"]
