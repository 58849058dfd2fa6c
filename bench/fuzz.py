"""`python -m bench.fuzz [--examples N]`: the longer fuzzing run (CI runs the property tests in
tests/property and tests/security on a short budget). Each surface gets N hypothesis-generated inputs
(random text, random JSON, bombs and hostile runs mixed in); the figures are inputs tried per surface,
exceptions other than the refusals each surface documents (0 expected), the slowest input and the
process's peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
import zlib
from collections.abc import Callable
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.channels.rasa.actions import email_in, name_in, tracking_id_in
from bot.channels.rasa.guard import Refused, inflate, problem
from bot.channels.slack.server import _parses
from bot.flow.numbers import parse_number
from bot.identity import normalize_email
from bot.limits import MAX_INPUT_CHARS
from bot.log import redact

HOSTILE = st.sampled_from(["a", "@", "a@", "1 ", "+1", "%2B1", "LOGINBOT-", "<@U", "00 ", ".a@"]).map(
    lambda unit: unit * (MAX_INPUT_CHARS // len(unit))
)
TEXT = st.one_of(st.text(max_size=300), HOSTILE)
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)


def _deflated(data: Any) -> bytes:
    return zlib.compress(json.dumps(data).encode())


def _rasa_body(raw: bytes) -> None:
    try:
        problem(json.loads(inflate(raw, 1_000_000)))
    except Refused:
        pass
    except ValueError:
        pass  # not JSON once inflated: the guard answers 400


SURFACES: dict[str, tuple[st.SearchStrategy[Any], Callable[[Any], object]]] = {
    "rasa body (deflate)": (st.one_of(st.binary(max_size=400), JSON.map(_deflated)), _rasa_body),
    "rasa action call": (JSON, problem),
    "slack form body": (
        st.binary(max_size=400),
        lambda raw: _parses(raw, "application/x-www-form-urlencoded"),
    ),
    "slack json body": (
        st.one_of(st.binary(max_size=400), JSON.map(lambda d: json.dumps(d).encode())),
        lambda raw: _parses(raw, "application/json"),
    ),
    "phone parsing": (TEXT, parse_number),
    "email in text": (TEXT, email_in),
    "tracking id in text": (TEXT, tracking_id_in),
    "name in text": (TEXT, lambda text: name_in(text, "en")),
    "email address": (TEXT, normalize_email),
    "log masking": (TEXT, redact),
}


def _surface(
    strategy: st.SearchStrategy[Any], function: Callable[[Any], object], examples: int
) -> dict[str, float]:
    tried, errors, slowest = 0, 0, 0.0

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(strategy)
    def fuzz(value: Any) -> None:
        nonlocal tried, errors, slowest
        tried += 1
        started = time.perf_counter()
        try:
            function(value)
        except Exception:
            errors += 1
        slowest = max(slowest, time.perf_counter() - started)

    fuzz()
    return {"inputs": tried, "errors": errors, "slowest_ms": round(slowest * 1000, 1)}


def run(examples: int) -> dict[str, dict[str, float]]:
    return {name: _surface(strategy, function, examples) for name, (strategy, function) in SURFACES.items()}


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz")
    parser.add_argument("--examples", type=int, default=2000, help="inputs per surface (2000)")
    args = parser.parse_args()
    started = time.perf_counter()
    figures = run(args.examples)
    for name, figure in figures.items():
        print(
            f"{name:22s} {figure['inputs']:>7.0f} inputs  {figure['errors']:>3.0f} errors  "
            f"slowest {figure['slowest_ms']:>7.1f} ms"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory {peak:.0f} MB, {time.perf_counter() - started:.0f} s")
    return 1 if any(f["errors"] for f in figures.values()) else 0


if __name__ == "__main__":
    raise SystemExit(main())
