// `r2s inspect`, end to end through the built binary: the bundled Panda log (irregular 1 kHz sampling), an
// ALOHA episode with a planted latency, NaN and constant channel, a robomimic file, and command-line usage.
// Expected values are computed independently with h5py + numpy.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace r2s::testing {
namespace {

namespace fs = std::filesystem;
using Json = nlohmann::json;

Json ParseJson(const std::string& text) {
  Json j = Json::parse(text, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(j.is_discarded()) << "not JSON:\n" << text.substr(0, 2000);
  return j;
}

// The first line of `text` that starts with `prefix`, or "" when none does.
std::string LineStartingWith(const std::string& text, const std::string& prefix) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(prefix, 0) == 0) return line;
  }
  return "";
}

bool Contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

CommandResult Inspect(const fs::path& dataset, bool json) {
  std::vector<std::string> args = {"inspect", dataset.string()};
  if (json) args.push_back("--json");
  return RunR2s(args);
}

void MakeFixture(const fs::path& path, const std::string& script) {
  const auto r = RunPython(script, {path.string()});
  ASSERT_EQ(r.exit_code, 0) << "fixture script failed:\n" << r.err;
}

// ---------------------------------------------------------------------------------------------------------
// The bundled Panda log.

// numpy's view of the Panda log: timestamps and per-channel statistics of every feature.
constexpr const char* kPandaReference = R"PY(
import json, sys
import numpy as np
import h5py
with h5py.File(sys.argv[1], 'r') as f:
    t = f['timestamp'][:]
    columns = {
        'observation.state': f['observations/qpos'][:],
        'observation.velocity': f['observations/qvel'][:],
        'observation.effort': f['observations/effort'][:],
        'timestamp': t,
    }
    robot = f.attrs['robot_type']
    robot = robot.decode() if isinstance(robot, bytes) else str(robot)
d = np.diff(t)
median = float(np.median(d))
stats = {}
for name, x in columns.items():
    x = x.reshape(len(x), -1)
    stats[name] = {
        'count': int(x.shape[0]),
        'min': x.min(axis=0).tolist(), 'max': x.max(axis=0).tolist(),
        'mean': x.mean(axis=0).tolist(), 'std': x.std(axis=0).tolist(),
        'q01': np.quantile(x, 0.01, axis=0).tolist(), 'q10': np.quantile(x, 0.1, axis=0).tolist(),
        'q50': np.quantile(x, 0.5, axis=0).tolist(), 'q90': np.quantile(x, 0.9, axis=0).tolist(),
        'q99': np.quantile(x, 0.99, axis=0).tolist(),
    }
print(json.dumps({
    'frames': int(len(t)), 'robot': robot,
    'median_period_ms': median * 1e3, 'measured_fps': 1.0 / median,
    'worst_gap_ms': float(d.max()) * 1e3, 'worst_gap_frame': int(np.argmax(d)) + 1,
    'gaps': int(np.count_nonzero(d > 1.5 * median)), 'non_monotonic': int(np.count_nonzero(d <= 0)),
    'statistics': stats,
}))
)PY";

TEST(InspectCliTest, BundledPandaLogText) {
  const fs::path panda = BundledPandaEpisode();
  ASSERT_TRUE(fs::exists(panda)) << panda;
  const auto r = Inspect(panda, /*json=*/false);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const std::string& out = r.out;
  EXPECT_TRUE(Contains(LineStartingWith(out, "layout"), "aloha")) << out;
  EXPECT_TRUE(Contains(LineStartingWith(out, "frames"), "20544")) << out;
  EXPECT_TRUE(Contains(LineStartingWith(out, "episodes"), "1")) << out;
  EXPECT_TRUE(Contains(LineStartingWith(out, "robot"), "franka_panda")) << out;
  const std::string fps = LineStartingWith(out, "fps");
  EXPECT_TRUE(Contains(fps, "measured 1000")) << fps;
  EXPECT_TRUE(Contains(fps, "declared none")) << fps;
  EXPECT_TRUE(Contains(out, "median period 1.000 ms")) << out;
  EXPECT_TRUE(Contains(out, "worst gap 8.810 ms")) << out;
  for (const char* feature : {"observation.state", "observation.velocity", "observation.effort", "timestamp"}) {
    EXPECT_TRUE(Contains(out, feature)) << feature;
  }
  for (const char* column : {"min", "max", "mean", "std", "q01", "q10", "q50", "q90", "q99"}) {
    EXPECT_TRUE(Contains(out, column)) << column;
  }
}

TEST(InspectCliTest, BundledPandaLogJsonMatchesNumpy) {
  const fs::path panda = BundledPandaEpisode();
  const auto r = Inspect(panda, /*json=*/true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.err, "");
  const Json report = ParseJson(r.out);
  ASSERT_TRUE(report.is_object());

  const auto py = RunPython(kPandaReference, {panda.string()});
  ASSERT_EQ(py.exit_code, 0) << py.err;
  const Json expected = ParseJson(py.out);
  ASSERT_TRUE(expected.is_object());

  EXPECT_EQ(expected["frames"], 20544);
  EXPECT_EQ(report["layout"], "aloha");
  EXPECT_EQ(report["robot_type"], expected["robot"]);
  EXPECT_EQ(report["num_episodes"], 1);
  EXPECT_EQ(report["num_frames"], expected["frames"]);
  ASSERT_TRUE(report["fps"]["measured"].is_number()) << report["fps"];
  EXPECT_NEAR(report["fps"]["measured"].get<double>(), 1000.0, 0.5);
  EXPECT_NEAR(report["fps"]["measured"].get<double>(), expected["measured_fps"].get<double>(), 1e-6);
  EXPECT_TRUE(report["fps"]["declared"].is_null());

  const Json& t = report["findings"]["timestamps"];
  ASSERT_TRUE(t.is_object()) << report["findings"];
  EXPECT_EQ(t["samples"], expected["frames"]);
  EXPECT_NEAR(t["median_period_ms"].get<double>(), 1.0, 1e-6);
  EXPECT_NEAR(t["median_period_ms"].get<double>(), expected["median_period_ms"].get<double>(), 1e-9);
  EXPECT_NEAR(t["worst_gap_ms"].get<double>(), 8.81, 1e-3);
  EXPECT_NEAR(t["worst_gap_ms"].get<double>(), expected["worst_gap_ms"].get<double>(), 1e-9);
  EXPECT_EQ(t["worst_gap"]["episode"], 0);
  EXPECT_EQ(t["worst_gap"]["frame"], expected["worst_gap_frame"]);
  EXPECT_EQ(t["gaps_over_1_5x_median"], expected["gaps"]);
  EXPECT_EQ(t["non_monotonic"], expected["non_monotonic"]);
  EXPECT_EQ(t["non_monotonic"], 0);
  EXPECT_TRUE(report["findings"]["non_finite"].empty());
  EXPECT_TRUE(report["findings"]["constant_channels"].empty());
  // No action in this log, so no latency.
  EXPECT_TRUE(report["findings"]["action_to_state_latency"].is_null());

  // Statistics of every channel of every feature against numpy (linear quantiles, std with ddof=0).
  for (const auto& [feature, want] : expected["statistics"].items()) {
    SCOPED_TRACE(feature);
    ASSERT_TRUE(report["statistics"].contains(feature)) << report["statistics"].dump().substr(0, 500);
    const Json& got = report["statistics"][feature];
    EXPECT_EQ(got["count"], want["count"]);
    const std::size_t channels = want["min"].size();
    for (const char* stat : {"min", "max", "mean", "std", "q01", "q10", "q50", "q90", "q99"}) {
      ASSERT_EQ(got[stat].size(), channels) << stat;
      for (std::size_t c = 0; c < channels; ++c) {
        ASSERT_TRUE(got[stat][c].is_number()) << stat << "[" << c << "] = " << got[stat][c];
        const double g = got[stat][c].get<double>();
        const double w = want[stat][c].get<double>();
        // Relative to the value; for channel 0 strictly, elsewhere relative to the channel's magnitude (a mean
        // near zero of values near 1 cannot be summed to 1e-9 of itself).
        const double magnitude = c == 0 ? std::abs(w)
                                        : std::max({std::abs(w), std::abs(want["min"][c].get<double>()),
                                                    std::abs(want["max"][c].get<double>())});
        EXPECT_LE(std::abs(g - w), 1e-9 * magnitude + 1e-300) << stat << "[" << c << "]: r2s " << g << ", numpy " << w;
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// An ALOHA episode with planted findings: state = action delayed by 2 frames at 50 Hz, a NaN in qvel at frame
// 123, a constant effort channel.

constexpr const char* kAlohaLatencyFixture = R"PY(
import sys
import numpy as np
import h5py
path = sys.argv[1]
with_timestamps = sys.argv[2] == '1'
rng = np.random.default_rng(3)
T, J, lag = 600, 14, 2
t = np.arange(T) * 0.02
action = np.zeros((T, J))
for j in range(J):
    for k in range(3):
        f = rng.uniform(0.2, 1.5)
        action[:, j] += rng.uniform(0.2, 0.6) * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi))
action += 1e-4 * rng.standard_normal(action.shape)
qpos = np.empty_like(action)
qpos[lag:] = action[:-lag]
qpos[:lag] = action[0]
qvel = np.gradient(qpos, 0.02, axis=0)
qvel[123, 4] = np.nan
effort = rng.standard_normal((T, J))
effort[:, 5] = 0.25
with h5py.File(path, 'w') as f:
    f.attrs['fps'] = 50.0
    f.attrs['robot_type'] = 'aloha'
    f['action'] = action
    f['observations/qpos'] = qpos
    f['observations/qvel'] = qvel
    f['observations/effort'] = effort
    if with_timestamps:
        f['timestamp'] = t
)PY";

void MakeAlohaLatencyFixture(const fs::path& path, bool with_timestamps) {
  const auto r = RunPython(kAlohaLatencyFixture, {path.string(), with_timestamps ? "1" : "0"});
  ASSERT_EQ(r.exit_code, 0) << "fixture script failed:\n" << r.err;
}

void ExpectPlantedFindings(const Json& report) {
  EXPECT_EQ(report["layout"], "aloha");
  EXPECT_EQ(report["num_episodes"], 1);
  EXPECT_EQ(report["num_frames"], 600);
  ASSERT_EQ(report["episodes"].size(), 1u);
  EXPECT_EQ(report["episodes"][0]["index"], 7);
  EXPECT_EQ(report["fps"]["declared"], 50.0);
  const Json& findings = report["findings"];

  const Json& latency = findings["action_to_state_latency"];
  ASSERT_TRUE(latency.is_object()) << findings.dump(2);
  EXPECT_EQ(latency["action"], "action");
  EXPECT_EQ(latency["state"], "observation.state");
  EXPECT_NEAR(latency["lag_ms"].get<double>(), 40.0, 20.0) << latency;
  EXPECT_NEAR(latency["lag_frames"].get<double>(), 2.0, 1.0) << latency;
  EXPECT_GT(latency["peak_correlation"].get<double>(), 0.5) << latency;

  ASSERT_EQ(findings["non_finite"].size(), 1u) << findings["non_finite"];
  const Json& nan = findings["non_finite"][0];
  EXPECT_EQ(nan["feature"], "observation.velocity");
  EXPECT_EQ(nan["episode"], 7);
  EXPECT_EQ(nan["frame"], 123);
  EXPECT_EQ(nan["count"], 1);

  ASSERT_EQ(findings["constant_channels"].size(), 1u) << findings["constant_channels"];
  const Json& constant = findings["constant_channels"][0];
  EXPECT_EQ(constant["feature"], "observation.effort");
  EXPECT_EQ(constant["channel"], 5);
  EXPECT_EQ(constant["value"], 0.25);
}

TEST(InspectCliTest, AlohaPlantedLatencyNanAndConstantChannel) {
  TempDir dir;
  const fs::path path = dir / "episode_7.hdf5";
  ASSERT_NO_FATAL_FAILURE(MakeAlohaLatencyFixture(path, /*with_timestamps=*/true));

  const auto json = Inspect(path, /*json=*/true);
  EXPECT_EQ(json.exit_code, 0) << "findings are not failures: " << json.err;
  EXPECT_EQ(json.err, "");
  const Json report = ParseJson(json.out);
  ASSERT_TRUE(report.is_object());
  ExpectPlantedFindings(report);
  const Json& t = report["findings"]["timestamps"];
  ASSERT_TRUE(t.is_object());
  EXPECT_NEAR(t["median_period_ms"].get<double>(), 20.0, 1e-9);
  EXPECT_EQ(t["gaps_over_1_5x_median"], 0);
  EXPECT_EQ(t["non_monotonic"], 0);
  EXPECT_NEAR(report["fps"]["measured"].get<double>(), 50.0, 1e-6);

  const auto text = Inspect(path, /*json=*/false);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.err, "");
  EXPECT_TRUE(Contains(text.out, "NaN/Inf: observation.velocity, episode 7, first at frame 123")) << text.out;
  EXPECT_TRUE(Contains(text.out, "constant channel: observation.effort")) << text.out;
  const std::string latency = LineStartingWith(text.out, "  action->state latency:");
  EXPECT_TRUE(Contains(latency, " ms")) << text.out;
  EXPECT_TRUE(Contains(latency, "action -> observation.state")) << latency;
}

TEST(InspectCliTest, AlohaLatencyInMsFromDeclaredFpsWithoutTimestamps) {
  TempDir dir;
  const fs::path path = dir / "episode_7.hdf5";
  ASSERT_NO_FATAL_FAILURE(MakeAlohaLatencyFixture(path, /*with_timestamps=*/false));
  const auto r = Inspect(path, /*json=*/true);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  const Json report = ParseJson(r.out);
  ASSERT_TRUE(report.is_object());
  ExpectPlantedFindings(report);
  EXPECT_TRUE(report["findings"]["timestamps"].is_null());
  EXPECT_TRUE(report["fps"]["measured"].is_null());
  const auto text = Inspect(path, /*json=*/false);
  EXPECT_EQ(text.exit_code, 0) << text.err;
  EXPECT_TRUE(Contains(text.out, "measured n/a")) << text.out;
}

TEST(InspectCliTest, AlohaFolderOfEpisodes) {
  TempDir dir;
  const fs::path folder = dir / "aloha";
  fs::create_directory(folder);
  const std::string script = R"PY(
import sys
import numpy as np
import h5py
T = int(sys.argv[2])
with h5py.File(sys.argv[1], 'w') as f:
    f['action'] = np.random.default_rng(T).standard_normal((T, 14))
    f['observations/qpos'] = np.random.default_rng(T + 1).standard_normal((T, 14))
)PY";
  for (const auto& [name, frames] : {std::pair{"episode_0.hdf5", "30"}, std::pair{"episode_2.hdf5", "45"}}) {
    const auto r = RunPython(script, {(folder / name).string(), frames});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  const auto r = Inspect(folder, /*json=*/true);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json report = ParseJson(r.out);
  EXPECT_EQ(report["layout"], "aloha");
  EXPECT_EQ(report["num_episodes"], 2);
  EXPECT_EQ(report["num_frames"], 75);
  ASSERT_EQ(report["episodes"].size(), 2u);
  EXPECT_EQ(report["episodes"][0]["index"], 0);
  EXPECT_EQ(report["episodes"][1]["index"], 2);
  EXPECT_EQ(report["episodes"][1]["length"], 45);
  EXPECT_EQ(report["statistics"]["action"]["count"], 75);
}

// ---------------------------------------------------------------------------------------------------------
// A robomimic file.

constexpr const char* kRobomimicFixture = R"PY(
import json, sys
import numpy as np
import h5py
rng = np.random.default_rng(11)
with h5py.File(sys.argv[1], 'w') as f:
    d = f.create_group('data')
    d.attrs['env_args'] = json.dumps({'env_name': 'Lift', 'type': 1,
                                      'env_kwargs': {'control_freq': 20, 'robots': ['Panda']}})
    total = 0
    for i, T in enumerate([30, 40]):
        g = d.create_group('demo_%d' % i)
        g.attrs['num_samples'] = T
        g['actions'] = rng.uniform(-1, 1, (T, 7))
        g['rewards'] = np.r_[np.zeros(T - 1), 1.0]
        g['dones'] = np.r_[np.zeros(T - 1, dtype=np.int64), 1]
        g['states'] = rng.standard_normal((T, 32))
        g['obs/agentview_image'] = rng.integers(0, 256, (T, 84, 84, 3), dtype=np.uint8)
        g['obs/eef_pos'] = rng.standard_normal((T, 3))
        g['obs/joint_pos'] = rng.standard_normal((T, 7))
        g['next_obs/eef_pos'] = rng.standard_normal((T, 3))
        total += T
    d.attrs['total'] = total
    f.create_group('mask')['train'] = np.array([b'demo_0', b'demo_1'])
)PY";

TEST(InspectCliTest, RobomimicFile) {
  TempDir dir;
  const fs::path path = dir / "lift.hdf5";
  ASSERT_NO_FATAL_FAILURE(MakeFixture(path, kRobomimicFixture));

  const auto json = Inspect(path, /*json=*/true);
  ASSERT_EQ(json.exit_code, 0) << json.err;
  EXPECT_EQ(json.err, "");
  const Json report = ParseJson(json.out);
  ASSERT_TRUE(report.is_object());
  EXPECT_EQ(report["layout"], "robomimic");
  EXPECT_EQ(report["num_episodes"], 2);
  EXPECT_EQ(report["num_frames"], 70);
  EXPECT_EQ(report["fps"]["declared"], 20.0);
  EXPECT_TRUE(report["fps"]["measured"].is_null());
  EXPECT_EQ(report["tasks"], Json::array({"Lift"}));
  EXPECT_EQ(report["robot_type"], "Panda");
  ASSERT_EQ(report["episodes"].size(), 2u);
  EXPECT_EQ(report["episodes"][0]["length"], 30);
  EXPECT_EQ(report["episodes"][1]["length"], 40);
  EXPECT_EQ(report["episodes"][1]["index"], 1);

  const Json& features = report["features"];
  for (const char* name : {"action", "observation.images.agentview", "observation.eef_pos",
                           "observation.joint_pos", "next.observation.eef_pos", "next.reward", "next.done"}) {
    EXPECT_TRUE(features.contains(name)) << name << " not in " << features.dump();
  }
  const Json& image = features["observation.images.agentview"];
  EXPECT_EQ(image["dtype"], "uint8");
  EXPECT_EQ(image["shape"], Json::array({84, 84, 3}));
  EXPECT_EQ(image["kind"], "image");
  EXPECT_EQ(image["storage_path"], "obs/agentview_image");
  EXPECT_EQ(features["action"]["shape"], Json::array({7}));
  EXPECT_EQ(features["action"]["storage_path"], "actions");
  EXPECT_EQ(features["next.reward"]["storage_path"], "rewards");
  EXPECT_EQ(report["statistics"]["action"]["count"], 70);
  EXPECT_EQ(report["statistics"]["next.reward"]["max"][0], 1.0);
  EXPECT_EQ(report["statistics"]["next.reward"]["min"][0], 0.0);
  // No timestamps in this layout.
  EXPECT_TRUE(report["findings"]["timestamps"].is_null());

  const auto text = Inspect(path, /*json=*/false);
  ASSERT_EQ(text.exit_code, 0) << text.err;
  EXPECT_EQ(text.err, "");
  EXPECT_TRUE(Contains(LineStartingWith(text.out, "layout"), "robomimic")) << text.out;
  EXPECT_TRUE(Contains(LineStartingWith(text.out, "episodes"), "2")) << text.out;
  EXPECT_TRUE(Contains(LineStartingWith(text.out, "frames"), "70")) << text.out;
  EXPECT_TRUE(Contains(LineStartingWith(text.out, "fps"), "declared 20")) << text.out;
  EXPECT_TRUE(Contains(LineStartingWith(text.out, "tasks"), "Lift")) << text.out;
  for (const char* name :
       {"action", "observation.images.agentview", "observation.eef_pos", "next.reward", "next.done"}) {
    EXPECT_TRUE(Contains(text.out, "  " + std::string(name) + " ")) << name;
  }
}

// The text report is rendered from the same data as the JSON one.
TEST(InspectCliTest, TextAndJsonAgreeOnTheCounts) {
  TempDir dir;
  const fs::path path = dir / "lift.hdf5";
  ASSERT_NO_FATAL_FAILURE(MakeFixture(path, kRobomimicFixture));
  const auto json = Inspect(path, /*json=*/true);
  const auto text = Inspect(path, /*json=*/false);
  ASSERT_EQ(json.exit_code, 0);
  ASSERT_EQ(text.exit_code, 0);
  const Json report = ParseJson(json.out);
  for (const auto& [name, f] : report["features"].items()) EXPECT_TRUE(Contains(text.out, name)) << name;
  EXPECT_TRUE(Contains(LineStartingWith(text.out, "frames"), std::to_string(report["num_frames"].get<int>())));
}

// ---------------------------------------------------------------------------------------------------------
// Usage.

TEST(InspectCliTest, NoArgumentsIsAUsageError) {
  const auto r = RunR2s({});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(r.err.empty());
}

TEST(InspectCliTest, UnknownSubcommandIsAUsageError) {
  const auto r = RunR2s({"frobnicate"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(Contains(r.err, "unknown command 'frobnicate'")) << r.err;
}

TEST(InspectCliTest, ControlCharactersInAPathKeepTheErrorOnOneLine) {
  TempDir dir;
  const auto r = RunR2s({"inspect", (dir / "bad\nname.hdf5").string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(Contains(r.err, "bad\\x0aname.hdf5")) << r.err;
}

// ALOHA files whose timing information is missing or unusable: inspect must say so rather than print zeros.
constexpr const char* kTimingFixture = R"PY(
import sys, h5py, numpy as np
path, mode = sys.argv[1], sys.argv[2]
rng = np.random.default_rng(5)
T = 1 if mode == 'one_frame' else 400
action = np.cumsum(rng.standard_normal((T, 6)), axis=0)
qpos = np.roll(action, 3, axis=0) if mode != 'unrelated' else np.cumsum(rng.standard_normal((T, 6)), axis=0)
with h5py.File(path, 'w') as f:
    f['action'] = action
    f['observations/qpos'] = qpos
    if mode == 'int_timestamps':
        f['timestamp'] = (np.arange(T) * 20_000_000).astype(np.int64)
    if mode == 'one_frame':
        f['timestamp'] = np.zeros(T)
)PY";

Json InspectTimingFixture(const TempDir& dir, const std::string& mode, std::string* text) {
  const fs::path path = dir / (mode + ".hdf5");
  const auto made = RunPython(kTimingFixture, {path.string(), mode});
  EXPECT_EQ(made.exit_code, 0) << made.err;
  const auto t = Inspect(path, /*json=*/false);
  EXPECT_EQ(t.exit_code, 0) << t.err;
  *text = t.out;
  const auto j = Inspect(path, /*json=*/true);
  EXPECT_EQ(j.exit_code, 0) << j.err;
  return ParseJson(j.out);
}

TEST(InspectCliTest, LatencyWithoutTimestampsOrFpsIsInFramesAndUnknownInMs) {
  TempDir dir;
  std::string text;
  const Json report = InspectTimingFixture(dir, "no_rate", &text);
  const Json& latency = report["findings"]["action_to_state_latency"];
  EXPECT_TRUE(latency["lag_ms"].is_null()) << latency;
  EXPECT_NEAR(latency["lag_frames"].get<double>(), 3.0, 0.5) << latency;
  EXPECT_TRUE(Contains(text, "unknown ms (no timestamps or fps)")) << text;
  EXPECT_FALSE(Contains(text, "weak correlation")) << text;
}

TEST(InspectCliTest, UnrelatedActionAndStateAreFlaggedAsWeak) {
  TempDir dir;
  std::string text;
  const Json report = InspectTimingFixture(dir, "unrelated", &text);
  EXPECT_LT(report["findings"]["action_to_state_latency"]["peak_correlation"].get<double>(), 0.5);
  EXPECT_TRUE(Contains(text, "weak correlation")) << text;
}

TEST(InspectCliTest, IntegerTimestampsAreReportedAsNotUsed) {
  TempDir dir;
  std::string text;
  const Json report = InspectTimingFixture(dir, "int_timestamps", &text);
  EXPECT_TRUE(report["findings"]["timestamps"].is_null());
  EXPECT_EQ(report["findings"]["timestamps_not_used"], "timestamp is int64; only float seconds are used");
  EXPECT_TRUE(Contains(text, "timestamps: not used (timestamp is int64")) << text;
}

TEST(InspectCliTest, OneFrameGivesNoMeasuredRate) {
  TempDir dir;
  std::string text;
  const Json report = InspectTimingFixture(dir, "one_frame", &text);
  EXPECT_TRUE(report["fps"]["measured"].is_null());
  EXPECT_TRUE(report["findings"]["timestamps"].is_null());
  EXPECT_EQ(report["findings"]["timestamps_not_used"], "fewer than 2 timestamps");
  EXPECT_FALSE(Contains(text, "frame -1")) << text;
}

TEST(InspectCliTest, InspectWithoutDatasetIsAUsageError) {
  const auto r = RunR2s({"inspect"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_TRUE(Contains(r.err, "DATASET")) << r.err;
}

TEST(InspectCliTest, UnknownOptionIsAUsageError) {
  const auto r = RunR2s({"inspect", BundledPandaEpisode().string(), "--no-such-flag"});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_FALSE(r.err.empty());
}

TEST(InspectCliTest, HelpExitsZero) {
  const auto r = RunR2s({"--help"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_TRUE(Contains(r.out, "inspect")) << r.out;
  const auto sub = RunR2s({"inspect", "--help"});
  EXPECT_EQ(sub.exit_code, 0) << sub.err;
  EXPECT_TRUE(Contains(sub.out, "--json")) << sub.out;
  EXPECT_TRUE(Contains(sub.out, "DATASET")) << sub.out;
}

TEST(InspectCliTest, MissingDatasetExitsTwoWithOneLine) {
  TempDir dir;
  const fs::path path = dir / "missing.hdf5";
  const auto r = RunR2s({"inspect", path.string()});
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.out, "");
  EXPECT_EQ(r.err.rfind("r2s: error: ", 0), 0u) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  EXPECT_TRUE(Contains(r.err, path.string())) << r.err;
}

}  // namespace
}  // namespace r2s::testing
