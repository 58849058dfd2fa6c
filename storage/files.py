"""Files loginbot creates are private to their owner (mode 0600): the database holds emails, phone
numbers and conversations, the outbox holds sign-in codes, the simulator's state holds sessions.

A file that already exists keeps its mode (the operator may have chosen it), but a warning names it
when other users of the machine can read or write it.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

PRIVATE = 0o600


def create_private(path: Path) -> None:
    """Create `path` empty with mode 0600 when it does not exist (whatever the umask); else warn if
    others can read it."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    except FileExistsError:
        warn_if_shared(path)
        return
    os.close(fd)
    os.chmod(path, PRIVATE)  # the umask may have taken bits away, never added: this is for clarity


def open_private_append(path: Path) -> int:
    """A file descriptor appending to `path`, created 0600 when new (existing files are warned about)."""
    if path.exists():
        warn_if_shared(path)
    return os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, PRIVATE)


def warn_if_shared(path: Path) -> bool:
    """Log a warning naming `path` when users other than its owner may read or write it; True then."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return False
    if stat.S_IMODE(mode) & 0o077:
        log.warning(
            "%s can be read by other users of this machine (mode %o): run chmod 600 on it",
            path,
            stat.S_IMODE(mode),
        )
        return True
    return False
