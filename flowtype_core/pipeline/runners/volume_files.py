"""Moves files between the app's data directory and the pipeline job's Unity Catalog volume.

On Databricks, bronze reads the session CSVs from `<volume>/sessions` and train_ranker registers
models under `<volume>/models` (`pipeline/notebook.py`), while the app writes sessions and reads
models under its data directory. `upload_sessions` sends the session files bronze reads (the
layer's own `list_sources`) that are new or changed since the last upload (a manifest remembers
size, mtime and sha256 of what the volume holds);
`download_model` copies the volume's newest model version into the local registry unless it is
already there. Both go through the Files API of `databricks-sdk`.
"""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

from flowtype_core.errors import FlowTypeError
from flowtype_core.pipeline.layers.bronze import list_sources
from flowtype_core.pipeline.tables import SOURCE_FILE
from flowtype_core.ranker.model import ModelRecord, ModelRegistry, version_number
from flowtype_core.redaction import redact
from flowtype_core.store.atomic import atomic_write_text, folder_lock
from flowtype_core.workspace.settings import DatabricksSettings, check_name

if TYPE_CHECKING:
    from databricks.sdk.service.files import FilesAPI

MANIFEST_DIR = "volume_uploads"
MANIFEST = "sessions.json"
ORIGIN = "origin.json"  # in a downloaded model version: where it came from, to never fetch it twice


class VolumeTransferError(FlowTypeError):
    """A file could not be copied to or from the volume; only what completed is recorded."""


@dataclass(frozen=True)
class Volume:
    """The job's volume `/Volumes/<catalog>/<schema>/<volume>`, named as the notebooks' widgets are."""

    catalog: str
    schema: str
    volume: str

    @classmethod
    def of(cls, db: DatabricksSettings) -> Volume:
        return cls(
            check_name(db.catalog, "DATABRICKS_CATALOG"),
            check_name(db.schema, "DATABRICKS_SCHEMA"),
            check_name(db.volume, "DATABRICKS_VOLUME"),
        )

    @property
    def root(self) -> str:
        return f"/Volumes/{self.catalog}/{self.schema}/{self.volume}"

    @property
    def sessions(self) -> str:
        return f"{self.root}/sessions"

    @property
    def models(self) -> str:
        return f"{self.root}/models"

    def parameters(self) -> dict[str, str]:
        """The notebook parameters that make a run read and write this volume."""
        return asdict(self)


@dataclass(frozen=True)
class UploadReport:
    """What one trigger sent to the volume, and how many files it already held."""

    destination: str
    files: int = 0
    bytes: int = 0
    unchanged: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Manifest:
    """`<data-dir>/volume_uploads/sessions.json`: store-relative path -> size, mtime_ns, sha256 sent.

    It belongs to one destination: pointing the app at another volume starts it afresh.
    """

    def __init__(self, path: Path, destination: str) -> None:
        self.path = path
        self.destination = destination
        raw = json.loads(path.read_text("utf-8")) if path.is_file() else {}
        self.files: dict[str, dict[str, Any]] = (
            raw.get("files", {}) if raw.get("destination") == destination else {}
        )
        self.changed = False

    def unchanged_stat(self, name: str, size: int, mtime_ns: int) -> bool:
        entry = self.files.get(name)
        return entry is not None and entry["size"] == size and entry["mtime_ns"] == mtime_ns

    def same_content(self, name: str, sha256: str) -> bool:
        entry = self.files.get(name)
        return entry is not None and entry["sha256"] == sha256

    def record(self, name: str, size: int, mtime_ns: int, sha256: str) -> None:
        self.files[name] = {"size": size, "mtime_ns": mtime_ns, "sha256": sha256}
        self.changed = True

    def folders(self) -> set[str]:
        """Store-relative folders the volume already has (a file was sent into each)."""
        return {str(PurePosixPath(name).parent) for name in self.files}

    def save(self) -> None:
        if self.changed:
            payload = {"destination": self.destination, "files": self.files}
            atomic_write_text(self.path, json.dumps(payload, indent=0, sort_keys=True))


def upload_sessions(files: FilesAPI, data_dir: Path, volume: Volume) -> UploadReport:
    """Send the session CSVs bronze reads that the volume lacks or holds an older copy of.

    A file counts as sent only once its upload returned; the first failure stops the upload with a
    redacted error, and everything not sent is tried again on the next trigger.
    """
    folder = Path(data_dir) / MANIFEST_DIR
    with folder_lock(folder):
        manifest = _Manifest(folder / MANIFEST, volume.sessions)
        sources = list_sources(Path(data_dir) / "sessions").select("path", SOURCE_FILE, "size", "mtime_ns")
        folders = manifest.folders()
        sent = sent_bytes = unchanged = 0
        name = ""
        try:
            for path, name, size, mtime_ns in sources.iter_rows():
                if manifest.unchanged_stat(name, size, mtime_ns):
                    unchanged += 1
                    continue
                data = Path(path).read_bytes()
                digest = hashlib.sha256(data).hexdigest()
                if not manifest.same_content(name, digest):
                    parent = str(PurePosixPath(name).parent)
                    if parent not in folders:
                        files.create_directory(f"{volume.root}/{parent}")
                        folders.add(parent)
                    files.upload(f"{volume.root}/{name}", io.BytesIO(data), overwrite=True)
                    sent, sent_bytes = sent + 1, sent_bytes + len(data)
                else:
                    unchanged += 1
                manifest.record(name, len(data), mtime_ns, digest)
        except OSError as exc:  # DatabricksError, connection and local read errors are all OSErrors
            raise VolumeTransferError(
                redact(
                    f"uploading {name} to {volume.root} failed: {exc}. {sent} files were uploaded before it; "
                    "it and the rest will be sent when the pipeline is triggered again"
                )
            ) from None
        finally:
            manifest.save()
    return UploadReport(volume.sessions, sent, sent_bytes, unchanged)


@dataclass(frozen=True)
class ModelDownload:
    """The volume's newest model version and the local version it is (None: the volume has none)."""

    source: str | None = None
    version: str | None = None
    files: int = 0
    bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def download_model(files: FilesAPI, volume: Volume, registry: ModelRegistry) -> ModelDownload:
    """Copy the newest version under `<volume>/models` into `registry` and serve it, once.

    A version already copied (same remote folder, same file sizes and times) is not fetched again;
    the registry's lock keeps two app sessions from copying the same version twice.
    """
    from databricks.sdk.errors import NotFound

    try:
        try:
            entries = list(files.list_directory_contents(volume.models))
        except NotFound:
            return ModelDownload()
        versions = [
            e.name for e in entries if e.is_directory and version_number(e.name or "") is not None and e.name
        ]
        if not versions:
            return ModelDownload()
        source = f"{volume.models}/{max(versions, key=lambda name: version_number(name) or 0)}"
        remote = [e for e in files.list_directory_contents(source) if not e.is_directory and e.name]
        origin = {"source": source, "files": {e.name: [e.file_size, e.last_modified] for e in remote}}
        with folder_lock(registry.root):
            present = next((r for r in registry.versions() if _origin(r) == origin), None)
            if present is not None:
                return ModelDownload(source, present.version)
            return _fetch(files, source, remote, origin, registry)
    except OSError as exc:
        raise VolumeTransferError(
            redact(f"downloading the newest model from {volume.models} failed: {exc}")
        ) from None


def _fetch(
    files: FilesAPI, source: str, remote: list[Any], origin: dict[str, Any], registry: ModelRegistry
) -> ModelDownload:
    """Download one version folder into staging, then register it whole (a failure leaves no version)."""
    staging = registry.new_staging()
    try:
        size = 0
        for entry in remote:
            if PurePosixPath(entry.name).name != entry.name or entry.name in (".", "..", ORIGIN):
                raise VolumeTransferError(f"unexpected file name {entry.name!r} in {source}")
            contents = files.download(f"{source}/{entry.name}").contents
            if contents is None:
                raise VolumeTransferError(f"{source}/{entry.name} came back without contents")
            data = contents.read()
            (staging / entry.name).write_bytes(data)
            size += len(data)
        (staging / ORIGIN).write_text(json.dumps(origin), encoding="utf-8")
        record = registry.adopt(staging)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return ModelDownload(source, record.version, len(remote), size)


def _origin(record: ModelRecord) -> dict[str, Any] | None:
    path = Path(record.model_path) / ORIGIN
    return json.loads(path.read_text("utf-8")) if path.is_file() else None
