"""Plain-text rendering of replies, shared by the text channels (terminal line mode, logs, tests)."""

from __future__ import annotations

from bot.flow.replies import Reply


def plain_lines(reply: Reply, *, numbered: bool = True) -> list[str]:
    lines = [reply.text]
    lines.extend(f"  {label}: {value}" for label, value in reply.fields.items())
    for index, choice in enumerate(reply.choices, start=1):
        lines.append(f"  {index}. {choice.label}" if numbered else f"  - {choice.label}")
    return lines


def choice_for_text(text: str, replies: list[Reply]) -> str | None:
    """A typed answer that is exactly the label of a choice just shown means that choice."""
    folded = text.strip().casefold()
    for reply in reversed(replies):
        for choice in reply.choices:
            if choice.label.casefold() == folded:
                return choice.value
    return None
