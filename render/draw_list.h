#pragma once
// Internal: a model's visual shapes as one vertex/index array and a list of draw items (one per shape and mesh
// material part), each tied to the body that moves it. No Vulkan here.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "sim/model.h"

namespace r2s::render {

struct Vertex {
  float position[3];  // in the shape's frame, metres
  float normal[3];
  float uv[2];
};
static_assert(sizeof(Vertex) == 32);

enum class BodyKind { kLink, kObject, kEnvironment };

// Where a texture comes from: a file, or bytes a mesh file embeds.
struct TextureSource {
  std::filesystem::path file;
  std::shared_ptr<const std::vector<std::uint8_t>> embedded;
  std::string referenced_from;  // the mesh or scene file naming it, for errors
};

struct DrawItem {
  BodyKind body = BodyKind::kEnvironment;
  int body_index = 0;  // into RobotModel::links, Model::objects or Model::environment
  Eigen::Isometry3d origin = Eigen::Isometry3d::Identity();  // shape frame in the body frame
  std::uint32_t first_index = 0;
  std::uint32_t index_count = 0;
  std::int32_t vertex_offset = 0;
  int material = 0;                                     // into DrawList::materials
  Eigen::Vector4f part_rgba = Eigen::Vector4f::Ones();  // the mesh file's own diffuse colour (linear)
  int part_texture = -1;                                // into DrawList::textures; -1 for none
  std::uint16_t segmentation_id = 0;
  // A sphere around the item's vertices, in the shape frame; planes are infinite and cast no shadows.
  Eigen::Vector3d bound_center = Eigen::Vector3d::Zero();
  double bound_radius = 0;
  bool is_plane = false;
};

struct DrawList {
  std::vector<Vertex> vertices;
  std::vector<std::uint32_t> indices;
  std::vector<DrawItem> items;
  // What the shadow pass draws: no planes; a mesh in one piece; collision shapes with
  // ShadowCasters::kCollisionShapes.
  std::vector<DrawItem> shadow_items;
  // materials[0] is the default look (shapes that name no material); then Model::materials in key order.
  std::vector<std::string> material_names;
  std::vector<sim::Material> materials;
  std::vector<int> material_textures;  // per material: into textures, -1 for none
  std::vector<TextureSource> textures;

  int FindMaterial(const std::string& name) const;  // -1 when absent
};

// Planes are drawn as squares of this half-width: past any camera's far plane in practice.
inline constexpr double kPlaneHalfWidthM = 500.0;

enum class ShadowCasters { kVisualShapes, kCollisionShapes };

// Each mesh is stored once, however many items draw it.
DrawList BuildDrawList(const sim::Model& model, ShadowCasters casters = ShadowCasters::kVisualShapes);

}  // namespace r2s::render
