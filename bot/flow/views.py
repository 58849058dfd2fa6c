"""Read models: what a channel may know of a conversation, without reading the flow's state or the
store itself. A channel hands a view back to the flow (a form's `base`) without looking inside."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.flow.form import form_values
from bot.flow.state import FlowState, Step


@dataclass(frozen=True)
class ConversationView:
    step: Step | None  # the question under way, None when no dialog is
    language: str | None
    values: dict[Step, object]  # the sign-in's answers so far, as a form's plain values
    deliveries: tuple[str, ...] = ()
    pending_national: str | None = None  # a national number waiting for its country code
    team_candidates: tuple[str, ...] = ()  # the team ids a "which one?" offers
    choices: tuple[str, ...] = ()  # the values of the numbered choices last shown
    purpose: str = "login"  # signing in, or only editing the saved preferences
    editing: Step | None = None  # an answer being changed
    state: FlowState = field(repr=False, compare=False, default_factory=FlowState)

    @property
    def active(self) -> bool:
        return self.step is not None

    def delivered(self, delivery_id: str | None) -> bool:
        """Whether the flow already processed this platform delivery."""
        return delivery_id is not None and delivery_id in self.deliveries


def view_of(state: FlowState) -> ConversationView:
    return ConversationView(
        step=state.step,
        language=state.language,
        values=form_values(state),
        deliveries=tuple(state.deliveries),
        pending_national=state.answers.pending_national,
        team_candidates=tuple(state.team_candidates),
        choices=tuple(state.choices),
        purpose=state.purpose.value,
        editing=state.editing,
        state=state,
    )
