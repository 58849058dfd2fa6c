"""Playing the corpus through a channel, and the pass rates per question and language."""

from __future__ import annotations

import re
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tests.robustness.checks import Observation, failures, transcript
from tests.robustness.corpus import Dialogue


class Runner(Protocol):
    name: str

    def run(self, dialogue: Dialogue) -> Observation: ...

    def close(self) -> None: ...


def make_runner(channel: str, directory: Path) -> Runner:
    warnings.filterwarnings("ignore", message="Your versions of rasa and rasa_sdk", category=UserWarning)
    if channel == "terminal":
        from tests.robustness.runners.terminal import TerminalRunner

        return TerminalRunner(directory)
    if channel == "slack":
        from tests.robustness.runners.slack import SlackRunner

        return SlackRunner(directory)
    if channel == "rasa":
        from tests.robustness.runners.rasa import RasaRunner

        return RasaRunner(directory)
    raise ValueError(f"no runner for {channel!r}")


@dataclass
class Result:
    dialogue: Dialogue
    observation: Observation
    failed: list[str]

    @property
    def passed(self) -> bool:
        return not self.failed


@dataclass
class ChannelRun:
    channel: str
    results: list[Result]
    seconds: float


def run_channel(
    channel: str,
    dialogues: Iterable[Dialogue],
    directory: Path,
    progress: Callable[[int], None] | None = None,
) -> ChannelRun:
    """Every dialogue through one channel, its servers started once."""
    started = time.monotonic()
    runner = make_runner(channel, directory)
    results: list[Result] = []
    try:
        for dialogue in dialogues:
            observation = runner.run(dialogue)
            results.append(Result(dialogue, observation, failures(dialogue, observation)))
            if progress is not None:
                progress(len(results))
    finally:
        runner.close()
    return ChannelRun(channel, results, time.monotonic() - started)


def _rate(passed: int, total: int) -> str:
    return f"{passed:>3}/{total:<3} {100 * passed / total:5.1f} %" if total else "   -"


def rates(run: ChannelRun) -> str:
    """A table: one row per question, one column per language, and the totals."""
    cells: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for result in run.results:
        for question in (result.dialogue.question, "all"):
            for lang in (result.dialogue.lang, "all"):
                cells[(question, lang)].append(result.passed)
    questions = [*sorted({q for q, _ in cells} - {"all"}, key=_question_order), "all"]
    lines = [f"{'question':<16} {'en':>17} {'fr':>17} {'all':>17}"]
    for question in questions:
        row = [
            _rate(sum(cells[(question, lang)]), len(cells[(question, lang)])) for lang in ("en", "fr", "all")
        ]
        lines.append(f"{question:<16} " + " ".join(f"{cell:>17}" for cell in row))
    return "\n".join(lines)


_ORDER = ("start", "role", "call_preference", "extension", "dial_number", "team", "auto_login", "confirm")


def _question_order(question: str) -> tuple[int, str]:
    return (_ORDER.index(question) if question in _ORDER else len(_ORDER), question)


def pattern_of(reason: str) -> str:
    """A failure reason without the values that differ from dialogue to dialogue (steps, reply kinds
    and catalog keys are kept: they say where the flow went)."""
    reason = re.sub(r"^turn \d+: ", "", reason)
    reason = re.sub(r"^(answers\.\w+|saved \w+) is .*", r"\1 wrong", reason)
    reason = re.sub(r"\[[^\]]*\] was not offered", "a click was not offered", reason)
    reason = re.sub(r"show '.*'$", "show an expected fragment", reason)
    return reason


def patterns(run: ChannelRun, limit: int = 12) -> str:
    counted: Counter[str] = Counter()
    for result in run.results:
        counted.update({pattern_of(reason) for reason in result.failed})
    return "\n".join(f"{n:>4}  {pattern}" for pattern, n in counted.most_common(limit))


def failure_list(run: ChannelRun, *, verbose: bool) -> str:
    blocks: list[str] = []
    for result in run.results:
        if result.passed:
            continue
        if verbose:
            blocks.append(transcript(result.dialogue, result.observation, result.failed))
        else:
            last = result.observation.exchanges[-1] if result.observation.exchanges else None
            said = last.bot.splitlines()[0] if last and last.bot else ""
            turns = " / ".join(str(t) for t in result.dialogue.turns)
            blocks.append(
                f"{result.dialogue.id}: {turns}\n  bot › {said}\n"
                + "\n".join(f"  FAIL: {r}" for r in result.failed)
            )
    return "\n".join(blocks)


def summary(run: ChannelRun) -> str:
    passed = sum(r.passed for r in run.results)
    total = len(run.results)
    rate = 100 * passed / max(total, 1)
    head = f"{run.channel}: {passed}/{total} dialogues pass ({rate:.1f} %) in {run.seconds:.1f} s"
    return "\n".join([head, rates(run), "", "most frequent failures:", patterns(run)])
