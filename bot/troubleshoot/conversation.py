"""The checklist and the report as answers in a conversation: what the turn runner calls to perform
the flow's `Troubleshoot` and `FailureReport` effects, and the shape it hands back to the flow.

The flow knows nothing of `Checklist` or `Report` (they come with the store); it gets their plain
text, for the channels that only show text, and a `Document` (title, introduction, one section per
item, a table, the chart as a PNG) for the channels that lay answers out.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from bot.flow.effects import (
    Answered,
    Candidate,
    FailureReport,
    NotAnswered,
    Troubleshoot,
    Unanswered,
)
from bot.flow.replies import Attachment, Document, Section, Table
from bot.troubleshoot.checklist import Checklist
from bot.troubleshoot.report import Report, chart_png
from bot.troubleshoot.service import DirectoryUnavailable, NotAllowed, TrackingIdNotFound, Troubleshooter
from bot.troubleshoot.texts import language_of, texts

log = logging.getLogger(__name__)

PNG = "image/png"


async def answer(
    troubleshooter: Troubleshooter, requester: str, effect: Troubleshoot | FailureReport
) -> Answered | NotAnswered:
    """Perform one effect for `requester`; never raises (a failure is an answer too, X3)."""
    try:
        if isinstance(effect, FailureReport):
            report = await troubleshooter.report(requester, effect.days)
            return Answered(effect, report.to_text(effect.language), report_document(report, effect.language))
        return await _checklist(troubleshooter, requester, effect)
    except NotAllowed:
        return NotAnswered(effect, Unanswered.REFUSED)  # the Troubleshooter logged it (T9)
    except TrackingIdNotFound:
        return NotAnswered(effect, Unanswered.TRACKING_ID_UNKNOWN)
    except DirectoryUnavailable:
        return NotAnswered(effect, Unanswered.NO_DIRECTORY)
    except Exception:
        log.exception("troubleshooting failed")
        return NotAnswered(effect, Unanswered.FAILED)


async def _checklist(
    troubleshooter: Troubleshooter, requester: str, effect: Troubleshoot
) -> Answered | NotAnswered:
    language = effect.language
    if effect.tracking_id:
        checklist = await troubleshooter.by_tracking_id(requester, effect.tracking_id, language)
    elif effect.target_email:
        checklist = await troubleshooter.checklist(requester, effect.target_email, language)
    elif effect.target_name:
        people = await troubleshooter.find_people(requester, effect.target_name)
        if not people:
            return NotAnswered(effect, Unanswered.NOBODY)
        if len(people) > 1:
            candidates = tuple(Candidate(p.email, p.display_name) for p in people)
            return NotAnswered(effect, Unanswered.SEVERAL, candidates)
        checklist = await troubleshooter.checklist(requester, people[0].email, language)
    else:
        checklist = await troubleshooter.checklist(requester, requester, language)
    return Answered(effect, checklist.to_text(), checklist_document(checklist))


def checklist_document(checklist: Checklist) -> Document:
    catalog = texts()
    sections = tuple(
        Section(
            title=f"{item.id} {item.title}",
            status=item.status.value,
            status_label=catalog.text(checklist.language, f"status.{item.status.value}"),
            lines=item.evidence,
            note=item.fix,
        )
        for item in checklist.items
    )
    return Document(title=checklist.title, intro=(checklist.summary(), *checklist.focus), sections=sections)


def report_document(report: Report, language: str | None) -> Document:
    lang = language_of(language)
    t = texts()
    header = (
        t.text(lang, "report.day"),
        t.text(lang, "report.successes"),
        t.text(lang, "report.failures"),
        t.text(lang, "report.reasons"),
    )
    rows = tuple(
        (day.day.isoformat(), str(day.successes), str(day.failed), _reasons(day.failures))
        for day in report.days
    )
    footer = (
        t.text(lang, "report.total"),
        str(report.successes),
        str(report.failures),
        _reasons(report.failures_by_reason),
    )
    chart = Attachment(
        filename=f"loginbot-report-{report.start.isoformat()}-{report.end.isoformat()}.png",
        title=f"{t.text(lang, 'report.chart_title')} ({report.start} – {report.end})",
        mime_type=PNG,
        data=chart_png(report, lang),
    )
    intro = () if report.successes + report.failures else (t.text(lang, "report.none"),)
    return Document(
        title=report.title(lang), intro=intro, table=Table(header, rows, footer), attachments=(chart,)
    )


def _reasons(counts: Mapping[str, int]) -> str:
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return ", ".join(f"{reason} {count}" for reason, count in ordered)
