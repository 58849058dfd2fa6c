"""Developer tool: print what a scenario file's turns produce (keys, step, choices, text). Not a test."""

import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
import yaml

from bot.channels.terminal.chat import conversation_key
from bot.flow.engine import UserMessage
from tests.golden.harness import Rig, _setup, _text


async def main():
    spec = yaml.safe_load(Path(sys.argv[1]).read_text())
    d = Path(tempfile.mkdtemp())
    rig = Rig(d)
    key = conversation_key(spec["user"])
    lang = spec.get("lang")
    _setup(rig, spec.get("setup") or {})
    for t in spec["turns"]:
        if t.get("restart"):
            rig.restart()
        if "say" in t:
            r = await rig.assistant.handle(key, UserMessage(text=str(t["say"])), language=lang)
        elif "click" in t:
            r = await rig.assistant.handle(key, UserMessage(choice=t["click"]), language=lang)
        else:
            r = await rig.assistant.open(key, language=lang)
        st = rig.store.load_conversation(key).state
        print(">>>", t.get("say") or t.get("click") or "open", "| step:", st["step"])
        print("   keys:", [x.key for x in r])
        print("   choices:", [c.value for x in r for c in x.choices][-12:])
        print("   " + _text(r).replace("\n", "\n   "))
    print("prefs:", rig.store.load_preferences(spec["user"]))
    print(
        "attempts:", [(a.outcome, a.reason, a.tracking_id) for a in rig.store.recent_attempts(spec["user"])]
    )
    print("session:", rig.core.session(spec["user"]))


asyncio.run(main())
