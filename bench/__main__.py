"""`python -m bench [BENCHMARK ...]`: run the benchmarks, print a table, write `bench/results.json`.

    python -m bench                    # everything (a few minutes: the storm is most of it)
    python -m bench turn recognizer    # some of them
    python -m bench storm --users 200  # a smaller storm
    python -m bench --quick            # every benchmark in a tiny configuration (seconds)

Benchmarks not run keep their last figures in the JSON file (`--fresh` drops them).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench.results import BenchResult, print_table, write_json

NAMES = ("cli", "recognizer", "turn", "storm")
DEFAULT_OUT = Path(__file__).resolve().parent / "results.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n")[0])
    parser.add_argument(
        "benchmarks",
        nargs="*",
        choices=[*NAMES, []],
        metavar="BENCHMARK",
        help=f"any of {', '.join(NAMES)} (default: all)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="tiny configurations: checks the code, not the speed"
    )
    parser.add_argument("--users", type=int, default=1000, help="storm: simultaneous users (1000)")
    parser.add_argument(
        "--ramp", type=float, default=0.0, help="storm: spread the users' starts over S seconds (0)"
    )
    parser.add_argument(
        "--step-timeout", type=float, default=60.0, help="storm: longest wait for an answer (60 s)"
    )
    parser.add_argument(
        "--keep", type=Path, help="storm: run in this directory and keep the servers' logs there"
    )
    parser.add_argument(
        "--profile", action="store_true", help="storm: record both servers with py-spy (needs --keep)"
    )
    parser.add_argument(
        "--workers", type=int, default=1, help="storm: `loginbot serve slack --workers N` (1)"
    )
    parser.add_argument("--conversations", type=int, default=300, help="turn: conversations timed (300)")
    parser.add_argument("--seconds", type=float, default=3.0, help="recognizer: throughput run length (3 s)")
    parser.add_argument(
        "--out", type=Path, help="the JSON file (bench/results.json; none with --quick unless given)"
    )
    parser.add_argument("--fresh", action="store_true", help="do not keep other benchmarks' earlier figures")
    parser.add_argument("--check", action="store_true", help="exit with 1 when a target is missed")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.profile and args.keep is None:
        print("--profile needs --keep DIR (the profiles are written there)", file=sys.stderr)
        return 2
    chosen = args.benchmarks or list(NAMES)
    quick = args.quick
    runners: dict[str, Callable[[], BenchResult]] = {}
    if "cli" in chosen:
        from bench import cli

        runners["cli"] = lambda: cli.run(repeats=2 if quick else 7)
    if "recognizer" in chosen:
        from bench import recognizer

        runners["recognizer"] = lambda: recognizer.run(
            seconds=0.2 if quick else args.seconds, startups=1 if quick else 3
        )
    if "turn" in chosen:
        from bench import turn

        runners["turn"] = lambda: turn.run(
            conversations=5 if quick else args.conversations, warmup=1 if quick else 20
        )
    if "storm" in chosen:
        from bench import storm

        runners["storm"] = lambda: storm.run(
            users=5 if quick else args.users,
            ramp=args.ramp,
            step_timeout=args.step_timeout,
            keep=args.keep,
            profile=args.profile,
            workers=args.workers,
        )
    results: list[BenchResult] = []
    for name in NAMES:
        if name in runners:
            started = time.perf_counter()
            print(f"running {name}...", file=sys.stderr, flush=True)
            result = runners[name]()
            print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr, flush=True)
            results.append(result)
    print_table(results)
    out = args.out if args.out is not None or quick else DEFAULT_OUT
    if out is not None:
        write_json(out, results, merge=not args.fresh)
        print(f"figures written to {out}")
    return 1 if args.check and not all(r.all_met for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
