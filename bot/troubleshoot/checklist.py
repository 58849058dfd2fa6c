"""The troubleshooting checklist as plain data (U3, T1-T8): items with a status, evidence and a fix.

Why plain, already-rendered data: every channel (terminal, Slack, the Rasa action) shows the same
checklist, so the sentences are chosen once, in the requested language, when it is built; a channel
only lays the items out. `to_dict()` is the `--json` shape and what an API or a test reads.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from bot.troubleshoot.texts import texts


class Status(StrEnum):
    """What a check found: a problem to fix, nothing wrong, or that it cannot be known from here."""

    PROBLEM = "problem"
    UNKNOWN = "unknown"
    OK = "ok"

    @property
    def rank(self) -> int:
        """Problems first, then what is unknown, then what is fine."""
        return {Status.PROBLEM: 0, Status.UNKNOWN: 1, Status.OK: 2}[self]


ITEM_KEYS: dict[str, str] = {
    "T1": "account",
    "T2": "network",
    "T3": "session",
    "T4": "banner",
    "T5": "rona",
    "T6": "teams_auth",
    "T7": "empty_team",
    "T8": "history",
}
"""The checklist items, by requirement id, with the stable key that catalogs and channels use."""


@dataclass(frozen=True)
class CheckItem:
    """One checklist item: `id` is the requirement ("T1".."T8"), `key` its stable name."""

    id: str
    key: str
    status: Status
    title: str
    evidence: tuple[str, ...]
    fix: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "key": self.key,
            "status": self.status.value,
            "title": self.title,
            "evidence": list(self.evidence),
            "fix": self.fix,
        }


def ordered(items: list[CheckItem] | tuple[CheckItem, ...]) -> tuple[CheckItem, ...]:
    """Problems first, then unknown, then ok; requirement order within each group."""
    return tuple(sorted(items, key=lambda item: (item.status.rank, item.id)))


@dataclass(frozen=True)
class Checklist:
    """The checklist of one user (`email`), in one language, problems first.

    `focus` holds the lines about the sign-in attempt asked about when the checklist was looked up by
    tracking id (`tracking_id`); it is empty otherwise.
    """

    email: str
    language: str
    display_name: str
    items: tuple[CheckItem, ...]
    generated_at: datetime
    tracking_id: str | None = None
    focus: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", ordered(self.items))

    @property
    def title(self) -> str:
        name = self.display_name or self.email
        return texts().text(self.language, "checklist.title", name=name, email=self.email)

    @property
    def problems(self) -> tuple[CheckItem, ...]:
        return tuple(item for item in self.items if item.status is Status.PROBLEM)

    def item(self, item_id: str) -> CheckItem:
        """The item of requirement `item_id` ("T1".."T8"); KeyError when there is none."""
        for item in self.items:
            if item.id == item_id or item.key == item_id:
                return item
        raise KeyError(item_id)

    def summary(self) -> str:
        counts = {status: sum(1 for i in self.items if i.status is status) for status in Status}
        return texts().text(
            self.language,
            "checklist.summary",
            problems=counts[Status.PROBLEM],
            unknown=counts[Status.UNKNOWN],
            ok=counts[Status.OK],
        )

    def to_dict(self) -> dict[str, Any]:
        """The `--json` shape: stable keys, the texts in `language`, statuses as ok/problem/unknown."""
        return {
            "email": self.email,
            "display_name": self.display_name,
            "language": self.language,
            "generated_at": self.generated_at.isoformat(),
            "title": self.title,
            "summary": self.summary(),
            "tracking_id": self.tracking_id,
            "focus": list(self.focus),
            "items": [item.to_dict() for item in self.items],
        }

    def to_text(self) -> str:
        """Plain text for chat channels (Slack, Rasa) and logs-free terminals; one block per item."""
        catalog = texts()
        lines = [self.title, self.summary()]
        if self.focus:
            lines.append("")
            lines.extend(self.focus)
        for item in self.items:
            status = catalog.text(self.language, f"status.{item.status.value}")
            lines.append("")
            lines.append(f"{_MARK[item.status]} {item.id} {item.title} — {status}")
            lines.extend(f"   • {line}" for line in item.evidence)
            if item.fix:
                lines.append(f"   → {item.fix}")
        return "\n".join(lines)


_MARK = {Status.PROBLEM: "[!]", Status.UNKNOWN: "[?]", Status.OK: "[ok]"}
