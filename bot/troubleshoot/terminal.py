"""Rich renderings for the terminal (`loginbot troubleshoot`, `loginbot report`)."""

from __future__ import annotations

from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

from bot.troubleshoot.checklist import Checklist, Status
from bot.troubleshoot.report import Report
from bot.troubleshoot.texts import language_of, texts

_STYLE = {Status.PROBLEM: "bold red", Status.UNKNOWN: "yellow", Status.OK: "green"}


def checklist_table(checklist: Checklist) -> RenderableType:
    t = texts()
    lang = checklist.language
    table = Table(title=checklist.title, caption=checklist.summary(), show_lines=True, expand=True)
    table.add_column("", no_wrap=True)
    table.add_column("Status" if lang == "en" else "État", no_wrap=True)
    table.add_column("Item" if lang == "en" else "Point", ratio=2)
    table.add_column("Evidence" if lang == "en" else "Constats", ratio=4)
    table.add_column("Fix" if lang == "en" else "Correction", ratio=3)
    for item in checklist.items:
        style = _STYLE[item.status]
        table.add_row(
            item.id,
            Text(t.text(lang, f"status.{item.status.value}"), style=style),
            item.title,
            "\n".join(f"• {line}" for line in item.evidence),
            item.fix,
        )
    if checklist.focus:
        return Group(Text("\n".join(checklist.focus), style="bold"), table)
    return table


def report_table(report: Report, language: str | None = "en") -> RenderableType:
    lang = language_of(language)
    t = texts()
    table = Table(title=report.title(lang))
    table.add_column(t.text(lang, "report.day"))
    table.add_column(t.text(lang, "report.successes"), justify="right", style="green")
    table.add_column(t.text(lang, "report.failures"), justify="right", style="red")
    table.add_column(t.text(lang, "report.reasons"))
    for day in report.days:
        reasons = ", ".join(f"{r} {n}" for r, n in sorted(day.failures.items(), key=lambda i: (-i[1], i[0])))
        table.add_row(day.day.isoformat(), str(day.successes), str(day.failed), reasons)
    by_reason = report.failures_by_reason
    table.add_section()
    table.add_row(
        t.text(lang, "report.total"),
        str(report.successes),
        str(report.failures),
        ", ".join(f"{r} {by_reason[r]}" for r in report.reasons),
    )
    return table


def print_checklist(checklist: Checklist, console: Console | None = None) -> None:
    (console or Console()).print(checklist_table(checklist))


def print_report(report: Report, language: str | None = "en", console: Console | None = None) -> None:
    (console or Console()).print(report_table(report, language))
