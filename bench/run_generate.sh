#!/usr/bin/env bash
# End-to-end generation figures (bench/README.md): episodes/s, frames/s, CPU seconds per stage, peak RSS and
# kept/attempted of `r2s generate` on the bundled real data in the tabletop scene, beside `r2s replay` of the same
# source episodes as the baseline (the same physics without drawing, perturbing, rendering or the run folder).
#
#   bench/run_generate.sh
#
# Environment: BUILD_DIR (a build folder with cli/r2s; default build/release, built by scripts/build.sh),
# THREADS (default: every core), VARIANTS (default 4), WORK_DIR (keep the outputs; default a temporary folder).
# Runs: the 100 cube tosses x VARIANTS (physics only); the real Panda log x VARIANTS (physics only); 2 tosses x 2
# variants with the front camera's RGB, depth and segmentation (render + sensor models on lavapipe / the CPU
# unless a GPU is present), to HDF5 and, from the LeRobot tosses, to LeRobot (video), with bytes per camera frame.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
THREADS="${THREADS:-$(nproc)}"
VARIANTS="${VARIANTS:-4}"
WORK_DIR="${WORK_DIR:-$(mktemp -d)}"
mkdir -p "$WORK_DIR"
scene=scenes/tabletop
tosses=scenes/tabletop/episodes/cube_tosses.hdf5
panda=scenes/panda_gaz2019/episode_0.hdf5

machine_line
echo "== $("$r2s" --version), threads $THREADS, variants $VARIANTS, outputs in $WORK_DIR"
if [[ ! -f "$WORK_DIR/params.yaml" ]]; then
  "$r2s" sysid --scene "$scene" --episodes "$tosses" --problem objects --out "$WORK_DIR/params.yaml" >/dev/null
fi

run() {  # name, then r2s generate arguments
  local name="$1"
  shift
  rm -rf "$WORK_DIR/$name"
  "$r2s" generate --scene "$scene" --params "$WORK_DIR/params.yaml" --threads "$THREADS" --quiet \
    --out "$WORK_DIR/$name" "$@" >"$WORK_DIR/$name.json"
}
replay() {  # name, dataset
  local start end
  rm -rf "$WORK_DIR/$1"
  start=$(date +%s%N)
  "$r2s" replay --scene "$scene" --params "$WORK_DIR/params.yaml" --episodes "$2" --threads "$THREADS" \
    --out "$WORK_DIR/$1" --json >/dev/null
  end=$(date +%s%N)
  echo "$1 $(((end - start) / 1000000))" >>"$WORK_DIR/replays.txt"  # milliseconds
}
rm -f "$WORK_DIR/replays.txt"
run tosses --episodes "$tosses" --variants "$VARIANTS"
replay tosses_replay "$tosses"
run panda --episodes "$panda" --variants "$VARIANTS"
replay panda_replay "$panda"
run rendered --episodes "$tosses" --variants 2 --max-episodes 2 --cameras front --streams rgb,depth,segmentation \
  --keep all
# The same from a LeRobot source to LeRobot output: RGB as AV1 video, depth and segmentation as lossless side
# streams; and RGB alone (the feature LeRobot loads).
run rendered_lerobot --episodes scenes/tabletop/lerobot_cube_tosses --variants 2 --max-episodes 2 --cameras front \
  --streams rgb,depth,segmentation --keep all
run rendered_lerobot_rgb --episodes scenes/tabletop/lerobot_cube_tosses --variants 2 --max-episodes 2 --keep all

/usr/bin/python3 - "$WORK_DIR" <<'PY'
import json, sys
work = sys.argv[1]
replays = {name: f"{int(ms) / 1000:.2f}" for name, ms in (line.split() for line in open(f"{work}/replays.txt"))}
rows = [("tosses", "100 cube tosses x K, physics only", "tosses_replay"),
        ("panda", "Panda log (20,544 frames) x K, physics only", "panda_replay"),
        ("rendered", "2 tosses x 2, front camera RGB+depth+seg", None),
        ("rendered_lerobot", "LeRobot: 2 tosses x 2, RGB+depth+seg", None),
        ("rendered_lerobot_rgb", "LeRobot: 2 tosses x 2, RGB only", None)]
print(f"{'run':<44s} {'kept/attempted':>14s} {'episodes/s':>10s} {'frames/s':>10s} {'camera fr/s':>11s} "
      f"{'peak RSS':>9s} | stage s: {'sim':>6s} {'render':>6s} {'sensor':>6s} {'write':>6s} | replay s")
for name, label, baseline in rows:
    d = json.load(open(f"{work}/{name}.json"))
    t, wall = d["totals"], d["wall_s"]
    s = t["stage_wall_s"]
    print(f"{label:<44s} {t['kept']:>6d}/{t['attempted']:<7d} {t['attempted'] / wall:>10.2f} "
          f"{t['frames'] / wall:>10.0f} {t['camera_frames'] / wall:>11.1f} {d['peak_rss_mb']:>7.0f} MB | "
          f"       {s['sim_s']:>6.2f} {s['render_s']:>6.2f} {s['sensor_s']:>6.2f} {s['write_s']:>6.2f} | "
          f"{replays.get(baseline, '-') if baseline else '-'}")
    per_frame = d.get("bytes_per_camera_frame")
    print(f"{'':<44s} wall {wall:.2f} s, process CPU {d['this_run']['process_cpu_s']:.1f} s" +
          (f", {d['dataset_bytes'] / 1e6:.1f} MB on disk, {per_frame / 1e3:.1f} kB per camera frame" if per_frame else ""))
PY
