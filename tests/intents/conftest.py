"""Shared fixtures for the recognizer tests: one trained recognizer per session, the demo team names."""

from __future__ import annotations

import pytest

from intents.recognizer import Recognizer

from .heldout_set import HERE, REGION, TEAMS, heldout

__all__ = ["HERE", "REGION", "TEAMS", "heldout"]


@pytest.fixture(scope="session")
def recognizer() -> Recognizer:
    return Recognizer.default()
