"""httpx's requests sent by aiohttp: the adapter's default transport.

Why: in the 1,000-user storm (`bench/storm.py`) httpcore's connection pool (and anyio and h11 under
it) cost about 1 ms of CPU per REST call, most of it bookkeeping that walks and polls every pooled
connection at every request: a fifth of the Slack server's CPU. aiohttp (already the Slack Web API
client's) does the same work for about a third of that. The adapter keeps httpx's API (its
`AsyncClient`, requests, responses and errors; tests inject their own client), only the wire is
aiohttp's.

What httpx's own transport did is kept: at most `max_connections` connections, idle ones closed
after `keepalive_expiry` seconds, no redirects followed, the body handed back undecoded (httpx
decodes it by its `Content-Encoding`), proxies from the environment (`HTTPS_PROXY`, `NO_PROXY`;
looked up once per host: aiohttp's own `trust_env` also reads `~/.netrc` in a thread at every
request, which cost a tenth of the storm's server CPU).
Errors are httpx's, and keep its meaning for the adapter (`rest.py`): `ConnectError` and
`ConnectTimeout` when the request never left (nothing was sent, a login may be tried again),
anything else after it may have been sent.
"""

from __future__ import annotations

import urllib.request

import aiohttp
import httpx

# Set by httpx on every request, or by aiohttp itself: never passed on twice.
_SKIPPED = frozenset({"host", "content-length", "transfer-encoding", "connection"})


class AiohttpTransport(httpx.AsyncBaseTransport):
    """An httpx transport on one aiohttp session, opened at the first request (in its event loop)."""

    def __init__(self, *, max_connections: int, keepalive_expiry: float) -> None:
        self._max_connections = max(1, max_connections)
        self._keepalive_expiry = keepalive_expiry
        self._session: aiohttp.ClientSession | None = None
        self._proxies: dict[tuple[str, str], str | None] = {}  # (scheme, host) -> proxy URL

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._max_connections, keepalive_timeout=self._keepalive_expiry
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                auto_decompress=False,  # httpx decodes by Content-Encoding
                skip_auto_headers=("User-Agent", "Accept-Encoding", "Content-Type"),
            )
        return self._session

    def _proxy(self, url: httpx.URL) -> str | None:
        """The proxy the environment names for this URL (as httpx's default client honours it)."""
        key = (url.scheme, url.host)
        if key not in self._proxies:
            proxy = urllib.request.getproxies_environment().get(url.scheme)
            if proxy and urllib.request.proxy_bypass(url.host):
                proxy = None
            if len(self._proxies) > 1000:
                self._proxies.clear()
            self._proxies[key] = proxy or None
        return self._proxies[key]

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeouts = request.extensions.get("timeout") or {}
        timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=timeouts.get("connect"), sock_read=timeouts.get("read")
        )
        headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() not in _SKIPPED]
        body = await request.aread()
        try:
            async with self._client().request(
                request.method,
                str(request.url),
                headers=headers,
                data=body or None,
                allow_redirects=False,
                timeout=timeout,
                proxy=self._proxy(request.url),
            ) as answer:
                content = await answer.read()
                status = answer.status
                answer_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in answer.raw_headers]
        except aiohttp.ConnectionTimeoutError as error:
            raise httpx.ConnectTimeout(str(error) or "connect timeout", request=request) from error
        except aiohttp.ClientConnectorError as error:
            raise httpx.ConnectError(str(error), request=request) from error
        except (TimeoutError, aiohttp.ServerTimeoutError) as error:
            raise httpx.ReadTimeout(str(error) or "read timeout", request=request) from error
        except aiohttp.ServerDisconnectedError as error:
            raise httpx.RemoteProtocolError(str(error), request=request) from error
        except aiohttp.ClientError as error:
            raise httpx.ReadError(str(error) or type(error).__name__, request=request) from error
        # The body is whole: httpx must not look for chunks or a length in it again.
        answer_headers = [(k, v) for k, v in answer_headers if k.lower() != "transfer-encoding"]
        return httpx.Response(status, headers=answer_headers, content=content, request=request)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
