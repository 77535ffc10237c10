// Hostile HDF5 input, made for real: files h5py writes and then bends the way an attacker or a corrupt disk
// would (a hard-link cycle, a named pipe, a declared shape of terabytes, a frame rate of "fast") and byte mutants
// that crash or hang libhdf5 1.10.8 itself (tests/data/hdf5_mutants). Each must end in exit status 2 and one
// line naming the file and the object, never a signal, a hang or std::bad_alloc.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <string>

#include "episode/dataset_reader.h"
#include "episode/hdf5/isolated_check.h"
#include "episode/input_error.h"
#include "tests/test_support.h"

namespace r2s::episode {
namespace {

namespace fs = std::filesystem;
using r2s::testing::CommandResult;
using r2s::testing::RunPython;
using r2s::testing::RunR2s;
using r2s::testing::SourceDir;
using r2s::testing::TempDir;

fs::path Mutant(const std::string& name) { return SourceDir() / "tests/data/hdf5_mutants" / name; }

// A copy of the bundled tosses (robomimic layout), changed by `edit` (Python with h5py: `f` is the open file).
fs::path EditedTosses(const TempDir& dir, const std::string& edit) {
  const fs::path path = dir / "edited.hdf5";
  fs::copy_file(SourceDir() / "scenes/tabletop/episodes/cube_tosses.hdf5", path);
  const CommandResult r = RunPython("import sys, h5py\nwith h5py.File(sys.argv[1], 'r+') as f:\n" + edit,
                                    {path.string()});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return path;
}

void ExpectRefused(const fs::path& file, const std::string& needle) {
  const CommandResult r = RunR2s({"inspect", file.string()});
  EXPECT_EQ(r.exit_code, 2) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_NE(r.err.find(file.filename().string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
}

TEST(Hdf5Hostile, HardLinkCycleIsRefusedNamingTheLink) {
  TempDir dir;
  const fs::path file = EditedTosses(dir, "    f['data/demo_0/obs/loop'] = f['data/demo_0/obs']\n");
  ExpectRefused(file, "/data/demo_0/obs/loop: is a hard link to a group it is inside of (a cycle)");
}

TEST(Hdf5Hostile, GroupsNestedBeyondTheBoundAreRefused) {
  TempDir dir;
  const fs::path file = EditedTosses(dir, "    f.create_group('data/demo_0/obs/' + '/'.join(['g'] * 40))\n");
  ExpectRefused(file, "groups nest deeper than 32 levels");
}

TEST(Hdf5Hostile, NamedPipeIsRefusedWithoutBlocking) {
  TempDir dir;
  const fs::path fifo = dir / "episodes.hdf5";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  // Opening a pipe for reading blocks until a writer comes: a reader that tried would hang here (ctest's timeout).
  ExpectRefused(fifo, "is not a regular file (a named pipe)");
  EXPECT_THROW(DatasetReader::Open(fifo), InputError);
}

TEST(Hdf5Hostile, DemoGroupThatIsNotNumberedIsRefused) {
  TempDir dir;
  const fs::path file = EditedTosses(dir, "    f['data/demo_x'] = f['data/demo_0']\n");
  ExpectRefused(file, "/data/demo_x: is not a demo_<N> group");
}

TEST(Hdf5Hostile, FrameRateThatIsNotAPositiveNumberIsRefused) {
  for (const std::string value : {"'fast'", "-148", "0.0", "float('nan')", "1e9"}) {
    SCOPED_TRACE(value);
    TempDir dir;
    const fs::path file = EditedTosses(dir, "    f['data'].attrs['fps'] = " + value + "\n");
    ExpectRefused(file, "/data attribute 'fps': is ");
  }
  TempDir dir;
  const fs::path ok = EditedTosses(dir, "    f['data'].attrs['fps'] = 50.0\n");
  EXPECT_EQ(DatasetReader::Open(ok).info().fps.value_or(0), 50.0);
}

TEST(Hdf5Hostile, DeclaredShapeBeyondMemoryIsRefusedBeforeAnyRead) {
  TempDir dir;
  // A chunked dataset with no chunk written costs nothing on disk and declares ~3 TB.
  const fs::path file = EditedTosses(dir,
                                     "    g = f['data/demo_0']\n"
                                     "    n = g.attrs['num_samples']\n"
                                     "    g['obs'].create_dataset('huge_image', shape=(n, 100000, 100000, 3), "
                                     "dtype='uint8', chunks=(1, 64, 64, 3))\n");
  ASSERT_LT(fs::file_size(file), 10u << 20);
  ExpectRefused(file, "MiB of per-frame data");
  const CommandResult r = RunR2s({"inspect", file.string()});
  EXPECT_NE(r.err.find("/data/demo_0"), std::string::npos) << r.err;
}

TEST(Hdf5Hostile, MutantsThatCrashLibhdf5AreRefusedNotFatal) {
  for (int i = 1; i <= 5; ++i) {
    const fs::path file = Mutant("segv_" + std::to_string(i) + ".hdf5");
    SCOPED_TRACE(file.string());
    const CommandResult r = RunR2s({"inspect", file.string()});
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_NE(r.err.find(file.filename().string()), std::string::npos) << r.err;
  }
  // The reader, in this process, survives them too.
  EXPECT_THROW(DatasetReader::Open(Mutant("segv_1.hdf5")), InputError);
  // The unmutated file reads.
  EXPECT_EQ(DatasetReader::Open(Mutant("base.hdf5")).num_episodes(), 2);
}

TEST(Hdf5Hostile, ChildCheckReportsACrashAsACorruptFile) {
  try {
    hdf5::CheckMetadataInChildProcess(Mutant("segv_1.hdf5"));
    FAIL() << "segv_1.hdf5 no longer crashes libhdf5: pick a mutant that does (tests/data/hdf5_mutants/README.md)";
  } catch (const InputError& e) {
#if defined(__SANITIZE_ADDRESS__)
    // AddressSanitizer turns the child's SIGSEGV into its report and exit status 1.
    EXPECT_NE(std::string(e.what()).find("failed in the child process"), std::string::npos) << e.what();
#else
    EXPECT_NE(std::string(e.what()).find("crashed libhdf5 (signal 11"), std::string::npos) << e.what();
#endif
  }
  EXPECT_NO_THROW(hdf5::CheckMetadataInChildProcess(Mutant("base.hdf5")));
}

TEST(Hdf5Hostile, MutantThatSpinsLibhdf5IsStoppedByTheCpuLimit) {
  hdf5::IsolatedCheckLimits limits;
  limits.cpu_time = std::chrono::seconds(2);
  const auto start = std::chrono::steady_clock::now();
  try {
    hdf5::CheckMetadataInChildProcess(Mutant("spin_1.hdf5"), limits);
    FAIL() << "spin_1.hdf5 no longer hangs libhdf5";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("used more than 2 s of CPU time"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(60));
}

}  // namespace
}  // namespace r2s::episode
