// Rendering options that trade exactness for speed (scene.yaml's rendering: section, r2s render's and r2s
// generate's --shadows, --shadow-casters, --shadow-map-px): the section compiles into the model, reaches the
// renderer through ApplyRendering, the command line overrides it, and bad values are refused naming the key or
// the flag. Bad scene values have their rows in scene_bad_input_test.cc.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "episode/input_error.h"
#include "render/image_io.h"
#include "render/renderer.h"
#include "sim/world.h"
#include "tests/render_test_util.h"

namespace r2s::render {
namespace {

namespace fs = std::filesystem;
using r2s::testing::LoadInlineScene;
using r2s::testing::LookAt;
using r2s::testing::RunR2s;
using r2s::testing::SourceDir;
using r2s::testing::TempDir;
using r2s::testing::ValidatedRendererOptions;
using Casters = sim::RenderSettings::ShadowCasters;

// A block 0.35 m above a grey floor, a sun at 45 degrees from +x (its shadow falls 0.35 m toward +x) and a
// camera straight above. RENDERING is replaced by the test's rendering: section.
constexpr const char* kShadowScene = R"YAML(
name: shadow
materials:
  grey: {rgba: [0.5, 0.5, 0.5, 1]}
objects:
  - {name: block, shape: {box: [0.1, 0.1, 0.1]}, mass_kg: 1.0, initial_pose: {position_m: [0, 0, 0.35]}}
environment:
  - {name: floor, shape: {box: [3, 3, 0.1]}, pose: {position_m: [0, 0, -0.05]}, material: grey}
cameras:
  - {name: top, pose: {position_m: [0, 0, 1.5], look_at_m: [0, 0, 0], up: [0, 1, 0]}, resolution: [96, 96],
     fov_y_deg: 60}
lights:
  - {name: sun, type: directional, direction: [1, 0, -1], intensity: 3.0}
RENDERING)YAML";

std::string ShadowScene(const std::string& rendering) {
  std::string yaml = kShadowScene;
  return yaml.replace(yaml.find("RENDERING"), 9, rendering);
}

TEST(RenderOptionsTest, SectionCompilesIntoTheModel) {
  TempDir dir;
  const auto defaults = LoadInlineScene(dir, ShadowScene(""));
  EXPECT_TRUE(defaults->rendering.shadows);
  EXPECT_EQ(defaults->rendering.shadow_casters, Casters::kCollision);
  EXPECT_EQ(defaults->rendering.shadow_map_px, 1024);

  const auto model = LoadInlineScene(
      dir, ShadowScene("rendering:\n  shadows: false\n  shadow_casters: visual\n  shadow_map_px: 512\n"));
  EXPECT_FALSE(model->rendering.shadows);
  EXPECT_EQ(model->rendering.shadow_casters, Casters::kVisual);
  EXPECT_EQ(model->rendering.shadow_map_px, 512);
}

TEST(RenderOptionsTest, ApplyRenderingTakesTheSceneThenTheOverrides) {
  sim::RenderSettings scene;
  scene.shadows = false;
  scene.shadow_casters = Casters::kVisual;
  scene.shadow_map_px = 256;
  RendererOptions options;
  options.device = "kept";
  ApplyRendering(scene, {}, &options);
  EXPECT_FALSE(options.shadows);
  EXPECT_FALSE(options.collision_shapes_cast_shadows);
  EXPECT_EQ(options.shadow_map_px, 256);
  EXPECT_EQ(options.device, "kept");

  RenderingOverrides overrides;
  overrides.shadows = "on";
  overrides.shadow_casters = "collision";
  overrides.shadow_map_px = 512;
  ApplyRendering(scene, overrides, &options);
  EXPECT_TRUE(options.shadows);
  EXPECT_TRUE(options.collision_shapes_cast_shadows);
  EXPECT_EQ(options.shadow_map_px, 512);

  // The defaults agree: a renderer built without a scene draws as a scene without a rendering: section.
  RendererOptions from_defaults;
  ApplyRendering(sim::RenderSettings{}, {}, &from_defaults);
  EXPECT_EQ(from_defaults.shadows, RendererOptions{}.shadows);
  EXPECT_EQ(from_defaults.collision_shapes_cast_shadows, RendererOptions{}.collision_shapes_cast_shadows);
  EXPECT_EQ(from_defaults.shadow_map_px, RendererOptions{}.shadow_map_px);
}

TEST(RenderOptionsTest, BadOverridesNameTheOverrideField) {
  // The library names the override by its field (the command line maps it to its flag: the CLI tests below).
  const auto problem = [](const RenderingOverrides& overrides) -> std::string {
    RendererOptions options;
    try {
      ApplyRendering(sim::RenderSettings{}, overrides, &options);
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), kRenderingOverridesSource);
      return e.field() + ": " + e.problem();
    }
    return "no error";
  };
  RenderingOverrides shadows;
  shadows.shadows = "maybe";
  EXPECT_EQ(problem(shadows), "shadows: 'maybe' is not on or off");
  RenderingOverrides casters;
  casters.shadow_casters = "mesh";
  EXPECT_EQ(problem(casters), "shadow_casters: 'mesh' is not visual or collision");
  RenderingOverrides map;
  map.shadow_map_px = 8;
  EXPECT_EQ(problem(map), "shadow_map_px: must lie in [16, 16384] pixels, found 8");
}

// Mean brightness (R + G + B) of the 5x5 pixels around where a floor point projects.
double FloorBrightness(const Frame& f, const CameraIntrinsics& k, const Eigen::Isometry3d& camera_pose,
                       const Eigen::Vector3d& world) {
  const Eigen::Vector3d p = camera_pose.inverse() * world;
  const int u = static_cast<int>(k.fx_px * p.x() / p.z() + k.cx_px);
  const int v = static_cast<int>(k.fy_px * p.y() / p.z() + k.cy_px);
  double sum = 0;
  for (int dv = -2; dv <= 2; ++dv) {
    for (int du = -2; du <= 2; ++du) {
      const int i = (v + dv) * k.width_px + u + du;
      sum += f.rgb[3 * i] + f.rgb[3 * i + 1] + f.rgb[3 * i + 2];
    }
  }
  return sum / 25.0;
}

// The scene's section reaches the renderer: with shadows off the floor under the block is lit, with them on
// (either kind of caster) it is dark; away from the shadow nothing changes.
TEST(RenderOptionsTest, SceneSectionReachesTheRenderer) {
  const CameraIntrinsics k{160, 160, 160.0, 160.0, 79.5, 79.5, 0.05, 5.0};
  const Eigen::Isometry3d top = LookAt({0.0, 0.0, 1.5}, {0.0, 0.0, 0.0}, Eigen::Vector3d::UnitY());
  const Eigen::Vector3d shadow(0.35, 0, 0), lit(0.35, 0.3, 0);
  std::vector<double> in_shadow, beside;
  for (const std::string rendering :
       {"rendering: {shadows: false}\n", "rendering: {shadow_casters: visual, shadow_map_px: 512}\n",
        "rendering: {shadow_casters: collision}\n"}) {
    TempDir dir;
    const auto model = LoadInlineScene(dir, ShadowScene(rendering));
    RendererOptions options = ValidatedRendererOptions();
    ApplyRendering(model->rendering, {}, &options);
    Renderer renderer(options);
    renderer.LoadModel(model);
    const SceneState state = InitialState(*model);
    ViewRequest view;
    view.camera = -1;
    view.params.intrinsics = k;
    view.params.camera_pose = top;
    view.params.ambient_rgb = Eigen::Vector3d::Constant(0.05);
    std::vector<Frame> frames;
    renderer.Render(std::span(&state, 1), std::span(&view, 1), &frames);
    in_shadow.push_back(FloorBrightness(frames[0], k, top, shadow));
    beside.push_back(FloorBrightness(frames[0], k, top, lit));
  }
  EXPECT_GT(in_shadow[0], 0.8 * beside[0]) << "shadows: false";
  for (int i : {1, 2}) {
    EXPECT_LT(in_shadow[i], 0.5 * beside[i]) << "case " << i;
    EXPECT_NEAR(beside[i], beside[0], 1.0) << "case " << i;
  }
}

// Mean absolute difference (levels, over every channel) and the fraction of pixels more than 12 levels off in
// some channel.
struct ImageDifference {
  double mean = 0;
  double changed = 0;
};

ImageDifference Compare(const std::vector<std::uint8_t>& a, const std::vector<std::uint8_t>& b) {
  EXPECT_EQ(a.size(), b.size());
  ImageDifference d;
  const std::size_t pixels = a.size() / 3;
  for (std::size_t p = 0; p < pixels; ++p) {
    int worst = 0;
    for (int c = 0; c < 3; ++c) {
      const int x = std::abs(int(a[3 * p + c]) - int(b[3 * p + c]));
      d.mean += x;
      worst = std::max(worst, x);
    }
    d.changed += worst > 12;
  }
  d.mean /= static_cast<double>(a.size());
  d.changed /= static_cast<double>(pixels);
  return d;
}

// The Panda's collision meshes cast the tabletop's shadows (the default) without a validation message, and the
// cameras' images stay close to the exact (visual-mesh) shadows': the measurement that made collision casters
// the default (docs/scenes.md, "Rendering").
TEST(RenderOptionsTest, CollisionCastersStayCloseToVisualOnTheTabletop) {
  const auto model = sim::LoadScene(SourceDir() / "scenes/tabletop");
  const sim::World world(model);
  const SceneState state = CaptureState(world);
  std::vector<ViewRequest> views(model->cameras.size());
  for (std::size_t c = 0; c < views.size(); ++c) views[c].camera = static_cast<int>(c);
  std::vector<std::vector<Frame>> frames(2);
  for (int collision : {0, 1}) {
    RendererOptions options = ValidatedRendererOptions();
    options.collision_shapes_cast_shadows = collision == 1;
    Renderer renderer(options);
    renderer.LoadModel(model);
    renderer.Render(std::span(&state, 1), views, &frames[collision]);
  }
  for (std::size_t c = 0; c < views.size(); ++c) {
    const ImageDifference d = Compare(frames[0][c].rgb, frames[1][c].rgb);
    EXPECT_LT(d.mean, 0.5) << model->cameras[c].name;
    EXPECT_LT(d.changed, 0.01) << model->cameras[c].name;
    EXPECT_EQ(frames[0][c].segmentation, frames[1][c].segmentation) << "shadows change no id";
  }
}

// `r2s render`: each flag overrides the scene's section; a bad one is bad input naming the flag.
TEST(RenderOptionsTest, CommandLineOverridesTheScene) {
  TempDir dir;
  r2s::testing::WriteTextFile(dir / "off" / "scene.yaml", ShadowScene("rendering: {shadows: false}\n"));
  r2s::testing::WriteTextFile(dir / "on" / "scene.yaml", ShadowScene("rendering: {shadows: true}\n"));
  int runs = 0;
  const auto render = [&](const std::string& scene, std::vector<std::string> flags) {
    const fs::path out = dir / ("out" + std::to_string(runs++));
    std::vector<std::string> args{"render", "--scene", (dir / scene).string(), "--out", out.string(), "--validation"};
    args.insert(args.end(), flags.begin(), flags.end());
    const auto result = RunR2s(args);
    EXPECT_EQ(result.exit_code, 0) << result.err;
    return ReadPngRgb8(out / "top.rgb.png").rgb;
  };
  const auto off = render("off", {});
  const auto on = render("on", {});
  EXPECT_GT(Compare(off, on).changed, 0.003) << "the shadow shows (about 0.6 % of the image)";
  EXPECT_EQ(render("on", {"--shadows", "off"}), off);
  EXPECT_EQ(render("off", {"--shadows", "on"}), on);
  // Casters and map size change the shadow's edge only; the run must take them.
  EXPECT_LT(Compare(render("off", {"--shadows", "on", "--shadow-casters", "visual", "--shadow-map-px", "256"}), on)
                .changed,
            0.05);

  for (const auto& [flag, value] : {std::pair{"--shadow-casters", "mesh"}, std::pair{"--shadow-map-px", "8"},
                                    std::pair{"--shadows", "maybe"}}) {
    const auto result =
        RunR2s({"render", "--scene", (dir / "on").string(), "--out", (dir / "bad").string(), flag, value});
    EXPECT_EQ(result.exit_code, 2) << flag;
    EXPECT_NE(result.err.find(std::string(flag) + ":"), std::string::npos) << result.err;
  }
}

// `r2s generate` takes the same flags and checks them before it reads the dataset.
TEST(RenderOptionsTest, GenerateTakesTheFlags) {
  TempDir dir;
  const auto result = RunR2s({"generate", "--scene", (SourceDir() / "scenes/tabletop").string(), "--episodes",
                              (dir / "none").string(), "--variants", "1", "--out", (dir / "out").string(),
                              "--shadow-casters", "mesh"});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("--shadow-casters: 'mesh' is not visual or collision"), std::string::npos) << result.err;
  const auto help = RunR2s({"generate", "--help"});
  for (const char* flag : {"--shadows", "--shadow-casters", "--shadow-map-px"}) {
    EXPECT_NE(help.out.find(flag), std::string::npos) << flag;
  }
}

}  // namespace
}  // namespace r2s::render
