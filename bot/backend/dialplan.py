"""Dial-plan matching as the current Webex SDK applies it: strip the plan's characters, then accept
the number if any active plan's regular expression matches it. With no active plan, accept."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from bot.backend.port import DialPlan


@lru_cache(maxsize=256)
def _compiled(expression: str) -> re.Pattern[str] | None:
    try:
        return re.compile(expression)
    except re.error:
        return None  # a broken tenant regex must not break sign-in; it simply matches nothing


def strip_for_plan(number: str, plan: DialPlan) -> str:
    stripped = "".join(ch for ch in number if ch not in plan.stripped_chars)
    return stripped


def matches_dial_plan(number: str, plans: Iterable[DialPlan]) -> bool:
    """True when some active plan accepts `number`, or when no plan is active."""
    active = [plan for plan in plans if plan.active]
    if not active:
        return True
    for plan in active:
        pattern = _compiled(plan.regular_expression)
        if pattern is not None and pattern.fullmatch(strip_for_plan(number, plan)):
            return True
    return False


def matches_criteria(number: str, criteria: Iterable[str]) -> bool:
    """`agentDNValidation = SPECIFIC`: the number must match one of the criteria expressions."""
    for expression in criteria:
        pattern = _compiled(expression)
        if pattern is not None and pattern.fullmatch(number):
            return True
    return False
