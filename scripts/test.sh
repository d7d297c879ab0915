#!/usr/bin/env bash
# The test command: installs what the tests need, then runs every test project of the solution,
# with line coverage per src project (coverlet).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
log=$(mktemp)
coverage=$(mktemp -d)
status=0
dotnet test MlOps.Serverless.sln --collect:"XPlat Code Coverage" --results-directory "$coverage" "$@" 2>&1 | tee "$log" || status=$?
# Line coverage per src project: a line counts as covered when any test project's run hit it;
# generated code (obj/) and the test-support library (MlOps.Serverless.Testing) are left out.
find "$coverage" -name 'coverage.cobertura.xml' -print0 | xargs -0 -r awk '
  /<package / { match($0, /name="[^"]*"/); pkg = substr($0, RSTART + 6, RLENGTH - 7) }
  /<class / { match($0, /filename="[^"]*"/); file = substr($0, RSTART + 10, RLENGTH - 11) }
  /<line number=/ && file !~ /(^|\/)obj\// && pkg !~ /\.(Tests|Testing)$/ { match($0, /number="[0-9]+"/); n = substr($0, RSTART + 8, RLENGTH - 9)
                    match($0, /hits="[0-9]+"/); h = substr($0, RSTART + 6, RLENGTH - 7)
                    key = pkg SUBSEP file SUBSEP n; lines[key] = pkg; if (h > 0) hit[key] = 1 }
  END { for (k in lines) { total[lines[k]]++; if (k in hit) covered[lines[k]]++ }
        for (p in total) printf "coverage: %-32s %5.1f%% of %d lines\n", p, 100 * covered[p] / total[p], total[p] }' | sort
# One closing line for the whole solution, summed over the test projects' own summaries.
awk '/^(Passed|Failed)! +- Failed:/ { gsub(",", ""); for (i = 1; i <= NF; i++) { if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1) } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
rm -rf "$log" "$coverage"
exit $status
