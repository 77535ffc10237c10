// B views rendered in one submission equal the same views rendered one at a time, bit for bit, and so do views
// split over several submissions through the staging ring: the tabletop scene in three world states, both cameras,
// and per-view parameter records that change lights, materials, intrinsics and extrinsics.

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "render/renderer.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "tests/render_test_util.h"

namespace r2s::render {
namespace {

using r2s::testing::SourceDir;
using r2s::testing::ValidatedRendererOptions;

struct Batch {
  std::shared_ptr<const sim::Model> model;
  std::vector<SceneState> states;
  std::vector<ViewRequest> views;
};

Batch MakeBatch() {
  Batch b;
  b.model = sim::LoadScene(SourceDir() / "scenes/tabletop");
  sim::World world(b.model);
  b.states.push_back(CaptureState(world));
  // The arm bent elsewhere, the cube lifted and turned.
  Eigen::VectorXd q = b.model->robot->initial_q;
  q[0] = 0.6;
  q[1] = 0.2;
  q[3] = -1.7;
  world.SetJointState(q, Eigen::VectorXd::Zero(q.size()));
  Eigen::Isometry3d cube = Eigen::Isometry3d::Identity();
  cube.translate(Eigen::Vector3d(0.1, 0.15, 0.2)).rotate(Eigen::AngleAxisd(0.7, Eigen::Vector3d(1, 2, 3).normalized()));
  world.SetObjectPose(0, cube);
  b.states.push_back(CaptureState(world));
  world.Step(200);  // the cube falls, the arm moves toward its command
  b.states.push_back(CaptureState(world));

  const CameraIntrinsics small{160, 120, 130.0, 130.0, 80.0, 60.0, 0.05, 4.0};
  auto add = [&](int state, int camera, auto&& edit) {
    ViewRequest v;
    v.state = state;
    v.camera = camera;
    v.params.intrinsics = small;
    edit(v.params);
    b.views.push_back(v);
  };
  add(0, 0, [](ViewParams&) {});
  add(0, 1, [](ViewParams&) {});
  add(1, 0, [](ViewParams&) {});
  add(1, 1, [](ViewParams& p) { p.intrinsics->near_m = 0.02; });
  add(2, 0, [&](ViewParams& p) {
    std::vector<sim::LightModel> lights = b.model->lights;
    lights[0].direction = Eigen::Vector3d(0.5, -0.2, -1.0).normalized();
    lights[0].color_rgb = Eigen::Vector3d(1.0, 0.6, 0.4);
    lights[0].intensity = 5.0;
    p.lights = lights;
  });
  add(2, 0, [](ViewParams& p) {
    p.materials.push_back({"board", Eigen::Vector4d(0.2, 0.5, 0.3, 1.0), std::nullopt, 0.2});
    p.materials.push_back({"acrylic", Eigen::Vector4d(0.9, 0.1, 0.1, 1.0), std::nullopt, std::nullopt});
    p.exposure = 0.8;
  });
  add(0, 0, [&](ViewParams& p) {
    std::vector<sim::LightModel> lights = b.model->lights;
    lights[1].casts_shadows = true;  // the point light's shadow map too
    p.lights = lights;
    p.materials.push_back({"board", std::nullopt, 0, std::nullopt});  // Renderer::AddTexture's first image
  });
  add(1, 0, [](ViewParams& p) {
    p.camera_offset = Eigen::Isometry3d(Eigen::AngleAxisd(0.05, Eigen::Vector3d::UnitY()));
    p.intrinsics = CameraIntrinsics{200, 100, 150.0, 150.0, 90.0, 45.0, 0.05, 4.0};
  });
  return b;
}

void ExpectSameFrames(const std::vector<Frame>& a, const std::vector<Frame>& b, const std::string& what) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].width_px, b[i].width_px);
    EXPECT_EQ(a[i].height_px, b[i].height_px);
    EXPECT_TRUE(a[i].rgb == b[i].rgb) << what << ": view " << i << " rgb";
    EXPECT_TRUE(a[i].depth_m == b[i].depth_m) << what << ": view " << i << " depth";
    EXPECT_TRUE(a[i].segmentation == b[i].segmentation) << what << ": view " << i << " segmentation";
  }
}

TEST(RenderBatchTest, OneSubmissionEqualsOneViewAtATime) {
  const Batch b = MakeBatch();
  RendererOptions batched = ValidatedRendererOptions();
  batched.views_per_submission = static_cast<int>(b.views.size());
  Renderer renderer(batched);
  renderer.LoadModel(b.model);
  const std::filesystem::path texture = SourceDir() / "scenes/tabletop/robot/meshes/visual/colors.png";
  ASSERT_EQ(renderer.AddTexture(texture), 0);
  std::vector<Frame> together;
  renderer.Render(b.states, b.views, &together);

  // The views differ from each other and show the scene, so equality below is not vacuous.
  for (std::size_t i = 0; i < together.size(); ++i) {
    const std::set<std::uint16_t> ids(together[i].segmentation.begin(), together[i].segmentation.end());
    EXPECT_GE(ids.size(), 2u) << "view " << i << " sees at least one body";
    for (std::size_t k = 0; k < i; ++k) EXPECT_FALSE(together[i].rgb == together[k].rgb) << i << " vs " << k;
  }

  std::vector<Frame> alone(b.views.size()), one;
  for (std::size_t i = 0; i < b.views.size(); ++i) {
    renderer.Render(b.states, std::span(&b.views[i], 1), &one);
    alone[i] = one[0];
  }
  ExpectSameFrames(together, alone, "one submission vs one at a time");

  // A fresh renderer that splits the batch into submissions of 2 through a ring of 2 staging buffers.
  RendererOptions ring = ValidatedRendererOptions();
  ring.views_per_submission = 2;
  ring.staging_buffers = 2;
  Renderer split(ring);
  split.LoadModel(b.model);
  ASSERT_EQ(split.AddTexture(texture), 0);
  std::vector<Frame> pieces;
  split.Render(b.states, b.views, &pieces);
  ExpectSameFrames(together, pieces, "submissions of 2 vs one submission");
}

}  // namespace
}  // namespace r2s::render
