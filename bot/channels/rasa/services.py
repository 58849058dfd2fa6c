"""What every action shares: the assistant (store, backend, flow), the email verifier, the
troubleshooter, the settings, and how a Rasa tracker says who the user is and which language they speak."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.assistant import Assistant
from bot.channels.rasa.settings import RasaSettings
from bot.flow.catalog import LANGUAGES, Catalog
from bot.identity import EmailVerifier, normalize_email
from bot.troubleshoot import Troubleshooter
from storage import ConversationKey

CHANNEL = "rasa"

log = logging.getLogger(__name__)


def rasa_catalog() -> Catalog:
    return Catalog.from_package("bot.channels.rasa.messages")


def latest_user_event(events: list[dict[str, Any]]) -> Mapping[str, Any]:
    return next((e for e in reversed(events) if isinstance(e, dict) and e.get("event") == "user"), {})


def latest_text(latest_message: Mapping[str, Any]) -> str:
    text = latest_message.get("text")
    return text if isinstance(text, str) else ""


def entity_value(latest_message: Mapping[str, Any], name: str) -> str | None:
    for entity in latest_message.get("entities") or []:
        if isinstance(entity, dict) and entity.get("entity") == name and entity.get("value") is not None:
            return str(entity["value"])
    return None


@dataclass
class RasaServices:
    assistant: Assistant
    verifier: EmailVerifier
    settings: RasaSettings
    troubleshooter: Troubleshooter

    def key(self, email: str) -> ConversationKey:
        return ConversationKey(CHANNEL, self.settings.workspace, email)

    def metadata(self, latest_message: Mapping[str, Any], events: list[dict[str, Any]]) -> Mapping[str, Any]:
        found = latest_message.get("metadata") or latest_user_event(events).get("metadata")
        return found if isinstance(found, dict) else {}

    def identify(
        self, sender_id: str, latest_message: Mapping[str, Any], events: list[dict[str, Any]]
    ) -> str | None:
        """The user's email: from the message metadata where the deployment vouches for it, else
        the email this `sender_id` proved with a code (S14); None when it is not known yet."""
        if self.settings.trust_email_metadata:
            email = self.metadata(latest_message, events).get("email")
            if isinstance(email, str) and (address := normalize_email(email)):
                return address
        return self.verifier.bound_email(
            channel=CHANNEL, subject=sender_id, workspace=self.settings.workspace
        )

    def language(
        self,
        latest_message: Mapping[str, Any],
        events: list[dict[str, Any]],
        slot: object,
        email: str | None,
    ) -> str:
        """An explicit switch, then the language of a real sentence, then what was used before
        (the `language` slot), the channel's locale, the saved preferences, English (S15)."""
        asked = entity_value(latest_message, "language")
        if asked in LANGUAGES:
            return asked
        text = latest_text(latest_message)
        if len(text.split()) >= 3 and not text.startswith("/"):
            guess = self.assistant.engine.recognizer.parse(text).language
            if guess in LANGUAGES:
                return guess
        if isinstance(slot, str) and slot in LANGUAGES:
            return slot
        metadata = self.metadata(latest_message, events)
        locale = metadata.get("language") or metadata.get("locale")
        if isinstance(locale, str) and locale[:2].lower() in LANGUAGES:
            return locale[:2].lower()
        if email is not None:
            saved = self.assistant.preferences(email)
            if saved is not None and saved.language in LANGUAGES:
                return saved.language
        return "en"


class SharedServices:
    """The services of actions built with no arguments, as rasa-sdk builds every action it finds:
    made from the settings on first use, then shared by every action of the process. A process made
    by forking one that already had them (a server's worker) builds its own: connections and
    event-loop-bound clients do not cross a fork. A build that fails (a malformed setting, a database
    that cannot be opened) is not kept: the next call tries again, and the action apologizes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._built: tuple[int, RasaServices] | None = None

    def get(self) -> RasaServices:
        built = self._built
        if built is not None and built[0] == os.getpid():
            return built[1]
        with self._lock:
            built = self._built
            if built is None or built[0] != os.getpid():
                from bot.channels.rasa import build_services  # builds the store and the backend

                services = build_services()
                log.info("loginbot's Rasa actions: services built for process %d", os.getpid())
                built = self._built = (os.getpid(), services)
            return built[1]

    @property
    def built(self) -> bool:
        """Whether this process has its services yet."""
        return self._built is not None and self._built[0] == os.getpid()

    def reset(self) -> None:
        """Forget the services built so far (a test changing the settings)."""
        with self._lock:
            self._built = None


shared_services = SharedServices()
