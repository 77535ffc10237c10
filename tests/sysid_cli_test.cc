// r2s sysid as users run it: bad input exits 2 with a message naming the file, field and value, and leaves no
// params.yaml or report behind.

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "test_support.h"

namespace r2s {
namespace {

namespace fs = std::filesystem;
using testing::BundledPandaEpisode;
using testing::RunR2s;
using testing::SourceDir;
using testing::TempDir;

std::string Tabletop() { return (SourceDir() / "scenes/tabletop").string(); }
std::string CubeTosses() { return (SourceDir() / "scenes/tabletop/episodes/cube_tosses.hdf5").string(); }
std::string Pendulum() { return (SourceDir() / "scenes/xl330_pendulum").string(); }
std::string Kp400() { return (SourceDir() / "scenes/xl330_pendulum/episodes/kp400").string(); }
std::string PandaSysid() { return (SourceDir() / "scenes/panda_sysid").string(); }

// RMS tracking error per joint of `r2s replay --json` of the real Panda log, with or without a params overlay.
std::vector<double> ReplayRms(const fs::path& out, const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args = {"replay",        "--scene", PandaSysid(), "--episodes", BundledPandaEpisode().string(),
                                   "--out",         out.string(), "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto result = RunR2s(args);
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::vector<double> rms;
  if (result.exit_code != 0) return rms;
  const auto report = nlohmann::json::parse(result.out);
  for (const auto& joint : report["episodes"][0]["joints"]) rms.push_back(joint["rms"]);
  return rms;
}

// The whole path on the real Panda log: r2s sysid writes params.yaml, the report and predictions.csv; the
// held-out torques beat the published model's on the same samples; and r2s replay with the fitted params tracks
// the real log better than with the scene's nominal (placeholder) inertials on every joint.
TEST(SysidCli, PandaLogParamsReportAndAFittedReplayThatTracksBetter) {
  TempDir dir;
  const auto fit = RunR2s({"sysid", "--scene", PandaSysid(), "--episodes", BundledPandaEpisode().string(), "--out",
                           (dir / "params.yaml").string(), "--report", (dir / "report").string(), "--baseline",
                           (SourceDir() / "scenes/panda_sysid/reference/published_params.json").string(), "--json"});
  ASSERT_EQ(fit.exit_code, 0) << fit.err;
  for (const char* file : {"params.yaml", "report/index.html", "report/predictions.csv", "report/fit.json"}) {
    EXPECT_TRUE(fs::is_regular_file(dir / file)) << file;
  }
  const auto run = nlohmann::json::parse(fit.out);
  ASSERT_EQ(run["results"].size(), 1u);
  const auto& held_out = run["results"][0]["held_out"];
  ASSERT_EQ(held_out.size(), 7u);
  for (const auto& c : held_out) {
    EXPECT_LT(c["rms"].get<double>(), c["baseline_rms"].get<double>()) << c["channel"];
  }
  // predictions.csv: a header naming measured, predicted and baseline per joint, and one row per held-out sample.
  std::ifstream csv(dir / "report/predictions.csv");
  std::string header;
  std::getline(csv, header);
  EXPECT_NE(header.find("panda_joint7 torque predicted [N m]"), std::string::npos) << header;
  EXPECT_NE(header.find("panda_joint7 torque baseline [N m]"), std::string::npos) << header;
  std::int64_t rows = 0;
  for (std::string line; std::getline(csv, line);) ++rows;
  EXPECT_EQ(rows, run["results"][0]["held_out_samples"].get<std::int64_t>());

  const std::vector<double> nominal = ReplayRms(dir / "nominal");
  const std::vector<double> fitted = ReplayRms(dir / "fitted", {"--params", (dir / "params.yaml").string()});
  ASSERT_EQ(nominal.size(), 7u);
  ASSERT_EQ(fitted.size(), 7u);
  for (std::size_t j = 0; j < 7; ++j) {
    EXPECT_LT(fitted[j], 0.5 * nominal[j]) << "panda_joint" << j + 1 << ": fitted " << fitted[j] << " nominal "
                                           << nominal[j];
  }
}

TEST(SysidCli, DataThatSupportNoRequestedProblemNameWhatIsMissing) {
  TempDir dir;
  const auto result = RunR2s({"sysid", "--scene", Tabletop(), "--episodes", CubeTosses(), "--out",
                              (dir / "params.yaml").string(), "--report", (dir / "report").string(), "--problem",
                              "joint_dynamics"});
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_NE(result.err.find("cube_tosses.hdf5"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("supports no identification problem"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("measured torques (signal: effort)"), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(dir / "params.yaml"));
  EXPECT_FALSE(fs::exists(dir / "report"));
}

TEST(SysidCli, BadArgumentsAndMissingFilesExit2) {
  TempDir dir;
  const std::string out = (dir / "params.yaml").string();
  struct Case {
    std::vector<std::string> args;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{"sysid", "--scene", Tabletop(), "--episodes", (dir / "missing.hdf5").string(), "--out", out},
       "missing.hdf5"},
      {{"sysid", "--scene", (dir / "no_scene").string(), "--episodes", CubeTosses(), "--out", out}, "no_scene"},
      {{"sysid", "--scene", Tabletop(), "--episodes", CubeTosses(), "--out", out, "--problem", "friction"},
       "--problem: 'friction' is not joint_dynamics, actuators or objects"},
      {{"sysid", "--scene", Tabletop(), "--episodes", CubeTosses(), "--out", out, "--held-out", "1.5"},
       "--held-out: must lie in (0, 1), found 1.5"},
      {{"sysid", "--scene", Tabletop(), "--episodes", CubeTosses()}, "--out"},
      {{"sysid", "--scene", Tabletop(), "--episodes", CubeTosses(), "--out", out, "--starts", "0"},
       "--starts: must be >= 1, found 0"},
      {{"sysid", "--scene", Tabletop(), "--episodes", CubeTosses(), "--out", out, "--passes", "0"},
       "--passes: must be >= 1, found 0"},
      {{"sysid", "--scene", Tabletop(), "--episodes", CubeTosses(), "--out", out, "--global-samples", "-1"},
       "--global-samples: must be >= 0, found -1"},
      {{"sysid", "--scene", Tabletop(), "--episodes", CubeTosses(), "--out", out, "--max-iterations", "0"},
       "--max-iterations: must be >= 1, found 0"},
      {{"sysid", "--scene", Tabletop(), "--episodes", CubeTosses(), "--out", out, "--max-episodes", "-2"},
       "--max-episodes: must be >= 0, found -2"},
      {{"sysid", "--scene", Tabletop(), "--episodes", CubeTosses(), "--out", out, "--cutoff-hz", "-3"},
       "--cutoff-hz: must be a finite frequency > 0, found -3"},
      {{"sysid", "--scene", Tabletop(), "--episodes", CubeTosses(), "--out", out, "--friction", "dahl"},
       "--friction: must be coulomb_viscous or stribeck, found 'dahl'"},
      {{"sysid", "--scene", Tabletop(), "--episodes", CubeTosses(), "--out", out, "--starts", "many"}, "--starts"},
      {{"sysid", "--scene", Pendulum(), "--episodes", Kp400(), "--out", out, "--joints", "pendulum,wrist"},
       "--joints: 'wrist' is no movable joint of the scene's robot (its joints: pendulum)"},
  };
  for (const Case& c : cases) {
    const auto result = RunR2s(c.args);
    EXPECT_EQ(result.exit_code, 2) << c.expected << "\n" << result.err;
    EXPECT_NE(result.err.find(c.expected), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(out)) << c.expected;
  }
}

// The fit's knobs from the command line, on one real pendulum log with a small budget: they reach the fit (one
// start, one pass), params.yaml carries the multi-start metrics, and stderr shows progress and the warnings.
TEST(SysidCli, ActuatorKnobsReachTheFitAndWarningsGoToStderr) {
  TempDir dir;
  const auto result = RunR2s({"sysid", "--scene", Pendulum(), "--episodes", Kp400(), "--out",
                              (dir / "params.yaml").string(), "--max-episodes", "1", "--joints", "pendulum",
                              "--starts", "2", "--passes", "1", "--global-samples", "4", "--max-iterations", "2",
                              "--threads", "2", "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto run = nlohmann::json::parse(result.out);
  EXPECT_EQ(run["episodes"], 1);
  ASSERT_EQ(run["results"].size(), 1u);
  const auto& r = run["results"][0];
  EXPECT_EQ(r["starts"], 2);
  ASSERT_EQ(r["start_costs"].size(), 1u);
  EXPECT_EQ(r["start_costs"][0]["final_costs"].size(), 2u);
  EXPECT_EQ(r["passes"], 1);
  ASSERT_FALSE(r["warnings"].empty());  // two iterations leave the real log far above its noise floor
  for (const auto& w : r["warnings"]) {
    EXPECT_NE(result.err.find(w.get<std::string>()), std::string::npos) << w << "\n" << result.err;
  }
  std::ifstream in(dir / "params.yaml");
  const std::string params((std::istreambuf_iterator<char>(in)), {});
  for (const char* metric : {"actuators.starts", "actuators.start_cost_spread.pendulum", "actuators.passes",
                             "actuators.time_step_cost_change"}) {
    EXPECT_NE(params.find(metric), std::string::npos) << metric;
  }
}

}  // namespace
}  // namespace r2s
