"""The Slack channel (U1): Bolt listeners, Block Kit rendering, identity, App Home and the server.

    from bot.channels.slack import build_app
    app = build_app(assistant, signing_secret=..., token=...)

`server.py` serves it over HTTP (`/slack/events`) or Socket Mode; `loginbot serve slack` runs it.
"""

from bot.channels.slack.app import CHANNEL, SlackChannel, build_app, conversation_key, make_client

__all__ = ["CHANNEL", "SlackChannel", "build_app", "conversation_key", "make_client"]
