#pragma once
// Internal: the matrices the shaders use. Cameras follow OpenCV (+z forward, +y down), which maps straight onto
// Vulkan's clip space (+y down); depth is reversed (near -> 1, far -> 0) for precision far from the camera.

#include <array>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "render/view_request.h"

namespace r2s::render {

// Camera frame -> Vulkan clip space. A point at pixel (u, v) of OpenCV's convention (centre of the top-left pixel
// at (0, 0)) lands at framebuffer coordinates (u + 0.5, v + 0.5), the centre of that pixel.
Eigen::Matrix4d ProjectionMatrix(const CameraIntrinsics& k);

// A directional light's shadow map: an orthographic view of a sphere (centre, radius) that holds every shadow
// caster, world -> clip space with depth in [0, 1] (near -> 0). texel_m is the size of one shadow-map texel.
struct ShadowView {
  Eigen::Matrix4d world_to_clip = Eigen::Matrix4d::Identity();
  double texel_m = 0;
  bool valid = false;  // false for a zero direction or an empty scene
};
ShadowView DirectionalShadowView(const Eigen::Vector3d& direction, const Eigen::Vector3d& center, double radius,
                                 int map_px);

// A point light's shadow cube: six 90-degree views (a little wider, kCubeFaceScale, so that filtering near a
// face's edge stays on the face), one per axis direction: face 2a + (0 for +, 1 for -) looks along axis a, with
// x_face = d[(a + 1) % 3], y_face = d[(a + 2) % 3] for d = point - light (render/shaders/scene.frag reads them the
// same way). Depth in [0, 1] from near_m to far_m.
inline constexpr double kCubeFaceScale = 1.05;
std::array<Eigen::Matrix4d, 6> PointShadowFaces(const Eigen::Vector3d& position, double near_m, double far_m);

}  // namespace r2s::render
