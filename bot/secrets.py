"""Encryption at rest for secrets loginbot must keep (OAuth tokens, PKCE verifiers), X4.

Why Fernet: it is authenticated (AES-128-CBC + HMAC-SHA256) and versioned, so a wrong key or a
tampered value is detected instead of decrypting to garbage, and it is what `cryptography` offers
without any choice of modes to get wrong.

The key comes from `LOGINBOT_SECRET_KEY`. Two forms are accepted:

* a Fernet key (32 random bytes, URL-safe base64, as `Fernet.generate_key()` prints): used as is;
* any other passphrase: a Fernet key is derived from it with HKDF-SHA256, the fixed application
  salt `loginbot/secret-key/v1` and the info `loginbot token encryption`. HKDF is not a password
  hash: the passphrase must carry enough entropy on its own (a long random string, not a word).

Changing the key makes every stored token unreadable: `decrypt` raises `SecretKeyError`, and the
OAuth layer treats the user as not authorized yet (they authorize again in the browser).
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Final

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

SECRET_KEY_ENV: Final = "LOGINBOT_SECRET_KEY"
_SALT: Final = b"loginbot/secret-key/v1"
_INFO: Final = b"loginbot token encryption"


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


class Cipher:
    """Encrypts and decrypts short strings with one application key."""

    def __init__(self, secret: str) -> None:
        self._fernet = Fernet(_fernet_key(secret))

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

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError) as exc:
            raise SecretKeyError(
                f"cannot decrypt a stored secret: {SECRET_KEY_ENV} differs from the key it was encrypted"
                " with, or the stored value was altered"
            ) from exc
