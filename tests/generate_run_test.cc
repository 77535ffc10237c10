// GenerateRun: the resumable run folder through the C++ API (what r2s generate runs), killed and resumed.

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

#include "amplify/generate_run.h"
#include "amplify/generator.h"
#include "episode/input_error.h"
#include "test_support.h"

namespace r2s::amplify {
namespace {

namespace fs = std::filesystem;
using testing::SourceDir;
using testing::TempDir;

constexpr std::uint64_t kUnits = 6 * 3;

Generator OpenTosses(std::uint64_t seed) {
  GeneratorOptions options;
  options.variants = 3;
  options.max_source_episodes = 6;
  options.seed = seed;
  options.threads = 2;
  return Generator::Open(SourceDir() / "scenes/tabletop", std::nullopt,
                         SourceDir() / "scenes/tabletop/episodes/cube_tosses.hdf5", options);
}

RunOptions KeepAllInto(const fs::path& out) {
  RunOptions run;
  run.out = out;
  run.keep = Keep::kAll;
  return run;
}

std::string Bytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

TEST(GenerateRun, ResumesARunKilledMidwayToTheBytesOfAnUninterruptedOne) {
  TempDir dir;
  // The child runs until 5 units are recorded and is killed there, as a preempted batch job is.
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    Generator generator = OpenTosses(7);
    int recorded = 0;
    RunObserver observer;
    observer.on_episode = [&](const GeneratedEpisode&, bool) {
      if (++recorded == 5) raise(SIGKILL);
    };
    GenerateRun(generator, KeepAllInto(dir / "killed"), observer);
    _exit(0);  // not reached
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "status " << status;
  ASSERT_FALSE(fs::exists(dir / "killed" / "summary.json"));

  Generator generator = OpenTosses(7);
  std::uint64_t started_with = 0;
  RunObserver observer;
  observer.on_start = [&](const fs::path&, std::uint64_t resumed) { started_with = resumed; };
  const RunResult resumed = GenerateRun(generator, KeepAllInto(dir / "killed"), observer);
  EXPECT_FALSE(resumed.was_complete);
  EXPECT_EQ(resumed.resumed_units, 5u);
  EXPECT_EQ(started_with, 5u);
  EXPECT_EQ(resumed.attempted, kUnits - 5);
  EXPECT_EQ(resumed.totals.attempted, kUnits);
  ASSERT_TRUE(fs::exists(resumed.dataset));

  const RunResult clean = GenerateRun(generator, KeepAllInto(dir / "clean"));
  EXPECT_EQ(clean.resumed_units, 0u);
  EXPECT_EQ(clean.totals.kept, resumed.totals.kept);
  EXPECT_EQ(clean.dataset.filename(), resumed.dataset.filename());
  EXPECT_TRUE(Bytes(clean.dataset) == Bytes(resumed.dataset)) << "the resumed dataset differs from the clean one";

  const RunResult again = GenerateRun(generator, KeepAllInto(dir / "killed"));
  EXPECT_TRUE(again.was_complete);
  EXPECT_EQ(again.attempted, 0u);
  EXPECT_EQ(again.summary_json, resumed.summary_json);
}

TEST(GenerateRun, RefusesTheFolderOfAnotherRunNamingWhatDiffers) {
  TempDir dir;
  Generator first = OpenTosses(7);
  GenerateRun(first, KeepAllInto(dir / "out"));
  Generator other = OpenTosses(8);
  try {
    GenerateRun(other, KeepAllInto(dir / "out"));
    FAIL() << "a folder of another run was taken";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("seed"), std::string::npos) << e.what();
    // By field, for an API user: no command-line flag.
    EXPECT_NE(std::string(e.what()).find("give another RunOptions.out, or RunOptions.overwrite to replace it"),
              std::string::npos)
        << e.what();
    EXPECT_EQ(std::string(e.what()).find("--"), std::string::npos) << e.what();
  }
  RunOptions overwrite = KeepAllInto(dir / "out");
  overwrite.overwrite = true;
  EXPECT_EQ(GenerateRun(other, overwrite).totals.attempted, kUnits);
}

}  // namespace
}  // namespace r2s::amplify
