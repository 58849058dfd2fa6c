"""Who is typing: the Slack user's verified email and locale, from `users.info`.

Why Slack's email: the contact center knows its users by email, Slack has verified it (S14), and a
Slack user id means nothing outside one workspace. The answer is cached for a while, because every
message, click and option request needs it and `users.info` is rate limited (Tier 4); the
conversation itself is never cached (it is read from the store at every turn).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)

DEFAULT_TTL_SECONDS = 600.0
MAX_CACHED = 10_000


@dataclass(frozen=True)
class SlackUser:
    team_id: str
    user_id: str
    email: str  # casefolded; "" when Slack would not give one (no scope, a bot, a deleted user)
    locale: str | None


class IdentityUnavailable(Exception):
    """Slack could not be asked (network, 5xx after retries): the user is told to try again."""


class Identities:
    """`users.info` with `include_locale=true`, cached per (workspace, user) for `ttl` seconds."""

    def __init__(self, *, ttl: float = DEFAULT_TTL_SECONDS, clock: Callable[[], float] = time.monotonic):
        self.ttl = ttl
        self._clock = clock
        self._cache: dict[tuple[str, str], tuple[float, SlackUser]] = {}

    async def lookup(self, client: AsyncWebClient, team_id: str, user_id: str) -> SlackUser:
        now = self._clock()
        cached = self._cache.get((team_id, user_id))
        if cached is not None and cached[0] > now:
            return cached[1]
        user = await self._ask(client, team_id, user_id)
        if len(self._cache) >= MAX_CACHED:
            self._cache.clear()  # a crude bound: the cache only saves calls, it holds no state
        self._cache[(team_id, user_id)] = (now + self.ttl, user)
        return user

    async def _ask(self, client: AsyncWebClient, team_id: str, user_id: str) -> SlackUser:
        try:
            response = await client.users_info(user=user_id, include_locale=True)
        except SlackApiError as error:
            # user_not_found, missing_scope...: Slack answered, so caching "no email" is right.
            log.warning("users.info refused for a user: %s", error.response.get("error"))
            return SlackUser(team_id, user_id, "", None)
        except (SlackClientError, OSError, TimeoutError) as error:
            log.warning("users.info failed: %s", type(error).__name__)
            raise IdentityUnavailable from error
        user = response.get("user") or {}
        profile = user.get("profile") or {}
        email = profile.get("email") if not (user.get("is_bot") or user.get("deleted")) else None
        locale = user.get("locale")
        return SlackUser(
            team_id,
            user_id,
            email.strip().casefold() if isinstance(email, str) else "",
            locale if isinstance(locale, str) else None,
        )
