#include "render/draw_list.h"

#include <cmath>
#include <map>
#include <numbers>

#include "render/color.h"
#include "render/segmentation.h"

namespace r2s::render {
namespace {

constexpr int kRoundSegments = 48;  // around spheres and cylinders: silhouettes within 0.2 % of the radius
constexpr int kSphereRings = 24;

struct Geometry {
  std::uint32_t first_index = 0;
  std::uint32_t index_count = 0;
  std::int32_t vertex_offset = 0;
  Eigen::Vector3d bound_center = Eigen::Vector3d::Zero();
  double bound_radius = 0;
};

// Appends blocks of vertices and the triangles that index them (from the block's first vertex).
class Builder {
 public:
  Builder(std::vector<Vertex>& vertices, std::vector<std::uint32_t>& indices)
      : vertices_(vertices), indices_(indices) {}

  // Starts a block of vertices that the following indices count from.
  void Begin() {
    block_first_index_ = static_cast<std::uint32_t>(indices_.size());
    block_vertex_offset_ = static_cast<std::int32_t>(vertices_.size());
    lo_ = Eigen::Vector3d::Constant(std::numeric_limits<double>::max());
    hi_ = -lo_;
  }
  std::uint32_t Add(const Eigen::Vector3d& p, const Eigen::Vector3d& n, double u, double v) {
    lo_ = lo_.cwiseMin(p);
    hi_ = hi_.cwiseMax(p);
    vertices_.push_back({{static_cast<float>(p.x()), static_cast<float>(p.y()), static_cast<float>(p.z())},
                         {static_cast<float>(n.x()), static_cast<float>(n.y()), static_cast<float>(n.z())},
                         {static_cast<float>(u), static_cast<float>(v)}});
    return static_cast<std::uint32_t>(vertices_.size() - block_vertex_offset_ - 1);
  }
  void Triangle(std::uint32_t a, std::uint32_t b, std::uint32_t c) { indices_.insert(indices_.end(), {a, b, c}); }
  Geometry End() {
    Geometry g;
    g.first_index = block_first_index_;
    g.index_count = static_cast<std::uint32_t>(indices_.size()) - block_first_index_;
    g.vertex_offset = block_vertex_offset_;
    g.bound_center = 0.5 * (lo_ + hi_);
    g.bound_radius = 0.5 * (hi_ - lo_).norm();
    return g;
  }

 private:
  std::vector<Vertex>& vertices_;
  std::vector<std::uint32_t>& indices_;
  std::uint32_t block_first_index_ = 0;
  std::int32_t block_vertex_offset_ = 0;
  Eigen::Vector3d lo_, hi_;
};

Geometry Box(Builder& b, const Eigen::Vector3d& size) {
  b.Begin();
  const Eigen::Vector3d h = 0.5 * size;
  for (int axis = 0; axis < 3; ++axis) {
    for (int sign : {1, -1}) {
      Eigen::Vector3d n = Eigen::Vector3d::Zero();
      n[axis] = sign;
      // Two in-face directions with t x s = n, so (s, t) runs counter-clockwise seen from outside.
      Eigen::Vector3d s = Eigen::Vector3d::Zero(), t = Eigen::Vector3d::Zero();
      s[(axis + 1) % 3] = 1;
      t[(axis + 2) % 3] = 1;
      if (sign < 0) s = -s;
      const Eigen::Vector3d c = n.cwiseProduct(h);
      const Eigen::Vector3d hs = h[(axis + 1) % 3] * s, ht = h[(axis + 2) % 3] * t;
      const std::uint32_t v0 = b.Add(c - hs - ht, n, 0, 1), v1 = b.Add(c + hs - ht, n, 1, 1);
      const std::uint32_t v2 = b.Add(c + hs + ht, n, 1, 0), v3 = b.Add(c - hs + ht, n, 0, 0);
      b.Triangle(v0, v1, v2);
      b.Triangle(v0, v2, v3);
    }
  }
  return b.End();
}

Geometry Sphere(Builder& b, double radius) {
  b.Begin();
  for (int ring = 0; ring <= kSphereRings; ++ring) {
    const double theta = std::numbers::pi * ring / kSphereRings;  // from +z down
    for (int seg = 0; seg <= kRoundSegments; ++seg) {
      const double phi = 2 * std::numbers::pi * seg / kRoundSegments;
      const Eigen::Vector3d n(std::sin(theta) * std::cos(phi), std::sin(theta) * std::sin(phi), std::cos(theta));
      b.Add(radius * n, n, static_cast<double>(seg) / kRoundSegments, static_cast<double>(ring) / kSphereRings);
    }
  }
  const std::uint32_t row = kRoundSegments + 1;
  for (std::uint32_t ring = 0; ring < kSphereRings; ++ring) {
    for (std::uint32_t seg = 0; seg < kRoundSegments; ++seg) {
      const std::uint32_t a = ring * row + seg, c = a + row;
      b.Triangle(a, c, c + 1);
      b.Triangle(a, c + 1, a + 1);
    }
  }
  return b.End();
}

Geometry Cylinder(Builder& b, double radius, double length) {
  b.Begin();
  const double h = 0.5 * length;
  for (int seg = 0; seg <= kRoundSegments; ++seg) {
    const double phi = 2 * std::numbers::pi * seg / kRoundSegments;
    const Eigen::Vector3d n(std::cos(phi), std::sin(phi), 0);
    b.Add(radius * n + Eigen::Vector3d(0, 0, -h), n, static_cast<double>(seg) / kRoundSegments, 1);
    b.Add(radius * n + Eigen::Vector3d(0, 0, h), n, static_cast<double>(seg) / kRoundSegments, 0);
  }
  for (std::uint32_t seg = 0; seg < kRoundSegments; ++seg) {
    const std::uint32_t a = 2 * seg;
    b.Triangle(a, a + 2, a + 3);
    b.Triangle(a, a + 3, a + 1);
  }
  for (int sign : {1, -1}) {
    const Eigen::Vector3d n(0, 0, sign);
    const std::uint32_t center = b.Add(Eigen::Vector3d(0, 0, sign * h), n, 0.5, 0.5);
    std::uint32_t first = 0;
    for (int seg = 0; seg <= kRoundSegments; ++seg) {
      const double phi = 2 * std::numbers::pi * seg / kRoundSegments;
      const std::uint32_t v = b.Add(Eigen::Vector3d(radius * std::cos(phi), radius * std::sin(phi), sign * h), n,
                                    0.5 + 0.5 * std::cos(phi), 0.5 - 0.5 * std::sin(phi));
      if (seg == 0) first = v;
    }
    for (std::uint32_t seg = 0; seg < kRoundSegments; ++seg) {
      if (sign > 0) {
        b.Triangle(center, first + seg, first + seg + 1);
      } else {
        b.Triangle(center, first + seg + 1, first + seg);
      }
    }
  }
  return b.End();
}

Geometry Plane(Builder& b, const Eigen::Vector3d& normal) {
  b.Begin();
  const Eigen::Vector3d n = normal.normalized();
  const Eigen::Vector3d s = n.unitOrthogonal(), t = n.cross(s);
  const double w = kPlaneHalfWidthM;
  // Texture coordinates in metres: a texture repeats once per metre.
  const std::uint32_t v0 = b.Add(-w * s - w * t, n, -w, w), v1 = b.Add(w * s - w * t, n, w, w);
  const std::uint32_t v2 = b.Add(w * s + w * t, n, w, -w), v3 = b.Add(-w * s + w * t, n, -w, -w);
  b.Triangle(v0, v1, v2);
  b.Triangle(v0, v2, v3);
  return b.End();
}

// Area-weighted vertex normals, for meshes whose files carry none.
std::vector<Eigen::Vector3d> SmoothNormals(const sim::TriangleMesh& mesh) {
  std::vector<Eigen::Vector3d> normals(mesh.vertices_m.size(), Eigen::Vector3d::Zero());
  for (const auto& t : mesh.triangles) {
    const Eigen::Vector3d n =
        (mesh.vertices_m[t[1]] - mesh.vertices_m[t[0]]).cross(mesh.vertices_m[t[2]] - mesh.vertices_m[t[0]]);
    for (std::uint32_t v : t) normals[v] += n;
  }
  for (auto& n : normals) n = n.norm() > 0 ? n.normalized() : Eigen::Vector3d::UnitZ();
  return normals;
}

Geometry Mesh(Builder& b, const sim::TriangleMesh& mesh) {
  b.Begin();
  const std::vector<Eigen::Vector3d> computed =
      mesh.normals.empty() ? SmoothNormals(mesh) : std::vector<Eigen::Vector3d>{};
  for (std::size_t v = 0; v < mesh.vertices_m.size(); ++v) {
    const Eigen::Vector3d n = mesh.normals.empty() ? computed[v] : mesh.normals[v].cast<double>();
    const Eigen::Vector2f uv = mesh.uvs.empty() ? Eigen::Vector2f::Zero() : mesh.uvs[v];
    // Assimp's texture coordinates have v up; images are stored top row first.
    b.Add(mesh.vertices_m[v], n, uv.x(), 1.0 - uv.y());
  }
  for (const auto& t : mesh.triangles) b.Triangle(t[0], t[1], t[2]);
  return b.End();
}

class ListBuilder {
 public:
  ListBuilder(const sim::Model& model, DrawList& list)
      : model_(model), list_(list), builder_(list.vertices, list.indices) {
    list_.material_names.push_back("");
    list_.materials.push_back(model.MaterialOf(""));
    list_.material_textures.push_back(Texture(list_.materials[0].texture, {}, model.scene_file.string()));
    for (const auto& [name, material] : model.materials) {
      list_.material_names.push_back(name);
      list_.materials.push_back(material);
      list_.material_textures.push_back(Texture(material.texture, {}, model.scene_file.string()));
    }
  }

  // Appends the shapes' draw items to `out` (DrawList::items or DrawList::shadow_items, each with its own
  // vertices).
  void Body(BodyKind kind, int index, const std::vector<sim::Shape>& shapes, std::uint16_t segmentation_id,
            std::vector<DrawItem>& out) {
    const bool shadow = &out == &list_.shadow_items;
    for (const sim::Shape& shape : shapes) {
      DrawItem item;
      item.body = kind;
      item.body_index = index;
      item.origin = shape.origin;
      item.material = std::max(0, list_.FindMaterial(shape.material));
      item.segmentation_id = segmentation_id;
      item.is_plane = shape.kind == sim::ShapeKind::kPlane;
      if (shape.kind == sim::ShapeKind::kMesh && shape.mesh) {
        if (shadow) {
          // One draw for the whole mesh: the shadow pass needs no materials.
          Place(item, MeshGeometry(*shape.mesh));
          out.push_back(item);
        } else {
          AddMesh(item, *shape.mesh);
        }
        continue;
      }
      Geometry g;
      switch (shape.kind) {
        case sim::ShapeKind::kBox:
          g = Box(builder_, shape.box_size_m);
          break;
        case sim::ShapeKind::kSphere:
          g = Sphere(builder_, shape.radius_m);
          break;
        case sim::ShapeKind::kCylinder:
          g = Cylinder(builder_, shape.radius_m, shape.length_m);
          break;
        case sim::ShapeKind::kPlane:
          g = Plane(builder_, shape.plane_normal);
          break;
        case sim::ShapeKind::kMesh:
          continue;  // a mesh shape without a mesh: nothing to draw
      }
      Place(item, g);
      out.push_back(item);
    }
  }

 private:
  static void Place(DrawItem& item, const Geometry& g) {
    item.first_index = g.first_index;
    item.index_count = g.index_count;
    item.vertex_offset = g.vertex_offset;
    item.bound_center = g.bound_center;
    item.bound_radius = g.bound_radius;
  }

  const Geometry& MeshGeometry(const sim::TriangleMesh& mesh) {
    auto it = meshes_.find(&mesh);
    if (it == meshes_.end()) it = meshes_.emplace(&mesh, Mesh(builder_, mesh)).first;
    return it->second;
  }

  void AddMesh(DrawItem item, const sim::TriangleMesh& mesh) {
    const Geometry& g = MeshGeometry(mesh);
    std::vector<sim::TriangleMesh::Part> parts = mesh.parts;
    if (parts.empty()) {
      parts.emplace_back();
      parts.back().num_triangles = static_cast<std::uint32_t>(mesh.triangles.size());
    }
    for (const auto& part : parts) {
      Geometry pg = g;
      pg.first_index = g.first_index + 3 * part.first_triangle;
      pg.index_count = 3 * part.num_triangles;
      Place(item, pg);
      item.part_rgba = SrgbToLinear(Eigen::Vector4d(part.diffuse_rgba.cast<double>())).cast<float>();
      item.part_texture = Texture(part.texture, part.embedded_texture, mesh.source);
      list_.items.push_back(item);
    }
  }

  int Texture(const std::string& file, const std::shared_ptr<const std::vector<std::uint8_t>>& embedded,
              const std::string& referenced_from) {
    if (embedded) {
      list_.textures.push_back({{}, embedded, referenced_from});
      return static_cast<int>(list_.textures.size()) - 1;
    }
    if (file.empty()) return -1;
    auto it = texture_files_.find(file);
    if (it != texture_files_.end()) return it->second;
    list_.textures.push_back({file, nullptr, referenced_from});
    return texture_files_[file] = static_cast<int>(list_.textures.size()) - 1;
  }

  const sim::Model& model_;
  DrawList& list_;
  Builder builder_;
  std::map<const sim::TriangleMesh*, Geometry> meshes_;
  std::map<std::string, int> texture_files_;
};

}  // namespace

int DrawList::FindMaterial(const std::string& name) const {
  for (std::size_t i = 0; i < material_names.size(); ++i) {
    if (material_names[i] == name) return static_cast<int>(i);
  }
  return -1;
}

DrawList BuildDrawList(const sim::Model& model, ShadowCasters casters) {
  DrawList list;
  ListBuilder builder(model, list);
  // Collision shapes stand in for a body's visuals in the shadow pass where the body has any.
  auto shadow_shapes = [&](const std::vector<sim::Shape>& visuals, const std::vector<sim::Shape>& collisions) {
    return casters == ShadowCasters::kCollisionShapes && !collisions.empty() ? collisions : visuals;
  };
  if (model.robot) {
    for (int i = 0; i < static_cast<int>(model.robot->links.size()); ++i) {
      const sim::Link& link = model.robot->links[i];
      builder.Body(BodyKind::kLink, i, link.visuals, LinkSegmentationId(model, i), list.items);
      builder.Body(BodyKind::kLink, i, shadow_shapes(link.visuals, link.collisions), LinkSegmentationId(model, i),
                   list.shadow_items);
    }
  }
  for (int i = 0; i < static_cast<int>(model.objects.size()); ++i) {
    const sim::ObjectModel& object = model.objects[i];
    builder.Body(BodyKind::kObject, i, object.visuals, ObjectSegmentationId(model, i), list.items);
    builder.Body(BodyKind::kObject, i, shadow_shapes(object.visuals, object.collisions), ObjectSegmentationId(model, i),
                 list.shadow_items);
  }
  for (int i = 0; i < static_cast<int>(model.environment.size()); ++i) {
    const sim::ObjectModel& body = model.environment[i];
    builder.Body(BodyKind::kEnvironment, i, body.visuals, EnvironmentSegmentationId(model, i), list.items);
    builder.Body(BodyKind::kEnvironment, i, shadow_shapes(body.visuals, body.collisions),
                 EnvironmentSegmentationId(model, i), list.shadow_items);
  }
  // Planes are infinite: they receive shadows but cast none.
  std::erase_if(list.shadow_items, [](const DrawItem& item) { return item.is_plane; });
  return list;
}

}  // namespace r2s::render
