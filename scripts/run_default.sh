#!/usr/bin/env bash
# The main job on the bundled default data. For now: the QA report of the bundled real Panda log
# (later: synthetic episodes generated from it). Extra arguments go to r2s inspect (e.g. --json).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh
exec "build/${R2S_PRESET:-release}/cli/r2s" inspect scenes/panda_gaz2019/episode_0.hdf5 "$@"
