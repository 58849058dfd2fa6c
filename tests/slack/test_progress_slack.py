"""A slow contact center in Slack: the simulator served over HTTP with latency (its fault injection)
behind the real-API adapter. A sign-in (or a sign-out) that has not answered within the threshold
posts "Signing you in…" in the DM, and the outcome then takes that message's place with
`chat.update`: the user sees one answer, never a placeholder followed by a second message."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.backend.simulator.faults import Faults
from bot.backend.simulator.server import SimulatorServer
from bot.channels.slack import blocks as kit
from bot.flow.catalog import Catalog
from tests.wxcc.simulated import simulated_backend

from .double import Call, SlackDouble
from .support import SlackRig

DANA = "dana.digital@example.com"
CATALOG = Catalog.default()
SLOW = Faults(latency_ms=600)  # each answer of the contact center: well past the threshold below


@pytest.fixture
def slow_rig(tmp_path: Path, double: SlackDouble) -> Iterator[tuple[SlackRig, SimulatorServer]]:
    core = SimulatorCore(load_tenant(DEMO_TENANT_FILE))
    with simulated_backend(core, tmp_path, emails=[DANA]) as (backend, server):
        rig = SlackRig(tmp_path, double, backend=backend, progress_after=0.1)
        try:
            yield rig, server
        finally:
            rig.stop()


def keys_of(blocks: list[dict[str, Any]]) -> list[str]:
    return kit.reply_keys(blocks)


def answered(rig: SlackRig, mark: int) -> list[Call]:
    """The DM's posts since `mark`, once one of them has been updated with an outcome."""

    def done() -> list[Call] | None:
        posts = rig.posts(DANA, mark)
        stamps = {p.answer["ts"] for p in posts}
        updated = [
            c
            for c in rig.double.since(mark, "chat.update")
            if c.args.get("ts") in stamps and any(k.startswith("outcome.") for k in keys_of(c.args["blocks"]))
        ]
        return posts if updated else None

    result: list[Call] = rig.double.wait_for(done, timeout=60, what="the outcome in place of the progress")
    return result


def to_confirm(rig: SlackRig) -> None:
    """Dana's answers, up to "Save and continue?" (the contact center still quick)."""
    mark = rig.double.mark()
    rig.dm(DANA, "sign me in")
    rig.wait_posts(DANA, mark)
    mark = rig.double.mark()
    rig.click(DANA, "auto:no")
    rig.wait_posts(DANA, mark)
    assert keys_of(rig.current_messages(DANA)[-1]["blocks"]) == ["ask.confirm"]


def test_a_slow_sign_in_is_posted_then_replaced_by_its_outcome(
    slow_rig: tuple[SlackRig, SimulatorServer],
) -> None:
    rig, server = slow_rig
    to_confirm(rig)
    server.faults = SLOW
    mark = rig.double.mark()
    rig.click(DANA, "confirm:yes")
    posts = answered(rig, mark)
    assert len(posts) == 1, [keys_of(p.args["blocks"]) for p in posts]  # no second message
    progress = posts[0]
    assert keys_of(progress.args["blocks"]) == ["progress.login"]
    assert progress.args["text"] == CATALOG.text("en", "progress.login") == "Signing you in…"
    replaced = [c for c in rig.double.since(mark, "chat.update") if c.args["ts"] == progress.answer["ts"]]
    assert len(replaced) == 1
    assert keys_of(replaced[0].args["blocks"])[0] == "outcome.login_success"
    assert "Tracking id" in replaced[0].args["text"]
    # What the user sees now: the summary (with the answer chosen), then the outcome, nothing else.
    shown = [keys_of(m["blocks"]) for m in rig.current_messages(DANA)]
    assert shown[-1][0] == "outcome.login_success" and "progress.login" not in shown[-1]
    assert shown[-2] == ["ask.confirm"]

    mark = rig.double.mark()
    rig.dm(DANA, "sign me out")
    posts = answered(rig, mark)
    assert [keys_of(p.args["blocks"]) for p in posts] == [["progress.logout"]]
    assert keys_of(rig.current_messages(DANA)[-1]["blocks"]) == ["outcome.logout_success"]
    assert server.core.session(DANA) is None


def test_a_quick_sign_in_is_posted_once_without_progress(slow_rig: tuple[SlackRig, SimulatorServer]) -> None:
    rig, _ = slow_rig
    rig.progress_after = 30.0
    rig.restart()
    to_confirm(rig)
    mark = rig.double.mark()
    rig.click(DANA, "confirm:yes")
    posts = rig.wait_posts(DANA, mark)
    assert [keys_of(p.args["blocks"])[0] for p in posts] == ["outcome.login_success"]
    assert all(not k.startswith("progress.") for p in posts for k in keys_of(p.args["blocks"]))
