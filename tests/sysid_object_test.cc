#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <memory>
#include <random>
#include <stdexcept>

#include <gtest/gtest.h>

#include "episode/dataset_reader.h"
#include "episode/input_error.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "sysid/object_fit.h"
#include "test_support.h"

namespace r2s::sysid {
namespace {

namespace fs = std::filesystem;

ProblemInput LoadInput(const fs::path& scene, const fs::path& dataset, int first, int count) {
  return testing::LoadProblemInput(scene, dataset, first, count);
}

constexpr int kGroundTruthTosses = 32;
constexpr int kRealTosses = 24;
constexpr int kRealFitTosses = 12;

struct Truth {
  double lateral_friction = 0.22;
  double restitution = 0.25;
  double rolling_friction = 1e-4;  // the scene's: a box's rolling friction is held at nominal
};

// Synthetic tosses (synthetic data, said so): each starts from a real toss's first frames (its first pose and the
// velocity of a second-order difference, as `r2s replay` starts it) in a scene whose cube has the true values, runs
// in 1 ms steps and is sampled at the toss's own 148 Hz frame times by interpolating between steps (a tracker samples
// at its own clock, not at the simulator's steps); then tracking noise and quantization corrupt the poses.
ProblemInput SyntheticInput(const ProblemInput& real, const Truth& truth, double noise_m, double noise_rad,
                            double quantum_m, std::uint64_t seed) {
  auto model = std::make_shared<sim::Model>(*real.model);
  sim::Material& acrylic = model->materials.at(model->objects[0].material);
  acrylic.lateral_friction = truth.lateral_friction;
  acrylic.restitution = truth.restitution;
  acrylic.rolling_friction = truth.rolling_friction;
  std::shared_ptr<const sim::Model> shared = model;
  sim::World world(shared);
  const double dt = shared->sim.time_step_s;
  const double frame_s = 1.0 / 148;
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> normal(0, 1);
  ProblemInput out = real;
  out.dataset_file = "synthetic tosses (from " + real.dataset_file + ")";
  for (episode::Episode& e : out.episodes) {
    auto v = e.columns.at("observation.object_pose").data.mutable_values<double>();
    auto pose_at = [&](std::int64_t i) {
      const double* row = v.data() + 7 * i;
      Eigen::Isometry3d pose = Eigen::Isometry3d::Identity();
      pose.translation() = Eigen::Vector3d(row[0], row[1], row[2]);
      pose.linear() = Eigen::Quaterniond(row[6], row[3], row[4], row[5]).normalized().toRotationMatrix();
      return pose;
    };
    const Eigen::Isometry3d p0 = pose_at(0), p1 = pose_at(1), p2 = pose_at(2);
    world.Reset();
    world.SetObjectPose(0, p0);
    const Eigen::Vector3d linear = (-3 * p0.translation() + 4 * p1.translation() - p2.translation()) / (2 * frame_s);
    const Eigen::AngleAxisd r1(p0.linear().transpose() * p1.linear()), r2(p0.linear().transpose() * p2.linear());
    const Eigen::Vector3d body = (4 * r1.angle() * r1.axis() - r2.angle() * r2.axis()) / (2 * frame_s);
    world.SetObjectVelocity(0, linear, p0.linear() * body);
    std::vector<Eigen::Isometry3d> steps = {world.ObjectPose(0)};
    const std::int64_t frames = e.metadata.length;
    while (static_cast<double>(steps.size() - 1) * dt < static_cast<double>(frames - 1) * frame_s + dt) {
      world.Step();
      steps.push_back(world.ObjectPose(0));
    }
    for (std::int64_t i = 0; i < frames; ++i) {
      const double s = static_cast<double>(i) * frame_s / dt;
      const auto k = static_cast<std::size_t>(std::floor(s));
      const double f = s - static_cast<double>(k);
      const Eigen::Vector3d p = (1 - f) * steps[k].translation() + f * steps[k + 1].translation();
      Eigen::Quaterniond q = Eigen::Quaterniond(steps[k].linear()).slerp(f, Eigen::Quaterniond(steps[k + 1].linear()));
      const Eigen::Vector3d dr(noise_rad * normal(rng), noise_rad * normal(rng), noise_rad * normal(rng));
      if (dr.norm() > 0) q = Eigen::Quaterniond(Eigen::AngleAxisd(dr.norm(), dr.normalized())) * q;
      double* row = v.data() + 7 * i;
      for (int c = 0; c < 3; ++c) row[c] = std::round((p[c] + noise_m * normal(rng)) / quantum_m) * quantum_m;
      const double c[4] = {q.x(), q.y(), q.z(), q.w()};
      for (int j = 0; j < 4; ++j) row[3 + j] = std::round(c[j] * 1e4) * 1e-4;
    }
  }
  return out;
}

void Print(const FitResult& r) {
  for (const auto& p : r.parameters) {
    std::printf("%-40s %12.6g +- %-10.3g [%g, %g] %s %s\n", p.name.c_str(), p.estimate, p.std_dev, p.lower, p.upper,
                p.identified ? "" : "NOT", p.why_not_identified.c_str());
  }
  for (const auto& c : r.train) std::printf("train %-20s %8.4f (nominal %8.4f) R2 %.3f\n", c.channel.c_str(), c.rms, c.baseline_rms, c.r2);
  for (const auto& c : r.held_out) std::printf("held  %-20s %8.4f (nominal %8.4f) R2 %.3f\n", c.channel.c_str(), c.rms, c.baseline_rms, c.r2);
  for (const auto& w : r.warnings) std::printf("warning: %s\n", w.c_str());
  for (std::size_t i = 0; i + 2 < r.predictions.size(); i += 3) {
    double fit = 0, nom = 0;
    const std::size_t n = r.predictions[i].measured.size();
    for (int a = 0; a < 3; ++a) {
      const auto& s = r.predictions[i + a];
      for (std::size_t j = 0; j < n; ++j) {
        fit += (s.predicted[j] - s.measured[j]) * (s.predicted[j] - s.measured[j]);
        nom += (s.baseline[j] - s.measured[j]) * (s.baseline[j] - s.measured[j]);
      }
    }
    std::printf("episode %3lld held-out position rms: fitted %.4f nominal %.4f\n", static_cast<long long>(r.predictions[i].episode),
                std::sqrt(fit / n), std::sqrt(nom / n));
  }
  std::printf("%s; %d iterations; %.1f s\n", r.termination.c_str(), r.iterations, r.wall_s);
}

const FitParameter& Parameter(const FitResult& result, const std::string& name) {
  for (const FitParameter& p : result.parameters) {
    if (p.name == name) return p;
  }
  throw std::out_of_range("no parameter " + name);
}

const ChannelFit& Channel(const std::vector<ChannelFit>& fits, const std::string& channel) {
  for (const ChannelFit& c : fits) {
    if (c.channel == channel) return c;
  }
  throw std::out_of_range("no channel " + channel);
}

fs::path Tosses() { return testing::SourceDir() / "scenes/tabletop/episodes/cube_tosses.hdf5"; }

// Ground truth: synthetic tosses with known friction, restitution and rolling friction, started from 32 real tosses
// and corrupted as a tracker would; the fit must recover friction and restitution within 2 % and must not claim to
// know the cube's mass.
TEST(ObjectFit, RecoversFrictionAndRestitutionFromSyntheticTosses) {
  const ProblemInput real = LoadInput(testing::SourceDir() / "scenes/cube_toss", Tosses(), 0, kGroundTruthTosses);
  const Truth truth;
  const ProblemInput input = SyntheticInput(real, truth, 5e-5, 4e-4, 1e-4, 7);
  ObjectFitOptions options;
  options.common.threads = 2;
  const FitResult result = FitObjects(input, options);
  Print(result);

  const FitParameter& mu = Parameter(result, "objects.cube.lateral_friction");
  const FitParameter& e = Parameter(result, "objects.cube.restitution");
  const FitParameter& rf = Parameter(result, "objects.cube.rolling_friction");
  ASSERT_TRUE(mu.identified) << mu.why_not_identified;
  ASSERT_TRUE(e.identified) << e.why_not_identified;
  EXPECT_NEAR(mu.estimate, truth.lateral_friction, 0.02 * truth.lateral_friction);
  EXPECT_NEAR(e.estimate, truth.restitution, 0.02 * truth.restitution);
  // The nominal values (0.18, 0.125) are far outside: the fit moved.
  EXPECT_GT(std::abs(mu.nominal - truth.lateral_friction), 0.1 * truth.lateral_friction);
  // Rolling friction barely shapes a tumbling cube's path: its estimate may wander, but not beyond its own
  // (episode-clustered) uncertainty.
  if (rf.identified) {
    EXPECT_LT(std::abs(rf.estimate - truth.rolling_friction), 3 * rf.std_dev + 0.1 * truth.rolling_friction)
        << rf.estimate << " +- " << rf.std_dev;
  }
  // Standard deviations are honest: the truth lies within 3 of them.
  EXPECT_LT(std::abs(mu.estimate - truth.lateral_friction), 3 * mu.std_dev + 1e-9) << mu.std_dev;
  EXPECT_LT(std::abs(e.estimate - truth.restitution), 3 * e.std_dev + 1e-9) << e.std_dev;

  const FitParameter& mass = Parameter(result, "objects.cube.mass_kg");
  EXPECT_FALSE(mass.identified);
  EXPECT_NE(mass.why_not_identified.find("does not depend on its mass"), std::string::npos) << mass.why_not_identified;
  EXPECT_DOUBLE_EQ(mass.estimate, mass.nominal);
  EXPECT_GT(mass.std_dev, 0.1 * mass.nominal);  // wide, for randomization later
  EXPECT_EQ(std::count(result.covariance_names.begin(), result.covariance_names.end(), "objects.cube.mass_kg"), 0);

  // Fitted values predict the held-out 30 % far better than the nominal ones.
  const ChannelFit& position = Channel(result.held_out, "cube position");
  EXPECT_LT(position.rms, 0.5 * position.baseline_rms);
  EXPECT_EQ(result.problem, Problem::kObjects);
  EXPECT_EQ(result.predictions.size(), 3u * kGroundTruthTosses);  // x, y, z per toss
}

// Real tosses, from a poor prior: a user who guesses the acrylic cube's friction and restitution (0.5, 0.5) gets,
// after fitting 12 real tosses, held-out predictions of 24 real tosses (12 of them never fitted) as good as
// ContactNets' published values (mu 0.18, e 0.125, which the tabletop and cube_toss scenes carry) and far better
// than the guess. Beating the published values by a margin is not asked: they were fitted to these same tosses,
// and a tumbling cube's path after its first bounces is chaotic (Acosta et al. 2022 found every simulator they
// tried far from these tosses), so held-out rollouts differ by centimetres whatever the parameters.
TEST(ObjectFit, RealTossesFromAPoorPriorReachThePublishedValues) {
  ProblemInput input = LoadInput(testing::SourceDir() / "scenes/tabletop", Tosses(), 0, kRealTosses);
  const std::shared_ptr<const sim::Model> published = input.model;
  auto guess = std::make_shared<sim::Model>(*published);
  sim::Material& acrylic = guess->materials.at(guess->objects[0].material);
  ASSERT_DOUBLE_EQ(acrylic.lateral_friction, 0.18);
  ASSERT_DOUBLE_EQ(acrylic.restitution, 0.125);
  acrylic.lateral_friction = 0.5;
  acrylic.restitution = 0.5;
  input.model = guess;
  ObjectFitOptions options;
  options.common.threads = 2;
  options.max_fit_episodes = kRealFitTosses;
  const FitResult result = FitObjects(input, options);
  Print(result);

  // The published values on the same held-out samples: a run that evaluates the scene's values and fits nothing.
  ProblemInput at_published = input;
  at_published.model = published;
  ObjectFitOptions evaluate = options;
  evaluate.global_samples = 0;
  evaluate.max_iterations = 0;
  evaluate.refine_width = 0;
  const FitResult reference = FitObjects(at_published, evaluate);

  const ChannelFit& position = Channel(result.held_out, "cube position");
  const ChannelFit& orientation = Channel(result.held_out, "cube orientation");
  const ChannelFit& published_position = Channel(reference.held_out, "cube position");
  const ChannelFit& published_orientation = Channel(reference.held_out, "cube orientation");
  std::printf("held-out position rms: fitted %.4f, guess %.4f, published %.4f m\n", position.rms,
              position.baseline_rms, published_position.baseline_rms);
  std::printf("held-out orientation rms: fitted %.2f, guess %.2f, published %.2f deg\n", orientation.rms,
              orientation.baseline_rms, published_orientation.baseline_rms);
  EXPECT_LT(position.rms, 0.7 * position.baseline_rms);
  EXPECT_LT(orientation.rms, 0.8 * orientation.baseline_rms);
  // Restitution has several basins of nearly equal training cost on these tosses (0.03, 0.12-0.2: the fit warns),
  // and the starts that probe them may end in one that predicts the held-out part a little worse than the
  // published values: within 20 %, not 10 %.
  EXPECT_LT(position.rms, 1.2 * published_position.baseline_rms);
  EXPECT_LT(orientation.rms, 1.1 * published_orientation.baseline_rms);
  // Friction lands near the published value; restitution's 95 % interval holds it.
  EXPECT_NEAR(Parameter(result, "objects.cube.lateral_friction").estimate, 0.18, 0.05);
  const FitParameter& restitution = Parameter(result, "objects.cube.restitution");
  EXPECT_LT(std::abs(restitution.estimate - 0.125), 1.96 * restitution.std_dev)
      << restitution.estimate << " +- " << restitution.std_dev;
  EXPECT_EQ(position.samples, result.held_out_samples);
  EXPECT_FALSE(Parameter(result, "objects.cube.mass_kg").identified);
  EXPECT_FALSE(Parameter(result, "objects.cube.spinning_friction").identified);
  // Only the cube is fitted: the tabletop's ball, can and bowl are not tracked by this dataset.
  for (const FitParameter& p : result.parameters) EXPECT_EQ(p.name.rfind("objects.cube.", 0), 0u) << p.name;
}

// The world a fit runs in holds what the dataset tracks: the tabletop scene (robot, ball, can, bowl, floor) and the
// bare cube_toss scene give the same fit, bit for bit.
TEST(ObjectFit, UntrackedBodiesDoNotEnterTheWorld) {
  ObjectFitOptions options;
  options.common.quick = true;
  const FitResult tabletop =
      FitObjects(LoadInput(testing::SourceDir() / "scenes/tabletop", Tosses(), 0, 3), options);
  const FitResult bare = FitObjects(LoadInput(testing::SourceDir() / "scenes/cube_toss", Tosses(), 0, 3), options);
  ASSERT_EQ(tabletop.parameters.size(), bare.parameters.size());
  for (std::size_t i = 0; i < bare.parameters.size(); ++i) {
    EXPECT_EQ(tabletop.parameters[i].estimate, bare.parameters[i].estimate) << bare.parameters[i].name;
  }
  EXPECT_EQ(Channel(tabletop.held_out, "cube position").rms, Channel(bare.held_out, "cube position").rms);
}

// Bad input: what the error names.
void ExpectInputError(const ProblemInput& input, const std::string& field, const std::string& problem) {
  try {
    FitObjects(input, ObjectFitOptions{});
    FAIL() << "no InputError";
  } catch (const InputError& error) {
    EXPECT_EQ(error.file(), input.dataset_file);
    EXPECT_NE(error.field().find(field), std::string::npos) << error.what();
    EXPECT_NE(error.problem().find(problem), std::string::npos) << error.what();
  }
}

TEST(ObjectFitBadInput, DatasetWithoutObjectPoses) {
  // The real Panda log feeds the tabletop robot's joints but no object pose.
  ProblemInput input = LoadInput(testing::SourceDir() / "scenes/tabletop", testing::BundledPandaEpisode(), 0, 1);
  ASSERT_TRUE(input.plan.pose_bindings().empty());
  ExpectInputError(input, "(features)", "observation.object_pose (cube)");
}

TEST(ObjectFitBadInput, TooFewFrames) {
  ProblemInput input = LoadInput(testing::SourceDir() / "scenes/cube_toss", Tosses(), 0, 2);
  episode::Episode& e = input.episodes[1];
  e.metadata.length = 8;
  for (auto& [name, column] : e.columns) {
    const std::int64_t row = static_cast<std::int64_t>(column.data.bytes.size()) / column.data.shape[0];
    column.data.shape[0] = 8;
    column.data.bytes.resize(static_cast<std::size_t>(8 * row));
  }
  ExpectInputError(input, "episode 1", "has 8 frames");
}

TEST(ObjectFitBadInput, NaNPose) {
  ProblemInput input = LoadInput(testing::SourceDir() / "scenes/cube_toss", Tosses(), 0, 1);
  input.episodes[0].columns.at("observation.object_pose").data.mutable_values<double>()[5 * 7 + 1] = std::nan("");
  ExpectInputError(input, "observation.object_pose (episode 0)", "frame 5: y = nan");
}

TEST(ObjectFitBadInput, ZeroQuaternion) {
  ProblemInput input = LoadInput(testing::SourceDir() / "scenes/cube_toss", Tosses(), 0, 1);
  auto pose = input.episodes[0].columns.at("observation.object_pose").data.mutable_values<double>();
  for (int k = 3; k < 7; ++k) pose[3 * 7 + k] = 0;
  ExpectInputError(input, "observation.object_pose (episode 0)", "frame 3: the quaternion (qx, qy, qz, qw) = (0, 0, 0, 0) is zero");
}

TEST(ObjectFitBadInput, NotAUnitQuaternion) {
  // A slice that holds something else (here the quaternion scaled by 3) is not silently normalized.
  ProblemInput input = LoadInput(testing::SourceDir() / "scenes/cube_toss", Tosses(), 0, 1);
  auto pose = input.episodes[0].columns.at("observation.object_pose").data.mutable_values<double>();
  for (int k = 3; k < 7; ++k) pose[k] *= 3;
  ExpectInputError(input, "observation.object_pose (episode 0)", "not a unit quaternion");
}

}  // namespace
}  // namespace r2s::sysid
