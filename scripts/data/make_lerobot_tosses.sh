#!/usr/bin/env bash
# Remakes scenes/tabletop/lerobot_cube_tosses/ (v3.0, lerobot 0.4.4) and lerobot_cube_tosses_v21/ (v2.1, lerobot
# 0.3.3): SYNTHETIC LeRobot datasets written by LeRobot's own writers from episodes real2sim generates (3 cube
# tosses with the front camera rendered), so that the README's main job and the tests have LeRobot sources of a
# robot the project has a scene for. See the folders' PROVENANCE.md.
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
HF_HUB_OFFLINE=1 "$env_dir/bin/python" scripts/data/make_lerobot_tosses.py write "$work/episodes.npz" "$work/v30"
HF_HUB_OFFLINE=1 PYTHONPATH="$env_dir/overlay-v21" "$env_dir/bin/python" scripts/data/make_lerobot_tosses.py write \
  "$work/episodes.npz" "$work/v21"
for pair in "v30 lerobot_cube_tosses" "v21 lerobot_cube_tosses_v21"; do
  read -r made name <<<"$pair"
  out="scenes/tabletop/$name"
  rm -rf "$out/meta" "$out/data" "$out/videos"
  mkdir -p "$out"
  cp -r "$work/$made/meta" "$work/$made/data" "$work/$made/videos" "$out/"
  chmod -R u+rw,go+r "$out"
done
