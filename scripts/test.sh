#!/usr/bin/env bash
# The test command: installs what the tests need, then runs every test project of the solution.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20
dotnet test MlOps.Serverless.sln "$@"
