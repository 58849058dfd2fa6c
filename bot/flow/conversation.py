"""One turn's working object: the state being changed, what the runner read, and how the flow speaks.

Every handler of the flow is a function that takes this object: it holds no dialog logic of its own,
only the state, the replies and effects gathered so far, and the catalog text and labels they use.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.backend.port import CallPreference, FailureReason, Role, StationSession
from bot.flow.catalog import LANGUAGES, Catalog
from bot.flow.effects import Effect
from bot.flow.inputs import TurnContext, TurnResult, Understands
from bot.flow.replies import Choice, Reply, ReplyKind
from bot.flow.state import Answers, FlowState, Step


class Conversation:
    """The state of one turn and how it speaks: catalog texts, labels, replies and effects so far."""

    def __init__(
        self, recognizer: Understands, catalog: Catalog, state: FlowState, context: TurnContext
    ) -> None:
        self.recognizer = recognizer
        self.catalog = catalog
        self.state = state.model_copy(deep=True)
        self.context = context
        self.profile = context.profile
        self.replies: list[Reply] = []
        self.effects: list[Effect] = []
        self.rejected: set[Step] = set()  # steps whose answer this turn was refused, with the reason said
        self.replay: str | None = None  # a message to handle once more (after the language was chosen)
        if context.language in LANGUAGES and not self.state.language_chosen:
            self.state.language = context.language
            self.state.language_chosen = True
        if self.state.language is None:
            self.state.language = self._language_from_context()

    def result(self) -> TurnResult:
        self.state.updated_at = self.context.now
        if self.state.in_flight is None:
            self.state.in_flight_since = None
        elif self.state.in_flight_since is None:
            self.state.in_flight_since = self.context.now
        return TurnResult(self.state, self.replies, self.effects)

    # --- speaking -----------------------------------------------------------------------------------

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

    def words(self, key: str) -> tuple[str, ...]:
        return self.catalog.words(self.state.language, key)

    def say_profile_missing(self) -> None:
        error = self.context.profile_error
        if error is None or error is FailureReason.USER_NOT_FOUND:
            self.say("user.unknown", ReplyKind.ERROR, email=self.state.email)
            return
        url = self.context.authorize_url
        tracking_id = self.context.profile_error_tracking_id
        self.say(f"failure.{error.value}", ReplyKind.FAILURE, number="", tracking_id=tracking_id, url=url)
        if tracking_id and error is not FailureReason.AUTHORIZATION_REQUIRED:
            self.say("failure.tracking_id", tracking_id=tracking_id)

    # --- labels -------------------------------------------------------------------------------------

    def first_name(self) -> str:
        return self.profile.display_name.split(" ")[0] if self.profile else ""

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

    def country_name(self, region: str) -> str:
        name = self.t(f"country.{region}")
        return region if name.startswith("country.") else name

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

    def summary_fields(self, answers: Answers | None = None) -> dict[str, str]:
        answers = answers or self.state.answers
        fields = {
            self.t("field.role"): self.role_label(answers.role),
            self.t("field.device"): self.device_label(answers),
        }
        if answers.role is not None and answers.role.needs_team:
            fields[self.t("field.team")] = self.team_label(answers.team_id)
        fields[self.t("field.auto_login")] = self.t("label.on" if answers.auto_login else "label.off")
        return fields

    def menu(self) -> list[Choice]:
        return [
            Choice("cmd:login", self.t("menu.login")),
            Choice("cmd:logout", self.t("menu.logout")),
            Choice("cmd:preferences", self.t("menu.preferences")),
            Choice("cmd:help", self.t("menu.help")),
        ]

    def default_number(self) -> str | None:
        """Saved preferences first, then the administrator's default DN (S8); never a number the
        contact center just refused (S7)."""
        saved = self.context.preferences.dial_number if self.context.preferences else None
        configured = self.profile.dial_numbers if self.profile else ()
        candidates = (saved, self.profile.default_dn if self.profile else None, *configured)
        return next((n for n in candidates if n and n not in self.state.refused_numbers), None)

    def _language_from_context(self) -> str | None:
        for candidate in (
            self.context.preferences.language if self.context.preferences else None,
            (self.context.locale or "")[:2].lower() or None,
            self.profile.language if self.profile else None,
        ):
            if candidate in LANGUAGES:
                return candidate
        return None
