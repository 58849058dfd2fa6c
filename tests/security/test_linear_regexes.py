"""Every regular expression that sees user text runs in linear time: each is fed 100,000-character
inputs built to make a backtracking pattern scan quadratically (long runs of what it matches, with
the one character it needs missing), and must take no more than about ten times what a 10,000-
character input takes (a quadratic one takes a hundred times, and seconds: the Rasa email pattern
took 2.1 s on 20,000 characters). The channels refuse input over 2,000 characters before any of
these run; this is the bound behind that limit, not instead of it.

The recognizer's phone-number matching (libphonenumber's `PhoneNumberMatcher`, intents/) is not a
pattern of ours and is not linear on long runs of digits: only the input limit bounds it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable

import pytest

from bot.channels.rasa.actions import email_in, name_in, tracking_id_in
from bot.channels.slack import app as slack_app
from bot.flow import inputs
from bot.flow import troubleshooting as flow_troubleshooting
from bot.flow.catalog import Catalog
from bot.flow.numbers import parse_number
from bot.identity import normalize_email
from bot.log import redact
from bot.troubleshoot import directory
from intents import entities, features

SHORT, LONG = 10_000, 100_000
# Runs of what the patterns match: letters, digits, separators, the start of an email, a tracking id,
# a phone number, a Slack mention, a URL-encoded number.
UNITS = [
    *("a", "@", "a@", "a.", ".a@", "a_", "a-"),
    *("1", "1 ", "1.", "1-", "+1", "(1)", "00 ", "%2B1"),
    *("LOGINBOT-", "<@U"),
]
CATALOG = Catalog.default()


def _finds(pattern: re.Pattern[str]) -> Callable[[str], object]:
    return lambda text: list(pattern.finditer(text))


SURFACES: dict[str, Callable[[str], object]] = {
    "rasa email_in": email_in,
    "rasa tracking_id_in": tracking_id_in,
    "rasa name_in": lambda text: name_in(text, "en"),
    "flow mentioned_name": lambda text: flow_troubleshooting.mentioned_name(
        text, lambda key: CATALOG.words("en", key)
    ),
    "flow NUMBERISH": _finds(inputs.NUMBERISH),
    "flow parse_number": parse_number,
    "identity normalize_email": normalize_email,
    "log redact": redact,
    "slack mention": _finds(slack_app._MENTION),
    "directory words": _finds(directory._WORD),
    "intents email": entities.extract_emails,
    "intents keywords": entities.extract_keywords,
    "intents extensions": entities.extract_extensions,
    "intents IDD": _finds(entities._IDD),
    "intents words": _finds(entities._WORD),
    "intents control": _finds(features._CONTROL),
}


def _seconds(function: Callable[[str], object], text: str, runs: int) -> float:
    """The best of `runs` runs: a busy machine only ever makes a run slower."""
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        function(text)
        best = min(best, time.perf_counter() - started)
    return best


@pytest.mark.parametrize("surface", sorted(SURFACES))
def test_linear_on_100000_characters(surface: str) -> None:
    function = SURFACES[surface]
    for unit in UNITS:
        short = (unit * SHORT)[:SHORT]
        long = (unit * LONG)[:LONG]
        for runs in (1, 3):  # again, more carefully, before calling it quadratic (a busy machine)
            ratio_ok = _seconds(function, long, runs) <= 25 * _seconds(function, short, runs) + 0.3
            if ratio_ok:
                break
        assert ratio_ok, f"{surface} is not linear on runs of {unit!r}"
