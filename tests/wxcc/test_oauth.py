"""OAuth with PKCE against a small in-test token endpoint (httpx.MockTransport).

The end-to-end flow through a browser redirect and the callback route runs against the simulator
server in `test_simulator_server.py`; these tests pin the rules that need no server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import text

from bot.backend.port import AuthorizationRequired
from bot.backend.wxcc.oauth import AuthorizationError, OAuth
from bot.secrets import Cipher
from tests.wxcc.support import SECRET, config, store

EMAIL = "ava.lead@example.com"


class TokenEndpoint:
    """Issues codes for a challenge, checks the verifier, counts grants; `revoked` refuses refreshes."""

    def __init__(self, owner: str = EMAIL) -> None:
        self.owner = owner
        self.challenges: dict[str, str] = {}
        self.grants: list[str] = []
        self.revoked = False
        self.counter = 0

    def code_for(self, authorize_url: str) -> tuple[str, str]:
        query = parse_qs(urlsplit(authorize_url).query)
        code = f"code-{len(self.challenges)}"
        self.challenges[code] = query["code_challenge"][0]
        return code, query["state"][0]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/people/me"):
            return httpx.Response(200, json={"id": "ci-1", "emails": [self.owner], "displayName": "x"})
        form = parse_qs(request.content.decode())
        grant = form["grant_type"][0]
        self.grants.append(grant)
        if grant == "authorization_code":
            verifier = form["code_verifier"][0]
            digest = (
                base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            )
            if self.challenges.pop(form["code"][0], None) != digest:
                return httpx.Response(400, json={"error": "invalid_grant"})
        elif self.revoked:
            return httpx.Response(400, json={"error": "invalid_grant"})
        self.counter += 1
        return httpx.Response(
            200,
            json={
                "access_token": f"ACCESS-SECRET-{self.counter}",
                "refresh_token": f"REFRESH-SECRET-{self.counter}",
                "expires_in": 3600,
                "token_type": "Bearer",
            },
        )


def http(endpoint: TokenEndpoint) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.MockTransport(endpoint))


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def setup(tmp_path: Path, owner: str = EMAIL) -> tuple[OAuth, TokenEndpoint, Clock]:
    clock = Clock()
    db = store(tmp_path, clock)
    auth = OAuth(config(), store=db, cipher=Cipher(SECRET), clock=clock)
    return auth, TokenEndpoint(owner), clock


def authorize(auth: OAuth, endpoint: TokenEndpoint) -> str:
    code, state = endpoint.code_for(auth.authorize_url(EMAIL))
    email, _ = asyncio.run(auth.complete_authorization(code, state, http=http(endpoint)))
    return email


def test_the_authorize_url_carries_state_pkce_and_login_hint(tmp_path: Path) -> None:
    auth, _, _ = setup(tmp_path)
    url = urlsplit(auth.authorize_url(" Ava.Lead@example.com "))
    query = {k: v[0] for k, v in parse_qs(url.query).items()}
    assert f"{url.scheme}://{url.netloc}{url.path}" == "http://oauth.test/v1/authorize"
    assert query["response_type"] == "code" and query["code_challenge_method"] == "S256"
    assert query["login_hint"] == EMAIL and query["client_id"] == "loginbot-client"
    assert query["scope"] == "cjp:user cjp:config_read spark:people_read"
    assert len(query["state"]) >= 24 and len(query["code_challenge"]) == 43


def test_completing_stores_the_tokens_encrypted(tmp_path: Path) -> None:
    auth, endpoint, _ = setup(tmp_path)
    assert authorize(auth, endpoint) == EMAIL
    with auth._store._engine.connect() as connection:  # type: ignore[attr-defined]
        rows = connection.execute(text("SELECT * FROM oauth_tokens")).all()
    assert len(rows) == 1 and "SECRET" not in repr(rows)
    assert asyncio.run(auth.access_token(EMAIL, http(endpoint))) == "ACCESS-SECRET-1"


def test_a_state_works_once(tmp_path: Path) -> None:
    auth, endpoint, _ = setup(tmp_path)
    code, state = endpoint.code_for(auth.authorize_url(EMAIL))
    asyncio.run(auth.complete_authorization(code, state, http=http(endpoint)))
    with pytest.raises(AuthorizationError):
        asyncio.run(auth.complete_authorization(code, state, http=http(endpoint)))


def test_a_wrong_verifier_is_refused(tmp_path: Path) -> None:
    auth, endpoint, _ = setup(tmp_path)
    code, state = endpoint.code_for(auth.authorize_url(EMAIL))
    endpoint.challenges[code] = "not-the-challenge"
    with pytest.raises(AuthorizationError):
        asyncio.run(auth.complete_authorization(code, state, http=http(endpoint)))
    assert not auth.has_tokens(EMAIL)


def test_a_token_of_another_account_is_refused(tmp_path: Path) -> None:
    auth, endpoint, _ = setup(tmp_path, owner="sam.supervisor@example.com")
    code, state = endpoint.code_for(auth.authorize_url(EMAIL))
    with pytest.raises(AuthorizationError, match="another account"):
        asyncio.run(auth.complete_authorization(code, state, http=http(endpoint)))
    assert not auth.has_tokens(EMAIL)


def test_no_token_means_authorization_required(tmp_path: Path) -> None:
    auth, endpoint, _ = setup(tmp_path)
    with pytest.raises(AuthorizationRequired) as caught:
        asyncio.run(auth.access_token(EMAIL, http(endpoint)))
    assert caught.value.authorize_url.startswith("http://oauth.test/v1/authorize?")


def test_refresh_before_expiry(tmp_path: Path) -> None:
    auth, endpoint, clock = setup(tmp_path)
    authorize(auth, endpoint)
    clock.now += timedelta(seconds=3600 - 60)
    assert asyncio.run(auth.access_token(EMAIL, http(endpoint))) == "ACCESS-SECRET-2"
    assert endpoint.grants == ["authorization_code", "refresh_token"]


def test_revoked_refresh_deletes_the_tokens(tmp_path: Path) -> None:
    auth, endpoint, _ = setup(tmp_path)
    authorize(auth, endpoint)
    endpoint.revoked = True
    with pytest.raises(AuthorizationRequired):
        asyncio.run(auth.access_token(EMAIL, http(endpoint), force_refresh=True))
    assert not auth.has_tokens(EMAIL)


def test_expired_authorization_link(tmp_path: Path) -> None:
    auth, endpoint, clock = setup(tmp_path)
    code, state = endpoint.code_for(auth.authorize_url(EMAIL))
    clock.now += timedelta(hours=1)
    with pytest.raises(AuthorizationError, match="expired"):
        asyncio.run(auth.complete_authorization(code, state, http=http(endpoint)))
