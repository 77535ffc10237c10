#pragma once
// Internal: descriptor-set layouts, samplers and the two graphics pipelines (scene and shadow), for dynamic
// rendering. They depend on no model, so a renderer builds them once.

#include <vulkan/vulkan.h>

#include "render/scene_variant.h"
#include "render/vk/context.h"
#include "render/vk/handle.h"

namespace r2s::render {

inline constexpr VkFormat kColorFormat = VK_FORMAT_R8G8B8A8_SRGB;
inline constexpr VkFormat kDepthOutFormat = VK_FORMAT_R32_SFLOAT;  // metric depth, a colour attachment
inline constexpr VkFormat kSegmentFormat = VK_FORMAT_R16_UINT;
inline constexpr VkFormat kZBufferFormat = VK_FORMAT_D32_SFLOAT;
inline constexpr VkFormat kShadowFormat = VK_FORMAT_D32_SFLOAT;
inline constexpr VkFormat kTextureFormat = VK_FORMAT_R8G8B8A8_SRGB;

struct Pipelines {
  // set 0 of the scene pass: the view's uniform block (at a dynamic offset), the shadow maps
  vk::DescriptorSetLayout scene_set_layout;
  // set 1 of the scene pass: one albedo texture
  vk::DescriptorSetLayout texture_set_layout;
  vk::PipelineLayout scene_layout;
  vk::PipelineLayout shadow_layout;
  vk::ShaderModule scene_vertex;
  vk::ShaderModule scene_fragment;
  vk::Pipeline shadow;
  vk::Sampler texture_sampler;
  vk::Sampler shadow_sampler;
};

Pipelines CreatePipelines(const vk::Context& context);

// One variant of the scene pipeline (lavapipe compiles one in a fraction of a second; a renderer caches them).
vk::Pipeline CreateScenePipeline(const vk::Context& context, const Pipelines& pipelines, const SceneVariant& variant);

}  // namespace r2s::render
