"""The emailed six-digit code (S14) against a real SMTP server on loopback (aiosmtpd)."""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import ssl
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, Envelope, LoginPassword, Session

from bot.identity import (
    EmailVerifier,
    IdentitySettings,
    OutboxMailer,
    RequestStatus,
    SmtpMailer,
    VerifyStatus,
    build_mailer,
)
from storage import Store

AVA = "ava.lead@example.com"


class Inbox:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def handle_DATA(self, server: object, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.messages.append(message_from_bytes(envelope.content))
        return "250 OK"

    def code(self) -> str:
        body = self.messages[-1].get_payload(decode=True)
        assert isinstance(body, bytes)
        [code] = re.findall(r"code is (\d{6})", body.decode())
        return code


def _authenticate(
    server: object, session: Session, envelope: Envelope, mechanism: str, data: object
) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"loginbot", b"pa55")
    return AuthResult(success=ok)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=_authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 5, 11, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(tmp_path: Path, clock: Clock) -> Iterator[Store]:
    with Store.from_url(f"sqlite:///{tmp_path / 'identity.db'}", clock=clock) as opened:
        yield opened


def verifier_for(store: Store, port: int, clock: Clock, **limits: Any) -> EmailVerifier:
    settings = IdentitySettings(
        smtp_host="127.0.0.1",
        smtp_port=port,
        smtp_tls="none",
        smtp_username="loginbot",
        smtp_password="pa55",
        mail_from="loginbot@example.com",
        **limits,
    )
    return EmailVerifier(store, build_mailer(settings), settings, clock=clock)


def request(
    verifier: EmailVerifier, subject: str = "U1", email: str = AVA, language: str = "en"
) -> RequestStatus:
    result = asyncio.run(
        verifier.request_code(channel="rasa", subject=subject, email=email, language=language)
    )
    return result.status


def test_the_code_arrives_by_smtp_and_binds_the_email_to_the_sender(
    smtp: tuple[Inbox, int], store: Store, clock: Clock
) -> None:
    inbox, port = smtp
    verifier = verifier_for(store, port, clock)
    assert isinstance(verifier.mailer, SmtpMailer)
    assert request(verifier, email=" Ava.Lead@Example.com ") is RequestStatus.SENT
    [mail] = inbox.messages
    assert (mail["To"], mail["From"]) == (AVA, "loginbot@example.com")
    code = inbox.code()
    challenge = store.load_email_challenge(channel="rasa", subject="U1")
    assert challenge is not None and code not in challenge.code_hash and code not in challenge.salt

    result = verifier.verify(channel="rasa", subject="U1", code=f" {code[:3]} {code[3:]} ")
    assert (result.status, result.email) == (VerifyStatus.VERIFIED, AVA)
    assert verifier.bound_email(channel="rasa", subject="U1") == AVA
    assert verifier.bound_email(channel="rasa", subject="U2") is None
    assert (
        verifier.verify(channel="rasa", subject="U1", code=code).status is VerifyStatus.NO_CODE
    )  # single use


def test_the_mail_is_in_the_users_language(smtp: tuple[Inbox, int], store: Store, clock: Clock) -> None:
    inbox, port = smtp
    assert request(verifier_for(store, port, clock), language="fr") is RequestStatus.SENT
    assert "Votre code" in str(inbox.messages[-1]["Subject"])


def test_five_tries_then_the_code_is_void(smtp: tuple[Inbox, int], store: Store, clock: Clock) -> None:
    inbox, port = smtp
    verifier = verifier_for(store, port, clock)
    request(verifier)
    code = inbox.code()
    wrong = "000000" if code != "000000" else "111111"
    assert verifier.verify(channel="rasa", subject="U1", code="12ab").status is VerifyStatus.BAD_FORMAT
    left = [verifier.verify(channel="rasa", subject="U1", code=wrong) for _ in range(4)]
    assert [(r.status, r.tries_left) for r in left] == [(VerifyStatus.WRONG, n) for n in (4, 3, 2, 1)]
    assert verifier.verify(channel="rasa", subject="U1", code=wrong).status is VerifyStatus.TOO_MANY_TRIES
    assert verifier.verify(channel="rasa", subject="U1", code=code).status is VerifyStatus.NO_CODE
    assert verifier.bound_email(channel="rasa", subject="U1") is None


def test_the_right_code_on_the_last_try_still_works(
    smtp: tuple[Inbox, int], store: Store, clock: Clock
) -> None:
    inbox, port = smtp
    verifier = verifier_for(store, port, clock)
    request(verifier)
    code = inbox.code()
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(4):
        verifier.verify(channel="rasa", subject="U1", code=wrong)
    assert verifier.verify(channel="rasa", subject="U1", code=code).verified


def test_a_code_expires_after_ten_minutes(smtp: tuple[Inbox, int], store: Store, clock: Clock) -> None:
    inbox, port = smtp
    verifier = verifier_for(store, port, clock)
    request(verifier)
    code = inbox.code()
    clock.now += timedelta(minutes=10)
    assert verifier.verify(channel="rasa", subject="U1", code=code).status is VerifyStatus.EXPIRED
    assert verifier.verify(channel="rasa", subject="U1", code=code).status is VerifyStatus.NO_CODE


def test_a_new_code_replaces_the_previous_one(smtp: tuple[Inbox, int], store: Store, clock: Clock) -> None:
    inbox, port = smtp
    verifier = verifier_for(store, port, clock)
    request(verifier)
    first = inbox.code()
    request(verifier)
    second = inbox.code()
    if first != second:
        assert verifier.verify(channel="rasa", subject="U1", code=first).status is VerifyStatus.WRONG
    assert verifier.verify(channel="rasa", subject="U1", code=second).verified


def test_requests_are_rate_limited_per_sender_and_per_sender_and_address(
    smtp: tuple[Inbox, int], store: Store, clock: Clock
) -> None:
    inbox, port = smtp
    verifier = verifier_for(store, port, clock, codes_per_sender=3, codes_per_email=2)
    assert [request(verifier) for _ in range(4)] == [RequestStatus.SENT] * 2 + [
        RequestStatus.RATE_LIMITED
    ] * 2
    assert len(inbox.messages) == 2
    # Other senders asking for the same address are not held back by this one's requests: nobody
    # can use up somebody else's quota (the lock-out of a real user by fresh sender ids).
    assert [request(verifier, subject=f"S{n}") for n in range(5)] == [RequestStatus.SENT] * 5
    assert request(verifier, subject="U1", email="sam.supervisor@example.com") is RequestStatus.SENT
    assert request(verifier, subject="U1", email="alex.agent@example.com") is RequestStatus.RATE_LIMITED
    clock.now += timedelta(minutes=16)  # the sender's window has passed, not the pair's
    assert request(verifier, subject="U1", email="alex.agent@example.com") is RequestStatus.SENT
    assert request(verifier, subject="U1") is RequestStatus.RATE_LIMITED
    clock.now += timedelta(hours=1)
    assert request(verifier, subject="U1") is RequestStatus.SENT


def test_bad_addresses_and_mail_failures(store: Store, clock: Clock) -> None:
    verifier = verifier_for(store, free_port(), clock)  # nothing listens there
    assert request(verifier, email="not an email") is RequestStatus.INVALID_EMAIL
    assert request(verifier, email="a@b") is RequestStatus.INVALID_EMAIL
    assert request(verifier) is RequestStatus.MAIL_FAILED
    assert store.load_email_challenge(channel="rasa", subject="U1") is None  # nothing to guess


def test_wrong_smtp_credentials_are_a_mail_failure(
    smtp: tuple[Inbox, int], store: Store, clock: Clock
) -> None:
    inbox, port = smtp
    settings = IdentitySettings(
        smtp_host="127.0.0.1", smtp_port=port, smtp_tls="none", smtp_username="x", smtp_password="y"
    )
    verifier = EmailVerifier(store, build_mailer(settings), settings, clock=clock)
    assert request(verifier) is RequestStatus.MAIL_FAILED
    assert inbox.messages == []


def test_the_embedded_default_writes_an_outbox_file(
    tmp_path: Path, store: Store, clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LOGINBOT_SMTP_HOST", raising=False)
    monkeypatch.delenv("LOGINBOT_OUTBOX", raising=False)
    settings = IdentitySettings()
    assert settings.outbox == Path("loginbot-outbox.txt")
    mailer = build_mailer(settings)
    assert isinstance(mailer, OutboxMailer)
    verifier = EmailVerifier(store, mailer, settings, clock=clock)
    assert request(verifier) is RequestStatus.SENT
    text = (tmp_path / "loginbot-outbox.txt").read_text(encoding="utf-8")
    [code] = re.findall(r"code is (\d{6})", text)
    assert f"To: {AVA}" in text
    assert verifier.verify(channel="rasa", subject="U1", code=code).verified


def test_the_code_is_never_logged(
    smtp: tuple[Inbox, int], store: Store, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    inbox, port = smtp
    verifier = verifier_for(store, port, clock)
    with caplog.at_level(logging.DEBUG):
        request(verifier)
        code = inbox.code()
        verifier.verify(channel="rasa", subject="U1", code="000000" if code != "000000" else "111111")
        verifier.verify(channel="rasa", subject="U1", code=code)
    # Everything but the test's own mail server (aiosmtpd logs what it receives, under "mail.log").
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail."))
    assert "verification code sent to a***@example.com" in ours  # something was logged...
    assert code not in ours  # ...but never the code
    assert AVA not in ours  # and the address masked


def test_the_identity_and_rasa_catalogs_have_the_same_keys_in_both_languages() -> None:
    from bot.channels.rasa.services import rasa_catalog
    from bot.identity import identity_catalog

    for catalog in (identity_catalog(), rasa_catalog()):
        assert catalog.keys("en") == catalog.keys("fr") != set()
        for key in catalog.keys("en"):
            en, fr = catalog.text("en", key), catalog.text("fr", key)
            assert set(re.findall(r"{(\w+)}", en)) == set(re.findall(r"{(\w+)}", fr)), key


# --- TLS: STARTTLS on the submission port, or implicit TLS ------------------------------------------


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as a mail server on loopback would present."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


@pytest.mark.parametrize("tls", ["starttls", "ssl"])
def test_codes_go_through_tls_with_credentials(tmp_path: Path, store: Store, clock: Clock, tls: str) -> None:
    cert, key = self_signed(tmp_path)
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert, key)
    inbox = Inbox()
    port = free_port()
    options: dict[str, Any] = {"authenticator": _authenticate, "auth_require_tls": True}
    if tls == "ssl":
        # The whole connection is TLS; aiosmtpd only counts STARTTLS for `auth_require_tls`.
        options.update(ssl_context=server_context, auth_require_tls=False)
    else:
        options.update(tls_context=server_context, require_starttls=True)
    controller = Controller(inbox, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        client_context = ssl.create_default_context(cafile=str(cert))
        settings = IdentitySettings(smtp_host="127.0.0.1", smtp_port=port, smtp_tls=tls)
        mailer = SmtpMailer(
            "127.0.0.1", port, tls=tls, username="loginbot", password="pa55", context=client_context
        )
        verifier = EmailVerifier(store, mailer, settings, clock=clock)
        assert request(verifier) is RequestStatus.SENT
        assert verifier.verify(channel="rasa", subject="U1", code=inbox.code()).verified

        # A certificate the client does not trust: nothing is sent, in clear or otherwise.
        untrusting = SmtpMailer("127.0.0.1", port, tls=tls, username="loginbot", password="pa55")
        refused = EmailVerifier(store, untrusting, settings, clock=clock)
        assert request(refused, subject="U2") is RequestStatus.MAIL_FAILED
        assert len(inbox.messages) == 1
    finally:
        controller.stop()


def test_the_smtp_settings_choose_the_port_by_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("LOGINBOT_SMTP_PORT", "LOGINBOT_SMTP_TLS"):
        monkeypatch.delenv(name, raising=False)
    assert IdentitySettings(smtp_host="mail.example.com").port == 587
    assert IdentitySettings(smtp_host="mail.example.com", smtp_tls="ssl").port == 465
    assert IdentitySettings(smtp_host="mail.example.com", smtp_tls="none").port == 25
    monkeypatch.setenv("LOGINBOT_SMTP_HOST", "smtp.example.com")
    monkeypatch.setenv("LOGINBOT_SMTP_PORT", "2525")
    monkeypatch.setenv("LOGINBOT_SMTP_TLS", "ssl")
    monkeypatch.setenv("LOGINBOT_SMTP_USERNAME", "bot")
    monkeypatch.setenv("LOGINBOT_SMTP_PASSWORD", "s3cret")
    settings = IdentitySettings()
    mailer = build_mailer(settings)
    assert isinstance(mailer, SmtpMailer)
    assert (mailer.host, mailer.port, mailer.tls, mailer.username) == ("smtp.example.com", 2525, "ssl", "bot")
    assert "s3cret" not in repr(settings)
