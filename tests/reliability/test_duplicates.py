"""Slack's retries and users' double clicks, for many users at once: every event delivered twice with
the same event id (the second with `X-Slack-Retry-Num`), every click either retried as is or
clicked twice (a new `action_ts`), both copies at the same moment. No step advances twice, no reply
is said twice for one delivery, and the contact center sees exactly one sign-in per user."""

from __future__ import annotations

import copy
import time
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest

from bot.backend.simulator import load_tenant
from bot.flow.state import FlowState
from tests.slack.double import SlackDouble
from tests.slack.support import SlackRig

from .support import (
    APOLOGIES,
    PATH_TO_CONFIRM,
    SlackClient,
    at_once,
    dm_posts,
    keys_of,
    load_emails,
    run_threads,
    slack_key,
    station_logins,
    wait_until,
)

USERS = 16


@pytest.fixture
def rig(tmp_path: Path, double: SlackDouble, tenant_file: Path) -> Iterator[SlackRig]:
    """The Slack app under uvicorn with the real assistant, SQLite and the in-process simulator."""
    running = SlackRig(tmp_path, double, load_tenant(tenant_file))
    try:
        yield running
    finally:
        running.stop()


def test_retries_and_double_clicks_never_advance_twice_or_sign_in_twice(
    rig: SlackRig, double: SlackDouble
) -> None:
    emails = load_emails(USERS)
    slack = SlackClient(double, f"http://127.0.0.1:{rig.port}")
    expected_posts: dict[str, int] = {}

    def step_of(email: str) -> str | None:
        stored = rig.store.load_conversation(slack_key(email))
        assert stored is not None
        step = FlowState.model_validate(stored.state).step
        return step.value if step else None

    def posted(email: str, count: int) -> bool:
        return len(dm_posts(double, email)) >= count

    def converse(n: int, email: str) -> None:
        posts = 0
        script = [*PATH_TO_CONFIRM, ("click", "confirm:yes", None)]
        for index, (how, value, step) in enumerate(script):
            if how == "text":
                envelope = slack.message_event(email, value)
                answers = at_once(partial(slack.deliver, envelope), partial(slack.deliver, envelope, retry=1))
                replies = 1
            else:
                payload = slack.click_payload(email, value)
                if (n + index) % 2:  # the same delivery twice: Slack retrying
                    again = payload
                    replies = 1
                else:  # a double click: the same button, another action_ts
                    again = copy.deepcopy(payload)
                    again["actions"][0]["action_ts"] = f"{time.time():.6f}"
                    replies = 2
                answers = at_once(partial(slack.interact, payload), partial(slack.interact, again))
            assert [a.status_code for a in answers] == [200, 200], (email, value)
            posts += replies
            wait_until(partial(posted, email, posts), what=f"{email}: {value}")
            assert step_of(email) == step, (email, value)  # advanced once, whatever came twice
        # A barrier: a later message is answered after every copy above was handled.
        slack.turn(email, "text", "help")
        expected_posts[email] = posts + 1

    errors = run_threads([partial(converse, n, e) for n, e in enumerate(emails)])
    slack.close()
    assert errors == []

    for email in emails:
        said = keys_of(dm_posts(double, email))
        assert len(dm_posts(double, email)) == expected_posts[email], (email, said)
        assert said.count("outcome.login_success") == 1, (email, said)
        assert not APOLOGIES & set(said), (email, said)
        for _, _, step in PATH_TO_CONFIRM:
            assert said.count(f"ask.{step}") in (1, 2), (email, said)  # asked again only after a double click
        assert len(station_logins(rig.core.events(email), email)) == 1, email
        assert [a.outcome for a in rig.store.recent_attempts(email)] == ["success"], email
        assert rig.core.session(email) is not None
