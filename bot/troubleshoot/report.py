"""The sign-in failure report for administrators (U3): outcomes and failure reasons per day.

`failure_report(store, days)` counts the recorded attempts of the last `days` days (UTC, today
included, days without attempts shown as zeros); a `Report` renders as plain text, as a dict for
`--json`, and as a PNG chart (`render_chart_png`, matplotlib's Agg canvas: no display needed) that
Slack can show as an image.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from bot.flow.troubleshooting import MAX_DAYS
from bot.troubleshoot.texts import language_of, texts
from storage import AttemptRecord, Store

UNKNOWN_REASON = "UNKNOWN"


@dataclass(frozen=True)
class DayCounts:
    day: date
    successes: int = 0
    failures: Mapping[str, int] = field(default_factory=dict)  # reason -> count

    @property
    def failed(self) -> int:
        return sum(self.failures.values())

    @property
    def total(self) -> int:
        return self.successes + self.failed


@dataclass(frozen=True)
class Report:
    """Attempts per day from `start` to `end` (inclusive, UTC), oldest first."""

    start: date
    end: date
    days: tuple[DayCounts, ...]
    generated_at: datetime

    @property
    def reasons(self) -> tuple[str, ...]:
        """Every failure reason seen, the most frequent first."""
        counts = self.failures_by_reason
        return tuple(sorted(counts, key=lambda reason: (-counts[reason], reason)))

    @property
    def failures_by_reason(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for day in self.days:
            total.update(day.failures)
        return dict(total)

    @property
    def successes(self) -> int:
        return sum(day.successes for day in self.days)

    @property
    def failures(self) -> int:
        return sum(day.failed for day in self.days)

    def to_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "generated_at": self.generated_at.isoformat(),
            "successes": self.successes,
            "failures": self.failures,
            "failures_by_reason": {reason: self.failures_by_reason[reason] for reason in self.reasons},
            "days": [
                {
                    "day": day.day.isoformat(),
                    "successes": day.successes,
                    "failures": day.failed,
                    "failures_by_reason": dict(sorted(day.failures.items())),
                }
                for day in self.days
            ],
        }

    def title(self, language: str | None = "en") -> str:
        return texts().text(language_of(language), "report.title", start=self.start, end=self.end)

    def to_text(self, language: str | None = "en") -> str:
        """A plain-text table for chat channels."""
        lang = language_of(language)
        t = texts()
        lines = [self.title(lang)]
        if self.successes + self.failures == 0:
            lines.append(t.text(lang, "report.none"))
        header = (
            t.text(lang, "report.day"),
            t.text(lang, "report.successes"),
            t.text(lang, "report.failures"),
        )
        lines.append(f"{header[0]:<12} {header[1]:>10} {header[2]:>8}")
        for day in self.days:
            reasons = ", ".join(
                f"{r} {n}" for r, n in sorted(day.failures.items(), key=lambda i: (-i[1], i[0]))
            )
            lines.append(f"{day.day.isoformat():<12} {day.successes:>10} {day.failed:>8}  {reasons}".rstrip())
        lines.append(f"{t.text(lang, 'report.total'):<12} {self.successes:>10} {self.failures:>8}")
        if self.reasons:
            lines.append(t.text(lang, "report.reasons") + ":")
            by_reason = self.failures_by_reason
            lines.extend(f"  {reason}: {by_reason[reason]}" for reason in self.reasons)
        return "\n".join(lines)


def build_report(attempts: Iterable[AttemptRecord], days: int, *, now: datetime) -> Report:
    """Count `attempts` into the `days` days ending today (UTC); attempts outside are ignored."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    end = now.astimezone(UTC).date()
    start = end - timedelta(days=days - 1)
    successes: Counter[date] = Counter()
    failures: dict[date, Counter[str]] = {}
    for attempt in attempts:
        day = attempt.started_at.astimezone(UTC).date()
        if not start <= day <= end:
            continue
        if attempt.outcome == "success":
            successes[day] += 1
        else:
            failures.setdefault(day, Counter())[attempt.reason or UNKNOWN_REASON] += 1
    rows = tuple(
        DayCounts(day, successes[day], dict(failures.get(day, {})))
        for day in (start + timedelta(days=n) for n in range(days))
    )
    return Report(start=start, end=end, days=rows, generated_at=now)


def failure_report(store: Store, days: int = 7, *, now: datetime | None = None) -> Report:
    """The report of the last `days` days from the store's recorded attempts."""
    now = now or datetime.now(UTC)
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    since = datetime.combine(now.astimezone(UTC).date() - timedelta(days=days - 1), time.min, tzinfo=UTC)
    return build_report(store.attempts_since(since), days, now=now)


def chart_png(report: Report, language: str | None = "en") -> bytes:
    """The report as a stacked bar chart (successes, then failures by reason, per day), PNG bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    lang = language_of(language)
    t = texts()
    labels = [day.day.strftime("%m-%d") for day in report.days]
    positions = list(range(len(report.days)))
    figure = Figure(figsize=(max(6.0, 0.6 * len(labels) + 3), 4.5), dpi=100)
    FigureCanvasAgg(figure)
    axes = figure.add_subplot()
    bottom = [0] * len(report.days)
    series: list[tuple[str, list[int], str | None]] = [
        (t.text(lang, "report.success_label"), [day.successes for day in report.days], "#2e9d4d")
    ]
    series += [
        (reason, [day.failures.get(reason, 0) for day in report.days], None) for reason in report.reasons
    ]
    palette = ["#d9534f", "#f0ad4e", "#5bc0de", "#9b59b6", "#8d6e63", "#e377c2", "#7f7f7f", "#bcbd22"]
    for index, (name, values, colour) in enumerate(series):
        colour = colour or palette[(index - 1) % len(palette)]
        axes.bar(positions, values, bottom=bottom, label=name, color=colour, width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(positions)
    axes.set_xticklabels(
        labels, rotation=45 if len(labels) > 10 else 0, ha="right" if len(labels) > 10 else "center"
    )
    axes.set_ylabel(t.text(lang, "report.chart_y"))
    axes.set_title(f"{t.text(lang, 'report.chart_title')} ({report.start} – {report.end})")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    if report.successes + report.failures:
        axes.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize="small", frameon=False)
    else:
        axes.set_ylim(0, 1)
        axes.text(0.5, 0.5, t.text(lang, "report.none"), ha="center", va="center", transform=axes.transAxes)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def render_chart_png(report: Report, path: str | Path, language: str | None = "en") -> Path:
    """Write the chart to `path` (PNG) and return the path."""
    target = Path(path)
    target.write_bytes(chart_png(report, language))
    return target
