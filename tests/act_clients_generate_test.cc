// What `r2s generate` writes from an ALOHA source, read the way ACT's training reads it (tests/fixtures/act/
// act_reader.py re-implements tonyzhaozh/act's loader contract): load_data splits the episodes, computes get_norm_stats (finite) and its DataLoaders iterate
// batches, the source's cameras and a rendered one alike. And the root attribute `sim`, which ACT reads as the
// action alignment, keeps the source's value.

#include <gtest/gtest.h>

#include <string>

#include "tests/loaders_python.h"
#include "tests/test_support.h"

namespace r2s {
namespace {

namespace fs = std::filesystem;
using testing::RunLoaderPython;
using testing::RunPython;
using testing::RunR2s;
using testing::SourceDir;
using testing::TempDir;

fs::path Fixture(const std::string& name) { return SourceDir() / "tests" / "fixtures" / name; }

// One ALOHA episode (30 frames, /action, two cameras, root sim false) from tests/fixtures/make_aloha.py, and K
// variants of it made on the tabletop scene, its `wrist` camera rendered as observations/images/wrist. One source
// episode: ACT's get_norm_stats stacks the episodes, so they must be of one length.
fs::path Generate(const TempDir& dir, const std::string& name, int variants, bool sim,
                  const std::vector<std::string>& extra = {}) {
  const fs::path source = dir / (name + "_source");
  const auto made = RunPython(R"py(
import subprocess, sys, h5py
fixture, folder, sim = sys.argv[1], sys.argv[2], sys.argv[3] == "1"
subprocess.run([sys.executable, fixture, folder, "0"], check=True)
with h5py.File(folder + "/episode_0.hdf5", "r+") as f:
    f.attrs["sim"] = sim
)py",
                              {Fixture("make_aloha.py").string(), source.string(), sim ? "1" : "0"});
  EXPECT_EQ(made.exit_code, 0) << made.err;
  std::vector<std::string> args = {"generate", "--quiet", "--scene", (SourceDir() / "scenes/tabletop").string(),
                                   "--episodes", source.string(), "--variants", std::to_string(variants), "--keep",
                                   "all", "--out", (dir / name).string()};
  args.insert(args.end(), extra.begin(), extra.end());
  const auto generated = RunR2s(args);
  EXPECT_EQ(generated.exit_code, 0) << generated.err;
  return dir / name;
}

TEST(ActClientsGenerate, OutputLoadsInActsEpisodicDataset) {
  TempDir dir;
  const fs::path out = Generate(dir, "real", 5, false, {"--cameras", "wrist", "--streams", "rgb"});
  const auto check = RunLoaderPython(R"py(
import sys, h5py, numpy as np, torch
from act_reader import EpisodicDataset, get_norm_stats, load_data
folder = sys.argv[1]
np.random.seed(0)
train, val, stats, is_sim = load_data(folder, 5, ["cam_high", "cam_left_wrist"], 2, 2)
# The source's sim (false) is kept: ACT pairs an observation with the actions from one frame earlier.
assert not is_sim, is_sim
for key in ("action_mean", "action_std", "qpos_mean", "qpos_std"):
    assert stats[key].shape == (14,) and np.isfinite(stats[key]).all(), (key, stats[key])
seen = 0
for loader in (train, val):
    for image, qpos, action, is_pad in loader:
        assert tuple(image.shape[1:]) == (2, 3, 48, 64), image.shape
        assert tuple(qpos.shape[1:]) == (14,) and tuple(action.shape[1:]) == (30, 14), (qpos.shape, action.shape)
        assert tuple(is_pad.shape[1:]) == (30,) and is_pad.dtype == torch.bool
        assert torch.isfinite(image).all() and torch.isfinite(qpos).all() and torch.isfinite(action).all()
        seen += image.shape[0]
assert seen == 5, seen
# The rendered camera, through the same dataset class.
wrist = EpisodicDataset(list(range(5)), folder, ["wrist"], stats)
for image, qpos, action, is_pad in torch.utils.data.DataLoader(wrist, batch_size=5):
    assert tuple(image.shape) == (5, 1, 3, 240, 320), image.shape
    assert float(image.max()) > 0 and float(image.max()) <= 1.0
for i in range(5):
    with h5py.File(f"{folder}/episode_{i}.hdf5", "r") as f:
        assert f.attrs["sim"] == False and "r2s_provenance" in f.attrs
print("ACT read it all")
)py",
                                     {out.string()});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("ACT read it all"), std::string::npos) << check.out;
}

TEST(ActClientsGenerate, SimKeepsTheSourcesValue) {
  TempDir dir;
  const fs::path out = Generate(dir, "sim", 2, true);
  const auto check = RunLoaderPython(R"py(
import sys, numpy as np
from act_reader import load_data
np.random.seed(0)
train, val, stats, is_sim = load_data(sys.argv[1], 2, ["cam_high"], 1, 1)
assert is_sim, is_sim
print("ACT read it all")
)py",
                                     {out.string()});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
}

}  // namespace
}  // namespace r2s
