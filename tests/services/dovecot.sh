#!/usr/bin/env bash
# Start or stop a throw-away Dovecot 2.3 IMAP server on 127.0.0.1:10143 for the tests
# (intake-reliability.md §3.3). Runs as root with no system service; everything lives in DIR.
#   tests/services/dovecot.sh start DIR   -> prints nothing; user hoering@test.invalid / secret
#   tests/services/dovecot.sh stop DIR
# HOERING_TEST_IMAP_PORT (default 10143) and HOERING_TEST_IMAP_SEPARATOR (the hierarchy
# delimiter, default /; the folder tests start a second server with .) shape the server.
# It also takes SASL XOAUTH2 (Microsoft 365's way): its oauth2 passdb asks a token-introspection
# endpoint on http://127.0.0.1:$HOERING_TEST_OAUTH_PORT/introspect (default: IMAP port + 10000),
# which the OAuth tests start themselves (tests/support/identity.py) while they run.
# Idempotent: start on a running server and stop on a stopped one do nothing.
set -euo pipefail
action=${1:?start|stop}
dir=${2:?state dir}
port=${HOERING_TEST_IMAP_PORT:-10143}
separator=${HOERING_TEST_IMAP_SEPARATOR:-/}
oauth_port=${HOERING_TEST_OAUTH_PORT:-$(( port + 10000 <= 65535 ? port + 10000 : port - 10000 ))}
conf="$dir/dovecot.conf"

running() {
  [ -f "$dir/run/master.pid" ] && kill -0 "$(cat "$dir/run/master.pid")" 2>/dev/null
}

case "$action" in
start)
  command -v dovecot >/dev/null 2>&1 || { echo "dovecot.sh: dovecot is not installed" >&2; exit 1; }
  [ "$(id -u)" = 0 ] || { echo "dovecot.sh: must run as root (dovecot drops privileges itself)" >&2; exit 1; }
  running && exit 0
  # uid 0 in the userdb makes Dovecot answer "Internal error" ("userdb returned 0 as uid")
  id vmail >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin vmail
  mkdir -p "$dir/run" "$dir/state" "$dir/mail"
  # Dovecot's auth (user dovecot) and mail (user vmail) processes must reach the users file and
  # the mail homes: every parent directory of DIR needs o+x (pytest's tmp dirs are 0700)
  chmod 755 "$dir"
  dir=$(cd "$dir" && pwd)
  conf="$dir/dovecot.conf"
  echo 'hoering@test.invalid:{PLAIN}secret' >"$dir/users"
  chown -R vmail:vmail "$dir/mail"
  cat >"$dir/oauth2.conf.ext" <<OAUTH
introspection_mode = post
introspection_url = http://127.0.0.1:$oauth_port/introspect
force_introspection = yes
username_attribute = username
active_attribute = active
active_value = true
timeout_msecs = 5000
OAUTH
  cat >"$conf" <<CONF
base_dir = $dir/run
state_dir = $dir/state
protocols = imap
listen = 127.0.0.1
log_path = $dir/dovecot.log
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login xoauth2 oauthbearer
passdb {
  driver = passwd-file
  mechanisms = plain login
  args = scheme=PLAIN username_format=%u $dir/users
}
passdb {
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = $dir/oauth2.conf.ext
}
# allow_all_users: a userdb lookup (doveadm -u, LMTP) must not ask a passdb, since both passdbs
# are limited to their SASL mechanisms and would be skipped ("All password databases were skipped")
userdb {
  driver = static
  args = uid=vmail gid=vmail home=$dir/mail/%u allow_all_users=yes
}
mail_location = maildir:~/Maildir
namespace inbox {
  inbox = yes
  separator = $separator
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
}
default_login_user = dovenull
default_internal_user = dovecot
CONF
  dovecot -c "$conf"
  for _ in $(seq 1 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && exit 0
    sleep 0.1
  done
  echo "dovecot.sh: dovecot did not start listening on $port; see $dir/dovecot.log" >&2
  exit 1
  ;;
stop)
  [ -f "$conf" ] || exit 0
  if running; then
    doveadm -c "$conf" stop >/dev/null 2>&1 || kill "$(cat "$dir/run/master.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do running || exit 0; sleep 0.1; done
  fi
  ;;
*) echo "usage: $0 start|stop DIR" >&2; exit 2 ;;
esac
