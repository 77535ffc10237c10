#pragma once
// Concave meshes collide as a set of convex pieces. The decomposition is deterministic and costly, so a compiled
// scene does it once (Shape::convex_pieces) and every World shares the result.

#include <vector>

#include <Eigen/Core>

#include "sim/geometry.h"

namespace r2s::sim {

// Bullet's HACD (hierarchical approximate convex decomposition). Returns each piece's hull vertices in the
// mesh's frame; when HACD finds no pieces, the whole mesh's vertices (one hull).
std::vector<std::vector<Eigen::Vector3d>> DecomposeConvex(const TriangleMesh& mesh);

}  // namespace r2s::sim
