"""The Rasa action server: loginbot's actions for a Rasa assistant (see README.md beside this file).

services = build_services()                    # the assistant, verifier, troubleshooter, settings
app = build_action_server(services)            # rasa-sdk's Sanic app with loginbot's guards
serve(services, host="127.0.0.1", port=5055)   # `loginbot serve actions`
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.channels.rasa.services import CHANNEL, RasaServices
from bot.channels.rasa.settings import RasaSettings

if TYPE_CHECKING:
    from bot.identity import IdentitySettings
    from bot.settings import Settings

__all__ = ["CHANNEL", "RasaServices", "RasaSettings", "build_services"]


def build_services(
    settings: Settings | None = None,
    *,
    rasa_settings: RasaSettings | None = None,
    identity_settings: IdentitySettings | None = None,
) -> RasaServices:
    """The same store and backend as every channel (`bot.app.build_assistant`), plus the verifier and
    the troubleshooter (administrators: `LOGINBOT_ADMINS` and the tenant's admin role, T9)."""
    from bot.app import build_assistant, contact_center_knows
    from bot.identity import EmailVerifier, IdentitySettings, build_mailer
    from bot.settings import Settings

    settings = settings or Settings()
    assistant = build_assistant(settings)
    identity = identity_settings or IdentitySettings()
    verifier = EmailVerifier(
        assistant.store, build_mailer(identity), identity, knows=contact_center_knows(assistant)
    )
    return RasaServices(assistant, verifier, rasa_settings or RasaSettings(), assistant.troubleshooter)
