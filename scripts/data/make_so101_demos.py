"""Writes SYNTHETIC SO-101 pick-and-place demonstrations as a LeRobot dataset with LeRobot's own writer
(LeRobotDataset.create, add_frame, save_episode, finalize), from the arrays tools/make_teleop_demos made by
simulating a scripted teleoperator in scenes/so101_pick_place (see that scene's demos/PROVENANCE.md):

  <clients env>/bin/python make_so101_demos.py NPY_DIR OUT_DIR

NPY_DIR holds demos.json and episode_<i>/ with observation.state.npy and action.npy (float32 [T, 6], LeRobot's
normalized units: -100..100, gripper 0..100), timestamp.npy and one uint8 [T, H, W, 3] array per camera. Only the
demonstrations that placed the cube are written, renumbered from 0 in order. scripts/data/make_so101_demos.sh runs
the whole thing.
"""
import json
import pathlib
import sys

import numpy as np

# LeRobot's SO-101 follower (lerobot/robots/so101_follower): its motors, in its order, and its feature names.
MOTORS = ["shoulder_pan", "shoulder_lift", "elbow_flex", "wrist_flex", "wrist_roll", "gripper"]
CAMERAS = ["front", "wrist"]
TASK = "Pick up the red cube and put it in the box."


def write(npy_dir, out_dir):
    from lerobot.datasets.lerobot_dataset import LeRobotDataset

    npy_dir = pathlib.Path(npy_dir)
    demos = json.loads((npy_dir / "demos.json").read_text())
    kept = [d["episode"] for d in demos if d["success"]]
    if not kept:
        sys.exit("make_so101_demos.py: no demonstration placed the cube")
    first = npy_dir / f"episode_{kept[0]}"
    names = [f"{m}.pos" for m in MOTORS]
    features = {
        "action": {"dtype": "float32", "shape": (len(names),), "names": names},
        "observation.state": {"dtype": "float32", "shape": (len(names),), "names": names},
    }
    cameras = [c for c in CAMERAS if (first / f"{c}.npy").exists()]
    for camera in cameras:
        height, width = np.load(first / f"{camera}.npy", mmap_mode="r").shape[1:3]
        features[f"observation.images.{camera}"] = {
            "dtype": "video", "shape": (height, width, 3), "names": ["height", "width", "channels"]}
    dataset = LeRobotDataset.create(repo_id="real2sim/so101_pick_place_synthetic", fps=30, features=features,
                                    root=out_dir, robot_type="so101_follower", use_videos=True)
    for episode in kept:
        folder = npy_dir / f"episode_{episode}"
        state = np.load(folder / "observation.state.npy")
        action = np.load(folder / "action.npy")
        images = {c: np.load(folder / f"{c}.npy", mmap_mode="r") for c in cameras}
        for t in range(state.shape[0]):
            frame = {"observation.state": state[t], "action": action[t], "task": TASK}
            for camera, frames in images.items():
                frame[f"observation.images.{camera}"] = np.ascontiguousarray(frames[t])
            dataset.add_frame(frame)
        dataset.save_episode()
    dataset.finalize()
    # Where each written demonstration's cube was planted, by the dataset's episode index: the annotation format of
    # `r2s generate --object-poses` (amplify/grasp_inference.h), and the ground truth of what it infers.
    lines = ["# SYNTHETIC: where the scripted teleoperator's cube lay in each episode of this dataset (planted by",
             "# tools/make_teleop_demos): the ground truth of the poses r2s generate infers from the grasp.",
             "episodes:"]
    for index, episode in enumerate(kept):
        demo = demos[episode]
        pose = demo["object_pose"]
        p = ", ".join(f"{v:.6f}" for v in pose["position_m"])
        q = ", ".join(f"{v:.9f}" for v in pose["quaternion_xyzw"])
        lines.append(f"  {index}: {{{demo['object']}: {{position_m: [{p}], quaternion_xyzw: [{q}]}}}}")
    (pathlib.Path(out_dir) / "object_poses.yaml").write_text("\n".join(lines) + "\n")
    print(f"make_so101_demos.py: wrote {len(kept)} of {len(demos)} demonstrations to {out_dir}")


if __name__ == "__main__":
    write(*sys.argv[1:])
