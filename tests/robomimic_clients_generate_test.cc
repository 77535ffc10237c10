// What `r2s generate` writes from a robomimic source, through robomimic's own code (0.3.0, the cached clients
// environment's overlay-loaders): SequenceDataset loads every obs key, the added depth and segmentation included,
// in each hdf5_cache_mode and iterates it through a torch DataLoader; its scripts/get_dataset_info.py reads it; and
// filter_by_attribute="train" selects exactly the synthetic demos made from the source's train demos.

#include <gtest/gtest.h>

#include <string>

#include "episode/dataset_reader.h"
#include "tests/loaders_python.h"
#include "tests/test_support.h"

namespace r2s {
namespace {

namespace fs = std::filesystem;
using testing::RunLoaderPython;
using testing::RunR2s;
using testing::SourceDir;
using testing::TempDir;

// The first 4 bundled cube tosses as a robosuite-style robomimic dataset with a small wrist camera image
// (tests/fixtures/make_robomimic_tosses.py): actions, obs/wrist_image, mask/train {0, 2} and mask/valid {1, 3}.
void MakeSource(const fs::path& path) {
  const auto made = testing::RunCommand({R2S_PYTHON, (SourceDir() / "tests/fixtures/make_robomimic_tosses.py").string(),
                                         (SourceDir() / "scenes/tabletop/episodes/cube_tosses.hdf5").string(),
                                         path.string(), "--wrist-image"});
  ASSERT_EQ(made.exit_code, 0) << made.err;
}

TEST(RobomimicClientsGenerate, OutputLoadsInRobomimicWithDepthSegmentationAndFilters) {
  TempDir dir;
  MakeSource(dir / "tosses.hdf5");
  // 3 source demos x 2 variants: output demos 0-1 come from source demo 0, 2-3 from 1, 4-5 from 2.
  const auto generated = RunR2s({"generate", "--quiet", "--scene", (SourceDir() / "scenes/tabletop").string(),
                                 "--episodes", (dir / "tosses.hdf5").string(), "--variants", "2", "--max-episodes",
                                 "3", "--keep", "all", "--cameras", "wrist", "--streams", "rgb,depth,segmentation",
                                 "--out", (dir / "out").string()});
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  const fs::path output = dir / "out/tosses.hdf5";

  // real2sim reads robosuite's flat camera keys back as its per-camera features; the source's wrist image bound
  // the scene camera `wrist` (rendered at the source's size, no longer black).
  const auto reader = episode::DatasetReader::Open(output);
  const auto& features = reader.info().features;
  ASSERT_EQ(features.count("observation.images.wrist"), 1u);
  EXPECT_EQ(features.at("observation.images.wrist").shape, (std::vector<std::int64_t>{60, 80, 3}));
  ASSERT_EQ(features.count("observation.depth.wrist"), 1u);
  EXPECT_EQ(features.at("observation.depth.wrist").shape, (std::vector<std::int64_t>{60, 80, 1}));
  EXPECT_EQ(features.at("observation.depth.wrist").dtype, episode::DType::kFloat32);
  ASSERT_EQ(features.count("observation.segmentation.wrist"), 1u);
  EXPECT_EQ(features.at("observation.segmentation.wrist").shape, (std::vector<std::int64_t>{60, 80, 1}));
  EXPECT_EQ(features.at("observation.segmentation.wrist").dtype, episode::DType::kUInt16);
  EXPECT_EQ(reader.info().storage_paths.at("observation.images.wrist"), "obs/wrist_image");
  const episode::Episode first = reader.ReadEpisode(0);
  const auto image = first.At("observation.images.wrist").data.values<std::uint8_t>();
  EXPECT_TRUE(std::any_of(image.begin(), image.end(), [](std::uint8_t v) { return v != 0; }));
  {
    // As a source, that output's [H, W, 1] depth and segmentation bind the camera too: rendered again, same shapes.
    const auto again = RunR2s({"generate", "--quiet", "--scene", (SourceDir() / "scenes/tabletop").string(),
                               "--episodes", output.string(), "--variants", "1", "--max-episodes", "1", "--keep", "all",
                               "--out", (dir / "again").string()});
    ASSERT_EQ(again.exit_code, 0) << again.err;
    const auto second = episode::DatasetReader::Open(dir / "again/tosses.hdf5");
    EXPECT_EQ(second.info().features, features);
    const episode::Episode e = second.ReadEpisode(0);
    const auto depth = e.At("observation.depth.wrist").data.values<float>();
    EXPECT_TRUE(std::any_of(depth.begin(), depth.end(), [](float v) { return v > 0; }));
    EXPECT_EQ(depth.size(), 30u * 60 * 80);
  }

  const auto check = RunLoaderPython(R"py(
import io, contextlib, json, runpy, sys
import h5py, numpy as np, torch
import robomimic
import robomimic.utils.obs_utils as ObsUtils
from robomimic.utils.dataset import SequenceDataset
assert robomimic.__version__ == "0.3.0", robomimic.__version__
path = sys.argv[1]

with h5py.File(path, "r") as f:
    demos = sorted(f["data"], key=lambda d: int(d[5:]))
    obs = f["data/demo_0/obs"]
    # Flat keys only: robomimic splits "obs/<key>" at one '/'.
    assert all(isinstance(obs[k], h5py.Dataset) for k in obs), list(obs)
    assert obs["wrist_image"].shape[1:] == (60, 80, 3) and obs["wrist_image"].dtype == np.uint8
    assert obs["wrist_depth"].shape[1:] == (60, 80, 1) and obs["wrist_depth"].dtype == np.float32
    assert obs["wrist_segmentation"].shape[1:] == (60, 80, 1) and obs["wrist_segmentation"].dtype == np.uint16
    low_dim = sorted(k for k in obs if obs[k].ndim == 2)
    source_of = {d: json.loads(f[f"data/{d}"].attrs["r2s_provenance"])["source_episode"] for d in demos}
    total = sum(int(f[f"data/{d}"].attrs["num_samples"]) for d in demos)
assert len(demos) == 6, demos
train = [d for d in demos if source_of[d] in (0, 2)]
assert train == ["demo_0", "demo_1", "demo_4", "demo_5"], (train, source_of)

# robomimic has no segmentation modality: its ids go as low_dim (unprocessed), the default for unknown keys.
ObsUtils.initialize_obs_utils_with_obs_specs({"obs": {
    "low_dim": low_dim + ["wrist_segmentation"], "rgb": ["wrist_image"], "depth": ["wrist_depth"]}})
keys = low_dim + ["wrist_image", "wrist_depth", "wrist_segmentation"]
for mode in ("all", "low_dim", None):
    for filter_key in (None, "train"):
        ds = SequenceDataset(hdf5_path=path, obs_keys=keys, dataset_keys=("actions",), frame_stack=1, seq_length=10,
                             pad_frame_stack=True, pad_seq_length=True, get_pad_mask=False, goal_mode=None,
                             hdf5_cache_mode=mode, hdf5_use_swmr=True, hdf5_normalize_obs=False,
                             filter_by_attribute=filter_key, load_next_obs=False)
        assert ds.demos == (train if filter_key else demos), (mode, filter_key, ds.demos)
        seen = 0
        for batch in torch.utils.data.DataLoader(ds, batch_size=16, shuffle=True, num_workers=0):
            b = batch["obs"]
            assert tuple(b["wrist_depth"].shape[1:]) == (10, 60, 80, 1), b["wrist_depth"].shape
            assert tuple(b["wrist_segmentation"].shape[1:]) == (10, 60, 80, 1)
            assert tuple(batch["actions"].shape[1:]) == (10, 7)
            # What robomimic's algorithms do to a batch: images and depth to [C, H, W] floats.
            p = ObsUtils.process_obs_dict(b)
            assert tuple(p["wrist_image"].shape[2:]) == (3, 60, 80) and float(p["wrist_image"].max()) <= 1.0
            assert tuple(p["wrist_depth"].shape[2:]) == (1, 60, 80)
            assert torch.isfinite(p["wrist_depth"]).all()
            seen += batch["actions"].shape[0]
        assert seen == len(ds), (mode, filter_key, seen, len(ds))
        if filter_key is None:
            assert len(ds) == total, (len(ds), total)

# robomimic's dataset report, as its users run it.
for extra in ([], ["--filter_key", "train"]):
    sys.argv = ["get_dataset_info.py", "--dataset", path, "--verbose"] + extra
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_module("robomimic.scripts.get_dataset_info", run_name="__main__")
    text = out.getvalue()
    expected = "total trajectories: {}".format(4 if extra else 6)
    assert expected in text, text
    if not extra:
        assert "filter key train with 4 demos" in text and "filter key valid with 2 demos" in text, text
        assert "observation key wrist_depth with shape (30, 60, 80, 1)" in text, text
print("robomimic read it all")
)py",
                                     {output.string()});
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_NE(check.out.find("robomimic read it all"), std::string::npos) << check.out;
}

}  // namespace
}  // namespace r2s
