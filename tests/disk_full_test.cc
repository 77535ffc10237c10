// A full disk, for real: a small tmpfs mounted by the test (and unmounted by it) on every write path — generate
// (writing parts, assembling the dataset), LeRobot output, replay and merge. Each must end with exit status 3 and
// "No space left on device" naming the file, never a crash; leave no temporary file and no partial final file;
// and, once there is room (the tmpfs remounted larger), a rerun resumes and writes exactly what a run that never
// met a full disk writes.
//
// Mounting needs root (CI runs as root); elsewhere the tests skip, saying why.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "tests/test_support.h"

namespace r2s {
namespace {

namespace fs = std::filesystem;
using testing::CommandResult;
using testing::ListFiles;
using testing::RunCommand;
using testing::RunR2s;
using testing::SourceDir;
using testing::TempDir;

constexpr int kExitOutputFailed = 3;

// A tmpfs of a given size on a fresh folder, unmounted when the object goes.
class SmallDisk {
 public:
  explicit SmallDisk(const std::string& size) {
    const CommandResult r = RunCommand({"/bin/mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", dir_.path()});
    mounted_ = r.exit_code == 0;
    why_ = r.err;
  }
  ~SmallDisk() {
    if (mounted_) RunCommand({"/bin/umount", "-l", dir_.path().string()});
  }
  SmallDisk(const SmallDisk&) = delete;
  SmallDisk& operator=(const SmallDisk&) = delete;

  bool mounted() const { return mounted_; }
  const std::string& why() const { return why_; }
  fs::path operator/(const std::string& name) const { return dir_ / name; }
  void Grow(const std::string& size) {
    const CommandResult r =
        RunCommand({"/bin/mount", "-o", "remount,size=" + size, "tmpfs", dir_.path().string()});
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }

 private:
  TempDir dir_;
  bool mounted_ = false;
  std::string why_;
};

#define SKIP_UNLESS_MOUNTED(disk)                                                        \
  if (!(disk).mounted()) {                                                               \
    GTEST_SKIP() << "mounting a tmpfs needs root (CI runs as root): " << (disk).why(); \
  }

std::string ReadBytes(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::vector<std::string> TemporariesUnder(const fs::path& dir) {
  std::vector<std::string> found;
  for (const std::string& name : ListFiles(dir)) {
    if (name.find(".tmp-") != std::string::npos) found.push_back(name);
  }
  return found;
}

std::vector<std::string> GenerateArgs(const std::string& episodes, const fs::path& out, int variants = 4,
                                      int max_episodes = 25) {
  return {"generate", "--scene", (SourceDir() / "scenes/tabletop").string(), "--episodes",
          (SourceDir() / episodes).string(), "--variants", std::to_string(variants), "--max-episodes",
          std::to_string(max_episodes), "--keep", "all", "--threads", "2", "--out", out.string()};
}

// `errno_text`: what the system said. A full tmpfs makes copy_file fail with EIO where write fails with ENOSPC.
void ExpectDiskFull(const CommandResult& r, const std::string& errno_text = "No space left on device") {
  EXPECT_EQ(r.exit_code, kExitOutputFailed) << r.err;
  EXPECT_NE(r.err.find("cannot write: "), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(errno_text), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("internal error"), std::string::npos) << r.err;
}

// Robomimic output: a disk that fills while parts are written (1 MiB) and one that fills only when the dataset is
// assembled from them (3 MiB; the parts of these 100 episodes take about 2.5 MiB and the dataset 1.6 MiB).
TEST(DiskFull, GenerateFailsCleanlyWritingPartsOrAssemblingAndResumesToTheSameBytes) {
  TempDir reference;
  const auto tosses = "scenes/tabletop/episodes/cube_tosses.hdf5";
  ASSERT_EQ(RunR2s(GenerateArgs(tosses, reference.path())).exit_code, 0);
  for (const std::string size : {"1m", "3m"}) {
    SCOPED_TRACE("tmpfs of " + size);
    SmallDisk disk(size);
    SKIP_UNLESS_MOUNTED(disk);
    const fs::path out = disk / "run";
    ExpectDiskFull(RunR2s(GenerateArgs(tosses, out)));
    EXPECT_EQ(TemporariesUnder(out), std::vector<std::string>{});
    EXPECT_FALSE(fs::exists(out / "cube_tosses.hdf5"));
    EXPECT_FALSE(fs::exists(out / "summary.json"));
    if (size == "3m") {
      EXPECT_TRUE(fs::exists(out / "parts"));  // every unit done: only the assembly failed
    }

    disk.Grow("64m");
    const CommandResult rerun = RunR2s(GenerateArgs(tosses, out));
    ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
    EXPECT_NE(rerun.err.find("resuming"), std::string::npos) << rerun.err;
    EXPECT_EQ(ReadBytes(out / "cube_tosses.hdf5"), ReadBytes(reference / "cube_tosses.hdf5"));
    EXPECT_EQ(ReadBytes(out / "draws.csv"), ReadBytes(reference / "draws.csv"));
    EXPECT_EQ(TemporariesUnder(out), std::vector<std::string>{});
    EXPECT_FALSE(fs::exists(out / "parts"));
  }
}

// Parquet tables and AV1 video (rendered and encoded per variant: 2 episodes x 2 variants keep it short).
TEST(DiskFull, LeRobotOutputFailsCleanlyAndResumes) {
  TempDir reference;
  const auto tosses = "scenes/tabletop/lerobot_cube_tosses";
  ASSERT_EQ(RunR2s(GenerateArgs(tosses, reference.path(), 2, 2)).exit_code, 0);
  SmallDisk disk("512k");
  SKIP_UNLESS_MOUNTED(disk);
  const fs::path out = disk / "run";
  ExpectDiskFull(RunR2s(GenerateArgs(tosses, out, 2, 2)), "error");
  EXPECT_EQ(TemporariesUnder(out), std::vector<std::string>{});
  EXPECT_FALSE(fs::exists(out / "lerobot_cube_tosses"));

  disk.Grow("64m");
  const CommandResult rerun = RunR2s(GenerateArgs(tosses, out, 2, 2));
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_EQ(ListFiles(out / "lerobot_cube_tosses"), ListFiles(reference / "lerobot_cube_tosses"));
  for (const std::string& name : ListFiles(reference / "lerobot_cube_tosses")) {
    EXPECT_EQ(ReadBytes(out / "lerobot_cube_tosses" / name), ReadBytes(reference / "lerobot_cube_tosses" / name))
        << name;
  }
}

TEST(DiskFull, ReplayFailsCleanly) {
  SmallDisk disk("256k");
  SKIP_UNLESS_MOUNTED(disk);
  const CommandResult r = RunR2s({"replay", "--scene", (SourceDir() / "scenes/tabletop").string(), "--episodes",
                                  (SourceDir() / "scenes/tabletop/episodes/cube_tosses.hdf5").string(), "--out",
                                  (disk / "replayed").string()});
  ExpectDiskFull(r);
  if (fs::exists(disk / "replayed")) {
    EXPECT_EQ(ListFiles(disk / "replayed"), std::vector<std::string>{});
  }
}

TEST(DiskFull, MergeIsRefusedBeforeCopyingAndResumes) {
  TempDir shards;
  const auto tosses = "scenes/tabletop/episodes/cube_tosses.hdf5";
  std::vector<std::string> merge = {"merge"};
  for (const char* shard : {"0/2", "1/2"}) {
    std::vector<std::string> args = GenerateArgs(tosses, shards.path());
    args.insert(args.end(), {"--shard", shard});
    ASSERT_EQ(RunR2s(args).exit_code, 0);
    merge.push_back((shards / ("shard-" + std::string(1, shard[0]) + "-of-2")).string());
  }
  SmallDisk disk("1m");
  SKIP_UNLESS_MOUNTED(disk);
  merge.insert(merge.end(), {"--out", (disk / "merged").string()});
  const CommandResult full = RunR2s(merge);
  ExpectDiskFull(full);
  EXPECT_NE(full.err.find("assembling 100 episodes needs about"), std::string::npos) << full.err;
  EXPECT_EQ(TemporariesUnder(disk / "merged"), std::vector<std::string>{});
  EXPECT_FALSE(fs::exists(disk / "merged" / "cube_tosses.hdf5"));
  EXPECT_FALSE(fs::exists(disk / "merged" / "summary.json"));

  disk.Grow("64m");
  const CommandResult rerun = RunR2s(merge);
  ASSERT_EQ(rerun.exit_code, 0) << rerun.err;
  EXPECT_TRUE(fs::exists(disk / "merged" / "cube_tosses.hdf5"));
}

// A killed merge leaves its temporary dataset behind; the rerun (which holds the folder's lock) removes it.
TEST(DiskFull, RerunRemovesWhatAKilledWriterLeft) {
  TempDir dir;
  const fs::path out = dir / "run";
  ASSERT_EQ(RunR2s(GenerateArgs("scenes/tabletop/episodes/cube_tosses.hdf5", out)).exit_code, 0);
  const fs::path stale = out / ".cube_tosses.hdf5.tmp-12345-678901";
  testing::WriteTextFile(stale, "half a dataset");
  fs::create_directories(out / "parts");  // a run killed while removing its parts after summary.json
  testing::WriteTextFile(out / "parts" / "unit_3.json", "{}");
  const CommandResult again = RunR2s(GenerateArgs("scenes/tabletop/episodes/cube_tosses.hdf5", out));
  ASSERT_EQ(again.exit_code, 0) << again.err;
  EXPECT_NE(again.err.find("complete already"), std::string::npos) << again.err;
  EXPECT_FALSE(fs::exists(stale));
  EXPECT_FALSE(fs::exists(out / "parts"));
}

}  // namespace
}  // namespace r2s
