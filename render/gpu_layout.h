#pragma once
// Internal: the shaders' per-view uniform block (std140) and per-draw push constants, mirroring
// render/shaders/common.glsl. Matrices are column-major, as Eigen's and GLSL's are.

#include <cstdint>

namespace r2s::render {

inline constexpr int kMaxLightsPerView = 4;  // MAX_LIGHTS in common.glsl

struct alignas(16) LightGpu {
  float radiance[4];
  float vector[4];
  float shadow[16];
  std::int32_t info[4];  // kind (0 directional, 1 point), shadow layer or -1
  float shadow_params[4];
};
static_assert(sizeof(LightGpu) == 128);

struct alignas(16) ViewGpu {
  float projection[16];
  float ambient[4];
  float params[4];  // exposure, number of lights
  LightGpu lights[kMaxLightsPerView];
};
static_assert(sizeof(ViewGpu) == 608);

struct DrawPush {
  float modelview[16];
  float albedo[4];
  float roughness;
  std::uint32_t segment;
};
static_assert(sizeof(DrawPush) == 88);

struct ShadowPush {
  float model_to_clip[16];
};

}  // namespace r2s::render
