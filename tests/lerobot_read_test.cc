// Reading LeRobot datasets (v2.1 and v3.0) through DatasetReader, on the bundled real G1 dataset
// (tests/data/g1_pick_bottle_lerobot: 5 episodes, 1871 frames, AV1 640x480 video), and bad input through `r2s
// inspect`. Decoding all 1871 frames takes a while, so most tests read copies without the video feature (its
// entry removed from info.json) and only a few decode video.
#include <gtest/gtest.h>

#include <arrow/api.h>
#include <arrow/io/memory.h>
#include <arrow/ipc/dictionary.h>
#include <arrow/ipc/reader.h>
#include <algorithm>
#include <array>
#include <cmath>
#include <fstream>
#include <functional>
#include <set>
#include <nlohmann/json.hpp>
#include <sstream>

#include "episode/dataset_reader.h"
#include "episode/input_error.h"
#include "test_support.h"

namespace r2s::episode {
namespace {

namespace fs = std::filesystem;
using r2s::testing::BundledLeRobotDataset;
using r2s::testing::RunR2s;
using r2s::testing::TempDir;
using Json = nlohmann::ordered_json;

constexpr const char* kCamera = "observation.images.cam_high";
constexpr const char* kTask = "Pick up the yellow bottle on the table.";
const std::vector<std::int64_t> kLengths = {393, 343, 357, 368, 410};

std::string ReadText(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteText(const fs::path& path, const std::string& text) { r2s::testing::WriteTextFile(path, text); }

bool Contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

// A copy of the bundled dataset; without its videos (and the video feature taken out of info.json) when
// `videos` is false, so reading it decodes nothing.
fs::path CopyDataset(const std::string& version, const TempDir& dir, bool videos) {
  const fs::path source = BundledLeRobotDataset(version);
  const fs::path target = dir / version;
  fs::create_directories(target);
  fs::copy(source / "meta", target / "meta", fs::copy_options::recursive);
  fs::copy(source / "data", target / "data", fs::copy_options::recursive);
  if (videos) {
    fs::copy(source / "videos", target / "videos", fs::copy_options::recursive);
  } else {
    Json info = Json::parse(ReadText(target / "meta" / "info.json"));
    info["features"].erase(kCamera);
    WriteText(target / "meta" / "info.json", info.dump(4));
  }
  return target;
}

// Edits a copy's info.json.
template <class Fn>
void EditInfo(const fs::path& dataset, Fn&& edit) {
  Json info = Json::parse(ReadText(dataset / "meta" / "info.json"));
  edit(info);
  WriteText(dataset / "meta" / "info.json", info.dump(4));
}

class LeRobotRead : public ::testing::TestWithParam<std::string> {};

INSTANTIATE_TEST_SUITE_P(Versions, LeRobotRead, ::testing::Values("v2.1", "v3.0"),
                         [](const auto& info) { return info.param == "v2.1" ? "v21" : "v30"; });

TEST_P(LeRobotRead, DatasetDescriptionIsWhatInfoJsonSays) {
  const fs::path path = BundledLeRobotDataset(GetParam());
  const DatasetReader reader = DatasetReader::Open(path);
  const DatasetInfo& info = reader.info();
  EXPECT_EQ(info.layout, StorageLayout::kLeRobot);
  ASSERT_TRUE(info.fps);
  EXPECT_EQ(*info.fps, 30.0);
  EXPECT_EQ(info.robot_type, "Unitree_G1_Inspire");
  EXPECT_EQ(info.tasks, std::vector<std::string>{kTask});

  ASSERT_EQ(reader.num_episodes(), 5);
  for (std::int64_t i = 0; i < 5; ++i) EXPECT_EQ(reader.episode_length(i), kLengths[static_cast<std::size_t>(i)]);
  if (GetParam() == "v2.1") {
    EXPECT_EQ(reader.episode_file(3), path / "data" / "chunk-000" / "episode_000003.parquet");
  } else {
    EXPECT_EQ(reader.episode_file(3), path / "data" / "chunk-000" / "file-000.parquet");
  }

  // Features, as info.json declares them.
  std::vector<std::string> names;
  for (const auto& [name, spec] : info.features) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{"action", "episode_index", "frame_index", "index", kCamera,
                                             "observation.state", "task_index", "timestamp"}));
  const Json json = Json::parse(ReadText(path / "meta" / "info.json"));
  for (const char* vector : {"observation.state", "action"}) {
    const FeatureSpec& spec = info.features.at(vector);
    EXPECT_EQ(spec.dtype, DType::kFloat32);
    EXPECT_EQ(spec.shape, std::vector<std::int64_t>{26});
    ASSERT_EQ(spec.names.size(), 1u);
    EXPECT_EQ(spec.names[0], json["features"][vector]["names"][0].get<std::vector<std::string>>());
    EXPECT_EQ(spec.names[0].front(), "kLeftShoulderPitch");
    EXPECT_EQ(spec.ElementName(25), "kRightHandThumbRotation");
  }
  const FeatureSpec& camera = info.features.at(kCamera);
  EXPECT_EQ(camera.dtype, DType::kUInt8);
  EXPECT_EQ(camera.shape, (std::vector<std::int64_t>{480, 640, 3}));
  EXPECT_TRUE(camera.IsImage());
  for (const auto& axis : camera.names) EXPECT_TRUE(axis.empty());  // "height", ... label axes, not elements
  EXPECT_EQ(info.features.at("timestamp").dtype, DType::kFloat32);
  for (const char* scalar : {"timestamp", "frame_index", "episode_index", "index", "task_index"}) {
    EXPECT_EQ(info.features.at(scalar).shape, std::vector<std::int64_t>{1}) << scalar;
    if (std::string(scalar) != "timestamp") {
      EXPECT_EQ(info.features.at(scalar).dtype, DType::kInt64) << scalar;
    }
  }

  // What a writer needs to write the same version with the same column types.
  ASSERT_TRUE(info.lerobot);
  EXPECT_EQ(info.lerobot->codebase_version, GetParam());
  EXPECT_EQ(info.lerobot->info_json, ReadText(path / "meta" / "info.json"));
  EXPECT_EQ(info.lerobot->video_codecs, (std::map<std::string, std::string>{{kCamera, "av1"}}));
  auto buffer = std::make_shared<arrow::Buffer>(info.lerobot->data_arrow_schema);
  arrow::io::BufferReader stream(buffer);
  arrow::ipc::DictionaryMemo memo;
  auto schema = arrow::ipc::ReadSchema(&stream, &memo);
  ASSERT_TRUE(schema.ok()) << schema.status().ToString();
  const auto state = (*schema)->GetFieldByName("observation.state");
  ASSERT_TRUE(state);
  EXPECT_EQ(state->type()->ToString(),
            GetParam() == "v2.1" ? "fixed_size_list<element: float>[26]" : "list<element: float>");
  EXPECT_EQ((*schema)->GetFieldByName("timestamp")->type()->ToString(), "float");
  ASSERT_TRUE((*schema)->metadata());
  EXPECT_TRUE((*schema)->metadata()->Contains(GetParam() == "v2.1" ? "huggingface" : "pandas"));
}

TEST_P(LeRobotRead, EpisodesHoldTheirRows) {
  TempDir dir;
  const DatasetReader reader = DatasetReader::Open(CopyDataset(GetParam(), dir, /*videos=*/false));
  std::int64_t index = 0;
  for (std::int64_t i = 0; i < reader.num_episodes(); ++i) {
    const Episode episode = reader.ReadEpisode(i);
    const std::int64_t length = kLengths[static_cast<std::size_t>(i)];
    EXPECT_EQ(episode.metadata.index, i);
    EXPECT_EQ(episode.metadata.length, length);
    EXPECT_EQ(episode.metadata.task, kTask);
    EXPECT_EQ(episode.columns.size(), 7u);  // the video feature was taken out of this copy
    const auto timestamp = episode.At("timestamp").data.values<float>();
    const auto frame_index = episode.At("frame_index").data.values<std::int64_t>();
    const auto episode_index = episode.At("episode_index").data.values<std::int64_t>();
    const auto dataset_index = episode.At("index").data.values<std::int64_t>();
    EXPECT_EQ(episode.At("timestamp").data.shape, (std::vector<std::int64_t>{length, 1}));
    EXPECT_EQ(episode.At("observation.state").data.shape, (std::vector<std::int64_t>{length, 26}));
    ASSERT_EQ(static_cast<std::int64_t>(timestamp.size()), length);
    for (std::int64_t f = 0; f < length; ++f) {
      const auto k = static_cast<std::size_t>(f);
      EXPECT_EQ(frame_index[k], f);
      EXPECT_EQ(episode_index[k], i);
      EXPECT_EQ(dataset_index[k], index++);
      EXPECT_NEAR(timestamp[k], static_cast<double>(f) / 30.0, 1e-6) << "episode " << i << " frame " << f;
    }
    EXPECT_EQ(episode.At("task_index").data.values<std::int64_t>()[0], 0);
  }
  EXPECT_EQ(index, 1871);
}

// Only the named features, with the two columns rows are checked by, and no video decoded (the bundled copy with
// its video): what generate reads of every source episode before it starts.
TEST_P(LeRobotRead, ReadEpisodeFeaturesReadsOnlyThoseAndNoVideo) {
  const DatasetReader reader = DatasetReader::Open(BundledLeRobotDataset(GetParam()));
  const Episode full = reader.ReadEpisode(1);
  const Episode some = reader.ReadEpisodeFeatures(1, {"observation.state", "not.a.feature"});
  std::set<std::string> names;
  for (const auto& [name, column] : some.columns) names.insert(name);
  EXPECT_EQ(names, (std::set<std::string>{"episode_index", "observation.state", "timestamp"}));
  EXPECT_EQ(some.At("observation.state").data, full.At("observation.state").data);
  EXPECT_EQ(some.metadata.length, full.metadata.length);
  EXPECT_GT(full.columns.size(), some.columns.size());
}

TEST(LeRobotRead, StateAndActionAreEqualInBothVersions) {
  TempDir dir;
  const DatasetReader v21 = DatasetReader::Open(CopyDataset("v2.1", dir, false));
  const DatasetReader v30 = DatasetReader::Open(CopyDataset("v3.0", dir, false));
  double sum = 0;
  for (std::int64_t i = 0; i < 5; ++i) {
    const Episode a = v21.ReadEpisode(i), b = v30.ReadEpisode(i);
    for (const auto& [name, column] : a.columns) {
      EXPECT_EQ(column.data, b.At(name).data) << name << ", episode " << i;
    }
    for (float x : a.At("observation.state").data.values<float>()) sum += std::abs(x);
  }
  EXPECT_GT(sum, 1000.0);  // real values, not zeros
}

TEST(LeRobotRead, VideoFramesAreEqualInBothVersions) {
  const DatasetReader v21 = DatasetReader::Open(BundledLeRobotDataset("v2.1"));
  const DatasetReader v30 = DatasetReader::Open(BundledLeRobotDataset("v3.0"));
  // Episode 2: in v3.0 it starts 24.53 s into the concatenated file.
  const Episode a = v21.ReadEpisode(2), b = v30.ReadEpisode(2);
  const Array& fa = a.At(kCamera).data;
  const Array& fb = b.At(kCamera).data;
  ASSERT_EQ(fa.shape, (std::vector<std::int64_t>{357, 480, 640, 3}));
  ASSERT_EQ(fb.shape, fa.shape);
  const std::size_t frame = 480 * 640 * 3;
  for (std::size_t f = 0; f < 5; ++f) {
    EXPECT_TRUE(
        std::equal(fa.bytes.begin() + f * frame, fa.bytes.begin() + (f + 1) * frame, fb.bytes.begin() + f * frame))
        << "frame " << f;
  }
  EXPECT_EQ(fa.bytes, fb.bytes);
  // A real picture: neither flat nor black.
  const auto pixels = fa.values<std::uint8_t>();
  double mean = 0;
  for (std::size_t k = 0; k < frame; ++k) mean += pixels[k];
  mean /= frame;
  EXPECT_GT(mean, 30.0);
  EXPECT_LT(mean, 220.0);
  EXPECT_EQ(a.At("observation.state").data, b.At("observation.state").data);
}

// ---------------------------------------------------------------------------------------------------------
// Column kinds the bundled dataset lacks, in a small dataset written here with pyarrow: an "image" feature (PNG in
// a struct column), a [2, 3] feature as list<list<double>> with dict names, large_list<int32>, bool, a float32
// scalar, fixed_size_list<int16>[1] for a shape [1], a skipped string feature, and tasks stored out of order.

constexpr const char* kToyWriter = R"(
import json, os, struct, sys, zlib
import pyarrow as pa, pyarrow.parquet as pq
root, version = sys.argv[1], sys.argv[2]
W, H = 4, 2
lengths = [3, 2]
rows = sum(lengths)
def png(pixels):
    raw = b''.join(b'\x00' + pixels[y * W * 3:(y + 1) * W * 3] for y in range(H))
    def chunk(t, d): return struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    return (b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', W, H, 8, 2, 0, 0, 0)) +
            chunk(b'IDAT', zlib.compress(raw)) + chunk(b'IEND', b''))
def pixels(r): return bytes((r * 7 + k) % 256 for k in range(W * H * 3))
ep = [e for e, n in enumerate(lengths) for _ in range(n)]
fi = [f for n in lengths for f in range(n)]
table = pa.table({
    'observation.image': pa.array([{'bytes': png(pixels(r)), 'path': None} for r in range(rows)],
                                  pa.struct([('bytes', pa.binary()), ('path', pa.string())])),
    'observation.pose': pa.array([[[r + 0.5 * i + 0.125 * j for j in range(3)] for i in range(2)] for r in range(rows)],
                                 pa.list_(pa.list_(pa.float64()))),
    'observation.wide': pa.array([[r, -r, 2 * r] for r in range(rows)], pa.large_list(pa.int32())),
    'next.done': pa.array([f == n - 1 for n in lengths for f in range(n)], pa.bool_()),
    'next.reward': pa.array([float(r) for r in range(rows)], pa.float32()),
    'gripper': pa.array([[r % 2] for r in range(rows)], pa.list_(pa.int16(), 1)),
    'language': pa.array(['hello'] * rows),
    'timestamp': pa.array([f / 10 for f in fi], pa.float32()),
    'frame_index': pa.array(fi, pa.int64()),
    'episode_index': pa.array(ep, pa.int64()),
    'index': pa.array(list(range(rows)), pa.int64()),
    'task_index': pa.array(ep, pa.int64()),
})
scalar = lambda dtype: {'dtype': dtype, 'shape': [1], 'names': None}
features = {
    'observation.image': {'dtype': 'image', 'shape': [H, W, 3], 'names': ['height', 'width', 'channel']},
    'observation.pose': {'dtype': 'float64', 'shape': [2, 3], 'names': {'arms': ['left', 'right'], 'axes': ['x', 'y', 'z']}},
    'observation.wide': {'dtype': 'int32', 'shape': [3], 'names': ['a', 'b', 'c']},
    'next.done': scalar('bool'), 'next.reward': scalar('float32'), 'gripper': scalar('int16'),
    'language': scalar('string'), 'timestamp': scalar('float32'), 'frame_index': scalar('int64'),
    'episode_index': scalar('int64'), 'index': scalar('int64'), 'task_index': scalar('int64'),
}
info = {'codebase_version': version, 'robot_type': 'toy', 'total_episodes': 2, 'total_frames': rows, 'total_tasks': 2,
        'chunks_size': 1000, 'fps': 10, 'video_path': None, 'features': features}
os.makedirs(root + '/meta', exist_ok=True)
os.makedirs(root + '/data/chunk-000', exist_ok=True)
tasks = ['first', 'second']
if version == 'v3.0':
    info['data_path'] = 'data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet'
    pq.write_table(table, root + '/data/chunk-000/file-000.parquet', row_group_size=2)
    pq.write_table(pa.table({'task_index': [1, 0], 'task': ['second', 'first']}), root + '/meta/tasks.parquet')
    os.makedirs(root + '/meta/episodes/chunk-000')
    pq.write_table(pa.table({'episode_index': [0, 1], 'data/chunk_index': [0, 0], 'data/file_index': [0, 0],
                             'dataset_from_index': [0, 3], 'dataset_to_index': [3, 5],
                             'tasks': [['first'], ['second']], 'length': lengths}),
                   root + '/meta/episodes/chunk-000/file-000.parquet')
else:
    info['data_path'] = 'data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet'
    pq.write_table(table.slice(0, 3), root + '/data/chunk-000/episode_000000.parquet')
    pq.write_table(table.slice(3, 2), root + '/data/chunk-000/episode_000001.parquet')
    with open(root + '/meta/tasks.jsonl', 'w') as f:
        f.write('{"task_index": 1, "task": "second"}\n{"task_index": 0, "task": "first"}\n')
    with open(root + '/meta/episodes.jsonl', 'w') as f:
        for e in range(2): f.write(json.dumps({'episode_index': e, 'tasks': [tasks[e]], 'length': lengths[e]}) + '\n')
with open(root + '/meta/info.json', 'w') as f: json.dump(info, f, indent=4)
)";

TEST_P(LeRobotRead, ImagesNestedListsAndScalarColumns) {
  TempDir dir;
  const fs::path root = dir / "toy";
  const auto written =
      r2s::testing::RunCommand({"/bin/bash", "-c",
                                "\"$(bash " + (r2s::testing::SourceDir() / "scripts/setup_python_env.sh").string() +
                                    " pyarrow)/bin/python\" -c \"$0\" \"$1\" \"$2\"",
                                kToyWriter, root.string(), GetParam()});
  ASSERT_EQ(written.exit_code, 0) << written.err;

  const DatasetReader reader = DatasetReader::Open(root);
  const DatasetInfo& info = reader.info();
  EXPECT_EQ(info.tasks, (std::vector<std::string>{"first", "second"}));
  EXPECT_EQ(info.robot_type, "toy");
  EXPECT_FALSE(info.features.contains("language"));  // string features are skipped
  EXPECT_TRUE(info.lerobot->video_codecs.empty());
  const FeatureSpec& image = info.features.at("observation.image");
  EXPECT_TRUE(image.IsImage());
  EXPECT_EQ(image.shape, (std::vector<std::int64_t>{2, 4, 3}));
  const FeatureSpec& pose = info.features.at("observation.pose");
  EXPECT_EQ(pose.dtype, DType::kFloat64);
  EXPECT_EQ(pose.names, (std::vector<std::vector<std::string>>{{"left", "right"}, {"x", "y", "z"}}));
  EXPECT_EQ(pose.ElementName(4), "right.y");
  EXPECT_EQ(info.features.at("observation.wide").names, (std::vector<std::vector<std::string>>{{"a", "b", "c"}}));
  EXPECT_EQ(info.features.at("next.done").dtype, DType::kBool);
  EXPECT_EQ(info.features.at("gripper").dtype, DType::kInt16);

  ASSERT_EQ(reader.num_episodes(), 2);
  const Episode episode = reader.ReadEpisode(1);  // rows 3 and 4 (in v3.0, across two row groups)
  EXPECT_EQ(episode.metadata.task, "second");
  EXPECT_EQ(episode.metadata.length, 2);
  const Array& pixels = episode.At("observation.image").data;
  ASSERT_EQ(pixels.shape, (std::vector<std::int64_t>{2, 2, 4, 3}));
  for (std::int64_t f = 0; f < 2; ++f) {
    for (std::int64_t k = 0; k < 24; ++k) {
      EXPECT_EQ(pixels.values<std::uint8_t>()[static_cast<std::size_t>(f * 24 + k)], ((3 + f) * 7 + k) % 256);
    }
  }
  const Array& poses = episode.At("observation.pose").data;
  ASSERT_EQ(poses.shape, (std::vector<std::int64_t>{2, 2, 3}));
  EXPECT_EQ(poses.values<double>()[4], 3 + 0.5 + 0.125);  // frame 0, right arm, y
  EXPECT_EQ(poses.values<double>()[6], 4.0);
  EXPECT_EQ(episode.At("observation.wide").data,
            Array::Of<std::int32_t>({2, 3}, std::vector<std::int32_t>{3, -3, 6, 4, -4, 8}));
  EXPECT_EQ(episode.At("next.done").data, Array::Of<bool>({2, 1}, std::array<bool, 2>{false, true}));
  EXPECT_EQ(episode.At("next.reward").data, Array::Of<float>({2, 1}, std::vector<float>{3, 4}));
  EXPECT_EQ(episode.At("gripper").data, Array::Of<std::int16_t>({2, 1}, std::vector<std::int16_t>{1, 0}));
  EXPECT_EQ(episode.At("index").data, Array::Of<std::int64_t>({2, 1}, std::vector<std::int64_t>{3, 4}));
}

// ---------------------------------------------------------------------------------------------------------
// `r2s inspect` on LeRobot datasets.

TEST_P(LeRobotRead, InspectReportsTheVideos) {
  const fs::path path = BundledLeRobotDataset(GetParam());
  const auto json_run = RunR2s({"inspect", path.string(), "--json"});
  ASSERT_EQ(json_run.exit_code, 0) << json_run.err;
  const Json report = Json::parse(json_run.out);
  EXPECT_EQ(report["layout"], "lerobot");
  EXPECT_EQ(report["codebase_version"], GetParam());
  EXPECT_EQ(report["num_episodes"], 5);
  EXPECT_EQ(report["num_frames"], 1871);
  const Json& video = report["videos"][kCamera];
  EXPECT_EQ(video["codec"], "av1");
  EXPECT_EQ(video["width_px"], 640);
  EXPECT_EQ(video["height_px"], 480);
  EXPECT_EQ(video["pix_fmt"], "yuv420p");
  EXPECT_NEAR(video["fps"].get<double>(), 30.0, 1e-6);
  EXPECT_GT(video["keyframe_interval"].get<int>(), 0);
  EXPECT_EQ(video["files"], GetParam() == "v2.1" ? 5 : 1);
  EXPECT_EQ(video["video_frames"], 1871);
  EXPECT_EQ(video["table_frames"], 1871);
  EXPECT_EQ(video["agrees"], true);
  EXPECT_LT(video["max_timestamp_error_s"].get<double>(), 1e-4);
  EXPECT_TRUE(report["findings"]["video"].empty()) << report["findings"]["video"].dump();
  // Statistics of the video feature come from the decoded frames.
  EXPECT_EQ(report["statistics"][kCamera]["channels"].size(), 3u);

  const auto text_run = RunR2s({"inspect", path.string()});
  ASSERT_EQ(text_run.exit_code, 0) << text_run.err;
  EXPECT_TRUE(Contains(text_run.out, "layout     lerobot")) << text_run.out;
  EXPECT_TRUE(Contains(text_run.out, "av1 640x480 yuv420p")) << text_run.out;
  EXPECT_TRUE(Contains(text_run.out, "keyframe every " + std::to_string(video["keyframe_interval"].get<int>())))
      << text_run.out;
  EXPECT_TRUE(Contains(text_run.out, "1871 video frames = 1871 table frames")) << text_run.out;
  EXPECT_TRUE(Contains(text_run.out, "videos: agree with the tables")) << text_run.out;
}

// A video longer than its table reads (LeRobot takes the frames the table asks for), and inspect says so.
TEST(LeRobotRead, InspectReportsAVideoLongerThanItsTable) {
  TempDir dir;
  const fs::path dataset = CopyDataset("v2.1", dir, /*videos=*/true);
  const fs::path folder = dataset / "videos/chunk-000" / kCamera;
  // Episode 1 (343 frames) gets episode 0's video (393 frames).
  fs::copy_file(folder / "episode_000000.mp4", folder / "episode_000001.mp4", fs::copy_options::overwrite_existing);
  const auto r = RunR2s({"inspect", dataset.string(), "--json"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const Json report = Json::parse(r.out);
  const Json& video = report["videos"][kCamera];
  EXPECT_EQ(video["video_frames"], 1871 + 50);
  EXPECT_EQ(video["table_frames"], 1871);
  EXPECT_EQ(video["agrees"], false);
  ASSERT_EQ(report["findings"]["video"].size(), 1u) << report["findings"]["video"].dump();
  const Json& finding = report["findings"]["video"][0];
  EXPECT_EQ(finding["feature"], kCamera);
  EXPECT_EQ(finding["episode"], 1);
  EXPECT_TRUE(Contains(finding["problem"].get<std::string>(), "393 frames for the episode, its table 343"))
      << finding.dump();
  const auto text = RunR2s({"inspect", dataset.string()});
  EXPECT_TRUE(Contains(text.out, "video: observation.images.cam_high, episode 1: the video holds 393 frames"))
      << text.out;
  EXPECT_TRUE(Contains(text.out, "1921 video frames != 1871 table frames")) << text.out;
}

// ---------------------------------------------------------------------------------------------------------
// Bad input: `r2s inspect` exits 2 with one line naming the file and the field.

struct BadCase {
  std::string name;
  std::string version;
  bool videos = false;
  std::function<void(const fs::path&)> spoil;
  std::string file;                 // expected in the message, relative to the dataset
  std::vector<std::string> expect;  // further substrings of the message
};

void ExpectBadInput(const BadCase& c) {
  SCOPED_TRACE(c.name);
  TempDir dir;
  const fs::path dataset = CopyDataset(c.version, dir, c.videos);
  c.spoil(dataset);
  const auto r = RunR2s({"inspect", dataset.string()});
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_TRUE(Contains(r.err, (dataset / c.file).string())) << r.err;
  for (const auto& s : c.expect) EXPECT_TRUE(Contains(r.err, s)) << "'" << s << "' not in: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
  // The library says the same, as an InputError.
  try {
    const DatasetReader reader = DatasetReader::Open(dataset);
    for (std::int64_t i = 0; i < reader.num_episodes(); ++i) reader.ReadEpisode(i);
    ADD_FAILURE() << "no InputError";
  } catch (const InputError& e) {
    EXPECT_EQ(e.file(), (dataset / c.file).string());
  }
}

TEST(LeRobotBadInput, InfoJson) {
  const std::string info = "meta/info.json";
  const std::vector<BadCase> cases = {
      {"missing fps",
       "v3.0",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j.erase("fps"); }); },
       info,
       {"fps: missing"}},
      {"zero fps",
       "v2.1",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j["fps"] = 0; }); },
       info,
       {"fps: is '0', expected a positive number"}},
      {"text fps",
       "v3.0",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j["fps"] = "thirty"; }); },
       info,
       {"fps: is 'thirty', expected a positive number"}},
      {"negative fps",
       "v3.0",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j["fps"] = -30; }); },
       info,
       {"fps: is '-30'"}},
      {"unknown version",
       "v2.1",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j["codebase_version"] = "v1.6"; }); },
       info,
       {"codebase_version: is 'v1.6'"}},
      {"missing version",
       "v2.1",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j.erase("codebase_version"); }); },
       info,
       {"codebase_version: missing"}},
      {"missing features",
       "v3.0",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j.erase("features"); }); },
       info,
       {"features: missing"}},
      {"missing data_path",
       "v2.1",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j.erase("data_path"); }); },
       info,
       {"data_path: missing"}},
      {"bad dtype",
       "v3.0",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j["features"]["action"]["dtype"] = "float128"; }); },
       info,
       {"features['action'].dtype: is 'float128'"}},
      {"malformed JSON",
       "v3.0",
       false,
       [](const fs::path& d) {
         const std::string text = ReadText(d / "meta" / "info.json");
         WriteText(d / "meta" / "info.json", text.substr(0, text.size() / 2));
       },
       info,
       {"malformed JSON"}},
      {"total_episodes",
       "v2.1",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j["total_episodes"] = 6; }); },
       info,
       {"total_episodes: is 6", "lists 5 episodes"}},
  };
  for (const auto& c : cases) ExpectBadInput(c);
}

TEST(LeRobotBadInput, Tables) {
  const std::vector<BadCase> cases = {
      {"truncated parquet v2.1",
       "v2.1",
       false,
       [](const fs::path& d) {
         const fs::path f = d / "data/chunk-000/episode_000001.parquet";
         fs::resize_file(f, fs::file_size(f) / 2);
       },
       "data/chunk-000/episode_000001.parquet",
       {"parquet"}},
      {"truncated parquet v3.0",
       "v3.0",
       false,
       [](const fs::path& d) {
         const fs::path f = d / "data/chunk-000/file-000.parquet";
         fs::resize_file(f, fs::file_size(f) - 100);
       },
       "data/chunk-000/file-000.parquet",
       {"parquet"}},
      {"missing data file",
       "v2.1",
       false,
       [](const fs::path& d) { fs::remove(d / "data/chunk-000/episode_000004.parquet"); },
       "data/chunk-000/episode_000004.parquet",
       {"no such file", "episode 4"}},
      {"row count",
       "v2.1",
       false,
       [](const fs::path& d) {
         std::string lines = ReadText(d / "meta/episodes.jsonl");
         const std::string from = "\"length\": 343", to = "\"length\": 344";
         lines.replace(lines.find(from), from.size(), to);
         WriteText(d / "meta/episodes.jsonl", lines);
         EditInfo(d, [](Json& j) { j["total_frames"] = 1872; });
       },
       "data/chunk-000/episode_000001.parquet",
       {"has 343 rows", "344"}},
      {"fps disagreeing with the timestamps",
       "v2.1",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j["fps"] = 25; }); },
       "data/chunk-000/episode_000000.parquet",
       {"column 'timestamp'", "declares fps 25", "0.0333333"}},
      {"column dtype",
       "v2.1",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j["features"]["observation.state"]["dtype"] = "float64"; }); },
       "data/chunk-000/episode_000000.parquet",
       {"column 'observation.state'", "fixed_size_list<element: float>[26]", "float64 [26]"}},
      {"fixed width",
       "v2.1",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j["features"]["action"]["shape"] = {27}; }); },
       "data/chunk-000/episode_000000.parquet",
       {"column 'action'", "lists of 26 where the shape says 27"}},
      {"list width",
       "v3.0",
       false,
       [](const fs::path& d) { EditInfo(d, [](Json& j) { j["features"]["action"]["shape"] = {25}; }); },
       "data/chunk-000/file-000.parquet",
       {"column 'action'", "row 0 has 26 values, the shape says 25"}},
      {"missing column",
       "v3.0",
       false,
       [](const fs::path& d) {
         EditInfo(d, [](Json& j) { j["features"]["observation.velocity"] = j["features"]["action"]; });
       },
       "data/chunk-000/file-000.parquet",
       {"column 'observation.velocity'", "missing"}},
      {"missing tasks",
       "v3.0",
       false,
       [](const fs::path& d) { fs::remove(d / "meta/tasks.parquet"); },
       "meta/tasks.parquet",
       {"no such file"}},
      {"malformed episodes.jsonl",
       "v2.1",
       false,
       [](const fs::path& d) { WriteText(d / "meta/episodes.jsonl", "{\"episode_index\": 0, \"len"); },
       "meta/episodes.jsonl",
       {"line 1", "not a JSON object"}},
  };
  for (const auto& c : cases) ExpectBadInput(c);
}

TEST(LeRobotBadInput, Videos) {
  const std::string mp4_v21 = "videos/chunk-000/observation.images.cam_high/episode_000000.mp4";
  const std::vector<BadCase> cases = {
      {"missing mp4",
       "v2.1",
       true,
       [](const fs::path& d) { fs::remove(d / "videos/chunk-000/observation.images.cam_high/episode_000003.mp4"); },
       "videos/chunk-000/observation.images.cam_high/episode_000003.mp4",
       {kCamera, "no such file", "episode 3"}},
      {"video shorter than its table",
       "v2.1",
       true,
       [&](const fs::path& d) {
         // Episode 0 (393 frames) gets episode 1's video (343 frames).
         const fs::path folder = d / "videos/chunk-000/observation.images.cam_high";
         fs::copy_file(folder / "episode_000001.mp4", folder / "episode_000000.mp4",
                       fs::copy_options::overwrite_existing);
       },
       mp4_v21,
       {kCamera, "holds 343 frames", "table has 393"}},
      {"timestamps off",
       "v3.0",
       true,
       [](const fs::path& d) {
         // Every episode's segment half a frame late in the concatenated file.
         const fs::path table = d / "meta/episodes/chunk-000/file-000.parquet";
         const auto r = r2s::testing::RunCommand(
             {"/bin/bash", "-c",
              "\"$(bash " + (r2s::testing::SourceDir() / "scripts/setup_python_env.sh").string() +
                  " pyarrow)/bin/python\" -c \"import pyarrow.parquet as pq, pyarrow.compute as pc, sys; "
                  "t = pq.read_table(sys.argv[1]); c = 'videos/observation.images.cam_high/from_timestamp'; "
                  "t = t.set_column(t.schema.get_field_index(c), c, pc.add(t[c], 0.01)); "
                  "pq.write_table(t, sys.argv[1])\" " +
                  table.string()});
         ASSERT_EQ(r.exit_code, 0) << r.err;
       },
       "videos/observation.images.cam_high/chunk-000/file-000.mp4",
       {kCamera, "tolerance"}},
  };
  for (const auto& c : cases) ExpectBadInput(c);
}

}  // namespace
}  // namespace r2s::episode
