"""`WxccConfig`: where the Webex Contact Center lives and how loginbot identifies itself to it."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_OAUTH_URL = "https://webexapis.com/v1"
DEFAULT_REDIRECT_URI = "http://127.0.0.1:8765/oauth/callback"
# cjp:user: login, state, reload, logout as the token's own user; cjp:config_read: the profile reads;
# spark:people_read: `GET /people/me`, which tells whose token it is.
DEFAULT_SCOPES = ("cjp:user", "cjp:config_read", "spark:people_read")


@dataclass(frozen=True)
class WxccConfig:
    """Everything the adapter needs to reach one tenant; the secret is never logged (repr hides it).

    `api_url` is the data center's REST host (`https://api.wxcc-us1.cisco.com`), never hard-coded
    elsewhere. Timeouts are seconds: `timeout_seconds` bounds the wait for a runtime notification
    (the official SDK waits 20 s), `http_timeout_seconds` one HTTP exchange.
    """

    api_url: str
    org_id: str
    client_id: str
    client_secret: str
    oauth_url: str = DEFAULT_OAUTH_URL
    redirect_uri: str = DEFAULT_REDIRECT_URI
    scopes: tuple[str, ...] = DEFAULT_SCOPES
    timeout_seconds: float = 20.0
    http_timeout_seconds: float = 10.0
    # HTTP requests in flight at once (the connection pool's size); more wait their turn, at most
    # `queue_timeout_seconds`. Bounded here rather than in httpx's pool, whose bookkeeping costs
    # grow with the waiting requests times the connections (a 1,000-user storm spent most of its
    # time there), and small because every idle connection is polled at every request.
    max_connections: int = 16
    queue_timeout_seconds: float = 60.0
    profile_cache_seconds: float = 60.0
    refresh_margin_seconds: float = 120.0  # refresh an access token this long before it expires
    authorization_ttl_seconds: float = 600.0  # how long an authorize link stays valid
    read_attempts: int = 3  # tries for a read on 5xx or a network error
    max_retry_after_seconds: float = 10.0  # 429: wait at most this long before giving up
    keepalive_seconds: float = 4.0
    client_type: str = "loginbot"  # `clientType` of the notification subscription (<= 20 chars)

    def __repr__(self) -> str:
        return (
            f"WxccConfig(api_url={self.api_url!r}, org_id={self.org_id!r}, client_id={self.client_id!r}, "
            f"oauth_url={self.oauth_url!r}, redirect_uri={self.redirect_uri!r})"
        )

    @property
    def scope(self) -> str:
        return " ".join(self.scopes)
