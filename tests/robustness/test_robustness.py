"""The robustness corpus: every dialogue passes through every channel that drives the flow, and the
corpus itself is what it claims (size, French share, deterministic, the issue's examples in it)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.flow.state import Answers, Step
from tests.robustness.corpus import ANY, CHANNELS, corpus, select
from tests.robustness.known_gaps import KNOWN_GAPS
from tests.robustness.report import failure_list, run_channel, summary

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

KINDS = {"prompt", "error", "summary", "success", "failure", "info"}
ISSUE_EXAMPLES = {
    "don't show again",
    "ask me each time",
    "ne plus afficher",
    "sign me in as supervisor with desktop and don't show again",
    "actually, use the desktop instead",
    "06 12 34 56 78",
    "extention",
    "what's my status?",
    "am I signed in?",
    "exit",
    "connecte-moi avec le numéro +1 415 555 0123",
    "turn automatic sign-in back on",
    "why can't I sign in?",
    "what does don't show again mean?",
    "how do I log out of the desktop?",
    "no wait, extension 1002",
    "change the team",
    "quit",
    "bye",
    "au revoir",
    "suis-je connecté ?",
    "numero d appel",
    "suprevisor",
}


@pytest.mark.parametrize("channel", CHANNELS)
def test_every_dialogue_passes(channel: str, tmp_path: Path) -> None:
    """Every dialogue passes, except the gaps listed in `known_gaps.py`, which must still fail (so
    that the list is shortened as soon as one is closed)."""
    run = run_channel(channel, select(corpus(), channel=channel), tmp_path)
    gaps = KNOWN_GAPS.get(channel, {})
    failed = [r for r in run.results if not r.passed and r.dialogue.id not in gaps]
    closed = [r.dialogue.id for r in run.results if r.passed and r.dialogue.id in gaps]
    assert not failed, f"{summary(run)}\n\n{failure_list(run, verbose=False)}"
    assert not closed, f"these pass now: remove them from known_gaps.py: {closed}"


def test_the_corpus_is_large_and_at_least_40_percent_french() -> None:
    dialogues = corpus()
    assert len(dialogues) >= 300
    assert sum(d.lang == "fr" for d in dialogues) / len(dialogues) >= 0.4
    for channel in CHANNELS:
        assert len(select(dialogues, channel=channel)) >= 300, channel


def test_the_corpus_is_the_same_at_every_generation() -> None:
    first = [(d.id, d.turns, d.expect) for d in corpus()]
    assert first == [(d.id, d.turns, d.expect) for d in corpus()]


def test_every_example_of_the_issue_is_a_dialogue() -> None:
    typed = {t.say for d in corpus() if d.origin == "issue" for t in d.turns}
    assert typed >= ISSUE_EXAMPLES, sorted(ISSUE_EXAMPLES - typed)


def test_expectations_name_real_steps_answers_and_kinds() -> None:
    steps = {s.value for s in Step} | {None}
    fields = set(Answers.model_fields)
    for dialogue in corpus():
        expect = dialogue.expect
        allowed = expect.step if isinstance(expect.step, tuple) else (expect.step,)
        assert expect.step is ANY or set(allowed) <= steps, dialogue.id
        assert set(expect.answers) <= fields, dialogue.id
        kinds = expect.kind if isinstance(expect.kind, tuple) else (expect.kind,)
        assert expect.kind is ANY or set(kinds) <= KINDS, dialogue.id
        assert set(expect.never) <= KINDS, dialogue.id
        assert dialogue.turns and set(dialogue.channels) <= set(CHANNELS), dialogue.id
        assert dialogue.lang in ("en", "fr"), dialogue.id
        assert (
            expect.step is not ANY
            or expect.answers
            or expect.kind is not ANY
            or expect.mentions
            or (expect.ends_chat or expect.saved)
        ), f"{dialogue.id} expects nothing"


def test_generated_dialogues_cover_every_question_in_both_languages() -> None:
    covered = {(d.question, d.lang) for d in corpus() if d.origin == "grammar"}
    questions = ("role", "call_preference", "extension", "dial_number", "team", "auto_login", "confirm")
    assert {(q, lang) for q in questions for lang in ("en", "fr")} <= covered
