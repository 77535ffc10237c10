#pragma once
// Triangle meshes from any format Assimp reads (STL, OBJ, DAE, glTF, ...), loaded once per (file, scale) and
// shared by every shape that uses them.

#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include <Eigen/Core>

#include "sim/geometry.h"

namespace r2s::sim {

// Loads one mesh: every triangle of every node of the file's scene, with node transforms applied, in the
// file's units times `scale`. Throws InputError(referenced_from, field, problem) when the file is missing,
// unreadable or has no triangles; `referenced_from` and `field` say where the path came from (the scene file
// and its key, or the URDF and its link).
std::shared_ptr<const TriangleMesh> LoadMesh(const std::filesystem::path& file, const Eigen::Vector3d& scale,
                                             const std::string& referenced_from, const std::string& field);

// Loads each (file, scale) once. Not thread-safe: one per scene compilation.
class MeshCache {
 public:
  std::shared_ptr<const TriangleMesh> Get(const std::filesystem::path& file, const Eigen::Vector3d& scale,
                                          const std::string& referenced_from, const std::string& field);

 private:
  std::map<std::pair<std::string, std::string>, std::shared_ptr<const TriangleMesh>> meshes_;
};

}  // namespace r2s::sim
