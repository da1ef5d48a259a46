"""What a layer is handed (`PipelineContext`) and what it hands back (`LayerResult`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from flowtype_core.pipeline.catalog import Catalog
from flowtype_core.progress import Progress, silent


@dataclass
class LayerResult:
    """What one layer run did; `rows_written` counts rows committed over all its tables."""

    layer: str
    rows_in: int = 0
    rows_written: int = 0
    quarantined: int = 0
    seconds: float = 0.0
    tables: dict[str, int] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class PipelineContext:
    """What every task needs: the catalog, the session CSV folder, the model registry's folder, and
    where progress goes."""

    catalog: Catalog
    sessions_dir: Path
    models_dir: Path
    progress: Progress = silent
