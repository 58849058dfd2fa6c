"""The Rasa actions (fixed names, DESIGN.md). Each one translates the tracker into a flow input, runs
it through the assistant (the same store, backend and flow as every other channel) and renders the
replies. An exception inside an action becomes an apology to the user, never a 500 (X1)."""

from __future__ import annotations

import logging
from abc import abstractmethod
from collections.abc import Mapping
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.backend.port import FailureReason
from bot.channels.rasa.form import (
    FORM,
    HELPER_SLOTS,
    IDENTITY_SLOTS,
    SLOT_OF_STEP,
    STEP_OF_SLOT,
    LoginFormValidator,
    answers_from_slots,
    slot_values,
)
from bot.channels.rasa.render import message
from bot.channels.rasa.services import CHANNEL, RasaServices, entity_value, latest_text, latest_user_event
from bot.flow.catalog import Catalog
from bot.flow.engine import UserMessage
from bot.flow.replies import Reply, ReplyKind
from bot.flow.state import FlowState
from bot.identity import RequestStatus, VerifyStatus

log = logging.getLogger(__name__)

VERIFIED = "verified"  # the value of `verification_code` once the code matched: never the code itself


class LoginbotAction(Action):
    """The common part: who the user is, in which language, and no exception reaching Rasa."""

    action_name = ""

    def __init__(self, services: RasaServices) -> None:
        self.services = services

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = "en"
        try:
            email = self.identify(tracker)
            language = self.language(tracker, email)
            events = await self.act(dispatcher, tracker, email, language)
            if tracker.get_slot("language") != language:
                events.insert(0, SlotSet("language", language))
            return events
        except Exception:
            log.exception("action %s failed", self.action_name)
            dispatcher.utter_message(text=Catalog.default().text(language, "error.internal"))
            return []

    @abstractmethod
    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str | None, language: str
    ) -> list[EventType]: ...

    def identify(self, tracker: Tracker) -> str | None:
        return self.services.identify(tracker.sender_id, tracker.latest_message or {}, tracker.events or [])

    def language(self, tracker: Tracker, email: str | None) -> str:
        return self.services.language(
            tracker.latest_message or {}, tracker.events or [], tracker.get_slot("language"), email
        )

    def say(self, dispatcher: CollectingDispatcher, replies: list[Reply]) -> None:
        for reply in replies:
            dispatcher.utter_message(**message(reply))

    def say_key(self, dispatcher: CollectingDispatcher, language: str, key: str, **params: object) -> None:
        catalog = (
            self.services.verifier.catalog if key.startswith(("identity.", "mail.")) else Catalog.default()
        )
        dispatcher.utter_message(text=catalog.text(language, key, **params))

    def delivery_id(self, tracker: Tracker) -> str | None:
        message_id = (tracker.latest_message or {}).get("message_id") or latest_user_event(
            tracker.events or []
        ).get("message_id")
        return f"{self.action_name}:{message_id}" if message_id else None


class FlowCommandAction(LoginbotAction):
    """An action that is one flow command (a menu button), for a verified user."""

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str | None, language: str
    ) -> list[EventType]:
        if email is None:
            self.say_key(dispatcher, language, "identity.needed")
            return []
        choice = self.choice(tracker)
        replies = await self.services.assistant.run_flow(
            self.services.key(email),
            UserMessage(choice=choice, delivery_id=self.delivery_id(tracker)),
            language=language,
        )
        self.say(dispatcher, [r for r in replies if not _login_prompt(r) or choice == "cmd:availability"])
        return []

    @abstractmethod
    def choice(self, tracker: Tracker) -> str: ...


def _login_prompt(reply: Reply) -> bool:
    """A question of the flow's own sign-in dialog: in Rasa the form asks those."""
    return reply.kind in (ReplyKind.PROMPT, ReplyKind.SUMMARY) and reply.key != "ask.availability"


class StationLogout(FlowCommandAction):
    action_name = "action_station_logout"

    def choice(self, tracker: Tracker) -> str:
        return "cmd:logout"


class ShowPreferences(FlowCommandAction):
    action_name = "action_show_preferences"

    def choice(self, tracker: Tracker) -> str:
        return "cmd:preferences"


class SetAvailability(FlowCommandAction):
    action_name = "action_set_availability"

    def choice(self, tracker: Tracker) -> str:
        wanted = entity_value(tracker.latest_message or {}, "availability") or tracker.get_slot(
            "availability"
        )
        return f"avail:{wanted}" if wanted in ("available", "idle") else "cmd:availability"


class ResetAutoLogin(FlowCommandAction):
    action_name = "action_reset_auto_login"

    def choice(self, tracker: Tracker) -> str:
        folded = f" {latest_text(tracker.latest_message or {}).casefold()} "
        words = Catalog.default().words(None, "turn_on")
        return "cmd:autologin_on" if any(f" {w} " in folded for w in words) else "cmd:autologin_off"


class TroubleshootLogin(LoginbotAction):
    action_name = "action_troubleshoot_login"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str | None, language: str
    ) -> list[EventType]:
        # The administrators' checklist (U3) is another engineer's `bot/troubleshoot`; until it is
        # wired here, this answers as the flow does.
        self.say_key(dispatcher, language, "troubleshoot.not_here")
        return []


class StationLogin(LoginbotAction):
    """Submit the form's answers through the assistant's claim / perform / record path (X2)."""

    action_name = "action_station_login"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str | None, language: str
    ) -> list[EventType]:
        if email is None:
            self.say_key(dispatcher, language, "identity.needed")
            return []
        assistant = self.services.assistant
        key = self.services.key(email)
        answers = answers_from_slots(tracker.slots)
        replies = await assistant.submit_answers(
            key, answers, language=language, delivery_id=self.delivery_id(tracker)
        )
        self.say(dispatcher, [r for r in replies if not _login_prompt(r)])
        if any(r.kind is ReplyKind.SUCCESS for r in replies):
            return [SlotSet(slot, None) for slot in (*STEP_OF_SLOT, *HELPER_SLOTS)]
        stored = assistant.store.load_conversation(key)
        if stored is None or not replies:
            return []
        # An answer the flow cleared (a number in use, a role not permitted...) or still asks for
        # (a missing team, S10): clear the slot too and let the form ask it again (S7, S11).
        state = FlowState.model_validate(stored.state)
        after = slot_values(state.answers)
        cleared = [s for s, v in slot_values(answers).items() if v is not None and after[s] is None]
        asked = SLOT_OF_STEP.get(state.step) if state.step is not None else None
        if asked is not None and asked not in cleared:
            cleared.append(asked)
        if not cleared:
            return []
        return [*(SlotSet(slot, None) for slot in cleared), FollowupAction(FORM)]


class ValidateLoginForm(LoginbotAction):
    """`validate_login_form`: identity first where the channel cannot vouch (S14), then the flow's
    validators and questions (see `form.py`)."""

    action_name = "validate_login_form"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str | None, language: str
    ) -> list[EventType]:
        candidates = {
            k: v for k, v in tracker.slots_to_validate().items() if k in (*IDENTITY_SLOTS, *STEP_OF_SLOT)
        }
        events: list[EventType] = []
        if email is None:
            email, events = await self.prove_identity(dispatcher, tracker, candidates, language)
            if email is None:
                return events
        context = await self.services.assistant.context_for(email)
        if context.profile is None or not context.profile.contact_center_enabled:
            key = "user.disabled" if context.profile else "user.unknown"
            if context.profile is None and context.profile_error not in (None, FailureReason.USER_NOT_FOUND):
                key = f"failure.{context.profile_error.value}" if context.profile_error else key
            self.say_key(dispatcher, language, key, email=email, number="", tracking_id="-", url="")
            return [*events, SlotSet("requested_slot", None)]
        slots = {**tracker.slots, **{k: v for k, v in candidates.items() if k in STEP_OF_SLOT}}
        validator = LoginFormValidator.for_slots(
            self.services.assistant.engine.recognizer,
            context,
            email=email,
            language=language,
            slots=slots,
            candidates={k: v for k, v in candidates.items() if k in STEP_OF_SLOT},
        )
        outcome = validator.run(slots, {k: v for k, v in candidates.items() if k in STEP_OF_SLOT})
        self.say(dispatcher, outcome.replies)
        events.extend(SlotSet(slot, value) for slot, value in outcome.slots.items())
        events.append(SlotSet("requested_slot", outcome.requested_slot))
        return events

    async def prove_identity(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        candidates: Mapping[str, Any],
        language: str,
    ) -> tuple[str | None, list[EventType]]:
        verifier = self.services.verifier
        sender = tracker.sender_id
        if candidates.get("email") is not None:
            request = await verifier.request_code(
                channel=CHANNEL, subject=sender, email=str(candidates["email"]), language=language
            )
            if request.status is RequestStatus.SENT:
                self.say_key(
                    dispatcher, language, "identity.code_sent", email=request.email, minutes=verifier.minutes
                )
                return None, [
                    SlotSet("email", request.email),
                    SlotSet("verification_code", None),
                    SlotSet("requested_slot", "verification_code"),
                ]
            key = {
                RequestStatus.INVALID_EMAIL: "identity.bad_email",
                RequestStatus.RATE_LIMITED: "identity.rate_limited",
            }.get(request.status, "identity.mail_failed")
            self.say_key(dispatcher, language, key)
            return None, [SlotSet("email", None), SlotSet("requested_slot", "email")]
        if candidates.get("verification_code") is not None:
            result = verifier.verify(
                channel=CHANNEL, subject=sender, code=str(candidates["verification_code"])
            )
            if result.verified and result.email:
                self.say_key(dispatcher, language, "identity.verified", email=result.email)
                return result.email, [SlotSet("email", result.email), SlotSet("verification_code", VERIFIED)]
            if result.status in (VerifyStatus.WRONG, VerifyStatus.BAD_FORMAT):
                key = "identity.wrong_code" if result.status is VerifyStatus.WRONG else "identity.bad_format"
                self.say_key(dispatcher, language, key, tries=result.tries_left)
                return None, [
                    SlotSet("verification_code", None),
                    SlotSet("requested_slot", "verification_code"),
                ]
            key = {
                VerifyStatus.EXPIRED: "identity.expired",
                VerifyStatus.TOO_MANY_TRIES: "identity.too_many",
            }.get(result.status, "identity.no_code")
            self.say_key(dispatcher, language, key)
            return None, [
                SlotSet("email", None),
                SlotSet("verification_code", None),
                SlotSet("requested_slot", "email"),
            ]
        pending = tracker.get_slot("email")
        if pending and tracker.get_slot("requested_slot") == "verification_code":
            self.say_key(dispatcher, language, "identity.code_sent", email=pending, minutes=verifier.minutes)
            return None, [SlotSet("requested_slot", "verification_code")]
        self.say_key(dispatcher, language, "identity.ask_email")
        return None, [SlotSet("requested_slot", "email")]


ACTIONS: tuple[type[LoginbotAction], ...] = (
    ValidateLoginForm,
    StationLogin,
    StationLogout,
    SetAvailability,
    ResetAutoLogin,
    ShowPreferences,
    TroubleshootLogin,
)


def build_actions(services: RasaServices) -> list[LoginbotAction]:
    return [action(services) for action in ACTIONS]
