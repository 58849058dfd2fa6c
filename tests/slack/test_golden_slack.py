"""Every golden conversation of tests/golden/scenarios, replayed through Slack.

A `say` is a DM `message` event, a `click` is the `block_actions` a user's click sends (a button, a
select option, or the "Don't show again" box and Continue), an opening is the user opening the
bot's Messages tab (`app_home_opened`), and `restart: true` rebuilds the app on the same database.
The reply keys are read back from the block ids of the messages the Web API double received.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.channels.slack import blocks as kit
from tests.golden.harness import _check_after, _setup, all_scenarios, check_order, load

from .double import SlackDouble, user_id_for
from .support import SlackRig, fields_of, offered, texts_of


def _params() -> list[object]:
    params: list[object] = []
    for path in all_scenarios():
        reason = load(path).get("xfail")
        marks = [pytest.mark.xfail(reason=str(reason), strict=True)] if reason else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


def _check(
    rig: SlackRig, email: str, blocks: list[dict[str, Any]], expect: dict[str, Any], where: str
) -> None:
    keys = kit.reply_keys(blocks)
    text = texts_of(blocks)
    if "keys" in expect:
        assert keys == expect["keys"], f"{where}: reply keys\n{text}"
    for fragment in expect.get("says", []):
        assert fragment in text, f"{where}: {fragment!r} not in\n{text}"
    for fragment in expect.get("never_says", []):
        assert fragment not in text, f"{where}: {fragment!r} in\n{text}"
    check_order(text, expect.get("says_in_order", []), where)
    state = rig.state(email)
    if "step" in expect:
        assert state.get("step") == expect["step"], f"{where}: step {state.get('step')!r}\n{text}"
    if "choices" in expect:
        assert offered(blocks) == expect["choices"], f"{where}: choices\n{text}"
    shown = fields_of(blocks)
    for label, value in (expect.get("fields") or {}).items():
        assert shown.get(label) == value, f"{where}: field {label!r} = {shown.get(label)!r}\n{text}"
    for name, value in (expect.get("answers") or {}).items():
        got = state.get("answers", {}).get(name)
        assert got == value, f"{where}: answer {name} = {got!r}"
    if "language" in expect:
        assert state.get("language") == expect["language"], f"{where}: language"


@pytest.mark.parametrize("path", _params())
def test_golden_conversation_through_slack(path: Path, rig: SlackRig, double: SlackDouble) -> None:
    scenario = load(path)
    email = scenario["user"]
    if scenario.get("lang"):
        # The golden harness passes the language as a setting; in Slack it is the user's locale.
        double.set_locale(user_id_for(email), {"fr": "fr-FR", "en": "en-US"}[scenario["lang"]])
    _setup(rig, scenario.get("setup") or {})
    for index, turn in enumerate(scenario["turns"], start=1):
        where = f"{path.name} turn {index} ({turn.get('say') or turn.get('click') or 'open'})"[:200]
        if turn.get("restart"):
            rig.restart()
        expect = turn.get("expect") or {}
        mark = double.mark()
        if "say" in turn:
            response = rig.dm(email, str(turn["say"]))
        elif "click" in turn:
            response = rig.click(email, str(turn["click"]))
        else:
            response = rig.open_dm(email)
        assert response.status_code == 200, f"{where}: {response.status_code} {response.text}"
        posts = rig.wait_posts(email, mark, keys=len(expect.get("keys") or [None]))
        blocks = [b for post in posts for b in post.args["blocks"]]
        _check(rig, email, blocks, expect, where)
    _check_after(rig, email, scenario.get("after") or {}, path.name)  # type: ignore[arg-type]
