#include "render/vk/check.h"

#include <string>

#include "render/render_error.h"

namespace r2s::render::vk {

const char* ResultName(VkResult result) {
  switch (result) {
#define R2S_CASE(x) \
  case x:           \
    return #x;
    R2S_CASE(VK_SUCCESS)
    R2S_CASE(VK_NOT_READY)
    R2S_CASE(VK_TIMEOUT)
    R2S_CASE(VK_INCOMPLETE)
    R2S_CASE(VK_ERROR_OUT_OF_HOST_MEMORY)
    R2S_CASE(VK_ERROR_OUT_OF_DEVICE_MEMORY)
    R2S_CASE(VK_ERROR_INITIALIZATION_FAILED)
    R2S_CASE(VK_ERROR_DEVICE_LOST)
    R2S_CASE(VK_ERROR_MEMORY_MAP_FAILED)
    R2S_CASE(VK_ERROR_LAYER_NOT_PRESENT)
    R2S_CASE(VK_ERROR_EXTENSION_NOT_PRESENT)
    R2S_CASE(VK_ERROR_FEATURE_NOT_PRESENT)
    R2S_CASE(VK_ERROR_INCOMPATIBLE_DRIVER)
    R2S_CASE(VK_ERROR_TOO_MANY_OBJECTS)
    R2S_CASE(VK_ERROR_FORMAT_NOT_SUPPORTED)
    R2S_CASE(VK_ERROR_FRAGMENTED_POOL)
    R2S_CASE(VK_ERROR_OUT_OF_POOL_MEMORY)
#undef R2S_CASE
    default:
      return "VkResult (unnamed)";
  }
}

void Check(VkResult result, const char* what) {
  if (result == VK_SUCCESS) return;
  const std::string message = std::string("Vulkan: ") + what + " failed: " + ResultName(result) + " (" +
                              std::to_string(static_cast<int>(result)) + ")";
  switch (result) {
    case VK_ERROR_OUT_OF_HOST_MEMORY:
    case VK_ERROR_OUT_OF_DEVICE_MEMORY:
    case VK_ERROR_OUT_OF_POOL_MEMORY:
      throw RenderError(RenderError::Kind::kOutOfMemory,
                        message +
                            "; render fewer views per submission (RendererOptions::views_per_submission), "
                            "smaller images or smaller shadow maps");
    case VK_ERROR_DEVICE_LOST:
      throw RenderError(RenderError::Kind::kDeviceLost, message);
    case VK_ERROR_INCOMPATIBLE_DRIVER:
    case VK_ERROR_INITIALIZATION_FAILED:
      throw RenderError(RenderError::Kind::kNoDevice,
                        message + "; is a Vulkan driver installed (Mesa's lavapipe: Debian mesa-vulkan-drivers)?");
    default:
      throw RenderError(RenderError::Kind::kVulkan, message);
  }
}

}  // namespace r2s::render::vk
