"""Saving and loading the simulator's live state (sessions and the event log) as one JSON file.

Why a file at all: the terminal chat runs the simulator in-process, and a user who signed in
yesterday must still be signed in when the chat starts again today, exactly as with the real
service. Why these rules: a write replaces the file atomically (temporary file, fsync, rename) so a
crash never leaves half a file behind; a file that cannot be read back is reported with a warning
and ignored, because a broken demo state must never stop the assistant from starting.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from bot.backend.port import StationSession
from storage.files import warn_if_shared

log = logging.getLogger(__name__)

STATE_FORMAT = "loginbot-simulator-state"
STATE_VERSION = 1


@dataclass(frozen=True)
class SimEvent:
    """One entry of the simulator's event log, kept for troubleshooting (T2, T8).

    `kind` uses the real notification names where one exists (`StationLogin`, `Logout`,
    `AgentStateChange`, `AGENT_MULTI_LOGIN`), and simulator names for the demo hooks
    (`Interaction`, `WrapUp`, `InteractionEnded`, `Reset`). Numbers in `detail` are masked (X4).
    """

    at: datetime
    kind: str
    email: str
    agent_id: str
    tracking_id: str
    ok: bool
    reason: str | None = None
    detail: str = ""


class _StateFile(BaseModel):
    model_config = ConfigDict(extra="ignore")

    format: str
    version: int
    sessions: list[StationSession]
    events: list[SimEvent] = []


@dataclass(frozen=True)
class SavedState:
    sessions: list[StationSession]
    events: list[SimEvent]


def load_state(path: Path) -> SavedState | None:
    """The saved state, or None when there is none or it is unusable (with a warning, never a crash)."""
    warn_if_shared(path)
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        state = _StateFile.model_validate(raw)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, ValidationError) as error:
        log.warning("ignoring the unreadable simulator state file %s: %s", path, _first_line(error))
        return None
    if state.format != STATE_FORMAT or state.version != STATE_VERSION:
        log.warning(
            "ignoring the simulator state file %s: format %r version %r, expected %r version %r",
            path,
            state.format,
            state.version,
            STATE_FORMAT,
            STATE_VERSION,
        )
        return None
    return SavedState(sessions=state.sessions, events=state.events)


def save_state(path: Path, sessions: list[StationSession], events: list[SimEvent]) -> None:
    """Replace the state file atomically; a failure is logged, since the live state is still right."""
    document = _StateFile(format=STATE_FORMAT, version=STATE_VERSION, sessions=sessions, events=events)
    payload = document.model_dump_json(indent=1)
    temporary: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        temporary = None
    except OSError as error:
        log.warning("could not save the simulator state to %s: %s", path, error)
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
