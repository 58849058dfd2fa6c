#!/usr/bin/env bash
# `make audit`: pip-audit on the installed dependencies. It needs the vulnerability database online
# (PyPI's advisory service); without a network it says so plainly instead of passing in silence.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
if [ ! -x "$BIN/pip-audit" ]; then
    "$BIN/python" -m pip install --quiet 'pip-audit>=2.7,<3' || {
        echo "make audit: pip-audit could not be installed (no access to PyPI?): NOT AUDITED" >&2
        exit 2
    }
fi
output=$("$BIN/pip-audit" --progress-spinner off --skip-editable 2>&1)
status=$?
echo "$output"
if grep -qiE "connection|resolve|network|timed out|Max retries|HTTPSConnection|unreachable" <<<"$output"; then
    echo "make audit: the vulnerability database could not be reached (no network): NOT AUDITED" >&2
    exit 2
fi
# Offline, pip-audit reports every package as "not found on PyPI and could not be audited" and then
# "No known vulnerabilities found": that is not a clean audit.
skipped=$(grep -c "could not be audited" <<<"$output")
if [ "$skipped" -gt 0 ]; then
    echo "make audit: $skipped packages could not be checked: pip-audit could not reach its vulnerability" \
        "database (this machine has no network?): NOT AUDITED" >&2
    exit 2
fi
exit $status
