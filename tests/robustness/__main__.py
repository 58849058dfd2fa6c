"""`python -m tests.robustness [--channel terminal|slack|rasa|all] [--lang en|fr] [--verbose]`: the
robustness corpus through each channel; the pass rate per question and language, then the failures
(with the whole transcript under --verbose). Exit code 1 when a dialogue fails."""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from tests.robustness.corpus import CHANNELS, corpus, select
from tests.robustness.report import failure_list, run_channel, summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.robustness", description=__doc__)
    parser.add_argument("--channel", choices=[*CHANNELS, "all"], default="all")
    parser.add_argument("--lang", choices=["en", "fr"])
    parser.add_argument("--verbose", action="store_true", help="the whole transcript of each failure")
    parser.add_argument("--only", metavar="TEXT", help="only the dialogues whose id contains TEXT")
    args = parser.parse_args(argv)
    channels = CHANNELS if args.channel == "all" else (args.channel,)
    everything = corpus()
    failed = False
    for channel in channels:
        dialogues = select(everything, channel=channel, lang=args.lang)
        if args.only:
            dialogues = [d for d in dialogues if args.only in d.id]
        with tempfile.TemporaryDirectory(prefix=f"robustness-{channel}-") as directory:
            run = run_channel(channel, dialogues, Path(directory))
        failures = failure_list(run, verbose=args.verbose)
        print(summary(run))
        if failures:
            print(f"\n{channel} failures:\n{failures}")
        print()
        failed = failed or any(not r.passed for r in run.results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
