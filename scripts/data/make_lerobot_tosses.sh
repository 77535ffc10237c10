#!/usr/bin/env bash
# Remakes scenes/tabletop/lerobot_cube_tosses/: a SYNTHETIC LeRobot v3.0 dataset written by LeRobot's own writer
# from episodes real2sim generates (3 cube tosses with the front camera rendered), so that the README's main job
# and the tests have a LeRobot source of a robot the project has a scene for. See that folder's PROVENANCE.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

bash scripts/build.sh
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
build/release/cli/r2s generate --scene scenes/tabletop --episodes scenes/tabletop/episodes/cube_tosses.hdf5 \
  --variants 1 --max-episodes 3 --cameras front --streams rgb --keep all --seed 0 --out "$work/generated" --quiet \
  >/dev/null
/usr/bin/python3 scripts/data/make_lerobot_tosses.py export "$work/generated/cube_tosses.hdf5" "$work/episodes.npz"
env_dir=$(bash scripts/setup_python_env.sh clients)
HF_HUB_OFFLINE=1 "$env_dir/bin/python" scripts/data/make_lerobot_tosses.py write "$work/episodes.npz" "$work/lerobot"
out=scenes/tabletop/lerobot_cube_tosses
rm -rf "$out/meta" "$out/data" "$out/videos"
mkdir -p "$out"
cp -r "$work/lerobot/meta" "$work/lerobot/data" "$work/lerobot/videos" "$out/"
chmod -R u+rw,go+r "$out"
