#!/usr/bin/python3
"""Prints the table of bench/run_episode_io.sh from episode_io_bench's JSON (--benchmark_out) and the JSON lines of
h5py_episode_io.py. Usage: episode_io_table.py R2S_JSON H5PY_JSONL [R2S_CROSS_JSON]"""

import json
import sys

PAYLOAD_BYTES = 2 * 500 * 480 * 640 * 3 + 4 * 500 * 14 * 8
SECONDS = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}


def r2s_rows(path):
    """(op, file_writer, level) -> row, from the median aggregate, or the one run when there was one."""
    with open(path) as f:
        benchmarks = json.load(f)["benchmarks"]
    runs = {}
    for b in benchmarks:
        name = b["run_name"]  # BM_Read/deflate:4/iterations:1/repeats:3/real_time
        kind, level = name.split("/")[0], int(name.split("/")[1].split(":")[1])
        op, writer = {"BM_Write": ("write", "r2s"), "BM_Read": ("read", "r2s"),
                      "BM_ReadH5pyFile": ("read", "h5py")}[kind]
        if b.get("error_occurred"):
            sys.exit(f"{b['name']}: {b.get('error_message')}")
        key = (op, writer, level)
        unit = SECONDS[b["time_unit"]]
        row = {"wall_s": b["real_time"] * unit, "cpu_s": b["cpu_time"] * unit,
               "file_bytes": round(b["file_MB"] * 1e6), "runs": b.get("repetitions", 1)}
        if b["run_type"] == "aggregate":
            if b["aggregate_name"] == "median":
                runs[key] = row
        elif key not in runs or runs[key].get("single"):
            runs[key] = dict(row, single=True)  # replaced by the median when there is one
    return runs


def h5py_rows(path):
    runs = {}
    with open(path) as f:
        for line in f:
            r = json.loads(line)
            if "impl" not in r:
                continue
            runs[(r["op"], r["file_writer"], r["deflate"])] = {
                "wall_s": PAYLOAD_BYTES / 1e6 / r["median_MBps"], "cpu_s": PAYLOAD_BYTES / 1e6 / r["median_cpu_MBps"],
                "file_bytes": r["file_bytes"], "runs": len(r["runs_s"])}
    return runs


def main():
    ours = r2s_rows(sys.argv[1])
    if len(sys.argv) > 3:
        ours.update(r2s_rows(sys.argv[3]))
    theirs = h5py_rows(sys.argv[2])
    rows = [("r2s", k, v) for k, v in ours.items()] + [("h5py", k, v) for k, v in theirs.items()]
    rows.sort(key=lambda r: (r[1][2], r[1][0] != "write", r[1][1] != r[0], r[0]))
    print(f"{'library':8} {'op':6} {'file by':8} {'deflate':>7} {'MB/s':>8} {'CPU MB/s':>9} {'s':>7} "
          f"{'file MB':>8} {'ratio':>6} {'runs':>4}")
    for library, (op, writer, level), v in rows:
        print(f"{library:8} {op:6} {writer:8} {level:>7} {PAYLOAD_BYTES / 1e6 / v['wall_s']:>8.1f} "
              f"{PAYLOAD_BYTES / 1e6 / v['cpu_s']:>9.1f} {v['wall_s']:>7.2f} {v['file_bytes'] / 1e6:>8.1f} "
              f"{PAYLOAD_BYTES / v['file_bytes']:>6.3f} {v['runs']:>4}")
    print(f"MB/s: {PAYLOAD_BYTES / 1e6:.1f} MB of uncompressed payload / median wall time (10^6 bytes); "
          "CPU MB/s: the same over median process CPU time. 'file by': who wrote the file read.")


if __name__ == "__main__":
    main()
