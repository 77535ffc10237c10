#pragma once
// Shapes for collision and drawing: primitives and triangle meshes, placed in their owner's frame.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

namespace r2s::sim {

// A triangle mesh as loaded from a file (Assimp), already scaled to metres, in the mesh's own frame.
struct TriangleMesh {
  std::vector<Eigen::Vector3d> vertices_m;
  std::vector<std::array<std::uint32_t, 3>> triangles;  // counter-clockwise seen from outside
  std::vector<Eigen::Vector3f> normals;                 // per vertex; empty when the file has none
  std::vector<Eigen::Vector2f> uvs;                     // per vertex; empty when the file has none
  std::string source;                                   // the file it came from, for messages

  // The file's own materials (OBJ's MTL, DAE, glTF), for drawing only: each part is a run of triangles with one
  // diffuse colour and texture. Parts cover the triangles in order; empty for meshes built in code.
  struct Part {
    std::uint32_t first_triangle = 0;
    std::uint32_t num_triangles = 0;
    Eigen::Vector4f diffuse_rgba = Eigen::Vector4f::Ones();
    std::string texture;  // absolute path of the diffuse texture image; empty when none, or none found
    // The encoded image (PNG, JPEG) when the mesh file embeds its texture; null otherwise.
    std::shared_ptr<const std::vector<std::uint8_t>> embedded_texture;
  };
  std::vector<Part> parts;
};

enum class ShapeKind { kBox, kSphere, kCylinder, kPlane, kMesh };

// How a mesh collides: its convex hull (right for the convex link meshes robot models ship), or an approximate
// convex decomposition with Bullet's HACD for concave parts (bowls, mugs, shelves).
enum class MeshCollision { kConvexHull, kConvexDecomposition };

struct Shape {
  ShapeKind kind = ShapeKind::kBox;
  Eigen::Vector3d box_size_m = Eigen::Vector3d::Zero();     // full extents (kBox)
  double radius_m = 0;                                      // kSphere, kCylinder
  double length_m = 0;                                      // kCylinder, along its local z
  Eigen::Vector3d plane_normal = Eigen::Vector3d::UnitZ();  // kPlane: infinite, through the shape origin
  std::shared_ptr<const TriangleMesh> mesh;                 // kMesh (shared: one mesh may be used many times)
  MeshCollision mesh_collision = MeshCollision::kConvexHull;
  // kConvexDecomposition: the pieces' hull vertices (DecomposeConvex), computed once when the scene compiles and
  // shared by every World; null for shapes built in code, which the World then decomposes itself.
  std::shared_ptr<const std::vector<std::vector<Eigen::Vector3d>>> convex_pieces;
  Eigen::Isometry3d origin = Eigen::Isometry3d::Identity();  // in the owner's frame (link or object)
  std::string material;                                      // a key of Model::materials, or empty for the default look
};

// Surface properties: contact (friction, restitution) and look (colour, texture, roughness).
struct Material {
  std::string name;
  Eigen::Vector4d rgba = Eigen::Vector4d(0.7, 0.7, 0.7, 1.0);
  std::string texture;  // absolute path of an image file, or empty
  double roughness = 0.5;
  double lateral_friction = 0.5;
  double rolling_friction = 0.0;   // m (Bullet's rolling friction coefficient)
  double spinning_friction = 0.0;  // m
  double restitution = 0.0;
};

}  // namespace r2s::sim
