# Sourced by the end-to-end benchmark scripts (bench/run_generate.sh, bench/run_cpu_share.sh): the repository root
# as the working folder, the r2s binary of BUILD_DIR (default build/release; built by scripts/build.sh when
# missing) in $r2s, and the machine line every report starts with.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
BUILD_DIR="${BUILD_DIR:-build/release}"
if [[ ! -x "$BUILD_DIR/cli/r2s" ]]; then bash scripts/build.sh; fi
r2s="$BUILD_DIR/cli/r2s"

machine_line() {
  echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
}
