"""`bot.secrets.Cipher`: encryption at rest for tokens (X4)."""

from __future__ import annotations

import pytest

from bot.secrets import Cipher, SecretKeyError


def test_round_trip_hides_the_text() -> None:
    cipher = Cipher("a long random passphrase for the tests")
    sealed = cipher.encrypt("token-text-123")
    assert "token-text-123" not in sealed
    assert cipher.decrypt(sealed) == "token-text-123"


def test_a_fernet_key_is_used_as_is_and_a_passphrase_is_derived_stably() -> None:
    key = Cipher.generate_key()
    assert Cipher(key).decrypt(Cipher(key).encrypt("x")) == "x"
    assert Cipher("same phrase").decrypt(Cipher("same phrase").encrypt("y")) == "y"


def test_a_wrong_key_is_a_clear_error() -> None:
    sealed = Cipher("key one, long enough").encrypt("secret")
    with pytest.raises(SecretKeyError, match="LOGINBOT_SECRET_KEY"):
        Cipher("key two, long enough").decrypt(sealed)


def test_tampered_text_is_refused() -> None:
    cipher = Cipher("k" * 40)
    with pytest.raises(SecretKeyError):
        cipher.decrypt(cipher.encrypt("secret")[:-4] + "AAAA")


def test_the_key_comes_from_the_environment() -> None:
    with pytest.raises(SecretKeyError, match="not set"):
        Cipher.from_env({})
    with pytest.raises(SecretKeyError):
        Cipher("   ")
    assert Cipher.from_env({"LOGINBOT_SECRET_KEY": "phrase"}).decrypt(Cipher("phrase").encrypt("z")) == "z"
