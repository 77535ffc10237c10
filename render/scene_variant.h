#pragma once
// Internal: what the scene shader is specialised for (its specialisation constants). No Vulkan here: a submission
// plan names the variant each view draws with, and the renderer turns it into a pipeline.

namespace r2s::render {

struct SceneVariant {
  int num_lights = 0;
  int shadow_mask = 0;  // bit i: light i has a shadow map
  int point_mask = 0;   // bit i: light i is a point light
  bool textured = false;

  int Key() const { return num_lights | shadow_mask << 4 | point_mask << 8 | (textured ? 1 << 12 : 0); }
  bool operator==(const SceneVariant&) const = default;
};

}  // namespace r2s::render
