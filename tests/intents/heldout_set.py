"""The held-out sets of the recognizer (`tests/intents/heldout`), the team names they are parsed with
and each language's region: shared by the recognizer tests and the benchmark (`bench/recognizer.py`)."""

from __future__ import annotations

from pathlib import Path

from intents.training_data import Example, load_file

HERE = Path(__file__).resolve().parent
HELDOUT_DIR = HERE / "heldout"

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


def heldout(language: str) -> list[Example]:
    return load_file(HELDOUT_DIR / f"{language}.yml", language=language).examples
