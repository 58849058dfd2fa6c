"""The sign-in dialog as data: one row per step, in the desktop's order, each with the condition under
which it applies, its automatic answer where the profile leaves no choice, its choices, and its
validator. The engine walks this table; adding a step means adding a row (see the README)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.backend.port import CallPreference, DNValidation, Role, UserProfile
from bot.flow.numbers import ASCII_DIGITS, check_dial_number, country_code_for_region, normalize_country_code
from bot.flow.state import Answers, Step
from bot.flow.teams import match_team


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
        return profile.default_dn  # the profile forces the provisioned value: used, not asked (S8)
    # One configured number is filled in automatically (S4); the user can still change it later.
    configured = profile.dial_numbers
    if len(configured) == 1 and profile.default_dn in (None, configured[0]):
        return configured[0]
    return None


def _auto_team(profile: UserProfile, answers: Answers) -> object:
    return profile.teams[0].id if len(profile.teams) == 1 else None


def _auto_country_code(profile: UserProfile, answers: Answers) -> object:
    return None


@dataclass(frozen=True)
class StepSpec:
    step: Step
    slot: str  # the Answers field this step fills
    applies: Predicate
    auto: AutoAnswer  # the only possible answer, said instead of asked (S1, S3, S4, S8)
    validate: Callable[[str, UserProfile, Answers], Verdict] | None
    prompt: str  # catalog key of the question
    announce: str = ""  # catalog key said when the answer is automatic

    def answered(self, answers: Answers) -> bool:
        return getattr(answers, self.slot) is not None


LOGIN_STEPS: tuple[StepSpec, ...] = (
    StepSpec(
        Step.ROLE, "role", lambda p, a: bool(p.roles), _auto_role, validate_role, "ask.role", "auto.role"
    ),
    StepSpec(
        Step.CALL_PREFERENCE,
        "call_preference",
        lambda p, a: bool(p.call_options),  # digital-only users are never asked about telephony (S2)
        _auto_call,
        validate_call_preference,
        "ask.call_preference",
        "auto.call_preference",
    ),
    StepSpec(
        Step.EXTENSION,
        "extension",
        _needs_number(CallPreference.EXTENSION),
        _auto_extension,
        validate_extension,
        "ask.extension",
        "auto.extension",
    ),
    StepSpec(
        Step.COUNTRY_CODE,
        "country_code",
        lambda p, a: a.call_preference is CallPreference.DIAL_NUMBER and a.pending_national is not None,
        _auto_country_code,
        validate_country_code,
        "ask.country_code",
    ),
    StepSpec(
        Step.DIAL_NUMBER,
        "dial_number",
        _needs_number(CallPreference.DIAL_NUMBER),
        _auto_dial_number,
        validate_dial_number,
        "ask.dial_number",
        "auto.dial_number",
    ),
    StepSpec(
        Step.TEAM,
        "team_id",
        lambda p, a: a.role is not None and a.role.needs_team,  # no team for supervisor-only (S9)
        _auto_team,
        validate_team,
        "ask.team",
        "auto.team",
    ),
    StepSpec(Step.AUTO_LOGIN, "auto_login", lambda p, a: True, lambda p, a: None, None, "ask.auto_login"),
)

SPECS = {spec.step: spec for spec in LOGIN_STEPS}
FIELD_STEPS = (Step.ROLE, Step.CALL_PREFERENCE, Step.EXTENSION, Step.DIAL_NUMBER, Step.TEAM, Step.AUTO_LOGIN)


def default_country_code(profile: UserProfile) -> str:
    return country_code_for_region(profile.default_region) or "1"


def complete(profile: UserProfile, answers: Answers) -> bool:
    """Every step that applies has a valid-looking answer: what auto-login needs (S6)."""
    return all(
        spec.answered(answers)
        for spec in LOGIN_STEPS
        if spec.applies(profile, answers) and spec.step is not Step.COUNTRY_CODE
    )


def revalidate(profile: UserProfile, answers: Answers) -> tuple[Answers, list[tuple[Step, Verdict]]]:
    """Keep the saved answers that still hold for today's profile; report the ones that do not (S7)."""
    dropped: list[tuple[Step, Verdict]] = []
    kept = answers.model_copy()
    checks: list[tuple[Step, str, Callable[[str, UserProfile, Answers], Verdict], str | None]] = [
        (Step.ROLE, "role", validate_role, answers.role),
        (Step.CALL_PREFERENCE, "call_preference", validate_call_preference, answers.call_preference),
        (Step.EXTENSION, "extension", validate_extension, answers.extension),
        (Step.DIAL_NUMBER, "dial_number", validate_dial_number, answers.dial_number),
        (Step.TEAM, "team_id", validate_team_id, answers.team_id),
    ]
    for step, slot, validator, value in checks:
        if value is None:
            continue
        verdict = validator(str(value), profile, kept)
        if not verdict.accepted:
            kept = kept.cleared(slot)
            dropped.append((step, verdict))
    return kept.model_copy(update={"pending_national": None}), dropped
