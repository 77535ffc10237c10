#include "render/projection.h"

#include <algorithm>
#include <cmath>

namespace r2s::render {
namespace {

// Rows of a world -> light-frame rotation whose third axis is `forward`.
Eigen::Matrix3d LookAlong(const Eigen::Vector3d& forward) {
  const Eigen::Vector3d z = forward.normalized();
  const Eigen::Vector3d x = z.unitOrthogonal();
  const Eigen::Vector3d y = z.cross(x);
  Eigen::Matrix3d r;
  r.row(0) = x;
  r.row(1) = y;
  r.row(2) = z;
  return r;
}

}  // namespace

Eigen::Matrix4d ProjectionMatrix(const CameraIntrinsics& k) {
  const double w = k.width_px, h = k.height_px, n = k.near_m, f = k.far_m;
  Eigen::Matrix4d p = Eigen::Matrix4d::Zero();
  // x_ndc = 2 (u + 0.5) / w - 1 with u = fx x / z + cx; multiplied through by w_clip = z.
  p(0, 0) = 2 * k.fx_px / w;
  p(0, 2) = (2 * k.cx_px + 1) / w - 1;
  p(1, 1) = 2 * k.fy_px / h;
  p(1, 2) = (2 * k.cy_px + 1) / h - 1;
  // z_ndc = n (f - z) / (z (f - n)): 1 at the near plane, 0 at the far one.
  p(2, 2) = -n / (f - n);
  p(2, 3) = n * f / (f - n);
  p(3, 2) = 1;
  return p;
}

ShadowView DirectionalShadowView(const Eigen::Vector3d& direction, const Eigen::Vector3d& center, double radius,
                                 int map_px) {
  ShadowView view;
  if (!(direction.norm() > 0) || !(radius > 0)) return view;
  const Eigen::Matrix3d r = LookAlong(direction);
  // Orthographic: x, y in [-radius, radius] -> [-1, 1]; depth from (center - radius * dir) -> 0 to +radius -> 1.
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  m.topLeftCorner<3, 3>() = r / radius;
  m.row(2).head<3>() = r.row(2) / (2 * radius);
  m(0, 3) = -r.row(0).dot(center) / radius;
  m(1, 3) = -r.row(1).dot(center) / radius;
  m(2, 3) = 0.5 - r.row(2).dot(center) / (2 * radius);
  view.world_to_clip = m;
  view.texel_m = 2 * radius / map_px;
  view.valid = true;
  return view;
}

std::array<Eigen::Matrix4d, 6> PointShadowFaces(const Eigen::Vector3d& position, double near_m, double far_m) {
  std::array<Eigen::Matrix4d, 6> faces;
  Eigen::Matrix4d proj = Eigen::Matrix4d::Zero();
  proj(0, 0) = 1 / kCubeFaceScale;
  proj(1, 1) = 1 / kCubeFaceScale;
  proj(2, 2) = far_m / (far_m - near_m);  // depth 0 at near_m, 1 at far_m
  proj(2, 3) = -near_m * far_m / (far_m - near_m);
  proj(3, 2) = 1;
  for (int axis = 0; axis < 3; ++axis) {
    for (int negative = 0; negative < 2; ++negative) {
      Eigen::Matrix4d view = Eigen::Matrix4d::Zero();
      view(0, (axis + 1) % 3) = 1;
      view(1, (axis + 2) % 3) = 1;
      view(2, axis) = negative ? -1 : 1;
      view(3, 3) = 1;
      view.topRightCorner<3, 1>() = -view.topLeftCorner<3, 3>() * position;
      faces[2 * axis + negative] = proj * view;
    }
  }
  return faces;
}

}  // namespace r2s::render
