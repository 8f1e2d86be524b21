#!/usr/bin/env bash
# Seeds a county of N children (default 100000) into a fresh database, starts the release
# server and measures the lists the issues set targets for (and a few more), then the
# server's peak memory.
#   scripts/bench-api.sh sqlite|postgres [CHILDREN] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:?usage: scripts/bench-api.sh sqlite|postgres [CHILDREN] [REQUESTS]}"
children="${2:-100000}"
requests="${3:-200}"
port=18181

cargo build --release --quiet --bin cla-tracker --example latency
work="$(mktemp -d)"
case "$backend" in
  sqlite) url="$work/bench.db" ;;
  postgres)
    db="cla_bench_$$"
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db"
    url="postgres://postgres@127.0.0.1:5432/$db" ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac
# No mail relay: escalations queue in the outbox and wait, as they would with one down.
export CLA_DATABASE_URL="$url" CLA_TODAY="${CLA_TODAY:-2026-11-23}" CLA_BIND_ADDRESS="127.0.0.1:$port" CLA_LOG=warn

cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  if [ "$backend" = postgres ]; then
    sleep 1
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

echo "== seed-demo --children $children ($backend)"
start=$(date +%s.%N)
target/release/cla-tracker seed-demo --children "$children" > "$work/seed.out" 2> "$work/seed.err"
echo "seeded in $(echo "$(date +%s.%N) - $start" | bc) s"
tail -n 6 "$work/seed.out"

echo "a long benchmark passphrase" | target/release/cla-tracker user add --email bench@example.nhs.uk --role assurance --role health_admin >/dev/null
BENCH_TOKEN="$(target/release/cla-tracker token issue --email bench@example.nhs.uk 2>/dev/null)"
export BENCH_TOKEN

target/release/cla-tracker serve &
pid=$!
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done
# Let the first escalation sweep and housekeeping pass finish before measuring.
sleep "${BENCH_SETTLE_SECONDS:-30}"

for path in \
  "/api/v1/assurance/iha" \
  "/api/v1/assessments?rag=red" \
  "/api/v1/assurance/iha?limit=1000" \
  "/api/v1/assurance/iha?as_of=2026-11-16" \
  "/api/v1/assessments?rag=red&as_of=2026-11-16" \
  "/api/v1/assessments?rag=amber&kind=IHA" \
  "/api/v1/assessments"; do
  target/release/examples/latency "http://127.0.0.1:$port$path" "$requests"
done
echo "server peak memory: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
