#!/usr/bin/env bash
# The GPU figures of bench/README.md in one run, sized for a short lease (an estimated 6 minutes on one H100; not
# yet run on a GPU):
#   1. the sensor models' CPU/GPU parity test (sensor_gpu_test) and the Vulkan render tests on the GPU's driver;
#   2. sensor models: each CUDA kernel at 640x480 beside one CPU thread and every CPU thread (sensor_bench);
#   3. rendering: camera frames/s at 128x128 and 640x480, 1, 16, 64 and 256 views per batch (render_bench on the
#      GPU's Vulkan), the shadow options at 640x480 x 64, and MuJoCo's renderer on the same GPU through EGL
#      (bench/mujoco_render.py) as the peer;
#   4. r2s generate end to end, front camera RGB + depth + segmentation to HDF5: 1 thread; every thread with the
#      sensor models on CUDA; every thread with them on the CPU.
#
#   BUILD_DIR=build/cuda bench/run_gpu.sh                  # a GPU node with the project's packages installed
#   KIT=build/gpu_kit bash bench/run_gpu.sh                # a bare GPU machine (bench/gpu_kit/pack.py made KIT)
#
# RESULTS (default $OUT, else a temporary folder) gets log.txt and the JSON of every step.
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RESULTS="${RESULTS:-${OUT:-$(mktemp -d)}}"
mkdir -p "$RESULTS"
exec > >(tee "$RESULTS/log.txt") 2>&1
start=$(date +%s)
step() { echo "[$(($(date +%s) - start)) s] == $*"; }

PY=python3
PARAMS="${PARAMS:-}"
if [[ -n "${KIT:-}" ]]; then
  # Loaders first (Debian's libvulkan1 and glvnd: the driver's own folder has no loader), then the kit's
  # binaries and libraries; the tests find their data through the source folder they were built in.
  for deb in "$KIT"/debs/*.deb; do dpkg -x "$deb" /; done
  ldconfig
  unpacked=/tmp/r2s-gpu-kit
  rm -rf "$unpacked" && mkdir -p "$unpacked" && tar -C "$unpacked" -xJf "$KIT/kit.tar.xz"
  export LD_LIBRARY_PATH="$unpacked/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
  built_in="$(cat "$unpacked/source_dir.txt")"
  if [[ ! -e "$built_in" ]]; then mkdir -p "$(dirname "$built_in")" && ln -s "$ROOT" "$built_in"; fi
  bin() { echo "$unpacked/bin/$1"; }
  "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/r2s-gpu-site \
    "$KIT"/whl/*.whl && export PYTHONPATH=/tmp/r2s-gpu-site
  PARAMS="${PARAMS:-$KIT/params.yaml}"
else
  BUILD_DIR="${BUILD_DIR:-build/cuda}"
  bin() { ls "$BUILD_DIR"/{cli,bench,tests}/"$1" 2>/dev/null | head -1; }
  [[ -x "$ROOT/build/bench-venv/bin/python" ]] && PY="$ROOT/build/bench-venv/bin/python"
fi
if [[ -z "$PARAMS" ]]; then
  PARAMS="$RESULTS/params.yaml"
  "$(bin r2s)" sysid --scene scenes/tabletop --episodes scenes/tabletop/episodes/cube_tosses.hdf5 --problem objects \
    --out "$PARAMS" >/dev/null
fi
# The driver's Vulkan ICD and EGL vendor files, where a container mounts them outside the loaders' search path.
for icd in /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json \
  /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd*.json; do
  if [[ -f "$icd" ]]; then export VK_DRIVER_FILES="$icd" VK_ICD_FILENAMES="$icd"; break; fi
done
egl=/usr/local/nvidia/share/glvnd/egl_vendor.d/10_nvidia.json
[[ -f "$egl" && -z "${__EGL_VENDOR_LIBRARY_FILENAMES:-}" ]] && export __EGL_VENDOR_LIBRARY_FILENAMES="$egl"

nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv,noheader
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs; Vulkan ICD ${VK_DRIVER_FILES:-default}"

step "sensor models: CPU/GPU parity"
timeout 90 "$(bin sensor_gpu_test)" 2>&1 | tail -12
step "render tests on this GPU's Vulkan"
for t in render_golden_test render_batch_test render_geometry_test render_options_test; do
  timeout 90 "$(bin "$t")" --gtest_brief=1 2>&1 | tail -4
done

step "sensor models (sensor_bench)"
timeout 120 "$(bin sensor_bench)" --benchmark_filter='Gpu|Memcpy|_Cpu/threads:1|CameraFull_Cpu/threads:0' \
  --benchmark_repetitions=3 --benchmark_report_aggregates_only=true --benchmark_min_time=0.3 \
  --benchmark_out="$RESULTS/sensor.json" --benchmark_out_format=json 2>&1 | grep -E "^GPU|_median|^-|^Benchmark"

step "rendering (render_bench), 1 to 256 views per batch"
timeout 170 "$(bin render_bench)" --source_dir="$ROOT" --batches=1,16,64,256 --benchmark_repetitions=3 \
  --benchmark_report_aggregates_only=true --benchmark_out="$RESULTS/render.json" \
  --benchmark_out_format=json 2>&1 | grep -E "_median|^Benchmark"
for option in --shadow_casters=visual --no_shadows; do
  timeout 40 "$(bin render_bench)" --source_dir="$ROOT" --batches=64 "$option" \
    --benchmark_filter='Render/640/480/64/64' 2>&1 | grep "^Render" | sed "s|^|$option |"
done
step "MuJoCo's renderer on this GPU (EGL)"
MUJOCO_GL=egl PYOPENGL_PLATFORM=egl timeout 100 "$PY" bench/mujoco_render.py --source-dir "$ROOT" --repeats 3 \
  --min-time 0.5 >"$RESULTS/mujoco.json" 2>"$RESULTS/mujoco.err" || tail -5 "$RESULTS/mujoco.err"
"$PY" - "$RESULTS/mujoco.json" 2>/dev/null <<'PY' || echo "MuJoCo: no result"
import json, sys
d = json.load(open(sys.argv[1]))
print(f"MuJoCo {d['mujoco']}: {d['gl_renderer']}")
for r in d["results"]:
    print(f"  {r['width']}x{r['height']} batch {r['batch']}: {r['median_frames_per_s']:.1f} frames/s, "
          f"{r['median_cpu_ms_per_frame']:.2f} CPU ms per frame")
PY

generate() {  # name, then r2s generate arguments
  local name="$1" TIMEFORMAT
  shift
  step "r2s generate $name: $*"
  TIMEFORMAT="$name: %R s wall, %U s user, %S s sys"
  rm -rf "/tmp/r2s-gpu-$name"
  time timeout 120 "$(bin r2s)" generate --scene scenes/tabletop --params "$PARAMS" \
    --episodes scenes/tabletop/episodes/cube_tosses.hdf5 --cameras front --streams rgb,depth,segmentation \
    --keep all --quiet --out "/tmp/r2s-gpu-$name" "$@" >"$RESULTS/generate_$name.json"
  "$PY" - "$RESULTS/generate_$name.json" <<'PY' || true
import json, sys
d = json.load(open(sys.argv[1]))
t, run = d["totals"], d["this_run"]
cpu = t["stage_thread_cpu_s"]
print(f"  {t['camera_frames']} camera frames in {d['wall_s']:.1f} s: {t['camera_frames'] / d['wall_s']:.1f} per s, "
      f"{t['camera_frames'] / run['process_cpu_s']:.1f} per CPU-s; thread CPU s: " +
      ", ".join(f"{k[:-2]} {v:.1f}" for k, v in cpu.items()))
PY
  rm -rf "/tmp/r2s-gpu-$name"
}
generate one_thread --threads 1 --variants 2 --max-episodes 2
generate all_threads --threads "$(nproc)" --variants 4 --max-episodes 16
generate all_threads_cpu_sensors --threads "$(nproc)" --variants 4 --max-episodes 16 --device cpu
step "done; results in $RESULTS"
