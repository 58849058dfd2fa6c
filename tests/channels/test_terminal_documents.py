"""The checklist and the report in the terminal (U3): line mode prints the whole answer as plain
lines, followed by the usual empty line; the interactive mode lays the same answer out (statuses in
colour, evidence under each item with its continuation aligned, the report as a table)."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

from rich.console import Console

from bot.channels.terminal.chat import run_line_mode
from bot.channels.terminal.documents import render_document
from bot.flow.replies import Document, Section, Table
from tests.golden.harness import Rig

ADMIN = "root.admin@example.com"


def test_line_mode_prints_the_whole_checklist_then_an_empty_line(tmp_path: Path) -> None:
    rig = Rig(tmp_path)
    out = io.StringIO()
    lines = io.StringIO("why can't ava.lead@example.com sign in?\nfailure report\n")
    try:
        assert asyncio.run(run_line_mode(rig.assistant, ADMIN, "en", lines, out)) == 0
    finally:
        rig.store.close()
    text = out.getvalue()
    assert "Sign-in checklist for Ava Lead (ava.lead@example.com)" in text
    for item in range(1, 9):
        assert f" T{item} " in text
    assert "\n   • Contact center: enabled.\n" in text  # evidence, indented under its item
    assert "Sign-in attempts, " in text and "No sign-in attempt in this period." in text
    assert text.endswith("\n\n")


def test_the_interactive_layout_keeps_every_line_and_aligns_wrapped_evidence() -> None:
    long_line = "Saved Dial Number +*********23 is in use by another user's session, " * 3
    document = Document(
        title="Sign-in checklist for Ava Lead (ava.lead@example.com)",
        intro=("1 problem(s), 0 to check by hand, 1 fine.", "Tracking id LOGINBOT-x:"),
        sections=(
            Section(
                "T5 RONA and the call device", "problem", "problem", (long_line.strip(),), "Pick another one."
            ),
            Section("T1 Account [Billing]", "ok", "ok", ("Contact center: enabled.",)),
        ),
    )
    console = Console(width=80, record=True, color_system=None)
    console.print(render_document(document))
    text = console.export_text()
    lines = [line.rstrip() for line in text.splitlines()]
    assert lines[0] == "Sign-in checklist for Ava Lead (ava.lead@example.com)"
    assert "✗ T5 RONA and the call device — problem" in lines
    bullet = next(i for i, line in enumerate(lines) if line.startswith("   • Saved"))
    assert lines[bullet + 1].startswith("     ") and not lines[bullet + 1].startswith("      ")
    assert "   → Pick another one." in lines
    assert "✓ T1 Account [Billing] — ok" in lines  # tenant text with brackets is text, not markup


def test_the_report_table_right_aligns_its_counts() -> None:
    table = Table(
        ("Day", "Successes", "Failures", "Failures by reason"),
        (("2025-03-13", "1", "12", "DUPLICATE_LOCATION 12"), ("2025-03-14", "10", "0", "")),
        ("Total", "11", "12", "DUPLICATE_LOCATION 12"),
    )
    console = Console(width=100, record=True, color_system=None)
    console.print(render_document(Document(title="Sign-in attempts", table=table)))
    lines = [line.rstrip() for line in console.export_text().splitlines()]
    header = next(line for line in lines if "Successes" in line)
    day = next(line for line in lines if "2025-03-13" in line)
    other = next(line for line in lines if "2025-03-14" in line)
    successes = header.index("Successes") + len("Successes")
    failures = header.index("Failures") + len("Failures")
    assert day[successes - 2 : successes] == " 1" and other[successes - 2 : successes] == "10"
    assert day[failures - 2 : failures] == "12" and other[failures - 2 : failures] == " 0"
    assert any(line.lstrip().startswith("Total") and "DUPLICATE_LOCATION 12" in line for line in lines)
