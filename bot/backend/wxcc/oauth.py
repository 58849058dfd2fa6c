"""OAuth 2.0 (authorization code + PKCE S256) for the Webex Contact Center, one token set per user.

Why per user: the runtime API acts as the token's own user (the login body has no agent id), so each
agent and supervisor authorizes loginbot once in a browser. Their tokens are stored encrypted
(`bot.secrets.Cipher`) through the `Store`; the PKCE verifier of an authorization in progress too,
keyed by the random `state`, so that any process may complete it and a state works once only.

Lifecycle:

* `authorize_url(email)` starts an authorization (state, PKCE S256 challenge, `login_hint`).
* `complete_authorization(code, state)` is what an HTTP callback route calls: it takes the pending
  state (single use, expiry checked), exchanges the code with the verifier, checks with
  `GET people/me` that the token belongs to the email that started it, and stores the tokens.
* `access_token(email)` returns a usable token, refreshing it shortly before expiry (or when the
  REST layer saw a 401). A refresh the service refuses (revoked, expired) deletes the tokens and
  raises `AuthorizationRequired` with a fresh authorize URL. No token at all raises the same.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import logging
import secrets as random
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlencode

import httpx

from bot.backend.port import AuthorizationRequired, BackendUnavailable, FailureReason
from bot.backend.wxcc.config import WxccConfig
from bot.backend.wxcc.rest import TokenSource, new_tracking_id
from bot.secrets import Cipher, SecretKeyError
from storage.records import PendingAuthorizationRecord, TokenRecord

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


class TokenStore(Protocol):
    """The `Store` methods this module uses (ciphertext in, ciphertext out)."""

    def save_tokens(
        self,
        *,
        email: str,
        access_token_encrypted: str,
        refresh_token_encrypted: str | None,
        expires_at: datetime,
        scopes: str = "",
    ) -> None: ...

    def load_tokens(self, *, email: str) -> TokenRecord | None: ...

    def delete_tokens(self, *, email: str) -> bool: ...

    def save_pending_authorization(self, record: PendingAuthorizationRecord) -> None: ...

    def take_pending_authorization(self, *, state: str) -> PendingAuthorizationRecord | None: ...

    def load_key_check(self, name: str = ...) -> str | None: ...

    def save_key_check(self, value: str, name: str = ...) -> None: ...


class AuthorizationError(Exception):
    """The browser's callback cannot complete an authorization; the message is safe to show."""


@dataclass(frozen=True)
class TokenSet:
    access_token: str
    refresh_token: str | None
    expires_at: datetime
    scopes: str = ""

    def __repr__(self) -> str:  # never print a token, even by accident
        return f"TokenSet(expires_at={self.expires_at.isoformat()}, scopes={self.scopes!r})"


def normalize_email(email: str) -> str:
    return email.strip().lower()


def pkce_pair() -> tuple[str, str]:
    """A PKCE verifier (43+ characters of the unreserved set) and its S256 challenge (RFC 7636)."""
    verifier = random.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _utcnow() -> datetime:
    return datetime.now(UTC)


class OAuth:
    """Authorizations and tokens for every user of one contact-center client id."""

    def __init__(
        self, config: WxccConfig, *, store: TokenStore, cipher: Cipher, clock: Clock = _utcnow
    ) -> None:
        self._config = config
        self._store = store
        self._cipher = cipher
        self._clock = clock
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}
        # The tokens this process last read or wrote, decrypted: every REST call asks for one, and a
        # database read plus two decryptions each time cost a 1,000-user storm a tenth of its CPU. A
        # token refreshed or revoked elsewhere is seen at its expiry or at the 401 it causes, when
        # `access_token(force_refresh=True)` reads the store again.
        self._tokens: dict[str, TokenSet] = {}

    @property
    def redirect_uri(self) -> str:
        return self._config.redirect_uri

    # -- starting and completing an authorization ----------------------------------------------------

    def authorize_url(self, email: str, *, redirect_to: str | None = None) -> str:
        """A new authorize link for `email` (valid `authorization_ttl_seconds`, usable once)."""
        verifier, challenge = pkce_pair()
        state = random.token_urlsafe(24)
        self._store.save_pending_authorization(
            PendingAuthorizationRecord(
                state=state,
                email=normalize_email(email),
                verifier_encrypted=self._cipher.encrypt(verifier),
                expires_at=self._clock() + timedelta(seconds=self._config.authorization_ttl_seconds),
                redirect_to=redirect_to,
            )
        )
        query = {
            "client_id": self._config.client_id,
            "response_type": "code",
            "redirect_uri": self._config.redirect_uri,
            "scope": self._config.scope,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
            "login_hint": normalize_email(email),
        }
        return f"{self._config.oauth_url.rstrip('/')}/authorize?{urlencode(query)}"

    def authorization_required(self, email: str, tracking_id: str = "") -> AuthorizationRequired:
        return AuthorizationRequired(self.authorize_url(email), tracking_id)

    async def complete_authorization(
        self, code: str, state: str, *, http: httpx.AsyncClient | None = None
    ) -> tuple[str, str | None]:
        """Finish the authorization `state` started; returns (email, redirect target).

        Raises `AuthorizationError` for an unknown, used or expired state, a refused code, or a
        token that belongs to someone else than the user who started the authorization.
        """
        pending = self._store.take_pending_authorization(state=state)
        if pending is None:
            raise AuthorizationError("this sign-in link is unknown, already used or expired; start again")
        try:
            verifier = self._cipher.decrypt(pending.verifier_encrypted)
        except SecretKeyError as error:
            raise AuthorizationError("this sign-in link can no longer be completed; start again") from error
        async with AsyncExitStack() as stack:
            client = http if http is not None else await stack.enter_async_context(self._client())
            tokens = await self._token_request(
                client,
                {
                    "grant_type": "authorization_code",
                    "code": code,
                    "redirect_uri": self._config.redirect_uri,
                    "code_verifier": verifier,
                },
            )
            if tokens is None:
                raise AuthorizationError("the contact center refused the sign-in; start again")
            owner = await self._token_owner(client, tokens.access_token)
        if pending.email not in owner:
            log.warning("authorization for %s completed by another account: tokens discarded", pending.email)
            raise AuthorizationError(
                "you signed in with another account than the one that asked; start again"
            )
        self._save(pending.email, tokens)
        log.info("authorization completed for %s", pending.email)
        return pending.email, pending.redirect_to

    # -- tokens ------------------------------------------------------------------------------------

    def token_source(self, email: str, http: httpx.AsyncClient) -> TokenSource:
        """The bearer-token callback the REST layer calls for this user."""

        async def bearer(*, force_refresh: bool = False) -> str:
            return await self.access_token(email, http, force_refresh=force_refresh)

        return bearer

    def has_tokens(self, email: str) -> bool:
        return self._store.load_tokens(email=normalize_email(email)) is not None

    def forget(self, email: str) -> None:
        self._delete(normalize_email(email))

    async def access_token(self, email: str, http: httpx.AsyncClient, *, force_refresh: bool = False) -> str:
        """A usable access token; refreshed when close to expiry or when `force_refresh` says it failed."""
        email = normalize_email(email)
        known = self._tokens.get(email)
        if known is not None and not force_refresh and not self._expiring(known):
            return known.access_token
        tokens = self._load(email)
        if not force_refresh and not self._expiring(tokens):
            return tokens.access_token
        seen = tokens.access_token
        async with self._lock(email):
            tokens = self._load(email)  # another task may have refreshed meanwhile
            if tokens.access_token != seen and not self._expiring(tokens):
                return tokens.access_token
            return (await self._refresh(email, tokens, http)).access_token

    def _expiring(self, tokens: TokenSet) -> bool:
        return tokens.expires_at - self._clock() <= timedelta(seconds=self._config.refresh_margin_seconds)

    def _delete(self, email: str) -> None:
        self._tokens.pop(email, None)
        self._store.delete_tokens(email=email)

    def _load(self, email: str) -> TokenSet:
        record = self._store.load_tokens(email=email)
        if record is None:
            self._tokens.pop(email, None)
            raise self.authorization_required(email)
        try:
            access = self._cipher.decrypt(record.access_token_encrypted)
            refresh = (
                self._cipher.decrypt(record.refresh_token_encrypted)
                if record.refresh_token_encrypted
                else None
            )
        except SecretKeyError:
            # Kept: the key check passed at start-up, so this one value is altered or was written with
            # a key no longer listed; a new authorization replaces it, a restored key reads it again.
            log.warning(
                "stored tokens of %s cannot be decrypted: the user is asked to authorize again", email
            )
            self._tokens.pop(email, None)
            raise self.authorization_required(email) from None
        tokens = TokenSet(access, refresh, record.expires_at, record.scopes)
        self._tokens[email] = tokens
        return tokens

    async def _refresh(self, email: str, tokens: TokenSet, http: httpx.AsyncClient) -> TokenSet:
        if tokens.refresh_token is None:
            self._delete(email)
            raise self.authorization_required(email)
        fresh = await self._token_request(
            http, {"grant_type": "refresh_token", "refresh_token": tokens.refresh_token}
        )
        if fresh is None:
            log.info("refresh refused for %s (revoked or expired): tokens deleted", email)
            self._delete(email)
            raise self.authorization_required(email)
        if fresh.refresh_token is None:
            fresh = TokenSet(fresh.access_token, tokens.refresh_token, fresh.expires_at, fresh.scopes)
        self._save(email, fresh)
        log.info("access token refreshed for %s", email)
        return fresh

    def _save(self, email: str, tokens: TokenSet) -> None:
        self._store.save_tokens(
            email=email,
            access_token_encrypted=self._cipher.encrypt(tokens.access_token),
            refresh_token_encrypted=self._cipher.encrypt(tokens.refresh_token)
            if tokens.refresh_token
            else None,
            expires_at=tokens.expires_at,
            scopes=tokens.scopes,
        )
        self._tokens[email] = tokens

    # -- the token endpoint and people/me -----------------------------------------------------------

    def _client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(timeout=self._config.http_timeout_seconds)

    def _lock(self, email: str) -> asyncio.Lock:
        key = (id(asyncio.get_running_loop()), email)
        return self._locks.setdefault(key, asyncio.Lock())

    async def _token_request(self, http: httpx.AsyncClient, form: dict[str, str]) -> TokenSet | None:
        """POST the token endpoint; None when the grant is refused (4xx), `BackendUnavailable` otherwise."""
        tid = new_tracking_id()
        data = {**form, "client_id": self._config.client_id, "client_secret": self._config.client_secret}
        url = f"{self._config.oauth_url.rstrip('/')}/access_token"
        try:
            response = await http.post(
                url,
                data=data,
                headers={"TrackingId": tid, "Accept": "application/json"},
                timeout=self._config.http_timeout_seconds,
            )
        except httpx.HTTPError as error:
            log.warning("token endpoint unreachable (%s), tracking id %s", type(error).__name__, tid)
            raise BackendUnavailable(
                FailureReason.CONNECTION_LOST, tid, "token endpoint unreachable"
            ) from None
        tid = response.headers.get("TrackingID") or tid
        if 400 <= response.status_code < 500 and response.status_code != 429:
            log.info(
                "token endpoint refused a %s grant: HTTP %d, tracking id %s",
                form["grant_type"],
                response.status_code,
                tid,
            )
            return None
        if response.status_code >= 300:
            reason = (
                FailureReason.RATE_LIMITED if response.status_code == 429 else FailureReason.SERVICE_ERROR
            )
            raise BackendUnavailable(reason, tid, f"token endpoint answered HTTP {response.status_code}")
        body: dict[str, Any] = response.json()
        expires_in = float(body.get("expires_in", 3600))
        return TokenSet(
            access_token=str(body["access_token"]),
            refresh_token=str(body["refresh_token"]) if body.get("refresh_token") else None,
            expires_at=self._clock() + timedelta(seconds=expires_in),
            scopes=str(body.get("scope", self._config.scope)),
        )

    async def _token_owner(self, http: httpx.AsyncClient, access_token: str) -> set[str]:
        """The emails of the account a token belongs to (`GET people/me`)."""
        url = f"{self._config.oauth_url.rstrip('/')}/people/me"
        try:
            response = await http.get(
                url,
                headers={"Authorization": f"Bearer {access_token}", "TrackingId": new_tracking_id()},
                timeout=self._config.http_timeout_seconds,
            )
            response.raise_for_status()
            emails = response.json().get("emails") or []
        except (httpx.HTTPError, ValueError, AttributeError) as error:
            raise AuthorizationError("the contact center did not say who signed in; start again") from error
        return {normalize_email(str(email)) for email in emails}
