#!/usr/bin/env python3
"""MuJoCo's renderer on the tabletop scene, the peer of render_bench (bench/README.md).

The MJCF is built here from the same files real2sim renders: the Panda of scenes/tabletop/robot/panda.urdf with its
visual OBJ meshes (MuJoCo ignores their MTL colours and textures), the table, pedestal and floor boxes, the cube,
ball, can and bowl, the front camera (fov_y 55 degrees), a directional key light that casts shadows and a fill
light that does not. The values mirror scenes/tabletop/scene.yaml. Each view is a different world state: the arm at
one of 64 samples of the real Panda log (scenes/panda_gaz2019), as in render_bench.

Per camera frame: mjv_updateScene, mjr_render, mjr_readPixels (RGB + depth buffer), a second mjr_render with
segmentation colours and its mjr_readPixels, then depth to metres and colours to geom ids in numpy: RGB + metric
depth + segmentation in host memory, as render_bench produces. MuJoCo renders one view at a time, so a batch of B
views is B such frames. Prints JSON: frames/s per (width, height, batch), median over --repeats.

  MUJOCO_GL=egl python bench/mujoco_render.py --source-dir . [--repeats 5] [--shadow-size 1024]
"""
import argparse
import json
import math
import os
import statistics
import tempfile
import time
import xml.etree.ElementTree as ET

import h5py
import numpy as np

os.environ.setdefault("MUJOCO_GL", "egl")
import mujoco  # noqa: E402  (MUJOCO_GL must be set first)

MAX_VIEWS = 64


def rpy_to_quat(r, p, y):
    """URDF's R = Rz(y) Ry(p) Rx(r) as MuJoCo's (w, x, y, z)."""
    cr, sr = math.cos(r / 2), math.sin(r / 2)
    cp, sp = math.cos(p / 2), math.sin(p / 2)
    cy, sy = math.cos(y / 2), math.sin(y / 2)
    return (cr * cp * cy + sr * sp * sy, sr * cp * cy - cr * sp * sy, cr * sp * cy + sr * cp * sy,
            cr * cp * sy - sr * sp * cy)


def fmt(values):
    return " ".join(f"{v:.9g}" for v in values)


def origin_attrs(element):
    o = element.find("origin")
    xyz = [float(v) for v in (o.get("xyz", "0 0 0") if o is not None else "0 0 0").split()]
    rpy = [float(v) for v in (o.get("rpy", "0 0 0") if o is not None else "0 0 0").split()]
    return f'pos="{fmt(xyz)}" quat="{fmt(rpy_to_quat(*rpy))}"'


def positions_only_obj(path, out_dir):
    """The OBJ's vertices and triangles alone. MuJoCo's OBJ reader drops most faces of these files (they mix faces
    with and without texture coordinates across materials), which would leave it half the triangles to draw."""
    vertices, faces = [], []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if not parts:
                continue
            if parts[0] == "v":
                vertices.append(" ".join(parts[1:4]))
            elif parts[0] == "f":
                idx = [p.split("/")[0] for p in parts[1:]]
                for k in range(1, len(idx) - 1):
                    faces.append(f"{idx[0]} {idx[k]} {idx[k + 1]}")
    out = os.path.join(out_dir, os.path.basename(os.path.dirname(path)) + "_" + os.path.basename(path))
    with open(out, "w") as f:
        f.write("".join(f"v {v}\n" for v in vertices) + "".join(f"f {t}\n" for t in faces))
    return out, len(faces)


def build_mjcf(source_dir, shadow_size, width, height, mesh_dir):
    robot_dir = os.path.join(source_dir, "scenes/tabletop/robot")
    urdf = ET.parse(os.path.join(robot_dir, "panda.urdf")).getroot()
    links = {l.get("name"): l for l in urdf.findall("link")}
    children = {}
    for j in urdf.findall("joint"):
        children.setdefault(j.find("parent").get("link"), []).append(j)
    meshes = {}

    def visuals(link):
        out = []
        for v in link.findall("visual"):
            m = v.find("geometry/mesh")
            if m is None:
                continue
            path = os.path.join(robot_dir, m.get("filename").replace("package://", ""))
            name = meshes.setdefault(path, f"mesh{len(meshes)}")
            out.append(f'<geom type="mesh" mesh="{name}" {origin_attrs(v)} rgba="1 1 1 1" contype="0" '
                       f'conaffinity="0"/>')
        return "".join(out)

    def body(joint):
        link = links[joint.find("child").get("link")]
        axis = joint.find("axis").get("xyz", "0 0 1") if joint.find("axis") is not None else "0 0 1"
        kind = joint.get("type")
        j = ""
        if kind == "revolute":
            j = f'<joint name="{joint.get("name")}" type="hinge" axis="{axis}"/>'
        elif kind == "prismatic":
            j = f'<joint name="{joint.get("name")}" type="slide" axis="{axis}"/>'
        inner = "".join(body(c) for c in children.get(link.get("name"), []))
        return (f'<body name="{link.get("name")}" {origin_attrs(joint)}>{j}<inertial pos="0 0 0" mass="1" '
                f'diaginertia="0.01 0.01 0.01"/>{visuals(link)}{inner}</body>')

    root = "panda_link0"
    arm = (f'<body name="{root}" pos="-0.85 0 0">{visuals(links[root])}'
           + "".join(body(c) for c in children.get(root, [])) + "</body>")
    bowl = os.path.join(source_dir, "scenes/tabletop/meshes/bowl.obj")
    assets = "".join(f'<mesh name="{n}" file="{positions_only_obj(p, mesh_dir)[0]}"/>' for p, n in meshes.items())
    assets += f'<mesh name="bowl" file="{bowl}"/>'

    # The front camera: at (0.9, 0, 0.65) looking at (-0.1, 0, 0), up +z. MuJoCo cameras look along -z, +y up.
    eye, target = np.array([0.9, 0.0, 0.65]), np.array([-0.1, 0.0, 0.0])
    forward = (target - eye) / np.linalg.norm(target - eye)
    right = np.cross(forward, [0, 0, 1])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return f"""
<mujoco model="tabletop">
  <visual>
    <global offwidth="{width}" offheight="{height}"/>
    <quality shadowsize="{shadow_size}"/>
    <headlight active="0"/>
    <map znear="0.01" zfar="50"/>
  </visual>
  <asset>{assets}</asset>
  <worldbody>
    <light name="key" directional="true" castshadow="true" pos="0.4 -0.3 1" dir="-0.4 0.3 -1"
           diffuse="0.75 0.73 0.69" specular="0.2 0.2 0.2"/>
    <light name="fill" directional="false" castshadow="false" pos="0.5 -0.8 1.2" dir="-0.3 0.5 -0.8"
           cutoff="90" diffuse="0.3 0.32 0.33"/>
    <camera name="front" pos="{fmt(eye)}" xyaxes="{fmt(right)} {fmt(up)}" fovy="55"/>
    <geom name="floor" type="box" size="2 2 0.05" pos="0 0 -0.8" rgba="0.35 0.35 0.38 1"/>
    <geom name="table" type="box" size="0.6 0.5 0.025" pos="-0.1 0 -0.025" rgba="0.55 0.42 0.30 1"/>
    <geom name="pedestal" type="box" size="0.15 0.15 0.375" pos="-0.85 0 -0.375" rgba="0.2 0.2 0.22 1"/>
    <body name="cube" pos="0 0 0.0524"><freejoint/><geom type="box" size="0.0524 0.0524 0.0524" mass="0.37"
          rgba="0.85 0.9 0.95 1"/></body>
    <body name="ball" pos="0.15 0.3 0.035"><freejoint/><geom type="sphere" size="0.035" mass="0.06"
          rgba="0.8 0.15 0.1 1"/></body>
    <body name="can" pos="-0.2 -0.3 0.061"><freejoint/><geom type="cylinder" size="0.033 0.061" mass="0.35"
          rgba="0.75 0.76 0.78 1"/></body>
    <body name="bowl" pos="0.25 -0.25 0"><freejoint/><geom type="mesh" mesh="bowl" mass="0.3"
          rgba="0.95 0.93 0.88 1"/></body>
    {arm}
  </worldbody>
</mujoco>"""


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source-dir", default=".")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--shadow-size", type=int, default=1024)
    parser.add_argument("--sizes", default="128x128,640x480")
    parser.add_argument("--batches", default="1,16,64")
    parser.add_argument("--min-time", type=float, default=2.0, help="seconds per repeat, at least one batch")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    batches = [int(b) for b in args.batches.split(",")]

    qpos_log = h5py.File(os.path.join(args.source_dir, "scenes/panda_gaz2019/episode_0.hdf5"), "r")[
        "observations/qpos"][()]
    samples = [qpos_log[(len(qpos_log) - 1) * v // (MAX_VIEWS - 1)] for v in range(MAX_VIEWS)]
    initial = {"panda_joint2": -0.3, "panda_joint4": -2.2, "panda_joint6": 1.9, "panda_joint7": 0.785,
               "panda_finger_joint1": 0.04, "panda_finger_joint2": 0.04}

    max_w = max(w for w, _ in sizes)
    max_h = max(h for _, h in sizes)
    with tempfile.TemporaryDirectory() as mesh_dir:
        model = mujoco.MjModel.from_xml_string(build_mjcf(args.source_dir, args.shadow_size, max_w, max_h, mesh_dir))
    data = mujoco.MjData(model)
    arm = [model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, f"panda_joint{i + 1}")]
           for i in range(7)]
    states = []
    for q in samples:
        mujoco.mj_resetData(model, data)
        for name, value in initial.items():
            data.qpos[model.jnt_qposadr[mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, name)]] = value
        data.qpos[arm] = q[:7]
        states.append(data.qpos.copy())

    context = mujoco.GLContext(max_w, max_h)
    context.make_current()
    import OpenGL.GL as gl  # after make_current: which OpenGL this is
    renderer_name = gl.glGetString(gl.GL_RENDERER).decode()
    mjr = mujoco.MjrContext(model, mujoco.mjtFontScale.mjFONTSCALE_100)
    mujoco.mjr_setBuffer(mujoco.mjtFramebuffer.mjFB_OFFSCREEN, mjr)
    scene = mujoco.MjvScene(model, maxgeom=1000)
    option = mujoco.MjvOption()
    camera = mujoco.MjvCamera()
    camera.type = mujoco.mjtCamera.mjCAMERA_FIXED
    camera.fixedcamid = 0
    triangles = int(sum(model.mesh_facenum))
    extent = model.stat.extent
    near, far = model.vis.map.znear * extent, model.vis.map.zfar * extent

    results = []
    for width, height in sizes:
        viewport = mujoco.MjrRect(0, 0, width, height)
        rgb = np.empty((height, width, 3), np.uint8)
        zbuffer = np.empty((height, width), np.float32)
        seg = np.empty((height, width, 3), np.uint8)

        def frame(qpos):
            data.qpos[:] = qpos
            mujoco.mj_kinematics(model, data)
            mujoco.mjv_updateScene(model, data, option, None, camera, mujoco.mjtCatBit.mjCAT_ALL, scene)
            mujoco.mjr_render(viewport, scene, mjr)
            mujoco.mjr_readPixels(rgb, zbuffer, viewport, mjr)
            scene.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = 1
            scene.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = 1
            mujoco.mjr_render(viewport, scene, mjr)
            mujoco.mjr_readPixels(seg, None, viewport, mjr)
            scene.flags[mujoco.mjtRndFlag.mjRND_SEGMENT] = 0
            scene.flags[mujoco.mjtRndFlag.mjRND_IDCOLOR] = 0
            # What the caller gets: images top row first, depth in metres, one id per pixel.
            depth_m = near / (1.0 - zbuffer[::-1] * (1.0 - near / far))
            ids = (seg[::-1, :, 0].astype(np.int32) + seg[::-1, :, 1].astype(np.int32) * 256 +
                   seg[::-1, :, 2].astype(np.int32) * 65536) - 1
            return rgb[::-1].copy(), depth_m, ids

        frame(states[0])  # warm-up
        for batch in batches:
            rates, cpu_ms = [], []
            for _ in range(args.repeats):
                frames = 0
                start = time.perf_counter()
                cpu_start = time.process_time()  # every thread of the process: llvmpipe's workers too
                while True:
                    for v in range(batch):
                        frame(states[v])
                    frames += batch
                    elapsed = time.perf_counter() - start
                    if elapsed >= args.min_time:
                        break
                rates.append(frames / elapsed)
                cpu_ms.append(1e3 * (time.process_time() - cpu_start) / frames)
            results.append({"width": width, "height": height, "batch": batch,
                            "median_frames_per_s": statistics.median(rates),
                            "median_cpu_ms_per_frame": statistics.median(cpu_ms), "runs": rates})
    print(json.dumps({"mujoco": mujoco.__version__, "gl_renderer": renderer_name, "triangles": triangles,
                      "shadow_size": args.shadow_size, "results": results}))
    context.free()


if __name__ == "__main__":
    main()
