"""The sign-in's course: starting it (session check, automatic sign-in, pre-filled answers), the
summary's "Save and continue", changing one answer, taking a session over, and submitting."""

from __future__ import annotations

from bot.backend.port import CallPreference, LoginRequest, UserProfile
from bot.flow.conversation import Conversation
from bot.flow.effects import CheckSession, SavePreferences, SubmitLogin, TakeOver
from bot.flow.filling import advance, apply_verdict, change, prefill_from_preferences, say_verdict
from bot.flow.prompts import can_change, prompt
from bot.flow.readings import Readings
from bot.flow.replies import ReplyKind
from bot.flow.state import Answers, Purpose, SavedPreferences, Step
from bot.flow.steps import FIELD_STEPS, LOGIN_STEPS, SPECS, complete, revalidate


def reset_dialog(c: Conversation) -> None:
    c.state.step = None
    c.state.answers = Answers()
    c.state.editing = None
    c.state.errors = 0
    c.state.team_candidates = []
    c.state.refused_numbers = []
    c.state.automatic = False
    c.state.take_over = False
    c.state.choices = []


def require_profile(c: Conversation) -> UserProfile | None:
    if c.profile is None:
        c.say_profile_missing()
        reset_dialog(c)
        return None
    if not c.profile.contact_center_enabled:
        c.say("user.disabled", ReplyKind.ERROR)
        reset_dialog(c)
        return None
    return c.profile


def start_login(
    c: Conversation,
    readings: Readings | None = None,
    *,
    purpose: Purpose = Purpose.LOGIN,
    restart: bool = False,
) -> None:
    if require_profile(c) is None:
        return
    reset_dialog(c)
    c.state.purpose = purpose
    if restart:
        c.say("restart.done")
    said = bool(readings and readings.answers)
    if readings is not None:
        take_answers(c, readings.answers, changing=True)
    if purpose is Purpose.PREFERENCES:
        prefill_from_preferences(c, explain=False)
        advance(c)
        return
    # Sign-in starts by checking for a session elsewhere; the dialog goes on when it is answered.
    c.state.in_flight = "check_session:" + ("with_answers" if said else "")
    c.effects.append(CheckSession(reconcile=c.state.login_unconfirmed))


def take_answers(c: Conversation, answers: dict[Step, str], *, changing: bool) -> bool:
    """Record the answers a message carries, in the table's order; `changing`: answers already
    given may be replaced (a correction, the first message, the summary). Returns whether any was
    taken."""
    assert c.profile is not None
    taken = False
    for spec in LOGIN_STEPS:
        text = answers.get(spec.step)
        if text is None or (spec.validate is None and spec.step is not Step.AUTO_LOGIN):
            continue
        if spec.answered(c.state.answers) and not changing and spec.step is not c.state.step:
            continue
        imply_call_preference(c, spec.step)
        if spec.step is Step.AUTO_LOGIN:
            c.state.answers.auto_login = text == "yes"
            taken = True
            continue
        if changing and spec.answered(c.state.answers):
            change(c, spec)
        assert spec.validate is not None
        taken |= apply_verdict(c, spec, spec.validate(text, c.profile, c.state.answers))
    return taken


def imply_call_preference(c: Conversation, step: Step) -> None:
    """An extension or a number said alone also says how calls are handled."""
    implied = {Step.EXTENSION: CallPreference.EXTENSION, Step.DIAL_NUMBER: CallPreference.DIAL_NUMBER}
    preference = implied.get(step)
    assert c.profile is not None
    if preference is None or c.state.answers.call_preference is preference:
        return
    if preference in c.profile.call_options:
        spec = SPECS[Step.CALL_PREFERENCE]
        c.state.answers = c.state.answers.cleared(*spec.clears)
        c.state.answers.call_preference = preference


def continue_login(c: Conversation, had_answers: bool) -> None:
    """After the session check: sign in automatically, or run the dialog pre-filled."""
    profile = require_profile(c)
    if profile is None:
        return
    preferences = c.context.preferences
    if preferences and preferences.auto_login and not had_answers:
        answers, dropped = revalidate(profile, preferences.as_answers())
        if not dropped and complete(profile, answers):
            c.state.answers = answers
            c.state.automatic = True
            c.say("auto.signing_in", fields=c.summary_fields())
            submit(c)
            return
        c.say("auto.saved_no_longer_valid", ReplyKind.ERROR)
        for _, verdict in dropped:
            say_verdict(c, verdict)
    prefill_from_preferences(c, explain=True)
    advance(c)


def answer_confirm(c: Conversation, yes: bool) -> None:
    if not yes:
        c.state.step = Step.CHANGE_FIELD
        prompt(c)
        return
    if c.profile is None:
        c.say_profile_missing()
        return
    if not complete(c.profile, c.state.answers):
        advance(c)  # never submit with a missing answer, such as an emptied team
        return
    if c.state.purpose is Purpose.PREFERENCES:
        c.effects.append(SavePreferences(saved_preferences(c)))
        c.say("prefs.saved", ReplyKind.SUCCESS, fields=c.summary_fields())
        reset_dialog(c)
        return
    submit(c)


def saved_preferences(c: Conversation) -> SavedPreferences:
    return SavedPreferences.from_answers(c.state.answers, c.state.language)


def submit(c: Conversation) -> None:
    assert c.profile is not None
    if c.state.login_unconfirmed:
        # The last attempt may have gone through: never send it again before knowing.
        c.state.in_flight = "check_session:resubmit"
        c.effects.append(CheckSession(reconcile=True))
        return
    request = login_request(c)
    if request is None:  # the team is no longer the user's: ask again
        c.state.answers.team_id = None
        advance(c)
        return
    if not c.state.automatic:
        c.effects.append(SavePreferences(saved_preferences(c)))
    c.effects.append(SubmitLogin(request, take_over=c.state.take_over, automatic=c.state.automatic))
    c.state.in_flight = "login"
    c.state.step = None


def login_request(c: Conversation) -> LoginRequest | None:
    """The sign-in the answers make; None when the team they name is not the user's any more."""
    assert c.profile is not None
    answers = c.state.answers
    role = answers.role or c.profile.roles[0]
    if answers.call_preference is CallPreference.EXTENSION:
        dial_number = answers.extension or ""
    elif answers.call_preference is CallPreference.DIAL_NUMBER:
        dial_number = answers.dial_number or ""
    else:
        dial_number = ""
    team_id = answers.team_id if role.needs_team else None
    if role.needs_team and c.profile.team(team_id) is None:
        return None
    return LoginRequest(role, answers.call_preference, dial_number, team_id)


def change_field(c: Conversation, name: str) -> None:
    if c.profile is None:
        c.say_profile_missing()
        return
    try:
        step = Step(name)
    except ValueError:
        c.say("choice.expired", ReplyKind.ERROR)
        prompt(c)
        return
    if step not in FIELD_STEPS or not can_change(c, step):
        c.say("invalid.change.not_possible", ReplyKind.ERROR)
        prompt(c)
        return
    change(c, SPECS[step])
    advance(c)


def answer_take_over(c: Conversation, yes: bool) -> None:
    if not yes:
        reset_dialog(c)
        c.say("take_over.declined", choices=c.menu())
        return
    c.state.step = None
    c.state.in_flight = "take_over"
    c.effects.append(TakeOver())
