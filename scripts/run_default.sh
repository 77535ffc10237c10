#!/usr/bin/env bash
# The main job on the bundled default data. For now: replay the bundled real Panda log in the panda_sysid scene
# (Bullet, tracking its measured positions) and report the tracking error per joint; the replayed episode goes
# to build/replay/ in the log's own layout. Later: synthetic episodes generated from it. Extra arguments go to
# r2s replay (e.g. --json, --threads N).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh
exec "build/${R2S_PRESET:-release}/cli/r2s" replay --scene scenes/panda_sysid \
  --episodes scenes/panda_gaz2019/episode_0.hdf5 --out build/replay --overwrite "$@"
