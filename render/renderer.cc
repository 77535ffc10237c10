#include "render/renderer.h"

#include <algorithm>
#include <array>
#include <cstring>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "episode/input_error.h"
#include "render/draw_list.h"
#include "render/gpu_layout.h"
#include "render/image_decode.h"
#include "render/pipelines.h"
#include "render/render_error.h"
#include "render/submission_plan.h"
#include "render/vk/check.h"
#include "render/vk/context.h"
#include "render/vk/resources.h"

namespace r2s::render {
namespace {

const VkPipelineStageFlags2 kFragmentTests =
    VK_PIPELINE_STAGE_2_EARLY_FRAGMENT_TESTS_BIT | VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT;
const VkAccessFlags2 kDepthAccess =
    VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT | VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_READ_BIT;

// A texture on the device with the descriptor set that binds it.
struct Texture {
  vk::ImageResource image;
  vk::ImageView view;
  vk::DescriptorPool pool;
  VkDescriptorSet set = VK_NULL_HANDLE;
};

// The whole of a width x height target, depth 0..1.
void SetViewportAndScissor(VkCommandBuffer cmd, std::uint32_t width, std::uint32_t height) {
  const VkViewport viewport{0, 0, static_cast<float>(width), static_cast<float>(height), 0, 1};
  const VkRect2D scissor{{0, 0}, {width, height}};
  vkCmdSetViewport(cmd, 0, 1, &viewport);
  vkCmdSetScissor(cmd, 0, 1, &scissor);
}

}  // namespace

struct Renderer::Impl {
  // Declared in dependency order: members are destroyed bottom-up, the context last.
  RendererOptions options;
  vk::Context context;
  Pipelines pipelines;
  std::map<int, vk::Pipeline> scene_pipelines;  // by SceneVariant::Key()
  vk::CommandPool command_pool;

  Texture white;  // bound where a surface has no texture
  std::vector<Texture> added_textures;

  // The loaded model.
  std::shared_ptr<const sim::Model> model;
  DrawList list;
  std::vector<Texture> model_textures;
  vk::BufferResource vertices, indices;

  // Render targets: one array layer per view of a submission, shared by all submissions (the queue orders
  // them); the shadow maps: one layer per (state, light) a submission needs.
  struct Targets {
    int width = 0, height = 0, layers = 0;
    vk::ImageResource color, depth, segment, zbuffer;
    std::vector<vk::ImageView> color_views, depth_views, segment_views, zbuffer_views;
  } targets;
  struct Shadows {
    int layers = 0;
    vk::ImageResource image;
    vk::ImageView array_view;
    std::vector<vk::ImageView> layer_views;
  } shadows;

  // The ring: per slot a command buffer, its fence, the per-view uploads and a readback staging buffer.
  struct Slot {
    VkCommandBuffer cmd = VK_NULL_HANDLE;
    vk::Fence fence;
    vk::BufferResource views, staging;  // per-view uniform blocks; readback
    VkDescriptorSet scene_set = VK_NULL_HANDLE;
    bool pending = false;  // submitted; its frames not yet copied out
    SubmissionPlan plan;   // what was submitted: which views, where their frames are in staging
  };
  vk::DescriptorPool slot_pool;
  std::vector<Slot> slots;

  explicit Impl(const RendererOptions& o)
      : options(o), context(vk::ContextOptions{o.validation, o.device}), pipelines(CreatePipelines(context)) {
    if (options.views_per_submission < 1) {
      throw std::invalid_argument("RendererOptions::views_per_submission = " +
                                  std::to_string(options.views_per_submission) + ", must be at least 1");
    }
    if (options.staging_buffers < 1) {
      throw std::invalid_argument("RendererOptions::staging_buffers = " + std::to_string(options.staging_buffers) +
                                  ", must be at least 1");
    }
    if (options.shadow_map_px < 16 || options.shadow_map_px > static_cast<int>(context.limits().maxImageDimension2D)) {
      throw std::invalid_argument("RendererOptions::shadow_map_px = " + std::to_string(options.shadow_map_px) +
                                  ", must be 16 to " + std::to_string(context.limits().maxImageDimension2D));
    }
    VkCommandPoolCreateInfo pool_info{VK_STRUCTURE_TYPE_COMMAND_POOL_CREATE_INFO};
    pool_info.flags = VK_COMMAND_POOL_CREATE_RESET_COMMAND_BUFFER_BIT;
    pool_info.queueFamilyIndex = context.queue_family();
    VkCommandPool pool = VK_NULL_HANDLE;
    vk::Check(vkCreateCommandPool(context.device(), &pool_info, nullptr, &pool), "vkCreateCommandPool");
    command_pool = vk::CommandPool(context.device(), pool);

    const std::uint8_t white_pixel[4] = {255, 255, 255, 255};
    white = UploadTexture(Rgba8Image{1, 1, {white_pixel, white_pixel + 4}});
    EnsureShadowLayers(1);
    CreateSlots();
    context.ThrowIfValidationFailed();
  }

  ~Impl() {
    if (context.device() != VK_NULL_HANDLE) vkDeviceWaitIdle(context.device());
  }

  // --- resources ---

  Texture UploadTexture(const Rgba8Image& image) {
    Texture t;
    VkImageCreateInfo info{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    info.imageType = VK_IMAGE_TYPE_2D;
    info.format = kTextureFormat;
    info.extent = {static_cast<std::uint32_t>(image.width_px), static_cast<std::uint32_t>(image.height_px), 1};
    info.mipLevels = 1;
    info.arrayLayers = 1;
    info.samples = VK_SAMPLE_COUNT_1_BIT;
    info.tiling = VK_IMAGE_TILING_OPTIMAL;
    info.usage = VK_IMAGE_USAGE_TRANSFER_DST_BIT | VK_IMAGE_USAGE_SAMPLED_BIT;
    t.image = vk::CreateImage(context, info);
    t.view = vk::CreateImageView(context, t.image.image.get(), VK_IMAGE_VIEW_TYPE_2D, kTextureFormat,
                                 VK_IMAGE_ASPECT_COLOR_BIT, 0, 1);
    vk::BufferResource staging =
        vk::CreateBuffer(context, image.rgba.size(), VK_BUFFER_USAGE_TRANSFER_SRC_BIT, vk::MemoryUse::kUpload);
    std::memcpy(staging.mapped, image.rgba.data(), image.rgba.size());
    vk::RunOnce(context, command_pool.get(), [&](VkCommandBuffer cmd) {
      vk::TransitionImage(cmd, t.image.image.get(), VK_IMAGE_ASPECT_COLOR_BIT, 1, VK_IMAGE_LAYOUT_UNDEFINED,
                          VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, VK_PIPELINE_STAGE_2_NONE, VK_ACCESS_2_NONE,
                          VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_WRITE_BIT);
      VkBufferImageCopy region{};
      region.imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, 0, 1};
      region.imageExtent = info.extent;
      vkCmdCopyBufferToImage(cmd, staging.buffer.get(), t.image.image.get(), VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL, 1,
                             &region);
      vk::TransitionImage(cmd, t.image.image.get(), VK_IMAGE_ASPECT_COLOR_BIT, 1, VK_IMAGE_LAYOUT_TRANSFER_DST_OPTIMAL,
                          VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_PIPELINE_STAGE_2_COPY_BIT,
                          VK_ACCESS_2_TRANSFER_WRITE_BIT, VK_PIPELINE_STAGE_2_FRAGMENT_SHADER_BIT,
                          VK_ACCESS_2_SHADER_SAMPLED_READ_BIT);
    });

    const VkDescriptorPoolSize size{VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, 1};
    t.pool = vk::CreateDescriptorPool(context, std::span(&size, 1), 1);
    t.set = vk::AllocateDescriptorSet(context, t.pool.get(), pipelines.texture_set_layout.get());
    VkDescriptorImageInfo image_info{pipelines.texture_sampler.get(), t.view.get(),
                                     VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL};
    VkWriteDescriptorSet write{VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    write.dstSet = t.set;
    write.dstBinding = 0;
    write.descriptorCount = 1;
    write.descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;
    write.pImageInfo = &image_info;
    vkUpdateDescriptorSets(context.device(), 1, &write, 0, nullptr);
    return t;
  }

  template <typename T>
  vk::BufferResource UploadBuffer(const std::vector<T>& data, VkBufferUsageFlags usage) {
    const VkDeviceSize bytes = std::max<VkDeviceSize>(sizeof(T) * data.size(), 16);
    vk::BufferResource staging =
        vk::CreateBuffer(context, bytes, VK_BUFFER_USAGE_TRANSFER_SRC_BIT, vk::MemoryUse::kUpload);
    if (!data.empty()) std::memcpy(staging.mapped, data.data(), sizeof(T) * data.size());
    vk::BufferResource buffer =
        vk::CreateBuffer(context, bytes, usage | VK_BUFFER_USAGE_TRANSFER_DST_BIT, vk::MemoryUse::kDevice);
    vk::RunOnce(context, command_pool.get(), [&](VkCommandBuffer cmd) {
      VkBufferCopy region{0, 0, bytes};
      vkCmdCopyBuffer(cmd, staging.buffer.get(), buffer.buffer.get(), 1, &region);
    });
    return buffer;
  }

  void CreateSlots() {
    const auto n = static_cast<std::uint32_t>(options.staging_buffers);
    const std::array<VkDescriptorPoolSize, 2> sizes{{
        {VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC, n},
        {VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER, n},
    }};
    slot_pool = vk::CreateDescriptorPool(context, sizes, n);

    slots.resize(n);
    for (Slot& slot : slots) {
      VkCommandBufferAllocateInfo alloc{VK_STRUCTURE_TYPE_COMMAND_BUFFER_ALLOCATE_INFO};
      alloc.commandPool = command_pool.get();
      alloc.level = VK_COMMAND_BUFFER_LEVEL_PRIMARY;
      alloc.commandBufferCount = 1;
      vk::Check(vkAllocateCommandBuffers(context.device(), &alloc, &slot.cmd), "vkAllocateCommandBuffers");
      VkFenceCreateInfo fence_info{VK_STRUCTURE_TYPE_FENCE_CREATE_INFO};
      VkFence fence = VK_NULL_HANDLE;
      vk::Check(vkCreateFence(context.device(), &fence_info, nullptr, &fence), "vkCreateFence");
      slot.fence = vk::Fence(context.device(), fence);
      slot.scene_set = vk::AllocateDescriptorSet(context, slot_pool.get(), pipelines.scene_set_layout.get());
    }
  }

  // Grows a host-visible buffer to at least `bytes` (contents are not kept).
  void Reserve(vk::BufferResource& buffer, VkDeviceSize bytes, VkBufferUsageFlags usage, vk::MemoryUse use) {
    bytes = std::max<VkDeviceSize>(bytes, 256);
    if (buffer.buffer && buffer.size >= bytes) return;
    buffer = vk::BufferResource{};
    buffer = vk::CreateBuffer(context, bytes + bytes / 2, usage, use);
  }

  vk::ImageResource TargetImage(VkFormat format, VkImageUsageFlags usage, int width, int height, int layers) {
    VkImageCreateInfo info{VK_STRUCTURE_TYPE_IMAGE_CREATE_INFO};
    info.imageType = VK_IMAGE_TYPE_2D;
    info.format = format;
    info.extent = {static_cast<std::uint32_t>(width), static_cast<std::uint32_t>(height), 1};
    info.mipLevels = 1;
    info.arrayLayers = static_cast<std::uint32_t>(layers);
    info.samples = VK_SAMPLE_COUNT_1_BIT;
    info.tiling = VK_IMAGE_TILING_OPTIMAL;
    info.usage = usage;
    return vk::CreateImage(context, info);
  }

  // Called with no submission in flight.
  void EnsureTargets(int width, int height, int layers) {
    Targets& t = targets;
    if (t.width >= width && t.height >= height && t.layers >= layers) return;
    vk::Check(vkDeviceWaitIdle(context.device()), "vkDeviceWaitIdle");
    const int w = std::max(t.width, width), h = std::max(t.height, height), n = std::max(t.layers, layers);
    t = Targets{};
    const VkImageUsageFlags color_usage = VK_IMAGE_USAGE_COLOR_ATTACHMENT_BIT | VK_IMAGE_USAGE_TRANSFER_SRC_BIT;
    t.color = TargetImage(kColorFormat, color_usage, w, h, n);
    t.depth = TargetImage(kDepthOutFormat, color_usage, w, h, n);
    t.segment = TargetImage(kSegmentFormat, color_usage, w, h, n);
    t.zbuffer = TargetImage(kZBufferFormat, VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT, w, h, n);
    for (int layer = 0; layer < n; ++layer) {
      const auto l = static_cast<std::uint32_t>(layer);
      t.color_views.push_back(vk::CreateImageView(context, t.color.image.get(), VK_IMAGE_VIEW_TYPE_2D, kColorFormat,
                                                  VK_IMAGE_ASPECT_COLOR_BIT, l, 1));
      t.depth_views.push_back(vk::CreateImageView(context, t.depth.image.get(), VK_IMAGE_VIEW_TYPE_2D, kDepthOutFormat,
                                                  VK_IMAGE_ASPECT_COLOR_BIT, l, 1));
      t.segment_views.push_back(vk::CreateImageView(context, t.segment.image.get(), VK_IMAGE_VIEW_TYPE_2D,
                                                    kSegmentFormat, VK_IMAGE_ASPECT_COLOR_BIT, l, 1));
      t.zbuffer_views.push_back(vk::CreateImageView(context, t.zbuffer.image.get(), VK_IMAGE_VIEW_TYPE_2D,
                                                    kZBufferFormat, VK_IMAGE_ASPECT_DEPTH_BIT, l, 1));
    }
    t.width = w;
    t.height = h;
    t.layers = n;
  }

  // Called with no submission in flight. Leaves every layer in SHADER_READ_ONLY_OPTIMAL.
  void EnsureShadowLayers(int layers) {
    if (shadows.layers >= layers) return;
    vk::Check(vkDeviceWaitIdle(context.device()), "vkDeviceWaitIdle");
    const int n = std::max(layers, 2 * shadows.layers);
    shadows = Shadows{};
    shadows.image = TargetImage(kShadowFormat, VK_IMAGE_USAGE_DEPTH_STENCIL_ATTACHMENT_BIT | VK_IMAGE_USAGE_SAMPLED_BIT,
                                options.shadow_map_px, options.shadow_map_px, n);
    shadows.array_view =
        vk::CreateImageView(context, shadows.image.image.get(), VK_IMAGE_VIEW_TYPE_2D_ARRAY, kShadowFormat,
                            VK_IMAGE_ASPECT_DEPTH_BIT, 0, static_cast<std::uint32_t>(n));
    for (int layer = 0; layer < n; ++layer) {
      shadows.layer_views.push_back(vk::CreateImageView(context, shadows.image.image.get(), VK_IMAGE_VIEW_TYPE_2D,
                                                        kShadowFormat, VK_IMAGE_ASPECT_DEPTH_BIT,
                                                        static_cast<std::uint32_t>(layer), 1));
    }
    shadows.layers = n;
    vk::RunOnce(context, command_pool.get(), [&](VkCommandBuffer cmd) {
      vk::TransitionImage(cmd, shadows.image.image.get(), VK_IMAGE_ASPECT_DEPTH_BIT, static_cast<std::uint32_t>(n),
                          VK_IMAGE_LAYOUT_UNDEFINED, VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_PIPELINE_STAGE_2_NONE,
                          VK_ACCESS_2_NONE, VK_PIPELINE_STAGE_2_FRAGMENT_SHADER_BIT,
                          VK_ACCESS_2_SHADER_SAMPLED_READ_BIT);
    });
  }

  // --- model ---

  void LoadModel(std::shared_ptr<const sim::Model> m) {
    if (!m) throw std::invalid_argument("Renderer::LoadModel: null model");
    vk::Check(vkDeviceWaitIdle(context.device()), "vkDeviceWaitIdle");
    DrawList new_list = BuildDrawList(
        *m, options.collision_shapes_cast_shadows ? ShadowCasters::kCollisionShapes : ShadowCasters::kVisualShapes);
    std::vector<Texture> new_textures;
    for (const TextureSource& source : new_list.textures) {
      const Rgba8Image image = source.embedded ? DecodeImageBytes(*source.embedded, source.referenced_from, "texture")
                                               : DecodeImageFile(source.file, source.referenced_from, "texture");
      new_textures.push_back(UploadTexture(image));
    }
    // Everything is built before anything is replaced: a failure leaves the previous model loaded.
    vk::BufferResource new_vertices = UploadBuffer(new_list.vertices, VK_BUFFER_USAGE_VERTEX_BUFFER_BIT);
    vk::BufferResource new_indices = UploadBuffer(new_list.indices, VK_BUFFER_USAGE_INDEX_BUFFER_BIT);
    vertices = std::move(new_vertices);
    indices = std::move(new_indices);
    model_textures = std::move(new_textures);
    list = std::move(new_list);
    model = std::move(m);
    context.ThrowIfValidationFailed();
  }

  int AddTexture(const std::filesystem::path& file) {
    added_textures.push_back(UploadTexture(DecodeImageFile(file, file.string(), "")));
    context.ThrowIfValidationFailed();
    return static_cast<int>(added_textures.size()) - 1;
  }

  // --- rendering ---

  void Render(std::span<const SceneState> states, std::span<const ViewRequest> views, std::vector<Frame>* frames) {
    if (!model) throw std::logic_error("Renderer::Render called before LoadModel");
    if (frames == nullptr) throw std::invalid_argument("Renderer::Render: frames is null");
    std::vector<ResolvedView> resolved;
    resolved.reserve(views.size());
    int max_width = 1, max_height = 1;
    for (std::size_t i = 0; i < views.size(); ++i) {
      resolved.push_back(ResolveView(*model, list, static_cast<int>(added_textures.size()), states, views[i], i));
      max_width = std::max(max_width, resolved.back().intrinsics.width_px);
      max_height = std::max(max_height, resolved.back().intrinsics.height_px);
    }
    frames->resize(views.size());
    for (std::size_t i = 0; i < views.size(); ++i) {
      Frame& f = (*frames)[i];
      f.width_px = resolved[i].intrinsics.width_px;
      f.height_px = resolved[i].intrinsics.height_px;
      const std::size_t pixels = static_cast<std::size_t>(f.width_px) * f.height_px;
      f.rgb.resize(3 * pixels);
      f.depth_m.resize(pixels);
      f.segmentation.resize(pixels);
    }
    if (views.empty()) return;
    const int per_submission = options.views_per_submission;
    EnsureTargets(max_width, max_height, std::min<int>(per_submission, static_cast<int>(views.size())));
    const PlanSettings settings{options.shadows, options.shadow_map_px,
                                context.limits().minUniformBufferOffsetAlignment};

    try {
      std::size_t next_slot = 0;
      for (const ViewRange& range : SplitIntoSubmissions(views.size(), per_submission)) {
        Slot& slot = slots[next_slot];
        next_slot = (next_slot + 1) % slots.size();
        if (slot.pending) Finish(slot, *frames);
        Submit(slot, PlanSubmission(*model, list, states, views, resolved, range, settings));
      }
      for (std::size_t k = 0; k < slots.size(); ++k) {
        Slot& slot = slots[(next_slot + k) % slots.size()];
        if (slot.pending) Finish(slot, *frames);
      }
    } catch (...) {
      vkDeviceWaitIdle(context.device());
      for (Slot& slot : slots) slot.pending = false;
      throw;
    }
    context.ThrowIfValidationFailed();
  }

  // Waits for a slot's submission and copies its frames out of the staging buffer.
  void Finish(Slot& slot, std::vector<Frame>& frames) {
    const VkFence fence = slot.fence.get();
    vk::Check(vkWaitForFences(context.device(), 1, &fence, VK_TRUE, UINT64_MAX), "vkWaitForFences");
    slot.pending = false;
    slot.staging.InvalidateForRead(context);
    const auto* base = static_cast<const std::uint8_t*>(slot.staging.mapped);
    for (const PlannedView& v : slot.plan.views) {
      Frame& f = frames[v.view];
      const std::size_t pixels = static_cast<std::size_t>(f.width_px) * f.height_px;
      const std::uint8_t* rgba = base + v.readback[kReadbackColor].offset;
      std::uint8_t* rgb = f.rgb.data();
      for (std::size_t p = 0; p < pixels; ++p) {
        rgb[3 * p] = rgba[4 * p];
        rgb[3 * p + 1] = rgba[4 * p + 1];
        rgb[3 * p + 2] = rgba[4 * p + 2];
      }
      std::memcpy(f.depth_m.data(), base + v.readback[kReadbackDepth].offset, pixels * sizeof(float));
      std::memcpy(f.segmentation.data(), base + v.readback[kReadbackSegmentation].offset,
                  pixels * sizeof(std::uint16_t));
    }
  }

  VkPipeline ScenePipeline(const SceneVariant& variant) {
    auto it = scene_pipelines.find(variant.Key());
    if (it == scene_pipelines.end()) {
      it = scene_pipelines.emplace(variant.Key(), CreateScenePipeline(context, pipelines, variant)).first;
    }
    return it->second.get();
  }

  VkDescriptorSet TextureSet(const TextureRef& texture) const {
    switch (texture.source) {
      case TextureRef::Source::kModel:
        return model_textures[texture.index].set;
      case TextureRef::Source::kAdded:
        return added_textures[texture.index].set;
      case TextureRef::Source::kWhite:
        break;
    }
    return white.set;
  }

  // The render targets in the order of ReadbackOutput.
  std::array<VkImage, kNumReadbackOutputs> OutputImages() const {
    return {targets.color.image.get(), targets.depth.image.get(), targets.segment.image.get()};
  }

  // Records a planned submission into a free slot and submits it; Finish collects its frames.
  void Submit(Slot& slot, SubmissionPlan plan) {
    EnsureShadowLayers(static_cast<int>(plan.shadow_layers.size()));
    Upload(slot, plan);
    const VkCommandBuffer cmd = BeginCommands(slot);
    if (!plan.shadow_layers.empty()) RecordShadowPass(cmd, plan);
    RecordViewPasses(cmd, slot, plan);
    RecordReadback(cmd, slot, plan);
    vk::Check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");

    const VkFence fence = slot.fence.get();
    vk::Check(vkResetFences(context.device(), 1, &fence), "vkResetFences");
    VkCommandBufferSubmitInfo cmd_info{VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO};
    cmd_info.commandBuffer = cmd;
    VkSubmitInfo2 submit{VK_STRUCTURE_TYPE_SUBMIT_INFO_2};
    submit.commandBufferInfoCount = 1;
    submit.pCommandBufferInfos = &cmd_info;
    vk::Check(vkQueueSubmit2(context.queue(), 1, &submit, fence), "vkQueueSubmit2");
    slot.pending = true;
    slot.plan = std::move(plan);
  }

  // Grows the slot's buffers to the plan's sizes, writes the views' uniform blocks and points the slot's scene
  // descriptor set at them and at the shadow maps.
  void Upload(Slot& slot, const SubmissionPlan& plan) {
    Reserve(slot.views, plan.uniform_bytes, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, vk::MemoryUse::kUpload);
    Reserve(slot.staging, plan.staging_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, vk::MemoryUse::kReadback);
    for (const PlannedView& v : plan.views) {
      std::memcpy(static_cast<std::uint8_t*>(slot.views.mapped) + v.uniform_offset, &v.uniforms, sizeof(ViewGpu));
    }

    const VkDescriptorBufferInfo view_buffer{slot.views.buffer.get(), 0, sizeof(ViewGpu)};
    const VkDescriptorImageInfo shadow_image{pipelines.shadow_sampler.get(), shadows.array_view.get(),
                                             VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL};
    std::array<VkWriteDescriptorSet, 2> writes{};
    writes[0] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[0].dstSet = slot.scene_set;
    writes[0].dstBinding = 0;
    writes[0].descriptorCount = 1;
    writes[0].descriptorType = VK_DESCRIPTOR_TYPE_UNIFORM_BUFFER_DYNAMIC;
    writes[0].pBufferInfo = &view_buffer;
    writes[1] = {VK_STRUCTURE_TYPE_WRITE_DESCRIPTOR_SET};
    writes[1].dstSet = slot.scene_set;
    writes[1].dstBinding = 1;
    writes[1].descriptorCount = 1;
    writes[1].descriptorType = VK_DESCRIPTOR_TYPE_COMBINED_IMAGE_SAMPLER;
    writes[1].pImageInfo = &shadow_image;
    vkUpdateDescriptorSets(context.device(), static_cast<std::uint32_t>(writes.size()), writes.data(), 0, nullptr);
  }

  // Starts the slot's command buffer with the model's vertex and index buffers bound.
  VkCommandBuffer BeginCommands(const Slot& slot) {
    const VkCommandBuffer cmd = slot.cmd;
    vk::Check(vkResetCommandBuffer(cmd, 0), "vkResetCommandBuffer");
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    vk::Check(vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer");
    const VkDeviceSize zero = 0;
    const VkBuffer vertex_buffer = vertices.buffer.get();
    vkCmdBindVertexBuffers(cmd, 0, 1, &vertex_buffer, &zero);
    vkCmdBindIndexBuffer(cmd, indices.buffer.get(), 0, VK_INDEX_TYPE_UINT32);
    return cmd;
  }

  // Draws the shadow casters into each of the plan's shadow layers; leaves the maps ready for sampling.
  void RecordShadowPass(VkCommandBuffer cmd, const SubmissionPlan& plan) {
    // The previous submission's fragment shaders may still read the maps; their contents are not needed.
    vk::TransitionImage(cmd, shadows.image.image.get(), VK_IMAGE_ASPECT_DEPTH_BIT,
                        static_cast<std::uint32_t>(shadows.layers), VK_IMAGE_LAYOUT_UNDEFINED,
                        VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL, VK_PIPELINE_STAGE_2_FRAGMENT_SHADER_BIT,
                        VK_ACCESS_2_NONE, kFragmentTests, kDepthAccess);
    vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipelines.shadow.get());
    const auto size = static_cast<std::uint32_t>(options.shadow_map_px);
    for (std::size_t s = 0; s < plan.shadow_layers.size(); ++s) {
      VkRenderingAttachmentInfo depth{VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO};
      depth.imageView = shadows.layer_views[s].get();
      depth.imageLayout = VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL;
      depth.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
      depth.storeOp = VK_ATTACHMENT_STORE_OP_STORE;
      depth.clearValue.depthStencil = {1.0f, 0};
      VkRenderingInfo info{VK_STRUCTURE_TYPE_RENDERING_INFO};
      info.renderArea = {{0, 0}, {size, size}};
      info.layerCount = 1;
      info.pDepthAttachment = &depth;
      vkCmdBeginRendering(cmd, &info);
      SetViewportAndScissor(cmd, size, size);
      const std::vector<ShadowPush>& casters = plan.shadow_layers[s].casters;
      for (std::size_t i = 0; i < casters.size(); ++i) {
        const DrawItem& item = list.shadow_items[i];
        vkCmdPushConstants(cmd, pipelines.shadow_layout.get(), VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(ShadowPush),
                           &casters[i]);
        vkCmdDrawIndexed(cmd, item.index_count, 1, item.first_index, item.vertex_offset, 0);
      }
      vkCmdEndRendering(cmd);
    }
    vk::TransitionImage(cmd, shadows.image.image.get(), VK_IMAGE_ASPECT_DEPTH_BIT,
                        static_cast<std::uint32_t>(shadows.layers), VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL,
                        VK_IMAGE_LAYOUT_SHADER_READ_ONLY_OPTIMAL, VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT,
                        VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_2_FRAGMENT_SHADER_BIT,
                        VK_ACCESS_2_SHADER_SAMPLED_READ_BIT);
  }

  // Readies the targets' first plan.views.size() layers for drawing and draws each view into its layer.
  void RecordViewPasses(VkCommandBuffer cmd, const Slot& slot, const SubmissionPlan& plan) {
    // The previous submission's copies may still read the targets; their old contents are not needed.
    const auto layers = static_cast<std::uint32_t>(plan.views.size());
    for (VkImage image : OutputImages()) {
      vk::TransitionImage(cmd, image, VK_IMAGE_ASPECT_COLOR_BIT, layers, VK_IMAGE_LAYOUT_UNDEFINED,
                          VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_NONE,
                          VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT, VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT);
    }
    vk::TransitionImage(cmd, targets.zbuffer.image.get(), VK_IMAGE_ASPECT_DEPTH_BIT, layers, VK_IMAGE_LAYOUT_UNDEFINED,
                        VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL, kFragmentTests,
                        VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT, kFragmentTests, kDepthAccess);
    for (std::size_t j = 0; j < plan.views.size(); ++j) RecordView(cmd, slot, plan.views[j], j);
  }

  // One view's pass into layer `layer` of the targets: colour, metric depth and segmentation.
  void RecordView(VkCommandBuffer cmd, const Slot& slot, const PlannedView& view, std::size_t layer) {
    const auto w = static_cast<std::uint32_t>(view.width_px), h = static_cast<std::uint32_t>(view.height_px);
    std::array<VkRenderingAttachmentInfo, 3> color{};
    const VkImageView color_views[3] = {targets.color_views[layer].get(), targets.depth_views[layer].get(),
                                        targets.segment_views[layer].get()};
    for (int a = 0; a < 3; ++a) {
      color[a] = {VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO};
      color[a].imageView = color_views[a];
      color[a].imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL;
      color[a].loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
      color[a].storeOp = VK_ATTACHMENT_STORE_OP_STORE;
    }
    for (int c = 0; c < 4; ++c) color[0].clearValue.color.float32[c] = view.clear_rgba[c];
    color[1].clearValue.color.float32[0] = 0.0f;  // no depth
    color[2].clearValue.color.uint32[0] = 0;      // background
    VkRenderingAttachmentInfo depth{VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO};
    depth.imageView = targets.zbuffer_views[layer].get();
    depth.imageLayout = VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL;
    depth.loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
    depth.storeOp = VK_ATTACHMENT_STORE_OP_DONT_CARE;
    depth.clearValue.depthStencil = {0.0f, 0};  // reversed depth: far is 0
    VkRenderingInfo info{VK_STRUCTURE_TYPE_RENDERING_INFO};
    info.renderArea = {{0, 0}, {w, h}};
    info.layerCount = 1;
    info.colorAttachmentCount = 3;
    info.pColorAttachments = color.data();
    info.pDepthAttachment = &depth;
    vkCmdBeginRendering(cmd, &info);
    SetViewportAndScissor(cmd, w, h);
    const auto view_offset = static_cast<std::uint32_t>(view.uniform_offset);
    vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipelines.scene_layout.get(), 0, 1, &slot.scene_set,
                            1, &view_offset);
    SceneVariant textured = view.variant;
    textured.textured = true;
    const VkPipeline pipeline[2] = {ScenePipeline(view.variant), ScenePipeline(textured)};
    const VkShaderStageFlags push_stages = VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT;
    VkDescriptorSet bound = VK_NULL_HANDLE;
    for (std::size_t o = 0; o < view.draws.size(); ++o) {
      if (o == 0 || o == view.first_textured) {
        vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipeline[o < view.first_textured ? 0 : 1]);
      }
      const PlannedDraw& d = view.draws[o];
      const DrawItem& item = list.items[d.item];
      const VkDescriptorSet texture = TextureSet(d.texture);
      if (texture != bound) {
        bound = texture;
        vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipelines.scene_layout.get(), 1, 1, &bound, 0,
                                nullptr);
      }
      vkCmdPushConstants(cmd, pipelines.scene_layout.get(), push_stages, 0, sizeof(DrawPush), &d.push);
      vkCmdDrawIndexed(cmd, item.index_count, 1, item.first_index, item.vertex_offset, 0);
    }
    vkCmdEndRendering(cmd);
  }

  // Copies every view's region of its layer into the slot's staging buffer at the plan's offsets.
  void RecordReadback(VkCommandBuffer cmd, const Slot& slot, const SubmissionPlan& plan) {
    const auto layers = static_cast<std::uint32_t>(plan.views.size());
    const std::array<VkImage, kNumReadbackOutputs> images = OutputImages();
    for (VkImage image : images) {
      vk::TransitionImage(cmd, image, VK_IMAGE_ASPECT_COLOR_BIT, layers, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                          VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT,
                          VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT, VK_PIPELINE_STAGE_2_COPY_BIT,
                          VK_ACCESS_2_TRANSFER_READ_BIT);
    }
    std::vector<VkBufferImageCopy> regions(plan.views.size());
    for (int a = 0; a < kNumReadbackOutputs; ++a) {
      for (std::size_t j = 0; j < plan.views.size(); ++j) {
        const PlannedView& v = plan.views[j];
        regions[j] = {};
        regions[j].bufferOffset = v.readback[a].offset;
        regions[j].imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, static_cast<std::uint32_t>(j), 1};
        regions[j].imageExtent = {static_cast<std::uint32_t>(v.width_px), static_cast<std::uint32_t>(v.height_px), 1};
      }
      vkCmdCopyImageToBuffer(cmd, images[a], VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, slot.staging.buffer.get(),
                             static_cast<std::uint32_t>(regions.size()), regions.data());
    }
    VkMemoryBarrier2 to_host{VK_STRUCTURE_TYPE_MEMORY_BARRIER_2};
    to_host.srcStageMask = VK_PIPELINE_STAGE_2_COPY_BIT;
    to_host.srcAccessMask = VK_ACCESS_2_TRANSFER_WRITE_BIT;
    to_host.dstStageMask = VK_PIPELINE_STAGE_2_HOST_BIT;
    to_host.dstAccessMask = VK_ACCESS_2_HOST_READ_BIT;
    VkDependencyInfo dependency{VK_STRUCTURE_TYPE_DEPENDENCY_INFO};
    dependency.memoryBarrierCount = 1;
    dependency.pMemoryBarriers = &to_host;
    vkCmdPipelineBarrier2(cmd, &dependency);
  }
};

void ApplyRendering(const sim::RenderSettings& scene, const RenderingOverrides& overrides, RendererOptions* options) {
  using Casters = sim::RenderSettings::ShadowCasters;
  bool shadows = scene.shadows;
  Casters casters = scene.shadow_casters;
  int shadow_map_px = scene.shadow_map_px;
  if (overrides.shadows) {
    const std::string& text = *overrides.shadows;
    if (text == "on" || text == "true") {
      shadows = true;
    } else if (text == "off" || text == "false") {
      shadows = false;
    } else {
      throw InputError(kRenderingOverridesSource, "shadows", "'" + text + "' is not on or off");
    }
  }
  if (overrides.shadow_casters) {
    const std::string& text = *overrides.shadow_casters;
    if (text == "visual") {
      casters = Casters::kVisual;
    } else if (text == "collision") {
      casters = Casters::kCollision;
    } else {
      throw InputError(kRenderingOverridesSource, "shadow_casters", "'" + text + "' is not visual or collision");
    }
  }
  if (overrides.shadow_map_px) {
    shadow_map_px = *overrides.shadow_map_px;
    if (shadow_map_px < sim::RenderSettings::kMinShadowMapPx || shadow_map_px > sim::RenderSettings::kMaxShadowMapPx) {
      throw InputError(kRenderingOverridesSource, "shadow_map_px",
                       "must lie in [" + std::to_string(sim::RenderSettings::kMinShadowMapPx) + ", " +
                           std::to_string(sim::RenderSettings::kMaxShadowMapPx) + "] pixels, found " +
                           std::to_string(shadow_map_px));
    }
  }
  options->shadows = shadows;
  options->collision_shapes_cast_shadows = casters == Casters::kCollision;
  options->shadow_map_px = shadow_map_px;
}

Renderer::Renderer(const RendererOptions& options) : impl_(std::make_unique<Impl>(options)) {}
Renderer::~Renderer() = default;
Renderer::Renderer(Renderer&&) noexcept = default;
Renderer& Renderer::operator=(Renderer&&) noexcept = default;

std::string Renderer::device_name() const { return impl_->context.device_name(); }

void Renderer::LoadModel(std::shared_ptr<const sim::Model> model) { impl_->LoadModel(std::move(model)); }

int Renderer::AddTexture(const std::filesystem::path& image) { return impl_->AddTexture(image); }

void Renderer::Render(std::span<const SceneState> states, std::span<const ViewRequest> views,
                      std::vector<Frame>* frames) {
  impl_->Render(states, views, frames);
}

}  // namespace r2s::render
