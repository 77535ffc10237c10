#pragma once
// Internal: the SPIR-V of render/shaders/*, compiled by glslc at build time and embedded in the library.

#include <cstdint>
#include <span>

namespace r2s::render {

std::span<const std::uint32_t> SceneVertexShader();
std::span<const std::uint32_t> SceneFragmentShader();
std::span<const std::uint32_t> ShadowVertexShader();

}  // namespace r2s::render
