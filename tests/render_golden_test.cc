// The tabletop scene's two cameras at the initial state against stored images (tests/golden/). The comparison
// allows small differences (another LLVM or Mesa version rasterizes edges and rounds shading slightly
// differently); a change in geometry, lighting or materials fails it.
//
// To regenerate the images after an intended change in what is drawn:
//   R2S_UPDATE_GOLDEN=1 build/<dir>/tests/render_golden_test
// then look at them before committing.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "render/image_io.h"
#include "render/renderer.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "tests/render_test_util.h"

namespace r2s::render {
namespace {

namespace fs = std::filesystem;
using r2s::testing::SourceDir;
using r2s::testing::ValidatedRendererOptions;

bool Updating() {
  const char* update = std::getenv("R2S_UPDATE_GOLDEN");
  return update != nullptr && std::string(update) == "1";
}

TEST(RenderGoldenTest, TabletopCamerasMatchTheStoredImages) {
  const auto model = sim::LoadScene(SourceDir() / "scenes/tabletop");
  const sim::World world(model);
  const SceneState state = CaptureState(world);
  // Exact shadows, from the visual meshes, as the stored images were drawn: this test is about what is drawn
  // (geometry, lighting, materials), not about the cheaper collision-shape shadows that are the default since
  // (render_options_test compares those with these).
  RendererOptions options = ValidatedRendererOptions();
  options.collision_shapes_cast_shadows = false;
  Renderer renderer(options);
  renderer.LoadModel(model);
  std::vector<ViewRequest> views(model->cameras.size());
  for (std::size_t c = 0; c < views.size(); ++c) views[c].camera = static_cast<int>(c);
  std::vector<Frame> frames;
  renderer.Render(std::span(&state, 1), views, &frames);

  for (std::size_t c = 0; c < frames.size(); ++c) {
    const Frame& f = frames[c];
    const fs::path rgb_file = SourceDir() / "tests/golden" / ("tabletop_" + model->cameras[c].name + ".png");
    const fs::path segmentation_file =
        SourceDir() / "tests/golden" / ("tabletop_" + model->cameras[c].name + "_segmentation.png");
    if (Updating()) {
      WritePngRgb8(rgb_file, f.width_px, f.height_px, f.rgb.data());
      WriteSegmentationPreviewPng(segmentation_file, f);
      continue;
    }
    const RgbImage golden = ReadPngRgb8(rgb_file);
    ASSERT_EQ(golden.width_px, f.width_px);
    ASSERT_EQ(golden.height_px, f.height_px);
    const std::size_t pixels = static_cast<std::size_t>(f.width_px) * f.height_px;
    double sum = 0;
    std::size_t off = 0;
    for (std::size_t p = 0; p < pixels; ++p) {
      int worst = 0;
      for (int ch = 0; ch < 3; ++ch) {
        const int d = std::abs(int(golden.rgb[3 * p + ch]) - int(f.rgb[3 * p + ch]));
        sum += d;
        worst = std::max(worst, d);
      }
      off += worst > 12;
    }
    const double mean = sum / (3.0 * pixels);
    EXPECT_LT(mean, 1.0) << rgb_file << ": mean absolute difference";
    EXPECT_LT(off, pixels / 200) << rgb_file << ": pixels more than 12 levels off";

    // Segmentation through its false-colour picture: ids must match but for edge pixels.
    const r2s::testing::TempDir dir;
    WriteSegmentationPreviewPng(dir / "seg.png", f);
    const RgbImage drawn = ReadPngRgb8(dir / "seg.png");
    const RgbImage stored = ReadPngRgb8(segmentation_file);
    ASSERT_EQ(stored.rgb.size(), drawn.rgb.size());
    std::size_t differing = 0;
    for (std::size_t p = 0; p < pixels; ++p) {
      differing += !std::equal(&drawn.rgb[3 * p], &drawn.rgb[3 * p + 3], &stored.rgb[3 * p]);
    }
    EXPECT_LT(differing, pixels / 500) << segmentation_file << ": pixels with another id";
  }
  if (Updating()) GTEST_SKIP() << "golden images rewritten under " << SourceDir() / "tests/golden";
}

}  // namespace
}  // namespace r2s::render
