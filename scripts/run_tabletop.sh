#!/usr/bin/env bash
# The tabletop examples (the main job before the SO-101 deployment): synthetic episodes from the bundled real data
# in the tabletop scene.
#   1. r2s sysid fits the cube's friction and restitution to the 100 real ContactNets tosses (objects problem):
#      build/default/params.yaml and its report (skipped when params.yaml is newer than the scene and the tosses);
#   2. r2s generate: 4 variants of every toss, physics from that fit's posterior -> build/default/cube_tosses/;
#   3. r2s generate: 4 variants of the real Panda log -> build/default/panda/;
#   4. r2s generate from a LeRobot dataset to a LeRobot dataset with video: 2 variants of each of the 3 tosses in
#      scenes/tabletop/lerobot_cube_tosses (synthetic, written by LeRobot's own writer), the front camera rendered
#      (RGB as AV1 video as LeRobot encodes it; depth and segmentation as lossless side streams)
#      -> build/default/lerobot_cube_tosses/lerobot_cube_tosses/, which LeRobotDataset loads as it is.
# Each generate prints its JSON summary; a rerun finds the runs complete and says so. Extra arguments go to every
# r2s generate (e.g. --threads 8).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh
r2s="build/${R2S_PRESET:-release}/cli/r2s"
out=build/default
scene=scenes/tabletop
tosses=scenes/tabletop/episodes/cube_tosses.hdf5
mkdir -p "$out"

if [[ ! "$out/params.yaml" -nt "$scene/scene.yaml" || ! "$out/params.yaml" -nt "$tosses" ]]; then
  "$r2s" sysid --scene "$scene" --episodes "$tosses" --problem objects --out "$out/params.yaml" \
    --report "$out/sysid_report"
fi
"$r2s" generate --scene "$scene" --episodes "$tosses" --params "$out/params.yaml" --variants 4 \
  --out "$out/cube_tosses" "$@"
"$r2s" generate --scene "$scene" --episodes scenes/panda_gaz2019/episode_0.hdf5 --params "$out/params.yaml" \
  --variants 4 --out "$out/panda" "$@"
"$r2s" generate --scene "$scene" --episodes scenes/tabletop/lerobot_cube_tosses --params "$out/params.yaml" \
  --variants 2 --cameras front --streams rgb,depth,segmentation --keep all --out "$out/lerobot_cube_tosses" "$@"
