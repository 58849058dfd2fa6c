"""The simulator's OAuth 2.0 authorization server: Webex's authorization-code grant, in memory.

Rules (the simulator's own where Webex leaves room, all documented in the server's README section):

* One registered client (`client_id`, `client_secret`); `client_id=None` registers every client id
  (any secret), for test rigs that bring their own client credentials.
* Consent is automatic for any user of the tenant; an unknown email is refused (`access_denied`).
* Codes are random, single-use and live `code_ttl_seconds` (default 120 s). A code presented twice
  is refused and the tokens issued from it are revoked (RFC 6749, 4.1.2).
* PKCE: only `S256` (RFC 7636). When the authorization carried a challenge, the token request must
  carry the matching `code_verifier`.
* Access tokens live `token_ttl_seconds` (default 3600 s), refresh tokens
  `refresh_token_ttl_seconds` (default 90 days, as Webex). A refresh returns a new access token and
  the same refresh token (Webex does not rotate them); older access tokens stay valid until expiry.
* Revoking a user (admin endpoint) revokes every access and refresh token of that user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

Clock = Callable[[], float]

KNOWN_SCOPES = frozenset(
    {
        "cjp:user",
        "cjp:config",
        "cjp:config_read",
        "cjp:config_write",
        "spark:people_read",
        "spark:kms",
        "spark-admin:people_read",
        "openid",
        "email",
        "profile",
    }
)
_MAX_CODES = 10_000
_MAX_TOKENS = 100_000


class OAuthError(Exception):
    """An OAuth error response: `error` is the RFC 6749 code, `description` is safe to show."""

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description
        self.status = status


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: tuple[str, ...]
    email: str
    challenge: str | None
    expires_at: float
    used: bool = False
    issued: list[str] = field(default_factory=list)  # tokens issued from it, revoked on reuse


@dataclass
class Grant:
    """What a token stands for: one tenant user, some scopes, until a time."""

    email: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: float
    revoked: bool = False

    def has_scope(self, *any_of: str) -> bool:
        return any(scope in self.scopes for scope in any_of)


@dataclass(frozen=True)
class TokenResponse:
    access_token: str
    expires_in: int
    refresh_token: str
    refresh_token_expires_in: int
    scope: str

    def as_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "refresh_token_expires_in": self.refresh_token_expires_in,
            "token_type": "Bearer",
            "scope": self.scope,
        }


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _seconds(value: float) -> int:
    return max(1, int(value + 0.999))


class AuthorizationServer:
    """Codes and tokens; thread-safe."""

    def __init__(
        self,
        *,
        client_id: str | None,
        client_secret: str | None,
        token_ttl_seconds: float = 3600.0,
        refresh_token_ttl_seconds: float = 90 * 24 * 3600.0,
        code_ttl_seconds: float = 120.0,
        clock: Clock = time.monotonic,
    ) -> None:
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_ttl_seconds = token_ttl_seconds
        self.refresh_token_ttl_seconds = refresh_token_ttl_seconds
        self.code_ttl_seconds = code_ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._codes: dict[str, _Code] = {}
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}

    # -- clients ---------------------------------------------------------------------------------

    def known_client(self, client_id: str) -> bool:
        return bool(client_id) and (self.client_id is None or client_id == self.client_id)

    def check_client(self, client_id: str, client_secret: str) -> None:
        if not self.known_client(client_id):
            raise OAuthError("invalid_client", "unknown client_id", 401)
        if self.client_id is None:
            return
        if not hmac.compare_digest(client_secret.encode(), (self._client_secret or "").encode()):
            raise OAuthError("invalid_client", "client authentication failed", 401)

    # -- authorization codes -----------------------------------------------------------------------

    def issue_code(
        self,
        *,
        client_id: str,
        redirect_uri: str,
        scopes: tuple[str, ...],
        email: str,
        challenge: str | None,
    ) -> str:
        code = secrets.token_urlsafe(32)
        with self._lock:
            self._purge()
            self._codes[code] = _Code(
                client_id, redirect_uri, scopes, email, challenge, self._clock() + self.code_ttl_seconds
            )
        return code

    def exchange_code(
        self, *, code: str, client_id: str, redirect_uri: str | None, verifier: str | None
    ) -> TokenResponse:
        with self._lock:
            entry = self._codes.get(code)
            if entry is None:
                raise OAuthError("invalid_grant", "unknown authorization code")
            if entry.used:
                for token in entry.issued:
                    self._revoke_token(token)
                raise OAuthError("invalid_grant", "authorization code already used")
            entry.used = True
            if entry.expires_at <= self._clock():
                raise OAuthError("invalid_grant", "authorization code expired")
            if entry.client_id != client_id:
                raise OAuthError("invalid_grant", "authorization code issued to another client")
            if redirect_uri is not None and redirect_uri != entry.redirect_uri:
                raise OAuthError("invalid_grant", "redirect_uri does not match the authorization")
            if redirect_uri is None and entry.redirect_uri:
                raise OAuthError("invalid_request", "redirect_uri is required")
            if entry.challenge is not None:
                if not verifier:
                    raise OAuthError("invalid_grant", "code_verifier is required")
                if not hmac.compare_digest(s256(verifier).encode(), entry.challenge.encode()):
                    raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
            refresh = secrets.token_urlsafe(48)
            now = self._clock()
            self._refresh[refresh] = Grant(
                entry.email, client_id, entry.scopes, now + self.refresh_token_ttl_seconds
            )
            response = self._new_access(entry.email, client_id, entry.scopes, refresh, now)
            entry.issued += [response.access_token, refresh]
            return response

    # -- tokens --------------------------------------------------------------------------------

    def refresh(self, *, refresh_token: str, client_id: str) -> TokenResponse:
        with self._lock:
            grant = self._refresh.get(refresh_token)
            now = self._clock()
            if grant is None or grant.revoked:
                raise OAuthError("invalid_grant", "refresh token unknown or revoked")
            if grant.expires_at <= now:
                raise OAuthError("invalid_grant", "refresh token expired")
            if grant.client_id != client_id:
                raise OAuthError("invalid_grant", "refresh token issued to another client")
            return self._new_access(grant.email, client_id, grant.scopes, refresh_token, now)

    def access_grant(self, token: str) -> Grant | None:
        """The live grant of an access token; None when unknown, expired or revoked."""
        with self._lock:
            grant = self._access.get(token)
            if grant is None or grant.revoked or grant.expires_at <= self._clock():
                return None
            return grant

    def revoke_user(self, email: str) -> int:
        wanted = email.strip().lower()
        count = 0
        with self._lock:
            for grant in (*self._access.values(), *self._refresh.values()):
                if grant.email.lower() == wanted and not grant.revoked:
                    grant.revoked = True
                    count += 1
        return count

    # -- internals -----------------------------------------------------------------------------

    def _new_access(
        self, email: str, client_id: str, scopes: tuple[str, ...], refresh: str, now: float
    ) -> TokenResponse:
        token = secrets.token_urlsafe(48)
        self._access[token] = Grant(email, client_id, scopes, now + self.token_ttl_seconds)
        refresh_left = self._refresh[refresh].expires_at - now
        return TokenResponse(
            access_token=token,
            expires_in=_seconds(self.token_ttl_seconds),
            refresh_token=refresh,
            refresh_token_expires_in=_seconds(refresh_left),
            scope=" ".join(scopes),
        )

    def _revoke_token(self, token: str) -> None:
        for table in (self._access, self._refresh):
            grant = table.get(token)
            if grant is not None:
                grant.revoked = True

    def _purge(self) -> None:
        """Forget expired codes and tokens, so that a long run stays bounded."""
        now = self._clock()
        if len(self._codes) > _MAX_CODES:
            self._codes = {k: v for k, v in self._codes.items() if v.expires_at > now}
        for name in ("_access", "_refresh"):
            table: dict[str, Grant] = getattr(self, name)
            if len(table) > _MAX_TOKENS:
                setattr(self, name, {k: v for k, v in table.items() if v.expires_at > now})
