"""Troubleshooting requests in the flow (U3): what a message asks for (tracking id, email, name, the
report and its days, or the requester's own checklist), and how the engine says the answers, also
in the middle of the sign-in dialog, without any I/O (the effects and events are plain data)."""

from __future__ import annotations

import pytest

from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.flow.catalog import Catalog
from bot.flow.effects import (
    Answered,
    Candidate,
    FailureReport,
    NotAnswered,
    SessionChecked,
    Troubleshoot,
    Unanswered,
)
from bot.flow.engine import FlowEngine, TurnContext, UserMessage
from bot.flow.replies import Document, Section
from bot.flow.state import FlowState, Step
from bot.flow.troubleshooting import mentioned_name, read_request, report_days
from intents.recognizer import Recognizer

CATALOG = Catalog.default()
CORE = SimulatorCore(load_tenant(DEMO_TENANT_FILE))
AVA = "ava.lead@example.com"
TID = "LOGINBOT-3f1c1f5e-7d1b-4d0f-9a57-2b7c6f7d1e01"


def words(key: str) -> tuple[str, ...]:
    return CATALOG.words("en", key)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("checklist for Ava", "Ava"),
        ("why can't Ava sign in?", "Ava"),
        ("why can't ava lead log in", "ava lead"),
        ("what's wrong with Ava's login?", "Ava"),
        ("checklist for Busy Agent", "Busy"),  # "agent" is the dialog's word, "Busy" is enough
        ("check pat", "pat"),
        ("diagnose sign-in problems for sam", "sam"),
        ("liste de vérification pour Ava", "Ava"),
        ("pourquoi Ava ne peut pas se connecter ?", "Ava"),
        ("pourquoi est-ce que Inès n'arrive pas à se connecter", "Inès"),
        ("la checklist d'Inès", "Inès"),
        ("checklist for zoe", "zoe"),
        # The requester's own: pronouns, determiners and the dialog's own vocabulary are no names.
        ("why can't I sign in?", None),
        ("why did my login fail?", None),
        ("check my account", None),
        ("I get an error with an empty team", None),
        ("microsoft teams authentication failed", None),
        ("pourquoi je n'arrive pas à me connecter ?", None),
        ("problèmes de session", None),
        ("problème de réseau", None),  # "de" names only before a capital
        ("troubleshoot", None),
    ],
)
def test_the_name_asked_about(text: str, name: str | None) -> None:
    assert mentioned_name(text, words) == name


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"what happened to tracking id {TID}?", Troubleshoot(tracking_id=TID)),
        ("que s'est-il passé avec LOGINBOT-7F3K2Q ?", Troubleshoot(tracking_id="LOGINBOT-7F3K2Q")),
        ("why can't Ava.Lead@Example.com sign in?", Troubleshoot(target_email=AVA)),
        ("checklist for Ava", Troubleshoot(target_name="Ava")),
        ("why can't I sign in?", Troubleshoot()),
        ("failure report", FailureReport(days=7)),
        ("failure report for the last 30 days", FailureReport(days=30)),
        ("rapport des échecs sur 14 jours", FailureReport(days=14)),
        ("report for the last 9999 days", FailureReport(days=366)),
    ],
)
def test_what_a_request_asks_for(text: str, expected: Troubleshoot | FailureReport) -> None:
    assert read_request(text, None, words, "en") == expected


def test_the_recognizers_email_entity_is_taken_as_is() -> None:
    assert read_request("why can't she sign in", AVA, words, "fr") == Troubleshoot(
        target_email=AVA, language="fr"
    )


def test_days_default_to_a_week() -> None:
    assert report_days("the report since Monday", words) == 7
    assert report_days("report for 3 days", words) == 3


# --- the engine, pure ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def engine() -> FlowEngine:
    return FlowEngine(Recognizer.default())


def context(email: str = AVA) -> TurnContext:
    return TurnContext(profile=CORE.profile(email))


DOCUMENT = Document(
    title="Sign-in checklist for Ava Lead (ava.lead@example.com)",
    intro=("1 problem(s), 0 to check by hand, 7 fine.",),
    sections=(Section("T5 RONA and the call device", "problem", "problem", ("evidence",), "fix"),),
)


def test_a_question_mid_dialog_is_answered_then_the_question_asked_again(engine: FlowEngine) -> None:
    state = FlowState(email=AVA, language="en")
    checking = engine.turn(state, UserMessage(text="log me in"), context())
    result = engine.on_event(checking.state, SessionChecked(None, held_here=False), context())
    assert result.state.step is Step.ROLE
    asked = engine.turn(result.state, UserMessage(text="why can't I sign in?"), context())
    assert asked.replies == [] and asked.effects == [Troubleshoot(language="en")]
    assert asked.state.step is Step.ROLE
    answered = engine.on_event(asked.state, Answered(asked.effects[0], "the text", DOCUMENT), context())
    assert [r.key for r in answered.replies] == ["troubleshoot.checklist", "ask.role"]
    assert answered.replies[0].document == DOCUMENT and answered.replies[0].text == "the text"
    assert answered.state.step is Step.ROLE and answered.state.choices == [
        "role:supervisor",
        "role:supervisor_agent",
    ]


def test_several_matches_offer_one_button_each(engine: FlowEngine) -> None:
    state = FlowState(email="root.admin@example.com", language="en")
    asked = engine.turn(state, UserMessage(text="checklist for Ava"), context("root.admin@example.com"))
    (effect,) = asked.effects
    candidates = (Candidate(AVA, "Ava Lead"), Candidate("ava.other@example.com", "Ava Other"))
    result = engine.on_event(
        asked.state, NotAnswered(effect, Unanswered.SEVERAL, candidates), context("root.admin@example.com")
    )
    (reply,) = result.replies
    assert reply.key == "troubleshoot.which_one" and "'Ava'" in reply.text
    assert [c.value for c in reply.choices] == [f"troubleshoot:{AVA}", "troubleshoot:ava.other@example.com"]
    assert [c.label for c in reply.choices] == [
        "Ava Lead (ava.lead@example.com)",
        "Ava Other (ava.other@example.com)",
    ]
    picked = engine.turn(result.state, UserMessage(text="2"), context("root.admin@example.com"))
    assert picked.effects == [Troubleshoot(target_email="ava.other@example.com", language="en")]


@pytest.mark.parametrize(
    ("choice", "effect"),
    [
        ("troubleshoot:", Troubleshoot(language="fr")),
        ("troubleshoot:Ava", Troubleshoot(target_name="Ava", language="fr")),
        (f"troubleshoot:{TID}", Troubleshoot(tracking_id=TID, language="fr")),
        ("report:30", FailureReport(30, "fr")),
        ("report:", FailureReport(7, "fr")),
    ],
)
def test_buttons_and_commands(engine: FlowEngine, choice: str, effect: Troubleshoot | FailureReport) -> None:
    state = FlowState(email=AVA, language="fr")
    assert engine.turn(state, UserMessage(choice=choice), context()).effects == [effect]


@pytest.mark.parametrize(
    ("effect", "why", "key"),
    [
        (Troubleshoot(target_email=AVA), Unanswered.REFUSED, "troubleshoot.refused"),
        (FailureReport(), Unanswered.REFUSED, "troubleshoot.report_refused"),
        (FailureReport(), Unanswered.FAILED, "troubleshoot.failed"),
        (Troubleshoot(tracking_id=TID), Unanswered.TRACKING_ID_UNKNOWN, "troubleshoot.tracking_id_unknown"),
        (Troubleshoot(target_name="Zoe"), Unanswered.NOBODY, "troubleshoot.nobody"),
        (Troubleshoot(target_name="Zoe"), Unanswered.NO_DIRECTORY, "troubleshoot.no_directory"),
        (Troubleshoot(), Unanswered.FAILED, "troubleshoot.failed"),
    ],
)
@pytest.mark.parametrize("language", ["en", "fr"])
def test_every_unanswered_question_is_said_in_the_users_language(
    engine: FlowEngine, effect: Troubleshoot | FailureReport, why: Unanswered, key: str, language: str
) -> None:
    state = FlowState(email=AVA, language=language)
    (reply,) = engine.on_event(state, NotAnswered(effect, why), context()).replies
    assert reply.key == key
    assert reply.text == CATALOG.text(language, key, name="Zoe", tracking_id=TID)
    assert "{" not in reply.text
