"""Logging with the masking that X4 asks for: phone numbers keep their last two digits, and
anything that looks like a token or secret is replaced before a record is written.

Two formats (`LOGINBOT_LOG_FORMAT`): `text`, one readable line per record, and `json`, one JSON
object per line for a log pipeline. Both go through the same masking filter, and a JSON line also
carries the context of the turn that wrote it (`log_context`): the channel, a hash of the
conversation key (never the key itself: it holds an email) and the contact center's tracking id.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import logging
import re
from collections.abc import Iterator
from typing import Any

ASCII_DIGITS = frozenset("0123456789")

# Phone-like runs: a "+" and digits, or at least 9 digits with separators. Dates (2024-01-02) and clock
# times keep their shape: they have fewer digits between separators than any phone number. Separators
# may be spaced out, and URL-encoded as a form or a query string writes them ("06+12+34", "%2B33%206"):
# a space (" ", "+", "%20"), a dot, a dash, parentheses.
_SEP = r"(?:[\s().+-]|%2[0BbDdEe89])"
_PLUS = r"(?:\+|%2[Bb])"
_PHONE = re.compile(
    rf"(?<![\w:%-])({_PLUS}\d(?:{_SEP}{{0,3}}\d){{5,}}|\d(?:{_SEP}{{0,3}}\d){{8,}})(?![\w:-]|%[0-9A-Fa-f]{{2}}\d)"
)
_ENCODED = re.compile(r"%[0-9A-Fa-f]{2}")
_SECRET = re.compile(
    r"(?i)\b(bearer\s+[\w.~+/=-]+|xox[abprs]-[\w-]+|xapp-[\w-]+|(?:access|refresh)_token[\"'=:\s]+[\w.~+/=-]+)"
)


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(1)
    decoded = _ENCODED.sub(" ", text[3:] if text[:3] in ("%2B", "%2b") else text)
    digits = [c for c in decoded if c in ASCII_DIGITS]
    if len(digits) < 7:
        return text  # too short to be a phone number: ids, counts, timings
    plus = text.startswith(("+", "%2B", "%2b"))
    return ("+" if plus else "") + "*" * (len(digits) - 2) + "".join(digits[-2:])


def redact(text: str) -> str:
    return _PHONE.sub(_mask_phone, _SECRET.sub("[redacted]", text))


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        record.msg = redact(message)
        record.args = None
        return True


class _QuietFormatter(logging.Formatter):
    """Tracebacks only at DEBUG: on a terminal, the user reads standard error too (X1)."""

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.tracebacks = tracebacks

    def formatException(self, ei: object) -> str:
        return redact(super().formatException(ei)) if self.tracebacks else ""  # type: ignore[arg-type]

    def format(self, record: logging.LogRecord) -> str:
        if not self.tracebacks:
            record.exc_text = ""
        return super().format(record).rstrip()


# --- the context of a turn, for structured lines ----------------------------------------------------

_CONTEXT: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar(
    "loginbot_log_context", default=None
)
CONTEXT_FIELDS = ("channel", "conversation", "tracking_id")


def conversation_hash(key: Any) -> str:
    """A short stable hash of a conversation key: lines of one conversation can be grouped without
    the log holding who it is."""
    text = "/".join(str(part) for part in key) if isinstance(key, tuple | list) else str(key)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@contextlib.contextmanager
def log_context(*, channel: str | None = None, key: Any = None) -> Iterator[None]:
    """Within this block (and the tasks it starts), log records carry the channel and the
    conversation's hash."""
    values = dict(_CONTEXT.get() or {})
    if channel is not None:
        values["channel"] = channel
    if key is not None:
        values["conversation"] = conversation_hash(key)
    token = _CONTEXT.set(values)
    try:
        yield
    finally:
        _CONTEXT.reset(token)


def set_tracking_id(tracking_id: str) -> None:
    """The contact center's tracking id of the call under way: the lines after it carry it."""
    if tracking_id:
        _CONTEXT.set({**(_CONTEXT.get() or {}), "tracking_id": tracking_id})


class ContextFilter(logging.Filter):
    """Copies the turn's context onto each record (empty strings outside a turn)."""

    def filter(self, record: logging.LogRecord) -> bool:
        context = _CONTEXT.get() or {}
        for name in CONTEXT_FIELDS:
            setattr(record, name, context.get(name, ""))
        return True


def _json_formatter(*, tracebacks: bool) -> logging.Formatter:
    from pythonjsonlogger.json import JsonFormatter

    class _JsonLines(JsonFormatter):
        """One JSON object per record: time, level, logger, message and the turn's context; a
        traceback (masked) only at DEBUG, as in the text format."""

        def formatException(self, ei: Any) -> str:
            return redact(str(super().formatException(ei))) if tracebacks else ""

        def format(self, record: logging.LogRecord) -> str:
            if not tracebacks:
                record.exc_info = None
                record.exc_text = ""
            return super().format(record)

    return _JsonLines(
        "{asctime}{levelname}{name}{message}{channel}{conversation}{tracking_id}",
        style="{",
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        json_ensure_ascii=False,
    )


LOG_FORMATS = ("text", "json")


def configure(level: str = "WARNING", log_format: str = "text") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.addFilter(ContextFilter())
    tracebacks = level.upper() == "DEBUG"
    if log_format == "json":
        handler.setFormatter(_json_formatter(tracebacks=tracebacks))
    else:
        handler.setFormatter(_QuietFormatter(tracebacks=tracebacks))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
