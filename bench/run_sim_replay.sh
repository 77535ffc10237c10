#!/usr/bin/env bash
# Physics steps/s of the tabletop scene, real2sim beside PyBullet (DIRECT mode), in one job on one machine,
# on one core and on all cores (bench/README.md).
#
#   bench/run_sim_replay.sh
#
# Environment: REPEATS (default 5; the median is quoted). PyBullet, h5py and numpy come from PyPI into a venv
# under build/ (python3 on PATH).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPEATS="${REPEATS:-5}"
CORES="$(nproc)"
cd "$ROOT"
cmake --preset cpu >/dev/null
cmake --build --preset cpu --target sim_replay_bench >/dev/null
VENV="$ROOT/build/bench-venv"
if [[ ! -x "$VENV/bin/python" ]]; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "pybullet==3.2.7" h5py numpy
fi

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $CORES cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
json="$(mktemp)"
trap 'rm -f "$json"' EXIT
build/cpu/bench/sim_replay_bench --benchmark_repetitions="$REPEATS" --benchmark_format=json >"$json"
r2s_1="$("$VENV/bin/python" - "$json" 1 <<'PY'
import json, statistics, sys
runs = [b for b in json.load(open(sys.argv[1]))["benchmarks"]
        if b.get("run_type") == "iteration" and b["threads"] == int(sys.argv[2])]
# steps_per_s is a rate counter: every thread's steps over the run's wall time (Google Benchmark reports
# real_time per iteration, and each thread's one iteration counts, so real_time is not the wall time).
print(statistics.median(b["steps_per_s"] for b in runs))
PY
)"
r2s_n="$("$VENV/bin/python" - "$json" "$CORES" <<'PY'
import json, statistics, sys
runs = [b for b in json.load(open(sys.argv[1]))["benchmarks"]
        if b.get("run_type") == "iteration" and b["threads"] == int(sys.argv[2])]
print(statistics.median(b["steps_per_s"] for b in runs) if runs else "nan")
PY
)"
pb_1="$("$VENV/bin/python" bench/pybullet_tabletop.py --source-dir "$ROOT" --processes 1 --repeats "$REPEATS" 2>/dev/null)"
pb_n="$("$VENV/bin/python" bench/pybullet_tabletop.py --source-dir "$ROOT" --processes "$CORES" --repeats "$REPEATS" 2>/dev/null)"
"$VENV/bin/python" - "$r2s_1" "$r2s_n" "$pb_1" "$pb_n" "$CORES" <<'PY'
import json, sys
r1, rn = float(sys.argv[1]), float(sys.argv[2])
p1, pn = json.loads(sys.argv[3])["median_steps_per_s"], json.loads(sys.argv[4])["median_steps_per_s"]
cores = sys.argv[5]
print(f"{'tabletop, dt 1 ms, 10 iterations':36s} {'real2sim':>12s} {'PyBullet':>12s} {'ratio':>7s}")
print(f"{'steps/s, 1 core':36s} {r1:12.0f} {p1:12.0f} {r1 / p1:7.2f}")
print(f"{'steps/s, all ' + cores + ' cores':36s} {rn:12.0f} {pn:12.0f} {rn / pn:7.2f}")
PY
