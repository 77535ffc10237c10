#pragma once
// Internal: what one queue submission of the renderer records, decided on the host without Vulkan. The renderer
// resolves every view of a Render call (ResolveView), splits the views into submissions (SplitIntoSubmissions),
// plans each (PlanSubmission) and then only walks the plan: it uploads the uniform blocks, draws the shadow
// layers, draws each view into its layer of the render targets and copies the targets into the staging buffer at
// the plan's offsets.
//
// A plan's views draw into consecutive array layers of the targets: views[j] into layer j. Shadow layers are
// shared by the views of a submission: one per distinct (state, directional light direction), six (a cube) per
// distinct (state, point light position).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include <Eigen/Core>
#include <Eigen/Geometry>

#include "render/draw_list.h"
#include "render/gpu_layout.h"
#include "render/scene_state.h"
#include "render/scene_variant.h"
#include "render/view_request.h"
#include "sim/model.h"

namespace r2s::render {

// One view, resolved and checked before anything is planned.
struct ResolvedView {
  CameraIntrinsics intrinsics;
  Eigen::Isometry3d camera_to_world;
  std::vector<sim::LightModel> lights;
  std::vector<int> material_overrides;  // per view.params.materials entry: index into DrawList::materials
};

// Resolves views[index] against the model, its draw list and the number of textures added to the renderer.
// Throws std::invalid_argument, naming "views[index]", for a request the renderer cannot draw.
ResolvedView ResolveView(const sim::Model& model, const DrawList& list, int num_added_textures,
                         std::span<const SceneState> states, const ViewRequest& view, std::size_t index);

// The views of one submission: views[first, first + count) of a Render call.
struct ViewRange {
  std::size_t first = 0;
  std::size_t count = 0;
};

// Consecutive ranges of at most views_per_submission (>= 1) views that together cover [0, num_views) once.
std::vector<ViewRange> SplitIntoSubmissions(std::size_t num_views, int views_per_submission);

// The texture a draw binds, named without Vulkan.
struct TextureRef {
  enum class Source { kWhite, kModel, kAdded };
  Source source = Source::kWhite;  // kWhite: the 1x1 white texture, bound where a surface has none
  int index = 0;                   // into DrawList::textures (kModel) or the renderer's added textures (kAdded)

  bool textured() const { return source != Source::kWhite; }
  bool operator==(const TextureRef&) const = default;
};

// One draw of one DrawList item in one view.
struct PlannedDraw {
  std::uint32_t item = 0;  // into DrawList::items
  DrawPush push{};
  TextureRef texture;
  double distance_m = 0;  // of the item's bounding sphere centre along the optical axis
};

// The outputs a view reads back, in this order, each a tightly packed width x height image.
enum ReadbackOutput { kReadbackColor = 0, kReadbackDepth = 1, kReadbackSegmentation = 2 };
inline constexpr int kNumReadbackOutputs = 3;
// Bytes per pixel of kColorFormat (RGBA8), kDepthOutFormat (R32F) and kSegmentFormat (R16UI).
inline constexpr std::array<std::uint64_t, kNumReadbackOutputs> kReadbackBytesPerPixel = {4, 4, 2};
// Where each output starts in the staging buffer.
inline constexpr std::uint64_t kStagingAlignment = 16;

struct ReadbackRegion {
  std::uint64_t offset = 0;  // in the submission's staging buffer
  std::uint64_t bytes = 0;
};

struct PlannedView {
  std::size_t view = 0;  // into the Render call's views (and frames)
  int width_px = 0, height_px = 0;
  ViewGpu uniforms{};                 // the view's uniform block (lights' info[1]: a layer of shadow_layers, or -1)
  std::uint64_t uniform_offset = 0;   // of the block in the submission's uniform buffer
  SceneVariant variant;               // the untextured draws'; the textured ones use it with textured = true
  std::array<float, 4> clear_rgba{};  // linear background colour
  // Every DrawList item once, in drawing order: untextured items near to far, then textured ones near to far
  // (nearer surfaces first save shading hidden pixels); ties by item index.
  std::vector<PlannedDraw> draws;
  std::size_t first_textured = 0;  // into draws
  std::array<ReadbackRegion, kNumReadbackOutputs> readback;
};

// One shadow-map layer: the shadow casters of one state seen from one light (or one cube face of a point light).
struct ShadowLayer {
  int state = 0;
  Eigen::Matrix4d world_to_clip = Eigen::Matrix4d::Identity();
  std::vector<ShadowPush> casters;  // per DrawList::shadow_items entry
};

struct SubmissionPlan {
  // The shadow pass, drawn before the views; empty when no view has a light that casts a shadow.
  std::vector<ShadowLayer> shadow_layers;
  std::vector<PlannedView> views;    // views[j] draws into layer j of the targets
  std::uint64_t uniform_stride = 0;  // between views' uniform blocks: sizeof(ViewGpu), aligned
  std::uint64_t uniform_bytes = 0;   // the uniform buffer the plan needs
  std::uint64_t staging_bytes = 0;   // the readback buffer the plan needs
};

struct PlanSettings {
  bool shadows = true;  // RendererOptions::shadows
  int shadow_map_px = 1024;
  // The device's minUniformBufferOffsetAlignment (a power of two); blocks are at least 16-byte aligned.
  std::uint64_t uniform_offset_alignment = 16;
};

// Plans the submission of views[range] (resolved[i] is views[i] resolved) of the model drawn through `list`.
SubmissionPlan PlanSubmission(const sim::Model& model, const DrawList& list, std::span<const SceneState> states,
                              std::span<const ViewRequest> views, std::span<const ResolvedView> resolved,
                              ViewRange range, const PlanSettings& settings);

}  // namespace r2s::render
