"""The action server: rasa-sdk's own Sanic app (`/health`, `/actions`, `/webhook`, with its status
codes: 404 unknown action, 449 missing domain), plus two guards in front of `/webhook`: the shared
token (Rasa's `action_endpoint: token:`, sent as `?token=`; refused with 401 and logged) and a
body check (malformed JSON or a body that is not an action call: 400, as rasa-sdk answers an empty
body). Served by uvicorn on loopback by default (Sanic apps are ASGI applications)."""

from __future__ import annotations

import contextlib
import hmac
import json
import logging
import zlib
from typing import Any

from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Request, Sanic
from sanic.response import HTTPResponse
from sanic.response import json as json_response

from bot.channels.rasa.actions import build_actions
from bot.channels.rasa.services import RasaServices

log = logging.getLogger(__name__)

INVALID_BODY = {"error": "Invalid body request"}  # rasa-sdk's own answer to an empty body


def _problem(action_call: Any) -> str | None:
    """Why a webhook body is not an action call rasa-sdk can run, or None."""
    if not isinstance(action_call, dict):
        return "the body is not a JSON object"
    next_action = action_call.get("next_action")
    if next_action is None:
        return None  # rasa-sdk answers `null`
    if not isinstance(next_action, str):
        return "next_action is not a string"
    tracker = action_call.get("tracker")
    if not isinstance(tracker, dict):
        return "tracker is missing or not an object"
    if not isinstance(tracker.get("sender_id"), str):
        return "tracker.sender_id is missing or not a string"  # rasa-sdk reads it unchecked: a 500
    if "latest_message" in tracker and not isinstance(tracker["latest_message"], dict):
        return "tracker.latest_message is not an object"  # read unchecked after the action ran: a 500
    expected = {"slots": dict, "latest_message": dict, "events": list, "active_loop": dict}
    for name, kind in expected.items():
        if tracker.get(name) is not None and not isinstance(tracker[name], kind):
            return f"tracker.{name} has the wrong type"
    if not all(isinstance(e, dict) for e in tracker.get("events") or []):
        return "tracker.events holds something else than events"
    domain = action_call.get("domain")
    if domain is not None and not isinstance(domain, dict):
        return "domain is not an object"
    return None


def _decoded(request: Request) -> Any:
    body = request.body
    if request.headers.get("Content-Encoding") == "deflate":
        body = zlib.decompress(body)
    return json.loads(body)


def _unregister_previous(name: str) -> None:
    """rasa-sdk names its app "rasa_sdk"; Sanic refuses a second app of that name in one process."""
    with contextlib.suppress(Exception):  # there was none
        Sanic.unregister_app(Sanic.get_app(name))


def build_action_server(services: RasaServices) -> Sanic:
    executor = ActionExecutor()
    for action in build_actions(services):
        executor.register_action(action)
    _unregister_previous("rasa_sdk")
    app = create_app(executor, cors_origins=None)
    # Sanic's start-up "touch-up" recompiles its own class methods process-wide, once: a second app
    # in the same process (tests, a reload) would fail to start. It is only a speed optimization.
    app.config.TOUCHUP = False
    token = services.settings.token.get_secret_value() if services.settings.token else ""

    @app.on_request
    async def guard(request: Request) -> HTTPResponse | None:
        if request.path != "/webhook" or request.method != "POST":
            return None
        if token and not hmac.compare_digest(request.args.get("token", "").encode(), token.encode()):
            log.warning("refused a webhook call from %s: missing or wrong token", request.client_ip)
            return json_response({"error": "Missing or wrong token."}, status=401)
        if not request.body and request.headers.get("Content-Encoding") != "deflate":
            return None  # rasa-sdk answers 400 itself (an empty deflate body would make it fail: 500)
        try:
            problem = _problem(_decoded(request))
        except (ValueError, zlib.error):
            problem = "the body is not JSON"
        if problem:
            log.warning("refused a malformed webhook call: %s", problem)
            return json_response(INVALID_BODY, status=400)
        return None

    _readiness_route(app, services)
    return app


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

    app = build_action_server(services)
    settle_startup_heap()
    uvicorn.run(app, host=host, port=port, log_level="warning", lifespan="on")
