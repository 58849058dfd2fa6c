"""loginbot's benchmarks (issue 7): `python -m bench` (or `make bench`) runs them all, prints a table
and writes `bench/results.json`; `python -m bench turn` runs one. See `bench/__main__.py`."""
