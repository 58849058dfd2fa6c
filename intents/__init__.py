"""Understanding for loginbot: Rasa-format training data and the embedded recognizer trained from it.

Core package: it imports no Slack, Rasa, HTTP or SQL library, so every channel can use it.
"""

from intents.entities import Entity
from intents.recognizer import Parse, Recognizer

__all__ = ["Entity", "Parse", "Recognizer"]
