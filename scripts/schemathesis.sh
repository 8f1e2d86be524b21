#!/usr/bin/env bash
# Property-based tests of the HTTP API against its own OpenAPI document (schemathesis, every
# check): seeds a small county into a fresh database, serves it, and fails on any 5xx or
# any answer the document does not describe. Runs on SQLite and on PostgreSQL.
#   scripts/schemathesis.sh [sqlite|postgres|both]        (default both)
# Settings (environment): SCHEMATHESIS_MAX_EXAMPLES (default 40 per operation),
# SCHEMATHESIS_SEED (default 20261123), CLA_TEST_POSTGRES_HOST (default 127.0.0.1:5432).
# Needs python3 (with venv) and, for PostgreSQL, a server where user postgres may create
# databases. The pinned schemathesis is installed into target/ci-venv on first use.
set -euo pipefail
cd "$(dirname "$0")/.."
which="${1:-both}"
case "$which" in sqlite | postgres | both) ;; *)
  echo "usage: scripts/schemathesis.sh [sqlite|postgres|both]" >&2
  exit 2
  ;;
esac

SCHEMATHESIS_VERSION=4.32.5
max_examples="${SCHEMATHESIS_MAX_EXAMPLES:-40}"
seed="${SCHEMATHESIS_SEED:-20261123}"
pg_host="${CLA_TEST_POSTGRES_HOST:-127.0.0.1:5432}"
venv=target/ci-venv

if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "== installing schemathesis $SCHEMATHESIS_VERSION into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --quiet --bin cla-tracker
bin="$PWD/target/debug/cla-tracker"

work="$(mktemp -d)"
pid=""
db=""
stop_server() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=""
  fi
}
drop_database() {
  if [ -n "$db" ]; then
    psql -q -h "${pg_host%:*}" -p "${pg_host#*:}" -U postgres -d postgres \
      -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null || true
    db=""
  fi
}
cleanup() {
  stop_server
  drop_database
  rm -rf "$work"
}
trap cleanup EXIT

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# Every check, reproducibly (the same examples each run), against the served document.
schemathesis() {
  local base="$1" token="$2"
  shift 2
  "$venv/bin/schemathesis" --config-file scripts/schemathesis.toml run "$base/api/openapi.json" \
    --url "$base" \
    --header "Authorization: Bearer $token" \
    --checks all \
    --max-examples "$max_examples" \
    --seed "$seed" \
    --generation-database none \
    --workers 1 \
    --no-color \
    "$@"
}

# One run: a fresh database of `backend`, seeded, served, and tested.
run() {
  local backend="$1" url port token
  echo
  echo "== schemathesis on $backend"
  case "$backend" in
    sqlite) url="$work/schemathesis.db" ;;
    postgres)
      db="cla_schemathesis_$$"
      psql -q -h "${pg_host%:*}" -p "${pg_host#*:}" -U postgres -d postgres -c "CREATE DATABASE $db" >/dev/null
      url="postgres://postgres@$pg_host/$db"
      ;;
  esac
  port="$(free_port)"
  # No mail relay: escalations wait in the outbox, as they would with the relay down.
  export CLA_DATABASE_URL="$url" CLA_TODAY=2026-11-23 CLA_BIND_ADDRESS="127.0.0.1:$port" CLA_LOG=warn
  export CLA_SMTP_URL="smtp://127.0.0.1:9"
  "$bin" seed-demo --children 40 --seed 7 >"$work/seed-$backend.log" 2>&1
  # One account holding every role, in the ICB: every operation is allowed and every child
  # in scope, so the run reaches the handlers rather than the refusals.
  echo "a long schemathesis passphrase" | "$bin" user add --email schemathesis@example.nhs.uk \
    --role admin --role health_admin --role clinician --role social_worker --role assurance >/dev/null
  token="$("$bin" token issue --email schemathesis@example.nhs.uk --label schemathesis 2>/dev/null)"
  "$bin" token issue --email schemathesis@example.nhs.uk --label spare >/dev/null 2>&1
  SCHEMATHESIS_SPARE_TOKEN_ID="$("$bin" token list | awk '$3 == "spare" {print $1}')"
  export SCHEMATHESIS_SPARE_TOKEN_ID
  "$bin" serve >"$work/serve-$backend.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/ready" >/dev/null && break
    sleep 0.2
  done
  local status=0 base="http://127.0.0.1:$port"
  # Schemathesis reuses ids it has seen in answers, so it finds and revokes its own token:
  # every operation but that one runs first, and the revocation runs alone at the end, on
  # the spare token (scripts/schemathesis.toml).
  schemathesis "$base" "$token" --exclude-path '/api/v1/tokens/{id}/revoke' || status=$?
  # The account must still work here, or the run tested refusals only.
  if ! curl -sf -H "Authorization: Bearer $token" "$base/api/v1/me" >/dev/null; then
    echo "the schemathesis account stopped working during the run" >&2
    status=1
  fi
  # No links lead anywhere from one operation, so no stateful phase here.
  schemathesis "$base" "$token" --include-path '/api/v1/tokens/{id}/revoke' \
    --phases examples,coverage,fuzzing || status=$?
  if curl -sf -H "Authorization: Bearer $token" "$base/api/v1/me" >/dev/null; then :; else
    echo "the revocation run revoked the run's own token, not the spare" >&2
    status=1
  fi
  if ! "$bin" token list | awk -v id="$SCHEMATHESIS_SPARE_TOKEN_ID" '$1 == id && $4 == "revoked"' | grep -q .; then
    echo "the revocation run never revoked the spare token" >&2
    status=1
  fi
  stop_server
  drop_database
  if [ "$status" -ne 0 ]; then
    echo "schemathesis failed on $backend; the server's log follows" >&2
    tail -n 50 "$work/serve-$backend.log" >&2
    return "$status"
  fi
}

failed=0
if [ "$which" = sqlite ] || [ "$which" = both ]; then run sqlite || failed=1; fi
if [ "$which" = postgres ] || [ "$which" = both ]; then run postgres || failed=1; fi
exit "$failed"
