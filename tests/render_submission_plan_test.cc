// What the renderer records for a submission, planned on the host (render/submission_plan.h): the tabletop scene in
// two world states, both cameras, and per-view parameter records that change lights, materials and intrinsics.
// Every view is planned once, its readback regions and uniform block sit at aligned, disjoint places inside their
// buffers, the shadow pass is there exactly when shadows are on, every view draws every item once, and a view plans
// the same in a batch as alone. No Vulkan.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "render/draw_list.h"
#include "render/submission_plan.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace r2s::render {
namespace {

using r2s::testing::SourceDir;

struct Batch {
  std::shared_ptr<const sim::Model> model;
  DrawList list;
  std::vector<SceneState> states;
  std::vector<ViewRequest> views;
  std::vector<ResolvedView> resolved;
};

constexpr int kAddedTextures = 1;

// The tabletop scene's draw list as the renderer builds it by default (collision shapes cast the shadows).
const Batch& TabletopBatch() {
  static const Batch batch = [] {
    Batch b;
    b.model = sim::LoadScene(SourceDir() / "scenes/tabletop");
    b.list = BuildDrawList(*b.model, ShadowCasters::kCollisionShapes);
    sim::World world(b.model);
    b.states.push_back(CaptureState(world));
    Eigen::VectorXd q = b.model->robot->initial_q;
    q[0] = 0.6;
    q[3] = -1.7;
    world.SetJointState(q, Eigen::VectorXd::Zero(q.size()));
    Eigen::Isometry3d cube = Eigen::Isometry3d::Identity();
    cube.translate(Eigen::Vector3d(0.1, 0.15, 0.2));
    world.SetObjectPose(0, cube);
    b.states.push_back(CaptureState(world));

    auto add = [&](int state, int camera, auto&& edit) {
      ViewRequest v;
      v.state = state;
      v.camera = camera;
      edit(v.params);
      b.views.push_back(v);
    };
    add(0, 0, [](ViewParams&) {});
    add(0, 1, [](ViewParams&) {});
    add(1, 0, [](ViewParams&) {});
    // Odd sizes: a region's end is not a multiple of the staging alignment.
    add(1, 1, [](ViewParams& p) { p.intrinsics = CameraIntrinsics{101, 77, 90.0, 90.0, 50.0, 38.0, 0.05, 4.0}; });
    add(0, 0, [&](ViewParams& p) {
      std::vector<sim::LightModel> lights = b.model->lights;
      lights[1].casts_shadows = true;  // the point light's cube too
      p.lights = lights;
      p.materials.push_back({"board", std::nullopt, 0, std::nullopt});  // the first added texture
      p.background_rgb = Eigen::Vector3d(0.2, 0.4, 0.6);
    });
    add(1, 0, [&](ViewParams& p) {
      std::vector<sim::LightModel> lights = b.model->lights;
      lights[0].direction = Eigen::Vector3d(0.5, -0.2, -1.0);
      p.lights = lights;
      p.materials.push_back({"acrylic", Eigen::Vector4d(0.9, 0.1, 0.1, 1.0), std::nullopt, 0.5});
    });
    add(0, 1, [](ViewParams&) {});  // the same view again: planned again, into its own layer
    for (std::size_t i = 0; i < b.views.size(); ++i) {
      b.resolved.push_back(ResolveView(*b.model, b.list, kAddedTextures, b.states, b.views[i], i));
    }
    return b;
  }();
  return batch;
}

SubmissionPlan Plan(const Batch& b, ViewRange range, const PlanSettings& settings = {}) {
  return PlanSubmission(*b.model, b.list, b.states, b.views, b.resolved, range, settings);
}

ViewRange All(const Batch& b) { return {0, b.views.size()}; }

TEST(RenderSubmissionPlanTest, EveryViewIsPlannedOnceWhateverTheSubmissionSize) {
  const Batch& b = TabletopBatch();
  for (int per_submission : {1, 2, 3, 7, 100}) {
    std::vector<int> seen(b.views.size(), 0);
    std::size_t next = 0;
    for (const ViewRange& range : SplitIntoSubmissions(b.views.size(), per_submission)) {
      EXPECT_EQ(range.first, next) << "submissions are consecutive";
      EXPECT_GE(range.count, 1u);
      EXPECT_LE(range.count, static_cast<std::size_t>(per_submission));
      next = range.first + range.count;
      const SubmissionPlan plan = Plan(b, range);
      ASSERT_EQ(plan.views.size(), range.count);
      for (std::size_t j = 0; j < plan.views.size(); ++j) {
        const PlannedView& v = plan.views[j];
        ASSERT_LT(v.view, b.views.size());
        EXPECT_EQ(v.view, range.first + j) << "views[j] draws into layer j, in request order";
        ++seen[v.view];
        EXPECT_EQ(v.width_px, b.resolved[v.view].intrinsics.width_px);
        EXPECT_EQ(v.height_px, b.resolved[v.view].intrinsics.height_px);
      }
    }
    EXPECT_EQ(next, b.views.size());
    for (std::size_t i = 0; i < seen.size(); ++i) {
      EXPECT_EQ(seen[i], 1) << "view " << i << " with " << per_submission << " per submission";
    }
  }
  EXPECT_TRUE(SplitIntoSubmissions(0, 4).empty());
  EXPECT_THROW(SplitIntoSubmissions(3, 0), std::invalid_argument);
}

TEST(RenderSubmissionPlanTest, ReadbackRegionsAreAlignedDisjointAndInsideTheStagingBuffer) {
  const Batch& b = TabletopBatch();
  const SubmissionPlan plan = Plan(b, All(b));
  std::vector<ReadbackRegion> regions;
  for (const PlannedView& v : plan.views) {
    const std::uint64_t pixels = static_cast<std::uint64_t>(v.width_px) * v.height_px;
    for (int a = 0; a < kNumReadbackOutputs; ++a) {
      const ReadbackRegion& r = v.readback[a];
      EXPECT_EQ(r.bytes, kReadbackBytesPerPixel[a] * pixels) << "view " << v.view << " output " << a;
      EXPECT_EQ(r.offset % kStagingAlignment, 0u) << "view " << v.view << " output " << a;
      EXPECT_LE(r.offset + r.bytes, plan.staging_bytes) << "view " << v.view << " output " << a;
      regions.push_back(r);
    }
  }
  std::sort(regions.begin(), regions.end(),
            [](const ReadbackRegion& x, const ReadbackRegion& y) { return x.offset < y.offset; });
  for (std::size_t k = 1; k < regions.size(); ++k) {
    EXPECT_LE(regions[k - 1].offset + regions[k - 1].bytes, regions[k].offset) << "regions overlap";
  }
  // No more than alignment padding between regions.
  std::uint64_t payload = 0;
  for (const ReadbackRegion& r : regions) payload += r.bytes;
  EXPECT_LT(plan.staging_bytes, payload + regions.size() * kStagingAlignment);
}

TEST(RenderSubmissionPlanTest, UniformBlocksRespectTheDeviceAlignment) {
  const Batch& b = TabletopBatch();
  for (std::uint64_t alignment : {1u, 16u, 64u, 256u}) {
    PlanSettings settings;
    settings.uniform_offset_alignment = alignment;
    const SubmissionPlan plan = Plan(b, All(b), settings);
    EXPECT_GE(plan.uniform_stride, sizeof(ViewGpu));
    EXPECT_EQ(plan.uniform_stride % std::max<std::uint64_t>(alignment, 16), 0u) << alignment;
    EXPECT_LT(plan.uniform_stride, sizeof(ViewGpu) + std::max<std::uint64_t>(alignment, 16));
    std::set<std::uint64_t> offsets;
    for (const PlannedView& v : plan.views) {
      EXPECT_EQ(v.uniform_offset % std::max<std::uint64_t>(alignment, 16), 0u) << "view " << v.view;
      EXPECT_LE(v.uniform_offset + sizeof(ViewGpu), plan.uniform_bytes) << "view " << v.view;
      offsets.insert(v.uniform_offset);
    }
    EXPECT_EQ(offsets.size(), plan.views.size()) << "one block per view";
  }
}

TEST(RenderSubmissionPlanTest, ShadowPassIsPlannedExactlyWhenShadowsAreOn) {
  const Batch& b = TabletopBatch();
  PlanSettings on;
  on.shadows = true;
  const SubmissionPlan lit = Plan(b, All(b), on);
  // A layer per distinct (state, directional light direction), six per (state, point light position) cast.
  std::set<std::tuple<int, double, double, double>> directional, point;
  for (std::size_t i = 0; i < b.views.size(); ++i) {
    for (const sim::LightModel& light : b.resolved[i].lights) {
      if (!light.casts_shadows) continue;
      if (light.kind == sim::LightModel::Kind::kPoint) {
        point.insert({b.views[i].state, light.position_m.x(), light.position_m.y(), light.position_m.z()});
      } else {
        const Eigen::Vector3d d = light.direction.normalized();
        directional.insert({b.views[i].state, d.x(), d.y(), d.z()});
      }
    }
  }
  ASSERT_FALSE(directional.empty());
  ASSERT_FALSE(point.empty());
  EXPECT_EQ(lit.shadow_layers.size(), directional.size() + 6 * point.size());
  ASSERT_FALSE(b.list.shadow_items.empty());
  for (const ShadowLayer& layer : lit.shadow_layers) {
    EXPECT_EQ(layer.casters.size(), b.list.shadow_items.size()) << "every caster drawn into every layer";
  }
  for (const PlannedView& v : lit.views) {
    const std::vector<sim::LightModel>& lights = b.resolved[v.view].lights;
    EXPECT_EQ(v.variant.num_lights, static_cast<int>(lights.size()));
    for (std::size_t l = 0; l < lights.size(); ++l) {
      const int layer = v.uniforms.lights[l].info[1];
      const bool point_light = lights[l].kind == sim::LightModel::Kind::kPoint;
      EXPECT_EQ(v.uniforms.lights[l].info[0], point_light ? 1 : 0);
      EXPECT_EQ((v.variant.point_mask >> l) & 1, point_light ? 1 : 0);
      EXPECT_EQ((v.variant.shadow_mask >> l) & 1, lights[l].casts_shadows ? 1 : 0) << "view " << v.view;
      if (!lights[l].casts_shadows) {
        EXPECT_EQ(layer, -1);
        continue;
      }
      ASSERT_GE(layer, 0) << "view " << v.view << " light " << l;
      ASSERT_LE(layer + (point_light ? 6 : 1), static_cast<int>(lit.shadow_layers.size()));
      EXPECT_EQ(lit.shadow_layers[layer].state, b.views[v.view].state) << "view " << v.view << " light " << l;
    }
  }

  PlanSettings off;
  off.shadows = false;
  const SubmissionPlan dark = Plan(b, All(b), off);
  EXPECT_TRUE(dark.shadow_layers.empty());
  for (const PlannedView& v : dark.views) {
    EXPECT_EQ(v.variant.shadow_mask, 0);
    for (int l = 0; l < v.variant.num_lights; ++l) EXPECT_EQ(v.uniforms.lights[l].info[1], -1);
  }
}

TEST(RenderSubmissionPlanTest, EachViewDrawsEveryItemOnceUntexturedThenTexturedNearToFar) {
  const Batch& b = TabletopBatch();
  const SubmissionPlan plan = Plan(b, All(b));
  const int board = b.list.FindMaterial("board");
  ASSERT_GE(board, 0);
  for (const PlannedView& v : plan.views) {
    ASSERT_EQ(v.draws.size(), b.list.items.size()) << "view " << v.view;
    std::set<std::uint32_t> items;
    for (std::size_t o = 0; o < v.draws.size(); ++o) {
      const PlannedDraw& d = v.draws[o];
      ASSERT_LT(d.item, b.list.items.size());
      items.insert(d.item);
      const DrawItem& item = b.list.items[d.item];
      EXPECT_EQ(d.push.segment, item.segmentation_id);
      EXPECT_EQ(d.texture.textured(), o >= v.first_textured) << "view " << v.view << " draw " << o;
      if (o > 0 && o != v.first_textured) {
        EXPECT_LE(v.draws[o - 1].distance_m, d.distance_m) << "view " << v.view << " draw " << o;
      }
      const bool overridden = v.view == 4 && item.material == board;
      if (overridden) {
        EXPECT_EQ(d.texture, (TextureRef{TextureRef::Source::kAdded, 0}));
      }
      if (d.texture.source == TextureRef::Source::kModel) {
        EXPECT_LT(d.texture.index, static_cast<int>(b.list.textures.size()));
      }
      if (d.texture.source == TextureRef::Source::kAdded) {
        EXPECT_TRUE(overridden) << "only view 4 adds a texture";
      }
    }
    EXPECT_EQ(items.size(), b.list.items.size()) << "view " << v.view << ": every item once";
    EXPECT_GT(v.first_textured, 0u) << "view " << v.view << ": the primitives are untextured";
    EXPECT_LT(v.first_textured, v.draws.size()) << "view " << v.view << ": the Panda's meshes are textured";
  }
  EXPECT_FLOAT_EQ(plan.views[4].clear_rgba[3], 1.0f);
  EXPECT_GT(plan.views[4].clear_rgba[2], plan.views[4].clear_rgba[0]) << "the blue background, in linear light";
}

// Everything a view draws, with its shadow layers' contents in place of their indices.
void ExpectSameView(const PlannedView& x, const SubmissionPlan& px, const PlannedView& y, const SubmissionPlan& py) {
  SCOPED_TRACE("view " + std::to_string(x.view));
  EXPECT_EQ(x.view, y.view);
  EXPECT_EQ(x.width_px, y.width_px);
  EXPECT_EQ(x.height_px, y.height_px);
  EXPECT_EQ(x.variant, y.variant);
  EXPECT_EQ(x.clear_rgba, y.clear_rgba);
  EXPECT_EQ(x.first_textured, y.first_textured);
  ASSERT_EQ(x.draws.size(), y.draws.size());
  for (std::size_t o = 0; o < x.draws.size(); ++o) {
    EXPECT_EQ(x.draws[o].item, y.draws[o].item) << "draw " << o;
    EXPECT_EQ(x.draws[o].texture, y.draws[o].texture) << "draw " << o;
    EXPECT_EQ(std::memcmp(&x.draws[o].push, &y.draws[o].push, sizeof(DrawPush)), 0) << "draw " << o;
  }
  for (int a = 0; a < kNumReadbackOutputs; ++a) EXPECT_EQ(x.readback[a].bytes, y.readback[a].bytes);

  ViewGpu ux = x.uniforms, uy = y.uniforms;
  for (int l = 0; l < x.variant.num_lights; ++l) {
    const int lx = ux.lights[l].info[1], ly = uy.lights[l].info[1];
    ASSERT_EQ(lx >= 0, ly >= 0) << "light " << l;
    const int layers = lx < 0 ? 0 : ux.lights[l].info[0] == 1 ? 6 : 1;
    for (int k = 0; k < layers; ++k) {
      const ShadowLayer& sx = px.shadow_layers.at(lx + k);
      const ShadowLayer& sy = py.shadow_layers.at(ly + k);
      EXPECT_EQ(sx.state, sy.state);
      EXPECT_EQ(sx.world_to_clip, sy.world_to_clip) << "light " << l << " layer " << k;
      ASSERT_EQ(sx.casters.size(), sy.casters.size());
      for (std::size_t i = 0; i < sx.casters.size(); ++i) {
        EXPECT_EQ(std::memcmp(&sx.casters[i], &sy.casters[i], sizeof(ShadowPush)), 0) << "caster " << i;
      }
    }
    ux.lights[l].info[1] = uy.lights[l].info[1] = 0;  // layer numbers differ between submissions
  }
  EXPECT_EQ(std::memcmp(&ux, &uy, sizeof(ViewGpu)), 0) << "uniform blocks";
}

TEST(RenderSubmissionPlanTest, OneBatchPlansEachViewAsOneViewAtATime) {
  const Batch& b = TabletopBatch();
  const SubmissionPlan together = Plan(b, All(b));
  ASSERT_EQ(together.views.size(), b.views.size());
  for (std::size_t i = 0; i < b.views.size(); ++i) {
    const SubmissionPlan alone = Plan(b, {i, 1});
    ASSERT_EQ(alone.views.size(), 1u);
    ExpectSameView(together.views[i], together, alone.views[0], alone);
    EXPECT_EQ(alone.views[0].uniform_offset, 0u);
    EXPECT_EQ(alone.views[0].readback[kReadbackColor].offset, 0u);
  }
  // Views of one state and light share its shadow layers; alone, each plans its own.
  std::size_t alone_layers = 0;
  for (std::size_t i = 0; i < b.views.size(); ++i) alone_layers += Plan(b, {i, 1}).shadow_layers.size();
  EXPECT_LT(together.shadow_layers.size(), alone_layers);
}

TEST(RenderSubmissionPlanTest, RejectsARangeOutsideTheViews) {
  const Batch& b = TabletopBatch();
  EXPECT_THROW(Plan(b, {b.views.size() - 1, 2}), std::invalid_argument);
  EXPECT_NO_THROW(Plan(b, {b.views.size(), 0}));
}

}  // namespace
}  // namespace r2s::render
