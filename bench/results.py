"""Figures, targets and their report: a rich table on the terminal and a JSON file."""

from __future__ import annotations

import json
import math
import os
import platform
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Comparison = Literal["<=", ">="]


@dataclass(frozen=True)
class Figure:
    """One measured figure, with its target when the issue sets one (`met` is None without)."""

    benchmark: str
    name: str
    value: float
    unit: str
    target: float | None = None
    comparison: Comparison = "<="
    note: str = ""

    @property
    def met(self) -> bool | None:
        if self.target is None or math.isnan(self.value):
            return None if self.target is None else False
        return self.value <= self.target if self.comparison == "<=" else self.value >= self.target

    def as_json(self) -> dict[str, Any]:
        return {**asdict(self), "met": self.met}


@dataclass
class BenchResult:
    """What one benchmark measured: its figures, plus details kept in the JSON only."""

    benchmark: str
    figures: list[Figure] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def add(
        self,
        name: str,
        value: float,
        unit: str,
        *,
        target: float | None = None,
        comparison: Comparison = "<=",
        note: str = "",
    ) -> Figure:
        figure = Figure(self.benchmark, name, float(value), unit, target, comparison, note)
        self.figures.append(figure)
        return figure

    @property
    def all_met(self) -> bool:
        return all(f.met is not False for f in self.figures)


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolated linearly between the closest ranks; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def summary_ms(seconds: Sequence[float]) -> dict[str, float]:
    """p50 / p90 / p99 / max / mean of durations given in seconds, in milliseconds."""
    ms = [s * 1000 for s in seconds]
    return {
        "count": len(ms),
        "p50": percentile(ms, 50),
        "p90": percentile(ms, 90),
        "p99": percentile(ms, 99),
        "max": max(ms) if ms else math.nan,
        "mean": statistics.fmean(ms) if ms else math.nan,
    }


def machine() -> dict[str, Any]:
    """Where the figures were measured."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory_mb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_mb = int(line.split()[1]) // 1024
                break
    except OSError:
        pass
    load = os.getloadavg() if hasattr(os, "getloadavg") else (math.nan,) * 3
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model,
        "memory_mb": memory_mb,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_1_5_15_min": [round(x, 2) for x in load],  # when the file was written
    }


def write_json(path: Path, results: Iterable[BenchResult], *, merge: bool = True) -> dict[str, Any]:
    """Write the results to `path`; with `merge`, benchmarks not run this time keep their last figures."""
    document: dict[str, Any] = {"benchmarks": {}}
    if merge and path.exists():
        try:
            document = json.loads(path.read_text())
            document.setdefault("benchmarks", {})
        except (OSError, ValueError):
            document = {"benchmarks": {}}
    now = datetime.now(UTC).isoformat(timespec="seconds")
    for result in results:
        document["benchmarks"][result.benchmark] = {
            "measured_at": now,
            "seconds": round(result.seconds, 2),
            "all_targets_met": result.all_met,
            "figures": [f.as_json() for f in result.figures],
            "details": result.details,
        }
    document["machine"] = machine()
    document["updated_at"] = now
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_clean(document), indent=2, ensure_ascii=False, default=str) + "\n")
    return document


def _clean(value: Any) -> Any:
    """NaN (a figure that could not be measured) as JSON null, rounded floats elsewhere."""
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else round(value, 4)
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def format_value(value: float, unit: str) -> str:
    if math.isnan(value):
        return "n/a"
    shown = unit if unit != "count" else ""
    if unit == "count" or abs(value) >= 100:
        text = f"{value:,.0f}"
    elif abs(value) >= 10:
        text = f"{value:.1f}"
    else:
        text = f"{value:.3g}"
    return f"{text} {shown}".strip()


def print_table(results: Sequence[BenchResult]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="loginbot benchmarks", show_lines=False)
    table.add_column("benchmark")
    table.add_column("figure")
    table.add_column("measured", justify="right")
    table.add_column("target", justify="right")
    table.add_column("met", justify="center")
    for result in results:
        for figure in result.figures:
            target = (
                f"{figure.comparison} {format_value(figure.target, figure.unit)}"
                if figure.target is not None
                else ""
            )
            met = {True: "[green]yes[/green]", False: "[red]NO[/red]", None: ""}[figure.met]
            table.add_row(figure.benchmark, figure.name, format_value(figure.value, figure.unit), target, met)
    Console().print(table)
