"""The questions of the dialog: one `prompt_<step>` per step, with the choices a channel shows."""

from __future__ import annotations

from bot.backend.port import (
    CallPreference,
    FailureReason,
)
from bot.flow.inputs import (
    MAX_ERRORS,
)
from bot.flow.numbers import country_code_for_region
from bot.flow.replies import Choice, ReplyKind
from bot.flow.speaker import Speaker
from bot.flow.state import Purpose, Step
from bot.flow.steps import (
    FIELD_STEPS,
)

# Questions that can be asked without the user's profile (it is None when it could not be read).
_WITHOUT_PROFILE = (Step.LANGUAGE, Step.TAKE_OVER, Step.AUTO_LOGIN, Step.AVAILABILITY)


class Prompts(Speaker):
    """One question per step, with its choices; the dialog asks `prompt()` for the current step."""

    def prompt_if_active(self, *, fallback_menu: bool = False) -> None:
        if self.state.step is not None:
            self.prompt()
        elif fallback_menu:
            self.say("idle.what_now", choices=self.menu())

    def prompt(self) -> None:
        step = self.state.step
        if step is None:
            return
        if self.profile is None and step not in _WITHOUT_PROFILE:
            self.say_profile_missing()  # the profile could not be read this turn: said why; the step waits
            return
        if self.state.errors >= MAX_ERRORS:
            self.say("help.way_out")  # no choices of its own: the question's numbers follow
        builder = getattr(self, f"prompt_{step.value}")
        builder()

    def say_profile_missing(self) -> None:
        error = self.context.profile_error
        if error is None or error is FailureReason.USER_NOT_FOUND:
            self.say("user.unknown", ReplyKind.ERROR, email=self.state.email)
        else:
            url = self.context.authorize_url
            tracking_id = self.context.profile_error_tracking_id
            self.say(f"failure.{error.value}", ReplyKind.FAILURE, number="", tracking_id=tracking_id, url=url)
            if tracking_id and error is not FailureReason.AUTHORIZATION_REQUIRED:
                self.say("failure.tracking_id", tracking_id=tracking_id)

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
        offered = (default, *self.profile.dial_numbers)
        numbers = list(dict.fromkeys(n for n in offered if n and n not in self.state.refused_numbers))
        choices = [
            Choice(f"dn:{n}", n + (f" ({self.t('label.default')})" if n == default else "")) for n in numbers
        ]
        if self.profile.allows_other_numbers:
            choices.append(Choice("dn:international", self.t("label.international_format")))
        code = self.state.answers.country_code
        if code and self.state.editing is Step.DIAL_NUMBER:
            # International format: the country code is chosen, only the national number is missing (S5).
            self.say("ask.dial_number_national", ReplyKind.PROMPT, code=code)
            return
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

    def default_number(self) -> str | None:
        """Saved preferences first, then the administrator's default DN (S8)."""
        saved = self.context.preferences.dial_number if self.context.preferences else None
        configured = self.profile.dial_numbers if self.profile else ()
        candidates = (saved, self.profile.default_dn if self.profile else None, *configured)
        # A number the contact center just refused is not offered again as the default (S7).
        return next((n for n in candidates if n and n not in self.state.refused_numbers), None)
