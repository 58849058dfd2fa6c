"""Wiring: build the assistant from the settings. Channels call `build_assistant` and nothing else."""

from __future__ import annotations

from bot.assistant import Assistant
from bot.backend.port import ContactCenter
from bot.settings import Settings


class ConfigurationError(Exception):
    """A setting that cannot work; the message says which one and what to do."""


def build_backend(settings: Settings) -> ContactCenter:
    if settings.backend == "simulator":
        from bot.backend.simulator import SimulatorBackend, TenantFileError

        try:
            return SimulatorBackend.from_file(settings.tenant_file, settings.simulator_state_path)
        except (TenantFileError, OSError) as error:
            raise ConfigurationError(f"LOGINBOT_TENANT_FILE: {error}") from error
    raise ConfigurationError(
        "LOGINBOT_BACKEND=wxcc: the Webex Contact Center adapter is not part of this release yet; "
        "use LOGINBOT_BACKEND=simulator."
    )


def build_assistant(settings: Settings | None = None) -> Assistant:
    from bot.flow.engine import FlowEngine
    from intents.recognizer import Recognizer
    from storage import StorageError, Store

    settings = settings or Settings()
    backend = build_backend(settings)
    try:
        store = Store.from_url(settings.database_url)
    except StorageError as error:
        raise ConfigurationError(f"LOGINBOT_DATABASE_URL: cannot open the database ({error})") from error
    recognizer = Recognizer.default()
    recognizer.threshold = settings.nlu_threshold
    return Assistant(engine=FlowEngine(recognizer), store=store, backend=backend)
