"""The sign-in dialog as data: one row per step, in the desktop's order. A row owns everything about
its step: when it applies, its automatic answer where the profile leaves no choice, its validator,
how its question is built, the words that answer it, the entities that fill it, which answers change
with it, and the contact center's refusals that asking it again can fix. Everything else (the
fields a summary can change, the slot names, "fix by asking") is derived from the table.
Adding a step means adding a row (see docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from bot.backend.port import CallPreference, DNValidation, FailureReason, Role, UserProfile
from bot.flow import phrasing, questions
from bot.flow.conversation import Conversation
from bot.flow.numbers import ASCII_DIGITS, check_dial_number, country_code_for_region, normalize_country_code
from bot.flow.state import Answers, Step
from bot.flow.teams import match_team
from bot.flow.vocabulary import Vocabulary


@dataclass(frozen=True)
class Verdict:
    """A validator's answer: an accepted value, or a rejection with a catalog key (never an exception)."""

    value: object = None
    error: str | None = None
    params: dict[str, object] = field(default_factory=dict)
    candidates: tuple[str, ...] = ()  # team ids to choose from when a name was ambiguous
    needs_country_code: str | None = None  # a national number waiting for its country code

    @property
    def accepted(self) -> bool:
        return self.error is None and self.value is not None and not self.candidates


def reject(error: str, **params: object) -> Verdict:
    return Verdict(error=error, params=params)


NOT_UNDERSTOOD = reject("step.not_understood")


# --- validators: validate_<step>(answer, profile, answers) -> Verdict -------------------------------


def validate_role(value: str, profile: UserProfile, answers: Answers) -> Verdict:
    try:
        role = Role(value)
    except ValueError:
        return NOT_UNDERSTOOD
    if role not in profile.roles:
        return reject("role.not_allowed", role=role.value)
    return Verdict(role)


def validate_call_preference(value: str, profile: UserProfile, answers: Answers) -> Verdict:
    try:
        preference = CallPreference(value)
    except ValueError:
        return NOT_UNDERSTOOD
    if preference not in profile.call_options:
        return reject("call.not_allowed", option=preference.value)
    return Verdict(preference)


def validate_extension(value: str, profile: UserProfile, answers: Answers) -> Verdict:
    digits = "".join(ch for ch in value if ch in ASCII_DIGITS)
    if not digits:
        return NOT_UNDERSTOOD
    if digits not in profile.extensions:
        if not profile.extensions:
            return reject("extension.unknown_empty", extension=digits)
        return reject("extension.unknown", extension=digits, extensions=", ".join(profile.extensions))
    return Verdict(digits)


def validate_country_code(value: str, profile: UserProfile, answers: Answers) -> Verdict:
    code = normalize_country_code(value)
    if code is None:
        return reject("country.unknown", code=value.strip()[:24])
    return Verdict(code)


def validate_dial_number(value: str, profile: UserProfile, answers: Answers) -> Verdict:
    check = check_dial_number(value, profile, country_code=answers.country_code)
    if check.needs_country_code:
        return Verdict(needs_country_code="".join(ch for ch in value if ch in ASCII_DIGITS))
    if not check.ok:
        return reject(check.reason or "number.invalid", **dict(check.params))
    return Verdict(check.e164)


def validate_team(value: str, profile: UserProfile, answers: Answers) -> Verdict:
    match = match_team(value, profile.teams)
    if match.team is not None:
        return Verdict(match.team.id)
    if len(match.candidates) == 1:
        return Verdict(match.candidates[0].id)  # one plausible team: take it rather than ask "which one?"
    if match.candidates:
        return Verdict(candidates=tuple(t.id for t in match.candidates))
    return reject("team.unknown", team=value.strip()[:60])


def validate_team_id(value: str, profile: UserProfile, answers: Answers) -> Verdict:
    team = profile.team(value)
    return Verdict(team.id) if team else reject("team.unknown", team=value[:60])


# --- the table ---------------------------------------------------------------------------------------

Predicate = Callable[[UserProfile, Answers], bool]
AutoAnswer = Callable[[UserProfile, Answers], object]
Validator = Callable[[str, UserProfile, Answers], Verdict]
Question = Callable[[Conversation], None]


def _needs_number(preference: CallPreference) -> Predicate:
    return lambda profile, answers: answers.call_preference is preference


def _auto_role(profile: UserProfile, answers: Answers) -> object:
    return profile.roles[0] if len(profile.roles) == 1 else None


def _auto_call(profile: UserProfile, answers: Answers) -> object:
    return profile.call_options[0] if len(profile.call_options) == 1 else None


def _auto_extension(profile: UserProfile, answers: Answers) -> object:
    return profile.extensions[0] if len(profile.extensions) == 1 else None


def _auto_dial_number(profile: UserProfile, answers: Answers) -> object:
    if profile.dn_validation is DNValidation.PROVISIONED_VALUE and profile.default_dn:
        return profile.default_dn  # the profile forces the provisioned value: used, not asked
    # One configured number is filled in automatically; the user can still change it later.
    configured = profile.dial_numbers
    if len(configured) == 1 and profile.default_dn in (None, configured[0]):
        return configured[0]
    return None


def _auto_team(profile: UserProfile, answers: Answers) -> object:
    return profile.teams[0].id if len(profile.teams) == 1 else None


def _never(profile: UserProfile, answers: Answers) -> object:
    return None


def _always(profile: UserProfile, answers: Answers) -> bool:
    return True


@dataclass(frozen=True)
class StepSpec:
    step: Step
    slot: str  # the Answers field this step fills
    applies: Predicate
    auto: AutoAnswer  # the only possible answer, said instead of asked
    validate: Validator | None
    question: Question
    announce: str = ""  # catalog key said when the answer is automatic
    words: Vocabulary | None = None  # phrases that answer it wherever they are said
    replies: Vocabulary | None = None  # short forms that answer it only when it is the question asked
    entities: tuple[str, ...] = ()  # the recognizer's entities that carry its answer
    changeable: Predicate = _always  # whether the user may change the answer at the summary
    clears: tuple[str, ...] = ()  # answers that depend on this one, cleared when it changes
    fixes: frozenset[FailureReason] = frozenset()  # refusals that a different answer here can fix
    # Whether the user may give an answer other than the automatic one (a number they type): then a
    # refused answer is asked again, never replaced by the automatic one.
    open_answer: Predicate = lambda p, a: False

    def answered(self, answers: Answers) -> bool:
        return getattr(answers, self.slot) is not None

    def vocabulary(self, *, asked: bool) -> Vocabulary | None:
        """What answers this step: its words, and its short forms when it is the question asked."""
        return self._asked_vocabulary if asked else self.words

    @cached_property
    def _asked_vocabulary(self) -> Vocabulary | None:
        if self.words and self.replies:
            return self.words.merged(self.replies)
        return self.replies or self.words


LOGIN_STEPS: tuple[StepSpec, ...] = (
    StepSpec(
        Step.ROLE,
        "role",
        lambda p, a: bool(p.roles),
        _auto_role,
        validate_role,
        questions.ask_role,
        "auto.role",
        words=phrasing.ROLE_WORDS,
        replies=phrasing.ROLE_REPLIES,
        entities=("role",),
        changeable=lambda p, a: len(p.roles) > 1,
        fixes=frozenset({FailureReason.ROLE_NOT_PERMITTED}),
    ),
    StepSpec(
        Step.CALL_PREFERENCE,
        "call_preference",
        lambda p, a: bool(p.call_options),  # digital-only users are never asked about telephony
        _auto_call,
        validate_call_preference,
        questions.ask_call_preference,
        "auto.call_preference",
        words=phrasing.CALL_WORDS,
        replies=phrasing.CALL_REPLIES,
        entities=("call_preference",),
        changeable=lambda p, a: len(p.call_options) > 1,
        clears=("extension", "dial_number", "country_code", "pending_national"),
        fixes=frozenset({FailureReason.DEVICE_NOT_PERMITTED}),
    ),
    StepSpec(
        Step.EXTENSION,
        "extension",
        _needs_number(CallPreference.EXTENSION),
        _auto_extension,
        validate_extension,
        questions.ask_extension,
        "auto.extension",
        entities=("extension",),
        changeable=lambda p, a: a.call_preference is CallPreference.EXTENSION and len(p.extensions) > 1,
        fixes=frozenset({FailureReason.DUPLICATE_LOCATION, FailureReason.INVALID_DIAL_NUMBER}),
    ),
    StepSpec(
        Step.COUNTRY_CODE,
        "country_code",
        lambda p, a: a.call_preference is CallPreference.DIAL_NUMBER and a.pending_national is not None,
        _never,
        validate_country_code,
        questions.ask_country_code,
        replies=phrasing.NUMBER_CHOICE_WORDS,
        changeable=lambda p, a: False,
    ),
    StepSpec(
        Step.DIAL_NUMBER,
        "dial_number",
        _needs_number(CallPreference.DIAL_NUMBER),
        _auto_dial_number,
        validate_dial_number,
        questions.ask_dial_number,
        "auto.dial_number",
        replies=phrasing.NUMBER_CHOICE_WORDS,
        entities=("phone_number",),
        changeable=lambda p, a: a.call_preference is CallPreference.DIAL_NUMBER and p.allows_other_numbers,
        open_answer=lambda p, a: p.allows_other_numbers,
        clears=("country_code", "pending_national"),
        fixes=frozenset(
            {
                FailureReason.DUPLICATE_LOCATION,
                FailureReason.INVALID_DIAL_NUMBER,
                FailureReason.NUMBER_NOT_PROVISIONED,
            }
        ),
    ),
    StepSpec(
        Step.TEAM,
        "team_id",
        lambda p, a: a.role is not None and a.role.needs_team,  # no team for supervisor-only
        _auto_team,
        validate_team,
        questions.ask_team,
        "auto.team",
        entities=("team",),
        changeable=lambda p, a: a.role is not None and a.role.needs_team and len(p.teams) > 1,
        fixes=frozenset({FailureReason.TEAM_NOT_ASSIGNED, FailureReason.TEAM_REQUIRED}),
    ),
    StepSpec(
        Step.AUTO_LOGIN,
        "auto_login",
        _always,
        _never,
        None,
        questions.ask_auto_login,
        words=phrasing.AUTO_LOGIN_WORDS,
        replies=phrasing.YES_NO_REPLIES,
    ),
)

SPECS = {spec.step: spec for spec in LOGIN_STEPS}
# The answers a summary shows and can change: every step but the country code, which is part of a number.
FIELD_STEPS = tuple(spec.step for spec in LOGIN_STEPS if spec.step is not Step.COUNTRY_CODE)


def step_to_fix(reason: FailureReason, answers: Answers) -> StepSpec | None:
    """The step whose answer the contact center refused for this reason, if asking it again can fix it."""
    fixing = [spec for spec in LOGIN_STEPS if reason in spec.fixes]
    for spec in fixing:
        if _in_use(spec, answers):
            return spec
    return fixing[0] if fixing else None


def _in_use(spec: StepSpec, answers: Answers) -> bool:
    if spec.step is Step.EXTENSION:
        return answers.call_preference is CallPreference.EXTENSION
    if spec.step is Step.DIAL_NUMBER:
        return answers.call_preference is CallPreference.DIAL_NUMBER
    return True


def default_country_code(profile: UserProfile) -> str:
    return country_code_for_region(profile.default_region) or "1"


def complete(profile: UserProfile, answers: Answers) -> bool:
    """Every step that applies has a valid-looking answer: what automatic sign-in needs."""
    return all(
        spec.answered(answers)
        for spec in LOGIN_STEPS
        if spec.applies(profile, answers) and spec.step is not Step.COUNTRY_CODE
    )


def revalidate(profile: UserProfile, answers: Answers) -> tuple[Answers, list[tuple[Step, Verdict]]]:
    """Keep the saved answers that still hold for today's profile; report the ones that do not."""
    dropped: list[tuple[Step, Verdict]] = []
    kept = answers.model_copy()
    for spec in LOGIN_STEPS:
        value = getattr(answers, spec.slot)
        if value is None or spec.validate is None or spec.step is Step.COUNTRY_CODE:
            continue
        validator = validate_team_id if spec.step is Step.TEAM else spec.validate
        verdict = validator(str(value), profile, kept)
        if not verdict.accepted:
            kept = kept.cleared(spec.slot)
            dropped.append((spec.step, verdict))
    return kept.model_copy(update={"pending_national": None}), dropped
