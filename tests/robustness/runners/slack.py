"""The Slack app under uvicorn against the Web API double (both on loopback, started once): a typed
turn is a signed DM event, a click the `block_actions` of pressing that button (or picking that
option, or ticking "Don't show again" and Continue). A turn is over when its delivery left the
durable inbox, which happens once its replies are posted."""

from __future__ import annotations

import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from bot.channels.slack import blocks as kit
from bot.channels.slack.delivery import CHANNEL
from tests.robustness.checks import Exchange, Observation
from tests.robustness.corpus import Dialogue
from tests.robustness.kinds import kind_of_key
from tests.robustness.runners.common import fresh_demo_state, saved_preferences, stored_state
from tests.slack.double import SlackDouble, user_id_for
from tests.slack.support import SlackRig, texts_of

LOCALES = {"en": "en-US", "fr": "fr-FR"}
TURN_TIMEOUT = 20.0


class SlackRunner:
    name = "slack"

    def __init__(self, directory: Path) -> None:
        self._stack = ExitStack()
        self.double = SlackDouble()
        self._stack.enter_context(self.double.running())
        # The user's locale changes between dialogues: users.info is asked at every turn.
        self.rig = SlackRig(directory, self.double, identity_ttl=0)
        self._stack.callback(self.rig.stop)
        self.database = directory / "slack.db"

    def close(self) -> None:
        self._stack.close()

    def _wait(self, email: str, mark: int) -> list[dict[str, Any]] | None:
        deadline = time.monotonic() + TURN_TIMEOUT
        while time.monotonic() < deadline:
            posts = self.rig.posts(email, mark)
            if posts and not self.rig.store.pending_inbound(channel=CHANNEL):
                return [block for post in posts for block in post.args.get("blocks") or []]
            time.sleep(0.005)
        return None

    def run(self, dialogue: Dialogue) -> Observation:
        fresh_demo_state(self.database, self.rig.core)
        email = dialogue.user
        self.double.set_locale(user_id_for(email), LOCALES[dialogue.lang])
        observation = Observation()
        keys: list[str] = []
        blocks: list[dict[str, Any]] = []
        for number, turn in enumerate(dialogue.turns, start=1):
            mark = self.double.mark()
            if turn.say is not None:
                response = self.rig.dm(email, turn.say)
            else:
                assert turn.click is not None
                if number > 1 and kit.click_for(blocks, turn.click) is None:
                    observation.problems.append(f"turn {number}: {turn} was not offered")
                response = self.rig.click(email, turn.click)
            if response.status_code != 200:
                observation.problems.append(f"turn {number}: Slack got HTTP {response.status_code}")
            posted = self._wait(email, mark)
            if posted is None:
                observation.problems.append(f"turn {number}: no reply within {TURN_TIMEOUT:.0f} s")
            blocks = posted or []
            keys = kit.reply_keys(blocks)
            observation.exchanges.append(Exchange(str(turn), texts_of(blocks), list(keys)))
        observation.last_key = keys[-1] if keys else None
        observation.last_kind = kind_of_key(observation.last_key)
        observation.last_kinds = [kind_of_key(k) for k in keys]
        observation.state = stored_state(self.rig.store, self.rig.key(email))
        observation.saved = saved_preferences(self.rig.store, email)
        return observation
