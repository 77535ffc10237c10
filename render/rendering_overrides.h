#pragma once
// A caller's choices over a scene's `rendering:` section, kept apart from the renderer so that the generator's
// public options need not include it.

#include <optional>
#include <string>

namespace r2s::render {

// The file an InputError about an override carries; its field is the override's name ("shadows", "shadow_casters",
// "shadow_map_px"), so that a caller says where it came from (a command line maps it to its flag).
inline constexpr const char* kRenderingOverridesSource = "RenderingOverrides";

// The command line's choices over a scene's `rendering:` section (r2s render and r2s generate); unset keeps the
// scene's value.
struct RenderingOverrides {
  std::optional<std::string> shadows;         // --shadows: on or off
  std::optional<std::string> shadow_casters;  // --shadow-casters: visual or collision
  std::optional<int> shadow_map_px;           // --shadow-map-px
};

}  // namespace r2s::render
