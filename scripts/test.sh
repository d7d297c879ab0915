#!/usr/bin/env bash
# The test command: installs what the tests need, then runs every test project of the solution.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
log=$(mktemp)
status=0
dotnet test MlOps.Serverless.sln "$@" 2>&1 | tee "$log" || status=$?
# One closing line for the whole solution, summed over the test projects' own summaries.
awk '/^(Passed|Failed)! +- Failed:/ { gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
rm -f "$log"
exit $status
