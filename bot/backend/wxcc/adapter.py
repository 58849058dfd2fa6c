"""`WxccBackend`: the `ContactCenter` port over the real Webex Contact Center API.

Each port call acts with the user's own OAuth token (`oauth.OAuth`); configuration reads are plain
REST, runtime calls answer 202 and deliver their outcome on the user's notification websocket
(`notifications.NotificationChannel`), and `mapping` turns JSON into the port's types.

The one rule that matters most (X2): a runtime call whose outcome is unknown (no notification in
time, the socket dropped, a 5xx or a lost connection after the request may have left) is never sent
again. `reload` is asked what the session now is, and the call succeeds or fails on that answer,
with the reason explained (TIMEOUT, CONNECTION_LOST, SERVICE_ERROR) and the tracking id.

Event loops: HTTP connections and websockets belong to the loop that opened them. The adapter keeps
them in a per-loop `_Runtime`; called from another loop (tests running each call in `asyncio.run`)
it starts a fresh one instead of touching the old loop's sockets.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import httpx
from websockets.exceptions import WebSocketException

from bot.backend.port import (
    Availability,
    BackendUnavailable,
    CallPreference,
    ContactCenterError,
    FailureReason,
    LoginFailed,
    LoginRequest,
    LogoutRefused,
    Notification,
    NotificationListener,
    Outcome,
    StateChangeFailed,
    StationSession,
    UnknownUser,
    UserProfile,
)
from bot.backend.wxcc import mapping
from bot.backend.wxcc.config import DEFAULT_REDIRECT_URI, WxccConfig
from bot.backend.wxcc.notifications import ChannelLost, Message, NotificationChannel, tracking_id_of
from bot.backend.wxcc.oauth import OAuth, TokenStore, normalize_email
from bot.backend.wxcc.rest import ApiError, NetworkError, RestClient, TokenSource, new_tracking_id
from bot.backend.wxcc.transport import AiohttpTransport
from bot.flow.numbers import mask
from bot.secrets import Cipher, SecretKeyError, check_key, check_strength

if TYPE_CHECKING:
    from bot.settings import Settings

log = logging.getLogger(__name__)

_PAGE_SIZE = 100
_MAX_PAGES = 50
PEOPLE_LIMIT = 100  # people one name search returns (Webex: `max`, 1-1000): a name, not a listing


class _Refused(Exception):
    """The service certainly did not act (4xx, or the request never left)."""

    def __init__(self, error: ContactCenterError) -> None:
        super().__init__(str(error))
        self.error = error


class _Unknown(Exception):
    """The request may have been acted on; only `reload` can tell."""

    def __init__(self, reason: FailureReason, tracking_id: str) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.tracking_id = tracking_id


@dataclass
class _Runtime:
    """What belongs to one event loop: the HTTP client and the users' notification channels."""

    loop: asyncio.AbstractEventLoop
    http: httpx.AsyncClient
    owns_http: bool
    rest: RestClient
    channels: dict[str, NotificationChannel] = field(default_factory=dict)
    # Organization-wide configuration (agent profiles, dial plans, idle codes): the same for every
    # user, read once per `profile_cache_seconds` for all of them; (expiry, the read in progress).
    shared: dict[str, tuple[float, asyncio.Future[Any]]] = field(default_factory=dict)


@dataclass(frozen=True)
class _CachedProfile:
    profile: UserProfile
    default_idle_code: str | None
    until: float


def _service_error(error: ApiError | NetworkError) -> ContactCenterError:
    """A failed HTTP exchange as the port's exception (the service did not act on these)."""
    if isinstance(error, NetworkError):
        return BackendUnavailable(
            FailureReason.CONNECTION_LOST, error.tracking_id, "the service is unreachable"
        )
    return BackendUnavailable(
        mapping.reason_for_status(error.status),
        error.tracking_id,
        f"the service answered HTTP {error.status}",
    )


class WxccBackend:
    """The real-API adapter; see the module docstring for the rules it keeps."""

    def __init__(self, config: WxccConfig, *, tokens: OAuth, http: httpx.AsyncClient | None = None) -> None:
        self.config = config
        self.oauth = tokens
        self._http = http
        self._runtime: _Runtime | None = None
        self._listeners: list[NotificationListener] = []
        self._profiles: dict[str, _CachedProfile] = {}

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        store: TokenStore,
        redirect_uri: str = DEFAULT_REDIRECT_URI,
        http: httpx.AsyncClient | None = None,
    ) -> WxccBackend:
        """The adapter for `LOGINBOT_BACKEND=wxcc`: WXCC_* settings, tokens in `store` encrypted with
        `LOGINBOT_SECRET_KEY` (required: tokens are never stored in clear)."""
        if settings.secret_key is None or not settings.secret_key.get_secret_value().strip():
            raise ValueError("LOGINBOT_SECRET_KEY must be set to use the wxcc backend (tokens are encrypted)")
        if not (settings.wxcc_org_id and settings.wxcc_client_id and settings.wxcc_client_secret):
            raise ValueError(
                "WXCC_ORG_ID, WXCC_CLIENT_ID and WXCC_CLIENT_SECRET must be set for the wxcc backend"
            )
        config = WxccConfig(
            api_url=settings.wxcc_api_url,
            org_id=settings.wxcc_org_id,
            client_id=settings.wxcc_client_id,
            client_secret=settings.wxcc_client_secret.get_secret_value(),
            oauth_url=settings.wxcc_oauth_url,
            redirect_uri=redirect_uri,
            max_connections=settings.wxcc_max_connections,
        )
        try:
            key = settings.secret_key.get_secret_value()
            old = settings.old_secret_key.get_secret_value() if settings.old_secret_key else ""
            check_strength(key)
            cipher = Cipher(key, old)
            check_key(store, cipher)
        except SecretKeyError as error:
            raise ValueError(str(error)) from None
        return cls(config, tokens=OAuth(config, store=store, cipher=cipher), http=http)

    # -- plumbing -----------------------------------------------------------------------------------

    def _rt(self) -> _Runtime:
        loop = asyncio.get_running_loop()
        if self._runtime is None or self._runtime.loop is not loop:
            # Idle connections are dropped before a server is likely to drop them (uvicorn: 5 s): a
            # request sent on a connection the server is closing fails, and a login cannot be re-sent.
            # The wire is aiohttp's (`transport.py`): httpcore's pool cost ~1 ms of CPU per call.
            http = self._http or httpx.AsyncClient(
                timeout=self.config.http_timeout_seconds,
                transport=AiohttpTransport(max_connections=self.config.max_connections, keepalive_expiry=2.0),
            )
            self._runtime = _Runtime(loop, http, self._http is None, RestClient(http, self.config))
        return self._runtime

    def _token(self, email: str) -> TokenSource:
        return self.oauth.token_source(email, self._rt().http)

    def _api(self, path: str) -> str:
        return f"{self.config.api_url.rstrip('/')}{path}"

    def _config_url(self, path: str) -> str:
        return self._api(f"/organization/{self.config.org_id}{path}")

    async def _get(self, email: str, url: str, params: Mapping[str, Any] | None = None) -> tuple[Any, str]:
        response = await self._rt().rest.call(
            "GET", url, token=self._token(email), params=params, idempotent=True
        )
        return response.body, response.tracking_id

    async def _get_all(self, email: str, path: str, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every item of a paged `{meta, data}` listing."""
        items: list[Any] = []
        for page in range(_MAX_PAGES):
            body, _ = await self._get(
                email, self._config_url(path), {**(params or {}), "page": page, "pageSize": _PAGE_SIZE}
            )
            data = body.get("data", []) if isinstance(body, dict) else body or []
            items.extend(item for item in data if isinstance(item, dict))
            meta = body.get("meta", {}) if isinstance(body, dict) else {}
            total_pages = meta.get("totalPages") if isinstance(meta, dict) else None
            if not isinstance(total_pages, int) or page + 1 >= total_pages or not data:
                break
        return items

    async def _shared(self, email: str, key: str, read: Callable[[str], Awaitable[Any]]) -> Any:
        """Organization-wide configuration, read with the first asker's token and shared for
        `profile_cache_seconds` (users signing in together wait for the one read in progress: a
        1,000-user storm made 3,000 identical reads otherwise). A failed shared read is not shared:
        each user then reads with their own token, so nobody gets another user's error."""
        runtime = self._rt()
        now = time.monotonic()
        entry = runtime.shared.get(key)
        if entry is not None and entry[0] > now:
            try:
                return await asyncio.shield(entry[1])
            except Exception:
                return await read(email)
        future: asyncio.Future[Any] = asyncio.ensure_future(read(email))
        runtime.shared[key] = (now + self.config.profile_cache_seconds, future)
        try:
            return await asyncio.shield(future)
        except BaseException:
            if runtime.shared.get(key, (0.0, None))[1] is future:
                del runtime.shared[key]
            raise

    # -- profile ------------------------------------------------------------------------------------

    async def get_profile(self, email: str) -> UserProfile:
        key = normalize_email(email)
        cached = self._profiles.get(key)
        if cached is not None and cached.until > time.monotonic():
            return cached.profile
        try:
            profile, default_code = await self._read_profile(key)
        except ApiError as error:
            if error.status == 404:
                raise UnknownUser(email.strip(), error.tracking_id) from None
            raise _service_error(error) from None
        except NetworkError as error:
            raise _service_error(error) from None
        self._profiles[key] = _CachedProfile(
            profile, default_code, time.monotonic() + self.config.profile_cache_seconds
        )
        return profile

    async def people_named(self, requester: str, prefix: str) -> list[tuple[str, str]]:
        """People of the organization whose name starts with `prefix`, as `requester` may see them
        (Webex's `GET people?displayName=`, which matches display, first and last names, with the
        requester's token: `spark:people_read`): (email, display name) pairs, at most
        `PEOPLE_LIMIT`. AuthorizationRequired when the requester never authorized loginbot;
        BackendUnavailable when the service cannot answer."""
        url = f"{self.config.oauth_url.rstrip('/')}/people"
        try:
            body, _ = await self._get(
                normalize_email(requester), url, {"displayName": prefix, "max": PEOPLE_LIMIT}
            )
        except (ApiError, NetworkError) as error:
            raise _service_error(error) from None
        items = body.get("items") if isinstance(body, dict) else None
        found: list[tuple[str, str]] = []
        for item in items if isinstance(items, list) else []:
            emails = item.get("emails") if isinstance(item, dict) else None
            if isinstance(emails, list) and emails and isinstance(emails[0], str):
                found.append((emails[0], str(item.get("displayName") or emails[0])))
        return found

    async def _read_profile(self, email: str) -> tuple[UserProfile, str | None]:
        me, _ = await self._get(email, f"{self.config.oauth_url.rstrip('/')}/people/me")
        ci_user_id = str(me.get("id", ""))
        user, _ = await self._get(email, self._config_url(f"/v2/user/by-ci-user-id/{ci_user_id}"))
        if not isinstance(user, dict):
            raise ApiError(404, new_tracking_id())
        profile_url = self._config_url(f"/agent-profile/{user.get('agentProfileId')}")

        async def read_profile(who: str) -> Any:
            return (await self._get(who, profile_url))[0]

        def listing(path: str) -> Callable[[str], Awaitable[list[Any]]]:
            return lambda who: self._get_all(who, path)

        agent_profile = await self._shared(email, profile_url, read_profile)
        team_ids = [str(t) for t in user.get("teamIds") or []]
        team_filter = {"filter": "id=in=({})".format(",".join(f'"{t}"' for t in team_ids))}
        teams, plans, codes = await asyncio.gather(
            self._get_all(email, "/v2/team", team_filter) if team_ids else _nothing(),
            self._shared(email, "/v2/dial-plan", listing("/v2/dial-plan"))
            if agent_profile.get("dialPlanEnabled")
            else _nothing(),
            self._shared(email, "/v2/auxiliary-code", listing("/v2/auxiliary-code")),
        )
        profile = mapping.user_profile(
            me=me, user=user, agent_profile=agent_profile, teams=teams, dial_plans=plans, aux_codes=codes
        )
        return profile, mapping.default_idle_code(agent_profile, codes)

    # -- runtime calls ------------------------------------------------------------------------------

    async def _channel(self, email: str, *, force: bool = False) -> NotificationChannel:
        runtime = self._rt()
        channel = runtime.channels.get(email)
        if channel is None:
            channel = NotificationChannel(
                rest=runtime.rest,
                config=self.config,
                token=self._token(email),
                label=email,
                on_multi_login=lambda message: self._multi_login(email, message),
            )
            runtime.channels[email] = channel
        try:
            await channel.ensure(force=force)
        except (ApiError, NetworkError) as error:
            raise _Refused(_service_error(error)) from None
        except (OSError, TimeoutError, WebSocketException, ChannelLost) as error:
            log.warning("notifications for %s unavailable: %s", email, type(error).__name__)
            raise _Refused(
                BackendUnavailable(FailureReason.CONNECTION_LOST, "", "the notification channel cannot open")
            ) from None
        return channel

    async def _runtime_call(
        self,
        email: str,
        method: str,
        path: str,
        body: Mapping[str, Any] | None,
        *,
        force: bool = False,
        idempotent: bool = False,
    ) -> tuple[str, Message]:
        """Send one runtime request and wait for its notification: (service tracking id, message).

        Raises `_Refused` when the service surely did not act, `_Unknown` when it may have.
        """
        channel = await self._channel(email, force=force)
        tid = new_tracking_id()
        waiter = channel.expect(tid)
        try:
            try:
                response = await self._rt().rest.call(
                    method,
                    self._api(path),
                    token=self._token(email),
                    json=body,
                    tracking_id=tid,
                    idempotent=idempotent,
                )
            except BaseException:  # also AuthorizationRequired (the token is gone), cancellation
                channel.forget(tid)
                raise
        except ApiError as error:
            if error.status >= 500:
                raise _Unknown(FailureReason.SERVICE_ERROR, error.tracking_id) from None
            raise _Refused(_service_error(error)) from None
        except NetworkError as error:
            if error.maybe_sent:
                raise _Unknown(FailureReason.CONNECTION_LOST, error.tracking_id) from None
            raise _Refused(_service_error(error)) from None
        service_tid = response.tracking_id
        channel.rekey(tid, service_tid)
        try:
            message = await asyncio.wait_for(waiter, self.config.timeout_seconds)
        except TimeoutError:
            channel.forget(tid, service_tid)
            log.warning(
                "%s %s: no result within %.0f s, tracking id %s",
                method,
                path,
                self.config.timeout_seconds,
                service_tid,
            )
            raise _Unknown(FailureReason.TIMEOUT, service_tid) from None
        except ChannelLost:
            log.warning("%s %s: notifications lost while waiting, tracking id %s", method, path, service_tid)
            raise _Unknown(FailureReason.CONNECTION_LOST, service_tid) from None
        return tracking_id_of(message) or service_tid, message

    async def _reload(self, user: UserProfile) -> tuple[str, StationSession | None]:
        """The user's session as the service sees it (`POST /v1/agents/reload`), asked a few times."""
        email = normalize_email(user.email)
        last: _Unknown | None = None
        for _ in range(max(1, self.config.read_attempts)):
            try:
                tid, message = await self._runtime_call(
                    email, "POST", "/v1/agents/reload", None, idempotent=True
                )
            except _Unknown as unknown:
                last = unknown
                continue
            data = message.get("data") or {}
            if data.get("type") == "AgentReloginSuccess":
                return tid, mapping.station_session(data)
            reason = mapping.reason_for_name(data.get("reason"))
            if reason in (FailureReason.AGENT_NOT_FOUND, FailureReason.NOT_LOGGED_IN):
                return tid, None
            raise _Refused(BackendUnavailable(reason, tid, "reload failed"))
        assert last is not None
        raise _Refused(
            BackendUnavailable(
                last.reason, last.tracking_id, "the service did not say whether a session exists"
            )
        )

    async def get_session(self, user: UserProfile) -> StationSession | None:
        try:
            return (await self._reload(user))[1]
        except _Refused as refused:
            raise refused.error from None

    async def _settle(self, user: UserProfile, unknown: _Unknown) -> StationSession | None:
        """After an unknown outcome: what `reload` says now (never a second attempt of the call)."""
        log.info(
            "outcome unknown (%s, tracking id %s): asking reload", unknown.reason.value, unknown.tracking_id
        )
        try:
            return (await self._reload(user))[1]
        except _Refused as refused:
            raise BackendUnavailable(
                unknown.reason, unknown.tracking_id, "the outcome is unknown and reload did not answer"
            ) from refused

    async def station_login(
        self, user: UserProfile, request: LoginRequest, *, take_over: bool = False
    ) -> Outcome:
        email = normalize_email(user.email)
        body = request.api_body(user.user_id)
        log.info(
            "station login for %s: %s %s %s team=%s take_over=%s",
            email,
            request.role.value,
            request.device_type,
            mask(request.dial_number) if request.dial_number else "-",
            request.team_id or "-",
            take_over,
        )
        try:
            tid, message = await self._runtime_call(email, "POST", "/v1/agents/login", body, force=take_over)
        except _Refused as refused:
            raise _as(LoginFailed, refused.error) from None
        except _Unknown as unknown:
            session = await self._settle(user, unknown)
            if session is not None and _is_this_login(session, request, unknown.tracking_id):
                log.info("login confirmed by reload, tracking id %s", unknown.tracking_id)
                return Outcome(unknown.tracking_id, session)
            raise BackendUnavailable(
                unknown.reason,
                unknown.tracking_id,
                "the station login was not confirmed and no such session exists",
            ) from None
        data = message.get("data") or {}
        if data.get("type") == "AgentStationLoginSuccess":
            return Outcome(tid, mapping.station_session(data))
        reason = mapping.reason_for_name(data.get("reason"))
        log.info("station login refused for %s: %s, tracking id %s", email, reason.value, tid)
        raise LoginFailed(reason, tid, str(data.get("reason") or "login refused"))

    async def take_over(self, user: UserProfile) -> Outcome:
        """Continue here (S12): a forced subscription closes the other place's sockets; reload reads it."""
        email = normalize_email(user.email)
        try:
            await self._channel(email, force=True)
            tid, session = await self._reload(user)
        except _Refused as refused:
            raise _as(LoginFailed, refused.error) from None
        if session is None:
            raise LoginFailed(FailureReason.NOT_LOGGED_IN, tid, "no session to take over")
        return Outcome(tid, session)

    async def set_state(
        self, user: UserProfile, state: Availability, idle_code_id: str | None = None
    ) -> Outcome:
        email = normalize_email(user.email)
        code = (
            mapping.AVAILABLE_AUX_CODE
            if state is Availability.AVAILABLE
            else idle_code_id or self._default_idle(user)
        )
        body = {"state": state.value, "auxCodeId": code, "agentId": user.user_id}
        try:
            tid, message = await self._runtime_call(email, "PUT", "/v1/agents/session/state", body)
        except _Refused as refused:
            raise _as(StateChangeFailed, refused.error) from None
        except _Unknown as unknown:
            session = await self._settle(user, unknown)
            if (
                session is not None
                and session.state is state
                and (state is Availability.AVAILABLE or session.idle_code == code)
            ):
                return Outcome(unknown.tracking_id, session)
            raise BackendUnavailable(
                unknown.reason, unknown.tracking_id, "the state change was not confirmed"
            ) from None
        data = message.get("data") or {}
        if data.get("type") != "AgentStateChangeSuccess":
            reason = _session_reason(data.get("reason"))
            raise StateChangeFailed(reason, tid, str(data.get("reason") or "state change refused"))
        return Outcome(tid, await self._session_after(user, data))

    async def logout(self, user: UserProfile, reason: str = "Signed out from loginbot") -> Outcome:
        email = normalize_email(user.email)
        body = {"logoutReason": reason, "agentId": user.user_id}
        try:
            tid, message = await self._runtime_call(email, "PUT", "/v1/agents/logout", body)
        except _Refused as refused:
            raise _as(LogoutRefused, refused.error) from None
        except _Unknown as unknown:
            if await self._settle(user, unknown) is None:
                return Outcome(unknown.tracking_id, None)
            raise BackendUnavailable(
                unknown.reason, unknown.tracking_id, "the sign-out was not confirmed"
            ) from None
        data = message.get("data") or {}
        if data.get("type") != "AgentLogoutSuccess":
            why = _session_reason(data.get("reason"))
            raise LogoutRefused(why, tid, str(data.get("reason") or "sign-out refused"))
        return Outcome(tid, None)

    async def _session_after(self, user: UserProfile, data: Mapping[str, Any]) -> StationSession | None:
        """The session after a change: from the payload when it is complete, else from reload."""
        if data.get("agentSessionId") and data.get("deviceType"):
            return mapping.station_session(data)
        try:
            return (await self._reload(user))[1]
        except _Refused:
            return None

    def _default_idle(self, user: UserProfile) -> str:
        cached = self._profiles.get(normalize_email(user.email))
        if cached is not None and cached.default_idle_code:
            return cached.default_idle_code
        return user.idle_codes[0].id if user.idle_codes else mapping.AVAILABLE_AUX_CODE

    # -- notifications and lifetime -----------------------------------------------------------------

    def add_listener(self, listener: NotificationListener) -> None:
        self._listeners.append(listener)

    def _multi_login(self, email: str, message: Message) -> None:
        data = message.get("data") if isinstance(message.get("data"), dict) else {}
        notification = Notification(
            kind="AGENT_MULTI_LOGIN",
            user_id=str((data or {}).get("agentId", "")),
            email=email,
            tracking_id=tracking_id_of(message),
            data=dict(data or {}),
        )
        for listener in list(self._listeners):
            try:
                listener(notification)
            except Exception:
                log.exception("a notification listener failed")

    async def aclose(self) -> None:
        runtime, self._runtime = self._runtime, None
        if runtime is None:
            return
        try:
            same_loop = runtime.loop is asyncio.get_running_loop()
        except RuntimeError:
            same_loop = False
        if not same_loop:
            return  # that loop's sockets cannot be closed from here; they die with it
        for channel in runtime.channels.values():
            await channel.close()
        if runtime.owns_http:
            await runtime.http.aclose()


async def _nothing() -> list[Any]:
    return []


def _as(kind: type[ContactCenterError], error: ContactCenterError) -> ContactCenterError:
    """Failures the service reports for a call keep the call's exception type; outages stay outages."""
    if isinstance(error, BackendUnavailable) and error.reason is not FailureReason.BAD_REQUEST:
        return error
    if type(error) is kind:
        return error
    return kind(error.reason, error.tracking_id, error.detail)


def _session_reason(name: object) -> FailureReason:
    reason = mapping.reason_for_name(name)
    return FailureReason.NOT_LOGGED_IN if reason is FailureReason.AGENT_NOT_FOUND else reason


def _is_this_login(session: StationSession, request: LoginRequest, tracking_id: str) -> bool:
    """Whether the session reload found is the one this login asked for."""
    if session.tracking_id and session.tracking_id == tracking_id:
        return True
    browser = request.call_preference in (CallPreference.DESKTOP, None)
    number_matches = browser or session.dial_number.replace(" ", "") == request.dial_number.replace(" ", "")
    return (
        session.role is request.role
        and session.call_preference is request.call_preference
        and number_matches
        and session.team_id == ((request.team_id or "").strip() or None)
    )
