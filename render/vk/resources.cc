#include "render/vk/resources.h"

#include "render/vk/check.h"

namespace r2s::render::vk {

void BufferResource::InvalidateForRead(const Context& context) const {
  if (coherent) return;
  VkMappedMemoryRange range{VK_STRUCTURE_TYPE_MAPPED_MEMORY_RANGE};
  range.memory = memory.get();
  range.offset = 0;
  range.size = VK_WHOLE_SIZE;
  Check(vkInvalidateMappedMemoryRanges(context.device(), 1, &range), "vkInvalidateMappedMemoryRanges");
}

BufferResource CreateBuffer(const Context& context, VkDeviceSize size, VkBufferUsageFlags usage, MemoryUse use) {
  BufferResource r;
  r.size = size;
  VkBufferCreateInfo info{VK_STRUCTURE_TYPE_BUFFER_CREATE_INFO};
  info.size = size;
  info.usage = usage;
  info.sharingMode = VK_SHARING_MODE_EXCLUSIVE;
  VkBuffer buffer = VK_NULL_HANDLE;
  Check(vkCreateBuffer(context.device(), &info, nullptr, &buffer), "vkCreateBuffer");
  r.buffer = Buffer(context.device(), buffer);

  VkMemoryRequirements req;
  vkGetBufferMemoryRequirements(context.device(), buffer, &req);
  VkMemoryPropertyFlags required = 0, preferred = 0;
  switch (use) {
    case MemoryUse::kDevice:
      required = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
      break;
    case MemoryUse::kUpload:
      required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT | VK_MEMORY_PROPERTY_HOST_COHERENT_BIT;
      preferred = VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT;
      break;
    case MemoryUse::kReadback:
      required = VK_MEMORY_PROPERTY_HOST_VISIBLE_BIT;
      preferred = VK_MEMORY_PROPERTY_HOST_CACHED_BIT;  // uncached reads over PCIe are slow
      break;
  }
  VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = context.FindMemoryType(req.memoryTypeBits, required, preferred);
  r.coherent = (context.MemoryTypeFlags(alloc.memoryTypeIndex) & VK_MEMORY_PROPERTY_HOST_COHERENT_BIT) != 0;
  VkDeviceMemory memory = VK_NULL_HANDLE;
  Check(vkAllocateMemory(context.device(), &alloc, nullptr, &memory), "vkAllocateMemory (buffer)");
  r.memory = Memory(context.device(), memory);
  Check(vkBindBufferMemory(context.device(), buffer, memory, 0), "vkBindBufferMemory");
  if (use != MemoryUse::kDevice) {
    Check(vkMapMemory(context.device(), memory, 0, VK_WHOLE_SIZE, 0, &r.mapped), "vkMapMemory");
  }
  return r;
}

ImageResource CreateImage(const Context& context, const VkImageCreateInfo& info) {
  ImageResource r;
  VkImage image = VK_NULL_HANDLE;
  Check(vkCreateImage(context.device(), &info, nullptr, &image), "vkCreateImage");
  r.image = Image(context.device(), image);
  VkMemoryRequirements req;
  vkGetImageMemoryRequirements(context.device(), image, &req);
  VkMemoryAllocateInfo alloc{VK_STRUCTURE_TYPE_MEMORY_ALLOCATE_INFO};
  alloc.allocationSize = req.size;
  alloc.memoryTypeIndex = context.FindMemoryType(req.memoryTypeBits, VK_MEMORY_PROPERTY_DEVICE_LOCAL_BIT, 0);
  VkDeviceMemory memory = VK_NULL_HANDLE;
  Check(vkAllocateMemory(context.device(), &alloc, nullptr, &memory), "vkAllocateMemory (image)");
  r.memory = Memory(context.device(), memory);
  Check(vkBindImageMemory(context.device(), image, memory, 0), "vkBindImageMemory");
  return r;
}

ImageView CreateImageView(const Context& context, VkImage image, VkImageViewType type, VkFormat format,
                          VkImageAspectFlags aspect, std::uint32_t first_layer, std::uint32_t layers) {
  VkImageViewCreateInfo info{VK_STRUCTURE_TYPE_IMAGE_VIEW_CREATE_INFO};
  info.image = image;
  info.viewType = type;
  info.format = format;
  info.subresourceRange = {aspect, 0, 1, first_layer, layers};
  VkImageView view = VK_NULL_HANDLE;
  Check(vkCreateImageView(context.device(), &info, nullptr, &view), "vkCreateImageView");
  return ImageView(context.device(), view);
}

DescriptorPool CreateDescriptorPool(const Context& context, std::span<const VkDescriptorPoolSize> sizes,
                                    std::uint32_t max_sets) {
  VkDescriptorPoolCreateInfo info{VK_STRUCTURE_TYPE_DESCRIPTOR_POOL_CREATE_INFO};
  info.maxSets = max_sets;
  info.poolSizeCount = static_cast<std::uint32_t>(sizes.size());
  info.pPoolSizes = sizes.data();
  VkDescriptorPool pool = VK_NULL_HANDLE;
  Check(vkCreateDescriptorPool(context.device(), &info, nullptr, &pool), "vkCreateDescriptorPool");
  return DescriptorPool(context.device(), pool);
}

VkDescriptorSet AllocateDescriptorSet(const Context& context, VkDescriptorPool pool, VkDescriptorSetLayout layout) {
  VkDescriptorSetAllocateInfo info{VK_STRUCTURE_TYPE_DESCRIPTOR_SET_ALLOCATE_INFO};
  info.descriptorPool = pool;
  info.descriptorSetCount = 1;
  info.pSetLayouts = &layout;
  VkDescriptorSet set = VK_NULL_HANDLE;
  Check(vkAllocateDescriptorSets(context.device(), &info, &set), "vkAllocateDescriptorSets");
  return set;
}

void RunOnce(const Context& context, VkCommandPool pool, const std::function<void(VkCommandBuffer)>& record) {
  VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
  alloc.commandPool = pool;
  alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
  alloc.commandBufferCount = 1;
  VkCommandBuffer cmd = VK_NULL_HANDLE;
  Check(vkAllocateCommandBuffers(context.device(), &alloc, &cmd), "vkAllocateCommandBuffers");
  struct FreeCommandBuffer {
    VkDevice device;
    VkCommandPool pool;
    VkCommandBuffer cmd;
    ~FreeCommandBuffer() { vkFreeCommandBuffers(device, pool, 1, &cmd); }
  } free_cmd{context.device(), pool, cmd};

  VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
  begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
  Check(vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer");
  record(cmd);
  Check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");

  VkFenceCreateInfo fence_info{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
  VkFence fence_handle = VK_NULL_HANDLE;
  Check(vkCreateFence(context.device(), &fence_info, nullptr, &fence_handle), "vkCreateFence");
  Fence fence(context.device(), fence_handle);
  VkSubmitInfo submit{VK_STRUCTURE_TYPE_SUBMIT_INFO};
  submit.commandBufferCount = 1;
  submit.pCommandBuffers = &cmd;
  Check(vkQueueSubmit(context.queue(), 1, &submit, fence_handle), "vkQueueSubmit");
  Check(vkWaitForFences(context.device(), 1, &fence_handle, VK_TRUE, UINT64_MAX), "vkWaitForFences");
}

void TransitionImage(VkCommandBuffer cmd, VkImage image, VkImageAspectFlags aspect, std::uint32_t layers,
                     VkImageLayout from, VkImageLayout to, VkPipelineStageFlags2 src_stage, VkAccessFlags2 src_access,
                     VkPipelineStageFlags2 dst_stage, VkAccessFlags2 dst_access) {
  VkImageMemoryBarrier2 barrier{VK_STRUCTURE_TYPE_IMAGE_MEMORY_BARRIER_2};
  barrier.srcStageMask = src_stage;
  barrier.srcAccessMask = src_access;
  barrier.dstStageMask = dst_stage;
  barrier.dstAccessMask = dst_access;
  barrier.oldLayout = from;
  barrier.newLayout = to;
  barrier.srcQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  barrier.dstQueueFamilyIndex = VK_QUEUE_FAMILY_IGNORED;
  barrier.image = image;
  barrier.subresourceRange = {aspect, 0, 1, 0, layers};
  VkDependencyInfo dependency{VK_STRUCTURE_TYPE_DEPENDENCY_INFO};
  dependency.imageMemoryBarrierCount = 1;
  dependency.pImageMemoryBarriers = &barrier;
  vkCmdPipelineBarrier2(cmd, &dependency);
}

}  // namespace r2s::render::vk
