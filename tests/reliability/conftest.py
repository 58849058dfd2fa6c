"""Fixtures: the Slack Web API double (knowing the generated users too) and a tenant file with them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.slack.double import SlackDouble

from .support import load_emails, write_tenant

USERS = 24  # the most any test here uses


@pytest.fixture
def double() -> Iterator[SlackDouble]:
    fake = SlackDouble()
    for email in load_emails(USERS):
        fake.add_user(email, "en-US")
    with fake.running():
        yield fake


@pytest.fixture
def tenant_file(tmp_path: Path) -> Path:
    path = tmp_path / "tenant.yml"
    write_tenant(path, USERS)
    return path
