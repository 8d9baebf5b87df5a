#!/usr/bin/env bash
# MtActors test command: prepares what a fresh machine needs beyond the .NET SDK and the PostgreSQL server binaries,
# runs every test project of MtActors.sln in Release, and ends with one line "N passed, N failed" summed over the
# TRX result files of all test projects. Exit status: non-zero when a test failed, when no test ran, or when the
# build or a test host failed. Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Host").
set -euo pipefail
cd "$(dirname "$0")"

results="${MTACTORS_TEST_RESULTS:-$PWD/TestResults/run}"
rm -rf "$results"
mkdir -p "$results"

# --- set-up beyond PostgreSQL -------------------------------------------------------------------------------------
# The interop tests drive real MTProto clients (GramJS, mtcute) pinned in tests/Interop.Tests/js/package-lock.json.
js=tests/Interop.Tests/js
if [ -f "$js/package-lock.json" ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "npm not found: the interop tests need Node.js 20 or later with npm (apt-get install -y nodejs npm)" >&2
    exit 1
  fi
  (cd "$js" && npm ci --no-audit --no-fund --loglevel=error)
fi
# ------------------------------------------------------------------------------------------------------------------

set +e
dotnet test MtActors.sln -c Release --logger "trx" --results-directory "$results" "$@"
status=$?
set -e

passed=0
failed=0
files=0
shopt -s nullglob
for trx in "$results"/*.trx "$results"/*/*.trx; do
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1 || true)
  [ -n "$counters" ] || continue
  files=$((files + 1))
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  p=$(get passed); f=$(get failed); e=$(get error); t=$(get timeout); a=$(get aborted)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0} + ${t:-0} + ${a:-0}))
done

if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
  # The tests a crashed host never ran are in no result file: count the crash itself as a failure.
  echo "dotnet test exited with status $status (build error or crashed test host): see the output above; counted as 1 failed" >&2
  failed=1
fi
if [ "$passed" -eq 0 ] && [ "$failed" -eq 0 ]; then
  echo "no test ran ($files result files in $results)" >&2
fi

echo "$passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$passed" -eq 0 ] || [ "$status" -ne 0 ]; then
  exit 1
fi
