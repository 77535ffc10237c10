#!/usr/bin/env python3
"""The SciPy + PyBullet peer of bench/sysid_actuator_bench.cc: problem 2 (actuators from commanded and measured
positions, simulation in the loop) on scenes/xl330_pendulum and its kp400 episodes, fitted with
scipy.optimize.least_squares over PyBullet rollouts of the same URDF.

The rollout is sysid/actuator_fit.cc's (sim::World's actuator model, sim/actuator.cc), rebuilt with PyBullet calls:
  - a fresh world per episode (one DIRECT client, resetSimulation + loadURDF: 1.4 ms), the scene's time step, solver
    iterations and gravity, the URDF with its own inertials (URDF_USE_INERTIA_FROM_FILE), no link damping;
  - frame i at its timestamp (from the first frame) rounded to the physics step, frame i's command held until
    frame i + 1, the joint starting at the first measured position (+ the encoder offset) and velocity;
  - every step: the command delayed by latency_s (between whole steps: the blend (1 - f) C(t - n dt) + f C(t - (n + 1)
    dt) of the two bracketing whole-step delays), then
    torque = clip(kp (q* - q) + kd (0 - qd), +-effort_limit), zeroed when it pushes beyond +-velocity_limit,
    minus (viscous_friction + damping) qd, applied with TORQUE_CONTROL;
  - Coulomb friction as a velocity-0 joint motor whose force is bounded by coulomb_friction (VELOCITY_CONTROL,
    targetVelocity 0, velocityGain 1: btMultiBodyJointMotor's defaults, as sim::World builds it); that call sets
    PyBullet's default joint motor, so with coulomb_friction 0 it is the usual force=0 that disables it;
  - armature added to the link's local inertia about the joint axis (changeDynamics localInertiaDiagonal), as
    sim::World adds armature * axis axis^T to the link's inertia;
  - the encoder offset o: start at q_measured + o, commands + o, compared as q_simulated - o.

The fit: the eight parameters kp, kd, effort_limit, latency_s, coulomb_friction, viscous_friction, armature and
position_offset (velocity_limit and damping held), with real2sim's default bounds (computed here as FitActuators
computes them, or read from the C++ bench's JSON), residuals simulated minus measured position on every fitted
frame after the first, the first 70 % of each episode fitted (sysid HeldOutSplit). least_squares(method="trf",
jac="3-point", diff_step=1e-2) runs on x / s with s = 1 % of each bound range, so that SciPy's step,
diff_step * max(1, |x / s|) s, is real2sim's 1e-2 * max(|x|, 1 % of the range) (sysid/sim_fit.cc); x_scale="jac"
stands for Ceres's Jacobi scaling; ftol 1e-8 and xtol 1e-6 are Ceres's function and parameter tolerances there
(Ceres stops each solve at 30 iterations, SciPy here at --max-nfev evaluations, Jacobians not counted).

    python scipy_pybullet_actuator_fit.py --source-dir DIR [--r2s-json FILE] [--starts nominal,r2s]
        [--max-nfev N] [--repeats N] [--compare-csv FILE] [--rollout-repeats N] [--json FILE]

--r2s-json: the C++ bench's JSON (its bounds are checked against ours, and the "r2s" start takes the estimates of
its first fit, velocity_limit included, which is then held there); --compare-csv: the C++ bench's trajectory CSV:
replays its nominal, fitted and probe values here and reports the RMS difference between the two simulators'
trajectories. Progress and the tables go to stdout, the figures to --json.
"""
import argparse
import glob
import json
import math
import re
import statistics
import time

import h5py
import numpy as np
import pybullet as p
from scipy.optimize import least_squares

FITTED = ["kp", "kd", "effort_limit", "latency_s", "coulomb_friction", "viscous_friction", "armature",
          "position_offset"]
HELD_OUT_FRACTION = 0.3
TIME_TOLERANCE_S = 1e-9  # sim/actuator.cc's tolerance on whole-step latencies


def read_scene(source_dir):
    """The few scene.yaml values the rollout needs (PyYAML is not in the venv; the file's layout is simple)."""
    text = open(source_dir + "/scenes/xl330_pendulum/scene.yaml").read()
    dt = float(re.search(r"time_step_s:\s*([0-9.eE+-]+)", text).group(1))
    iterations = int(re.search(r"solver_iterations:\s*(\d+)", text).group(1))
    gravity = [float(g) for g in re.search(r"gravity_mps2:\s*\[([^\]]*)\]", text).group(1).split(",")]
    base = [float(v) for v in re.search(r"position_m:\s*\[([^\]]*)\]", text).group(1).split(",")]
    block = re.search(r"pendulum:\s*\{([^}]*)\}", text).group(1)
    nominal = {"kd": 0.0, "effort_limit": math.inf, "velocity_limit": math.inf, "latency_s": 0.0,
               "coulomb_friction": 0.0, "viscous_friction": 0.0, "damping": 0.0, "armature": 0.0}
    for item in block.split(","):
        key, value = item.split(":")
        nominal[key.strip()] = float(value)
    nominal["position_offset"] = 0.0
    return {"dt": dt, "iterations": iterations, "gravity": gravity, "base": base, "nominal": nominal,
            "urdf": source_dir + "/scenes/xl330_pendulum/robot/pendulum.urdf"}


def read_episodes(source_dir, dt):
    episodes = []
    # DatasetReader's order: episode_0, episode_1, ... (three of them in kp400).
    paths = glob.glob(f"{source_dir}/scenes/xl330_pendulum/episodes/kp400/episode_*.hdf5")
    for path in sorted(paths, key=lambda s: int(re.search(r"episode_(\d+)\.hdf5$", s).group(1))):
        with h5py.File(path, "r") as f:
            t = np.asarray(f["timestamp"][:], dtype=float)
            q_cmd = np.asarray(f["action"][:, 0], dtype=float)
            q_meas = np.asarray(f["observations/qpos"][:, 0], dtype=float)
            qd_meas = np.asarray(f["observations/qvel"][:, 0], dtype=float)
        time_s = t - t[0]
        frames = len(t)
        # std::llround rounds halves away from zero, numpy's round to even: floor(x + 0.5) for x >= 0.
        step_of = np.floor(time_s / dt + 0.5).astype(np.int64)
        split = frames - int(math.floor(frames * HELD_OUT_FRACTION))
        episodes.append({"time_s": time_s, "step_of": step_of, "q_cmd": q_cmd, "q_meas": q_meas, "qd_meas": qd_meas,
                         "frames": frames, "split": split})
    return episodes


class Pendulum:
    """A PyBullet client that runs episodes with given actuator values, one fresh world per episode."""

    def __init__(self, scene):
        self.scene = scene
        self.client = p.connect(p.DIRECT)
        self.rollouts = 0  # episodes simulated
        self.steps = 0

    def _build(self, armature, coulomb):
        c, s = self.client, self.scene
        p.resetSimulation(physicsClientId=c)
        p.setPhysicsEngineParameter(fixedTimeStep=s["dt"], numSolverIterations=s["iterations"], physicsClientId=c)
        p.setGravity(*s["gravity"], physicsClientId=c)
        robot = p.loadURDF(s["urdf"], basePosition=s["base"], useFixedBase=True, flags=p.URDF_USE_INERTIA_FROM_FILE,
                           physicsClientId=c)
        p.changeDynamics(robot, -1, linearDamping=0, angularDamping=0, physicsClientId=c)
        info = p.getDynamicsInfo(robot, 0, physicsClientId=c)
        axis = np.asarray(p.getJointInfo(robot, 0, physicsClientId=c)[13], dtype=float)
        # The URDF's inertial frame is unrotated and the axis one of its axes, so armature * axis axis^T stays
        # diagonal there: add it to the diagonal entry of the axis.
        diagonal = np.asarray(info[2], dtype=float) + armature * axis * axis
        p.changeDynamics(robot, 0, localInertiaDiagonal=diagonal.tolist(), jointDamping=0, physicsClientId=c)
        # The default velocity motor becomes the Coulomb friction motor (force 0: none).
        p.setJointMotorControl2(robot, 0, p.VELOCITY_CONTROL, targetVelocity=0, force=coulomb, positionGain=0,
                                velocityGain=1, physicsClientId=c)
        return robot

    def inertia(self, armature):
        """The joint's effective inertia at rest, as sim::RigidBodyDynamics::MassMatrix gives it (armature included),
        for the default bounds."""
        robot = self._build(0.0, 0.0)
        mass, _, diagonal, com = p.getDynamicsInfo(robot, 0, physicsClientId=self.client)[:4]
        axis = np.asarray(p.getJointInfo(robot, 0, physicsClientId=self.client)[13], dtype=float)
        com = np.asarray(com, dtype=float)
        perpendicular = com - axis * axis.dot(com)
        return mass * perpendicular.dot(perpendicular) + float(np.dot(diagonal, axis * axis)) + armature

    def run(self, v, ep, end):
        """Simulated positions of frames [0, end) of an episode, in measured coordinates."""
        c = self.client
        dt = self.scene["dt"]
        robot = self._build(v["armature"], v["coulomb_friction"])
        off = v["position_offset"]
        step_of = ep["step_of"]
        last_step = int(step_of[end - 1])
        # The command current at each step before its delay: frame i's from step_of[i] on (a later frame on the same
        # step replaces it), the first one before anything was sent.
        frame_at = np.searchsorted(step_of, np.arange(last_step), side="right") - 1
        command = ep["q_cmd"][frame_at] + off
        steps = v["latency_s"] / dt
        nearest = math.floor(steps + 0.5)
        if abs(steps - nearest) * dt > TIME_TOLERANCE_S:
            whole = math.floor(steps)
            f = steps - whole
            k = np.arange(last_step)
            delayed = (1 - f) * command[np.maximum(k - whole, 0)] + f * command[np.maximum(k - whole - 1, 0)]
        else:
            delayed = command[np.maximum(np.arange(last_step) - nearest, 0)]
        delayed = delayed.tolist()
        kp, kd, limit, vlim = v["kp"], v["kd"], v["effort_limit"], v["velocity_limit"]
        viscous = v["viscous_friction"] + v["damping"]
        p.resetJointState(robot, 0, ep["q_meas"][0] + off, ep["qd_meas"][0], physicsClientId=c)
        q_out = np.empty(end)
        q_out[0] = p.getJointState(robot, 0, physicsClientId=c)[0] - off
        get_state, set_control, step, torque_control = p.getJointState, p.setJointMotorControl2, p.stepSimulation, \
            p.TORQUE_CONTROL
        k = 0
        for i in range(end - 1):
            for _ in range(int(step_of[i + 1] - step_of[i])):
                q, qd = get_state(robot, 0, physicsClientId=c)[:2]
                tau = kp * (delayed[k] - q) - kd * qd
                tau = min(max(tau, -limit), limit)
                if (qd >= vlim and tau > 0) or (qd <= -vlim and tau < 0):
                    tau = 0.0
                tau -= viscous * qd
                set_control(robot, 0, torque_control, force=tau, physicsClientId=c)
                step(physicsClientId=c)
                k += 1
            q_out[i + 1] = get_state(robot, 0, physicsClientId=c)[0] - off
        self.rollouts += 1
        self.steps += last_step
        return q_out


def default_bounds(scene, episodes, inertia):
    """FitActuators' default bounds (sysid/actuator_fit.h) for the fitted parameters."""
    x0 = scene["nominal"]
    kp0 = x0["kp"]
    demand = max(float(np.max(np.abs(kp0 * (ep["q_cmd"][:ep["split"]] - ep["q_meas"][:ep["split"]]))))
                 for ep in episodes)
    periods = np.sort(np.concatenate([np.diff(ep["time_s"]) for ep in episodes]))
    period = periods[len(periods) // 2]  # std::nth_element at size / 2, as the C++
    critical = 2 * math.sqrt(kp0 * inertia)
    return {
        "kp": (kp0 / 10, 10 * kp0),
        "kd": (0.0, max(10 * x0["kd"], 2 * critical)),
        "viscous_friction": (0.0, max(10 * x0["viscous_friction"], 2 * critical)),
        "coulomb_friction": (0.0, max(10 * x0["coulomb_friction"], 0.5 * min(demand, x0["effort_limit"]))),
        "armature": (0.0, max(10 * x0["armature"], 2 * inertia)),
        "effort_limit": (x0["effort_limit"] / 5, 5 * x0["effort_limit"]),
        "latency_s": (0.0, max(10 * period, 2 * x0["latency_s"])),
        "position_offset": (-0.1, 0.1),
    }


def rms(a):
    return float(math.sqrt(np.mean(np.square(a)))) if len(a) else float("nan")


def fit(sim, episodes, bounds, start, held, max_nfev, repeats):
    """least_squares from `start` (the fitted parameters; `held` the rest), `repeats` times (it is deterministic:
    only the time varies). Returns a record for the table."""
    lower = np.array([bounds[k][0] for k in FITTED])
    upper = np.array([bounds[k][1] for k in FITTED])
    scale = 0.01 * (upper - lower)
    u0 = np.clip(np.array([start[k] for k in FITTED]), lower, upper) / scale

    def values(u):
        v = dict(held)
        v.update(zip(FITTED, (u * scale).tolist()))
        return v

    def residuals(u):
        v = values(u)
        return np.concatenate([sim.run(v, ep, ep["split"])[1:] - ep["q_meas"][1:ep["split"]] for ep in episodes])

    walls, cpus = [], []
    for _ in range(repeats):
        rollouts, steps = sim.rollouts, sim.steps
        c0 = time.process_time()
        t0 = time.perf_counter()
        result = least_squares(residuals, u0, jac="3-point", bounds=(lower / scale, upper / scale), method="trf",
                               diff_step=1e-2, x_scale="jac", ftol=1e-8, xtol=1e-6, gtol=1e-10, max_nfev=max_nfev)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
        fit_rollouts, fit_steps = sim.rollouts - rollouts, sim.steps - steps
    v = values(result.x)
    train, held_out = [], []
    for ep in episodes:
        q = sim.run(v, ep, ep["frames"])  # from the start, over every frame, as FitActuators predicts
        train.append(q[:ep["split"]] - ep["q_meas"][:ep["split"]])
        held_out.append(q[ep["split"]:] - ep["q_meas"][ep["split"]:])
    return {"wall_s": walls, "median_wall_s": statistics.median(walls), "cpu_s": cpus,
            "median_cpu_s": statistics.median(cpus), "episode_rollouts": fit_rollouts,
            "evaluations": fit_rollouts // len(episodes), "steps": fit_steps, "nfev": int(result.nfev),
            "njev": int(result.njev or 0), "status": int(result.status), "message": result.message,
            "cost": float(result.cost),
            "train_rms": rms(np.concatenate(train)), "held_out_rms": rms(np.concatenate(held_out)),
            "start": {k: float(start[k]) for k in FITTED}, "estimates": {k: v[k] for k in FITTED},
            "velocity_limit": v["velocity_limit"]}


def compare(sim, scene, episodes, csv_path, fitted_values, probe_values):
    """RMS of PyBullet minus real2sim positions over every frame, at the nominal values, at real2sim's fitted values
    and at the C++ bench's probe values (every branch of the actuator model)."""
    data = np.genfromtxt(csv_path, delimiter=",", names=True)
    out = {}
    for label, column, v in (("nominal", "q_nominal", scene["nominal"]), ("fitted", "q_fitted", fitted_values),
                             ("probe", "q_probe", probe_values)):
        if v is None:
            continue
        diff, per_episode = [], []
        for e, ep in enumerate(episodes):
            theirs = data[column][data["episode"] == e]
            ours = sim.run(v, ep, ep["frames"])
            diff.append(ours - theirs)
            per_episode.append(rms(ours - theirs))
        d = np.concatenate(diff)
        out[label] = {"rms_rad": rms(d), "max_abs_rad": float(np.max(np.abs(d))), "per_episode_rms_rad": per_episode}
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--r2s-json")
    parser.add_argument("--starts", default="nominal,r2s")
    parser.add_argument("--max-nfev", type=int, default=100)
    parser.add_argument("--compare-csv")
    parser.add_argument("--rollout-repeats", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--json")
    a = parser.parse_args()

    scene = read_scene(a.source_dir)
    episodes = read_episodes(a.source_dir, scene["dt"])
    sim = Pendulum(scene)
    r2s = json.load(open(a.r2s_json)) if a.r2s_json else None
    report = {"peer": f"scipy least_squares + pybullet {p.getAPIVersion()}", "episodes": len(episodes)}

    nominal = scene["nominal"]
    bounds = default_bounds(scene, episodes, sim.inertia(nominal["armature"]))
    if r2s and "bounds" in r2s:
        for k in FITTED:
            theirs = r2s["bounds"][k]
            if not np.allclose(bounds[k], theirs, rtol=1e-9, atol=1e-12):
                print(f"warning: bound of {k} {bounds[k]} differs from real2sim's {theirs}; using real2sim's")
                bounds[k] = tuple(theirs)
    report["bounds"] = bounds

    # One rollout: the three episodes once, start to end, at the nominal values.
    times = []
    for _ in range(a.rollout_repeats):
        t0 = time.perf_counter()
        for ep in episodes:
            sim.run(nominal, ep, ep["frames"])
        times.append(time.perf_counter() - t0)
    steps = sum(int(ep["step_of"][-1]) for ep in episodes)
    report.update({"rollout_s": times, "rollout_median_s": statistics.median(times), "steps_per_rollout": steps})
    print(f"one rollout (3 episodes, nominal values): {statistics.median(times):.4f} s median of "
          f"{a.rollout_repeats}, {steps / statistics.median(times):.0f} steps/s", flush=True)

    r2s_fit = None
    if r2s:
        # The first fit (default options) is the one the C++ bench's trajectory CSV replays.
        r2s_fit = dict(nominal)
        r2s_fit.update(r2s["fits"][0]["estimates"])
    if a.compare_csv:
        report["equivalence"] = compare(sim, scene, episodes, a.compare_csv, r2s_fit, r2s["probe"] if r2s else None)
        for label, c in report["equivalence"].items():
            print(f"PyBullet - real2sim trajectories at the {label} values: RMS {c['rms_rad']:.3g} rad, "
                  f"max {c['max_abs_rad']:.3g} rad", flush=True)

    report["fits"] = []
    for start_name in filter(None, a.starts.split(",")):
        if start_name == "nominal":
            start, held = nominal, dict(nominal)
        elif start_name == "r2s":
            if r2s_fit is None:
                raise SystemExit("--starts r2s needs --r2s-json")
            # velocity_limit stays where real2sim left it, so that the start reproduces real2sim's trajectories.
            start, held = r2s_fit, dict(r2s_fit)
        else:
            raise SystemExit(f"unknown start '{start_name}' (nominal or r2s)")
        r = fit(sim, episodes, bounds, start, held, a.max_nfev, a.repeats)
        r["from"] = start_name
        report["fits"].append(r)
        print(f"fit from {start_name}: {r['median_wall_s']:.1f} s (median of {a.repeats}), "
              f"{r['episode_rollouts']} episode rollouts, nfev {r['nfev']}, njev {r['njev']}, train RMS "
              f"{r['train_rms']:.5f}, held-out RMS {r['held_out_rms']:.5f} ({r['message']})", flush=True)

    rows = [("wall s (median)", lambda f: f"{f['median_wall_s']:.2f}"),
            ("CPU s (median)", lambda f: f"{f['median_cpu_s']:.2f}"),
            ("episode rollouts", lambda f: str(f["episode_rollouts"])),
            ("nfev / njev", lambda f: f"{f['nfev']} / {f['njev']}"),
            ("train RMS rad", lambda f: f"{f['train_rms']:.5f}"),
            ("held-out RMS rad", lambda f: f"{f['held_out_rms']:.5f}")]
    rows += [(k, lambda f, k=k: f"{f['estimates'][k]:.5g}") for k in FITTED]
    if report["fits"]:
        print(f"\n{'SciPy trf + PyBullet':24s}" + "".join(f" {'from ' + f['from']:>14s}" for f in report["fits"]))
        for label, cell in rows:
            print(f"{label:24s}" + "".join(f" {cell(f):>14s}" for f in report["fits"]))
    if a.json:
        with open(a.json, "w") as out:
            json.dump(report, out, indent=1)


if __name__ == "__main__":
    main()
