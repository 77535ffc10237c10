#!/usr/bin/env bash
# Every test, after set-up and an incremental build. Extra arguments go to ctest, e.g. -L unit, -LE slow,
# -LE clients (the tests that run LeRobot's own Python loaders).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh
# LeRobot, PyTorch and PyAV for the `clients` tests: a cached environment outside the clone, made once per machine
# (a few minutes and about 8 GB the first time), so no test waits on it.
bash scripts/setup_python_env.sh clients >/dev/null
exec ctest --test-dir "build/${R2S_PRESET:-release}" --output-on-failure -j"$(nproc)" "$@"
