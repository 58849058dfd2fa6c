"""Two `loginbot serve slack` processes sharing one PostgreSQL database and one contact center (the
simulator served over HTTP), serving the same users: each user's turns alternate between the two
processes, some arrive at both at the same moment, and the confirmation is clicked on both at once.
No update is lost, nobody is signed in twice, every conversation stays consistent, and a version
conflict between the processes is run again, never shown to the user.

Runs when `LOGINBOT_TEST_POSTGRES_URL` names a server (`scripts/with-postgres.sh` starts one)."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from bot.flow.state import FlowState
from storage import Store
from tests.postgres import POSTGRES_URL_ENV, postgres_schema
from tests.slack.double import SlackDouble

from .support import (
    APOLOGIES,
    PATH_TO_CONFIRM,
    BotProcess,
    SlackClient,
    at_once,
    authorize_all,
    bot_env,
    dm_posts,
    keys_of,
    load_emails,
    run_threads,
    served_simulator,
    slack_key,
    station_logins,
    wait_posts,
    wait_until,
    wxcc_env,
)

USERS = 8


@pytest.fixture
def database() -> Iterator[str]:
    base_url = os.environ.get(POSTGRES_URL_ENV)
    if not base_url:
        pytest.skip(f"PostgreSQL not configured: set {POSTGRES_URL_ENV} (scripts/with-postgres.sh does)")
    with postgres_schema(base_url, "loginbot_rel") as url:
        yield url


def test_two_processes_on_one_postgres_serve_the_same_users_without_conflicts(
    tmp_path: Path, double: SlackDouble, tenant_file: Path, database: str
) -> None:
    emails = load_emails(USERS)
    with served_simulator(tenant_file) as server:
        authorize_all(server, database, emails)
        env = bot_env(database, double, LOGINBOT_LOG_LEVEL="INFO", **wxcc_env(server))
        # Both start at once: both run the migrations on the empty database at start-up.
        bots = [BotProcess(env, tmp_path, name=name).launch() for name in ("bot-a", "bot-b")]
        for bot in bots:
            bot.wait_ready()
        clients = [SlackClient(double, bot.url) for bot in bots]
        delivered: dict[str, list[str]] = {email: [] for email in emails}  # every delivery id sent
        lock = threading.Lock()

        def sent(email: str, delivery_id: str) -> None:
            with lock:
                delivered[email].append(delivery_id)

        def posted_since(email: str, mark: int, count: int) -> bool:
            return len(dm_posts(double, email, mark)) >= count

        def converse(n: int, email: str) -> None:
            for index, (how, value, step) in enumerate(PATH_TO_CONFIRM):
                here, there = clients[(n + index) % 2], clients[(n + index + 1) % 2]
                mark = double.mark()
                if index == 2:
                    # The answer at one process and "help" at the other, at the same moment.
                    payload = here.click_payload(email, value)
                    envelope = there.message_event(email, "help")
                    sent(email, payload["actions"][0]["action_ts"])
                    sent(email, envelope["event_id"])
                    answers = at_once(partial(here.interact, payload), partial(there.deliver, envelope))
                    assert [a.status_code for a in answers] == [200, 200]
                    wait_until(partial(posted_since, email, mark, 2), what=f"{email}: 2 turns")
                else:
                    if how == "text":
                        envelope = here.message_event(email, value)
                        sent(email, envelope["event_id"])
                        assert here.deliver(envelope).status_code == 200
                    else:
                        payload = here.click_payload(email, value)
                        sent(email, payload["actions"][0]["action_ts"])
                        assert here.interact(payload).status_code == 200
                    said = keys_of(wait_posts(double, email, mark))
                    assert said[-1] == f"ask.{step}", (email, value, said)
            # "Save and continue" clicked on both processes at once (a double click, two deliveries).
            mark = double.mark()
            clicks = [client.click_payload(email, "confirm:yes") for client in clients]
            for click in clicks:
                sent(email, click["actions"][0]["action_ts"])
            answers = at_once(*(partial(c.interact, p) for c, p in zip(clients, clicks, strict=True)))
            assert [a.status_code for a in answers] == [200, 200]
            wait_until(partial(posted_since, email, mark, 2), what=f"{email}: both confirmations")

        try:
            errors = run_threads([partial(converse, n, e) for n, e in enumerate(emails)])
            assert errors == [], errors
        finally:
            for client in clients:
                client.close()
            for bot in bots:
                bot.stop()

        store = Store.from_url(database)
        try:
            for email in emails:
                said = keys_of(dm_posts(double, email))
                assert not APOLOGIES & set(said), (email, said)  # conflicts were run again, never shown
                assert said.count("outcome.login_success") == 1, (email, said)
                assert len(station_logins(server.core.events(email), email)) == 1, email
                attempts = store.recent_attempts(email)
                assert [(a.outcome, a.role, a.team_id) for a in attempts] == [
                    ("success", "supervisor_agent", "t-billing")
                ], email
                stored = store.load_conversation(slack_key(email))
                assert stored is not None
                state = FlowState.model_validate(stored.state)
                # No lost update: every delivery was committed by one process or the other.
                assert set(delivered[email]) <= set(state.deliveries), email
                assert state.step is None and state.in_flight is None, email
                holder = store.active_session(email)
                assert holder is not None and tuple(holder.key) == tuple(slack_key(email))
        finally:
            store.close()
        logs = "".join(bot.log() for bot in bots)
        assert "Traceback" not in logs, logs[-4000:]
