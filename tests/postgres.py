"""The test PostgreSQL server: where it is (`LOGINBOT_TEST_POSTGRES_URL`, set by
`scripts/with-postgres.sh`) and a fresh, empty schema on it per test."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine

from storage.engine import normalize_url

POSTGRES_URL_ENV = "LOGINBOT_TEST_POSTGRES_URL"


@contextlib.contextmanager
def postgres_schema(base_url: str, prefix: str = "loginbot_test") -> Iterator[str]:
    """A fresh, empty schema on the test PostgreSQL server: the URL of a database whose connections
    all use it (through `search_path`), dropped afterwards."""
    url = normalize_url(base_url)
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url)
    try:
        with admin.begin() as connection:
            connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        try:
            yield url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
                hide_password=False
            )
        finally:
            with admin.begin() as connection:
                connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    finally:
        admin.dispose()
