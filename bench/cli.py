"""`loginbot --help` start-up (issue 7: <= 0.5 s): the installed console script in a new process,
timed from spawn to exit, several times; the first run (cold file cache) is reported apart."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time

from bench.procs import installed_script
from bench.results import BenchResult, percentile

HELP_TARGET_S = 0.5


def loginbot_command() -> list[str]:
    """The console script next to this interpreter (the venv's), else `python -m bot.cli`."""
    script = installed_script("loginbot")
    return [script] if script else [sys.executable, "-m", "bot.cli"]


def run(repeats: int = 7) -> BenchResult:
    result = BenchResult("cli")
    started = time.perf_counter()
    command = [*loginbot_command(), "--help"]
    times: list[float] = []
    with tempfile.TemporaryDirectory(prefix="loginbot-bench-cli-") as cwd:  # no .env picked up
        for _ in range(max(2, repeats)):
            t = time.perf_counter()
            done = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=60)
            times.append(time.perf_counter() - t)
            if done.returncode != 0 or "Usage" not in done.stdout:
                raise AssertionError(f"loginbot --help failed: {done.returncode} {done.stderr[-500:]}")
    warm = times[1:]
    result.add("loginbot --help (median)", percentile(warm, 50), "s", target=HELP_TARGET_S)
    result.add("loginbot --help (worst)", max(warm), "s")
    result.details = {"command": command, "first_run_s": times[0], "runs_s": warm}
    result.seconds = time.perf_counter() - started
    return result
