#!/usr/bin/env bash
# Camera frames/s (RGB + metric depth + segmentation in host memory) of the tabletop scene: real2sim's Vulkan
# renderer (render_bench) beside MuJoCo's OpenGL renderer (mujoco_render.py), one after the other on one machine
# (bench/README.md).
#
#   bench/run_render.sh
#
# Environment: REPEATS (default 3; medians are quoted), BUILD_DIR (a build folder that already has
# bench/render_bench; default: configure and build the `cpu` preset), RENDER_BENCH_FLAGS (extra render_bench
# flags, e.g. --collision_shadows), MUJOCO_GL (default egl: Mesa's llvmpipe where there is no GPU). MuJoCo, h5py
# and numpy come from PyPI into a venv under build/ (python3 on PATH).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPEATS="${REPEATS:-3}"
cd "$ROOT"
if [[ -z "${BUILD_DIR:-}" ]]; then
  cmake --preset cpu >/dev/null
  cmake --build --preset cpu --target render_bench >/dev/null
  BUILD_DIR=build/cpu
fi
VENV="$ROOT/build/bench-venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
fi
if ! "$VENV/bin/python" -c "import mujoco, h5py, numpy" 2>/dev/null; then
  "$VENV/bin/pip" install -q "mujoco==4.0.0" h5py numpy
fi
export MUJOCO_GL="${MUJOCO_GL:-egl}"

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
json="$(mktemp)"
mj="$(mktemp)"
trap 'rm -f "$json" "$mj"' EXIT
# shellcheck disable=SC2086
"$BUILD_DIR/bench/render_bench" --benchmark_repetitions="$REPEATS" --benchmark_format=json ${RENDER_BENCH_FLAGS:-} \
  >"$json"
"$VENV/bin/python" bench/mujoco_render.py --source-dir "$ROOT" --repeats "$REPEATS" 2>/dev/null >"$mj"
"$VENV/bin/python" - "$json" "$mj" <<'PY'
import json, sys
r2s = json.load(open(sys.argv[1]))
mj = json.load(open(sys.argv[2]))
medians = {}
device = ""
for b in r2s["benchmarks"]:
    if b.get("run_type") == "aggregate" and b.get("aggregate_name") == "median":
        w, h, batch, per_submission = (int(x) for x in b["run_name"].split("/")[1:5])
        medians[(w, h, batch, per_submission)] = (b["frames_per_s"], b["cpu_ms_per_frame"])
    device = b.get("label", device) or device
peer = {(r["width"], r["height"], r["batch"]): r for r in mj["results"]}
print(f"real2sim: {device}; MuJoCo {mj['mujoco']}: {mj['gl_renderer']}; {mj['triangles']} triangles; "
      f"shadow maps {mj['shadow_size']} px")
print(f"{'size':>8s} {'views/batch':>11s} {'per subm.':>9s} | {'r2s fps':>8s} {'r2s CPU ms':>10s} | "
      f"{'MuJoCo fps':>10s} {'MuJoCo CPU ms':>13s} | {'fps ratio':>9s}")
for (w, h, batch, per_submission), (fps, cpu_ms) in sorted(medians.items()):
    p = peer.get((w, h, batch))
    pf = p["median_frames_per_s"] if p else float("nan")
    pc = p["median_cpu_ms_per_frame"] if p else float("nan")
    print(f"{w}x{h:<4d} {batch:11d} {per_submission:9d} | {fps:8.1f} {cpu_ms:10.1f} | {pf:10.1f} {pc:13.1f} | "
          f"{fps / pf:9.2f}")
PY
