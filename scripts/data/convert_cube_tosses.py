#!/usr/bin/env python3
"""Converts the real ContactNets cube tosses (../shared/data/cube_toss_contactnets/cube_tosses.csv) into a
robomimic-layout HDF5 dataset that `r2s replay` and the sysid tools read: one demo per toss.

Values are unchanged except:
  - the quaternion is reordered from (w, x, y, z) to real2sim's (x, y, z, w);
  - only the first N tosses are kept (default 100), to keep the repository small.
Positions stay in the board frame (z up, the board surface at z = 0); the tabletop scene puts its table top
there. Run with Debian's python3 (h5py, numpy):
    /usr/bin/python3 scripts/data/convert_cube_tosses.py CSV OUT.hdf5 [--tosses N]
"""
import argparse
import json

import h5py
import numpy as np

FPS = 148.0  # experiment_params_scaled.json: dt = 1/148 s


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("csv")
    parser.add_argument("out")
    parser.add_argument("--tosses", type=int, default=100)
    args = parser.parse_args()

    rows = np.genfromtxt(args.csv, delimiter=",", names=True)
    with h5py.File(args.out, "w") as f:
        data = f.create_group("data")
        data.attrs["env_args"] = json.dumps({
            "env_name": "cube_toss",
            "type": 0,
            "env_kwargs": {"robots": "none", "control_freq": FPS},
            "source": "ContactNets real cube tosses (DAIRLab/contact-nets c3dc21c), BSD-3-Clause",
        })
        total = 0
        for toss in range(args.tosses):
            r = rows[rows["toss_id"] == toss]
            r = r[np.argsort(r["step"])]
            assert np.all(np.diff(r["step"]) == 1), f"toss {toss} has missing steps"
            demo = data.create_group(f"demo_{toss}")
            demo.attrs["num_samples"] = len(r)
            demo.attrs["real"] = True
            obs = demo.create_group("obs")
            pose = np.stack([r["x_m"], r["y_m"], r["z_m"], r["qx"], r["qy"], r["qz"], r["qw"]], axis=1)
            d = obs.create_dataset("object_pose", data=pose)
            d.attrs["unit"] = "m, quaternion xyzw"
            d.attrs["names"] = json.dumps(["x", "y", "z", "qx", "qy", "qz", "qw"])
            d = obs.create_dataset("object_linear_velocity",
                                   data=np.stack([r["vx_mps"], r["vy_mps"], r["vz_mps"]], axis=1))
            d.attrs["unit"] = "m/s, board frame, finite differences low-pass filtered at source"
            d = obs.create_dataset("object_angular_velocity_body",
                                   data=np.stack([r["wx_radps_body"], r["wy_radps_body"], r["wz_radps_body"]], axis=1))
            d.attrs["unit"] = "rad/s, cube body frame"
            total += len(r)
        data.attrs["total"] = total


if __name__ == "__main__":
    main()
