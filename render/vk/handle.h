#pragma once
// Internal: owning wrappers for Vulkan handles, so that every object is destroyed by scope in reverse order of
// declaration and nothing is freed by hand.

#include <utility>

#include <vulkan/vulkan.h>

namespace r2s::render::vk {

// A handle created from a VkDevice and destroyed with Destroy(device, handle, nullptr).
template <typename Handle, void (*Destroy)(VkDevice, Handle, const VkAllocationCallbacks*)>
class DeviceHandle {
 public:
  DeviceHandle() = default;
  DeviceHandle(VkDevice device, Handle handle) : device_(device), handle_(handle) {}
  ~DeviceHandle() { Reset(); }
  DeviceHandle(DeviceHandle&& other) noexcept
      : device_(other.device_), handle_(std::exchange(other.handle_, VK_NULL_HANDLE)) {}
  DeviceHandle& operator=(DeviceHandle&& other) noexcept {
    if (this != &other) {
      Reset();
      device_ = other.device_;
      handle_ = std::exchange(other.handle_, VK_NULL_HANDLE);
    }
    return *this;
  }
  DeviceHandle(const DeviceHandle&) = delete;
  DeviceHandle& operator=(const DeviceHandle&) = delete;

  Handle get() const { return handle_; }
  explicit operator bool() const { return handle_ != VK_NULL_HANDLE; }
  void Reset() {
    if (handle_ != VK_NULL_HANDLE) Destroy(device_, handle_, nullptr);
    handle_ = VK_NULL_HANDLE;
  }

 private:
  VkDevice device_ = VK_NULL_HANDLE;
  Handle handle_ = VK_NULL_HANDLE;
};

using Buffer = DeviceHandle<VkBuffer, vkDestroyBuffer>;
using Image = DeviceHandle<VkImage, vkDestroyImage>;
using ImageView = DeviceHandle<VkImageView, vkDestroyImageView>;
using Memory = DeviceHandle<VkDeviceMemory, vkFreeMemory>;
using Sampler = DeviceHandle<VkSampler, vkDestroySampler>;
using Fence = DeviceHandle<VkFence, vkDestroyFence>;
using CommandPool = DeviceHandle<VkCommandPool, vkDestroyCommandPool>;
using DescriptorPool = DeviceHandle<VkDescriptorPool, vkDestroyDescriptorPool>;
using DescriptorSetLayout = DeviceHandle<VkDescriptorSetLayout, vkDestroyDescriptorSetLayout>;
using PipelineLayout = DeviceHandle<VkPipelineLayout, vkDestroyPipelineLayout>;
using Pipeline = DeviceHandle<VkPipeline, vkDestroyPipeline>;
using ShaderModule = DeviceHandle<VkShaderModule, vkDestroyShaderModule>;

}  // namespace r2s::render::vk
