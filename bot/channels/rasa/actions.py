"""The Rasa actions (fixed names, DESIGN.md). Each one translates the tracker into a flow input, runs
it through the assistant (the same store, backend and flow as every other channel) and renders the
replies. An exception inside an action becomes an apology to the user, never a 500 (X1).

The sign-in form starts as the flow's own sign-in does: a session held elsewhere asks "continue
here?" (S12, the `take_over` slot), saved preferences with auto-login sign the user in at once (S6),
and a failed automatic sign-in says why and pre-fills the form from the preferences (S7)."""

from __future__ import annotations

import logging
import re
from abc import ABCMeta, abstractmethod
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.backend.port import FailureReason
from bot.channels.rasa.form import (
    CONFIRM,
    ENTITY_OF_SLOT,
    FORM,
    REQUIRED_SLOTS,
    SIGN_IN_SLOTS,
    SLOT_OF_STEP,
    STEP_OF_SLOT,
    TAKE_OVER,
    LoginFormValidator,
    answers_from_slots,
    form_slots,
    slot_values,
    take_over_question,
)
from bot.channels.rasa.names import prefix_in
from bot.channels.rasa.render import message
from bot.channels.rasa.services import (
    CHANNEL,
    RasaServices,
    entity_value,
    latest_text,
    latest_user_event,
    rasa_catalog,
    shared_services,
)
from bot.flow.catalog import Catalog
from bot.flow.effects import Answered, Troubleshoot, Unanswered
from bot.flow.engine import TurnContext, UserMessage
from bot.flow.replies import Reply, ReplyKind
from bot.flow.state import Step
from bot.flow.troubleshooting import mentioned_name
from bot.flow.views import ConversationView
from bot.identity import RequestStatus, VerifyStatus, normalize_email
from bot.limits import MAX_INPUT_CHARS, too_long
from bot.limits import size as input_size
from bot.troubleshoot import NotAllowed, TrackingIdNotFound
from bot.troubleshoot.conversation import answer
from storage import ConversationKey

log = logging.getLogger(__name__)

# The prefix of loginbot's intents in the calling assistant, for the payloads of this call's buttons.
_INTENT_PREFIX: ContextVar[str] = ContextVar("loginbot_intent_prefix", default="")
VERIFIED = "verified"  # the value of `verification_code` once the code matched: never the code itself


class LoginbotAction(Action, metaclass=ABCMeta):
    """The common part: who the user is, in which language, and no exception reaching Rasa.

    Built with no arguments (as rasa-sdk builds every action it finds in `--actions`), an action uses
    the services shared by the process, made from the settings when first needed; `loginbot serve
    actions` and tests pass theirs. The base classes are abstract, so rasa-sdk registers only the
    actions themselves."""

    action_name = ""

    def __init__(self, services: RasaServices | None = None) -> None:
        self._services = services

    @property
    def services(self) -> RasaServices:
        return self._services if self._services is not None else shared_services.get()

    def name(self) -> str:
        return self.action_name

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = "en"
        reset = _INTENT_PREFIX.set("")
        try:
            if oversized := _over_the_limit(tracker):
                # Never parsed: no regular expression, recognizer or flow sees it; the slots holding
                # it are emptied, so that nothing echoes it back.
                language = _slot_language(tracker)
                dispatcher.utter_message(
                    text=Catalog.default().text(
                        language, "input.too_long", limit=MAX_INPUT_CHARS, size=oversized[1]
                    )
                )
                return [SlotSet(slot, None) for slot in oversized[0]]
            _INTENT_PREFIX.set(self.intent_prefix(domain))
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
        finally:
            _INTENT_PREFIX.reset(reset)

    def intent_prefix(self, domain: Mapping[str, Any] | None) -> str:
        configured = self.services.settings.intent_prefix
        return configured if configured is not None else prefix_in(domain)

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
            dispatcher.utter_message(**message(reply, _INTENT_PREFIX.get()))

    def say_key(self, dispatcher: CollectingDispatcher, language: str, key: str, **params: object) -> None:
        if key.startswith(("identity.", "mail.")):
            catalog = self.services.verifier.catalog
        elif key.startswith("rasa."):
            catalog = rasa_catalog()
        else:
            catalog = Catalog.default()
        dispatcher.utter_message(text=catalog.text(language, key, **params))

    def delivery_id(self, tracker: Tracker, purpose: str = "") -> str | None:
        """The user message this call answers: a platform retry of the same call is not run twice (X2)."""
        message_id = (tracker.latest_message or {}).get("message_id") or latest_user_event(
            tracker.events or []
        ).get("message_id")
        if not message_id:
            return None
        return f"{self.action_name}:{message_id}" + (f":{purpose}" if purpose else "")

    def view(self, key: ConversationKey) -> ConversationView | None:
        return self.services.assistant.view(key)


def _over_the_limit(tracker: Tracker) -> tuple[list[str], int] | None:
    """The slots over the one input limit and the largest size over it, when the message's text or any
    slot is; None when everything is within it."""
    text = latest_text(tracker.latest_message or {})
    slots = [name for name, value in (tracker.slots or {}).items() if too_long(value)]
    sizes = [input_size(tracker.slots[name]) for name in slots]
    if too_long(text):
        sizes.append(len(text))
    return (slots, max(sizes)) if sizes else None


def _slot_language(tracker: Tracker) -> str:
    slot = tracker.get_slot("language")
    return slot if isinstance(slot, str) and slot in ("en", "fr") else "en"


class VerifiedAction(LoginbotAction):
    """An action for a verified user only: anyone else is told to prove who they are first."""

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str | None, language: str
    ) -> list[EventType]:
        if email is None:
            self.say_key(dispatcher, language, "identity.needed")
            return []
        return await self.act_verified(dispatcher, tracker, email, language)

    @abstractmethod
    async def act_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str, language: str
    ) -> list[EventType]: ...


class FlowCommandAction(VerifiedAction):
    """An action that is one flow command (a menu button), for a verified user."""

    async def act_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str, language: str
    ) -> list[EventType]:
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

    async def act_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str, language: str
    ) -> list[EventType]:
        events = await super().act_verified(dispatcher, tracker, email, language)
        # Signing out ends what this sender id proved: the next sign-in proves the email again.
        settings = self.services.settings
        if not settings.trust_email_metadata:
            self.services.verifier.forget(
                channel=CHANNEL, subject=tracker.sender_id, workspace=settings.workspace
            )
        return events


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


# --- the troubleshooting checklist (U3, T1-T9) --------------------------------------------------------

_TRACKING_ID = re.compile(
    r"\b(?:LOGINBOT-[0-9A-Za-z][0-9A-Za-z-]*|[0-9A-Za-z_]*[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}"
    r"-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})"
)
# An address starts where a word starts (the look-behind): without it, every position of a long run
# of letters would start a scan to its end, quadratic in the text's length.
_EMAIL_IN_TEXT = re.compile(r"(?<![^@\s<>\"',;:()])[^@\s<>\"',;:()]+@[^@\s<>\"',;:()]+\.[A-Za-z]{2,}")


def tracking_id_in(text: str) -> str | None:
    found = _TRACKING_ID.search(text)
    return found.group(0) if found else None


def email_in(text: str) -> str | None:
    for found in _EMAIL_IN_TEXT.finditer(text):
        address = normalize_email(found.group(0).rstrip(".?!"))
        if address:
            return address
    return None


def name_in(text: str, language: str) -> str | None:
    """Somebody's name in a request ("checklist for ava lead", "pourquoi Inès ne peut pas..."), read
    as the flow reads it in Slack and the terminal (`bot.flow.troubleshooting.mentioned_name`)."""
    catalog = Catalog.default()
    return mentioned_name(text, lambda key: catalog.words(language, key))


class TroubleshootLogin(VerifiedAction):
    """The sign-in troubleshooting checklist (U3): the requester is the conversation's verified user;
    the user asked about comes from a tracking id, an email, or a name in the message, and is the
    requester when none is given. Only administrators see someone else's (T9); a refusal says so and
    `bot.troubleshoot` logs it. The checklist is the flow's `Troubleshoot` effect, performed as every
    channel performs it (`bot.troubleshoot.conversation.answer`)."""

    action_name = "action_troubleshoot_login"

    async def act_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str, language: str
    ) -> list[EventType]:
        latest = tracker.latest_message or {}
        text = latest_text(latest)
        tracking_id = entity_value(latest, "tracking_id") or tracking_id_in(text)
        mentioned = entity_value(latest, "email")
        target = (normalize_email(mentioned) if mentioned else None) or email_in(text)
        effect = Troubleshoot(
            target_email=target,
            target_name=None if tracking_id or target else name_in(text, language),
            tracking_id=tracking_id,
            language=language,
        )
        outcome = await answer(self.services.troubleshooter, email, effect)
        if isinstance(outcome, Answered):
            dispatcher.utter_message(text=outcome.text)
            return []
        why = outcome.why
        if why is Unanswered.REFUSED:
            dispatcher.utter_message(text=NotAllowed(email, target or email).message(language))
        elif why is Unanswered.TRACKING_ID_UNKNOWN:
            dispatcher.utter_message(text=TrackingIdNotFound((tracking_id or "").strip()).message(language))
        elif why is Unanswered.NOBODY:
            self.say_key(dispatcher, language, "rasa.troubleshoot_nobody", name=effect.target_name)
        elif why is Unanswered.SEVERAL:
            listed = ", ".join(f"{c.display_name} ({c.email})" for c in outcome.candidates)
            self.say_key(
                dispatcher, language, "rasa.troubleshoot_which", name=effect.target_name, people=listed
            )
        elif why is Unanswered.NO_DIRECTORY:  # this backend cannot look users up by name
            self.say_key(dispatcher, language, "rasa.troubleshoot_no_directory")
        else:  # `answer` logged the failure; `run` apologizes, as for any other (X1)
            raise RuntimeError("troubleshooting failed")
        return []


# --- the sign-in -----------------------------------------------------------------------------------


def said_now(events: list[dict[str, Any]]) -> set[str]:
    """The slots the latest user message set (`action_extract_slots` runs after it), as opposed to the
    slots set before, which Rasa also sends as candidates when the form activates."""
    form = next(
        (i for i in range(len(events) - 1, -1, -1) if events[i].get("event") == "action"), len(events)
    )
    user = next((i for i in range(form - 1, -1, -1) if events[i].get("event") == "user"), form)
    return {
        str(e.get("name"))
        for e in events[user + 1 : form]
        if e.get("event") == "slot" and e.get("name") != "requested_slot"
    }


def _cleared(slots: Any) -> list[EventType]:
    return [SlotSet(slot, None) for slot in slots]


class StationLogin(VerifiedAction):
    """Submit the form's confirmed answers through the assistant's claim / perform / record path (X2)."""

    action_name = "action_station_login"

    async def act_verified(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str, language: str
    ) -> list[EventType]:
        slots = tracker.slots
        if slots.get(CONFIRM) is not True:
            if any(slots.get(slot) is not None for slot in STEP_OF_SLOT):
                # Answers without the summary's "Save and continue": the form shows it first (S10).
                return [SlotSet("requested_slot", CONFIRM), FollowupAction(FORM)]
            # The form ended without a sign-in to submit: the flow already said how it went (signed
            # in automatically, session taken over or left where it is, unknown user...).
            return _cleared(slot for slot in SIGN_IN_SLOTS if slots.get(slot) is not None)
        assistant = self.services.assistant
        key = self.services.key(email)
        delivery = self.delivery_id(tracker)
        before = self.view(key)
        if before is not None and before.delivered(delivery):
            return []  # a retry of a call already answered: never submitted twice (X2)
        answers = answers_from_slots(slots)
        replies = await assistant.submit_answers(key, answers, language=language, delivery_id=delivery)
        self.say(dispatcher, [r for r in replies if not _login_prompt(r)])
        if any(r.kind is ReplyKind.SUCCESS for r in replies):
            return _cleared(SIGN_IN_SLOTS)
        state = self.view(key)
        if state is None or not replies:
            # Nothing submitted, nothing said: the profile could not be read just now. The form says
            # why and asks "Save and continue?" again (X3).
            return [SlotSet(CONFIRM, None), SlotSet("requested_slot", CONFIRM), FollowupAction(FORM)]
        if state.step is Step.TAKE_OVER:
            # Signed in elsewhere meanwhile (S12): the form asks "continue here?".
            return [
                *_cleared((TAKE_OVER, CONFIRM)),
                SlotSet("requested_slot", TAKE_OVER),
                FollowupAction(FORM),
            ]
        if state.step is None:
            return _cleared(SIGN_IN_SLOTS)
        # An answer the flow cleared (a number in use, a role not permitted...) or still asks for
        # (a missing team, S10): clear the slot too and let the form ask it again (S7, S11). A passing
        # failure (the service down...) asks "Save and continue?" again with the same answers (X3).
        after = {step.value: value for step, value in state.values.items()}
        cleared = [s for s, v in slot_values(answers).items() if v is not None and after[s] is None]
        asked = SLOT_OF_STEP.get(state.step, CONFIRM)
        if asked != CONFIRM and asked not in cleared:
            cleared.append(asked)
        return [*_cleared((*cleared, CONFIRM)), SlotSet("requested_slot", asked), FollowupAction(FORM)]


@dataclass
class _Start:
    """How the flow's own start of a sign-in went: `events` to answer at once (the form ends or asks
    "continue here?"), or the answers it filled in for the form to go on with."""

    events: list[EventType] | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    prefill: bool = False
    base: ConversationView | None = None


class ValidateLoginForm(LoginbotAction):
    """`validate_login_form`: identity first where the channel cannot vouch (S14), then the flow's
    start of a sign-in (S12, S6, S7), its validators and questions (see `form.py`), and the summary."""

    action_name = "validate_login_form"

    async def act(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, email: str | None, language: str
    ) -> list[EventType]:
        candidates = {k: v for k, v in tracker.slots_to_validate().items() if k in REQUIRED_SLOTS}
        steps = {k: v for k, v in candidates.items() if k in STEP_OF_SLOT and v is not None}
        requested = tracker.get_slot("requested_slot")
        # No question pending: the form starts (or starts again after being cancelled or completed).
        starting = requested is None
        events: list[EventType] = []
        if email is None:
            email, events = await self.prove_identity(dispatcher, tracker, candidates, language)
            if email is None:
                return events
            starting = True  # identity proven just now: the sign-in itself starts
        if not starting and requested == TAKE_OVER:
            return [*events, *await self.take_over(dispatcher, tracker, email, language, candidates)]
        assistant = self.services.assistant
        slots: dict[str, Any] = dict(tracker.slots)
        start = _Start()
        if starting:
            # Only what the opening message said counts ("log me in as supervisor"); answers a
            # cancelled or finished sign-in left in the slots do not.
            said = {e.get("entity") for e in (tracker.latest_message or {}).get("entities") or []}
            steps = {k: v for k, v in steps.items() if ENTITY_OF_SLOT.get(k) in said}
            leftovers = [s for s in SIGN_IN_SLOTS if tracker.get_slot(s) is not None and s not in steps]
            start = await self.start(dispatcher, tracker, email, language, steps)
            if start.events is not None:
                return [*events, *_cleared(dict.fromkeys([*leftovers, *steps])), *start.events]
            events.extend(_cleared(s for s in leftovers if start.slots.get(s) is None))
            events.extend(SlotSet(slot, value) for slot, value in start.slots.items() if value is not None)
            slots = {k: v for k, v in slots.items() if k not in SIGN_IN_SLOTS}
            slots.update({k: v for k, v in start.slots.items() if v is not None}, **steps)
        context = await assistant.context_for(email)
        if context.profile is None or not context.profile.contact_center_enabled:
            fresh = {k: v for k, v in steps.items() if k in said_now(tracker.events or [])}
            return [*events, *self.no_profile(dispatcher, context, email, language, fresh, requested)]
        # The flow's state keeps what slots cannot: numbers the contact center refused in this sign-in.
        base = start.base if starting else self.view(self.services.key(email))
        validator = LoginFormValidator.for_slots(
            assistant.engine.recognizer,
            context,
            email=email,
            language=language,
            slots=slots,
            candidates=steps,
            base=base,
            started=starting,
        )
        confirm = None if starting else candidates.get(CONFIRM)  # never a leftover "yes" (S10)
        # The message that set these candidates (or opened the form), read as the flow reads it.
        typed = latest_text(tracker.latest_message or {}) if starting or candidates else None
        outcome = validator.run(slots, steps, confirm=confirm, prefill=start.prefill, typed=typed)
        if outcome.status_asked:
            status = await assistant.run_flow(
                self.services.key(email), UserMessage(choice="cmd:status"), language=language
            )
            self.say(dispatcher, [r for r in status if r.kind is not ReplyKind.PROMPT])
        self.say(dispatcher, outcome.replies)
        events.extend(SlotSet(slot, value) for slot, value in outcome.slots.items())
        events.append(SlotSet("requested_slot", outcome.requested_slot))
        return events

    def no_profile(
        self,
        dispatcher: CollectingDispatcher,
        context: TurnContext,
        email: str,
        language: str,
        steps: Mapping[str, Any],
        requested: object,
    ) -> list[EventType]:
        """No usable profile: an unknown or disabled user ends the form; a profile the contact center
        could not read now (down, rate limited...) keeps the question and the answers given before,
        and refuses only the one just given, which could not be checked (X3)."""
        error = context.profile_error
        if context.profile is None and error not in (None, FailureReason.USER_NOT_FOUND):
            assert error is not None
            tracking_id = context.profile_error_tracking_id or "-"
            self.say_key(
                dispatcher,
                language,
                f"failure.{error.value}",
                number="",
                tracking_id=tracking_id,
                url=context.authorize_url,
            )
            if context.profile_error_tracking_id:
                self.say_key(dispatcher, language, "failure.tracking_id", tracking_id=tracking_id)
            return [*_cleared(steps), SlotSet("requested_slot", requested)]
        key = "user.disabled" if context.profile else "user.unknown"
        self.say_key(dispatcher, language, key, email=email)
        return [*_cleared(SIGN_IN_SLOTS), SlotSet("requested_slot", None)]

    async def start(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        email: str,
        language: str,
        steps: Mapping[str, Any],
    ) -> _Start:
        """The flow's own start of a sign-in ("cmd:login"): it checks for a session elsewhere (S12),
        signs in at once with saved preferences and auto-login (S6), or fills in the saved answers,
        after saying why an automatic sign-in failed (S7, S8)."""
        assistant = self.services.assistant
        saved = assistant.preferences(email)
        if steps and saved is not None and saved.auto_login:
            # The message that opened the form says what the user wants ("as supervisor..."): no
            # automatic sign-in, as in the flow; the saved answers fill the rest (S8), and a session
            # elsewhere is caught when the sign-in is submitted (S12).
            return _Start(prefill=True, base=self.view(self.services.key(email)))
        key = self.services.key(email)
        replies = await assistant.run_flow(
            key,
            UserMessage(choice="cmd:login", delivery_id=self.delivery_id(tracker, "start")),
            language=language,
        )
        state = self.view(key)
        if state is not None and state.step is Step.TAKE_OVER:
            self.say(dispatcher, replies)  # "You're signed in elsewhere... continue here?"
            return _Start(events=[SlotSet("requested_slot", TAKE_OVER)])
        if state is None or state.step not in (*STEP_OF_SLOT.values(), Step.CONFIRM, Step.CHANGE_FIELD):
            self.say(dispatcher, replies)  # signed in automatically, already signed in here, unknown user...
            return _Start(events=[SlotSet("requested_slot", None)])
        # The dialog goes on, with what the flow filled in; the form asks the questions (and announces
        # again what the profile decides where the message answered otherwise).
        answered = {f"auto.{slot}" for slot in steps}
        self.say(dispatcher, [r for r in replies if not _login_prompt(r) and r.key not in answered])
        return _Start(slots=form_slots(state), base=state)

    async def take_over(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        email: str,
        language: str,
        candidates: Mapping[str, Any],
    ) -> list[EventType]:
        """ "Continue here?" (S12): the answer goes to the flow, which takes the session over or leaves
        it where it is; the form then ends (nothing left to submit)."""
        answer = candidates.get(TAKE_OVER)
        key = self.services.key(email)
        if answer is None:
            # The form resumes at this question (after "help", or a sign-in refused meanwhile).
            context = await self.services.assistant.context_for(email)
            question = take_over_question(self.services.assistant.engine.recognizer, context, email, language)
            self.say(dispatcher, question)
            return [SlotSet("requested_slot", TAKE_OVER)]
        delivery = self.delivery_id(tracker, "take_over")
        if isinstance(answer, bool):
            said = UserMessage(choice=f"takeover:{'yes' if answer else 'no'}", delivery_id=delivery)
        else:
            said = UserMessage(text=str(answer), delivery_id=delivery)
        replies = await self.services.assistant.run_flow(key, said, language=language)
        self.say(dispatcher, replies)
        state = self.view(key)
        if state is not None and state.step is Step.TAKE_OVER:
            return [SlotSet(TAKE_OVER, None), SlotSet("requested_slot", TAKE_OVER)]  # not understood
        return [*_cleared(SIGN_IN_SLOTS), SlotSet("requested_slot", None)]

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
                channel=CHANNEL,
                subject=sender,
                email=str(candidates["email"]),
                language=language,
                workspace=self.services.settings.workspace,
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
                channel=CHANNEL,
                subject=sender,
                code=str(candidates["verification_code"]),
                workspace=self.services.settings.workspace,
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


def build_actions(services: RasaServices | None = None) -> list[LoginbotAction]:
    return [action(services) for action in ACTIONS]
