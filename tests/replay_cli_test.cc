// `r2s replay` through the real binary: the report, the files written, and exit status 2 with nothing written
// on bad input.
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "episode/dataset_reader.h"
#include "test_support.h"

namespace r2s {
namespace {

namespace fs = std::filesystem;
using testing::BundledPandaEpisode;
using testing::ListFiles;
using testing::RunR2s;
using testing::SourceDir;
using testing::TempDir;

TEST(ReplayCli, JsonReportAndOutputInTheInputLayout) {
  TempDir out;
  const auto result = RunR2s({"replay", "--scene", (SourceDir() / "scenes/panda_sysid/scene.yaml").string(),
                              "--episodes", BundledPandaEpisode().string(), "--out", out.path().string(), "--json"});
  ASSERT_EQ(result.exit_code, 0) << result.err;
  const auto report = nlohmann::json::parse(result.out);
  EXPECT_EQ(report["drive"], "measured positions as targets, measured effort as feedforward");
  ASSERT_EQ(report["episodes"].size(), 1u);
  ASSERT_EQ(report["episodes"][0]["joints"].size(), 7u);
  for (const auto& joint : report["episodes"][0]["joints"]) {
    EXPECT_LT(joint["rms"].get<double>(), 0.05) << joint["joint"];
  }
  // ALOHA in, ALOHA out: the folder holds episode_0.hdf5 and nothing else, and it reads back.
  EXPECT_EQ(ListFiles(out.path()), std::vector<std::string>{"episode_0.hdf5"});
  const auto replayed = episode::DatasetReader::Open(out / "episode_0.hdf5");
  const auto source = episode::DatasetReader::Open(BundledPandaEpisode());
  EXPECT_EQ(replayed.info().layout, source.info().layout);
  EXPECT_EQ(replayed.episode_length(0), source.episode_length(0));
  EXPECT_EQ(replayed.info().features.size(), source.info().features.size());

  // A second run refuses to overwrite, unless asked.
  const auto again = RunR2s({"replay", "--scene", (SourceDir() / "scenes/panda_sysid").string(), "--episodes",
                             BundledPandaEpisode().string(), "--out", out.path().string()});
  EXPECT_EQ(again.exit_code, 2) << again.err;
  const auto overwrite = RunR2s({"replay", "--scene", (SourceDir() / "scenes/panda_sysid").string(), "--episodes",
                                 BundledPandaEpisode().string(), "--out", out.path().string(), "--overwrite"});
  EXPECT_EQ(overwrite.exit_code, 0) << overwrite.err;
  EXPECT_NE(overwrite.out.find("panda_joint7"), std::string::npos);
}

TEST(ReplayCli, BadSceneExitsTwoAndWritesNothing) {
  TempDir dir;
  fs::copy(SourceDir() / "scenes/panda_sysid", dir / "scene", fs::copy_options::recursive);
  {
    std::ifstream in(dir / "scene/scene.yaml");
    std::string text((std::istreambuf_iterator<char>(in)), {});
    text.replace(text.find("panda_joint3, panda_joint4"), 12, "panda_joint33");
    std::ofstream(dir / "scene/scene.yaml") << text;
  }
  const auto result = RunR2s({"replay", "--scene", (dir / "scene").string(), "--episodes",
                              BundledPandaEpisode().string(), "--out", (dir / "out").string()});
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_NE(result.err.find("scene.yaml"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("panda_joint33"), std::string::npos) << result.err;
  EXPECT_NE(result.err.find("line "), std::string::npos) << result.err;
  EXPECT_FALSE(fs::exists(dir / "out"));
}

// A copy of the bundled Panda log with `edit` applied (Python, h5py: `f` is the open file), in `dir`.
fs::path EditedPandaLog(const TempDir& dir, const std::string& edit) {
  const fs::path path = dir / "episode_0.hdf5";
  fs::copy_file(BundledPandaEpisode(), path);
  const auto r = testing::RunPython("import sys, h5py, numpy as np\nwith h5py.File(sys.argv[1], 'r+') as f:\n" + edit,
                                    {path.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return path;
}

// Nonsense in what drives the world is refused naming the input (not the output), before anything is written.
TEST(ReplayCli, NonFiniteJointPositionOrTimestampJumpIsRefusedNamingTheInput) {
  struct Case {
    std::string edit, field, problem;
  };
  const Case cases[] = {
      {"    f['observations/qpos'][40, 2] = np.nan\n", "observation.state[2]", "episode 0 frame 40 is nan"},
      {"    t = f['timestamp'][:]; t[100:] += 1e9; f['timestamp'][:] = t\n", "timestamp",
       "more than 100000000 physics steps"},
      {"    t = f['timestamp'][:]; t[7] = np.nan; f['timestamp'][:] = t\n", "timestamp", "not a finite time"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.edit);
    TempDir dir;
    const fs::path log = EditedPandaLog(dir, c.edit);
    const auto result = RunR2s({"replay", "--scene", (SourceDir() / "scenes/panda_sysid").string(), "--episodes",
                                log.string(), "--out", (dir / "out").string()});
    EXPECT_EQ(result.exit_code, 2) << result.err;
    EXPECT_NE(result.err.find(log.string() + ": " + c.field + ": "), std::string::npos) << result.err;
    EXPECT_NE(result.err.find(c.problem), std::string::npos) << result.err;
    EXPECT_FALSE(fs::exists(dir / "out" / "episode_0.hdf5"));
  }
}

TEST(ReplayCli, MissingDatasetAndMissingOptionsExitTwo) {
  TempDir dir;
  const auto missing = RunR2s({"replay", "--scene", (SourceDir() / "scenes/panda_sysid").string(), "--episodes",
                               (dir / "absent.hdf5").string(), "--out", (dir / "out").string()});
  EXPECT_EQ(missing.exit_code, 2);
  EXPECT_NE(missing.err.find("absent.hdf5"), std::string::npos) << missing.err;
  EXPECT_TRUE(!fs::exists(dir / "out") || fs::is_empty(dir / "out"));
  const auto no_out = RunR2s({"replay", "--scene", (SourceDir() / "scenes/panda_sysid").string(), "--episodes",
                              BundledPandaEpisode().string()});
  EXPECT_EQ(no_out.exit_code, 2);
  EXPECT_NE(no_out.err.find("--out"), std::string::npos) << no_out.err;
}

}  // namespace
}  // namespace r2s
