"""The start of a sign-in in Rasa, as in every channel: one station session per user ("continue
here?", S12), automatic sign-in with the saved preferences (S6), and the form pre-filled from them
when the automatic sign-in fails (S7). Webhook bodies in Rasa's shape, against the real server."""

from __future__ import annotations

import asyncio

import pytest

from bot.backend.port import CallPreference, Role
from bot.flow.catalog import Catalog
from bot.flow.engine import UserMessage
from bot.flow.state import Answers
from storage import ConversationKey, PreferencesRecord

from .support import Conversation, Rig, buttons, run_action, slot_events, start, step, texts

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

AVA = "ava.lead@example.com"
BUSY = "busy.agent@example.com"
CATALOG = Catalog.default()


def save_preferences(rig: Rig, **values: object) -> None:
    fields: dict[str, object] = {
        "role": "supervisor_agent",
        "call_preference": "dial_number",
        "dial_number": "+12125550102",
        "team_id": "t-billing",
        "auto_login": True,
        "language": "en",
    }
    fields.update(values)
    rig.store.save_preferences(PreferencesRecord(email=AVA, **fields))  # type: ignore[arg-type]


def test_a_session_elsewhere_asks_continue_here_and_takes_it_over(rig: Rig) -> None:
    busy = Conversation(sender_id="busy", email=BUSY)  # signed in on +14155550123 in the tenant
    body = start(rig, busy)
    said = texts(body)
    assert said.startswith(CATALOG.text("en", "session.elsewhere"))
    assert "Dial number +14155550123" in said and said.endswith("Do you want to continue here?")
    assert buttons(body) == ["/affirm", "/deny"]
    assert slot_events(body) == {"language": "en", "requested_slot": "take_over"}

    body = step(rig, busy, "banana bread", take_over="banana bread")
    assert "didn't understand" in texts(body) and texts(body).endswith("Do you want to continue here?")
    assert slot_events(body) == {"take_over": None, "requested_slot": "take_over"}

    body = step(rig, busy, "yes", take_over=True)
    assert texts(body).startswith("Your session continues here.")
    assert slot_events(body)["requested_slot"] is None  # the form ends: nothing left to ask
    session = rig.store.active_session(BUSY)
    assert session is not None and tuple(session.key) == ("rasa", "default", BUSY)

    # The rule then runs action_station_login: nothing to submit, nothing sent twice (X2).
    body = run_action(rig, busy, "action_station_login")
    assert body["responses"] == []
    assert [e for e in rig.core.events(BUSY) if e.kind == "StationLogin"] == []
    assert rig.store.recent_attempts(BUSY) == []


def test_continue_here_declined_leaves_the_session_where_it_is(rig: Rig) -> None:
    busy = Conversation(sender_id="busy", email=BUSY)
    start(rig, busy)
    body = step(rig, busy, "no", take_over=False)
    assert texts(body).startswith("OK, your session stays where it is.")
    assert slot_events(body)["requested_slot"] is None
    assert rig.store.active_session(BUSY) is None  # still held by the tenant's other place
    assert run_action(rig, busy, "action_station_login")["responses"] == []


def test_signed_in_from_another_channel_then_here(rig: Rig) -> None:
    """The session Ava opened in the terminal is "elsewhere" for her Rasa conversation."""
    terminal = ConversationKey("terminal", "local", AVA)
    answers = Answers(
        role=Role.SUPERVISOR_AGENT,
        call_preference=CallPreference.DIAL_NUMBER,
        dial_number="+12125550102",
        team_id="t-billing",
        auto_login=False,
    )
    replies = asyncio.run(rig.services.assistant.submit_answers(terminal, answers))
    assert any(r.key == "outcome.login_success" for r in replies)

    conversation = Conversation(sender_id="ava-web")
    body = start(rig, conversation)
    assert slot_events(body)["requested_slot"] == "take_over"
    body = step(rig, conversation, "continue here", take_over="continue here")
    assert texts(body).startswith("Your session continues here.")
    session = rig.store.active_session(AVA)
    assert session is not None and tuple(session.key) == ("rasa", "default", AVA)
    # The terminal conversation is told at its next turn (S12).
    told = asyncio.run(rig.services.assistant.handle(terminal, UserMessage("hi")))
    assert told[0].key == "session.taken_over"


def test_already_signed_in_here_says_so(rig: Rig) -> None:
    conversation = Conversation()
    save_preferences(rig, auto_login=True)
    start(rig, conversation)  # signed in automatically
    body = start(rig, conversation)
    assert texts(body).startswith(CATALOG.text("en", "session.already_here"))
    assert slot_events(body)["requested_slot"] is None
    assert len(rig.store.recent_attempts(AVA)) == 1


def test_saved_preferences_with_auto_login_sign_in_at_once(rig: Rig) -> None:
    save_preferences(rig)
    conversation = Conversation()
    body = start(rig, conversation)
    said = texts(body)
    assert said.startswith("Signing you in automatically with your saved preferences.")
    assert "You're signed in automatically with your saved preferences. Tracking id: LOGINBOT-" in said
    assert "Team: Billing" in said and "+12125550102" in said
    assert slot_events(body) == {"language": "en", "requested_slot": None}  # no question at all (S6)
    [attempt] = rig.store.recent_attempts(AVA)
    assert (attempt.outcome, attempt.automatic, attempt.channel) == ("success", True, "rasa")

    assert run_action(rig, conversation, "action_station_login")["responses"] == []
    assert len(rig.store.recent_attempts(AVA)) == 1  # signed in once (X2)


def test_a_failed_auto_login_says_why_and_prefills_the_form(rig: Rig) -> None:
    save_preferences(rig, dial_number="+14155550123")  # busy.agent's number: in use (DUPLICATE_LOCATION)
    conversation = Conversation()
    body = start(rig, conversation)
    said = texts(body)
    assert "The number +14155550123 is already in use" in said
    assert CATALOG.text("en", "auto.failed_flow_again") in said  # S7
    [failed] = rig.store.recent_attempts(AVA)
    assert (failed.reason, failed.automatic) == ("DUPLICATE_LOCATION", True)
    assert failed.tracking_id is not None and failed.tracking_id in said
    events = slot_events(body)
    assert {k: events.get(k) for k in ("role", "call_preference", "team", "auto_login")} == {
        "role": "supervisor_agent",
        "call_preference": "dial_number",
        "team": "t-billing",
        "auto_login": True,
    }
    assert events["requested_slot"] == "dial_number"  # only what failed is asked again
    assert '/inform{"phone_number":"+14155550123"}' not in buttons(body)  # never offered again

    body = step(rig, conversation, "+1 212 555 0102", dial_number="+1 212 555 0102")
    assert slot_events(body)["requested_slot"] == "confirm"
    assert "Team: Billing" in texts(body)
    step(rig, conversation, "yes", confirm=True)
    assert "You're signed in." in texts(run_action(rig, conversation, "action_station_login"))
    saved = rig.store.load_preferences(AVA)
    assert saved is not None and saved.dial_number == "+12125550102" and saved.auto_login is True


def test_saved_preferences_no_longer_valid_are_checked_together(rig: Rig) -> None:
    save_preferences(rig, team_id="t-gone")  # a team the administrator removed
    conversation = Conversation()
    body = start(rig, conversation)
    said = texts(body)
    assert CATALOG.text("en", "auto.saved_no_longer_valid") in said
    assert slot_events(body)["requested_slot"] == "team"
    assert rig.store.recent_attempts(AVA) == []  # nothing sent with a stale answer


def test_saved_preferences_without_auto_login_prefill_the_summary(rig: Rig) -> None:
    save_preferences(rig, auto_login=False)
    conversation = Conversation()
    body = start(rig, conversation)
    said = texts(body)
    assert CATALOG.text("en", "prefs.prefilled") in said  # S8: the saved answers come first
    assert slot_events(body)["requested_slot"] == "confirm" and "Save and continue?" in said
    assert rig.store.recent_attempts(AVA) == []


def test_answers_in_the_opening_message_skip_the_automatic_sign_in(rig: Rig) -> None:
    save_preferences(rig)
    conversation = Conversation()
    body = start(
        rig, conversation, "log me in with extension 1002", call_preference="extension", extension="1002"
    )
    events = slot_events(body)
    assert (events["call_preference"], events["extension"]) == ("extension", "1002")
    assert events["requested_slot"] == "confirm"  # the rest from the saved preferences (S8)
    assert "Extension 1002" in texts(body)
    assert rig.store.recent_attempts(AVA) == []


def test_leftovers_of_a_cancelled_form_are_not_answers(rig: Rig) -> None:
    conversation = Conversation()
    start(rig, conversation)
    step(rig, conversation, "both", role="supervisor_agent")
    # "cancel": action_deactivate_loop ends the form; Rasa keeps the slots.
    conversation.slots["requested_slot"] = None
    conversation.active_loop = {}
    body = start(rig, conversation)
    assert slot_events(body)["role"] is None and slot_events(body)["requested_slot"] == "role"


def test_a_leftover_yes_never_confirms_a_new_sign_in(rig: Rig) -> None:
    save_preferences(rig, auto_login=False)
    conversation = Conversation()
    conversation.slots["confirm"] = True  # left by an earlier form (a custom action, an older version)
    conversation.user("log me in", "login")
    conversation.start_form()
    body = rig.call(conversation.activate()).json()
    events = slot_events(body)
    assert events["confirm"] is None and events["requested_slot"] == "confirm"
    assert "Save and continue?" in texts(body)
