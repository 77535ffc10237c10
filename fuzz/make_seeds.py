#!/usr/bin/env python3
"""Writes the seed inputs of the four fuzz harnesses from files bundled in the repository (fuzz/README.md).

Usage: fuzz/make_seeds.py OUT_DIR    (run from anywhere; makes OUT_DIR/<harness>/...)

The seeds are what the fuzzers start from; fuzz/corpus/<harness>/ holds the minimized corpus a run grew from them.
"""
import json
import os
import pathlib
import shutil
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
MARKER = b"@r2s-file "  # fuzz_support.h: the LeRobot harness's multi-file input


def join_files(files):
    out = b""
    for path, data in files:
        if out:
            out += b"\n"
        out += MARKER + path.encode() + b"\n" + data
    return out


def without_video(info_bytes):
    """info.json without its video features: the harness does not decode video."""
    info = json.loads(info_bytes)
    info["features"] = {k: v for k, v in info["features"].items() if v.get("dtype") != "video"}
    return json.dumps(info, indent=1).encode()


def pack_lerobot(dataset, episodes=None, extra=()):
    """The dataset's files but its videos and statistics; `episodes` keeps only those v2.1 episode files."""
    files = []
    for path in sorted(dataset.rglob("*")):
        rel = path.relative_to(dataset).as_posix()
        if not path.is_file() or rel.startswith("videos/") or "stats" in rel or not rel.startswith(("meta/", "data/")):
            continue
        data = path.read_bytes()
        if rel == "meta/info.json":
            info = json.loads(without_video(data))
            if episodes is not None:
                info["total_episodes"] = len(episodes)
                info["total_frames"] = None  # filled below
                info["splits"] = {"train": f"0:{len(episodes)}"}
            data = json.dumps(info, indent=1).encode()
        if episodes is not None:
            if rel.startswith("data/") and not any(rel.endswith(f"episode_{e:06d}.parquet") for e in episodes):
                continue
            if rel == "meta/episodes.jsonl":
                lines = [l for l in data.decode().splitlines() if json.loads(l)["episode_index"] in episodes]
                data = ("\n".join(lines) + "\n").encode()
        files.append((rel, data))
    if episodes is not None:
        kept = [json.loads(l) for f, d in files if f == "meta/episodes.jsonl" for l in d.decode().splitlines()]
        for i, (f, d) in enumerate(files):
            if f == "meta/info.json":
                info = json.loads(d)
                info["total_frames"] = sum(e["length"] for e in kept)
                files[i] = (f, json.dumps(info, indent=1).encode())
    return join_files(files + list(extra))


# What real2sim adds to the LeRobot datasets it writes (episode/lerobot/writer.cc): meta/real2sim.json (side streams:
# here one whose file is missing, so nothing is decoded) and meta/provenance.jsonl.
REAL2SIM_META = [
    ("meta/real2sim.json", json.dumps({"format": "real2sim.lerobot/1", "side_streams": [
        {"feature": "observation.depth.front", "dtype": "float32", "shape": [48, 64], "unit": "m", "scale": 0.001,
         "path": "side/{feature}/chunk-{chunk_index:03d}/episode_{episode_index:06d}.mkv"}]}).encode()),
    ("meta/provenance.jsonl", b"".join(json.dumps({"episode_index": i, "provenance": {"seed": i, "source_episode": i}}).encode() + b"\n"
                                       for i in range(3))),
]


PARAMS = {
    "doc_example.yaml": """format: real2sim.params/1
scene: panda_sysid
parameters:
  - {name: robot.panda_joint1.coulomb_friction, estimate: 0.51, std: 0.02, lower: 0.0, upper: 5.0, identified: true}
covariance: {names: [robot.panda_joint1.coulomb_friction], matrix: [[0.0004]]}
metrics: {rms_panda_joint1: 0.4}
""",
    "pendulum_joint.yaml": """format: real2sim.params/1
scene: xl330_pendulum
parameters:
  - {name: robot.pendulum.kp, estimate: 1.2, std: 0.1, lower: 0.0, upper: 10.0, identified: true}
  - {name: robot.pendulum.kd, estimate: 0.01, std: .nan, identified: false}
  - {name: robot.pendulum.effort_limit, estimate: 0.5}
  - {name: robot.pendulum.velocity_limit, estimate: 10.0}
  - {name: robot.pendulum.latency_s, estimate: 0.004, lower: 0, upper: .inf}
  - {name: robot.pendulum.coulomb_friction, estimate: 0.02}
  - {name: robot.pendulum.viscous_friction, estimate: 0.03}
  - {name: robot.pendulum.damping, estimate: 0.0}
  - {name: robot.pendulum.armature, estimate: 0.002}
covariance:
  names: [robot.pendulum.kp, robot.pendulum.coulomb_friction]
  matrix: [[0.01, 0.001], [0.001, 0.0004]]
metrics: {rms_pendulum: 0.01, iterations: 12}
""",
    "pendulum_link.yaml": """format: real2sim.params/1
scene: xl330_pendulum
parameters:
  - {name: robot.arm.mass_kg, estimate: 0.5}
  - {name: robot.arm.com_x_m, estimate: 0.1}
  - {name: robot.arm.com_y_m, estimate: 0.0}
  - {name: robot.arm.com_z_m, estimate: -0.01}
  - {name: robot.arm.ixx_kgm2, estimate: 0.0001}
  - {name: robot.arm.iyy_kgm2, estimate: 0.0002}
  - {name: robot.arm.izz_kgm2, estimate: 0.0002}
  - {name: robot.arm.ixy_kgm2, estimate: 0.0}
  - {name: robot.arm.ixz_kgm2, estimate: 0.0}
  - {name: robot.arm.iyz_kgm2, estimate: 0.0}
  - {name: robot.servo.mass_kg, estimate: 0.02}
""",
    "cube_object.yaml": """format: real2sim.params/1
scene: cube_toss
parameters:
  - {name: objects.cube.mass_kg, estimate: 0.4, std: 0.01}
  - {name: objects.cube.lateral_friction, estimate: 0.2, lower: 0, upper: 2}
  - {name: objects.cube.rolling_friction, estimate: 0.0001}
  - {name: objects.cube.spinning_friction, estimate: 0.001}
  - {name: objects.cube.restitution, estimate: 0.1, identified: false}
covariance: {names: [objects.cube.mass_kg, objects.cube.restitution], matrix: [[1e-4, 0], [0, 1e-3]]}
metrics: {rms_position_m: 0.003}
""",
}


def main(out):
    out = pathlib.Path(out)
    for harness in ("hdf5_reader", "lerobot_reader", "scene_loader", "params_yaml"):
        (out / harness).mkdir(parents=True, exist_ok=True)
    # HDF5: the hostile mutants (libhdf5 crashes and hangs on them; the reader must refuse them) and their base, a
    # real servo log (ALOHA-style one file per episode).
    for f in sorted((ROOT / "tests/data/hdf5_mutants").glob("*.hdf5")):
        shutil.copy(f, out / "hdf5_reader" / f.name)
    shutil.copy(ROOT / "scenes/xl330_pendulum/episodes/kp100/episode_0.hdf5", out / "hdf5_reader/xl330_kp100_episode_0.hdf5")
    # LeRobot: the bundled cube tosses (v3.0 and v2.1) and one episode of the real G1 dataset (v2.1), no videos.
    (out / "lerobot_reader/cube_tosses_v30").write_bytes(pack_lerobot(ROOT / "scenes/tabletop/lerobot_cube_tosses"))
    (out / "lerobot_reader/cube_tosses_v21").write_bytes(pack_lerobot(ROOT / "scenes/tabletop/lerobot_cube_tosses_v21"))
    (out / "lerobot_reader/cube_tosses_v21_real2sim_meta").write_bytes(
        pack_lerobot(ROOT / "scenes/tabletop/lerobot_cube_tosses_v21", extra=REAL2SIM_META))
    (out / "lerobot_reader/g1_pick_bottle_v21_episode_1").write_bytes(
        pack_lerobot(ROOT / "tests/data/g1_pick_bottle_lerobot/v2.1", episodes=[1]))
    # Scenes: every bundled scene.yaml.
    for f in sorted(list((ROOT / "scenes").glob("*/scene.yaml")) + [ROOT / "tests/fixtures/pick_place/scene.yaml"]):
        shutil.copy(f, out / "scene_loader" / (f.parent.name + ".yaml"))
    # params.yaml: the documented example and one file per kind of name.
    for name, text in PARAMS.items():
        (out / "params_yaml" / name).write_text(text)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
