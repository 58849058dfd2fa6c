"""Shared fixtures for the recognizer tests: one trained recognizer per session, the demo team names."""

from __future__ import annotations

from pathlib import Path

import pytest

from intents.recognizer import Recognizer
from intents.training_data import Example, load_file

HERE = Path(__file__).resolve().parent

# Team names like the demo tenant's (a dozen, two of them similar: "Billing" / "Billing Escalations",
# "Sales EMEA" / "Sales North America"), plus the French tenant's.
TEAMS = (
    "Billing",
    "Billing Escalations",
    "Retention",
    "Sales EMEA",
    "Sales North America",
    "Technical Support",
    "Onboarding",
    "Claims",
    "VIP Care",
    "Service Client France",
    "Recouvrement",
    "Night Shift",
    "Facturation",
)
REGION = {"en": "US", "fr": "FR"}


@pytest.fixture(scope="session")
def recognizer() -> Recognizer:
    return Recognizer.default()


def heldout(language: str) -> list[Example]:
    return load_file(HERE / "heldout" / f"{language}.yml", language=language).examples
