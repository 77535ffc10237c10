// Replaying real episodes in the bundled scenes: the real Panda log (arm tracking its measured positions) and
// the real ContactNets cube tosses (free flight and impacts), plus thread-count determinism.
#include "sim/replay.h"

#include <cmath>
#include <fstream>

#include <gtest/gtest.h>

#include "episode/dataset_reader.h"
#include "episode/input_error.h"
#include "sim/scene_compiler.h"
#include "sim/world.h"
#include "test_support.h"

namespace r2s::sim {
namespace {

namespace fs = std::filesystem;
using r2s::testing::BundledPandaEpisode;
using r2s::testing::SourceDir;
using r2s::testing::TempDir;

fs::path CubeTosses() { return SourceDir() / "scenes/tabletop/episodes/cube_tosses.hdf5"; }

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST(Replay, RealPandaLogTracksItsMeasuredPositions) {
  const auto model = LoadScene(SourceDir() / "scenes/panda_sysid");
  const auto reader = episode::DatasetReader::Open(BundledPandaEpisode());
  const ReplayPlan plan = ReplayPlan::Make(model, reader.info(), BundledPandaEpisode().string());
  EXPECT_EQ(plan.drive(), "measured positions as targets, measured effort as feedforward");
  EXPECT_TRUE(plan.inactive().empty());
  const episode::Episode source = reader.ReadEpisode(0);
  World world(model);
  const EpisodeReplay replay = ReplayEpisode(plan, source, BundledPandaEpisode().string(), world);

  EXPECT_EQ(replay.frames, 20544);
  // 21.0 s of log at 1 ms steps.
  EXPECT_NEAR(static_cast<double>(replay.steps), 20999, 2);
  ASSERT_EQ(replay.joints.size(), 7u);
  for (const auto& joint : replay.joints) {
    // The measured torque as feedforward plus a PD loop (Franka's stiffness), on the placeholder-inertia model:
    // errors of a degree or two, not more.
    EXPECT_LT(joint.rms, 0.05) << joint.joint;
    EXPECT_LT(joint.max_abs, 0.12) << joint.joint;
    EXPECT_GT(joint.rms, 1e-5) << joint.joint << ": a replay that copies its input cannot fail";
  }
  // Same features, dtypes and shapes; the measured columns hold the simulated values, the rest is untouched.
  ASSERT_EQ(replay.episode.columns.size(), source.columns.size());
  for (const auto& [name, column] : source.columns) {
    const auto& out = replay.episode.At(name).data;
    EXPECT_EQ(out.dtype, column.data.dtype) << name;
    EXPECT_EQ(out.shape, column.data.shape) << name;
  }
  EXPECT_EQ(replay.episode.At("timestamp").data.bytes, source.At("timestamp").data.bytes);
  EXPECT_NE(replay.episode.At("observation.state").data.bytes, source.At("observation.state").data.bytes);
  const auto q_sim = replay.episode.At("observation.state").data.values<double>();
  const auto q_real = source.At("observation.state").data.values<double>();
  EXPECT_DOUBLE_EQ(q_sim[0], q_real[0]);  // the replay starts where the log starts
  const std::size_t last = q_real.size() - 7;
  for (int j = 0; j < 7; ++j) EXPECT_NEAR(q_sim[last + j], q_real[last + j], 0.12) << "joint " << j + 1;
  ASSERT_TRUE(replay.episode.provenance.has_value());
  EXPECT_EQ(replay.episode.provenance->source_episode, 0);
}

TEST(Replay, RealCubeTossesFollowTheirFreeFlight) {
  const auto model = LoadScene(SourceDir() / "scenes/tabletop");
  const auto reader = episode::DatasetReader::Open(CubeTosses());
  const ReplayPlan plan = ReplayPlan::Make(model, reader.info(), CubeTosses().string());
  EXPECT_EQ(plan.drive(), "none");
  EXPECT_EQ(plan.pose_bindings().size(), 1u);
  EXPECT_EQ(plan.inactive().size(), 4u);  // the arm's bindings: the tosses record no joints
  World world(model);
  double worst_early_error_m = 0;
  for (int toss = 0; toss < 10; ++toss) {
    const episode::Episode source = reader.ReadEpisode(toss);
    const EpisodeReplay replay = ReplayEpisode(plan, source, CubeTosses().string(), world);
    ASSERT_EQ(replay.objects.size(), 1u);
    EXPECT_LT(replay.objects[0].position_rms_m, 0.15) << "toss " << toss;
    // Before the cube reaches the board it flies ballistically: the first 4 frames (27 ms) agree closely.
    const auto real = source.At("observation.object_pose").data.values<double>();
    const auto sim = replay.episode.At("observation.object_pose").data.values<double>();
    for (int frame = 0; frame < 4; ++frame) {
      Eigen::Vector3d d(sim[frame * 7] - real[frame * 7], sim[frame * 7 + 1] - real[frame * 7 + 1],
                        sim[frame * 7 + 2] - real[frame * 7 + 2]);
      worst_early_error_m = std::max(worst_early_error_m, d.norm());
    }
  }
  EXPECT_LT(worst_early_error_m, 0.004);
}

// The replayed velocities are the simulator's: the body-frame angular velocity and the world-frame linear velocity
// of the simulated cube, consistent with its simulated poses (central differences, in free flight), not the
// source's filtered values copied through.
TEST(Replay, CubeTossVelocitiesAreTheSimulatedOnes) {
  const auto model = LoadScene(SourceDir() / "scenes/cube_toss");
  const auto reader = episode::DatasetReader::Open(CubeTosses());
  const ReplayPlan plan = ReplayPlan::Make(model, reader.info(), CubeTosses().string());
  ASSERT_EQ(plan.linear_velocity_bindings().size(), 1u);
  ASSERT_EQ(plan.angular_velocity_bindings().size(), 1u);
  World world(model);
  const episode::Episode source = reader.ReadEpisode(3);
  const EpisodeReplay replay = ReplayEpisode(plan, source, CubeTosses().string(), world);
  const auto pose = replay.episode.At("observation.object_pose").data.values<double>();
  const auto linear = replay.episode.At("observation.object_linear_velocity").data.values<double>();
  const auto angular = replay.episode.At("observation.object_angular_velocity_body").data.values<double>();
  const auto source_linear = source.At("observation.object_linear_velocity").data.values<double>();
  // Frames land on whole 1 ms steps: differences use the simulated times, not the 148 Hz period.
  const FrameClock clock = MakeFrameClock(plan, source, CubeTosses().string());
  auto span_s = [&](int i) { return static_cast<double>(clock.step[i + 1] - clock.step[i - 1]) * model->sim.time_step_s; };
  auto position = [&](int i) { return Eigen::Vector3d(pose[7 * i], pose[7 * i + 1], pose[7 * i + 2]); };
  auto rotation = [&](int i) {
    return Eigen::Quaterniond(pose[7 * i + 6], pose[7 * i + 3], pose[7 * i + 4], pose[7 * i + 5]).toRotationMatrix();
  };
  double changed = 0;
  for (int i = 1; i <= 2; ++i) {  // free flight: the toss starts well above the board
    const Eigen::Vector3d v(linear[3 * i], linear[3 * i + 1], linear[3 * i + 2]);
    const Eigen::Vector3d difference = (position(i + 1) - position(i - 1)) / span_s(i);
    EXPECT_LT((v - difference).norm(), 0.02) << "frame " << i;  // gravity's curvature over two frames: ~1 mm/s
    const Eigen::AngleAxisd turn(rotation(i - 1).transpose() * rotation(i + 1));
    const Eigen::Vector3d w_body(angular[3 * i], angular[3 * i + 1], angular[3 * i + 2]);
    EXPECT_LT((w_body - turn.axis() * turn.angle() / span_s(i)).norm(), 0.02 * w_body.norm() + 0.02) << i;
  }
  for (std::size_t k = 0; k < linear.size(); ++k) changed = std::max(changed, std::abs(linear[k] - source_linear[k]));
  EXPECT_GT(changed, 1e-3) << "the source's velocities were copied through";
}

TEST(Replay, OutputDoesNotDependOnTheThreadCount) {
  const auto model = LoadScene(SourceDir() / "scenes/tabletop");
  TempDir one, eight;
  const DatasetReplay a = ReplayDataset(model, CubeTosses(), one.path(), ReplayOptions{.threads = 1});
  const DatasetReplay b = ReplayDataset(model, CubeTosses(), eight.path(), ReplayOptions{.threads = 8});
  ASSERT_EQ(a.episodes.size(), 100u);
  const std::string bytes_a = ReadBytes(a.output);
  ASSERT_GT(bytes_a.size(), 100000u);
  EXPECT_TRUE(bytes_a == ReadBytes(b.output)) << "1 and 8 threads wrote different files";
  for (std::size_t i = 0; i < a.episodes.size(); ++i) {
    EXPECT_EQ(a.episodes[i].objects[0].position_rms_m, b.episodes[i].objects[0].position_rms_m);
  }
}

TEST(Replay, AFeatureTooShortForItsBindingNamesTheSceneLine) {
  TempDir dir;
  fs::copy(SourceDir() / "scenes/panda_sysid", dir.path(), fs::copy_options::recursive);
  std::string text = ReadBytes(dir / "scene.yaml");
  const std::string from = "observation.velocity[0:7]";
  text.replace(text.find(from), from.size(), "observation.velocity[2:9]");
  std::ofstream(dir / "scene.yaml") << text;
  const auto model = LoadScene(dir.path());
  const auto reader = episode::DatasetReader::Open(BundledPandaEpisode());
  try {
    ReplayPlan::Make(model, reader.info(), BundledPandaEpisode().string());
    FAIL() << "no error";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("scene.yaml"), std::string::npos) << message;
    EXPECT_NE(message.find("robot.bindings[1]"), std::string::npos) << message;
    EXPECT_NE(message.find("index 8 is out of range"), std::string::npos) << message;
    EXPECT_NE(message.find("has 7 values per frame"), std::string::npos) << message;
  }
}

// The first `frames` frames of an episode.
episode::Episode Head(episode::Episode e, std::int64_t frames) {
  e.metadata.length = frames;
  for (auto& [name, column] : e.columns) {
    episode::Array& a = column.data;
    const std::size_t row = a.bytes.size() / static_cast<std::size_t>(a.shape[0]);
    a.shape[0] = frames;
    a.bytes.resize(row * static_cast<std::size_t>(frames));
  }
  return e;
}

// The real Panda log rewritten as a motor-side logger would have it (motor degrees through a 50:1 gear, two joints
// mirrored, encoder zeros off by an offset; motor torques in units of 0.01 N m, mirrored alike), against a copy of
// panda_sysid whose bindings say so. It must replay to the same SI trajectory as the SI log, and the replayed
// episode must come back in the source's units.
TEST(Replay, ADatasetInMotorDegreesReplaysLikeItsSiTwin) {
  constexpr double kGear = 50, kEffortScale = 0.01;
  const double sign[7] = {1, -1, 1, 1, -1, 1, 1};
  const double offset[7] = {0.1, 0, -0.2, 0, 0, 0, 0.05};
  TempDir dir;
  fs::copy(SourceDir() / "scenes/panda_sysid", dir.path(), fs::copy_options::recursive);
  std::string text = ReadBytes(dir / "scene.yaml");
  const std::string conversion =
      "      units: deg\n      gear_ratio: 50\n      sign: [1, -1, 1, 1, -1, 1, 1]\n";
  for (const char* feature : {"observation.state[0:7]", "observation.velocity[0:7]"}) {
    const auto at = text.find("\n", text.find("joints:", text.find(feature))) + 1;
    text.insert(at, conversion);
  }
  const auto state = text.find("\n", text.find("joints:", text.find("observation.state[0:7]"))) + 1;
  text.insert(state, "      offset: [0.1, 0, -0.2, 0, 0, 0, 0.05]\n");
  const auto effort = text.find("\n", text.find("joints:", text.find("observation.effort[0:7]"))) + 1;
  text.insert(effort, "      scale: 0.01\n      gear_ratio: 50\n      sign: [1, -1, 1, 1, -1, 1, 1]\n");
  std::ofstream(dir / "scene.yaml") << text;

  const auto si_model = LoadScene(SourceDir() / "scenes/panda_sysid");
  const auto raw_model = LoadScene(dir.path());
  const auto reader = episode::DatasetReader::Open(BundledPandaEpisode());
  const ReplayPlan si_plan = ReplayPlan::Make(si_model, reader.info(), BundledPandaEpisode().string());
  const ReplayPlan raw_plan = ReplayPlan::Make(raw_model, reader.info(), "motor-side copy");
  const episode::Episode si_source = Head(reader.ReadEpisode(0), 1500);
  episode::Episode raw_source = si_source;  // synthetic: the real log converted to motor-side units
  const double deg = M_PI / 180;
  const std::int64_t frames = si_source.metadata.length;
  for (const char* feature : {"observation.state", "observation.velocity", "observation.effort"}) {
    auto values = raw_source.columns.at(feature).data.mutable_values<double>();
    for (std::int64_t i = 0; i < frames; ++i) {
      for (int j = 0; j < 7; ++j) {
        double& v = values[static_cast<std::size_t>(i * 7 + j)];
        if (std::string(feature) == "observation.state") v = (v - offset[j]) * kGear / (sign[j] * deg);
        if (std::string(feature) == "observation.velocity") v = v * kGear / (sign[j] * deg);
        if (std::string(feature) == "observation.effort") v = v / (sign[j] * kEffortScale * kGear);
      }
    }
  }

  World si_world(si_model), raw_world(raw_model);
  const EpisodeReplay si = ReplayEpisode(si_plan, si_source, "si", si_world);
  const EpisodeReplay raw = ReplayEpisode(raw_plan, raw_source, "motor-side", raw_world);
  ASSERT_EQ(si.joints.size(), 7u);
  ASSERT_EQ(raw.joints.size(), 7u);
  for (int j = 0; j < 7; ++j) {
    EXPECT_NEAR(raw.joints[j].rms, si.joints[j].rms, 1e-9) << si.joints[j].joint;  // tracking errors are SI
    EXPECT_GT(si.joints[j].rms, 1e-6) << si.joints[j].joint;
  }
  for (std::size_t b = 0; b < raw_plan.joint_bindings().size(); ++b) {
    const JointBinding& binding = raw_plan.joint_bindings()[b];
    const auto out = raw.episode.At(binding.feature).data.values<double>();
    const auto si_out = si.episode.At(binding.feature).data.values<double>();
    const auto in = raw_source.At(binding.feature).data.values<double>();
    for (std::int64_t i = 0; i < frames; ++i) {
      for (std::size_t k = 0; k < 7; ++k) {
        const std::size_t at = static_cast<std::size_t>(i) * 7 + k;
        // The same simulated trajectory, written in motor-side units.
        ASSERT_NEAR(binding.SiFromRaw(k, out[at]), si_out[at], 1e-9 * (1 + std::abs(si_out[at])))
            << binding.feature << " frame " << i << " joint " << k;
        // raw -> SI -> raw is exact to float precision.
        ASSERT_NEAR(binding.RawFromSi(k, binding.SiFromRaw(k, in[at])), in[at], 1e-12 * (1 + std::abs(in[at])))
            << binding.feature << " frame " << i << " joint " << k;
      }
    }
  }
  // The replay starts where the log starts, in the log's own units (motor degrees, not radians).
  const auto q_out = raw.episode.At("observation.state").data.values<double>();
  const auto q_in = raw_source.At("observation.state").data.values<double>();
  for (std::size_t k = 0; k < 7; ++k) EXPECT_NEAR(q_out[k], q_in[k], 1e-9 * std::abs(q_in[k])) << k;
  EXPECT_GT(std::abs(q_in[3]), 1000.0);  // panda_joint4 at about -2 rad is some -5000 motor degrees
}

TEST(Replay, ADatasetThatFeedsNoBindingIsRefused) {
  const auto model = LoadScene(SourceDir() / "scenes/panda_sysid");
  const auto reader = episode::DatasetReader::Open(CubeTosses());
  EXPECT_THROW(ReplayPlan::Make(model, reader.info(), CubeTosses().string()), InputError);
}

}  // namespace
}  // namespace r2s::sim
