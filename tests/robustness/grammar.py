"""Per-option phrasing grammars: for each question, each option's words (synonyms, short forms) in
English and French, the sentences around them (templates), and misspellings (`typos.py`).

A `Setting` is one demo user at one question in one language: the clicks that lead there and what the
flow must do with each option (the answer it holds, the step it goes on to, the kind of its reply).
The expectation of a generated dialogue is the option's, so it follows from the grammar alone.
Generation is deterministic: one `random.Random(SEED)` draws the phrasings, in a fixed order.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tests.robustness.corpus import ALEX, AVA, INES, SAM, Dialogue, Expect, Turn, click, say
from tests.robustness.phrasings import PENDING, QUESTIONS, Question
from tests.robustness.typos import misspell

SEED = 20261204
START = {"en": "log me in", "fr": "connecte-moi"}


def _to(step: str | None, kind: str = "prompt") -> Callable[[Any], Expect]:
    """Every option leads to the same step."""
    return lambda value: Expect(step=step, kind=kind)


@dataclass(frozen=True)
class Setting:
    user: str
    lang: str
    question: str
    path: tuple[Turn, ...]  # the turns that lead to the question
    after: Callable[[Any], Expect]  # the expectation of an answer, but for the answer itself
    options: tuple[Any, ...] = ()  # the option values this user has (all when empty)
    clean: int = 3  # phrasings per option as written
    typos: int = 2  # misspelled phrasings per option
    extra: dict[str, Any] = field(default_factory=dict)  # answers that must hold as well


def _path(user: str, lang: str, *clicks: str) -> tuple[Turn, ...]:
    del user
    return (say(START[lang]), *(click(value) for value in clicks))


def _ava_call(value: Any) -> Expect:
    steps = {"desktop": "team", "extension": "extension", "dial_number": "dial_number"}
    return Expect(step=steps[value], kind="prompt")


def _ava_number(value: Any) -> Expect:
    if value == "national":
        return Expect(step="country_code", kind="prompt", answers={"dial_number": None})
    return Expect(step="team", kind="prompt")


def _ines_number(value: Any) -> Expect:
    if value in PENDING:
        return Expect(step="country_code", kind="prompt", answers={"pending_national": value})
    return Expect(step="confirm", kind="summary")


def _confirm(value: Any) -> Expect:
    if value == "yes":
        return Expect(step=None, kind="success")
    return Expect(step="change_field", kind="prompt")


def _settings() -> list[Setting]:
    settings: list[Setting] = []
    for lang in ("en", "fr"):
        settings += [
            Setting(AVA, lang, "role", _path(AVA, lang), _to("call_preference"), clean=3, typos=3),
            Setting(
                AVA, lang, "call_preference", _path(AVA, lang, "role:supervisor_agent"), _ava_call, clean=3
            ),
            Setting(
                AVA,
                lang,
                "extension",
                _path(AVA, lang, "role:supervisor_agent", "call:extension"),
                _to("team"),
                clean=4,
                typos=0,
            ),
            Setting(
                AVA,
                lang,
                "dial_number",
                _path(AVA, lang, "role:supervisor_agent", "call:dial_number"),
                _ava_number,
                options=("+12125550102", "+14155550101", "national"),
                clean=4,
                typos=1,
            ),
            Setting(
                AVA,
                lang,
                "team",
                _path(AVA, lang, "role:supervisor_agent", "call:desktop"),
                _to("auto_login"),
                options=AVA_TEAMS,
                clean=2,
                typos=1,
            ),
            Setting(
                SAM, lang, "auto_login", _path(SAM, lang, "call:desktop"), _to("confirm", "summary"), clean=4
            ),
            Setting(
                SAM, lang, "confirm", _path(SAM, lang, "call:desktop", "auto:no"), _confirm, clean=4, typos=1
            ),
        ]
    settings += [
        Setting(
            SAM,
            "en",
            "call_preference",
            _path(SAM, "en"),
            _to("auto_login"),
            options=("desktop", "dial_number"),
        ),
        Setting(
            ALEX, "en", "call_preference", _path(ALEX, "en"), _to("team"), options=("desktop", "extension")
        ),
        Setting(
            INES, "fr", "call_preference", _path(INES, "fr"), _to("team"), options=("desktop", "dial_number")
        ),
        Setting(INES, "fr", "team", _path(INES, "fr", "call:desktop"), _to("auto_login"), options=INES_TEAMS),
        Setting(ALEX, "en", "team", _path(ALEX, "en", "call:desktop"), _to("auto_login"), options=ALEX_TEAMS),
        Setting(
            INES,
            "fr",
            "auto_login",
            _path(INES, "fr", "call:desktop", "team:t-support-france"),
            _to("confirm", "summary"),
            clean=4,
        ),
        Setting(
            INES,
            "fr",
            "confirm",
            _path(INES, "fr", "call:desktop", "team:t-support-france", "auto:no"),
            _confirm,
            clean=3,
            typos=1,
        ),
        # Inès changes her number from the summary ("Change", then "Number"): any number is hers to use.
        Setting(
            INES,
            "fr",
            "dial_number",
            _path(
                INES,
                "fr",
                "call:dial_number",
                "team:t-support-france",
                "auto:no",
                "confirm:change",
                "change:dial_number",
            ),
            _ines_number,
            options=("+33612345678", "+33199001235", "0612345678", "0199001235", "+33199001234"),
            clean=4,
            typos=1,
        ),
    ]
    return settings


AVA_TEAMS = (
    "t-billing",
    "t-billing-escalations",
    "t-sales-emea",
    "t-sales-apac",
    "t-sales-americas",
    "t-tech-support",
    "t-customer-care",
    "t-retention",
    "t-onboarding",
    "t-vip",
    "t-collections",
    "t-returns",
)
INES_TEAMS = ("t-support-france", "t-sales-emea")
ALEX_TEAMS = ("t-tech-support", "t-customer-care")


def _phrasings(question: Question, lang: str, value: Any, user: str) -> list[str]:
    option = question.option(value, user)
    sentences = [t.format(w=w) for t in question.sentences(option, lang) for w in option.words[lang]]
    return list(dict.fromkeys(s.strip() for s in sentences))


def _short(user: str) -> str:
    return user.split(".")[0]


def generated() -> list[Dialogue]:
    """The grammar's dialogues: for each setting and option, a few phrasings as written and a few
    misspelled, drawn with a fixed seed."""
    rng = random.Random(SEED)
    dialogues: list[Dialogue] = []
    for setting in _settings():
        question = QUESTIONS[setting.question]
        values = setting.options or question.values()
        for value in values:
            phrasings = _phrasings(question, setting.lang, value, setting.user)
            rng.shuffle(phrasings)
            chosen = phrasings[: setting.clean]
            misspelled: list[str] = []
            for phrasing in phrasings:
                if len(misspelled) >= setting.typos:
                    break
                typo = misspell(phrasing, rng, question.protected)
                if typo and typo not in chosen and typo not in misspelled and typo not in phrasings:
                    misspelled.append(typo)
            after = setting.after(value)
            answers = {**question.answers(value), **after.answers, **setting.extra}
            expect = Expect(step=after.step, answers=answers, kind=after.kind)
            for n, text in enumerate([*chosen, *misspelled]):
                tag = "typo" if n >= len(chosen) else "text"
                dialogues.append(
                    Dialogue(
                        id=f"{setting.question}.{_short(setting.user)}.{setting.lang}.{value}.{tag}{n}",
                        user=setting.user,
                        lang=setting.lang,
                        turns=(*setting.path, say(text)),
                        expect=expect,
                        question=setting.question,
                    )
                )
    return dialogues
