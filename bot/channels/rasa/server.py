"""The action server: rasa-sdk's own Sanic app (`/health`, `/actions`, `/webhook`, with its status
codes: 404 unknown action, 449 missing domain) behind loginbot's guard (`guard.py`: routes, the
shared token, bounded bodies, well-formed action calls). Served by uvicorn on loopback by default
(Sanic apps are ASGI applications); beyond loopback only with a token, or when told explicitly that
an open action server is intended."""

from __future__ import annotations

import contextlib
import ipaddress
import logging

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.channels.rasa.actions import build_actions
from bot.channels.rasa.guard import INVALID_BODY, Guard, Limits, problem
from bot.channels.rasa.services import RasaServices
from bot.channels.rasa.settings import RasaSettings

log = logging.getLogger(__name__)

__all__ = ["INVALID_BODY", "ExposedWithoutToken", "build_action_server", "check_exposure", "problem", "serve"]


class ExposedWithoutToken(Exception):
    """Listening beyond loopback with no token, and not told that this is intended."""


def _unregister_previous(name: str) -> None:
    """rasa-sdk names its app "rasa_sdk"; Sanic refuses a second app of that name in one process."""
    with contextlib.suppress(Exception):  # there was none
        Sanic.unregister_app(Sanic.get_app(name))


def build_action_server(services: RasaServices) -> Guard:
    """The ASGI application: the guard, then rasa-sdk's Sanic app (`.app`) with loginbot's actions."""
    executor = ActionExecutor()
    for action in build_actions(services):
        executor.register_action(action)
    _unregister_previous("rasa_sdk")
    app = create_app(executor, cors_origins=None)
    # Sanic's start-up "touch-up" recompiles its own class methods process-wide, once: a second app
    # in the same process (tests, a reload) would fail to start. It is only a speed optimization.
    app.config.TOUCHUP = False
    _readiness_route(app, services)
    settings = services.settings
    token = settings.token.get_secret_value() if settings.token else ""
    limits = Limits(body_bytes=settings.max_body_bytes, decoded_bytes=settings.max_decoded_bytes)
    return Guard(app, token=token, limits=limits)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to anything


def check_exposure(settings: RasaSettings, host: str) -> None:
    """`ExposedWithoutToken` when `host` is beyond loopback, no token is set and an open server was
    not asked for (`LOGINBOT_RASA_ALLOW_NO_TOKEN`)."""
    has_token = settings.token is not None and bool(settings.token.get_secret_value())
    if _loopback(host) or has_token:
        return
    if settings.allow_no_token:
        log.warning("the action server listens on %s without a token (LOGINBOT_RASA_ALLOW_NO_TOKEN)", host)
        return
    raise ExposedWithoutToken(
        f"the action server would listen on {host} without a token: set LOGINBOT_RASA_TOKEN (and the same"
        " token in Rasa's action_endpoint), or LOGINBOT_RASA_ALLOW_NO_TOKEN=true if an open action"
        " server is intended"
    )


def _readiness_route(app: Sanic, services: RasaServices) -> None:
    """`GET /readyz` beside rasa-sdk's `/health` (alive): 200 when the database and the contact
    center answer, else 503, with what each check found."""
    from bot.ops.health import Readiness, assistant_checks

    readiness = Readiness(assistant_checks(services.assistant))

    @app.get("/readyz")
    async def readyz(request: Request) -> HTTPResponse:
        ok, report = await readiness.run()
        return json_response(
            {"status": "ready" if ok else "not ready", "checks": report}, status=200 if ok else 503
        )


def serve(services: RasaServices, *, host: str = "127.0.0.1", port: int = 5055) -> None:
    import uvicorn

    from bot.heap import settle_startup_heap

    check_exposure(services.settings, host)
    app = build_action_server(services)
    settle_startup_heap()
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")
