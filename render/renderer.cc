#include "render/renderer.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>

#include "episode/input_error.h"
#include "render/color.h"
#include "render/draw_list.h"
#include "render/gpu_layout.h"
#include "render/image_decode.h"
#include "render/pipelines.h"
#include "render/projection.h"
#include "render/render_error.h"
#include "render/vk/check.h"
#include "render/vk/context.h"
#include "render/vk/resources.h"

namespace r2s::render {
namespace {

constexpr VkDeviceSize kStagingAlignment = 16;
constexpr double kPointShadowNearM = 0.02;  // a point light's shadow cube sees nothing nearer

VkDeviceSize Align(VkDeviceSize value, VkDeviceSize alignment) {
  return (value + alignment - 1) / alignment * alignment;
}

void CopyMatrix(const Eigen::Matrix4d& m, float* out) {
  const Eigen::Matrix4f f = m.cast<float>();
  std::memcpy(out, f.data(), sizeof(float) * 16);
}

void Store(float* out, const Eigen::Vector3d& v, double w) {
  out[0] = static_cast<float>(v.x());
  out[1] = static_cast<float>(v.y());
  out[2] = static_cast<float>(v.z());
  out[3] = static_cast<float>(w);
}

// Maps shadow-map clip space (x, y in [-1, 1]) to texture coordinates (in [0, 1]); depth stays.
Eigen::Matrix4d ClipToTexture() {
  Eigen::Matrix4d m = Eigen::Matrix4d::Identity();
  m(0, 0) = m(1, 1) = 0.5;
  m(0, 3) = m(1, 3) = 0.5;
  return m;
}

// A texture on the device with the descriptor set that binds it.
struct Texture {
  vk::ImageResource image;
  vk::ImageView view;
  vk::DescriptorPool pool;
  VkDescriptorSet set = VK_NULL_HANDLE;
};

// One view, resolved and checked before anything is submitted.
struct ResolvedView {
  CameraIntrinsics intrinsics;
  Eigen::Isometry3d camera_to_world;
  std::vector<sim::LightModel> lights;
  std::vector<int> material_overrides;  // per view.params.materials entry: index into DrawList::materials
};

// What a view's shadow map is keyed by: the state and the light's geometry (colour and intensity do not matter).
using ShadowKey = std::tuple<int, int, double, double, double>;

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
    std::size_t first_view = 0, num_views = 0;
    std::vector<VkDeviceSize> offsets;  // per view: colour, depth, segmentation offsets in staging
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

  ResolvedView Resolve(std::span<const SceneState> states, const ViewRequest& view, std::size_t index) const {
    const std::string where = "views[" + std::to_string(index) + "]";
    if (view.state < 0 || view.state >= static_cast<int>(states.size())) {
      throw std::invalid_argument(where + ".state = " + std::to_string(view.state) + ", but " +
                                  std::to_string(states.size()) + " states were given");
    }
    const SceneState& state = states[view.state];
    const std::size_t links = model->robot ? model->robot->links.size() : 0;
    if (state.link_poses.size() != links || state.object_poses.size() != model->objects.size()) {
      throw std::invalid_argument(
          "states[" + std::to_string(view.state) + "] has " + std::to_string(state.link_poses.size()) + " link and " +
          std::to_string(state.object_poses.size()) + " object poses; the model has " + std::to_string(links) +
          " links and " + std::to_string(model->objects.size()) + " objects");
    }
    if (!state.environment_poses.empty() && state.environment_poses.size() != model->environment.size()) {
      throw std::invalid_argument("states[" + std::to_string(view.state) + "] has " +
                                  std::to_string(state.environment_poses.size()) +
                                  " environment poses; the model has " + std::to_string(model->environment.size()) +
                                  " environment bodies");
    }
    ResolvedView r;
    try {
      r.intrinsics = ResolveIntrinsics(*model, view);
      r.camera_to_world = ResolveCameraPose(*model, state, view);
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(where + ": " + e.what());
    }
    r.lights = view.params.lights ? *view.params.lights : model->lights;
    if (r.lights.size() > static_cast<std::size_t>(kMaxLights)) {
      throw std::invalid_argument(where + " has " + std::to_string(r.lights.size()) + " lights; at most " +
                                  std::to_string(kMaxLights));
    }
    for (const sim::LightModel& light : r.lights) {
      const bool ok = light.kind == sim::LightModel::Kind::kPoint
                          ? light.position_m.allFinite()
                          : light.direction.allFinite() && light.direction.norm() > 0;
      if (!ok || !light.color_rgb.allFinite() || !std::isfinite(light.intensity)) {
        throw std::invalid_argument(where + ": light '" + light.name + "' has a non-finite or zero vector");
      }
    }
    for (const MaterialOverride& o : view.params.materials) {
      const int m = list.FindMaterial(o.material);
      if (m < 0) {
        throw std::invalid_argument(where + ".params.materials: no material '" + o.material + "' in the model");
      }
      if (o.texture && (*o.texture < -1 || *o.texture >= static_cast<int>(added_textures.size()))) {
        throw std::invalid_argument(where + ".params.materials['" + o.material +
                                    "'].texture = " + std::to_string(*o.texture) + ", but " +
                                    std::to_string(added_textures.size()) + " textures were added");
      }
      r.material_overrides.push_back(m);
    }
    if (!std::isfinite(view.params.exposure) || view.params.exposure < 0) {
      throw std::invalid_argument(where + ".params.exposure = " + std::to_string(view.params.exposure));
    }
    return r;
  }

  Eigen::Isometry3d BodyPose(const SceneState& state, const DrawItem& item) const {
    switch (item.body) {
      case BodyKind::kLink:
        return state.link_poses[item.body_index];
      case BodyKind::kObject:
        return state.object_poses[item.body_index];
      case BodyKind::kEnvironment:
        // A variant may move a static body (a randomized box): the state says where; an empty list, the model.
        if (!state.environment_poses.empty()) return state.environment_poses[item.body_index];
        break;
    }
    return model->environment[item.body_index].initial_pose;
  }

  // A sphere holding every shadow caster of a state.
  std::pair<Eigen::Vector3d, double> CasterBounds(const SceneState& state) const {
    Eigen::Vector3d lo = Eigen::Vector3d::Constant(std::numeric_limits<double>::max()), hi = -lo;
    std::vector<std::pair<Eigen::Vector3d, double>> spheres;
    for (const DrawItem& item : list.shadow_items) {
      const Eigen::Vector3d c = BodyPose(state, item) * item.origin * item.bound_center;
      spheres.emplace_back(c, item.bound_radius);
      lo = lo.cwiseMin(c - Eigen::Vector3d::Constant(item.bound_radius));
      hi = hi.cwiseMax(c + Eigen::Vector3d::Constant(item.bound_radius));
    }
    if (spheres.empty()) return {Eigen::Vector3d::Zero(), 0.0};
    const Eigen::Vector3d center = 0.5 * (lo + hi);
    double radius = 0;
    for (const auto& [c, r] : spheres) radius = std::max(radius, (c - center).norm() + r);
    return {center, radius};
  }

  void Render(std::span<const SceneState> states, std::span<const ViewRequest> views, std::vector<Frame>* frames) {
    if (!model) throw std::logic_error("Renderer::Render called before LoadModel");
    if (frames == nullptr) throw std::invalid_argument("Renderer::Render: frames is null");
    std::vector<ResolvedView> resolved;
    resolved.reserve(views.size());
    int max_width = 1, max_height = 1;
    for (std::size_t i = 0; i < views.size(); ++i) {
      resolved.push_back(Resolve(states, views[i], i));
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

    try {
      std::size_t next_slot = 0;
      for (std::size_t first = 0; first < views.size(); first += per_submission) {
        const std::size_t count = std::min<std::size_t>(per_submission, views.size() - first);
        Slot& slot = slots[next_slot];
        next_slot = (next_slot + 1) % slots.size();
        if (slot.pending) Finish(slot, *frames);
        Submit(slot, states, views, resolved, first, count);
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
    for (std::size_t j = 0; j < slot.num_views; ++j) {
      Frame& f = frames[slot.first_view + j];
      const std::size_t pixels = static_cast<std::size_t>(f.width_px) * f.height_px;
      const std::uint8_t* rgba = base + slot.offsets[3 * j];
      std::uint8_t* rgb = f.rgb.data();
      for (std::size_t p = 0; p < pixels; ++p) {
        rgb[3 * p] = rgba[4 * p];
        rgb[3 * p + 1] = rgba[4 * p + 1];
        rgb[3 * p + 2] = rgba[4 * p + 2];
      }
      std::memcpy(f.depth_m.data(), base + slot.offsets[3 * j + 1], pixels * sizeof(float));
      std::memcpy(f.segmentation.data(), base + slot.offsets[3 * j + 2], pixels * sizeof(std::uint16_t));
    }
  }

  // One draw of one item in one view, prepared on the host.
  struct Draw {
    DrawPush push;
    VkDescriptorSet texture;
    double distance_m;  // of the item's bounding sphere centre along the optical axis
  };
  // What one view draws, in order: untextured items near to far, then textured ones near to far (nearer surfaces
  // first save shading hidden pixels).
  struct ViewDraws {
    VkPipeline untextured = VK_NULL_HANDLE, textured = VK_NULL_HANDLE;
    std::vector<std::uint32_t> order;  // items
    std::size_t first_textured = 0;    // into order
  };

  VkPipeline ScenePipeline(const SceneVariant& variant) {
    auto it = scene_pipelines.find(variant.Key());
    if (it == scene_pipelines.end()) {
      it = scene_pipelines.emplace(variant.Key(), CreateScenePipeline(context, pipelines, variant)).first;
    }
    return it->second.get();
  }

  void Submit(Slot& slot, std::span<const SceneState> states, std::span<const ViewRequest> views,
              const std::vector<ResolvedView>& resolved, std::size_t first, std::size_t count) {
    const std::size_t num_items = list.items.size();
    const std::size_t num_materials = list.materials.size();

    // Shadow maps: per distinct (state, light geometry) among these views, one layer for a directional light, six
    // (a cube) for a point light.
    struct ShadowJob {
      int state;
      Eigen::Matrix4d world_to_clip;
    };
    struct ShadowedLight {
      int first_layer;
      Eigen::Matrix4d world_to_clip;  // directional
      double texel_m = 0;             // directional
      double near_m = 0, far_m = 0;   // point
    };
    std::map<ShadowKey, int> shadowed_index;
    std::vector<ShadowedLight> shadowed;
    std::vector<ShadowJob> shadow_jobs;
    std::map<int, std::pair<Eigen::Vector3d, double>> bounds;
    std::vector<std::array<int, kMaxLightsPerView>> view_shadowed(count);  // into shadowed, or -1
    for (std::size_t j = 0; j < count; ++j) {
      const ResolvedView& r = resolved[first + j];
      const int state = views[first + j].state;
      view_shadowed[j].fill(-1);
      for (std::size_t l = 0; l < r.lights.size(); ++l) {
        const sim::LightModel& light = r.lights[l];
        if (!options.shadows || !light.casts_shadows) continue;
        const bool point = light.kind == sim::LightModel::Kind::kPoint;
        const Eigen::Vector3d v = point ? light.position_m : light.direction.normalized();
        const ShadowKey key{state, point ? 1 : 0, v.x(), v.y(), v.z()};
        auto it = shadowed_index.find(key);
        if (it == shadowed_index.end()) {
          auto b = bounds.find(state);
          if (b == bounds.end()) b = bounds.emplace(state, CasterBounds(states[state])).first;
          const auto& [center, radius] = b->second;
          if (!(radius > 0)) continue;  // nothing casts a shadow
          ShadowedLight s{static_cast<int>(shadow_jobs.size()), Eigen::Matrix4d::Identity()};
          if (point) {
            s.near_m = kPointShadowNearM;
            s.far_m = std::max((center - v).norm() + radius, 2 * kPointShadowNearM);
            for (const Eigen::Matrix4d& face : PointShadowFaces(v, s.near_m, s.far_m)) {
              shadow_jobs.push_back({state, face});
            }
          } else {
            const ShadowView sv = DirectionalShadowView(v, center, radius, options.shadow_map_px);
            s.world_to_clip = sv.world_to_clip;
            s.texel_m = sv.texel_m;
            shadow_jobs.push_back({state, sv.world_to_clip});
          }
          it = shadowed_index.emplace(key, static_cast<int>(shadowed.size())).first;
          shadowed.push_back(s);
        }
        view_shadowed[j][l] = it->second;
      }
    }
    EnsureShadowLayers(static_cast<int>(shadow_jobs.size()));

    // Per-view uniform blocks, at offsets the device accepts for dynamic uniform buffers.
    const VkDeviceSize view_stride =
        Align(sizeof(ViewGpu), std::max<VkDeviceSize>(context.limits().minUniformBufferOffsetAlignment, 16));
    Reserve(slot.views, view_stride * count, VK_BUFFER_USAGE_UNIFORM_BUFFER_BIT, vk::MemoryUse::kUpload);
    slot.offsets.resize(3 * count);
    VkDeviceSize staging_bytes = 0;
    for (std::size_t j = 0; j < count; ++j) {
      const CameraIntrinsics& k = resolved[first + j].intrinsics;
      const VkDeviceSize pixels = static_cast<VkDeviceSize>(k.width_px) * k.height_px;
      slot.offsets[3 * j] = staging_bytes;
      staging_bytes = Align(staging_bytes + 4 * pixels, kStagingAlignment);
      slot.offsets[3 * j + 1] = staging_bytes;
      staging_bytes = Align(staging_bytes + 4 * pixels, kStagingAlignment);
      slot.offsets[3 * j + 2] = staging_bytes;
      staging_bytes = Align(staging_bytes + 2 * pixels, kStagingAlignment);
    }
    Reserve(slot.staging, staging_bytes, VK_BUFFER_USAGE_TRANSFER_DST_BIT, vk::MemoryUse::kReadback);

    std::vector<Draw> draws(count * num_items);
    std::vector<ViewDraws> view_draws(count);
    for (std::size_t j = 0; j < count; ++j) {
      const ViewRequest& request = views[first + j];
      const ResolvedView& r = resolved[first + j];
      const SceneState& state = states[request.state];
      const Eigen::Isometry3d world_to_camera = r.camera_to_world.inverse();

      ViewGpu v{};
      SceneVariant variant;
      variant.num_lights = static_cast<int>(r.lights.size());
      CopyMatrix(ProjectionMatrix(r.intrinsics), v.projection);
      Store(v.ambient, request.params.ambient_rgb, 0);
      v.params[0] = static_cast<float>(request.params.exposure);
      v.params[1] = static_cast<float>(r.lights.size());
      for (std::size_t l = 0; l < r.lights.size(); ++l) {
        const sim::LightModel& light = r.lights[l];
        LightGpu& g = v.lights[l];
        Store(g.radiance, light.color_rgb * light.intensity, 0);
        const bool point = light.kind == sim::LightModel::Kind::kPoint;
        if (point) {
          Store(g.vector, world_to_camera * light.position_m, 1);
        } else {
          Store(g.vector, world_to_camera.linear() * light.direction.normalized(), 0);
        }
        g.info[0] = point ? 1 : 0;
        g.info[1] = -1;
        variant.point_mask |= point ? 1 << l : 0;
        if (view_shadowed[j][l] >= 0) {
          const ShadowedLight& s = shadowed[view_shadowed[j][l]];
          g.info[1] = s.first_layer;
          variant.shadow_mask |= 1 << l;
          if (point) {
            // The shader turns camera-frame offsets from the light into world axes to pick a cube face.
            Eigen::Matrix4d rotation = Eigen::Matrix4d::Identity();
            rotation.topLeftCorner<3, 3>() = r.camera_to_world.linear();
            CopyMatrix(rotation, g.shadow);
            g.shadow_params[1] = static_cast<float>(1.5 * 2 * kCubeFaceScale / options.shadow_map_px);
            g.shadow_params[2] = static_cast<float>(s.near_m);
            g.shadow_params[3] = static_cast<float>(s.far_m);
          } else {
            CopyMatrix(ClipToTexture() * s.world_to_clip * r.camera_to_world.matrix(), g.shadow);
            g.shadow_params[0] = static_cast<float>(1.5 * s.texel_m);
          }
        }
      }
      std::memcpy(static_cast<std::uint8_t*>(slot.views.mapped) + j * view_stride, &v, sizeof(v));

      // Materials: the model's, then this view's overrides.
      struct Look {
        Eigen::Vector4d rgba;  // linear
        double roughness;
        VkDescriptorSet texture;  // null: the mesh file's own texture, if any
      };
      std::vector<Look> looks(num_materials);
      for (std::size_t m = 0; m < num_materials; ++m) {
        const sim::Material& base = list.materials[m];
        Eigen::Vector4d rgba = base.rgba;
        double roughness = base.roughness;
        VkDescriptorSet texture =
            list.material_textures[m] >= 0 ? model_textures[list.material_textures[m]].set : VK_NULL_HANDLE;
        for (std::size_t o = 0; o < request.params.materials.size(); ++o) {
          if (r.material_overrides[o] != static_cast<int>(m)) continue;
          const MaterialOverride& mo = request.params.materials[o];
          if (mo.rgba) rgba = *mo.rgba;
          if (mo.roughness) roughness = *mo.roughness;
          if (mo.texture) texture = *mo.texture >= 0 ? added_textures[*mo.texture].set : VK_NULL_HANDLE;
        }
        looks[m] = {SrgbToLinear(rgba), roughness, texture};
      }

      for (std::size_t i = 0; i < num_items; ++i) {
        const DrawItem& item = list.items[i];
        const Look& look = looks[item.material];
        Draw& d = draws[j * num_items + i];
        const Eigen::Isometry3d model_to_world = BodyPose(state, item) * item.origin;
        CopyMatrix((world_to_camera * model_to_world).matrix(), d.push.modelview);
        for (int c = 0; c < 4; ++c) d.push.albedo[c] = static_cast<float>(look.rgba[c] * item.part_rgba[c]);
        d.push.roughness = static_cast<float>(look.roughness);
        d.push.segment = item.segmentation_id;
        d.texture = look.texture != VK_NULL_HANDLE ? look.texture
                    : item.part_texture >= 0       ? model_textures[item.part_texture].set
                                                   : white.set;
        d.distance_m = (world_to_camera * model_to_world * item.bound_center).z();
      }
      ViewDraws& vd = view_draws[j];
      vd.untextured = ScenePipeline(variant);
      variant.textured = true;
      vd.textured = ScenePipeline(variant);
      vd.order.resize(num_items);
      for (std::size_t i = 0; i < num_items; ++i) vd.order[i] = static_cast<std::uint32_t>(i);
      const Draw* mine = &draws[j * num_items];
      const VkDescriptorSet white_set = white.set;
      std::sort(vd.order.begin(), vd.order.end(), [&](std::uint32_t a, std::uint32_t b) {
        const bool ta = mine[a].texture != white_set, tb = mine[b].texture != white_set;
        if (ta != tb) return tb;
        if (mine[a].distance_m != mine[b].distance_m) return mine[a].distance_m < mine[b].distance_m;
        return a < b;
      });
      vd.first_textured =
          static_cast<std::size_t>(std::find_if(vd.order.begin(), vd.order.end(),
                                                [&](std::uint32_t i) { return mine[i].texture != white_set; }) -
                                   vd.order.begin());
    }
    const std::size_t num_casters = list.shadow_items.size();
    std::vector<ShadowPush> shadow_draws(shadow_jobs.size() * num_casters);
    for (std::size_t s = 0; s < shadow_jobs.size(); ++s) {
      const ShadowJob& job = shadow_jobs[s];
      for (std::size_t i = 0; i < num_casters; ++i) {
        const DrawItem& item = list.shadow_items[i];
        const Eigen::Isometry3d model_to_world = BodyPose(states[job.state], item) * item.origin;
        CopyMatrix(job.world_to_clip * model_to_world.matrix(), shadow_draws[s * num_casters + i].model_to_clip);
      }
    }

    UpdateSlotDescriptors(slot);
    Record(slot, resolved, views, first, count, view_stride, draws, view_draws, shadow_draws);

    const VkFence fence = slot.fence.get();
    vk::Check(vkResetFences(context.device(), 1, &fence), "vkResetFences");
    VkCommandBufferSubmitInfo cmd_info{VK_STRUCTURE_TYPE_COMMAND_BUFFER_SUBMIT_INFO};
    cmd_info.commandBuffer = slot.cmd;
    VkSubmitInfo2 submit{VK_STRUCTURE_TYPE_SUBMIT_INFO_2};
    submit.commandBufferInfoCount = 1;
    submit.pCommandBufferInfos = &cmd_info;
    vk::Check(vkQueueSubmit2(context.queue(), 1, &submit, fence), "vkQueueSubmit2");
    slot.pending = true;
    slot.first_view = first;
    slot.num_views = count;
  }

  void UpdateSlotDescriptors(const Slot& slot) {
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

  void Record(Slot& slot, const std::vector<ResolvedView>& resolved, std::span<const ViewRequest> views,
              std::size_t first, std::size_t count, VkDeviceSize view_stride, const std::vector<Draw>& draws,
              const std::vector<ViewDraws>& view_draws, const std::vector<ShadowPush>& shadow_draws) {
    const VkCommandBuffer cmd = slot.cmd;
    vk::Check(vkResetCommandBuffer(cmd, 0), "vkResetCommandBuffer");
    VkCommandBufferBeginInfo begin{VK_STRUCTURE_TYPE_COMMAND_BUFFER_BEGIN_INFO};
    begin.flags = VK_COMMAND_BUFFER_USAGE_ONE_TIME_SUBMIT_BIT;
    vk::Check(vkBeginCommandBuffer(cmd, &begin), "vkBeginCommandBuffer");
    const VkDeviceSize zero = 0;
    const VkBuffer vertex_buffer = vertices.buffer.get();
    const std::size_t num_items = list.items.size();
    const std::size_t num_casters = list.shadow_items.size();
    const std::size_t num_shadow_layers = num_casters > 0 ? shadow_draws.size() / num_casters : 0;
    const VkPipelineStageFlags2 fragment_tests =
        VK_PIPELINE_STAGE_2_EARLY_FRAGMENT_TESTS_BIT | VK_PIPELINE_STAGE_2_LATE_FRAGMENT_TESTS_BIT;
    const VkAccessFlags2 depth_access =
        VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT | VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_READ_BIT;
    vkCmdBindVertexBuffers(cmd, 0, 1, &vertex_buffer, &zero);
    vkCmdBindIndexBuffer(cmd, indices.buffer.get(), 0, VK_INDEX_TYPE_UINT32);

    if (num_shadow_layers > 0) {
      // The previous submission's fragment shaders may still read the maps; their contents are not needed.
      vk::TransitionImage(cmd, shadows.image.image.get(), VK_IMAGE_ASPECT_DEPTH_BIT,
                          static_cast<std::uint32_t>(shadows.layers), VK_IMAGE_LAYOUT_UNDEFINED,
                          VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL, VK_PIPELINE_STAGE_2_FRAGMENT_SHADER_BIT,
                          VK_ACCESS_2_NONE, fragment_tests, depth_access);
      vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipelines.shadow.get());
      const auto size = static_cast<std::uint32_t>(options.shadow_map_px);
      for (std::size_t s = 0; s < num_shadow_layers; ++s) {
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
        const VkViewport viewport{0, 0, static_cast<float>(size), static_cast<float>(size), 0, 1};
        const VkRect2D scissor{{0, 0}, {size, size}};
        vkCmdSetViewport(cmd, 0, 1, &viewport);
        vkCmdSetScissor(cmd, 0, 1, &scissor);
        for (std::size_t i = 0; i < num_casters; ++i) {
          const DrawItem& item = list.shadow_items[i];
          vkCmdPushConstants(cmd, pipelines.shadow_layout.get(), VK_SHADER_STAGE_VERTEX_BIT, 0, sizeof(ShadowPush),
                             &shadow_draws[s * num_casters + i]);
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

    // Targets: the previous submission's copies may still read them; their old contents are not needed.
    const auto layers = static_cast<std::uint32_t>(count);
    const VkPipelineStageFlags2 color_stage = VK_PIPELINE_STAGE_2_COLOR_ATTACHMENT_OUTPUT_BIT;
    const VkImage images[3] = {targets.color.image.get(), targets.depth.image.get(), targets.segment.image.get()};
    for (VkImage image : images) {
      vk::TransitionImage(cmd, image, VK_IMAGE_ASPECT_COLOR_BIT, layers, VK_IMAGE_LAYOUT_UNDEFINED,
                          VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL, VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_NONE,
                          color_stage, VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT);
    }
    vk::TransitionImage(cmd, targets.zbuffer.image.get(), VK_IMAGE_ASPECT_DEPTH_BIT, layers, VK_IMAGE_LAYOUT_UNDEFINED,
                        VK_IMAGE_LAYOUT_DEPTH_ATTACHMENT_OPTIMAL, fragment_tests,
                        VK_ACCESS_2_DEPTH_STENCIL_ATTACHMENT_WRITE_BIT, fragment_tests, depth_access);

    const VkShaderStageFlags push_stages = VK_SHADER_STAGE_VERTEX_BIT | VK_SHADER_STAGE_FRAGMENT_BIT;
    for (std::size_t j = 0; j < count; ++j) {
      const CameraIntrinsics& k = resolved[first + j].intrinsics;
      const auto w = static_cast<std::uint32_t>(k.width_px), h = static_cast<std::uint32_t>(k.height_px);
      const Eigen::Vector3d bg = SrgbToLinear(views[first + j].params.background_rgb);
      std::array<VkRenderingAttachmentInfo, 3> color{};
      const VkImageView color_views[3] = {targets.color_views[j].get(), targets.depth_views[j].get(),
                                          targets.segment_views[j].get()};
      for (int a = 0; a < 3; ++a) {
        color[a] = {VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO};
        color[a].imageView = color_views[a];
        color[a].imageLayout = VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL;
        color[a].loadOp = VK_ATTACHMENT_LOAD_OP_CLEAR;
        color[a].storeOp = VK_ATTACHMENT_STORE_OP_STORE;
      }
      color[0].clearValue.color.float32[0] = static_cast<float>(bg.x());
      color[0].clearValue.color.float32[1] = static_cast<float>(bg.y());
      color[0].clearValue.color.float32[2] = static_cast<float>(bg.z());
      color[0].clearValue.color.float32[3] = 1.0f;
      color[1].clearValue.color.float32[0] = 0.0f;  // no depth
      color[2].clearValue.color.uint32[0] = 0;      // background
      VkRenderingAttachmentInfo depth{VK_STRUCTURE_TYPE_RENDERING_ATTACHMENT_INFO};
      depth.imageView = targets.zbuffer_views[j].get();
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
      const VkViewport viewport{0, 0, static_cast<float>(w), static_cast<float>(h), 0, 1};
      const VkRect2D scissor{{0, 0}, {w, h}};
      vkCmdSetViewport(cmd, 0, 1, &viewport);
      vkCmdSetScissor(cmd, 0, 1, &scissor);
      const auto view_offset = static_cast<std::uint32_t>(j * view_stride);
      vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipelines.scene_layout.get(), 0, 1, &slot.scene_set,
                              1, &view_offset);
      const ViewDraws& vd = view_draws[j];
      VkDescriptorSet bound = VK_NULL_HANDLE;
      for (std::size_t o = 0; o < vd.order.size(); ++o) {
        if (o == 0 || o == vd.first_textured) {
          vkCmdBindPipeline(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, o < vd.first_textured ? vd.untextured : vd.textured);
        }
        const std::size_t i = vd.order[o];
        const DrawItem& item = list.items[i];
        const Draw& d = draws[j * num_items + i];
        if (d.texture != bound) {
          bound = d.texture;
          vkCmdBindDescriptorSets(cmd, VK_PIPELINE_BIND_POINT_GRAPHICS, pipelines.scene_layout.get(), 1, 1, &bound, 0,
                                  nullptr);
        }
        vkCmdPushConstants(cmd, pipelines.scene_layout.get(), push_stages, 0, sizeof(DrawPush), &d.push);
        vkCmdDrawIndexed(cmd, item.index_count, 1, item.first_index, item.vertex_offset, 0);
      }
      vkCmdEndRendering(cmd);
    }

    // Readback: every view's region of its layer into the slot's staging buffer.
    for (VkImage image : images) {
      vk::TransitionImage(cmd, image, VK_IMAGE_ASPECT_COLOR_BIT, layers, VK_IMAGE_LAYOUT_COLOR_ATTACHMENT_OPTIMAL,
                          VK_IMAGE_LAYOUT_TRANSFER_SRC_OPTIMAL, color_stage, VK_ACCESS_2_COLOR_ATTACHMENT_WRITE_BIT,
                          VK_PIPELINE_STAGE_2_COPY_BIT, VK_ACCESS_2_TRANSFER_READ_BIT);
    }
    std::vector<VkBufferImageCopy> regions(count);
    for (int a = 0; a < 3; ++a) {
      for (std::size_t j = 0; j < count; ++j) {
        const CameraIntrinsics& k = resolved[first + j].intrinsics;
        regions[j] = {};
        regions[j].bufferOffset = slot.offsets[3 * j + a];
        regions[j].imageSubresource = {VK_IMAGE_ASPECT_COLOR_BIT, 0, static_cast<std::uint32_t>(j), 1};
        regions[j].imageExtent = {static_cast<std::uint32_t>(k.width_px), static_cast<std::uint32_t>(k.height_px), 1};
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
    vk::Check(vkEndCommandBuffer(cmd), "vkEndCommandBuffer");
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
