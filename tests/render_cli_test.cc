// `r2s render`: the files it writes for the tabletop scene, and its errors (bad scene: exit 2; no Vulkan
// device: exit 1 with a message that says what to install).

#include <gtest/gtest.h>

#include <fstream>

#include <nlohmann/json.hpp>

#include "render/image_io.h"
#include "tests/test_support.h"

namespace r2s::render {
namespace {

using r2s::testing::RunCommand;
using r2s::testing::RunR2s;
using r2s::testing::SourceDir;
using r2s::testing::TempDir;

TEST(RenderCliTest, WritesImagesPerCameraAndTheIdTable) {
  TempDir dir;
  const auto result = RunR2s({"render", "--scene", (SourceDir() / "scenes/tabletop").string(), "--out",
                              (dir / "out").string(), "--validation"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  EXPECT_NE(result.out.find("camera    front 640x480"), std::string::npos) << result.out;
  for (const std::string camera : {"front", "wrist"}) {
    const RgbImage rgb = ReadPngRgb8(dir / "out" / (camera + ".rgb.png"));
    EXPECT_EQ(rgb.width_px, camera == "front" ? 640 : 320);
    for (const std::string kind : {"depth_mm", "segmentation", "depth_preview", "segmentation_preview"}) {
      EXPECT_TRUE(std::filesystem::is_regular_file(dir / "out" / (camera + "." + kind + ".png"))) << kind;
    }
  }
  std::ifstream in(dir / "out" / "segmentation.json");
  const auto table = nlohmann::json::parse(in);
  ASSERT_TRUE(table.is_array());
  EXPECT_EQ(table[0]["id"], 1);
  EXPECT_EQ(table[0]["kind"], "link");
}

TEST(RenderCliTest, JsonReportNamesTheFilesPerCamera) {
  TempDir dir;
  const auto result = RunR2s({"render", "--scene", (SourceDir() / "scenes/tabletop").string(), "--out",
                              (dir / "out").string(), "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(result.out);
  ASSERT_EQ(report["cameras"].size(), 2u);
  EXPECT_EQ(report["cameras"][0]["name"], "front");
  EXPECT_EQ(report["cameras"][0]["width_px"], 640);
  for (const auto& camera : report["cameras"]) {
    EXPECT_TRUE(std::filesystem::is_regular_file(dir / "out" / camera["rgb"].get<std::string>()));
  }
  EXPECT_EQ(report["views"], 2);
}

TEST(RenderCliTest, BadSceneIsBadInput) {
  TempDir dir;
  const auto result = RunR2s({"render", "--scene", (dir / "nowhere").string(), "--out", (dir / "out").string()});
  EXPECT_EQ(result.exit_code, 2) << result.err;
}

TEST(RenderCliTest, NoVulkanDriverIsAClearError) {
  TempDir dir;
  // The loader then finds no driver at all.
  const auto result = RunCommand({"/usr/bin/env", "VK_ICD_FILENAMES=" + (dir / "none.json").string(),
                                  "VK_DRIVER_FILES=" + (dir / "none.json").string(), R2S_BINARY, "render", "--scene",
                                  (SourceDir() / "scenes/tabletop").string(), "--out", (dir / "out").string()});
  EXPECT_EQ(result.exit_code, 1) << result.err;
  EXPECT_NE(result.err.find("mesa-vulkan-drivers"), std::string::npos) << result.err;
}

}  // namespace
}  // namespace r2s::render
