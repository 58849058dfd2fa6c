"""The `loginbot` command. Imports are deferred into each command so `loginbot --help` stays fast."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer

app = typer.Typer(
    name="loginbot",
    help="A chat assistant that signs contact-center supervisors and agents in to their station.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
nlu_app = typer.Typer(help="The embedded language recognizer.", no_args_is_help=True)
app.add_typer(nlu_app, name="nlu")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"loginbot: {message}", err=True)
    return typer.Exit(code=2)


@app.command()
def chat(
    user: Annotated[
        str | None, typer.Option("--user", help="Your work email (asked for when omitted).")
    ] = None,
    lang: Annotated[
        str | None, typer.Option("--lang", help="Language: en or fr (guessed when omitted).")
    ] = None,
) -> None:
    """Chat in the terminal, on the configured backend (the embedded simulator by default)."""
    from bot.app import ConfigurationError, build_assistant
    from bot.channels.terminal.chat import run_chat
    from bot.log import configure
    from bot.settings import Settings

    if lang is not None and lang not in ("en", "fr"):
        raise _fail("--lang takes en or fr")
    try:
        settings = Settings()
        configure(settings.log_level)
        assistant = build_assistant(settings)
    except ConfigurationError as error:
        raise _fail(str(error)) from None
    except ValueError as error:  # pydantic's ValidationError for a malformed setting
        raise _fail(f"invalid setting: {error}") from None
    code = asyncio.run(run_chat(assistant, user, lang))
    raise typer.Exit(code=code)


@nlu_app.command("parse")
def nlu_parse(
    text: Annotated[
        str | None, typer.Argument(help="The message; one per line on standard input when omitted.")
    ] = None,
) -> None:
    """Print the recognizer's result in Rasa's parse format (JSON)."""
    from intents.recognizer import Recognizer

    recognizer = Recognizer.default()
    if text is not None:
        typer.echo(json.dumps(recognizer.parse(text).as_rasa(), ensure_ascii=False))
        return
    for line in sys.stdin:
        sys.stdout.write(
            json.dumps(recognizer.parse(line.rstrip("\r\n")).as_rasa(), ensure_ascii=False) + "\n"
        )
        sys.stdout.flush()


def main() -> None:
    app()


if __name__ == "__main__":
    main()
