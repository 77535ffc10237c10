// Failures are clear errors: no device, bad requests (named field and value), unreadable textures, and the
// validation layer's messages, which make the call that caused them throw.

#include <gtest/gtest.h>

#include <vulkan/vulkan.h>

#include "episode/input_error.h"
#include "render/render_error.h"
#include "render/renderer.h"
#include "render/vk/context.h"
#include "sim/scene_compiler.h"
#include "tests/render_test_util.h"

namespace r2s::render {
namespace {

using r2s::testing::SourceDir;
using r2s::testing::TempDir;
using r2s::testing::ValidatedRendererOptions;

// EXPECT_THROW plus a look at the message.
template <typename Error, typename F>
std::string MessageOf(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception of the expected type";
  return "";
}

TEST(RenderErrorTest, NoMatchingDeviceSaysWhichDevicesExist) {
  RendererOptions options = ValidatedRendererOptions();
  options.device = "no-such-gpu";
  try {
    Renderer renderer(options);
    FAIL() << "a renderer was created on a device that does not exist";
  } catch (const RenderError& e) {
    EXPECT_EQ(e.kind(), RenderError::Kind::kNoDevice);
    EXPECT_NE(std::string(e.what()).find("no-such-gpu"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("devices:"), std::string::npos) << e.what();
  }
}

TEST(RenderErrorTest, ValidationMessagesBecomeErrors) {
  // Misuse Vulkan on purpose through the renderer's own context: a buffer of size 0 breaks
  // VUID-VkBufferCreateInfo-size-00912.
  vk::Context context(vk::ContextOptions{true, ""});
  context.ThrowIfValidationFailed();  // nothing yet
  VkBufferCreateInfo info{};
  info.sType = VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO;
  info.size = 0;
  info.usage = VK_BUFFER_USAGE_STORAGE_BUFFER_BIT;
  VkBuffer buffer = VK_NULL_HANDLE;
  vkCreateBuffer(context.device(), &info, nullptr, &buffer);
  if (buffer != VK_NULL_HANDLE) vkDestroyBuffer(context.device(), buffer, nullptr);
  try {
    context.ThrowIfValidationFailed();
    FAIL() << "the validation layer's message was not reported";
  } catch (const RenderError& e) {
    EXPECT_EQ(e.kind(), RenderError::Kind::kValidation);
    EXPECT_NE(std::string(e.what()).find("00912"), std::string::npos) << e.what();
  }
  context.ThrowIfValidationFailed();  // reported once
}

TEST(RenderErrorTest, BadRequestsNameTheFieldAndValue) {
  const auto model = sim::LoadScene(SourceDir() / "scenes/tabletop");
  Renderer renderer(ValidatedRendererOptions());
  std::vector<Frame> frames;
  const SceneState state = InitialState(*model);
  const auto render = [&](const ViewRequest& v) { renderer.Render(std::span(&state, 1), std::span(&v, 1), &frames); };

  EXPECT_NE(MessageOf<std::logic_error>([&] { render(ViewRequest{}); }).find("before LoadModel"), std::string::npos);
  renderer.LoadModel(model);

  ViewRequest v;
  v.state = 3;
  EXPECT_NE(MessageOf<std::invalid_argument>([&] { render(v); }).find("views[0].state = 3"), std::string::npos);
  v = {};
  v.camera = 7;
  EXPECT_NE(MessageOf<std::invalid_argument>([&] { render(v); }).find("camera = 7"), std::string::npos);
  v = {};
  v.camera = -1;
  EXPECT_NE(MessageOf<std::invalid_argument>([&] { render(v); }).find("needs params.intrinsics"), std::string::npos);
  v = {};
  v.params.intrinsics = CameraIntrinsics{64, 48, -5.0, 50.0, 32.0, 24.0, 0.1, 2.0};
  EXPECT_NE(MessageOf<std::invalid_argument>([&] { render(v); }).find("fx_px = -5"), std::string::npos);
  v.params.intrinsics = CameraIntrinsics{64, 48, 50.0, 50.0, 32.0, 24.0, 2.0, 2.0};
  EXPECT_NE(MessageOf<std::invalid_argument>([&] { render(v); }).find("far_m = 2"), std::string::npos);
  v = {};
  v.params.lights = std::vector<sim::LightModel>(5);
  EXPECT_NE(MessageOf<std::invalid_argument>([&] { render(v); }).find("5 lights"), std::string::npos);
  v = {};
  v.params.materials.push_back({"unobtainium", std::nullopt, std::nullopt, std::nullopt});
  EXPECT_NE(MessageOf<std::invalid_argument>([&] { render(v); }).find("'unobtainium'"), std::string::npos);
  v = {};
  v.params.materials.push_back({"board", std::nullopt, 4, std::nullopt});
  EXPECT_NE(MessageOf<std::invalid_argument>([&] { render(v); }).find("texture = 4"), std::string::npos);
  SceneState short_state = state;
  short_state.object_poses.pop_back();
  EXPECT_NE(MessageOf<std::invalid_argument>([&] {
              renderer.Render(std::span(&short_state, 1), std::vector<ViewRequest>{ViewRequest{}}, &frames);
            }).find("3 object poses"),
            std::string::npos);

  // After all that, the renderer still works.
  render(ViewRequest{});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].width_px, model->cameras[0].width_px);
}

TEST(RenderErrorTest, UnreadableTextureIsAnInputError) {
  TempDir dir;
  r2s::testing::WriteTextFile(dir / "not_an_image.png", "plain text");
  Renderer renderer(ValidatedRendererOptions());
  try {
    renderer.AddTexture(dir / "not_an_image.png");
    FAIL() << "a text file was accepted as a texture";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("not_an_image.png"), std::string::npos) << e.what();
  }
  EXPECT_THROW(renderer.AddTexture(dir / "missing.png"), InputError);
  // A real image is fine, and its id can be used.
  EXPECT_EQ(renderer.AddTexture(SourceDir() / "scenes/tabletop/robot/meshes/visual/colors.png"), 0);
}

}  // namespace
}  // namespace r2s::render
