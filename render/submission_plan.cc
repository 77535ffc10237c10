#include "render/submission_plan.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

#include "render/color.h"
#include "render/projection.h"
#include "render/renderer.h"

namespace r2s::render {
namespace {

constexpr double kPointShadowNearM = 0.02;  // a point light's shadow cube sees nothing nearer

std::uint64_t Align(std::uint64_t value, std::uint64_t alignment) {
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

Eigen::Isometry3d BodyPose(const sim::Model& model, const SceneState& state, const DrawItem& item) {
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
  return model.environment[item.body_index].initial_pose;
}

// A sphere holding every shadow caster of a state.
std::pair<Eigen::Vector3d, double> CasterBounds(const sim::Model& model, const DrawList& list,
                                                const SceneState& state) {
  Eigen::Vector3d lo = Eigen::Vector3d::Constant(std::numeric_limits<double>::max()), hi = -lo;
  std::vector<std::pair<Eigen::Vector3d, double>> spheres;
  for (const DrawItem& item : list.shadow_items) {
    const Eigen::Vector3d c = BodyPose(model, state, item) * item.origin * item.bound_center;
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

// A light with a shadow map: its first layer in the plan and what its views' shaders need to sample it.
struct ShadowedLight {
  int first_layer;
  Eigen::Matrix4d world_to_clip;  // directional
  double texel_m = 0;             // directional
  double near_m = 0, far_m = 0;   // point
};

// What a view's shadow map is keyed by: the state and the light's geometry (colour and intensity do not matter).
using ShadowKey = std::tuple<int, int, double, double, double>;

// The shadow layers of a submission, shared by its views; per view and light an index into `lights`, or -1.
struct ShadowPlan {
  std::vector<ShadowedLight> lights;
  std::vector<std::array<int, kMaxLightsPerView>> view_lights;
};

ShadowPlan PlanShadows(const sim::Model& model, const DrawList& list, std::span<const SceneState> states,
                       std::span<const ViewRequest> views, std::span<const ResolvedView> resolved, ViewRange range,
                       const PlanSettings& settings, std::vector<ShadowLayer>* layers) {
  ShadowPlan plan;
  plan.view_lights.resize(range.count);
  std::map<ShadowKey, int> index;
  std::map<int, std::pair<Eigen::Vector3d, double>> bounds;
  for (std::size_t j = 0; j < range.count; ++j) {
    const ResolvedView& r = resolved[range.first + j];
    const int state = views[range.first + j].state;
    plan.view_lights[j].fill(-1);
    for (std::size_t l = 0; l < r.lights.size(); ++l) {
      const sim::LightModel& light = r.lights[l];
      if (!settings.shadows || !light.casts_shadows) continue;
      const bool point = light.kind == sim::LightModel::Kind::kPoint;
      const Eigen::Vector3d v = point ? light.position_m : light.direction.normalized();
      const ShadowKey key{state, point ? 1 : 0, v.x(), v.y(), v.z()};
      auto it = index.find(key);
      if (it == index.end()) {
        auto b = bounds.find(state);
        if (b == bounds.end()) b = bounds.emplace(state, CasterBounds(model, list, states[state])).first;
        const auto& [center, radius] = b->second;
        if (!(radius > 0)) continue;  // nothing casts a shadow
        ShadowedLight s{static_cast<int>(layers->size()), Eigen::Matrix4d::Identity()};
        if (point) {
          s.near_m = kPointShadowNearM;
          s.far_m = std::max((center - v).norm() + radius, 2 * kPointShadowNearM);
          for (const Eigen::Matrix4d& face : PointShadowFaces(v, s.near_m, s.far_m)) {
            layers->push_back({state, face, {}});
          }
        } else {
          const ShadowView sv = DirectionalShadowView(v, center, radius, settings.shadow_map_px);
          s.world_to_clip = sv.world_to_clip;
          s.texel_m = sv.texel_m;
          layers->push_back({state, sv.world_to_clip, {}});
        }
        it = index.emplace(key, static_cast<int>(plan.lights.size())).first;
        plan.lights.push_back(s);
      }
      plan.view_lights[j][l] = it->second;
    }
  }
  for (ShadowLayer& layer : *layers) {
    layer.casters.resize(list.shadow_items.size());
    for (std::size_t i = 0; i < list.shadow_items.size(); ++i) {
      const DrawItem& item = list.shadow_items[i];
      const Eigen::Isometry3d model_to_world = BodyPose(model, states[layer.state], item) * item.origin;
      CopyMatrix(layer.world_to_clip * model_to_world.matrix(), layer.casters[i].model_to_clip);
    }
  }
  return plan;
}

// The view's uniform block and the shader variant its lights need.
void PlanUniforms(const ViewRequest& request, const ResolvedView& r, const ShadowPlan& shadows, std::size_t j,
                  const PlanSettings& settings, PlannedView* out) {
  const Eigen::Isometry3d world_to_camera = r.camera_to_world.inverse();
  ViewGpu& v = out->uniforms;
  SceneVariant& variant = out->variant;
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
    if (shadows.view_lights[j][l] < 0) continue;
    const ShadowedLight& s = shadows.lights[shadows.view_lights[j][l]];
    g.info[1] = s.first_layer;
    variant.shadow_mask |= 1 << l;
    if (point) {
      // The shader turns camera-frame offsets from the light into world axes to pick a cube face.
      Eigen::Matrix4d rotation = Eigen::Matrix4d::Identity();
      rotation.topLeftCorner<3, 3>() = r.camera_to_world.linear();
      CopyMatrix(rotation, g.shadow);
      g.shadow_params[1] = static_cast<float>(1.5 * 2 * kCubeFaceScale / settings.shadow_map_px);
      g.shadow_params[2] = static_cast<float>(s.near_m);
      g.shadow_params[3] = static_cast<float>(s.far_m);
    } else {
      CopyMatrix(ClipToTexture() * s.world_to_clip * r.camera_to_world.matrix(), g.shadow);
      g.shadow_params[0] = static_cast<float>(1.5 * s.texel_m);
    }
  }
}

// Every item's draw in the view, in drawing order.
void PlanDraws(const sim::Model& model, const DrawList& list, const SceneState& state, const ViewRequest& request,
               const ResolvedView& r, PlannedView* out) {
  // Materials: the model's, then this view's overrides.
  struct Look {
    Eigen::Vector4d rgba;  // linear
    double roughness;
    std::optional<TextureRef> texture;  // none: the mesh file's own texture, if any
  };
  const std::size_t num_materials = list.materials.size();
  std::vector<Look> looks(num_materials);
  for (std::size_t m = 0; m < num_materials; ++m) {
    const sim::Material& base = list.materials[m];
    Eigen::Vector4d rgba = base.rgba;
    double roughness = base.roughness;
    std::optional<TextureRef> texture;
    if (list.material_textures[m] >= 0) texture = TextureRef{TextureRef::Source::kModel, list.material_textures[m]};
    for (std::size_t o = 0; o < request.params.materials.size(); ++o) {
      if (r.material_overrides[o] != static_cast<int>(m)) continue;
      const MaterialOverride& mo = request.params.materials[o];
      if (mo.rgba) rgba = *mo.rgba;
      if (mo.roughness) roughness = *mo.roughness;
      if (mo.texture) {
        texture = *mo.texture >= 0 ? std::optional(TextureRef{TextureRef::Source::kAdded, *mo.texture}) : std::nullopt;
      }
    }
    looks[m] = {SrgbToLinear(rgba), roughness, texture};
  }

  const Eigen::Isometry3d world_to_camera = r.camera_to_world.inverse();
  const std::size_t num_items = list.items.size();
  std::vector<PlannedDraw> draws(num_items);
  for (std::size_t i = 0; i < num_items; ++i) {
    const DrawItem& item = list.items[i];
    const Look& look = looks[item.material];
    PlannedDraw& d = draws[i];
    d.item = static_cast<std::uint32_t>(i);
    const Eigen::Isometry3d model_to_world = BodyPose(model, state, item) * item.origin;
    CopyMatrix((world_to_camera * model_to_world).matrix(), d.push.modelview);
    for (int c = 0; c < 4; ++c) d.push.albedo[c] = static_cast<float>(look.rgba[c] * item.part_rgba[c]);
    d.push.roughness = static_cast<float>(look.roughness);
    d.push.segment = item.segmentation_id;
    d.texture = look.texture             ? *look.texture
                : item.part_texture >= 0 ? TextureRef{TextureRef::Source::kModel, item.part_texture}
                                         : TextureRef{};
    d.distance_m = (world_to_camera * model_to_world * item.bound_center).z();
  }
  std::sort(draws.begin(), draws.end(), [](const PlannedDraw& a, const PlannedDraw& b) {
    if (a.texture.textured() != b.texture.textured()) return b.texture.textured();
    if (a.distance_m != b.distance_m) return a.distance_m < b.distance_m;
    return a.item < b.item;
  });
  out->first_textured = static_cast<std::size_t>(
      std::find_if(draws.begin(), draws.end(), [](const PlannedDraw& d) { return d.texture.textured(); }) -
      draws.begin());
  out->draws = std::move(draws);
}

}  // namespace

ResolvedView ResolveView(const sim::Model& model, const DrawList& list, int num_added_textures,
                         std::span<const SceneState> states, const ViewRequest& view, std::size_t index) {
  const std::string where = "views[" + std::to_string(index) + "]";
  if (view.state < 0 || view.state >= static_cast<int>(states.size())) {
    throw std::invalid_argument(where + ".state = " + std::to_string(view.state) + ", but " +
                                std::to_string(states.size()) + " states were given");
  }
  const SceneState& state = states[view.state];
  const std::size_t links = model.robot ? model.robot->links.size() : 0;
  if (state.link_poses.size() != links || state.object_poses.size() != model.objects.size()) {
    throw std::invalid_argument(
        "states[" + std::to_string(view.state) + "] has " + std::to_string(state.link_poses.size()) + " link and " +
        std::to_string(state.object_poses.size()) + " object poses; the model has " + std::to_string(links) +
        " links and " + std::to_string(model.objects.size()) + " objects");
  }
  if (!state.environment_poses.empty() && state.environment_poses.size() != model.environment.size()) {
    throw std::invalid_argument("states[" + std::to_string(view.state) + "] has " +
                                std::to_string(state.environment_poses.size()) + " environment poses; the model has " +
                                std::to_string(model.environment.size()) + " environment bodies");
  }
  ResolvedView r;
  try {
    r.intrinsics = ResolveIntrinsics(model, view);
    r.camera_to_world = ResolveCameraPose(model, state, view);
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(where + ": " + e.what());
  }
  r.lights = view.params.lights ? *view.params.lights : model.lights;
  if (r.lights.size() > static_cast<std::size_t>(Renderer::kMaxLights)) {
    throw std::invalid_argument(where + " has " + std::to_string(r.lights.size()) + " lights; at most " +
                                std::to_string(Renderer::kMaxLights));
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
    if (o.texture && (*o.texture < -1 || *o.texture >= num_added_textures)) {
      throw std::invalid_argument(where + ".params.materials['" + o.material +
                                  "'].texture = " + std::to_string(*o.texture) + ", but " +
                                  std::to_string(num_added_textures) + " textures were added");
    }
    r.material_overrides.push_back(m);
  }
  if (!std::isfinite(view.params.exposure) || view.params.exposure < 0) {
    throw std::invalid_argument(where + ".params.exposure = " + std::to_string(view.params.exposure));
  }
  return r;
}

std::vector<ViewRange> SplitIntoSubmissions(std::size_t num_views, int views_per_submission) {
  if (views_per_submission < 1) {
    throw std::invalid_argument("views_per_submission = " + std::to_string(views_per_submission) +
                                ", must be at least 1");
  }
  const auto per = static_cast<std::size_t>(views_per_submission);
  std::vector<ViewRange> ranges;
  for (std::size_t first = 0; first < num_views; first += per) {
    ranges.push_back({first, std::min(per, num_views - first)});
  }
  return ranges;
}

SubmissionPlan PlanSubmission(const sim::Model& model, const DrawList& list, std::span<const SceneState> states,
                              std::span<const ViewRequest> views, std::span<const ResolvedView> resolved,
                              ViewRange range, const PlanSettings& settings) {
  if (range.first + range.count > views.size() || views.size() != resolved.size()) {
    throw std::invalid_argument("PlanSubmission: views [" + std::to_string(range.first) + ", " +
                                std::to_string(range.first + range.count) + ") of " + std::to_string(views.size()) +
                                " (" + std::to_string(resolved.size()) + " resolved)");
  }
  SubmissionPlan plan;
  const ShadowPlan shadows = PlanShadows(model, list, states, views, resolved, range, settings, &plan.shadow_layers);

  // Per-view uniform blocks, at offsets the device accepts for dynamic uniform buffers.
  plan.uniform_stride = Align(sizeof(ViewGpu), std::max<std::uint64_t>(settings.uniform_offset_alignment, 16));
  plan.uniform_bytes = plan.uniform_stride * range.count;
  plan.views.resize(range.count);
  for (std::size_t j = 0; j < range.count; ++j) {
    const std::size_t i = range.first + j;
    const ResolvedView& r = resolved[i];
    PlannedView& v = plan.views[j];
    v.view = i;
    v.width_px = r.intrinsics.width_px;
    v.height_px = r.intrinsics.height_px;
    v.uniform_offset = j * plan.uniform_stride;
    const Eigen::Vector3d bg = SrgbToLinear(views[i].params.background_rgb);
    v.clear_rgba = {static_cast<float>(bg.x()), static_cast<float>(bg.y()), static_cast<float>(bg.z()), 1.0f};
    PlanUniforms(views[i], r, shadows, j, settings, &v);
    PlanDraws(model, list, states[views[i].state], views[i], r, &v);
    // Readback: colour, depth and segmentation one after another, each start aligned.
    const std::uint64_t pixels = static_cast<std::uint64_t>(v.width_px) * v.height_px;
    for (int a = 0; a < kNumReadbackOutputs; ++a) {
      v.readback[a] = {plan.staging_bytes, kReadbackBytesPerPixel[a] * pixels};
      plan.staging_bytes = Align(plan.staging_bytes + v.readback[a].bytes, kStagingAlignment);
    }
  }
  return plan;
}

}  // namespace r2s::render
