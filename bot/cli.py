"""The `loginbot` command. Imports are deferred into each command so `loginbot --help` stays fast."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Annotated, Any

import typer

from bot.cli_nlu import nlu_app

app = typer.Typer(
    name="loginbot",
    help="A chat assistant that signs contact-center supervisors and agents in to their station.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(nlu_app, name="nlu")
# The servers (`serve slack`, `serve actions`): one group, each command adds itself to it.
serve_app = typer.Typer(
    help="Serve a channel: the Slack app or the Rasa action server.",
    no_args_is_help=True,
)
app.add_typer(serve_app, name="serve")
keys_app = typer.Typer(help="The secret key that encrypts tokens at rest.", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


rasa_app = typer.Typer(help="loginbot in a Rasa project.", no_args_is_help=True)
app.add_typer(rasa_app, name="rasa")


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"loginbot {version('loginbot')}")
        except PackageNotFoundError:  # run from a source tree that was never installed
            typer.echo("loginbot (not installed)")
        raise typer.Exit()


@app.callback()
def _main(
    show_version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """A chat assistant that signs contact-center supervisors and agents in to their station."""


@app.command()
def migrate() -> None:
    """Bring the database (LOGINBOT_DATABASE_URL) to this version's schema, then exit (a deploy
    step: every server also does it at start, under a lock)."""
    from bot.log import configure
    from bot.settings import Settings
    from storage import StorageError, Store

    try:
        settings = Settings()
        configure(settings.log_level, settings.log_format)
        Store.from_url(settings.database_url).close()
    except StorageError as error:
        raise _fail(f"LOGINBOT_DATABASE_URL: cannot open the database ({error})") from None
    except ValueError as error:  # pydantic's ValidationError for a malformed setting
        raise _invalid_setting(error) from None
    typer.echo("database schema up to date")


def _fail(message: str) -> typer.Exit:
    typer.echo(f"loginbot: {message}", err=True)
    return typer.Exit(code=2)


def _invalid_setting(error: ValueError) -> typer.Exit:
    """A malformed setting (pydantic's ValidationError, a ValueError): each variable named with
    what is wrong and the value given (never a secret's), without pydantic's documentation links."""
    problems = getattr(error, "errors", None)
    if not callable(problems):
        return _fail(f"invalid setting: {error}")
    lines = []
    for problem in problems():
        name = ".".join(str(part) for part in problem.get("loc", ())) or "a setting"
        given = "" if _SECRET_NAME.search(name) else f" (got {problem.get('input')!r})"
        lines.append(f"invalid setting {name}: {problem.get('msg', 'not valid')}{given}")
    return _fail("\nloginbot: ".join(lines))


_SECRET_NAME = re.compile(r"SECRET|TOKEN|KEY|PASSWORD", re.IGNORECASE)


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
    from bot.app import ConfigurationError, build_assistant, contact_center_knows
    from bot.channels.terminal.chat import run_chat
    from bot.log import configure
    from bot.settings import Settings

    if lang is not None and lang not in ("en", "fr"):
        raise _fail("--lang takes en or fr")
    from bot.identity import EmailVerifier, IdentitySettings, build_mailer

    try:
        settings = Settings()
        configure(settings.log_level, settings.log_format)
        assistant = build_assistant(settings)
        # On a real tenant the terminal cannot vouch for `--user`: a code sent to it proves it (S14).
        verifier = None
        if settings.backend == "wxcc":
            identity = IdentitySettings()
            verifier = EmailVerifier(
                assistant.store, build_mailer(identity), identity, knows=contact_center_knows(assistant)
            )
    except ConfigurationError as error:
        raise _fail(str(error)) from None
    except ValueError as error:  # pydantic's ValidationError for a malformed setting
        raise _invalid_setting(error) from None
    code = asyncio.run(run_chat(assistant, user, lang, verifier))
    raise typer.Exit(code=code)


@app.command()
def simulator(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    tenant: Annotated[str | None, typer.Option(help="Tenant YAML (default: the demo).")] = None,
    state: Annotated[str | None, typer.Option(help="File keeping station sessions across restarts.")] = None,
    latency_ms: Annotated[int, typer.Option(help="Fault: latency added to every API answer.")] = 0,
    error_rate: Annotated[float, typer.Option(help="Fault: share of API requests answered 5xx.")] = 0.0,
    rate_limit_rate: Annotated[float, typer.Option(help="Fault: share answered 429 with Retry-After.")] = 0.0,
    retry_after_seconds: Annotated[int, typer.Option(help="Fault: the Retry-After of those 429s.")] = 1,
    drop_websocket_after: Annotated[
        int | None, typer.Option(help="Fault: close each notification socket after N messages.")
    ] = None,
    silent_websocket: Annotated[bool, typer.Option(help="Fault: mute sockets.")] = False,
    lose_result_rate: Annotated[float, typer.Option(help="Fault: share of results never sent.")] = 0.0,
    seed: Annotated[int | None, typer.Option(help="Seed for the fault dice (repeatable runs).")] = None,
    outage: Annotated[
        bool, typer.Option(help="Start with the tenant's API outage on (PUT /admin/outage to end it).")
    ] = False,
    admin_token: Annotated[
        str | None, typer.Option(help="Require this X-Admin-Token on /admin/... (loopback only anyway).")
    ] = None,
    access_log: Annotated[
        bool, typer.Option(help="Log every HTTP request (off for load tests: a line per request).")
    ] = True,
) -> None:
    """Serve the simulator as the Webex Contact Center API (REST, websocket, OAuth) on loopback."""
    from bot.backend.simulator.faults import Faults
    from bot.backend.simulator.server import serve
    from bot.log import configure
    from bot.settings import Settings

    settings = Settings()
    configure(settings.log_level, settings.log_format)
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
    serve(
        host=host,
        port=port,
        tenant_file=tenant_file,
        state_path=state,
        faults=faults,
        admin_token=admin_token,
        access_log=access_log,
        outage=outage,
    )


@serve_app.command("actions")
def serve_actions(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (Rasa's action_endpoint).")] = 5055,
) -> None:
    """Serve the Rasa action server (/webhook, /actions, /health) on the configured backend and store."""
    from bot.app import ConfigurationError
    from bot.channels.rasa import RasaSettings, build_services
    from bot.channels.rasa.server import ExposedWithoutToken, check_exposure, serve
    from bot.log import configure
    from bot.settings import Settings

    try:
        settings = Settings()
        configure(settings.log_level, settings.log_format)
        check_exposure(RasaSettings(), host)
        services = build_services(settings)
    except ExposedWithoutToken as error:
        raise _fail(str(error)) from None
    except ConfigurationError as error:
        raise _fail(str(error)) from None
    except ValueError as error:  # pydantic's ValidationError for a malformed setting
        raise _invalid_setting(error) from None
    typer.echo(f"loginbot Rasa action server on http://{host}:{port}/webhook")
    serve(services, host=host, port=port)


@rasa_app.command("export")
def rasa_export(
    directory: Annotated[Path, typer.Argument(metavar="DIR", help="The Rasa project folder.")],
    language: Annotated[
        str | None,
        typer.Option("--language", help="en or fr (default: the language of the project's config.yml)."),
    ] = None,
    prefix: Annotated[
        str, typer.Option("--prefix", help="Put before loginbot's intents and responses ('' for none).")
    ] = "loginbot_",
) -> None:
    """Write loginbot's domain, training data and rules for one language into a Rasa project."""
    from bot.channels.rasa.export import export
    from bot.channels.rasa.project import ProjectError

    try:
        done = export(directory, language=language, prefix=prefix)
    except ProjectError as refused:
        raise _fail(str(refused)) from None
    except OSError as error:
        raise _fail(f"cannot write into {directory}: {error}") from None
    for path in done.files:
        typer.echo(f"wrote {directory / path}")
    typer.echo(
        f"{len(done.intents)} intents ({done.language}), {len(done.responses)} responses; "
        f"shared with the project: {', '.join(done.shared) or 'none'}; "
        f"{done.left_out} examples left out (the project has them)."
    )
    if done.domain_is_file:
        typer.echo(
            "Rasa reads one domain path: move domain.yml into domain/ (mv domain.yml domain/) "
            "and pass --domain domain to rasa train, rasa data validate and rasa test."
        )
    typer.echo(
        "Run loginbot's actions: `loginbot serve actions`, or add `import bot.channels.rasa.actions` "
        "to your actions package (see the action_endpoint in endpoints.yml)."
    )


@serve_app.command("slack")
def serve_slack(
    host: Annotated[str, typer.Option(help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on (/slack/events).")] = 3000,
    workers: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=64,
            help="HTTP mode: worker processes sharing the port (default LOGINBOT_SLACK_WORKERS, else 1). "
            "Socket Mode always runs one process.",
        ),
    ] = None,
) -> None:
    """Serve the Slack app: events, commands and interactivity at /slack/events, or Socket Mode when
    SLACK_APP_TOKEN is set (one process; --workers applies to HTTP mode only)."""
    from bot.log import configure
    from bot.settings import Settings

    try:
        settings = Settings()
    except ValueError as error:  # pydantic's ValidationError for a malformed setting
        raise _invalid_setting(error) from None
    missing = [
        name
        for name, value in (
            ("SLACK_SIGNING_SECRET", settings.slack_signing_secret),
            ("SLACK_BOT_TOKEN", settings.slack_bot_token),
        )
        if value is None or not value.get_secret_value()
    ]
    if missing:
        raise _fail(
            f"{' and '.join(missing)} not set: copy them from your Slack app's settings "
            "(Basic Information > Signing Secret; OAuth & Permissions > Bot User OAuth Token). "
            "See slack/README.md."
        )
    configure(settings.log_level, settings.log_format)
    count = workers or settings.slack_workers
    socket_mode = settings.slack_app_token is not None and bool(settings.slack_app_token.get_secret_value())
    from bot.ops import multiproc

    multiproc.prepare(1 if socket_mode else count)  # before prometheus-client is imported
    from bot.channels.slack.hosting import ConfigurationProblem, preload, serve_one, serve_workers

    if count > 1 and not socket_mode:
        try:
            preload(settings)  # checks the settings and migrates the database, once for all workers
        except ConfigurationProblem as error:
            raise _fail(str(error)) from None
        typer.echo(f"loginbot Slack app on http://{host}:{port}/slack/events ({count} worker processes)")
        serve_workers(settings, host=host, port=port, workers=count)
        return
    if socket_mode:
        if count > 1:
            typer.echo(f"loginbot: Socket Mode runs in one process ({count} workers asked for)", err=True)
        typer.echo("loginbot Slack app in Socket Mode")
    else:
        typer.echo(f"loginbot Slack app on http://{host}:{port}/slack/events")
    try:
        serve_one(settings, host=host, port=port)
    except ConfigurationProblem as error:
        raise _fail(str(error)) from None


@app.command()
def troubleshoot(
    who: Annotated[
        str, typer.Argument(metavar="EMAIL_OR_TRACKING_ID", help="The user's email, or a tracking id.")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the checklist as JSON.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language: en or fr.")] = "en",
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as", help="Check as this requester (T9); by default the operator is an administrator."
        ),
    ] = None,
) -> None:
    """Print a user's sign-in troubleshooting checklist (T1-T8), problems first.

    Whoever runs this command on the host already holds the database and the configuration, so the
    operator counts as an administrator; `--as EMAIL` applies the chat rule (T9) to that requester.
    """
    from bot.troubleshoot import OPERATOR, NotAllowed, TrackingIdNotFound
    from bot.troubleshoot.terminal import print_checklist

    if lang not in ("en", "fr"):
        raise _fail("--lang takes en or fr")
    troubleshooter, backend = _troubleshooter()
    requester = as_user or OPERATOR
    try:
        if "@" in who:
            checklist = asyncio.run(troubleshooter.checklist(requester, who, lang))
        else:
            checklist = asyncio.run(troubleshooter.by_tracking_id(requester, who, lang))
    except NotAllowed as refused:
        typer.echo(f"loginbot: {refused.message(lang)}", err=True)
        raise typer.Exit(code=1) from None
    except TrackingIdNotFound as missing:
        typer.echo(f"loginbot: {missing.message(lang)}", err=True)
        raise typer.Exit(code=1) from None
    finally:
        asyncio.run(backend.aclose())
    if as_json:
        typer.echo(json.dumps(checklist.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_checklist(checklist)


@app.command()
def report(
    days: Annotated[int, typer.Option("--days", min=1, max=366, help="How many days, today included.")] = 7,
    png: Annotated[str | None, typer.Option("--png", help="Also write the chart to this PNG file.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    lang: Annotated[str, typer.Option("--lang", help="Language: en or fr.")] = "en",
) -> None:
    """Print the sign-in outcomes and failure reasons per day (administrators: the operator is one)."""
    from bot.troubleshoot import OPERATOR, render_chart_png
    from bot.troubleshoot.terminal import print_report

    if lang not in ("en", "fr"):
        raise _fail("--lang takes en or fr")
    troubleshooter, backend = _troubleshooter()
    try:
        result = asyncio.run(troubleshooter.report(OPERATOR, days))
    finally:
        asyncio.run(backend.aclose())
    if png is not None:
        try:
            render_chart_png(result, png, lang)
        except OSError as error:
            raise _fail(f"cannot write {png}: {error}") from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        print_report(result, lang)
        if png is not None:
            typer.echo(png)


def _troubleshooter() -> tuple[Any, Any]:
    """The `Troubleshooter` on the configured store and backend (for `troubleshoot` and `report`)."""
    from bot.app import ConfigurationError, build_backend
    from bot.log import configure
    from bot.settings import Settings
    from bot.troubleshoot import OPERATOR, Troubleshooter
    from storage import StorageError, Store

    try:
        settings = Settings()
        configure(settings.log_level, settings.log_format)
        store = Store.from_url(settings.database_url)
        backend = build_backend(settings, store)
    except StorageError as error:
        raise _fail(f"LOGINBOT_DATABASE_URL: cannot open the database ({error})") from None
    except ConfigurationError as error:
        raise _fail(str(error)) from None
    except ValueError as error:  # pydantic's ValidationError for a malformed setting
        raise _invalid_setting(error) from None
    admins = settings.admin_emails | {OPERATOR}
    return Troubleshooter(backend, store, admins=admins), backend


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random key for LOGINBOT_SECRET_KEY."""
    from bot.secrets import Cipher

    typer.echo(Cipher.generate_key())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored secret with LOGINBOT_SECRET_KEY (it and LOGINBOT_OLD_SECRET_KEY decrypt);
    then LOGINBOT_OLD_SECRET_KEY may be removed."""
    from bot.secrets import Cipher, SecretKeyError, check_strength
    from bot.settings import Settings
    from storage import StorageError, Store

    try:
        settings = Settings()
        secret = settings.secret_key.get_secret_value() if settings.secret_key else ""
        old = settings.old_secret_key.get_secret_value() if settings.old_secret_key else ""
        cipher = Cipher.from_env({"LOGINBOT_SECRET_KEY": secret})
        check_strength(secret)
        cipher = Cipher(secret, old)
        store = Store.from_url(settings.database_url)
    except SecretKeyError as error:
        raise _fail(str(error)) from None
    except StorageError as error:
        raise _fail(f"LOGINBOT_DATABASE_URL: cannot open the database ({error})") from None
    except ValueError as error:
        raise _invalid_setting(error) from None
    try:
        count = store.reencrypt_secrets(cipher.rotate)
    except SecretKeyError as error:
        raise _fail(f"{error}: nothing was changed") from None
    finally:
        store.close()
    typer.echo(f"{count} stored secrets re-encrypted with LOGINBOT_SECRET_KEY")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
