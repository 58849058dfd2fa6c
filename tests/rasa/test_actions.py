"""The actions through the real server: the login form slot by slot with the flow's validators, the
sign-in and its failures, sign-out, availability, preferences shared with every channel, identity."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.backend.port import BackendUnavailable, FailureReason, LoginRequest, Outcome, UserProfile
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorBackend, SimulatorCore, load_tenant
from bot.backend.simulator.core import new_tracking_id
from bot.channels.rasa import RasaSettings
from bot.identity import IdentitySettings

from .support import (
    Conversation,
    Rig,
    buttons,
    reopen,
    run_action,
    running_server,
    slot_events,
    start,
    step,
    texts,
)

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

AVA = "ava.lead@example.com"


def ava_to_the_end(
    rig: Rig, conversation: Conversation, number: str = "+1 212 555 0102", *, confirm: bool = True
) -> None:
    first = start(rig, conversation)
    assert slot_events(first)["requested_slot"] == "role"
    assert "How do you want to sign in?" in texts(first)
    assert [b["payload"] for b in first["responses"][0]["buttons"]] == [
        '/inform{"role":"supervisor"}',
        '/inform{"role":"supervisor_agent"}',
    ]
    body = step(rig, conversation, "both", role="both")
    assert slot_events(body) == {"role": "supervisor_agent", "requested_slot": "call_preference"}
    body = step(rig, conversation, "dial number", call_preference="dial_number")
    assert slot_events(body)["requested_slot"] == "dial_number"
    assert "+14155550101" in texts(body)  # the default DN is offered (S8)
    body = step(rig, conversation, number, dial_number=number)
    assert slot_events(body)["requested_slot"] == "team"
    body = step(rig, conversation, "billing escalations", team="billing escalations")
    assert slot_events(body)["team"] == "t-billing-escalations"
    assert slot_events(body)["requested_slot"] == "auto_login"
    body = step(rig, conversation, "no", auto_login=False)
    assert slot_events(body) == {"auto_login": False, "requested_slot": "confirm"}
    said = texts(body)  # the summary, then "Save and continue?" (S10)
    assert "Here is your sign-in. Save and continue?" in said
    assert "Team: Billing Escalations" in said and "Role: Supervisor and Agent" in said
    assert buttons(body) == ["/affirm", "/deny"]
    if confirm:
        body = step(rig, conversation, "yes", confirm=True)
        assert slot_events(body) == {"confirm": True, "requested_slot": None}  # the form is complete


def test_a_whole_form_for_ava_then_the_sign_in(rig: Rig) -> None:
    conversation = Conversation()
    ava_to_the_end(rig, conversation)
    assert conversation.slots["dial_number"] == "+12125550102"

    body = run_action(rig, conversation, "action_station_login")
    said = texts(body)
    assert "You're signed in. Tracking id: LOGINBOT-" in said
    assert "Supervisor and Agent" in said and "+12125550102" in said and "Billing Escalations" in said
    assert all(value is None for value in slot_events(body).values())  # ready for the next sign-in

    # The preferences are the ones every channel sees (S6, U2).
    saved = rig.store.load_preferences(AVA)
    assert saved is not None
    assert (saved.role, saved.call_preference, saved.dial_number, saved.team_id, saved.auto_login) == (
        "supervisor_agent",
        "dial_number",
        "+12125550102",
        "t-billing-escalations",
        False,
    )
    [attempt] = rig.store.recent_attempts(AVA)
    assert (attempt.channel, attempt.outcome) == ("rasa", "success")
    session = rig.store.active_session(AVA)
    assert session is not None and session.key.channel == "rasa"

    shown = run_action(rig, conversation, "action_show_preferences")
    assert "Your saved preferences:" in texts(shown) and "+12125550102" in texts(shown)


def test_the_same_delivery_is_never_submitted_twice(rig: Rig) -> None:
    conversation = Conversation()
    ava_to_the_end(rig, conversation)
    request = conversation.action("action_station_login")
    assert "signed in" in texts(rig.call(request).json())
    again = rig.call(request)  # Rasa (or a proxy) sends the same call again
    assert again.status_code == 200 and again.json()["responses"] == []
    assert len(rig.store.recent_attempts(AVA)) == 1


def test_rejections_say_why_and_keep_asking(rig: Rig) -> None:
    conversation = Conversation()
    start(rig, conversation, role="supervisor_agent", call_preference="dial_number")
    assert conversation.slots["requested_slot"] == "dial_number"

    body = step(rig, conversation, "+1 555", dial_number="+1 555")
    assert slot_events(body) == {"dial_number": None, "requested_slot": "dial_number"}
    assert "too short" in texts(body).casefold()

    body = step(rig, conversation, "+999 1234 5678", dial_number="+999 1234 5678")
    assert slot_events(body)["dial_number"] is None
    assert "country code" in texts(body).casefold()

    body = step(rig, conversation, "default", dial_number="default")
    assert slot_events(body)["dial_number"] == "+14155550101"

    body = step(rig, conversation, "zzqx", team="zzqx")
    assert slot_events(body) == {"team": None, "requested_slot": "team"}
    assert "zzqx" in texts(body)

    body = step(rig, conversation, "sales", team="sales")
    events = slot_events(body)
    assert events["team"] is None and events["requested_slot"] == "team"
    assert set(events["team_candidates"]) == {"t-sales-emea", "t-sales-apac", "t-sales-americas"}
    said = texts(body)
    assert all(name in said for name in ("Sales EMEA", "Sales APAC", "Sales Americas"))
    assert {b["title"] for b in body["responses"][-1]["buttons"]} == {
        "Sales EMEA",
        "Sales APAC",
        "Sales Americas",
    }

    body = step(rig, conversation, "apac", team="apac")
    assert slot_events(body)["team"] == "t-sales-apac"
    assert slot_events(body)["team_candidates"] is None


def test_a_role_the_profile_does_not_allow(rig: Rig) -> None:
    conversation = Conversation(email="sam.supervisor@example.com")
    body = start(rig, conversation, "log me in as supervisor and agent", role="supervisor_agent")
    said = texts(body)
    assert "supervisor and agent" in said.casefold() and "allow" in said.casefold()
    assert "You'll sign in as Supervisor, the only role your profile allows." in said  # S1, announced
    assert slot_events(body)["role"] == "supervisor"


def test_slots_that_do_not_apply_are_filled_or_skipped(rig: Rig) -> None:
    alex = Conversation(sender_id="alex", email="alex.agent@example.com")
    body = start(rig, alex)
    events = slot_events(body)
    assert events["role"] == "agent" and "only role" in texts(body)  # S1, announced
    assert events["requested_slot"] == "call_preference"
    body = step(rig, alex, "extension", call_preference="extension")
    assert slot_events(body)["extension"] == "2001"
    assert "Your extension 2001 is filled in." in texts(body)  # S3
    assert slot_events(body)["requested_slot"] == "team"

    dana = Conversation(sender_id="dana", email="dana.digital@example.com")
    body = start(rig, dana)
    events = slot_events(body)
    assert "call_preference" not in events  # digital-only: never asked about telephony (S2)
    assert events["team"] == "t-chat" or "Chat and Email" in texts(body)
    assert events["requested_slot"] == "auto_login"

    sam = Conversation(sender_id="sam", email="sam.supervisor@example.com")
    start(rig, sam)
    step(rig, sam, "desktop", call_preference="desktop")
    assert sam.slots["requested_slot"] == "auto_login"  # no number for Desktop, no team for supervisor-only
    pat = Conversation(sender_id="pat", email="pat.provisioned@example.com")
    body = start(rig, pat, call_preference="dial_number")
    assert slot_events(body)["dial_number"] == "+13125550140"  # forced provisioned number (S8)


def test_a_national_number_asks_for_its_country_code(rig: Rig) -> None:
    ines = Conversation(sender_id="ines", email="ines.martin@example.com")
    body = start(
        rig,
        ines,
        "connecte-moi sur le 06 12 34 56 78",
        call_preference="dial_number",
        dial_number="06 12 34 56 78",
    )
    events = slot_events(body)
    assert events["requested_slot"] == "country_code"
    assert events["pending_national"] == "0612345678" and events["dial_number"] is None
    assert "Quel indicatif de pays pour le 0612345678" in texts(body)  # French, from the flow's catalog
    body = step(rig, ines, "+33", country_code="+33")
    events = slot_events(body)
    assert (events["country_code"], events["dial_number"], events["pending_national"]) == (
        "33",
        "+33612345678",
        None,
    )
    assert events["requested_slot"] == "team"


def fail_on_submit(rig: Rig, conversation: Conversation, **slots: Any) -> dict[str, Any]:
    conversation.user("yes", "affirm")
    conversation.slots.update(slots)
    return run_action(rig, conversation, "action_station_login")


def test_a_number_in_use_says_why_with_the_tracking_id_and_asks_again(rig: Rig) -> None:
    conversation = Conversation()
    ava_to_the_end(rig, conversation, number="+14155550123")  # busy.agent's number
    body = run_action(rig, conversation, "action_station_login")
    said = texts(body)
    assert "+14155550123 is already in use" in said
    assert re.search(r"tracking id: LOGINBOT-[0-9a-f-]+", said)
    assert slot_events(body) == {"dial_number": None, "confirm": None, "requested_slot": "dial_number"}
    assert body["events"][-1] == {"event": "followup", "timestamp": None, "name": "login_form"}
    [attempt] = rig.store.recent_attempts(AVA)
    assert (attempt.outcome, attempt.reason) == ("failure", "DUPLICATE_LOCATION")

    # Rasa runs the form again: it activates with the other answers and asks for another number,
    # without offering the refused one (S7).
    body = reopen(rig, conversation)
    assert slot_events(body)["requested_slot"] == "dial_number"
    assert "Which number should ring?" in texts(body)
    assert '/inform{"phone_number":"+14155550123"}' not in buttons(body)
    body = step(rig, conversation, "+1 212 555 0102", dial_number="+1 212 555 0102")
    assert slot_events(body)["requested_slot"] == "confirm"
    step(rig, conversation, "yes", confirm=True)
    assert "You're signed in" in texts(run_action(rig, conversation, "action_station_login"))


# The form's validators stop every one of these before a submission; the slots are set directly, as a
# Rasa story, a custom action or an older form could leave them, to show the answer to each reason.
FAILURES = {
    "SESSION_ALREADY_ACTIVE": (
        "busy.agent@example.com",
        {"call_preference": "dial_number", "dial_number": "+14155550123", "team": "t-customer-care"},
        "take_over",
        "already signed in",
    ),
    "ROLE_NOT_PERMITTED": (
        "alex.agent@example.com",
        {"role": "supervisor", "call_preference": "extension", "extension": "2001"},
        "role",
        "role",
    ),
    "DEVICE_NOT_PERMITTED": (
        "alex.agent@example.com",
        {"call_preference": "dial_number", "dial_number": "+14155550199", "team": "t-tech-support"},
        "call_preference",
        "",
    ),
    "INVALID_DIAL_NUMBER": (
        "alex.agent@example.com",
        {"call_preference": "extension", "extension": "2999", "team": "t-tech-support"},
        "extension",
        "2999",
    ),
    "NUMBER_NOT_PROVISIONED": (
        "sid.specific@example.com",
        {"call_preference": "dial_number", "dial_number": "+14155550199", "team": "t-collections"},
        "dial_number",
        "+14155550199",
    ),
    "CONTACT_CENTER_DISABLED": (
        "carl.closed@example.com",
        {"call_preference": "extension", "extension": "2002", "team": "t-customer-care"},
        "confirm",
        "",
    ),
}


@pytest.mark.parametrize("reason", sorted(FAILURES))
def test_each_failure_reason_on_submit(rig: Rig, reason: str) -> None:
    email, slots, asked, words = FAILURES[reason]
    conversation = Conversation(sender_id=email, email=email)
    answers = {"role": "agent", "auto_login": False, **slots}
    body = fail_on_submit(rig, conversation, confirm=True, **answers)
    said = texts(body)
    [attempt] = rig.store.recent_attempts(email)
    assert (attempt.outcome, attempt.reason, attempt.channel) == ("failure", reason, "rasa"), said
    assert words.casefold() in said.casefold()
    assert attempt.tracking_id and attempt.tracking_id in said  # to give to an administrator (S11)
    events = slot_events(body)
    assert events["confirm"] is None and events["requested_slot"] == asked
    if asked not in ("take_over", "confirm"):
        assert events[asked] is None  # the answer the contact center refused is asked again (S7, S11)
    assert body["events"][-1] == {"event": "followup", "timestamp": None, "name": "login_form"}

    # Rasa runs the form again: it asks that question (a disabled account ends the form instead).
    body = reopen(rig, conversation)
    if reason == "CONTACT_CENTER_DISABLED":
        assert slot_events(body)["requested_slot"] is None and "not enabled" in texts(body).casefold()
        return
    assert slot_events(body)["requested_slot"] == asked
    question = {
        "take_over": "Do you want to continue here?",
        "role": "How do you want to sign in?",
        "call_preference": "How do you want to handle calls?",
        "extension": "Which extension",
        "dial_number": "Which number should ring?",
    }[asked]
    assert question in texts(body), texts(body)


def test_a_session_elsewhere_at_submission_asks_continue_here(rig: Rig) -> None:
    busy = Conversation(sender_id="busy", email="busy.agent@example.com")
    email, slots, _, _ = FAILURES["SESSION_ALREADY_ACTIVE"]
    fail_on_submit(rig, busy, role="agent", auto_login=False, confirm=True, **slots)
    body = reopen(rig, busy)
    assert slot_events(body) == {"requested_slot": "take_over"}
    assert texts(body) == "Do you want to continue here?" and buttons(body) == ["/affirm", "/deny"]
    body = step(rig, busy, "yes", take_over=True)
    assert "Your session continues here." in texts(body)
    session = rig.store.active_session(email)
    assert session is not None and session.key.channel == "rasa"


class LoginServiceDown(SimulatorBackend):
    """The contact center whose login API answers 503 while `down` (its other APIs work)."""

    down = False

    async def station_login(
        self, user: UserProfile, request: LoginRequest, *, take_over: bool = False
    ) -> Outcome:
        if self.down:
            raise BackendUnavailable(FailureReason.SERVICE_ERROR, new_tracking_id(), "HTTP 503")
        return await super().station_login(user, request, take_over=take_over)


def test_a_passing_failure_asks_save_and_continue_again(tmp_path: Path) -> None:
    backend = LoginServiceDown(SimulatorCore(load_tenant(DEMO_TENANT_FILE)))
    with running_server(tmp_path, backend=backend) as rig:
        conversation = Conversation()
        ava_to_the_end(rig, conversation)
        backend.down = True
        body = run_action(rig, conversation, "action_station_login")
        assert "The contact center had a problem" in texts(body)
        assert slot_events(body) == {"confirm": None, "requested_slot": "confirm"}
        [attempt] = rig.store.recent_attempts(AVA)
        assert attempt.reason == "SERVICE_ERROR" and attempt.tracking_id
        assert attempt.tracking_id in texts(body)
        backend.down = False
        body = reopen(rig, conversation)  # the same answers, to try again (X3)
        assert slot_events(body)["requested_slot"] == "confirm"
        assert "Save and continue?" in texts(body) and "Dial number +12125550102" in texts(body)
        step(rig, conversation, "yes", confirm=True)
        assert "You're signed in" in texts(run_action(rig, conversation, "action_station_login"))


def test_the_contact_center_down_keeps_the_question(rig: Rig) -> None:
    conversation = Conversation()
    ava_to_the_end(rig, conversation)
    rig.core.set_outage(True)  # every API down, the profile read too
    body = run_action(rig, conversation, "action_station_login")
    assert slot_events(body) == {"confirm": None, "requested_slot": "confirm"}
    assert rig.store.recent_attempts(AVA) == []
    body = reopen(rig, conversation)
    said = texts(body)
    assert "The contact center had a problem" in said and re.search(r"LOGINBOT-[0-9a-f-]{36}", said)
    assert slot_events(body) == {"requested_slot": "confirm"}  # the answers stay (X3)
    rig.core.set_outage(False)
    body = step(rig, conversation, "yes", confirm=True)
    assert slot_events(body) == {"confirm": True, "requested_slot": None}
    assert "You're signed in" in texts(run_action(rig, conversation, "action_station_login"))


def test_a_team_not_assigned_is_never_submitted(rig: Rig) -> None:
    alex = Conversation(sender_id="alex", email="alex.agent@example.com")
    body = fail_on_submit(
        rig,
        alex,
        role="agent",
        call_preference="extension",
        extension="2001",
        team="t-sales-emea",  # not one of Alex's teams: the desktop's known issue (T7) cannot happen
        auto_login=False,
        confirm=True,
    )
    assert rig.store.recent_attempts("alex.agent@example.com") == []
    assert slot_events(body)["requested_slot"] == "team" and slot_events(body)["team"] is None
    body = reopen(rig, alex)
    assert slot_events(body)["requested_slot"] == "team"
    assert "Which team?" in texts(body)


def test_a_submit_without_the_summary_hands_back_to_the_form(rig: Rig) -> None:
    conversation = Conversation()
    body = fail_on_submit(rig, conversation, role="supervisor_agent", call_preference="desktop")
    assert body["events"][-2:] == [
        {"event": "slot", "timestamp": None, "name": "requested_slot", "value": "confirm"},
        {"event": "followup", "timestamp": None, "name": "login_form"},
    ]
    assert rig.store.recent_attempts(AVA) == []  # nothing is submitted unconfirmed (S10)
    body = reopen(rig, conversation)
    assert slot_events(body)["requested_slot"] == "team"  # and never with a missing answer


def test_the_summary_can_change_one_answer(rig: Rig) -> None:
    conversation = Conversation()
    ava_to_the_end(rig, conversation, confirm=False)
    body = step(rig, conversation, "no", confirm=False)
    assert "What would you like to change?" in texts(body)
    assert buttons(body) == ["Role", "How to handle calls", "Dial number", "Team", "Automatic sign-in"]
    assert slot_events(body) == {"confirm": None, "requested_slot": "confirm"}
    # The "Dial number" button's text also reads as the current call preference: it still means
    # "change the number".
    body = step(rig, conversation, "Dial number", confirm="Dial number", call_preference="dial_number")
    assert slot_events(body)["dial_number"] is None
    assert slot_events(body)["requested_slot"] == "dial_number"
    body = step(rig, conversation, "+1 415 555 0101", dial_number="+1 415 555 0101")
    assert slot_events(body)["requested_slot"] == "confirm"
    assert "Dial number +14155550101" in texts(body)
    body = step(rig, conversation, "change the team", confirm="change the team")
    assert slot_events(body)["team"] is None and slot_events(body)["requested_slot"] == "team"
    body = step(rig, conversation, "billing", team="billing")
    assert slot_events(body)["requested_slot"] == "confirm"
    body = step(rig, conversation, "what?", confirm="what?")
    assert "didn't understand" in texts(body) and "Save and continue?" in texts(body)
    body = step(rig, conversation, "save and continue", confirm="save and continue")
    assert slot_events(body) == {"confirm": True, "requested_slot": None}
    said = texts(run_action(rig, conversation, "action_station_login"))
    assert "You're signed in" in said and "+14155550101" in said and "Team: Billing" in said


def test_sign_out_is_refused_during_an_interaction(rig: Rig) -> None:
    busy = Conversation(sender_id="busy", email="busy.agent@example.com")
    busy.user("sign me out", "logout")
    body = run_action(rig, busy, "action_station_logout")
    said = texts(body).casefold()
    assert "conversation" in said or "interaction" in said
    assert "signed out" not in said


def test_availability_preferences_auto_login_and_own_checklist(rig: Rig) -> None:
    conversation = Conversation()
    ava_to_the_end(rig, conversation)
    run_action(rig, conversation, "action_station_login")

    conversation.user(
        "set me to available", "set_availability", [{"entity": "availability", "value": "available"}]
    )
    assert "You're now Available." in texts(run_action(rig, conversation, "action_set_availability"))
    conversation.user("change my status", "set_availability")
    asked = run_action(rig, conversation, "action_set_availability")
    assert [b["payload"] for b in asked["responses"][-1]["buttons"]] == [
        '/set_availability{"availability":"available"}',
        '/set_availability{"availability":"idle"}',
    ]

    conversation.user("turn automatic sign-in back on", "reset_auto_login")
    assert "Automatic sign-in is on" in texts(run_action(rig, conversation, "action_reset_auto_login"))
    saved = rig.store.load_preferences(AVA)
    assert saved is not None and saved.auto_login is True
    conversation.user("stop logging me in automatically", "reset_auto_login")
    assert "Automatic sign-in is off" in texts(run_action(rig, conversation, "action_reset_auto_login"))
    saved = rig.store.load_preferences(AVA)
    assert saved is not None and saved.auto_login is False

    conversation.user("sign me out", "logout")
    assert "You're signed out" in texts(run_action(rig, conversation, "action_station_logout"))

    conversation.user("troubleshoot my sign-in", "troubleshoot")
    said = texts(run_action(rig, conversation, "action_troubleshoot_login"))
    assert said.startswith("Sign-in checklist for Ava Lead (ava.lead@example.com)")  # her own (T9)


def test_french_replies(rig: Rig) -> None:
    conversation = Conversation(sender_id="ines", email="ines.martin@example.com")
    conversation.user("montre-moi mes préférences enregistrées", "show_preferences")
    body = run_action(rig, conversation, "action_show_preferences")
    assert "préférences" in texts(body)
    assert slot_events(body)["language"] == "fr"


def test_identity_by_emailed_code_bound_to_the_sender(tmp_path: Path) -> None:
    settings = RasaSettings(trust_email_metadata=False)
    identity = IdentitySettings(outbox=tmp_path / "outbox.txt")
    with running_server(tmp_path, rasa=settings, identity=identity) as rig:
        conversation = Conversation(sender_id="web-42", email="ava.lead@example.com")  # metadata not trusted
        conversation.user("show my preferences", "show_preferences")
        assert "check who you are" in texts(run_action(rig, conversation, "action_show_preferences"))

        body = start(rig, conversation)
        assert slot_events(body)["requested_slot"] == "email"
        assert "What is your work email?" in texts(body)
        body = step(rig, conversation, "not an email", email="not an email")
        assert slot_events(body) == {
            "email": None,
            "requested_slot": "email",
            "language": "en",
        } or slot_events(body) == {"email": None, "requested_slot": "email"}
        body = step(rig, conversation, AVA, email=AVA)
        assert slot_events(body)["requested_slot"] == "verification_code"
        assert f"I sent a six-digit code to {AVA}" in texts(body)
        [code] = re.findall(r"code is (\d{6})", rig.outbox.read_text(encoding="utf-8"))
        wrong = "000000" if code != "000000" else "111111"

        body = step(rig, conversation, wrong, verification_code=wrong)
        assert slot_events(body)["verification_code"] is None
        assert "Tries left: 4" in texts(body)
        body = step(rig, conversation, code, verification_code=code)
        events = slot_events(body)
        assert events["verification_code"] == "verified" and code not in str(events)
        assert events["requested_slot"] == "role"  # identity proven: the sign-in dialog goes on
        assert f"verified as {AVA}" in texts(body)

        other = Conversation(sender_id="web-42", email=None)
        other.user("show my preferences", "show_preferences")
        assert "no saved preferences" in texts(run_action(rig, other, "action_show_preferences"))
        stranger = Conversation(sender_id="web-99", email=AVA)
        stranger.user("show my preferences", "show_preferences")
        assert "check who you are" in texts(run_action(rig, stranger, "action_show_preferences"))


def test_only_the_trailing_slot_events_are_candidates(rig: Rig) -> None:
    """Rasa's temporary tracker: what was set before the form's action is not validated again."""
    conversation = Conversation()
    start(rig, conversation)
    body = conversation.validate(role="supervisor_agent")
    events = body["tracker"]["events"]
    form = max(i for i, e in enumerate(events) if e["event"] == "action")
    # An earlier, unrelated slot event (another action set it): before the form's action.
    events.insert(form, {"event": "slot", "timestamp": 0.0, "name": "country_code", "value": "zz"})
    response = rig.call(body)
    assert response.status_code == 200
    assert slot_events(response.json()) == {"role": "supervisor_agent", "requested_slot": "call_preference"}
    assert "country code" not in texts(response.json()).casefold()
