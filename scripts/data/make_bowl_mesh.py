#!/usr/bin/env python3
"""Writes a low-poly bowl as a closed, concave OBJ mesh (a synthetic asset made here, not scanned): a
hemispherical shell with a flat foot, outer radius R, wall thickness W, in metres, opening up (+z).
    python3 scripts/data/make_bowl_mesh.py scenes/tabletop/meshes/bowl.obj
"""
import math
import sys

R, W, SEG, RINGS = 0.07, 0.008, 16, 5


def main(out):
    verts, faces = [], []

    def ring(radius, z):
        start = len(verts)
        for k in range(SEG):
            a = 2 * math.pi * k / SEG
            verts.append((radius * math.cos(a), radius * math.sin(a), z))
        return start

    # Outer surface from the rim (z = R) down to the foot, then the inner surface back up to the rim.
    outer = [ring(R * math.cos(math.pi / 2 * i / RINGS * 0.85), R - R * math.sin(math.pi / 2 * i / RINGS * 0.85))
             for i in range(RINGS + 1)]
    r_in = R - W
    inner = [ring(r_in * math.cos(math.pi / 2 * i / RINGS * 0.85), R - r_in * math.sin(math.pi / 2 * i / RINGS * 0.85))
             for i in range(RINGS + 1)]
    foot_out = len(verts); verts.append((0.0, 0.0, verts[outer[-1]][2]))
    foot_in = len(verts); verts.append((0.0, 0.0, verts[inner[-1]][2]))

    def quad_strip(a, b, flip):
        for k in range(SEG):
            k2 = (k + 1) % SEG
            t1, t2 = (a + k, b + k, b + k2), (a + k, b + k2, a + k2)
            if flip:
                t1, t2 = t1[::-1], t2[::-1]
            faces.extend([t1, t2])

    for i in range(RINGS):
        quad_strip(outer[i], outer[i + 1], False)  # outside, normals outward
        quad_strip(inner[i], inner[i + 1], True)   # inside, normals toward the axis
    quad_strip(inner[0], outer[0], False)           # the rim joins inner and outer
    for k in range(SEG):                             # caps close the foot
        k2 = (k + 1) % SEG
        faces.append((outer[-1] + k, foot_out, outer[-1] + k2))
        faces.append((inner[-1] + k2, foot_in, inner[-1] + k))
    with open(out, "w") as f:
        f.write("# real2sim synthetic asset: a low-poly bowl made by scripts/data/make_bowl_mesh.py (not a scan)\n")
        for v in verts:
            f.write("v %.6f %.6f %.6f\n" % v)
        for t in faces:
            f.write("f %d %d %d\n" % (t[0] + 1, t[1] + 1, t[2] + 1))


if __name__ == "__main__":
    main(sys.argv[1])
