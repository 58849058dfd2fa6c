"""The actions through the real server: the login form slot by slot with the flow's validators, the
sign-in and its failures, sign-out, availability, preferences shared with every channel, identity."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from bot.channels.rasa import RasaSettings
from bot.identity import IdentitySettings

from .support import Conversation, Rig, running_server, slot_events, texts

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

AVA = "ava.lead@example.com"


def step(rig: Rig, conversation: Conversation, text: str, **candidates: Any) -> dict[str, Any]:
    """The user answers; Rasa maps the answer to candidates and calls validate_login_form."""
    conversation.user(text)
    response = rig.call(conversation.validate(**candidates))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    conversation.apply(body)
    return body


def start(rig: Rig, conversation: Conversation, text: str = "log me in", **candidates: Any) -> dict[str, Any]:
    conversation.user(text, "login")
    conversation.start_form()
    response = rig.call(conversation.validate(**candidates))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    conversation.apply(body)
    return body


def run_action(rig: Rig, conversation: Conversation, name: str) -> dict[str, Any]:
    response = rig.call(conversation.action(name))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    conversation.apply(body)
    return body


def ava_to_the_end(rig: Rig, conversation: Conversation, number: str = "+1 212 555 0102") -> None:
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
    assert slot_events(body) == {"auto_login": False, "requested_slot": None}  # the form is complete


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
    conversation.user("save")
    conversation.slots.update(slots)
    return run_action(rig, conversation, "action_station_login")


def test_a_number_in_use_says_why_with_the_tracking_id_and_asks_again(rig: Rig) -> None:
    conversation = Conversation()
    ava_to_the_end(rig, conversation, number="+14155550123")  # busy.agent's number
    body = run_action(rig, conversation, "action_station_login")
    said = texts(body)
    assert "+14155550123 is already in use" in said
    assert re.search(r"tracking id: LOGINBOT-[0-9a-f-]+", said)
    events = body["events"]
    assert {"event": "slot", "timestamp": None, "name": "dial_number", "value": None} in events
    assert events[-1]["event"] == "followup" and events[-1]["name"] == "login_form"
    [attempt] = rig.store.recent_attempts(AVA)
    assert (attempt.outcome, attempt.reason) == ("failure", "DUPLICATE_LOCATION")


@pytest.mark.parametrize(
    ("email", "slots", "reason", "words"),
    [
        (
            "busy.agent@example.com",
            {
                "role": "agent",
                "call_preference": "dial_number",
                "dial_number": "+14155550123",
                "auto_login": False,
            },
            "SESSION_ALREADY_ACTIVE",
            "already signed in",
        ),
        (
            "alex.agent@example.com",
            {"role": "supervisor", "call_preference": "extension", "extension": "2001", "auto_login": False},
            "ROLE_NOT_PERMITTED",
            "role",
        ),
        (
            "alex.agent@example.com",
            {
                "role": "agent",
                "call_preference": "dial_number",
                "dial_number": "+14155550199",
                "team": "t-tech-support",
                "auto_login": False,
            },
            "DEVICE_NOT_PERMITTED",
            "",
        ),
    ],
)
def test_failure_reasons_on_submit(
    rig: Rig, email: str, slots: dict[str, Any], reason: str, words: str
) -> None:
    conversation = Conversation(sender_id=email, email=email)
    start(rig, conversation)  # what the profile fills (a single team...)
    body = fail_on_submit(rig, conversation, **slots)
    said = texts(body)
    attempts = rig.store.recent_attempts(email)
    assert attempts and attempts[0].reason == reason, said
    assert words.casefold() in said.casefold()
    assert "tracking id" in said.casefold()


def test_an_incomplete_submit_hands_back_to_the_form(rig: Rig) -> None:
    conversation = Conversation()
    body = fail_on_submit(rig, conversation, role="supervisor_agent", call_preference="desktop")
    assert body["events"][-1] == {"event": "followup", "timestamp": None, "name": "login_form"}
    assert rig.store.recent_attempts(AVA) == []  # nothing is submitted without every answer (S10)


def test_sign_out_is_refused_during_an_interaction(rig: Rig) -> None:
    busy = Conversation(sender_id="busy", email="busy.agent@example.com")
    busy.user("sign me out", "logout")
    body = run_action(rig, busy, "action_station_logout")
    said = texts(body).casefold()
    assert "conversation" in said or "interaction" in said
    assert "signed out" not in said


def test_availability_preferences_auto_login_and_troubleshooting(rig: Rig) -> None:
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
    assert "troubleshooting checklist" in said


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
