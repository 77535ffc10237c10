#!/usr/bin/env bash
# Sensor models at 640x480 on one thread: real2sim's CPU backend (sensor_bench, 16-frame batches, threads 1) beside
# the same effects written with OpenCV and NumPy (opencv_sensor_peer.py, cv2.setNumThreads(1)), one after the other
# on one machine. CPU ms per frame, medians of REPEATS (default 5). OpenCV and NumPy come from PyPI into the
# benchmarks' venv under build/ (python3 on PATH), as for bench/run_render.sh.
#   BUILD_DIR=build/release REPEATS=5 bench/run_sensor.sh
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${BUILD_DIR:-build/release}"
REPEATS="${REPEATS:-5}"
VENV="$ROOT/build/bench-venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import cv2, numpy" 2>/dev/null; then
  "$VENV/bin/pip" install -q "opencv-python-headless==4.12.0.88" numpy
fi
ours=$(mktemp)
trap 'rm -f "$ours"' EXIT
"$BUILD_DIR/bench/sensor_bench" --benchmark_filter='(CameraFull|CameraNoiseOnly|Depth)_Cpu/threads:1' \
  --benchmark_repetitions="$REPEATS" --benchmark_report_aggregates_only=true --benchmark_out="$ours" \
  --benchmark_out_format=json >/dev/null 2>&1
peer=$(OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 "$VENV/bin/python" bench/opencv_sensor_peer.py --repeats "$REPEATS")
python3 - "$ours" "$peer" <<'PY'
import json, sys
ours = {b["run_name"].split("/")[0]: b["cpu_time"] / 16 for b in json.load(open(sys.argv[1]))["benchmarks"]
        if b.get("aggregate_name") == "median"}
peer = json.loads(sys.argv[2])
print(f"OpenCV {peer['opencv']}, NumPy {peer['numpy']}; CPU ms per 640x480 frame, one thread, median")
print("| model | real2sim | OpenCV + NumPy | OpenCV / real2sim |")
print("|---|---|---|---|")
for name, key in (("camera, every effect", "BM_CameraFull_Cpu"),
                  ("camera, shot + read noise", "BM_CameraNoiseOnly_Cpu"), ("depth", "BM_Depth_Cpu")):
    theirs = peer[{"BM_CameraFull_Cpu": "camera_full_ms", "BM_CameraNoiseOnly_Cpu": "camera_noise_only_ms",
                   "BM_Depth_Cpu": "depth_ms"}[key]]
    print(f"| {name} | {ours[key]:.2f} | {theirs:.2f} | {theirs / ours[key]:.2f}x |")
PY
