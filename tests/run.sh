#!/usr/bin/env bash
# The test command (`make test`): installs what the tests need, starts the services they use
# (PostgreSQL, Dovecot, a prefect server), then runs ruff, mypy and pytest. Stops the services
# again however it ends.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
# Service state lives under /tmp: the postgres and dovecot users must be able to reach it,
# whatever the permissions of the checkout's own parent folders.
state=${HOERING_TEST_STATE:-$(mktemp -d /tmp/hoering-test.XXXXXX)}
mkdir -p "$state"
chmod 755 "$state"

need=()
command -v pg_ctl >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || need+=(postgresql)
command -v dovecot >/dev/null 2>&1 || need+=(dovecot-imapd)
command -v soffice >/dev/null 2>&1 || need+=(libreoffice-writer-nogui libreoffice-calc-nogui)
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -gt 0 ]; then
  echo "installing: ${need[*]}"
  if [ "$(id -u)" = 0 ]; then sudo=(); else sudo=(sudo); fi
  "${sudo[@]}" apt-get update -q >/dev/null
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -q "${need[@]}" >/dev/null
fi

make -s venv
. .venv/bin/activate

export DO_NOT_TRACK=1 PREFECT_SERVER_ANALYTICS_ENABLED=false PREFECT_SERVER_UI_SHOW_PROMOTIONAL_CONTENT=false
export PREFECT_HOME="$state/prefect-home"
export PREFECT_API_URL=""

cleanup() {
  for service in tests/services/*.sh; do bash "$service" stop "$state/$(basename "$service" .sh)" || true; done
}
trap cleanup EXIT
rm -f "$state/env"
for service in tests/services/*.sh; do
  bash "$service" start "$state/$(basename "$service" .sh)"
done
[ -f "$state/env" ] && . "$state/env"

echo "== ruff"; ruff check flows bench tests deployments sql setup.py && ruff format --check -q flows bench tests deployments sql setup.py
echo "== mypy"; mypy
# Two pytest workers, one per core; a module's tests stay together on one worker (they share
# module fixtures: a prefect server, a round). HOERING_TEST_WORKERS=0 runs them in one process.
echo "== pytest"; pytest -q -p no:cacheprovider -n "${HOERING_TEST_WORKERS:-2}" --dist loadfile --durations=25 "$@"
