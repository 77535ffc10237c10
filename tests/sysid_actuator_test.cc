// Problem 2 (actuators from commands and measured positions): bad input, the result's plumbing, recovery of known
// actuator values from simulated episodes with realistic corruption, and the real BAM XL330 pendulum logs.
#include "sysid/actuator_fit.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <memory>
#include <random>
#include <regex>
#include <span>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "episode/dataset_reader.h"
#include "episode/input_error.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "tests/test_support.h"

namespace r2s::sysid {
namespace {

namespace fs = std::filesystem;

fs::path PendulumScene() { return testing::SourceDir() / "scenes/xl330_pendulum"; }
fs::path Kp400() { return PendulumScene() / "episodes/kp400"; }

ProblemInput LoadInput(const fs::path& scene, const fs::path& dataset, int first = 0, int count = -1) {
  ProblemInput input;
  input.model = sim::LoadScene(scene);
  const episode::DatasetReader reader = episode::DatasetReader::Open(dataset);
  input.plan = sim::ReplayPlan::Make(input.model, reader.info(), dataset.string());
  const std::int64_t end = count < 0 ? reader.num_episodes() : first + count;
  for (std::int64_t i = first; i < end; ++i) input.episodes.push_back(reader.ReadEpisode(i));
  input.dataset_file = dataset.string();
  input.scene_file = input.model->scene_file.string();
  return input;
}

// The real kp400 log of `episode` with `feature` dropped from the dataset, as if it had never been recorded.
ProblemInput WithoutFeature(const std::string& feature) {
  const episode::DatasetReader reader = episode::DatasetReader::Open(Kp400());
  episode::DatasetInfo info = reader.info();
  info.features.erase(feature);
  ProblemInput input;
  input.model = sim::LoadScene(PendulumScene());
  input.plan = sim::ReplayPlan::Make(input.model, info, Kp400().string());
  episode::Episode episode = reader.ReadEpisode(0);
  episode.columns.erase(feature);
  input.episodes.push_back(std::move(episode));
  input.dataset_file = Kp400().string();
  input.scene_file = input.model->scene_file.string();
  return input;
}

std::string InputErrorOf(const ProblemInput& input, const ActuatorFitOptions& options = {}) {
  try {
    FitActuators(input, options);
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

const FitParameter& Find(const FitResult& r, const std::string& name) {
  for (const auto& p : r.parameters) {
    if (p.name == name) return p;
  }
  throw std::out_of_range("no parameter " + name);
}

double RelativeError(double estimate, double truth) { return std::abs(estimate - truth) / std::abs(truth); }

// Mean absolute error of predicted against measured over every held-out sample (BAM's score is the MAE).
double HeldOutMae(const FitResult& r, bool baseline) {
  double sum = 0;
  std::size_t count = 0;
  for (const auto& s : r.predictions) {
    for (std::size_t i = 0; i < s.measured.size(); ++i) {
      sum += std::abs((baseline ? s.baseline[i] : s.predicted[i]) - s.measured[i]);
      ++count;
    }
  }
  return sum / static_cast<double>(count);
}

// --- bad input ---

TEST(ActuatorFitBadInput, NoCommandsNamesTheMissingSignalAndTheDataset) {
  const std::string message = InputErrorOf(WithoutFeature("action"));
  EXPECT_NE(message.find("commanded positions (signal position_target)"), std::string::npos) << message;
  EXPECT_NE(message.find(Kp400().string()), std::string::npos) << message;
  EXPECT_NE(message.find("the dataset has no feature 'action'"), std::string::npos) << message;  // the inactive binding
}

TEST(ActuatorFitBadInput, NoMeasuredPositionsNamesTheMissingSignal) {
  const std::string message = InputErrorOf(WithoutFeature("observation.state"));
  EXPECT_NE(message.find("measured positions (signal position)"), std::string::npos) << message;
  EXPECT_EQ(message.find("commanded positions"), std::string::npos) << message;
}

TEST(ActuatorFitBadInput, TooFewFramesToFit) {
  ProblemInput input = LoadInput(PendulumScene(), Kp400(), 0, 1);
  episode::Episode& e = input.episodes[0];
  const std::int64_t keep = 12;  // 9 of them to fit at the default held-out fraction
  for (auto& [name, column] : e.columns) {
    const std::int64_t width = column.data.size() / column.data.shape[0];
    const auto values = column.data.values<double>();
    std::vector<std::int64_t> shape = column.data.shape;
    shape[0] = keep;
    column.data = episode::Array::Of<double>(shape, values.subspan(0, static_cast<std::size_t>(keep * width)));
  }
  e.metadata.length = keep;
  const std::string message = InputErrorOf(input);
  EXPECT_NE(message.find("episode 0"), std::string::npos) << message;
  EXPECT_NE(message.find("has 12 frames, 9 of them to fit"), std::string::npos) << message;
}

TEST(ActuatorFitBadInput, NaNNamesTheFeatureFrameAndJoint) {
  ProblemInput input = LoadInput(PendulumScene(), Kp400(), 0, 1);
  input.episodes[0].columns.at("action").data.mutable_values<double>()[321] = std::nan("");
  const std::string message = InputErrorOf(input);
  EXPECT_NE(message.find("action (episode 0)"), std::string::npos) << message;
  EXPECT_NE(message.find("frame 321: position_target of joint 'pendulum' is nan"), std::string::npos) << message;
}

TEST(ActuatorFitBadInput, NeedsAPositionControlledRobotAndANominalGain) {
  ProblemInput input = LoadInput(PendulumScene(), Kp400(), 0, 1);
  auto model = std::make_shared<sim::Model>(*input.model);
  model->robot->control_mode = sim::ControlMode::kVelocity;
  input.model = model;
  input.plan = sim::ReplayPlan::Make(model, episode::DatasetReader::Open(Kp400()).info(), Kp400().string());
  EXPECT_NE(InputErrorOf(input).find("robot.control_mode"), std::string::npos);

  model = std::make_shared<sim::Model>(*model);
  model->robot->control_mode = sim::ControlMode::kPosition;
  model->robot->actuators[0].kp = 0;
  input.model = model;
  input.plan = sim::ReplayPlan::Make(model, episode::DatasetReader::Open(Kp400()).info(), Kp400().string());
  EXPECT_NE(InputErrorOf(input).find("robot.actuators.pendulum.kp"), std::string::npos);
}

TEST(ActuatorFitBadInput, NonsenseOptionsAreProgrammingErrors) {
  const ProblemInput input = LoadInput(PendulumScene(), Kp400(), 0, 1);
  ActuatorFitOptions options;
  options.parameters = {"kp", "stiffness"};
  EXPECT_THROW(FitActuators(input, options), std::invalid_argument);
  options = {};
  options.bounds["kp"] = {2.0, 1.0};
  EXPECT_THROW(FitActuators(input, options), std::invalid_argument);
  options = {};
  options.reference = ActuatorReference{"two joints", {sim::ActuatorParams{}, sim::ActuatorParams{}}, {}};
  EXPECT_THROW(FitActuators(input, options), std::invalid_argument);
}

// --- the result's plumbing, on a real log with the quick settings ---

TEST(ActuatorFit, QuickFitOfARealLogFillsTheResult) {
  const ProblemInput input = LoadInput(PendulumScene(), Kp400(), 2, 1);
  ActuatorFitOptions options;
  options.common.quick = true;
  const FitResult r = FitActuators(input, options);
  EXPECT_EQ(r.problem, Problem::kActuators);
  // Every kind of the joint but the velocity limit, which the quick fit may or may not reach.
  for (const char* kind : {"kp", "kd", "effort_limit", "latency_s", "coulomb_friction", "viscous_friction", "damping",
                           "armature", "position_offset"}) {
    const FitParameter& p = Find(r, std::string("robot.pendulum.") + kind);
    EXPECT_TRUE(std::isfinite(p.estimate)) << p.name;
    EXPECT_LE(p.lower, p.estimate) << p.name;
    EXPECT_GE(p.upper, p.estimate) << p.name;
    EXPECT_TRUE(p.overlays_scene) << p.name;  // position_offset too: params.yaml applies it
    EXPECT_EQ(p.identified, p.why_not_identified.empty()) << p.name;
  }
  EXPECT_FALSE(Find(r, "robot.pendulum.damping").identified);
  EXPECT_EQ(Find(r, "robot.pendulum.damping").estimate, 0.0);  // the scene's value
  EXPECT_EQ(Find(r, "robot.pendulum.kp").unit, "N m/rad");
  ASSERT_EQ(static_cast<Eigen::Index>(r.covariance_names.size()), r.covariance.rows());
  ASSERT_EQ(r.covariance.rows(), r.covariance.cols());
  for (const auto& name : r.covariance_names) EXPECT_TRUE(Find(r, name).identified) << name;

  const std::int64_t frames = input.episodes[0].metadata.length;
  const std::int64_t split = HeldOutSplit(frames, 0.3);
  ASSERT_EQ(r.held_out.size(), 1u);
  EXPECT_EQ(r.held_out[0].channel, "pendulum position");
  EXPECT_EQ(r.held_out[0].unit, "rad");
  EXPECT_EQ(r.held_out[0].samples, frames - split);
  EXPECT_EQ(r.train_samples, split);
  EXPECT_EQ(r.held_out_samples, frames - split);
  EXPECT_EQ(r.held_out[0].baseline, "the scene's nominal values");
  EXPECT_LT(r.train[0].rms, r.train[0].baseline_rms);  // even 4 iterations beat the datasheet prior
  ASSERT_EQ(r.predictions.size(), 1u);
  const HeldOutSeries& s = r.predictions[0];
  EXPECT_EQ(s.episode, 2);
  ASSERT_EQ(static_cast<std::int64_t>(s.time_s.size()), frames - split);
  EXPECT_EQ(s.measured.size(), s.time_s.size());
  EXPECT_EQ(s.predicted.size(), s.time_s.size());
  EXPECT_EQ(s.baseline.size(), s.time_s.size());
  EXPECT_NEAR(s.time_s.back(), 6.0, 0.01);  // from the first frame; the log lasts 6 s
  EXPECT_EQ(s.measured[0], input.episodes[0].At("observation.state").data.values<double>()[split]);
  EXPECT_FALSE(r.termination.empty());
  EXPECT_GT(r.iterations, 0);
  EXPECT_GT(r.wall_s, 0);

  // Deterministic: the same fit again gives the same numbers, bit for bit.
  const FitResult again = FitActuators(input, options);
  ASSERT_EQ(again.parameters.size(), r.parameters.size());
  for (std::size_t i = 0; i < r.parameters.size(); ++i) EXPECT_EQ(again.parameters[i].estimate, r.parameters[i].estimate);
  EXPECT_EQ(again.held_out[0].rms, r.held_out[0].rms);
}

// --- ground truth: the real logs' commands and timestamps, positions simulated with known actuator values ---

constexpr double kEncoderStep = 2 * M_PI / 4096;  // the XL330's encoder: 4096 counts per turn
constexpr double kNoiseRad = 0.0005;              // on top of the quantization

constexpr const char* kPrior =
    "{kp: 1.0, kd: 0.0, effort_limit: 0.52, velocity_limit: 10.9, latency_s: 0.005, coulomb_friction: 0.01, "
    "viscous_friction: 0.01, damping: 0.0, armature: 0.001}";

fs::path WriteGroundTruthScene(const fs::path& dir, bool velocity_reference, const std::string& prior = kPrior) {
  return testing::WritePendulumGroundTruthScene(dir, velocity_reference, prior);
}

episode::DatasetInfo WithVelocityReference(episode::DatasetInfo info) {
  episode::FeatureSpec velocity = info.features.at("action");
  velocity.unit = "rad/s";
  info.features["action_velocity"] = velocity;
  return info;
}

struct Truth {
  sim::ActuatorParams actuator;
  double offset = 0;
};

// An XL330-like actuator at 7.4 V: the drive saturates on the log's fast swings (effort limit 0.45 N m); the
// latency is 1.64 frames of the log's median 5.3 ms; it never reaches its velocity limit.
Truth Xl330LikeTruth() {
  Truth truth;
  truth.actuator.kp = 0.8;
  truth.actuator.kd = 0.03;
  truth.actuator.effort_limit = 0.45;
  truth.actuator.velocity_limit = 20;
  truth.actuator.latency_s = 0.0087;
  truth.actuator.coulomb_friction = 0.015;
  truth.actuator.viscous_friction = 0.04;
  truth.actuator.armature = 0.0018;
  return truth;
}

// Real episodes of the kp400 logs whose measured positions are replaced by the pendulum's, simulated with `truth`
// through sim::ReplayEpisode as r2s replay runs them (the encoder offset as a shifted command and start), plus
// Gaussian noise and the encoder's quantization. The commands and the irregular timestamps stay the real ones.
ProblemInput GroundTruthInput(const fs::path& scene, const std::vector<int>& episodes, const Truth& truth,
                              std::uint64_t seed) {
  const episode::DatasetReader reader = episode::DatasetReader::Open(Kp400());
  const episode::DatasetInfo info = WithVelocityReference(reader.info());
  ProblemInput input;
  input.model = sim::LoadScene(scene);
  input.dataset_file = "ground truth from " + Kp400().string();
  input.plan = sim::ReplayPlan::Make(input.model, info, input.dataset_file);
  input.scene_file = input.model->scene_file.string();

  auto truth_model = std::make_shared<sim::Model>(*input.model);
  truth_model->robot->actuators[0] = truth.actuator;
  const sim::ReplayPlan truth_plan = sim::ReplayPlan::Make(truth_model, info, "truth");
  sim::World world(truth_model);
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, kNoiseRad);
  for (int e : episodes) {
    episode::Episode source = reader.ReadEpisode(e);
    const std::int64_t frames = source.metadata.length;
    const auto t = source.At("timestamp").data.values<double>();
    const auto goal = source.At("action").data.values<double>();
    std::vector<double> goal_velocity(static_cast<std::size_t>(frames));
    for (std::int64_t i = 0; i < frames; ++i) {
      const std::int64_t a = std::max<std::int64_t>(i - 1, 0), b = std::min<std::int64_t>(i + 1, frames - 1);
      goal_velocity[i] = (goal[b] - goal[a]) / (t[b] - t[a]);
    }
    source.columns["action_velocity"].data =
        episode::Array::Of<double>({frames, 1}, std::span<const double>(goal_velocity));
    episode::Episode shifted = source;  // the joint physically at q + offset
    for (double& g : shifted.columns.at("action").data.mutable_values<double>()) g += truth.offset;
    shifted.columns.at("observation.state").data.mutable_values<double>()[0] += truth.offset;
    const sim::EpisodeReplay replay = sim::ReplayEpisode(truth_plan, shifted, "truth", world);
    const auto simulated = replay.episode.At("observation.state").data.values<double>();
    auto measured = source.columns.at("observation.state").data.mutable_values<double>();
    for (std::int64_t i = 0; i < frames; ++i) {
      const double q = simulated[i] - truth.offset + (i > 0 ? noise(rng) : 0.0);
      measured[i] = std::round(q / kEncoderStep) * kEncoderStep;
    }
    input.episodes.push_back(std::move(source));
  }
  return input;
}

TEST(ActuatorFitGroundTruth, RecoversGainsFrictionLimitAndFractionalLatency) {
  testing::TempDir dir;
  const fs::path scene = WriteGroundTruthScene(dir / "scene", /*velocity_reference=*/true);
  Truth truth = Xl330LikeTruth();
  truth.offset = 0.02;
  const ProblemInput input = GroundTruthInput(scene, {0}, truth, 7);
  ActuatorFitOptions options;
  options.common.threads = 2;
  const FitResult r = FitActuators(input, options);

  const auto parameter = [&](const std::string& kind) -> const FitParameter& {
    return Find(r, "robot.pendulum." + kind);
  };
  const std::vector<std::pair<std::string, double>> relative = {
      {"kp", 0.8},  {"kd", 0.03}, {"effort_limit", 0.45}, {"coulomb_friction", 0.015}, {"viscous_friction", 0.04},
      {"armature", 0.0018}};
  for (const auto& [kind, value] : relative) {
    EXPECT_LT(RelativeError(parameter(kind).estimate, value), 0.02) << kind << " " << parameter(kind).estimate;
  }
  const double frame_s = 0.0053;  // the log's median period
  EXPECT_LT(std::abs(parameter("latency_s").estimate - 0.0087), 0.25 * frame_s) << parameter("latency_s").estimate;
  EXPECT_LT(std::abs(parameter("position_offset").estimate - 0.02), 0.5 * kEncoderStep);
  std::vector<std::pair<std::string, double>> all = relative;
  all.emplace_back("latency_s", 0.0087);
  all.emplace_back("position_offset", 0.02);
  for (const auto& [kind, value] : all) {
    const FitParameter& p = parameter(kind);
    EXPECT_TRUE(p.identified) << p.name << ": " << p.why_not_identified;
    // The standard deviations are honest: the truth lies within 4 of them.
    EXPECT_LT(std::abs(p.estimate - value), 4 * p.std_dev) << p.name << " std " << p.std_dev;
  }
  // Deliberately unidentifiable: a velocity limit the motion never reaches (the data do not depend on it; it stays
  // at the scene's value), and passive damping, which is the same torque as viscous friction.
  const FitParameter& velocity_limit = Find(r, "robot.pendulum.velocity_limit");
  EXPECT_FALSE(velocity_limit.identified);
  EXPECT_NE(velocity_limit.why_not_identified.find("do not depend on it"), std::string::npos);
  EXPECT_EQ(velocity_limit.estimate, 10.9);
  EXPECT_FALSE(Find(r, "robot.pendulum.damping").identified);
  // The held-out 30 %, predicted from the start: down to the corruption's level (noise 0.5 mrad, quantization).
  EXPECT_LT(r.held_out[0].rms, 0.0015);
  EXPECT_GT(r.held_out[0].baseline_rms, 20 * r.held_out[0].rms);
}

TEST(ActuatorFitGroundTruth, WithoutAVelocityReferenceKdIsFlaggedAndViscousFrictionCarriesTheSum) {
  testing::TempDir dir;
  const fs::path scene = WriteGroundTruthScene(dir / "scene", /*velocity_reference=*/false,
                                               "{kp: 1.0, effort_limit: 10.0, coulomb_friction: 0.015, armature: 0.0018}");
  Truth truth;  // the drive never saturates: kd (0 - qd) and -viscous_friction qd are one torque
  truth.actuator.kp = 0.8;
  truth.actuator.kd = 0.03;
  truth.actuator.effort_limit = 10;
  truth.actuator.coulomb_friction = 0.015;
  truth.actuator.viscous_friction = 0.04;
  truth.actuator.armature = 0.0018;
  const ProblemInput input = GroundTruthInput(scene, {0}, truth, 11);
  ActuatorFitOptions options;
  options.parameters = {"kp", "kd", "viscous_friction"};
  options.fit_position_offset = false;
  const FitResult r = FitActuators(input, options);
  const FitParameter& kd = Find(r, "robot.pendulum.kd");
  EXPECT_FALSE(kd.identified);
  EXPECT_NE(kd.why_not_identified.find("same torque as viscous friction"), std::string::npos) << kd.why_not_identified;
  EXPECT_EQ(kd.estimate, 0.0);  // the scene's value
  const FitParameter& viscous = Find(r, "robot.pendulum.viscous_friction");
  EXPECT_TRUE(viscous.identified);
  EXPECT_LT(RelativeError(viscous.estimate, 0.03 + 0.04), 0.02) << viscous.estimate;
  EXPECT_LT(RelativeError(Find(r, "robot.pendulum.kp").estimate, 0.8), 0.02);
  EXPECT_EQ(std::count(r.covariance_names.begin(), r.covariance_names.end(), "robot.pendulum.kd"), 0);
}

// A bound that keeps the fit from the truth: the value ends against it, and is flagged, not reported identified.
TEST(ActuatorFitGroundTruth, AValueAtItsBoundIsNotReportedIdentified) {
  testing::TempDir dir;
  const fs::path scene = WriteGroundTruthScene(dir / "scene", /*velocity_reference=*/true);
  const Truth truth = Xl330LikeTruth();
  const ProblemInput input = GroundTruthInput(scene, {0}, truth, 5);
  ActuatorFitOptions options;
  options.common.quick = true;
  options.common.threads = 2;
  options.parameters = {"kp", "kd", "viscous_friction", "armature"};
  options.fit_position_offset = false;
  options.bounds["kp"] = {0.1, 0.5};  // the truth, 0.8, lies above
  const FitResult r = FitActuators(input, options);
  const FitParameter& kp = Find(r, "robot.pendulum.kp");
  EXPECT_NEAR(kp.estimate, 0.5, 0.01);
  EXPECT_FALSE(kp.identified);
  EXPECT_NE(kp.why_not_identified.find("at its upper bound"), std::string::npos) << kp.why_not_identified;
  EXPECT_EQ(std::count(r.covariance_names.begin(), r.covariance_names.end(), kp.name), 0);
  const bool warned = std::any_of(r.warnings.begin(), r.warnings.end(), [](const std::string& w) {
    return w.find("robot.pendulum.kp") != std::string::npos && w.find("upper bound") != std::string::npos;
  });
  EXPECT_TRUE(warned);
  // The wrong gain leaves residuals far above the data's noise floor, and says so.
  const bool model_warned = std::any_of(r.warnings.begin(), r.warnings.end(), [](const std::string& w) {
    return w.find("noise floor") != std::string::npos;
  });
  EXPECT_TRUE(model_warned);
  ASSERT_EQ(r.noise_floor.size(), 1u);
  EXPECT_GT(r.noise_floor[0], 0.0002);
  EXPECT_LT(r.noise_floor[0], 0.002);
}

// --- the real case: BAM's XL330 pendulum logs ---

// BAM's published m1 model (scenes/xl330_pendulum/reference/bam_xl330_m1.json) in the scene's actuator terms, as
// scenes/xl330_pendulum/README.md derives it: kp = kt vin error_gain kp_fw / R, effort_limit = kt vin / R, back-EMF
// damping kt^2 / R, Coulomb and viscous friction, armature, and q_offset as the encoder offset.
ActuatorReference BamM1(double firmware_kp, double supply_v) {
  const std::string json = [] {
    std::ifstream in(PendulumScene() / "reference/bam_xl330_m1.json");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }();
  const auto field = [&](const std::string& name) {
    std::smatch m;
    if (!std::regex_search(json, m, std::regex("\"" + name + "\":\\s*([-0-9.eE+]+)"))) {
      throw std::runtime_error("bam_xl330_m1.json has no " + name);
    }
    return std::stod(m[1]);
  };
  const double kt = field("kt"), r_ohm = field("R");
  const double error_gain = (4096 / (2 * M_PI)) / (256 * 885.0);
  sim::ActuatorParams a;
  a.kp = kt * supply_v * error_gain * firmware_kp / r_ohm;
  a.effort_limit = kt * supply_v / r_ohm;
  a.damping = kt * kt / r_ohm;
  a.coulomb_friction = field("friction_base");
  a.viscous_friction = field("friction_viscous");
  a.armature = field("armature");
  return {"BAM m1 (published)", {a}, Eigen::VectorXd::Constant(1, field("q_offset"))};
}

TEST(ActuatorFitRealData, BamPendulumLogHeldOutError) {
  // kp 100, the three trajectories (sin_sin, up_and_down, sin_time_square): each fitted on its first 4.2 s and
  // predicted, running on from its start, over its last 1.8 s.
  const ProblemInput input = LoadInput(PendulumScene(), PendulumScene() / "episodes/kp100");
  ActuatorFitOptions options;
  options.common.threads = 2;
  options.reference = BamM1(100, 7.4);
  const FitResult r = FitActuators(input, options);
  ASSERT_EQ(r.held_out.size(), 1u);
  std::printf("held-out position: RMS %.4f rad (BAM m1 %.4f), MAE %.4f rad (BAM m1 %.4f)\n", r.held_out[0].rms,
              r.held_out[0].baseline_rms, HeldOutMae(r, false), HeldOutMae(r, true));
  // Measured here: RMS 0.0425 rad against BAM m1's 0.0584, MAE 0.0306 against 0.0401 (docs/sysid.md). BAM m1 was
  // fitted by its authors to all their logs, these included; the fit sees only the first 70 % of each.
  EXPECT_LT(r.held_out[0].rms, 0.05);
  EXPECT_LT(HeldOutMae(r, false), 0.035);
  EXPECT_LT(r.held_out[0].rms, r.held_out[0].baseline_rms);
  EXPECT_LT(HeldOutMae(r, false), HeldOutMae(r, true));
  EXPECT_LT(r.train[0].rms, r.train[0].baseline_rms);
  EXPECT_EQ(r.held_out[0].baseline, "BAM m1 (published)");
  // Friction near BAM's own estimate for this servo (0.0128 N m Coulomb), not at a bound.
  const FitParameter& coulomb = Find(r, "robot.pendulum.coulomb_friction");
  EXPECT_TRUE(coulomb.identified);
  EXPECT_GT(coulomb.estimate, 0.005);
  EXPECT_LT(coulomb.estimate, 0.06);
}

// kp 400: the fitted 70 % of sin_time_square reaches 7.4 rad/s, its held-out end 13 rad/s. A velocity limit just
// below 7.4 rad/s saves 0.2 % of the cost and would cut the held-out motion; it must not stand.
TEST(ActuatorFitRealData, AVelocityLimitTheDataBarelyReachIsHeldAtTheScenesValue) {
  const ProblemInput input = LoadInput(PendulumScene(), Kp400());
  ActuatorFitOptions options;
  options.common.threads = 2;
  options.reference = BamM1(400, 7.4);
  // One start: this is about the limit's hold, not the search (BamPendulumLogHeldOutError runs the default starts),
  // and each start costs a minute of CI.
  options.starts = 1;
  const FitResult r = FitActuators(input, options);
  const FitParameter& velocity_limit = Find(r, "robot.pendulum.velocity_limit");
  EXPECT_EQ(velocity_limit.estimate, 10.9);
  EXPECT_FALSE(velocity_limit.identified);
  EXPECT_NE(velocity_limit.why_not_identified.find("barely reach"), std::string::npos)
      << velocity_limit.why_not_identified;
  std::printf("kp400 held-out position: RMS %.4f rad (BAM m1 %.4f)\n", r.held_out[0].rms, r.held_out[0].baseline_rms);
  EXPECT_LT(r.held_out[0].rms, 0.06);  // 0.046 measured; 0.143 with the limit left at 7.1 rad/s
  EXPECT_LT(r.held_out[0].rms, r.held_out[0].baseline_rms);
}

}  // namespace
}  // namespace r2s::sysid
