"""The documentation's example Rasa project (docs/rasa/) is `rasa init`'s with loginbot's export: its
loginbot files are what the export writes today, and the whole project passes the export's checks."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.channels.rasa.export import export
from bot.channels.rasa.project import WRITTEN

from .rasa_init import FILES, rendered
from .test_export import check_project, load

pytestmark = pytest.mark.filterwarnings("ignore:the load_module:DeprecationWarning")  # pykwalify

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "rasa"
CHANGED = {"domain.yml", "endpoints.yml", "actions/actions.py"}  # moved, or turned on (README)


def test_the_example_is_rasa_init_plus_the_export_of_today(tmp_path: Path) -> None:
    for name in FILES:
        if name not in CHANGED:
            assert (EXAMPLE / name).read_text(encoding="utf-8") == rendered(name), name
    assert (EXAMPLE / "domain" / "domain.yml").read_text(encoding="utf-8") == rendered("domain.yml")
    assert load(EXAMPLE / "endpoints.yml")["action_endpoint"]["url"] == "http://127.0.0.1:5055/webhook"
    assert "import bot.channels.rasa.actions" in (EXAMPLE / "actions" / "actions.py").read_text("utf-8")

    copy = tmp_path / "example"
    shutil.copytree(EXAMPLE, copy)
    export(copy)
    stale = [str(p) for p in WRITTEN if (copy / p).read_bytes() != (EXAMPLE / p).read_bytes()]
    assert stale == [], f"run `loginbot rasa export docs/rasa` again: {stale} changed"
    check_project(EXAMPLE, tmp_path)
