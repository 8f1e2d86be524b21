#!/usr/bin/env bash
# Throughput and tail latency of audited reads under load (issue 8, "Audited reads at
# scale"). Seeds a demo county into a fresh database, starts the release server and runs
# wrk with 64 connections, one after another in the same run, against:
#   audited    GET /api/v1/children/{id}                   (a read of a child's record: one audit entry each)
#   unaudited  GET /api/v1/calendar/add-working-days       (same bearer token and checks, no audit entry)
#   health     GET /health                                 (no authentication, no database)
# and prints requests/s, p50 and p99 for each, and the ratios. Target: audited >= 50% of
# unaudited, and audited p99 <= 50 ms. Installs wrk (Debian package `wrk`) if missing.
#   scripts/bench-load.sh [sqlite|postgres|both] [CHILDREN] [SECONDS]
# Environment: BENCH_CONNECTIONS (64), BENCH_THREADS (2), BENCH_SETTLE_SECONDS (10),
# BENCH_PROFILE (release), BENCH_NO_BUILD (set: use the binary already built), CLA_POOL_SIZE (8).
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-both}"
children="${2:-630}"
seconds="${3:-10}"
connections="${BENCH_CONNECTIONS:-64}"
threads="${BENCH_THREADS:-2}"
port=18182

if ! command -v wrk >/dev/null; then
  echo "== installing wrk (apt-get)"
  apt-get install -y wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y wrk >/dev/null; }
fi
# BENCH_PROFILE=dev measures the debug build (a quick check of the script, not figures).
profile="${BENCH_PROFILE:-release}"
[ -n "${BENCH_NO_BUILD:-}" ] || cargo build --profile "$profile" --quiet --bin cla-tracker
bin="${CARGO_TARGET_DIR:-target}/$([ "$profile" = dev ] && echo debug || echo "$profile")/cla-tracker"

# Prints "requests_per_second p50_ms p99_ms non_2xx" from wrk's --latency output.
summarise() {
  awk '
    /Requests\/sec:/ { rps = $2 }
    /^ +50%/ { p50 = $2 }
    /^ +99%/ { p99 = $2 }
    /Non-2xx or 3xx responses:/ { bad = $5 }
    function ms(v) {
      if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
      if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
      if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
      return v
    }
    END { printf "%d %.2f %.2f %d\n", rps, ms(p50), ms(p99), bad + 0 }'
}

run_backend() {
  local backend="$1" work url db="" pid="" token child
  work="$(mktemp -d)"
  case "$backend" in
    sqlite) url="$work/bench.db" ;;
    postgres)
      db="cla_load_$$"
      psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db"
      url="postgres://postgres@127.0.0.1:5432/$db" ;;
    *) echo "backend must be sqlite, postgres or both" >&2; exit 2 ;;
  esac
  cleanup() {
    [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
    pid=""
    [ -n "$db" ] && psql -q -h 127.0.0.1 -U postgres -d postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true
    rm -rf "$work"
  }
  trap cleanup EXIT
  export CLA_DATABASE_URL="$url" CLA_TODAY="${CLA_TODAY:-2026-11-23}" CLA_BIND_ADDRESS="127.0.0.1:$port" CLA_LOG=warn

  "$bin" seed-demo --children "$children" >/dev/null 2>"$work/seed.err"
  echo "a long benchmark passphrase" | "$bin" user add --email bench@example.nhs.uk \
    --role assurance --role health_admin >/dev/null
  token="$("$bin" token issue --email bench@example.nhs.uk 2>/dev/null)"

  "$bin" serve 2>"$work/serve.err" &
  pid=$!
  for _ in $(seq 1 150); do curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break; sleep 0.2; done
  child="$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/children?limit=1" |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["items"][0]["id"])')"
  # Let the first escalation sweep and housekeeping pass finish before measuring.
  sleep "${BENCH_SETTLE_SECONDS:-10}"

  local base="http://127.0.0.1:$port" name path line
  declare -A rps p50 p99
  for name in audited unaudited health; do
    case "$name" in
      audited) path="/api/v1/children/$child" ;;
      unaudited) path="/api/v1/calendar/add-working-days?from=2026-11-23&days=20" ;;
      health) path="/health" ;;
    esac
    # A short warm-up, then the measured run.
    wrk -t"$threads" -c"$connections" -d2s -H "Authorization: Bearer $token" "$base$path" >/dev/null
    line="$(wrk -t"$threads" -c"$connections" -d"${seconds}s" --latency -H "Authorization: Bearer $token" "$base$path" | summarise)"
    read -r rps[$name] p50[$name] p99[$name] bad <<<"$line"
    if [ "$bad" != 0 ]; then
      echo "$backend $name: $bad answers were not 2xx" >&2
      tail -n 20 "$work/serve.err" >&2
      exit 1
    fi
  done
  echo "== $backend: wrk -t$threads -c$connections -d${seconds}s, $children children, pool ${CLA_POOL_SIZE:-8}, $profile build"
  printf '%-10s %10s %9s %9s\n' route 'req/s' 'p50 ms' 'p99 ms'
  for name in audited unaudited health; do
    printf '%-10s %10s %9s %9s\n' "$name" "${rps[$name]}" "${p50[$name]}" "${p99[$name]}"
  done
  python3 - "${rps[audited]}" "${rps[unaudited]}" "${rps[health]}" "${p99[audited]}" <<'EOF'
import sys
audited, unaudited, health, p99 = (float(v) for v in sys.argv[1:])
ratio = audited / unaudited
print(f"audited/unaudited {ratio:.0%}  audited/health {audited / health:.1%}  audited p99 {p99:.1f} ms")
ok = ratio >= 0.5 and p99 <= 50
print("target (>= 50% and p99 <= 50 ms):", "met" if ok else "NOT met")
EOF
  # The trail is whole after the load.
  "$bin" audit verify | tail -n 1
  cleanup
  trap - EXIT
}

case "$which" in
  both) run_backend sqlite; run_backend postgres ;;
  *) run_backend "$which" ;;
esac
