"""The turn runner: the one place where the flow, storage and the contact center meet.

Every turn reads the conversation from the store (never from a process cache), runs the engine,
performs the effects it asks for, and saves the result with an optimistic version check. A turn
that calls the contact center first records its intent (`in_flight`) in a commit of its own: a
duplicate delivery or a second process then loses the version race instead of signing the user in
twice, and after a crash the next turn checks the session instead of re-sending (X2).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

from pydantic import ValidationError

from bot.backend.port import (
    AuthorizationRequired,
    Availability,
    ContactCenter,
    ContactCenterError,
    FailureReason,
    Notification,
    UnknownUser,
    UserProfile,
)
from bot.flow.effects import (
    SIDE_EFFECTS,
    ActionFailed,
    ActionSucceeded,
    CheckSession,
    Effect,
    Event,
    FailureReport,
    PreferencesNotSaved,
    SavePreferences,
    SessionChecked,
    SetAvailability,
    SignOut,
    SubmitLogin,
    TakeOver,
    Troubleshoot,
)
from bot.flow.engine import MAX_DELIVERIES_KEPT, FlowEngine, TurnContext, TurnResult, UserMessage
from bot.flow.inputs import IN_FLIGHT_GRACE
from bot.flow.numbers import mask
from bot.flow.replies import Reply, ReplyKind, replies_from_json, replies_to_json
from bot.flow.state import Answers, FlowState, Purpose, SavedPreferences
from bot.flow.state import Step as FlowStep  # added for the Rasa action server
from bot.flow.views import ConversationView, view_of
from bot.ops.metrics import record_signins
from bot.progress import PROGRESS_AFTER, Progress, awaiting, progress_reply
from bot.troubleshoot import Troubleshooter
from bot.troubleshoot.conversation import answer
from storage import (
    KEEP,
    ActiveSessionRecord,
    AttemptRecord,
    ConversationKey,
    Keep,
    OutboundRecord,
    PreferencesRecord,
    StorageError,
    Store,
    VersionConflict,
)

log = logging.getLogger(__name__)

MAX_CONFLICT_RETRIES = 3
MAX_EVENTS_PER_TURN = 8  # effects that lead to effects: a guard against a loop, never reached in practice

Step = Callable[[FlowState, TurnContext], TurnResult]


@dataclass(frozen=True)
class _Locale:
    locale: str | None  # the platform's locale
    language: str | None  # a language the user chose outside the chat


@dataclass(frozen=True)
class ReplyOutbox:
    """Asks `handle` to keep the turn's replies until the channel has posted them (issue 7).

    The turn's final commit then also adds the replies to the store's reply outbox, with the
    channel's `address` (plain JSON: where they go) and the conversation's language, claimed by
    `owner` (the channel's process). The channel marks them posted (`Store.mark_posted`); a crash
    between the commit and the posting leaves them there for the channel's recovery. Only a message
    with a delivery id is kept so: a retry of it is a duplicate, answered with nothing."""

    owner: str
    address: dict[str, Any]


class Replies(list[Reply]):
    """A turn's replies, with the language the conversation is in after the turn (the user may have
    switched during it): what a channel renders its own texts (buttons, labels) in. None when the
    turn did not get that far (an apology)."""

    def __init__(self, replies: Iterable[Reply] = (), language: str | None = None) -> None:
        super().__init__(replies)
        self.language = language


@dataclass(frozen=True)
class StoredReplies:
    """An entry of the reply outbox, read back: where the replies go, in which language, and what."""

    address: dict[str, Any]
    language: str | None
    replies: list[Reply]

    @classmethod
    def of(cls, record: OutboundRecord) -> StoredReplies:
        """ValueError when the entry is not what `ReplyOutbox` stored (another release, a hand edit)."""
        payload = record.payload
        address, language = payload.get("address"), payload.get("language")
        if not isinstance(address, dict) or not isinstance(language, str | None):
            raise ValueError("stored replies without an address")
        try:
            replies = replies_from_json(payload.get("replies"))
        except ValidationError as error:
            raise ValueError("unreadable stored replies") from error
        return cls(address, language, replies)


@dataclass
class _Pending:
    """What a turn will write in its final commit, besides the conversation itself."""

    preferences: SavedPreferences | None = None
    attempts: list[AttemptRecord] = field(default_factory=list)
    session: ActiveSessionRecord | Keep | None = KEEP
    outbox: OutboundRecord | None = None  # the turn's replies, in the final commit only


@dataclass(frozen=True)
class _Keep:
    """A `ReplyOutbox` for one delivery."""

    outbox: ReplyOutbox
    delivery_id: str


class Assistant:
    def __init__(
        self,
        *,
        engine: FlowEngine,
        store: Store,
        backend: ContactCenter,
        troubleshooter: Troubleshooter | None = None,
        in_flight_grace: timedelta = IN_FLIGHT_GRACE,
        progress_after: float = PROGRESS_AFTER,
    ) -> None:
        self.engine = engine
        self.store = store
        self.backend = backend
        # How long a backend call a turn started may still be under way (LOGINBOT_IN_FLIGHT_GRACE):
        # past it, a call whose turn never recorded the outcome is checked, never sent again.
        self.in_flight_grace = in_flight_grace
        # A call the user waits for that has not answered after this many seconds is shown as under
        # way, for channels that pass a `progress` (LOGINBOT_PROGRESS_AFTER).
        self.progress_after = progress_after
        # The checklist and the report (U3); administrators are the tenant's unless `build_assistant`
        # passes LOGINBOT_ADMINS.
        self.troubleshooter = troubleshooter or Troubleshooter(backend, store)
        self._locks: dict[ConversationKey, asyncio.Lock] = {}
        backend.add_listener(self._on_notification)

    async def open(
        self,
        key: ConversationKey,
        *,
        locale: str | None = None,
        language: str | None = None,
        progress: Progress | None = None,
    ) -> Replies:
        """The greeting, or where a conversation left midway stands (even after a restart). With
        `progress`, a slow contact-center call (an automatic sign-in) is shown as under way."""
        return await self._guarded(
            key,
            lambda state, context: self.engine.open(state, context),
            _Locale(locale, language),
            progress=progress,
        )

    def interrupted_call_due(self, key: ConversationKey) -> datetime | None:
        """When the backend call this conversation has in flight counts as interrupted (its turn
        died: `settle` then checks it), or None when no call is in flight."""
        stored = self.store.load_conversation(key)
        if stored is None:
            return None
        return self._state_of(stored.state, key).in_flight_due(self.in_flight_grace)

    async def settle(
        self,
        key: ConversationKey,
        *,
        locale: str | None = None,
        outbox: ReplyOutbox | None = None,
        delivery_id: str | None = None,
    ) -> Replies:
        """A turn without a message, after a restart: the call an interrupted turn left in flight is
        checked once past the grace, and how it ended is said (nothing when no call is in flight, or
        while it may still be under way). With `outbox` and a `delivery_id`, the replies are stored
        with the turn until posted, as `handle` stores a message's."""
        due = self.interrupted_call_due(key)
        if due is None or due > datetime.now(UTC):
            return Replies()  # nothing to check yet: no turn, no commit
        keep = _Keep(outbox, delivery_id) if outbox and delivery_id else None
        return await self._guarded(
            key, lambda state, context: self.engine.settle(state, context), _Locale(locale, None), keep
        )

    async def handle(
        self,
        key: ConversationKey,
        message: UserMessage,
        *,
        locale: str | None = None,
        language: str | None = None,
        outbox: ReplyOutbox | None = None,
        progress: Progress | None = None,
    ) -> Replies:
        """One user message: the replies to say (none for a duplicate delivery). With `outbox`
        (and a delivery id), the replies are also stored with the turn until posted (issue 7). With
        `progress`, a contact-center call slower than `progress_after` is shown as under way."""
        keep = _Keep(outbox, message.delivery_id) if outbox and message.delivery_id else None
        return await self._guarded(
            key,
            lambda state, context: self.engine.turn(state, message, context),
            _Locale(locale, language),
            keep,
            progress=progress,
        )

    # --- added for the Rasa action server (bot/channels/rasa) ---------------------------------------
    # A channel whose own dialogue manager collects the answers (a Rasa form) goes through the same
    # load / run / claim / perform / record path as `handle`: nothing is ever sent twice (X2).

    async def context_for(self, email: str) -> TurnContext:
        """The profile and saved preferences a turn for `email` would see (for a form's validators)."""
        return await self._context(email, _Locale(None, None))

    async def run_flow(
        self, key: ConversationKey, message: UserMessage, *, language: str | None = None
    ) -> Replies:
        """One flow input (typically a button value such as "cmd:logout"), in `language` when given."""
        return await self._guarded(
            key, _in_language(language, lambda s, c: self.engine.turn(s, message, c)), _Locale(None, None)
        )

    async def submit_answers(
        self,
        key: ConversationKey,
        answers: Answers,
        *,
        language: str | None = None,
        delivery_id: str | None = None,
    ) -> Replies:
        """Sign in with answers collected elsewhere: they become the summary, confirmed with "Save and
        continue", so the flow checks completeness (S10), saves the preferences (S6) and submits."""

        def step(state: FlowState, context: TurnContext) -> TurnResult:
            if not state.in_flight:  # a call under way is never replaced: the flow says "still working"
                state = state.model_copy(
                    update={
                        "step": FlowStep.CONFIRM,
                        "purpose": Purpose.LOGIN,
                        "answers": answers,
                        "editing": None,
                        "errors": 0,
                        "team_candidates": [],
                        "automatic": False,
                        "take_over": False,
                    }
                )
            return self.engine.turn(
                state, UserMessage(choice="confirm:yes", delivery_id=delivery_id), context
            )

        return await self._guarded(key, _in_language(language, step), _Locale(None, None))

    def _on_notification(self, notification: Notification) -> None:
        """AGENT_MULTI_LOGIN: the session this chat held continues somewhere else (S12). The holder's
        conversation is told at its next turn; the session row no longer points at it."""
        if notification.kind != "AGENT_MULTI_LOGIN" or not notification.email:
            return
        try:
            holder = self.store.active_session(notification.email)
            if holder is None:
                return
            for _ in range(MAX_CONFLICT_RETRIES):
                stored = self.store.load_conversation(holder.key)
                if stored is None:
                    return
                state = self._state_of(stored.state, holder.key)
                state.notices.append("session.taken_over")
                try:
                    self._commit(holder.key, state, stored.version, _Pending(session=None))
                    return
                except VersionConflict:
                    continue
        except StorageError:
            log.exception("could not record a session take-over")

    async def aclose(self) -> None:
        await self.backend.aclose()
        self.store.close()

    # --- one turn ----------------------------------------------------------------------------------

    async def _guarded(
        self,
        key: ConversationKey,
        step: Step,
        locale: _Locale,
        keep: _Keep | None = None,
        *,
        progress: Progress | None = None,
    ) -> Replies:
        """Serialize a user's turns in this process, retry version conflicts, and never let an
        exception reach the user (X1): it becomes a plain apology and a log line."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            for _ in range(MAX_CONFLICT_RETRIES):
                try:
                    return await self._turn(key, step, locale, keep, progress)
                except VersionConflict:
                    log.info("conversation changed concurrently; running the turn again")
                except StorageError:
                    log.exception("storage failed during a turn")
                    return Replies([self._apology("error.storage", None)])
                except Exception:
                    log.exception("unexpected error during a turn")
                    return Replies([self._apology("error.internal", None)])
            return Replies([self._apology("error.conflict", None)])

    def _apology(self, key: str, language: str | None) -> Reply:
        return Reply(key=key, text=self.engine.catalog.text(language, key), kind=ReplyKind.ERROR)

    async def _turn(
        self,
        key: ConversationKey,
        step: Step,
        locale: _Locale,
        keep: _Keep | None = None,
        progress: Progress | None = None,
    ) -> Replies:
        stored = self.store.load_conversation(key)
        state = self._state_of(stored.state if stored else None, key)
        version = stored.version if stored else None
        context = await self._context(key.user, locale)
        result = step(state, context)
        if result.duplicate:
            return Replies()  # a platform retry of a delivery already processed and saved (X2)
        replies = list(result.replies)
        state = result.state
        pending = _Pending()
        queue: list[Effect] = list(result.effects)
        handled = 0
        while queue and handled < MAX_EVENTS_PER_TURN:
            effect = queue.pop(0)
            handled += 1
            if isinstance(effect, SavePreferences):
                pending.preferences = effect.preferences
                continue
            if isinstance(effect, SIDE_EFFECTS):
                version, saved = self._claim(key, state, version, pending)
                if not saved:
                    outcome = self.engine.on_event(state, PreferencesNotSaved(), context)
                    replies.extend(outcome.replies)
            event = await awaiting(
                self._perform(effect, key, context, pending),
                progress,
                self.progress_after,
                partial(progress_reply, effect, self.engine.catalog, state.language or context.language),
            )
            outcome = self.engine.on_event(state, event, context)
            state = outcome.state
            replies.extend(outcome.replies)
            queue.extend(outcome.effects)
        if keep is not None and replies:
            pending.outbox = OutboundRecord(
                key=key,
                delivery_id=keep.delivery_id,
                payload={
                    "address": keep.outbox.address,
                    "language": state.language,
                    "replies": replies_to_json(replies),
                },
                owner=keep.outbox.owner,
            )
        if handled and any(isinstance(e, SIDE_EFFECTS) for e in result.effects):
            self._commit_outcome(key, state, version, pending)
        else:
            self._commit(key, state, version, pending)
        return Replies(replies, state.language)

    def view(self, key: ConversationKey) -> ConversationView | None:
        """The conversation as a channel may read it; None when there is none yet."""
        stored = self.store.load_conversation(key)
        return view_of(self._state_of(stored.state, key)) if stored is not None else None

    def preferences(self, email: str) -> SavedPreferences | None:
        """The user's saved preferences, as the flow sees them."""
        return _preferences_of(self.store.load_preferences(email))

    def _state_of(self, saved: dict[str, Any] | None, key: ConversationKey) -> FlowState:
        if saved is None:
            return FlowState(email=key.user)
        try:
            return FlowState.model_validate(saved)
        except ValidationError:
            # A state this version cannot read (an older release, a hand edit): start afresh rather
            # than fail every turn; saved preferences are separate and stay intact.
            log.warning("unreadable conversation state; starting a new conversation")
            return FlowState(email=key.user)

    async def _context(self, email: str, locale: _Locale) -> TurnContext:
        profile: UserProfile | None = None
        error: FailureReason | None = None
        error_tracking_id = ""
        authorize_url = ""
        try:
            profile = await self.backend.get_profile(email)
        except UnknownUser:
            error = FailureReason.USER_NOT_FOUND
        except AuthorizationRequired as required:
            error, authorize_url = required.reason, required.authorize_url
        except ContactCenterError as failure:
            error, error_tracking_id = failure.reason, failure.tracking_id
        except Exception:
            log.exception("profile read failed")
            error = FailureReason.UNKNOWN
        record = self.store.load_preferences(email)
        return TurnContext(
            profile=profile,
            preferences=_preferences_of(record),
            profile_error=error,
            profile_error_tracking_id=error_tracking_id,
            authorize_url=authorize_url,
            locale=locale.locale,
            language=locale.language,
            in_flight_grace=self.in_flight_grace,
        )

    # --- commits -----------------------------------------------------------------------------------

    def _claim(
        self, key: ConversationKey, state: FlowState, version: int | None, pending: _Pending
    ) -> tuple[int, bool]:
        """Record the intent before calling the contact center (with the preferences, which are saved
        whether or not the sign-in then works, S6). Returns the new version and whether the
        preferences were saved: if they cannot be, the sign-in goes on and the user is told (S11)."""
        try:
            new_version = self._commit(key, state, version, pending)
            return new_version, True
        except StorageError:
            if pending.preferences is None:
                raise
            log.exception("saving preferences failed; going on without them")
            pending.preferences = None
            return self._commit(key, state, version, pending), False

    def _commit_outcome(
        self, key: ConversationKey, state: FlowState, version: int | None, pending: _Pending
    ) -> None:
        """The outcome of a contact-center call is recorded whatever happened meanwhile: this turn
        owns the call it claimed, and a turn that ran in between could only say "still working".
        That turn's delivery id is kept, so that a platform retry of it stays a duplicate (X2)."""
        for _ in range(MAX_CONFLICT_RETRIES):
            try:
                self._commit(key, state, version, pending)
                return
            except VersionConflict:
                latest = self.store.load_conversation(key)
                version = latest.version if latest else None
                if latest is not None:
                    seen = self._state_of(latest.state, key).deliveries
                    merged = [*seen, *(d for d in state.deliveries if d not in seen)]
                    state = state.model_copy(update={"deliveries": merged[-MAX_DELIVERIES_KEPT:]})
        raise StorageError("could not record the outcome of a contact-center call")

    def _commit(self, key: ConversationKey, state: FlowState, version: int | None, pending: _Pending) -> int:
        new_version = self.store.commit_turn(
            key=key,
            state=state.model_dump(mode="json"),
            step=state.step.value if state.step else None,
            language=state.language,
            expected_version=version,
            preferences=_record_of(key.user, pending.preferences) if pending.preferences else None,
            attempts=pending.attempts,
            session=pending.session,
            outbox=pending.outbox,
        )
        record_signins(pending.attempts)
        pending.preferences = None
        pending.attempts = []
        pending.session = KEEP
        pending.outbox = None
        return new_version

    # --- effects -----------------------------------------------------------------------------------

    async def _perform(
        self, effect: Effect, key: ConversationKey, context: TurnContext, pending: _Pending
    ) -> Event:
        if isinstance(effect, Troubleshoot | FailureReport):
            # Read-only, and for a requester the contact center may not know (an administrator
            # listed in LOGINBOT_ADMINS): no profile needed; T9 is decided by the Troubleshooter.
            return await answer(self.troubleshooter, key.user, effect)
        profile = context.profile
        if profile is None:
            reason = context.profile_error or FailureReason.USER_NOT_FOUND
            return ActionFailed(effect, reason, context.profile_error_tracking_id)
        try:
            return await self._call(effect, key, profile, pending)
        except ContactCenterError as failure:
            log.info(
                "%s failed: %s (tracking id %s)", type(effect).__name__, failure.reason, failure.tracking_id
            )
            if isinstance(effect, SubmitLogin):
                pending.attempts.append(self._attempt(key, effect, failure.reason.value, failure.tracking_id))
            if failure.reason is FailureReason.NOT_LOGGED_IN and isinstance(effect, SignOut):
                pending.session = None
            url = failure.authorize_url if isinstance(failure, AuthorizationRequired) else ""
            return ActionFailed(effect, failure.reason, failure.tracking_id, url)
        except Exception:
            log.exception("%s raised", type(effect).__name__)
            if isinstance(effect, SubmitLogin):
                pending.attempts.append(self._attempt(key, effect, FailureReason.UNKNOWN.value, ""))
            return ActionFailed(effect, FailureReason.UNKNOWN)

    async def _call(
        self, effect: Effect, key: ConversationKey, profile: UserProfile, pending: _Pending
    ) -> Event:
        now = datetime.now(UTC)
        if isinstance(effect, CheckSession):
            session = await self.backend.get_session(profile)
            if effect.interrupted is not None:
                # The sign-in of a turn that died: its attempt, with the outcome found now. No
                # session means it did not go through (or its result was lost on the way).
                reason = None if session is not None else FailureReason.CONNECTION_LOST.value
                tracking_id = session.tracking_id if session is not None else ""
                pending.attempts.append(self._attempt(key, effect.interrupted, reason, tracking_id))
            if effect.reconcile and session is not None:  # the interrupted call went through: ours (X2)
                pending.session = ActiveSessionRecord(profile.email, key, session.session_id, now)
                return SessionChecked(session, held_here=True)
            holder = self.store.active_session(profile.email) if session else None
            return SessionChecked(session, held_here=holder is not None and tuple(holder.key) == tuple(key))
        if isinstance(effect, SubmitLogin):
            started = now
            log.info("station login for %s on %s", profile.user_id, mask(effect.request.dial_number))
            outcome = await self.backend.station_login(profile, effect.request, take_over=effect.take_over)
            pending.attempts.append(self._attempt(key, effect, None, outcome.tracking_id, started))
            if outcome.session is not None:
                pending.session = ActiveSessionRecord(profile.email, key, outcome.session.session_id, now)
            return ActionSucceeded(effect, outcome.tracking_id, outcome.session)
        if isinstance(effect, TakeOver):
            outcome = await self.backend.take_over(profile)
            if outcome.session is not None:
                pending.session = ActiveSessionRecord(profile.email, key, outcome.session.session_id, now)
            return ActionSucceeded(effect, outcome.tracking_id, outcome.session)
        if isinstance(effect, SignOut):
            session = await self.backend.get_session(profile)
            if session is not None and not (session.in_interaction or session.in_wrap_up):
                # The desktop asks agents to go Idle before signing out (S13).
                await self.backend.set_state(profile, Availability.IDLE, _idle_code(profile))
            outcome = await self.backend.logout(profile)
            pending.session = None
            return ActionSucceeded(effect, outcome.tracking_id, None)
        if isinstance(effect, SetAvailability):
            outcome = await self.backend.set_state(profile, effect.state, effect.idle_code_id)
            return ActionSucceeded(effect, outcome.tracking_id, outcome.session)
        raise TypeError(f"no handler for {effect!r}")

    def _attempt(
        self,
        key: ConversationKey,
        effect: SubmitLogin,
        reason: str | None,
        tracking_id: str,
        started: datetime | None = None,
    ) -> AttemptRecord:
        finished = datetime.now(UTC)
        started = started or finished
        request = effect.request
        return AttemptRecord(
            email=key.user,
            channel=key.channel,
            outcome="failure" if reason else "success",
            started_at=started,
            finished_at=finished,
            reason=reason,
            tracking_id=tracking_id or None,
            role=request.role.value,
            call_preference=request.call_preference.value if request.call_preference else None,
            dial_number=request.dial_number or None,
            team_id=request.team_id,
            automatic=effect.automatic,
            duration_ms=int((finished - started).total_seconds() * 1000),
        )


def _in_language(language: str | None, step: Step) -> Step:
    """Added for the Rasa action server: run `step` with the language the channel determined."""
    if language is None:
        return step
    return lambda state, context: step(state.model_copy(update={"language": language}), context)


def _idle_code(profile: UserProfile) -> str | None:
    return profile.idle_codes[0].id if profile.idle_codes else None


def _preferences_of(record: PreferencesRecord | None) -> SavedPreferences | None:
    if record is None:
        return None
    try:
        return SavedPreferences.model_validate(
            {
                "role": record.role,
                "call_preference": record.call_preference,
                "extension": record.extension,
                "dial_number": record.dial_number,
                "country_code": record.country_code,
                "team_id": record.team_id,
                "auto_login": record.auto_login,
                "language": record.language,
            }
        )
    except ValidationError:
        log.warning("saved preferences hold values this version does not know; ignoring them")
        return None


def _record_of(email: str, preferences: SavedPreferences) -> PreferencesRecord:
    return PreferencesRecord(
        email=email,
        role=preferences.role.value if preferences.role else None,
        call_preference=preferences.call_preference.value if preferences.call_preference else None,
        extension=preferences.extension,
        dial_number=preferences.dial_number,
        country_code=preferences.country_code,
        team_id=preferences.team_id,
        auto_login=preferences.auto_login,
        language=preferences.language,
    )
