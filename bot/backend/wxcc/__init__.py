"""The Webex Contact Center adapter: the `ContactCenter` port over the real REST API and websocket.

Modules, one job each: `config` (where and who), `oauth` (per-user tokens, PKCE), `callback` (the
redirect URI route), `rest` (one HTTP exchange, safe retries), `notifications` (the websocket),
`mapping` (JSON <-> port types), `adapter` (`WxccBackend`, the port itself).
"""

from bot.backend.wxcc.adapter import WxccBackend
from bot.backend.wxcc.config import DEFAULT_OAUTH_URL, DEFAULT_REDIRECT_URI, DEFAULT_SCOPES, WxccConfig
from bot.backend.wxcc.oauth import AuthorizationError, OAuth

__all__ = [
    "DEFAULT_OAUTH_URL",
    "DEFAULT_REDIRECT_URI",
    "DEFAULT_SCOPES",
    "AuthorizationError",
    "OAuth",
    "WxccBackend",
    "WxccConfig",
]
