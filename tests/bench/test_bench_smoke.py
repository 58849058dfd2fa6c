"""The benchmarks in tiny configurations: they must keep working (never a timing assertion here)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import cli, recognizer, storm, turn
from bench.__main__ import main
from bench.results import BenchResult


def figures(result: BenchResult) -> dict[str, float]:
    return {f.name: f.value for f in result.figures}


def test_turn_signs_every_user_in_and_times_every_turn() -> None:
    result = turn.run(conversations=3, warmup=1)
    assert result.details["turns"] == 3 * 7
    assert figures(result)["turn p50"] > 0


def test_recognizer_reports_accuracy_beside_the_baselines() -> None:
    result = recognizer.run(seconds=0.05, startups=1)
    shown = figures(result)
    for language in ("en", "fr"):
        heldout = result.details["heldout"][language]
        assert heldout["messages"] > 200
        assert heldout["intent_accuracy"] > heldout["baseline_majority_intent_accuracy"]
        assert 0 < shown[f"entity F1 {language}"] <= 100
    assert shown["messages/s (one core)"] > 0


def test_the_baselines_work_alone() -> None:
    overlap = recognizer.OverlapBaseline([("log me in", "login"), ("sign me out", "logout")])
    assert overlap.predict("please log me in") == "login"
    found = recognizer.baseline_entities("ext 2001 or +14155550101, team Billing, as supervisor", ["Billing"])
    assert {(e, v) for e, v, _, _ in found} >= {
        ("extension", "2001"),
        ("phone_number", "+14155550101"),
        ("team", "Billing"),
        ("role", "supervisor"),
    }


def test_loginbot_help_is_timed() -> None:
    result = cli.run(repeats=2)
    assert len(result.details["runs_s"]) == 1


def test_a_small_storm_signs_everyone_in_over_http(tmp_path: Path) -> None:
    result = storm.run(users=4, step_timeout=60, keep=tmp_path)
    shown = figures(result)
    assert shown["users signed in"] == 4
    assert shown["errors"] == 0, result.details
    assert shown["double sign-ins"] == 0
    assert result.details["station_logins_in_simulator_log"] == 4  # read from the simulator's own log
    assert result.details["requests"] == 4 * 7
    assert shown["server RSS peak, all processes"] >= shown["server RSS peak, largest process"] > 0


def test_the_command_writes_json_and_keeps_earlier_figures(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    assert main(["cli", "--quick", "--out", str(out)]) == 0
    assert main(["turn", "--quick", "--out", str(out)]) == 0
    document = json.loads(out.read_text())
    assert set(document["benchmarks"]) == {"cli", "turn"}
    turn_figures = {f["name"]: f for f in document["benchmarks"]["turn"]["figures"]}
    assert turn_figures["turn p99"]["target"] == 5.0 and turn_figures["turn p99"]["met"] in (True, False)
    assert document["machine"]["cpus"] >= 1
