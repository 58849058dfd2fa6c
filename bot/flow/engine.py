"""The flow engine: one user input in, the new state, replies and effects out.

`FlowEngine.turn(state, message, context)` is pure: it reads the user's profile and saved
preferences from the context the runner built, never calls a backend or a database, and returns
effects (sign in, sign out, save preferences...) for the runner to perform. Each outcome comes back
through `FlowEngine.on_event`. Every channel (terminal, Slack, Rasa) drives this same engine.
"""

from __future__ import annotations

from bot.flow.catalog import Catalog
from bot.flow.conversation import Conversation
from bot.flow.effects import (
    Event,
)
from bot.flow.form import FormCall, FormInput, FormResult
from bot.flow.handling import handle, opening, settle
from bot.flow.inputs import (
    Parsed,
    TurnContext,
    TurnResult,
    Understands,
    UserMessage,
    sanitize,
)
from bot.flow.outcomes import handle_event
from bot.flow.prompts import prompt
from bot.flow.replies import Reply
from bot.flow.state import FlowState, SavedPreferences


class FlowEngine:
    def __init__(self, recognizer: Understands, catalog: Catalog | None = None) -> None:
        self.recognizer = recognizer
        self.catalog = catalog or Catalog.default()

    def open(self, state: FlowState, context: TurnContext) -> TurnResult:
        """What a channel shows when the user opens the chat: a greeting, or where they left off."""
        c = self._conversation(state, context)
        opening(c)
        return c.result()

    def turn(self, state: FlowState, message: UserMessage, context: TurnContext) -> TurnResult:
        if message.delivery_id is not None:
            if message.delivery_id in state.deliveries:
                return TurnResult(state, [], [], duplicate=True)
            state = state.model_copy(
                update={"deliveries": [*state.deliveries, message.delivery_id][-MAX_DELIVERIES_KEPT:]}
            )
        c = self._conversation(state, context)
        handle(c, message)
        return c.result()

    def settle(self, state: FlowState, context: TurnContext) -> TurnResult:
        """Check a backend call an interrupted turn left in flight, once past its grace (X2)."""
        c = self._conversation(state, context)
        settle(c)
        return c.result()

    def on_event(self, state: FlowState, event: Event, context: TurnContext) -> TurnResult:
        c = self._conversation(state, context)
        handle_event(c, event)
        return c.result()

    def fill_form(self, state: FlowState, form: FormInput, context: TurnContext) -> FormResult:
        """A form's values checked as typed answers are (see `form.py`); the profile must be known."""
        return FormCall(self._conversation(state, context)).run(form)

    def ask(self, state: FlowState, context: TurnContext) -> list[Reply]:
        """The question of the state's step, as the flow asks it."""
        c = self._conversation(state, context)
        prompt(c)
        return c.replies

    def preference_fields(
        self, preferences: SavedPreferences, language: str | None, context: TurnContext
    ) -> dict[str, str]:
        """Saved preferences as the summary labels them, in `language`: a read model for channels."""
        state = FlowState(language=language, language_chosen=language is not None)
        return self._conversation(state, context).summary_fields(preferences.as_answers())

    def _conversation(self, state: FlowState, context: TurnContext) -> Conversation:
        return Conversation(self.recognizer, self.catalog, state, context)


MAX_DELIVERIES_KEPT = 50  # platform retries come within minutes: the last few dozen ids are enough

__all__ = [
    "FlowEngine",
    "FormInput",
    "FormResult",
    "Parsed",
    "TurnContext",
    "TurnResult",
    "UserMessage",
    "sanitize",
]
