"""Child processes for the storm: free ports, installed scripts, waiting for a listener, memory from /proc."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

# Settings a parent shell may hold that must not leak into the benchmark's servers.
_PREFIXES = ("LOGINBOT_", "SLACK_", "WXCC_")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def installed_script(name: str) -> str | None:
    """The console script `name` next to this interpreter (the venv's), else on the PATH; None if neither."""
    script = Path(sys.executable).with_name(name)
    if script.exists():
        return str(script)
    return shutil.which(name)


def clean_env(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_PREFIXES)}
    env.update(extra)
    return env


class Child:
    """A server process whose output goes to files in `directory`; stopped with SIGINT, then killed."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], directory: Path) -> None:
        self.name = name
        self.stdout_path = directory / f"{name}.out"
        self.stderr_path = directory / f"{name}.err"
        self._out: IO[bytes] = self.stdout_path.open("wb")
        self._err: IO[bytes] = self.stderr_path.open("wb")
        self.process = subprocess.Popen(command, env=env, cwd=directory, stdout=self._out, stderr=self._err)

    @property
    def pid(self) -> int:
        return self.process.pid

    def wait_listening(self, port: int, timeout: float = 60.0) -> float:
        """Seconds until `port` accepts connections; raises if the process dies or the time runs out."""

        def listening() -> bool:
            self._raise_if_exited()  # checked first: a dead server's port may be another's
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
            return False

        return self._wait(listening, timeout, f"did not listen on {port}")

    def wait_output(self, text: str, times: int = 1, timeout: float = 90.0) -> float:
        """Seconds until `text` appears `times` times in the process's standard output (each
        worker's `loginbot worker ready`)."""

        def said() -> bool:
            self._out.flush()
            return self.stdout_path.read_text(errors="replace").count(text) >= times

        return self._wait(said, timeout, f"did not say {text!r}")

    def _wait(self, ready: Callable[[], bool], timeout: float, failure: str) -> float:
        """Seconds until `ready()`; raises if the process dies first or the time runs out."""
        started = time.monotonic()
        while True:
            if ready():
                return time.monotonic() - started
            self._raise_if_exited()
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"{self.name} {failure} within {timeout:.0f} s")
            time.sleep(0.05)

    def _raise_if_exited(self) -> None:
        if self.process.poll() is not None:
            raise RuntimeError(f"{self.name} exited with {self.process.returncode}: {self.stderr()[-2000:]}")

    def pids(self) -> list[int]:
        """The process and its descendants (a server's worker processes)."""
        return [self.pid, *descendants(self.pid)]

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid)

    def stderr(self) -> str:
        self._err.flush()
        return self.stderr_path.read_text(errors="replace")

    def stop(self, timeout: float = 10.0) -> int | None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self._out.close()
        self._err.close()
        return self.process.returncode


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (from /proc; NaN where it is not available)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return float("nan")


def memory_kb(pid: int) -> dict[str, int]:
    """VmRSS (now) and VmHWM (peak) from /proc, in kB; empty where /proc is not available."""
    found: dict[str, int] = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            if name in ("VmRSS", "VmHWM"):
                found[name] = int(value.split()[0])
    except (OSError, ValueError):
        pass
    return found


def descendants(pid: int) -> list[int]:
    """Every living descendant of `pid`, from /proc (empty where /proc is not available)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else []:
        if not entry.name.isdigit():
            continue
        try:
            parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found: list[int] = []
    frontier = [pid]
    while frontier:
        children = sorted(child for child, parent in parents.items() if parent in frontier)
        found += children
        frontier = children
    return found
