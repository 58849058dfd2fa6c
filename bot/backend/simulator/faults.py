"""Fault injection for the simulator's HTTP + websocket server: the ways a real service misbehaves.

`Faults` is the configuration (set at start-up, or live through `GET/PUT /admin/faults`), and
`FaultDice` the seeded random source that decides, request by request, which fault strikes. With a
`seed`, a run is repeatable: the same sequence of requests meets the same sequence of faults.

Where faults apply: the contact-center API (`/v1/notification/...`, `/v1/agents/...`,
`/organization/...`) and its notification websockets. Never `/admin/...`; the OAuth and identity
endpoints (`/v1/authorize`, `/v1/access_token`, `/v1/people/me`, which stand for webexapis.com, a
separate service) only when `apply_to_oauth` is set. A request answered with an injected 429 or
5xx never reaches the simulator: nothing happened, as the API promises for 429.
"""

from __future__ import annotations

import random
import threading

from pydantic import BaseModel, ConfigDict, Field


class Faults(BaseModel):
    """What goes wrong, and how often. The default is a healthy service."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    latency_ms: int = Field(default=0, ge=0, le=600_000, description="added to every HTTP answer")
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="share answered 500 or 503")
    rate_limit_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="share answered 429")
    retry_after_seconds: int = Field(default=1, ge=0, le=3600, description="`Retry-After` of those 429s")
    drop_websocket_after: int | None = Field(
        default=None, ge=0, description="close each socket after N messages (0: right after Welcome)"
    )
    silent_websocket: bool = Field(default=False, description="send Welcome, then never deliver anything")
    lose_result_rate: float = Field(default=0.0, ge=0.0, le=1.0, description="share of results never sent")
    seed: int | None = Field(default=None, description="seed of the dice, for repeatable runs")
    apply_to_oauth: bool = Field(default=False, description="also strike the OAuth and people/me endpoints")


class FaultDice:
    """The current `Faults` and their random source; thread-safe, replaced as a whole on update."""

    def __init__(self, faults: Faults | None = None) -> None:
        self._lock = threading.Lock()
        self._faults = faults or Faults()
        self._random = random.Random(self._faults.seed)

    @property
    def faults(self) -> Faults:
        with self._lock:
            return self._faults

    def replace(self, faults: Faults) -> None:
        """New faults; the dice restart from the new seed (a fresh random one when None)."""
        with self._lock:
            self._faults = faults
            self._random = random.Random(faults.seed)

    def roll(self, rate: float) -> bool:
        """True with probability `rate`; a rate of 0 or 1 never consumes the random sequence."""
        if rate <= 0.0:
            return False
        if rate >= 1.0:
            return True
        with self._lock:
            return self._random.random() < rate

    def choice(self, options: tuple[int, ...]) -> int:
        with self._lock:
            return self._random.choice(options)
