#!/usr/bin/env bash
# GraphiQL in a real headless browser, offline, against `deedlog up`; and
# the gateway's JWKS checked by PyJWT (ADR 0019).
#
#   tests/browser/run.sh                          # target/debug/deedlog
#   tests/browser/run.sh --bin target/release/deedlog
#
# Starts `deedlog up` (with the demo tenant) on free ports and a fresh
# database on the local PostgreSQL (DEEDLOG_TEST_ADMIN_URL, default
# postgres://postgres@127.0.0.1:5432/postgres), which it drops at the end.
# Chromium may load nothing but 127.0.0.1: GraphiQL must render the schema,
# sign in, run a query and a subscription from the gateway's own files.
# Tools go to target/browser-tools/: playwright-core (npm) and a Python venv
# with PyJWT; Debian's chromium is installed when /usr/bin/chromium is
# missing. Exits non-zero, saying what failed, on any failure.
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=target/debug/deedlog
while [ $# -gt 0 ]; do
  case "$1" in
    --bin) BIN="$2"; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
[ -x "$BIN" ] || { echo "FAIL: no deedlog binary at $BIN (cargo build --bin deedlog)" >&2; exit 2; }
BIN="$(realpath "$BIN")"

PLAYWRIGHT_VERSION=1.65.2
TOOLS="$PWD/target/browser-tools"
ADMIN_URL="${DEEDLOG_TEST_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
DATABASE="deedlog_browser_$(date +%s)_$$"
WORK="$(mktemp -d /tmp/deedlog-browser.XXXXXX)"
PID=""
OK=""

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }
fail() { echo "FAIL: $*" >&2; exit 1; }

cleanup() {
  if [ -n "$PID" ]; then
    kill -TERM "$PID" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$PID" 2>/dev/null || true
  fi
  psql -X -q "$ADMIN_URL" -c "DROP DATABASE IF EXISTS \"$DATABASE\" WITH (FORCE)" >/dev/null 2>&1 \
    || echo "could not drop database $DATABASE" >&2
  if [ -n "$OK" ]; then
    rm -rf "$WORK"
  else
    echo "logs and screenshots kept in $WORK" >&2
    [ -f "$WORK/deedlog.log" ] && { echo "--- last lines of deedlog up:" >&2; tail -n 20 "$WORK/deedlog.log" >&2; }
  fi
}
trap cleanup EXIT

# --- tools
if [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium"
  [ "$(id -u)" = 0 ] || fail "/usr/bin/chromium is missing; install it: sudo apt-get install -y chromium"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
if [ "$(node -p "try { require('$TOOLS/node_modules/playwright-core/package.json').version } catch { '' }")" != "$PLAYWRIGHT_VERSION" ]; then
  log "installing playwright-core $PLAYWRIGHT_VERSION into $TOOLS"
  mkdir -p "$TOOLS"
  npm install --prefix "$TOOLS" --no-save --no-audit --no-fund --loglevel=error \
    "playwright-core@$PLAYWRIGHT_VERSION" >/dev/null
fi
if ! "$TOOLS/venv/bin/python" -c "import jwt, cryptography" 2>/dev/null; then
  log "installing PyJWT into $TOOLS/venv"
  python3 -m venv "$TOOLS/venv"
  "$TOOLS/venv/bin/pip" install --quiet --disable-pip-version-check "pyjwt[crypto]>=2.8,<3"
fi

# --- deedlog up: every listener on a free port, nothing from the caller's environment
psql -X -q "$ADMIN_URL" -c "SELECT 1" >/dev/null 2>&1 || fail "PostgreSQL does not answer at $ADMIN_URL"
while read -r name; do unset "$name"; done < <(env | sed -n 's/^\(DEEDLOG__[A-Za-z0-9_]*\)=.*/\1/p')
export DEEDLOG__DATABASE__URL="${ADMIN_URL%/*}/$DATABASE"
export DEEDLOG__ENVIRONMENT=development
export DEEDLOG__GATEWAY__GRAPHIQL=true
export DEEDLOG__GATEWAY__LISTEN=127.0.0.1:0
for service in TENANCY PROPERTIES DEALS COMMUNICATIONS; do
  export "DEEDLOG__SERVICES__${service}_LISTEN=127.0.0.1:0"
done
export DEEDLOG__SERVICES__METRICS_LISTEN="" DEEDLOG__PROJECTOR__METRICS_LISTEN=""
export DEEDLOG__AUTH__ISSUER=deedlog-browser-test DEEDLOG__AUTH__AUDIENCE=deedlog-browser-test

log "deedlog up on database $DATABASE"
"$BIN" up --log-format json >"$WORK/deedlog.out" 2>"$WORK/deedlog.log" &
PID=$!
# `up` prints the gateway's address once it listens, the demo logins once loaded.
for _ in $(seq 1 600); do
  grep -q '^demo tenant' "$WORK/deedlog.out" && break
  kill -0 "$PID" 2>/dev/null || fail "deedlog up exited before the demo tenant was loaded"
  sleep 0.5
done
grep -q '^demo tenant' "$WORK/deedlog.out" || fail "the demo tenant was not loaded within 300 s"
BASE="$(sed -n 's|^gateway  *\(http://[^/]*\)/graphql.*|\1|p' "$WORK/deedlog.out")"
[ -n "$BASE" ] || fail "deedlog up printed no gateway address"
DEMO="$(grep '^demo tenant' "$WORK/deedlog.out")"
SLUG="$(sed -n 's/.*slug "\([^"]*\)".*/\1/p' <<<"$DEMO")"
EMAIL="$(sed -n 's/.*admin \([^ ]*\) .*/\1/p' <<<"$DEMO")"
PASSWORD="$(sed -n 's/.*password "\([^"]*\)".*/\1/p' <<<"$DEMO")"
[ -n "$SLUG" ] && [ -n "$EMAIL" ] && [ -n "$PASSWORD" ] || fail "could not read the demo logins from: $DEMO"
log "gateway at $BASE; demo tenant $SLUG, admin $EMAIL"

# --- the JWKS, with PyJWT's PyJWKClient
log "verifying a login's access token with PyJWT and $BASE/.well-known/jwks.json"
"$TOOLS/venv/bin/python" tests/browser/jwks.py "$BASE" "$SLUG" "$EMAIL" "$PASSWORD" deedlog-browser-test \
  || fail "PyJWT could not verify a login's token with the gateway's JWKS"

# --- GraphiQL in Chromium, offline
log "GraphiQL in headless Chromium ($(/usr/bin/chromium --version 2>/dev/null | tr -d '\n'))"
BROWSER_TOOLS="$TOOLS" node tests/browser/graphiql.mjs "$BASE" "$SLUG" "$EMAIL" "$PASSWORD" "$WORK" \
  || fail "GraphiQL did not work in the browser (screenshot and log in $WORK)"

OK=1
log "passed"
