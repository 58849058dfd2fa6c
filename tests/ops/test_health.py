"""`/healthz`, `/readyz` and `/metrics` of `serve slack` (the ASGI application one process serves,
its lifespan run as uvicorn runs it), of the simulator and of the Rasa action server: ready only when
the database answers at the schema's head, the contact center answers, and the start-up recovery
of other processes' unfinished deliveries has run."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy
from starlette.testclient import TestClient

from bot.backend.simulator import DEMO_TENANT_FILE, SimulatorCore, load_tenant
from bot.backend.simulator.server import build_app as simulator_app
from bot.channels.slack.process import SlackProcess
from bot.settings import Settings
from storage import InboundRecord, Store
from tests.channels.processes import free_port

SLACK = {"slack_signing_secret": "signing-secret", "slack_bot_token": "xoxb-ops-test"}


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": f"sqlite:///{tmp_path / 'ops.db'}",
        "simulator_state": "",
        **SLACK,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture
def isolated_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("PROMETHEUS_MULTIPROC_DIR", "LOGINBOT_BACKEND", "WXCC_API_URL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def serving(tmp_path: Path, isolated_env: None) -> Iterator[TestClient]:
    with TestClient(SlackProcess(settings_for(tmp_path))) as client:
        yield client


def ready_when(client: TestClient, timeout: float = 15.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        answer = client.get("/readyz")
        if answer.status_code == 200 or time.monotonic() > deadline:
            return {**answer.json(), "code": answer.status_code}
        time.sleep(0.1)


def test_alive_ready_and_metrics_on_a_healthy_process(serving: TestClient) -> None:
    assert serving.get("/healthz").json() == {"status": "alive"}
    ready = ready_when(serving)
    assert ready["code"] == 200, ready
    assert ready["status"] == "ready" and ready["checks"]["database"]["ok"]
    assert "schema at head" in ready["checks"]["database"]["detail"]
    assert ready["checks"]["backend"] == {"ok": True, "detail": "the simulator, in this process"}
    assert ready["checks"]["recovery"]["ok"]
    metrics = serving.get("/metrics")
    assert metrics.status_code == 200
    assert metrics.headers["content-type"].startswith("text/plain")
    for name in ("loginbot_inbox_depth", "loginbot_outbox_depth", "loginbot_live_conversations"):
        assert f"# TYPE {name} gauge" in metrics.text
    assert "# TYPE loginbot_turn_seconds histogram" in metrics.text
    # The Slack route is still Bolt's: a GET is not allowed, an unsigned POST is refused.
    assert serving.get("/slack/events").status_code == 405
    assert serving.post("/slack/events", json={"type": "url_verification"}).status_code == 401


def test_a_schema_behind_this_version_is_not_ready(serving: TestClient, tmp_path: Path) -> None:
    assert ready_when(serving)["code"] == 200
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path / 'ops.db'}")
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("UPDATE alembic_version SET version_num = '0003'"))
    engine.dispose()
    answer = serving.get("/readyz")
    assert answer.status_code == 503
    database = answer.json()["checks"]["database"]
    assert database["ok"] is False and "schema at 0003" in database["detail"], database
    assert answer.json()["status"] == "not ready"


def test_an_unreachable_contact_center_is_not_ready(tmp_path: Path, isolated_env: None) -> None:
    closed = f"http://127.0.0.1:{free_port()}"
    settings = settings_for(
        tmp_path,
        backend="wxcc",
        wxcc_api_url=closed,
        wxcc_oauth_url=f"{closed}/v1",
        wxcc_org_id="org",
        wxcc_client_id="client",
        wxcc_client_secret="client-secret",
        secret_key="ops tests: a key for the tokens at rest",
    )
    with TestClient(SlackProcess(settings)) as client:
        answer = client.get("/readyz")
        assert answer.status_code == 503
        backend = answer.json()["checks"]["backend"]
        assert backend["ok"] is False and "unreachable" in backend["detail"], backend
        assert answer.json()["checks"]["database"]["ok"] is True


def test_ready_only_once_the_start_up_recovery_ran(tmp_path: Path, isolated_env: None) -> None:
    """Another process died holding a delivery: until this one has recovered it (once the grace
    has passed), it is alive but not ready."""
    from intents.recognizer import Recognizer

    Recognizer.default()  # fitted before the entry's clock starts: the start-up is then quick
    settings = settings_for(tmp_path, slack_recovery_grace=10.0)
    store = Store.from_url(settings.database_url)
    store.record_inbounds(
        [
            InboundRecord(
                channel="slack",
                workspace="T0OPS",
                subject="U0DEAD",
                delivery_id="Ev-left-behind",
                payload={"version": 0},  # unreadable: the recovery gives it up, with a warning
                owner="elsewhere/1/dead",
            )
        ]
    )
    store.close()
    with TestClient(SlackProcess(settings)) as client:
        assert client.get("/healthz").status_code == 200
        waiting = client.get("/readyz")
        assert waiting.status_code == 503
        assert waiting.json()["checks"]["recovery"]["ok"] is False
        assert 'loginbot_inbox_depth{channel="slack"} 1.0' in client.get("/metrics").text
        ready = ready_when(client, timeout=60)
        assert ready["code"] == 200, ready
        gauges = client.get("/metrics").text
        assert 'loginbot_inbox_depth{channel="slack"} 0.0' in gauges


def test_the_simulator_is_alive_and_ready_and_says_so_during_an_outage() -> None:
    core = SimulatorCore(load_tenant(DEMO_TENANT_FILE))
    with TestClient(simulator_app(core)) as client:
        assert client.get("/healthz").json() == {"status": "alive"}
        ready = client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"]["tenant"]["detail"].endswith("users loaded")
        core.set_outage(True)
        during = client.get("/readyz").json()["checks"]["tenant"]
        assert during["ok"] is True and "outage" in during["detail"]


def test_the_rasa_action_server_keeps_health_and_gains_readiness(tmp_path: Path) -> None:
    from tests.rasa.support import running_server

    with running_server(tmp_path) as rig:
        assert rig.client.get("/health").json() == {"status": "ok"}
        ready = rig.client.get("/readyz")
        assert ready.status_code == 200, ready.text
        assert set(ready.json()["checks"]) == {"database", "backend"}
        assert ready.json()["checks"]["database"]["ok"] is True
