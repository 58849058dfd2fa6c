"""The failure report on generated attempt history: counts per day and reason, text, JSON, PNG."""

from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.troubleshoot import build_report, chart_png, failure_report, render_chart_png
from storage import AttemptRecord
from tests.troubleshoot.conftest import NOW, World, attempt

REASONS = ("DUPLICATE_LOCATION", "SERVICE_ERROR", "TEAM_REQUIRED", "RATE_LIMITED")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def history(seed: int = 7, count: int = 120) -> list[AttemptRecord]:
    rng = random.Random(seed)
    generated = []
    for _ in range(count):
        at = NOW - timedelta(days=rng.randrange(0, 10), hours=rng.randrange(0, 11))
        if rng.random() < 0.6:
            generated.append(attempt("ava.lead@example.com", at=at))
        else:
            generated.append(attempt("alex.agent@example.com", "failure", rng.choice(REASONS), at=at))
    return generated


def expected(attempts: list[AttemptRecord], days: int) -> tuple[Counter[date], Counter[tuple[date, str]]]:
    first = NOW.date() - timedelta(days=days - 1)
    ok: Counter[date] = Counter()
    bad: Counter[tuple[date, str]] = Counter()
    for a in attempts:
        day = a.started_at.date()
        if day < first:
            continue
        if a.outcome == "success":
            ok[day] += 1
        else:
            bad[(day, a.reason or "")] += 1
    return ok, bad


def test_counts_per_day_and_reason(world: World) -> None:
    attempts = history()
    world.commit(*attempts)
    report = failure_report(world.store, 7, now=NOW)
    ok, bad = expected(attempts, 7)
    assert [d.day for d in report.days] == [NOW.date() - timedelta(days=n) for n in range(6, -1, -1)]
    for day in report.days:
        assert day.successes == ok[day.day]
        for reason in REASONS:
            assert day.failures.get(reason, 0) == bad[(day.day, reason)]
    assert report.successes == sum(ok.values()) and report.failures == sum(bad.values())
    totals = report.failures_by_reason
    assert list(report.reasons) == sorted(totals, key=lambda r: (-totals[r], r))


def test_text_and_dict(world: World) -> None:
    world.commit(*history())
    report = failure_report(world.store, 3, now=NOW)
    data = report.to_dict()
    assert data["start"] == (NOW.date() - timedelta(days=2)).isoformat() and len(data["days"]) == 3
    assert data["successes"] == sum(d["successes"] for d in data["days"])
    assert sum(data["failures_by_reason"].values()) == data["failures"]
    text = report.to_text("en")
    assert text.startswith("Sign-in attempts,") and "Total" in text
    assert report.to_text("fr").startswith("Tentatives de connexion")


def test_empty_history() -> None:
    report = build_report([], 5, now=NOW)
    assert report.successes == report.failures == 0 and len(report.days) == 5
    assert "No sign-in attempt" in report.to_text()
    assert chart_png(report).startswith(PNG_SIGNATURE)


def test_days_out_of_range() -> None:
    with pytest.raises(ValueError):
        build_report([], 0, now=NOW)


@pytest.mark.parametrize("language", ["en", "fr"])
def test_chart_png(world: World, tmp_path: Path, language: str) -> None:
    world.commit(*history())
    report = failure_report(world.store, 7, now=NOW)
    path = render_chart_png(report, tmp_path / "report.png", language)
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert 5_000 < len(data) < 2_000_000
