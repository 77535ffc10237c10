#pragma once
// A robot from a URDF file (parsed with urdfdom): links, revolute/prismatic/continuous/fixed joints, limits,
// inertials, collision and visual geometry (primitives and meshes through Assimp).

#include <filesystem>
#include <map>
#include <string>

#include "sim/geometry.h"
#include "sim/mesh_loader.h"
#include "sim/model.h"

namespace r2s::sim {

struct UrdfLoadOptions {
  // Every mesh the URDF names must lie inside this folder (the scene's folder); empty: no restriction.
  std::filesystem::path asset_root;
  bool load_visuals = true;
};

struct UrdfRobot {
  RobotModel robot;  // actuators start with the URDF's effort and velocity limits and <dynamics> values
  std::map<std::string, Material> materials;  // "<robot>/<material>" for each URDF material with a colour
};

// Mesh filenames resolve relative to the URDF's folder; "package://" is stripped (as PyBullet does), and when
// "package://<pkg>/rest" does not exist there, "rest" is tried. Throws InputError naming the URDF file and the
// link, joint or mesh at fault: a missing file, XML urdfdom rejects, a floating or planar joint, a mesh outside
// asset_root, a negative mass or an inertia that is not positive semi-definite.
UrdfRobot LoadUrdf(const std::filesystem::path& urdf_file, const UrdfLoadOptions& options, MeshCache& meshes);

}  // namespace r2s::sim
