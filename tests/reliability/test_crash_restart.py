"""`loginbot serve slack` killed with SIGKILL in the middle of conversations, then started again on the
same database: every conversation resumes at its step with its answers, every step the user saw
answered is saved, the SQLite file is intact, and a sign-in under way at the kill is never sent again.

Nothing acknowledged is lost (issue 7): every delivery Slack got a 200 for is run after the restart
and its replies reach Slack, each exactly once, except one case: a reply Slack took just before the
kill, which the dead process had not yet marked posted, is posted again (at least once, never lost:
the bot cannot tell "posted, not marked" from "not posted"). No step advances twice for all that, and
nobody is signed in twice. The kill lands in each window on purpose: the Slack double hangs
`users.info` (acknowledged, turn not run) or `chat.postMessage` (turn committed, reply not posted).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any

import httpx

from bot.backend.simulator.faults import Faults
from bot.backend.simulator.state_file import load_state
from bot.flow.state import FlowState
from storage import InboundRecord, OutboundRecord, Store
from tests.slack.double import SlackDouble, user_id_for
from tests.slack.support import im_of

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
    restart,
    run_threads,
    served_simulator,
    slack_key,
    station_logins,
    wait_posts,
    wait_until,
    wxcc_env,
)

STEPS = [step for _, _, step in PATH_TO_CONFIRM]  # the step each answer of the path leads to
# Another process's unfinished delivery is recovered this long after it was last claimed: short here,
# since each of these servers is the only one (the default, 30 s, leaves room for live siblings).
GRACE = {"LOGINBOT_SLACK_RECOVERY_GRACE": "1"}


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


def unfinished(database: str) -> tuple[list[InboundRecord], list[OutboundRecord]]:
    """The deliveries not yet answered and the replies not yet posted, as the database holds them."""
    store = Store.from_url(database)
    try:
        return store.pending_inbound(channel="slack"), store.pending_outbound(channel="slack")
    finally:
        store.close()


def wait_recovered(database: str) -> None:
    wait_until(lambda: unfinished(database) == ([], []), what="every unfinished delivery to be recovered")


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
        **GRACE,
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
            delivery = request["event_id"] if how == "text" else request["actions"][0]["action_ts"]
            with lock:
                sent[email] = {"how": how, "request": request, "delivery": delivery}
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
        assert integrity(db_file) == [("ok",)]
        inbox, outbox = unfinished(database)
        recorded = {entry.delivery_id for entry in inbox}
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
            if email in answered:
                # Acknowledged: either answered and posted already, or waiting in the inbox.
                done = sent[email]["delivery"] in state.deliveries and email in replied
                assert done or sent[email]["delivery"] in recorded, f"{email}: acknowledged, then lost"
        assert all(status == 200 for status in answered.values()), answered
        # Replies Slack took before the kill whose process died before marking them posted: the
        # only ones the recovery posts a second time (at least once; see the module docstring).
        outbox_users = {entry.key.user for entry in outbox}
        again = {email for email in replied if slack_key(email).user in outbox_users}
        assert all(len(dm_posts(double, email, mark)) == 1 for email in replied)

        # 4. Restart on the same files. Before the first request is served, the recovery holds the
        #    users it has work for: their stored replies are posted and their acknowledged deliveries
        #    run, in order. Then Slack delivers again the events it got no answer for.
        slack = restart(bot, slack)
        wait_recovered(database)
        for email in answered:
            state = stored_state(database, email)
            assert sent[email]["delivery"] in state.deliveries, f"{email}: acknowledged, never processed"
            assert state.step is not None and state.step.value == STEPS[min(depth[email], len(STEPS) - 1)]

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

        assert run_threads([partial(redeliver, e) for e in emails]) == []

        # Every delivery processed (acknowledged, or redelivered by Slack) got its reply exactly once,
        # twice for the replies posted-but-not-marked at the kill; the others were never processed.
        for email in emails:
            posts = dm_posts(double, email, mark)
            if sent[email]["delivery"] in stored_state(database, email).deliveries:
                assert len(posts) == 1 + (email in again), (email, keys_of(posts))
                assert keys_of(posts[:1]) == keys_of(posts[-1:])  # the same reply, posted again
            else:
                # A click whose connection died with the server before its 200 and before it was
                # recorded: Slack told the user it failed, and never sends it again.
                assert email not in answered and sent[email]["how"] == "click", email
                assert posts == [], email

        def resume_and_finish(email: str) -> None:
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


def login_requests(server: Any) -> list[Any]:
    return [r for r in server.requests if (r.method, r.path) == ("POST", "/v1/agents/login")]


def kill_with_sign_ins_on_the_wire(
    bot: BotProcess, slack: SlackClient, server: Any, emails: list[str]
) -> None:
    """Bring every user to "Save and continue", make the contact center slow, click it for all, and
    SIGKILL the server while the sign-ins it claimed are on the wire; the contact center still
    carries them out."""

    def to_confirm(email: str) -> None:
        for how, value, step in PATH_TO_CONFIRM:
            assert slack.turn(email, how, value)[-1] == f"ask.{step}"

    assert run_threads([partial(to_confirm, e) for e in emails]) == []
    server.faults = Faults(latency_ms=3000)
    for email in emails:
        assert slack.click(email, "confirm:yes").status_code == 200
    wait_until(lambda: len(login_requests(server)) == len(emails), what="the sign-ins on the wire")
    bot.kill()
    wait_until(lambda: all(server.core.session(e) for e in emails), what="the contact center to finish")
    server.faults = Faults()


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
        bot = BotProcess(bot_env(database, double, **wxcc_env(server), **GRACE), tmp_path).start()
        slack = SlackClient(double, bot.url)
        try:
            kill_with_sign_ins_on_the_wire(bot, slack, server, emails)

            assert integrity(db_file) == [("ok",)]
            for email in emails:
                state = stored_state(database, email)
                assert (state.in_flight, state.step) == ("login", None), email  # claimed before the call
                assert keys_of(dm_posts(double, email))[-1] == "ask.confirm"  # the outcome was never said

            slack = restart(bot, slack)
            # The acknowledged clicks are run again: duplicates (their claim was saved), so silent.
            wait_recovered(database)
            for email in emails:
                # Right after the restart the claim may still be under way elsewhere: never re-sent.
                assert slack.turn(email, "text", "yes") == ["busy.still_working"]
                assert slack.turn(email, "click", "confirm:yes") == ["busy.still_working"]
            assert len(login_requests(server)) == len(emails)

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
            assert len(login_requests(server)) == len(emails)
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


def test_the_outcome_of_a_sign_in_under_way_at_the_kill_is_told_after_the_restart_unasked(
    tmp_path: Path, double: SlackDouble, tenant_file: Path
) -> None:
    """As above, but nobody writes after the restart: once the call's grace has passed
    (LOGINBOT_IN_FLIGHT_GRACE, short here), the restarted server checks each session itself and
    tells each user how their sign-in ended, once, without sending anything again."""
    emails = load_emails(2)
    database = f"sqlite:///{tmp_path / 'bot.db'}"
    env_grace = {**GRACE, "LOGINBOT_IN_FLIGHT_GRACE": "6"}
    with served_simulator(tenant_file) as server:
        authorize_all(server, database, emails)
        bot = BotProcess(bot_env(database, double, **wxcc_env(server), **env_grace), tmp_path).start()
        slack = SlackClient(double, bot.url)
        try:
            kill_with_sign_ins_on_the_wire(bot, slack, server, emails)
            marks = {email: len(dm_posts(double, email)) for email in emails}

            bot.start()  # and nobody writes
            for email in emails:

                def told(email: str = email) -> list[str]:
                    return keys_of(dm_posts(double, email)[marks[email] :])

                wait_until(told, timeout=90.0, what=f"{email} told the outcome")
            time.sleep(1.0)  # anything said twice would be said by now
            for email in emails:
                assert keys_of(dm_posts(double, email)[marks[email] :]) == ["reconcile.signed_in"], email
                assert stored_state(database, email).in_flight is None
            assert len(login_requests(server)) == len(emails)  # checked, never sent again
        finally:
            slack.close()
            bot.stop()
        for email in emails:
            assert len(station_logins(server.core.events(email), email)) == 1, email


def test_a_message_acknowledged_but_not_yet_run_at_the_kill_is_answered_after_the_restart(
    tmp_path: Path, double: SlackDouble, tenant_file: Path
) -> None:
    """Slack has its 200, the turn has not started (who the user is was still being asked of Slack)
    when the process dies: Slack will not send the message again, and the restarted server runs it."""
    email = load_emails(1)[0]
    database = f"sqlite:///{tmp_path / 'bot.db'}"
    env = bot_env(database, double, LOGINBOT_TENANT_FILE=str(tenant_file), **GRACE)
    bot = BotProcess(env, tmp_path).start()
    slack = SlackClient(double, bot.url)
    try:
        double.hang("users.info")  # the identity look-up that comes before the turn
        envelope = slack.message_event(email, "sign me in")
        assert slack.deliver(envelope).status_code == 200
        wait_until(lambda: double.hung, what="the turn to start")
        bot.kill()
        double.release()
        with Store.from_url(database) as store:
            assert store.load_conversation(slack_key(email)) is None  # never run
        inbox, _ = unfinished(database)
        assert [(e.subject, e.delivery_id) for e in inbox] == [(user_id_for(email), envelope["event_id"])]

        mark = double.mark()
        slack = restart(bot, slack)
        assert keys_of(wait_posts(double, email, mark)) == ["ask.role"]
        wait_recovered(database)
        assert envelope["event_id"] in stored_state(database, email).deliveries

        # The conversation goes on from there; nothing was said twice.
        keys = slack.turn(email, "click", "role:supervisor_agent")
        assert keys == ["ask.call_preference"]
        assert keys_of(dm_posts(double, email, mark)) == ["ask.role", *keys]
    finally:
        slack.close()
        bot.stop()


def test_a_reply_committed_but_not_posted_at_the_kill_is_posted_after_the_restart(
    tmp_path: Path, double: SlackDouble, tenant_file: Path
) -> None:
    """The turn is committed, its reply is on its way to `chat.postMessage` (which hangs) when the
    process dies: the step advanced and the user was told nothing. After the restart the stored
    reply is posted, once, and Slack's click is not run a second time."""
    email = load_emails(1)[0]
    db_file = tmp_path / "bot.db"
    database = f"sqlite:///{db_file}"
    env = bot_env(database, double, LOGINBOT_TENANT_FILE=str(tenant_file), **GRACE)
    bot = BotProcess(env, tmp_path).start()
    slack = SlackClient(double, bot.url)
    try:
        assert slack.turn(email, "text", "sign me in") == ["ask.role"]
        mark = double.mark()
        double.hang("chat.postMessage")
        click = slack.click_payload(email, "role:supervisor_agent")
        assert slack.interact(click).status_code == 200
        wait_until(lambda: double.hung, what="the reply to be on its way")
        assert double.hung[0].args["channel"] == im_of(user_id_for(email))
        bot.kill()
        double.release()

        assert integrity(db_file) == [("ok",)]
        state = stored_state(database, email)
        assert state.step is not None and state.step.value == "call_preference"  # committed...
        assert dm_posts(double, email, mark) == []  # ...and not said
        action_ts = click["actions"][0]["action_ts"]
        inbox, outbox = unfinished(database)
        assert [e.delivery_id for e in inbox] == [action_ts]
        assert [(r.key, r.delivery_id) for r in outbox] == [(slack_key(email), action_ts)]

        slack = restart(bot, slack)
        assert keys_of(wait_posts(double, email, mark)) == ["ask.call_preference"]
        wait_recovered(database)
        state = stored_state(database, email)
        assert state.step is not None and state.step.value == "call_preference"  # not advanced again

        keys = slack.turn(email, "click", "call:extension")
        assert keys[-1] == "ask.team"
        assert keys_of(dm_posts(double, email, mark)) == ["ask.call_preference", *keys]
    finally:
        slack.close()
        bot.stop()


def test_a_process_starting_beside_a_live_one_leaves_it_its_deliveries(
    tmp_path: Path, double: SlackDouble, tenant_file: Path
) -> None:
    """Two processes on one database (as `--workers` runs them): the second starts while the first is
    in the middle of a delivery (its identity look-up hangs). That fresh entry is the first one's: the
    second never runs it, and holds the user's next message until the first one has answered, so the
    conversation stays in order."""
    email = load_emails(1)[0]
    database = f"sqlite:///{tmp_path / 'bot.db'}"
    env = bot_env(database, double, LOGINBOT_TENANT_FILE=str(tenant_file))  # the default grace, 30 s
    first = BotProcess(env, tmp_path, name="first").start()
    second = BotProcess(env, tmp_path, name="second")
    to_first = SlackClient(double, first.url)
    to_second = SlackClient(double, first.url)
    try:
        mark = double.mark()
        double.hang("users.info")
        envelope = to_first.message_event(email, "sign me in")
        assert to_first.deliver(envelope).status_code == 200
        wait_until(lambda: double.hung, what="the first process's turn to start")
        [held] = unfinished(database)[0]

        second.start()
        to_second.close()
        to_second = SlackClient(double, second.url)
        assert to_second.dm(email, "help").status_code == 200
        wait_until(lambda: len(unfinished(database)[0]) == 2, what="the second delivery to be recorded")
        double.release(answer=True)

        posts = wait_until(lambda: len(dm_posts(double, email, mark)) >= 2 and dm_posts(double, email, mark))
        assert [keys_of([post]) for post in posts] == [["ask.role"], ["help.step.role", "ask.role"]]
        wait_recovered(database)
        with Store.from_url(database) as store:
            entry = store.load_inbound(held.id or 0)
        assert entry is not None and (entry.status, entry.claims, entry.owner) == ("done", 1, held.owner)
        assert len(dm_posts(double, email, mark)) == 2
    finally:
        to_first.close()
        to_second.close()
        first.stop()
        second.stop()
