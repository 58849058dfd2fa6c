"""parse never raises and always returns offsets inside the text, whatever it is given (X1)."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intents.recognizer import FALLBACK_INTENT, Parse, Recognizer

from .conftest import TEAMS


def check(parse: Parse, text: str) -> None:
    assert parse.text == text
    assert isinstance(parse.intent, str) and 0.0 <= parse.confidence <= 1.0
    assert parse.language in (None, "en", "fr")
    for entity in parse.entities:
        assert 0 <= entity.start < entity.end <= len(text)
    parse.as_rasa()


def test_empty_and_whitespace() -> None:
    recognizer = Recognizer.default()
    for text in ["", " ", "\n\t  \r\n", "\u00a0\u2003"]:
        parse = recognizer.parse(text)
        check(parse, text)
        assert (parse.intent, parse.confidence, parse.entities) == (FALLBACK_INTENT, 0.0, ())


def test_huge_message() -> None:
    text = ("log me in on extension 2001 team Billing " * 3000)[:100_000]
    parse = Recognizer.default().parse(text, teams=TEAMS)
    check(parse, text)
    assert parse.intent == "login"
    assert parse.entity("extension") is not None


def test_binary_garbage_and_control_characters() -> None:
    recognizer = Recognizer.default()
    blobs = [
        os.urandom(4096).decode("latin-1"),
        "\x00\x01\x02\x1b[31m\x7f",
        "\ud800\udfff lone surrogates",
        "🙂🔥👍" * 50,
        "‮reversed‬ text",
        "\u0301\u0301\u0301",
        "İstanbul ǅ ß ﬁ",
    ]
    for text in blobs:
        check(recognizer.parse(text, teams=TEAMS), text)


def test_wrong_types_do_not_raise() -> None:
    recognizer = Recognizer.default()
    assert recognizer.parse(b"log me in").intent == "login"  # type: ignore[arg-type]
    assert isinstance(recognizer.parse(None), Parse)  # type: ignore[arg-type]
    assert isinstance(recognizer.parse("log in", teams=[None, 3, ""], region="??"), Parse)  # type: ignore[list-item]


@settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.text(max_size=300),
    st.lists(st.text(max_size=20), max_size=5),
    st.sampled_from(["US", "FR", "GB", "zz", ""]),
)
def test_parse_never_raises(text: str, teams: list[str], region: str) -> None:
    check(Recognizer.default().parse(text, teams=teams, region=region), text)


@settings(max_examples=200, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from("0123456789 +-().x@abcé"), max_size=80))
def test_number_like_text_never_raises(text: str) -> None:
    check(Recognizer.default().parse(text, teams=TEAMS), text)
