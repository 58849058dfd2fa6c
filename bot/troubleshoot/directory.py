"""Finding tenant users by name ("checklist for Ava"), for the administrators' checklist (U3).

The `ContactCenter` port reads one user by email; it has no "who is called Ava?". A backend that can
list its users provides a `Directory` (the simulator knows its tenant); any other gets
`NoDirectory`, and the chat then asks for an email address instead of guessing.

Matching works word by word on display names and on the email's local part, accents and case
aside: an exact word wins ("Ava" is Ava Lead, not Dana); otherwise a close spelling ("Avva") is
accepted, and several equally close users are all returned so that the chat asks which one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rapidfuzz import fuzz

if TYPE_CHECKING:
    from bot.backend.port import ContactCenter
    from bot.backend.simulator.core import SimulatorCore

CLOSE_SPELLING = 80.0  # fuzz.ratio of two words: "avva" / "ava" is 86, "ava" / "dana" 86 (exact wins)
MAX_MATCHES = 10
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Person:
    email: str
    display_name: str


@runtime_checkable
class Directory(Protocol):
    async def people(self) -> Sequence[Person] | None:
        """Every user of the tenant; None when this backend cannot list them."""
        ...


class NoDirectory:
    async def people(self) -> Sequence[Person] | None:
        return None


class SimulatorDirectory:
    def __init__(self, core: SimulatorCore) -> None:
        self.core = core

    async def people(self) -> Sequence[Person] | None:
        return [Person(user.email.casefold(), user.display_name) for user in self.core.tenant.users]


def directory_for(backend: ContactCenter) -> Directory:
    from bot.backend.simulator.backend import SimulatorBackend

    if isinstance(backend, SimulatorBackend):
        return SimulatorDirectory(backend.core)
    return NoDirectory()


def words_of(text: str) -> list[str]:
    """Lower-case words without accents: "Inès Martin" -> ["ines", "martin"]."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _WORD.findall(plain)


def _names(person: Person) -> set[str]:
    return set(words_of(person.display_name)) | set(words_of(person.email.split("@")[0]))


def match_people(name: str, people: Sequence[Person]) -> list[Person]:
    """The people `name` designates: every word of it must name them (exactly, or else closely)."""
    wanted = words_of(name)
    if not wanted:
        return []
    exact = [p for p in people if all(word in _names(p) for word in wanted)]
    if exact:
        return exact[:MAX_MATCHES]
    scored: list[tuple[float, Person]] = []
    for person in people:
        names = _names(person)
        score = min(max((fuzz.ratio(word, n) for n in names), default=0.0) for word in wanted)
        if score >= CLOSE_SPELLING:
            scored.append((score, person))
    if not scored:
        return []
    best = max(score for score, _ in scored)
    return [person for score, person in scored if score == best][:MAX_MATCHES]
