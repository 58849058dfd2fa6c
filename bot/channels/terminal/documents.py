"""Long answers (the troubleshooting checklist, the failure report) in the interactive terminal.

Line mode prints `Reply.text`, which already holds all of it as plain text; on a terminal the same
answer reads better laid out: the title, then each item with its status in colour, the evidence
indented under it and the fix after an arrow, and a report's rows as a table. Everything is built
from `rich.text.Text` objects, never markup: evidence quotes tenant data ("[Billing]", emails).
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table as RichTable
from rich.text import Text

from bot.flow.replies import Document, Section, Table

STATUS_STYLES = {"problem": "bold red", "unknown": "yellow", "ok": "green"}
STATUS_MARKS = {"problem": "✗", "unknown": "?", "ok": "✓"}


def render_document(document: Document) -> RenderableType:
    parts: list[RenderableType] = [Text(document.title, style="bold")]
    parts.extend(
        Text(line, style="dim" if index == 0 else "bold") for index, line in enumerate(document.intro)
    )
    for section in document.sections:
        parts.append(Text(""))
        parts.append(_section(section))
    if document.table is not None:
        parts.append(_table(document.table))
    return Group(*parts)


def _section(section: Section) -> RenderableType:
    style = STATUS_STYLES.get(section.status, "")
    heading = Text.assemble(
        (f"{STATUS_MARKS.get(section.status, '•')} ", style),
        (section.title, "bold"),
        (f" — {section.status_label}" if section.status_label else "", style),
    )
    lines: list[RenderableType] = [heading]
    lines.extend(_hanging("•", line) for line in section.lines)
    if section.note:
        lines.append(_hanging("→", section.note, "cyan"))
    return Group(*lines)


def _hanging(mark: str, text: str, style: str = "") -> RenderableType:
    """An indented line whose wrapped continuation stays aligned under its text, not its mark."""
    grid = RichTable.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column()
    grid.add_row(Text(mark, style=style), Text(text, style=style))
    return Padding(grid, (0, 0, 0, 3))


def _table(table: Table) -> RenderableType:
    rendered = RichTable(show_footer=bool(table.footer), box=None, padding=(0, 2), header_style="bold")
    numeric = [all(row[c].isdigit() for row in table.rows if c < len(row)) for c in range(len(table.header))]
    for index, name in enumerate(table.header):
        footer = table.footer[index] if index < len(table.footer) else ""
        rendered.add_column(
            Text(name), footer=Text(footer, style="bold"), justify="right" if numeric[index] else "left"
        )
    for row in table.rows:
        rendered.add_row(*(Text(cell) for cell in row))
    return rendered
