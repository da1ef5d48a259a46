"""Study protocols as versioned YAML files under `<data-dir>/studies/<study_id>/`.

Every save that changes a protocol writes a new `vNNNN.yaml` and never touches an earlier one, so
each stored row's `protocol_version` names the exact file it was recorded under.
"""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
from flowtype_core.store.atomic import atomic_write_text, folder_lock
from flowtype_core.studies.protocol import Protocol, parse_protocol

_VERSION_FILE = re.compile(r"v(\d{4,})\.yaml")
MAX_PROTOCOL_BYTES = 1_000_000


class StudyRepository:
    """Reads and writes the protocol files of one data directory."""

    def __init__(self, data_dir: Path) -> None:
        self.root = Path(data_dir) / "studies"

    def folder(self, study_id: str) -> Path:
        return self.root / check_id(study_id, "study_id")

    def study_ids(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and self.versions(p.name))

    def versions(self, study_id: str) -> list[int]:
        folder = self.folder(study_id)
        if not folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _VERSION_FILE.fullmatch(p.name)))

    def load(self, study_id: str, version: int | None = None) -> Protocol:
        """The given version, or the newest; a missing study or version is a clear error."""
        versions = self.versions(study_id)
        if not versions:
            raise InvalidInput(f"no study {study_id!r}; create it first")
        version = versions[-1] if version is None else version
        if version not in versions:
            raise InvalidInput(
                f"study {study_id!r} has no version {version} (has {versions[0]}-{versions[-1]})"
            )
        return parse_yaml(self._path(study_id, version).read_text("utf-8"), version=version)

    def create(self, protocol: Protocol) -> Protocol:
        """Save the first version of a new study; an existing id is refused, not overwritten."""
        if self.versions(protocol.study_id):
            raise InvalidInput(f"a study {protocol.study_id!r} exists already; edit it instead")
        return self.save(protocol)

    def save_edit(self, study_id: str, text: str) -> tuple[Protocol, bool]:
        """Save edited YAML of `study_id` as a new version; (stored protocol, whether it changed)."""
        edited = parse_yaml(text)
        if edited.study_id != study_id:
            raise InvalidInput("the study id cannot change; create a new study instead")
        before = self.versions(study_id)
        saved = self.save(edited)
        return saved, saved.version not in before

    def save(self, protocol: Protocol) -> Protocol:
        """Store `protocol` as a new version unless it equals the newest one; returns what is stored."""
        folder = self.folder(protocol.study_id)
        with folder_lock(folder):
            versions = self.versions(protocol.study_id)
            if versions:
                newest = self.load(protocol.study_id, versions[-1])
                if newest.to_dict() == protocol.to_dict():
                    return newest
            version = (versions[-1] if versions else 0) + 1
            atomic_write_text(self._path(protocol.study_id, version), to_yaml(protocol), mode=0o600)
        return protocol.with_version(version)

    def _path(self, study_id: str, version: int) -> Path:
        return self.folder(study_id) / f"v{version:04d}.yaml"


def to_yaml(protocol: Protocol) -> str:
    """The protocol as its file holds it, fields in declaration order."""
    return yaml.safe_dump(protocol.to_dict(), sort_keys=False, allow_unicode=True)


def parse_yaml(text: str, *, version: int = 0) -> Protocol:
    """A protocol from YAML text (a stored file, an upload, `study create --file`)."""
    if len(text.encode("utf-8")) > MAX_PROTOCOL_BYTES:
        raise InvalidInput(f"a protocol file may hold at most {MAX_PROTOCOL_BYTES} bytes")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}" if where is not None else ""
        raise InvalidInput(f"the protocol is not valid YAML{at}") from None
    return parse_protocol(data, version=version)
