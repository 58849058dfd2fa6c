"""T9 authorization both ways, the audit log, tracking-id look-ups, both languages, ordering, JSON."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest

from bot.log import RedactingFilter
from bot.troubleshoot import ITEM_KEYS, NotAllowed, Status, TrackingIdNotFound
from bot.troubleshoot.texts import texts
from storage import PreferencesRecord
from tests.troubleshoot.conftest import ADMIN, ENV_ADMIN, NOW, World, attempt, run

AVA = "ava.lead@example.com"
ALEX = "alex.agent@example.com"


def audit_lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "loginbot.audit"]


# -- T9 ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("requester", "basis"), [(ENV_ADMIN, "LOGINBOT_ADMINS"), (ADMIN, "tenant")])
def test_administrators_see_anyone(
    world: World, caplog: pytest.LogCaptureFixture, requester: str, basis: str
) -> None:
    caplog.set_level(logging.INFO, logger="loginbot.audit")
    checklist = run(world.troubleshooter().checklist(requester, AVA, "en"))
    assert checklist.email == AVA
    (line,) = audit_lines(caplog)
    message = line.getMessage()
    assert f"requester={requester}" in message and f"target={AVA}" in message
    assert "decision=allowed" in message and f"basis={basis}" in message


def test_admins_setting_is_case_insensitive(world: World) -> None:
    troubleshooter = world.troubleshooter(admins=frozenset({"HelpDesk@Example.com "}))
    assert run(troubleshooter.checklist("helpdesk@example.com", AVA)).email == AVA


def test_a_non_admin_is_refused_someone_else_and_the_refusal_is_audited(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginbot.audit")
    with pytest.raises(NotAllowed) as refused:
        run(world.troubleshooter().checklist(ALEX, AVA, "en"))
    assert "Only administrators" in refused.value.message("en")
    assert "Seuls les administrateurs" in refused.value.message("fr")
    (line,) = audit_lines(caplog)
    assert line.levelno == logging.WARNING
    assert "decision=refused" in line.getMessage() and f"requester={ALEX}" in line.getMessage()


def test_anyone_sees_their_own_checklist(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="loginbot.audit")
    checklist = run(world.troubleshooter().checklist(ALEX.upper(), ALEX, "en"))
    assert checklist.email == ALEX
    assert "basis=self" in audit_lines(caplog)[0].getMessage()


def test_a_non_admin_is_refused_the_report(world: World) -> None:
    with pytest.raises(NotAllowed) as refused:
        run(world.troubleshooter().report(ALEX))
    assert refused.value.report
    assert run(world.troubleshooter().report(ADMIN)).days


# -- tracking id ------------------------------------------------------------------------------------


def test_lookup_by_tracking_id(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="loginbot.audit")
    world.commit(
        attempt(AVA, "failure", "DUPLICATE_LOCATION", tracking_id="LOGINBOT-1234", dial_number="+14155550123")
    )
    checklist = run(world.troubleshooter().by_tracking_id(ENV_ADMIN, " LOGINBOT-1234 ", "en"))
    assert checklist.email == AVA and checklist.tracking_id == "LOGINBOT-1234"
    assert checklist.focus[0] == "Tracking id LOGINBOT-1234:"
    assert "DUPLICATE_LOCATION" in checklist.focus[1] and "RONA item" in checklist.focus[2]
    assert checklist.to_text().splitlines()[3] == "Tracking id LOGINBOT-1234:"
    assert "tracking_id=LOGINBOT-1234" in audit_lines(caplog)[0].getMessage()


def test_lookup_by_tracking_id_checks_t9_on_the_attempts_user(world: World) -> None:
    world.commit(attempt(AVA, "failure", "TIMEOUT", tracking_id="LOGINBOT-ava"))
    with pytest.raises(NotAllowed):
        run(world.troubleshooter().by_tracking_id(ALEX, "LOGINBOT-ava"))
    assert run(world.troubleshooter().by_tracking_id(AVA, "LOGINBOT-ava")).email == AVA


def test_an_unknown_tracking_id(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="loginbot.audit")
    with pytest.raises(TrackingIdNotFound) as missing:
        run(world.troubleshooter().by_tracking_id(ENV_ADMIN, "LOGINBOT-nope"))
    assert "LOGINBOT-nope" in missing.value.message("en")
    assert "decision=not-found" in audit_lines(caplog)[0].getMessage()


# -- languages, ordering, shape -------------------------------------------------------------------


def test_catalogs_have_the_same_keys() -> None:
    assert texts().keys("en") == texts().keys("fr")


def test_both_languages_same_keys_french_text(world: World) -> None:
    english = run(world.checklist("tina.teams@example.com", "en"))
    french = run(world.checklist("tina.teams@example.com", "fr"))
    assert [(i.id, i.key, i.status) for i in english.items] == [(i.id, i.key, i.status) for i in french.items]
    assert french.language == "fr"
    assert french.item("T6").title == "Authentification Microsoft Teams"
    assert "Essayer à nouveau" in french.item("T6").fix and "Échec" in french.item("T6").evidence[0]
    assert french.title.startswith("Liste de vérification de connexion")
    assert "problème" in french.to_text()


def test_unknown_language_falls_back_to_english(world: World) -> None:
    assert run(world.checklist(AVA, "de")).language == "en"


def test_problems_first_then_unknown_then_ok(world: World) -> None:
    world.commit(attempt("nora.noteam@example.com", "failure", "TEAM_REQUIRED", team_id=None))
    checklist = run(world.checklist("nora.noteam@example.com"))
    ranks = [item.status.rank for item in checklist.items]
    assert ranks == sorted(ranks)
    assert checklist.items[0].status is Status.PROBLEM
    assert [i.id for i in checklist.problems] == sorted(i.id for i in checklist.problems)
    assert {i.id for i in checklist.items} == set(ITEM_KEYS)


def test_to_dict_shape(world: World) -> None:
    data = run(world.checklist(AVA)).to_dict()
    assert set(data) == {"email", "display_name", "language", "generated_at", "title", "summary"} | {
        "tracking_id",
        "focus",
        "items",
    }
    assert data["generated_at"] == NOW.isoformat()
    assert len(data["items"]) == 8
    for item in data["items"]:
        assert set(item) == {"id", "key", "status", "title", "evidence", "fix"}
        assert item["status"] in {"ok", "problem", "unknown"}
        assert ITEM_KEYS[item["id"]] == item["key"]
        assert isinstance(item["evidence"], list)


# -- X4 -------------------------------------------------------------------------------------------


def test_no_phone_number_unmasked_in_logs_or_output(world: World, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    number = "+14155550123"
    world.commit(
        attempt(AVA, "failure", "DUPLICATE_LOCATION", dial_number=number, at=NOW - timedelta(minutes=1)),
        preferences=PreferencesRecord(
            email=AVA, role="supervisor", call_preference="dial_number", dial_number=number
        ),
    )
    checklist = run(world.troubleshooter().checklist(ENV_ADMIN, AVA, "en"))
    assert number not in checklist.to_text()
    assert number not in str(checklist.to_dict())
    for record in audit_lines(caplog):
        assert "555" not in record.getMessage()  # audit lines carry no number at all, even unfiltered
    for record in caplog.records:
        RedactingFilter().filter(record)  # what the configured handler writes
        assert number not in record.getMessage()
