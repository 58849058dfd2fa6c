"""A Slack Web API double and the Slack app under uvicorn, both on loopback, per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from .double import SlackDouble
from .support import SlackRig


@pytest.fixture
def double() -> Iterator[SlackDouble]:
    fake = SlackDouble()
    with fake.running():
        yield fake


@pytest.fixture
def rig(tmp_path: Path, double: SlackDouble) -> Iterator[SlackRig]:
    running = SlackRig(tmp_path, double)
    try:
        yield running
    finally:
        running.stop()
