"""The Slack app over HTTP: signatures, retries and double clicks, commands, mentions, App Home,
ignored messages, Web API failures, and the searchable team select."""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.backend.simulator import DEMO_TENANT_FILE, load_tenant
from bot.channels.slack import blocks as kit
from bot.channels.slack.blocks import click_for
from storage import PreferencesRecord

from .double import TEAM, SlackDouble, user_id_for
from .support import SECRET, SlackRig, im_of

DANA = "dana.digital@example.com"
AVA = "ava.lead@example.com"


def keys_of(posts: list[Any]) -> list[str]:
    return [k for p in posts for k in kit.reply_keys(p.args.get("blocks") or [])]


def say(rig: SlackRig, email: str, text: str, **kwargs: Any) -> list[str]:
    mark = rig.double.mark()
    assert rig.dm(email, text, **kwargs).status_code == 200
    return keys_of(rig.wait_posts(email, mark))


def click(rig: SlackRig, email: str, value: str) -> list[str]:
    mark = rig.double.mark()
    assert rig.click(email, value).status_code == 200
    return keys_of(rig.wait_posts(email, mark))


def to_confirm(rig: SlackRig) -> None:
    assert say(rig, DANA, "sign me in") == ["auto.role", "auto.team", "ask.auto_login"]
    assert click(rig, DANA, "auto:no") == ["ask.confirm"]


# --- signatures ----------------------------------------------------------------------------------


def test_the_published_signature_vector_is_how_requests_are_signed() -> None:
    from .support import sign

    body = (
        "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
        "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
        "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
        "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c"
    )
    expected = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503"
    assert sign(body.encode(), "1531420618", SECRET) == expected


def _event_body(text: str = "sign me in") -> bytes:
    uid = user_id_for(AVA)
    event = {
        "type": "message",
        "text": text,
        "user": uid,
        "channel": im_of(uid),
        "channel_type": "im",
        "ts": "1.2",
    }
    return json.dumps(
        {"type": "event_callback", "team_id": TEAM, "event": event, "event_id": "EvForged"}
    ).encode()


@pytest.mark.parametrize(
    "case",
    ["wrong secret", "stale", "future", "no signature", "garbled signature", "tampered body"],
)
def test_forged_and_stale_requests_get_401_and_never_reach_the_flow(rig: SlackRig, case: str) -> None:
    body = _event_body()
    now = int(time.time())
    if case == "wrong secret":
        response = rig.post(body, "application/json", secret="not-the-secret")
    elif case == "stale":
        response = rig.post(body, "application/json", timestamp=str(now - 301))
    elif case == "future":
        response = rig.post(body, "application/json", timestamp=str(now + 301))
    elif case == "no signature":
        response = rig.post(body, "application/json", signature="")
    elif case == "garbled signature":
        response = rig.post(body, "application/json", signature="v0=zz")
    else:
        from .support import sign

        signature = sign(body, str(now))
        response = rig.post(
            _event_body("sign me out"), "application/json", timestamp=str(now), signature=signature
        )
    assert response.status_code == 401
    assert rig.double.snapshot() == []
    assert rig.store.load_conversation(rig.key(AVA)) is None


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b"payload=%7Bnot+json", "application/x-www-form-urlencoded"),
        (b"\xff\xfe\x00garbage", "application/octet-stream"),
        (json.dumps({"type": "event_callback", "event": "not an object"}).encode(), "application/json"),
        (json.dumps({"type": "block_actions", "actions": "nope"}).encode(), "application/json"),
    ],
)
def test_malformed_signed_requests_are_refused_without_reaching_the_flow(
    rig: SlackRig, body: bytes, content_type: str
) -> None:
    response = rig.post(body, content_type)
    assert response.status_code in (400, 404), response.text
    assert [c.method for c in rig.double.snapshot() if c.method != "auth.test"] == []
    assert rig.store.load_conversation(rig.key(AVA)) is None


def test_url_verification_and_ssl_check_are_answered(rig: SlackRig) -> None:
    challenge = json.dumps({"token": "t", "challenge": "3eZbrw1aBm2rZgRNFdxV", "type": "url_verification"})
    response = rig.post(challenge.encode(), "application/json")
    assert response.status_code == 200 and "3eZbrw1aBm2rZgRNFdxV" in response.text
    response = rig.post(b"ssl_check=1&token=t", "application/x-www-form-urlencoded")
    assert response.status_code == 200 and response.text == ""


# --- retries and double clicks (X2) ----------------------------------------------------------------


def test_a_retried_event_is_processed_once(rig: SlackRig, double: SlackDouble) -> None:
    assert say(rig, AVA, "sign me in", event_id="EvOnce") == ["ask.role"]
    for retry in (1, 2, 3):
        uid = user_id_for(AVA)
        event = {
            "type": "message",
            "text": "sign me in",
            "user": uid,
            "channel": im_of(uid),
            "channel_type": "im",
        }
        assert rig.event(event, event_id="EvOnce", retry=retry).status_code == 200
    assert say(rig, AVA, "help") == ["help.step.role", "ask.role"]  # a barrier: later than the retries
    assert keys_of(rig.posts(AVA)).count("ask.role") == 2
    assert rig.state(AVA)["step"] == "role"


def test_every_delivery_is_in_the_inbox_before_it_is_acknowledged_and_done_once_answered(
    rig: SlackRig, double: SlackDouble
) -> None:
    """A DM, a slash command and a click each become an inbox entry, done once answered, and the
    turn's replies are stored with it and marked posted (issue 7)."""
    assert say(rig, AVA, "sign me in", event_id="EvInbox") == ["ask.role"]
    mark = double.mark()
    assert rig.command(AVA, "/login").status_code == 200
    rig.wait_posts(AVA, mark)
    assert click(rig, AVA, "role:supervisor_agent")[-1] == "ask.call_preference"

    # The reply reaches Slack a moment before its entries are marked: wait for them to settle.
    double.wait_for(
        lambda: (
            rig.store.pending_inbound(channel="slack") == []  # nothing left unanswered...
            and rig.store.pending_outbound(channel="slack") == []
        ),  # ...nor unposted
        what="the inbox and outbox to settle",
    )
    with closing(sqlite3.connect(rig.database.removeprefix("sqlite:///"))) as db:
        inbox = db.execute("SELECT subject, delivery_id, status FROM delivery_inbox ORDER BY id").fetchall()
        outbox = db.execute("SELECT user_id, status FROM reply_outbox ORDER BY id").fetchall()
    assert [(subject, status) for subject, _, status in inbox] == [(user_id_for(AVA), "done")] * 3
    assert inbox[0][1] == "EvInbox"
    assert outbox == [(AVA, "posted")] * 3


def test_a_delivery_that_cannot_be_recorded_is_not_acknowledged(rig: SlackRig, double: SlackDouble) -> None:
    """The database refuses the inbox entry: Slack gets a 500 (it will deliver the event again) and
    nothing runs; its retry, once the database is back, is answered."""
    path = rig.database.removeprefix("sqlite:///")
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("ALTER TABLE delivery_inbox RENAME TO delivery_inbox_away")
    mark = double.mark()
    assert rig.dm(AVA, "sign me in", event_id="EvRefused").status_code == 500
    assert rig.store.load_conversation(rig.key(AVA)) is None
    with closing(sqlite3.connect(path, isolation_level=None)) as db:
        db.execute("ALTER TABLE delivery_inbox_away RENAME TO delivery_inbox")
    assert rig.posts(AVA, mark) == []

    uid = user_id_for(AVA)
    event = {
        "type": "message",
        "text": "sign me in",
        "user": uid,
        "channel": im_of(uid),
        "channel_type": "im",
    }
    assert rig.event(event, event_id="EvRefused", retry=1).status_code == 200
    assert keys_of(rig.wait_posts(AVA, mark)) == ["ask.role"]


def test_the_same_click_twice_advances_one_step_and_signs_in_once(rig: SlackRig, double: SlackDouble) -> None:
    to_confirm(rig)
    message = rig.current_messages(DANA)[-1]
    found = click_for(message["blocks"], "confirm:yes")
    assert found is not None
    action = {**found[0], "action_ts": "1700000000.123456"}
    payload = rig.action_payload(DANA, action, message=message)
    mark = double.mark()
    assert rig.interact(payload).status_code == 200
    assert rig.interact(payload).status_code == 200  # the same delivery again (a retry)
    second = rig.action_payload(DANA, {**action, "action_ts": "1700000000.654321"}, message=message)
    assert rig.interact(second).status_code == 200  # a real double click: another action_ts
    posts = double.wait_for(lambda: len(rig.posts(DANA, mark)) >= 2 and rig.posts(DANA, mark), what="both")
    assert keys_of(posts)[0] == "outcome.login_success"
    assert "outcome.login_success" not in keys_of(posts)[1:]
    assert say(rig, DANA, "help") == ["help.general"]
    attempts = rig.store.recent_attempts(DANA, limit=10)
    assert [a.outcome for a in attempts] == ["success"]
    assert rig.core.session(DANA) is not None


def test_a_click_replaces_its_buttons_with_the_answer(rig: SlackRig, double: SlackDouble) -> None:
    say(rig, AVA, "sign me in")
    asked = rig.current_messages(AVA)[-1]
    mark = double.mark()
    rig.click(AVA, "role:supervisor")
    posts = rig.wait_posts(AVA, mark)
    updates = double.since(mark, "chat.update")
    assert len(updates) == 1 and updates[0].args["ts"] == asked["ts"]
    updated = updates[0].args["blocks"]
    assert all(b["type"] != "actions" for b in updated)
    assert kit.reply_keys(updated) == ["ask.role"]
    assert "Supervisor" in json.dumps(updated)
    assert keys_of(posts) == ["ask.call_preference"]  # the next prompt is a new message
    assert double.methods().index("chat.update") < len(double.methods()) - 1


def test_a_button_of_an_earlier_question_leaves_its_message_alone(rig: SlackRig, double: SlackDouble) -> None:
    say(rig, AVA, "sign me in")
    mark = double.mark()
    assert click(rig, AVA, "confirm:yes") == ["choice.expired", "ask.role"]
    assert double.since(mark, "chat.update") == []


# --- what is ignored ---------------------------------------------------------------------------------


def test_bots_edits_and_other_subtypes_are_ignored(rig: SlackRig, double: SlackDouble) -> None:
    ignored = [
        {"bot_id": "B0OTHER", "event_id": "EvBot"},
        {"subtype": "message_changed", "event_id": "EvEdit"},
        {"subtype": "channel_join", "event_id": "EvJoin"},
        {"subtype": "bot_message", "event_id": "EvBotMessage"},
        {"channel_type": "channel", "event_id": "EvChannel"},
    ]
    for extra in ignored:
        event_id = extra.pop("event_id")
        assert rig.dm(AVA, "sign me in", event_id=event_id, **extra).status_code == 200
    assert say(rig, AVA, "hello") == ["greet.hello"]
    assert keys_of(rig.posts(AVA)) == ["greet.hello"]
    deliveries = rig.state(AVA)["deliveries"]
    assert not {"EvBot", "EvEdit", "EvJoin", "EvBotMessage", "EvChannel"} & set(deliveries)


# --- commands and mentions ----------------------------------------------------------------------------


def test_login_in_the_dm_posts_there_and_in_a_channel_answers_ephemerally(
    rig: SlackRig, double: SlackDouble
) -> None:
    mark = double.mark()
    assert rig.command(AVA, "/login").status_code == 200
    assert keys_of(rig.wait_posts(AVA, mark)) == ["ask.role"]
    mark = double.mark()
    assert rig.command(AVA, "/logout", channel="C0GENERAL").status_code == 200
    responses = double.wait_for(lambda: double.since(mark, "respond"), what="respond")
    assert responses[0].args["response_type"] == "ephemeral"
    assert kit.reply_keys(responses[0].args["blocks"])[0] in (
        "outcome.logout_success",
        "failure.NOT_LOGGED_IN",
    )
    assert rig.posts(AVA, mark) == []


def test_login_with_words_reads_them_like_a_message(rig: SlackRig, double: SlackDouble) -> None:
    mark = double.mark()
    rig.command(AVA, "/login", "as supervisor and agent on extension 1001")
    keys = keys_of(rig.wait_posts(AVA, mark))
    assert keys == ["ask.team"]
    answers = rig.state(AVA)["answers"]
    assert answers["role"] == "supervisor_agent" and answers["extension"] == "1001"


def test_a_mention_in_a_channel_is_answered_ephemerally(rig: SlackRig, double: SlackDouble) -> None:
    uid = user_id_for(AVA)
    event = {
        "type": "app_mention",
        "text": "<@U0BOT> sign me in",
        "user": uid,
        "channel": "C0GENERAL",
        "ts": "1.3",
    }
    assert rig.event(event).status_code == 200
    posted = double.wait_for(lambda: double.snapshot("chat.postEphemeral"), what="ephemeral")
    assert posted[0].args["user"] == uid and posted[0].args["channel"] == "C0GENERAL"
    assert kit.reply_keys(posted[0].args["blocks"]) == ["ask.role"]
    assert double.snapshot("chat.postMessage") == []
    # A click on that ephemeral message is answered through its response_url.
    found = click_for(posted[0].args["blocks"], "role:supervisor")
    assert found is not None
    payload = rig.action_payload(AVA, {**found[0], "action_ts": "9.1"}, channel="C0GENERAL", ephemeral=True)
    mark = double.mark()
    rig.interact(payload)
    calls = double.wait_for(lambda: len(double.since(mark, "respond")) >= 2 and double.since(mark, "respond"))
    assert calls[0].args.get("replace_original") is True  # the clicked buttons become the answer
    assert "actions" not in json.dumps(calls[0].args["blocks"])
    assert calls[1].args["response_type"] == "ephemeral" and calls[1].args["replace_original"] is False
    assert kit.reply_keys(calls[1].args["blocks"]) == ["ask.call_preference"]
    assert double.snapshot("chat.postMessage") == []


# --- identity ----------------------------------------------------------------------------------------


def test_a_slack_user_the_contact_center_does_not_know_is_told_so(rig: SlackRig) -> None:
    keys = say(rig, "nobody@example.com", "sign me in")
    assert keys and keys[0].startswith("user.")


def test_a_user_without_a_readable_email_is_told_why(rig: SlackRig, double: SlackDouble) -> None:
    uid = double.add_user(None, "fr-FR", user_id="U0NOEMAIL")
    event = {"type": "message", "text": "bonjour", "user": uid, "channel": im_of(uid), "channel_type": "im"}
    rig.event(event)
    posted = double.wait_for(lambda: double.snapshot("chat.postMessage"), what="post")
    assert kit.reply_keys(posted[0].args["blocks"]) == ["identity.no_email"]
    assert "adresse e-mail" in posted[0].args["text"]


def test_users_info_is_cached(rig: SlackRig, double: SlackDouble) -> None:
    say(rig, AVA, "sign me in")
    click(rig, AVA, "role:supervisor")
    assert len(double.snapshot("users.info")) == 1
    assert double.snapshot("users.info")[0].args["include_locale"] in (True, "true", "1", 1)


# --- App Home ----------------------------------------------------------------------------------------


def _home_text(view: dict[str, Any]) -> str:
    return json.dumps(view, ensure_ascii=False)


def test_app_home_shows_preferences_last_outcome_and_toggles_auto_login(
    rig: SlackRig, double: SlackDouble
) -> None:
    rig.open_home(AVA)
    first = double.wait_for(lambda: double.snapshot("views.publish"), what="home")[0].args
    assert first["user_id"] == user_id_for(AVA)
    assert "lb:home.no_preferences:0.0" in _home_text(first["view"])
    assert "lb:home.no_attempt:0.0" in _home_text(first["view"])

    to_confirm(rig)
    click(rig, DANA, "confirm:yes")
    rig.store.save_preferences(
        PreferencesRecord(
            email=AVA,
            role="supervisor_agent",
            call_preference="extension",
            extension="1001",
            team_id="t-billing",
        )
    )
    mark = double.mark()
    rig.open_home(DANA)
    view = double.wait_for(lambda: double.since(mark, "views.publish"), what="home")[0].args["view"]
    text = _home_text(view)
    assert "Chat and Email" in text and "lb:home.success:0.0" in text and "LOGINBOT-" in text
    assert "lb:home.auto_login_off:0.0" in text

    mark = double.mark()
    rig.open_home(AVA)
    view = double.wait_for(lambda: double.since(mark, "views.publish"), what="home")[0].args["view"]
    toggle = next(
        e
        for b in view["blocks"]
        if b["type"] == "actions"
        for e in b["elements"]
        if e["action_id"] == "lb.home.autologin"
    )
    assert toggle["value"] == "cmd:autologin_on"
    mark = double.mark()
    rig.interact(
        rig.action_payload(
            AVA,
            {
                "type": "button",
                "action_id": "lb.home.autologin",
                "block_id": "lb:home.actions:0.0",
                "value": toggle["value"],
                "text": toggle["text"],
                "action_ts": "5.5",
            },
            view=True,
        )
    )
    republished = double.wait_for(lambda: double.since(mark, "views.publish"), what="republish")[0].args[
        "view"
    ]
    assert "lb:home.auto_login_on:0.0" in _home_text(republished)
    prefs = rig.store.load_preferences(AVA)
    assert prefs is not None and prefs.auto_login
    assert keys_of(rig.posts(AVA, mark)) == ["auto.turned_on"]  # said in the DM too


def test_a_failed_sign_in_shows_its_reason_and_tracking_id_on_home(
    rig: SlackRig, double: SlackDouble
) -> None:
    rig.store.save_preferences(
        PreferencesRecord(
            email=AVA,
            role="supervisor_agent",
            call_preference="dial_number",
            dial_number="+14155550123",
            team_id="t-billing",
            auto_login=True,
            language="en",
        )
    )
    busy = rig.core.profile("busy.agent@example.com")
    assert busy is not None
    keys = say(rig, AVA, "sign me in")
    assert "failure.DUPLICATE_LOCATION" in keys
    mark = double.mark()
    rig.open_home(AVA)
    text = _home_text(
        double.wait_for(lambda: double.since(mark, "views.publish"), what="home")[0].args["view"]
    )
    assert "lb:home.failure:0.0" in text and "already in use" in text and "LOGINBOT-" in text


def test_opening_the_dm_greets_a_newcomer_once(rig: SlackRig, double: SlackDouble) -> None:
    mark = double.mark()
    rig.open_dm(AVA)
    assert keys_of(rig.wait_posts(AVA, mark)) == ["greet.hello"]
    rig.open_dm(AVA)
    assert say(rig, AVA, "help") == ["help.general"]
    assert keys_of(rig.posts(AVA)) == ["greet.hello", "help.general"]


# --- Web API failures --------------------------------------------------------------------------------


def test_a_rate_limited_post_is_retried_after_retry_after(rig: SlackRig, double: SlackDouble) -> None:
    double.fail_next(1, status=429, retry_after=0, method="chat.postMessage")
    assert say(rig, AVA, "sign me in") == ["ask.role"]
    assert [c.method for c in double.failed] == ["chat.postMessage"]


def test_a_failing_web_api_never_surfaces_raw_and_the_next_turn_works(
    rig: SlackRig, double: SlackDouble
) -> None:
    double.fail_next(3, status=500, method="chat.postMessage")  # more than the retries
    mark = double.mark()
    assert rig.dm(AVA, "sign me in").status_code == 200
    double.wait_for(lambda: len(double.failed) == 3, what="the failures")
    assert rig.posts(AVA, mark) == []
    # The turn itself was processed and saved; the next message carries on from there.
    assert say(rig, AVA, "supervisor") == ["ask.call_preference"]
    said = json.dumps([c.args for c in double.snapshot()])
    assert "internal_error" not in said and "ratelimited" not in said


def test_users_info_rate_limited_then_answered(rig: SlackRig, double: SlackDouble) -> None:
    double.fail_next(1, status=429, retry_after=0, method="users.info")
    assert say(rig, AVA, "sign me in") == ["ask.role"]


# --- the team select ----------------------------------------------------------------------------------


def test_twelve_teams_are_a_searchable_static_select(rig: SlackRig) -> None:
    say(rig, AVA, "sign me in as supervisor and agent on extension 1001")
    blocks = rig.current_messages(AVA)[-1]["blocks"]
    select = next(e for b in blocks if b["type"] == "actions" for e in b["elements"])
    assert select["type"] == "static_select" and len(select["options"]) == 12
    assert click(rig, AVA, "team:t-billing") == ["ask.auto_login"]


@pytest.fixture
def big_tenant_rig(tmp_path: Path, double: SlackDouble) -> Any:
    data = yaml.safe_load(DEMO_TENANT_FILE.read_text(encoding="utf-8"))
    extra = [{"id": f"t-big-{n:03d}", "name": f"Queue {n:03d}", "siteId": "site-sf"} for n in range(150)]
    data["teams"].extend(extra)
    for user in data["users"]:
        if user["email"] == AVA:
            user["teamIds"] = [t["id"] for t in extra]
    path = tmp_path / "big_tenant.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    running = SlackRig(tmp_path, double, tenant=load_tenant(path))
    yield running
    running.stop()


def test_over_a_hundred_teams_use_an_external_select_answered_by_block_suggestion(
    big_tenant_rig: SlackRig, double: SlackDouble
) -> None:
    rig = big_tenant_rig
    say(rig, AVA, "sign me in as supervisor and agent on extension 1001")
    message = rig.current_messages(AVA)[-1]
    block = next(b for b in message["blocks"] if b["type"] == "actions")
    select = block["elements"][0]
    assert select["type"] == "external_select" and select["min_query_length"] >= 1
    suggestion = {
        "type": "block_suggestion",
        "user": {"id": user_id_for(AVA), "team_id": TEAM},
        "team": {"id": TEAM, "domain": "loginbot-test"},
        "container": {"type": "message", "message_ts": message["ts"], "channel_id": im_of(user_id_for(AVA))},
        "api_app_id": "A0LOGINBOT",
        "token": "verification_token",
        "action_id": select["action_id"],
        "block_id": block["block_id"],
        "value": "queue 14",
    }
    response = rig.interact(suggestion)
    assert response.status_code == 200
    options = response.json()["options"]
    expected = ["Queue 014", "Queue 114", *(f"Queue {n}" for n in range(140, 150))]
    assert [o["text"]["text"] for o in options] == expected
    assert all(len(o["value"]) <= 75 and len(o["text"]["text"]) <= 75 for o in options)
    response = rig.interact({**suggestion, "value": "queue"})
    assert len(response.json()["options"]) == 100
    chosen = options[5]
    mark = double.mark()
    action = {
        "type": "external_select",
        "action_id": select["action_id"],
        "block_id": block["block_id"],
        "selected_option": chosen,
        "action_ts": "7.7",
    }
    rig.interact(rig.action_payload(AVA, action, message=message))
    assert keys_of(rig.wait_posts(AVA, mark)) == ["ask.auto_login"]
    assert rig.state(AVA)["answers"]["team_id"] == "t-big-143"


def test_slack_controls_follow_a_language_switched_in_the_same_turn(rig: SlackRig) -> None:
    """The checkbox and button labels are the Slack channel's own texts: rendered in the language
    the turn left the conversation in, not the one it started in (nor the user's Slack locale)."""
    assert say(rig, DANA, "sign me in")[-1] == "ask.auto_login"
    english = json.dumps(rig.posts(DANA)[-1].args["blocks"], ensure_ascii=False)
    assert "Don't show again" in english
    assert say(rig, DANA, "parle français")[-1] == "ask.auto_login"
    french = json.dumps(rig.posts(DANA)[-1].args["blocks"], ensure_ascii=False)
    assert "Ne plus afficher" in french and "Continuer" in french and "Don't show again" not in french
