#pragma once
// Headless batched rendering of a scene's cameras through Vulkan: RGB, metric depth and instance segmentation for
// many (world state, camera) views per submission. Vulkan stays behind the pimpl.
//
//   render::Renderer renderer;                    // picks a device: a GPU, else Mesa's lavapipe on the CPU
//   renderer.LoadModel(model);                    // uploads meshes and textures once
//   std::vector<render::Frame> frames;
//   renderer.Render(states, views, &frames);      // frames[i] is views[i]
//
// One renderer per thread: it is not thread-safe, and it starts no threads of its own (the driver may: lavapipe
// rasterizes on its own worker threads).

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "render/frame.h"
#include "render/rendering_overrides.h"
#include "render/scene_state.h"
#include "render/view_request.h"
#include "sim/model.h"

namespace r2s::render {

struct RendererOptions {
#ifdef NDEBUG
  static constexpr bool kValidationByDefault = false;
#else
  static constexpr bool kValidationByDefault = true;
#endif
  // Run under VK_LAYER_KHRONOS_validation (Debian: vulkan-validationlayers). Any warning or error it reports makes
  // the call that caused it throw RenderError(kValidation).
  bool validation = kValidationByDefault;
  // Part of the device name to use ("llvmpipe", "H100"); empty picks a discrete GPU, else an integrated one,
  // else any (lavapipe).
  std::string device;
  // Views drawn per queue submission. A batch larger than this is split into submissions that go through a ring
  // of `staging_buffers` readback buffers, so the CPU copies one submission's frames out while the device draws
  // the next.
  int views_per_submission = 16;
  int staging_buffers = 2;
  // The shadow options below trade exactness for speed; a scene's `rendering:` section and the command line's
  // --shadow* flags set them through ApplyRendering. The defaults are sim::RenderSettings'.
  //
  // false: no shadow maps at all, whatever each light's casts_shadows says.
  bool shadows = true;
  int shadow_map_px = 1024;  // side of each light's shadow map
  // Draw shadow maps with the bodies' collision shapes where they have any, instead of their visual meshes: the
  // Panda's collision meshes have ~4k triangles against 100k. Shadows then follow the (coarser) collision
  // geometry, which on the tabletop scene changes under 1 % of the pixels; on lavapipe a frame costs 30-55 % less
  // CPU (docs/scenes.md, "Rendering").
  bool collision_shapes_cast_shadows = true;
};

// Sets options' shadows, collision_shapes_cast_shadows and shadow_map_px from the scene's rendering settings with
// the overrides applied; leaves the other options alone. Throws InputError(kRenderingOverridesSource, the
// override's field, ...) for an override it cannot take.
void ApplyRendering(const sim::RenderSettings& scene, const RenderingOverrides& overrides, RendererOptions* options);

class Renderer {
 public:
  static constexpr int kMaxLights = 4;  // per view

  // Throws RenderError(kNoDevice) when no Vulkan device fits.
  explicit Renderer(const RendererOptions& options = {});
  ~Renderer();
  Renderer(Renderer&&) noexcept;
  Renderer& operator=(Renderer&&) noexcept;
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  std::string device_name() const;

  // Uploads the model's visual shapes (meshes with their files' materials and textures, primitives), replacing
  // any model loaded before. Throws InputError for a texture that cannot be read.
  void LoadModel(std::shared_ptr<const sim::Model> model);

  // Decodes an image (PNG, JPEG, ...) for MaterialOverride::texture; ids stay valid across LoadModel.
  int AddTexture(const std::filesystem::path& image);

  // Renders every view into frames (resized to views.size(); frames[i] is views[i]; buffers are reused when their
  // sizes match). Throws std::invalid_argument for a bad request, RenderError when Vulkan fails.
  void Render(std::span<const SceneState> states, std::span<const ViewRequest> views, std::vector<Frame>* frames);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace r2s::render
