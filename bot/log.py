"""Logging with the masking that X4 asks for: phone numbers keep their last two digits, and
anything that looks like a token or secret is replaced before a record is written."""

from __future__ import annotations

import logging
import re

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


def configure(level: str = "WARNING") -> None:
    handler = logging.StreamHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(_QuietFormatter(tracebacks=level.upper() == "DEBUG"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
