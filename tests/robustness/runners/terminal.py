"""The terminal channel in line mode, in process: `run_line_mode` reads the dialogue's turns from a
stdin that types them one at a time (a click is the choice's label as shown, which line mode takes
as that choice) and writes to a StringIO, as another program holding the conversation would."""

from __future__ import annotations

import asyncio
import io
import itertools
from collections.abc import Iterator
from pathlib import Path

from bot.channels.terminal.chat import conversation_key, run_line_mode
from tests.golden.harness import Rig
from tests.robustness.checks import Exchange, Observation
from tests.robustness.corpus import Dialogue, Turn
from tests.robustness.kinds import keys_in_text, kind_of_key
from tests.robustness.runners.common import click_labels, fresh_demo_state, saved_preferences, stored_state


def _shown_choices(block: str) -> list[str]:
    """The labels of the numbered choices of a turn's output ("  2. Billing")."""
    labels = []
    for line in block.splitlines():
        stripped = line.strip()
        number, dot, label = stripped.partition(". ")
        if line.startswith("  ") and dot and number.isdigit():
            labels.append(label)
    return labels


def typed(turn: Turn, shown: str, language: str) -> tuple[str, bool]:
    """What the user types for a turn: the text, or for a click the label of the choice shown (the
    first label that starts like it, for a number shown with "(default)"), else the label itself;
    and whether a click's choice was offered."""
    if turn.say is not None:
        return turn.say, True
    assert turn.click is not None
    labels = click_labels(turn.click, language)
    choices = _shown_choices(shown)
    for label in labels:
        for choice in choices:
            if choice.casefold() == label.casefold():
                return choice, True
    for label in labels:
        for choice in choices:
            if choice.startswith(label):
                return choice, True
    return labels[0], False


class _Typist(Iterator[str]):
    """A stdin that types the next turn only when line mode asks for it, and cuts the output into
    the block each turn printed."""

    def __init__(self, dialogue: Dialogue, out: io.StringIO) -> None:
        self.turns = list(dialogue.turns)
        self.language = dialogue.lang
        self.out = out
        self.read = 0
        self.marks: list[int] = []  # the output's length when each line was read
        self.lines: list[str] = []
        self.not_offered: list[str] = []

    def __iter__(self) -> _Typist:
        return self

    def __next__(self) -> str:
        if self.read >= len(self.turns):
            self.marks.append(len(self.out.getvalue()))
            raise StopIteration
        text = self.out.getvalue()
        shown = text[self.marks[-1] if self.marks else 0 :]
        line, offered = typed(self.turns[self.read], shown, self.language)
        if not offered:
            self.not_offered.append(f"turn {self.read + 1}: {self.turns[self.read]} was not offered")
        self.marks.append(len(text))
        self.lines.append(line)
        self.read += 1
        return line + "\n"

    def readline(self) -> str:  # only read without --user; present for the TextIO protocol
        return ""


class TerminalRunner:
    name = "terminal"

    def __init__(self, directory: Path) -> None:
        self.rig = Rig(directory)
        self.database = directory / "golden.db"
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.rig.store.close()
        self.loop.close()

    def run(self, dialogue: Dialogue) -> Observation:
        fresh_demo_state(self.database, self.rig.core)
        out = io.StringIO()
        typist = _Typist(dialogue, out)
        observation = Observation()
        try:
            code = self.loop.run_until_complete(
                run_line_mode(self.rig.assistant, dialogue.user, dialogue.lang, typist, out)  # type: ignore[arg-type]
            )
        except Exception as error:  # a crash is a result to report, not a reason to stop the corpus
            observation.problems.append(f"line mode raised {error!r}")
            code = None
        if code not in (0, None):
            observation.problems.append(f"line mode exited with {code}")
        text = out.getvalue()
        ends = [*typist.marks, len(text)]
        blocks = [text[start:end] for start, end in itertools.pairwise(ends)]
        for number, (line, block) in enumerate(zip(typist.lines, blocks, strict=False), start=1):
            if not block.endswith("\n\n"):
                observation.problems.append(f"turn {number}: the reply is not ended by one empty line")
            elif "\n\n" in block[:-2]:
                observation.problems.append(f"turn {number}: a blank line inside the reply")
            body = block.rstrip("\n")
            observation.exchanges.append(Exchange(line, body, keys_in_text(body)))
        observation.problems.extend(typist.not_offered)
        observation.ended_chat = typist.read < len(dialogue.turns)
        last = observation.exchanges[-1].keys if observation.exchanges else []
        observation.last_key = last[-1] if last else None
        observation.last_kind = kind_of_key(observation.last_key)
        observation.last_kinds = [kind_of_key(k) for k in last]
        observation.state = stored_state(self.rig.store, conversation_key(dialogue.user))
        observation.saved = saved_preferences(self.rig.store, dialogue.user)
        return observation
