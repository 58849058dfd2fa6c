"""Each checklist item (T1-T8) in its ok, problem and unknown states, from real simulator facts and
a real store."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from bot.backend.simulator.tenant import TeamsAuthStatus
from bot.troubleshoot import Checklist, NoDiagnostics, Status, Troubleshooter
from storage import ActiveSessionRecord, ConversationKey, PreferencesRecord
from tests.troubleshoot.conftest import ENV_ADMIN, NOW, UnauthorizedBackend, World, attempt, run

AVA = "ava.lead@example.com"
BUSY = "busy.agent@example.com"


def status(world: World, target: str, item: str, **kwargs: Any) -> Status:
    return run(world.checklist(target, **kwargs)).item(item).status


def unauthorized(world: World, target: str = AVA) -> Checklist:
    troubleshooter = Troubleshooter(
        UnauthorizedBackend(world.core),
        world.store,
        admins=frozenset({ENV_ADMIN}),
        diagnostics=NoDiagnostics(),
    )
    return run(troubleshooter.checklist(ENV_ADMIN, target, "en"))


def ava_prefs(**changes: object) -> PreferencesRecord:
    values: dict[str, object] = {
        "email": AVA,
        "role": "supervisor_agent",
        "call_preference": "dial_number",
        "dial_number": "+14155550101",
        "team_id": "t-billing",
        "auto_login": True,
        "language": "en",
    }
    values.update(changes)
    return PreferencesRecord(**values)  # type: ignore[arg-type]


# -- T1 ---------------------------------------------------------------------------------------------


def test_t1_ok_for_a_complete_account(world: World) -> None:
    item = run(world.checklist(AVA)).item("T1")
    assert item.status is Status.OK
    text = "\n".join(item.evidence)
    assert "Contact center: enabled" in text and "Skills: Billing, Sales, English" in text
    assert "Teams (12)" in text


@pytest.mark.parametrize(
    ("email", "words"),
    [
        ("nora.noteam@example.com", "No team is assigned"),
        ("sky.noskills@example.com", "No skill is assigned"),
        ("carl.closed@example.com", "NOT enabled"),
        ("nobody@example.com", "No contact-center user"),
    ],
)
def test_t1_problem(world: World, email: str, words: str) -> None:
    item = run(world.checklist(email)).item("T1")
    assert item.status is Status.PROBLEM
    assert words in item.evidence[0]
    assert item.fix


def test_t1_unknown_during_an_outage(world: World) -> None:
    world.core.set_outage(True)
    item = run(world.checklist(AVA)).item("T1")
    assert item.status is Status.UNKNOWN
    assert "SERVICE_ERROR" in item.evidence[0]


# -- T2 ---------------------------------------------------------------------------------------------


def test_t2_ok_reachable_without_recent_errors(world: World) -> None:
    world.commit(attempt(AVA, "failure", "SERVICE_ERROR", at=NOW - timedelta(hours=30)))  # too old to count
    item = run(world.checklist(AVA)).item("T2")
    assert item.status is Status.OK
    assert any("answered the profile read in" in line for line in item.evidence)


def test_t2_problem_during_an_outage(world: World) -> None:
    world.core.set_outage(True)
    item = run(world.checklist(AVA)).item("T2")
    assert item.status is Status.PROBLEM
    assert any("outage" in line for line in item.evidence)
    assert any("SERVICE_ERROR" in line for line in item.evidence)
    world.core.set_outage(False)
    assert status(world, AVA, "T2") is Status.OK


def test_t2_problem_with_recent_api_errors_and_rate_limiting(world: World) -> None:
    world.commit(
        attempt(BUSY, "failure", "RATE_LIMITED", at=NOW - timedelta(hours=1)),
        attempt(
            AVA, "failure", "SERVICE_ERROR", at=NOW - timedelta(minutes=5), tracking_id="LOGINBOT-latest"
        ),
        attempt(AVA, "failure", "DUPLICATE_LOCATION", at=NOW - timedelta(minutes=50)),  # not an API error
    )
    item = run(world.checklist(AVA)).item("T2")
    assert item.status is Status.PROBLEM
    text = "\n".join(item.evidence)
    assert "SERVICE_ERROR × 1" in text and "RATE_LIMITED × 1" in text and "(1 for this user)" in text
    assert "LOGINBOT-latest" in text and "HTTP 429" in text


def test_t2_unknown_when_the_profile_cannot_be_read(world: World) -> None:
    item = unauthorized(world).item("T2")
    assert item.status is Status.UNKNOWN
    assert "AUTHORIZATION_REQUIRED" in item.evidence[0]


# -- T3 ---------------------------------------------------------------------------------------------


def test_t3_ok_signed_in_elsewhere_or_not_at_all(world: World) -> None:
    assert status(world, AVA, "T3") is Status.OK
    item = run(world.checklist(BUSY)).item("T3")
    assert item.status is Status.OK
    assert "Signed in now" in item.evidence[0] and "+*********23" in item.evidence[0]
    assert "+14155550123" not in "\n".join(item.evidence)


def test_t3_problem_when_the_recorded_session_is_gone(world: World) -> None:
    key = ConversationKey("slack", "T1", AVA)
    world.commit(session=ActiveSessionRecord(AVA, key, "gone-session", NOW - timedelta(hours=2)))
    item = run(world.checklist(AVA)).item("T3")
    assert item.status is Status.PROBLEM
    assert "no longer has it" in item.evidence[-1]
    assert "reloads the browser" in item.fix


def test_t3_problem_after_a_session_failure(world: World) -> None:
    world.commit(attempt(AVA, "failure", "SESSION_ALREADY_ACTIVE"))
    item = run(world.checklist(AVA)).item("T3")
    assert item.status is Status.PROBLEM
    assert "continue here" in item.fix


def test_t3_unknown_during_an_outage(world: World) -> None:
    world.core.set_outage(True)
    assert status(world, AVA, "T3") is Status.UNKNOWN


# -- T4 ---------------------------------------------------------------------------------------------


def test_t4_states(world: World) -> None:
    ok = run(world.checklist(AVA)).item("T4")
    assert ok.status is Status.OK and "reload" in ok.fix
    assert unauthorized(world).item("T4").status is Status.UNKNOWN
    world.core.set_outage(True)
    problem = run(world.checklist(AVA)).item("T4")
    assert problem.status is Status.PROBLEM and "reloads the browser" in problem.fix


# -- T5 ---------------------------------------------------------------------------------------------


def test_t5_ok_when_the_saved_number_is_valid_and_free(world: World) -> None:
    world.commit(preferences=ava_prefs())
    item = run(world.checklist(AVA)).item("T5")
    assert item.status is Status.OK
    assert "valid and free" in item.evidence[0]


def test_t5_problem_when_the_saved_number_is_in_use(world: World) -> None:
    world.commit(preferences=ava_prefs(dial_number="+14155550123"))  # busy.agent's live session
    item = run(world.checklist(AVA)).item("T5")
    assert item.status is Status.PROBLEM
    assert "in use by another user's session" in item.evidence[0]
    assert "+14155550123" not in "\n".join(item.evidence)


def test_t5_problem_when_the_saved_number_is_no_longer_valid(world: World) -> None:
    world.commit(preferences=ava_prefs(dial_number="+15550100"))
    item = run(world.checklist(AVA)).item("T5")
    assert item.status is Status.PROBLEM
    assert "no longer valid" in item.evidence[0]


def test_t5_problem_after_number_failures_with_tracking_id(world: World) -> None:
    world.commit(attempt(AVA, "failure", "DUPLICATE_LOCATION", tracking_id="LOGINBOT-dup"))
    item = run(world.checklist(AVA)).item("T5")
    assert item.status is Status.PROBLEM
    assert "LOGINBOT-dup" in item.evidence[0] and "tracking id" in item.fix


def test_t5_unknown_advice_for_desktop(world: World) -> None:
    world.commit(preferences=ava_prefs(call_preference="desktop", dial_number=None))
    item = run(world.checklist(AVA)).item("T5")
    assert item.status is Status.UNKNOWN
    assert "E911 notice acknowledged: no" in item.evidence[0]
    assert "microphone" in item.fix and "E911" in item.fix


def test_t5_unknown_when_the_backend_cannot_tell_whether_the_number_is_free(world: World) -> None:
    world.commit(preferences=ava_prefs())
    item = run(world.checklist(AVA, diagnostics=NoDiagnostics())).item("T5")
    assert item.status is Status.UNKNOWN
    assert "cannot be told" in item.evidence[0]


# -- T6 ---------------------------------------------------------------------------------------------


def test_t6_states(world: World) -> None:
    assert status(world, "sky.noskills@example.com", "T6") is Status.OK
    failed = run(world.checklist("tina.teams@example.com")).item("T6")
    assert failed.status is Status.PROBLEM
    assert "Failed" in failed.evidence[0] and "Try again" in failed.fix
    assert status(world, AVA, "T6") is Status.UNKNOWN
    world.core.set_teams_auth_status("tina.teams@example.com", TeamsAuthStatus.SUCCESS)  # the retry worked
    assert status(world, "tina.teams@example.com", "T6") is Status.OK


# -- T7 ---------------------------------------------------------------------------------------------


def test_t7_ok_with_teams_or_for_supervisors(world: World) -> None:
    assert status(world, AVA, "T7") is Status.OK
    assert "no team is needed" in run(world.checklist("sam.supervisor@example.com")).item("T7").evidence[0]


def test_t7_problem_for_a_user_missing_a_team(world: World) -> None:
    item = run(world.checklist("nora.noteam@example.com")).item("T7")
    assert item.status is Status.PROBLEM and "Assign at least one team" in item.fix


def test_t7_problem_after_an_empty_team_failure(world: World) -> None:
    world.commit(attempt(AVA, "failure", "TEAM_REQUIRED", team_id=None))
    item = run(world.checklist(AVA)).item("T7")
    assert item.status is Status.PROBLEM and "Save and continue" in item.fix


def test_t7_problem_when_the_saved_team_is_no_longer_assigned(world: World) -> None:
    world.commit(preferences=ava_prefs(team_id="t-support-france"))
    assert status(world, AVA, "T7") is Status.PROBLEM


def test_t7_unknown_during_an_outage(world: World) -> None:
    world.core.set_outage(True)
    assert status(world, AVA, "T7") is Status.UNKNOWN


# -- T8 ---------------------------------------------------------------------------------------------


def test_t8_ok_with_preferences_and_a_successful_last_attempt(world: World) -> None:
    world.commit(
        attempt(AVA, "failure", "DUPLICATE_LOCATION", at=NOW - timedelta(days=1), tracking_id="LOGINBOT-old"),
        attempt(AVA, "success", at=NOW - timedelta(hours=1), tracking_id="LOGINBOT-new", automatic=True),
        preferences=ava_prefs(),
    )
    item = run(world.checklist(AVA)).item("T8")
    assert item.status is Status.OK
    text = "\n".join(item.evidence)
    assert "Auto-login: yes" in text and "Billing" in text and "+*********01" in text
    assert "valid and free" in text
    assert text.index("LOGINBOT-new") < text.index("LOGINBOT-old")  # newest first
    assert "auto-login" in text and "DUPLICATE_LOCATION" in text
    assert "+14155550101" not in text


def test_t8_problem_when_the_last_attempt_failed(world: World) -> None:
    world.commit(
        attempt(AVA, "failure", "INVALID_DIAL_NUMBER", tracking_id="LOGINBOT-bad"), preferences=ava_prefs()
    )
    item = run(world.checklist(AVA)).item("T8")
    assert item.status is Status.PROBLEM
    assert "LOGINBOT-bad" in item.fix and "stop logging me in automatically" in item.fix


def test_t8_unknown_with_nothing_recorded(world: World) -> None:
    item = run(world.checklist(AVA)).item("T8")
    assert item.status is Status.UNKNOWN
    assert "no saved preferences" in item.evidence[0]
