"""Plain-text rendering of replies, shared by the text channels (terminal line mode, logs, tests)."""

from __future__ import annotations

from bot.flow.replies import Reply


def plain_lines(reply: Reply, *, numbered: bool = True) -> list[str]:
    """The reply as lines, none of them blank: line mode ends each turn with one empty line, so a
    paragraph break inside a reply (between a checklist's items) is left out. The structure stays
    readable without it: items start with their mark and their details are indented."""
    lines = _unblank(reply.text)
    for label, value in reply.fields.items():
        lines.extend(_unblank(f"  {label}: {value}"))
    for index, choice in enumerate(reply.choices, start=1):
        lines.extend(_unblank(f"  {index}. {choice.label}" if numbered else f"  - {choice.label}"))
    return lines


def _unblank(text: str) -> list[str]:
    # splitlines, not split("\n"): a reader may also take "\r", "\v", "\u2028" ... as line ends.
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def choice_for_text(text: str, replies: list[Reply]) -> str | None:
    """A typed answer that is exactly the label of a choice just shown means that choice."""
    folded = text.strip().casefold()
    for reply in reversed(replies):
        for choice in reply.choices:
            if choice.label.casefold() == folded:
                return choice.value
    return None
