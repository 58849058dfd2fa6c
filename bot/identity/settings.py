"""Settings of the emailed-code identity check (S14): how mail leaves, and the limits of the codes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class IdentitySettings(BaseSettings):
    """`LOGINBOT_SMTP_*` and `LOGINBOT_MAIL_FROM` send the codes through a mail server; without
    `LOGINBOT_SMTP_HOST` (the embedded default) they are appended to the `LOGINBOT_OUTBOX` file."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    smtp_host: str = Field("", validation_alias="LOGINBOT_SMTP_HOST")
    smtp_port: int | None = Field(None, validation_alias="LOGINBOT_SMTP_PORT")  # 587, 465 (ssl) or 25
    smtp_tls: Literal["starttls", "ssl", "none"] = Field("starttls", validation_alias="LOGINBOT_SMTP_TLS")
    smtp_username: str = Field("", validation_alias="LOGINBOT_SMTP_USERNAME")
    smtp_password: SecretStr | None = Field(None, validation_alias="LOGINBOT_SMTP_PASSWORD")
    smtp_timeout_seconds: float = Field(15.0, validation_alias="LOGINBOT_SMTP_TIMEOUT")
    mail_from: str = Field("loginbot@localhost", validation_alias="LOGINBOT_MAIL_FROM")
    outbox: Path = Field(Path("loginbot-outbox.txt"), validation_alias="LOGINBOT_OUTBOX")
    secret_key: SecretStr | None = Field(None, validation_alias="LOGINBOT_SECRET_KEY")

    code_ttl_seconds: int = Field(600, ge=60, validation_alias="LOGINBOT_CODE_TTL_SECONDS")
    code_tries: int = Field(5, ge=1, validation_alias="LOGINBOT_CODE_TRIES")
    # A proven email stops counting for a chat user after this long without use (8 hours).
    identity_idle_seconds: int = Field(28800, ge=60, validation_alias="LOGINBOT_IDENTITY_IDLE_SECONDS")
    # Rate limits: codes per chat user in 15 minutes, and per chat user and address in an hour.
    codes_per_sender: int = Field(3, ge=1, validation_alias="LOGINBOT_CODES_PER_SENDER")
    sender_window_seconds: int = Field(900, ge=1, validation_alias="LOGINBOT_CODES_SENDER_WINDOW")
    codes_per_email: int = Field(5, ge=1, validation_alias="LOGINBOT_CODES_PER_EMAIL")
    email_window_seconds: int = Field(3600, ge=1, validation_alias="LOGINBOT_CODES_EMAIL_WINDOW")

    @property
    def port(self) -> int:
        if self.smtp_port is not None:
            return self.smtp_port
        return {"ssl": 465, "starttls": 587, "none": 25}[self.smtp_tls]
