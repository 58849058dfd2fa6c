"""The checklist and the report as conversation answers (`bot.troubleshoot.conversation.answer`) and
users found by name (`Troubleshooter.find_people`, `match_people`): T9 by name too, the audit, the
document shapes the channels lay out, and how unanswered questions come back."""

from __future__ import annotations

import logging

import pytest

from bot.app import build_assistant
from bot.flow.effects import Answered, FailureReport, NotAnswered, Troubleshoot, Unanswered
from bot.settings import Settings
from bot.troubleshoot import NoDirectory, NotAllowed, Person, match_people
from bot.troubleshoot.conversation import answer
from tests.troubleshoot.conftest import ADMIN, ENV_ADMIN, World, attempt, run

AVA = "ava.lead@example.com"
ALEX = "alex.agent@example.com"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

PEOPLE = [
    Person("ava.lead@example.com", "Ava Lead"),
    Person("dana.digital@example.com", "Dana Digital"),
    Person("ines.martin@example.com", "Inès Martin"),
    Person("alex.agent@example.com", "Alex Agent"),
    Person("busy.agent@example.com", "Busy Agent"),
]


# -- names --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Ava", ["ava.lead@example.com"]),  # exact beats Dana, one letter away
        ("ava lead", ["ava.lead@example.com"]),
        ("Avva", ["ava.lead@example.com"]),  # a typo
        ("Ines", ["ines.martin@example.com"]),  # accents aside
        ("INÈS MARTIN", ["ines.martin@example.com"]),
        ("Agent", ["alex.agent@example.com", "busy.agent@example.com"]),  # several: ask which one
        ("Zoe", []),
        ("Ava Martin", []),  # every word must name the same person
        ("", []),
    ],
)
def test_match_people(name: str, expected: list[str]) -> None:
    assert [p.email for p in match_people(name, PEOPLE)] == expected


def test_an_administrator_finds_people_by_name_and_it_is_audited(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginbot.audit")
    found = run(world.troubleshooter().find_people(ADMIN, "Ava"))
    assert found == [Person(AVA, "Ava Lead")]
    (line,) = [r.getMessage() for r in caplog.records if r.name == "loginbot.audit"]
    assert f"requester={ADMIN}" in line and "decision=allowed" in line and "matches=1" in line


def test_anyone_finds_themselves_by_name_but_nobody_else(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="loginbot.audit")
    assert [p.email for p in run(world.troubleshooter().find_people(ALEX, "Alex"))] == [ALEX]
    with pytest.raises(NotAllowed):
        run(world.troubleshooter().find_people(ALEX, "Ava"))
    with pytest.raises(NotAllowed):  # nor learns that nobody is called Zoe
        run(world.troubleshooter().find_people(ALEX, "Zoe"))
    refusals = [
        r for r in caplog.records if r.name == "loginbot.audit" and "decision=refused" in r.getMessage()
    ]
    assert len(refusals) == 2 and all(r.levelno == logging.WARNING for r in refusals)


# -- answers ------------------------------------------------------------------------------------------


def test_a_checklist_answer_has_the_text_and_one_section_per_item_problems_first(world: World) -> None:
    world.commit(attempt(AVA, "failure", "DUPLICATE_LOCATION", tracking_id="LOGINBOT-t-1"))
    result = run(answer(world.troubleshooter(), ADMIN, Troubleshoot(target_email=AVA, language="fr")))
    assert isinstance(result, Answered)
    document = result.document
    assert document.title == "Liste de vérification de connexion de Ava Lead (ava.lead@example.com)"
    statuses = [s.status for s in document.sections]
    assert statuses == sorted(statuses, key=["problem", "unknown", "ok"].index)
    assert statuses[0] == "problem" and document.sections[0].status_label == "problème"
    assert {s.title.split(" ")[0] for s in document.sections} == {f"T{n}" for n in range(1, 9)}
    for section in document.sections:  # the plain text holds everything the document shows
        assert section.title in result.text and all(line in result.text for line in section.lines)


def test_a_tracking_id_answer_leads_with_the_attempt(world: World) -> None:
    world.commit(attempt(ALEX, "failure", "TEAM_REQUIRED", tracking_id="LOGINBOT-t-2"))
    result = run(answer(world.troubleshooter(), ADMIN, Troubleshoot(tracking_id="LOGINBOT-t-2")))
    assert isinstance(result, Answered)
    assert result.document.intro[1] == "Tracking id LOGINBOT-t-2:"
    assert "TEAM_REQUIRED" in result.document.intro[2]


def test_a_report_answer_has_a_table_and_a_png_chart(world: World) -> None:
    world.commit(attempt(AVA, "failure", "DUPLICATE_LOCATION"), attempt(ALEX, "success"))
    result = run(answer(world.troubleshooter(), ENV_ADMIN, FailureReport(days=3, language="en")))
    assert isinstance(result, Answered)
    table = result.document.table
    assert table is not None and table.header == ("Day", "Successes", "Failures", "Failures by reason")
    assert len(table.rows) == 3 and table.footer == ("Total", "1", "1", "DUPLICATE_LOCATION 1")
    (chart,) = result.document.attachments
    assert chart.mime_type == "image/png" and chart.data.startswith(PNG_SIGNATURE)
    assert chart.filename.endswith(".png")


@pytest.mark.parametrize(
    ("requester", "effect", "why"),
    [
        (ALEX, Troubleshoot(target_email=AVA), Unanswered.REFUSED),
        (ALEX, Troubleshoot(target_name="Ava"), Unanswered.REFUSED),
        (ALEX, FailureReport(), Unanswered.REFUSED),
        (ADMIN, Troubleshoot(tracking_id="LOGINBOT-nope"), Unanswered.TRACKING_ID_UNKNOWN),
        (ADMIN, Troubleshoot(target_name="Zoe"), Unanswered.NOBODY),
    ],
)
def test_unanswered_questions_say_why(
    world: World, requester: str, effect: Troubleshoot, why: Unanswered
) -> None:
    result = run(answer(world.troubleshooter(), requester, effect))
    assert result == NotAnswered(effect, why)


def test_a_name_on_a_backend_that_cannot_list_users_asks_for_an_email(world: World) -> None:
    troubleshooter = world.troubleshooter(directory=NoDirectory())
    effect = Troubleshoot(target_name="Ava")
    assert run(answer(troubleshooter, ADMIN, effect)) == NotAnswered(effect, Unanswered.NO_DIRECTORY)


def test_no_target_is_the_requesters_own_checklist(world: World) -> None:
    result = run(answer(world.troubleshooter(), ALEX, Troubleshoot()))
    assert isinstance(result, Answered) and result.document.title.endswith("(alex.agent@example.com)")


def test_build_assistant_takes_the_administrators_from_loginbot_admins(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(str(tmp_path))
    monkeypatch.setenv("LOGINBOT_ADMINS", "Helpdesk@Example.com")
    monkeypatch.setenv("LOGINBOT_DATABASE_URL", f"sqlite:///{tmp_path}/x.db")
    monkeypatch.setenv("LOGINBOT_SIMULATOR_STATE", f"{tmp_path}/sim.json")
    assistant = build_assistant(Settings())
    try:
        result = run(answer(assistant.troubleshooter, "helpdesk@example.com", FailureReport(days=1)))
        assert isinstance(result, Answered)
    finally:
        run(assistant.aclose())
