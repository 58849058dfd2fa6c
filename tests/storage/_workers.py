"""Code run in child processes by the multi-process tests (importable, so `spawn` can find it)."""

from __future__ import annotations

from storage import ConversationKey, Store, VersionConflict


def increment(url: str, key: tuple[str, str, str], times: int) -> int:
    """Add 1 to the conversation's counter `times` times, retrying on conflicts; return the conflicts."""
    conflicts = 0
    conversation_key = ConversationKey(*key)
    with Store.from_url(url) as store:
        done = 0
        while done < times:
            current = store.load_conversation(conversation_key)
            assert current is not None
            try:
                store.commit_turn(
                    key=conversation_key,
                    state={"n": current.state["n"] + 1},
                    step=None,
                    language=None,
                    expected_version=current.version,
                )
                done += 1
            except VersionConflict:
                conflicts += 1
    return conflicts
