"""The hypothesis settings of the property tests: modest, derandomized (the same examples on every
run and every machine, so CI is repeatable), no example database, no per-example deadline (the
machine is shared; a slow example is not a failure)."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

PROPERTY = settings(
    max_examples=60,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    print_blob=False,
)
