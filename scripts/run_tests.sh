#!/usr/bin/env bash
# Every test, after set-up and an incremental build. Extra arguments go to ctest, e.g. -L unit, -LE slow.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh
exec ctest --test-dir "build/${R2S_PRESET:-release}" --output-on-failure -j"$(nproc)" "$@"
