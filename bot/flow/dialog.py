"""The dialog's handling of one input: global commands, idle requests, the sign-in steps, confirmation."""

from __future__ import annotations

from typing import Protocol

from bot.backend.port import (
    Availability,
    CallPreference,
    LoginRequest,
    Role,
    UserProfile,
)
from bot.flow.catalog import LANGUAGES
from bot.flow.effects import (
    CheckSession,
    SavePreferences,
    SetAvailability,
    SignOut,
    SubmitLogin,
    TakeOver,
)
from bot.flow.inputs import (
    CONFIDENT,
    MAX_MESSAGE_CHARS,
    NUMBERISH,
    Parsed,
    UserMessage,
    parse_text_span,
    sanitize,
)
from bot.flow.numbers import ASCII_DIGITS
from bot.flow.replies import Choice, Reply, ReplyKind
from bot.flow.state import Answers, Purpose, SavedPreferences, Step
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
from bot.flow.troubleshooting import Troubleshooting


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


class Dialog(Troubleshooting):
    """Understanding one input: commands first, then every answer it carries, then the step's validator."""

    def say_notices(self) -> None:
        """What happened while the user was away, such as their session taken over elsewhere (S12)."""
        notices, self.state.notices = self.state.notices, []
        for key in notices:
            self.say(key)

    def opening(self) -> None:
        self.say_notices()
        if self.state.in_flight and self.profile is not None:
            # A call a turn left in flight (the chat closed, or the process died, during a sign-in):
            # how it ended, once it is past its grace, rather than a greeting (X2).
            self.in_flight_pending()
            return
        if self.state.step is not None:
            self.say("resume.where_we_were")
            self.prompt()
            return
        if self.profile is None:
            self.say_profile_missing()
            return
        self.say("greet.hello", name=self.profile.display_name.split(" ")[0], choices=self.menu())

    def handle(self, message: UserMessage) -> None:
        self.say_notices()
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
        return self.recognizer.parse(text, teams=teams, region=region)

    def numbered_choice(self, text: str) -> str | None:
        """ "2" picks the second choice shown, except where a bare number is an answer (an extension)."""
        if not (text.isascii() and text.isdecimal() and len(text) <= 2 and self.state.choices):
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
        if not self.in_flight_interrupted():
            self.say("busy.still_working")
            return True
        self.reconcile()
        return True

    def in_flight_interrupted(self) -> bool:
        """The call in flight is older than the grace: its turn died (a crash) or lost its result."""
        due = self.state.in_flight_due(self.context.in_flight_grace)
        return due is not None and self.context.now >= due

    def reconcile(self) -> None:
        """Ask the contact center how the interrupted call ended, instead of sending it again; an
        interrupted sign-in is recorded as an attempt with what the check finds."""
        interrupted = None
        if self.state.in_flight == "login" and self.profile is not None:
            request = self.login_request()
            if request is not None:
                interrupted = SubmitLogin(request, automatic=self.state.automatic)
        self.state.in_flight = "reconcile"
        self.effects.append(CheckSession(reconcile=True, interrupted=interrupted))

    def settle(self) -> None:
        """No message: a call in flight that its turn never finished is checked once it is past the
        grace (a process restarted after a crash tells the user the outcome without being asked);
        nothing while it may still be under way, or when no call is in flight."""
        if self.state.in_flight and self.in_flight_interrupted():
            self.reconcile()

    def global_command(self, parse: Parsed, text: str) -> bool:
        folded = text.casefold().strip(" .!?")
        if folded in self.words("restart"):
            self.start_login(None, restart=True)
            return True
        field = self.field_to_change(folded)
        if (
            field is not None
            and self.state.step in SPECS
            and self.profile is not None
            and self.can_change(field)
        ):
            self.change_field(field.value)  # "change the number" at a later question (S10)
            return True
        if self.state.step is Step.DIAL_NUMBER and any(w in folded for w in self.words("international")):
            self.answer_choice("dn", "international")  # typed, the same as the button (S5)
            return True
        if (parse.intent == "cancel" and parse.confidence >= CONFIDENT) or folded in self.words("cancel"):
            self.cancel()
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
        if parse.intent == "reset_auto_login":
            self.set_auto_login(self.means_turn_on(parse.text))
            self.prompt()
            return True
        if parse.intent == "login":
            self.prompt()  # already signing in: ask the question again rather than call it an error
            return True
        if parse.intent == "troubleshoot":
            self.troubleshoot(parse, parse.text)  # answered when the checklist is back, then asked again
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
        self.state.refused_numbers = []
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
        elif kind in ("troubleshoot", "report"):
            self.troubleshoot_choice(kind, argument)
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
        if name in ("preferences", "autologin_on", "autologin_off"):
            self.prompt_if_active()  # a menu button clicked mid-dialog: answer it, then ask again

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
            self.troubleshoot(parse, text)
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
        self.effects.append(CheckSession(reconcile=self.state.login_unconfirmed))

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
        if role and self.may_fill(Step.ROLE):
            filled |= self.apply_verdict(SPECS[Step.ROLE], self.check(Step.ROLE, role.value))
        call = parse.entity("call_preference")
        extension = parse.entity("extension")
        number = parse.entity("phone_number")
        if call and call.value in CallPreference.__members__.values() and self.may_fill(Step.CALL_PREFERENCE):
            filled |= self.apply_verdict(
                SPECS[Step.CALL_PREFERENCE],
                self.check(Step.CALL_PREFERENCE, call.value),
            )
        if not self.may_fill(Step.EXTENSION if extension else Step.DIAL_NUMBER):
            extension = number = None
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
        if team and self.may_fill(Step.TEAM):
            # What was typed, not the recognizer's single pick: "sales" must ask which Sales team (S9).
            filled |= self.apply_verdict(
                SPECS[Step.TEAM], self.check(Step.TEAM, parse_text_span(parse, team))
            )
        return filled

    def may_fill(self, step: Step) -> bool:
        """Answers ahead are welcome at any step; changing an earlier answer is for the summary, so a
        number typed at the team question is not silently taken as a new number."""
        current = self.state.step
        if current in (None, Step.CONFIRM, Step.CHANGE_FIELD) or current is step:
            return True
        return not SPECS[step].answered(self.state.answers)

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
        if spec.step is Step.DIAL_NUMBER:
            self.state.answers.pending_national = None
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
        if self.profile is None:
            self.say_profile_missing()  # the profile could not be read this turn: said why; the step waits
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
        if taken and not spec.applies(self.profile, self.state.answers):
            self.advance()  # the message answered what this step was for (a full number at COUNTRY_CODE)
            return
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
            if not any(ch in ASCII_DIGITS for ch in text):
                return NOT_UNDERSTOOD
            match = NUMBERISH.search(text)
            return self.check(Step.DIAL_NUMBER, match.group(0) if match else text)
        if spec.step is Step.COUNTRY_CODE and (parse.intent == "affirm" or folded in self.words("default")):
            return Verdict(default_country_code(self.profile))
        if spec.step is Step.EXTENSION and not any(ch in ASCII_DIGITS for ch in text):
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

    def field_to_change(self, folded: str) -> Step | None:
        """ "change the team", "modifier le numéro": a change word and a field's name."""
        if not any(word in folded for word in self.words("change")):
            return None
        return next(
            (step for step in FIELD_STEPS if any(w in folded for w in self.words(f"field_{step.value}"))),
            None,
        )

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

    def answer_confirm(self, yes: bool) -> None:
        if not yes:
            self.state.step = Step.CHANGE_FIELD
            self.prompt()
            return
        if self.profile is None:
            self.say_profile_missing()
            return
        if not complete(self.profile, self.state.answers):
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
        if self.state.login_unconfirmed:
            # The last attempt may have gone through (X2): never send it again before knowing.
            self.state.in_flight = "check_session:resubmit"
            self.effects.append(CheckSession(reconcile=True))
            return
        request = self.login_request()
        if request is None:  # the team is no longer the user's: ask again
            self.state.answers.team_id = None
            self.advance()
            return
        if not self.state.automatic:
            self.effects.append(SavePreferences(self.saved_preferences()))
        self.effects.append(
            SubmitLogin(request, take_over=self.state.take_over, automatic=self.state.automatic)
        )
        self.state.in_flight = "login"
        self.state.step = None

    def login_request(self) -> LoginRequest | None:
        """The sign-in the answers make; None when the team they name is not the user's any more."""
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
            return None
        return LoginRequest(role, answers.call_preference, dial_number, team_id)

    def change_field(self, name: str) -> None:
        if self.profile is None:
            self.say_profile_missing()
            return
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
            self.state.answers = self.state.answers.cleared("extension", "dial_number", "country_code")
        if step is Step.DIAL_NUMBER:
            self.state.answers = self.state.answers.cleared("country_code", "pending_national")
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
