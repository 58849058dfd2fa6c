"""The adapter against the simulator server's own faults (`Faults`, `PUT /admin/faults` live), and
the API outage: every sign-in ends in a clear outcome, never two logins, never a secret in a log.

Unlike test_simulator_server.py, which injects faults on the adapter's side of the wire, these go
through the server as a misbehaving Webex Contact Center would: latency, a share of 5xx, 429 with
Retry-After, dropped or silent notification sockets, results that never arrive, a revoked token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.assistant import Assistant
from bot.backend.port import (
    AuthorizationRequired,
    Availability,
    BackendUnavailable,
    CallPreference,
    ContactCenterError,
    FailureReason,
    LoginRequest,
    Outcome,
    Role,
)
from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.backend.simulator.faults import Faults
from bot.backend.simulator.server import RecordedRequest, SimulatorServer
from bot.backend.simulator.state_file import SimEvent
from bot.backend.wxcc.notifications import ChannelLost, NotificationChannel
from bot.backend.wxcc.rest import RestClient
from bot.flow.catalog import Catalog
from bot.flow.engine import FlowEngine, UserMessage
from bot.flow.replies import ReplyKind
from bot.secrets import Cipher
from intents.recognizer import Recognizer
from storage import ConversationKey, Store
from tests.wxcc.simulated import OnOneLoop, simulated_backend
from tests.wxcc.support import SECRET

AVA = "ava.lead@example.com"
CLIENT_SECRET = "client-secret-value"  # tests.wxcc.support's config
DESKTOP = LoginRequest(
    role=Role.SUPERVISOR, call_preference=CallPreference.DESKTOP, dial_number="", team_id=None
)
TRACKING_ID = re.compile(r"^LOGINBOT-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
# What an unknown or failed exchange may be explained as (X3); each has a message and a tracking id.
EXPLAINED = {
    FailureReason.SERVICE_ERROR,
    FailureReason.TIMEOUT,
    FailureReason.CONNECTION_LOST,
    FailureReason.RATE_LIMITED,
}


def run(coroutine: Any) -> Any:
    return asyncio.run(coroutine)


async def pending_channel_tasks() -> list[str]:
    """The adapter's tasks still pending on the current loop (reader, keepalive, reconnect)."""
    return sorted(
        task.get_name()
        for task in asyncio.all_tasks()
        if task is not asyncio.current_task() and task.get_name().startswith("wxcc-") and not task.done()
    )


@dataclass
class Rig:
    core: SimulatorCore
    server: SimulatorServer
    wxcc: OnOneLoop
    database: Path
    secrets: set[str] = field(default_factory=lambda: {CLIENT_SECRET})

    def remember_secrets(self) -> None:
        """Every token stored for Ava right now, decrypted: none of them may ever appear in a log."""
        store = Store.from_url(f"sqlite:///{self.database}")
        try:
            record = store.load_tokens(email=AVA)
        finally:
            store.close()
        if record is None:
            return
        cipher = Cipher(SECRET)
        self.secrets.add(cipher.decrypt(record.access_token_encrypted))
        if record.refresh_token_encrypted:
            self.secrets.add(cipher.decrypt(record.refresh_token_encrypted))

    def logins(self) -> list[SimEvent]:
        """The logins that reached the tenant (accepted or refused)."""
        return [event for event in self.core.events(AVA) if event.kind == "StationLogin"]

    def login_posts(self) -> list[RecordedRequest]:
        return [r for r in self.server.requests if (r.method, r.path) == ("POST", "/v1/agents/login")]

    def sent(self, tracking_id: str) -> list[RecordedRequest]:
        return [r for r in self.server.requests if r.tracking_id == tracking_id]

    def attempt(self, faults: Faults, request: LoginRequest = DESKTOP) -> Outcome | ContactCenterError:
        """Read the profile on a healthy service, then sign in under `faults`."""
        self.server.faults = Faults()
        ava = run(self.wxcc.get_profile(AVA))
        self.server.faults = faults
        try:
            outcome: Outcome = run(self.wxcc.station_login(ava, request))
        except ContactCenterError as error:
            return error
        return outcome

    def assert_clear(self, result: Outcome | ContactCenterError) -> None:
        """Success with the login's tracking id, or an explained failure naming a request sent;
        never two logins for one request."""
        logins = self.logins()
        posts = self.login_posts()
        assert len(logins) <= 1, "never two logins for one request"
        assert len({r.tracking_id for r in posts}) <= 1, "one login request, whatever happened"
        assert all(r.status == 429 for r in posts[:-1]), "sent again only when the service said 429"
        assert len([r for r in posts if r.status == 202]) == len(logins), "accepted = reached the tenant"
        if isinstance(result, Outcome):
            assert result.session is not None and len(logins) == 1
            assert result.tracking_id == logins[0].tracking_id
            return
        assert isinstance(result, BackendUnavailable) and result.reason in EXPLAINED, repr(result)
        assert TRACKING_ID.match(result.tracking_id), result.tracking_id
        assert self.sent(result.tracking_id), "the tracking id is one the service received"
        if logins:
            assert result.tracking_id == logins[0].tracking_id, "a login of unknown outcome is named"


@pytest.fixture
def core() -> SimulatorCore:
    return SimulatorCore(load_tenant(DEMO_TENANT_FILE))


@pytest.fixture
def make_rig(
    core: SimulatorCore, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[Callable[..., Rig]]:
    """Rigs on a fresh core, Ava pre-authorized; afterwards: no task left, no secret in the logs."""
    caplog.set_level(logging.DEBUG)
    rigs: list[Rig] = []
    with contextlib.ExitStack() as stack:

        def make(*, profile_cache_seconds: float = 60.0) -> Rig:
            directory = tmp_path / f"rig{len(rigs)}"
            directory.mkdir()
            backend = simulated_backend(
                core,
                directory,
                faults=Faults(),
                emails=[AVA],
                timeout_seconds=1.0,
                profile_cache_seconds=profile_cache_seconds,
            )
            wxcc, server = stack.enter_context(backend)
            rig = Rig(core, server, wxcc, directory / "loginbot.db")
            rig.remember_secrets()
            rigs.append(rig)
            return rig

        yield make
        for rig in rigs:
            rig.remember_secrets()
            rig.server.faults = Faults()
            run(rig.wxcc.aclose())
            assert run(rig.wxcc._call(pending_channel_tasks())) == [], "closing leaves no task behind"
    logged = caplog.text
    for rig in rigs:
        for secret in rig.secrets:
            assert secret not in logged, "a token or the client secret was logged"
    assert "Bearer " not in logged


@pytest.fixture
def rig(make_rig: Callable[..., Rig]) -> Rig:
    return make_rig()


# -- one fault at a time ----------------------------------------------------------------------------


def test_latency_slows_but_succeeds(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(profile_cache_seconds=0.0)
    result = rig.attempt(Faults(latency_ms=300))
    rig.assert_clear(result)
    assert isinstance(result, Outcome)
    assert run(rig.wxcc.get_profile(AVA)).email == AVA, "reads too"
    assert run(rig.wxcc.get_session(run(rig.wxcc.get_profile(AVA)))) is not None


def test_every_request_failing_5xx_is_explained(make_rig: Callable[..., Rig]) -> None:
    rig = make_rig(profile_cache_seconds=0.0)  # every profile read goes to the API
    rig.server.faults = Faults(error_rate=1.0)
    with pytest.raises(BackendUnavailable) as read:
        run(rig.wxcc.get_profile(AVA))
    assert read.value.reason is FailureReason.SERVICE_ERROR
    attempts = rig.sent(read.value.tracking_id)
    assert len(attempts) == 3 and {r.status for r in attempts} <= {500, 503}, "a read is retried, 3 tries"

    result = rig.attempt(Faults(error_rate=1.0))
    rig.assert_clear(result)
    assert isinstance(result, BackendUnavailable) and result.reason is FailureReason.SERVICE_ERROR
    assert rig.logins() == []


@pytest.mark.parametrize(("retry_after", "tries"), [(2, 2), (30, 1)])
def test_429_waits_retry_after_within_the_budget_then_explains(
    rig: Rig, retry_after: int, tries: int
) -> None:
    """The budget is 3 s (tests.wxcc.support): Retry-After 2 is waited once, 30 never."""
    result = rig.attempt(Faults(rate_limit_rate=1.0, retry_after_seconds=retry_after))
    rig.assert_clear(result)
    assert isinstance(result, BackendUnavailable) and result.reason is FailureReason.RATE_LIMITED
    assert [r.status for r in rig.sent(result.tracking_id)] == [429] * tries
    assert rig.logins() == []


def test_429_then_the_service_recovers(rig: Rig) -> None:
    # Seed 3 answers the first request 429 and lets the next through (the dice are repeatable).
    faults = Faults(rate_limit_rate=0.5, retry_after_seconds=1, seed=3)
    result = rig.attempt(faults)
    rig.assert_clear(result)
    assert isinstance(result, Outcome)
    statuses = [r.status for r in rig.server.requests if r.path.startswith("/v1/")]
    assert 429 in statuses, statuses


def test_a_socket_dropped_after_welcome_explains_an_unknown_outcome(rig: Rig) -> None:
    result = rig.attempt(Faults(drop_websocket_after=0))
    rig.assert_clear(result)
    assert isinstance(result, BackendUnavailable)
    assert result.reason in (FailureReason.CONNECTION_LOST, FailureReason.TIMEOUT)
    assert len(rig.logins()) == 1, "the login was sent once; its outcome could not be confirmed"
    rig.server.faults = Faults()
    session = run(rig.wxcc.get_session(run(rig.wxcc.get_profile(AVA))))
    assert session is not None, "once the sockets hold, reload tells what happened"


def test_a_socket_dropped_after_the_result_reconnects_for_the_next_call(rig: Rig) -> None:
    result = rig.attempt(Faults(drop_websocket_after=1))
    rig.assert_clear(result)
    assert isinstance(result, Outcome)
    ava = run(rig.wxcc.get_profile(AVA))
    changed = run(rig.wxcc.set_state(ava, Availability.AVAILABLE))
    assert changed.session is not None and changed.session.state is Availability.AVAILABLE


@pytest.mark.parametrize("faults", [Faults(silent_websocket=True), Faults(lose_result_rate=1.0)])
def test_results_that_never_arrive_become_a_timeout(rig: Rig, faults: Faults) -> None:
    result = rig.attempt(faults)
    rig.assert_clear(result)
    assert isinstance(result, BackendUnavailable) and result.reason is FailureReason.TIMEOUT
    assert len(rig.logins()) == 1
    rig.server.faults = Faults()
    assert run(rig.wxcc.get_session(run(rig.wxcc.get_profile(AVA)))) is not None


@pytest.mark.parametrize("channel_open", [False, True], ids=["first-call", "channel-open"])
def test_a_revoked_token_asks_for_authorization_and_signs_nothing(rig: Rig, channel_open: bool) -> None:
    ava = run(rig.wxcc.get_profile(AVA))
    if channel_open:  # the notification channel is up: the login request itself meets the 401
        assert run(rig.wxcc.get_session(ava)) is None
    revoked = httpx.post(f"{rig.server.base_url}/admin/tokens/revoke", json={"email": AVA})
    assert revoked.status_code == 200 and revoked.json()["revoked"] > 0
    with pytest.raises(AuthorizationRequired) as caught:
        run(rig.wxcc.station_login(ava, DESKTOP))
    assert caught.value.reason is FailureReason.AUTHORIZATION_REQUIRED
    assert "login_hint=ava.lead%40example.com" in caught.value.authorize_url
    assert rig.logins() == []
    assert {r.status for r in rig.login_posts()} <= {401}, "refused, never acted on"
    assert not rig.wxcc.inner.oauth.has_tokens(AVA), "the dead tokens are forgotten"


def test_an_outage_is_explained_with_the_refused_request(rig: Rig, core: SimulatorCore) -> None:
    ava = run(rig.wxcc.get_profile(AVA))
    core.set_outage(True)
    try:
        with pytest.raises(BackendUnavailable) as caught:
            run(rig.wxcc.station_login(ava, DESKTOP))
    finally:
        core.set_outage(False)
    rig.assert_clear(caught.value)
    assert caught.value.reason is FailureReason.SERVICE_ERROR
    assert {r.status for r in rig.sent(caught.value.tracking_id)} == {503}
    assert rig.logins() == []


# -- faults together, seeded ---------------------------------------------------------------------


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    "faults",
    [
        Faults(error_rate=0.4),
        Faults(rate_limit_rate=0.5, retry_after_seconds=1),
        Faults(lose_result_rate=0.5),
        Faults(latency_ms=100, error_rate=0.2, lose_result_rate=0.3, drop_websocket_after=2),
    ],
    ids=["5xx", "429", "lost-results", "mixed"],
)
def test_any_mix_of_faults_ends_clearly(make_rig: Callable[..., Rig], faults: Faults, seed: int) -> None:
    rig = make_rig()
    result = rig.attempt(faults.model_copy(update={"seed": seed}))
    rig.assert_clear(result)
    rig.server.faults = Faults()
    session = run(rig.wxcc.get_session(run(rig.wxcc.get_profile(AVA))))
    assert (session is not None) == (len(rig.logins()) == 1), "the tenant's truth, read afterwards"


# -- above the adapter: the conversation ---------------------------------------------------------


@pytest.mark.parametrize(
    ("retry", "answer"),
    [(UserMessage("yes"), "reconcile.signed_in"), (UserMessage(choice="cmd:login"), "session.already_here")],
    ids=["same-answers", "new-request"],
)
def test_a_lost_result_is_explained_in_the_chat_and_never_signed_in_twice(
    rig: Rig, tmp_path: Path, retry: UserMessage, answer: str
) -> None:
    """X2 and X3 in the conversation: the failure says it cannot tell and gives the tracking id;
    trying again, by confirming the same answers or asking anew, finds the session (ours, not
    "elsewhere") instead of signing in a second time."""
    catalog = Catalog.default()
    store = Store.from_url(f"sqlite:///{tmp_path / 'assistant.db'}")
    assistant = Assistant(engine=FlowEngine(Recognizer.default()), store=store, backend=rig.wxcc)
    key = ConversationKey("test", "local", AVA)
    to_confirm = (
        UserMessage(choice="cmd:login"),
        UserMessage(choice="role:supervisor"),
        UserMessage(choice="call:desktop"),
        UserMessage(choice="auto:no"),
    )

    async def say(*messages: UserMessage) -> list[Any]:
        replies: list[Any] = []
        for message in messages:
            replies = await assistant.handle(key, message)
        return replies

    try:
        run(assistant.open(key))
        summary = run(say(*to_confirm))
        assert [r.key for r in summary][-1] == "ask.confirm", [r.key for r in summary]
        rig.server.faults = Faults(lose_result_rate=1.0)
        failed = run(say(UserMessage("yes")))
        assert failed[0].kind is ReplyKind.FAILURE and failed[0].key == "failure.TIMEOUT"
        login = rig.logins()[0]
        assert catalog.text("en", "failure.tracking_id", tracking_id=login.tracking_id) in [
            r.text for r in failed
        ]
        rig.server.faults = Faults()
        again = run(say(retry))
        assert again[0].key == answer, [r.key for r in again]
        assert len(rig.logins()) == 1, "the retry found the session instead of signing in again"
        assert store.active_session(AVA) is not None, "and knows it holds it"
    finally:
        store.close()


# -- closing: no task outlives the channel ---------------------------------------------------------


def test_closing_a_channel_stops_its_reconnection(rig: Rig) -> None:
    """A dropped socket schedules a reconnection; `close()` cancels and awaits it (and the reader)."""
    rig.server.faults = Faults(drop_websocket_after=0)
    config = rig.wxcc.inner.config
    oauth = rig.wxcc.inner.oauth

    async def scenario() -> list[str]:
        async with httpx.AsyncClient() as http:
            channel = NotificationChannel(
                rest=RestClient(http, config),
                config=config,
                token=oauth.token_source(AVA, http),
                label=AVA,
                on_multi_login=lambda message: None,
            )
            await channel.ensure()
            with pytest.raises(ChannelLost):  # the server closed it right after Welcome
                await asyncio.wait_for(channel.expect("nothing"), 10)
            assert "wxcc-reconnect-" + AVA in await pending_channel_tasks()
            await channel.close()
            return await pending_channel_tasks()

    assert run(scenario()) == []
