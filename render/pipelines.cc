#include "render/pipelines.h"

#include <array>
#include <cstddef>
#include <span>

#include "render/gpu_layout.h"
#include "render/shaders.h"
#include "render/vk/check.h"

namespace r2s::render {
namespace {

vk::DescriptorSetLayout SetLayout(const vk::Context& context, std::span<const VkDescriptorSetLayoutBinding> bindings) {
  VkDescriptorSetLayoutCreateInfo info{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_LAYOUT_CREATE_INFO};
  info.bindingCount = static_cast<std::uint32_t>(bindings.size());
  info.pBindings = bindings.data();
  VkDescriptorSetLayout layout = VK_NULL_HANDLE;
  vk::Check(vkCreateDescriptorSetLayout(context.device(), &info, nullptr, &layout), "vkCreateDescriptorSetLayout");
  return {context.device(), layout};
}

vk::PipelineLayout Layout(const vk::Context& context, std::span<const VkDescriptorSetLayout> sets,
                          VkShaderStageFlags push_stages, std::uint32_t push_bytes) {
  VkPushConstantRange push{push_stages, 0, push_bytes};
  VkPipelineLayoutCreateInfo info{VK_STRUCTURE_TYPE_PIPELINE_LAYOUT_CREATE_INFO};
  info.setLayoutCount = static_cast<std::uint32_t>(sets.size());
  info.pSetLayouts = sets.data();
  info.pushConstantRangeCount = 1;
  info.pPushConstantRanges = &push;
  VkPipelineLayout layout = VK_NULL_HANDLE;
  vk::Check(vkCreatePipelineLayout(context.device(), &info, nullptr, &layout), "vkCreatePipelineLayout");
  return {context.device(), layout};
}

vk::ShaderModule Module(const vk::Context& context, std::span<const std::uint32_t> spirv) {
  VkShaderModuleCreateInfo info{VK_STRUCTURE_TYPE_SHADER_MODULE_CREATE_INFO};
  info.codeSize = spirv.size_bytes();
  info.pCode = spirv.data();
  VkShaderModule module = VK_NULL_HANDLE;
  vk::Check(vkCreateShaderModule(context.device(), &info, nullptr, &module), "vkCreateShaderModule");
  return {context.device(), module};
}

struct PipelineDescription {
  std::span<const VkPipelineShaderStageCreateInfo> stages;
  std::span<const VkVertexInputAttributeDescription> attributes;
  std::span<const VkFormat> color_formats;
  VkFormat depth_format = VK_FORMAT_UNDEFINED;
  VkCompareOp depth_compare = VK_COMPARE_OP_LESS;
  bool depth_bias = false;
  VkPipelineLayout layout = VK_NULL_HANDLE;
};

vk::Pipeline Pipeline(const vk::Context& context, const PipelineDescription& d) {
  VkVertexInputBindingDescription binding{0, 32, VK_VERTEX_INPUT_RATE_VERTEX};  // sizeof(Vertex)
  VkPipelineVertexInputStateCreateInfo vertex_input{VK_STRUCTURE_TYPE_PIPELINE_VERTEX_INPUT_STATE_CREATE_INFO};
  vertex_input.vertexBindingDescriptionCount = 1;
  vertex_input.pVertexBindingDescriptions = &binding;
  vertex_input.vertexAttributeDescriptionCount = static_cast<std::uint32_t>(d.attributes.size());
  vertex_input.pVertexAttributeDescriptions = d.attributes.data();

  VkPipelineInputAssemblyStateCreateInfo assembly{VK_STRUCTURE_TYPE_PIPELINE_INPUT_ASSEMBLY_STATE_CREATE_INFO};
  assembly.topology = VK_PRIMITIVE_TOPOLOGY_TRIANGLE_LIST;

  VkPipelineViewportStateCreateInfo viewport{VK_STRUCTURE_TYPE_PIPELINE_VIEWPORT_STATE_CREATE_INFO};
  viewport.viewportCount = 1;
  viewport.scissorCount = 1;

  VkPipelineRasterizationStateCreateInfo raster{VK_STRUCTURE_TYPE_PIPELINE_RASTERIZATION_STATE_CREATE_INFO};
  raster.polygonMode = VK_POLYGON_MODE_FILL;
  // No culling: robot meshes are not all closed, and a bowl is seen from inside and out.
  raster.cullMode = VK_CULL_MODE_NONE;
  // The OpenCV camera frame maps onto Vulkan's y-down framebuffer without a mirror, so triangles wound
  // counter-clockwise seen from outside stay counter-clockwise on screen.
  raster.frontFace = VK_FRONT_FACE_COUNTER_CLOCKWISE;
  raster.lineWidth = 1.0f;
  raster.depthBiasEnable = d.depth_bias ? VK_TRUE : VK_FALSE;
  raster.depthBiasSlopeFactor = d.depth_bias ? 1.5f : 0.0f;

  VkPipelineMultisampleStateCreateInfo multisample{VK_STRUCTURE_TYPE_PIPELINE_MULTISAMPLE_STATE_CREATE_INFO};
  multisample.rasterizationSamples = VK_SAMPLE_COUNT_1_BIT;

  VkPipelineDepthStencilStateCreateInfo depth{VK_STRUCTURE_TYPE_PIPELINE_DEPTH_STENCIL_STATE_CREATE_INFO};
  depth.depthTestEnable = VK_TRUE;
  depth.depthWriteEnable = VK_TRUE;
  depth.depthCompareOp = d.depth_compare;

  std::array<VkPipelineColorBlendAttachmentState, 4> blends{};
  for (auto& b : blends) {
    b.colorWriteMask =
        VK_COLOR_COMPONENT_R_BIT | VK_COLOR_COMPONENT_G_BIT | VK_COLOR_COMPONENT_B_BIT | VK_COLOR_COMPONENT_A_BIT;
  }
  VkPipelineColorBlendStateCreateInfo blend{VK_STRUCTURE_TYPE_PIPELINE_COLOR_BLEND_STATE_CREATE_INFO};
  blend.attachmentCount = static_cast<std::uint32_t>(d.color_formats.size());
  blend.pAttachments = blends.data();

  const std::array<VkDynamicState, 2> dynamic_states{VK_DYNAMIC_STATE_VIEWPORT, VK_DYNAMIC_STATE_SCISSOR};
  VkPipelineDynamicStateCreateInfo dynamic{VK_STRUCTURE_TYPE_PIPELINE_DYNAMIC_STATE_CREATE_INFO};
  dynamic.dynamicStateCount = static_cast<std::uint32_t>(dynamic_states.size());
  dynamic.pDynamicStates = dynamic_states.data();

  VkPipelineRenderingCreateInfo rendering{VK_STRUCTURE_TYPE_PIPELINE_RENDERING_CREATE_INFO};
  rendering.colorAttachmentCount = static_cast<std::uint32_t>(d.color_formats.size());
  rendering.pColorAttachmentFormats = d.color_formats.data();
  rendering.depthAttachmentFormat = d.depth_format;

  VkGraphicsPipelineCreateInfo info{VK_STRUCTURE_TYPE_GRAPHICS_PIPELINE_CREATE_INFO};
  info.pNext = &rendering;
  info.stageCount = static_cast<std::uint32_t>(d.stages.size());
  info.pStages = d.stages.data();
  info.pVertexInputState = &vertex_input;
  info.pInputAssemblyState = &assembly;
  info.pViewportState = &viewport;
  info.pRasterizationState = &raster;
  info.pMultisampleState = &multisample;
  info.pDepthStencilState = &depth;
  info.pColorBlendState = &blend;
  info.pDynamicState = &dynamic;
  info.layout = d.layout;
  VkPipeline pipeline = VK_NULL_HANDLE;
  vk::Check(vkCreateGraphicsPipelines(context.device(), VK_NULL_HANDLE, 1, &info, nullptr, &pipeline),
            "vkCreateGraphicsPipelines");
  return {context.device(), pipeline};
}

VkPipelineShaderStageCreateInfo Stage(VkShaderStageFlagBits stage, VkShaderModule module,
                                      const VkSpecializationInfo* specialization = nullptr) {
  VkPipelineShaderStageCreateInfo info{VK_STRUCTURE_TYPE_PIPELINE_SHADER_STAGE_CREATE_INFO};
  info.stage = stage;
  info.module = module;
  info.pName = "main";
  info.pSpecializationInfo = specialization;
  return info;
}

vk::Sampler Sampler(const vk::Context& context, const VkSamplerCreateInfo& info) {
  VkSampler sampler = VK_NULL_HANDLE;
  vk::Check(vkCreateSampler(context.device(), &info, nullptr, &sampler), "vkCreateSampler");
  return {context.device(), sampler};
}

bool LinearFilterable(const vk::Context& context, VkFormat format) {
  VkFormatProperties properties;
  vkGetPhysicalDeviceFormatProperties(context.physical_device(), format, &properties);
  return (properties.optimalTilingFeatures & VK_FORMAT_FEATURE_SAMPLED_IMAGE_FILTER_LINEAR_BIT) != 0;
}

}  // namespace

Pipelines CreatePipelines(const vk::Context& context) {
  Pipelines p;
  const VkShaderStageFlags both = VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT;
  const std::array<VkDescriptorSetLayoutBinding, 2> scene_bindings{{
      {0, VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC, 1, both, nullptr},
      {1, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1, VK_SHADER_STAGE_FRAGMENT_BIT, nullptr},
  }};
  p.scene_set_layout = SetLayout(context, scene_bindings);
  const VkDescriptorSetLayoutBinding texture_binding{0, VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1,
                                                     VK_SHADER_STAGE_FRAGMENT_BIT, nullptr};
  p.texture_set_layout = SetLayout(context, std::span(&texture_binding, 1));

  const std::array<VkDescriptorSetLayout, 2> scene_sets{p.scene_set_layout.get(), p.texture_set_layout.get()};
  p.scene_layout = Layout(context, scene_sets, both, sizeof(DrawPush));
  p.shadow_layout = Layout(context, {}, VK_SHADER_STAGE_VERTEX_BIT, sizeof(ShadowPush));

  p.scene_vertex = Module(context, SceneVertexShader());
  p.scene_fragment = Module(context, SceneFragmentShader());
  const vk::ShaderModule shadow_vertex = Module(context, ShadowVertexShader());
  const std::array<VkPipelineShaderStageCreateInfo, 1> shadow_stages{
      Stage(VK_SHADER_STAGE_VERTEX_BIT, shadow_vertex.get())};
  const VkVertexInputAttributeDescription shadow_attribute{0, 0, VK_FORMAT_R32G32B32_SFLOAT, 0};
  PipelineDescription shadow;
  shadow.stages = shadow_stages;
  shadow.attributes = std::span(&shadow_attribute, 1);
  shadow.depth_format = kShadowFormat;
  shadow.depth_compare = VK_COMPARE_OP_LESS;
  shadow.depth_bias = true;
  shadow.layout = p.shadow_layout.get();
  p.shadow = Pipeline(context, shadow);

  VkSamplerCreateInfo texture{VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO};
  texture.magFilter = VK_FILTER_LINEAR;
  texture.minFilter = VK_FILTER_LINEAR;
  texture.mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST;
  texture.addressModeU = texture.addressModeV = texture.addressModeW = VK_SAMPLER_ADDRESS_MODE_REPEAT;
  texture.maxLod = 0.0f;
  p.texture_sampler = Sampler(context, texture);

  VkSamplerCreateInfo shadow_sampler{VK_STRUCTURE_TYPE_SAMPLER_CREATE_INFO};
  // Linear filtering of a comparison sampler gives 2x2 percentage-closer filtering where the format allows it.
  const VkFilter filter = LinearFilterable(context, kShadowFormat) ? VK_FILTER_LINEAR : VK_FILTER_NEAREST;
  shadow_sampler.magFilter = filter;
  shadow_sampler.minFilter = filter;
  shadow_sampler.mipmapMode = VK_SAMPLER_MIPMAP_MODE_NEAREST;
  // Outside the map is lit: depth 1 at the border passes every comparison.
  shadow_sampler.addressModeU = shadow_sampler.addressModeV = shadow_sampler.addressModeW =
      VK_SAMPLER_ADDRESS_MODE_CLAMP_TO_BORDER;
  shadow_sampler.borderColor = VK_BORDER_COLOR_FLOAT_OPAQUE_WHITE;
  shadow_sampler.compareEnable = VK_TRUE;
  shadow_sampler.compareOp = VK_COMPARE_OP_LESS_OR_EQUAL;
  shadow_sampler.maxLod = 0.0f;
  p.shadow_sampler = Sampler(context, shadow_sampler);
  return p;
}

vk::Pipeline CreateScenePipeline(const vk::Context& context, const Pipelines& pipelines, const SceneVariant& variant) {
  struct Constants {
    std::int32_t num_lights, shadow_mask, point_mask;
    VkBool32 textured;
  } constants{variant.num_lights, variant.shadow_mask, variant.point_mask, variant.textured ? VK_TRUE : VK_FALSE};
  const std::array<VkSpecializationMapEntry, 4> entries{{
      {0, offsetof(Constants, num_lights), sizeof(std::int32_t)},
      {1, offsetof(Constants, shadow_mask), sizeof(std::int32_t)},
      {2, offsetof(Constants, point_mask), sizeof(std::int32_t)},
      {3, offsetof(Constants, textured), sizeof(VkBool32)},
  }};
  const VkSpecializationInfo specialization{static_cast<std::uint32_t>(entries.size()), entries.data(),
                                            sizeof(constants), &constants};
  const std::array<VkPipelineShaderStageCreateInfo, 2> stages{
      Stage(VK_SHADER_STAGE_VERTEX_BIT, pipelines.scene_vertex.get()),
      Stage(VK_SHADER_STAGE_FRAGMENT_BIT, pipelines.scene_fragment.get(), &specialization)};
  const std::array<VkVertexInputAttributeDescription, 3> attributes{{
      {0, 0, VK_FORMAT_R32G32B32_SFLOAT, 0},
      {1, 0, VK_FORMAT_R32G32B32_SFLOAT, 12},
      {2, 0, VK_FORMAT_R32G32_SFLOAT, 24},
  }};
  const std::array<VkFormat, 3> formats{kColorFormat, kDepthOutFormat, kSegmentFormat};
  PipelineDescription scene;
  scene.stages = stages;
  scene.attributes = attributes;
  scene.color_formats = formats;
  scene.depth_format = kZBufferFormat;
  scene.depth_compare = VK_COMPARE_OP_GREATER;  // reversed depth: near is 1
  scene.layout = pipelines.scene_layout.get();
  return Pipeline(context, scene);
}

}  // namespace r2s::render
