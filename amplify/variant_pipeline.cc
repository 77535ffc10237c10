#include "amplify/variant_pipeline.h"

#include <chrono>
#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>

#include "amplify/action_perturbation.h"
#include "amplify/grasp_inference.h"
#include "real2sim/build_config.h"
#include "render/segmentation.h"
#include "sim/rigid_body_dynamics.h"
#include "sim/success.h"
#include "sim/world.h"

namespace r2s::amplify {
namespace {

using episode::Array;
using episode::DType;

// A scene camera's intrinsics at another resolution: the image scaled, pixel centres at integer coordinates.
render::CameraIntrinsics Scaled(const sim::CameraModel& camera, int width_px, int height_px) {
  render::CameraIntrinsics k = render::IntrinsicsOf(camera);
  const double sx = static_cast<double>(width_px) / camera.width_px;
  const double sy = static_cast<double>(height_px) / camera.height_px;
  k.width_px = width_px;
  k.height_px = height_px;
  k.fx_px *= sx;
  k.fy_px *= sy;
  k.cx_px = sx * (k.cx_px + 0.5) - 0.5;
  k.cy_px = sy * (k.cy_px + 0.5) - 0.5;
  return k;
}

// Every column the simulation writes or the cameras fill: what a duplicated observation repeats.
std::vector<std::string> ObservedFeatures(const sim::ReplayPlan& plan, const std::vector<CameraStream>& cameras) {
  std::vector<std::string> features;
  auto add = [&](const std::string& f) {
    if (!f.empty() && std::find(features.begin(), features.end(), f) == features.end()) features.push_back(f);
  };
  for (const sim::JointBinding& b : plan.joint_bindings()) {
    if (b.signal == sim::JointSignal::kPosition || b.signal == sim::JointSignal::kVelocity ||
        b.signal == sim::JointSignal::kEffort) {
      add(b.feature);
    }
  }
  for (const auto& [object, b] : plan.pose_bindings()) add(b.feature);
  for (const auto& [object, b] : plan.linear_velocity_bindings()) add(b.feature);
  for (const auto& [object, b] : plan.angular_velocity_bindings()) add(b.feature);
  for (const CameraStream& c : cameras) {
    add(c.rgb_feature);
    add(c.depth_feature);
    add(c.segmentation_feature);
  }
  return features;
}

// The segmentation ids' meaning, stored with every episode that records segmentation.
std::string SegmentationTableJson(const sim::Model& model) {
  std::string json = "[";
  for (const render::SegmentationEntry& e : render::SegmentationTable(model)) {
    if (json.size() > 1) json += ", ";
    json += "{\"id\": " + std::to_string(e.id) + ", \"kind\": \"" + e.kind + "\", \"name\": \"" + e.name + "\"}";
  }
  return json + "]";
}

void RepeatRow(Array& array, std::int64_t from, std::int64_t to) {
  const std::size_t row = array.bytes.size() / static_cast<std::size_t>(array.shape[0]);
  std::memcpy(array.bytes.data() + static_cast<std::size_t>(to) * row,
              array.bytes.data() + static_cast<std::size_t>(from) * row, row);
}

// The held interval of each picked object's carrying grasp (CarryingGrasps) as the drive commands it (after
// retargeting and perturbation), segmented as Retarget segments it, with how far the commands raise the hand while
// it holds (for the watch's lift check); nullopt for an object no grasp carries.
std::vector<std::optional<HeldInterval>> CommandedHolds(const sim::Model& model, const RetargetSpec& spec,
                                                        const Eigen::MatrixXd& position) {
  const std::size_t picks = PickedObjects(spec).size();
  const auto carrying = CarryingGrasps(SegmentGripper(spec, position), position.cols(), static_cast<int>(picks));
  const sim::RigidBodyDynamics dynamics(*model.robot, model.sim.gravity_mps2);
  const auto hand_z = [&](std::int64_t f) {
    return dynamics.LinkPoses(position.col(f))[spec.end_effector_link].translation().z();
  };
  std::vector<std::optional<HeldInterval>> holds(picks);
  for (std::size_t k = 0; k < carrying.size(); ++k) {
    HeldInterval held{carrying[k].first, carrying[k].second};
    const double at_grasp_m = hand_z(held.grasp_frame);
    for (std::int64_t f = held.grasp_frame; f < std::min<std::int64_t>(held.release_frame, position.cols()); ++f) {
      held.commanded_lift_m = std::max(held.commanded_lift_m, hand_z(f) - at_grasp_m);
    }
    holds[k] = held;
  }
  return holds;
}

// Where each picked object lay in a demonstration whose dataset does not record it (per pick, in pick order):
// inferred from the grasp that carried it in the measured joints (the commanded targets stand in for joints not
// measured; the robot's initial_q for joints bound to neither), or the annotation's where it names the object.
// nullopt for an object the dataset records, and for all when the scene retargets nothing.
std::vector<std::optional<InferredObjectPoses>> DemonstratedObjectPoses(const PipelineConfig& config,
                                                                        const sim::ReplayPlan& plan,
                                                                        const episode::Episode& source) {
  if (!config.retarget || !plan.model().robot) return {};
  const std::vector<int> picked = PickedObjects(*config.retarget);
  std::vector<bool> recorded(picked.size(), false);
  for (const auto& [object, binding] : plan.pose_bindings()) {
    for (std::size_t k = 0; k < picked.size(); ++k) recorded[k] = recorded[k] || picked[k] == object;
  }
  std::vector<std::optional<InferredObjectPoses>> out(picked.size());
  if (std::find(recorded.begin(), recorded.end(), false) == recorded.end()) return out;
  Eigen::MatrixXd q = sim::JointTrack(plan, source, sim::JointSignal::kPosition);
  const Eigen::MatrixXd target = sim::JointTrack(plan, source, sim::JointSignal::kPositionTarget);
  const Eigen::VectorXd& q0 = plan.model().robot->initial_q;
  for (Eigen::Index d = 0; d < q.rows(); ++d) {
    for (Eigen::Index f = 0; f < q.cols(); ++f) {
      if (std::isnan(q(d, f))) q(d, f) = std::isnan(target(d, f)) ? q0[d] : target(d, f);
    }
  }
  const auto annotation = config.annotations.find(source.metadata.index);
  for (std::size_t k = 0; k < picked.size(); ++k) {
    if (recorded[k]) continue;
    const int pick = static_cast<int>(k);
    out[k] = InferObjectPoses(plan.model(), *config.retarget, q, config.grasp_inference, pick);
    if (annotation != config.annotations.end()) {
      ApplyAnnotation(plan.model(), *config.retarget, annotation->second, &*out[k], pick);
    }
  }
  return out;
}

// An object resting where the scene puts it (its height and tilt: on the table), moved to the inferred x, y and
// turned by the inferred yaw: a hand pose a few millimetres off in height would otherwise start the object inside
// the table or above it.
Eigen::Isometry3d RestingAt(const Eigen::Isometry3d& scene_pose, const Eigen::Isometry3d& inferred) {
  const Eigen::Matrix3d turn = inferred.linear() * scene_pose.linear().transpose();
  const double yaw_rad = std::atan2(turn(1, 0), turn(0, 0));
  Eigen::Isometry3d pose = scene_pose;
  pose.linear() = Eigen::AngleAxisd(yaw_rad, Eigen::Vector3d::UnitZ()).toRotationMatrix() * scene_pose.linear();
  pose.translation().head<2>() = inferred.translation().head<2>();
  return pose;
}

// Where a variant comes from; the caller adds what it drew.
episode::Provenance ProvenanceOf(const PipelineConfig& config, const episode::Episode& source, std::uint32_t variant) {
  episode::Provenance provenance;
  provenance.source_dataset = config.dataset;
  provenance.source_episode = source.metadata.index;
  provenance.variant = variant;
  provenance.seed = config.draw.seed;
  provenance.software_version = R2S_VERSION;
  return provenance;
}

// The reason of a simulated episode that did not succeed: what the watch saw, else the predicate's first failing
// condition (with its measured value).
Rejection ReasonOfFailure(const std::vector<EpisodeWatch>& watches, const std::vector<std::string>& failed) {
  for (const EpisodeWatch& watch : watches) {
    Rejection seen = watch.Verdict();
    if (seen.reason != RejectReason::kNone) return seen;
  }
  std::string detail;
  for (const std::string& line : failed) detail += (detail.empty() ? "" : "; ") + line;
  return {RejectReason::kSuccessFalse, detail};
}

}  // namespace

namespace {
double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + 1e-9 * static_cast<double>(t.tv_nsec);
}
}  // namespace

StageTimer::StageTimer() : wall_started_(std::chrono::steady_clock::now()), cpu_started_s_(ThreadCpuSeconds()) {}

void StageTimer::Stop(StageTimes& times, double StageSeconds::*stage) const {
  times.wall.*stage += std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_started_).count();
  times.cpu.*stage += ThreadCpuSeconds() - cpu_started_s_;
}

episode::DatasetInfo OutputInfo(const episode::DatasetInfo& source, const std::vector<CameraStream>& cameras) {
  episode::DatasetInfo info = source;
  for (const CameraStream& c : cameras) {
    const auto add = [&](const std::string& feature, DType dtype, std::vector<std::int64_t> shape, const char* unit) {
      if (feature.empty() || info.features.count(feature)) return;
      episode::FeatureSpec spec;
      spec.dtype = dtype;
      spec.shape = std::move(shape);
      spec.unit = unit;
      info.features.emplace(feature, spec);
    };
    add(c.rgb_feature, DType::kUInt8, {c.height_px, c.width_px, 3}, "");
    // robomimic's depth (and robosuite's segmentation) has a channel axis, [H, W, 1]: its depth processing
    // expects one, and a synthetic dataset keeps the layout's conventions. The other layouts keep [H, W].
    std::vector<std::int64_t> map_shape = {c.height_px, c.width_px};
    if (source.layout == episode::StorageLayout::kRobomimic) map_shape.push_back(1);
    add(c.depth_feature, DType::kFloat32, map_shape, "m");
    add(c.segmentation_feature, DType::kUInt16, map_shape, "");
  }
  return info;
}

VariantWorker::VariantWorker(const PipelineConfig& config, const render::RendererOptions& renderer_options)
    : config_(config) {
  if (config.cameras.empty()) return;
  renderer_.emplace(renderer_options);
  renderer_->LoadModel(config.draw.model);
  // Textures of the materials a material target may switch a body to.
  for (const ConditionTarget& t : config.draw.spec.targets) {
    if (t.kind != ConditionTarget::Kind::kMaterial) continue;
    for (const std::string& label : config.draw.conditions.FindAxis(t.axis)->distribution.labels()) {
      const std::string& texture = config.draw.model->MaterialOf(label).texture;
      if (!texture.empty() && !textures_.count(texture)) textures_[texture] = renderer_->AddTexture(texture);
    }
  }
}

GeneratedEpisode VariantWorker::Run(const episode::Episode& source, std::uint32_t source_position,
                                    std::uint32_t variant, std::atomic<double>* done) {
  if (done) done->store(0, std::memory_order_relaxed);
  const StageTimer draw_timer;
  GeneratedEpisode out;
  out.source_position = source_position;
  out.variant = variant;
  out.unit = static_cast<std::uint64_t>(source_position) * config_.draw.variants_per_episode + variant;
  VariantDraw draw = DrawVariant(config_.draw, source_position, variant);
  out.edge_case = draw.edge_case;
  sim::ReplayPlan plan = sim::ReplayPlan::Make(draw.model, config_.source_info, config_.dataset);

  // A demonstration without the objects' poses: where each lay follows from the grasp that carried it, and the
  // variant's placement moves it from there.
  std::map<int, Eigen::Isometry3d> demonstrated_start;  // object index -> where it lay
  const std::vector<std::optional<InferredObjectPoses>> inferred_poses = DemonstratedObjectPoses(config_, plan, source);
  std::shared_ptr<sim::Model> placed;  // the variant's model with the inferred objects placed, copied once
  for (std::size_t pick = 0; pick < inferred_poses.size(); ++pick) {
    const std::optional<InferredObjectPoses>& inferred = inferred_poses[pick];
    if (!inferred) continue;
    const int object = PickedObjects(*config_.retarget)[pick];
    const std::string name = config_.draw.model->objects[object].name;
    out.object_pose_note += (out.object_pose_note.empty() ? "" : "; ") + inferred->summary;
    if (!inferred->grasp_found && !inferred->annotated) continue;
    const Eigen::Isometry3d start = RestingAt(config_.draw.model->objects[object].initial_pose, inferred->initial_pose);
    demonstrated_start[object] = start;
    if (!placed) placed = std::make_shared<sim::Model>(*draw.model);
    placed->objects[object].initial_pose = start;
    Place(draw.placements[object], &placed->objects[object].initial_pose, nullptr, nullptr);
    const Eigen::Vector3d p = inferred->initial_pose.translation();
    const Eigen::Matrix3d r = inferred->initial_pose.linear();
    draw.parameters.push_back({"object_pose." + name + ".inferred_position_m", {p.x(), p.y(), p.z()}});
    draw.parameters.push_back({"object_pose." + name + ".inferred_yaw_rad", {std::atan2(r(1, 0), r(0, 0))}});
    draw.parameters.push_back({"object_pose." + name + ".annotated", {inferred->annotated ? 1.0 : 0.0}});
    draw.parameters.push_back({"object_pose." + name + ".reliable", {inferred->reliable ? 1.0 : 0.0}});
  }
  if (placed) {
    draw.model = std::move(placed);
    plan = sim::ReplayPlan::Make(draw.model, config_.source_info, config_.dataset);
  }
  const sim::Model& model = *draw.model;
  const sim::FrameClock clock = sim::MakeFrameClock(plan, source, config_.dataset);
  sim::ReplayDrive drive = sim::MakeReplayDrive(plan, source, clock);

  // Where the tracked objects start: their recorded start, placed as the variant says.
  std::vector<Eigen::Isometry3d> source_start(model.objects.size()), variant_start(model.objects.size());
  for (std::size_t i = 0; i < model.objects.size(); ++i) {
    source_start[i] = config_.draw.model->objects[i].initial_pose;
    variant_start[i] = model.objects[i].initial_pose;
  }
  for (const auto& [object, start] : demonstrated_start) source_start[object] = start;
  for (std::size_t k = 0; k < plan.pose_bindings().size(); ++k) {
    const int object = plan.pose_bindings()[k].first;
    sim::ObjectStart& start = drive.objects[k];
    source_start[object] = start.pose;
    Place(draw.placements[object], &start.pose, &start.linear_mps, &start.angular_radps);
    variant_start[object] = start.pose;
  }
  // The demonstration follows its object, and its place target, where the scene asks for it (MimicGen).
  if (config_.retarget && model.robot) {
    const int object = config_.retarget->object;
    RetargetPoses poses;
    poses.source_object = source_start[object];
    poses.new_object = variant_start[object];
    bool moved = !poses.new_object.isApprox(poses.source_object, 1e-12);
    for (int later : config_.retarget->later_objects) {
      poses.source_later_objects.push_back(source_start[later]);
      poses.new_later_objects.push_back(variant_start[later]);
      moved = moved || !variant_start[later].isApprox(source_start[later], 1e-12);
    }
    if (const auto& place = config_.retarget->place_relative_to) {
      if (place->is_object) {
        poses.source_place = source_start[place->index];
        poses.new_place = variant_start[place->index];
      } else {
        // Where the demonstration had it: the scene's pose, or the annotation's for this episode.
        const sim::ObjectModel& body = config_.draw.model->environment[place->index];
        poses.source_place = body.initial_pose;
        const auto annotation = config_.annotations.find(source.metadata.index);
        if (annotation != config_.annotations.end()) {
          const auto named = annotation->second.find(body.name);
          if (named != annotation->second.end()) poses.source_place = named->second;
        }
        poses.new_place = model.environment[place->index].initial_pose;
      }
    }
    if (moved || !poses.new_place.isApprox(poses.source_place, 1e-12)) {
      const RetargetResult r = Retarget(model, *config_.retarget, drive.position, poses);
      // The velocity references of the moved arm joints follow the new targets (a kd loop on the source's
      // velocities would pull the arm back along the source's path).
      for (int d : config_.retarget->arm_dofs) {
        if (drive.velocity.row(d).isZero(0)) continue;
        const auto frames = drive.position.cols();
        for (Eigen::Index i = 0; i < frames; ++i) {
          const Eigen::Index a = std::max<Eigen::Index>(i - 1, 0), b = std::min<Eigen::Index>(i + 1, frames - 1);
          const double span = clock.time_s[static_cast<std::size_t>(b)] - clock.time_s[static_cast<std::size_t>(a)];
          drive.velocity(d, i) = span > 0 ? (r.position(d, b) - r.position(d, a)) / span : 0.0;
        }
      }
      drive.position = r.position;
      draw.parameters.push_back({"retarget.max_ik_error_m", {r.max_ik_error_m}});
      draw.parameters.push_back({"retarget.max_ik_error_rad", {r.max_ik_error_rad}});
      // Out of reach: refused before simulating, which would only show the hand missing the object. The carry
      // may have its own orientation bound (ReachLimits::carry_max_ik_error_rad).
      out.rejection = CheckReach(*model.robot, config_.retarget->arm_dofs, r.position, r.approach_ik.worst_frame,
                                 r.approach_ik.max_m, r.approach_ik.max_rad, config_.reach);
      if (out.rejection.reason == RejectReason::kNone) {
        ReachLimits carry = config_.reach;
        carry.max_ik_error_rad = config_.reach.carry_max_ik_error_rad.value_or(config_.reach.max_ik_error_rad);
        out.rejection = CheckReach(*model.robot, config_.retarget->arm_dofs, r.position, r.carry_ik.worst_frame,
                                   r.carry_ik.max_m, r.carry_ik.max_rad, carry);
      }
    }
  }
  if (out.rejection.reason != RejectReason::kNone) {
    out.success = false;
    out.simulated = false;
    draw_timer.Stop(out.times, &StageSeconds::draw_s);
    out.episode.provenance = ProvenanceOf(config_, source, variant);
    out.episode.metadata.index = static_cast<std::int64_t>(out.unit);
    return out;
  }
  const std::vector<bool> duplicated =
      PerturbDrive(draw.actions, clock, config_.draw.seed, source_position, variant, &drive);
  draw_timer.Stop(out.times, &StageSeconds::draw_s);

  // Simulate, keeping every frame's poses when cameras are rendered.
  const StageTimer sim_timer;
  sim::World world(draw.model);
  std::vector<render::SceneState> states;
  const bool watch_grasp = config_.retarget && model.robot;
  // One watch per picked object (the first also watches the simulation's stability alone when none is picked).
  std::vector<EpisodeWatch> watches;
  if (watch_grasp) {
    const std::vector<int> picked = PickedObjects(*config_.retarget);
    const std::vector<std::optional<HeldInterval>> holds = CommandedHolds(model, *config_.retarget, drive.position);
    for (std::size_t k = 0; k < picked.size(); ++k) {
      watches.emplace_back(model, picked[k], config_.retarget->end_effector_link, holds[k], config_.watch);
    }
  } else {
    watches.emplace_back(model, -1, -1, std::nullopt, config_.watch);
  }
  if (!config_.cameras.empty()) states.reserve(clock.step.size());
  const double simulation_share = config_.cameras.empty() ? 1.0 : kSimulationShare;
  const double per_frame = simulation_share / static_cast<double>(std::max<std::size_t>(1, clock.step.size()));
  const sim::FrameCallback on_frame = [&](std::int64_t frame, const sim::World& w) {
    for (EpisodeWatch& watch : watches) watch.Observe(frame, clock.time_s[static_cast<std::size_t>(frame)], w);
    if (!config_.cameras.empty()) states.push_back(render::CaptureState(w));
    if (done) done->store(per_frame * static_cast<double>(frame + 1), std::memory_order_relaxed);
  };
  sim::EpisodeReplay replay = sim::SimulateEpisode(plan, source, clock, drive, config_.dataset, world, on_frame);
  std::vector<Eigen::Isometry3d> final_poses;
  for (std::size_t i = 0; i < model.objects.size(); ++i) final_poses.push_back(world.ObjectPose(static_cast<int>(i)));
  const sim::SuccessReport success =
      sim::EvaluateSuccess(model, final_poses, model.robot ? world.joint_positions() : Eigen::VectorXd());
  out.success = success.success;
  out.failed = success.failed;
  if (!out.success) out.rejection = ReasonOfFailure(watches, out.failed);
  out.physics_steps = replay.steps;
  out.frames = replay.frames;
  sim_timer.Stop(out.times, &StageSeconds::sim_s);

  out.episode = std::move(replay.episode);
  if (!config_.cameras.empty()) Render(draw, states, out, done);

  // Observations logged twice: every observed column repeats its previous row.
  if (std::find(duplicated.begin(), duplicated.end(), true) != duplicated.end()) {
    for (const std::string& feature : ObservedFeatures(plan, config_.cameras)) {
      auto it = out.episode.columns.find(feature);
      if (it == out.episode.columns.end()) continue;
      for (std::size_t i = 1; i < duplicated.size(); ++i) {
        if (duplicated[i]) RepeatRow(it->second.data, static_cast<std::int64_t>(i - 1), static_cast<std::int64_t>(i));
      }
    }
  }

  episode::Provenance provenance = ProvenanceOf(config_, source, variant);
  provenance.parameters = draw.parameters;
  provenance.parameters.push_back({"sim.time_step_s", {model.sim.time_step_s}});
  provenance.parameters.push_back({"sim.steps", {static_cast<double>(out.physics_steps)}});
  provenance.parameters.push_back({"success", {out.success ? 1.0 : 0.0}});
  if (!out.success) {
    provenance.rejection = std::string(ReasonCode(out.rejection.reason)) + ": " + out.rejection.detail;
  }
  out.episode.provenance = std::move(provenance);
  out.episode.metadata.success = out.success;
  // robomimic-style `real` is turned false, so a loader that filters on it is not misled. ALOHA's root `sim` keeps
  // the source's value: ACT reads it as the action alignment (for sim false it takes the actions from one frame
  // before the observation, the real robot's lag), and a variant replays the real episode's actions with that
  // same lag, so the real alignment is the right one. That the episode is synthetic is in its provenance.
  for (episode::GroupAttributes& group : out.episode.storage.group_attributes) {
    if (!group.path.empty()) continue;
    if (episode::FindAttribute(group.attributes, "real")) {
      episode::SetAttribute(group.attributes, "real", episode::AttributeValue::Bool(false));
    }
  }
  if (std::any_of(config_.cameras.begin(), config_.cameras.end(),
                  [](const CameraStream& c) { return !c.segmentation_feature.empty(); })) {
    episode::SetAttribute(out.episode.storage.Group(""), "r2s_segmentation_ids",
                          episode::AttributeValue::String(SegmentationTableJson(*config_.draw.model)));
  }
  out.episode.metadata.index = static_cast<std::int64_t>(out.unit);
  return out;
}

void VariantWorker::Render(const VariantDraw& draw, const std::vector<render::SceneState>& states,
                           GeneratedEpisode& out, std::atomic<double>* done) {
  const sim::Model& model = *config_.draw.model;
  const auto frames = static_cast<std::int64_t>(states.size());
  // Progress: every camera's frames alike, after the simulation's share.
  const auto all_camera_frames = frames * static_cast<std::int64_t>(config_.cameras.size());
  const double per_camera_frame =
      (1.0 - kSimulationShare) / static_cast<double>(std::max<std::int64_t>(1, all_camera_frames));
  std::int64_t camera_frames_done = 0;
  // The variant's look: its lights, the bodies restyled by material targets.
  std::vector<render::MaterialOverride> looks;
  for (const LookChange& change : draw.looks) {
    const sim::Material& m = model.MaterialOf(change.material);
    render::MaterialOverride o;
    o.material = change.look_material;
    o.rgba = m.rgba;
    o.roughness = m.roughness;
    o.texture = m.texture.empty() ? -1 : textures_.at(m.texture);
    looks.push_back(o);
  }
  for (const CameraStream& stream : config_.cameras) {
    const sim::CameraModel& camera = model.cameras[stream.camera];
    const int w = stream.width_px, h = stream.height_px;
    const std::size_t pixels = static_cast<std::size_t>(w) * h;
    // Only the streams the output records are kept (a frame of all three is 2.8 MB at 640 x 480).
    const auto allocate = [&](const std::string& feature, DType dtype, std::vector<std::int64_t> shape) {
      return feature.empty() ? Array::Zeros(dtype, {0}) : Array::Zeros(dtype, std::move(shape));
    };
    Array rgb = allocate(stream.rgb_feature, DType::kUInt8, {frames, h, w, 3});
    Array depth = allocate(stream.depth_feature, DType::kFloat32, {frames, h, w});
    Array segmentation = allocate(stream.segmentation_feature, DType::kUInt16, {frames, h, w});
    render::ViewParams params;
    if (w != camera.width_px || h != camera.height_px) params.intrinsics = Scaled(camera, w, h);
    params.camera_offset = draw.camera_offset[stream.camera];
    params.lights = draw.model->lights;
    params.materials = looks;
    const randomize::StreamKey noise_stream{config_.draw.seed, out.source_position, out.variant,
                                            randomize::StreamId("noise/" + camera.name)};
    cuda::CameraModelParams camera_params = draw.camera_model[stream.camera];
    cuda::DepthModelParams depth_params = draw.depth_model[stream.camera];
    const render::CameraIntrinsics k = params.intrinsics ? *params.intrinsics : render::IntrinsicsOf(camera);
    depth_params.fx = k.fx_px;
    depth_params.fy = k.fy_px;
    depth_params.cx = k.cx_px;
    depth_params.cy = k.cy_px;
    const bool camera_model = std::any_of(config_.draw.spec.sensors.begin(), config_.draw.spec.sensors.end(),
                                          [&](const SensorSpec& s) { return s.camera == stream.camera && !s.camera_fields.empty(); });
    const bool depth_model = std::any_of(config_.draw.spec.sensors.begin(), config_.draw.spec.sensors.end(),
                                         [&](const SensorSpec& s) {
                                           return s.camera == stream.camera &&
                                                  (!s.depth_fields.empty() || s.depth_quantization);
                                         });
    std::vector<render::ViewRequest> views;
    std::vector<render::Frame> rendered;
    for (std::int64_t first = 0; first < frames; first += config_.render_chunk_frames) {
      const std::int64_t count = std::min<std::int64_t>(config_.render_chunk_frames, frames - first);
      const StageTimer render_timer;
      views.assign(static_cast<std::size_t>(count), render::ViewRequest{});
      for (std::int64_t i = 0; i < count; ++i) {
        views[i].state = static_cast<int>(i);
        views[i].camera = stream.camera;
        views[i].params = params;
      }
      renderer_->Render(std::span<const render::SceneState>(states.data() + first, static_cast<std::size_t>(count)),
                        views, &rendered);
      for (std::int64_t i = 0; i < count; ++i) {
        const render::Frame& f = rendered[i];
        const std::size_t at = static_cast<std::size_t>(first + i) * pixels;
        if (!stream.rgb_feature.empty()) std::memcpy(rgb.bytes.data() + at * 3, f.rgb.data(), pixels * 3);
        if (!stream.depth_feature.empty()) {
          std::memcpy(depth.bytes.data() + at * sizeof(float), f.depth_m.data(), pixels * sizeof(float));
        }
        if (!stream.segmentation_feature.empty()) {
          std::memcpy(segmentation.bytes.data() + at * sizeof(std::uint16_t), f.segmentation.data(),
                      pixels * sizeof(std::uint16_t));
        }
      }
      render_timer.Stop(out.times, &StageSeconds::render_s);
      const StageTimer sensor_timer;
      const cuda::NoiseKey noise{noise_stream, static_cast<std::uint32_t>(first)};
      if (camera_model && !stream.rgb_feature.empty()) {
        cuda::RgbBatch batch{reinterpret_cast<std::uint8_t*>(rgb.bytes.data()) + static_cast<std::size_t>(first) * pixels * 3,
                             static_cast<int>(count), h, w};
        cuda::ApplyCameraModel(batch, std::span<const cuda::CameraModelParams>(&camera_params, 1), noise,
                               config_.sensor);
      }
      if (depth_model && !stream.depth_feature.empty()) {
        cuda::DepthBatch batch{reinterpret_cast<float*>(depth.bytes.data()) + static_cast<std::size_t>(first) * pixels,
                               static_cast<int>(count), h, w};
        cuda::ApplyDepthModel(batch, std::span<const cuda::DepthModelParams>(&depth_params, 1), noise, config_.sensor);
      }
      sensor_timer.Stop(out.times, &StageSeconds::sensor_s);
      camera_frames_done += count;
      if (done) {
        done->store(kSimulationShare + per_camera_frame * static_cast<double>(camera_frames_done),
                    std::memory_order_relaxed);
      }
    }
    out.camera_frames += frames;
    // Rendered as [T, H, W]; stored in the feature's shape ([H, W] or [H, W, 1]: the same bytes).
    auto put = [&](const std::string& feature, Array array) {
      if (feature.empty()) return;
      array.shape = {frames};
      const auto& shape = config_.output_info.features.at(feature).shape;
      array.shape.insert(array.shape.end(), shape.begin(), shape.end());
      episode::Column& column = out.episode.columns[feature];
      column.data = std::move(array);
    };
    put(stream.rgb_feature, std::move(rgb));
    put(stream.depth_feature, std::move(depth));
    put(stream.segmentation_feature, std::move(segmentation));
  }
}

}  // namespace r2s::amplify
