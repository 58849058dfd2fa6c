"""The OAuth redirect URI: a tiny Starlette app that completes an authorization.

Why separate: the terminal chat needs it standalone on 127.0.0.1 (the browser comes back to the
user's own machine), while the Slack app will mount the same route in its own server. Either way
the route only calls `OAuth.complete_authorization(code, state)`; the pages it shows are plain and
never contain a code, a token or a state.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.backend.wxcc.oauth import AuthorizationError, OAuth

log = logging.getLogger(__name__)

_PAGE = (
    "<!doctype html><html><head><meta charset='utf-8'><title>loginbot</title></head>"
    "<body><p>{}</p></body></html>"
)


def _page(text: str, status: int = 200) -> HTMLResponse:
    return HTMLResponse(_PAGE.format(html.escape(text)), status_code=status)


def callback_route(oauth: OAuth, path: str = "/oauth/callback") -> Route:
    """`GET path?code&state` (or `?error`): completes the authorization, for mounting anywhere."""

    async def endpoint(request: Request) -> Response:
        params = request.query_params
        if params.get("error"):
            log.info("authorization declined in the browser: %s", params.get("error"))
            return _page("Sign-in was cancelled. You can close this window and ask loginbot again.", 400)
        code, state = params.get("code"), params.get("state")
        if not code or not state:
            return _page("This page is only reached from the contact center's sign-in.", 400)
        try:
            email, redirect_to = await oauth.complete_authorization(code, state)
        except AuthorizationError as error:
            return _page(str(error), 400)
        except Exception:
            log.exception("completing an authorization failed")
            return _page("The contact center could not be reached. Please try again in a moment.", 502)
        if redirect_to:
            return RedirectResponse(redirect_to, status_code=303)
        return _page(
            f"loginbot is now authorized for {email}. You can close this window and go back to the chat."
        )

    return Route(path, endpoint, methods=["GET"])


def build_callback_app(oauth: OAuth, *, path: str | None = None) -> Starlette:
    """A standalone app serving only the redirect URI's path (taken from the config by default)."""
    route_path = path or urlsplit(oauth.redirect_uri).path or "/oauth/callback"
    return Starlette(routes=[callback_route(oauth, route_path)])


@contextlib.contextmanager
def serve_callback(oauth: OAuth, *, host: str = "127.0.0.1", port: int | None = None) -> Iterator[str]:
    """Run the callback app in a background thread (the terminal's case); yields its base URL.

    The port defaults to the redirect URI's; 0 picks a free one (tests).
    """
    parts = urlsplit(oauth.redirect_uri)
    chosen = parts.port or 8765 if port is None else port
    config = uvicorn.Config(
        build_callback_app(oauth), host=host, port=chosen, log_level="warning", lifespan="off"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=lambda: asyncio.run(server.serve()), name="oauth-callback", daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise OSError(f"the OAuth callback server could not start on {host}:{chosen}")
        threading.Event().wait(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1] if server.servers else chosen
    try:
        yield f"http://{host}:{bound}"
    finally:
        server.should_exit = True
        thread.join(timeout=5)
