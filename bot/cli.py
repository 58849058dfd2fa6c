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


@app.command()
def simulator(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant YAML (default: the demo).")
    ] = None,
    state: Annotated[str | None, typer.Option(help="File keeping station sessions across restarts.")] = None,
    latency_ms: Annotated[int, typer.Option(help="Fault: latency added to every API answer.")] = 0,
    error_rate: Annotated[float, typer.Option(help="Fault: share of API requests answered 5xx.")] = 0.0,
    rate_limit_rate: Annotated[float, typer.Option(help="Fault: share answered 429 with Retry-After.")] = 0.0,
    retry_after_seconds: Annotated[int, typer.Option(help="Fault: the Retry-After of those 429s.")] = 1,
    drop_websocket_after: Annotated[
        int | None, typer.Option(help="Fault: close each notification socket after N messages.")
    ] = None,
    silent_websocket: Annotated[
        bool, typer.Option(help="Fault: mute sockets.")
    ] = False,
    lose_result_rate: Annotated[float, typer.Option(help="Fault: share of results never sent.")] = 0.0,
    seed: Annotated[int | None, typer.Option(help="Seed for the fault dice (repeatable runs).")] = None,
) -> None:
    """Serve the simulator as the Webex Contact Center API (REST, websocket, OAuth) on loopback."""
    from bot.backend.simulator.faults import Faults
    from bot.backend.simulator.server import serve
    from bot.log import configure
    from bot.settings import Settings

    settings = Settings()
    configure(settings.log_level)
    try:
        faults = Faults(
            latency_ms=latency_ms,
            error_rate=error_rate,
            rate_limit_rate=rate_limit_rate,
            retry_after_seconds=retry_after_seconds,
            drop_websocket_after=drop_websocket_after,
            silent_websocket=silent_websocket,
            lose_result_rate=lose_result_rate,
            seed=seed,
        )
    except ValueError as error:
        raise _fail(f"invalid fault settings: {error}") from None
    tenant_file = tenant or (str(settings.tenant_file) if settings.tenant_file else None)
    typer.echo(f"loginbot simulator on http://{host}:{port} (WXCC_API_URL), OAuth at http://{host}:{port}/v1")
    serve(host=host, port=port, tenant_file=tenant_file, state_path=state, faults=faults)


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
