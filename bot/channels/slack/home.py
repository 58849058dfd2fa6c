"""The App Home tab: what loginbot remembers for the user, and buttons to act on it (U2).

Why a Home tab: preferences and the last outcome are state, not conversation; a user checks them
without scrolling a DM. The view is rebuilt from the store on every `app_home_opened` and after
every Home button, so it never shows a stale cache. The labels of the saved preferences are the
flow's own (`FlowEngine.preference_fields`), so Home and the chat's "show my preferences" agree.
"""

from __future__ import annotations

from typing import Any

from bot.assistant import Assistant
from storage import AttemptRecord

from .blocks import Block, escape
from .texts import slack_texts

HOME_LOGIN = "lb.home.login"
HOME_LOGOUT = "lb.home.logout"
HOME_AUTO_LOGIN = "lb.home.autologin"
HOME_ACTIONS = (HOME_LOGIN, HOME_LOGOUT, HOME_AUTO_LOGIN)


async def home_view(assistant: Assistant, email: str, language: str | None) -> dict[str, Any]:
    """The `views.publish` view for `email` (empty email: a user Slack gave no email for)."""
    texts = slack_texts()
    blocks: list[Block] = [
        {
            "type": "header",
            "block_id": "lb:home.title:0.0",
            "text": _plain(texts.text(language, "home.title")),
        },
        _section("home.intro", texts.text(language, "home.intro")),
    ]
    if not email:
        blocks.append(_section("home.unknown_user", texts.text(language, "home.unknown_user")))
        return {"type": "home", "blocks": blocks}
    context = await assistant.context_for(email)
    preferences = context.preferences
    blocks.append(_section("home.preferences", texts.text(language, "home.preferences"), bold=True))
    if preferences is None:
        blocks.append(_section("home.no_preferences", texts.text(language, "home.no_preferences")))
    else:
        labelled = assistant.engine.preference_fields(preferences, language, context)
        fields = [f"*{escape(k)}*\n{escape(v)}" for k, v in labelled.items()]
        blocks.append(
            {
                "type": "section",
                "block_id": "lb:home.fields:0.0",
                "fields": [{"type": "mrkdwn", "text": f} for f in fields[:10]],
            }
        )
        on = preferences.auto_login
        blocks.append(
            _section(
                "home.auto_login_on" if on else "home.auto_login_off",
                texts.text(language, "home.auto_login_on" if on else "home.auto_login_off"),
            )
        )
    blocks.append({"type": "divider", "block_id": "lb:home.divider:0.0"})
    blocks.append(_section("home.last_attempt", texts.text(language, "home.last_attempt"), bold=True))
    attempts = assistant.store.recent_attempts(email, limit=1)
    blocks.extend(
        _attempt(assistant, attempts[0], language)
        if attempts
        else [_section("home.no_attempt", texts.text(language, "home.no_attempt"))]
    )
    buttons: list[Block] = [
        _button(HOME_LOGIN, texts.text(language, "home.sign_in"), "cmd:login", primary=True),
        _button(HOME_LOGOUT, texts.text(language, "home.sign_out"), "cmd:logout"),
    ]
    if preferences is not None:
        on = preferences.auto_login
        buttons.append(
            _button(
                HOME_AUTO_LOGIN,
                texts.text(language, "home.turn_off" if on else "home.turn_on"),
                "cmd:autologin_off" if on else "cmd:autologin_on",
            )
        )
    blocks.append({"type": "actions", "block_id": "lb:home.actions:0.0", "elements": buttons})
    return {"type": "home", "blocks": blocks}


def _attempt(assistant: Assistant, attempt: AttemptRecord, language: str | None) -> list[Block]:
    texts = slack_texts()
    when = attempt.finished_at.strftime("%Y-%m-%d %H:%M UTC")
    if attempt.outcome == "success":
        blocks = [_section("home.success", texts.text(language, "home.success", when=when))]
    else:
        reason_key = f"failure.{attempt.reason or 'UNKNOWN'}"
        catalog = assistant.engine.catalog
        reason = catalog.text(
            language,
            reason_key if catalog.has(reason_key) else "failure.UNKNOWN",
            number=attempt.dial_number or "",
            url="",
        )
        blocks = [_section("home.failure", texts.text(language, "home.failure", when=when, reason=reason))]
    if attempt.tracking_id:
        blocks.append(
            {
                "type": "context",
                "block_id": "lb:home.tracking_id:0.0",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": escape(
                            texts.text(language, "home.tracking_id", tracking_id=attempt.tracking_id)
                        ),
                    }
                ],
            }
        )
    return blocks


def _section(key: str, text: str, *, bold: bool = False) -> Block:
    shown = escape(text)[:2990]
    return {
        "type": "section",
        "block_id": f"lb:{key}:0.0",
        "text": {"type": "mrkdwn", "text": f"*{shown}*" if bold else shown},
    }


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text[:150], "emoji": True}


def _button(action_id: str, label: str, value: str, *, primary: bool = False) -> Block:
    button: Block = {"type": "button", "action_id": action_id, "text": _plain(label[:75]), "value": value}
    if primary:
        button["style"] = "primary"
    return button
