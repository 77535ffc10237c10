#!/usr/bin/env bash
# The camera run of `r2s generate` with the CPU renderer's rasterizer threads shared out (render/
# cpu_raster_threads.h) beside lavapipe's own default, which starts one rasterizer thread per CPU of the machine in
# every worker's renderer (bench/README.md, "Rasterizer threads").
#
#   bench/run_cpu_share.sh
#
# Environment: BUILD_DIR (default build/release), REPEATS (default 3), MACHINE_CPUS (default 16: the node a
# 2-CPU job is taken from, whose CPU count lavapipe's default follows).
# Each row: 2 cube tosses x 2 variants, the front camera's RGB, depth and segmentation at 640x480 (420 camera
# frames), robomimic output; medians of wall, process CPU (user + system) and peak RSS over REPEATS runs.
set -euo pipefail

source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
REPEATS="${REPEATS:-3}"
MACHINE_CPUS="${MACHINE_CPUS:-16}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cpus=$(nproc)
machine_line

# row label, pin (a CPU list for taskset or "-"), LP_NUM_THREADS ("-": left to r2s), then r2s generate arguments
row() {
  local label="$1" pin="$2" lp="$3"
  shift 3
  local walls=() cpus_used=() rss=() frames=0
  for ((i = 0; i < REPEATS; i++)); do
    rm -rf "$work/out"
    local cmd=("$r2s" generate --scene scenes/tabletop --episodes scenes/tabletop/episodes/cube_tosses.hdf5
      --max-episodes 2 --variants 2 --cameras front --streams rgb,depth,segmentation --keep all --quiet
      --out "$work/out" "$@")
    [[ "$pin" != "-" ]] && cmd=(taskset -c "$pin" "${cmd[@]}")
    if [[ "$lp" == "-" ]]; then
      env -u LP_NUM_THREADS /usr/bin/time -f "%e %U %S %M" -o "$work/time" "${cmd[@]}" >"$work/summary.json"
    else
      LP_NUM_THREADS="$lp" /usr/bin/time -f "%e %U %S %M" -o "$work/time" "${cmd[@]}" >"$work/summary.json"
    fi
    read -r wall user sys kb <"$work/time"
    walls+=("$wall")
    cpus_used+=("$(echo "$user + $sys" | bc)")
    rss+=("$kb")
    frames=$(python3 -c "import json; print(json.load(open('$work/summary.json'))['totals']['camera_frames'])")
  done
  local wall cpu peak
  wall=$(printf '%s\n' "${walls[@]}" | sort -g | sed -n "$(((REPEATS + 1) / 2))p")
  cpu=$(printf '%s\n' "${cpus_used[@]}" | sort -g | sed -n "$(((REPEATS + 1) / 2))p")
  peak=$(printf '%s\n' "${rss[@]}" | sort -g | sed -n "$(((REPEATS + 1) / 2))p")
  printf '| %s | %s s | %s s | %.1f | %.1f | %d MB |\n' "$label" "$wall" "$cpu" "$(echo "$frames / $wall" | bc -l)" \
    "$(echo "$frames / $cpu" | bc -l)" "$((peak / 1024))"
}

echo "| run | wall | process CPU | camera frames/s | camera frames / CPU-s | peak RSS |"
echo "|---|---|---|---|---|---|"
row "2 workers, lavapipe's default on a $MACHINE_CPUS-CPU node ($MACHINE_CPUS rasterizer threads each)" - "$MACHINE_CPUS" --threads 2
row "2 workers, lavapipe's default here ($cpus rasterizer threads each)" - "$cpus" --threads 2
row "2 workers, shared out (now: 0, each rasterizes on its worker)" - - --threads 2
row "1 worker, shared out (now: $cpus rasterizer threads)" - - --threads 1
row "given 1 CPU (taskset), before: $cpus workers (the machine's count), $cpus rasterizer threads each" 0 "$cpus" --threads "$cpus"
row "given 1 CPU (taskset), now: the default, 1 worker rasterizing on its own thread" 0 -
