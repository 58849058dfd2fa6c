"""Saying that a slow contact-center call is under way, so that a user never wonders whether anything
happens (a sign-in against a loaded tenant can take seconds).

A channel that can show progress passes a `Progress` to the turn runner: given the reply to show
("Signing you in…"), it returns an async context that shows it on entry and takes it away (or keeps
it, to be replaced by the outcome) on exit. The runner enters it only when a call the user waits for
has not answered within `LOGINBOT_PROGRESS_AFTER` seconds: a quick call shows nothing. What showing
means is the channel's: a spinner on a terminal, one line in line mode, a Slack message that the
outcome then replaces.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

from bot.flow.catalog import Catalog
from bot.flow.effects import (
    CheckSession,
    FailureReport,
    SetAvailability,
    SignOut,
    SubmitLogin,
    TakeOver,
    Troubleshoot,
)
from bot.flow.replies import Reply, ReplyKind

log = logging.getLogger(__name__)

T = TypeVar("T")

PROGRESS_AFTER = 1.0  # seconds: a call that answers within this shows nothing

Progress = Callable[[Reply], AbstractAsyncContextManager[object]]

# What each call says while it runs; a call not listed here (a new effect) says "Working on it…".
_KEYS: dict[type, str] = {
    SubmitLogin: "progress.login",
    SignOut: "progress.logout",
    SetAvailability: "progress.availability",
    TakeOver: "progress.take_over",
    CheckSession: "progress.check",
    Troubleshoot: "progress.troubleshoot",
    FailureReport: "progress.troubleshoot",
}
WORKING = "progress.working"


def progress_reply(effect: object, catalog: Catalog, language: str | None) -> Reply:
    key = _KEYS.get(type(effect), WORKING)
    return Reply(key=key, text=catalog.text(language, key), kind=ReplyKind.INFO)


async def awaiting(
    call: Awaitable[T], progress: Progress | None, after: float, reply: Callable[[], Reply]
) -> T:
    """The result of `call`; when it takes longer than `after` seconds, `progress(reply())` is shown
    until it ends. Showing progress never changes the outcome: if the channel fails to show it, the
    failure is logged and the call goes on. Cancelling this cancels the call, as awaiting it would."""
    if progress is None:
        return await call
    task = asyncio.ensure_future(call)
    try:
        done, _ = await asyncio.wait({task}, timeout=max(after, 0.0))
        if done:
            return task.result()
        shown = await _enter(progress, reply)
        try:
            return await task
        finally:
            if shown is not None:
                await _exit(shown)
    except asyncio.CancelledError:
        task.cancel()
        raise


async def _enter(
    progress: Progress, reply: Callable[[], Reply]
) -> AbstractAsyncContextManager[object] | None:
    try:
        shown = progress(reply())
        await shown.__aenter__()
    except Exception:
        log.warning("could not show that a contact-center call is under way", exc_info=True)
        return None
    return shown


async def _exit(shown: AbstractAsyncContextManager[object]) -> None:
    try:
        await shown.__aexit__(None, None, None)
    except Exception:
        log.warning("could not end the sign that a contact-center call is under way", exc_info=True)
