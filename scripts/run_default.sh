#!/usr/bin/env bash
# The main job on the bundled default: synthetic SO-101 pick-and-place demonstrations from the bundled ones.
#   r2s generate: 2 variants of each of the first 4 demonstrations in scenes/so101_pick_place/demos (a LeRobot
#   v3.0 dataset of a low-cost SO-101 arm putting a cube in a box; SYNTHETIC: made by a scripted teleoperator in the simulator and
#   written by LeRobot's own writer, with no object poses, as real LeRobot data has none). For each demonstration
#   it infers where the cube lay from the grasp; each variant moves and turns the cube from there and the box,
#   changes the cube's mass and grip, the light and the commands, retargets the demonstration to the moved cube and
#   box, simulates it, renders the front and wrist cameras, and keeps it when the cube ends in the box
#   -> build/default/so101_pick_place/demos/, a LeRobot v3.0 dataset that LeRobotDataset loads as it is, in the
#   source's schema. It prints what it inferred, its progress, why the variants it did not keep failed, and its
#   JSON summary; a rerun finds the run complete and says so. Extra arguments go to r2s generate (e.g. --threads 8).
#   scripts/run_tabletop.sh runs the earlier examples (sysid on the real cube tosses, the Panda log).
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/build.sh
r2s="build/${R2S_PRESET:-release}/cli/r2s"
out=build/default
mkdir -p "$out"
"$r2s" generate --scene scenes/so101_pick_place --episodes scenes/so101_pick_place/demos --variants 2 \
  --max-episodes 4 --out "$out/so101_pick_place" "$@"
