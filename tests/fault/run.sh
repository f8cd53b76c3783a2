#!/usr/bin/env bash
# Fault injection against the deedlog binary, on a PostgreSQL cluster of its
# own (initdb in a temporary folder, a free port), which it restarts and
# kills. Every scenario ends with `deedlog reconcile` clean for every
# projection: the read models hold exactly what the log holds; and with
# `deedlog audit verify` passing: what was sealed still matches the log.
#
#   tests/fault/run.sh                 # short run, target/release/deedlog
#   tests/fault/run.sh --long          # adds a 10-minute run without faults
#   tests/fault/run.sh --bin target/debug/deedlog --only forced-ordering
#
# Scenarios: forced-ordering, restarts, kill-postgres, kill-projector,
# frozen-holder, two-projectors (and, with --long, steady).
set -euo pipefail
cd "$(dirname "$0")/../.."

MODE=short
BIN=target/release/deedlog
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --short) MODE=short ;;
    --long) MODE=long ;;
    --bin) BIN="$2"; shift ;;
    --only) ONLY="$2"; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done
BIN="$(realpath "$BIN")"
[ -x "$BIN" ] || { echo "no deedlog binary at $BIN: cargo build --release --bin deedlog" >&2; exit 2; }
PGBIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
[ -x "$PGBIN/initdb" ] || { echo "no PostgreSQL server binaries under /usr/lib/postgresql" >&2; exit 2; }

WORK="$(mktemp -d /tmp/deedlog-fault.XXXXXX)"
PGDATA="$WORK/pg"
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
PIDS=()
FAILED=()
PASSED=()

# initdb and postgres refuse to run as root.
as_pg() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
  for pid in "${PIDS[@]:-}"; do
    [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null; kill -KILL "$pid" 2>/dev/null || true
  done
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m immediate stop >/dev/null 2>&1 || true
  if [ ${#FAILED[@]} -eq 0 ]; then rm -rf "$WORK"; else echo "logs kept in $WORK"; fi
}
trap cleanup EXIT

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*"; }

pg_start() {
  as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -l "$WORK/postgres.log" -w -t 60 start >/dev/null
}

pg_kill() {
  local postmaster
  postmaster="$(head -n 1 "$PGDATA/postmaster.pid")"
  kill -KILL "$postmaster"
  # Backends end once they see the postmaster gone. A killed postmaster
  # may stay a zombie (no init reaps it here), which PostgreSQL would
  # take for a live one: its lock file goes once nothing else runs.
  for _ in $(seq 1 100); do
    pgrep -u postgres -f "^postgres: " -a | grep -q . || break
    [ -z "$(ps -o pid= --ppid "$postmaster" 2>/dev/null)" ] && break
    sleep 0.1
  done
  case "$(ps -o stat= -p "$postmaster" 2>/dev/null)" in
    Z*|"") rm -f "$PGDATA/postmaster.pid" "$WORK/.s.PGSQL.$PORT" "$WORK/.s.PGSQL.$PORT.lock" ;;
  esac
  pg_start
}

chown_work() { [ "$(id -u)" = 0 ] && chown postgres "$WORK" || true; }

setup_cluster() {
  chown_work
  mkdir -p "$PGDATA"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDATA"
  as_pg "$PGBIN/initdb" -D "$PGDATA" -U postgres --auth=trust -E UTF8 >/dev/null
  cat >>"$PGDATA/postgresql.conf" <<EOF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$WORK'
max_connections = 200
shared_buffers = 64MB
fsync = on
logging_collector = off
EOF
  pg_start
  log "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on port $PORT in $PGDATA"
}

url() { echo "postgres://postgres@127.0.0.1:$PORT/$1"; }
psql_db() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PORT" -U postgres -d "$1" "${@:2}"; }

# Settings for every process: fast lease checks, no fixed ports.
export DEEDLOG__PROJECTOR__LEASE_INTERVAL_MS=500
export DEEDLOG__PROJECTOR__BACKOFF_MAX_MS=1000
export DEEDLOG__PROJECTOR__METRICS_LISTEN=""
export DEEDLOG__SEALING__METRICS_LISTEN=""

projector() { # name db; sets LAST to its pid. A sealer runs beside each
  "$BIN" serve projector --database-url "$(url "$2")" --log-format json >>"$WORK/$1.log" 2>&1 &
  LAST=$!
  PIDS+=("$LAST")
  "$BIN" serve sealer --database-url "$(url "$2")" --log-format json >>"$WORK/$1-sealer.log" 2>&1 &
  PIDS+=("$!")
}

# Real commands through the command services (deedlog seed starts them),
# resumed after every failure a fault causes, until all are in.
load() { # db properties concurrency
  local tries=0
  until "$BIN" seed --database-url "$(url "$1")" --tenants 2 --properties "$2" --concurrency "$3" \
      --log-format json >>"$WORK/load-$1.log" 2>&1; do
    tries=$((tries + 1))
    [ $tries -lt 40 ] || { echo "the load did not complete after $tries tries" >&2; return 1; }
    sleep 1
  done
}

start_load() { load "$@" & LOAD_PID=$!; }

# The projections' lag, once the projector has caught up with the log head.
caught_up() { # db
  local deadline=$((SECONDS + 180))
  while [ $SECONDS -lt $deadline ]; do
    if "$BIN" projections --database-url "$(url "$1")" >"$WORK/projections-$1.txt" 2>&1 &&
       awk 'NR > 1 && $4 != "0" { behind = 1 } END { exit behind }' "$WORK/projections-$1.txt" &&
       [ "$(wc -l <"$WORK/projections-$1.txt")" -gt 1 ]; then
      return 0
    fi
    sleep 1
  done
  echo "the projector did not catch up:" >&2; cat "$WORK/projections-$1.txt" >&2
  return 1
}

reconcile_all() { # db
  local ok=0 name
  for name in $("$BIN" projections --database-url "$(url "$1")" | awk 'NR > 1 { print $1 }'); do
    if "$BIN" reconcile "$name" --database-url "$(url "$1")" >>"$WORK/reconcile-$1.log" 2>&1; then
      :
    else
      echo "reconcile $name found drift (see $WORK/reconcile-$1.log)" >&2
      ok=1
    fi
  done
  # Whatever was sealed through the faults still matches the log (ADR 0037).
  if "$BIN" audit verify --database-url "$(url "$1")" >"$WORK/verify-$1.log" 2>&1; then
    log "$(grep -o 'intact: .*\|nothing sealed.*' "$WORK/verify-$1.log")"
  else
    echo "audit verify failed: $(tail -n 1 "$WORK/verify-$1.log")" >&2
    ok=1
  fi
  return $ok
}

# The end of every scenario under load: the load done, the projectors caught
# up and stopped, every projection reconciled clean.
settle() { # db pid...
  wait "$LOAD_PID"
  caught_up "$1"
  stop "${@:2}"
  reconcile_all "$1"
}

stop() { for pid in "$@"; do kill -CONT "$pid" 2>/dev/null || true; kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "$@"; do wait "$pid" 2>/dev/null || true; done; }

fresh_db() { # name
  psql_db postgres -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
  "$BIN" migrate --database-url "$(url "$1")" >>"$WORK/migrate.log" 2>&1
}

# A copy of a stored property creation as a new stream: a real event the
# projections apply.
NEW_EVENT="INSERT INTO events (tenant_id, stream_id, stream_type, version, event_type, schema_version, payload,
   actor, command_id, correlation_id, causation_id, occurred_at, recorded_at)
 SELECT tenant_id, gen_random_uuid(), stream_type, 1, event_type, schema_version, payload, actor,
   gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), occurred_at, clock_timestamp()
 FROM events WHERE stream_type = 'property' AND version = 1 ORDER BY position LIMIT 1
 RETURNING position, xmin;"

# Two psql sessions stepped by hand, each on a FIFO of its own.
session_open() { # name db
  mkfifo "$WORK/$1.in"
  psql -X -q -A -t -h 127.0.0.1 -p "$PORT" -U postgres -d "$2" <"$WORK/$1.in" >"$WORK/$1.out" 2>&1 &
  PIDS+=("$!")
  eval "exec {fd_$1}>\"$WORK/$1.in\""
}
session() { # name sql
  local fd="fd_$1"
  echo "$2" >&"${!fd}"
  sleep 0.3
}
session_close() { local fd="fd_$1"; echo '\q' >&"${!fd}"; eval "exec ${!fd}>&-"; }

scenario_forced_ordering() {
  local db=fault_ordering
  fresh_db $db
  load $db 4 2
  local p; projector proj-ordering $db; p=$LAST
  caught_up $db
  session_open y $db
  session_open x $db
  session y "BEGIN; SELECT 'y-xid', pg_current_xact_id();"
  session x "BEGIN; SELECT 'x-xid', pg_current_xact_id();"
  session x "$NEW_EVENT"
  session y "$NEW_EVENT"
  session y "COMMIT;"
  # Long enough for the projector to read m+1 and (wrongly) pass m.
  sleep 3
  session x "COMMIT;"
  session_close x
  session_close y
  sleep 1
  local x_xid y_xid x_pos y_pos
  x_xid=$(awk -F'|' '/^x-xid/ { print $2 }' "$WORK/x.out")
  y_xid=$(awk -F'|' '/^y-xid/ { print $2 }' "$WORK/y.out")
  x_pos=$(awk -F'|' '$1 ~ /^[0-9]+$/ { print $1 }' "$WORK/x.out")
  y_pos=$(awk -F'|' '$1 ~ /^[0-9]+$/ { print $1 }' "$WORK/y.out")
  log "forced ordering: Y xid $y_xid position $y_pos, X xid $x_xid position $x_pos"
  [ "$x_xid" -gt "$y_xid" ] && [ "$x_pos" -lt "$y_pos" ] ||
    { echo "the sessions did not force the order (see $WORK/x.out, $WORK/y.out)" >&2; return 1; }
  caught_up $db
  stop "$p"
  reconcile_all $db
}

scenario_restarts() {
  local db=fault_restarts
  fresh_db $db
  local p; projector proj-restarts $db; p=$LAST
  start_load $db 300 8
  sleep 6; log "fast restart 1"; as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w restart -l "$WORK/postgres.log" >/dev/null
  sleep 6; log "fast restart 2"; as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w restart -l "$WORK/postgres.log" >/dev/null
  settle $db "$p"
}

scenario_kill_postgres() {
  local db=fault_kill_pg
  fresh_db $db
  local p; projector proj-kill-pg $db; p=$LAST
  start_load $db 300 8
  sleep 8; log "kill -9 of the postmaster"; pg_kill
  settle $db "$p"
}

scenario_kill_projector() {
  local db=fault_kill_projector
  fresh_db $db
  local p; projector proj-kill $db; p=$LAST
  start_load $db 300 8
  sleep 6; log "kill -9 of the projector"; kill -KILL "$p"
  sleep 2; projector proj-kill-2 $db; p=$LAST
  settle $db "$p"
}

scenario_frozen_holder() {
  local db=fault_frozen
  fresh_db $db
  local first second
  projector proj-frozen-1 $db; first=$LAST
  start_load $db 300 4
  sleep 2
  projector proj-frozen-2 $db; second=$LAST
  sleep 2; log "SIGSTOP of the lease holder"; kill -STOP "$first"
  # A rolled-back append while an unrelated write transaction is open.
  session_open open $db
  session open "BEGIN; SELECT pg_current_xact_id();"
  psql_db $db -c "BEGIN; $NEW_EVENT ROLLBACK;" >/dev/null
  sleep 4
  session open "COMMIT;"
  session_close open
  wait "$LOAD_PID"
  caught_up $db
  log "SIGCONT of the former holder"
  kill -CONT "$first"
  # Events after the thaw: the former holder must apply none of them.
  for _ in 1 2 3 4 5; do psql_db $db -c "$NEW_EVENT" >/dev/null; sleep 0.5; done
  sleep 3
  caught_up $db
  stop "$first" "$second"
  grep -q 'lost a projection lease\|lease on .* was lost' "$WORK/proj-frozen-1.log" ||
    { echo "the frozen holder never learned it lost its lease" >&2; return 1; }
  reconcile_all $db
}

scenario_two_projectors() {
  local db=fault_two
  fresh_db $db
  local a b; projector proj-two-a $db; a=$LAST; projector proj-two-b $db; b=$LAST
  start_load $db 300 8
  sleep 6; log "fast restart"; as_pg "$PGBIN/pg_ctl" -D "$PGDATA" -m fast -w restart -l "$WORK/postgres.log" >/dev/null
  settle $db "$a" "$b"
}

scenario_steady() {
  local db=fault_steady
  fresh_db $db
  local p; projector proj-steady $db; p=$LAST
  # About 10 minutes of commands at the machine's pace (no faults).
  timeout 600 "$BIN" seed --database-url "$(url $db)" --tenants 10 --properties 200000 --concurrency 16 \
    --log-format json >>"$WORK/load-$db.log" 2>&1 || true
  caught_up $db
  stop "$p"
  reconcile_all $db
}

run() { # name function
  if [ -n "$ONLY" ] && [ "$ONLY" != "$1" ]; then return 0; fi
  log "== $1"
  local started=$SECONDS rc
  # A subshell of its own, outside any condition, so that `set -e` holds
  # inside and its processes are ended when it ends.
  set +e
  ( set -e; PIDS=(); trap 'set +e; for pid in "${PIDS[@]:-}"; do kill -CONT "$pid"; kill -KILL "$pid"; done 2>/dev/null; true' EXIT; "$2" )
  rc=$?
  set -e
  if [ $rc -eq 0 ]; then
    PASSED+=("$1"); log "PASS $1 ($((SECONDS - started)) s)"
  else
    FAILED+=("$1"); log "FAIL $1 ($((SECONDS - started)) s)"
  fi
}

setup_cluster
run forced-ordering scenario_forced_ordering
run restarts scenario_restarts
run kill-postgres scenario_kill_postgres
run kill-projector scenario_kill_projector
run frozen-holder scenario_frozen_holder
run two-projectors scenario_two_projectors
[ "$MODE" = long ] && run steady scenario_steady

echo "fault injection: ${#PASSED[@]} passed, ${#FAILED[@]} failed"
[ ${#FAILED[@]} -eq 0 ]
