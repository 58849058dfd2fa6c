"""The servers' garbage-collector settings (`bot/heap.py`), checked in a fresh interpreter: freezing
the heap of the test process itself would change every later test's collections."""

from __future__ import annotations

import json
import subprocess
import sys

from bot.heap import THRESHOLDS

PROBE = """
import gc, json
from bot.heap import settle_startup_heap
kept = [[n] for n in range(5000)]  # start-up state a server keeps
garbage = []
garbage.append(garbage)  # a cycle only the collector frees
del garbage
before = gc.get_freeze_count()
settle_startup_heap()
print(json.dumps({"before": before, "frozen": gc.get_freeze_count(), "thresholds": gc.get_threshold(),
                  "young": gc.get_count()[0], "kept": len(kept)}))
"""


def test_the_start_up_heap_is_frozen_out_of_full_collections_and_collections_are_spaced() -> None:
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True).stdout
    probe = json.loads(out)
    assert probe["before"] == 0
    assert probe["frozen"] >= 5000  # the kept objects (and the modules) are out of the collector's walk
    assert tuple(probe["thresholds"]) == THRESHOLDS
    assert probe["young"] < 100  # collected right before freezing: no start-up garbage is frozen
