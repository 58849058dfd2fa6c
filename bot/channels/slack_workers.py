"""`loginbot serve slack --workers N`: several processes serving the Slack app in HTTP mode.

One process is CPU-bound in the 1,000-user login storm of `bench/storm.py`; the store (SQLite in
WAL mode with `BEGIN IMMEDIATE`, or PostgreSQL) and the turn runner (optimistic versions,
delivery-id dedupe, claims before side effects) already let several processes serve the same users,
so more throughput is more processes.

The supervisor (the `loginbot` process) binds the listening sockets and starts the workers; it
builds no assistant and serves no request. On Linux each worker gets a socket of its own bound to
the same address with `SO_REUSEPORT`, so the kernel spreads new connections evenly over them (with
one shared socket, uvloop's accept loop may let whichever worker wakes first take a whole burst of
connections); elsewhere the workers share one socket. Each worker is a fresh interpreter that
inherits its socket and reads the settings, builds its own assistant (recognizer, store,
backend) and then runs `serve`, the very function a single-process `loginbot serve slack` runs, so
it starts (and recovers) exactly as a lone server does. A worker counts as ready once its
assistant is built; connections that arrive before it listens wait in its socket's backlog. This
module lives outside `bot.channels.slack` so that the supervisor does not import the Slack app (the
package's `__init__` does): it stays at ~37 MB.

Shutdown: SIGINT or SIGTERM to the supervisor is passed on to every worker as SIGTERM, which uvicorn
turns into a graceful stop (no new connections, requests in flight finish, then the assistant is
closed); a worker still running after `STOP_TIMEOUT` seconds is killed. A worker that dies while
serving is logged and replaced (its socket kept the connections waiting meanwhile); a worker that
fails before it is ready (a bad setting, an unreachable database) stops the whole server, with the
worker's exit status, as a single process would have failed. Workers stop by themselves when the
supervisor disappears (SIGKILL included): their end of its pipe closes. (A worker ignores SIGTERM
between building its assistant and uvicorn taking the signals over, a few milliseconds, so the
supervisor and that watch send it again each second.)

Socket Mode stays one process: Slack would hand each event to one of several Socket Mode
connections, but nothing here needs that, and the OAuth callback listener of Socket Mode binds a
port of its own.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.assistant import Assistant
    from bot.settings import Settings

log = logging.getLogger(__name__)

STOP_TIMEOUT = 30.0  # seconds a worker has to finish its requests in flight and close, once told to stop
CONFIGURATION_ERROR = 2  # a worker's exit status when a setting cannot work (as `loginbot` exits)
CRASH_LIMIT = 5  # workers dying within CRASH_WINDOW seconds: something is wrong, stop serving
CRASH_WINDOW = 60.0
BACKLOG = 2048  # uvicorn's default


def serve(
    settings: Settings,
    assistant: Assistant,
    *,
    host: str,
    port: int,
    sockets: Sequence[socket.socket] | None = None,
) -> None:
    """Serve in this process until stopped: `bot.channels.slack.server.run` on uvloop. A lone
    `loginbot serve slack` runs this, and so does every worker (on the sockets it was given)."""
    from bot.channels.slack.server import run
    from bot.heap import settle_startup_heap

    assert settings.slack_signing_secret is not None and settings.slack_bot_token is not None
    app_token = settings.slack_app_token.get_secret_value() if settings.slack_app_token else None
    settle_startup_heap()
    run_forever(
        run(
            assistant,
            signing_secret=settings.slack_signing_secret.get_secret_value(),
            token=settings.slack_bot_token.get_secret_value(),
            app_token=app_token,
            api_url=settings.slack_api_url,
            host=host,
            port=port,
            sockets=list(sockets) if sockets is not None else None,
            recovery_grace=settings.slack_recovery_grace,
        )
    )


def run_forever(server: Coroutine[Any, Any, None]) -> None:
    """Run a server on uvloop when it is installed (rasa-sdk's sanic brings it): a busy server spends
    a fifth of its time in the event loop's own I/O code, which uvloop runs several times faster."""
    import asyncio

    try:
        import uvloop
    except ImportError:
        asyncio.run(server)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(server)


# --- the supervisor ---------------------------------------------------------------------------------


def listen(host: str, port: int, count: int) -> list[socket.socket]:
    """Listening sockets for `count` workers: one each with SO_REUSEPORT on Linux (the kernel
    balances connections between them), else one to share. Port 0 picks a free port for all."""
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    reuse_port = sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")
    sockets: list[socket.socket] = []
    try:
        for _ in range(count if reuse_port else 1):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            address = sock.getsockname()  # the port the first one got, when asked for port 0
            sock.listen(BACKLOG)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


@dataclass(eq=False)
class _Worker:
    index: int
    process: subprocess.Popen[bytes]
    pipe: socket.socket  # the supervisor's end: the worker says when it is ready; closing it stops the worker
    ready: bool = False
    started: float = field(default_factory=time.monotonic)

    @property
    def pid(self) -> int:
        return self.process.pid

    def alive(self) -> bool:
        return self.process.poll() is None


class Supervisor:
    """Starts `count` workers on `sockets`, replaces those that die, stops them all on a signal."""

    def __init__(
        self,
        count: int,
        sockets: Sequence[socket.socket],
        *,
        host: str,
        port: int,
        on_ready: Callable[[], None] | None = None,
    ) -> None:
        self.count = count
        self.on_ready = on_ready  # called once, when every worker is first ready
        self.sockets = list(sockets)
        self.host = host
        self.port = port
        self.workers: list[_Worker] = []
        self.stopping = False
        self.status = 0
        self.crashes: list[float] = []

    def start_worker(self, index: int) -> _Worker:
        """A new interpreter (not a fork, nor multiprocessing's spawn, which would start a resource
        tracker process and import `loginbot`'s command line again) given its socket and pipe."""
        mine, theirs = socket.socketpair()
        listening = self.sockets[index % len(self.sockets)]
        command = [
            sys.executable,
            "-c",
            "from bot.channels.slack_workers import worker_main; worker_main()",
            str(listening.fileno()),
            str(theirs.fileno()),
            self.host,
            str(self.port),
        ]
        try:
            process = subprocess.Popen(command, pass_fds=(listening.fileno(), theirs.fileno()))
        finally:
            theirs.close()
        worker = _Worker(index, process, mine)
        log.info("worker %d started (pid %d)", index, worker.pid)
        return worker

    def run(self) -> int:
        """Serve until told to stop; the exit status for `loginbot`."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            self.workers = [self.start_worker(index) for index in range(self.count)]
            while not self.stopping:
                self._step()
        finally:
            self._stop_all()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for sock in self.sockets:
                sock.close()
        return self.status

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        self.stopping = True

    def _step(self) -> None:
        starting = [w.pipe for w in self.workers if not w.ready]
        readable = set(wait(starting, timeout=0.5)) if starting else set()
        if not starting:
            time.sleep(0.5)
        if self.stopping:
            return
        for worker in list(self.workers):
            if worker.pipe in readable:
                with contextlib.suppress(OSError):
                    if worker.pipe.recv(16):
                        worker.ready = True
                        log.info("worker %d ready (pid %d)", worker.index, worker.pid)
                        if self.on_ready is not None and all(w.ready for w in self.workers):
                            self.on_ready()
                            self.on_ready = None
            if not worker.alive():
                self._died(worker)
                if self.stopping:
                    return

    def _died(self, worker: _Worker) -> None:
        code = worker.process.returncode
        worker.pipe.close()
        how = f"was killed by signal {-code}" if code < 0 else f"exited with {code}"
        if not worker.ready:
            log.error("worker %d (pid %d) %s before it was ready: stopping", worker.index, worker.pid, how)
            self.status = code if code > 0 else 1
            self.stopping = True
            return
        now = time.monotonic()
        self.crashes = [t for t in self.crashes if now - t < CRASH_WINDOW] + [now]
        if len(self.crashes) >= CRASH_LIMIT:
            log.error(
                "worker %d (pid %d) %s, the %dth worker lost within %.0f s: stopping",
                worker.index,
                worker.pid,
                how,
                len(self.crashes),
                CRASH_WINDOW,
            )
            self.status = 1
            self.stopping = True
            return
        log.error("worker %d (pid %d) %s while serving: starting another", worker.index, worker.pid, how)
        self.workers[self.workers.index(worker)] = self.start_worker(worker.index)

    def _stop_all(self) -> None:
        alive = [w for w in self.workers if w.alive()]
        deadline = time.monotonic() + STOP_TIMEOUT
        while alive and time.monotonic() < deadline:
            for worker in alive:  # again each second: a worker still starting up may not have heard it
                with contextlib.suppress(ProcessLookupError):
                    os.kill(worker.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                alive[0].process.wait(1.0)
            alive = [w for w in alive if w.alive()]
        for worker in alive:
            log.error("worker %d (pid %d) did not stop in time: killed", worker.index, worker.pid)
            worker.process.kill()
            worker.process.wait()
        for worker in self.workers:
            worker.pipe.close()


def serve_workers(count: int, *, host: str, port: int, on_ready: Callable[[], None] | None = None) -> int:
    """`loginbot serve slack --workers N` (HTTP mode): serve with `count` worker processes until
    SIGINT or SIGTERM; the exit status. `on_ready` is called once every worker is ready."""
    return Supervisor(count, listen(host, port, count), host=host, port=port, on_ready=on_ready).run()


# --- a worker ---------------------------------------------------------------------------------------


def worker_main() -> None:
    """A worker process (`Supervisor.start_worker`): the settings, its own assistant, then `serve` on
    the socket it inherited. Arguments: listening socket fd, supervisor pipe fd, host, port."""
    listening_fd, pipe_fd, host, port = sys.argv[1:5]
    serving = False

    def stop(signum: int, frame: FrameType | None) -> None:
        # While uvicorn serves, its own handlers take these signals (a graceful stop); before that
        # there is nothing to finish; after it, `run` is closing the assistant: let it.
        if not serving:
            raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)  # Ctrl-C reaches the workers too: the supervisor stops them

    from bot.app import ConfigurationError, build_assistant
    from bot.log import configure
    from bot.settings import Settings

    sock = socket.socket(fileno=int(listening_fd))
    pipe = socket.socket(fileno=int(pipe_fd))
    settings = Settings()
    configure(settings.log_level)
    try:
        assistant = build_assistant(settings)
    except ConfigurationError as error:
        print(f"loginbot: {error}", file=sys.stderr)
        sys.exit(CONFIGURATION_ERROR)
    serving = True
    pipe.sendall(b"ready")
    threading.Thread(target=_exit_with_supervisor, args=(pipe,), daemon=True).start()
    serve(settings, assistant, host=host, port=int(port), sockets=[sock])


def _exit_with_supervisor(pipe: socket.socket) -> None:
    """Stop this worker gracefully when the supervisor's end of the pipe closes (it exited)."""
    with contextlib.suppress(OSError):
        while pipe.recv(16):
            pass
    while True:  # again each second: a signal that came before uvicorn took them over is not seen
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(1.0)
