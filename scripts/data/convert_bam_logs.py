#!/usr/bin/env python3
"""Converts the real BAM XL330 pendulum logs (../shared/data/bam_servo_friction/xl330_logs/raw/*.json) into
ALOHA-layout HDF5 episodes that `r2s replay` and `r2s sysid` read: one folder per firmware P gain, one file per
trajectory (episode_0 sin_sin, episode_1 up_and_down, episode_2 sin_time_square).

Values are unchanged except:
  - the Present PWM register ("load"), logged as a raw uint16, is stored as the signed int16 it encodes
    (65534 -> -2);
  - the lift_and_drop logs are left out: they switch the torque off and on (torque_enable), which the scene's
    actuator model cannot express (a powered-off servo has neither drive torque nor back-EMF braking).
Timestamps keep the log's own clock (seconds, irregular: about 188 Hz with jitter), so no fps is declared.
Run with Debian's python3 (h5py, numpy):
    /usr/bin/python3 scripts/data/convert_bam_logs.py RAW_DIR OUT_DIR
"""
import argparse
import json
import pathlib

import h5py
import numpy as np

TRAJECTORIES = ["sin_sin", "up_and_down", "sin_time_square"]  # episode order within a gain's folder


def signed16(values):
    v = np.asarray(values, dtype=np.int64)
    return np.where(v >= 32768, v - 65536, v)


def write_episode(log, source_name, path):
    e = log["entries"]
    assert all(x["torque_enable"] for x in e), f"{source_name} switches the torque off"
    column = lambda key: np.array([x[key] for x in e], dtype=np.float64)
    t = column("timestamp")
    assert np.all(np.diff(t) > 0), f"{source_name}: timestamps are not increasing"
    with h5py.File(path, "w") as f:
        f.attrs["robot_type"] = "xl330_pendulum"
        f.attrs["task"] = log["trajectory"]
        f.attrs["sim"] = False
        f.attrs["source"] = ("Rhoban/bam data.bak/raw/" + source_name +
                             " at commit 0b0c5b4115e4d2cbdc178b1bc9f349724ba06837, Apache-2.0")
        f.attrs["firmware_kp"] = log["kp"]
        f.attrs["supply_voltage_v"] = log["vin"]
        f.attrs["end_mass_kg"] = log["mass"]
        f.attrs["length_m"] = log["length"]
        f.attrs["motor"] = log["motor"]
        d = f.create_dataset("timestamp", data=t)
        d.attrs["unit"] = "s (the logging computer's clock, irregular)"
        d = f.create_dataset("action", data=column("goal_position")[:, None])
        d.attrs["unit"] = "rad"
        d.attrs["names"] = json.dumps(["goal_position"])
        obs = f.create_group("observations")
        d = obs.create_dataset("qpos", data=column("position")[:, None])
        d.attrs["unit"] = "rad (4096 counts per turn)"
        d.attrs["names"] = json.dumps(["position"])
        d = obs.create_dataset("qvel", data=column("speed")[:, None])
        d.attrs["unit"] = "rad/s (the servo's own estimate)"
        d.attrs["names"] = json.dumps(["speed"])
        d = obs.create_dataset("present_pwm", data=signed16([x["load"] for x in e]).astype(np.float64)[:, None])
        d.attrs["unit"] = "XL330 Present PWM register (signed counts, 885 = full duty)"
        d = obs.create_dataset("input_voltage", data=column("input_volts")[:, None])
        d.attrs["unit"] = "V"
        d = obs.create_dataset("temperature", data=column("temp")[:, None])
        d.attrs["unit"] = "degC"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("raw_dir")
    parser.add_argument("out_dir")
    args = parser.parse_args()
    logs = {}
    for path in sorted(pathlib.Path(args.raw_dir).glob("*.json")):
        log = json.loads(path.read_text())
        logs[(log["kp"], log["trajectory"])] = (log, path.name)
    out = pathlib.Path(args.out_dir)
    for kp in sorted({kp for kp, _ in logs}):
        folder = out / f"kp{kp}"
        folder.mkdir(parents=True, exist_ok=True)
        for i, trajectory in enumerate(TRAJECTORIES):
            log, name = logs[(kp, trajectory)]
            write_episode(log, name, folder / f"episode_{i}.hdf5")


if __name__ == "__main__":
    main()
