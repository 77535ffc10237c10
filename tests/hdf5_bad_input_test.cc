// Bad input, made for real: files written with h5py (and then broken) that the reader must refuse with an
// InputError naming the file, the dataset path and the value found, and that `r2s inspect` must turn into
// exit status 2 and one line on stderr, with nothing on stdout. Also: a writer that fails leaves no partial
// output file behind.

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <ostream>
#include <string>
#include <vector>

#include "episode/dataset_reader.h"
#include "episode/dataset_writer.h"
#include "episode/input_error.h"
#include "tests/test_support.h"

namespace r2s::episode {
namespace {

namespace fs = std::filesystem;
using r2s::testing::ListFiles;
using r2s::testing::RunPython;
using r2s::testing::RunR2s;
using r2s::testing::TempDir;

// ---------------------------------------------------------------------------------------------------------
// Fixtures, written by h5py.

constexpr const char* kPrelude = R"PY(
import json, os, sys
import numpy as np
import h5py

rng = np.random.default_rng(7)
path = sys.argv[1]

def robomimic(path, T=100, demos=2, image=False, num_samples=True):
    with h5py.File(path, 'w') as f:
        d = f.create_group('data')
        d.attrs['env_args'] = json.dumps({'env_name': 'Lift', 'type': 1, 'env_kwargs': {'control_freq': 20}})
        for i in range(demos):
            g = d.create_group('demo_%d' % i)
            if num_samples:
                g.attrs['num_samples'] = T
            g['actions'] = rng.standard_normal((T, 7))
            g['rewards'] = np.zeros(T)
            g['dones'] = np.zeros(T, dtype=np.int64)
            g['obs/eef_pos'] = rng.standard_normal((T, 3))
            if image:
                g.create_dataset('obs/agentview_image', data=rng.integers(0, 255, (T, 84, 84, 3), dtype=np.uint8),
                                 chunks=(1, 84, 84, 3), compression='gzip')
        d.attrs['total'] = T * demos

def aloha(path, T=50):
    with h5py.File(path, 'w') as f:
        f.attrs['sim'] = False
        f['action'] = rng.standard_normal((T, 14))
        f['observations/qpos'] = rng.standard_normal((T, 14))
        f['observations/qvel'] = rng.standard_normal((T, 14))

def replace(f, name, data, **kwargs):
    del f[name]
    f.create_dataset(name, data=data, **kwargs)
)PY";

// Runs the prelude, then `body`, with sys.argv[1] = path.
void MakeFixture(const fs::path& path, const std::string& body) {
  const auto result = RunPython(std::string(kPrelude) + body, {path.string()});
  ASSERT_EQ(result.exit_code, 0) << "fixture script failed:\n" << result.err;
}

// ---------------------------------------------------------------------------------------------------------
// Checks.

InputError OpenError(const fs::path& path) {
  try {
    DatasetReader::Open(path);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "DatasetReader::Open(" << path << ") did not throw InputError";
  return InputError("", "", "");
}

InputError ReadError(const DatasetReader& reader, std::int64_t i) {
  try {
    reader.ReadEpisode(i);
  } catch (const InputError& e) {
    return e;
  }
  ADD_FAILURE() << "ReadEpisode(" << i << ") did not throw InputError";
  return InputError("", "", "");
}

void ExpectNames(const InputError& e, const fs::path& file, const std::string& field,
                 const std::vector<std::string>& in_problem) {
  EXPECT_EQ(e.file(), file.string()) << e.what();
  EXPECT_EQ(e.field(), field) << e.what();
  for (const auto& s : in_problem) {
    EXPECT_NE(e.problem().find(s), std::string::npos) << "problem lacks \"" << s << "\": " << e.problem();
  }
  const std::string what = e.what();
  EXPECT_NE(what.find(file.string()), std::string::npos) << what;
  EXPECT_NE(what.find(field), std::string::npos) << what;
  EXPECT_EQ(what.find('\n'), std::string::npos) << "message spans lines: " << what;
}

// `r2s inspect PATH` (text and --json): exit 2, stdout empty, stderr exactly the library's message on one line,
// and no file created or changed beside the input.
void ExpectCliError(const fs::path& path, const InputError& library_error, const std::vector<std::string>& in_line) {
  const fs::path folder = fs::is_directory(path) ? path : path.parent_path();
  const auto before = ListFiles(folder);
  for (const bool json : {false, true}) {
    std::vector<std::string> args = {"inspect", path.string()};
    if (json) args.push_back("--json");
    const auto r = RunR2s(args);
    SCOPED_TRACE(json ? "r2s inspect --json" : "r2s inspect");
    EXPECT_EQ(r.exit_code, 2) << r.err;
    EXPECT_EQ(r.out, "");
    EXPECT_EQ(r.err, "r2s: error: " + std::string(library_error.what()) + "\n");
    ASSERT_FALSE(r.err.empty());
    EXPECT_EQ(r.err.rfind("r2s: error: ", 0), 0u) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
    EXPECT_EQ(r.err.back(), '\n');
    for (std::size_t i = 0; i + 1 < r.err.size(); ++i) {
      const auto c = static_cast<unsigned char>(r.err[i]);
      EXPECT_TRUE(c >= 32 && c < 127) << "unprintable byte " << int(c) << " at " << i << " in: " << r.err;
    }
    EXPECT_NE(r.err.find(path.string()), std::string::npos) << r.err;
    for (const auto& s : in_line) EXPECT_NE(r.err.find(s), std::string::npos) << "lacks \"" << s << "\": " << r.err;
  }
  EXPECT_EQ(ListFiles(folder), before) << "inspect created or removed files";
}

// Both the library and the CLI, for a dataset that Open must refuse.
void ExpectRefused(const fs::path& path, const fs::path& file, const std::string& field,
                   const std::vector<std::string>& in_problem) {
  const InputError e = OpenError(path);
  ExpectNames(e, file, field, in_problem);
  std::vector<std::string> in_line = in_problem;
  in_line.push_back(field);
  in_line.push_back(file.string());
  ExpectCliError(path, e, in_line);
}

std::string Slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// ---------------------------------------------------------------------------------------------------------
// Refused on open, one row a case: a file made in a fresh temp dir by Python (`make`, then `edit` with the file open
// as `f`, both after kPrelude with `path` = the file), and what DatasetReader::Open and `r2s inspect` must then
// report about it (ExpectRefused). To add a bad-input case, add a row.

struct BadInput {
  const char* name;                        // the test's name
  const char* file;                        // relative to the temp dir (or to aloha/, below)
  const char* make;                        // Python that makes `file`; nullptr: `file` is not made at all
  const char* edit;                        // then run in `with h5py.File(path, 'a') as f:`; nullptr: none
  const char* field;                       // InputError::field()
  std::vector<std::string> fragments;      // in InputError::problem() and in the CLI's line
  bool beside_good_aloha_episode = false;  // `file` goes in aloha/ next to a good episode_0.hdf5; aloha/ is opened
};

void PrintTo(const BadInput& c, std::ostream* os) { *os << c.name; }

const BadInput kRefusedOnOpen[] = {
    // clang-format off
    // Missing file.
    {"MissingFile", "no_such_dataset.hdf5", nullptr, nullptr, "", {"no such file"}},
    {"MissingFileInMissingFolder", "nowhere/episode_0.hdf5", nullptr, nullptr, "", {"no such file"}},

    // Lengths that disagree.
    {"RobomimicObservationShorterThanNumSamples", "lift.hdf5", "robomimic(path)",
     "replace(f, 'data/demo_1/obs/eef_pos', rng.standard_normal((99, 3)))",
     "/data/demo_1/obs/eef_pos", {"99", "100", "num_samples"}},
    {"RobomimicActionsShorterThanNumSamples", "lift.hdf5", "robomimic(path)",
     "replace(f, 'data/demo_0/actions', rng.standard_normal((98, 7)))",
     "/data/demo_0/actions", {"98", "100"}},
    {"RobomimicWithoutNumSamplesObservationDisagreesWithActions", "lift.hdf5", "robomimic(path, num_samples=False)",
     "replace(f, 'data/demo_0/obs/eef_pos', rng.standard_normal((99, 3)))",
     "/data/demo_0/obs/eef_pos", {"99", "100"}},
    {"AlohaVelocityShorterThanAction", "episode_0.hdf5", "aloha(path)",
     "replace(f, 'observations/qvel', rng.standard_normal((48, 14)))",
     "/observations/qvel", {"48", "50"}},
    {"AlohaFolderLaterEpisodeLengthMismatch", "episode_3.hdf5", "aloha(path, T=60)",
     "replace(f, 'observations/qvel', rng.standard_normal((59, 14)))",
     "/observations/qvel", {"59", "60"}, /*beside_good_aloha_episode=*/true},

    // Unexpected dtypes.
    {"RobomimicActionsAsStrings", "lift.hdf5", "robomimic(path)",
     "replace(f, 'data/demo_0/actions', np.array(['move'] * 100, dtype=object), dtype=h5py.string_dtype())",
     "/data/demo_0/actions", {"unexpected dtype", "string"}},
    {"RobomimicActionsCompound", "lift.hdf5", "robomimic(path)",
     "replace(f, 'data/demo_0/actions', np.zeros(100, dtype=[('x', '<f8'), ('grip', '<i4')]))",
     "/data/demo_0/actions", {"unexpected dtype", "compound"}},
    {"RobomimicNumSamplesIsAString", "lift.hdf5", "robomimic(path)",
     "f['data/demo_1'].attrs['num_samples'] = 'one hundred'",
     "/data/demo_1 attribute 'num_samples'", {"one hundred", "integer"}},
    {"RobomimicNumSamplesNegative", "lift.hdf5", "robomimic(path)",
     "f['data/demo_0'].attrs['num_samples'] = -5",
     "/data/demo_0 attribute 'num_samples'", {"-5"}},
    {"RobomimicLaterDemoWithOtherDtype", "lift.hdf5", "robomimic(path)",
     "replace(f, 'data/demo_1/actions', f['data/demo_1/actions'][:].astype(np.float32))",
     "/data/demo_1/actions", {"float32", "float64"}},
    {"RobomimicLaterDemoMissingObservation", "lift.hdf5", "robomimic(path)",
     "del f['data/demo_1/obs/eef_pos']",
     "/data/demo_1/obs/eef_pos", {"missing"}},
    {"RobomimicScalarActions", "lift.hdf5", "robomimic(path)",
     "replace(f, 'data/demo_0/actions', 1.5)",
     "/data/demo_0/actions", {"scalar", "100"}},
    {"AlohaActionAsStrings", "episode_0.hdf5", "aloha(path)",
     "replace(f, 'action', np.array(['x'] * 50, dtype=object), dtype=h5py.string_dtype())",
     "/action", {"unexpected dtype", "string"}},

    // Unknown layout, malformed attributes.
    {"UnknownLayoutListsTopLevel", "mystery.hdf5", R"PY(
with h5py.File(path, 'w') as f:
    f['foo'] = np.arange(10.0)
    f.create_group('bar')
)PY", nullptr,
     "/", {"unknown layout", "foo", "bar"}},
    {"UnknownLayoutEmptyFile", "blank.hdf5", "h5py.File(path, 'w').close()", nullptr,
     "/", {"unknown layout", "nothing"}},
    {"UnknownLayoutInAlohaFolder", "episode_1.hdf5", R"PY(
with h5py.File(path, 'w') as f:
    f['foo'] = np.arange(10.0)
)PY", nullptr,
     "/", {}, /*beside_good_aloha_episode=*/true},
    {"AlohaObservationsWithoutActionOrQpos", "episode_0.hdf5", R"PY(
with h5py.File(path, 'w') as f:
    f.create_group('observations')
    f['notes'] = 1
)PY", nullptr,
     "/", {"/action", "/observations/qpos"}},
    {"MalformedEnvArgsJson", "lift.hdf5", "robomimic(path)",
     R"(f['data'].attrs['env_args'] = '{"env_name": "Lift", "env_kwargs": {')",
     "/data attribute 'env_args'", {R"({"env_name": "Lift")", "JSON"}},
    {"EnvArgsJsonNotAnObject", "lift.hdf5", "robomimic(path)",
     "f['data'].attrs['env_args'] = '[1, 2, 3]'",
     "/data attribute 'env_args'", {"[1, 2, 3]", "JSON object"}},
    {"SoftLinkInsideDemo", "lift.hdf5", "robomimic(path)",
     "f['data/demo_0/obs/alias'] = h5py.SoftLink('/data/demo_0/actions')",
     "/data/demo_0/obs/alias", {"soft link"}},
    // clang-format on
};

class Hdf5RefusedOnOpenTest : public ::testing::TestWithParam<BadInput> {};

TEST_P(Hdf5RefusedOnOpenTest, OpenAndInspectRefuse) {
  const BadInput& c = GetParam();
  TempDir dir;
  const fs::path folder = c.beside_good_aloha_episode ? dir / "aloha" : dir.path();
  const fs::path file = folder / c.file;
  if (c.beside_good_aloha_episode) {
    fs::create_directory(folder);
    ASSERT_NO_FATAL_FAILURE(MakeFixture(folder / "episode_0.hdf5", "aloha(path)"));
  }
  if (c.make != nullptr) {
    std::string script = std::string(c.make) + "\n";
    if (c.edit != nullptr) script += "with h5py.File(path, 'a') as f:\n    " + std::string(c.edit) + "\n";
    ASSERT_NO_FATAL_FAILURE(MakeFixture(file, script));
  }
  ExpectRefused(c.beside_good_aloha_episode ? folder : file, file, c.field, c.fragments);
}

INSTANTIATE_TEST_SUITE_P(Hdf5BadInput, Hdf5RefusedOnOpenTest, ::testing::ValuesIn(kRefusedOnOpen),
                         [](const ::testing::TestParamInfo<BadInput>& info) { return std::string(info.param.name); });

// ---------------------------------------------------------------------------------------------------------
// Folders without episodes, files that are not HDF5 or are truncated, faults found only on read: each made or
// checked its own way.

TEST(Hdf5BadInputTest, FolderWithNoEpisodeFiles) {
  TempDir dir;
  const fs::path folder = dir / "recordings";
  fs::create_directory(folder);
  std::ofstream(folder / "README.txt") << "nothing here\n";
  std::ofstream(folder / "episode_x.hdf5") << "not an episode name\n";
  ExpectRefused(folder, folder, "", {"no episode_N.hdf5"});
}

TEST(Hdf5BadInputTest, EmptyFolder) {
  TempDir dir;
  const fs::path folder = dir / "empty";
  fs::create_directory(folder);
  ExpectRefused(folder, folder, "", {"no episode_N.hdf5"});
}

TEST(Hdf5BadInputTest, TextFileIsNotHdf5) {
  TempDir dir;
  const fs::path path = dir / "notes.hdf5";
  std::ofstream(path) << "hello world, this is not HDF5\nsecond line\n";
  const auto size = std::to_string(fs::file_size(path));
  ExpectRefused(path, path, "", {"not an HDF5 file", size + " bytes", "hello world"});
}

TEST(Hdf5BadInputTest, BinaryJunkIsNotHdf5) {
  TempDir dir;
  const fs::path path = dir / "camera.hdf5";
  {
    std::ofstream out(path, std::ios::binary);
    const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13, 'I', 'H', 'D', 'R'};
    out.write(reinterpret_cast<const char*>(png), sizeof png);
    for (int i = 0; i < 4000; ++i) out.put(static_cast<char>((i * 131 + 7) & 0xff));
  }
  const auto size = std::to_string(fs::file_size(path));
  // Control bytes of the file must not reach the message (it stays one printable line).
  ExpectRefused(path, path, "", {"not an HDF5 file", size + " bytes", "PNG"});
}

TEST(Hdf5BadInputTest, EmptyFileIsNotHdf5) {
  TempDir dir;
  const fs::path path = dir / "empty.hdf5";
  std::ofstream{path};
  ExpectRefused(path, path, "", {"not an HDF5 file", "0 bytes"});
}

TEST(Hdf5BadInputTest, AlohaFolderWithJunkEpisode) {
  TempDir dir;
  const fs::path folder = dir / "aloha";
  fs::create_directory(folder);
  ASSERT_NO_FATAL_FAILURE(MakeFixture(folder / "episode_0.hdf5", "aloha(path)"));
  std::ofstream(folder / "episode_1.hdf5") << "garbage\n";
  ExpectRefused(folder, folder / "episode_1.hdf5", "", {"not an HDF5 file"});
}

TEST(Hdf5BadInputTest, TruncatedRobomimicToHalf) {
  TempDir dir;
  const fs::path path = dir / "lift.hdf5";
  ASSERT_NO_FATAL_FAILURE(MakeFixture(path, "robomimic(path, image=True)"));
  const auto full = fs::file_size(path);
  ASSERT_GT(full, 100000u);
  fs::resize_file(path, full / 2);
  ExpectRefused(path, path, "", {"truncated", std::to_string(full / 2)});
}

TEST(Hdf5BadInputTest, TruncatedRobomimicJustAfterSuperblock) {
  TempDir dir;
  const fs::path path = dir / "lift.hdf5";
  ASSERT_NO_FATAL_FAILURE(MakeFixture(path, "robomimic(path)"));
  ASSERT_GT(fs::file_size(path), 1000u);
  fs::resize_file(path, 1000);
  ExpectRefused(path, path, "", {"truncated", "1000"});
}

TEST(Hdf5BadInputTest, TruncatedAlohaEpisodeInFolder) {
  TempDir dir;
  const fs::path folder = dir / "aloha";
  fs::create_directory(folder);
  ASSERT_NO_FATAL_FAILURE(MakeFixture(folder / "episode_0.hdf5", "aloha(path)"));
  ASSERT_NO_FATAL_FAILURE(MakeFixture(folder / "episode_1.hdf5", "aloha(path)"));
  const fs::path bad = folder / "episode_1.hdf5";
  fs::resize_file(bad, fs::file_size(bad) / 2);
  ExpectRefused(folder, bad, "", {"truncated", std::to_string(fs::file_size(bad))});
  // The file alone too.
  ExpectRefused(bad, bad, "", {"truncated"});
}

TEST(Hdf5BadInputTest, EpisodeFileTruncatedAfterOpenFailsOnRead) {
  TempDir dir;
  const fs::path folder = dir / "aloha";
  fs::create_directory(folder);
  ASSERT_NO_FATAL_FAILURE(MakeFixture(folder / "episode_0.hdf5", "aloha(path)"));
  ASSERT_NO_FATAL_FAILURE(MakeFixture(folder / "episode_1.hdf5", "aloha(path)"));
  const DatasetReader reader = DatasetReader::Open(folder);
  ASSERT_EQ(reader.num_episodes(), 2);
  const fs::path bad = folder / "episode_1.hdf5";
  fs::resize_file(bad, fs::file_size(bad) / 2);
  EXPECT_NO_THROW(reader.ReadEpisode(0));
  ExpectNames(ReadError(reader, 1), bad, "", {"truncated"});
}

TEST(Hdf5BadInputTest, CorruptCompressedImageChunkFailsOnRead) {
  TempDir dir;
  const fs::path path = dir / "lift.hdf5";
  ASSERT_NO_FATAL_FAILURE(MakeFixture(path, R"PY(
robomimic(path, T=20, image=True)
with h5py.File(path, 'r') as f:
    chunk = f['data/demo_1/obs/agentview_image'].id.get_chunk_info(5)
with open(path, 'r+b') as out:
    out.seek(chunk.byte_offset)
    out.write(b'\xff' * chunk.size)
)PY"));
  // The structure is intact, so Open succeeds; reading the broken episode is refused.
  const DatasetReader reader = DatasetReader::Open(path);
  ASSERT_EQ(reader.num_episodes(), 2);
  EXPECT_NO_THROW(reader.ReadEpisode(0));
  const InputError e = ReadError(reader, 1);
  ExpectNames(e, path, "/data/demo_1/obs/agentview_image", {"cannot read"});
  ExpectCliError(path, e, {"/data/demo_1/obs/agentview_image"});
}

TEST(Hdf5BadInputTest, CorruptMetadataAfterSuperblock) {
  TempDir dir;
  const fs::path path = dir / "lift.hdf5";
  ASSERT_NO_FATAL_FAILURE(MakeFixture(path, R"PY(
robomimic(path)
with open(path, 'r+b') as out:
    out.seek(200)
    out.write(b'\xab' * 1800)
)PY"));
  const InputError e = OpenError(path);
  EXPECT_EQ(e.file(), path.string());
  EXPECT_FALSE(e.problem().empty());
  ExpectCliError(path, e, {});
}

// ---------------------------------------------------------------------------------------------------------
// The good fixtures are good (so the failures above come from the planted faults).

TEST(Hdf5BadInputTest, UnbrokenFixturesRead) {
  TempDir dir;
  ASSERT_NO_FATAL_FAILURE(MakeFixture(dir / "lift.hdf5", "robomimic(path, image=True)"));
  ASSERT_NO_FATAL_FAILURE(MakeFixture(dir / "episode_0.hdf5", "aloha(path)"));
  const DatasetReader robomimic = DatasetReader::Open(dir / "lift.hdf5");
  EXPECT_EQ(robomimic.num_episodes(), 2);
  EXPECT_EQ(robomimic.ReadEpisode(1).metadata.length, 100);
  const DatasetReader aloha = DatasetReader::Open(dir / "episode_0.hdf5");
  EXPECT_EQ(aloha.num_episodes(), 1);
  EXPECT_EQ(aloha.ReadEpisode(0).metadata.length, 50);
  for (const char* name : {"lift.hdf5", "episode_0.hdf5"}) {
    const auto r = RunR2s({"inspect", (dir / name).string()});
    EXPECT_EQ(r.exit_code, 0) << r.err;
    EXPECT_EQ(r.err, "");
  }
}

// ---------------------------------------------------------------------------------------------------------
// Never a partial output file.

FeatureSpec Spec(DType dtype, std::vector<std::int64_t> shape) {
  FeatureSpec spec;
  spec.dtype = dtype;
  spec.shape = std::move(shape);
  return spec;
}

Column Doubles(std::int64_t frames, std::int64_t width, double offset) {
  std::vector<double> values(static_cast<std::size_t>(frames * width));
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = offset + 0.01 * static_cast<double>(i);
  return ColumnOf(Array::Of<double>({frames, width}, std::span<const double>(values)));
}

DatasetInfo RobomimicInfo() {
  DatasetInfo info;
  info.layout = StorageLayout::kRobomimic;
  info.fps = 20;
  info.tasks = {"Lift"};
  info.features = {{"action", Spec(DType::kFloat64, {7})}, {"observation.eef_pos", Spec(DType::kFloat64, {3})}};
  return info;
}

Episode RobomimicEpisode(std::int64_t index, std::int64_t frames, std::int64_t action_width = 7) {
  Episode episode;
  episode.metadata.index = index;
  episode.metadata.length = frames;
  episode.columns["action"] = Doubles(frames, action_width, 1.0);
  episode.columns["observation.eef_pos"] = Doubles(frames, 3, 2.0);
  return episode;
}

DatasetInfo AlohaInfo() {
  DatasetInfo info;
  info.layout = StorageLayout::kAloha;
  info.fps = 50;
  info.features = {{"action", Spec(DType::kFloat64, {14})}, {"observation.state", Spec(DType::kFloat64, {14})}};
  return info;
}

Episode AlohaEpisode(std::int64_t index, std::int64_t frames, std::int64_t state_width = 14) {
  Episode episode;
  episode.metadata.index = index;
  episode.metadata.length = frames;
  episode.columns["action"] = Doubles(frames, 14, 1.0);
  episode.columns["observation.state"] = Doubles(frames, state_width, 2.0);
  return episode;
}

TEST(Hdf5WriterNoPartialOutputTest, RobomimicMismatchedEpisodeWithoutCommitLeavesNothing) {
  TempDir dir;
  {
    DatasetWriter writer = DatasetWriter::Create(dir / "out.hdf5", RobomimicInfo());
    EXPECT_THROW(writer.Append(RobomimicEpisode(0, 10, /*action_width=*/6)), InputError);
    // Wrong dtype too.
    Episode float32 = RobomimicEpisode(1, 10);
    std::vector<float> values(70, 0.5f);
    float32.columns["action"] = ColumnOf(Array::Of<float>({10, 7}, std::span<const float>(values)));
    EXPECT_THROW(writer.Append(float32), InputError);
    EXPECT_FALSE(fs::exists(dir / "out.hdf5")) << "the final name appeared before Commit";
  }
  EXPECT_EQ(ListFiles(dir.path()), std::vector<std::string>{});
}

TEST(Hdf5WriterNoPartialOutputTest, RobomimicGoodThenBadEpisodeWithoutCommitLeavesNothing) {
  TempDir dir;
  {
    DatasetWriter writer = DatasetWriter::Create(dir / "out.hdf5", RobomimicInfo());
    writer.Append(RobomimicEpisode(0, 10));
    EXPECT_FALSE(fs::exists(dir / "out.hdf5"));
    try {
      writer.Append(RobomimicEpisode(1, 10, /*action_width=*/8));
      ADD_FAILURE() << "Append of a mismatched episode did not throw";
    } catch (const InputError& e) {
      EXPECT_EQ(e.file(), (dir / "out.hdf5").string());
      EXPECT_NE(e.problem().find("action"), std::string::npos) << e.what();
    }
  }
  EXPECT_EQ(ListFiles(dir.path()), std::vector<std::string>{});
}

TEST(Hdf5WriterNoPartialOutputTest, RobomimicFailureMidWriteLeavesNothing) {
  // Validation passes, but two features map to one dataset path, so writing the second one fails in HDF5.
  TempDir dir;
  DatasetInfo info = RobomimicInfo();
  info.features["observation.eef_pos"] = Spec(DType::kFloat64, {7});
  info.storage_paths = {{"action", "actions"}, {"observation.eef_pos", "actions"}};
  {
    DatasetWriter writer = DatasetWriter::Create(dir / "out.hdf5", info);
    Episode episode = RobomimicEpisode(0, 10);
    episode.columns["observation.eef_pos"] = Doubles(10, 7, 3.0);
    try {
      writer.Append(episode);
      ADD_FAILURE() << "Append did not throw";
    } catch (const InputError& e) {
      EXPECT_EQ(e.field(), "/data/demo_0/actions") << e.what();  // failed in the write, not in validation
    }
  }
  EXPECT_EQ(ListFiles(dir.path()), std::vector<std::string>{});
}

TEST(Hdf5WriterNoPartialOutputTest, RobomimicCommitLeavesExactlyTheFinalFile) {
  TempDir dir;
  const fs::path out = dir / "out.hdf5";
  {
    DatasetWriter writer = DatasetWriter::Create(out, RobomimicInfo());
    writer.Append(RobomimicEpisode(0, 10));
    writer.Append(RobomimicEpisode(1, 12));
    EXPECT_FALSE(fs::exists(out));
    writer.Commit();
    EXPECT_EQ(ListFiles(dir.path()), std::vector<std::string>{"out.hdf5"});
  }
  EXPECT_EQ(ListFiles(dir.path()), std::vector<std::string>{"out.hdf5"});
  const DatasetReader reader = DatasetReader::Open(out);
  EXPECT_EQ(reader.num_episodes(), 2);
  EXPECT_EQ(reader.episode_length(1), 12);
}

TEST(Hdf5WriterNoPartialOutputTest, RobomimicRefusesToOverwriteAndLeavesExistingFile) {
  TempDir dir;
  const fs::path out = dir / "out.hdf5";
  std::ofstream(out) << "precious";
  EXPECT_THROW(DatasetWriter::Create(out, RobomimicInfo()), InputError);
  EXPECT_EQ(ListFiles(dir.path()), std::vector<std::string>{"out.hdf5"});
  EXPECT_EQ(Slurp(out), "precious");
}

TEST(Hdf5WriterNoPartialOutputTest, RobomimicCommitRefusesFileThatAppearedAndCleansUp) {
  TempDir dir;
  const fs::path out = dir / "out.hdf5";
  {
    DatasetWriter writer = DatasetWriter::Create(out, RobomimicInfo());
    writer.Append(RobomimicEpisode(0, 10));
    std::ofstream(out) << "someone else's";
    EXPECT_THROW(writer.Commit(), InputError);
  }
  EXPECT_EQ(ListFiles(dir.path()), std::vector<std::string>{"out.hdf5"});
  EXPECT_EQ(Slurp(out), "someone else's");
}

TEST(Hdf5WriterNoPartialOutputTest, AlohaMismatchedEpisodeLeavesNoFile) {
  TempDir dir;
  const fs::path folder = dir / "aloha";
  {
    DatasetWriter writer = DatasetWriter::Create(folder, AlohaInfo());
    EXPECT_THROW(writer.Append(AlohaEpisode(0, 20, /*state_width=*/7)), InputError);
  }
  EXPECT_EQ(ListFiles(dir.path()), std::vector<std::string>{});
}

TEST(Hdf5WriterNoPartialOutputTest, AlohaFailureMidWriteLeavesNoEpisodeAndNoTempFile) {
  TempDir dir;
  const fs::path folder = dir / "aloha";
  DatasetInfo info = AlohaInfo();
  info.storage_paths = {{"action", "action"}, {"observation.state", "action"}};
  {
    DatasetWriter writer = DatasetWriter::Create(folder, info);
    try {
      writer.Append(AlohaEpisode(0, 20));
      ADD_FAILURE() << "Append did not throw";
    } catch (const InputError& e) {
      EXPECT_EQ(e.field(), "/action") << e.what();  // failed in the write, not in validation
    }
    EXPECT_EQ(ListFiles(folder), std::vector<std::string>{}) << "left behind while the writer lives";
  }
  EXPECT_EQ(ListFiles(dir.path()), std::vector<std::string>{});
}

TEST(Hdf5WriterNoPartialOutputTest, AlohaGoodThenBadEpisodeKeepsOnlyTheGoodOne) {
  TempDir dir;
  const fs::path folder = dir / "aloha";
  {
    DatasetWriter writer = DatasetWriter::Create(folder, AlohaInfo());
    writer.Append(AlohaEpisode(0, 20));
    EXPECT_THROW(writer.Append(AlohaEpisode(1, 20, /*state_width=*/13)), InputError);
  }
  EXPECT_EQ(ListFiles(folder), std::vector<std::string>{"episode_0.hdf5"});
  const DatasetReader reader = DatasetReader::Open(folder);
  EXPECT_EQ(reader.num_episodes(), 1);
  EXPECT_EQ(reader.ReadEpisode(0).metadata.length, 20);
}

TEST(Hdf5WriterNoPartialOutputTest, AlohaCommitLeavesExactlyTheEpisodeFiles) {
  TempDir dir;
  const fs::path folder = dir / "aloha";
  {
    DatasetWriter writer = DatasetWriter::Create(folder, AlohaInfo());
    writer.Append(AlohaEpisode(0, 20));
    writer.Append(AlohaEpisode(1, 25));
    writer.Commit();
  }
  EXPECT_EQ(ListFiles(folder), (std::vector<std::string>{"episode_0.hdf5", "episode_1.hdf5"}));
  const DatasetReader reader = DatasetReader::Open(folder);
  EXPECT_EQ(reader.num_episodes(), 2);
  EXPECT_EQ(reader.episode_length(1), 25);
}

}  // namespace
}  // namespace r2s::episode
