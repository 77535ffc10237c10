// Ground truth for the actuator fit (sysid/actuator_fit.h): SYNTHETIC episodes, made by r2s's own simulator
// (sim::ReplayEpisode, as `r2s replay` runs them) from rich synthetic commands with known actuator values, then
// corrupted as a real encoder would (quantisation to 4096 counts per turn plus white noise). From every one of
// several seeds (of the noise and of the fit's global search) the fit must recover the values, or say that it
// cannot; a fit that lands in another basin and reports it as identified fails here.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>

#include "episode/dataset_info.h"
#include "episode/episode.h"
#include "sim/replay.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "sysid/actuator_fit.h"
#include "tests/test_support.h"

namespace r2s::sysid {
namespace {

namespace fs = std::filesystem;

constexpr double kFrameS = 0.01;                  // 100 Hz frames
constexpr double kEncoderStep = 2 * M_PI / 4096;  // 4096 counts per turn
constexpr double kNoiseRad = 0.0005;              // white, on top of the quantisation
constexpr std::uint64_t kSeeds[] = {1, 2, 3, 4, 5};
// R2S_TEST_SEEDS=N runs only the first N seeds (a quick look while working on the fit), R2S_TEST_SEEDS=3,4 only
// those seeds; unset, every seed runs (`fallback` of them where a test runs fewer by default).
std::vector<std::uint64_t> Seeds(std::size_t fallback = std::size(kSeeds)) {
  const char* text = std::getenv("R2S_TEST_SEEDS");
  if (text == nullptr) return {std::begin(kSeeds), std::begin(kSeeds) + std::min(fallback, std::size(kSeeds))};
  const std::string list = text;
  if (list.find(',') == std::string::npos) {
    const std::size_t n = std::min<std::size_t>(std::size(kSeeds), std::strtoul(text, nullptr, 10));
    return {std::begin(kSeeds), std::begin(kSeeds) + n};
  }
  std::vector<std::uint64_t> seeds;
  std::istringstream in(list);
  for (std::string one; std::getline(in, one, ',');) {
    if (!one.empty()) seeds.push_back(std::strtoull(one.c_str(), nullptr, 10));
  }
  return seeds;
}

const FitParameter& Find(const FitResult& r, const std::string& name) {
  for (const auto& p : r.parameters) {
    if (p.name == name) return p;
  }
  throw std::out_of_range("no parameter " + name);
}

double RelativeError(double estimate, double truth) { return std::abs(estimate - truth) / std::abs(truth); }

void ExpectNoWarningOfABadFit(const FitResult& r) {
  for (const auto& w : r.warnings) {
    for (const char* bad : {"may not be unique", "bound;", "noise floor", "R^2", "is worse than", "not settled"}) {
      EXPECT_EQ(w.find(bad), std::string::npos) << "warning: " << w;
    }
  }
}

// Prints the fit's progress when R2S_TEST_PROGRESS is set (to see where a slow fit spends its time).
FitProgress TestProgress() {
  if (std::getenv("R2S_TEST_PROGRESS") == nullptr) return {};
  return [](double fraction, const std::string& what) { std::fprintf(stderr, "  %3.0f%% %s\n", 100 * fraction, what.c_str()); };
}

// A synthetic excitation per joint: three sines of incommensurate frequencies plus held steps (the steps saturate
// the drive briefly, which separates kd from viscous friction and shows the effort limit).
std::vector<double> Excitation(int joint, std::int64_t frames, double amplitude_rad) {
  std::vector<double> q(static_cast<std::size_t>(frames));
  const double f[] = {0.31 + 0.07 * joint, 0.87 + 0.11 * joint, 2.3 - 0.2 * joint};
  const double step[] = {0.4, -0.3, 0.6, -0.5, 0.2, -0.6, 0.5, -0.2};
  for (std::int64_t i = 0; i < frames; ++i) {
    const double t = static_cast<double>(i) * kFrameS;
    const double sines = 0.5 * std::sin(2 * M_PI * f[0] * t) + 0.3 * std::sin(2 * M_PI * f[1] * t + 1.0 + joint) +
                         0.15 * std::sin(2 * M_PI * f[2] * t + 2.0);
    const double held = step[(static_cast<std::size_t>(t / 1.1) + static_cast<std::size_t>(3 * joint)) % 8];
    q[static_cast<std::size_t>(i)] = amplitude_rad * (sines + held);
  }
  return q;
}

episode::FeatureSpec Spec(int width, const char* unit) {
  episode::FeatureSpec spec;
  spec.dtype = episode::DType::kFloat64;
  spec.shape = {width};
  spec.unit = unit;
  return spec;
}

// The synthetic dataset's layout: timestamp, commanded positions and their velocity reference, measured positions.
episode::DatasetInfo SyntheticInfo(int dofs) {
  episode::DatasetInfo info;
  info.layout = episode::StorageLayout::kLeRobot;
  info.fps = 1 / kFrameS;
  info.features["timestamp"] = Spec(1, "s");
  info.features["action"] = Spec(dofs, "rad");
  info.features["action_velocity"] = Spec(dofs, "rad/s");
  info.features["observation.state"] = Spec(dofs, "rad");
  return info;
}

struct Problem {
  ProblemInput input;
  double frame_s = kFrameS;
};

// One synthetic episode of `seconds`, measured positions simulated with `truth` (per dof) and corrupted with the
// seed's noise. The scene at `scene` carries the fit's prior, not the truth.
Problem SyntheticProblem(const fs::path& scene, const std::vector<sim::ActuatorParams>& truth, double seconds,
                         double amplitude_rad, std::uint64_t seed, double noise_rad = kNoiseRad,
                         double encoder_step_rad = kEncoderStep) {
  Problem problem;
  ProblemInput& input = problem.input;
  input.model = sim::LoadScene(scene);
  const int n = input.model->robot->num_dofs();
  const episode::DatasetInfo info = SyntheticInfo(n);
  input.dataset_file = "synthetic ground truth (seed " + std::to_string(seed) + ")";
  input.plan = sim::ReplayPlan::Make(input.model, info, input.dataset_file);
  input.scene_file = input.model->scene_file.string();

  const auto frames = static_cast<std::int64_t>(std::llround(seconds / kFrameS));
  std::vector<double> time(static_cast<std::size_t>(frames)), action(static_cast<std::size_t>(frames * n)),
      velocity(action.size()), state(action.size());
  for (std::int64_t i = 0; i < frames; ++i) time[i] = static_cast<double>(i) * kFrameS;
  for (int d = 0; d < n; ++d) {
    const std::vector<double> q = Excitation(d, frames, amplitude_rad);
    for (std::int64_t i = 0; i < frames; ++i) {
      action[i * n + d] = q[i];
      const std::int64_t a = std::max<std::int64_t>(i - 1, 0), b = std::min<std::int64_t>(i + 1, frames - 1);
      velocity[i * n + d] = (q[b] - q[a]) / (time[b] - time[a]);
      state[i * n + d] = q[0];  // the start; the rest is simulated below
    }
  }
  episode::Episode e;
  e.metadata.index = 0;
  e.metadata.length = frames;
  e.metadata.task = "synthetic excitation";
  e.columns["timestamp"].data = episode::Array::Of<double>({frames, 1}, std::span<const double>(time));
  e.columns["action"].data = episode::Array::Of<double>({frames, n}, std::span<const double>(action));
  e.columns["action_velocity"].data = episode::Array::Of<double>({frames, n}, std::span<const double>(velocity));
  e.columns["observation.state"].data = episode::Array::Of<double>({frames, n}, std::span<const double>(state));

  auto truth_model = std::make_shared<sim::Model>(*input.model);
  for (int d = 0; d < n; ++d) truth_model->robot->actuators[d] = truth[d];
  const sim::ReplayPlan truth_plan = sim::ReplayPlan::Make(truth_model, info, "truth");
  sim::World world(truth_model);
  const sim::EpisodeReplay replay = sim::ReplayEpisode(truth_plan, e, "truth", world);
  const auto simulated = replay.episode.At("observation.state").data.values<double>();
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0.0, noise_rad > 0 ? noise_rad : 1.0);
  auto measured = e.columns.at("observation.state").data.mutable_values<double>();
  for (std::int64_t i = 0; i < frames * n; ++i) {
    const double q = simulated[i] + (i >= n && noise_rad > 0 ? noise(rng) : 0.0);
    measured[i] = encoder_step_rad > 0 ? std::round(q / encoder_step_rad) * encoder_step_rad : q;
  }
  input.episodes.push_back(std::move(e));
  return problem;
}

// --- a one-joint servo pendulum (the XL330 bench of scenes/xl330_pendulum) ---

fs::path WritePendulumScene(const fs::path& dir, bool velocity_reference) {
  return testing::WritePendulumGroundTruthScene(
      dir, velocity_reference,
      "{kp: 1.0, kd: 0.01, effort_limit: 0.52, velocity_limit: 10.9, latency_s: 0.005, coulomb_friction: 0.01, "
      "viscous_friction: 0.01, damping: 0.0, armature: 0.001}");
}

sim::ActuatorParams PendulumTruth() {
  sim::ActuatorParams a;  // an XL330 at 7.4 V: saturates on the steps; never reaches its velocity limit
  a.kp = 0.8;
  a.kd = 0.03;
  a.effort_limit = 0.45;
  a.velocity_limit = 20;
  a.latency_s = 0.013;  // 1.3 frames
  a.coulomb_friction = 0.015;
  a.viscous_friction = 0.04;
  a.armature = 0.0018;
  return a;
}

// The pendulum's values the fit must recover (latency and the velocity limit are checked apart), by name.
std::vector<std::pair<const char*, double>> PendulumValues(const sim::ActuatorParams& truth) {
  return {{"kp", truth.kp},
          {"kd", truth.kd},
          {"effort_limit", truth.effort_limit},
          {"coulomb_friction", truth.coulomb_friction},
          {"viscous_friction", truth.viscous_friction},
          {"armature", truth.armature}};
}

// The pendulum's actuator fit as its tests run it: the seed's search on 2 threads, no encoder offset.
FitResult FitPendulum(const Problem& problem, std::uint64_t seed) {
  ActuatorFitOptions options;
  options.common.threads = 2;
  options.common.seed = seed;
  options.fit_position_offset = false;
  options.progress = TestProgress();
  return FitActuators(problem.input, options);
}

// How many of the fit's 95 % intervals (estimate +- 1.96 std) contain the truth, of how many.
struct Coverage {
  int covered = 0;
  int intervals = 0;
};

// Counts the 95 % interval of `p` in `coverage` and prints its error in its own std.
void CountInterval(const FitParameter& p, double truth, Coverage& coverage) {
  const double error = std::abs(p.estimate - truth);
  std::printf("%s: %.5g (true %.5g, error %+.2f %%, std %.2f %%, %.1f std)\n", p.name.c_str(), p.estimate, truth,
              100 * (p.estimate - truth) / truth, 100 * p.std_dev / truth, error / p.std_dev);
  coverage.covered += error <= 1.96 * p.std_dev ? 1 : 0;
  ++coverage.intervals;
}

// Every value within 2 % of the truth from every seed, and at least 80 % of the 95 % intervals contain the truth.
TEST(SysidGroundTruth, PendulumFromEverySeed) {
  testing::TempDir dir;
  const fs::path scene = WritePendulumScene(dir / "scene", /*velocity_reference=*/true);
  const sim::ActuatorParams truth = PendulumTruth();
  Coverage coverage;
  for (std::uint64_t seed : Seeds()) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Problem problem = SyntheticProblem(scene, {truth}, 6.0, 1.0, seed);
    const FitResult r = FitPendulum(problem, seed);
    const auto p = [&](const char* kind) -> const FitParameter& { return Find(r, std::string("robot.pendulum.") + kind); };
    for (const auto& [kind, value] : PendulumValues(truth)) {
      EXPECT_LT(RelativeError(p(kind).estimate, value), 0.02) << kind << " " << p(kind).estimate;
      EXPECT_TRUE(p(kind).identified) << kind << ": " << p(kind).why_not_identified;
      CountInterval(p(kind), value, coverage);
    }
    EXPECT_LT(std::abs(p("latency_s").estimate - truth.latency_s), 0.25 * problem.frame_s) << p("latency_s").estimate;
    // A velocity limit the motion never reaches: not identified, not confidently wrong.
    EXPECT_FALSE(p("velocity_limit").identified) << p("velocity_limit").estimate;
    EXPECT_EQ(r.starts, 4);
    ASSERT_EQ(r.start_costs.size(), 1u);
    EXPECT_EQ(r.start_costs[0].final_costs.size(), 4u);
    EXPECT_EQ(r.passes, 1);
    EXPECT_TRUE(r.passes_converged);
    // The fit reaches the corruption's level: no warning of a rival optimum, a value at a bound, a model that
    // misses the data or a poor prediction. (A time-step warning may stand: the data were simulated at the scene's
    // own step, and halving it moves the trajectory.)
    ExpectNoWarningOfABadFit(r);
    ASSERT_EQ(r.noise_floor.size(), 1u);
    EXPECT_NEAR(r.noise_floor[0], std::hypot(kNoiseRad, kEncoderStep / std::sqrt(12.0)), 0.0003);
  }
  std::printf("95 %% intervals containing the truth: %d of %d\n", coverage.covered, coverage.intervals);
  EXPECT_GE(coverage.covered, 0.8 * coverage.intervals);  // measured: 29 of 30 (docs/sysid.md)
}

// Measured exactly (no noise, no quantisation), with the true latency (13 ms) on a whole 1 ms physics step: a kink
// of the cost, where Levenberg-Marquardt's central differences straddle it and can stop beside it while the other
// parameters make up for the fraction of a step. The data single out the truth, so the fit must reach it: every
// value to 0.01 %, the latency to a microsecond. Measured 2026-12-06: with the joint's kinks tried, every value
// within 0.0012 % and the latency at 13.000 ms; without, the latency stopped at 13.004 ms and the effort limit,
// Coulomb friction and kd 0.049 %, 0.014 % and 0.014 % off.
TEST(SysidGroundTruth, ExactPendulumDataGiveTheTruthAtTheLatencysKink) {
  testing::TempDir dir;
  const fs::path scene = WritePendulumScene(dir / "scene", /*velocity_reference=*/true);
  const sim::ActuatorParams truth = PendulumTruth();
  const Problem problem = SyntheticProblem(scene, {truth}, 6.0, 1.0, 1, /*noise_rad=*/0, /*encoder_step_rad=*/0);
  const FitResult r = FitPendulum(problem, 1);
  const auto p = [&](const char* kind) -> const FitParameter& { return Find(r, std::string("robot.pendulum.") + kind); };
  for (const auto& [kind, value] : PendulumValues(truth)) {
    std::printf("%s: %.6g (true %.6g, error %+.4f %%)\n", kind, p(kind).estimate, value,
                100 * (p(kind).estimate - value) / value);
    EXPECT_LT(RelativeError(p(kind).estimate, value), 1e-4) << kind << " " << p(kind).estimate;
  }
  std::printf("latency_s: %.7g (true %.7g)\n", p("latency_s").estimate, truth.latency_s);
  EXPECT_NEAR(p("latency_s").estimate, truth.latency_s, 1e-6);
}

// Without a velocity reference and with a drive that never saturates, kd (0 - qd) is viscous friction's torque:
// kd is flagged, viscous friction carries the sum, and nothing is confidently wrong.
TEST(SysidGroundTruth, PendulumKdAndViscousFrictionAreOneTorqueWithoutAVelocityReference) {
  testing::TempDir dir;
  const fs::path scene = WritePendulumScene(dir / "scene", /*velocity_reference=*/false);
  sim::ActuatorParams truth = PendulumTruth();
  truth.effort_limit = 5;  // never reached
  const Problem problem = SyntheticProblem(scene, {truth}, 8.0, 0.5, 1);
  ActuatorFitOptions options;
  options.common.threads = 2;
  options.parameters = {"kp", "kd", "viscous_friction", "coulomb_friction", "armature", "latency_s"};
  options.fit_position_offset = false;
  options.progress = TestProgress();
  const FitResult r = FitActuators(problem.input, options);
  const FitParameter& kd = Find(r, "robot.pendulum.kd");
  EXPECT_FALSE(kd.identified) << kd.estimate;
  const FitParameter& viscous = Find(r, "robot.pendulum.viscous_friction");
  const double sum = truth.kd + truth.viscous_friction - kd.estimate;  // what viscous friction must carry
  EXPECT_LT(RelativeError(viscous.estimate, sum), 0.02) << viscous.estimate;
  EXPECT_LT(RelativeError(Find(r, "robot.pendulum.kp").estimate, truth.kp), 0.02);
  EXPECT_LT(RelativeError(Find(r, "robot.pendulum.armature").estimate, truth.armature), 0.02);
}

// --- a two-joint geared arm: armature several times the links' own inertia, joints coupled through the links ---

fs::path WriteArmScene(const fs::path& dir, const std::string& transmission = "") {
  fs::create_directories(dir);
  // SYNTHETIC two-link arm swinging in the vertical plane (both axes along y).
  testing::WriteTextFile(dir / "arm.urdf", R"(<?xml version="1.0"?>
<robot name="synthetic_geared_arm">
  <link name="base">
    <inertial><mass value="1.0"/><inertia ixx="1e-3" ixy="0" ixz="0" iyy="1e-3" iyz="0" izz="1e-3"/></inertial>
  </link>
  <link name="upper">
    <inertial><origin xyz="0 0 -0.1"/><mass value="0.6"/>
      <inertia ixx="2e-3" ixy="0" ixz="0" iyy="2e-3" iyz="0" izz="1e-4"/></inertial>
  </link>
  <link name="fore">
    <inertial><origin xyz="0 0 -0.08"/><mass value="0.4"/>
      <inertia ixx="1e-3" ixy="0" ixz="0" iyy="1e-3" iyz="0" izz="5e-5"/></inertial>
  </link>
  <joint name="shoulder" type="continuous">
    <parent link="base"/><child link="upper"/><origin xyz="0 0 0"/><axis xyz="0 1 0"/>
  </joint>
  <joint name="elbow" type="continuous">
    <parent link="upper"/><child link="fore"/><origin xyz="0 0 -0.2"/><axis xyz="0 1 0"/>
  </joint>
</robot>
)");
  testing::WriteTextFile(dir / "scene.yaml", R"(name: synthetic_geared_arm_ground_truth
simulation: {time_step_s: 0.001, solver_iterations: 10, gravity_mps2: [0, 0, -9.80665]}
robot:
  urdf: arm.urdf
  base_pose: {position_m: [0, 0, 1.0]}
  control_mode: position
  actuators:
    shoulder: {kp: 12.0, kd: 0.2, effort_limit: 6.0, velocity_limit: 30.0, latency_s: 0.005,
               coulomb_friction: 0.05, viscous_friction: 0.1, armature: 0.01}
    elbow: {kp: 8.0, kd: 0.15, effort_limit: 4.0, velocity_limit: 30.0, latency_s: 0.005,
            coulomb_friction: 0.05, viscous_friction: 0.1, armature: 0.01}
  bindings:
    - {feature: "action[0:2]", signal: position_target, joints: [shoulder, elbow]}
    - {feature: "observation.state[0:2]", signal: position, joints: [shoulder, elbow]}
    - {feature: "action_velocity[0:2]", signal: velocity_target, joints: [shoulder, elbow]}
)" + transmission);
  return dir;
}

// The geared arm's actuators: armature several times the links' inertia; the limits are the scene's (not fitted).
std::vector<sim::ActuatorParams> GearedArmTruth() {
  std::vector<sim::ActuatorParams> truth(2);
  truth[0].kp = 20;
  truth[0].kd = 0.5;
  truth[0].effort_limit = 6;
  truth[0].velocity_limit = 30;
  truth[0].latency_s = 0.012;
  truth[0].coulomb_friction = 0.12;
  truth[0].viscous_friction = 0.3;
  truth[0].armature = 0.03;
  truth[1] = truth[0];
  truth[1].kp = 12;
  truth[1].kd = 0.3;
  truth[1].effort_limit = 4;
  truth[1].latency_s = 0.007;
  truth[1].coulomb_friction = 0.08;
  truth[1].viscous_friction = 0.2;
  truth[1].armature = 0.02;
  return truth;
}

// Fits the arm's synthetic episode of `seed` for `parameters`, printing each estimate's error and std.
FitResult FitArm(const Problem& problem, std::uint64_t seed, const std::vector<std::string>& parameters) {
  ActuatorFitOptions options;
  options.common.threads = 2;
  options.common.seed = seed;
  options.parameters = parameters;
  options.fit_position_offset = false;
  options.progress = TestProgress();
  const FitResult r = FitActuators(problem.input, options);
  std::printf("seed %llu: %d passes, %d iterations, %s\n", static_cast<unsigned long long>(seed), r.passes,
              r.iterations, r.termination.c_str());
  return r;
}

// kp, kd, the friction pair and armature of both joints within their tolerance of the truth and identified:
// gains_tolerance for kp and armature, damping_tolerance for kd and the frictions (relative). Adds their 95 %
// intervals to `coverage`.
void ExpectArmRecovered(const FitResult& r, const std::vector<sim::ActuatorParams>& truth, double gains_tolerance,
                        double damping_tolerance, Coverage& coverage) {
  for (int d = 0; d < 2; ++d) {
    const std::string joint = d == 0 ? "robot.shoulder." : "robot.elbow.";
    const sim::ActuatorParams& t = truth[static_cast<std::size_t>(d)];
    for (const auto& [kind, value] : std::vector<std::pair<const char*, double>>{
             {"kp", t.kp}, {"kd", t.kd}, {"coulomb_friction", t.coulomb_friction},
             {"viscous_friction", t.viscous_friction}, {"armature", t.armature}}) {
      const FitParameter& p = Find(r, joint + kind);
      CountInterval(p, value, coverage);
      const bool gain = std::string_view(kind) == "kp" || std::string_view(kind) == "armature";
      EXPECT_LT(RelativeError(p.estimate, value), gain ? gains_tolerance : damping_tolerance)
          << p.name << " " << p.estimate;
      EXPECT_TRUE(p.identified) << p.name << ": " << p.why_not_identified;
    }
  }
}

// The covariance of the two joints' parameters is one analysis (the joint refinement's): some pair across the
// joints is correlated. Joint-by-joint analyses would leave the cross-joint block zero.
void ExpectCrossJointCovariance(const FitResult& r) {
  double strongest = 0;
  for (std::size_t a = 0; a < r.covariance_names.size(); ++a) {
    for (std::size_t b = 0; b < r.covariance_names.size(); ++b) {
      const bool across = r.covariance_names[a].starts_with("robot.shoulder.") &&
                          r.covariance_names[b].starts_with("robot.elbow.");
      const auto ia = static_cast<Eigen::Index>(a), ib = static_cast<Eigen::Index>(b);
      if (across) {
        strongest = std::max(strongest, std::abs(r.covariance(ia, ib)) /
                                            std::sqrt(r.covariance(ia, ia) * r.covariance(ib, ib)));
      }
    }
  }
  EXPECT_GT(strongest, 0.05) << "no correlation between the shoulder's and the elbow's parameters";
}

// About 3 minutes a seed on 2 cores: CI runs the first seed, R2S_TEST_SEEDS=5 every one. The truth's latencies lie
// on whole physics steps, where the cost has kinks (SimFitOptions::try_kinks); before the fit tried them, kd and
// viscous friction ended 2.2-2.45 % off on seeds 3 and 4 (and 1.6-1.9 % off on noise-free data). The 95 %
// intervals must contain the truth at least 80 % of the time over the seeds run (measured, 5 seeds: see
// docs/sysid.md, "Coupled joints' uncertainty").
TEST(SysidGroundTruth, TwoJointGearedArmFromEverySeed) {
  testing::TempDir dir;
  const fs::path scene = WriteArmScene(dir / "arm");
  const std::vector<sim::ActuatorParams> truth = GearedArmTruth();
  Coverage coverage;
  for (std::uint64_t seed : Seeds(/*fallback=*/1)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Problem problem = SyntheticProblem(scene, truth, 6.0, 0.6, seed);
    const FitResult r =
        FitArm(problem, seed, {"kp", "kd", "latency_s", "coulomb_friction", "viscous_friction", "armature"});
    ExpectArmRecovered(r, truth, 0.02, 0.02, coverage);
    ExpectCrossJointCovariance(r);
    for (int d = 0; d < 2; ++d) {
      const FitParameter& latency = Find(r, d == 0 ? "robot.shoulder.latency_s" : "robot.elbow.latency_s");
      EXPECT_LT(std::abs(latency.estimate - truth[static_cast<std::size_t>(d)].latency_s), 0.25 * problem.frame_s)
          << latency.estimate;
    }
    EXPECT_TRUE(r.passes_converged) << r.passes << " passes";
    EXPECT_GE(r.passes, 2);
    ExpectNoWarningOfABadFit(r);
  }
  std::printf("95 %% intervals containing the truth: %d of %d\n", coverage.covered, coverage.intervals);
  EXPECT_GE(coverage.covered, 0.8 * coverage.intervals);
}

// The same arm with the elbow's motor turning with the shoulder (u_elbow = q_elbow + 0.5 q_shoulder, a coupled
// wrist's transmission, docs/scenes.md): the truth simulated through the transmission, the fit told of it. Each
// motor's gains, friction and armature act on its own coordinate, so they are recovered as the motor's. One seed
// (R2S_TEST_SEEDS for more), latency and limits held at the truth: the coupling, not the latency, is under test.
TEST(SysidGroundTruth, CoupledArmIsIdentifiedWithItsTransmission) {
  testing::TempDir dir;
  const fs::path scene = WriteArmScene(dir / "coupled", R"(  transmission:
    - joints: [shoulder, elbow]
      coupling: [[1, 0], [0.5, 1]]
)");
  ASSERT_TRUE(sim::LoadScene(scene)->robot->coupled());
  std::vector<sim::ActuatorParams> truth = GearedArmTruth();
  for (auto& t : truth) t.latency_s = 0.005;  // the scene's
  for (std::uint64_t seed : Seeds(/*fallback=*/1)) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const Problem problem = SyntheticProblem(scene, truth, 6.0, 0.6, seed);
    const FitResult r = FitArm(problem, seed, {"kp", "kd", "coulomb_friction", "viscous_friction", "armature"});
    Coverage coverage;
    ExpectArmRecovered(r, truth, 0.02, 0.02, coverage);
    ExpectNoWarningOfABadFit(r);
  }
}

}  // namespace
}  // namespace r2s::sysid
