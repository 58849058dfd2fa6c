"""The key that encrypts tokens at rest (findings of the security review, each a test): a wrong key
stops start-up with a clear message and deletes nothing; a weak key is refused; several keys rotate,
and `loginbot keys rotate` re-encrypts what is stored."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.backend.wxcc.adapter import WxccBackend
from bot.secrets import Cipher
from bot.settings import Settings
from storage import Store
from tests.channels.processes import clean_environment

OLD = "the old key of the tokens at rest, long and random enough"
NEW = Cipher.generate_key()


def _settings(key: str, old: str | None = None) -> Settings:
    return Settings(
        backend="wxcc",
        secret_key=key,
        old_secret_key=old,
        wxcc_org_id="org",
        wxcc_client_id="client",
        wxcc_client_secret="not-a-secret",
    )


def _store(directory: Path) -> Store:
    return Store.from_url(f"sqlite:///{directory / 'loginbot.db'}")


def _save_tokens(store: Store, cipher: Cipher, email: str = "ava.lead@example.com") -> None:
    store.save_tokens(
        email=email,
        access_token_encrypted=cipher.encrypt("access-token-of-ava"),
        refresh_token_encrypted=cipher.encrypt("refresh-token-of-ava"),
        expires_at=datetime.now(UTC) + timedelta(hours=1),
    )


def test_a_wrong_key_stops_start_up_and_deletes_nothing(tmp_path: Path) -> None:
    store = _store(tmp_path)
    WxccBackend.from_settings(_settings(OLD), store=store)  # the first start stores the key check
    _save_tokens(store, Cipher(OLD))
    with pytest.raises(ValueError, match="nothing was changed or deleted"):
        WxccBackend.from_settings(_settings("another key entirely, just as long and random"), store=store)
    kept = store.load_tokens(email="ava.lead@example.com")
    assert kept is not None and Cipher(OLD).decrypt(kept.access_token_encrypted) == "access-token-of-ava"
    store.close()


@pytest.mark.parametrize("key", ["x", "short but fine?", "a" * 64, "abab" * 20])
def test_a_weak_key_is_refused(tmp_path: Path, key: str) -> None:
    store = _store(tmp_path)
    with pytest.raises(ValueError, match="too weak"):
        WxccBackend.from_settings(_settings(key), store=store)
    store.close()


def test_several_keys_the_first_encrypts_every_one_decrypts() -> None:
    sealed = Cipher(OLD).encrypt("secret")
    both = Cipher(NEW, OLD)
    assert both.decrypt(sealed) == "secret"
    assert Cipher(NEW).decrypt(both.encrypt("fresh")) == "fresh"
    assert Cipher(NEW).decrypt(both.rotate(sealed)) == "secret"


def test_keys_rotate_re_encrypts_what_is_stored(tmp_path: Path) -> None:
    store = _store(tmp_path)
    WxccBackend.from_settings(_settings(OLD), store=store)
    _save_tokens(store, Cipher(OLD))
    store.close()
    env = clean_environment(
        LOGINBOT_DATABASE_URL=f"sqlite:///{tmp_path / 'loginbot.db'}",
        LOGINBOT_SECRET_KEY=NEW,
        LOGINBOT_OLD_SECRET_KEY=OLD,
    )
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "keys", "rotate"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "2 stored secrets re-encrypted" in result.stdout  # the two tokens (and the key check)
    store = _store(tmp_path)
    kept = store.load_tokens(email="ava.lead@example.com")
    assert (
        kept is not None and Cipher(NEW).decrypt(kept.refresh_token_encrypted or "") == "refresh-token-of-ava"
    )
    WxccBackend.from_settings(_settings(NEW), store=store)  # the old key is no longer needed
    store.close()


def test_a_token_one_key_cannot_read_is_kept(tmp_path: Path) -> None:
    import asyncio

    import httpx

    from bot.backend.wxcc.oauth import AuthorizationRequired

    store = _store(tmp_path)
    backend = WxccBackend.from_settings(_settings(OLD), store=store)
    _save_tokens(store, Cipher("a key that is no longer listed, long and random"))

    async def ask() -> None:
        async with httpx.AsyncClient() as http:
            await backend.oauth.access_token("ava.lead@example.com", http)

    with pytest.raises(AuthorizationRequired):
        asyncio.run(ask())
    assert store.load_tokens(email="ava.lead@example.com") is not None
    store.close()
