"""Who is at the terminal, on a real tenant (S14): the user proves the email they give with a
six-digit code sent to it (`bot.identity`), before the conversation starts.

Why: on the embedded simulator `--user` is enough (a demo), but a real tenant's tokens are stored per
email, so anyone at a shell could otherwise act as anyone whose tokens loginbot holds. The contact
center's own sign-in (OAuth) then has to be done as that same email: the authorization it starts
carries the proven email, and its completion refuses a token of another account.

The proof is remembered for this operating-system account on this host (the code's `subject`), so a
second run with the same email needs no new code; another email needs its own. The account is the
process's numeric user id, which only the system sets: `$USER` and `$LOGNAME` are the caller's to
choose, so a proof keyed by them could be borrowed by anyone on the host.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Awaitable, Callable

from bot.identity import EmailVerifier, RequestStatus, VerifyStatus, mask_email, normalize_email

log = logging.getLogger(__name__)

CHANNEL = "terminal"

Ask = Callable[[], Awaitable[str | None]]  # the next line the user types; None at the end of input
Say = Callable[[str], None]


def terminal_subject() -> str:
    """The operating-system account (its numeric id, never an environment variable) and host the
    terminal runs as: what a proof is bound to."""
    return f"uid-{os.geteuid()}@{socket.gethostname()}"


async def prove_email(
    verifier: EmailVerifier,
    email: str,
    language: str | None,
    *,
    ask: Ask,
    say: Say,
    subject: str | None = None,
) -> bool:
    """True once the user typed the code sent to `email` (or proved it before from this account)."""
    subject = subject or terminal_subject()
    address = normalize_email(email)
    if address is None:
        say(verifier.text(language, "identity.terminal.bad_email", email=email[:80]))
        return False
    if verifier.bound_email(channel=CHANNEL, subject=subject) == address:
        log.info("terminal identity already proven for %s", mask_email(address))
        return True
    request = await verifier.request_code(channel=CHANNEL, subject=subject, email=address, language=language)
    if request.status is not RequestStatus.SENT:
        key = {
            RequestStatus.RATE_LIMITED: "identity.terminal.rate_limited",
            RequestStatus.INVALID_EMAIL: "identity.terminal.bad_email",
        }.get(request.status, "identity.mail_failed")
        say(verifier.text(language, key, email=email[:80]))
        return False
    say(verifier.text(language, "identity.code_sent", email=address, minutes=verifier.minutes))
    while True:
        typed = await ask()
        if typed is None:
            return False
        result = verifier.verify(channel=CHANNEL, subject=subject, code=typed)
        if result.verified:
            say(verifier.text(language, "identity.verified", email=address))
            return True
        if result.status is VerifyStatus.WRONG:
            say(verifier.text(language, "identity.wrong_code", tries=result.tries_left))
            continue
        if result.status is VerifyStatus.BAD_FORMAT:
            say(verifier.text(language, "identity.bad_format"))
            continue
        expired = result.status in (VerifyStatus.EXPIRED, VerifyStatus.NO_CODE)
        say(verifier.text(language, "identity.terminal.expired" if expired else "identity.terminal.too_many"))
        return False
