"""Recruitment links: a study URL that carries a panel's participant id signs that person in.

Prolific appends `PROLIFIC_PID`, `STUDY_ID` and `SESSION_ID` to a study's URL (Prolific help
centre, "How do I record Prolific IDs?": URL parameters `{{%PROLIFIC_PID%}}` etc.). The first visit
creates a participant account for that id; later visits resume it. A link only ever yields the
participant role: an id that names a non-participant account is refused.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

from flowtype_core.accounts import AccountStore, User
from flowtype_core.errors import InvalidInput
from flowtype_core.ids import check_id
from flowtype_core.studies.assignment import Assignment, assign
from flowtype_core.studies.repository import StudyRepository

PANEL_ID = "PROLIFIC_PID"
RECORDED = (PANEL_ID, "STUDY_ID", "SESSION_ID")
# Prolific ids are 24 hexadecimal characters; other panels' ids are accepted when they are safe ids.
_SAFE = re.compile(r"[A-Za-z0-9_-]{1,48}")


@dataclass(frozen=True)
class LinkVisit:
    """Who the link signed in, their arm, and the panel ids to store with their answers."""

    user: User
    assignment: Assignment
    recruitment: dict[str, str]


def recruitment_link(base_url: str, study_id: str) -> str:
    """The URL to paste into Prolific: its placeholders are filled in per participant by Prolific."""
    query = urlencode({"study": check_id(study_id, "study_id")})
    placeholders = "&".join(f"{name}={{{{%{name}%}}}}" for name in RECORDED)
    return f"{base_url.rstrip('/')}/?{query}&{placeholders}"


def link_parameters(query: Mapping[str, str]) -> tuple[str, dict[str, str]] | None:
    """(study id, panel ids) when the query is a recruitment link, None for an ordinary visit."""
    if "study" not in query or PANEL_ID not in query:
        return None
    study_id = check_id(query["study"], "study")
    ids: dict[str, str] = {}
    for name in RECORDED:
        value = query.get(name)
        if value is None:
            continue
        if not isinstance(value, str) or not _SAFE.fullmatch(value):
            raise InvalidInput(f"the link's {name} is not a valid id (1-48 letters, digits, '_' or '-')")
        ids[name] = value
    return study_id, ids


def enrol(
    accounts: AccountStore, studies: StudyRepository, study_id: str, recruitment: Mapping[str, str]
) -> LinkVisit:
    """Create or resume the participant named by the link's panel id and assign their condition."""
    studies.load(study_id)  # an unknown study is refused before any account exists
    pid = recruitment.get(PANEL_ID, "")
    username = check_id(f"prolific-{pid}".lower(), "participant id")
    user = accounts.get(username)
    if user is None:
        try:
            user = accounts.create_user(
                username, secrets.token_urlsafe(24), role="participant", name=f"Participant {pid[:8]}"
            )
        except InvalidInput:
            user = accounts.get(username)  # created meanwhile by the same link in another tab
            if user is None:
                raise
    if not user.active:
        raise InvalidInput("this account is deactivated; ask the researcher")
    if user.role != "participant":
        raise InvalidInput("this link cannot sign in this account; ask the researcher for a login")
    return LinkVisit(user, assign(studies, study_id, username), dict(recruitment))
