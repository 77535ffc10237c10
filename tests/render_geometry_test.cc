// The renderer against geometry computed here from the intrinsics: a plane's metric depth, a box's silhouette,
// and where 3-D points land in the image. Scenes are written inline; views carry their own cameras.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <vector>

#include "render/renderer.h"
#include "render/segmentation.h"
#include "tests/render_test_util.h"

namespace r2s::render {
namespace {

using r2s::testing::LoadInlineScene;
using r2s::testing::LookAt;
using r2s::testing::TempDir;
using r2s::testing::ValidatedRendererOptions;

// Pixel (u, v) of a camera-frame point, OpenCV's convention.
Eigen::Vector2d Project(const CameraIntrinsics& k, const Eigen::Vector3d& p) {
  return {k.fx_px * p.x() / p.z() + k.cx_px, k.fy_px * p.y() / p.z() + k.cy_px};
}

ViewRequest OwnCamera(const CameraIntrinsics& k, const Eigen::Isometry3d& pose) {
  ViewRequest view;
  view.camera = -1;
  view.params.intrinsics = k;
  view.params.camera_pose = pose;
  return view;
}

constexpr const char* kPlaneScene = R"YAML(
name: plane
environment:
  - {name: floor, shape: {plane: [0, 0, 1]}}
)YAML";

TEST(RenderGeometryTest, PlaneDepthIsTheAnalyticDistance) {
  TempDir dir;
  const auto model = LoadInlineScene(dir, kPlaneScene);
  Renderer renderer(ValidatedRendererOptions());
  renderer.LoadModel(model);
  // Off-centre principal point and unequal focal lengths, so a swapped or mirrored axis shows.
  const CameraIntrinsics k{160, 120, 150.0, 140.0, 83.3, 55.7, 0.05, 3.0};
  // Straight down from 1 m: every pixel is 1 m deep. Then tilted 55 degrees: depth varies across the image, and
  // beyond far_m nothing is drawn.
  const Eigen::Isometry3d down = LookAt({0.2, -0.1, 1.0}, {0.2, -0.1, 0.0}, Eigen::Vector3d::UnitY());
  const Eigen::Isometry3d tilted = LookAt({0.0, 0.0, 1.0}, {0.0, std::tan(55.0 * M_PI / 180.0), 0.0});
  const SceneState state = InitialState(*model);
  const std::vector<ViewRequest> views{OwnCamera(k, down), OwnCamera(k, tilted)};
  std::vector<Frame> frames;
  renderer.Render(std::span(&state, 1), views, &frames);

  for (std::size_t i = 0; i < views.size(); ++i) {
    const Eigen::Isometry3d& pose = *views[i].params.camera_pose;
    int checked = 0, empty = 0;
    double worst = 0;
    for (int v = 0; v < k.height_px; ++v) {
      for (int u = 0; u < k.width_px; ++u) {
        // The ray through the pixel centre, z = 1 in the camera frame, meets the plane z = 0 at depth t.
        const Eigen::Vector3d ray((u - k.cx_px) / k.fx_px, (v - k.cy_px) / k.fy_px, 1.0);
        const Eigen::Vector3d dir = pose.linear() * ray;
        const double t = dir.z() < 0 ? -pose.translation().z() / dir.z() : std::numeric_limits<double>::infinity();
        const float depth = frames[i].depth_m[v * k.width_px + u];
        if (std::abs(t - k.far_m) < 0.01) continue;  // where the far plane cuts, either answer is right
        if (t > k.far_m) {
          EXPECT_EQ(depth, 0.0f) << "pixel " << u << "," << v << " beyond far_m";
          ++empty;
          continue;
        }
        worst = std::max(worst, std::abs(depth - t));
        ++checked;
      }
    }
    EXPECT_LT(worst, 1e-3) << "view " << i;
    EXPECT_GT(checked, k.width_px * k.height_px / 2) << "view " << i;
    if (i == 1) {
      EXPECT_GT(empty, 100) << "the tilted view should see past far_m";
    }
  }
  // The straight-down view at 1 m: within 1 mm everywhere (in practice float rounding, ~1e-6 m).
  for (float d : frames[0].depth_m) ASSERT_NEAR(d, 1.0, 1e-3);
}

constexpr const char* kBoxScene = R"YAML(
name: box
objects:
  - name: box
    shape: {box: [0.2, 0.1, 0.05]}
    mass_kg: 1.0
    initial_pose: {position_m: [0.05, -0.03, 0.02], rpy_rad: [0.3, -0.2, 0.7]}
environment:
  - {name: floor, shape: {box: [2, 2, 0.02]}, pose: {position_m: [0, 0, -0.3]}}
)YAML";

// Is point p inside the convex polygon (counter-clockwise or clockwise)?
bool InsideConvex(const std::vector<Eigen::Vector2d>& hull, const Eigen::Vector2d& p) {
  double sign = 0;
  for (std::size_t i = 0; i < hull.size(); ++i) {
    const Eigen::Vector2d a = hull[i], b = hull[(i + 1) % hull.size()];
    const double cross = (b - a).x() * (p - a).y() - (b - a).y() * (p - a).x();
    if (cross == 0) continue;
    if (sign == 0) sign = cross;
    if ((cross > 0) != (sign > 0)) return false;
  }
  return true;
}

std::vector<Eigen::Vector2d> ConvexHull(std::vector<Eigen::Vector2d> points) {
  std::sort(points.begin(), points.end(),
            [](const auto& a, const auto& b) { return a.x() < b.x() || (a.x() == b.x() && a.y() < b.y()); });
  std::vector<Eigen::Vector2d> hull;
  auto cross = [](const Eigen::Vector2d& o, const Eigen::Vector2d& a, const Eigen::Vector2d& b) {
    return (a - o).x() * (b - o).y() - (a - o).y() * (b - o).x();
  };
  for (int pass = 0; pass < 2; ++pass) {
    const std::size_t start = hull.size();
    for (const auto& p : points) {
      while (hull.size() >= start + 2 && cross(hull[hull.size() - 2], hull.back(), p) <= 0) hull.pop_back();
      hull.push_back(p);
    }
    hull.pop_back();
    std::reverse(points.begin(), points.end());
  }
  return hull;
}

TEST(RenderGeometryTest, BoxSegmentationMatchesItsProjectedSilhouette) {
  TempDir dir;
  const auto model = LoadInlineScene(dir, kBoxScene);
  Renderer renderer(ValidatedRendererOptions());
  renderer.LoadModel(model);
  const CameraIntrinsics k{320, 240, 300.0, 290.0, 158.2, 123.9, 0.05, 5.0};
  const Eigen::Isometry3d camera = LookAt({0.55, 0.35, 0.45}, {0.0, 0.0, 0.0});
  const SceneState state = InitialState(*model);
  std::vector<Frame> frames;
  renderer.Render(std::span(&state, 1), std::vector<ViewRequest>{OwnCamera(k, camera)}, &frames);

  const Eigen::Isometry3d box_in_camera = camera.inverse() * model->objects[0].initial_pose;
  const Eigen::Vector3d half(0.1, 0.05, 0.025);
  std::vector<Eigen::Vector2d> corners;
  for (int c = 0; c < 8; ++c) {
    const Eigen::Vector3d corner((c & 1) ? half.x() : -half.x(), (c & 2) ? half.y() : -half.y(),
                                 (c & 4) ? half.z() : -half.z());
    corners.push_back(Project(k, box_in_camera * corner));
  }
  const std::vector<Eigen::Vector2d> hull = ConvexHull(corners);
  const std::uint16_t box_id = ObjectSegmentationId(*model, 0);
  const std::uint16_t floor_id = EnvironmentSegmentationId(*model, 0);
  int intersection = 0, in_union = 0, expected = 0, floor_pixels = 0;
  for (int v = 0; v < k.height_px; ++v) {
    for (int u = 0; u < k.width_px; ++u) {
      const bool want = InsideConvex(hull, Eigen::Vector2d(u, v));
      const std::uint16_t id = frames[0].segmentation[v * k.width_px + u];
      const bool got = id == box_id;
      intersection += want && got;
      in_union += want || got;
      expected += want;
      floor_pixels += id == floor_id;
    }
  }
  ASSERT_GT(expected, 2000) << "the box should cover a good part of the image";
  EXPECT_GT(floor_pixels, 1000) << "the floor behind the box has its own id";
  const double iou = static_cast<double>(intersection) / in_union;
  EXPECT_GE(iou, 0.98) << intersection << " / " << in_union;
  RecordProperty("iou", std::to_string(iou));
}

// A static body a variant moved (amplify/variant_draw.h: environment.<body> placements) is drawn where the state
// says, from one LoadModel of the unmoved scene: a box on the floor, seen from above, moved 0.2 m along x.
constexpr const char* kStaticBoxScene = R"YAML(
name: static_box
environment:
  - {name: floor, shape: {plane: [0, 0, 1]}}
  - {name: bin, shape: {box: [0.1, 0.1, 0.05]}, pose: {position_m: [-0.1, 0.0, 0.025]}}
)YAML";

TEST(RenderGeometryTest, AMovedStaticBodyIsDrawnWhereTheStateSays) {
  TempDir dir;
  const auto model = LoadInlineScene(dir, kStaticBoxScene);
  Renderer renderer(ValidatedRendererOptions());
  renderer.LoadModel(model);
  const CameraIntrinsics k{160, 120, 150.0, 150.0, 79.5, 59.5, 0.05, 3.0};
  const Eigen::Isometry3d camera = LookAt({0.0, 0.0, 1.0}, {0.0, 0.0, 0.0}, Eigen::Vector3d::UnitY());
  SceneState scene = InitialState(*model);
  ASSERT_EQ(scene.environment_poses.size(), 2u);
  SceneState moved = scene;
  moved.environment_poses[1].translation().x() += 0.2;
  const std::vector<SceneState> states{scene, moved};
  std::vector<Frame> frames;
  const std::vector<ViewRequest> views{OwnCamera(k, camera)};
  const std::uint16_t bin = EnvironmentSegmentationId(*model, 1);
  // The bin's pixels' mean column, per state.
  const auto centre_u = [&](int state) {
    std::vector<ViewRequest> one = views;
    one[0].state = state;
    renderer.Render(std::span(states), one, &frames);
    double sum = 0;
    int count = 0;
    for (int v = 0; v < k.height_px; ++v) {
      for (int u = 0; u < k.width_px; ++u) {
        if (frames[0].segmentation[v * k.width_px + u] != bin) continue;
        sum += u;
        ++count;
      }
    }
    EXPECT_GT(count, 100) << "state " << state;
    return count ? sum / count : 0.0;
  };
  const Eigen::Vector2d expected_scene = Project(k, camera.inverse() * Eigen::Vector3d(-0.1, 0, 0.05));
  const Eigen::Vector2d expected_moved = Project(k, camera.inverse() * Eigen::Vector3d(0.1, 0, 0.05));
  EXPECT_NEAR(centre_u(0), expected_scene.x(), 1.0);
  EXPECT_NEAR(centre_u(1), expected_moved.x(), 1.0);

  // A state with the wrong number of static poses is refused.
  SceneState bad = scene;
  bad.environment_poses.pop_back();
  EXPECT_THROW(renderer.Render(std::span(&bad, 1), views, &frames), std::invalid_argument);
}

constexpr const char* kPointsScene = R"YAML(
name: points
objects:
  - {name: p0, shape: {sphere: 0.01}, mass_kg: 0.01, initial_pose: {position_m: [0.0, 0.0, 0.0]}}
  - {name: p1, shape: {sphere: 0.01}, mass_kg: 0.01, initial_pose: {position_m: [0.21, 0.13, 0.05]}}
  - {name: p2, shape: {sphere: 0.01}, mass_kg: 0.01, initial_pose: {position_m: [-0.17, 0.2, -0.04]}}
  - {name: p3, shape: {sphere: 0.01}, mass_kg: 0.01, initial_pose: {position_m: [0.1, -0.22, 0.1]}}
  - {name: p4, shape: {sphere: 0.01}, mass_kg: 0.01, initial_pose: {position_m: [-0.25, -0.15, 0.02]}}
)YAML";

TEST(RenderGeometryTest, PointsLandWhereTheIntrinsicsPredict) {
  TempDir dir;
  const auto model = LoadInlineScene(dir, kPointsScene);
  Renderer renderer(ValidatedRendererOptions());
  renderer.LoadModel(model);
  const CameraIntrinsics k{320, 240, 520.0, 480.0, 171.4, 104.6, 0.05, 5.0};
  const Eigen::Isometry3d camera = LookAt({0.3, -0.2, 0.9}, {0.0, 0.05, 0.0});
  const SceneState state = InitialState(*model);
  std::vector<Frame> frames;
  renderer.Render(std::span(&state, 1), std::vector<ViewRequest>{OwnCamera(k, camera)}, &frames);

  for (int i = 0; i < static_cast<int>(model->objects.size()); ++i) {
    const Eigen::Vector3d p = camera.inverse() * model->objects[i].initial_pose.translation();
    const Eigen::Vector2d predicted = Project(k, p);
    const std::uint16_t id = ObjectSegmentationId(*model, i);
    Eigen::Vector2d sum = Eigen::Vector2d::Zero();
    int count = 0;
    for (int v = 0; v < k.height_px; ++v) {
      for (int u = 0; u < k.width_px; ++u) {
        if (frames[0].segmentation[v * k.width_px + u] != id) continue;
        sum += Eigen::Vector2d(u, v);
        ++count;
      }
    }
    ASSERT_GT(count, 20) << model->objects[i].name << " should cover a small disc";
    const Eigen::Vector2d centroid = sum / count;
    // The disc's centroid is the projected centre to within pixel sampling (a sphere's image is an ellipse
    // whose centre moves off the projected centre by ~(r/z)^2 of its distance from the principal point:
    // ~0.02 px here).
    EXPECT_LT((centroid - predicted).norm(), 0.5)
        << model->objects[i].name << ": predicted " << predicted.transpose() << ", drawn " << centroid.transpose();
    // And the nearest surface point is one radius in front of the centre.
    const int u = static_cast<int>(std::lround(predicted.x())), v = static_cast<int>(std::lround(predicted.y()));
    EXPECT_NEAR(frames[0].depth_m[v * k.width_px + u], p.z() - 0.01, 1e-3);
  }
}

constexpr const char* kShadowScene = R"YAML(
name: shadow
materials:
  grey: {rgba: [0.5, 0.5, 0.5, 1]}
objects:
  - {name: block, shape: {box: [0.1, 0.1, 0.1]}, mass_kg: 1.0, initial_pose: {position_m: [0, 0, 0.35]}}
environment:
  - {name: floor, shape: {box: [3, 3, 0.1]}, pose: {position_m: [0, 0, -0.05]}, material: grey}
)YAML";

TEST(RenderGeometryTest, ShadowsFallWhereTheLightIsBlocked) {
  TempDir dir;
  const auto model = LoadInlineScene(dir, kShadowScene);
  Renderer renderer(ValidatedRendererOptions());
  renderer.LoadModel(model);
  const CameraIntrinsics k{200, 200, 200.0, 200.0, 99.5, 99.5, 0.05, 5.0};
  const Eigen::Isometry3d down = LookAt({0.0, 0.0, 1.5}, {0.0, 0.0, 0.0}, Eigen::Vector3d::UnitY());
  const SceneState state = InitialState(*model);
  // Sunlight at 45 degrees from +x (directional) and a bulb above -x (point): the block 0.35 m up throws its
  // shadow 0.35 m toward +x from the sun, and toward +x again from the bulb at (-0.6, 0, 1.2).
  sim::LightModel sun;
  sun.direction = Eigen::Vector3d(1, 0, -1).normalized();
  sun.intensity = 3.0;
  sim::LightModel bulb;
  bulb.kind = sim::LightModel::Kind::kPoint;
  bulb.position_m = Eigen::Vector3d(-0.6, 0, 1.2);
  bulb.intensity = 4.0;
  std::vector<ViewRequest> views;
  for (const sim::LightModel& light : {sun, bulb}) {
    for (bool shadows : {true, false}) {
      ViewRequest v = OwnCamera(k, down);
      v.params.lights = std::vector<sim::LightModel>{light};
      v.params.lights->front().casts_shadows = shadows;
      v.params.ambient_rgb = Eigen::Vector3d::Constant(0.05);
      views.push_back(v);
    }
  }
  std::vector<Frame> frames;
  renderer.Render(std::span(&state, 1), views, &frames);

  // Brightness of the floor around a world point (the camera looks straight down: x right, y down the image).
  const Eigen::Isometry3d world_to_camera = down.inverse();
  auto floor_brightness = [&](const Frame& f, const Eigen::Vector3d& world) {
    const Eigen::Vector2d uv = Project(k, world_to_camera * world);
    double sum = 0;
    for (int dv = -2; dv <= 2; ++dv) {
      for (int du = -2; du <= 2; ++du) {
        const int p = (static_cast<int>(uv.y()) + dv) * k.width_px + static_cast<int>(uv.x()) + du;
        EXPECT_EQ(f.segmentation[p], EnvironmentSegmentationId(*model, 0)) << "sampling the floor";
        sum += f.rgb[3 * p] + f.rgb[3 * p + 1] + f.rgb[3 * p + 2];
      }
    }
    return sum / 75.0;
  };
  // Where the block's centre projects along each light onto the floor (z = 0); beside it, 0.3 m along y, a spot
  // the block hides from neither light and about as far from the bulb.
  const Eigen::Vector3d block(0, 0, 0.35);
  const Eigen::Vector3d sun_shadow(0.35, 0, 0);
  const Eigen::Vector3d to_floor = block - bulb.position_m;
  const Eigen::Vector3d bulb_shadow = block + to_floor * (0.35 / -to_floor.z());
  const Eigen::Vector3d shadows[2] = {sun_shadow, bulb_shadow};
  for (int light = 0; light < 2; ++light) {
    const Frame& with = frames[2 * light];
    const Frame& without = frames[2 * light + 1];
    const Eigen::Vector3d lit_spot = shadows[light] + Eigen::Vector3d(0, 0.3, 0);
    EXPECT_LT(floor_brightness(with, shadows[light]), 0.5 * floor_brightness(with, lit_spot)) << "light " << light;
    EXPECT_GT(floor_brightness(without, shadows[light]), 0.8 * floor_brightness(without, lit_spot))
        << "light " << light << " without shadows";
    // Away from the shadow, shadows change nothing.
    EXPECT_NEAR(floor_brightness(with, lit_spot), floor_brightness(without, lit_spot), 1.0) << "light " << light;
  }
}

}  // namespace
}  // namespace r2s::render
