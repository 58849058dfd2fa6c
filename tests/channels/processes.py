"""Real `loginbot` processes for end-to-end tests: every read has a timeout, every process is killed.

`Process` pumps the child's standard output and error into queues on two reader threads, so that a
test waits for a line (or a turn of the line-mode chat) with a deadline instead of blocking forever
on a pipe, and so that a chatty child never stalls on a full pipe.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

READ_TIMEOUT = 60.0
_EOF = None


def free_port() -> int:
    """A loopback port free right now (another process could take it before ours binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def clean_environment(**settings: str) -> dict[str, str]:
    """This environment without any loginbot, Webex or Slack setting, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LOGINBOT_", "WXCC_", "SLACK_"))}
    env["PYTHONUNBUFFERED"] = "1"
    # No "Signing you in…" line unless a test asks for it: on a loaded machine a sign-in may take a
    # second, and what a test reads must not depend on timing.
    env["LOGINBOT_PROGRESS_AFTER"] = "60"
    env.update(settings)
    return env


class Process:
    """`python -m bot.cli ARGS` (or another `module`) with pipes on every stream; use as a context
    manager."""

    def __init__(
        self,
        args: list[str],
        *,
        env: Mapping[str, str],
        cwd: Path,
        module: str = "bot.cli",
        group: bool = False,
    ) -> None:
        self.args = args
        # `group`: the child and the processes it starts (a server's workers) are killed together.
        self._group = group
        self._popen = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            start_new_session=group,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=dict(env),
        )
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        self._stdout_lines: queue.Queue[str | None] = queue.Queue()
        self._any_lines: queue.Queue[str | None] = queue.Queue()  # both streams, for `wait_for_line`
        self._lock = threading.Lock()
        self._open_streams = 2
        assert self._popen.stdout is not None and self._popen.stderr is not None
        self._readers = [
            self._pump(self._popen.stdout, self.stdout, self._stdout_lines, "stdout"),
            self._pump(self._popen.stderr, self.stderr, None, "stderr"),
        ]

    def _pump(
        self, stream: IO[bytes], kept: list[str], lines: queue.Queue[str | None] | None, name: str
    ) -> threading.Thread:
        def run() -> None:
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\r\n")
                kept.append(line)
                self._any_lines.put(line)
                if lines is not None:
                    lines.put(line)
            if lines is not None:
                lines.put(_EOF)
            with self._lock:
                self._open_streams -= 1
                if self._open_streams == 0:
                    self._any_lines.put(_EOF)

        thread = threading.Thread(target=run, daemon=True, name=f"pipe-{name}-{self._popen.pid}")
        thread.start()
        return thread

    # -- reading ---------------------------------------------------------------------------------

    def _next(self, lines: queue.Queue[str | None], deadline: float, waiting_for: str) -> str:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise AssertionError(f"{self.args[0]}: no {waiting_for} in time\n{self.transcript()}") from None
        if line is _EOF:
            lines.put(_EOF)  # later reads see the end too
            raise AssertionError(f"{self.args[0]}: output ended before {waiting_for}\n{self.transcript()}")
        return line

    def wait_for_line(self, wanted: Callable[[str], bool], *, timeout: float = READ_TIMEOUT) -> str:
        """The first line, of standard output or error, for which `wanted` is true."""
        deadline = time.monotonic() + timeout
        while True:
            line = self._next(self._any_lines, deadline, "awaited line")
            if wanted(line):
                return line

    def read_turn(self, *, timeout: float = READ_TIMEOUT) -> list[str]:
        """One turn of the line-mode chat: its reply lines, up to the empty line that ends it."""
        deadline = time.monotonic() + timeout
        lines: list[str] = []
        while True:
            line = self._next(self._stdout_lines, deadline, "end of the turn")
            if line == "":
                return lines
            lines.append(line)

    # -- writing and lifetime ----------------------------------------------------------------------

    def send(self, text: str) -> None:
        assert self._popen.stdin is not None
        self._popen.stdin.write(text.encode("utf-8") + b"\n")
        self._popen.stdin.flush()

    def close_input(self) -> None:
        assert self._popen.stdin is not None
        self._popen.stdin.close()

    def wait(self, timeout: float = READ_TIMEOUT) -> int:
        code = self._popen.wait(timeout=timeout)
        for reader in self._readers:
            reader.join(timeout=5)
        return code

    def kill(self) -> None:
        if self._group:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._popen.pid, signal.SIGKILL)
        elif self._popen.poll() is None:
            self._popen.kill()
        self._popen.wait(timeout=10)
        for stream in (self._popen.stdin, self._popen.stdout, self._popen.stderr):
            if stream is not None and not stream.closed:
                with contextlib.suppress(OSError):
                    stream.close()
        for reader in self._readers:
            reader.join(timeout=5)

    def transcript(self) -> str:
        out = "\n".join(self.stdout[-60:])
        err = "\n".join(self.stderr[-60:])
        return f"--- stdout ---\n{out}\n--- stderr ---\n{err}"

    def __enter__(self) -> Process:
        return self

    def __exit__(self, *exc: object) -> None:
        self.kill()


def start_simulator(directory: Path, *options: str) -> tuple[Process, str]:
    """`loginbot simulator` on a free loopback port, once it listens: (process, base URL)."""
    port = free_port()
    process = Process(["simulator", "--port", str(port), *options], env=clean_environment(), cwd=directory)
    try:
        process.wait_for_line(lambda line: "Uvicorn running on" in line)
    except BaseException:
        process.kill()
        raise
    return process, f"http://127.0.0.1:{port}"
