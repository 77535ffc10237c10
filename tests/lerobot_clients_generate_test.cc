// What `r2s generate` writes from a LeRobot source, through LeRobot's own code (the cached clients environment):
// from v3.0, lerobot 0.4.4's LeRobotDataset loads it as it is and iterates it through a DataLoader, and
// aggregate_datasets merges it with its source into a dataset that loads too; from v2.1, lerobot 0.3.3 (the last
// release that reads v2.1) loads it with the source's features.

#include <gtest/gtest.h>

#include <regex>
#include <string>

#include "tests/test_support.h"

namespace r2s {
namespace {

namespace fs = std::filesystem;
using testing::RunLeRobotPython;
using testing::RunR2s;
using testing::SourceDir;
using testing::TempDir;

TEST(LeRobotClientsGenerate, OutputLoadsAndMergesWithItsSource) {
  TempDir dir;
  const fs::path source = SourceDir() / "scenes/tabletop/lerobot_cube_tosses";
  const auto generated = RunR2s({"generate", "--quiet", "--scene", (SourceDir() / "scenes/tabletop").string(),
                                 "--episodes", source.string(), "--variants", "2", "--max-episodes", "1", "--keep",
                                 "all", "--cameras", "front", "--streams", "rgb,depth", "--out",
                                 (dir / "out").string()});
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  const auto check = RunLeRobotPython(R"(
import sys, torch
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from lerobot.datasets.aggregate import aggregate_datasets
source, synthetic, merged = sys.argv[1:4]
d = LeRobotDataset('local/synthetic', root=synthetic, video_backend='pyav')
assert d.num_episodes == 2, d.num_episodes
frames = 0
for batch in torch.utils.data.DataLoader(d, batch_size=8, num_workers=0):
    assert batch['observation.images.front'].shape[1:] == (3, 480, 640), batch['observation.images.front'].shape
    frames += batch['index'].shape[0]
assert frames == d.num_frames, (frames, d.num_frames)
aggregate_datasets(repo_ids=['local/source', 'local/synthetic'], aggr_repo_id='local/merged',
                   roots=[source, synthetic], aggr_root=merged)
m = LeRobotDataset('local/merged', root=merged, video_backend='pyav')
s = LeRobotDataset('local/source', root=source, video_backend='pyav')
assert m.num_episodes == s.num_episodes + 2, (m.num_episodes, s.num_episodes)
assert m.num_frames == s.num_frames + d.num_frames
last = m[m.num_frames - 1]
assert int(last['episode_index']) == m.num_episodes - 1
print('ok', m.num_episodes, m.num_frames)
)",
                                      {source.string(), (dir / "out/lerobot_cube_tosses").string(),
                                       (dir / "merged").string()});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("ok 5 "), std::string::npos) << check.out;
}

// The main job's deployment: a synthetic SO-101 pick-and-place variant of the bundled demonstrations (front and
// wrist cameras rendered, the cube's pose inferred from the grasp) loads in LeRobotDataset with LeRobot's SO-101
// features and merges with its source.
TEST(LeRobotClientsGenerate, So101VariantsLoadAndMergeWithTheirSource) {
  TempDir dir;
  const fs::path source = SourceDir() / "scenes/so101_pick_place/demos";
  const auto generated = RunR2s({"generate", "--scene", (SourceDir() / "scenes/so101_pick_place").string(),
                                 "--episodes", source.string(), "--variants", "1", "--max-episodes", "1", "--keep",
                                 "all", "--out", (dir / "out").string()});
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  // The episode renders two cameras for a minute or so: the log says it is working before it finishes, how much of
  // the episode is done and the time left.
  EXPECT_TRUE(std::regex_search(generated.err,
                                std::regex("generate: 0/1 episodes, none finished yet \\(\\+0\\.\\d\\d under way\\), "
                                           "working for 0:\\d\\d, about \\d+:\\d\\d left")))
      << generated.err;
  const auto check = RunLeRobotPython(R"(
import sys
from lerobot.datasets.lerobot_dataset import LeRobotDataset
from lerobot.datasets.aggregate import aggregate_datasets
source, synthetic, merged = sys.argv[1:4]
d = LeRobotDataset('local/synthetic', root=synthetic, video_backend='pyav')
s = LeRobotDataset('local/source', root=source, video_backend='pyav')
assert d.num_episodes == 1, d.num_episodes
assert d.meta.robot_type == 'so101_follower', d.meta.robot_type
assert d.features['observation.state']['names'] == s.features['observation.state']['names']
for key in ('observation.images.front', 'observation.images.wrist'):
    frame = d[d.num_frames // 2][key]
    assert tuple(frame.shape) == (3, 480, 640), (key, frame.shape)
    assert float(frame.std()) > 0.02, (key, 'a blank frame')
state = d[0]['observation.state']
assert abs(float(state[5])) <= 100 and abs(float(state[0])) <= 100, state
aggregate_datasets(repo_ids=['local/source', 'local/synthetic'], aggr_repo_id='local/merged',
                   roots=[source, synthetic], aggr_root=merged)
m = LeRobotDataset('local/merged', root=merged, video_backend='pyav')
assert m.num_episodes == s.num_episodes + 1, (m.num_episodes, s.num_episodes)
assert m.num_frames == s.num_frames + d.num_frames
print('ok', m.num_episodes)
)",
                                      {source.string(), (dir / "out/demos").string(), (dir / "merged").string()});
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("ok "), std::string::npos) << check.out;
}

TEST(LeRobotClientsGenerate, V21OutputLoadsInTheLeRobotThatReadsV21) {
  TempDir dir;
  const fs::path source = SourceDir() / "scenes/tabletop/lerobot_cube_tosses_v21";
  const auto generated = RunR2s({"generate", "--quiet", "--scene", (SourceDir() / "scenes/tabletop").string(),
                                 "--episodes", source.string(), "--variants", "2", "--max-episodes", "1", "--keep",
                                 "all", "--out", (dir / "out").string()});
  ASSERT_EQ(generated.exit_code, 0) << generated.err;
  const auto check = RunLeRobotPython(R"(
import sys, torch, lerobot
from lerobot.datasets.lerobot_dataset import LeRobotDataset, MultiLeRobotDataset
assert lerobot.__version__.startswith('0.3.'), lerobot.__version__
source, synthetic = sys.argv[1:3]
d = LeRobotDataset('local/synthetic', root=synthetic, video_backend='pyav')
assert d.num_episodes == 2, d.num_episodes
frames = sum(b['index'].shape[0] for b in torch.utils.data.DataLoader(d, batch_size=8, num_workers=0))
assert frames == d.num_frames, (frames, d.num_frames)
s = LeRobotDataset('local/source', root=source, video_backend='pyav')
assert s.meta.features == d.meta.features
print('ok', d.num_episodes, d.num_frames)
)",
                                      {source.string(), (dir / "out/lerobot_cube_tosses_v21").string()},
                                      /*lerobot_v21=*/true);
  ASSERT_EQ(check.exit_code, 0) << check.err;
  EXPECT_NE(check.out.find("ok 2 "), std::string::npos) << check.out;
}

}  // namespace
}  // namespace r2s
