#!/usr/bin/env bash
# Installs what local mode and the tests need, idempotently:
#   - the npm tools (aws-local-stepfunctions, asl-validator, aws-cdk CLI) into ./node_modules
#   - Debian's libxgboost0 (XGBoost 1.7.4, the version SageMaker's 1.7-1 container pins)
#   - AWS's service models (botocore's data folder), which the local stand-ins validate requests against:
#     python3's botocore if it has one, else Debian's python3-botocore
# Safe to run repeatedly; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { [ "${MLOPS_QUIET_SETUP:-}" = 1 ] || echo "setup: $*"; }

command -v dotnet >/dev/null || { echo "setup: the .NET 10 SDK is required (https://dot.net)"; exit 1; }
command -v node >/dev/null || { echo "setup: Node.js 20 or newer is required"; exit 1; }
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" -ge 20 ] || { echo "setup: Node.js 20 or newer is required (found $(node --version))"; exit 1; }

if [ ! -d node_modules/aws-local-stepfunctions ] || [ ! -d node_modules/asl-validator ] || [ ! -d node_modules/aws-cdk ] \
   || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  say "installing npm packages (npm ci)"
  npm ci --no-audit --no-fund --loglevel=error
else
  say "npm packages present"
fi

# Installs a Debian package with apt-get when its check fails: apt_install <package> <check> <what> <by-hand advice>
apt_install() {
  local package=$1 check=$2 what=$3 advice=$4
  if $check; then
    say "$what present"
  elif command -v apt-get >/dev/null; then
    sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
    say "installing $package ($what) with apt-get"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$package" >/dev/null
    $check || { echo "setup: $package did not install; $advice"; exit 1; }
  else
    echo "setup: $what is missing and apt-get is not available; $advice"
    exit 1
  fi
}

has_xgboost() { ldconfig -p 2>/dev/null | grep -q 'libxgboost\.so\.0' || ls /usr/lib/*/libxgboost.so.0 /usr/local/lib/libxgboost.so.0 >/dev/null 2>&1; }
apt_install libxgboost0 has_xgboost "libxgboost0" \
  "install XGBoost 1.7's shared library with your package manager, or build it and put libxgboost.so.0 on the library path"

# The same search as the stand-ins' locator (BotocoreModels): MLOPS_BOTOCORE_DATA, python3's botocore, Debian's package.
has_models() {
  for data in "${MLOPS_BOTOCORE_DATA:-}" \
              "$(python3 -c 'import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), "data"))' 2>/dev/null)" \
              /usr/lib/python3/dist-packages/botocore/data; do
    [ -n "$data" ] && ls "$data"/sagemaker/*/service-2.json* >/dev/null 2>&1 && return 0
  done
  return 1
}
apt_install python3-botocore has_models "AWS's service models (botocore)" \
  "pip install botocore, or point MLOPS_BOTOCORE_DATA at a botocore/data folder"
