"""Unity Catalog volumes behind the Files API (`/api/2.0/fs/...`), in memory, for `JobsApiServer`.

What databricks-sdk 0.155.0 sends (read in `databricks/sdk/service/files.py` and `mixins/files.py`):
- `files.upload(path, stream, overwrite=...)` for a stream under 50 MiB: one
  `PUT /api/2.0/fs/files{path}?overwrite=true|false` with the raw bytes (larger streams go multipart
  through presigned URLs, which this stand-in does not offer);
- `files.create_directory(path)`: `PUT /api/2.0/fs/directories{path}` (`mkdir -p`, idempotent);
- `files.list_directory_contents(path)`: `GET /api/2.0/fs/directories{path}`, answered with
  `{"contents": [DirectoryEntry, ...]}` in one page;
- `files.download(path)`: `POST /api/2.0/fs/create-download-url?path=...&expire_time=...`, then a plain
  GET of the returned (presigned) URL without the workspace token; if the first call fails it falls
  back to `GET /api/2.0/fs/files{path}`. `presigned = False` makes the stand-in refuse the first call.

The endpoints and their replies follow the Files API reference
(https://docs.databricks.com/api/workspace/files; overview https://docs.databricks.com/aws/en/volumes/files-api/).
Paths live under volumes declared with `add_volume`. An upload needs its parent directory to exist
(stricter than a workspace may be), so a client that forgets `create_directory` is caught. `fail`
scripts errors for one path. Times come from a counter, never the wall clock between writes.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass
from email.utils import formatdate
from http import HTTPStatus
from typing import Any
from urllib.parse import unquote

FILES = "/api/2.0/fs/files"
DIRECTORIES = "/api/2.0/fs/directories"
DOWNLOAD_URL = "/api/2.0/fs/create-download-url"
PRESIGNED = "/presigned/"


class ApiError(Exception):
    """An error reply in the Databricks shape: `{"error_code": ..., "message": ...}` (Jobs and Files APIs)."""

    def __init__(self, status: HTTPStatus, error_code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.error_code, self.message = status, error_code, message


@dataclass(frozen=True)
class Reply:
    """A raw reply: status, body bytes and headers (file downloads and empty successes)."""

    status: HTTPStatus = HTTPStatus.OK
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class StoredFile:
    data: bytes
    last_modified: int  # epoch ms


@dataclass
class _Failure:
    status: HTTPStatus
    error_code: str
    message: str
    times: int


class Volumes:
    """Files and directories of the declared volumes; the test controls and the endpoint handlers."""

    def __init__(self, base_url: str, epoch_ms: int) -> None:
        self.base_url = base_url
        self.presigned = True
        self.files: dict[str, StoredFile] = {}
        self.directories: set[str] = set()
        self._volumes: set[str] = set()
        self._failures: dict[str, _Failure] = {}
        self._links: dict[str, str] = {}
        self._clock = epoch_ms
        self._lock = threading.RLock()

    # -- test controls ----------------------------------------------------------------------------
    def add_volume(self, catalog: str, schema: str, volume: str) -> str:
        """Declare `/Volumes/<catalog>/<schema>/<volume>` (empty); returns its path."""
        root = f"/Volumes/{catalog}/{schema}/{volume}"
        with self._lock:
            self._volumes.add(root)
            self.directories.add(root)
        return root

    def put(self, path: str, data: bytes) -> None:
        """Write a file as a job on the workspace would (parents created)."""
        with self._lock:
            self._check_volume(path)
            self._make_directories(path.rsplit("/", 1)[0])
            self._write(path, data)

    def fail(
        self,
        path: str,
        message: str,
        *,
        status: HTTPStatus = HTTPStatus.INTERNAL_SERVER_ERROR,
        error_code: str = "INTERNAL_ERROR",
        times: int = 1,
    ) -> None:
        """The next `times` requests touching `path` get this error instead of an answer."""
        with self._lock:
            self._failures[path] = _Failure(status, error_code, message, times)

    # -- endpoints --------------------------------------------------------------------------------
    def handles(self, path: str) -> bool:
        return path.startswith("/api/2.0/fs/")

    def is_presigned(self, path: str) -> bool:
        return path.startswith(PRESIGNED)

    def dispatch(self, method: str, path: str, query: dict[str, str], raw: bytes) -> Reply | dict[str, Any]:
        """Answer one Files API request (already authenticated, except presigned links)."""
        with self._lock:
            if path.startswith(PRESIGNED) and method == "GET":
                link = path.removeprefix(PRESIGNED)
                if link not in self._links:
                    raise ApiError(HTTPStatus.FORBIDDEN, "PERMISSION_DENIED", "Invalid or expired link.")
                return self._download(self._links[link])
            if path == DOWNLOAD_URL and method == "POST":
                return self._create_download_url(query.get("path", ""))
            for prefix, kind in ((FILES, "file"), (DIRECTORIES, "directory")):
                if path.startswith(prefix + "/"):
                    target = unquote(path.removeprefix(prefix)).rstrip("/") or "/"
                    self._check_volume(target)
                    self._scripted_failure(target)
                    return self._on_path(method, kind, target, query, raw)
        raise ApiError(HTTPStatus.NOT_FOUND, "ENDPOINT_NOT_FOUND", f"No API found for '{method} {path}'")

    def _on_path(
        self, method: str, kind: str, target: str, query: dict[str, str], raw: bytes
    ) -> Reply | dict[str, Any]:
        match (method, kind):
            case ("PUT", "file"):
                return self._upload(target, raw, query.get("overwrite", "true") != "false")
            case ("GET", "file"):
                return self._download(target)
            case ("PUT", "directory"):
                self._make_directories(target)
                return Reply()
            case ("GET", "directory"):
                return self._list(target)
        raise ApiError(HTTPStatus.NOT_IMPLEMENTED, "NOT_IMPLEMENTED", f"{method} on a {kind} path")

    # -- behaviour --------------------------------------------------------------------------------
    def _check_volume(self, path: str) -> None:
        parts = path.split("/")
        if len(parts) < 5 or parts[1] != "Volumes" or "/".join(parts[:5]) not in self._volumes:
            raise ApiError(HTTPStatus.NOT_FOUND, "NOT_FOUND", f"Volume for path {path} does not exist.")
        if any(part in ("", ".", "..") for part in parts[2:]):
            raise ApiError(HTTPStatus.BAD_REQUEST, "INVALID_PARAMETER_VALUE", f"Invalid path {path}")

    def _scripted_failure(self, path: str) -> None:
        failure = self._failures.get(path)
        if failure is None:
            return
        failure.times -= 1
        if failure.times <= 0:
            del self._failures[path]
        raise ApiError(failure.status, failure.error_code, failure.message)

    def _write(self, path: str, data: bytes) -> None:
        self._clock += 1
        self.files[path] = StoredFile(data, self._clock)

    def _upload(self, path: str, data: bytes, overwrite: bool) -> Reply:
        parent = path.rsplit("/", 1)[0]
        if parent not in self.directories:
            raise ApiError(
                HTTPStatus.NOT_FOUND, "NOT_FOUND", f"The parent directory {parent} does not exist."
            )
        if path in self.directories:
            raise ApiError(HTTPStatus.CONFLICT, "ALREADY_EXISTS", f"{path} is a directory.")
        if path in self.files and not overwrite:
            raise ApiError(HTTPStatus.CONFLICT, "ALREADY_EXISTS", f"The file {path} already exists.")
        self._write(path, data)
        return Reply(HTTPStatus.NO_CONTENT)

    def _make_directories(self, path: str) -> None:
        parts = path.split("/")
        for end in range(5, len(parts) + 1):
            folder = "/".join(parts[:end])
            if folder in self.files:
                raise ApiError(HTTPStatus.CONFLICT, "ALREADY_EXISTS", f"{folder} is a file.")
            self.directories.add(folder)

    def _file(self, path: str) -> StoredFile:
        if path not in self.files:
            raise ApiError(HTTPStatus.NOT_FOUND, "NOT_FOUND", f"The file {path} does not exist.")
        return self.files[path]

    def _download(self, path: str) -> Reply:
        stored = self._file(path)
        headers = (
            ("Content-Type", "application/octet-stream"),
            ("Last-Modified", formatdate(stored.last_modified / 1000, usegmt=True)),
        )
        return Reply(HTTPStatus.OK, stored.data, headers)

    def _create_download_url(self, path: str) -> dict[str, Any]:
        if not self.presigned:
            raise ApiError(HTTPStatus.NOT_FOUND, "ENDPOINT_NOT_FOUND", "Presigned URLs are not enabled.")
        self._check_volume(path)
        self._file(path)
        link = secrets.token_urlsafe(16)
        self._links[link] = path
        return {"url": f"{self.base_url}{PRESIGNED}{link}", "headers": []}

    def _list(self, path: str) -> dict[str, Any]:
        if path not in self.directories:
            raise ApiError(HTTPStatus.NOT_FOUND, "NOT_FOUND", f"The directory {path} does not exist.")
        prefix = path + "/"
        entries = [
            {"path": f"{folder}/", "name": folder.removeprefix(prefix), "is_directory": True}
            for folder in self.directories
            if folder.startswith(prefix) and "/" not in folder.removeprefix(prefix)
        ] + [
            {
                "path": name,
                "name": name.removeprefix(prefix),
                "is_directory": False,
                "file_size": len(stored.data),
                "last_modified": stored.last_modified,
            }
            for name, stored in self.files.items()
            if name.startswith(prefix) and "/" not in name.removeprefix(prefix)
        ]
        return {"contents": sorted(entries, key=lambda entry: entry["name"])}
