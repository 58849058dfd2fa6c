"""The runner's progress hook (`bot.progress.awaiting`) with real coroutines and no clock in the
assertions: a call that finishes only once its progress is shown proves the progress was shown
while the call ran; a call already finished shows nothing."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from bot.backend.port import LoginRequest, Role
from bot.flow.catalog import Catalog
from bot.flow.effects import SignOut, SubmitLogin
from bot.flow.replies import Reply, ReplyKind
from bot.progress import Progress, awaiting, progress_reply

CATALOG = Catalog.default()


class Screen:
    """What a channel showed: each progress reply, and when it was taken away."""

    def __init__(self, *, fail_on: str = "") -> None:
        self.events: list[str] = []
        self.fail_on = fail_on
        self.shown = asyncio.Event()

    def progress(self) -> Progress:
        @contextlib.asynccontextmanager
        async def show(reply: Reply) -> AsyncIterator[None]:
            if self.fail_on == "enter":
                raise ConnectionError("the channel is down")
            self.events.append(f"show {reply.key}")
            self.shown.set()
            yield
            self.events.append("hide")
            if self.fail_on == "exit":
                raise ConnectionError("the channel is down")

        return show


def login_reply() -> Reply:
    return Reply(key="progress.login", text="Signing you in…", kind=ReplyKind.INFO)


def test_a_call_still_running_after_the_threshold_is_shown_until_it_ends() -> None:
    async def go() -> tuple[str, list[str]]:
        screen = Screen()

        async def call() -> str:
            await screen.shown.wait()  # finishes only once the progress is on screen
            screen.events.append("answered")
            return "signed in"

        result = await awaiting(call(), screen.progress(), 0.0, login_reply)
        return result, screen.events

    result, events = asyncio.run(go())
    assert result == "signed in"
    assert events == ["show progress.login", "answered", "hide"]


def test_a_call_that_answers_in_time_shows_nothing() -> None:
    async def go() -> list[str]:
        screen = Screen()

        async def call() -> str:
            return "signed in"

        assert await awaiting(call(), screen.progress(), 60.0, login_reply) == "signed in"
        return screen.events

    assert asyncio.run(go()) == []


def test_without_a_progress_the_call_is_just_awaited() -> None:
    async def call() -> int:
        return 7

    assert asyncio.run(awaiting(call(), None, 0.0, login_reply)) == 7


@pytest.mark.parametrize("fail_on", ["enter", "exit"])
def test_a_channel_failing_to_show_progress_never_changes_the_outcome(fail_on: str) -> None:
    async def go() -> str:
        screen = Screen(fail_on=fail_on)
        release = asyncio.Event()

        async def call() -> str:
            await release.wait()
            return "signed in"

        async def later() -> None:
            await asyncio.sleep(0.05)
            release.set()

        helper = asyncio.create_task(later())
        result = await awaiting(call(), screen.progress(), 0.0, login_reply)
        await helper
        return result

    assert asyncio.run(go()) == "signed in"


def test_the_call_s_own_error_goes_up_and_the_progress_is_taken_away() -> None:
    async def go() -> list[str]:
        screen = Screen()

        async def call() -> str:
            await screen.shown.wait()
            raise TimeoutError("no answer")

        with pytest.raises(TimeoutError):
            await awaiting(call(), screen.progress(), 0.0, login_reply)
        return screen.events

    assert asyncio.run(go()) == ["show progress.login", "hide"]


def test_cancelling_the_wait_cancels_the_call() -> None:
    async def go() -> bool:
        screen = Screen()
        cancelled = asyncio.Event()

        async def call() -> str:
            try:
                await asyncio.Event().wait()  # never answers
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return "never"

        waiting = asyncio.create_task(awaiting(call(), screen.progress(), 0.0, login_reply))
        await screen.shown.wait()
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.wait_for(cancelled.wait(), 5)
        return cancelled.is_set()

    assert asyncio.run(go())


@pytest.mark.parametrize("language", ["en", "fr"])
def test_each_call_says_what_is_under_way_in_the_user_s_language(language: str) -> None:
    login = progress_reply(SubmitLogin(LoginRequest(Role.SUPERVISOR, None, "", None)), CATALOG, language)
    logout = progress_reply(SignOut(), CATALOG, language)
    other = progress_reply(object(), CATALOG, language)
    assert (login.key, logout.key, other.key) == ("progress.login", "progress.logout", "progress.working")
    assert login.text == {"en": "Signing you in…", "fr": "Connexion en cours…"}[language]
    assert all(r.text and "{" not in r.text and r.kind is ReplyKind.INFO for r in (login, logout, other))
