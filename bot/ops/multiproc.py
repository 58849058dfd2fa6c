"""prometheus-client's multiprocess mode, set up before anything imports prometheus-client (it picks
its way of keeping values when first imported): this module imports none of it."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
_OURS = "loginbot-metrics-"  # the prefix of a directory made here, removed once the server stopped


def prepare(workers: int) -> None:
    """Several workers: `PROMETHEUS_MULTIPROC_DIR` names an existing, empty directory (a fresh
    temporary one when it is not set: removed by `cleanup`). One process: only a directory the
    operator named is made ready, else each process keeps its metrics in memory."""
    given = os.environ.get(MULTIPROC_ENV)
    if not given:
        if workers > 1:
            os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix=_OURS)
        return
    path = Path(given)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):  # a previous run's values: they would be added to this one's
        stale.unlink()


def cleanup() -> None:
    """Remove the temporary directory `prepare` made, once the server stopped."""
    path = os.environ.get(MULTIPROC_ENV, "")
    if path and Path(path).name.startswith(_OURS):
        shutil.rmtree(path, ignore_errors=True)
