#!/usr/bin/env python3
"""The PyBullet peer of bench/sim_replay_bench.cc: the same tabletop (scenes/tabletop/scene.yaml, built here by
hand with the same URDF, poses, shapes, masses and materials), PyBullet in DIRECT mode, the same dt and solver
iterations, and the arm tracking the real Panda log's positions with one physics step per log sample.

Differences that remain: PyBullet's POSITION_CONTROL is its own velocity-motor constraint (gains 0.1/1.0),
where real2sim applies PD torques with physical gains; the bowl collides as one convex hull here (PyBullet
builds no decomposition at load time), as a HACD decomposition in real2sim.

    python pybullet_tabletop.py --source-dir DIR [--processes N] [--repeats R]   -> JSON on stdout
"""
import argparse
import json
import multiprocessing
import statistics
import time

import h5py
import numpy as np
import pybullet as p

DT = 0.001
SOLVER_ITERATIONS = 10


def build(source_dir):
    client = p.connect(p.DIRECT)
    p.setPhysicsEngineParameter(fixedTimeStep=DT, numSolverIterations=SOLVER_ITERATIONS, physicsClientId=client)
    p.setGravity(0, 0, -9.81, physicsClientId=client)

    def body(shape, mass, pos, friction, restitution, rolling=0.0, spinning=0.0):
        uid = p.createMultiBody(baseMass=mass, baseCollisionShapeIndex=shape, basePosition=pos,
                                physicsClientId=client)
        p.changeDynamics(uid, -1, lateralFriction=friction, restitution=restitution, rollingFriction=rolling,
                         spinningFriction=spinning, physicsClientId=client)
        return uid

    body(p.createCollisionShape(p.GEOM_BOX, halfExtents=[2, 2, 0.05], physicsClientId=client), 0, [0, 0, -0.8],
         0.8, 0.0)
    body(p.createCollisionShape(p.GEOM_BOX, halfExtents=[0.6, 0.5, 0.025], physicsClientId=client), 0,
         [-0.1, 0, -0.025], 1.0, 1.0)
    body(p.createCollisionShape(p.GEOM_BOX, halfExtents=[0.15, 0.15, 0.375], physicsClientId=client), 0,
         [-0.85, 0, -0.375], 0.8, 0.0)
    cube = body(p.createCollisionShape(p.GEOM_BOX, halfExtents=[0.0524] * 3, physicsClientId=client), 0.37,
                [0, 0, 0.0524], 0.18, 0.125, 0.0001)
    p.changeDynamics(cube, -1, localInertiaDiagonal=[0.00081] * 3, physicsClientId=client)
    body(p.createCollisionShape(p.GEOM_SPHERE, radius=0.035, physicsClientId=client), 0.06, [0.15, 0.3, 0.035],
         0.9, 0.6, 0.0005, 0.0005)
    body(p.createCollisionShape(p.GEOM_CYLINDER, radius=0.033, height=0.122, physicsClientId=client), 0.35,
         [-0.2, -0.3, 0.061], 0.4, 0.1)
    body(p.createCollisionShape(p.GEOM_MESH, fileName=source_dir + "/scenes/tabletop/meshes/bowl.obj",
                                physicsClientId=client), 0.3, [0.25, -0.25, 0.0], 0.5, 0.2)
    robot = p.loadURDF(source_dir + "/scenes/tabletop/robot/panda.urdf", basePosition=[-0.85, 0, 0],
                       useFixedBase=True, flags=p.URDF_USE_INERTIA_FROM_FILE, physicsClientId=client)
    joints = [j for j in range(p.getNumJoints(robot, physicsClientId=client))
              if p.getJointInfo(robot, j, physicsClientId=client)[2] in (p.JOINT_REVOLUTE, p.JOINT_PRISMATIC)]
    return client, robot, joints


def run(args):
    source_dir, targets = args
    client, robot, joints = build(source_dir)
    initial = [0, -0.3, 0, -2.2, 0, 1.9, 0.785, 0.04, 0.04]
    for j, q in zip(joints, list(targets[0]) + initial[7:]):
        p.resetJointState(robot, j, q, physicsClientId=client)
    forces = [87, 87, 87, 87, 12, 12, 12, 20, 20]
    start = time.perf_counter()
    for q in targets:
        p.setJointMotorControlArray(robot, joints, p.POSITION_CONTROL, targetPositions=list(q) + [0.04, 0.04],
                                    forces=forces, physicsClientId=client)
        p.stepSimulation(physicsClientId=client)
    elapsed = time.perf_counter() - start
    p.disconnect(client)
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-dir", required=True)
    parser.add_argument("--processes", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    a = parser.parse_args()
    with h5py.File(a.source_dir + "/scenes/panda_gaz2019/episode_0.hdf5", "r") as f:
        targets = np.asarray(f["observations/qpos"][:], dtype=float)
    rates = []
    for _ in range(a.repeats):
        with multiprocessing.Pool(a.processes) as pool:
            elapsed = pool.map(run, [(a.source_dir, targets)] * a.processes)
        # Only the stepping loops are timed (as in the C++ benchmark), all of them running at once.
        rates.append(a.processes * len(targets) / max(elapsed))
    print(json.dumps({"peer": "pybullet " + str(p.getAPIVersion()), "processes": a.processes,
                      "steps_per_run": len(targets), "steps_per_s": rates,
                      "median_steps_per_s": statistics.median(rates)}))


if __name__ == "__main__":
    main()
