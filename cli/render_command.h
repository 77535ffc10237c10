#pragma once
// `r2s render --scene S --out DIR`: one frame per camera of the scene at its initial state, for a quick look:
// per camera an RGB PNG, a 16-bit depth PNG (millimetres), a 16-bit segmentation PNG (ids) with false-colour
// previews of both, and segmentation.json (the id table).

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>

#include "render/renderer.h"

namespace r2s::cli {

struct RenderOptions {
  std::filesystem::path scene;
  std::optional<std::filesystem::path> params;
  std::filesystem::path out;
  std::string device;       // part of the Vulkan device name; empty picks a GPU, else lavapipe
  bool validation = false;  // run under the Vulkan validation layer; any message is an error
  render::RenderingOverrides rendering;  // --shadows, --shadow-casters, --shadow-map-px over the scene's rendering:
  bool json = false;        // print the report as JSON
};

// Prints what was written to `out`. Throws InputError on a bad scene or params file, render::RenderError when
// Vulkan fails.
void RunRender(const RenderOptions& options, std::ostream& out);

}  // namespace r2s::cli
