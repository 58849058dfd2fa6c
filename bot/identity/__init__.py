"""Identity for chat channels that cannot vouch for the user (S14): a six-digit code sent by email.

Reusable by any channel (the Rasa action server, and the terminal on a real tenant)::

    verifier = EmailVerifier(store, build_mailer(settings), settings)
    await verifier.request_code(channel="rasa", subject=sender_id, email=typed, language="fr")
    result = verifier.verify(channel="rasa", subject=sender_id, code=typed)
    verifier.bound_email(channel="rasa", subject=sender_id)   # the proven email, or None
"""

from bot.identity.mailer import Mailer, MailError, OutboxMailer, SmtpMailer, build_mailer
from bot.identity.settings import IdentitySettings
from bot.identity.verification import (
    CodeRequest,
    EmailVerifier,
    RequestStatus,
    Verification,
    VerifyStatus,
    identity_catalog,
    mask_email,
    normalize_email,
)

__all__ = [
    "CodeRequest",
    "EmailVerifier",
    "IdentitySettings",
    "MailError",
    "Mailer",
    "OutboxMailer",
    "RequestStatus",
    "SmtpMailer",
    "Verification",
    "VerifyStatus",
    "build_mailer",
    "identity_catalog",
    "mask_email",
    "normalize_email",
]
