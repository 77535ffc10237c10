#include "sim/mass_properties.h"

#include <array>
#include <cmath>
#include <map>
#include <stdexcept>
#include <utility>

namespace r2s::sim {
namespace {

// Mass properties at unit density, in the shape's own frame.
struct UnitMass {
  double volume = 0;
  Eigen::Vector3d com = Eigen::Vector3d::Zero();
  Eigen::Matrix3d inertia = Eigen::Matrix3d::Zero();  // about com, per unit density
};

UnitMass Box(const Eigen::Vector3d& size, const Eigen::Vector3d& center) {
  UnitMass u;
  u.volume = size.x() * size.y() * size.z();
  u.com = center;
  const Eigen::Vector3d s2 = size.cwiseProduct(size);
  u.inertia.diagonal() << s2.y() + s2.z(), s2.x() + s2.z(), s2.x() + s2.y();
  u.inertia *= u.volume / 12.0;
  return u;
}

// Vertex indices welded by exact position: Assimp splits vertices per face when normals or UVs differ.
std::vector<std::uint32_t> WeldedIndices(const TriangleMesh& mesh) {
  std::map<std::array<double, 3>, std::uint32_t> first;
  std::vector<std::uint32_t> welded(mesh.vertices_m.size());
  for (std::size_t i = 0; i < mesh.vertices_m.size(); ++i) {
    const auto& v = mesh.vertices_m[i];
    welded[i] = first.emplace(std::array<double, 3>{v.x(), v.y(), v.z()}, static_cast<std::uint32_t>(i)).first->second;
  }
  return welded;
}

Eigen::AlignedBox3d Bounds(const TriangleMesh& mesh) {
  Eigen::AlignedBox3d box;
  for (const auto& v : mesh.vertices_m) box.extend(v);
  return box;
}

// Signed-tetrahedron integration (Blow & Binstock's covariance form of the divergence theorem).
UnitMass ClosedMesh(const TriangleMesh& mesh) {
  const Eigen::Vector3d ref = Bounds(mesh).center();  // integrate about a nearby point to limit cancellation
  Eigen::Matrix3d canonical;
  canonical << 2, 1, 1, 1, 2, 1, 1, 1, 2;
  canonical /= 120.0;
  double volume = 0;
  Eigen::Vector3d first_moment = Eigen::Vector3d::Zero();
  Eigen::Matrix3d covariance = Eigen::Matrix3d::Zero();
  for (const auto& t : mesh.triangles) {
    Eigen::Matrix3d a;
    a.col(0) = mesh.vertices_m[t[0]] - ref;
    a.col(1) = mesh.vertices_m[t[1]] - ref;
    a.col(2) = mesh.vertices_m[t[2]] - ref;
    const double det = a.determinant();
    volume += det / 6.0;
    first_moment += det / 24.0 * (a.col(0) + a.col(1) + a.col(2));
    covariance += det * a * canonical * a.transpose();
  }
  if (volume < 0) {  // wound inside out: every integral flips sign together
    volume = -volume;
    first_moment = -first_moment;
    covariance = -covariance;
  }
  UnitMass u;
  u.volume = volume;
  const Eigen::Vector3d com = first_moment / volume;
  covariance -= volume * com * com.transpose();
  u.inertia = covariance.trace() * Eigen::Matrix3d::Identity() - covariance;
  u.com = com + ref;
  return u;
}

UnitMass OfShape(const Shape& shape) {
  switch (shape.kind) {
    case ShapeKind::kBox:
      return Box(shape.box_size_m, Eigen::Vector3d::Zero());
    case ShapeKind::kSphere: {
      UnitMass u;
      const double r = shape.radius_m;
      u.volume = 4.0 / 3.0 * M_PI * r * r * r;
      u.inertia = Eigen::Matrix3d::Identity() * (0.4 * u.volume * r * r);
      return u;
    }
    case ShapeKind::kCylinder: {
      UnitMass u;
      const double r = shape.radius_m, h = shape.length_m;
      u.volume = M_PI * r * r * h;
      const double radial = u.volume * (3 * r * r + h * h) / 12.0;
      u.inertia.diagonal() << radial, radial, u.volume * r * r / 2.0;
      return u;
    }
    case ShapeKind::kMesh: {
      if (!shape.mesh || shape.mesh->vertices_m.empty()) throw std::invalid_argument("ComputeInertial: empty mesh");
      if (IsClosedMesh(*shape.mesh)) {
        UnitMass u = ClosedMesh(*shape.mesh);
        if (u.volume > 1e-15) return u;
      }
      const auto box = Bounds(*shape.mesh);
      return Box(box.sizes(), box.center());
    }
    case ShapeKind::kPlane:
      break;
  }
  throw std::invalid_argument("ComputeInertial: a plane has no volume");
}

}  // namespace

bool IsClosedMesh(const TriangleMesh& mesh) {
  if (mesh.triangles.empty()) return false;
  const auto welded = WeldedIndices(mesh);
  std::map<std::pair<std::uint32_t, std::uint32_t>, int> directed;
  for (const auto& t : mesh.triangles) {
    for (int k = 0; k < 3; ++k) {
      const std::uint32_t a = welded.at(t[k]), b = welded.at(t[(k + 1) % 3]);
      if (a == b) continue;  // degenerate triangle: contributes nothing
      if (++directed[{a, b}] > 1) return false;
    }
  }
  for (const auto& [edge, count] : directed) {
    auto reverse = directed.find({edge.second, edge.first});
    if (reverse == directed.end() || reverse->second != count) return false;
  }
  return true;
}

double ShapeVolume(const Shape& shape) { return OfShape(shape).volume; }

Inertial ComputeInertial(const std::vector<Shape>& shapes, double mass_kg) {
  if (shapes.empty()) throw std::invalid_argument("ComputeInertial: no shapes");
  if (!(mass_kg > 0) || !std::isfinite(mass_kg)) throw std::invalid_argument("ComputeInertial: mass must be > 0");
  std::vector<UnitMass> parts;
  double volume = 0;
  Eigen::Vector3d moment = Eigen::Vector3d::Zero();
  for (const Shape& shape : shapes) {
    UnitMass u = OfShape(shape);
    // Into the owner's frame.
    const Eigen::Matrix3d r = shape.origin.linear();
    u.com = shape.origin * u.com;
    u.inertia = r * u.inertia * r.transpose();
    volume += u.volume;
    moment += u.volume * u.com;
    parts.push_back(u);
  }
  if (!(volume > 0)) throw std::invalid_argument("ComputeInertial: the shapes have no volume");
  const double density = mass_kg / volume;
  Inertial inertial;
  inertial.mass_kg = mass_kg;
  inertial.com_m = moment / volume;
  for (const UnitMass& u : parts) {
    const Eigen::Vector3d d = u.com - inertial.com_m;
    const Eigen::Matrix3d shift = d.squaredNorm() * Eigen::Matrix3d::Identity() - d * d.transpose();
    inertial.inertia_kgm2 += density * (u.inertia + u.volume * shift);
  }
  inertial.inertia_kgm2 = 0.5 * (inertial.inertia_kgm2 + inertial.inertia_kgm2.transpose()).eval();
  return inertial;
}

}  // namespace r2s::sim
