#!/usr/bin/env bash
# Problem 2 (actuators from commanded and measured positions, simulation in the loop) on the BAM XL330 pendulum's
# kp400 logs: real2sim's FitActuators beside SciPy least_squares over PyBullet rollouts, one after the other on one
# machine, with the per-rollout cost and an equivalence check of the two simulators (bench/README.md).
#
#   bench/run_sysid_actuator.sh
#
# Environment: REPEATS (default 3: fits per configuration on each side; the median wall time is quoted, the fits
# themselves are deterministic), MAX_NFEV (default 100: SciPy's max_nfev per fit), WORK_DIR (keep the JSON and CSV
# files there; default a temporary folder, removed at exit). PyBullet, SciPy, h5py and numpy come from PyPI into
# build/bench-venv (python3 on PATH), the venv bench/run_sim_replay.sh also uses.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
REPEATS="${REPEATS:-3}"
MAX_NFEV="${MAX_NFEV:-100}"
cd "$ROOT"
cmake --preset cpu >/dev/null
cmake --build build/cpu --target sysid_actuator_bench >/dev/null
VENV="$ROOT/build/bench-venv"
[[ -x "$VENV/bin/python" ]] || python3 -m venv "$VENV"
if ! "$VENV/bin/python" -c "import h5py, numpy, pybullet, scipy" >/dev/null 2>&1; then
  "$VENV/bin/pip" install -q "pybullet==3.2.7" h5py numpy scipy
fi

if [[ -n "${WORK_DIR:-}" ]]; then
  work="$WORK_DIR"
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi
echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== real2sim: build/cpu/bench/sysid_actuator_bench --repeats=$REPEATS --eight_parameter_threads=1"
build/cpu/bench/sysid_actuator_bench --repeats="$REPEATS" --eight_parameter_threads=1 --json="$work/r2s.json" \
  --trajectory_csv="$work/trajectories.csv"
echo "== SciPy + PyBullet: bench/scipy_pybullet_actuator_fit.py --repeats $REPEATS --max-nfev $MAX_NFEV"
"$VENV/bin/python" bench/scipy_pybullet_actuator_fit.py --source-dir "$ROOT" --r2s-json "$work/r2s.json" \
  --compare-csv "$work/trajectories.csv" --repeats "$REPEATS" --max-nfev "$MAX_NFEV" --json "$work/scipy.json"
echo "== load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
"$VENV/bin/python" - "$work/r2s.json" "$work/scipy.json" <<'PY'
import json, sys
r2s, sp = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
columns = [(f"real2sim {f['threads']} thr" + ("" if f["velocity_limit_fitted"] else " 8 par"), "r2s", f)
           for f in r2s["fits"]]
columns += [(f"SciPy from {f['from']}", "scipy", f) for f in sp["fits"]]
kinds = ["kp", "kd", "effort_limit", "coulomb_friction", "viscous_friction", "armature", "latency_s",
         "position_offset", "velocity_limit"]


def estimate(side, f, k):
    if side == "scipy" and k == "velocity_limit":
        return f["velocity_limit"]  # held
    return f["estimates"].get(k, float("nan"))


rows = [("fit wall s (median)", lambda s, f: f"{f['median_wall_s']:.2f}"),
        ("fit CPU s (median)", lambda s, f: f"{f.get('median_cpu_s', float('nan')):.2f}"),
        ("episode rollouts", lambda s, f: str(f["episode_rollouts"])),
        ("ms per episode rollout", lambda s, f: f"{1e3 * f['median_wall_s'] / f['episode_rollouts']:.2f}"),
        ("train RMS rad", lambda s, f: f"{f['train_rms']:.5f}"),
        ("held-out RMS rad", lambda s, f: f"{f['held_out_rms']:.5f}")]
rows += [(k, lambda s, f, k=k: f"{estimate(s, f, k):.4g}") for k in kinds]
print(f"{'kp400, 3 episodes':24s}" + "".join(f" {c[0]:>20s}" for c in columns))
for label, cell in rows:
    print(f"{label:24s}" + "".join(f" {cell(side, f):>20s}" for _, side, f in columns))
print(f"\none rollout (3 episodes x full length, {r2s['steps_per_rollout']} steps, nominal values): "
      f"real2sim {r2s['rollout_median_s'] * 1e3:.1f} ms, PyBullet {sp['rollout_median_s'] * 1e3:.1f} ms "
      f"(ratio {sp['rollout_median_s'] / r2s['rollout_median_s']:.2f})")
for label, c in sp.get("equivalence", {}).items():
    print(f"PyBullet - real2sim trajectory at the {label} values: RMS {c['rms_rad']:.3g} rad, "
          f"max |diff| {c['max_abs_rad']:.3g} rad")
PY
