// LeRobot's own code judges what the LeRobot writer writes: a v3.0 and a v2.1 dataset of synthetic G1 episodes
// (the real dataset's features, fps and robot type; textured 640x480 frames) load unmodified in LeRobotDataset
// (0.4.4; 0.3.3 for v2.1), iterate through a torch DataLoader, decode within PSNR > 30 dB of the frames encoded,
// and merge with the real source through LeRobot's aggregate_datasets. 0.3.3 has no aggregate_datasets: the v2.1
// dataset is served with its source by 0.3.3's MultiLeRobotDataset, and merged after LeRobot 0.4.4's own
// v2.1 -> v3.0 converter. LeRobot's compute_episode_stats (0.4.4; 0.3.3 for v2.1) on the same data, and 0.4.4's
// aggregate_stats, are compared with the statistics we wrote.

#include <gtest/gtest.h>

#include "episode/dataset_writer.h"
#include "tests/lerobot_write_support.h"
#include "tests/test_support.h"

namespace r2s::episode {
namespace {

namespace fs = std::filesystem;
using testing::BundledLeRobotDataset;
using testing::RunLeRobotPython;
using testing::TempDir;
using namespace testing_lerobot;

constexpr std::int64_t kFrames = 30;
constexpr int kEpisodes = 2;

// The frames SyntheticEpisode draws, regenerated in numpy, and the state it draws.
constexpr const char* kCommon = R"py(
import sys, json, shutil
from pathlib import Path
import numpy as np, torch
H, W, T = 480, 640, 30

def frames(seed):
    t = np.arange(T)[:, None, None, None]; y = np.arange(H)[None, :, None, None]
    x = np.arange(W)[None, None, :, None]; c = np.arange(3)[None, None, None, :]
    v = 128 + 60 * np.sin(0.07 * x + 0.05 * t + seed + c) + 50 * np.cos(0.09 * y - 0.04 * t + 2 * c)
    return np.clip(v, 0, 255).astype(np.uint8)

def state(seed):
    t = np.arange(T)[:, None]; i = np.arange(26)[None, :]
    return np.sin(0.1 * t + 0.3 * i + seed).astype(np.float32)

REF = {e: frames(e) for e in range(2)}

def check_loader(ds, first_episode=0, first_index=0):
    # Every frame through a DataLoader: decoded image within PSNR > 30 dB, state exact.
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=0, shuffle=False)
    psnrs, n = [], 0
    for batch in loader:
        imgs = batch['observation.images.cam_high']
        for i in range(imgs.shape[0]):
            e = int(batch['episode_index'][i]) - first_episode; f = int(batch['frame_index'][i])
            assert int(batch['index'][i]) == first_index + e * T + f, (int(batch['index'][i]), e, f)
            dec = imgs[i].permute(1, 2, 0).numpy().astype(np.float64) * 255.0
            mse = np.mean((dec - REF[e][f].astype(np.float64)) ** 2)
            psnrs.append(10 * np.log10(255.0 ** 2 / mse))
            assert np.array_equal(batch['observation.state'][i].numpy(), state(e)[f]), (e, f)
            n += 1
    assert n == 2 * T, n
    print('decoded', n, 'frames: PSNR min %.2f mean %.2f dB' % (min(psnrs), np.mean(psnrs)))
    assert min(psnrs) > 30, min(psnrs)
)py";

constexpr const char* kV30 = R"py(
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from lerobot.datasets.aggregate import aggregate_datasets
from lerobot.datasets.compute_stats import compute_episode_stats
import pyarrow.parquet as pq
from PIL import Image
synth, source, work, rolled = map(Path, sys.argv[1:5])

ds = LeRobotDataset('local/synth', root=synth, video_backend='pyav')
assert ds.num_episodes == 2 and len(ds) == 2 * T, (ds.num_episodes, len(ds))
check_loader(ds)
# Episodes spread over several data and video files (tiny file sizes, 2 files per chunk).
assert (rolled / 'data/chunk-000/file-001.parquet').exists()
check_loader(LeRobotDataset('local/rolled', root=rolled, video_backend='pyav'))

# LeRobot's statistics of the same data vs ours (meta/episodes).
episodes = pq.read_table(synth / 'meta/episodes/chunk-000/file-000.parquet').to_pylist()
data = pq.read_table(synth / 'data/chunk-000/file-000.parquet').to_pydict()
worst, all_theirs = {}, []
for e in range(2):
    rows = [i for i, v in enumerate(data['episode_index']) if v == e]
    buffer = {k: np.array([data[k][i] for i in rows]) for k in data}
    paths = []
    for f in range(T):
        p = work / f'png/{e}/{f:03d}.png'; p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(REF[e][f]).save(p); paths.append(str(p))
    buffer['observation.images.cam_high'] = paths
    theirs = compute_episode_stats(buffer, ds.meta.features)
    all_theirs.append(theirs)
    for feature, stats in theirs.items():
        for stat, value in stats.items():
            ours = np.array(episodes[e][f'stats/{feature}/{stat}'], dtype=np.float64).reshape(np.shape(value))
            if feature == 'observation.images.cam_high' and stat == 'std':
                # LeRobot 0.4.4 squares uint8 pixels in uint8 (wraps): we write the true std instead.
                sample = np.stack([REF[e][f][::4, ::4] for f in range(T)]).reshape(-1, 3) / 255.0
                assert np.allclose(ours.ravel(), sample.std(0), atol=1e-9), (ours.ravel(), sample.std(0))
                print('image std: ours', ours.ravel(), 'numpy', sample.std(0), 'lerobot 0.4.4 (uint8 overflow)', np.ravel(value))
                continue
            diff = float(np.max(np.abs(ours - value)))
            scale = float(np.max(np.abs(value))) + 1e-12
            worst[(feature, stat)] = max(worst.get((feature, stat), 0.0), diff / scale)
for (feature, stat), rel in sorted(worst.items()):
    assert rel < 1e-5, (feature, stat, rel)
print('statistics vs compute_episode_stats: worst relative difference %.3g' % max(worst.values()))
# meta/stats.json vs LeRobot's aggregate_stats of its own episode statistics.
from lerobot.datasets.compute_stats import aggregate_stats
total = aggregate_stats(all_theirs)
ours_total = json.load(open(synth / 'meta/stats.json'))
worst_total = 0.0
for feature, stats in total.items():
    for stat, value in stats.items():
        if feature == 'observation.images.cam_high' and stat == 'std':
            continue
        ours = np.array(ours_total[feature][stat], dtype=np.float64).reshape(np.shape(value))
        rel = float(np.max(np.abs(ours - value)) / (np.max(np.abs(value)) + 1e-12))
        assert rel < 1e-5, (feature, stat, ours, value)
        worst_total = max(worst_total, rel)
print('stats.json vs aggregate_stats: worst relative difference %.3g' % worst_total)

# LeRobot's merge with the real source it was made from.
aggregate_datasets(['local/source', 'local/synth'], 'local/merged', roots=[source, synth], aggr_root=work / 'merged')
merged = LeRobotDataset('local/merged', root=work / 'merged', video_backend='pyav')
real_frames = 1871
assert merged.num_episodes == 7 and len(merged) == real_frames + 2 * T, (merged.num_episodes, len(merged))
sub = LeRobotDataset('local/merged', root=work / 'merged', video_backend='pyav', episodes=[5, 6])
check_loader(sub, first_episode=5, first_index=real_frames)
print('real item 0 image', tuple(merged[0]['observation.images.cam_high'].shape))
print('merged OK')
)py";

constexpr const char* kV21Load = R"py(
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from lerobot.datasets.compute_stats import compute_episode_stats
import lerobot, pyarrow.parquet as pq
from PIL import Image
synth, work, source = map(Path, sys.argv[1:4])
print('lerobot', lerobot.__file__)
ds = LeRobotDataset('local/synth', root=synth, video_backend='pyav')
assert ds.num_episodes == 2 and len(ds) == 2 * T, (ds.num_episodes, len(ds))
check_loader(ds)
# LeRobot 0.3.3's statistics (exact numpy min, max, mean, std) vs ours (meta/episodes_stats.jsonl).
lines = [json.loads(l) for l in open(synth / 'meta/episodes_stats.jsonl')]
worst = 0.0
for e in range(2):
    table = pq.read_table(synth / f'data/chunk-000/episode_{e:06d}.parquet').to_pydict()
    buffer = {k: np.array(v) for k, v in table.items()}
    paths = []
    for f in range(T):
        p = work / f'png/{e}/{f:03d}.png'; p.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(REF[e][f]).save(p); paths.append(str(p))
    buffer['observation.images.cam_high'] = paths
    theirs = compute_episode_stats(buffer, ds.meta.features)
    for feature, stats in theirs.items():
        for stat, value in stats.items():
            ours = np.array(lines[e]['stats'][feature][stat], dtype=np.float64).reshape(np.shape(value))
            rel = float(np.max(np.abs(ours - value)) / (np.max(np.abs(value)) + 1e-12))
            assert rel < 1e-5, (feature, stat, ours, value)
            worst = max(worst, rel)
print('statistics vs 0.3.3 compute_episode_stats: worst relative difference %.3g' % worst)
# 0.3.3 has no aggregate_datasets; its MultiLeRobotDataset serves the real source and ours as one dataset.
from lerobot.datasets.lerobot_dataset import MultiLeRobotDataset
shutil.copytree(source, work / 'multi/local/source')
shutil.copytree(synth, work / 'multi/local/synth')
multi = MultiLeRobotDataset(['local/source', 'local/synth'], root=work / 'multi', video_backend='pyav')
assert len(multi) == 1871 + 2 * T and multi.num_episodes == 7, (len(multi), multi.num_episodes)
assert not multi.disabled_features, multi.disabled_features
item = multi[1871 + T + 3]
assert int(item['dataset_index']) == 1 and int(item['episode_index']) == 1 and int(item['frame_index']) == 3
print('MultiLeRobotDataset OK', tuple(multi[0]['observation.images.cam_high'].shape))
print('v2.1 load OK')
)py";

constexpr const char* kV21ConvertAndMerge = R"py(
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from lerobot.datasets.aggregate import aggregate_datasets
from lerobot.datasets.v30.convert_dataset_v21_to_v30 import convert_dataset
synth, source, work = map(Path, sys.argv[1:4])
shutil.copytree(synth, work / 'conv/local/synth')
convert_dataset('local/synth', root=work / 'conv', push_to_hub=False)
converted = work / 'conv/local/synth'
ds = LeRobotDataset('local/synth', root=converted, video_backend='pyav')
check_loader(ds)
aggregate_datasets(['local/source', 'local/synth'], 'local/merged', roots=[source, converted], aggr_root=work / 'merged')
merged = LeRobotDataset('local/merged', root=work / 'merged', video_backend='pyav')
assert merged.num_episodes == 7 and len(merged) == 1871 + 2 * T, (merged.num_episodes, len(merged))
check_loader(LeRobotDataset('local/merged', root=work / 'merged', video_backend='pyav', episodes=[5, 6]),
             first_episode=5, first_index=1871)
print('v2.1 -> v3.0 -> merged OK')
)py";

fs::path WriteSynthetic(const fs::path& out, const std::string& version, bool tiny_files = false) {
  DatasetInfo info = G1Info(version, true);
  if (tiny_files) {
    auto info_json = nlohmann::json::parse(info.lerobot->info_json);
    info_json["data_files_size_in_mb"] = 0.001;
    info_json["video_files_size_in_mb"] = 0.001;
    info_json["chunks_size"] = 2;
    info.lerobot->info_json = info_json.dump(4);
  }
  DatasetWriter writer = DatasetWriter::Create(out, info);
  for (int e = 0; e < kEpisodes; ++e) writer.Append(SyntheticEpisode(e, kFrames, info.features, e));
  writer.Commit();
  return out;
}

TEST(LeRobotClientsWriteTest, V30LoadsIteratesAndMergesWithItsSource) {
  TempDir dir;
  const fs::path synth = WriteSynthetic(dir / "synth", "v3.0");
  fs::copy(BundledLeRobotDataset("v3.0"), dir / "source", fs::copy_options::recursive);
  fs::create_directories(dir / "work");
  const fs::path rolled = WriteSynthetic(dir / "rolled", "v3.0", true);
  const auto result = RunLeRobotPython(std::string(kCommon) + kV30, {synth.string(), (dir / "source").string(),
                                                                     (dir / "work").string(), rolled.string()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  std::cout << result.out;
}

TEST(LeRobotClientsWriteTest, V21LoadsInLeRobot033) {
  TempDir dir;
  const fs::path synth = WriteSynthetic(dir / "synth", "v2.1");
  fs::create_directories(dir / "work");
  const auto result =
      RunLeRobotPython(std::string(kCommon) + kV21Load,
                       {synth.string(), (dir / "work").string(), BundledLeRobotDataset("v2.1").string()}, true);
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  std::cout << result.out;
}

TEST(LeRobotClientsWriteTest, V21ConvertsWithLeRobotAndMergesWithTheSource) {
  TempDir dir;
  const fs::path synth = WriteSynthetic(dir / "synth", "v2.1");
  fs::copy(BundledLeRobotDataset("v3.0"), dir / "source", fs::copy_options::recursive);
  fs::create_directories(dir / "work");
  const auto result = RunLeRobotPython(std::string(kCommon) + kV21ConvertAndMerge,
                                       {synth.string(), (dir / "source").string(), (dir / "work").string()});
  EXPECT_EQ(result.exit_code, 0) << result.out << result.err;
  std::cout << result.out;
}

}  // namespace
}  // namespace r2s::episode
