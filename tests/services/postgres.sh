#!/usr/bin/env bash
# Start or stop a throw-away PostgreSQL (Debian's packages) on 127.0.0.1 for the tests.
#   tests/services/postgres.sh start DIR   -> the server runs until "stop DIR"; its URL is appended
#                                            to "$(dirname DIR)/env" as HOERING_TEST_PG_URL
#   tests/services/postgres.sh stop DIR
# The port is 55432, or a free one when that is taken by something else.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?state dir}
port=${HOERING_TEST_PG_PORT:-55432}
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bindir" ] || { echo "postgres.sh: PostgreSQL is not installed" >&2; exit 1; }
run_as=()
if [ "$(id -u)" = 0 ]; then run_as=(runuser -u postgres --); fi

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

case "$action" in
start)
  mkdir -p "$dir"
  if [ -f "$dir/port" ]; then
    port=$(cat "$dir/port")
  elif (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    port=$(free_port)
  fi
  echo "$port" >"$dir/port"
  [ "$(id -u)" = 0 ] && chown postgres "$dir"
  if [ ! -f "$dir/data/PG_VERSION" ]; then
    "${run_as[@]}" "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" status >/dev/null 2>&1; then
    "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off" start >/dev/null
  fi
  for db in hoering_test; do
    "${run_as[@]}" "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -tAc \
      "SELECT 1 FROM pg_database WHERE datname='$db'" | grep -q 1 ||
      "${run_as[@]}" "$bindir/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE $db" >/dev/null
  done
  echo "export HOERING_TEST_PG_URL=postgresql+psycopg://postgres@127.0.0.1:$port/hoering_test" >>"$(dirname "$dir")/env"
  ;;
stop)
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1 || true
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
