#!/usr/bin/env bash
# Video encode and decode throughput: real2sim's video layer (video_bench) beside LeRobot's own encoder and its
# PyAV decoding path (lerobot_video_peer.py), one after the other in the same job, on the same real frames (the
# first 120 frames of episode 0 of the bundled real G1 LeRobot dataset, 640x480 AV1). bench/README.md quotes it.
#
#   bench/run_video.sh
#
# Environment: REPEATS (default 3; medians are quoted), FRAMES (default 120), BUILD_DIR (default build/release,
# built by scripts/build.sh). LeRobot comes from the cached `clients` environment (scripts/setup_python_env.sh).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPEATS="${REPEATS:-3}"
FRAMES="${FRAMES:-120}"
if [[ -z "${BUILD_DIR:-}" ]]; then
  bash scripts/build.sh >/dev/null
  BUILD_DIR=build/release
fi
cmake --build "$BUILD_DIR" --target video_bench >/dev/null
ENV_DIR="$(bash scripts/setup_python_env.sh clients)"
VIDEO=tests/data/g1_pick_bottle_lerobot/v2.1/videos/chunk-000/observation.images.cam_high/episode_000000.mp4
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/r2s" "$WORK/lerobot"
export SVT_LOG=1  # no SVT-AV1 banner per encoder

echo "== machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$BUILD_DIR/bench/video_bench" --video "$VIDEO" --frames "$FRAMES" --repeats "$REPEATS" --out "$WORK/r2s" >"$WORK/r2s.json"
HF_HUB_OFFLINE=1 "$ENV_DIR/bin/python" bench/lerobot_video_peer.py --video "$VIDEO" --frames "$FRAMES" \
  --repeats "$REPEATS" --out "$WORK/lerobot" 2>/dev/null >"$WORK/lerobot.json"
"$ENV_DIR/bin/python" - "$WORK/r2s.json" "$WORK/lerobot.json" <<'PY'
import json, statistics, sys
r2s, lr = (json.load(open(p)) for p in sys.argv[1:3])
def med(runs, key, i):
    return statistics.median(run[key][i] for run in runs)
n, total = r2s["frames"], r2s["source_frames"]
print(f"{r2s['width']}x{r2s['height']}, {n} frames encoded, {total} decoded; PyAV {lr['pyav']}; medians of "
      f"{len(r2s['runs'])} runs; frames per CPU-second (per core) and per wall second")
print(f"{'':34s} {'real2sim':>20s} {'LeRobot':>20s} {'ratio (CPU)':>12s}")
rows = [("encode AV1 (LeRobot's defaults)", "encode_av1", "encode_av1_lerobot", n),
        ("encode AV1, encoder alone", "encode_av1", "encode_av1_memory", n),
        ("encode H.264", "encode_h264", "encode_h264_lerobot", n),
        ("decode whole episode", "decode_all", "decode_all", total),
        ("decode 50 single frames", "decode_random50", "decode_random50", 50)]
for label, mine, theirs, count in rows:
    mc, mw = count / med(r2s["runs"], mine, 1), count / med(r2s["runs"], mine, 0)
    tc, tw = count / med(lr["runs"], theirs, 1), count / med(lr["runs"], theirs, 0)
    print(f"{label:34s} {mc:8.1f} cpu {mw:7.1f} wall {tc:8.1f} cpu {tw:7.1f} wall {mc / tc:11.2f}x")
print(f"AV1 bytes per frame: real2sim {statistics.median(r['av1_bytes'] for r in r2s['runs']) / n:.0f}, "
      f"LeRobot {statistics.median(r['av1_bytes'] for r in lr['runs']) / n:.0f}")
PY
