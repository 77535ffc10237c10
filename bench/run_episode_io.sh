#!/usr/bin/env bash
# Episode I/O throughput, real2sim beside h5py, in one job on one machine (bench/README.md).
#
#   bench/run_episode_io.sh            # build, run both, print the table
#
# Environment:
#   REPEATS        runs per read figure (default 3); the median is quoted
#   WRITE_REPEATS  runs per write figure (default 2, the median of 2 being their mean): writes are the slow part
#   CROSS_REPEATS  runs of each read of the other library's file (default 1)
#   LEVELS         image deflate levels (default "1 4"; 4 is h5py's gzip default)
#   PYTHON         a Python with h5py and numpy (default Debian's /usr/bin/python3)
#   WORK_DIR       where the files go (default a fresh folder under $TMPDIR, removed afterwards)
# Takes about 5 minutes on 2 cores: every run moves 921.8 MB through deflate, and the two libraries run one after
# the other, never at the same time.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PYTHON="${PYTHON:-/usr/bin/python3}"
REPEATS="${REPEATS:-3}"
WRITE_REPEATS="${WRITE_REPEATS:-2}"
CROSS_REPEATS="${CROSS_REPEATS:-1}"
LEVELS="${LEVELS:-1 4}"
if [[ -n "${WORK_DIR:-}" ]]; then
  mkdir -p "$WORK_DIR"
  WORK="$WORK_DIR"
else
  WORK="$(mktemp -d "${TMPDIR:-/tmp}/r2s_episode_io.XXXXXX")"
  trap 'rm -rf "$WORK"' EXIT
fi

cd "$ROOT"
cmake --preset cpu >/dev/null
cmake --build --preset cpu --target episode_io_bench
BENCH="$ROOT/build/cpu/bench/episode_io_bench"

filter="deflate:($(echo "$LEVELS" | sed 's/ \+/|/g'))/"
started=$(date +%s)
load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
echo "== r2s: write and read (files kept for h5py)"
"$BENCH" --keep_dir="$WORK" --repeats="$REPEATS" --write_repeats="$WRITE_REPEATS" \
  --benchmark_filter="^BM_(Write|Read)/$filter" --benchmark_display_aggregates_only=true --benchmark_out="$WORK/r2s.json" --benchmark_out_format=json
echo "== h5py: write and read, then read the files r2s wrote"
# shellcheck disable=SC2086
"$PYTHON" bench/h5py_episode_io.py --dir "$WORK" --levels $LEVELS --repeats "$REPEATS" \
  --write-repeats "$WRITE_REPEATS" --r2s-dir "$WORK" --cross-repeats "$CROSS_REPEATS" | tee "$WORK/h5py.jsonl"
echo "== r2s: read the files h5py wrote"
"$BENCH" --keep_dir="$WORK" --h5py_dir="$WORK" --cross_repeats="$CROSS_REPEATS" \
  --benchmark_filter="^BM_ReadH5pyFile/$filter" --benchmark_out="$WORK/r2s_cross.json" --benchmark_out_format=json
finished=$(date +%s)

echo
echo "== episode I/O: 500 frames, 2 x uint8 [480, 640, 3] + 4 x float64 [14] (synthetic)"
echo "command: bench/run_episode_io.sh (REPEATS=$REPEATS WRITE_REPEATS=$WRITE_REPEATS CROSS_REPEATS=$CROSS_REPEATS" \
  "LEVELS=\"$LEVELS\")"
echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(uname -sr)"
echo "hdf5: $("$PYTHON" -c 'import h5py; print(h5py.version.hdf5_version, "(h5py", h5py.version.version + ")")')," \
  "files in $WORK ($(df -T "$WORK" | awk 'NR==2 {print $2}')), warm page cache"
echo "load average (1/5/15 min) at start: $load_start, at end: $(cut -d' ' -f1-3 /proc/loadavg);" \
  "benchmark time $((finished - started)) s"
"$PYTHON" bench/episode_io_table.py "$WORK/r2s.json" "$WORK/h5py.jsonl" "$WORK/r2s_cross.json"
