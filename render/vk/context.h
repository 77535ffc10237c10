#pragma once
// Internal: a Vulkan instance and one logical device with a graphics queue, headless (no surface, no swapchain),
// optionally under the validation layer.

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include <vulkan/vulkan.h>

#include "render/vk/handle.h"

namespace r2s::render::vk {

struct ContextOptions {
  bool validation = false;
  std::string device;  // part of the device name; empty: discrete > integrated > virtual > CPU
};

class Context {
 public:
  // Throws RenderError(kNoDevice) when no device has Vulkan 1.3 with dynamic rendering and synchronization2, or
  // none matches options.device; RenderError(kVulkan) when validation is asked for but the layer is missing.
  explicit Context(const ContextOptions& options);
  ~Context();
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  VkDevice device() const { return device_; }
  VkPhysicalDevice physical_device() const { return physical_device_; }
  VkQueue queue() const { return queue_; }
  std::uint32_t queue_family() const { return queue_family_; }
  const std::string& device_name() const { return device_name_; }
  const VkPhysicalDeviceLimits& limits() const { return limits_; }

  // A memory type among `type_bits` with every `required` flag, preferring one that also has the `preferred` ones.
  // Throws RenderError(kOutOfMemory) when none fits.
  std::uint32_t FindMemoryType(std::uint32_t type_bits, VkMemoryPropertyFlags required,
                               VkMemoryPropertyFlags preferred) const;
  VkMemoryPropertyFlags MemoryTypeFlags(std::uint32_t type) const;

  // Throws RenderError(kValidation) with every validation message received since the last call, if any.
  void ThrowIfValidationFailed();

 private:
  void Destroy();
  static VKAPI_ATTR VkBool32 VKAPI_CALL OnMessage(VkDebugUtilsMessageSeverityFlagBitsEXT severity,
                                                  VkDebugUtilsMessageTypeFlagsEXT type,
                                                  const VkDebugUtilsMessengerCallbackDataEXT* data, void* self);

  VkInstance instance_ = VK_NULL_HANDLE;
  VkDebugUtilsMessengerEXT messenger_ = VK_NULL_HANDLE;
  VkPhysicalDevice physical_device_ = VK_NULL_HANDLE;
  VkDevice device_ = VK_NULL_HANDLE;
  VkQueue queue_ = VK_NULL_HANDLE;
  std::uint32_t queue_family_ = 0;
  std::string device_name_;
  VkPhysicalDeviceLimits limits_{};
  VkPhysicalDeviceMemoryProperties memory_{};

  std::mutex messages_mutex_;  // the layer may call back from a driver thread
  std::vector<std::string> messages_;
};

}  // namespace r2s::render::vk
