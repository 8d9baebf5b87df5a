#!/usr/bin/env bash
# Applies the MtActors schema (every deploy/sql/NNN_*.sql, in order, in one transaction) to a PostgreSQL
# database with psql:   deploy/sql/apply.sh "host=127.0.0.1 port=5432 dbname=mtactors user=postgres"
# The scripts are idempotent, so running this again is harmless. The silo does the same at start
# (SchemaMigrator, which also records the scripts in mtactors_schema_migrations).
set -euo pipefail
if [[ $# -ne 1 ]]; then
  echo "usage: $0 <libpq connection string or URI>" >&2
  exit 2
fi
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
args=()
for f in "$dir"/[0-9][0-9][0-9]_*.sql; do args+=(-f "$f"); done
PGOPTIONS="${PGOPTIONS:-} -c client_min_messages=warning" exec psql "$1" -X -q -v ON_ERROR_STOP=1 --single-transaction "${args[@]}"
