#include "render/shaders.h"

namespace r2s::render {
namespace {

// glslc -mfmt=num writes the words as a comma-separated list.
constexpr std::uint32_t kSceneVertex[] = {
#include "scene.vert.inc"
};
constexpr std::uint32_t kSceneFragment[] = {
#include "scene.frag.inc"
};
constexpr std::uint32_t kShadowVertex[] = {
#include "shadow.vert.inc"
};

}  // namespace

std::span<const std::uint32_t> SceneVertexShader() { return kSceneVertex; }
std::span<const std::uint32_t> SceneFragmentShader() { return kSceneFragment; }
std::span<const std::uint32_t> ShadowVertexShader() { return kShadowVertex; }

}  // namespace r2s::render
