"""Webex's OAuth authorization-code flow with PKCE, people/me, token lifetimes and revocation."""

from __future__ import annotations

import time

import httpx

from bot.backend.simulator.server import SimulatorServer
from tests.simulator_server.conftest import StartServer
from tests.simulator_server.support import (
    AVA,
    CLIENT_ID,
    ORG,
    REDIRECT_URI,
    SAM,
    authorize_params,
    bearer,
    exchange,
    get_code,
    pkce,
    redirect_query,
    refresh,
    tokens_for,
)


def me(server: SimulatorServer, token: str) -> httpx.Response:
    return httpx.get(f"{server.base_url}/v1/people/me", headers=bearer(token))


def test_code_flow_with_pkce_gives_tokens_and_people_me(server: SimulatorServer) -> None:
    verifier, challenge = pkce()
    code = get_code(server.base_url, AVA, challenge=challenge)
    answer = exchange(server.base_url, code, verifier)
    assert answer.status_code == 200
    tokens = answer.json()
    assert set(tokens) == {
        "access_token",
        "expires_in",
        "refresh_token",
        "refresh_token_expires_in",
        "token_type",
        "scope",
    }
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert set(tokens["scope"].split()) == {"cjp:user", "cjp:config_read", "spark:people_read"}
    person = me(server, tokens["access_token"])
    assert person.status_code == 200
    body = person.json()
    assert body["id"] == "ci-ava-lead" and body["emails"] == [AVA]
    assert body["displayName"] == "Ava Lead" and body["orgId"] == ORG


def test_wrong_or_missing_verifier_is_invalid_grant(server: SimulatorServer) -> None:
    _, challenge = pkce()
    wrong = exchange(server.base_url, get_code(server.base_url, AVA, challenge=challenge), "x" * 50)
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    missing = exchange(server.base_url, get_code(server.base_url, AVA, challenge=challenge))
    assert missing.status_code == 400 and missing.json()["error"] == "invalid_grant"
    assert "error_description" in missing.json()


def test_a_code_works_once_and_its_reuse_revokes_the_tokens(server: SimulatorServer) -> None:
    verifier, challenge = pkce()
    code = get_code(server.base_url, AVA, challenge=challenge)
    first = exchange(server.base_url, code, verifier)
    assert first.status_code == 200
    again = exchange(server.base_url, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"
    assert me(server, first.json()["access_token"]).status_code == 401


def test_refresh_gives_a_new_access_token(server: SimulatorServer) -> None:
    tokens = tokens_for(server.base_url, AVA)
    answer = refresh(server.base_url, tokens["refresh_token"])
    assert answer.status_code == 200
    fresh = answer.json()
    assert fresh["access_token"] != tokens["access_token"]
    assert fresh["refresh_token"] == tokens["refresh_token"]  # Webex does not rotate refresh tokens
    assert me(server, fresh["access_token"]).json()["emails"] == [AVA]
    unknown = refresh(server.base_url, "not-a-refresh-token")
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"


def test_access_tokens_expire_and_refresh_still_works(start_server: StartServer) -> None:
    server = start_server(token_ttl_seconds=0.3)
    tokens = tokens_for(server.base_url, AVA)
    assert tokens["expires_in"] == 1
    time.sleep(0.5)
    expired = me(server, tokens["access_token"])
    assert expired.status_code == 401
    config = httpx.get(
        f"{server.base_url}/organization/{ORG}/v2/team", headers=bearer(tokens["access_token"])
    )
    assert config.status_code == 401
    assert refresh(server.base_url, tokens["refresh_token"]).status_code == 200


def test_revocation_makes_tokens_useless(server: SimulatorServer) -> None:
    tokens = tokens_for(server.base_url, SAM)
    other = tokens_for(server.base_url, AVA)
    answer = httpx.post(f"{server.base_url}/admin/tokens/revoke", json={"email": SAM})
    assert answer.status_code == 200 and answer.json()["revoked"] >= 2
    assert me(server, tokens["access_token"]).status_code == 401
    login = httpx.post(f"{server.base_url}/v1/agents/reload", headers=bearer(tokens["access_token"]))
    assert login.status_code == 401
    assert refresh(server.base_url, tokens["refresh_token"]).json()["error"] == "invalid_grant"
    assert me(server, other["access_token"]).status_code == 200, "other users keep their tokens"
    unknown = httpx.post(f"{server.base_url}/admin/tokens/revoke", json={"email": "nobody@example.com"})
    assert unknown.status_code == 404


def test_expired_code_is_refused(start_server: StartServer) -> None:
    server = start_server(code_ttl_seconds=0.2)
    verifier, challenge = pkce()
    code = get_code(server.base_url, AVA, challenge=challenge)
    time.sleep(0.4)
    answer = exchange(server.base_url, code, verifier)
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"


def test_unknown_email_and_bad_client_are_error_redirects(server: SimulatorServer) -> None:
    unknown = httpx.get(f"{server.base_url}/v1/authorize", params=authorize_params("nobody@example.com"))
    query = redirect_query(unknown)
    assert query["error"] == "access_denied" and query["state"] == "state-123" and "code" not in query
    bad_client = httpx.get(
        f"{server.base_url}/v1/authorize", params={**authorize_params(AVA), "client_id": "someone-else"}
    )
    assert redirect_query(bad_client)["error"] == "access_denied"
    plain = httpx.get(
        f"{server.base_url}/v1/authorize",
        params={**authorize_params(AVA), "code_challenge": "abc", "code_challenge_method": "plain"},
    )
    assert redirect_query(plain)["error"] == "invalid_request"
    bad_scope = httpx.get(
        f"{server.base_url}/v1/authorize", params=authorize_params(AVA, scope="cjp:everything")
    )
    assert redirect_query(bad_scope)["error"] == "invalid_scope"


def test_a_bad_redirect_uri_is_400_not_a_redirect(server: SimulatorServer) -> None:
    for uri in ("", "not-a-url", "javascript:alert(1)", "ftp://example.com/cb"):
        answer = httpx.get(
            f"{server.base_url}/v1/authorize", params={**authorize_params(AVA), "redirect_uri": uri}
        )
        assert answer.status_code == 400
        assert answer.json()["error"] == "invalid_request"


def test_without_login_hint_a_form_asks_the_email(server: SimulatorServer) -> None:
    verifier, challenge = pkce()
    page = httpx.get(f"{server.base_url}/v1/authorize", params=authorize_params(None, challenge=challenge))
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    assert 'name="login_hint"' in page.text and CLIENT_ID in page.text
    form = {**authorize_params(None, challenge=challenge), "login_hint": AVA}
    answer = httpx.post(f"{server.base_url}/v1/authorize", data=form)
    code = redirect_query(answer)["code"]
    assert exchange(server.base_url, code, verifier).status_code == 200


def test_client_authentication_and_grant_types(server: SimulatorServer) -> None:
    verifier, challenge = pkce()
    code = get_code(server.base_url, AVA, challenge=challenge)
    wrong_secret = httpx.post(
        f"{server.base_url}/v1/access_token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "client_secret": "wrong",
            "code_verifier": verifier,
        },
    )
    assert wrong_secret.status_code == 401 and wrong_secret.json()["error"] == "invalid_client"
    basic = httpx.post(
        f"{server.base_url}/v1/access_token",
        data={"grant_type": "password", "username": "x"},
        auth=(CLIENT_ID, "test-secret"),
    )
    assert basic.status_code == 400 and basic.json()["error"] == "unsupported_grant_type"


def test_people_me_needs_a_valid_token(server: SimulatorServer) -> None:
    assert httpx.get(f"{server.base_url}/v1/people/me").status_code == 401
    assert me(server, "forged").status_code == 401
