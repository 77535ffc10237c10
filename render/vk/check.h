#pragma once
// Internal: VkResult -> RenderError, with what was being done and what helps.

#include <vulkan/vulkan.h>

namespace r2s::render::vk {

const char* ResultName(VkResult result);

// Throws RenderError (kOutOfMemory, kDeviceLost, kNoDevice or kVulkan) unless result is VK_SUCCESS.
void Check(VkResult result, const char* what);

}  // namespace r2s::render::vk
