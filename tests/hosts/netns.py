"""Several hosts on one machine: Linux network namespaces joined by veth pairs to a bridge.

`Network` makes a `front` namespace holding the bridge (the LAN, at `.10`) and one namespace per
host, each with an `eth0` on the bridge. Every address lives inside these namespaces; nothing is
configured outside them. `run_in(namespace, job)` runs a callable on a thread that entered the
namespace (setns): the sockets it opens, the threads and processes it starts, are in there too.
The namespaces are deleted on exit, whatever happened (deleting one kills its interfaces; the
processes still inside are killed first).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

T = TypeVar("T")
CLONE_NEWNET = 0x40000000
SUBNET = "10.231.7"  # inside the namespaces only


def unavailable() -> str | None:
    """Why namespaces cannot be made here, or None."""
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2's `ip` is not installed (apt-get install iproute2)"
    probe = f"lbprobe{os.getpid()}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True, text=True)
    if made.returncode != 0:
        return f"`ip netns add` is refused in this sandbox: {made.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args: str) -> None:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"ip {' '.join(args)}: {done.stderr.strip()}")


@dataclass
class Network:
    hosts: tuple[str, ...]
    prefix: str = field(default_factory=lambda: f"lb{os.getpid() % 100000}")
    made: list[str] = field(default_factory=list)

    def name(self, host: str) -> str:
        return f"{self.prefix}-{host}"

    def address(self, host: str) -> str:
        return f"{SUBNET}.10" if host == "front" else f"{SUBNET}.{self.hosts.index(host) + 1}"

    def create(self) -> None:
        front = self.name("front")
        for host in ("front", *self.hosts):
            _ip("netns", "add", self.name(host))
            self.made.append(self.name(host))
            _ip("-n", self.name(host), "link", "set", "lo", "up")
        _ip("-n", front, "link", "add", "br0", "type", "bridge")
        _ip("-n", front, "addr", "add", f"{self.address('front')}/24", "dev", "br0")
        _ip("-n", front, "link", "set", "br0", "up")
        for index, host in enumerate(self.hosts):
            port = f"v{index}"
            _ip(
                "-n",
                front,
                "link",
                "add",
                port,
                "type",
                "veth",
                "peer",
                "name",
                "eth0",
                "netns",
                self.name(host),
            )
            _ip("-n", front, "link", "set", port, "master", "br0", "up")
            _ip("-n", self.name(host), "addr", "add", f"{self.address(host)}/24", "dev", "eth0")
            _ip("-n", self.name(host), "link", "set", "eth0", "up")

    def destroy(self) -> None:
        for namespace in reversed(self.made):
            pids = subprocess.run(["ip", "netns", "pids", namespace], capture_output=True, text=True).stdout
            for pid in pids.split():
                with contextlib.suppress(ProcessLookupError, ValueError):
                    os.kill(int(pid), signal.SIGKILL)
            subprocess.run(["ip", "netns", "del", namespace], capture_output=True)
        self.made.clear()

    def command(self, host: str, *argv: str) -> list[str]:
        """`argv` run inside `host`'s namespace."""
        return ["ip", "netns", "exec", self.name(host), *argv]


@contextlib.contextmanager
def network(*hosts: str) -> Iterator[Network]:
    net = Network(hosts)
    try:
        net.create()
        yield net
    finally:
        net.destroy()


def run_in(namespace: str, job: Callable[[], T]) -> T:
    """`job()` on a thread inside `namespace` (its result, or its exception raised here)."""
    outcome: dict[str, object] = {}

    def enter_and_run() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/var/run/netns/{namespace}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    raise OSError(ctypes.get_errno(), f"setns into {namespace} failed")
            finally:
                os.close(fd)
            outcome["result"] = job()
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=enter_and_run, name=f"in-{namespace}")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return outcome["result"]  # type: ignore[return-value]
