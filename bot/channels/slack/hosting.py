"""Running `SlackProcess` (`process.py`): one process under uvicorn, or several under gunicorn.

`loginbot serve slack --workers N` (HTTP mode) is gunicorn's pre-fork model with uvicorn's worker
class (the `uvicorn-worker` package): the arbiter binds the port, forks N workers, replaces one
that dies, and on SIGTERM (or SIGINT) tells each to stop gracefully, killing it after
`GRACEFUL_SECONDS`. The app is preloaded in the arbiter before the fork: the settings are read
and checked, the database migrated once (a bad setting stops the server before any worker
starts, with `loginbot`'s configuration-error status), and the recognizer and the message
catalogs are built once and shared by the workers (copy-on-write pages). Each worker then builds
its own store, clients and recovery at its lifespan's start.

With more than one worker, prometheus-client's multiprocess mode adds up every worker's metrics:
`loginbot` sets `PROMETHEUS_MULTIPROC_DIR` up (`bot/ops/multiproc.py`) before anything imports
prometheus-client.

Socket Mode stays one process (Slack hands each event to one Socket Mode connection; nothing
here needs several); its probes and metrics are served on `--host`/`--port` beside it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.assistant import Assistant
    from bot.settings import Settings

GRACEFUL_SECONDS = 30  # a worker told to stop has this long to finish its requests and turns
WORKER_TIMEOUT = 60  # a worker silent this long (its event loop stuck) is killed and replaced
READY_LINE = "loginbot worker ready (pid {pid})"
SHARED_CATALOGS = (
    "bot.flow.messages",
    "bot.identity.messages",
    "bot.troubleshoot.messages",
    "bot.channels.slack.messages",
)


class ConfigurationProblem(Exception):
    """A setting that cannot work, found while preloading: `loginbot` says it and exits with 2."""


def preload(settings: Settings) -> None:
    """What the workers share, built once: checks the settings, migrates the database, loads the
    recognizer and the catalogs. Closes what it opened (connections must not cross a fork)."""
    from bot.app import ConfigurationError, build_assistant
    from bot.flow.catalog import Catalog

    try:
        assistant = build_assistant(settings)
    except ConfigurationError as error:
        raise ConfigurationProblem(str(error)) from error
    asyncio.run(assistant.aclose())
    for package in SHARED_CATALOGS:
        Catalog.from_package(package)


def serve_workers(settings: Settings, *, host: str, port: int, workers: int) -> None:
    """`--workers N`: gunicorn with uvicorn workers until SIGTERM or SIGINT (then exits; a worker
    that cannot start stops them all). Call `preload` first."""
    from gunicorn.app.base import BaseApplication

    from bot.ops import multiproc

    from .process import SlackProcess

    class _Gunicorn(BaseApplication):
        def load_config(self) -> None:
            options: dict[str, Any] = {
                "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
                "workers": workers,
                "worker_class": "uvicorn_worker.UvicornWorker",
                "preload_app": True,
                "graceful_timeout": GRACEFUL_SECONDS,
                "timeout": WORKER_TIMEOUT,
                "keepalive": 5,
                "proc_name": "loginbot-slack",
                "loglevel": settings.log_level.lower(),
                "accesslog": None,
                "errorlog": "-",
                "logger_class": _logger_class(),
                "child_exit": _child_exit,
            }
            for name, value in options.items():
                self.cfg.set(name, value)
            if "control_socket_disable" in self.cfg.settings:
                # gunicorn's control socket (one path per user): not used, and two servers on one
                # host would fight over it.
                self.cfg.set("control_socket_disable", True)

        def load(self) -> SlackProcess:
            return SlackProcess(settings, on_ready=READY_LINE)

    try:
        _Gunicorn().run()
    finally:
        multiproc.cleanup()


def _logger_class() -> type:
    """Gunicorn's logger, writing through loginbot's handler (its format, JSON or text, and its
    masking) instead of a handler of its own; uvicorn's worker takes the same handlers."""
    import logging

    from gunicorn.glogging import Logger

    class _Logger(Logger):
        def setup(self, cfg: Any) -> None:
            super().setup(cfg)
            ours = logging.getLogger().handlers
            if ours:
                self.error_log.handlers = list(ours)

    return _Logger


def _child_exit(server: object, worker: Any) -> None:
    from bot.ops.metrics import worker_exited

    worker_exited(worker.pid)


def serve_one(settings: Settings, *, host: str, port: int) -> None:
    """One process: HTTP under uvicorn (`SlackProcess`), or Socket Mode. The assistant is built
    once, here; `ConfigurationProblem` for a setting that cannot work."""
    from bot.app import ConfigurationError, build_assistant
    from bot.heap import settle_startup_heap

    try:
        assistant = build_assistant(settings)
    except ConfigurationError as error:
        raise ConfigurationProblem(str(error)) from error
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else ""
    if app_token:
        from .server import run

        assert settings.slack_signing_secret is not None and settings.slack_bot_token is not None
        settle_startup_heap()
        probes = _probes_beside(assistant, host=host, port=port)
        try:
            run_forever(
                run(
                    assistant,
                    signing_secret=settings.slack_signing_secret.get_secret_value(),
                    token=settings.slack_bot_token.get_secret_value(),
                    app_token=app_token,
                    api_url=settings.slack_api_url,
                    recovery_grace=settings.slack_recovery_grace,
                )
            )
        finally:
            probes.should_exit = True
        return
    import uvicorn

    from .process import SlackProcess

    app = SlackProcess(settings, assistant=assistant)
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="on", loop="none")
    run_forever(_serve(uvicorn.Server(config)))


def _probes_beside(assistant: Assistant, *, host: str, port: int) -> Any:
    """Socket Mode serves no HTTP of its own: `/healthz`, `/readyz` (database and contact center)
    and `/metrics` on `host:port`, from a thread of their own (so the Socket Mode client keeps the
    process's signals and its graceful stop)."""
    import threading

    import uvicorn
    from starlette.applications import Starlette

    from bot.ops import health
    from bot.ops.metrics import exposition

    readiness = health.Readiness(health.assistant_checks(assistant))
    app = Starlette(routes=health.routes(lambda: readiness, metrics=lambda: exposition(assistant.store)))
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", lifespan="off"))
    threading.Thread(target=server.run, name="probes", daemon=True).start()
    return server


async def _serve(server: Any) -> None:
    await server.serve()
    if not server.started:  # the lifespan's start failed (it said why): not a clean exit
        sys.exit(2)


def run_forever(server: Coroutine[Any, Any, None]) -> None:
    """Run a server on uvloop when it is installed (rasa-sdk's sanic brings it): a busy server spends
    a fifth of its time in the event loop's own I/O code, which uvloop runs several times faster."""
    try:
        import uvloop
    except ImportError:
        asyncio.run(server)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(server)
