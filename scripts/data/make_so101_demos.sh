#!/usr/bin/env bash
# Remakes scenes/so101_pick_place/demos/: SYNTHETIC SO-101 pick-and-place demonstrations, made by a scripted
# teleoperator in the simulator (tools/scripted_teleop.h: minimum-jerk reaches, tremor, hesitations, re-grasps,
# visual feedback on the lagging follower) and written as a LeRobot v3.0 dataset by LeRobot's own writer in
# LeRobot's normalized units, with the front and wrist cameras rendered. No licensed real SO-101 demonstrations
# exist to bundle; these stand in for them and say so (demos/PROVENANCE.md). Arguments: the number of
# demonstrations to attempt (default 8) and the seed (default 0).
set -euo pipefail
cd "$(dirname "$0")/../.."

episodes="${1:-8}"
seed="${2:-0}"
bash scripts/build.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The cube anywhere in the reach in front of the arm, away from the box, turned up to 45 degrees; the person
# lines the open jaw up with the cube's centre 3 mm short of the fixed jaw's pad (the moving jaw pushes it the
# rest of the way: scene.yaml's grasp_offset is where it then sits).
build/release/tools/make_teleop_demos --scene scenes/so101_pick_place --out "$work/npy" --episodes "$episodes" \
  --seed "$seed" --workspace 0.16,0.27,-0.12,0.02 --yaw-deg 45 --carry-tilt-deg -30 \
  --aim-offset 0.0064,-0.0002,-0.0905 --cameras front,wrist
env_dir=$(bash scripts/setup_python_env.sh clients)
HF_HUB_OFFLINE=1 "$env_dir/bin/python" scripts/data/make_so101_demos.py "$work/npy" "$work/lerobot"
out=scenes/so101_pick_place/demos
rm -rf "$out/meta" "$out/data" "$out/videos"
mkdir -p "$out"
cp -r "$work/lerobot/meta" "$work/lerobot/data" "$work/lerobot/videos" "$out/"
cp "$work/lerobot/object_poses.yaml" "$work/npy/demos.json" "$out/"
chmod -R u+rw,go+r "$out"
