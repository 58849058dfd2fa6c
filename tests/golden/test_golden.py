"""Every golden conversation in scenarios/, through the real assistant."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden.harness import all_scenarios, load, run


def _params() -> list[object]:
    params: list[object] = []
    for path in all_scenarios():
        reason = load(path).get("xfail")
        marks = [pytest.mark.xfail(reason=str(reason), strict=True)] if reason else []
        params.append(pytest.param(path, id=path.stem, marks=marks))
    return params


@pytest.mark.parametrize("path", _params())
def test_golden_conversation(path: Path, tmp_path: Path) -> None:
    run(path, tmp_path)


def test_every_scenario_names_its_requirements() -> None:
    for path in all_scenarios():
        scenario = load(path)
        assert scenario.get("requirements"), f"{path.name} names no requirement id"
        assert scenario.get("user") and scenario.get("turns"), f"{path.name} is incomplete"


def test_scenarios_cover_the_requirements_and_demo_users() -> None:
    covered: set[str] = set()
    users: set[str] = set()
    languages: set[str] = set()
    for path in all_scenarios():
        scenario = load(path)
        covered.update(scenario["requirements"])
        users.add(scenario["user"])
        languages.add(scenario.get("lang") or "en")
    wanted = {f"S{n}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15)} | {"U2", "U3", "T9", "X1"}
    assert wanted <= covered, f"no golden conversation for {sorted(wanted - covered)}"
    demo_users = {
        "sam.supervisor@example.com",
        "ava.lead@example.com",
        "alex.agent@example.com",
        "dana.digital@example.com",
        "pat.provisioned@example.com",
        "ines.martin@example.com",
        "busy.agent@example.com",
        "root.admin@example.com",
    }
    assert demo_users <= users, f"no golden conversation for {sorted(demo_users - users)}"
    assert {"en", "fr"} <= languages
