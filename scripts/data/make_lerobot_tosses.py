"""Writes a SYNTHETIC LeRobot dataset of the tabletop scene with LeRobot's own writer (LeRobotDataset.create,
add_frame, save_episode), from episodes real2sim generated: the bundled examples of a LeRobot source for
`r2s generate` (scenes/tabletop/lerobot_cube_tosses/ in v3.0 and lerobot_cube_tosses_v21/ in v2.1, see their
PROVENANCE.md).

Two steps, because LeRobot's environment has no h5py and Debian's Python has no LeRobot:
  /usr/bin/python3 make_lerobot_tosses.py export GENERATED.hdf5 EPISODES.npz
  <clients env>/bin/python make_lerobot_tosses.py write EPISODES.npz OUT_DIR
The same `write` with lerobot 0.3.3 first on PYTHONPATH (the clients environment's overlay-v21) writes v2.1.
scripts/data/make_lerobot_tosses.sh runs the whole thing.
"""
import json
import sys

import numpy as np

FEATURES = {
    "observation.object_pose": ["x", "y", "z", "qx", "qy", "qz", "qw"],
    "observation.object_linear_velocity": ["vx", "vy", "vz"],
    "observation.object_angular_velocity_body": ["wx", "wy", "wz"],
}
CAMERA = "observation.images.front"


def export(hdf5_path, npz_path):
    import h5py

    arrays = {}
    with h5py.File(hdf5_path, "r") as f:
        demos = sorted(f["data"].keys(), key=lambda k: int(k.split("_")[1]))
        for i, demo in enumerate(demos):
            obs = f["data"][demo]["obs"]
            for name in FEATURES:
                arrays[f"{i}/{name}"] = obs[name.split(".", 1)[1]][()].astype(np.float32)
            arrays[f"{i}/{CAMERA}"] = obs["front"][()]  # robomimic stores observation.images.front as obs/front
        arrays["episodes"] = np.array(len(demos))
        arrays["fps"] = np.array(json.loads(f["data"].attrs["env_args"])["env_kwargs"].get("control_freq", 148))
    np.savez(npz_path, **arrays)


def write(npz_path, out_dir):
    import lerobot
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    v21 = lerobot.__version__.startswith("0.3.")
    data = np.load(npz_path)
    fps = int(data["fps"])
    height, width = data[f"0/{CAMERA}"].shape[1:3]
    features = {name: {"dtype": "float32", "shape": (len(names),), "names": names} for name, names in FEATURES.items()}
    features[CAMERA] = {"dtype": "video", "shape": (height, width, 3), "names": ["height", "width", "channels"]}
    dataset = LeRobotDataset.create(repo_id="real2sim/tabletop_cube_tosses_synthetic", fps=fps, features=features,
                                    root=out_dir, robot_type="cube_toss", use_videos=True)
    for i in range(int(data["episodes"])):
        frames = data[f"{i}/{CAMERA}"].shape[0]
        for t in range(frames):
            frame = {name: data[f"{i}/{name}"][t] for name in FEATURES}
            frame[CAMERA] = data[f"{i}/{CAMERA}"][t]
            if v21:  # lerobot 0.3.3: the task is an argument
                dataset.add_frame(frame, task="cube_toss")
            else:
                frame["task"] = "cube_toss"
                dataset.add_frame(frame)
        dataset.save_episode()
    if hasattr(dataset, "finalize"):
        dataset.finalize()


if __name__ == "__main__":
    {"export": export, "write": write}[sys.argv[1]](*sys.argv[2:])
