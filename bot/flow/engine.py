"""The flow engine: one user input in, the new state, replies and effects out.

`FlowEngine.turn(state, message, context)` is pure: it reads the user's profile and saved
preferences from the context the runner built, never calls a backend or a database, and returns
effects (sign in, sign out, save preferences...) for the runner to perform. Each outcome comes back
through `FlowEngine.on_event`. Every channel (terminal, Slack, Rasa) drives this same engine.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Protocol

from bot.backend.port import (
    Availability,
    CallPreference,
    FailureReason,
    LoginRequest,
    Role,
    StationSession,
    UserProfile,
)
from bot.flow.catalog import LANGUAGES, Catalog
from bot.flow.effects import (
    ActionFailed,
    ActionSucceeded,
    CheckSession,
    Effect,
    Event,
    PreferencesNotSaved,
    SavePreferences,
    SessionChecked,
    SetAvailability,
    SignOut,
    SubmitLogin,
    TakeOver,
)
from bot.flow.numbers import country_code_for_region, region_for_country_code
from bot.flow.replies import Choice, Reply, ReplyKind
from bot.flow.state import Answers, FlowState, Purpose, SavedPreferences, Step
from bot.flow.steps import (
    FIELD_STEPS,
    LOGIN_STEPS,
    NOT_UNDERSTOOD,
    SPECS,
    StepSpec,
    Verdict,
    complete,
    default_country_code,
    revalidate,
    validate_team_id,
)
from bot.flow.teams import filter_teams

MAX_MESSAGE_CHARS = 2000  # longer messages are refused with a clear answer, never processed (X1)
MAX_ERRORS = 3  # after this many unusable answers in a row, offer a way out
IN_FLIGHT_GRACE = timedelta(seconds=60)  # a backend call older than this is assumed interrupted (X2)
CONFIDENT = 0.5  # intent confidence needed for commands that change the course of the dialog

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffd\ufeff]")
_NUMBERISH = re.compile(r"(?:\+|\b)[\d][\d\s().\-/]{2,}\d|\+\d+")

# Failure reasons that a different answer can fix: clear that answer and ask again (S7, S11).
_FIX_BY_ASKING: dict[FailureReason, str] = {
    FailureReason.DUPLICATE_LOCATION: "number",
    FailureReason.INVALID_DIAL_NUMBER: "number",
    FailureReason.NUMBER_NOT_PROVISIONED: "number",
    FailureReason.TEAM_NOT_ASSIGNED: "team_id",
    FailureReason.TEAM_REQUIRED: "team_id",
    FailureReason.ROLE_NOT_PERMITTED: "role",
    FailureReason.DEVICE_NOT_PERMITTED: "call_preference",
}


class _EntityLike(Protocol):
    @property
    def value(self) -> str: ...
    @property
    def start(self) -> int: ...
    @property
    def end(self) -> int: ...


class Parsed(Protocol):
    """What the engine needs of a recognizer result (`intents.recognizer.Parse`)."""

    @property
    def text(self) -> str: ...
    @property
    def intent(self) -> str: ...
    @property
    def confidence(self) -> float: ...
    @property
    def language(self) -> str | None: ...

    def entity(self, name: str) -> _EntityLike | None: ...


class Understands(Protocol):
    def parse(self, text: str, *, teams: Sequence[str] = (), region: str = "US") -> Parsed: ...


@dataclass(frozen=True)
class UserMessage:
    """One input from a user: typed text, or the value of a button they clicked."""

    text: str = ""
    choice: str | None = None


@dataclass(frozen=True)
class TurnContext:
    """What the runner read for this turn: the profile (None for an unknown email) and preferences."""

    profile: UserProfile | None
    preferences: SavedPreferences | None = None
    profile_error: FailureReason | None = None  # the profile could not be read (backend down, ...)
    locale: str | None = None  # the chat platform's locale, e.g. "fr-FR"
    language: str | None = None  # a language the user chose outside the chat (`--lang`, a setting)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class TurnResult:
    state: FlowState
    replies: list[Reply]
    effects: list[Effect]


def sanitize(text: str) -> str:
    """Drop control characters and odd whitespace; keep every printable character of any script."""
    text = unicodedata.normalize("NFC", text)
    text = _CONTROL.sub(" ", text)
    return " ".join(text.split())


class FlowEngine:
    def __init__(self, recognizer: Understands, catalog: Catalog | None = None) -> None:
        self.recognizer = recognizer
        self.catalog = catalog or Catalog.default()

    def open(self, state: FlowState, context: TurnContext) -> TurnResult:
        """What a channel shows when the user opens the chat: a greeting, or where they left off."""
        turn = _Turn(self, state, context)
        turn.opening()
        return turn.result()

    def turn(self, state: FlowState, message: UserMessage, context: TurnContext) -> TurnResult:
        turn = _Turn(self, state, context)
        turn.handle(message)
        return turn.result()

    def on_event(self, state: FlowState, event: Event, context: TurnContext) -> TurnResult:
        turn = _Turn(self, state, context)
        turn.handle_event(event)
        return turn.result()


class _Turn:
    """The work of one turn, with the state being built and the replies said so far."""

    def __init__(self, engine: FlowEngine, state: FlowState, context: TurnContext) -> None:
        self.engine = engine
        self.catalog = engine.catalog
        self.state = state.model_copy(deep=True)
        self.context = context
        self.profile = context.profile
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []
        self.rejected: set[Step] = set()  # steps whose answer this turn was refused, with the reason said
        if context.language in LANGUAGES and not self.state.language_chosen:
            self.state.language = context.language
            self.state.language_chosen = True
        if self.state.language is None:
            self.state.language = self._language_from_context()

    # --- output ------------------------------------------------------------------------------------

    def result(self) -> TurnResult:
        self.state.updated_at = self.context.now
        if self.state.in_flight is None:
            self.state.in_flight_since = None
        elif self.state.in_flight_since is None:
            self.state.in_flight_since = self.context.now
        return TurnResult(self.state, self.replies, self.effects)

    def t(self, key: str, **params: object) -> str:
        return self.catalog.text(self.state.language, key, **params)

    def say(
        self,
        key: str,
        kind: ReplyKind = ReplyKind.INFO,
        *,
        choices: Sequence[Choice] = (),
        fields: dict[str, str] | None = None,
        **params: object,
    ) -> None:
        self.replies.append(
            Reply(
                key=key,
                text=self.t(key, **params),
                kind=kind,
                choices=tuple(choices),
                step=self.state.step.value if self.state.step else None,
                fields=fields or {},
            )
        )
        if choices:
            self.state.choices = [c.value for c in choices]

    def _language_from_context(self) -> str | None:
        for candidate in (
            self.context.preferences.language if self.context.preferences else None,
            (self.context.locale or "")[:2].lower() or None,
            self.profile.language if self.profile else None,
        ):
            if candidate in LANGUAGES:
                return candidate
        return None

    # --- labels ------------------------------------------------------------------------------------

    def role_label(self, role: Role | None) -> str:
        return self.t(f"label.role.{role.value}") if role else "-"

    def call_label(self, preference: CallPreference | None) -> str:
        return self.t(f"label.call.{preference.value}") if preference else self.t("label.call.digital")

    def team_label(self, team_id: str | None) -> str:
        team = self.profile.team(team_id) if self.profile else None
        return team.name if team else (team_id or "-")

    def device_label(self, answers: Answers) -> str:
        preference = answers.call_preference
        if preference is CallPreference.EXTENSION:
            return self.t("label.device.extension", extension=answers.extension or "-")
        if preference is CallPreference.DIAL_NUMBER:
            return self.t("label.device.dial_number", number=answers.dial_number or "-")
        return self.call_label(preference)

    def session_fields(self, session: StationSession) -> dict[str, str]:
        answers = Answers(
            role=session.role,
            call_preference=session.call_preference,
            extension=session.dial_number if session.call_preference is CallPreference.EXTENSION else None,
            dial_number=session.dial_number,
        )
        fields = {
            self.t("field.role"): self.role_label(session.role),
            self.t("field.device"): self.device_label(answers),
        }
        if session.team_id:
            fields[self.t("field.team")] = self.team_label(session.team_id)
        fields[self.t("field.state")] = self.t(f"label.state.{session.state.value.lower()}")
        return fields

    # --- opening and resuming ----------------------------------------------------------------------

    def opening(self) -> None:
        if self.state.step is not None:
            self.say("resume.where_we_were")
            self.prompt()
            return
        if self.profile is None:
            self.say_profile_missing()
            return
        self.say("greet.hello", name=self.profile.display_name.split(" ")[0], choices=self.menu())

    def menu(self) -> list[Choice]:
        return [
            Choice("cmd:login", self.t("menu.login")),
            Choice("cmd:logout", self.t("menu.logout")),
            Choice("cmd:preferences", self.t("menu.preferences")),
            Choice("cmd:help", self.t("menu.help")),
        ]

    # --- input -------------------------------------------------------------------------------------

    def handle(self, message: UserMessage) -> None:
        if len(message.text) > MAX_MESSAGE_CHARS:
            self.say("input.too_long", ReplyKind.ERROR, limit=MAX_MESSAGE_CHARS, size=len(message.text))
            self.prompt_if_active()
            return
        text = sanitize(message.text)
        choice = sanitize(message.choice or "") or None
        if choice is None and not text:
            self.say("input.empty", ReplyKind.ERROR)
            self.prompt_if_active()
            return
        if choice is None:
            choice = self.numbered_choice(text)
        if self.state.in_flight and self.in_flight_pending():
            return
        if choice is not None:
            self.handle_choice(choice, text)
            return
        parse = self.parse(text)
        self.update_language(parse, text)
        if self.state.language is None and self.state.step is None:
            self.state.pending_message = text
            self.ask_language()
            return
        if self.global_command(parse, text):
            return
        if self.state.step is None:
            self.handle_idle(parse, text)
        else:
            self.handle_step(parse, text)

    def parse(self, text: str) -> Parsed:
        teams = [t.name for t in self.profile.teams] if self.profile else []
        region = self.profile.default_region if self.profile else "US"
        return self.engine.recognizer.parse(text, teams=teams, region=region)

    def numbered_choice(self, text: str) -> str | None:
        """ "2" picks the second choice shown, except where a bare number is an answer (an extension)."""
        if not (text.isdigit() and len(text) <= 2 and self.state.choices):
            return None
        index = int(text)
        if 1 <= index <= len(self.state.choices):
            return self.state.choices[index - 1]
        return None

    def update_language(self, parse: Parsed, text: str) -> None:
        """Follow the language of the user's messages until they pick one explicitly (S15)."""
        if self.state.language_chosen or parse.language not in LANGUAGES:
            return
        if parse.language == self.state.language:
            return
        if self.state.language is None or len(text.split()) >= 3 or parse.intent == "greet":
            self.state.language = parse.language

    def in_flight_pending(self) -> bool:
        """A backend call of an earlier turn has no recorded outcome: wait for it, or check (X2)."""
        age = self.context.now - (self.state.in_flight_since or self.state.updated_at)
        if age < IN_FLIGHT_GRACE:
            self.say("busy.still_working")
            return True
        self.state.in_flight = "reconcile"
        self.effects.append(CheckSession())
        return True

    # --- global commands (checked before the step's own handling) --------------------------------------

    def words(self, key: str) -> tuple[str, ...]:
        return self.catalog.words(self.state.language, key)

    def global_command(self, parse: Parsed, text: str) -> bool:
        folded = text.casefold().strip(" .!?")
        if (parse.intent == "cancel" and parse.confidence >= CONFIDENT) or folded in self.words("cancel"):
            self.cancel()
            return True
        if folded in self.words("restart"):
            self.start_login(None, restart=True)
            return True
        if (parse.intent == "help" and parse.confidence >= CONFIDENT) or folded in self.words("help"):
            self.help()
            return True
        language = parse.entity("language")
        if language and language.value in LANGUAGES and len(text.split()) <= 6:
            self.switch_language(language.value)
            return True
        if parse.intent == "forgot_password" and parse.confidence >= CONFIDENT:
            self.say("password.where_to_reset")
            self.prompt_if_active()
            return True
        if self.state.step is not None and parse.confidence >= 0.6 and not self.has_answer_entities(parse):
            return self.side_request(parse)
        return False

    def side_request(self, parse: Parsed) -> bool:
        """Requests that make sense in the middle of the dialog without losing it."""
        if parse.intent == "show_preferences":
            self.show_preferences(with_menu=False)
            self.prompt()
            return True
        if parse.intent == "logout":
            self.state.step = None
            self.sign_out()
            return True
        if parse.intent == "login":
            self.prompt()  # already signing in: ask the question again rather than call it an error
            return True
        return False

    def cancel(self) -> None:
        if self.state.step is None and not self.state.in_flight:
            self.say("cancel.nothing", choices=self.menu())
            return
        self.reset_dialog()
        self.say("cancel.done", choices=self.menu())

    def reset_dialog(self) -> None:
        self.state.step = None
        self.state.answers = Answers()
        self.state.editing = None
        self.state.errors = 0
        self.state.team_candidates = []
        self.state.automatic = False
        self.state.take_over = False
        self.state.choices = []

    def help(self) -> None:
        step = self.state.step
        key = f"help.step.{step.value}" if step is not None else "help.general"
        self.say(key, choices=() if step else self.menu())
        self.prompt_if_active()

    def switch_language(self, language: str) -> None:
        self.state.language = language
        self.state.language_chosen = True
        if self.state.step is Step.LANGUAGE:
            self.state.step = None
            self.say("language.set")
            pending, self.state.pending_message = self.state.pending_message, None
            if pending:
                self.handle(UserMessage(pending))
            else:
                self.say("greet.menu", choices=self.menu())
            return
        self.say("language.set")
        self.prompt_if_active()

    def ask_language(self) -> None:
        self.state.step = Step.LANGUAGE
        self.prompt()

    # --- choices (buttons, or numbers typed) -------------------------------------------------------

    def handle_choice(self, value: str, text: str) -> None:
        kind, _, argument = value.partition(":")
        if kind == "cmd":
            self.command(argument)
        elif kind == "lang" and argument in LANGUAGES:
            self.switch_language(argument)
        elif kind == "takeover" and self.state.step is Step.TAKE_OVER:
            self.answer_take_over(argument == "yes")
        elif kind == "confirm" and self.state.step is Step.CONFIRM:
            self.answer_confirm(argument == "yes")
        elif kind == "change" and self.state.step in (Step.CONFIRM, Step.CHANGE_FIELD):
            self.change_field(argument)
        elif kind == "avail" and argument in ("available", "idle"):
            self.set_availability(argument)
        elif kind in _CHOICE_SLOTS and self.state.step in (*SPECS, Step.CONFIRM, Step.CHANGE_FIELD):
            self.answer_choice(kind, argument)
        else:
            self.say("choice.expired", ReplyKind.ERROR)
            self.prompt_if_active(fallback_menu=True)

    def command(self, name: str) -> None:
        actions = {
            "login": lambda: self.start_login(None),
            "logout": self.sign_out,
            "preferences": lambda: self.show_preferences(with_menu=True),
            "edit_preferences": lambda: self.start_login(None, purpose=Purpose.PREFERENCES),
            "autologin_off": lambda: self.set_auto_login(False),
            "autologin_on": lambda: self.set_auto_login(True),
            "help": self.help,
            "cancel": self.cancel,
            "restart": lambda: self.start_login(None, restart=True),
            "availability": self.ask_availability,
        }
        action = actions.get(name)
        if action is None:
            self.say("choice.expired", ReplyKind.ERROR)
            return
        action()

    def answer_choice(self, kind: str, argument: str) -> None:
        if self.profile is None:
            self.say_profile_missing()
            return
        step = _CHOICE_SLOTS[kind]
        if step is Step.AUTO_LOGIN:
            self.accept(SPECS[step], argument == "yes")
        elif step is Step.DIAL_NUMBER and argument == "other":
            self.state.editing = Step.DIAL_NUMBER
            self.state.step = Step.DIAL_NUMBER
            self.say("ask.dial_number_type", ReplyKind.PROMPT)
            return
        elif step is Step.DIAL_NUMBER and argument == "international":
            self.state.answers.pending_national = ""
            self.state.answers.country_code = None
            self.state.answers.dial_number = None
        elif step is Step.TEAM:
            self.apply_verdict(SPECS[step], validate_team_id(argument, self.profile, self.state.answers))
        else:
            spec = SPECS[step]
            assert spec.validate is not None
            self.apply_verdict(spec, spec.validate(argument, self.profile, self.state.answers))
        self.advance()

    # --- idle: no dialog under way -----------------------------------------------------------------

    def handle_idle(self, parse: Parsed, text: str) -> None:
        intent = parse.intent
        if intent == "login" or (intent == "inform" and self.has_answer_entities(parse)):
            self.start_login(parse)
        elif intent == "logout":
            self.sign_out()
        elif intent == "set_availability":
            availability = parse.entity("availability")
            if availability and availability.value in ("available", "idle"):
                self.set_availability(availability.value)
            else:
                self.ask_availability()
        elif intent == "reset_auto_login":
            self.set_auto_login(self.means_turn_on(text))
        elif intent == "show_preferences":
            self.show_preferences(with_menu=True)
        elif intent == "troubleshoot":
            self.say("troubleshoot.not_here")
        elif intent == "greet":
            name = self.profile.display_name.split(" ")[0] if self.profile else ""
            self.say("greet.hello", name=name, choices=self.menu())
        elif intent == "goodbye":
            self.say("goodbye")
        elif intent in ("affirm", "deny", "inform"):
            self.say("idle.what_now", choices=self.menu())
        else:
            self.say("fallback.out_of_scope", choices=self.menu())

    def means_turn_on(self, text: str) -> bool:
        folded = f" {text.casefold()} "
        return any(f" {w} " in folded for w in self.words("turn_on"))

    def has_answer_entities(self, parse: Parsed) -> bool:
        return any(
            parse.entity(name) for name in ("role", "call_preference", "phone_number", "extension", "team")
        )

    # --- the sign-in dialog ------------------------------------------------------------------------

    def require_profile(self) -> UserProfile | None:
        if self.profile is None:
            self.say_profile_missing()
            self.reset_dialog()
            return None
        if not self.profile.contact_center_enabled:
            self.say("user.disabled", ReplyKind.ERROR)
            self.reset_dialog()
            return None
        return self.profile

    def say_profile_missing(self) -> None:
        error = self.context.profile_error
        if error is None or error is FailureReason.USER_NOT_FOUND:
            self.say("user.unknown", ReplyKind.ERROR, email=self.state.email)
        else:
            self.say(f"failure.{error.value}", ReplyKind.FAILURE, number="", tracking_id="-")

    def start_login(
        self, parse: Parsed | None, *, purpose: Purpose = Purpose.LOGIN, restart: bool = False
    ) -> None:
        if self.require_profile() is None:
            return
        self.reset_dialog()
        self.state.purpose = purpose
        if restart:
            self.say("restart.done")
        if parse is not None:
            self.fill_from_entities(parse)
        if purpose is Purpose.PREFERENCES:
            self.prefill_from_preferences(explain=False)
            self.advance()
            return
        # Sign-in starts by checking for a session elsewhere (S12); the dialog goes on in on_event.
        self.state.in_flight = "check_session:" + (
            "with_answers" if parse and self.has_answer_entities(parse) else ""
        )
        self.effects.append(CheckSession())

    def continue_login(self, had_answers: bool) -> None:
        """After the session check: sign in automatically (S6), or run the dialog pre-filled (S8)."""
        profile = self.require_profile()
        if profile is None:
            return
        preferences = self.context.preferences
        if preferences and preferences.auto_login and not had_answers:
            answers, dropped = revalidate(profile, preferences.as_answers())
            if not dropped and complete(profile, answers):
                self.state.answers = answers
                self.state.automatic = True
                self.say("auto.signing_in", fields=self.summary_fields())
                self.submit()
                return
            self.say("auto.saved_no_longer_valid", ReplyKind.ERROR)
            for _, verdict in dropped:
                self.say_verdict(verdict)
        self.prefill_from_preferences(explain=True)
        self.advance()

    def prefill_from_preferences(self, *, explain: bool) -> None:
        """Saved preferences pre-fill the dialog, ahead of the default DN (S7, S8)."""
        preferences = self.context.preferences
        if preferences is None or self.profile is None:
            return
        saved, _ = revalidate(self.profile, preferences.as_answers())
        current = self.state.answers
        merged = {
            name: getattr(current, name) if getattr(current, name) is not None else getattr(saved, name)
            for name in Answers.model_fields
        }
        self.state.answers = Answers(**merged)
        if explain and any(v is not None for v in saved.model_dump().values()):
            self.say("prefs.prefilled")

    def fill_from_entities(self, parse: Parsed) -> bool:
        """Take every answer a message carries, whatever the step ("... extension 2001, team Billing")."""
        profile = self.profile
        if profile is None:
            return False
        answers = self.state.answers
        filled = False
        role = parse.entity("role")
        if role:
            filled |= self.apply_verdict(SPECS[Step.ROLE], self.check(Step.ROLE, role.value))
        call = parse.entity("call_preference")
        extension = parse.entity("extension")
        number = parse.entity("phone_number")
        if call and call.value in CallPreference.__members__.values():
            filled |= self.apply_verdict(
                SPECS[Step.CALL_PREFERENCE],
                self.check(Step.CALL_PREFERENCE, call.value),
            )
        if extension and (answers.call_preference in (None, CallPreference.EXTENSION)):
            if CallPreference.EXTENSION in profile.call_options and answers.call_preference is None:
                self.state.answers.call_preference = CallPreference.EXTENSION
            filled |= self.apply_verdict(SPECS[Step.EXTENSION], self.check(Step.EXTENSION, extension.value))
        elif number and answers.call_preference in (None, CallPreference.DIAL_NUMBER):
            if CallPreference.DIAL_NUMBER in profile.call_options and answers.call_preference is None:
                self.state.answers.call_preference = CallPreference.DIAL_NUMBER
            raw = parse_text_span(parse, number)
            filled |= self.apply_verdict(SPECS[Step.DIAL_NUMBER], self.check(Step.DIAL_NUMBER, raw))
        team = parse.entity("team")
        if team:
            # What was typed, not the recognizer's single pick: "sales" must ask which Sales team (S9).
            filled |= self.apply_verdict(
                SPECS[Step.TEAM], self.check(Step.TEAM, parse_text_span(parse, team))
            )
        return filled

    def check(self, step: Step, value: str) -> Verdict:
        spec = SPECS[step]
        assert spec.validate is not None and self.profile is not None
        return spec.validate(value, self.profile, self.state.answers)

    def apply_verdict(self, spec: StepSpec, verdict: Verdict) -> bool:
        """Record an accepted answer, or say why it was refused. Returns whether something was taken."""
        answers = self.state.answers
        if verdict.needs_country_code is not None:
            answers.pending_national = verdict.needs_country_code
            answers.country_code = None
            answers.dial_number = None
            return True
        if verdict.candidates:
            self.state.team_candidates = list(verdict.candidates)
            return True
        if not verdict.accepted:
            self.say_verdict(verdict)
            self.rejected.add(spec.step)
            return False
        self.accept(spec, verdict.value)
        return True

    def accept(self, spec: StepSpec, value: object) -> None:
        setattr(self.state.answers, spec.slot, value)
        if spec.step is Step.COUNTRY_CODE:
            self.finish_national_number()
        if spec.step is Step.TEAM:
            self.state.team_candidates = []
        if self.state.editing is spec.step:
            self.state.editing = None
        self.state.errors = 0

    def finish_national_number(self) -> None:
        """The country code is known: the national number typed earlier becomes E.164 (S5)."""
        answers = self.state.answers
        pending, answers.pending_national = answers.pending_national, None
        if not pending or self.profile is None:
            self.state.editing = Step.DIAL_NUMBER if pending == "" else self.state.editing
            return
        verdict = self.check(Step.DIAL_NUMBER, pending)
        self.apply_verdict(SPECS[Step.DIAL_NUMBER], verdict)

    def say_verdict(self, verdict: Verdict) -> None:
        params = dict(verdict.params)
        if "role" in params:
            params["role"] = self.role_label(Role(str(params["role"])))
        if "option" in params:
            params["option"] = self.call_label(CallPreference(str(params["option"])))
        if "country" in params:
            params["country"] = self.country_name(str(params["country"]))
        self.replies.append(
            Reply(
                key="invalid." + (verdict.error or "step.not_understood"),
                text=self.t("invalid." + (verdict.error or "step.not_understood"), **params),
                kind=ReplyKind.ERROR,
                step=self.state.step.value if self.state.step else None,
            )
        )

    def country_name(self, region: str) -> str:
        name = self.t(f"country.{region}")
        return region if name.startswith("country.") else name

    def handle_step(self, parse: Parsed, text: str) -> None:
        step = self.state.step
        assert step is not None
        if step is Step.LANGUAGE:
            if self.state.language is None:
                self.ask_language()
                return
            self.switch_language(self.state.language)
            return
        if step is Step.TAKE_OVER:
            self.yes_no(parse, text, self.answer_take_over)
            return
        if step is Step.AVAILABILITY:
            availability = parse.entity("availability")
            if availability and availability.value in ("available", "idle"):
                self.set_availability(availability.value)
            else:
                self.not_understood()
            return
        if step is Step.CHANGE_FIELD:
            self.change_field_from_text(parse, text)
            return
        before = self.state.answers.model_copy()
        taken = self.fill_from_entities(parse)
        if step is Step.CONFIRM:
            if taken or self.state.answers != before:
                self.advance()
            elif any(r.kind is ReplyKind.ERROR for r in self.replies):
                self.prompt()
            else:
                self.yes_no(parse, text, self.answer_confirm, on_unknown=lambda: self.confirm_unknown(text))
            return
        spec = SPECS[step]
        if step in self.rejected:
            self.state.errors += 1
            self.prompt()
            return
        if not self.step_answered_now(spec, before, taken):
            verdict = self.validate_text(spec, parse, text)
            if verdict is NOT_UNDERSTOOD and taken:
                self.advance()
                return
            if not self.apply_verdict(spec, verdict):
                self.state.errors += 1
                self.prompt()
                return
        self.advance()

    def step_answered_now(self, spec: StepSpec, before: Answers, taken: bool) -> bool:
        after = self.state.answers
        if spec.step is Step.TEAM and self.state.team_candidates:
            return True
        if spec.step is Step.DIAL_NUMBER and after.pending_national is not None:
            return True
        return taken and getattr(after, spec.slot) != getattr(before, spec.slot)

    def validate_text(self, spec: StepSpec, parse: Parsed, text: str) -> Verdict:
        assert self.profile is not None
        answers = self.state.answers
        folded = text.casefold()
        if spec.step is Step.AUTO_LOGIN:
            if parse.intent == "affirm" or folded in self.words("yes"):
                return Verdict(True)
            if parse.intent == "deny" or folded in self.words("no"):
                return Verdict(False)
            return NOT_UNDERSTOOD
        if spec.step is Step.DIAL_NUMBER:
            default = self.default_number()
            if default and (parse.intent == "affirm" or folded in self.words("default")):
                return Verdict(default)
            if any(w in folded for w in self.words("international")):
                self.state.answers.pending_national = ""
                return Verdict(needs_country_code="")
            if not any(ch.isdigit() for ch in text):
                return NOT_UNDERSTOOD
            match = _NUMBERISH.search(text)
            return self.check(Step.DIAL_NUMBER, match.group(0) if match else text)
        if spec.step is Step.COUNTRY_CODE and (parse.intent == "affirm" or folded in self.words("default")):
            return Verdict(default_country_code(self.profile))
        if spec.step is Step.EXTENSION and not any(ch.isdigit() for ch in text):
            return NOT_UNDERSTOOD
        if spec.step is Step.TEAM and self.state.team_candidates:
            candidates = [t for t in self.profile.teams if t.id in self.state.team_candidates]
            narrowed = filter_teams(text, candidates)
            if len(narrowed) == 1:
                return Verdict(narrowed[0].id)
        if spec.step in (Step.ROLE, Step.CALL_PREFERENCE):
            return NOT_UNDERSTOOD  # these come from entities or choices, handled before
        assert spec.validate is not None
        return spec.validate(text, self.profile, answers)

    def default_number(self) -> str | None:
        """Saved preferences first, then the administrator's default DN (S8)."""
        saved = self.context.preferences.dial_number if self.context.preferences else None
        if self.profile is None:
            return saved
        return (
            saved
            or self.profile.default_dn
            or (self.profile.dial_numbers[0] if self.profile.dial_numbers else None)
        )

    def yes_no(self, parse: Parsed, text: str, then: _YesNo, on_unknown: _Action | None = None) -> None:
        folded = text.casefold().strip(" .!")
        if parse.intent == "affirm" or folded in self.words("yes") or folded in self.words("save"):
            then(True)
        elif parse.intent == "deny" or folded in self.words("no"):
            then(False)
        elif on_unknown is not None:
            on_unknown()
        else:
            self.not_understood()

    def confirm_unknown(self, text: str) -> None:
        """At the summary, "change" or a field's name ("the team") opens that answer again."""
        folded = text.casefold()
        for step in FIELD_STEPS:
            if any(word in folded for word in self.words(f"field_{step.value}")):
                self.change_field(step.value)
                return
        if any(word in folded for word in self.words("change")):
            self.state.step = Step.CHANGE_FIELD
            self.prompt()
            return
        self.not_understood()

    def not_understood(self) -> None:
        self.say("invalid.step.not_understood", ReplyKind.ERROR)
        self.state.errors += 1
        self.prompt()

    def advance(self) -> None:
        """Go to the first step that applies and has no answer; announce what the profile decides."""
        profile = self.profile
        if profile is None:
            return
        if self.state.team_candidates:
            self.state.step = Step.TEAM
            self.prompt()
            return
        for spec in LOGIN_STEPS:
            if not spec.applies(profile, self.state.answers) or spec.answered(self.state.answers):
                continue
            automatic = spec.auto(profile, self.state.answers)
            if automatic is not None and self.state.editing is not spec.step:
                self.accept(spec, automatic)
                self.announce(spec)
                continue
            if self.state.step is not spec.step:
                self.state.errors = 0
            self.state.step = spec.step
            self.prompt()
            return
        self.state.step = Step.CONFIRM
        self.state.editing = None
        self.prompt()

    def announce(self, spec: StepSpec) -> None:
        if not spec.announce:
            return
        answers = self.state.answers
        self.say(
            spec.announce,
            role=self.role_label(answers.role),
            option=self.call_label(answers.call_preference),
            extension=answers.extension or "",
            number=answers.dial_number or "",
            team=self.team_label(answers.team_id),
        )

    # --- prompts -----------------------------------------------------------------------------------

    def prompt_if_active(self, *, fallback_menu: bool = False) -> None:
        if self.state.step is not None:
            self.prompt()
        elif fallback_menu:
            self.say("idle.what_now", choices=self.menu())

    def prompt(self) -> None:
        step = self.state.step
        if step is None:
            return
        if self.state.errors >= MAX_ERRORS:
            self.say("help.way_out", choices=[Choice("cmd:cancel", self.t("menu.cancel"))])
        builder = getattr(self, f"prompt_{step.value}")
        builder()

    def prompt_language(self) -> None:
        self.say(
            "ask.language",
            ReplyKind.PROMPT,
            choices=[Choice("lang:en", "English"), Choice("lang:fr", "Français")],
        )

    def prompt_take_over(self) -> None:
        self.say(
            "ask.take_over",
            ReplyKind.PROMPT,
            choices=[
                Choice("takeover:yes", self.t("label.continue_here")),
                Choice("takeover:no", self.t("label.no")),
            ],
        )

    def prompt_role(self) -> None:
        assert self.profile is not None
        choices = [Choice(f"role:{r.value}", self.role_label(r)) for r in self.profile.roles]
        self.say("ask.role", ReplyKind.PROMPT, choices=choices)

    def prompt_call_preference(self) -> None:
        assert self.profile is not None
        choices = [Choice(f"call:{c.value}", self.call_label(c)) for c in self.profile.call_options]
        self.say("ask.call_preference", ReplyKind.PROMPT, choices=choices)

    def prompt_extension(self) -> None:
        assert self.profile is not None
        choices = [Choice(f"ext:{e}", e) for e in self.profile.extensions]
        self.say("ask.extension", ReplyKind.PROMPT, choices=choices)

    def prompt_country_code(self) -> None:
        assert self.profile is not None
        regions = [
            self.profile.default_region,
            "US",
            "CA",
            "GB",
            "FR",
            "DE",
            "BE",
            "CH",
            "ES",
            "IT",
            "AU",
            "IN",
        ]
        seen: list[str] = []
        codes: set[str] = set()
        for region in regions:
            code = country_code_for_region(region)
            if code and code not in codes:
                seen.append(region)
                codes.add(code)
        choices = [
            Choice(
                f"cc:{country_code_for_region(r)}", f"+{country_code_for_region(r)} {self.country_name(r)}"
            )
            for r in seen
        ]
        key = "ask.country_code_for" if self.state.answers.pending_national else "ask.country_code"
        self.say(key, ReplyKind.PROMPT, choices=choices, number=self.state.answers.pending_national or "")

    def prompt_dial_number(self) -> None:
        assert self.profile is not None
        default = self.default_number()
        numbers = list(dict.fromkeys([n for n in (default, *self.profile.dial_numbers) if n]))
        choices = [
            Choice(f"dn:{n}", n + (f" ({self.t('label.default')})" if n == default else "")) for n in numbers
        ]
        if self.profile.allows_other_numbers:
            choices.append(Choice("dn:international", self.t("label.international_format")))
        key = "ask.dial_number_with_default" if default else "ask.dial_number"
        key = key if self.profile.allows_other_numbers else "ask.dial_number_pick"
        self.say(key, ReplyKind.PROMPT, choices=choices, default=default or "")

    def prompt_team(self) -> None:
        assert self.profile is not None
        if self.state.team_candidates:
            teams = [t for t in self.profile.teams if t.id in self.state.team_candidates]
            choices = [Choice(f"team:{t.id}", t.name) for t in teams]
            self.say("ask.team_which", ReplyKind.PROMPT, choices=choices)
            return
        choices = [Choice(f"team:{t.id}", t.name) for t in self.profile.teams]
        self.say("ask.team", ReplyKind.PROMPT, choices=choices)

    def prompt_auto_login(self) -> None:
        self.say(
            "ask.auto_login",
            ReplyKind.PROMPT,
            choices=[
                Choice("auto:yes", self.t("label.auto_yes")),
                Choice("auto:no", self.t("label.auto_no")),
            ],
        )

    def summary_fields(self) -> dict[str, str]:
        answers = self.state.answers
        fields = {
            self.t("field.role"): self.role_label(answers.role),
            self.t("field.device"): self.device_label(answers),
        }
        if answers.role is not None and answers.role.needs_team:
            fields[self.t("field.team")] = self.team_label(answers.team_id)
        fields[self.t("field.auto_login")] = self.t("label.on" if answers.auto_login else "label.off")
        return fields

    def prompt_confirm(self) -> None:
        save_key = "label.save_and_continue" if self.state.purpose is Purpose.LOGIN else "label.save"
        choices = [Choice("confirm:yes", self.t(save_key)), Choice("confirm:change", self.t("label.change"))]
        key = "ask.confirm" if self.state.purpose is Purpose.LOGIN else "ask.confirm_preferences"
        self.say(key, ReplyKind.SUMMARY, choices=choices, fields=self.summary_fields())

    def prompt_change_field(self) -> None:
        assert self.profile is not None
        choices = [
            Choice(f"change:{step.value}", self.t(f"field.{step.value}"))
            for step in FIELD_STEPS
            if self.can_change(step)
        ]
        self.say("ask.change_field", ReplyKind.PROMPT, choices=choices)

    def prompt_availability(self) -> None:
        self.say(
            "ask.availability",
            ReplyKind.PROMPT,
            choices=[
                Choice("avail:available", self.t("label.state.available")),
                Choice("avail:idle", self.t("label.state.idle")),
            ],
        )

    # --- confirm, change, submit -------------------------------------------------------------------

    def can_change(self, step: Step) -> bool:
        assert self.profile is not None
        profile, answers = self.profile, self.state.answers
        if step is Step.ROLE:
            return len(profile.roles) > 1
        if step is Step.CALL_PREFERENCE:
            return len(profile.call_options) > 1
        if step is Step.EXTENSION:
            return answers.call_preference is CallPreference.EXTENSION and len(profile.extensions) > 1
        if step is Step.DIAL_NUMBER:
            return answers.call_preference is CallPreference.DIAL_NUMBER and profile.allows_other_numbers
        if step is Step.TEAM:
            return answers.role is not None and answers.role.needs_team and len(profile.teams) > 1
        return True

    def answer_confirm(self, yes: bool) -> None:
        if not yes:
            self.state.step = Step.CHANGE_FIELD
            self.prompt()
            return
        if self.profile is None or not complete(self.profile, self.state.answers):
            self.advance()  # never submit with a missing answer, such as an emptied team (S10, T7)
            return
        if self.state.purpose is Purpose.PREFERENCES:
            self.effects.append(SavePreferences(self.saved_preferences()))
            self.say("prefs.saved", ReplyKind.SUCCESS, fields=self.summary_fields())
            self.reset_dialog()
            return
        self.submit()

    def saved_preferences(self) -> SavedPreferences:
        return SavedPreferences.from_answers(self.state.answers, self.state.language)

    def submit(self) -> None:
        assert self.profile is not None
        answers = self.state.answers
        role = answers.role or self.profile.roles[0]
        if answers.call_preference is CallPreference.EXTENSION:
            dial_number = answers.extension or ""
        elif answers.call_preference is CallPreference.DIAL_NUMBER:
            dial_number = answers.dial_number or ""
        else:
            dial_number = ""
        team_id = answers.team_id if role.needs_team else None
        if role.needs_team and self.profile.team(team_id) is None:
            self.state.answers.team_id = None
            self.advance()
            return
        request = LoginRequest(role, answers.call_preference, dial_number, team_id)
        if not self.state.automatic:
            self.effects.append(SavePreferences(self.saved_preferences()))
        self.effects.append(
            SubmitLogin(request, take_over=self.state.take_over, automatic=self.state.automatic)
        )
        self.state.in_flight = "login"
        self.state.step = None

    def change_field(self, name: str) -> None:
        try:
            step = Step(name)
        except ValueError:
            self.say("choice.expired", ReplyKind.ERROR)
            self.prompt()
            return
        if step not in FIELD_STEPS or not self.can_change(step):
            self.say("invalid.change.not_possible", ReplyKind.ERROR)
            self.prompt()
            return
        spec = SPECS[step]
        self.state.answers = self.state.answers.cleared(spec.slot)
        if step is Step.CALL_PREFERENCE:
            self.state.answers = self.state.answers.cleared("extension", "dial_number")
        self.state.editing = step
        self.advance()

    def change_field_from_text(self, parse: Parsed, text: str) -> None:
        before = self.state.answers.model_copy()
        if self.fill_from_entities(parse) and self.state.answers != before:
            self.advance()
            return
        folded = text.casefold()
        for step in FIELD_STEPS:
            if any(word in folded for word in self.words(f"field_{step.value}")):
                self.change_field(step.value)
                return
        if parse.intent == "deny" or parse.intent == "affirm":
            self.state.step = Step.CONFIRM
            self.prompt()
            return
        self.not_understood()

    # --- sessions, sign-out, availability, preferences ----------------------------------------------

    def answer_take_over(self, yes: bool) -> None:
        if not yes:
            self.reset_dialog()
            self.say("take_over.declined", choices=self.menu())
            return
        self.state.step = None
        self.state.in_flight = "take_over"
        self.effects.append(TakeOver())

    def sign_out(self) -> None:
        if self.require_profile() is None:
            return
        self.reset_dialog()
        self.state.in_flight = "logout"
        self.effects.append(SignOut())

    def ask_availability(self) -> None:
        if self.require_profile() is None:
            return
        self.state.step = Step.AVAILABILITY
        self.prompt()

    def set_availability(self, value: str) -> None:
        if self.require_profile() is None:
            return
        assert self.profile is not None
        self.state.step = None
        state = Availability.AVAILABLE if value == "available" else Availability.IDLE
        idle_code = (
            self.profile.idle_codes[0].id if state is Availability.IDLE and self.profile.idle_codes else None
        )
        self.state.in_flight = "availability"
        self.effects.append(SetAvailability(state, idle_code))

    def set_auto_login(self, on: bool) -> None:
        preferences = self.context.preferences
        if on:
            if (
                self.profile is None
                or preferences is None
                or not complete(self.profile, preferences.as_answers())
            ):
                self.say("auto.cannot_turn_on", choices=[Choice("cmd:login", self.t("menu.login"))])
                return
            self.effects.append(SavePreferences(preferences.model_copy(update={"auto_login": True})))
            self.say("auto.turned_on", ReplyKind.SUCCESS)
            return
        if preferences is None or not preferences.auto_login:
            self.say("auto.already_off")
            return
        self.effects.append(SavePreferences(preferences.model_copy(update={"auto_login": False})))
        self.say("auto.turned_off", ReplyKind.SUCCESS)

    def show_preferences(self, *, with_menu: bool) -> None:
        preferences = self.context.preferences
        if preferences is None:
            self.say("prefs.none", choices=[Choice("cmd:login", self.t("menu.login"))] if with_menu else ())
            return
        saved = self.state.answers
        self.state.answers = preferences.as_answers()
        fields = self.summary_fields()
        self.state.answers = saved
        toggle = (
            Choice("cmd:autologin_off", self.t("label.auto_off"))
            if preferences.auto_login
            else Choice("cmd:autologin_on", self.t("label.auto_on"))
        )
        choices = [
            Choice("cmd:edit_preferences", self.t("label.change")),
            toggle,
            Choice("cmd:login", self.t("menu.login")),
        ]
        self.say("prefs.show", fields=fields, choices=choices if with_menu else ())

    # --- outcomes ----------------------------------------------------------------------------------

    def handle_event(self, event: Event) -> None:
        if isinstance(event, SessionChecked):
            self.on_session_checked(event)
        elif isinstance(event, ActionSucceeded):
            self.state.in_flight = None
            self.on_success(event)
        elif isinstance(event, ActionFailed):
            self.state.in_flight = None
            self.on_failure(event)
        elif isinstance(event, PreferencesNotSaved):
            self.say("prefs.not_saved", ReplyKind.ERROR)

    def on_session_checked(self, event: SessionChecked) -> None:
        marker, self.state.in_flight = self.state.in_flight or "", None
        session = event.session
        if marker == "reconcile":
            if session is not None:
                self.say("reconcile.signed_in", ReplyKind.SUCCESS, fields=self.session_fields(session))
            else:
                self.say("reconcile.not_signed_in")
            self.reset_dialog()
            return
        had_answers = marker.endswith("with_answers")
        if session is not None and not event.held_here:
            self.state.step = Step.TAKE_OVER
            self.say("session.elsewhere", fields=self.session_fields(session))
            self.prompt()
            return
        if session is not None:
            self.reset_dialog()
            self.say(
                "session.already_here",
                fields=self.session_fields(session),
                choices=[
                    Choice("cmd:logout", self.t("menu.logout")),
                    Choice("cmd:availability", self.t("menu.availability")),
                ],
            )
            return
        self.continue_login(had_answers)

    def on_success(self, event: ActionSucceeded) -> None:
        effect = event.effect
        fields = self.session_fields(event.session) if event.session else {}
        if isinstance(effect, SubmitLogin):
            key = "outcome.login_success_auto" if effect.automatic else "outcome.login_success"
            self.say(key, ReplyKind.SUCCESS, fields=fields, tracking_id=event.tracking_id)
            self.reset_dialog()
        elif isinstance(effect, TakeOver):
            self.say("outcome.take_over_success", ReplyKind.SUCCESS, fields=fields)
            self.reset_dialog()
        elif isinstance(effect, SignOut):
            self.say("outcome.logout_success", ReplyKind.SUCCESS)
        elif isinstance(effect, SetAvailability):
            self.say(f"outcome.state_{effect.state.value.lower()}", ReplyKind.SUCCESS)

    def on_failure(self, event: ActionFailed) -> None:
        effect = event.effect
        reason = event.reason
        self.say(
            f"failure.{reason.value}",
            ReplyKind.FAILURE,
            tracking_id=event.tracking_id or "-",
            number=self.state.answers.dial_number or self.state.answers.extension or "",
        )
        if event.tracking_id:
            self.say("failure.tracking_id", tracking_id=event.tracking_id)
        if not isinstance(effect, SubmitLogin):
            return
        if reason is FailureReason.SESSION_ALREADY_ACTIVE:
            self.state.step = Step.TAKE_OVER
            self.state.take_over = False
            self.prompt()
            return
        if effect.automatic:
            self.say("auto.failed_flow_again")  # S7: the dialog again, pre-filled from the preferences
            self.state.automatic = False
            self.prefill_from_preferences(explain=False)
        slot = _FIX_BY_ASKING.get(reason)
        if slot == "number":
            slot = (
                "extension"
                if self.state.answers.call_preference is CallPreference.EXTENSION
                else "dial_number"
            )
        if slot is not None:
            self.state.answers = self.state.answers.cleared(slot)
            self.state.editing = SPECS[Step(slot if slot != "team_id" else "team")].step
            self.advance()
        else:
            self.state.step = Step.CONFIRM  # a passing failure: the same answers can be tried again (X3)
            self.prompt()


class _YesNo(Protocol):
    def __call__(self, yes: bool, /) -> None: ...


class _Action(Protocol):
    def __call__(self) -> None: ...


_CHOICE_SLOTS: dict[str, Step] = {
    "role": Step.ROLE,
    "call": Step.CALL_PREFERENCE,
    "ext": Step.EXTENSION,
    "cc": Step.COUNTRY_CODE,
    "dn": Step.DIAL_NUMBER,
    "team": Step.TEAM,
    "auto": Step.AUTO_LOGIN,
}


def parse_text_span(parse: Parsed, entity: _EntityLike) -> str:
    """The text the user typed for an entity (numbers are re-validated from what was typed)."""
    return parse.text[entity.start : entity.end] or entity.value


__all__ = [
    "FlowEngine",
    "TurnContext",
    "TurnResult",
    "UserMessage",
    "region_for_country_code",
]
