"""Logging with the masking that X4 asks for: phone numbers keep their last two digits, and
anything that looks like a token or secret is replaced before a record is written."""

from __future__ import annotations

import logging
import re

ASCII_DIGITS = frozenset("0123456789")

# Phone-like runs: a "+" and digits, or at least 9 digits with separators. Dates (2024-01-02) and clock
# times keep their shape: they have fewer digits between separators than any phone number.
_PHONE = re.compile(r"(?<![\w:-])(\+\d[\d\s().-]{5,}\d|\d(?:[\s().-]?\d){8,})(?![\w:-])")
_SECRET = re.compile(
    r"(?i)\b(bearer\s+[\w.~+/=-]+|xox[abprs]-[\w-]+|xapp-[\w-]+|(?:access|refresh)_token[\"'=:\s]+[\w.~+/=-]+)"
)


def _mask_phone(match: re.Match[str]) -> str:
    text = match.group(1)
    digits = [c for c in text if c in ASCII_DIGITS]
    if len(digits) < 7:
        return text  # too short to be a phone number: ids, counts, timings
    return ("+" if text.startswith("+") else "") + "*" * (len(digits) - 2) + "".join(digits[-2:])


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


def configure(level: str = "WARNING") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(_QuietFormatter(tracebacks=level.upper() == "DEBUG"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
