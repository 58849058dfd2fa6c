"""The administrators' sign-in troubleshooting checklist (U3, T1-T9) and failure report.

Channels use `Troubleshooter` and nothing else::

    troubleshooter = Troubleshooter(backend, store, admins=settings.admin_emails)
    checklist = await troubleshooter.checklist(requester_email, target_email, "fr")   # NotAllowed (T9)
    checklist = await troubleshooter.by_tracking_id(requester_email, "LOGINBOT-...", "en")
    report = await troubleshooter.report(requester_email, days=7)                   # admins only
    people = await troubleshooter.find_people(requester_email, "Ava")               # by name (T9 too)
    checklist.to_text(); checklist.to_dict(); report.to_text("fr"); chart_png(report, "fr")
"""

from bot.troubleshoot.checklist import ITEM_KEYS, CheckItem, Checklist, Status
from bot.troubleshoot.diagnostics import Diagnostics, NoDiagnostics, SimulatorDiagnostics, diagnostics_for
from bot.troubleshoot.directory import (
    Directory,
    NoDirectory,
    Person,
    SimulatorDirectory,
    directory_for,
    match_people,
)
from bot.troubleshoot.report import (
    DayCounts,
    Report,
    build_report,
    chart_png,
    failure_report,
    render_chart_png,
)
from bot.troubleshoot.service import (
    OPERATOR,
    DirectoryUnavailable,
    NotAllowed,
    TrackingIdNotFound,
    Troubleshooter,
)

__all__ = [
    "ITEM_KEYS",
    "OPERATOR",
    "CheckItem",
    "Checklist",
    "DayCounts",
    "Diagnostics",
    "Directory",
    "DirectoryUnavailable",
    "NoDiagnostics",
    "NoDirectory",
    "NotAllowed",
    "Person",
    "Report",
    "SimulatorDiagnostics",
    "SimulatorDirectory",
    "Status",
    "TrackingIdNotFound",
    "Troubleshooter",
    "build_report",
    "chart_png",
    "diagnostics_for",
    "directory_for",
    "failure_report",
    "match_people",
    "render_chart_png",
]
