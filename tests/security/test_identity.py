"""Identity bindings and emailed codes (findings of the security review, each a test):

* a Rasa sender id that proved an email does not act as that user forever: the binding is scoped to
  its workspace, lapses when idle, and is dropped on a new code request and on sign-out;
* codes go only to addresses the contact center knows, with the same answer for the others, and
  fresh sender ids cannot use up a user's quota and lock them out.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import contact_center_knows
from bot.channels.rasa import RasaSettings
from bot.identity import EmailVerifier, IdentitySettings, OutboxMailer, RequestStatus
from storage import IdentityBindingRecord, Store
from tests.rasa.support import Conversation, running_server

from .support import AVA, assistant

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

STRANGER = "nobody.here@example.com"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def verifier(tmp_path: Path, clock: Clock) -> Iterator[EmailVerifier]:
    helper = assistant(tmp_path)
    store = Store.from_url(f"sqlite:///{tmp_path / 'identity.db'}", clock=clock)
    settings = IdentitySettings(identity_idle_seconds=3600, codes_per_sender=3, codes_per_email=3)
    yield EmailVerifier(
        store,
        OutboxMailer(tmp_path / "outbox.txt"),
        settings,
        clock=clock,
        knows=contact_center_knows(helper),
    )
    store.close()
    helper.store.close()


def _outbox(verifier: EmailVerifier) -> str:
    path = verifier.mailer.path  # type: ignore[attr-defined]
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _request(verifier: EmailVerifier, subject: str, email: str = AVA, workspace: str = "w1") -> RequestStatus:
    coroutine = verifier.request_code(channel="rasa", subject=subject, email=email, workspace=workspace)
    return asyncio.run(coroutine).status


def _prove(verifier: EmailVerifier, subject: str, workspace: str = "w1") -> None:
    verifier.store.bind_identity(IdentityBindingRecord("rasa", subject, AVA, workspace=workspace))


def test_a_binding_is_scoped_to_its_workspace(verifier: EmailVerifier) -> None:
    _prove(verifier, "S1", "w1")
    assert verifier.bound_email(channel="rasa", subject="S1", workspace="w1") == AVA
    assert verifier.bound_email(channel="rasa", subject="S1", workspace="w2") is None


def test_a_binding_lapses_when_idle_and_each_use_restarts_the_count(
    verifier: EmailVerifier, clock: Clock
) -> None:
    _prove(verifier, "S1")
    clock.now += timedelta(minutes=50)
    assert verifier.bound_email(channel="rasa", subject="S1", workspace="w1") == AVA  # used: count restarts
    clock.now += timedelta(minutes=50)
    assert verifier.bound_email(channel="rasa", subject="S1", workspace="w1") == AVA
    clock.now += timedelta(minutes=61)
    assert verifier.bound_email(channel="rasa", subject="S1", workspace="w1") is None
    assert verifier.store.load_identity(channel="rasa", subject="S1", workspace="w1") is None


def test_a_new_code_request_drops_the_binding(verifier: EmailVerifier) -> None:
    _prove(verifier, "S1")
    assert _request(verifier, "S1", email="alex.agent@example.com") is RequestStatus.SENT
    assert verifier.bound_email(channel="rasa", subject="S1", workspace="w1") is None


def test_signing_out_in_rasa_drops_the_binding(tmp_path: Path) -> None:
    settings = RasaSettings(trust_email_metadata=False, workspace="w1")
    with running_server(tmp_path, rasa=settings) as rig:
        conversation = Conversation(sender_id="S1", email=None)
        rig.store.bind_identity(IdentityBindingRecord("rasa", "S1", AVA, workspace="w1"))
        conversation.user("sign me out", "logout")
        assert rig.call(conversation.action("action_station_logout")).status_code == 200
        assert rig.store.load_identity(channel="rasa", subject="S1", workspace="w1") is None
        # The next action asks who the user is again.
        conversation.user("my preferences", "show_preferences")
        again = rig.call(conversation.action("action_show_preferences")).json()
        assert again["responses"][0]["text"] == rig.services.verifier.text("en", "identity.needed")


def test_no_code_is_mailed_to_an_unknown_address_and_the_answer_is_the_same(verifier: EmailVerifier) -> None:
    assert _request(verifier, "S1", email=STRANGER) is RequestStatus.SENT
    assert _request(verifier, "S2", email=AVA) is RequestStatus.SENT
    mailed = _outbox(verifier)
    assert f"To: {AVA}" in mailed
    assert STRANGER not in mailed
    # A code typed for the unknown address is just wrong, as any wrong code.
    result = verifier.verify(channel="rasa", subject="S1", code="123456", workspace="w1")
    assert result.status.value == "wrong"


def test_fresh_sender_ids_cannot_lock_the_real_user_out(
    verifier: EmailVerifier, caplog: pytest.LogCaptureFixture
) -> None:
    for n in range(20):
        for _ in range(4):
            _request(verifier, f"attacker-{n}")
    assert _request(verifier, "the-real-ava") is RequestStatus.SENT
    refusals = [r for r in caplog.records if r.name == "loginbot.audit"]
    assert len(refusals) == 20  # each attacker id's fourth request, audit-logged
    assert "attacker-0" in refusals[0].getMessage()
