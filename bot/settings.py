"""Settings from the environment or a `.env` file, with the names DESIGN.md fixes."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.flow.inputs import IN_FLIGHT_GRACE
from bot.progress import PROGRESS_AFTER


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    database_url: str = Field("sqlite:///loginbot.db", validation_alias="LOGINBOT_DATABASE_URL")
    backend: Literal["simulator", "wxcc"] = Field("simulator", validation_alias="LOGINBOT_BACKEND")
    tenant_file: Path | None = Field(None, validation_alias="LOGINBOT_TENANT_FILE")
    # The in-process simulator keeps its station sessions here, so they survive a restart as the
    # conversations do; empty means in memory only.
    simulator_state: str = Field("loginbot-simulator.json", validation_alias="LOGINBOT_SIMULATOR_STATE")
    admins: str = Field("", validation_alias="LOGINBOT_ADMINS")
    secret_key: SecretStr | None = Field(None, validation_alias="LOGINBOT_SECRET_KEY")
    # The previous key while changing keys: it still decrypts; `loginbot keys rotate` makes it unneeded.
    old_secret_key: SecretStr | None = Field(None, validation_alias="LOGINBOT_OLD_SECRET_KEY")
    log_level: str = Field("WARNING", validation_alias="LOGINBOT_LOG_LEVEL")
    # `json`: one JSON object per line (time, level, logger, message, channel, conversation hash,
    # tracking id), for a log pipeline; `text`: one readable line.
    log_format: Literal["text", "json"] = Field("text", validation_alias="LOGINBOT_LOG_FORMAT")
    nlu_threshold: float = Field(0.2, validation_alias="LOGINBOT_NLU_THRESHOLD")
    # Seconds a contact-center call may still be under way: past it, a call whose turn never
    # recorded the outcome (the process died) is checked, and the user told how it ended.
    in_flight_grace: float = Field(
        IN_FLIGHT_GRACE.total_seconds(), ge=1, le=3600, validation_alias="LOGINBOT_IN_FLIGHT_GRACE"
    )
    # Seconds a contact-center call the user waits for may take before the chat shows it under way
    # (a spinner, a line, a Slack message the outcome then replaces).
    progress_after: float = Field(PROGRESS_AFTER, ge=0, le=60, validation_alias="LOGINBOT_PROGRESS_AFTER")

    wxcc_api_url: str = Field("https://api.wxcc-us1.cisco.com", validation_alias="WXCC_API_URL")
    wxcc_org_id: str = Field("", validation_alias="WXCC_ORG_ID")
    wxcc_client_id: str = Field("", validation_alias="WXCC_CLIENT_ID")
    wxcc_client_secret: SecretStr | None = Field(None, validation_alias="WXCC_CLIENT_SECRET")
    wxcc_oauth_url: str = Field("https://webexapis.com/v1", validation_alias="WXCC_OAUTH_URL")
    # REST requests in flight at once per process (more wait their turn): 16 keeps up with the
    # loopback simulator; a real tenant's latency (each call ~100+ ms) may want more.
    wxcc_max_connections: int = Field(16, ge=1, le=256, validation_alias="WXCC_MAX_CONNECTIONS")
    # Where the contact center's sign-in sends the user back (register it in the Webex integration).
    oauth_redirect_uri: str = Field(
        "http://127.0.0.1:8765/oauth/callback", validation_alias="LOGINBOT_OAUTH_REDIRECT_URI"
    )

    slack_bot_token: SecretStr | None = Field(None, validation_alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, validation_alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(None, validation_alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field("https://slack.com/api/", validation_alias="SLACK_API_URL")
    # `loginbot serve slack` in HTTP mode: worker processes sharing the port (`--workers` overrides).
    slack_workers: int = Field(1, ge=1, le=64, validation_alias="LOGINBOT_SLACK_WORKERS")
    # Seconds after which a delivery another process holds and has not finished is taken to be
    # orphaned (that process died) and is recovered: bot/channels/slack/recovery.py.
    slack_recovery_grace: float = Field(30.0, ge=0, le=3600, validation_alias="LOGINBOT_SLACK_RECOVERY_GRACE")

    @property
    def admin_emails(self) -> frozenset[str]:
        return frozenset(e.strip().casefold() for e in self.admins.split(",") if e.strip())

    @property
    def simulator_state_path(self) -> Path | None:
        return Path(self.simulator_state) if self.simulator_state else None
