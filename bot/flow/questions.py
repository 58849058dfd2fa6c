"""The questions of the sign-in steps, each with the choices a channel shows as buttons or numbers.
The step table (`steps.py`) names one of these per step."""

from __future__ import annotations

from bot.flow.conversation import Conversation
from bot.flow.numbers import country_code_for_region
from bot.flow.replies import Choice, ReplyKind
from bot.flow.state import Step

# The country codes offered for a national number: the user's own region first.
COUNTRY_CHOICES = ("US", "CA", "GB", "FR", "DE", "BE", "CH", "ES", "IT", "AU", "IN")


def ask_role(c: Conversation) -> None:
    assert c.profile is not None
    choices = [Choice(f"role:{r.value}", c.role_label(r)) for r in c.profile.roles]
    c.say("ask.role", ReplyKind.PROMPT, choices=choices)


def ask_call_preference(c: Conversation) -> None:
    assert c.profile is not None
    choices = [Choice(f"call:{o.value}", c.call_label(o)) for o in c.profile.call_options]
    c.say("ask.call_preference", ReplyKind.PROMPT, choices=choices)


def ask_extension(c: Conversation) -> None:
    assert c.profile is not None
    choices = [Choice(f"ext:{e}", e) for e in c.profile.extensions]
    c.say("ask.extension", ReplyKind.PROMPT, choices=choices)


def ask_country_code(c: Conversation) -> None:
    assert c.profile is not None
    codes: dict[str, str] = {}
    for region in (c.profile.default_region, *COUNTRY_CHOICES):
        code = country_code_for_region(region)
        if code and code not in codes:
            codes[code] = region
    choices = [Choice(f"cc:{code}", f"+{code} {c.country_name(region)}") for code, region in codes.items()]
    pending = c.state.answers.pending_national
    key = "ask.country_code_for" if pending else "ask.country_code"
    c.say(key, ReplyKind.PROMPT, choices=choices, number=pending or "")


def ask_dial_number(c: Conversation) -> None:
    assert c.profile is not None
    default = c.default_number()
    offered = (default, *c.profile.dial_numbers)
    numbers = list(dict.fromkeys(n for n in offered if n and n not in c.state.refused_numbers))
    label = c.t("label.default")
    choices = [Choice(f"dn:{n}", n + (f" ({label})" if n == default else "")) for n in numbers]
    if c.profile.allows_other_numbers:
        choices.append(Choice("dn:international", c.t("label.international_format")))
    code = c.state.answers.country_code
    if code and c.state.editing is Step.DIAL_NUMBER:
        # International format: the country code is chosen, only the national number is missing.
        c.say("ask.dial_number_national", ReplyKind.PROMPT, code=code)
        return
    if not c.profile.allows_other_numbers:
        key = "ask.dial_number_pick"
    else:
        key = "ask.dial_number_with_default" if default else "ask.dial_number"
    c.say(key, ReplyKind.PROMPT, choices=choices, default=default or "")


def ask_team(c: Conversation) -> None:
    assert c.profile is not None
    if c.state.team_candidates:
        teams = [t for t in c.profile.teams if t.id in c.state.team_candidates]
        c.say("ask.team_which", ReplyKind.PROMPT, choices=[Choice(f"team:{t.id}", t.name) for t in teams])
        return
    choices = [Choice(f"team:{t.id}", t.name) for t in c.profile.teams]
    c.say("ask.team", ReplyKind.PROMPT, choices=choices)


def ask_auto_login(c: Conversation) -> None:
    choices = [Choice("auto:yes", c.t("label.auto_yes")), Choice("auto:no", c.t("label.auto_no"))]
    c.say("ask.auto_login", ReplyKind.PROMPT, choices=choices)
