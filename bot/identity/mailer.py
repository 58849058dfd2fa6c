"""How a code reaches the user's mailbox: an SMTP server, or (the embedded default) an outbox file.

Neither logs the message body: it holds the code (X4).
"""

from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
import threading
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from bot.identity.settings import IdentitySettings
from storage.files import open_private_append

log = logging.getLogger(__name__)


class MailError(Exception):
    """The message could not be handed over; the cause is chained."""


class Mailer(Protocol):
    async def send(self, message: EmailMessage) -> None: ...


class SmtpMailer:
    """Sends through an SMTP server: implicit TLS (`ssl`), STARTTLS, or plain (`none`, loopback only)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        tls: str = "starttls",
        username: str = "",
        password: str = "",
        timeout: float = 15.0,
        context: ssl.SSLContext | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self.username = username
        self.password = password
        self.timeout = timeout
        self.context = context or ssl.create_default_context()

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._send, message)

    def _send(self, message: EmailMessage) -> None:
        try:
            smtp: smtplib.SMTP
            if self.tls == "ssl":
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=self.context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with smtp:
                if self.tls == "starttls":
                    smtp.starttls(context=self.context)
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except (OSError, smtplib.SMTPException) as error:
            log.warning(
                "mail to the SMTP server %s:%s failed: %s", self.host, self.port, type(error).__name__
            )
            raise MailError("the mail server did not take the message") from error


class OutboxMailer:
    """Appends each message to a local file: the embedded default, for demos and the terminal. The
    file holds codes: it is created readable by its owner only."""

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    async def send(self, message: EmailMessage) -> None:
        await asyncio.to_thread(self._append, message)

    def _append(self, message: EmailMessage) -> None:
        stamp = datetime.now(UTC).isoformat(timespec="seconds")
        try:
            with self._lock, open(open_private_append(self.path), "a", encoding="utf-8") as outbox:
                outbox.write(f"--- {stamp}\n{message.as_string()}\n")
        except OSError as error:
            raise MailError("the outbox file cannot be written") from error


def build_mailer(settings: IdentitySettings) -> Mailer:
    if not settings.smtp_host:
        return OutboxMailer(settings.outbox)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else ""
    return SmtpMailer(
        settings.smtp_host,
        settings.port,
        tls=settings.smtp_tls,
        username=settings.smtp_username,
        password=password,
        timeout=settings.smtp_timeout_seconds,
    )
