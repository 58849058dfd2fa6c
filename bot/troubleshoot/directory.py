"""Finding tenant users by name ("checklist for Ava"), for the administrators' checklist (U3).

The `ContactCenter` port reads one user by email; it has no "who is called Ava?". A backend that can
look its users up provides a `Directory`: the simulator knows its tenant; on the real API, Webex's
directory search (`GET people?displayName=`, with the asking administrator's own token) finds the
people whose names start with each word asked for. Any other backend gets `NoDirectory`, and so
does a requester whose token cannot search (they never authorized loginbot, or the service is
down): the chat then asks for an email address instead of guessing.

Matching works word by word on display names and on the email's local part, accents and case
aside: an exact word wins ("Ava" is Ava Lead, not Dana); otherwise a close spelling ("Avva") is
accepted, and several equally close users are all returned so that the chat asks which one.
"""

from __future__ import annotations

import logging
import re
import sys
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from rapidfuzz import fuzz

if TYPE_CHECKING:
    from bot.backend.port import ContactCenter
    from bot.backend.simulator.core import SimulatorCore

log = logging.getLogger(__name__)

MAX_SEARCH_WORDS = 3  # a name's words searched for (a directory search each)
CLOSE_SPELLING = 80.0  # fuzz.ratio of two words: "avva" / "ava" is 86, "ava" / "dana" 86 (exact wins)
MAX_MATCHES = 10
_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Person:
    email: str
    display_name: str


@runtime_checkable
class Directory(Protocol):
    async def people(self, name: str, requester: str) -> Sequence[Person] | None:
        """The users `name` may designate, as `requester` may see them (more is fine: the caller
        matches them against `name`); None when they cannot be looked up."""
        ...


class NoDirectory:
    async def people(self, name: str, requester: str) -> Sequence[Person] | None:
        return None


class SimulatorDirectory:
    def __init__(self, core: SimulatorCore) -> None:
        self.core = core

    async def people(self, name: str, requester: str) -> Sequence[Person] | None:
        return [Person(user.email.casefold(), user.display_name) for user in self.core.tenant.users]


class PeopleSearch(Protocol):
    async def people_named(self, requester: str, prefix: str) -> list[tuple[str, str]]:
        """(email, display name) of the people whose name starts with `prefix` (`WxccBackend`)."""
        ...


class WebexDirectory:
    """Webex's directory search through the real-API adapter: the people whose display, first or
    last name starts with one of the words of `name` ("Ava Lead": everyone called Ava or Lead..., the
    caller keeps those both words name), searched with the requester's token."""

    def __init__(self, search: PeopleSearch) -> None:
        self.search = search

    async def people(self, name: str, requester: str) -> Sequence[Person] | None:
        from bot.backend.port import AuthorizationRequired, ContactCenterError

        found: dict[str, Person] = {}
        try:
            for word in _search_words(name):
                for email, display_name in await self.search.people_named(requester, word):
                    found.setdefault(email.casefold(), Person(email.casefold(), display_name))
        except AuthorizationRequired:
            log.info("name lookup: the requester has not authorized loginbot; asking for an email")
            return None
        except ContactCenterError as error:
            log.warning("name lookup failed (tracking id %s); asking for an email", error.tracking_id)
            return None
        return list(found.values())


def _search_words(name: str) -> list[str]:
    """The words to search for, as typed (accents kept: Webex compares names as written), once each."""
    return list(dict.fromkeys(_WORD.findall(name)))[:MAX_SEARCH_WORDS]


def directory_for(backend: ContactCenter) -> Directory:
    from bot.backend.simulator.backend import SimulatorBackend

    if isinstance(backend, SimulatorBackend):
        return SimulatorDirectory(backend.core)
    # Not imported for nothing (aiohttp, httpx...): a backend of that class means it is loaded.
    wxcc = sys.modules.get("bot.backend.wxcc.adapter")
    if wxcc is not None and isinstance(backend, wxcc.WxccBackend):
        return WebexDirectory(backend)
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
