"""Proving a chat user's email with a six-digit code sent to it (S14), for channels that cannot vouch.

A code is random (`secrets`), stored only as a salted scrypt hash (peppered with
`LOGINBOT_SECRET_KEY` when set), expires after ten minutes, allows five tries, and is single use.
Codes go only to addresses the contact center knows (`knows`); an unknown address gets the same
answer and no mail, so the answer tells nothing about who has an account. Requests are rate limited
per chat user, and per chat user and address: one requester cannot use up another's quota, so no
one can lock anyone else out; each refusal is audit-logged. Once proven, the email is bound to the
chat user's id (`subject`) in its channel and workspace; the binding lives in the store, so every
process and every restart sees it, lapses after `identity_idle_seconds` without use, and is dropped
when the user asks for a new code or signs out. The code is never logged.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from enum import StrEnum

from bot.flow.catalog import Catalog
from bot.identity.mailer import Mailer, MailError
from bot.identity.settings import IdentitySettings
from bot.ops.metrics import record_code
from storage import EmailChallengeRecord, IdentityBindingRecord, Store

log = logging.getLogger(__name__)

CODE_DIGITS = 6
MAX_EMAIL_LENGTH = 254
_EMAIL = re.compile(r"[^@\s<>\"',;]+@[^@\s<>\"',;]+\.[^@\s<>\"',;.]{2,}")
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}

Clock = Callable[[], datetime]
Knows = Callable[[str], Awaitable[bool]]  # whether the contact center has a user with this email
audit = logging.getLogger("loginbot.audit")
_TOUCH_EVERY = timedelta(minutes=1)  # a binding's last use is written at most this often


class RequestStatus(StrEnum):
    SENT = "sent"
    INVALID_EMAIL = "invalid_email"
    RATE_LIMITED = "rate_limited"
    MAIL_FAILED = "mail_failed"


class VerifyStatus(StrEnum):
    VERIFIED = "verified"
    WRONG = "wrong"  # another try is allowed
    BAD_FORMAT = "bad_format"  # not six digits: no try used
    EXPIRED = "expired"
    TOO_MANY_TRIES = "too_many_tries"
    NO_CODE = "no_code"


@dataclass(frozen=True)
class CodeRequest:
    status: RequestStatus
    email: str = ""


@dataclass(frozen=True)
class Verification:
    status: VerifyStatus
    email: str | None = None
    tries_left: int = 0

    @property
    def verified(self) -> bool:
        return self.status is VerifyStatus.VERIFIED


def identity_catalog() -> Catalog:
    """The identity check's own English and French messages (same keys in both files)."""
    return Catalog.from_package("bot.identity.messages")


def normalize_email(text: str) -> str | None:
    """The address in canonical form (trimmed, casefolded), or None when `text` is not one address.
    Control characters, NULs and undecodable bytes (surrogates) are never part of an address."""
    email = text.strip().strip("<>").strip().casefold()
    if len(email) > MAX_EMAIL_LENGTH or not email.isprintable() or not _EMAIL.fullmatch(email):
        return None
    return email


def mask_email(email: str) -> str:
    """For logs: `a***@example.com`."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


class EmailVerifier:
    """Sends codes and checks them. Stateless itself: everything it knows is in the store."""

    def __init__(
        self,
        store: Store,
        mailer: Mailer,
        settings: IdentitySettings | None = None,
        *,
        clock: Clock | None = None,
        knows: Knows | None = None,
    ) -> None:
        self.store = store
        self._knows = knows
        self.mailer = mailer
        self.settings = settings or IdentitySettings()
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        key = self.settings.secret_key
        self._pepper = key.get_secret_value().encode() if key else b""
        self.catalog = identity_catalog()

    @property
    def minutes(self) -> int:
        return max(1, self.settings.code_ttl_seconds // 60)

    def text(self, language: str | None, key: str, **params: object) -> str:
        return self.catalog.text(language, key, **params)

    def bound_email(self, *, channel: str, subject: str, workspace: str = "") -> str | None:
        """The email `subject` proved in this channel and workspace, while the binding is not idle for
        longer than `identity_idle_seconds` (each use restarts the count); None otherwise."""
        binding = self.store.load_identity(channel=channel, subject=subject, workspace=workspace)
        if binding is None:
            return None
        now = self._clock()
        seen = binding.last_seen_at or binding.verified_at or now
        if now - seen > timedelta(seconds=self.settings.identity_idle_seconds):
            self.store.delete_identity(channel=channel, subject=subject, workspace=workspace)
            log.info("identity of %s lapsed after being idle", mask_email(binding.email))
            return None
        if now - seen >= _TOUCH_EVERY:
            self.store.touch_identity(channel=channel, subject=subject, workspace=workspace)
        return binding.email

    def forget(self, *, channel: str, subject: str, workspace: str | None = None) -> None:
        """Sign-out: the binding (in `workspace`, or in every one) and any pending code are dropped."""
        self.store.delete_identity(channel=channel, subject=subject, workspace=workspace)
        self.store.delete_email_challenge(channel=channel, subject=subject)

    async def request_code(
        self, *, channel: str, subject: str, email: str, language: str | None = None, workspace: str = ""
    ) -> CodeRequest:
        address = normalize_email(email)
        if address is None:
            return CodeRequest(RequestStatus.INVALID_EMAIL)
        # Asking for a code is asking to be someone (again): whatever this id proved before is dropped.
        self.store.delete_identity(channel=channel, subject=subject, workspace=workspace)
        if why := self._rate_limited(channel, subject, address):
            audit.warning(
                "verification code refused (%s): %s %s asked for %s",
                why,
                channel,
                subject[:64],
                mask_email(address),
            )
            record_code("refused")
            return CodeRequest(RequestStatus.RATE_LIMITED, address)
        known = self._knows is None or await self._knows(address)
        code = new_code() if known else secrets.token_hex(16)  # never mailed, never matched
        salt = secrets.token_bytes(16)
        self.store.save_email_challenge(
            EmailChallengeRecord(
                channel=channel,
                subject=subject,
                email=address,
                code_hash=self._hash(code, salt),
                salt=base64.b64encode(salt).decode("ascii"),
                expires_at=self._clock() + timedelta(seconds=self.settings.code_ttl_seconds),
                tries_left=self.settings.code_tries,
            )
        )
        if not known:
            # The same answer as for a known address, and no mail: no one learns who has an account.
            log.info("no verification code mailed to %s: not a contact-center user", mask_email(address))
            return CodeRequest(RequestStatus.SENT, address)
        try:
            await self.mailer.send(self._message(address, code, language))
        except MailError:
            self.store.delete_email_challenge(channel=channel, subject=subject)
            record_code("mail_failed")
            return CodeRequest(RequestStatus.MAIL_FAILED, address)
        log.info("verification code sent to %s", mask_email(address))
        record_code("sent")
        return CodeRequest(RequestStatus.SENT, address)

    def verify(self, *, channel: str, subject: str, code: str, workspace: str = "") -> Verification:
        typed = "".join(ch for ch in code if not ch.isspace())
        challenge = self.store.load_email_challenge(channel=channel, subject=subject)
        if challenge is None:
            return Verification(VerifyStatus.NO_CODE)
        if challenge.expires_at <= self._clock():
            self.store.delete_email_challenge(channel=channel, subject=subject)
            return Verification(VerifyStatus.EXPIRED)
        if not (len(typed) == CODE_DIGITS and typed.isascii() and typed.isdigit()):
            return Verification(VerifyStatus.BAD_FORMAT, tries_left=challenge.tries_left)
        spent = self.store.spend_email_challenge_try(channel=channel, subject=subject)
        if spent is None:
            self.store.delete_email_challenge(channel=channel, subject=subject)
            return Verification(VerifyStatus.TOO_MANY_TRIES)
        expected = spent.code_hash
        if hmac.compare_digest(self._hash(typed, base64.b64decode(spent.salt)), expected):
            self.store.bind_identity(
                IdentityBindingRecord(channel, subject, spent.email, workspace=workspace)
            )
            log.info("identity verified for %s", mask_email(spent.email))
            return Verification(VerifyStatus.VERIFIED, spent.email)
        left = spent.tries_left - 1
        if left <= 0:
            self.store.delete_email_challenge(channel=channel, subject=subject)
            return Verification(VerifyStatus.TOO_MANY_TRIES)
        return Verification(VerifyStatus.WRONG, tries_left=left)

    def _rate_limited(self, channel: str, subject: str, email: str) -> str | None:
        """Why this request is over a quota, or None. Both quotas count this requester's own requests:
        codes it asked for (any address), and codes it asked for this address."""
        now = self._clock()
        settings = self.settings
        by_sender = self.store.count_verification_requests(
            since=now - timedelta(seconds=settings.sender_window_seconds), channel=channel, subject=subject
        )
        if by_sender >= settings.codes_per_sender:
            return "requester quota"
        by_pair = self.store.count_verification_requests(
            since=now - timedelta(seconds=settings.email_window_seconds),
            channel=channel,
            subject=subject,
            email=email,
        )
        return "requester and address quota" if by_pair >= settings.codes_per_email else None

    def _hash(self, code: str, salt: bytes) -> str:
        digest = hashlib.scrypt(code.encode("ascii"), salt=salt + self._pepper, **_SCRYPT)
        return base64.b64encode(digest).decode("ascii")

    def _message(self, email: str, code: str, language: str | None) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.settings.mail_from
        message["To"] = email
        message["Subject"] = self.text(language, "mail.subject")
        message.set_content(self.text(language, "mail.body", code=code, minutes=self.minutes) + "\n")
        return message
