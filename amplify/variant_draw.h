#pragma once
// Everything one synthetic episode draws before it is simulated: its physics (a copy of the scene's Model with
// the sampled parameters), its conditions and what they set (lights, materials, where objects start and static
// bodies stand, camera jitter), its action perturbations and its sensor models, and the provenance record of
// every value drawn.
//
// Each draw is a pure function of (seed, source episode, variant): physics from the Philox stream "physics",
// conditions from randomize::DrawConditions, actions from "actions", camera c's sensor models from "sensors/<c>".
// So a variant draws the same values whatever the thread, the shard or a resumed run.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Eigen/Geometry>

#include "amplify/generation_spec.h"
#include "cuda/sensor.h"
#include "episode/provenance.h"
#include "randomize/condition_space.h"
#include "randomize/distribution_yaml.h"
#include "sim/model.h"

namespace r2s::amplify {

// What a variant's scene is drawn from: the compiled scene (with any params.yaml overlay), its physics
// randomization, deployment map and generation spec. `model` must come from PrepareModel.
struct DrawSources {
  std::shared_ptr<const sim::Model> model;
  randomize::PhysicsRandomization physics;
  randomize::ConditionSpace conditions;
  GenerationSpec spec;
  std::uint64_t seed = 0;
  std::uint32_t variants_per_episode = 1;  // K: the stratified sampler needs it
};

// The scene as variants use it: every body that a material target recolours gets a look material of its own
// ("environment/<body>", "objects/<object>"), so a view can restyle that body alone.
std::shared_ptr<const sim::Model> PrepareModel(const sim::Model& scene, const GenerationSpec& spec);

struct ActionPerturbation {
  double noise_std = 0;   // rad or m, per frame, on every joint target
  double time_warp = 0;   // the rate bound b
  double time_warp_period_s = 1;
  double latency_s = 0;   // added to every joint's actuator latency (already in the variant's model)
  double drop_probability = 0;
  double duplicate_probability = 0;
};

// Where a free object starts, or a static body stands, in this variant (each field replaces that part of its
// start: the recorded or scene pose).
struct ObjectPlacement {
  std::optional<Eigen::Vector2d> position_xy_m;
  std::optional<Eigen::Vector3d> position_m;
  std::optional<double> yaw_rad;  // about the world z axis through the body's start position
  std::optional<Eigen::Vector2d> shift_xy_m;  // added to the start position (after any of the above)
  bool empty() const { return !position_xy_m && !position_m && !yaw_rad && !shift_xy_m; }
};

// A body's look replaced by a material's (a material target): draw `look_material` with `material`'s colour,
// texture and roughness.
struct LookChange {
  std::string look_material;  // the body's own look material in the prepared model
  std::string material;       // the material whose look it takes
};

struct VariantDraw {
  std::uint32_t episode = 0;  // the source episode's position in the dataset
  std::uint32_t variant = 0;
  std::string edge_case;      // "" when nominal
  std::shared_ptr<const sim::Model> model;  // physics, contact materials, lights, latency, static bodies' poses
  ActionPerturbation actions;
  std::vector<ObjectPlacement> placements;      // per Model::objects
  // Per Model::environment, already applied: model->environment[i].initial_pose is the moved pose, which the
  // World built from `model` collides with and a success region in the body's frame follows.
  std::vector<ObjectPlacement> environment_placements;
  std::vector<Eigen::Isometry3d> camera_offset;  // per Model::cameras: a motion in the camera's own frame
  std::vector<LookChange> looks;
  std::vector<cuda::CameraModelParams> camera_model;  // per Model::cameras
  std::vector<cuda::DepthModelParams> depth_model;    // per Model::cameras
  std::vector<episode::SampledParameter> parameters;  // every value drawn and set, in draw order
};

// Throws InputError naming the scene line when a drawn value is invalid for its parameter (a physics parameter
// named for a joint, link or object the scene lacks, a negative friction from an unbounded normal).
VariantDraw DrawVariant(const DrawSources& sources, std::uint32_t episode, std::uint32_t variant);

// Applies a placement to a start pose and its velocities (the yaw turns both about the vertical through the pose).
void Place(const ObjectPlacement& placement, Eigen::Isometry3d* pose, Eigen::Vector3d* linear_mps,
           Eigen::Vector3d* angular_radps);

}  // namespace r2s::amplify
