#include "sim/convex_decomposition.h"

#include <HACD/hacdHACD.h>

namespace r2s::sim {

// The settings of Bullet's convex decomposition demo, except that concavity is also measured at points inside the faces
// (extra distance and face points): with vertices alone, a coarse mesh's cavity between large faces goes unseen and the
// whole mesh comes back as one hull.
std::vector<std::vector<Eigen::Vector3d>> DecomposeConvex(const TriangleMesh& mesh) {
  std::vector<HACD::Vec3<HACD::Real>> points;
  points.reserve(mesh.vertices_m.size());
  for (const auto& v : mesh.vertices_m) points.emplace_back(v.x(), v.y(), v.z());
  std::vector<HACD::Vec3<long>> triangles;
  triangles.reserve(mesh.triangles.size());
  for (const auto& t : mesh.triangles) triangles.emplace_back(long(t[0]), long(t[1]), long(t[2]));
  HACD::HACD hacd;
  hacd.SetPoints(points.data());
  hacd.SetNPoints(points.size());
  hacd.SetTriangles(triangles.data());
  hacd.SetNTriangles(triangles.size());
  hacd.SetCompacityWeight(0.1);
  hacd.SetVolumeWeight(0.0);
  hacd.SetNClusters(2);
  hacd.SetNVerticesPerCH(100);
  hacd.SetConcavity(100);
  hacd.SetAddExtraDistPoints(true);
  hacd.SetAddNeighboursDistPoints(false);
  hacd.SetAddFacesPoints(true);
  std::vector<std::vector<Eigen::Vector3d>> pieces;
  if (!hacd.Compute() || hacd.GetNClusters() == 0) {
    pieces.push_back(mesh.vertices_m);  // fall back to the hull of the whole mesh
    return pieces;
  }
  for (std::size_t c = 0; c < hacd.GetNClusters(); ++c) {
    std::vector<HACD::Vec3<HACD::Real>> hull_points(hacd.GetNPointsCH(c));
    std::vector<HACD::Vec3<long>> hull_triangles(hacd.GetNTrianglesCH(c));
    hacd.GetCH(c, hull_points.data(), hull_triangles.data());
    std::vector<Eigen::Vector3d> piece;
    piece.reserve(hull_points.size());
    for (const auto& p : hull_points) piece.emplace_back(p.X(), p.Y(), p.Z());
    if (piece.size() >= 4) pieces.push_back(std::move(piece));
  }
  if (pieces.empty()) pieces.push_back(mesh.vertices_m);
  return pieces;
}

}  // namespace r2s::sim
