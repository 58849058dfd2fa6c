"""Block Kit rendering: the flow's `Reply` objects as Slack messages, and clicks back as choices.

Conventions (tests and the listeners rely on them):

- every block's `block_id` is ``lb:<reply key>:<reply index>.<block index>``, so what was said can be
  read back from a message (`reply_keys`) in any language;
- a button's `action_id` is ``lb.choose.<reply>.<n>`` and its `value` the choice's value
  (``role:supervisor``); a select's is ``lb.select.<reply>`` (``lb.team_search.<reply>`` for the
  external team search) and each option's `value` the choice's value. A value longer than Slack's
  comfortable 75 characters travels as ``#<n>`` and comes back as the typed number n+1, which the
  flow maps to the n-th choice it offered;
- the auto-login question is a "Don't show again" checkbox (``lb.auto.check``) plus a Continue
  button (``lb.auto.continue``) that reads the checkbox state, like the desktop's dialog;
- `lb.home.*` are the App Home buttons (see `home.py`);
- a long answer (`Reply.document`: the troubleshooting checklist, the failure report) is a header,
  its introduction, then per item a section with a status mark and a context with the evidence and
  the fix (plain text: a masked number's asterisks or a tenant's names are never read as markup),
  and a table as monospace; its files (the report's chart) travel in `SlackMessage.files` and are
  uploaded after the message.

Slack's limits are enforced here rather than trusted to the catalogs: 50 blocks a message (longer
turns are split), 3000 characters a section, 75 characters an option's text, 100 options a
`static_select` (beyond that an `external_select` answered from `block_suggestion`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.backend.port import Team
from bot.flow.replies import Attachment, Choice, Document, Reply, ReplyKind, Table
from bot.flow.teams import filter_teams

from .texts import slack_texts

Block = dict[str, Any]

MAX_BLOCKS = 50
MAX_SECTION_CHARS = 3000
MAX_OPTION_CHARS = 75
MAX_VALUE_CHARS = 75
MAX_STATIC_OPTIONS = 100
MAX_BUTTONS_PER_BLOCK = 25
MAX_FIELDS_PER_SECTION = 10
MAX_FALLBACK_CHARS = 3000
MAX_HEADER_CHARS = 150
MAX_CONTEXT_CHARS = 3000  # one context element's text
STATUS_MARKS = {"problem": ":red_circle:", "unknown": ":large_yellow_circle:", "ok": ":white_check_mark:"}
TEAM_SELECT_ABOVE = 5  # more teams than this: a searchable select instead of a row of buttons
TEAM_SEARCH_MIN_QUERY = 1

CHOOSE = "lb.choose"
SELECT = "lb.select"
TEAM_SEARCH = "lb.team_search"
AUTO_CHECK = "lb.auto.check"
AUTO_CONTINUE = "lb.auto.continue"
AUTO_YES, AUTO_NO = "auto:yes", "auto:no"

CHOOSE_ACTION = re.compile(r"^lb\.choose\.")
SELECT_ACTION = re.compile(r"^lb\.(select|team_search)\.")
TEAM_SEARCH_ACTION = re.compile(r"^lb\.team_search\.")
_BLOCK_ID = re.compile(r"^lb:(?P<key>[^:]+):(?P<reply>\d+)\.(?P<block>\d+)$")
_LONG_VALUE = re.compile(r"^#(\d{1,3})$")


@dataclass(frozen=True)
class SlackMessage:
    """One `chat.postMessage`: the blocks, and the plain text Slack shows in notifications."""

    text: str
    blocks: list[Block]
    files: tuple[Attachment, ...] = ()  # uploaded with `files_upload_v2` once the message is posted


@dataclass(frozen=True)
class Picked:
    """What a click means to the flow: a choice value, or (for a long value) a typed number."""

    choice: str | None
    text: str
    label: str


# --- replies -> blocks ---------------------------------------------------------------------------


def render(replies: Sequence[Reply], *, language: str | None) -> list[SlackMessage]:
    """A turn's replies as as few messages as Slack allows: one, unless it needs over 50 blocks."""
    messages: list[SlackMessage] = []
    blocks: list[Block] = []
    texts: list[str] = []
    files: list[Attachment] = []
    for index, reply in enumerate(replies):
        rendered = reply_blocks(reply, index, language=language)[:MAX_BLOCKS]
        if blocks and len(blocks) + len(rendered) > MAX_BLOCKS:
            messages.append(SlackMessage(_fallback(texts), blocks, tuple(files)))
            blocks, texts, files = [], [], []
        blocks.extend(rendered)
        texts.append(reply.text)
        if reply.document is not None:
            files.extend(reply.document.attachments)
    if blocks:
        messages.append(SlackMessage(_fallback(texts), blocks, tuple(files)))
    return messages


def reply_blocks(reply: Reply, index: int, *, language: str | None) -> list[Block]:
    ids = _Ids(reply.key, index)
    if reply.document is not None:
        return [*document_blocks(reply.document, ids), *_choice_blocks(reply, index, ids, language)]
    blocks: list[Block] = [_section(ids.next(), reply.text)]
    fields = [f"*{escape(label)}*\n{escape(value)}" for label, value in reply.fields.items()]
    for start in range(0, len(fields), MAX_FIELDS_PER_SECTION):
        chunk = fields[start : start + MAX_FIELDS_PER_SECTION]
        blocks.append(
            {
                "type": "section",
                "block_id": ids.next(),
                "fields": [{"type": "mrkdwn", "text": _clip(f, 2000)} for f in chunk],
            }
        )
    blocks.extend(_choice_blocks(reply, index, ids, language))
    return blocks


def document_blocks(document: Document, ids: _Ids) -> list[Block]:
    """A checklist or a report: header, introduction, one section (+ context) per item, the table."""
    blocks: list[Block] = [
        {"type": "header", "block_id": ids.next(), "text": _plain(document.title, MAX_HEADER_CHARS)}
    ]
    if document.intro:
        blocks.append(_section(ids.next(), "\n".join(document.intro)))
    # Two blocks per item; the header, the introduction and a row of buttons keep their places.
    for item in document.sections[: (MAX_BLOCKS - 4) // 2]:
        mark = STATUS_MARKS.get(item.status, ":small_blue_diamond:")
        status = f" — {escape(item.status_label)}" if item.status_label else ""
        heading = f"{mark} *{escape(item.title)}*{status}"
        blocks.append(
            {
                "type": "section",
                "block_id": ids.next(),
                "text": {"type": "mrkdwn", "text": _clip(heading, MAX_SECTION_CHARS)},
            }
        )
        elements = []
        if item.lines:
            elements.append(_context_text("\n".join(f"• {line}" for line in item.lines)))
        if item.note:
            elements.append(_context_text(f"→ {item.note}"))
        if elements:
            blocks.append({"type": "context", "block_id": ids.next(), "elements": elements})
    if document.table is not None:
        room = MAX_BLOCKS - len(blocks) - 1
        blocks.extend(_table_blocks(document.table, ids)[: max(room, 1)])
    return blocks


def _table_blocks(table: Table, ids: _Ids) -> list[Block]:
    """The table as monospace text, in as many sections as its length needs (3000 characters each)."""
    rows = [table.header, *table.rows, *([table.footer] if table.footer else [])]
    columns = max(len(row) for row in rows)
    widths = [max(len(row[c]) for row in rows if c < len(row)) for c in range(columns)]
    numeric = [all(row[c].isdigit() for row in rows[1:] if c < len(row) and row[c]) for c in range(columns)]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            (cell.rjust(widths[c]) if numeric[c] else cell.ljust(widths[c])) for c, cell in enumerate(row)
        ]
        return escape("  ".join(cells).rstrip())

    lines = [line(table.header), escape("-" * (sum(widths) + 2 * (columns - 1)))]
    lines += [line(row) for row in table.rows]
    if table.footer:
        lines += [lines[1], line(table.footer)]
    blocks: list[Block] = []
    chunk: list[str] = []
    budget = MAX_SECTION_CHARS - len("```\n```")
    for text in lines:
        text = _clip(text, budget)
        if chunk and sum(len(t) + 1 for t in chunk) + len(text) > budget:
            blocks.append(_code(ids.next(), chunk))
            chunk = []
        chunk.append(text)
    if chunk:
        blocks.append(_code(ids.next(), chunk))
    return blocks


def _code(block_id: str, lines: list[str]) -> Block:
    return {
        "type": "section",
        "block_id": block_id,
        "text": {"type": "mrkdwn", "text": "```" + "\n".join(lines) + "```"},
    }


def _context_text(text: str) -> Block:
    return {"type": "plain_text", "text": _clip(text or " ", MAX_CONTEXT_CHARS), "emoji": True}


def _choice_blocks(reply: Reply, index: int, ids: _Ids, language: str | None) -> list[Block]:
    choices = reply.choices
    if not choices:
        return []
    values = {c.value for c in choices}
    texts = slack_texts()
    if values == {AUTO_YES, AUTO_NO}:
        return [_auto_login(ids.next(), language)]
    if all(c.value.startswith("team:") for c in choices) and len(choices) > TEAM_SELECT_ABOVE:
        if len(choices) <= MAX_STATIC_OPTIONS:
            select = _static_select(f"{SELECT}.{index}", texts.text(language, "select.team"), choices)
        else:
            select = {
                "type": "external_select",
                "action_id": f"{TEAM_SEARCH}.{index}",
                "placeholder": _plain(texts.text(language, "select.team_search")),
                "min_query_length": TEAM_SEARCH_MIN_QUERY,
            }
        return [{"type": "actions", "block_id": ids.next(), "elements": [select]}]
    if all(c.value.startswith("cc:") for c in choices) and len(choices) > 1:
        select = _static_select(f"{SELECT}.{index}", texts.text(language, "select.country_code"), choices)
        return [{"type": "actions", "block_id": ids.next(), "elements": [select]}]
    if len(choices) > MAX_BUTTONS_PER_BLOCK:
        select = _static_select(f"{SELECT}.{index}", texts.text(language, "select.other"), choices)
        return [{"type": "actions", "block_id": ids.next(), "elements": [select]}]
    buttons = []
    for n, choice in enumerate(choices):
        button: Block = {
            "type": "button",
            "action_id": f"{CHOOSE}.{index}.{n}",
            "text": _plain(choice.label),
            "value": _value(choice, n),
        }
        if reply.kind is ReplyKind.SUMMARY and choice.value == "confirm:yes":
            button["style"] = "primary"  # "Save and continue" (S10)
        buttons.append(button)
    return [{"type": "actions", "block_id": ids.next(), "elements": buttons}]


def _auto_login(block_id: str, language: str | None) -> Block:
    texts = slack_texts()
    return {
        "type": "actions",
        "block_id": block_id,
        "elements": [
            {
                "type": "checkboxes",
                "action_id": AUTO_CHECK,
                "options": [
                    {
                        "text": _plain(texts.text(language, "auto_login.dont_show_again")),
                        "description": _plain(texts.text(language, "auto_login.hint")),
                        "value": AUTO_YES,
                    }
                ],
            },
            {
                "type": "button",
                "action_id": AUTO_CONTINUE,
                "text": _plain(texts.text(language, "auto_login.continue")),
                "value": "auto:continue",
                "style": "primary",
            },
        ],
    }


def _static_select(action_id: str, placeholder: str, choices: Sequence[Choice]) -> Block:
    return {
        "type": "static_select",
        "action_id": action_id,
        "placeholder": _plain(placeholder),
        "options": [option(c.label, _value(c, n)) for n, c in enumerate(choices[:MAX_STATIC_OPTIONS])],
    }


def option(label: str, value: str) -> Block:
    return {"text": _plain(label), "value": value}


def team_options(teams: Sequence[Team], query: str) -> list[Block]:
    """The `block_suggestion` answer: the user's teams whose name has every typed word, at most 100."""
    found = filter_teams(query, teams) if query.strip() else list(teams)
    return [option(t.name, f"team:{t.id}"[:MAX_VALUE_CHARS]) for t in found[:MAX_STATIC_OPTIONS]]


# --- clicks -> flow input ------------------------------------------------------------------------


def picked(action: dict[str, Any], state_values: dict[str, Any] | None = None) -> Picked | None:
    """The flow input a `block_actions` action stands for, or None when it stands for nothing yet (a
    checkbox ticked before Continue) or is malformed."""
    action_id = str(action.get("action_id", ""))
    if action_id == AUTO_CONTINUE:
        checked = _auto_checked(state_values or {})
        return Picked(AUTO_YES if checked else AUTO_NO, "", "")
    if action.get("type") == "button":
        value, label = action.get("value"), _text_of(action.get("text"))
    else:
        selected = action.get("selected_option")
        selected = selected if isinstance(selected, dict) else {}
        value, label = selected.get("value"), _text_of(selected.get("text"))
    if not isinstance(value, str) or not value:
        return None
    long_value = _LONG_VALUE.match(value)
    if long_value:
        return Picked(None, str(int(long_value.group(1)) + 1), str(label))
    return Picked(value, "", str(label))


def click_for(blocks: list[Block], value: str) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """What Slack sends when a user picks `value` in these blocks (the last place offering it): the
    `block_actions` action and the form state that comes with it; None when nothing offers it. The
    inverse of `picked`, for simulated users (the test suites' and the benchmark's): a button, an
    option of a select, or "Don't show again" ticked (`auto:yes`) or not (`auto:no`) then Continue."""
    for block in reversed(blocks):
        if block.get("type") != "actions":
            continue
        for element in block["elements"]:
            if element["type"] == "button" and element.get("action_id") == AUTO_CONTINUE:
                if value not in (AUTO_YES, AUTO_NO):
                    continue
                box = next(e for e in block["elements"] if e["type"] == "checkboxes")
                selected = box["options"] if value == AUTO_YES else []
                state = {
                    block["block_id"]: {AUTO_CHECK: {"type": "checkboxes", "selected_options": selected}}
                }
                return _button_action(block, element, element["value"]), state
            if element["type"] == "button" and element.get("value") == value:
                return _button_action(block, element, value), {}
            if element["type"] == "static_select":
                for option in element["options"]:
                    if option["value"] == value:
                        action = {
                            "type": "static_select",
                            "action_id": element["action_id"],
                            "block_id": block["block_id"],
                            "selected_option": option,
                        }
                        return action, {}
    return None


def _button_action(block: Block, element: dict[str, Any], value: str) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": element["action_id"],
        "block_id": block["block_id"],
        "text": element["text"],
        "value": value,
    }


def _auto_checked(state_values: dict[str, Any]) -> bool:
    for block in state_values.values():
        element = block.get(AUTO_CHECK) if isinstance(block, dict) else None
        if isinstance(element, dict):
            options = element.get("selected_options")
            options = options if isinstance(options, list) else []
            return any(isinstance(o, dict) and o.get("value") == AUTO_YES for o in options)
    return False


def _text_of(text: object) -> str:
    """A control's label as Slack sends it (a text object); anything else has none."""
    return str(text.get("text", "")) if isinstance(text, dict) else ""


def with_answer(blocks: Iterable[Block], block_id: str, answer: str) -> list[Block]:
    """The clicked message once answered: the controls of `block_id` replaced by the chosen answer,
    so that the conversation reads like a transcript instead of a pile of live buttons."""
    updated: list[Block] = []
    for block in blocks:
        if block.get("block_id") == block_id and block.get("type") == "actions":
            updated.append(answer_block(block_id, answer))
        else:
            updated.append(block)
    return updated


def answer_block(block_id: str, answer: str) -> Block:
    """The answer chosen, in place of the controls of `block_id` it answered."""
    return {"type": "context", "block_id": block_id, "elements": [{"type": "mrkdwn", "text": answer}]}


def reply_keys(blocks: Iterable[Block]) -> list[str]:
    """The catalog keys of the replies a message holds, in order (read back from the block ids)."""
    keys: list[str] = []
    seen: set[str] = set()
    for block in blocks:
        match = _BLOCK_ID.match(str(block.get("block_id", "")))
        if match and match.group("reply") not in seen:
            seen.add(match.group("reply"))
            keys.append(match.group("key"))
    return keys


# --- helpers -------------------------------------------------------------------------------------


class _Ids:
    def __init__(self, key: str, reply: int) -> None:
        self.key = key.replace(":", "_")[:200]
        self.reply = reply
        self.count = 0

    def next(self) -> str:
        block_id = f"lb:{self.key}:{self.reply}.{self.count}"
        self.count += 1
        return block_id


def escape(text: str) -> str:
    """mrkdwn's three control characters: a team name or a typed text can never ping @channel."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _section(block_id: str, text: str) -> Block:
    return {
        "type": "section",
        "block_id": block_id,
        "text": {"type": "mrkdwn", "text": _clip(escape(text) or " ", MAX_SECTION_CHARS)},
    }


def _plain(text: str, limit: int = MAX_OPTION_CHARS) -> Block:
    return {"type": "plain_text", "text": _clip(text or " ", limit), "emoji": True}


def _value(choice: Choice, n: int) -> str:
    return choice.value if len(choice.value) <= MAX_VALUE_CHARS else f"#{n}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _fallback(texts: list[str]) -> str:
    return _clip("\n".join(texts), MAX_FALLBACK_CHARS)
