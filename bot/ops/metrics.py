"""The Prometheus metrics (`/metrics`), with prometheus-client.

Counters and histograms are kept per process. With several worker processes (`serve slack
--workers N` under gunicorn) `PROMETHEUS_MULTIPROC_DIR` names a directory where each process keeps
its values in a memory-mapped file, and a scrape, answered by whichever worker the connection
reached, adds up every process's files (prometheus-client's multiprocess mode; the directory must
be set before prometheus-client is imported, and emptied when the server starts).

The depths of the Slack inbox and reply outbox and the number of live conversations are read from
the database at scrape time: they belong to the whole deployment, not to one process (every host
reports the same value; aggregate them with `max`, not `sum`).

Labels never hold a user, an email or an id: endpoints are path templates (`endpoint_of`).
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.ops.multiproc import MULTIPROC_ENV

if TYPE_CHECKING:
    from storage import AttemptRecord, Store

log = logging.getLogger(__name__)

QUEUED_CHANNELS = ("slack",)  # channels with an inbox and an outbox: their depths are shown, zero too
LIVE_WINDOW = timedelta(minutes=15)  # a conversation touched this recently counts as live

# Latencies of a chat turn and of HTTP calls: from a few milliseconds to the 3 s Slack allows.
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 3.0, 5.0, 10.0, 30.0)

SIGN_INS = Counter(
    "loginbot_signins_total",
    "Sign-in attempts recorded, by outcome (success, failure) and failure reason.",
    ["outcome", "reason"],
)
TURN_SECONDS = Histogram(
    "loginbot_turn_seconds", "Time to run one chat turn, by channel.", ["channel"], buckets=_SECONDS
)
ACK_SECONDS = Histogram(
    "loginbot_ack_seconds",
    "Time from a Slack request's arrival to its acknowledgement (the HTTP answer).",
    buckets=_SECONDS,
)
BACKEND_CALLS = Counter(
    "loginbot_backend_calls_total",
    "Contact-center API calls, by method, endpoint template and HTTP status (or the network error).",
    ["method", "endpoint", "status"],
)
BACKEND_SECONDS = Histogram(
    "loginbot_backend_call_seconds",
    "Contact-center API call latency, by method and endpoint template.",
    ["method", "endpoint"],
    buckets=_SECONDS,
)
CODES = Counter(
    "loginbot_verification_codes_total",
    "Email verification codes asked for: sent, refused (rate limited) or mail_failed.",
    ["result"],
)


def record_code(result: str) -> None:
    CODES.labels(result=result).inc()


def record_signin(outcome: str, reason: str | None) -> None:
    SIGN_INS.labels(outcome=outcome, reason=reason or "").inc()


def record_signins(attempts: Iterable[AttemptRecord]) -> None:
    """Count the attempts a turn just committed."""
    for attempt in attempts:
        record_signin(attempt.outcome, attempt.reason)


@contextmanager
def timed_turn(channel: str) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        TURN_SECONDS.labels(channel=channel).observe(time.perf_counter() - started)


def record_backend_call(method: str, url: str, status: int | str, seconds: float) -> None:
    endpoint = endpoint_of(url)
    BACKEND_CALLS.labels(method=method, endpoint=endpoint, status=str(status)).inc()
    BACKEND_SECONDS.labels(method=method, endpoint=endpoint).observe(seconds)


_WORD = re.compile(r"^(v\d{1,2}|[a-z][a-z-]{0,40})$")


def endpoint_of(url: str) -> str:
    """A URL's path with every segment that is not a plain word (an org id, a user id, an email)
    replaced by `{id}`: a bounded set of label values."""
    path = urlsplit(url).path
    segments = [s if _WORD.match(s) else "{id}" for s in path.split("/") if s]
    return "/" + "/".join(segments)


# --- the scrape ---------------------------------------------------------------------------------------


class StoreGauges(Collector):
    """The inbox and outbox depths and live conversations, read from the database at each scrape."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def collect(self) -> Iterator[Metric]:
        from storage import StorageError
        from storage.operations import live_conversations, pending_depths

        try:
            depths = pending_depths(self.store)
            live = live_conversations(self.store, since=datetime.now(UTC) - LIVE_WINDOW)
        except StorageError:
            log.warning("metrics: could not read the delivery depths from the database")
            return
        inbox = GaugeMetricFamily(
            "loginbot_inbox_depth", "Slack deliveries acknowledged and not yet answered.", labels=["channel"]
        )
        outbox = GaugeMetricFamily(
            "loginbot_outbox_depth", "Replies stored by a turn and not yet posted.", labels=["channel"]
        )
        for channel in sorted({*QUEUED_CHANNELS, *depths}):
            pending_in, pending_out = depths.get(channel, (0, 0))
            inbox.add_metric([channel], pending_in)
            outbox.add_metric([channel], pending_out)
        yield inbox
        yield outbox
        yield GaugeMetricFamily(
            "loginbot_live_conversations",
            f"Conversations with a turn in the last {int(LIVE_WINDOW.total_seconds() // 60)} minutes.",
            value=live,
        )


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


def exposition(store: Store | None = None) -> tuple[bytes, str]:
    """The body and content type of a `/metrics` answer: this process's metrics, or every worker's
    in multiprocess mode, plus the database gauges when a store is given."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        registry = CollectorRegistry()
        mp.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY

        registry = CollectorRegistry()
        registry.register(_Forward(REGISTRY))
    if store is not None:
        registry.register(StoreGauges(store))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Forward(Collector):
    """The process's default registry (the metrics above, and the process and platform collectors)
    inside a registry of the scrape's own."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.registry = registry

    def collect(self) -> Iterator[Metric]:
        yield from self.registry.collect()


def worker_exited(pid: int) -> None:
    """A worker process is gone (gunicorn's `child_exit`): its live gauges no longer count."""
    if multiprocess():
        from prometheus_client import multiprocess as mp

        mp.mark_process_dead(pid)
