// amplify/'s pieces below the generator: the scene's generation spec (actions, apply, sensors) and its bad input,
// black-body colours, shards from the command line and the scheduler's environment, action perturbations, and the
// per-variant draw.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "amplify/action_perturbation.h"
#include "amplify/black_body.h"
#include "amplify/generation_spec.h"
#include "amplify/shard.h"
#include "amplify/variant_draw.h"
#include "episode/input_error.h"
#include "randomize/condition_space.h"
#include "randomize/distribution_yaml.h"
#include "sim/params_overlay.h"
#include "sim/scene_compiler.h"
#include "sim/success.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace r2s::amplify {
namespace {

namespace fs = std::filesystem;
using r2s::testing::SourceDir;
using r2s::testing::TempDir;
using r2s::testing::WriteTextFile;

fs::path Tabletop() { return SourceDir() / "scenes/tabletop/scene.yaml"; }

DrawSources TabletopSources(std::uint32_t variants = 8, std::uint64_t seed = 7) {
  DrawSources s;
  const auto model = sim::LoadScene(Tabletop());
  s.physics = randomize::ParsePhysicsRandomization(Tabletop(), nullptr);
  s.conditions = randomize::ParseConditionSpace(Tabletop());
  s.spec = ParseGenerationSpec(Tabletop(), *model, s.conditions);
  s.model = PrepareModel(*model, s.spec);
  s.seed = seed;
  s.variants_per_episode = variants;
  return s;
}

TEST(GenerationSpec, TheTabletopSectionsParse) {
  const DrawSources s = TabletopSources();
  ASSERT_EQ(s.spec.targets.size(), 5u);
  EXPECT_EQ(s.spec.targets[0].kind, ConditionTarget::Kind::kLightIntensity);
  EXPECT_DOUBLE_EQ(s.spec.targets[0].scale, 0.006);
  EXPECT_EQ(s.spec.targets[2].kind, ConditionTarget::Kind::kMaterial);
  EXPECT_TRUE(s.spec.targets[2].environment);
  EXPECT_EQ(s.spec.targets[3].kind, ConditionTarget::Kind::kObjectPositionXy);
  EXPECT_EQ(s.spec.targets[4].kind, ConditionTarget::Kind::kCameraRotation);
  EXPECT_TRUE(s.spec.actions.noise_std && s.spec.actions.time_warp && s.spec.actions.latency_s);
  ASSERT_EQ(s.spec.sensors.size(), 1u);
  EXPECT_EQ(s.spec.sensors[0].camera_fields.count("jpeg_quality"), 1u);
  EXPECT_EQ(s.spec.sensors[0].depth_quantization, "disparity");
  // The table got a look material of its own; its contact material is still the board's.
  const sim::ObjectModel& table = s.model->environment[s.spec.targets[2].index];
  EXPECT_EQ(table.visuals.at(0).material, "environment/table");
  EXPECT_EQ(table.material, "board");
}

struct BadSpec {
  std::string name;
  std::string section;  // appended under randomization:
  int line;
  std::string field;
  std::string problem;
};

// A small scene with one light, camera, box and a condition map, plus `section`.
std::string SmallScene(const std::string& section) {
  return R"(name: small
materials:
  wood: {lateral_friction: 0.5}
objects:
  - {name: box, shape: {box: [0.1, 0.1, 0.1]}, mass_kg: 1}
environment:
  - {name: table, shape: {box: [1, 1, 0.1]}, pose: {position_m: [0, 0, -0.05]}}
cameras:
  - {name: top, pose: {position_m: [0.3, 0, 1], look_at_m: [0, 0, 0]}, resolution: [64, 48], fov_y_deg: 60}
lights:
  - {name: sun, type: directional, direction: [0, 0, -1]}
randomization:
  conditions:
    axes:
      lux: {uniform: [100, 1000]}
      xy: {uniform: {min: [-0.1, -0.1], max: [0.1, 0.1]}}
      finish: {categorical: {wood: 1}}
      odd: {categorical: {velvet: 1}}
      dim: {uniform: [1, 2]}
)" + section;
}

class GenerationSpecBadInput : public ::testing::TestWithParam<BadSpec> {};

TEST_P(GenerationSpecBadInput, NamesFileLineAndKey) {
  const BadSpec& c = GetParam();
  TempDir dir;
  const fs::path scene = dir / "scene.yaml";
  WriteTextFile(scene, SmallScene(c.section));
  const auto model = sim::LoadScene(scene);
  const auto conditions = randomize::ParseConditionSpace(scene);
  try {
    ParseGenerationSpec(scene, *model, conditions);
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), scene.string());
    EXPECT_EQ(e.field(), "line " + std::to_string(c.line) + ": " + c.field) << e.what();
    EXPECT_NE(e.problem().find(c.problem), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(
    Rows, GenerationSpecBadInput,
    ::testing::Values(
        BadSpec{"UnknownAxis", "  apply:\n    brightness: {target: lights.sun.intensity}\n", 21,
                "randomization.apply.brightness", "'brightness' is not an axis of randomization.conditions"},
        BadSpec{"UnknownLight", "  apply:\n    lux: {target: lights.moon.intensity}\n", 21,
                "randomization.apply.lux.target", "the scene has no light 'moon' (lights: sun)"},
        BadSpec{"DimensionMismatch", "  apply:\n    xy: {target: lights.sun.intensity}\n", 21,
                "randomization.apply.xy.target", "takes one number; axis 'xy' is uniform"},
        BadSpec{"MaterialNeedsCategorical", "  apply:\n    lux: {target: environment.table.material}\n", 21,
                "randomization.apply.lux.target", "takes a categorical axis of material names"},
        BadSpec{"LabelIsNoMaterial", "  apply:\n    odd: {target: environment.table.material}\n", 21,
                "randomization.apply.odd.target", "'velvet', which is not a material of the scene"},
        BadSpec{"UnknownObjectField", "  apply:\n    xy: {target: objects.box.place_m}\n", 21,
                "randomization.apply.xy.target", "unknown field 'place_m'"},
        BadSpec{"ScaleOnlyForIntensity", "  apply:\n    xy: {target: objects.box.position_xy_m, scale: 2}\n", 21,
                "randomization.apply.xy.scale", "'scale' is only for a light's intensity"},
        BadSpec{"TargetSetTwice",
                "  apply:\n    lux: {target: lights.sun.intensity}\n    dim: {target: lights.sun.intensity}\n", 22,
                "randomization.apply.dim", "'lights.sun.intensity' is already set by axis 'lux'"},
        BadSpec{"NegativeNoise", "  actions:\n    noise_std: {uniform: [-0.1, 0.1]}\n", 21,
                "randomization.actions.noise_std", "reaches outside [0, inf]"},
        BadSpec{"ProbabilityAboveOne", "  actions:\n    drop_probability: 1.5\n", 21,
                "randomization.actions.drop_probability", "reaches outside [0, 1]"},
        BadSpec{"WarpTooWide", "  actions:\n    time_warp: 0.7\n", 21, "randomization.actions.time_warp",
                "reaches outside [0, 0.5]"},
        BadSpec{"UnknownActionKey", "  actions:\n    jitter: 0.1\n", 21, "randomization.actions.jitter",
                "unknown key 'jitter'"},
        BadSpec{"UnknownCamera", "  sensors:\n    side: {camera: {exposure: 1}}\n", 21, "randomization.sensors.side",
                "the scene has no camera 'side' (top)"},
        BadSpec{"UnknownSensorField", "  sensors:\n    top: {camera: {iso: 100}}\n", 21,
                "randomization.sensors.top.camera.iso", "unknown key 'iso'"},
        BadSpec{"JpegQualityOutOfRange", "  sensors:\n    top: {camera: {jpeg_quality: 120}}\n", 21,
                "randomization.sensors.top.camera.jpeg_quality", "reaches outside [0, 100]"},
        BadSpec{"BadQuantization", "  sensors:\n    top: {depth: {quantization: log}}\n", 21,
                "randomization.sensors.top.depth.quantization", "'log' is not none, uniform or disparity"},
        BadSpec{"UnknownEnvironmentBody", "  apply:\n    xy: {target: environment.shelf.shift_xy_m}\n", 21,
                "randomization.apply.xy.target", "the scene has no environment body 'shelf' (table)"},
        BadSpec{"EnvironmentYawTakesOneNumber", "  apply:\n    xy: {target: environment.table.yaw_deg}\n", 21,
                "randomization.apply.xy.target", "'environment.table.yaw_deg' takes one number (degrees); axis 'xy'"},
        BadSpec{"EnvironmentShiftTakesTwoNumbers", "  apply:\n    lux: {target: environment.table.shift_xy_m}\n", 21,
                "randomization.apply.lux.target", "takes two numbers (dx, dy); axis 'lux'"},
        BadSpec{"EnvironmentPositionTakesThreeNumbers",
                "  apply:\n    xy: {target: environment.table.position_m}\n", 21, "randomization.apply.xy.target",
                "takes three numbers (x, y, z); axis 'xy'"},
        BadSpec{"UnknownEnvironmentField", "  apply:\n    xy: {target: environment.table.place_m}\n", 21,
                "randomization.apply.xy.target",
                "unknown field 'place_m' (position_xy_m, position_m, yaw_deg, shift_xy_m, material)"}),
    [](const auto& info) { return info.param.name; });

TEST(GenerationSpec, AMisspelledSectionIsCaughtByTheSceneLoader) {
  TempDir dir;
  WriteTextFile(dir / "scene.yaml", SmallScene("  aply: {}\n"));
  try {
    sim::LoadScene(dir / "scene.yaml");
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("unknown key 'aply' (did you mean 'apply'?)"), std::string::npos) << e.what();
  }
}

TEST(BlackBody, NeutralNearD65WarmBelowAndUnitLuminance) {
  // A black body at 6500 K lies a little off D65 (a daylight spectrum, slightly green of the Planckian locus): near
  // white, not exactly.
  const Eigen::Vector3d d65 = BlackBodyLinearRgb(6500);
  EXPECT_NEAR(d65[0] / d65[1], 1.0, 0.08);
  EXPECT_NEAR(d65[2] / d65[1], 1.0, 0.12);
  const Eigen::Vector3d tungsten = BlackBodyLinearRgb(2700);
  EXPECT_GT(tungsten[0], tungsten[1]);
  EXPECT_GT(tungsten[1], tungsten[2]);
  const Eigen::Vector3d sky = BlackBodyLinearRgb(12000);
  EXPECT_GT(sky[2], sky[0]);
  for (double k : {1500.0, 2700.0, 4000.0, 6500.0, 10000.0}) {
    const Eigen::Vector3d c = BlackBodyLinearRgb(k);
    EXPECT_NEAR(0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2], 1.0, 1e-12) << k;
    EXPECT_GE(c.minCoeff(), 0.0) << k;
  }
}

TEST(Shard, ParsesTheCommandLineAndTheSchedulersEnvironment) {
  EXPECT_EQ(ParseShard("3/16"), (Shard{3, 16}));
  for (const char* bad : {"3", "16/16", "a/4", "1/0", "-1/4", "1/4/2"}) {
    EXPECT_THROW(ParseShard(bad), InputError) << bad;
  }
  std::map<std::string, std::string> env;
  const Environment read = [&](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  EXPECT_FALSE(ShardFromEnvironment(read));
  env = {{"SLURM_ARRAY_TASK_ID", "5"}, {"SLURM_ARRAY_TASK_COUNT", "8"}};
  EXPECT_EQ(*ShardFromEnvironment(read), (Shard{5, 8}));
  env = {{"SLURM_ARRAY_TASK_ID", "12"}, {"SLURM_ARRAY_TASK_MIN", "10"}, {"SLURM_ARRAY_TASK_MAX", "13"}};
  EXPECT_EQ(*ShardFromEnvironment(read), (Shard{2, 4}));
  env = {{"JOB_COMPLETION_INDEX", "3"}, {"R2S_SHARD_COUNT", "4"}};
  EXPECT_EQ(*ShardFromEnvironment(read), (Shard{3, 4}));
  const auto message = [&] {
    try {
      ShardFromEnvironment(read);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string("(no error)");
  };
  env = {{"JOB_COMPLETION_INDEX", "3"}};
  EXPECT_NE(message().find("R2S_SHARD_COUNT: is not set"), std::string::npos) << message();
  env = {{"SLURM_ARRAY_TASK_ID", "x"}, {"SLURM_ARRAY_TASK_COUNT", "4"}};
  EXPECT_NE(message().find("SLURM_ARRAY_TASK_ID: 'x' is not a non-negative integer"), std::string::npos) << message();
  env = {{"SLURM_ARRAY_TASK_ID", "4"}, {"SLURM_ARRAY_TASK_COUNT", "4"}};
  EXPECT_NE(message().find("is not below the shard count 4"), std::string::npos) << message();
  env = {{"SLURM_ARRAY_TASK_ID", "1"}};
  EXPECT_NE(message().find("the shard count is unknown"), std::string::npos) << message();
}

TEST(Shard, AnySplitCoversEveryUnitOnceInContiguousBlocks) {
  for (std::uint64_t total : {0ull, 1ull, 7ull, 100ull, 1000003ull}) {
    for (std::uint32_t count : {1u, 2u, 3u, 16u, 101u}) {
      std::uint64_t next = 0;
      for (std::uint32_t i = 0; i < count; ++i) {
        const auto [begin, end] = ShardUnits(Shard{i, count}, total);
        EXPECT_EQ(begin, next) << total << " " << i << "/" << count;
        EXPECT_LE(end - begin, total / count + 1);
        next = end;
      }
      EXPECT_EQ(next, total);
    }
  }
  // No overflow for huge runs.
  const auto [b, e] = ShardUnits(Shard{3, 4}, 1ull << 62);
  EXPECT_EQ(b, 3ull << 60);
  EXPECT_EQ(e, 1ull << 62);
}

sim::FrameClock UniformClock(int frames, double period_s) {
  sim::FrameClock clock;
  for (int i = 0; i < frames; ++i) {
    clock.time_s.push_back(i * period_s);
    clock.step.push_back(i);
  }
  return clock;
}

sim::ReplayDrive RampDrive(int dofs, int frames) {
  sim::ReplayDrive d;
  d.position.resize(dofs, frames);
  d.velocity = Eigen::MatrixXd::Constant(dofs, frames, 1.0);
  d.torque = Eigen::MatrixXd::Zero(dofs, frames);
  d.feedforward = Eigen::MatrixXd::Zero(dofs, frames);
  for (int i = 0; i < frames; ++i) d.position.col(i).setConstant(0.01 * i);  // 1 rad/s at 100 Hz
  return d;
}

TEST(ActionPerturbation, NoneIsTheIdentity) {
  const sim::FrameClock clock = UniformClock(500, 0.01);
  sim::ReplayDrive drive = RampDrive(3, 500);
  const sim::ReplayDrive before = drive;
  const std::vector<bool> duplicated = PerturbDrive(ActionPerturbation{}, clock, 1, 2, 3, &drive);
  EXPECT_EQ(drive.position, before.position);
  EXPECT_EQ(drive.velocity, before.velocity);
  EXPECT_EQ(std::count(duplicated.begin(), duplicated.end(), true), 0);
}

TEST(ActionPerturbation, TimeWarpKeepsTheEndsAndItsRateWithinTheBound) {
  const sim::FrameClock clock = UniformClock(2001, 0.005);  // 10 s
  const double b = 0.05;
  const TimeWarp warp = DrawTimeWarp(clock.time_s, b, 1.0, 11, 0, 4);
  EXPECT_DOUBLE_EQ(warp.warped_time_s.front(), 0.0);
  EXPECT_NEAR(warp.warped_time_s.back(), 10.0, 1e-12);
  double furthest = 0;
  for (std::size_t i = 1; i < warp.rate.size(); ++i) {
    EXPECT_GE(warp.rate[i], (1 - b) / (1 + b) - 1e-12);
    EXPECT_LE(warp.rate[i], (1 + b) / (1 - b) + 1e-12);
    EXPECT_GT(warp.warped_time_s[i], warp.warped_time_s[i - 1]);  // monotone: time never runs backwards
    furthest = std::max(furthest, std::abs(warp.warped_time_s[i] - clock.time_s[i]));
  }
  EXPECT_GT(furthest, 0.01);  // it does warp
  // The same variant warps alike; another does not.
  EXPECT_EQ(DrawTimeWarp(clock.time_s, b, 1.0, 11, 0, 4).warped_time_s, warp.warped_time_s);
  EXPECT_NE(DrawTimeWarp(clock.time_s, b, 1.0, 11, 0, 5).warped_time_s, warp.warped_time_s);

  // On a ramp the warped targets are the ramp at the warped times, and velocities scale with the rate.
  sim::ReplayDrive drive = RampDrive(2, 2001);
  ActionPerturbation p;
  p.time_warp = b;
  p.time_warp_period_s = 1.0;
  PerturbDrive(p, clock, 11, 0, 4, &drive);
  for (std::size_t i = 0; i < warp.rate.size(); i += 97) {
    EXPECT_NEAR(drive.position(1, static_cast<Eigen::Index>(i)), warp.warped_time_s[i] / 0.005 * 0.01, 1e-9);
    EXPECT_NEAR(drive.velocity(0, static_cast<Eigen::Index>(i)), warp.rate[i], 1e-12);
  }
}

TEST(ActionPerturbation, NoiseDropsAndDuplicatesHaveTheirRates) {
  const int frames = 20000;
  const sim::FrameClock clock = UniformClock(frames, 0.001);
  sim::ReplayDrive drive = RampDrive(2, frames);
  const sim::ReplayDrive before = drive;
  ActionPerturbation p;
  p.noise_std = 0.01;
  p.drop_probability = 0.05;
  p.duplicate_probability = 0.02;
  const std::vector<bool> duplicated = PerturbDrive(p, clock, 3, 1, 9, &drive);
  int held = 0;
  double sum = 0, sum2 = 0;
  int n = 0;
  for (int i = 1; i < frames; ++i) {
    if (drive.position(0, i) == drive.position(0, i - 1) && drive.position(1, i) == drive.position(1, i - 1)) {
      ++held;
      continue;
    }
    const double e = drive.position(0, i) - before.position(0, i);
    sum += e;
    sum2 += e * e;
    ++n;
  }
  const double mean = sum / n, std = std::sqrt(sum2 / n - mean * mean);
  EXPECT_NEAR(std, 0.01, 0.0004);
  EXPECT_NEAR(mean, 0.0, 0.0003);
  EXPECT_NEAR(held, 0.05 * frames, 4 * std::sqrt(0.05 * frames));
  const auto dup = std::count(duplicated.begin(), duplicated.end(), true);
  EXPECT_NEAR(static_cast<double>(dup), 0.02 * frames, 4 * std::sqrt(0.02 * frames));
  EXPECT_FALSE(duplicated[0]);
}

TEST(VariantDraw, APureFunctionOfSeedEpisodeAndVariant) {
  const DrawSources sources = TabletopSources();
  const VariantDraw a = DrawVariant(sources, 2, 5);
  const VariantDraw b = DrawVariant(sources, 2, 5);
  ASSERT_EQ(a.parameters.size(), b.parameters.size());
  for (std::size_t i = 0; i < a.parameters.size(); ++i) EXPECT_EQ(a.parameters[i], b.parameters[i]);
  const VariantDraw c = DrawVariant(sources, 2, 6);
  const VariantDraw d = DrawVariant(sources, 3, 5);
  auto value = [](const VariantDraw& v, const std::string& name) {
    for (const auto& p : v.parameters) {
      if (p.name == name) return p.value;
    }
    ADD_FAILURE() << "no " << name;
    return std::vector<double>{};
  };
  EXPECT_NE(value(a, "physics.objects.cube.lateral_friction"), value(c, "physics.objects.cube.lateral_friction"));
  EXPECT_NE(value(a, "physics.objects.cube.lateral_friction"), value(d, "physics.objects.cube.lateral_friction"));
  EXPECT_NE(value(a, "actions.noise_std"), value(c, "actions.noise_std"));
}

TEST(VariantDraw, WhatItDrawsLandsInTheModelTheViewsAndTheSensors) {
  const DrawSources sources = TabletopSources();
  const sim::Model& base = *sources.model;
  for (std::uint32_t v = 0; v < 8; ++v) {
    const VariantDraw draw = DrawVariant(sources, 0, v);
    std::map<std::string, std::vector<double>> p;
    for (const auto& x : draw.parameters) p[x.name] = x.value;
    const sim::Model& m = *draw.model;
    // Physics: inside the scene's ranges, on the cube's own material, the shared acrylic untouched.
    const double mu = p.at("physics.objects.cube.lateral_friction")[0];
    EXPECT_GE(mu, 0.12);
    EXPECT_LE(mu, 0.25);
    EXPECT_EQ(m.MaterialOf(m.objects[m.FindObject("cube")].material).lateral_friction, mu);
    EXPECT_EQ(m.MaterialOf("acrylic").lateral_friction, 0.18);
    const double mass = p.at("physics.objects.cube.mass_kg")[0];
    EXPECT_NEAR(mass / 0.37, 1.0, 0.0500001);
    // Conditions: the light's intensity is lux x 0.006, its colour the black body's.
    const double lux = p.at("conditions.light_lux")[0];
    EXPECT_DOUBLE_EQ(m.lights[0].intensity, lux * 0.006);
    EXPECT_TRUE(m.lights[0].color_rgb.isApprox(BlackBodyLinearRgb(p.at("conditions.light_color_temperature_k")[0])));
    // The table's contact material is the drawn one, and its look follows.
    const auto& labels = sources.conditions.FindAxis("table_material")->distribution.labels();
    const std::string finish = labels.at(static_cast<std::size_t>(p.at("conditions.table_material")[0]));
    EXPECT_EQ(m.environment[1].material, finish);
    ASSERT_EQ(draw.looks.size(), 1u);
    EXPECT_EQ(draw.looks[0].look_material, "environment/table");
    EXPECT_EQ(draw.looks[0].material, finish);
    // The tracked cube's start is placed by the generator; untracked objects keep their pose.
    ASSERT_TRUE(draw.placements[m.FindObject("cube")].position_xy_m);
    EXPECT_TRUE(draw.placements[m.FindObject("cube")].position_xy_m->isApprox(
        Eigen::Map<const Eigen::Vector2d>(p.at("conditions.cube_position_m").data())));
    // The camera yaw is a rotation about the camera's y axis.
    const double yaw = p.at("conditions.camera_yaw_jitter_deg")[0];
    EXPECT_NEAR(Eigen::AngleAxisd(draw.camera_offset[0].linear()).angle(), std::abs(yaw) * M_PI / 180, 1e-12);
    // Actions: the latency is added to every actuator.
    const double latency = p.at("actions.latency_s")[0];
    for (int d = 0; d < m.robot->num_dofs(); ++d) {
      EXPECT_DOUBLE_EQ(m.robot->actuators[d].latency_s, base.robot->actuators[d].latency_s + latency);
    }
    // Sensors: the front camera's JPEG quality is an integer in the range.
    EXPECT_GE(draw.camera_model[0].jpeg_quality, 70);
    EXPECT_LE(draw.camera_model[0].jpeg_quality, 95);
    EXPECT_EQ(draw.depth_model[0].quantization, cuda::DepthQuantization::kDisparity);
    EXPECT_EQ(draw.camera_model[1].jpeg_quality, 0);  // the wrist camera has no sensor model
  }
}

// r2s generate --params: physics from the data where there are data. Identified parameters come from the
// posterior (its mean and std), replacing the scene's ranges for them; unidentified ones keep the scene's.
TEST(VariantDraw, WithParamsThePosteriorReplacesTheScenesRangesOfIdentifiedParameters) {
  TempDir dir;
  const fs::path params_file = dir / "params.yaml";
  WriteTextFile(params_file, R"(format: real2sim.params/1
parameters:
  - {name: objects.cube.lateral_friction, estimate: 0.3, std: 0.01, lower: 0.0, upper: 2.0, identified: true}
  - {name: objects.cube.mass_kg, estimate: 0.37, std: 0.4, lower: 0.1, upper: 1.5, identified: false}
)");
  const sim::ParamsFile params = sim::ReadParams(params_file);
  DrawSources sources = TabletopSources(256);
  std::vector<std::string> replaced;
  sources.physics = randomize::WithPosterior(sources.physics, params, params_file, &replaced);
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_NE(replaced[0].find("randomization.physics.objects.cube.lateral_friction"), std::string::npos);
  ASSERT_FALSE(sources.physics.entries.empty());
  EXPECT_EQ(sources.physics.entries[0].parameters, std::vector<std::string>{"objects.cube.lateral_friction"});
  EXPECT_EQ(sources.physics.entries[0].source.rfind(params_file.string(), 0), 0u);
  double sum = 0, sum2 = 0;
  std::vector<double> masses;
  const int n = 256;
  for (int v = 0; v < n; ++v) {
    const VariantDraw draw = DrawVariant(sources, 0, static_cast<std::uint32_t>(v));
    const sim::Model& m = *draw.model;
    const sim::ObjectModel& cube = m.objects[m.FindObject("cube")];
    const double mu = m.MaterialOf(cube.material).lateral_friction;
    sum += mu;
    sum2 += mu * mu;
    masses.push_back(cube.inertial.mass_kg);
  }
  const double mean = sum / n, std = std::sqrt(sum2 / n - mean * mean);
  EXPECT_NEAR(mean, 0.3, 4 * 0.01 / std::sqrt(n));
  EXPECT_NEAR(std, 0.01, 0.0015);
  // The unidentified mass keeps the scene's +-5 % scale around its nominal.
  EXPECT_GE(*std::min_element(masses.begin(), masses.end()), 0.37 * 0.95 - 1e-12);
  EXPECT_LE(*std::max_element(masses.begin(), masses.end()), 0.37 * 1.05 + 1e-12);
}

TEST(VariantDraw, AParameterForABodyTheSceneLacksNamesTheSceneLine) {
  TempDir dir;
  fs::copy(SourceDir() / "scenes/tabletop", dir.path(), fs::copy_options::recursive);
  std::string text;
  {
    std::ifstream in(dir / "scene.yaml");
    text.assign(std::istreambuf_iterator<char>(in), {});
  }
  const std::string from = "objects.can.lateral_friction";
  const auto at = text.find(from);
  ASSERT_NE(at, std::string::npos);
  text.replace(at, from.size(), "objects.mug.lateral_friction");
  WriteTextFile(dir / "scene.yaml", text);
  DrawSources sources = TabletopSources();
  sources.physics = randomize::ParsePhysicsRandomization(dir / "scene.yaml", nullptr);
  try {
    DrawVariant(sources, 0, 0);
    FAIL() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), (dir / "scene.yaml").string());
    EXPECT_NE(e.field().find("randomization.physics.objects.mug.lateral_friction"), std::string::npos) << e.what();
    EXPECT_NE(e.problem().find("the scene has no free object 'mug'"), std::string::npos) << e.what();
  }
}

// A place target that moves: a static bar `bin` (long along its x, standing on the floor, turned 0.3 rad in the
// scene) that variants shift and turn, a static post that variants put anywhere, and a cube whose success region is
// on top of the bar, in the bar's frame.
constexpr const char* kMovingBin = R"(name: moving_bin
materials:
  rubber: {lateral_friction: 1.0, restitution: 0}
objects:
  - {name: cube, shape: {box: [0.04, 0.04, 0.04]}, mass_kg: 0.05, material: rubber,
     initial_pose: {position_m: [0, -0.5, 0.02]}}
environment:
  - {name: floor, shape: {plane: [0, 0, 1]}, material: rubber}
  - name: bin
    shapes:
      - {box: [0.3, 0.1, 0.1], pose: {position_m: [0, 0, 0.05]}}
    pose: {position_m: [0.4, 0.1, 0], rpy_rad: [0, 0, 0.3]}
    material: rubber
  - {name: post, shape: {box: [0.05, 0.05, 0.2]}, pose: {position_m: [-0.5, 0, 0.1]}}
success:
  - {object_in_region: {object: cube, frame: bin, min_m: [-0.15, -0.05, 0.1], max_m: [0.15, 0.05, 0.15]}}
randomization:
  conditions:
    axes:
      bin_shift_m: {uniform: {min: [-0.2, -0.2], max: [0.2, 0.2]}}
      bin_yaw_deg: {uniform: [60, 120]}
      post_m: {uniform: {min: [-0.6, -0.1, 0.09], max: [-0.4, 0.1, 0.11]}}
  apply:
    bin_shift_m: {target: environment.bin.shift_xy_m}
    bin_yaw_deg: {target: environment.bin.yaw_deg}
    post_m: {target: environment.post.position_m}
)";

DrawSources MovingBinSources(const fs::path& scene) {
  DrawSources s;
  const auto model = sim::LoadScene(scene);
  s.physics = randomize::ParsePhysicsRandomization(scene, nullptr);
  s.conditions = randomize::ParseConditionSpace(scene);
  s.spec = ParseGenerationSpec(scene, *model, s.conditions);
  s.model = PrepareModel(*model, s.spec);
  s.seed = 11;
  s.variants_per_episode = 8;
  return s;
}

std::vector<double> Parameter(const VariantDraw& draw, const std::string& name) {
  for (const auto& p : draw.parameters) {
    if (p.name == name) return p.value;
  }
  ADD_FAILURE() << "no parameter " << name;
  return {};
}

TEST(VariantDraw, EnvironmentTargetsMoveAndTurnTheStaticBodyInTheVariantsModel) {
  TempDir dir;
  WriteTextFile(dir / "scene.yaml", kMovingBin);
  const DrawSources sources = MovingBinSources(dir / "scene.yaml");
  ASSERT_EQ(sources.spec.targets.size(), 3u);
  EXPECT_EQ(sources.spec.targets[0].kind, ConditionTarget::Kind::kObjectShiftXy);
  EXPECT_TRUE(sources.spec.targets[0].environment);
  EXPECT_EQ(sources.spec.targets[0].index, 1);
  EXPECT_EQ(sources.spec.targets[1].kind, ConditionTarget::Kind::kObjectYaw);
  EXPECT_EQ(sources.spec.targets[2].kind, ConditionTarget::Kind::kObjectPosition);
  const sim::Model& base = *sources.model;
  const Eigen::Isometry3d scene_bin = base.environment[1].initial_pose;
  const Eigen::Isometry3d scene_post = base.environment[2].initial_pose;
  std::set<double> yaws;
  for (std::uint32_t v = 0; v < 8; ++v) {
    const VariantDraw draw = DrawVariant(sources, 0, v);
    const std::vector<double> shift = Parameter(draw, "environment.bin.shift_xy_m");
    const std::vector<double> yaw = Parameter(draw, "environment.bin.yaw_deg");
    const std::vector<double> post = Parameter(draw, "environment.post.position_m");
    ASSERT_EQ(shift.size(), 2u);
    ASSERT_EQ(yaw.size(), 1u);
    ASSERT_EQ(post.size(), 3u);
    EXPECT_EQ(Parameter(draw, "conditions.bin_yaw_deg"), yaw);
    EXPECT_GE(yaw[0], 60);
    EXPECT_LE(yaw[0], 120);
    yaws.insert(yaw[0]);
    // Turned about the vertical through the bin's own origin, which then moves by the shift.
    const double yaw_rad = yaw[0] * M_PI / 180;
    const Eigen::Isometry3d& bin = draw.model->environment[1].initial_pose;
    const Eigen::Matrix3d turned = Eigen::AngleAxisd(yaw_rad, Eigen::Vector3d::UnitZ()) * scene_bin.linear();
    EXPECT_TRUE(bin.linear().isApprox(turned, 1e-15));
    EXPECT_EQ(bin.translation(), scene_bin.translation() + Eigen::Vector3d(shift[0], shift[1], 0));
    EXPECT_NEAR(Eigen::AngleAxisd(bin.linear()).angle(), 0.3 + yaw_rad, 1e-12);
    ASSERT_TRUE(draw.environment_placements[1].yaw_rad && draw.environment_placements[1].shift_xy_m);
    EXPECT_EQ(*draw.environment_placements[1].yaw_rad, yaw_rad);
    // position_m replaces where the post stands, not how it is turned.
    const Eigen::Isometry3d& post_pose = draw.model->environment[2].initial_pose;
    EXPECT_EQ(post_pose.translation(), Eigen::Vector3d(post[0], post[1], post[2]));
    EXPECT_EQ(post_pose.linear(), scene_post.linear());
    // The floor, the free cube and the scene's own model stay as they were.
    EXPECT_TRUE(draw.environment_placements[0].empty());
    EXPECT_TRUE(draw.placements[0].empty());
    EXPECT_EQ(draw.model->environment[0].initial_pose.matrix(), base.environment[0].initial_pose.matrix());
    EXPECT_EQ(base.environment[1].initial_pose.matrix(), scene_bin.matrix());
    // A pure function of (seed, episode, variant).
    const VariantDraw again = DrawVariant(sources, 0, v);
    EXPECT_EQ(again.model->environment[1].initial_pose.matrix(), bin.matrix());
    EXPECT_EQ(again.model->environment[2].initial_pose.matrix(), post_pose.matrix());
    EXPECT_NE(DrawVariant(sources, 1, v).model->environment[1].initial_pose.matrix(), bin.matrix());
  }
  EXPECT_EQ(yaws.size(), 8u);
}

// Where the cube, let go with its bottom 3 cm above `at` (a point on a top surface), comes to rest in a World of
// `model`.
Eigen::Vector3d Dropped(const sim::Model& model, const Eigen::Vector3d& at) {
  sim::World world(std::make_shared<const sim::Model>(model));
  world.Reset();
  Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
  pose.translation() = at + Eigen::Vector3d(0, 0, 0.05);
  world.SetObjectPose(0, pose);
  world.Step(480);  // 2 s
  return world.ObjectPose(0).translation();
}

TEST(VariantDraw, AWorldOfTheVariantsModelCollidesWithTheMovedBodyAndSuccessFollowsIt) {
  TempDir dir;
  WriteTextFile(dir / "scene.yaml", kMovingBin);
  const DrawSources sources = MovingBinSources(dir / "scene.yaml");
  const sim::Model& scene = *sources.model;
  // A variant whose bar top at 0.1 m along the bar lies off the scene's bar, and the scene's off the variant's.
  auto on_bar = [](const Eigen::Isometry3d& bar, const Eigen::Vector3d& p) {
    const Eigen::Vector3d local = bar.inverse() * p;
    return std::abs(local.x()) < 0.15 + 0.04 && std::abs(local.y()) < 0.05 + 0.04;
  };
  const Eigen::Vector3d along(0.1, 0, 0.1);
  std::optional<VariantDraw> draw;
  for (std::uint32_t v = 0; v < 8 && !draw; ++v) {
    VariantDraw d = DrawVariant(sources, 0, v);
    const Eigen::Isometry3d& moved = d.model->environment[1].initial_pose;
    const Eigen::Isometry3d& original = scene.environment[1].initial_pose;
    if (!on_bar(original, moved * along) && !on_bar(moved, original * along)) draw = std::move(d);
  }
  ASSERT_TRUE(draw) << "no variant moved the bar clear of where it was";
  const sim::Model& variant = *draw->model;
  const Eigen::Isometry3d& moved = variant.environment[1].initial_pose;
  const Eigen::Isometry3d& original = scene.environment[1].initial_pose;

  // On the moved bar the cube rests on its top (z = 0.1 + 0.02); where the scene's bar stood it falls to the floor.
  const Eigen::Vector3d on_moved = Dropped(variant, moved * along);
  EXPECT_NEAR(on_moved.z(), 0.12, 0.002);
  EXPECT_LT((on_moved - moved * along).head<2>().norm(), 0.01);
  const Eigen::Vector3d on_original = Dropped(variant, original * along);
  EXPECT_NEAR(on_original.z(), 0.02, 0.002);
  // The scene's own model still has the bar where the scene put it.
  EXPECT_NEAR(Dropped(scene, original * along).z(), 0.12, 0.002);

  // The success region on the bar's top follows the variant's bar.
  Eigen::Isometry3d cube = Eigen::Isometry3d::Identity();
  cube.translation() = on_moved;
  EXPECT_TRUE(sim::EvaluateSuccess(variant, {cube}, {}).success);
  const sim::SuccessReport in_scene = sim::EvaluateSuccess(scene, {cube}, {});
  EXPECT_FALSE(in_scene.success);
  ASSERT_EQ(in_scene.failed.size(), 1u);
  EXPECT_NE(in_scene.failed[0].find("in bin's frame"), std::string::npos) << in_scene.failed[0];
}

}  // namespace
}  // namespace r2s::amplify
