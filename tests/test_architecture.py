"""Layering (DESIGN.md): the dialogue and the recognizer know nothing of Slack, Rasa, HTTP or SQL,
storage is the only package touching the database, and nothing reads the shared specification."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN_IN_CORE = {
    "slack_bolt",
    "slack_sdk",
    "rasa_sdk",
    "rasa",
    "httpx",
    "requests",
    "websockets",
    "sqlalchemy",
    "sqlmodel",
    "alembic",
    "storage",
    "starlette",
    "uvicorn",
    "aiohttp",
    "sanic",
}
DATABASE_LIBRARIES = {"sqlalchemy", "sqlmodel", "alembic"}


def modules(*packages: str) -> list[Path]:
    found = [p for package in packages for p in sorted((ROOT / package).rglob("*.py"))]
    assert found, packages
    return found


def imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            roots.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in ("import_module", "__import__")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            roots.add(node.args[0].value.split(".")[0])
    return roots


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("path", modules("bot/flow", "intents"), ids=relative)
def test_flow_and_intents_import_no_channel_http_or_sql_library(path: Path) -> None:
    assert imported_roots(path) & FORBIDDEN_IN_CORE == set()


def test_the_walk_sees_imports() -> None:
    assert "storage" in imported_roots(ROOT / "bot" / "assistant.py")
    assert "sqlalchemy" in imported_roots(ROOT / "storage" / "store.py")


def test_storage_is_the_only_package_importing_database_libraries() -> None:
    offenders = [
        relative(path) for path in modules("bot", "intents") if imported_roots(path) & DATABASE_LIBRARIES
    ]
    assert offenders == []


def test_nothing_in_the_project_reads_the_shared_folder() -> None:
    offenders = []
    for path in modules("bot", "intents", "storage"):
        text = path.read_text(encoding="utf-8")
        if "../shared" in text or "/work/shared" in text or "shared/spec" in text:
            offenders.append(relative(path))
    for path in sorted((ROOT / "tests").rglob("*.py")):
        if path.resolve() == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8")
        if "../shared" in text or "/work/shared" in text:
            offenders.append(relative(path))
    assert offenders == []
