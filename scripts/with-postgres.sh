#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server, exported as LOGINBOT_TEST_POSTGRES_URL, so the
# storage contract suite also runs against PostgreSQL. The server lives in a temporary directory, on
# a free loopback port, and is stopped and deleted afterwards. Without PostgreSQL binaries the command
# runs anyway and the PostgreSQL tests skip, saying why.
set -uo pipefail

if [ -n "${LOGINBOT_TEST_POSTGRES_URL:-}" ]; then exec "$@"; fi

initdb=$(command -v initdb || ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1)
if [ -z "$initdb" ] || [ ! -x "$initdb" ]; then
  echo "with-postgres: no PostgreSQL binaries found; the PostgreSQL tests will be skipped" >&2
  exec "$@"
fi
bindir=$(dirname "$initdb")
pg_ctl="$bindir/pg_ctl"
[ -x "$pg_ctl" ] || pg_ctl=$(command -v pg_ctl)

dir=$(mktemp -d /tmp/loginbot-pg.XXXXXX)
as_owner=()
if [ "$(id -u)" = "0" ]; then
  # PostgreSQL refuses to run as root: run it as the postgres user where there is one.
  if id postgres >/dev/null 2>&1; then
    chown postgres "$dir"
    as_owner=(runuser -u postgres --)
  else
    echo "with-postgres: running as root with no postgres user; the PostgreSQL tests will be skipped" >&2
    rm -rf "$dir"
    exec "$@"
  fi
fi
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cleanup() {
  "${as_owner[@]}" "$pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$dir"
}
trap cleanup EXIT

if ! "${as_owner[@]}" "$initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 ||
   ! "${as_owner[@]}" "$pg_ctl" -D "$dir/data" -w -t 60 -l "$dir/server.log" \
       -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null 2>&1; then
  echo "with-postgres: could not start PostgreSQL (see below); the PostgreSQL tests will be skipped" >&2
  tail -n 5 "$dir"/*.log >&2 2>/dev/null
  "$@"
  exit $?
fi
export LOGINBOT_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$port/postgres"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $NF}') on 127.0.0.1:$port" >&2
"$@"
exit $?
