// What real2sim reads from a LeRobot dataset against what LeRobot's own loader reads from it: lerobot 0.4.4 for
// v3.0 and lerobot 0.3.3 (the last release that reads v2.1) for v2.1, on the bundled real G1 dataset. Counts,
// lengths, sampled items (timestamps, state, action, one decoded camera frame) and the stored statistics against
// `r2s inspect --json`. Slow: each run imports PyTorch and LeRobot.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "episode/dataset_reader.h"
#include "test_support.h"

namespace r2s::episode {
namespace {

namespace fs = std::filesystem;
using r2s::testing::BundledLeRobotDataset;
using Json = nlohmann::json;

constexpr const char* kCamera = "observation.images.cam_high";

// Loads the dataset with LeRobotDataset and prints what it read as one JSON line. Items: dataset rows; the
// camera frame of the first item listed in argv[3] is written to argv[2] as raw uint8 HWC.
constexpr const char* kLoader = R"(
import json, sys
import numpy as np
import lerobot
from lerobot.datasets.lerobot_dataset import LeRobotDataset
ds = LeRobotDataset('local/g1', root=sys.argv[1], video_backend='pyav')
eps = ds.meta.episodes
lengths = [int(eps[i]['length']) for i in sorted(eps)] if isinstance(eps, dict) else [int(x) for x in eps['length']]
items = []
for k, idx in enumerate(int(x) for x in sys.argv[3].split(',')):
    item = ds[idx]
    items.append({'index': idx,
                  'episode_index': int(item['episode_index']),
                  'frame_index': int(item['frame_index']),
                  'timestamp': float(item['timestamp']),
                  'task': item['task'],
                  'state': item['observation.state'].tolist(),
                  'action': item['action'].tolist()})
    if k == 0:
        image = item['observation.images.cam_high']  # float32 [3, H, W] in [0, 1]
        np.round(image.numpy().transpose(1, 2, 0) * 255).astype(np.uint8).tofile(sys.argv[2])
stats = {}
for key in ['observation.state', 'action']:
    stats[key] = {k: np.asarray(ds.meta.stats[key][k]).astype(float).reshape(-1).tolist()
                  for k in ['min', 'max', 'mean', 'std', 'count']}
print(json.dumps({'lerobot': lerobot.__version__, 'num_episodes': ds.num_episodes, 'num_frames': ds.num_frames, 'fps': ds.fps,
                  'lengths': lengths, 'items': items, 'stats': stats}))
)";

Json RunLoader(const std::string& version, const fs::path& frame_file, const std::string& items) {
  const auto r = r2s::testing::RunLeRobotPython(
      kLoader, {BundledLeRobotDataset(version).string(), frame_file.string(), items}, version == "v2.1");
  EXPECT_EQ(r.exit_code, 0) << r.err.substr(r.err.size() > 4000 ? r.err.size() - 4000 : 0);
  const auto last = r.out.find_last_of('{') == std::string::npos ? std::string::npos : r.out.rfind("\n{");
  const std::string line = last == std::string::npos ? r.out : r.out.substr(last + 1);
  return Json::parse(line, nullptr, false);
}

class LeRobotClientsRead : public ::testing::TestWithParam<std::string> {};

INSTANTIATE_TEST_SUITE_P(Versions, LeRobotClientsRead, ::testing::Values("v2.1", "v3.0"),
                         [](const auto& info) { return info.param == "v2.1" ? "v21" : "v30"; });

TEST_P(LeRobotClientsRead, SameEpisodesFramesAndStatistics) {
  r2s::testing::TempDir dir;
  const fs::path frame_file = dir / "frame.rgb";
  // Item 1000 is episode 2, frame 264; the others are episode boundaries.
  const Json loaded = RunLoader(GetParam(), frame_file, "1000,0,392,393,1870");
  ASSERT_FALSE(loaded.is_discarded()) << "the loader printed no JSON";

  EXPECT_EQ(loaded["lerobot"], GetParam() == "v2.1" ? "0.3.3" : "0.4.4");
  const DatasetReader reader = DatasetReader::Open(BundledLeRobotDataset(GetParam()));
  EXPECT_EQ(loaded["num_episodes"], reader.num_episodes());
  EXPECT_EQ(loaded["fps"].get<double>(), *reader.info().fps);
  std::int64_t frames = 0;
  std::vector<std::int64_t> lengths, starts;
  for (std::int64_t i = 0; i < reader.num_episodes(); ++i) {
    starts.push_back(frames);
    lengths.push_back(reader.episode_length(i));
    frames += lengths.back();
  }
  EXPECT_EQ(loaded["num_frames"], frames);
  EXPECT_EQ(loaded["lengths"].get<std::vector<std::int64_t>>(), lengths);

  // Sampled items, found in the episodes real2sim reads.
  std::map<std::int64_t, Episode> episodes;
  for (const Json& item : loaded["items"]) {
    const std::int64_t index = item["index"];
    const auto e =
        static_cast<std::int64_t>(std::upper_bound(starts.begin(), starts.end(), index) - starts.begin()) - 1;
    const std::int64_t f = index - starts[static_cast<std::size_t>(e)];
    if (!episodes.contains(e)) episodes.emplace(e, reader.ReadEpisode(e));
    const Episode& episode = episodes.at(e);
    SCOPED_TRACE("item " + std::to_string(index));
    EXPECT_EQ(item["episode_index"], episode.metadata.index);
    EXPECT_EQ(item["frame_index"], f);
    EXPECT_EQ(item["task"], episode.metadata.task);
    EXPECT_EQ(static_cast<float>(item["timestamp"].get<double>()),
              episode.At("timestamp").data.values<float>()[static_cast<std::size_t>(f)]);
    for (const char* feature : {"observation.state", "action"}) {
      const auto values = episode.At(feature).data.values<float>();
      const auto expected = item[feature == std::string("action") ? "action" : "state"].get<std::vector<double>>();
      ASSERT_EQ(expected.size(), 26u);
      for (std::size_t c = 0; c < 26; ++c) {
        EXPECT_EQ(static_cast<float>(expected[c]), values[static_cast<std::size_t>(f) * 26 + c])
            << feature << "[" << c << "]";
      }
    }
    if (index == 1000) {
      // The camera frame LeRobot decoded (PyAV) against ours (FFmpeg's libraries): the same stream, so the same
      // picture up to the YUV->RGB conversion's rounding.
      const auto ours = episode.At(kCamera).data.values<std::uint8_t>();
      const std::size_t frame_bytes = 480 * 640 * 3;
      std::vector<char> theirs(frame_bytes);
      std::ifstream in(frame_file, std::ios::binary);
      in.read(theirs.data(), static_cast<std::streamsize>(frame_bytes));
      ASSERT_EQ(in.gcount(), static_cast<std::streamsize>(frame_bytes));
      double sum_diff = 0;
      int max_diff = 0;
      for (std::size_t k = 0; k < frame_bytes; ++k) {
        const int d = std::abs(static_cast<int>(static_cast<std::uint8_t>(theirs[k])) -
                               static_cast<int>(ours[static_cast<std::size_t>(f) * frame_bytes + k]));
        sum_diff += d;
        max_diff = std::max(max_diff, d);
      }
      RecordProperty("frame_1000_max_abs_diff", max_diff);
      RecordProperty("frame_1000_mean_abs_diff", std::to_string(sum_diff / frame_bytes));
      EXPECT_LE(max_diff, 3);
      EXPECT_LT(sum_diff / frame_bytes, 0.5);
    }
  }

  // LeRobot's stored statistics against those `r2s inspect` computes from the rows (count-weighted mean and
  // pooled variance across episodes, as LeRobot aggregates them).
  const auto r = r2s::testing::RunR2s({"inspect", BundledLeRobotDataset(GetParam()).string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json report = Json::parse(r.out);
  for (const char* feature : {"observation.state", "action"}) {
    const Json& theirs = loaded["stats"][feature];
    const Json& ours = report["statistics"][feature];
    EXPECT_EQ(theirs["count"][0].get<double>(), ours["count"].get<double>()) << feature;
    for (const char* k : {"min", "max", "mean", "std"}) {
      const auto a = theirs[k].get<std::vector<double>>();
      const auto b = ours[k].get<std::vector<double>>();
      ASSERT_EQ(a.size(), b.size()) << feature << " " << k;
      for (std::size_t c = 0; c < a.size(); ++c) {
        EXPECT_NEAR(a[c], b[c], 1e-6 + 1e-5 * std::abs(a[c])) << feature << " " << k << "[" << c << "]";
      }
    }
  }
}

}  // namespace
}  // namespace r2s::episode
