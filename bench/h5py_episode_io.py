#!/usr/bin/python3
"""h5py peer of bench/episode_io_bench.cc: the same synthetic ALOHA episode, written and read with h5py.

THE DATA ARE SYNTHETIC (see bench/episode_data.h); generate_* below re-implement SyntheticPixel / SyntheticJoint
bit for bit, and every read is checked against them, so both sides move the same bytes.

Storage matches DatasetWriter: images chunked one frame per chunk (1, 480, 640, 3), gzip (deflate) at the given
level, no shuffle; the float64 columns contiguous; default (earliest) file format. MB/s counts the uncompressed
payload (921.8 MB), in powers of ten. Each measurement is the median of --repeats runs; one JSON object per line.

Run with Debian's /usr/bin/python3 (it has h5py and numpy):
  /usr/bin/python3 bench/h5py_episode_io.py --dir DIR [--levels 1 4] [--repeats 3] [--write-repeats N]
                                            [--r2s-dir DIR2 [--cross-repeats 1]]
writes DIR/h5py_L<level>/episode_0.hdf5 and leaves it there; with --r2s-dir also times h5py reading
DIR2/r2s_L<level>/episode_0.hdf5 (written by episode_io_bench --keep_dir=DIR2). --skip-own times only that.
"""

import argparse
import json
import os
import statistics
import sys
import time

import h5py
import numpy as np

FRAMES, HEIGHT, WIDTH, CHANNELS, JOINTS = 500, 480, 640, 3, 14
CAMERAS = ["cam_high", "cam_low"]  # observation.images.<cam> -> observations/images/<cam>
# JointFeatures order in episode_data.h, as ALOHA stores them.
JOINT_PATHS = ["observations/qpos", "observations/qvel", "observations/effort", "action"]
PAYLOAD_BYTES = 2 * FRAMES * HEIGHT * WIDTH * CHANNELS + 4 * FRAMES * JOINTS * 8


def triangle(v, period):
    m = v % (2 * period)
    return np.where(m < period, m, 2 * period - 1 - m)


def generate_camera(cam):
    """uint8 [T, H, W, C]: SyntheticPixel of episode_data.h, vectorized one frame at a time (about 4 s a camera)."""
    out = np.empty((FRAMES, HEIGHT, WIDTH, CHANNELS), dtype=np.uint8)
    y = np.arange(HEIGHT, dtype=np.int64)
    x = np.arange(WIDTH, dtype=np.int64)
    c = np.arange(CHANNELS, dtype=np.int16)
    yy, xx = y[:, None, None], x[None, :, None]
    checker = (40 + 60 * c[None, None, :] + 50 * (((xx >> 3) + (yy >> 3)) & 1)).astype(np.int16)
    frame_size = HEIGHT * WIDTH * CHANNELS
    # LCG step of the linear index t * frame_size + i, uint32: i * K here, the frame's share added per frame.
    h_base = np.arange(frame_size, dtype=np.uint32).reshape(HEIGHT, WIDTH, CHANNELS) * np.uint32(1664525)
    noise = np.array([-1, 0, 0, 1], dtype=np.int16)
    weight_a, weight_b = (3 + c).astype(np.int16), (5 - c).astype(np.int16)
    value = np.empty((HEIGHT, WIDTH, CHANNELS), dtype=np.int16)
    h = np.empty((HEIGHT, WIDTH, CHANNELS), dtype=np.uint32)
    for t in range(FRAMES):
        # Background: two drifting ramps mixed per channel; values are non-negative, so >> 3 is C++'s / 8.
        a = triangle(x + 3 * t + 97 * cam, 256).astype(np.int16)
        b = triangle(y + 2 * t + 53 * cam, 192).astype(np.int16)
        np.add(a[None, :, None] * weight_a, b[:, None, None] * weight_b, out=value)
        value >>= 3
        # The textured box: |x - cx| < 48 and |y - cy| < 36 (it never leaves the frame).
        cx = 120 + (5 * t + 200 * cam) % 400
        cy = 100 + (3 * t + 150 * cam) % 280
        box = (slice(cy - 35, cy + 36), slice(cx - 47, cx + 48))
        value[box] = checker[box]
        # Noise: -1, 0, 0, +1 from the hash; only 0 can be crossed (values stay <= 233).
        np.add(h_base, np.uint32((t * frame_size * 1664525 + 1013904223 + cam * 0x9E3779B9) & 0xFFFFFFFF), out=h)
        h ^= h >> np.uint32(16)
        h >>= np.uint32(8)
        h &= np.uint32(3)
        value += noise[h]
        np.maximum(value, 0, out=value)
        out[t] = value
    return out


def generate_joints(column):
    t = np.arange(FRAMES, dtype=np.int64)[:, None]
    j = np.arange(JOINTS, dtype=np.int64)[None, :]
    return triangle(t + 7 * j, 100).astype(np.float64) * 0.01 + j.astype(np.float64) * 0.125 + float(column)


def generate_episode():
    data = {f"observations/images/{cam}": generate_camera(k) for k, cam in enumerate(CAMERAS)}
    for k, path in enumerate(JOINT_PATHS):
        data[path] = generate_joints(k)
    return data


def write(path, data, level):
    with h5py.File(path, "w") as f:
        for name, array in data.items():
            if array.ndim == 4:
                f.create_dataset(name, data=array, chunks=(1,) + array.shape[1:], compression="gzip",
                                 compression_opts=level)
            else:
                f.create_dataset(name, data=array)


def read(path):
    out = {}
    with h5py.File(path, "r") as f:
        def visit(name, node):
            if isinstance(node, h5py.Dataset):
                out[name] = node[()]
        f.visititems(visit)
    return out


def warm_page_cache(path):
    """Reads the file, untimed, so the timed reads find it in the page cache (this VM's kernel evicts page cache
    that has gone unused for a minute or two)."""
    with open(path, "rb") as f:
        while f.read(1 << 20):
            pass


def check_same(got, expected, path):
    if sorted(got) != sorted(expected):
        sys.exit(f"{path}: datasets {sorted(got)}, expected {sorted(expected)}")
    for name, array in expected.items():
        if got[name].dtype != array.dtype or got[name].shape != array.shape or not np.array_equal(got[name], array):
            sys.exit(f"{path}: /{name} differs from the generated data")


def timed(fn, repeats):
    """Runs fn `repeats` times; returns (wall seconds per run, CPU seconds per run, the last result)."""
    wall, cpu, result = [], [], None
    for _ in range(repeats):
        result = None  # free the previous run's arrays before the next, untimed
        start, start_cpu = time.perf_counter(), time.process_time()
        result = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return wall, cpu, result


def report(op, file_writer, level, path, wall, cpu):
    size = os.path.getsize(path)
    median, median_cpu = statistics.median(wall), statistics.median(cpu)
    print(json.dumps({
        "impl": "h5py", "op": op, "file_writer": file_writer, "deflate": level,
        "median_MBps": round(PAYLOAD_BYTES / median / 1e6, 2),
        "median_cpu_MBps": round(PAYLOAD_BYTES / median_cpu / 1e6, 2),
        "median_s": round(median, 3), "runs_s": [round(s, 3) for s in wall], "runs_cpu_s": [round(s, 3) for s in cpu],
        "file_bytes": size, "ratio": round(PAYLOAD_BYTES / size, 3),
    }), flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", required=True, help="where h5py's files go (left there)")
    parser.add_argument("--levels", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write-repeats", type=int, help="runs of each write (default: --repeats)")
    parser.add_argument("--cross-repeats", type=int, default=1, help="runs of each read of an r2s file")
    parser.add_argument("--r2s-dir", help="folder holding r2s_L<level>/episode_0.hdf5 from episode_io_bench")
    parser.add_argument("--skip-own", action="store_true", help="only read the r2s files")
    args = parser.parse_args()

    start = time.perf_counter()
    data = generate_episode()
    print(json.dumps({"note": "generated synthetic episode", "seconds": round(time.perf_counter() - start, 1),
                      "h5py": h5py.version.version, "hdf5": h5py.version.hdf5_version,
                      "numpy": np.__version__}), flush=True)
    for level in args.levels:
        if not args.skip_own:
            folder = os.path.join(args.dir, f"h5py_L{level}")
            os.makedirs(folder, exist_ok=True)
            path = os.path.join(folder, "episode_0.hdf5")
            wall, cpu, _ = timed(lambda: write(path, data, level), args.write_repeats or args.repeats)
            report("write", "h5py", level, path, wall, cpu)
            warm_page_cache(path)
            wall, cpu, got = timed(lambda: read(path), args.repeats)
            check_same(got, data, path)
            report("read", "h5py", level, path, wall, cpu)
            del got
        if args.r2s_dir:
            path = os.path.join(args.r2s_dir, f"r2s_L{level}", "episode_0.hdf5")
            if not os.path.exists(path):
                print(json.dumps({"note": f"no r2s file {path}"}), flush=True)
                continue
            warm_page_cache(path)
            wall, cpu, got = timed(lambda: read(path), args.cross_repeats)
            check_same(got, data, path)
            report("read", "r2s", level, path, wall, cpu)
            del got


if __name__ == "__main__":
    main()
