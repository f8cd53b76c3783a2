#!/usr/bin/env bash
# Domain logic stays pure: the kernel and every *-domain crate may not
# depend (directly or transitively) on an I/O crate.
set -euo pipefail
cd "$(dirname "$0")/.."

forbidden='^(tokio|sqlx|sqlx-core|sqlx-postgres|tonic|prost|axum|hyper|rdkafka|reqwest|mio|async-graphql|tower|opentelemetry-otlp)$'
packages=$(cargo metadata --no-deps --format-version 1 --locked \
  | python3 -c 'import json,sys; print("\n".join(p["name"] for p in json.load(sys.stdin)["packages"]))' \
  | grep -E '^deedlog-(kernel|.*-domain)$')

status=0
for package in $packages; do
  offenders=$(cargo tree --locked -p "$package" -e normal --prefix none --format '{p}' \
    | awk '{print $1}' | sort -u | grep -E "$forbidden" || true)
  if [ -n "$offenders" ]; then
    echo "dependency check: $package depends on I/O crates: $(echo $offenders)" >&2
    status=1
  else
    echo "dependency check: $package is pure"
  fi
done
[ $status -eq 0 ] || exit $status

# The gateway reads through the read-model crate and writes through gRPC:
# it never links the event store, the projector or a domain crate.
offenders=$(cargo tree --locked -p deedlog-gateway -e normal --prefix none --format '{p}' \
  | awk '{print $1}' | sort -u | grep -E '^deedlog-(eventstore|projector|.*-domain)$' || true)
if [ -n "$offenders" ]; then
  echo "dependency check: deedlog-gateway links $(echo $offenders)" >&2
  exit 1
fi
echo "dependency check: deedlog-gateway links no event store, projector or domain crate"

# Imports point down: a crate depends only on its own layer and the layers
# below (ADR 0033); a shared library never on a service or a projection.
python3 .ci/check-layers.py
