"""A real action server per test, on loopback, over the simulator and a SQLite store in tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .support import Rig, running_server

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    with running_server(tmp_path) as running:
        yield running
