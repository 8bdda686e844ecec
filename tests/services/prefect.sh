#!/usr/bin/env bash
# Start or stop one real `prefect server` (SQLite, analytics off) on 127.0.0.1:4299 for the tests.
#   tests/services/prefect.sh start DIR   -> the server runs until "stop DIR"; its URL is appended
#                                            to "$(dirname DIR)/env" as HOERING_TEST_PREFECT_API_URL
#   tests/services/prefect.sh stop DIR
set -euo pipefail
action=${1:?start|stop}
dir=${2:?state dir}
port=${HOERING_TEST_PREFECT_PORT:-4299}
url="http://127.0.0.1:$port/api"

case "$action" in
start)
  mkdir -p "$dir/home"
  if [ -f "$dir/pid" ] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "prefect.sh: already running (pid $(cat "$dir/pid"))" >&2
  else
    # The port comes from PREFECT_SERVER_API_PORT, not --port: the UI settings read the former.
    # setsid gives the server its own process group, so "stop" ends it and its children only.
    env PREFECT_HOME="$dir/home" \
      PREFECT_SERVER_API_HOST=127.0.0.1 \
      PREFECT_SERVER_API_PORT="$port" \
      PREFECT_SERVER_ANALYTICS_ENABLED=false \
      PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT=false \
      PREFECT_SERVER_DATABASE_CONNECTION_URL="sqlite+aiosqlite:///$dir/home/prefect.db" \
      PREFECT_API_URL= \
      DO_NOT_TRACK=1 \
      setsid prefect server start --analytics-off --no-ui >"$dir/server.log" 2>&1 </dev/null &
    echo $! >"$dir/pid"
  fi
  # A fresh database runs its migrations first: allow two minutes on a slow machine.
  for _ in $(seq 1 240); do
    if python - "$url/health" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()
PY
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "prefect.sh: the server exited; see $dir/server.log" >&2
      tail -n 20 "$dir/server.log" >&2
      exit 1
    fi
    sleep 0.5
  done
  python - "$url/health" <<'PY' || { echo "prefect.sh: no answer on $url/health" >&2; exit 1; }
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=2).read()
PY
  envfile="$(dirname "$dir")/env"
  line="export HOERING_TEST_PREFECT_API_URL=$url"
  grep -qxF "$line" "$envfile" 2>/dev/null || echo "$line" >>"$envfile"
  ;;
stop)
  if [ -f "$dir/pid" ]; then
    pid=$(cat "$dir/pid")
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -KILL -- "-$pid" 2>/dev/null || true
    rm -f "$dir/pid"
  fi
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
