#pragma once
// What makes one synthetic episode differ from another beyond physics (randomization.physics) and the deployment
// map (randomization.conditions): action perturbations, what each condition axis acts on, and the sensor models,
// from a scene's `randomization:` section (docs/generate.md). Each value is a distribution (randomize/
// distribution_yaml.h) drawn once per variant.
//
//   randomization:
//     actions:
//       noise_std: {uniform: [0, 0.002]}      # rad (m): white noise added to every joint target, each frame
//       time_warp: {uniform: [0, 0.05]}       # bound b: the playback rate wanders within about 1 +- b
//       time_warp_period_s: 1.0               # (a number) how fast it wanders: a new rate every period
//       latency_s: {uniform: [0, 0.008]}      # command latency added to every joint's actuator
//       drop_probability: 0.002               # per frame: the command is lost and the previous one held
//       duplicate_probability: 0.002          # per frame: the logged observation repeats the previous frame's
//     apply:                                  # condition axis -> what it sets
//       light_lux: {target: lights.key.intensity, scale: 0.006}   # the value times scale
//       light_color_temperature_k: {target: lights.key.color_temperature_k}
//       table_material: {target: environment.table.material}     # a categorical axis over material names
//       cube_position_m: {target: objects.cube.position_xy_m}    # a 2-D axis
//       bin_shift_m: {target: environment.bin.shift_xy_m}        # moves a static body (the place target)
//       camera_yaw_jitter_deg: {target: cameras.front.yaw_deg}   # also pitch_deg, roll_deg
//     sensors:                                # per camera: cuda/sensor.h's CameraModelParams / DepthModelParams
//       front:
//         camera: {shot_noise_gain: {uniform: [0.005, 0.02]}, read_noise_std_dn: 1.0, jpeg_quality: 90}
//         depth: {noise_std_m: 0.001, noise_std_per_m: 0.002, quantization: disparity}
//
// Targets: lights.<light>.<intensity|color_temperature_k>; environment.<body>.material and
// objects.<object>.material; objects.<object>.<position_xy_m|position_m|yaw_deg|shift_xy_m> (where the object
// starts: its recorded start when the dataset tracks it, else its initial_pose; yaw_deg turns it about the
// vertical through that start and shift_xy_m moves it from there, so a variant is "the demonstration's object,
// moved and turned" wherever each demonstration had it); environment.<body>.<position_xy_m|position_m|yaw_deg|
// shift_xy_m> (the same from the static body's scene pose: a place target that moves per variant; the variant's
// model holds the moved pose, so physics, rendering and a success region in the body's frame all follow it);
// cameras.<camera>.<yaw_deg|pitch_deg|roll_deg> (a rotation of the camera about its own y, x and z axes:
// extrinsics jitter).

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "randomize/condition_space.h"
#include "randomize/distribution.h"
#include "sim/model.h"

namespace r2s::amplify {

struct ActionPerturbationSpec {
  std::optional<randomize::Distribution> noise_std;
  std::optional<randomize::Distribution> time_warp;
  double time_warp_period_s = 1.0;
  std::optional<randomize::Distribution> latency_s;
  std::optional<randomize::Distribution> drop_probability;
  std::optional<randomize::Distribution> duplicate_probability;
  bool empty() const { return !noise_std && !time_warp && !latency_s && !drop_probability && !duplicate_probability; }
};

struct ConditionTarget {
  enum class Kind {
    kLightIntensity,         // lights.<light>.intensity = value * scale
    kLightColorTemperature,  // lights.<light>.color_rgb from a black body at value kelvin
    kMaterial,               // environment.<body>.material / objects.<object>.material: a categorical's label
    // Placements, of a free object (objects.<object>.<field>) or a static body (environment.<body>.<field>):
    kObjectPositionXy,       // position_xy_m (2 values)
    kObjectPosition,         // position_m (3 values)
    kObjectYaw,              // yaw_deg: about the world z axis through where the body starts
    kObjectShiftXy,          // shift_xy_m (2 values): added to where it starts
    kCameraRotation,         // cameras.<camera>.<yaw|pitch|roll>_deg
  };
  std::string axis;
  Kind kind = Kind::kLightIntensity;
  std::string target;     // the whole target path ("lights.key.intensity"), for provenance
  int index = 0;          // the light, object, environment body or camera it acts on
  bool environment = false;  // kMaterial and the placements: an environment body (else a free object)
  int component = 0;      // kCameraRotation: 0 yaw (about y), 1 pitch (about x), 2 roll (about z)
  double scale = 1;       // kLightIntensity
  std::string source;     // "scene.yaml:40: randomization.apply.light_lux"
};

struct SensorSpec {
  int camera = 0;  // index into Model::cameras
  std::map<std::string, randomize::Distribution> camera_fields;  // CameraModelParams field -> its distribution
  std::map<std::string, randomize::Distribution> depth_fields;   // DepthModelParams field (not quantization)
  std::optional<std::string> depth_quantization;                 // "none", "uniform" or "disparity"
  std::string source;
};

struct GenerationSpec {
  ActionPerturbationSpec actions;
  std::vector<ConditionTarget> targets;
  std::vector<SensorSpec> sensors;
};

// Reads scene.yaml's randomization.actions, apply and sensors (absent: none), checking every name against the
// compiled model and the condition space: an unknown key, light, body, object, camera or axis, a target whose
// dimension or kind does not fit its axis (a material target needs a categorical axis whose labels are materials),
// a bad value (a negative noise bound, a probability above 1) is an InputError naming the file, line and key.
GenerationSpec ParseGenerationSpec(const std::filesystem::path& scene_yaml, const sim::Model& model,
                                   const randomize::ConditionSpace& conditions);

// The camera and depth model fields a scene may set, in cuda/sensor.h's order.
const std::vector<std::string>& CameraModelFieldNames();
const std::vector<std::string>& DepthModelFieldNames();

}  // namespace r2s::amplify
