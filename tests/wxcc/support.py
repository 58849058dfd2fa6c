"""Helpers for the adapter's tests: a config with short timeouts, and a store with a cipher."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from bot.backend.wxcc.config import WxccConfig
from bot.backend.wxcc.oauth import OAuth
from bot.secrets import Cipher
from storage import Store

SECRET = "test secret key for loginbot, long and random enough"


def config(
    api_url: str = "http://wxcc.test", oauth_url: str = "http://oauth.test/v1", **overrides: object
) -> WxccConfig:
    values: dict[str, object] = {
        "api_url": api_url,
        "org_id": "demo-org",
        "client_id": "loginbot-client",
        "client_secret": "client-secret-value",
        "oauth_url": oauth_url,
        "redirect_uri": "http://127.0.0.1:8765/oauth/callback",
        "timeout_seconds": 2.0,
        "http_timeout_seconds": 5.0,
        "max_retry_after_seconds": 3.0,
    }
    values.update(overrides)
    return WxccConfig(**values)  # type: ignore[arg-type]


def store(tmp_path: Path, clock: Callable[[], datetime] | None = None) -> Store:
    return Store.from_url(f"sqlite:///{tmp_path}/loginbot.db", clock=clock)


def oauth(cfg: WxccConfig, db: Store) -> OAuth:
    return OAuth(cfg, store=db, cipher=Cipher(SECRET))
