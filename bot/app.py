"""Wiring: build the assistant from the settings. Channels call `build_assistant` and nothing else."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.assistant import Assistant
from bot.backend.port import ContactCenter, FailureReason
from bot.settings import Settings

if TYPE_CHECKING:
    from storage import Store


class ConfigurationError(Exception):
    """A setting that cannot work; the message says which one and what to do."""


def build_backend(settings: Settings, store: Store) -> ContactCenter:
    if settings.backend == "simulator":
        from bot.backend.simulator import SimulatorBackend, TenantFileError

        try:
            return SimulatorBackend.from_file(settings.tenant_file, settings.simulator_state_path)
        except (TenantFileError, OSError) as error:
            raise ConfigurationError(f"LOGINBOT_TENANT_FILE: {error}") from error
    from bot.backend.wxcc.adapter import WxccBackend

    try:
        return WxccBackend.from_settings(settings, store=store, redirect_uri=settings.oauth_redirect_uri)
    except ValueError as error:
        raise ConfigurationError(str(error)) from error


def contact_center_knows(assistant: Assistant) -> Callable[[str], Awaitable[bool]]:
    """For the emailed code: whether the contact center has a user with this email. Only a definite
    "no such user" is a no; when the contact center cannot say (down, or a real tenant that answers
    only after the user's own sign-in), the code is sent, as before such a check."""

    async def knows(email: str) -> bool:
        context = await assistant.context_for(email)
        return context.profile is not None or context.profile_error is not FailureReason.USER_NOT_FOUND

    return knows


def build_assistant(settings: Settings | None = None) -> Assistant:
    from bot.flow.engine import FlowEngine
    from bot.troubleshoot import Troubleshooter
    from intents.recognizer import Recognizer
    from storage import StorageError, Store

    settings = settings or Settings()
    try:
        store = Store.from_url(settings.database_url)
    except StorageError as error:
        raise ConfigurationError(f"LOGINBOT_DATABASE_URL: cannot open the database ({error})") from error
    backend = build_backend(settings, store)
    recognizer = Recognizer.default()
    recognizer.threshold = settings.nlu_threshold
    troubleshooter = Troubleshooter(backend, store, admins=settings.admin_emails)
    return Assistant(
        engine=FlowEngine(recognizer),
        store=store,
        backend=backend,
        troubleshooter=troubleshooter,
        in_flight_grace=timedelta(seconds=settings.in_flight_grace),
        progress_after=settings.progress_after,
    )
