"""Encryption at rest for secrets loginbot must keep (OAuth tokens, PKCE verifiers), X4.

Why Fernet: it is authenticated (AES-128-CBC + HMAC-SHA256) and versioned, so a wrong key or a
tampered value is detected instead of decrypting to garbage, and it is what `cryptography` offers
without any choice of modes to get wrong.

The key comes from `LOGINBOT_SECRET_KEY`. Two forms are accepted:

* a Fernet key (32 random bytes, URL-safe base64, as `Fernet.generate_key()` prints): used as is;
* any other passphrase: a Fernet key is derived from it with HKDF-SHA256, the fixed application
  salt `loginbot/secret-key/v1` and the info `loginbot token encryption`. HKDF is not a password
  hash: the passphrase must carry enough entropy on its own (a long random string, not a word).

Rotation: the new key goes in `LOGINBOT_SECRET_KEY` and the previous one in
`LOGINBOT_OLD_SECRET_KEY` (a separate variable: a passphrase may contain any character, so no
separator could split a list safely). The new key encrypts, both decrypt, and `loginbot keys rotate`
re-encrypts what is stored with the new one, after which the old one may go.

A key check (a known value encrypted with the key) is stored with the data: a start-up with a key
that cannot read it stops with a clear message and deletes nothing. A passphrase must be at least
32 characters with some variety (a Fernet key always qualifies): `x` is not a key.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Final, Protocol

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_KEY_ENV: Final = "LOGINBOT_SECRET_KEY"
OLD_SECRET_KEY_ENV: Final = "LOGINBOT_OLD_SECRET_KEY"
_SALT: Final = b"loginbot/secret-key/v1"
_INFO: Final = b"loginbot token encryption"
MIN_PASSPHRASE_CHARS: Final = 32
MIN_DISTINCT_CHARS: Final = 10
KEY_CHECK: Final = "loginbot key check v1"


class SecretKeyError(Exception):
    """No usable key, or a value that this key cannot decrypt (wrong key, or tampered text)."""


def _fernet_key(secret: str) -> bytes:
    """The Fernet key for `secret`: the key itself when it is one, else derived with HKDF-SHA256."""
    raw = secret.strip().encode("utf-8")
    if not raw:
        raise SecretKeyError(f"{SECRET_KEY_ENV} is empty: set it to a Fernet key or a long random passphrase")
    try:
        if len(base64.urlsafe_b64decode(raw)) == 32 and len(raw) == 44:
            return raw
    except (binascii.Error, ValueError):
        pass
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(raw)
    return base64.urlsafe_b64encode(derived)


def _is_fernet_key(secret: str) -> bool:
    raw = secret.strip().encode("utf-8")
    try:
        return len(raw) == 44 and len(base64.urlsafe_b64decode(raw)) == 32
    except (binascii.Error, ValueError):
        return False


def check_strength(*secrets: str) -> None:
    """`SecretKeyError` naming what is wrong when a key is too weak."""
    for secret in secrets:
        key = secret.strip()
        if _is_fernet_key(key):
            continue
        if len(key) < MIN_PASSPHRASE_CHARS or len(set(key)) < MIN_DISTINCT_CHARS:
            raise SecretKeyError(
                f"{SECRET_KEY_ENV} is too weak: use a Fernet key (`loginbot keys generate`) or a random"
                f" passphrase of at least {MIN_PASSPHRASE_CHARS} characters"
            )


class Cipher:
    """Encrypts with the application key; decrypts with it or with the `old` keys (rotation)."""

    def __init__(self, secret: str, *old: str) -> None:
        keys = [secret, *(key for key in old if key.strip())]
        self._fernet = MultiFernet([Fernet(_fernet_key(key)) for key in keys])
        self.keys = len(keys)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Cipher:
        """The cipher keyed by `LOGINBOT_SECRET_KEY`; `SecretKeyError` when it is not set."""
        value = (environ if environ is not None else os.environ).get(SECRET_KEY_ENV, "")
        if not value.strip():
            raise SecretKeyError(f"{SECRET_KEY_ENV} is not set: loginbot needs it to encrypt tokens at rest")
        return cls(value)

    @staticmethod
    def generate_key() -> str:
        """A fresh random Fernet key, for `LOGINBOT_SECRET_KEY`."""
        return Fernet.generate_key().decode("ascii")

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def rotate(self, ciphertext: str) -> str:
        """The same secret encrypted with the first key (`SecretKeyError` when no key reads it)."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretKeyError(f"cannot decrypt a stored secret with any key of {SECRET_KEY_ENV}") from exc

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretKeyError(
                f"cannot decrypt a stored secret: {SECRET_KEY_ENV} differs from the key it was encrypted"
                " with, or the stored value was altered"
            ) from exc


class KeyCheckStore(Protocol):
    def load_key_check(self, name: str = ...) -> str | None: ...
    def save_key_check(self, value: str, name: str = ...) -> None: ...


def check_key(store: KeyCheckStore, cipher: Cipher) -> None:
    """Stop (`SecretKeyError`) when the stored key check cannot be read with these keys; store one
    when there is none yet. Nothing is deleted either way."""
    stored = store.load_key_check()
    if stored is None:
        store.save_key_check(cipher.encrypt(KEY_CHECK))
        return
    try:
        readable = cipher.decrypt(stored) == KEY_CHECK
    except SecretKeyError:
        readable = False
    if not readable:
        raise SecretKeyError(
            f"{SECRET_KEY_ENV} is not the key the stored tokens were encrypted with: nothing was changed or"
            " deleted. Set the previous key (to change keys: the new one in LOGINBOT_SECRET_KEY, the previous"
            " one in LOGINBOT_OLD_SECRET_KEY, then run `loginbot keys rotate`)"
        )
