"""`loginbot serve slack` killed with SIGKILL in the middle of conversations, then started again on the
same database: every conversation resumes at its step with its answers, every step the user saw
answered is saved, the SQLite file is intact, and a sign-in under way at the kill is never sent again.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bot.backend.simulator.faults import Faults
from bot.backend.simulator.state_file import load_state
from bot.flow.state import FlowState
from storage import Store
from tests.slack.double import SlackDouble

from .support import (
    APOLOGIES,
    PATH_TO_CONFIRM,
    BotProcess,
    SlackClient,
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

STEPS = [step for _, _, step in PATH_TO_CONFIRM]  # the step each answer of the path leads to


def extension_of(email: str) -> str:
    return str(3000 + int(email[4:6]))


def expected_answers(email: str, step: str) -> dict[str, Any]:
    """What the conversation must hold while waiting at `step` on the path."""
    answers: dict[str, Any] = {}
    reached = STEPS.index(step)
    if reached >= 1:
        answers["role"] = "supervisor_agent"
    if reached >= 2:
        answers.update(call_preference="extension", extension=extension_of(email))
    if reached >= 3:
        answers["team_id"] = "t-billing"
    if reached >= 4:
        answers["auto_login"] = False
    return answers


def stored_state(database: str, email: str) -> FlowState:
    store = Store.from_url(database)
    try:
        stored = store.load_conversation(slack_key(email))
    finally:
        store.close()
    assert stored is not None, f"{email}: no conversation saved"
    return FlowState.model_validate(stored.state)


def check_answers(email: str, state: FlowState) -> None:
    assert state.step is not None, f"{email}: the dialog ended"
    held = {k: v for k, v in state.answers.model_dump(mode="json").items() if v is not None}
    assert held == expected_answers(email, state.step.value), f"{email} at {state.step.value}: {held}"


def integrity(path: Path) -> list[tuple[Any, ...]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute("PRAGMA integrity_check").fetchall()
    finally:
        connection.close()


def test_every_conversation_resumes_at_its_step_after_a_kill(
    tmp_path: Path, double: SlackDouble, tenant_file: Path
) -> None:
    emails = load_emails(20)
    db_file = tmp_path / "bot.db"
    database = f"sqlite:///{db_file}"
    state_file = tmp_path / "simulator.json"
    env = bot_env(
        database,
        double,
        LOGINBOT_TENANT_FILE=str(tenant_file),
        LOGINBOT_SIMULATOR_STATE=str(state_file),
    )
    bot = BotProcess(env, tmp_path).start()
    slack = SlackClient(double, bot.url)
    try:
        # 1. Everyone goes part of the way, from the role question (1 answer) to the summary (5).
        depth = {email: n % 5 + 1 for n, email in enumerate(emails)}

        def walk(email: str) -> None:
            for how, value, step in PATH_TO_CONFIRM[: depth[email]]:
                keys = slack.turn(email, how, value)
                assert keys[-1] == f"ask.{step}", (email, value, keys)

        assert run_threads([partial(walk, e) for e in emails]) == []

        # 2. A storm: everyone answers at once; the Web API is slow to take some replies (429s);
        #    the server is killed once half the requests are acknowledged.
        double.fail_next(3, status=429, retry_after=1, method="chat.postMessage")
        mark = double.mark()
        sent: dict[str, dict[str, Any]] = {}
        answered: dict[str, int] = {}  # HTTP status of each storm request that got an answer
        lock = threading.Lock()

        def storm(email: str) -> None:
            if depth[email] < len(PATH_TO_CONFIRM):
                how, value, _ = PATH_TO_CONFIRM[depth[email]]
            else:
                how, value = "text", "help"  # at the summary: a turn that keeps the step
            request = (
                slack.message_event(email, value) if how == "text" else slack.click_payload(email, value)
            )
            with lock:
                sent[email] = {"how": how, "request": request}
            try:
                response = slack.deliver(request) if how == "text" else slack.interact(request)
            except httpx.HTTPError:
                return  # the connection died with the server: Slack saw no answer
            with lock:
                answered[email] = response.status_code

        storm_threads = [threading.Thread(target=storm, args=(e,), daemon=True) for e in emails]
        for thread in storm_threads:
            thread.start()
        wait_until(lambda: len(answered) >= 10, what="the first answers of the storm")
        bot.kill()
        for thread in storm_threads:
            thread.join(30)
        replied = {email for email in emails if dm_posts(double, email, mark)}

        # 3. The database is intact, and each conversation is where its last saved turn left it:
        #    before or after the storm's answer, never in between; after it when the user saw a reply.
        #    (An event acknowledged but not yet run when the process died stays unanswered: Bolt
        #    acknowledges before running the listener and Slack does not send it again. The user
        #    finds the question still asked when coming back, step 4.)
        assert integrity(db_file) == [("ok",)]
        for email in emails:
            state = stored_state(database, email)
            check_answers(email, state)
            assert state.step is not None
            before = STEPS[depth[email] - 1]
            after = STEPS[min(depth[email], len(STEPS) - 1)]
            assert state.step.value in (before, after), (email, state.step.value)
            if email in replied:
                assert state.step.value == after, f"{email} saw a reply that was not saved"
            assert state.in_flight is None
        assert all(status == 200 for status in answered.values()), answered

        # 4. Restart on the same files. Slack delivers again the events it got no answer for; then
        #    each user opens the DM and is told where the conversation stands.
        bot.start()
        slack.close()
        slack = SlackClient(double, bot.url)

        def redeliver(email: str) -> None:
            delivery = sent.get(email)
            if email in answered or delivery is None or delivery["how"] != "text":
                return  # answered, or a click: Slack tells the user it failed and never sends it again
            envelope = delivery["request"]
            event_id = envelope["event_id"]
            done_before = event_id in stored_state(database, email).deliveries
            mark = double.mark()
            assert slack.deliver(envelope, retry=1).status_code == 200
            wait_until(lambda: event_id in stored_state(database, email).deliveries, what=f"{event_id} saved")
            if not done_before:
                wait_posts(double, email, mark)  # processed now: its reply comes before the resume

        def resume_and_finish(email: str) -> None:
            redeliver(email)
            mark = double.mark()
            assert slack.open_dm(email).status_code == 200
            keys = keys_of(wait_posts(double, email, mark))
            state = stored_state(database, email)
            assert state.step is not None
            check_answers(email, state)
            assert keys == ["resume.where_we_were", f"ask.{state.step.value}"], (email, keys)
            for how, value, step in PATH_TO_CONFIRM[STEPS.index(state.step.value) + 1 :]:
                keys = slack.turn(email, how, value)
                assert keys[-1] == f"ask.{step}", (email, value, keys)
            keys = slack.turn(email, "click", "confirm:yes")
            assert keys[0] == "outcome.login_success", (email, keys)

        assert run_threads([partial(resume_and_finish, e) for e in emails]) == []
    finally:
        slack.close()
        bot.stop()

    # 5. One sign-in each, with the answers given before the kill; nobody was told of an error.
    saved = load_state(state_file)
    assert saved is not None
    store = Store.from_url(database)
    try:
        for email in emails:
            assert len(station_logins(saved.events, email)) == 1, email
            attempts = store.recent_attempts(email)
            assert [(a.outcome, a.role, a.dial_number, a.team_id) for a in attempts] == [
                ("success", "supervisor_agent", extension_of(email), "t-billing")
            ], email
            said = keys_of(dm_posts(double, email))
            assert not APOLOGIES & set(said), (email, said)
            assert said.count("outcome.login_success") == 1
    finally:
        store.close()
    assert integrity(db_file) == [("ok",)]


def test_a_sign_in_under_way_at_the_kill_is_never_sent_again(
    tmp_path: Path, double: SlackDouble, tenant_file: Path
) -> None:
    """The contact center is slow (the simulator served over HTTP, with latency): the server is killed
    while the sign-ins it claimed are on the wire. The contact center still carries them out. After
    the restart nothing is sent again; each user is told the outcome once the claim has expired."""
    emails = load_emails(3)
    db_file = tmp_path / "bot.db"
    database = f"sqlite:///{db_file}"
    with served_simulator(tenant_file) as server:
        authorize_all(server, database, emails)
        bot = BotProcess(bot_env(database, double, **wxcc_env(server)), tmp_path).start()
        slack = SlackClient(double, bot.url)
        try:

            def to_confirm(email: str) -> None:
                for how, value, step in PATH_TO_CONFIRM:
                    assert slack.turn(email, how, value)[-1] == f"ask.{step}"

            assert run_threads([partial(to_confirm, e) for e in emails]) == []

            def login_requests() -> list[Any]:
                return [r for r in server.requests if (r.method, r.path) == ("POST", "/v1/agents/login")]

            server.faults = Faults(latency_ms=3000)
            for email in emails:
                assert slack.click(email, "confirm:yes").status_code == 200
            wait_until(lambda: len(login_requests()) == len(emails), what="the sign-ins on the wire")
            bot.kill()
            wait_until(
                lambda: all(server.core.session(e) for e in emails), what="the contact center to finish"
            )
            server.faults = Faults()

            assert integrity(db_file) == [("ok",)]
            for email in emails:
                state = stored_state(database, email)
                assert (state.in_flight, state.step) == ("login", None), email  # claimed before the call
                assert keys_of(dm_posts(double, email))[-1] == "ask.confirm"  # the outcome was never said

            bot.start()
            slack.close()
            slack = SlackClient(double, bot.url)
            for email in emails:
                # Right after the restart the claim may still be under way elsewhere: never re-sent.
                assert slack.turn(email, "text", "yes") == ["busy.still_working"]
                assert slack.turn(email, "click", "confirm:yes") == ["busy.still_working"]
            assert len(login_requests()) == len(emails)

            # A minute later, once the claim's grace has passed (simulated: the claim is dated two
            # minutes back), the next turn checks the session instead.
            store = Store.from_url(database)
            try:
                for email in emails:
                    stored = store.load_conversation(slack_key(email))
                    assert stored is not None
                    state = FlowState.model_validate(stored.state)
                    assert state.in_flight == "login"
                    state.in_flight_since = datetime.now(UTC) - timedelta(minutes=2)
                    store.commit_turn(
                        key=slack_key(email),
                        state=state.model_dump(mode="json"),
                        step=None,
                        language=state.language,
                        expected_version=stored.version,
                    )
            finally:
                store.close()
            for email in emails:
                assert slack.turn(email, "text", "hello") == ["reconcile.signed_in"], email
                # The session that call opened is this chat's: not "signed in somewhere else" (S12).
                assert slack.turn(email, "text", "sign me in") == ["session.already_here"], email
            assert len(login_requests()) == len(emails)
        finally:
            slack.close()
            bot.stop()
        store = Store.from_url(database)
        try:
            for email in emails:
                assert len(station_logins(server.core.events(email), email)) == 1, email
                assert not APOLOGIES & set(keys_of(dm_posts(double, email))), email
                holder = store.active_session(email)
                assert holder is not None and tuple(holder.key) == tuple(slack_key(email))
        finally:
            store.close()
