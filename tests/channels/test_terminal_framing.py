"""Line mode's promise to a program holding the conversation: each turn's output ends with exactly
one empty line, and no reply contains an empty line, even a long one with paragraphs (the
troubleshooting checklist, the failure report). Their structure stays readable without blank lines:
each item starts with its mark, its details indented under it."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from bot.channels.render import plain_lines
from bot.channels.terminal.chat import run_line_mode
from bot.flow.replies import Choice, Reply
from tests.golden.harness import Rig

ADMIN = "root.admin@example.com"
MESSAGES = ["checklist for ava.lead@example.com", "failure report", "help", "vérifie ava.lead@example.com"]


def test_the_checklist_keeps_the_framing_one_empty_line_per_turn_at_its_end(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    rig.assistant.progress_after = 60  # no "Putting it together…" line on a loaded machine
    out = io.StringIO()
    try:
        stdin = io.StringIO("".join(f"{m}\n" for m in MESSAGES))
        assert asyncio.run(run_line_mode(rig.assistant, ADMIN, "en", stdin, out)) == 0
    finally:
        rig.store.close()
    lines = out.getvalue().split("\n")
    assert lines[-1] == ""  # the output ends with a line break
    lines = lines[:-1]
    empty = [n for n, line in enumerate(lines) if not line.strip()]
    assert len(empty) == 1 + len(MESSAGES), empty  # the greeting's turn, then one per message
    assert empty[-1] == len(lines) - 1  # the last turn ends with its empty line
    assert all(lines[n - 1].strip() for n in empty)  # never two in a row: every turn says something
    turns = out.getvalue()[:-2].split("\n\n")
    checklist = turns[1].split("\n")
    assert checklist[0] == "Sign-in checklist for Ava Lead (ava.lead@example.com)"
    marks = [line for line in checklist if line.startswith(("[!] ", "[?] ", "[ok] "))]
    assert len(marks) == 8  # one line per item, each starting with its mark
    assert "   • Contact center: enabled." in checklist  # details stay indented under their item
    assert "Sign-in attempts, " in turns[2] and "Total" in turns[2]


def test_no_rendered_line_is_blank_whatever_the_text_holds() -> None:
    reply = Reply(
        key="x",
        text="Title\n\nFirst paragraph.\r\n   \nSecond\u2028paragraph.\n",
        fields={"Team": "Billing\n\nEscalations"},
        choices=(Choice("a", "One\n"), Choice("b", "Two")),
    )
    lines = plain_lines(reply)
    assert lines == [
        "Title",
        "First paragraph.",
        "Second",
        "paragraph.",
        "  Team: Billing",
        "Escalations",
        "  1. One",
        "  2. Two",
    ]
    assert plain_lines(Reply(key="y", text="")) == []
