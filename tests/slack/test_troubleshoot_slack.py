"""The troubleshooting checklist and the failure report in Slack (U3, T9), through signed requests:
the checklist as Block Kit within Slack's limits, refusals, the report's chart uploaded with
`files_upload_v2` (the three steps, against the Web API double), the `/loginbot` command, and "which
one?" when a name designates several users."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.backend.simulator import DEMO_TENANT_FILE, load_tenant
from bot.channels.slack import blocks as kit
from storage import KEEP, AttemptRecord, ConversationKey, PreferencesRecord

from .double import Call, SlackDouble, user_id_for
from .support import SlackRig, im_of, texts_of

ADMIN = "root.admin@example.com"
AGENT = "alex.agent@example.com"
AVA = "ava.lead@example.com"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def blocks_of(posts: list[Call]) -> list[dict[str, Any]]:
    return [b for post in posts for b in post.args.get("blocks") or []]


def ask(rig: SlackRig, email: str, text: str) -> list[dict[str, Any]]:
    mark = rig.double.mark()
    assert rig.dm(email, text).status_code == 200
    return blocks_of(rig.wait_posts(email, mark))


def record_attempts(rig: SlackRig, *attempts: AttemptRecord) -> None:
    rig.store.commit_turn(
        key=ConversationKey("test", "setup", "history"),
        state={},
        step=None,
        language=None,
        expected_version=None,
        attempts=list(attempts),
        session=KEEP,
    )


def failure(email: str, reason: str, tracking_id: str, *, days_ago: int = 0) -> AttemptRecord:
    started = datetime.now(UTC) - timedelta(days=days_ago, minutes=5)
    return AttemptRecord(
        email=email,
        channel="slack",
        outcome="failure",
        started_at=started,
        finished_at=started + timedelta(seconds=1),
        reason=reason,
        tracking_id=tracking_id,
    )


def assert_within_slack_limits(blocks: list[dict[str, Any]]) -> None:
    assert len(blocks) <= kit.MAX_BLOCKS
    for block in blocks:
        text = block.get("text") or {}
        if block["type"] == "header":
            assert text["type"] == "plain_text" and len(text["text"]) <= kit.MAX_HEADER_CHARS
        elif text:
            assert len(text["text"]) <= kit.MAX_SECTION_CHARS
        for element in block.get("elements") or []:
            if block["type"] == "context":
                assert len(element["text"]) <= kit.MAX_CONTEXT_CHARS
        assert len(block.get("elements") or []) <= 10


def test_an_administrator_gets_the_checklist_as_blocks_problems_first(rig: SlackRig) -> None:
    rig.store.save_preferences(
        PreferencesRecord(
            email=AVA,
            role="supervisor_agent",
            call_preference="dial_number",
            dial_number="+14155550123",  # busy.agent is signed in on it
            team_id="t-billing",
            auto_login=True,
        )
    )
    record_attempts(rig, failure(AVA, "DUPLICATE_LOCATION", "LOGINBOT-ava-1"))
    blocks = ask(rig, ADMIN, "why can't ava.lead@example.com sign in?")
    assert kit.reply_keys(blocks) == ["troubleshoot.checklist"]
    assert_within_slack_limits(blocks)
    header = blocks[0]
    assert header["type"] == "header"
    assert header["text"]["text"] == "Sign-in checklist for Ava Lead (ava.lead@example.com)"
    items = [b for b in blocks if b["type"] == "section" and b["text"]["text"].startswith(":")]
    assert len(items) == 8  # T1-T8, one section each
    marks = [item["text"]["text"].split(" ")[0] for item in items]
    assert marks[:2] == [":red_circle:", ":red_circle:"]  # the two problems lead
    assert marks == sorted(marks, key=[":red_circle:", ":large_yellow_circle:", ":white_check_mark:"].index)
    assert "*T5 RONA and the call device*" in items[0]["text"]["text"]
    evidence = next(b for b in blocks if b["type"] == "context")
    assert [e["type"] for e in evidence["elements"]] == ["plain_text", "plain_text"]  # evidence, fix
    assert "+*********23" in evidence["elements"][0]["text"]
    assert evidence["elements"][1]["text"].startswith("→ ")
    text = texts_of(blocks)
    assert "LOGINBOT-ava-1" in text and "+14155550123" not in text  # X4: the number is masked


def test_a_non_administrator_is_refused_and_the_refusal_is_audited(
    rig: SlackRig, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="loginbot.audit"):
        blocks = ask(rig, AGENT, "why can't ava.lead@example.com sign in?")
    assert kit.reply_keys(blocks) == ["troubleshoot.refused"]
    assert not any(b["type"] == "header" for b in blocks)
    assert "Only administrators can see another user's sign-in checklist" in texts_of(blocks)
    assert "Ava Lead" not in texts_of(blocks)
    audited = [r.getMessage() for r in caplog.records if r.name == "loginbot.audit"]
    assert any(
        f"requester={AGENT}" in line and f"target={AVA}" in line and "decision=refused" in line
        for line in audited
    ), audited
    blocks = ask(rig, AGENT, "failure report")
    assert kit.reply_keys(blocks) == ["troubleshoot.report_refused"]
    assert rig.double.shared_files() == []


def test_the_report_is_a_table_and_a_png_chart_uploaded_in_three_steps(
    rig: SlackRig, double: SlackDouble
) -> None:
    record_attempts(
        rig,
        failure(AVA, "DUPLICATE_LOCATION", "LOGINBOT-r-1", days_ago=1),
        failure(AGENT, "TEAM_REQUIRED", "LOGINBOT-r-2", days_ago=2),
    )
    blocks = ask(rig, ADMIN, "show me the sign-in failure report for the last 14 days")
    assert kit.reply_keys(blocks) == ["troubleshoot.report"]
    assert_within_slack_limits(blocks)
    assert blocks[0]["type"] == "header" and blocks[0]["text"]["text"].startswith("Sign-in attempts, ")
    table = "".join(b["text"]["text"] for b in blocks if b["type"] == "section")
    assert table.startswith("```") and "DUPLICATE_LOCATION 1" in table and "TEAM_REQUIRED 1" in table
    assert table.count("\n") + 1 == 2 + 14 + 2  # header and rule, fourteen days, rule and total
    im = im_of(user_id_for(ADMIN))
    shared = double.wait_for(lambda: double.shared_files(channel=im), what="the chart")
    assert len(shared) == 1
    chart = shared[0]
    assert chart.data is not None and chart.data.startswith(PNG_SIGNATURE)
    assert chart.filename.endswith(".png") and chart.length == len(chart.data)
    steps = [c.method for c in double.snapshot() if c.method.startswith("files.") or c.method == "upload"]
    assert steps == ["files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


def test_loginbot_command_in_a_channel_answers_privately_and_sends_the_chart_to_the_dm(
    rig: SlackRig, double: SlackDouble
) -> None:
    mark = double.mark()
    assert rig.command(ADMIN, "/loginbot", "failure report", channel="C0GENERAL").status_code == 200
    responded = double.wait_for(lambda: double.since(mark, "respond"), what="the response_url")
    blocks = responded[0].args["blocks"]
    assert kit.reply_keys(blocks) == ["troubleshoot.report"]
    assert responded[0].args.get("response_type") == "ephemeral"
    im = im_of(user_id_for(ADMIN))
    shared = double.wait_for(lambda: double.shared_files(channel=im), what="the chart in the DM")
    assert shared[0].data is not None and shared[0].data.startswith(PNG_SIGNATURE)
    assert not double.shared_files(channel="C0GENERAL")
    assert not [c for c in double.since(mark, "chat.postMessage") if c.args.get("channel") == "C0GENERAL"]


def test_loginbot_command_in_the_dm_gives_a_checklist_by_name(rig: SlackRig, double: SlackDouble) -> None:
    mark = double.mark()
    assert rig.command(ADMIN, "/loginbot", "checklist for Ava").status_code == 200
    blocks = blocks_of(rig.wait_posts(ADMIN, mark))
    assert kit.reply_keys(blocks) == ["troubleshoot.checklist"]
    assert blocks[0]["text"]["text"] == "Sign-in checklist for Ava Lead (ava.lead@example.com)"


@pytest.fixture
def two_avas_rig(tmp_path: Path, double: SlackDouble) -> Iterator[SlackRig]:
    data = yaml.safe_load(DEMO_TENANT_FILE.read_text(encoding="utf-8"))
    ava = next(user for user in data["users"] if user["email"] == AVA)
    other = {
        **ava,
        "ciUserId": "ci-ava-other",
        "email": "ava.other@example.com",
        "lastName": "Other",
        "simulator": {**ava["simulator"], "extensions": ["1091"], "dialNumbers": []},
    }
    other.pop("deafultDialledNumber", None)
    data["users"].append(other)
    path = tmp_path / "two_avas.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    running = SlackRig(tmp_path, double, tenant=load_tenant(path))
    yield running
    running.stop()


def test_a_name_two_users_share_asks_which_one_and_a_click_answers(two_avas_rig: SlackRig) -> None:
    rig = two_avas_rig
    blocks = ask(rig, ADMIN, "checklist for Ava")
    assert kit.reply_keys(blocks) == ["troubleshoot.which_one"]
    buttons = [e for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert {b["value"] for b in buttons} == {
        "troubleshoot:ava.lead@example.com",
        "troubleshoot:ava.other@example.com",
    }
    mark = rig.double.mark()
    assert rig.click(ADMIN, "troubleshoot:ava.other@example.com").status_code == 200
    blocks = blocks_of(rig.wait_posts(ADMIN, mark))
    assert kit.reply_keys(blocks) == ["troubleshoot.checklist"]
    assert blocks[0]["text"]["text"] == "Sign-in checklist for Ava Other (ava.other@example.com)"


def test_the_manifest_declares_the_command_and_the_scope_the_report_needs() -> None:
    manifest = yaml.safe_load((Path(__file__).resolve().parents[2] / "slack" / "manifest.yml").read_text())
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert commands["/loginbot"]["url"].endswith("/slack/events")
    assert "files:write" in manifest["oauth_config"]["scopes"]["bot"]  # files_upload_v2 (the chart)
