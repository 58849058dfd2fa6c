"""`action_troubleshoot_login`: the sign-in troubleshooting checklist (U3, T1-T8) through the real
action server, and who may see whose (T9): administrators anyone's, everyone their own."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.channels.rasa import RasaSettings
from bot.channels.rasa.actions import email_in, name_in, tracking_id_in
from bot.identity import IdentitySettings

from .support import ENV_ADMIN, Conversation, Rig, run_action, running_server, start, step, texts

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

AVA = "ava.lead@example.com"
ADMIN = "root.admin@example.com"  # the tenant's admin role
REFUSED = "Only administrators can see another user's sign-in checklist. You can ask for your own."


def ask(rig: Rig, who: str, text: str, entities: list[dict[str, object]] | None = None) -> str:
    conversation = Conversation(sender_id=who, email=who)
    conversation.user(text, "troubleshoot", entities)
    return texts(run_action(rig, conversation, "action_troubleshoot_login"))


def test_an_administrator_sees_another_users_checklist(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="loginbot.audit"):
        said = ask(
            rig,
            ADMIN,
            f"show the troubleshooting checklist for {AVA}",
            [{"entity": "email", "value": AVA, "start": 35, "end": 55}],
        )
    assert said.startswith(f"Sign-in checklist for Ava Lead ({AVA})")
    for item in ("T1", "T2", "T3", "T4", "T5", "T6", "T7", "T8"):
        assert f" {item} " in said
    assert f"requester={ADMIN} target={AVA} decision=allowed basis=tenant" in caplog.text


def test_an_administrator_by_setting_and_by_name(rig: Rig) -> None:
    said = ask(rig, ENV_ADMIN, "checklist for Ava")  # LOGINBOT_ADMINS; the name, not the email
    assert said.startswith(f"Sign-in checklist for Ava Lead ({AVA})")
    said = ask(rig, ENV_ADMIN, "why can't Inès Martin sign in?")
    assert said.startswith("Sign-in checklist for Inès Martin (ines.martin@example.com)")
    assert "I can't find a user called Zork" in ask(rig, ENV_ADMIN, "checklist for Zork")
    said = ask(rig, ENV_ADMIN, "checklist for ava lead")  # typed in lowercase
    assert said.startswith(f"Sign-in checklist for Ava Lead ({AVA})")


def test_anyone_else_is_refused_and_the_refusal_is_logged(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="loginbot.audit"):
        said = ask(rig, "alex.agent@example.com", f"why can't {AVA} sign in?")
        by_name = ask(rig, "alex.agent@example.com", "checklist for Ava")
    assert said == REFUSED and by_name == REFUSED
    assert "Ava Lead" not in said + by_name
    refusals = [r for r in caplog.records if "decision=refused" in r.getMessage()]
    assert len(refusals) == 2 and all(r.levelno == logging.WARNING for r in refusals)
    assert f"requester=alex.agent@example.com target={AVA} decision=refused" in caplog.text


def test_everyone_sees_their_own(rig: Rig) -> None:
    said = ask(rig, "alex.agent@example.com", "why did my login fail?")
    assert said.startswith("Sign-in checklist for Alex Agent (alex.agent@example.com)")
    said = ask(rig, "alex.agent@example.com", "checklist for alex.agent@example.com")
    assert said.startswith("Sign-in checklist for Alex Agent (alex.agent@example.com)")
    said = ask(rig, "alex.agent@example.com", "checklist for Alex")
    assert said.startswith("Sign-in checklist for Alex Agent (alex.agent@example.com)")


def test_lookup_by_tracking_id(rig: Rig) -> None:
    # Ava's sign-in fails on a number in use; she gives the tracking id to an administrator.
    ava = Conversation()
    start(rig, ava)
    for text, candidates in (
        ("both", {"role": "supervisor_agent"}),
        ("dial number", {"call_preference": "dial_number"}),
        ("+1 415 555 0123", {"dial_number": "+1 415 555 0123"}),
        ("billing", {"team": "billing"}),
        ("no", {"auto_login": False}),
        ("yes", {"confirm": True}),
    ):
        step(rig, ava, text, **candidates)
    run_action(rig, ava, "action_station_login")
    [attempt] = rig.store.recent_attempts(AVA)
    assert attempt.reason == "DUPLICATE_LOCATION" and attempt.tracking_id

    said = ask(rig, ADMIN, f"what happened to tracking id {attempt.tracking_id}?")
    assert said.startswith(f"Sign-in checklist for Ava Lead ({AVA})")
    focus = said.split("\n\n")[1]  # the attempt asked about leads the checklist
    assert attempt.tracking_id in focus, said
    # The entity, where the deployment's NLU extracts one, works the same.
    entity = [{"entity": "tracking_id", "value": attempt.tracking_id, "start": 0, "end": 10}]
    assert ask(rig, ADMIN, "this one please", entity).startswith("Sign-in checklist for Ava Lead")
    # T9 holds on the attempt's user; an unknown id says so.
    assert ask(rig, "alex.agent@example.com", f"tracking id {attempt.tracking_id}") == REFUSED
    assert (
        ask(rig, ADMIN, "tracking id LOGINBOT-nope")
        == "No sign-in attempt has the tracking id LOGINBOT-nope."
    )


def test_french(rig: Rig) -> None:
    said = ask(rig, "ines.martin@example.com", "pourquoi ma connexion a échoué ?")
    assert said.startswith("Liste de vérification")


def test_identity_is_required(tmp_path: Path) -> None:
    settings = RasaSettings(trust_email_metadata=False)
    with running_server(tmp_path, rasa=settings, identity=IdentitySettings(outbox=tmp_path / "o")) as rig:
        said = ask(rig, ADMIN, f"checklist for {AVA}")  # the metadata's email is not proof here
    assert "check who you are" in said


@pytest.mark.parametrize(
    ("text", "language", "name"),
    [
        ("checklist for Ava", "en", "Ava"),
        ("checklist for ava lead", "en", "ava lead"),  # typed in lowercase: the same person
        ("what's wrong with Ava Lead's sign-in?", "en", "Ava Lead"),
        ("why can't Inès Martin sign in?", "en", "Inès Martin"),
        ("liste de vérification pour Inès Martin", "fr", "Inès Martin"),
        ("pourquoi ines martin ne peut pas se connecter ?", "fr", "ines martin"),
        ("why did my login fail?", "en", None),
        ("why can't I sign in?", "en", None),  # the requester's own
        ("I got RONA", "en", None),
        ("Microsoft Teams authentication failed", "en", None),
        ("Hi. I can't sign in. Please help", "en", None),  # capitals that start sentences
    ],
)
def test_names_in_requests(text: str, language: str, name: str | None) -> None:
    assert name_in(text, language) == name


def test_tracking_ids_and_emails_in_requests() -> None:
    assert tracking_id_in("what does tracking id LOGINBOT-A19C2E mean?") == "LOGINBOT-A19C2E"
    uuid = "5f0c6b2e-3c1d-4e8f-9a7b-1c2d3e4f5a6b"
    assert tracking_id_in(f"id WXCC_{uuid} please") == f"WXCC_{uuid}"
    assert tracking_id_in("why did my login fail?") is None
    assert email_in("why can't Ava.Lead@Example.com sign in?") == AVA
    assert email_in("no address here") is None
