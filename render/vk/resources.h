#pragma once
// Internal: buffers and images with their own memory allocations (a renderer holds a few dozen, so no
// sub-allocator), and a helper to run one-off command buffers.

#include <functional>
#include <span>

#include <vulkan/vulkan.h>

#include "render/vk/context.h"
#include "render/vk/handle.h"

namespace r2s::render::vk {

enum class MemoryUse {
  kDevice,    // device-local, filled by copies
  kUpload,    // host-visible and coherent, written by the CPU each frame (device-local too where possible)
  kReadback,  // host-visible, cached where possible, read by the CPU
};

struct BufferResource {
  Buffer buffer;
  Memory memory;
  void* mapped = nullptr;  // for kUpload and kReadback
  VkDeviceSize size = 0;
  bool coherent = true;

  // Makes device writes visible to the CPU (for memory that is not host-coherent).
  void InvalidateForRead(const Context& context) const;
};

BufferResource CreateBuffer(const Context& context, VkDeviceSize size, VkBufferUsageFlags usage, MemoryUse use);

struct ImageResource {
  Image image;
  Memory memory;
};

ImageResource CreateImage(const Context& context, const VkImageCreateInfo& info);

ImageView CreateImageView(const Context& context, VkImage image, VkImageViewType type, VkFormat format,
                          VkImageAspectFlags aspect, std::uint32_t first_layer, std::uint32_t layers);

// A descriptor pool for `max_sets` sets of the given sizes, and one set of `layout` from it.
DescriptorPool CreateDescriptorPool(const Context& context, std::span<const VkDescriptorPoolSize> sizes,
                                    std::uint32_t max_sets);
VkDescriptorSet AllocateDescriptorSet(const Context& context, VkDescriptorPool pool, VkDescriptorSetLayout layout);

// Records with `record`, submits, and waits for the device to finish.
void RunOnce(const Context& context, VkCommandPool pool, const std::function<void(VkCommandBuffer)>& record);

// A whole-image (all layers, one mip level) layout transition.
void TransitionImage(VkCommandBuffer cmd, VkImage image, VkImageAspectFlags aspect, std::uint32_t layers,
                     VkImageLayout from, VkImageLayout to, VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access,
                     VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access);

}  // namespace r2s::render::vk
