"""Settings of the Rasa action server (environment or `.env`)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class RasaSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    # The deployment's Rasa channel vouches for the `email` in each message's metadata (DESIGN.md);
    # otherwise identity is proven with a code emailed to the user (S14).
    trust_email_metadata: bool = Field(False, validation_alias="LOGINBOT_RASA_TRUST_EMAIL_METADATA")
    # Rasa's `action_endpoint: token:`, sent as `?token=`; requests without it are refused (401).
    token: SecretStr | None = Field(None, validation_alias="LOGINBOT_RASA_TOKEN")
    # Without a token the server listens on loopback only, unless this says an open server is intended.
    allow_no_token: bool = Field(False, validation_alias="LOGINBOT_RASA_ALLOW_NO_TOKEN")
    # The `workspace` of the conversation keys ("rasa", <workspace>, <email>): one per Rasa assistant.
    workspace: str = Field("default", validation_alias="LOGINBOT_RASA_WORKSPACE")
    # The prefix `loginbot rasa export --prefix` gave loginbot's intents in the Rasa project, for the
    # buttons' payloads (`/loginbot_login`); by default, the one the domain sent with each call shows.
    intent_prefix: str | None = Field(
        None, validation_alias="LOGINBOT_RASA_INTENT_PREFIX", pattern=r"^(?:[a-z][a-z0-9]*_)?$"
    )
    # A webhook body as sent (Rasa sends the whole tracker and domain), and once inflated (deflate).
    max_body_bytes: int = Field(4_000_000, ge=1024, validation_alias="LOGINBOT_RASA_MAX_BODY_BYTES")
    max_decoded_bytes: int = Field(16_000_000, ge=1024, validation_alias="LOGINBOT_RASA_MAX_DECODED_BYTES")
