"""Many users signing in at once through the assistant, against the simulator served over HTTP
(the real-API adapter, REST + notification websockets) while it misbehaves: latency, a share of
5xx, 429 with Retry-After, sockets dropped after each message, results lost. Every user ends signed
in, or told why not with a tracking id; nobody is signed in twice; nobody is stuck (the next
message gets a normal answer, nothing is left in flight).

`tests/wxcc` covers each fault for one call of the adapter; these tests are about whole
conversations of many users at a time, end to end."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.assistant import Assistant
from bot.backend.simulator.faults import Faults
from bot.backend.simulator.server import SimulatorServer
from bot.backend.wxcc import WxccBackend
from bot.backend.wxcc.oauth import OAuth
from bot.flow.engine import FlowEngine, UserMessage
from bot.flow.replies import Reply, ReplyKind
from bot.flow.state import FlowState
from bot.secrets import Cipher
from intents.recognizer import Recognizer
from storage import ConversationKey, Store
from tests.wxcc.simulated import authorize, wxcc_config

from .support import APOLOGIES, PATH_TO_CONFIRM, load_emails, served_simulator, station_logins

USERS = 8
TRACKING_ID = re.compile(r"\b[A-Za-z]+-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
FAULTS = {
    "latency": Faults(latency_ms=150),
    "5xx": Faults(error_rate=0.3, seed=11),
    "429": Faults(rate_limit_rate=0.15, retry_after_seconds=1, seed=12),
    "dropped-websockets": Faults(drop_websocket_after=1),
    "lost-results": Faults(lose_result_rate=0.4, seed=13),
}
MAX_TRIES = 4  # how often a user tries again after an explained failure before giving up


@dataclass
class Ending:
    """How one user's attempt to sign in ended, and everything the assistant said."""

    signed_in: bool = False
    said: list[Reply] = field(default_factory=list)
    failures: list[list[Reply]] = field(default_factory=list)  # each explained failure's replies


class Stuck(AssertionError):
    pass


def keys(replies: list[Reply]) -> list[str]:
    return [r.key for r in replies]


def explained(replies: list[Reply]) -> bool:
    """A failure said with its reason and a tracking id to give an administrator."""
    failure = [r for r in replies if r.kind is ReplyKind.FAILURE and r.key.startswith("failure.")]
    return bool(failure) and any(TRACKING_ID.search(r.text) for r in replies)


async def sign_in(assistant: Assistant, email: str) -> Ending:
    key = ConversationKey("reliability", "faults", email)
    ending = Ending()

    async def say(message: UserMessage) -> list[Reply]:
        replies = await assistant.handle(key, message)
        ending.said.extend(replies)
        assert not APOLOGIES & set(keys(replies)), (email, message, keys(replies))
        return replies

    async def until_asked(message: UserMessage, step: str) -> None:
        """Say `message` until the step is asked; an explained failure may come first (a read that
        failed): the user tries again, as they are told to."""
        for _ in range(MAX_TRIES):
            replies = await say(message)
            if keys(replies)[-1] == f"ask.{step}":
                return
            assert explained(replies), (email, message, keys(replies), [r.text for r in replies])
            ending.failures.append(replies)
        raise Stuck(f"{email} never got to {step}: {keys(ending.said)}")

    for how, value, step in PATH_TO_CONFIRM:
        await until_asked(UserMessage(text=value) if how == "text" else UserMessage(choice=value), step)
    for _ in range(MAX_TRIES):
        replies = await say(UserMessage(choice="confirm:yes"))
        if "outcome.login_success" in keys(replies):
            ending.signed_in = True
            return ending
        assert explained(replies), (email, keys(replies), [r.text for r in replies])
        ending.failures.append(replies)
        if keys(replies)[-1] == "ask.take_over":  # the sign-in went through though its result was lost
            replies = await say(UserMessage(choice="takeover:yes"))
            if "outcome.take_over_success" in keys(replies):
                ending.signed_in = True
                return ending
            assert explained(replies), (email, keys(replies))
            ending.failures.append(replies)
            await until_asked(UserMessage(choice="cmd:login"), "role")
            for _, value, step in PATH_TO_CONFIRM[1:]:
                await until_asked(UserMessage(choice=value), step)
        assert keys(replies)[-1] == "ask.confirm", (email, keys(replies))  # the same answers, to try again
    return ending


@contextlib.asynccontextmanager
async def assistant_on_served_simulator(
    tmp_path: Path, tenant_file: Path, emails: list[str]
) -> AsyncIterator[tuple[Assistant, SimulatorServer, Store]]:
    """The real assistant over the real-API adapter, every user authorized; short timeouts."""
    with served_simulator(tenant_file) as server:
        config = wxcc_config(server.base_url, timeout_seconds=1.0, max_retry_after_seconds=3.0)
        store = Store.from_url(f"sqlite:///{tmp_path / 'faults.db'}")
        auth = OAuth(config, store=store, cipher=Cipher("reliability: backend faults"))
        for email in emails:
            await authorize(auth, email)
        assistant = Assistant(
            engine=FlowEngine(Recognizer.default()), store=store, backend=WxccBackend(config, tokens=auth)
        )
        try:
            yield assistant, server, store
        finally:
            await assistant.aclose()


async def check_nobody_stuck(assistant: Assistant, store: Store, email: str) -> None:
    """Nothing left in flight, and the next message is answered as usual."""
    key = ConversationKey("reliability", "faults", email)
    follow_up = await assistant.handle(key, UserMessage(text="help"))
    assert keys(follow_up)[0].startswith("help."), (email, keys(follow_up))
    stored = store.load_conversation(key)
    assert stored is not None and FlowState.model_validate(stored.state).in_flight is None


async def scenario(tmp_path: Path, tenant_file: Path, faults: Faults) -> None:
    emails = load_emails(USERS)
    async with assistant_on_served_simulator(tmp_path, tenant_file, emails) as (assistant, server, store):
        server.faults = faults
        endings = await asyncio.gather(*(sign_in(assistant, email) for email in emails))
        server.faults = Faults()
        for email, ending in zip(emails, endings, strict=True):
            assert len(station_logins(server.core.events(email), email)) <= 1, f"{email} signed in twice"
            if ending.signed_in:
                assert server.core.session(email) is not None, email
            else:
                assert ending.failures and explained(ending.failures[-1]), (email, keys(ending.said))
            await check_nobody_stuck(assistant, store, email)
        assert sum(e.signed_in for e in endings) >= USERS // 2, [keys(e.said) for e in endings]


@pytest.mark.parametrize("faults", FAULTS.values(), ids=FAULTS.keys())
def test_every_user_ends_signed_in_or_told_why_with_a_tracking_id(
    tmp_path: Path, tenant_file: Path, faults: Faults
) -> None:
    asyncio.run(scenario(tmp_path, tenant_file, faults))


def test_an_outage_is_explained_with_a_tracking_id_then_everyone_signs_in(
    tmp_path: Path, tenant_file: Path
) -> None:
    """Every API request answered 5xx while users start: reading their profile fails, which is said
    with the tracking id of the request that failed; once the service is back, all sign in."""
    emails = load_emails(4)

    async def go() -> None:
        async with assistant_on_served_simulator(tmp_path, tenant_file, emails) as (assistant, server, store):
            server.faults = Faults(error_rate=1.0)

            async def during(email: str) -> list[Reply]:
                return await assistant.handle(
                    ConversationKey("reliability", "faults", email), UserMessage("sign me in")
                )

            for email, replies in zip(emails, await asyncio.gather(*map(during, emails)), strict=True):
                assert explained(replies), (email, [r.text for r in replies])
                tracking_ids = {m.group(0) for r in replies for m in TRACKING_ID.finditer(r.text)}
                failed = {r.tracking_id for r in server.requests if r.status is not None and r.status >= 500}
                assert tracking_ids <= failed, (tracking_ids, email)  # the id the service logged
            server.faults = Faults()
            endings = await asyncio.gather(*(sign_in(assistant, email) for email in emails))
            assert all(e.signed_in and not e.failures for e in endings), [keys(e.said) for e in endings]
            for email in emails:
                assert len(station_logins(server.core.events(email), email)) == 1
                await check_nobody_stuck(assistant, store, email)

    asyncio.run(go())
