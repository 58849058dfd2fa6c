"""What every action shares: the assistant (store, backend, flow), the email verifier, the
troubleshooter, the settings, and how a Rasa tracker says who the user is and which language they speak."""

from __future__ import annotations

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
            saved = self.assistant.store.load_preferences(email)
            if saved is not None and saved.language in LANGUAGES:
                return saved.language
        return "en"
