#pragma once
// Mass properties of a rigid body made of shapes of uniform density.

#include <vector>

#include "sim/geometry.h"
#include "sim/model.h"

namespace r2s::sim {

// Volume (m^3) of one shape: analytic for primitives; signed-volume integration for a closed mesh, its bounding
// box otherwise. Throws std::invalid_argument for a plane.
double ShapeVolume(const Shape& shape);

// The inertial of `mass_kg` spread with uniform density over the shapes, in the owner's frame: each shape's origin
// is honoured (rotation and parallel-axis shift). Boxes, spheres and cylinders (axis along z) are analytic; a
// closed triangle mesh is integrated exactly (divergence theorem over signed tetrahedra); a mesh that is not
// closed falls back to its bounding box. Throws std::invalid_argument for no shapes, a plane, zero total volume
// or a non-positive mass.
Inertial ComputeInertial(const std::vector<Shape>& shapes, double mass_kg);

// True when every edge of the mesh (vertices welded by position) is shared by exactly two triangles with opposite
// orientations.
bool IsClosedMesh(const TriangleMesh& mesh);

}  // namespace r2s::sim
