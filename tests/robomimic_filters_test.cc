// robomimic's filter keys (mask/<filter>: lists of demo names) in synthetic datasets: a synthetic demo is listed in
// every filter that lists the source demo it was made from, in the output's own numbering, whether it is written
// (DatasetWriter::Append), copied (AppendCopy, as generate assembles its parts and merge its shards) or a synthetic
// dataset is written back; real demos written back keep the lists verbatim (hdf5_roundtrip_test).

#include <gtest/gtest.h>

#include <fstream>
#include <string>

#include "episode/dataset_reader.h"
#include "episode/dataset_writer.h"
#include "tests/test_support.h"

namespace r2s {
namespace {

namespace fs = std::filesystem;
using episode::DatasetReader;
using episode::DatasetWriter;
using episode::Episode;
using testing::RunCommand;
using testing::RunPython;
using testing::RunR2s;
using testing::SourceDir;
using testing::TempDir;

std::string ReadBytes(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string Fixture(const std::string& name) { return (SourceDir() / "tests" / "fixtures" / name).string(); }

// The one line Python `code` prints about `file` (h5py), without its line break.
std::string PythonLine(const std::string& code, const fs::path& file) {
  const auto result = RunPython(code, {file.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
  std::string out = result.out;
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

// mask/<filter> of `file` as "train=demo_0,demo_1;valid=demo_2" (filters and demos sorted).
std::string Filters(const fs::path& file) {
  return PythonLine(R"py(
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    print(";".join(k + "=" + ",".join(sorted((d.decode() for d in f["mask"][k][()]), key=lambda d: int(d[5:])))
                   for k in sorted(f["mask"])))
)py",
                    file);
}

// The source episode of each synthetic demo, by provenance: "0,0,1,1".
std::string Sources(const fs::path& file) {
  return PythonLine(R"py(
import sys, json, h5py
with h5py.File(sys.argv[1], "r") as f:
    demos = sorted(f["data"], key=lambda d: int(d[5:]))
    print(",".join(str(json.loads(f["data"][d].attrs["r2s_provenance"])["source_episode"]) for d in demos))
)py",
                    file);
}

Episode Synthetic(const DatasetReader& source, std::int64_t source_index, std::int64_t index) {
  Episode e = source.ReadEpisode(source_index);
  e.metadata.index = index;
  episode::Provenance p;
  p.source_dataset = source.path().string();
  p.source_episode = source_index;
  p.variant = index;
  e.provenance = p;
  return e;
}

TEST(RobomimicFilters, SyntheticDemosAreListedUnderTheirSourcesFilters) {
  TempDir dir;
  const fs::path source = dir / "source.hdf5";
  const auto made = RunCommand({R2S_PYTHON, Fixture("make_robomimic.py"), source.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  ASSERT_EQ(Filters(source), "train=demo_0;valid=demo_1");

  // Written: demos 0, 1 made from source demo 1, demos 2, 3 from source demo 0.
  const DatasetReader reader = DatasetReader::Open(source);
  {
    DatasetWriter writer = DatasetWriter::Create(dir / "synthetic.hdf5", reader.info());
    for (std::int64_t i = 0; i < 4; ++i) writer.Append(Synthetic(reader, i < 2 ? 1 : 0, i));
    writer.Commit();
  }
  EXPECT_EQ(Filters(dir / "synthetic.hdf5"), "train=demo_2,demo_3;valid=demo_0,demo_1");

  // Copied from the synthetic dataset, reordered and thinned: the lists follow the source episodes, not the
  // names the demos had where they were copied from.
  const DatasetReader synthetic = DatasetReader::Open(dir / "synthetic.hdf5");
  {
    DatasetWriter writer = DatasetWriter::Create(dir / "copied.hdf5", synthetic.info());
    writer.AppendCopy(dir / "synthetic.hdf5", 3, 0, synthetic.episode_length(3));
    writer.AppendCopy(dir / "synthetic.hdf5", 0, 1, synthetic.episode_length(0));
    writer.Commit();
  }
  EXPECT_EQ(Filters(dir / "copied.hdf5"), "train=demo_0;valid=demo_1");

  // A synthetic dataset written back keeps its lists, and they still stand for the source's episodes.
  {
    DatasetWriter writer = DatasetWriter::Create(dir / "back.hdf5", synthetic.info());
    for (std::int64_t i = 0; i < synthetic.num_episodes(); ++i) writer.Append(synthetic.ReadEpisode(i));
    writer.Commit();
  }
  EXPECT_EQ(Filters(dir / "back.hdf5"), "train=demo_2,demo_3;valid=demo_0,demo_1");
  const auto attribute = RunPython(R"py(
import sys, h5py
with h5py.File(sys.argv[1], "r") as f:
    assert f["mask/train"].attrs["r2s_source_episodes"] == "[0]", dict(f["mask/train"].attrs)
    assert f["mask/valid"].attrs["r2s_source_episodes"] == "[1]", dict(f["mask/valid"].attrs)
)py",
                                   {(dir / "back.hdf5").string()});
  EXPECT_EQ(attribute.exit_code, 0) << attribute.err;
}

// r2s generate (success-filtered, so kept demos are renumbered) and r2s merge of its shards list each synthetic
// demo under the filters of its source demo, and the merge equals the unsharded run byte for byte.
TEST(RobomimicFilters, GenerateAndMergeRegenerateTheFilters) {
  TempDir dir;
  const fs::path source = dir / "tosses.hdf5";
  const auto made = RunCommand({R2S_PYTHON, Fixture("make_robomimic_tosses.py"),
                                (SourceDir() / "scenes/tabletop/episodes/cube_tosses.hdf5").string(), source.string()});
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const auto args = [&](const fs::path& out, std::vector<std::string> extra) {
    std::vector<std::string> a = {"generate", "--quiet", "--scene", (SourceDir() / "scenes/tabletop").string(),
                                  "--episodes", source.string(), "--variants", "3", "--seed", "7", "--out",
                                  out.string()};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  };
  const auto whole = RunR2s(args(dir / "whole", {}));
  ASSERT_EQ(whole.exit_code, 0) << whole.err;
  const fs::path output = dir / "whole/tosses.hdf5";
  // The expected lists, from each kept demo's provenance (train: source demos 0 and 2; valid: 1 and 3).
  const std::string sources = Sources(output);
  std::string train, valid;
  std::int64_t demo = 0;
  for (std::size_t i = 0; i < sources.size(); i += 2, ++demo) {
    std::string& list = (sources[i] == '0' || sources[i] == '2') ? train : valid;
    list += (list.empty() ? "" : ",") + ("demo_" + std::to_string(demo));
  }
  EXPECT_EQ(Filters(output), "train=" + train + ";valid=" + valid) << "sources " << sources;

  std::vector<std::string> merge = {"merge"};
  for (int i = 0; i < 2; ++i) {
    const auto shard = RunR2s(args(dir / "sharded", {"--shard", std::to_string(i) + "/2"}));
    ASSERT_EQ(shard.exit_code, 0) << shard.err;
    merge.push_back((dir / ("sharded/shard-" + std::to_string(i) + "-of-2")).string());
  }
  merge.insert(merge.end(), {"--out", (dir / "merged").string()});
  const auto merged = RunR2s(merge);
  ASSERT_EQ(merged.exit_code, 0) << merged.err;
  EXPECT_EQ(Filters(dir / "merged/tosses.hdf5"), Filters(output));
  EXPECT_TRUE(ReadBytes(output) == ReadBytes(dir / "merged/tosses.hdf5"))
      << "the merged shards differ from the unsharded run";
}

}  // namespace
}  // namespace r2s
