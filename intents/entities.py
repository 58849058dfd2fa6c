"""Rule-based entity extraction: numbers, emails, keyword entities and fuzzy team names.

No machine learning here on purpose: the entities that matter to the sign-in flow (a phone number,
an extension, a team) have exact formats or a closed list of values, and rules give offsets and
canonical values that are predictable and testable. The extractors are:

* ``phone_number``: :mod:`phonenumbers` (``PhoneNumberMatcher`` in the caller's default region, with
  ``Leniency.POSSIBLE`` so that an invalid but well-formed number still reaches the flow, which then
  explains what is wrong with it), plus international direct-dialling forms (``011 61 123456789``,
  ``00 33 1 44 55 66 77``) whatever the region. The value is E.164. Candidates with fewer than
  seven digits are left to ``extension``.
* ``extension``: the digits after *extension / ext / ext. / x / poste / numéro de poste*, or a
  3 to 6 digit number standing alone that is not part of a phone number, an email or an identifier.
* ``email``: a regular expression; the value is lower-cased (addresses are matched
  case-insensitively everywhere else in the product).
* ``role``, ``call_preference``, ``availability``, ``language``: keyword tables in English and French
  (leftmost-longest match, accents optional). A few product names ("supervisor desktop",
  "bureau du superviseur") are recognised as *blockers* so they produce no entity.
* ``team``: fuzzy lookup (:mod:`rapidfuzz`) against the team names the caller passes. See
  :func:`extract_teams` for what counts as a match and how ties are resolved.

Every offset indexes into the text that was given, so callers can highlight or cut spans.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import phonenumbers
from rapidfuzz import fuzz, process

__all__ = [
    "KEYWORDS",
    "Entity",
    "extract",
    "extract_emails",
    "extract_extensions",
    "extract_keywords",
    "extract_phone_numbers",
    "extract_teams",
]

MIN_PHONE_DIGITS = 7


@dataclass(frozen=True)
class Entity:
    """One extracted entity; ``start``/``end`` index into the original message."""

    entity: str
    value: str
    start: int
    end: int
    extractor: str = "loginbot"


# --------------------------------------------------------------------------------------------------
# keyword tables: entity -> value -> surface forms (English and French). Accents are optional in the
# compiled patterns, so "francais" and "numero de poste" match too.

KEYWORDS: dict[str, dict[str, tuple[str, ...]]] = {
    "role": {
        "supervisor_agent": (
            "supervisor and agent",
            "supervisor & agent",
            "supervisor + agent",
            "supervisor/agent",
            "supervisor-agent",
            "supervisor agent",
            "agent and supervisor",
            "both roles",
            "both",
            "superviseur et agent",
            "superviseur & agent",
            "superviseur-agent",
            "agent et superviseur",
            "les deux",
            "les deux rôles",
            "superviseur agent",
        ),
        "supervisor": (
            "supervisor only",
            "only supervisor",
            "just supervisor",
            "supervisor",
            "supervisors",
            "superviseur uniquement",
            "superviseur seulement",
            "seulement superviseur",
            "superviseur",
            "superviseure",
        ),
        "agent": ("agent only", "only agent", "agent", "agents", "agent uniquement", "agent seulement"),
    },
    "call_preference": {
        "desktop": (
            "desktop",
            "browser",
            "webrtc",
            "web rtc",
            "web browser",
            "computer",
            "softphone",
            "bureau",
            "navigateur",
            "ordinateur",
        ),
        "extension": (
            "extension",
            "ext",
            "ext.",
            "webex calling extension",
            "poste",
            "numéro de poste",
        ),
        "dial_number": (
            "dial number",
            "dial-number",
            "dial a number",
            "dial",
            "phone number",
            "my phone",
            "my mobile",
            "my cell",
            "mobile phone",
            "cell phone",
            "my number",
            "dn",
            "numéro d'appel",
            "composer un numéro",
            "composant un numéro",
            "numéro de téléphone",
            "mon téléphone",
            "mon portable",
            "mon mobile",
            "mon numéro",
        ),
    },
    "availability": {
        "idle": (
            "idle",
            "inactive",
            "not ready",
            "not available",
            "unavailable",
            "pause",
            "paused",
            "break",
            "away",
            "inactif",
            "inactive",
            "indisponible",
            "pas disponible",
            "en pause",
            "pas prêt",
            "pas prête",
            "absent",
            "absente",
        ),
        "available": (
            "available",
            "ready",
            "disponible",
            "dispo",
            "prêt",
            "prête",
        ),
    },
    "language": {
        "fr": ("french", "français", "francais", "en français"),
        "en": ("english", "anglais", "en anglais"),
    },
}

# Phrases that contain a keyword but name the product, not a choice: they produce no entity.
_BLOCKERS: dict[str, tuple[str, ...]] = {
    "role": (
        "supervisor desktop",
        "bureau du superviseur",
        "agent desktop",
        "bureau de l'agent",
        "agent state",
        "état d'agent",
        "user agent",
    ),
    "call_preference": (
        "supervisor desktop",
        "agent desktop",
        "contact center desktop",
        "webex contact center desktop",
        "bureau du superviseur",
        "bureau de l'agent",
        # the product itself, not a way of taking calls: "sign me out of the desktop", "the
        # desktop won't load", "déconnecte-moi du bureau"; "prendre son poste" is to start work
        "of the desktop",
        "into the desktop",
        "the desktop says",
        "the desktop won't",
        "the desktop wont",
        "the desktop is",
        "du bureau",
        "au bureau",
        "le bureau dit",
        "le bureau ne",
        "prends mon poste",
        "prendre mon poste",
        "quitte mon poste",
        "quitter mon poste",
        "fin de poste",
        "écran de mon portable",
    ),
    "availability": ("features are not available", "features are unavailable", "not available yet"),
    "language": (),
}

_ACCENT_CLASSES = {
    "a": "[aàâä]",
    "c": "[cç]",
    "e": "[eéèêë]",
    "i": "[iîï]",
    "o": "[oôö]",
    "u": "[uùûü]",
}


def _fold(text: str) -> str:
    """Lower-case and strip accents: used for comparisons only, never for offsets."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def _phrase_pattern(phrase: str) -> str:
    """A regex for ``phrase`` with optional accents, flexible spaces and an apostrophe class."""
    out = []
    for ch in _fold(phrase):
        if ch == " ":
            out.append(r"[\s\-]+")
        elif ch == "'":
            out.append("['’]")
        elif ch in _ACCENT_CLASSES:
            out.append(_ACCENT_CLASSES[ch])
        else:
            out.append(re.escape(ch))
    return "".join(out)


def _keyword_regex(entity: str) -> re.Pattern[str]:
    """One alternation per entity, longest phrases first so that the leftmost match is the longest."""
    phrases: list[tuple[str, str]] = [(p, value) for value, ps in KEYWORDS[entity].items() for p in ps]
    phrases += [(p, "") for p in _BLOCKERS[entity]]
    phrases.sort(key=lambda item: len(item[0]), reverse=True)
    body = "|".join(_phrase_pattern(p) for p, _ in phrases)
    return re.compile(rf"(?<!\w)(?:{body})(?![\w@])", re.IGNORECASE)


def _value_index(entity: str) -> dict[str, str]:
    """Folded surface form (spaces collapsed) -> canonical value ("" for blockers)."""
    index = {_squash(p): v for v, ps in KEYWORDS[entity].items() for p in ps}
    index.update({_squash(p): "" for p in _BLOCKERS[entity]})
    return index


def _squash(text: str) -> str:
    return re.sub(r"[\s\-]+", " ", _fold(text).replace("’", "'")).strip()


_KEYWORD_PATTERNS = {name: _keyword_regex(name) for name in KEYWORDS}
_KEYWORD_VALUES = {name: _value_index(name) for name in KEYWORDS}


def extract_keywords(text: str) -> list[Entity]:
    """``role``, ``call_preference``, ``availability`` and ``language`` by keyword tables."""
    found = []
    for name, pattern in _KEYWORD_PATTERNS.items():
        values = _KEYWORD_VALUES[name]
        for match in pattern.finditer(text):
            value = values.get(_squash(match.group(0)))
            if value:
                found.append(Entity(name, value, match.start(), match.end()))
    return found


# --------------------------------------------------------------------------------------------------
# emails

_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])"
)


def extract_emails(text: str) -> list[Entity]:
    """Email addresses; the value is lower-cased."""
    return [Entity("email", m.group(0).lower(), m.start(), m.end()) for m in _EMAIL.finditer(text)]


# --------------------------------------------------------------------------------------------------
# phone numbers

# International direct dialling: 00 (most of the world) or 011 (North America), then a country code
# and the national number, with the usual separators. Needed because PhoneNumberMatcher only knows
# the IDD prefix of the default region.
_IDD = re.compile(r"(?<![\w+])(?:00|011)[\s.\-]*(?:\(?[1-9]\d{0,2}\)?)(?:[\s.\-]*\(?\d+\)?){1,8}(?![\w])")
_DIGITS_LIKE = re.compile(r"\d")


def _is_boxed_in(text: str, start: int, end: int) -> bool:
    """True when a number touches letters or identifier marks (tracking ids, emails, versions)."""
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return (
        before.isalnum()
        or before in "-_@/"
        or after.isalnum()
        or after in "_@/"
        or (after == "-" and end + 1 < len(text) and text[end + 1].isalnum())
    )


def _possible_e164(candidate: str, region: str | None) -> str | None:
    """E.164 form of ``candidate`` if it parses as a possible number with enough digits."""
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    national = str(number.national_number)
    if len(national) + (1 if number.italian_leading_zero else 0) < MIN_PHONE_DIGITS - 1:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# Regions tried, in order, for a national-format number that is not valid in the caller's region:
# the product's users write French, British and North American numbers, whatever their region
# ("my French number 06 12 34 56 78" from a US user).
FALLBACK_REGIONS = ("FR", "GB", "US")


def extract_phone_numbers(text: str, region: str = "US") -> list[Entity]:
    """Phone numbers as E.164, from national, international (+) and IDD forms. A national number
    invalid in ``region`` is read in the first of `FALLBACK_REGIONS` where it is valid."""
    if sum(1 for _ in _DIGITS_LIKE.finditer(text)) < MIN_PHONE_DIGITS:
        return []  # cheap exit: most messages carry no number at all
    found: list[Entity] = []
    for idd in _IDD.finditer(text):
        start, end = idd.span()
        raw = idd.group(0)
        prefix = re.match(r"(?:00|011)[\s.\-]*", raw)
        assert prefix is not None  # the pattern starts with the prefix
        value = _possible_e164("+" + raw[prefix.end() :], None)
        if value and not _is_boxed_in(text, start, end):
            found.append(Entity("phone_number", value, start, end))
    region_code = region.upper() if isinstance(region, str) and len(region) == 2 else "US"
    _national_numbers(text, region_code, found, fallback=False)
    if _unread_digit_runs(text, found):  # most numbers are read in the caller's region: no more work
        for code in FALLBACK_REGIONS:
            if code != region_code:
                _national_numbers(text, code, found, fallback=True)
    return sorted(found, key=lambda e: e.start)


_DIGIT_RUN = re.compile(r"\d[\d\s().\-]{5,}\d")


def _unread_digit_runs(text: str, found: list[Entity]) -> bool:
    """Whether ``text`` holds a run of at least seven digits that no entity of ``found`` covers."""
    for run in _DIGIT_RUN.finditer(text):
        if sum(ch.isdigit() for ch in run.group(0)) >= MIN_PHONE_DIGITS and not any(
            _overlaps(run.start(), run.end(), e.start, e.end) for e in found
        ):
            return True
    return False


def _national_prefix(raw: str, region_code: str) -> bool:
    """Whether ``raw`` starts as a national number of ``region_code`` is written: French and British
    ones with their trunk 0, North American ones with an area code (2-9) or the trunk 1."""
    digits = re.sub(r"\D", "", raw)
    if region_code in ("FR", "GB"):
        return digits.startswith("0")
    return bool(digits) and digits[0] != "0"


def _national_numbers(text: str, region_code: str, found: list[Entity], *, fallback: bool) -> None:
    """Add to ``found`` the numbers PhoneNumberMatcher finds in ``region_code`` that overlap none of
    ``found``; in a fallback region, national-format ones only."""
    try:
        matcher = phonenumbers.PhoneNumberMatcher(text, region_code, leniency=phonenumbers.Leniency.POSSIBLE)
        matches = list(matcher)
    except Exception:  # phonenumbers has raised on odd unicode before; a number is never worth a crash
        matches = []
    for match in matches:
        if any(_overlaps(match.start, match.end, e.start, e.end) for e in found):
            continue
        if _is_boxed_in(text, match.start, match.end):
            continue
        if sum(ch.isdigit() for ch in match.raw_string) < MIN_PHONE_DIGITS:
            continue
        # A number written with its country code is kept when merely possible (the flow explains
        # what is wrong with it); a national-format one must be valid in the region, otherwise a
        # French "06 12 34 56 78" would become a bogus +1 number for a US user.
        international = match.raw_string.lstrip().startswith("+")
        if fallback and (international or not _national_prefix(match.raw_string, region_code)):
            continue  # international: already read in the caller's region; "1.2.3456789" is no number
        if not international and not phonenumbers.is_valid_number(match.number):
            continue
        value = phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164)
        found.append(Entity("phone_number", value, match.start, match.end))


# --------------------------------------------------------------------------------------------------
# extensions

_EXTENSION_KEYWORD = re.compile(
    r"(?<!\w)(?:extension|ext\.?|x|poste|num[eé]ro\s+de\s+poste)\s*(?:#|:|n°|no\.?|number|num[eé]ro)?\s*"
    r"(?P<digits>\d{2,8})(?![\w.,]\d|\w)",
    re.IGNORECASE,
)
_STANDALONE = re.compile(r"(?<![\w+.\-/@#:])(?P<digits>\d{3,6})(?![\w\-/@]|[.,:]\d)")


def extract_extensions(text: str, taken: Sequence[tuple[int, int]] = ()) -> list[Entity]:
    """Extensions after a keyword, or 3-6 digit numbers standing alone outside the ``taken`` spans."""
    found: list[Entity] = []
    for match in _EXTENSION_KEYWORD.finditer(text):
        start, end = match.span("digits")
        if any(_overlaps(start, end, a, b) for a, b in taken):
            continue
        found.append(Entity("extension", match.group("digits"), start, end))
    for match in _STANDALONE.finditer(text):
        start, end = match.span("digits")
        if any(_overlaps(start, end, a, b) for a, b in taken) or any(
            _overlaps(start, end, e.start, e.end) for e in found
        ):
            continue
        found.append(Entity("extension", match.group("digits"), start, end))
    return sorted(found, key=lambda e: e.start)


def _overlaps(a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    return a_start < b_end and b_start < a_end


# --------------------------------------------------------------------------------------------------
# teams

# Words that never start or end a fuzzy team candidate, and never match one word of a multi-word team
# name on their own (they still count inside an exact match of a whole team name). Without them
# "log me in to the team" would fuzzy-match "Team A" and "I need support" would pick "Technical Support".
_ORDINARY_WORDS = (
    "a an the and or of to in on at for with by my me i im i'm is it its be as please team teams "
    "log login logged sign signed in out me us you your yes no ok okay use using want need would "
    "like can could set put make get agent agents supervisor supervisors desktop extension phone "
    "number dial available idle ready break this that these those there here one two first second "
    "support service services client clients customer customers care help group night day shift "
    "call calls line desk new old main general other all only just now today "
    "le la les l un une des du de d et ou mon ma mes moi je tu te ton ta tes en au aux avec pour "
    "sur dans par se connecte connecter connexion equipe équipe équipes superviseur poste "
    "bureau numero numéro disponible inactif oui non merci stp svp s'il plait plaît veux voudrais "
    "groupe nuit jour appel appels aide"
)
_ORDINARY = frozenset(_fold(word) for word in _ORDINARY_WORDS.split())
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?", re.UNICODE)

FULL_MATCH_MIN = 84.0  # fuzz.ratio of the candidate against the whole team name
WORD_MATCH_MIN = 86.0  # fuzz.ratio against one distinctive word of a multi-word team name
WORD_WEIGHT = 0.9  # a match on one word of a multi-word name ranks below a whole-name match
PREFIX_MIN_CHARS = 4  # "bill" -> "Billing" (the search filter the desktop offers)
PREFIX_BASE, PREFIX_SPAN = 80.0, 10.0  # prefix score: 80-90, higher when more of the name is typed
MAX_WORDS = 400  # bound the work on huge messages


class _TeamIndex:
    """The caller's team names, folded once per parse for fast fuzzy lookups."""

    def __init__(self, teams: Iterable[str]) -> None:
        self.names: list[str] = []
        self.folded: list[str] = []
        self.exact: dict[str, int] = {}
        self.words: list[str] = []  # distinctive words of multi-word names
        self.word_owner: list[int] = []
        for name in dict.fromkeys(t for t in teams if isinstance(t, str) and t.strip()):
            folded = " ".join(_WORD.findall(_fold(name)))
            if not folded:
                continue
            index = len(self.names)
            self.names.append(name)
            self.folded.append(folded)
            self.exact.setdefault(folded, index)
            parts = folded.split()
            if len(parts) > 1:
                for word in parts:
                    if word not in _ORDINARY and len(word) >= PREFIX_MIN_CHARS:
                        self.words.append(word)
                        self.word_owner.append(index)
        self.longest = max((len(f.split()) for f in self.folded), default=0)

    def scores(self, candidate: str) -> dict[int, float]:
        """Team index -> how well the folded ``candidate`` names it (0-100); empty when nothing fits."""
        found: dict[int, float] = {}
        exact = self.exact.get(candidate)
        if exact is not None:
            found[exact] = 100.0
        if len(candidate) < PREFIX_MIN_CHARS:
            return found

        def keep(index: int, score: float) -> None:
            found[index] = max(found.get(index, 0.0), score)

        for _, score, index in process.extract(
            candidate, self.folded, scorer=fuzz.ratio, score_cutoff=FULL_MATCH_MIN, limit=None
        ):
            keep(index, score)
        for index, folded in enumerate(self.folded):
            if folded.startswith(candidate):
                keep(index, PREFIX_BASE + PREFIX_SPAN * len(candidate) / len(folded))
        if " " not in candidate and self.words:
            for _, score, position in process.extract(
                candidate, self.words, scorer=fuzz.ratio, score_cutoff=WORD_MATCH_MIN, limit=None
            ):
                keep(self.word_owner[position], score * WORD_WEIGHT)
        return found


def extract_teams(text: str, teams: Sequence[str], taken: Sequence[tuple[int, int]] = ()) -> list[Entity]:
    """Team names mentioned in ``text``, matched against the caller's ``teams``.

    What matches, best first: the exact name (case and accents ignored, word-bounded, anywhere in the
    text); a misspelled whole name (``fuzz.ratio`` >= 84, e.g. "biling" -> "Billing"); a prefix of a
    name of at least four letters (the desktop's search filter: "bill" -> "Billing"); one distinctive
    word of a multi-word name, possibly misspelled ("escalations" -> "Billing Escalations", scored
    below a whole-name match). Candidates are runs of one to (words in the longest name + 1) words
    that neither start nor end with an ordinary word ("the", "team", "agent", "support", "équipe", ...),
    so ordinary words never fire on their own, and that do not overlap the ``taken`` spans (numbers,
    emails). Fuzzy and prefix matches need at least four letters.

    Ties: when several teams match the same words equally well, every tied team is returned, each as
    its own entity over the same span, in the order the caller gave them ("sales" with "Sales EMEA"
    and "Sales North America" gives both). The flow then offers just those teams as a narrowed choice,
    like the desktop's search filter. When one team matches better, only that team is returned for
    those words; a match covering more of the user's words wins over a shorter one ("sales north" ->
    "Sales North America" only). Each team is reported at most once (its best span).
    """
    index = _team_index(tuple(t for t in teams if isinstance(t, str)))
    if not index.names:
        return []
    words = [(m.start(), m.end(), _fold(m.group(0))) for m in _WORD.finditer(text)][:MAX_WORDS]
    candidates: list[_Candidate] = []
    for i, first in enumerate(words):
        for j in range(i, min(len(words), i + index.longest + 1)):
            start, end = first[0], words[j][1]
            if any(_overlaps(start, end, a, b) for a, b in taken):
                break
            candidate = " ".join(w[2] for w in words[i : j + 1])
            if first[2] in _ORDINARY or words[j][2] in _ORDINARY:
                exact = index.exact.get(candidate)  # "Service Client France" said in full still counts
                if exact is not None:
                    candidates.append((j - i + 1, 100.0, start, end, exact))
                continue
            for team, score in index.scores(candidate).items():
                candidates.append((j - i + 1, score, start, end, team))
    return [Entity("team", index.names[t], s, e) for s, e, t in _best_non_overlapping(candidates)]


@functools.lru_cache(maxsize=64)
def _team_index(teams: tuple[str, ...]) -> _TeamIndex:
    """A tenant's team names, folded once and shared by every parse (the index is read-only)."""
    return _TeamIndex(teams)


_Candidate = tuple[int, float, int, int, int]  # (words covered, score, start, end, team index)


def _best_non_overlapping(candidates: list[_Candidate]) -> list[tuple[int, int, int]]:
    """Greedy: the candidate covering more of the user's words first ("sales north" beats "sales"),
    then the better score; keep exact ties on the same span."""
    candidates.sort(key=lambda c: (-c[0], -c[1], c[2], c[4]))
    chosen: list[_Candidate] = []
    for words, score, start, end, team in candidates:
        if any(team == c[4] for c in chosen):
            continue
        clash = [c for c in chosen if _overlaps(start, end, c[2], c[3])]
        if not clash or all((c[0], c[1], c[2], c[3]) == (words, score, start, end) for c in clash):
            chosen.append((words, score, start, end, team))
    chosen.sort(key=lambda c: (c[2], c[4]))
    return [(start, end, team) for _, _, start, end, team in chosen]


# --------------------------------------------------------------------------------------------------


def extract(text: str, *, teams: Sequence[str] = (), region: str = "US") -> list[Entity]:
    """All entities of ``text``, ordered by position (then name)."""
    emails = extract_emails(text)
    phones = extract_phone_numbers(text, region)
    taken = [(e.start, e.end) for e in (*emails, *phones)]
    extensions = extract_extensions(text, taken)
    taken += [(e.start, e.end) for e in extensions]
    found = [*emails, *phones, *extensions, *extract_keywords(text), *extract_teams(text, teams, taken)]
    return sorted(found, key=lambda e: (e.start, e.end, e.entity))
