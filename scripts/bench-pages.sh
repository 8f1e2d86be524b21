#!/usr/bin/env bash
# Seeds a county of N children (default 100000) into a fresh database, starts the release
# server, signs in through the sign-in form as a browser would, and measures every page of
# the browser service (server time, sequential requests), then the CSS and JavaScript each
# page makes a browser download, compressed.
#   scripts/bench-pages.sh sqlite|postgres [CHILDREN] [REQUESTS]
set -euo pipefail
cd "$(dirname "$0")/.."
backend="${1:?usage: scripts/bench-pages.sh sqlite|postgres [CHILDREN] [REQUESTS]}"
children="${2:-100000}"
requests="${3:-200}"
port=18182
base="http://127.0.0.1:$port"

# BENCH_PROFILE=debug tries the script quickly on a debug build (its figures mean nothing).
profile="${BENCH_PROFILE:-release}"
if [ "$profile" = release ]; then
  cargo build --release --quiet --bin cla-tracker --example latency
else
  cargo build --quiet --bin cla-tracker --example latency
fi
bin="${CARGO_TARGET_DIR:-target}/$profile"
work="$(mktemp -d)"
case "$backend" in
  sqlite) url="$work/bench.db" ;;
  postgres)
    db="cla_bench_pages_$$"
    psql -q -h 127.0.0.1 -U postgres -d postgres -c "CREATE DATABASE $db"
    url="postgres://postgres@127.0.0.1:5432/$db" ;;
  *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
esac
# No mail relay: escalations queue in the outbox and wait, as they would with one down.
export CLA_DATABASE_URL="$url" CLA_TODAY="${CLA_TODAY:-2026-11-23}" CLA_BIND_ADDRESS="127.0.0.1:$port" CLA_LOG=warn
# Sessions outlive the run (the defaults would end an idle one after 30 minutes).
export CLA_AUTH__SESSION_IDLE_MINUTES=600

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
$bin/cla-tracker seed-demo --children "$children" > "$work/seed.out" 2> "$work/seed.err"
echo "seeded in $(echo "$(date +%s.%N) - $start" | bc) s"

password="a long benchmark passphrase"
for who in "nurse health_admin" "sw social_worker" "dr clinician"; do
  set -- $who
  org=ICB
  # The social worker works for the largest demo authority (its code is the first printed).
  [ "$2" = social_worker ] && org="$(awk '/^  [0-9]+ +[A-Z]/ {print $1; exit}' "$work/seed.out")"
  echo "$password" | $bin/cla-tracker user add --email "$1@example.nhs.uk" --role "$2" --org "$org" --name "Bench $2" >/dev/null
done
BENCH_TOKEN="$($bin/cla-tracker token issue --email nurse@example.nhs.uk 2>/dev/null)"

$bin/cla-tracker serve &
pid=$!
for _ in $(seq 1 100); do curl -sf "$base/ready" >/dev/null && break; sleep 0.2; done
# Let the first escalation sweep and housekeeping pass finish before measuring.
sleep "${BENCH_SETTLE_SECONDS:-30}"

# Signs in through the form (its CSRF cookie and field) and prints the session cookie.
session_for() {
  local jar="$work/$1.jar"
  local form
  form="$(curl -sf -c "$jar" "$base/login")"
  local csrf
  csrf="$(echo "$form" | sed -n 's/.*name="csrf" value="\([^"]*\)".*/\1/p' | head -n 1)"
  curl -sf -b "$jar" -c "$jar" -o /dev/null \
    --data-urlencode "email=$1@example.nhs.uk" --data-urlencode "password=$password" \
    --data-urlencode "csrf=$csrf" "$base/login"
  awk '$6 == "cla_session" {print $7}' "$jar"
}

# An open IHA near the top of the assurance list, and its child.
first="$(curl -sf -H "Authorization: Bearer $BENCH_TOKEN" "$base/api/v1/assessments?kind=IHA&state=booked&limit=1")"
assessment="$(echo "$first" | sed -n 's/.*"items":\[{"id":"\([^"]*\)".*/\1/p')"
child="$(echo "$first" | sed -n 's/.*"child_id":"\([^"]*\)".*/\1/p' | head -n 1)"
local_id="$(echo "$first" | sed -n 's/.*"child_local_id":"\([^"]*\)".*/\1/p' | head -n 1)"
echo "measuring on assessment $assessment, child $child ($local_id)"

measure() {
  local who="$1"
  shift
  BENCH_COOKIE="cla_session=$(session_for "$who")"
  export BENCH_COOKIE
  for path in "$@"; do
    $bin/examples/latency "$base$path" "$requests"
  done
}

echo "== as a health admin (ICB)"
measure nurse "/" "/children?q=Smith" "/children?q=$local_id" "/children/$child" \
  "/children/$child?as_of=2026-06-01" "/assessments/$assessment" "/children/new" "/children/$child/periods/new"
echo "== the weekly assurance meeting (as the health admin)"
measure nurse "/assurance" "/assurance?rag=red" "/assurance?sort=likely_late" "/assurance/changes" \
  "/assurance?as_of=2026-11-16" "/escalations"
echo "== the whole assurance list as CSV and the monthly figures (fewer requests: these are big)"
requests_saved="$requests"
requests="${BENCH_BIG_REQUESTS:-5}"
measure nurse "/assurance.csv" "/assurance/print" "/reports"
requests="$requests_saved"
echo "== as a social worker"
measure sw "/"
echo "== as a clinician"
measure dr "/"
echo "== signed out"
unset BENCH_COOKIE
$bin/examples/latency "$base/login" "$requests"

# What a browser downloads for a page: its stylesheets and scripts, and every module they
# import, compressed as the server sends them (gzip).
echo "== CSS and JavaScript shipped per page (gzip)"
BENCH_COOKIE="cla_session=$(session_for nurse)"
for path in "/" "/children/$child" "/assessments/$assessment" "/login"; do
  page="$(curl -sf -H "Cookie: $BENCH_COOKIE" "$base$path")"
  todo="$(echo "$page" | grep -o '/assets/[^"]*\.\(css\|js\)"' | tr -d '"' | sort -u)"
  seen=""
  total=0
  while [ -n "$todo" ]; do
    next=""
    for asset in $todo; do
      case " $seen " in *" $asset "*) continue ;; esac
      seen="$seen $asset"
      size="$(curl -sf -H 'Accept-Encoding: gzip' -o /dev/null -w '%{size_download}' "$base$asset")"
      total=$((total + size))
      if [[ "$asset" == *.js ]]; then
        next="$next $(curl -sf "$base$asset" | grep -o '/assets/[^"]*\.js"' | tr -d '"' || true)"
      fi
    done
    todo="$(echo $next | tr ' ' '\n' | sort -u)"
  done
  echo "$path: $total bytes compressed ($(echo "$seen" | wc -w) files)"
done
echo "server peak memory: $(grep VmHWM /proc/$pid/status | awk '{print $2, $3}')"
