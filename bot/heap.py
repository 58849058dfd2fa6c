"""The garbage collector of a long-running server.

CPython's full collection (generation 2) walks every tracked object in the process. A server's heap
is mostly what it built at start-up and keeps for good (modules, the Slack and HTTP clients, the
store's compiled statements, the tenant's tables), and walking it is what made a full collection
pause the event loop for 100-250 ms every few seconds of the 1,000-user storm: every request in
flight then waited, which set the acknowledgement's p99 (`bench/storm.py`). Freezing that heap
once it is built (`gc.freeze`, the approach CPython documents for long-lived processes) moves it
out of the collector's sight; what the server allocates afterwards is collected as before.
"""

from __future__ import annotations

import gc

# Collections happen after this many net allocations of tracked objects (young generation), then
# every that many young and middle ones. CPython's defaults (700, 10, 10) suit short scripts; a
# server keeping a thousand users' sessions had a full collection every two seconds, each walking
# all of them and finding nothing to free. These make young collections ~35x rarer (each a few
# milliseconds) and full ones rarer still, at the cost of garbage cycles living a little longer.
THRESHOLDS = (25_000, 20, 20)


def settle_startup_heap() -> None:
    """Call once the server is built and before it serves: collect start-up garbage, freeze what
    is left, so that later full collections only walk what serving allocates, and space
    collections out (`THRESHOLDS`)."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*THRESHOLDS)
