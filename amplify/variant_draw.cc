#include "amplify/variant_draw.h"

#include <cmath>
#include <numbers>
#include <stdexcept>

#include "amplify/black_body.h"
#include "episode/input_error.h"
#include "randomize/stream.h"
#include "sim/parameter_name.h"

namespace r2s::amplify {
namespace {

using randomize::Distribution;

// "scene.yaml:12: randomization.physics.x" -> InputError("scene.yaml", "line 12: randomization.physics.x", problem).
[[noreturn]] void FailAt(const std::string& source, const std::string& problem) {
  const auto colon = source.find(": ");
  const auto line_colon = source.rfind(':', colon == std::string::npos ? std::string::npos : colon - 1);
  if (colon == std::string::npos || line_colon == std::string::npos) throw InputError(source, "", problem);
  throw InputError(source.substr(0, line_colon), "line " + source.substr(line_colon + 1, colon - line_colon - 1) +
                                                     ": " + source.substr(colon + 2),
                   problem);
}

std::vector<double> Values(const Eigen::VectorXd& v) { return std::vector<double>(v.data(), v.data() + v.size()); }

double Scalar(const Distribution& d, randomize::Stream& stream) { return d.Sample(stream)[0]; }

// A rotation of `degrees` about a camera axis (0: y, 1: x, 2: z; OpenCV's camera frame, y down).
Eigen::Isometry3d CameraRotation(int component, double degrees) {
  const Eigen::Vector3d axis = component == 0 ? Eigen::Vector3d::UnitY()
                               : component == 1 ? Eigen::Vector3d::UnitX()
                                                : Eigen::Vector3d::UnitZ();
  Eigen::Isometry3d t = Eigen::Isometry3d::Identity();
  t.linear() = Eigen::AngleAxisd(degrees * std::numbers::pi / 180.0, axis).toRotationMatrix();
  return t;
}

}  // namespace

std::shared_ptr<const sim::Model> PrepareModel(const sim::Model& scene, const GenerationSpec& spec) {
  auto model = std::make_shared<sim::Model>(scene);
  for (const ConditionTarget& t : spec.targets) {
    if (t.kind != ConditionTarget::Kind::kMaterial) continue;
    sim::ObjectModel& body = t.environment ? model->environment[t.index] : model->objects[t.index];
    const std::string own = (t.environment ? "environment/" : "objects/") + body.name;
    if (!model->materials.count(own)) {
      sim::Material look = model->MaterialOf(body.material);
      look.name = own;
      model->materials[own] = look;
    }
    // The look material only: contact stays with body.material until a variant sets it.
    for (sim::Shape& s : body.visuals) s.material = own;
  }
  return model;
}

void Place(const ObjectPlacement& placement, Eigen::Isometry3d* pose, Eigen::Vector3d* linear_mps,
           Eigen::Vector3d* angular_radps) {
  if (placement.yaw_rad) {
    const Eigen::Matrix3d turn = Eigen::AngleAxisd(*placement.yaw_rad, Eigen::Vector3d::UnitZ()).toRotationMatrix();
    pose->linear() = turn * pose->linear();
    if (linear_mps) *linear_mps = turn * *linear_mps;
    if (angular_radps) *angular_radps = turn * *angular_radps;
  }
  if (placement.position_xy_m) pose->translation().head<2>() = *placement.position_xy_m;
  if (placement.position_m) pose->translation() = *placement.position_m;
  if (placement.shift_xy_m) pose->translation().head<2>() += *placement.shift_xy_m;
}

VariantDraw DrawVariant(const DrawSources& sources, std::uint32_t episode, std::uint32_t variant) {
  const sim::Model& base = *sources.model;
  auto model = std::make_shared<sim::Model>(base);
  VariantDraw draw;
  draw.episode = episode;
  draw.variant = variant;
  draw.placements.resize(base.objects.size());
  draw.environment_placements.resize(base.environment.size());
  draw.camera_offset.assign(base.cameras.size(), Eigen::Isometry3d::Identity());
  draw.camera_model.assign(base.cameras.size(), cuda::CameraModelParams{});
  draw.depth_model.assign(base.cameras.size(), cuda::DepthModelParams{});
  auto record = [&](std::string name, std::vector<double> value) {
    draw.parameters.push_back({std::move(name), std::move(value)});
  };

  // Physics, in the scene's order; a group's values are drawn jointly.
  randomize::Stream physics(sources.seed, episode, variant, "physics");
  for (const auto& entry : sources.physics.entries) {
    std::vector<sim::ParameterName> names;
    Eigen::VectorXd nominal(static_cast<Eigen::Index>(entry.parameters.size()));
    for (std::size_t k = 0; k < entry.parameters.size(); ++k) {
      std::string why;
      const auto name = sim::ParseParameterName(entry.parameters[k], &why);
      if (!name) FailAt(entry.source, why);
      try {
        nominal[static_cast<Eigen::Index>(k)] = sim::ModelParameter(*model, *name);
      } catch (const std::invalid_argument& e) {
        FailAt(entry.source, e.what());
      }
      names.push_back(*name);
    }
    const Eigen::VectorXd value = entry.distribution.Sample(physics, nominal);
    for (std::size_t k = 0; k < names.size(); ++k) {
      const double x = value[static_cast<Eigen::Index>(k)];
      try {
        sim::SetModelParameter(*model, names[k], x);
      } catch (const std::invalid_argument& e) {
        FailAt(entry.source, std::string(e.what()) + " (drawn from " + entry.distribution.Describe() + ")");
      }
      record("physics." + entry.parameters[k], {x});
    }
  }

  // Conditions and what they set.
  if (!sources.conditions.empty()) {
    const randomize::ConditionDraw c = randomize::DrawConditions(sources.conditions, sources.seed, episode, variant, 1,
                                                                 sources.variants_per_episode)[0];
    draw.edge_case = c.edge_case;
    for (const auto& axis : sources.conditions.axes) record("conditions." + axis.name, Values(c.values.at(axis.name)));
    for (std::size_t k = 0; k < sources.conditions.edge_cases.size(); ++k) {
      if (sources.conditions.edge_cases[k].name == c.edge_case) {
        record("conditions.edge_case." + c.edge_case, {static_cast<double>(k)});
      }
    }
    for (const ConditionTarget& t : sources.spec.targets) {
      const Eigen::VectorXd& v = c.values.at(t.axis);
      ObjectPlacement* placement = nullptr;  // a placement target's: its free object's or static body's
      if (t.kind == ConditionTarget::Kind::kObjectPositionXy || t.kind == ConditionTarget::Kind::kObjectPosition ||
          t.kind == ConditionTarget::Kind::kObjectYaw || t.kind == ConditionTarget::Kind::kObjectShiftXy) {
        placement = t.environment ? &draw.environment_placements[t.index] : &draw.placements[t.index];
      }
      switch (t.kind) {
        case ConditionTarget::Kind::kLightIntensity:
          model->lights[t.index].intensity = v[0] * t.scale;
          record(t.target, {model->lights[t.index].intensity});
          break;
        case ConditionTarget::Kind::kLightColorTemperature: {
          model->lights[t.index].color_rgb = BlackBodyLinearRgb(v[0]);
          record(t.target, {v[0]});
          break;
        }
        case ConditionTarget::Kind::kMaterial: {
          const randomize::ConditionAxis& axis = *sources.conditions.FindAxis(t.axis);
          const std::string& material = axis.distribution.labels().at(static_cast<std::size_t>(v[0]));
          sim::ObjectModel& body = t.environment ? model->environment[t.index] : model->objects[t.index];
          body.material = material;  // contact
          for (sim::Shape& s : body.collisions) s.material = material;
          const std::string look = (t.environment ? "environment/" : "objects/") + body.name;
          draw.looks.push_back({look, material});
          record(t.target, {v[0]});
          break;
        }
        case ConditionTarget::Kind::kObjectPositionXy:
          placement->position_xy_m = v.head<2>();
          record(t.target, Values(v));
          break;
        case ConditionTarget::Kind::kObjectPosition:
          placement->position_m = v.head<3>();
          record(t.target, Values(v));
          break;
        case ConditionTarget::Kind::kObjectShiftXy:
          placement->shift_xy_m = v.head<2>();
          record(t.target, Values(v));
          break;
        case ConditionTarget::Kind::kObjectYaw:
          placement->yaw_rad = v[0] * std::numbers::pi / 180.0;
          record(t.target, {v[0]});
          break;
        case ConditionTarget::Kind::kCameraRotation:
          draw.camera_offset[t.index] = draw.camera_offset[t.index] * CameraRotation(t.component, v[0]);
          record(t.target, {v[0]});
          break;
      }
    }
  }
  // Objects the dataset does not track start where their placement puts them; static bodies stand there (the
  // World, the renderer's scene state and the success regions read their pose from this model).
  for (std::size_t i = 0; i < model->objects.size(); ++i) {
    if (!draw.placements[i].empty() && !model->objects[i].pose_feature) {
      Place(draw.placements[i], &model->objects[i].initial_pose, nullptr, nullptr);
    }
  }
  for (std::size_t i = 0; i < model->environment.size(); ++i) {
    if (!draw.environment_placements[i].empty()) {
      Place(draw.environment_placements[i], &model->environment[i].initial_pose, nullptr, nullptr);
    }
  }

  // Action perturbations: one value of each kind per variant.
  const ActionPerturbationSpec& a = sources.spec.actions;
  randomize::Stream actions(sources.seed, episode, variant, "actions");
  draw.actions.time_warp_period_s = a.time_warp_period_s;
  if (a.noise_std) record("actions.noise_std", {draw.actions.noise_std = Scalar(*a.noise_std, actions)});
  if (a.time_warp) record("actions.time_warp", {draw.actions.time_warp = Scalar(*a.time_warp, actions)});
  if (a.latency_s) record("actions.latency_s", {draw.actions.latency_s = Scalar(*a.latency_s, actions)});
  if (a.drop_probability) {
    record("actions.drop_probability", {draw.actions.drop_probability = Scalar(*a.drop_probability, actions)});
  }
  if (a.duplicate_probability) {
    record("actions.duplicate_probability",
           {draw.actions.duplicate_probability = Scalar(*a.duplicate_probability, actions)});
  }
  if (draw.actions.latency_s > 0 && model->robot) {
    for (sim::ActuatorParams& actuator : model->robot->actuators) actuator.latency_s += draw.actions.latency_s;
  }

  // Sensor models, per camera.
  for (const SensorSpec& s : sources.spec.sensors) {
    const std::string& camera = base.cameras[s.camera].name;
    randomize::Stream stream(sources.seed, episode, variant, "sensors/" + camera);
    cuda::CameraModelParams& cam = draw.camera_model[s.camera];
    double* camera_fields[] = {&cam.exposure,        &cam.shot_noise_gain,   &cam.read_noise_std_dn,
                               &cam.input_gamma,     &cam.gamma,             &cam.brightness,
                               &cam.contrast,        &cam.saturation,        &cam.hue_shift_rad,
                               &cam.white_balance_r, &cam.white_balance_g,   &cam.white_balance_b,
                               &cam.vignetting,      &cam.blur_sigma_px,     &cam.motion_blur_length_px,
                               &cam.motion_blur_angle_rad, nullptr};
    const std::vector<std::string>& camera_names = CameraModelFieldNames();
    for (std::size_t k = 0; k < camera_names.size(); ++k) {
      auto it = s.camera_fields.find(camera_names[k]);
      if (it == s.camera_fields.end()) continue;
      const double x = Scalar(it->second, stream);
      if (camera_fields[k]) {
        *camera_fields[k] = x;
      } else {
        cam.jpeg_quality = static_cast<int>(std::lround(x));  // jpeg_quality, the one integer field
      }
      record("sensors." + camera + ".camera." + camera_names[k], {x});
    }
    cuda::DepthModelParams& depth = draw.depth_model[s.camera];
    double* depth_fields[] = {&depth.noise_std_m, &depth.noise_std_per_m, &depth.quantization_step_m,
                              &depth.edge_jump_m, &depth.max_incidence_rad, &depth.min_range_m, &depth.max_range_m};
    const std::vector<std::string>& depth_names = DepthModelFieldNames();
    for (std::size_t k = 0; k < depth_names.size(); ++k) {
      auto it = s.depth_fields.find(depth_names[k]);
      if (it == s.depth_fields.end()) continue;
      *depth_fields[k] = Scalar(it->second, stream);
      record("sensors." + camera + ".depth." + depth_names[k], {*depth_fields[k]});
    }
    if (s.depth_quantization) {
      depth.quantization = *s.depth_quantization == "uniform"     ? cuda::DepthQuantization::kUniform
                           : *s.depth_quantization == "disparity" ? cuda::DepthQuantization::kDisparity
                                                                  : cuda::DepthQuantization::kNone;
    }
  }
  draw.model = std::move(model);
  return draw;
}

}  // namespace r2s::amplify
