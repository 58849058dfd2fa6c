"""Team resolution (S9): exact, partial and misspelled names, and "which one?" when two are close."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz, process, utils

from bot.backend.port import Team

ACCEPT = 86.0  # a score this high is the team the user meant...
CLOSE = 8.0  # ...unless another team scores within this margin: then ask which one
CONSIDER = 60.0  # below this, a team is not a candidate at all


@dataclass(frozen=True)
class TeamMatch:
    team: Team | None  # the one team meant, when it is clear
    candidates: tuple[Team, ...] = ()  # close teams to choose from, when it is not


def _score(query: str, choice: str, **_: object) -> float:
    # WRatio handles misspellings and word order; partial matching lets "bill" find "Billing".
    whole = fuzz.WRatio(query, choice, processor=utils.default_process)
    prefix = 100.0 if utils.default_process(choice).startswith(utils.default_process(query)) else 0.0
    return max(whole, prefix * 0.9)


def filter_teams(query: str, teams: Sequence[Team]) -> list[Team]:
    """Teams whose name contains every typed word: the search filter of the desktop."""
    words = utils.default_process(query).split()
    return [t for t in teams if all(w in utils.default_process(t.name) for w in words)]


def match_team(query: str, teams: Sequence[Team]) -> TeamMatch:
    text = query.strip()
    if not text or not teams:
        return TeamMatch(None)
    folded = utils.default_process(text)
    exact = [t for t in teams if utils.default_process(t.name) == folded or t.id == text]
    if len(exact) == 1:
        return TeamMatch(exact[0])
    contained = filter_teams(text, teams)
    if len(contained) == 1:
        return TeamMatch(contained[0])
    names = {t.id: t.name for t in teams}
    scored = process.extract(text, names, scorer=_score, limit=None, score_cutoff=CONSIDER)
    by_id = {t.id: t for t in teams}
    ranked = [(by_id[key], score) for _, score, key in scored]
    if not ranked:
        return TeamMatch(None, tuple(contained))
    best, best_score = ranked[0]
    close = [team for team, score in ranked if best_score - score <= CLOSE]
    if best_score >= ACCEPT and len(close) == 1 and len(contained) <= 1:
        return TeamMatch(best)
    candidates = contained if len(contained) > 1 else close
    return TeamMatch(None, tuple(candidates[:10]))
