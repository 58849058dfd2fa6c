"""Block Kit rendering on its own: Slack's limits, the block id and action id conventions."""

from __future__ import annotations

from bot.channels.slack import blocks as kit
from bot.channels.slack.texts import slack_texts
from bot.flow.replies import Choice, Reply, ReplyKind


def _prompt(key: str, choices: list[Choice], **kwargs: object) -> Reply:
    return Reply(key=key, text="Which one?", kind=ReplyKind.PROMPT, choices=tuple(choices), **kwargs)  # type: ignore[arg-type]


def test_block_ids_carry_the_reply_keys_in_order() -> None:
    replies = [
        Reply(key="failure.DUPLICATE_LOCATION", text="In use."),
        Reply(key="ask.confirm", text="Save?", kind=ReplyKind.SUMMARY, fields={"Team": "Billing"},
              choices=(Choice("confirm:yes", "Save and continue"), Choice("confirm:change", "Change"))),
    ]  # fmt: skip
    [message] = kit.render(replies, language="en")
    assert kit.reply_keys(message.blocks) == ["failure.DUPLICATE_LOCATION", "ask.confirm"]
    ids = [b["block_id"] for b in message.blocks]
    assert len(ids) == len(set(ids)) and all(i.startswith("lb:") for i in ids)
    save = message.blocks[-1]["elements"][0]
    assert save["style"] == "primary" and save["value"] == "confirm:yes"
    assert "In use." in message.text and "Save?" in message.text


def test_a_long_turn_is_split_under_fifty_blocks_a_message() -> None:
    replies = [Reply(key=f"info.{n}", text=f"line {n}", fields={"a": "b"}) for n in range(40)]
    messages = kit.render(replies, language="en")
    assert len(messages) == 2 and all(len(m.blocks) <= kit.MAX_BLOCKS for m in messages)
    assert [k for m in messages for k in kit.reply_keys(m.blocks)] == [f"info.{n}" for n in range(40)]


def test_texts_labels_and_values_stay_within_slack_limits() -> None:
    long_label = "L" * 200
    long_value = "team:" + "x" * 100
    teams = [Choice(f"team:t{n}", f"{long_label}{n}") for n in range(8)] + [Choice(long_value, "Long")]
    reply = _prompt("ask.team", teams)
    [message] = kit.render([Reply(key="x", text="<!channel> & *" + "y" * 5000), reply], language="en")
    section = message.blocks[0]["text"]["text"]
    assert len(section) <= kit.MAX_SECTION_CHARS and section.startswith("&lt;!channel&gt; &amp;")
    select = message.blocks[-1]["elements"][0]
    assert select["type"] == "static_select"
    assert all(len(o["text"]["text"]) <= 75 and len(o["value"]) <= 75 for o in select["options"])
    assert select["options"][-1]["value"] == "#8"
    picked = kit.picked({"type": "static_select", "selected_option": select["options"][-1]})
    assert picked == kit.Picked(None, "9", "Long")  # the flow maps the typed number to its choice


def test_few_teams_are_buttons_many_a_select_and_over_a_hundred_an_external_select() -> None:
    def element(count: int) -> dict[str, object]:
        reply = _prompt("ask.team", [Choice(f"team:t{n}", f"Team {n}") for n in range(count)])
        return kit.reply_blocks(reply, 0, language="en")[-1]["elements"][0]

    assert element(5)["type"] == "button"
    assert element(6)["type"] == "static_select"
    assert element(100)["type"] == "static_select"
    external = element(101)
    assert external["type"] == "external_select" and external["min_query_length"] == 1


def test_country_codes_are_a_select_and_auto_login_a_checkbox_with_continue() -> None:
    codes = _prompt("ask.country_code", [Choice("cc:1", "+1 United States"), Choice("cc:33", "+33 France")])
    assert kit.reply_blocks(codes, 0, language="en")[-1]["elements"][0]["type"] == "static_select"
    auto = _prompt("ask.auto_login", [Choice("auto:yes", "Yes"), Choice("auto:no", "No")])
    elements = kit.reply_blocks(auto, 0, language="fr")[-1]["elements"]
    assert [e["type"] for e in elements] == ["checkboxes", "button"]
    assert elements[0]["options"][0]["text"]["text"] == "Ne plus afficher"
    state = {"b": {kit.AUTO_CHECK: {"selected_options": [{"value": "auto:yes"}]}}}
    assert kit.picked({"action_id": kit.AUTO_CONTINUE, "type": "button"}, state).choice == "auto:yes"
    assert kit.picked({"action_id": kit.AUTO_CONTINUE, "type": "button"}, {}).choice == "auto:no"


def test_a_simulated_click_reads_back_as_the_choice_it_picks() -> None:
    """`click_for` (the simulated users' click) is the inverse of `picked` for every kind of control."""
    buttons = _prompt("ask.role", [Choice("role:supervisor", "Supervisor"), Choice("role:both", "Both")])
    select = _prompt("ask.team", [Choice(f"team:t{n}", f"Team {n}") for n in range(8)])
    auto = _prompt("ask.auto_login", [Choice("auto:yes", "Yes"), Choice("auto:no", "No")])
    for reply, value in (
        (buttons, "role:both"),
        (select, "team:t6"),
        (auto, "auto:yes"),
        (auto, "auto:no"),
    ):
        blocks = kit.reply_blocks(reply, 0, language="en")
        found = kit.click_for(blocks, value)
        assert found is not None, value
        action, state = found
        picked = kit.picked(action, state)
        assert picked is not None and picked.choice == value
    assert kit.click_for(kit.reply_blocks(buttons, 0, language="en"), "role:agent") is None


def test_malformed_actions_mean_nothing() -> None:
    assert kit.picked({"type": "button"}) is None
    assert kit.picked({"type": "static_select", "selected_option": {"value": 3}}) is None


def test_the_answer_replaces_only_the_clicked_controls() -> None:
    reply = _prompt("ask.role", [Choice("role:supervisor", "Supervisor")])
    blocks = kit.reply_blocks(reply, 0, language="en")
    updated = kit.with_answer(blocks, blocks[-1]["block_id"], "✓ Supervisor")
    assert [b["type"] for b in updated] == ["section", "context"]
    assert kit.reply_keys(updated) == ["ask.role"]


def test_the_slack_catalogs_have_the_same_keys() -> None:
    texts = slack_texts()
    assert texts.keys("en") == texts.keys("fr")
