// Read -> write -> read of both HDF5 layouts must be lossless: identical names, HDF5 types, shapes, values and
// attributes, including what real2sim does not interpret. The judge is an h5py script (fixtures/h5_equal.py),
// independent of real2sim's reader; fixtures are written by h5py.

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <thread>
#include <vector>

#include "episode/dataset_reader.h"
#include "episode/dataset_writer.h"
#include "episode/frame_deflate.h"
#include "episode/hdf5/layout.h"
#include "episode/input_error.h"
#include "tests/test_support.h"

namespace r2s::episode {
namespace {

using testing::RunCommand;
using testing::RunPython;
using testing::SourceDir;
using testing::TempDir;
namespace fs = std::filesystem;

std::string Fixture(const std::string& name) { return (SourceDir() / "tests" / "fixtures" / name).string(); }

void MakeFixture(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {R2S_PYTHON};
  argv.insert(argv.end(), args.begin(), args.end());
  const auto result = RunCommand(argv);
  ASSERT_EQ(result.exit_code, 0) << result.err;
}

void ExpectH5Identical(const std::filesystem::path& a, const std::filesystem::path& b) {
  const auto result = RunCommand({R2S_PYTHON, Fixture("h5_equal.py"), a.string(), b.string()});
  EXPECT_EQ(result.exit_code, 0) << a << " vs " << b << ":\n" << result.out << result.err;
}

// Writes every episode of `reader` to `out` in the layout it was read from.
void WriteBack(const DatasetReader& reader, const std::filesystem::path& out) {
  DatasetWriter writer = DatasetWriter::Create(out, reader.info());
  for (std::int64_t i = 0; i < reader.num_episodes(); ++i) writer.Append(reader.ReadEpisode(i));
  writer.Commit();
}

void ExpectEpisodesEqual(const DatasetReader& a, const DatasetReader& b) {
  ASSERT_EQ(a.num_episodes(), b.num_episodes());
  EXPECT_EQ(a.info().features, b.info().features);
  EXPECT_EQ(a.info().storage_paths, b.info().storage_paths);
  EXPECT_EQ(a.info().fps, b.info().fps);
  EXPECT_EQ(a.info().robot_type, b.info().robot_type);
  EXPECT_EQ(a.info().tasks, b.info().tasks);
  EXPECT_EQ(a.info().storage.group_attributes, b.info().storage.group_attributes);
  for (std::int64_t i = 0; i < a.num_episodes(); ++i) {
    const Episode x = a.ReadEpisode(i);
    const Episode y = b.ReadEpisode(i);
    EXPECT_EQ(x.metadata, y.metadata);
    EXPECT_EQ(x.provenance, y.provenance);
    EXPECT_EQ(x.storage.group_attributes, y.storage.group_attributes);
    ASSERT_EQ(x.columns.size(), y.columns.size());
    for (const auto& [name, column] : x.columns) {
      const Column& other = y.At(name);
      EXPECT_TRUE(column.data == other.data) << name;
      EXPECT_EQ(column.attributes, other.attributes) << name;
    }
    ASSERT_EQ(x.storage.nodes.size(), y.storage.nodes.size());
    for (std::size_t n = 0; n < x.storage.nodes.size(); ++n) {
      EXPECT_EQ(x.storage.nodes[n].path, y.storage.nodes[n].path);
    }
  }
}

class RobomimicRoundTrip : public ::testing::TestWithParam<std::string> {};

TEST_P(RobomimicRoundTrip, IsLossless) {
  TempDir dir;
  const auto source = dir / "source.hdf5";
  MakeFixture({Fixture("make_robomimic.py"), source.string(), GetParam()});

  const DatasetReader reader = DatasetReader::Open(source);
  ASSERT_EQ(reader.info().layout, StorageLayout::kRobomimic);
  ASSERT_EQ(reader.num_episodes(), 2);
  EXPECT_EQ(reader.episode_length(0), 40);
  EXPECT_EQ(reader.episode_length(1), 25);
  EXPECT_EQ(reader.info().fps, 20.0);
  EXPECT_EQ(reader.info().tasks, std::vector<std::string>{"Lift"});
  EXPECT_EQ(reader.info().storage_paths.at("action"), "actions");
  // robosuite's camera key names the camera: obs/agentview_image is the image of camera `agentview`.
  EXPECT_EQ(reader.info().storage_paths.at("observation.images.agentview"), "obs/agentview_image");
  EXPECT_TRUE(reader.info().features.at("observation.images.agentview").IsImage());
  EXPECT_EQ(reader.info().features.at("observation.robot0_eef_pos").unit, "m");
  EXPECT_EQ(reader.info().features.at("observation.robot0_eef_pos").names.back(),
            (std::vector<std::string>{"x", "y", "z"}));
  EXPECT_EQ(reader.info().features.at("observation.contact").dtype, DType::kBool);
  const Episode first = reader.ReadEpisode(0);
  EXPECT_EQ(first.metadata.success, true);
  EXPECT_EQ(reader.ReadEpisode(1).metadata.success, false);

  const auto out = dir / "out" / "copy.hdf5";
  WriteBack(reader, out);
  ExpectH5Identical(source, out);
  ExpectEpisodesEqual(reader, DatasetReader::Open(out));
}

INSTANTIATE_TEST_SUITE_P(Flavours, RobomimicRoundTrip, ::testing::Values("robomimic", "isaaclab"));

// An episode owns plain memory: what it preserves beside the schema is copied out of the source as it is read, so
// it is written the same after its reader is gone, from another thread, and with its source file deleted.
TEST(HdfReader, EpisodesCarryTheirPreservedNodesNotTheSourceFile) {
  TempDir dir;
  const auto source = dir / "source.hdf5";
  MakeFixture({Fixture("make_robomimic.py"), source.string(), "robomimic"});
  fs::copy_file(source, dir / "kept.hdf5");
  std::vector<Episode> episodes;
  DatasetInfo info;
  {
    const DatasetReader reader = DatasetReader::Open(source);
    info = reader.info();
    for (std::int64_t i = 0; i < reader.num_episodes(); ++i) episodes.push_back(reader.ReadEpisode(i));
    // A check's read of a few features copies nothing it will not write.
    EXPECT_TRUE(reader.ReadEpisodeFeatures(0, {"action"}).storage.nodes.empty());
    EXPECT_FALSE(episodes.front().storage.nodes.empty());
  }
  std::size_t preserved = 0;
  for (const Episode& episode : episodes) {
    for (const PreservedNode& node : episode.storage.nodes) {
      EXPECT_TRUE(node.image && !node.image->hdf5_bytes.empty()) << node.path;
      EXPECT_FALSE(node.source) << node.path << " refers to the open source file";
      ++preserved;
    }
  }
  ASSERT_GT(preserved, 0u) << "the fixture's demos preserve nothing: the test would prove nothing";
  // The dataset's own nodes (robomimic's filter lists) still refer to the file, through `info`; the episodes not.
  fs::remove(source);
  std::thread([&] {
    DatasetWriter writer = DatasetWriter::Create(source, info);
    for (Episode& episode : episodes) writer.Append(std::move(episode));
    writer.Commit();
  }).join();
  ExpectH5Identical(dir / "kept.hdf5", source);
}

// AppendCopy (the generator's assembly of parts) copies an episode group as stored, renumbered: the result reads
// back as the episodes appended the ordinary way, and h5py sees the same file.
TEST(HdfWriter, AppendCopyEqualsAppendingTheEpisodes) {
  TempDir dir;
  const auto source = dir / "source.hdf5";
  MakeFixture({Fixture("make_robomimic.py"), source.string(), "robomimic"});
  const DatasetReader reader = DatasetReader::Open(source);
  const auto copied = dir / "copied.hdf5", appended = dir / "appended.hdf5";
  {
    DatasetWriter writer = DatasetWriter::Create(copied, reader.info());
    writer.AppendCopy(source, 1, 0, reader.episode_length(1));  // swapped: the copy renumbers
    writer.AppendCopy(source, 0, 1, reader.episode_length(0));
    EXPECT_THROW(writer.AppendCopy(source, 0, 1, reader.episode_length(0)), InputError);  // index 1 again
    EXPECT_THROW(writer.AppendCopy(dir / "missing.hdf5", 0, 2, 1), InputError);
    writer.Commit();
  }
  {
    DatasetWriter writer = DatasetWriter::Create(appended, reader.info());
    Episode second = reader.ReadEpisode(1), first = reader.ReadEpisode(0);
    second.metadata.index = 0;
    first.metadata.index = 1;
    writer.Append(second);
    writer.Append(first);
    writer.Commit();
  }
  ExpectEpisodesEqual(DatasetReader::Open(appended), DatasetReader::Open(copied));
  ExpectH5Identical(appended, copied);
}

TEST(AlohaRoundTrip, FolderOfEpisodesIsLossless) {
  TempDir dir;
  MakeFixture({Fixture("make_aloha.py"), (dir / "source").string(), "0", "3"});

  const DatasetReader reader = DatasetReader::Open(dir / "source");
  ASSERT_EQ(reader.info().layout, StorageLayout::kAloha);
  ASSERT_EQ(reader.num_episodes(), 2);
  EXPECT_EQ(reader.ReadEpisode(1).metadata.index, 3);
  EXPECT_EQ(reader.info().storage_paths.at("observation.state"), "observations/qpos");
  EXPECT_EQ(reader.info().storage_paths.at("observation.images.cam_high"), "observations/images/cam_high");
  EXPECT_EQ(reader.info().storage_paths.at("timestamp"), "timestamp");
  // compress_len is (cameras, T): not per frame, so kept verbatim rather than made a feature.
  EXPECT_FALSE(reader.info().features.contains("compress_len"));

  WriteBack(reader, dir / "out");
  EXPECT_EQ(testing::ListFiles(dir / "out"), (std::vector<std::string>{"episode_0.hdf5", "episode_3.hdf5"}));
  ExpectH5Identical(dir / "source" / "episode_0.hdf5", dir / "out" / "episode_0.hdf5");
  ExpectH5Identical(dir / "source" / "episode_3.hdf5", dir / "out" / "episode_3.hdf5");
  ExpectEpisodesEqual(reader, DatasetReader::Open(dir / "out"));
}

TEST(AlohaRoundTrip, BundledRealPandaLogIsLossless) {
  TempDir dir;
  const DatasetReader reader = DatasetReader::Open(testing::BundledPandaEpisode());
  ASSERT_EQ(reader.num_episodes(), 1);
  EXPECT_EQ(reader.episode_length(0), 20544);
  EXPECT_EQ(reader.info().robot_type, "franka_panda");
  EXPECT_EQ(reader.info().features.at("observation.state").unit, "rad");
  WriteBack(reader, dir / "out");
  ExpectH5Identical(testing::BundledPandaEpisode(), dir / "out" / "episode_0.hdf5");
}

TEST(HdfWriter, ImagesAreChunkedOneFramePerChunkAndCompressed) {
  TempDir dir;
  MakeFixture({Fixture("make_aloha.py"), (dir / "source").string(), "0"});
  WriteBack(DatasetReader::Open(dir / "source"), dir / "out");
  const auto result = RunPython(R"(
import sys, h5py
with h5py.File(sys.argv[1]) as f:
    for cam in ("cam_high", "cam_left_wrist"):
        d = f["observations/images/" + cam]
        assert d.chunks == (1, 48, 64, 3), d.chunks
        assert d.compression == "gzip", d.compression
        assert d.dtype == "uint8"
    assert f["observations/qpos"].chunks is None
print("ok")
)",
                                {(dir / "out" / "episode_0.hdf5").string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

// Depth as a renderer gives it: a tilted plane whose every pixel is a different float (smooth, only the low bytes
// change from pixel to pixel).
std::vector<float> SmoothDepth(int frames, int height, int width) {
  std::vector<float> depth;
  for (int t = 0; t < frames; ++t) {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < width; ++x) depth.push_back(0.6f + 0.00031f * x + 0.00047f * y + 0.0001f * t);
    }
  }
  return depth;
}

// Depth as a stereo sensor gives it (cuda/depth_model.h): the plane with noise, then the disparity rounded to an
// eighth of a pixel, so each value is one of a few hundred floats.
std::vector<float> QuantizedDepth(int frames, int height, int width) {
  const std::vector<float> smooth = SmoothDepth(frames, height, width);
  std::vector<float> depth;
  std::uint32_t state = 12345;
  for (const float z : smooth) {
    state = state * 1664525u + 1013904223u;
    const float noisy = z * (1.0f + 0.004f * (static_cast<float>(state >> 8) / 16777216.0f - 0.5f));
    const float focal_baseline = 600.0f * 0.05f;  // px * m
    const float disparity = std::round(focal_baseline / noisy * 8.0f) / 8.0f;
    depth.push_back(focal_baseline / disparity);
  }
  return depth;
}

// A depth map's bytes are shuffled when that deflates smaller: a rendered (smooth) map's are, a sensor's quantized
// map's are not (whole repeated values deflate better as they are); one-byte values never.
TEST(FrameDeflate, ShufflesTheMapsThatDeflateSmallerShuffled) {
  const int t = 3, h = 48, w = 64;
  const Array smooth = Array::Of<float>({t, h, w, 1}, SmoothDepth(t, h, w));
  const Array quantized = Array::Of<float>({t, h, w, 1}, QuantizedDepth(t, h, w));
  EXPECT_TRUE(ShuffleDeflatesSmaller(smooth, 1));
  EXPECT_FALSE(ShuffleDeflatesSmaller(quantized, 1));
  const auto size = [](const Array& frames, bool shuffle) {
    std::size_t bytes = 0;
    for (const auto& chunk : DeflateFrames(frames, 1, shuffle).chunks) bytes += chunk.size();
    return bytes;
  };
  EXPECT_LT(size(smooth, true), size(smooth, false));
  EXPECT_LT(size(quantized, false), size(quantized, true));
  EXPECT_FALSE(ShuffleDeflatesSmaller(Array::Zeros(DType::kUInt8, {2, h, w, 3}), 1));
  EXPECT_FALSE(ShuffleDeflatesSmaller(Array::Zeros(DType::kFloat32, {0, h, w, 1}), 1));
  const FrameStorage maps = FrameStorageFor({DType::kFloat32, {h, w, 1}, {{}, {}, {}}, "m"});
  EXPECT_TRUE(maps.per_frame && maps.may_shuffle);
  EXPECT_TRUE(ShuffleFor(maps, smooth, 1));
  EXPECT_FALSE(ShuffleFor(FrameStorageFor({DType::kUInt8, {h, w, 3}, {{}, {}, {}}, ""}), smooth, 1));
}

// As generate writes them in the robomimic layout: [H, W, 1] under robosuite's flat keys (robomimic's loaders take
// an obs key as one path component and expect depth with a channel axis).
TEST(HdfWriter, DepthAndSegmentationMapsAreStoredCompressedLosslessly) {
  TempDir dir;
  DatasetInfo info;
  info.layout = StorageLayout::kRobomimic;
  info.features["observation.depth.front"] = {DType::kFloat32, {24, 32, 1}, {{}, {}, {}}, "m"};
  info.features["observation.depth.wrist"] = {DType::kFloat32, {24, 32, 1}, {{}, {}, {}}, "m"};
  info.features["observation.segmentation.front"] = {DType::kUInt16, {24, 32, 1}, {{}, {}, {}}, ""};
  Episode e;
  e.metadata.length = 5;
  std::vector<std::uint16_t> ids;
  for (int t = 0; t < 5; ++t) {
    for (int p = 0; p < 24 * 32; ++p) ids.push_back(static_cast<std::uint16_t>(p / 100 + t));
  }
  const std::vector<float> smooth = SmoothDepth(5, 24, 32), quantized = QuantizedDepth(5, 24, 32);
  e.columns["observation.depth.front"].data = Array::Of<float>({5, 24, 32, 1}, smooth);
  e.columns["observation.depth.wrist"].data = Array::Of<float>({5, 24, 32, 1}, quantized);
  e.columns["observation.segmentation.front"].data = Array::Of<std::uint16_t>({5, 24, 32, 1}, ids);
  const bool ids_shuffled = ShuffleDeflatesSmaller(e.columns["observation.segmentation.front"].data, 1);
  {
    DatasetWriter writer = DatasetWriter::Create(dir / "maps.hdf5", info);
    writer.Append(e);
    writer.Commit();
  }
  const Episode back = DatasetReader::Open(dir / "maps.hdf5").ReadEpisode(0);
  for (const char* name : {"observation.depth.front", "observation.depth.wrist", "observation.segmentation.front"}) {
    EXPECT_EQ(back.At(name).data, e.columns[name].data) << name;
  }
  // h5py (what robomimic reads with) sees per-frame chunks, gzip, the shuffle filter where the writer chose it,
  // and the same values.
  {
    std::ofstream out(dir / "smooth.f32", std::ios::binary);
    out.write(reinterpret_cast<const char*>(smooth.data()), static_cast<std::streamsize>(smooth.size() * 4));
    std::ofstream q(dir / "quantized.f32", std::ios::binary);
    q.write(reinterpret_cast<const char*>(quantized.data()), static_cast<std::streamsize>(quantized.size() * 4));
  }
  const auto result = RunPython(R"(
import sys, h5py, numpy as np
folder = sys.argv[1]
with h5py.File(folder + "/maps.hdf5") as f:
    obs = f["data/demo_0/obs"]
    assert sorted(obs) == ["front_depth", "front_segmentation", "wrist_depth"], list(obs)
    shuffled = {"front_depth": True, "wrist_depth": False, "front_segmentation": sys.argv[2] == "1"}
    for key, expected in shuffled.items():
        d = obs[key]
        assert d.chunks == (1, 24, 32, 1), (key, d.chunks)
        assert d.compression == "gzip" and d.shuffle == expected, (key, d.compression, d.shuffle, expected)
    # Every value, through h5py's own filters (the writer deflates and shuffles chunks itself, with libdeflate).
    for key, raw in (("front_depth", "smooth"), ("wrist_depth", "quantized")):
        expected = np.fromfile(folder + "/" + raw + ".f32", dtype=np.float32).reshape(5, 24, 32, 1)
        assert np.array_equal(obs[key][()], expected), key
    t, p = np.meshgrid(np.arange(5), np.arange(24 * 32), indexing="ij")
    ids = (p // 100 + t).astype(np.uint16).reshape(5, 24, 32, 1)
    assert np.array_equal(obs["front_segmentation"][()], ids)
print("ok")
)",
                                {dir.path().string(), ids_shuffled ? "1" : "0"});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

// A generator's workers deflate the frames before the writer sees them (frame_deflate.h): the file must be the one
// the writer makes alone, byte for byte, and frames deflated at another level must not be taken as they are.
TEST(HdfWriter, FramesDeflatedAheadGiveTheSameFile) {
  TempDir dir;
  DatasetInfo info;
  info.layout = StorageLayout::kRobomimic;
  info.features["observation.images.front"] = {DType::kUInt8, {24, 32, 3}, {{}, {}, {}}, ""};
  info.features["observation.depth.front"] = {DType::kFloat32, {24, 32, 1}, {{}, {}, {}}, "m"};
  info.features["observation.state"] = {DType::kFloat32, {2}, {{}}, "rad"};
  Episode e;
  e.metadata.length = 4;
  std::vector<std::uint8_t> rgb(4 * 24 * 32 * 3);
  for (std::size_t i = 0; i < rgb.size(); ++i) rgb[i] = static_cast<std::uint8_t>((i * 37) % 251);
  std::vector<float> depth(4 * 24 * 32);
  for (std::size_t i = 0; i < depth.size(); ++i) depth[i] = 0.5f + 0.001f * static_cast<float>(i % 97);
  e.columns["observation.images.front"].data = Array::Of<std::uint8_t>({4, 24, 32, 3}, rgb);
  e.columns["observation.depth.front"].data = Array::Of<float>({4, 24, 32, 1}, depth);
  e.columns["observation.state"].data = Array::Zeros(DType::kFloat32, {4, 2});
  const auto write = [&](const Episode& episode, const std::string& name) {
    DatasetWriter writer = DatasetWriter::Create(dir / name, info);
    writer.Append(episode);
    writer.Commit();
    std::ifstream in(dir / name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  };
  const std::string alone = write(e, "alone.hdf5");
  Episode ahead = e;
  DeflateFrameColumns(ahead, info, WriteOptions{}.image_deflate_level);
  ASSERT_TRUE(ahead.columns["observation.images.front"].deflated);
  ASSERT_TRUE(ahead.columns["observation.depth.front"].deflated);
  EXPECT_EQ(ahead.columns["observation.depth.front"].deflated->shuffle,
            ShuffleDeflatesSmaller(e.columns["observation.depth.front"].data, WriteOptions{}.image_deflate_level));
  EXPECT_FALSE(ahead.columns["observation.state"].deflated);
  EXPECT_TRUE(write(ahead, "ahead.hdf5") == alone) << "deflating on a worker changed the file";
  Episode other_level = e;
  DeflateFrameColumns(other_level, info, 9);
  EXPECT_TRUE(write(other_level, "other_level.hdf5") == alone) << "frames of another level were written as they are";
  EXPECT_EQ(DatasetReader::Open(dir / "ahead.hdf5").ReadEpisode(0).At("observation.depth.front").data,
            e.columns["observation.depth.front"].data);
}

// A dataset made in code (no source file), as synthetic generation will make them.
DatasetInfo CodeMadeInfo(StorageLayout layout) {
  DatasetInfo info;
  info.layout = layout;
  info.tasks = {"stack"};
  info.features["action"] = {DType::kFloat64, {3}, {{"x", "y", "z"}}, "m"};
  info.features["observation.state"] = {DType::kFloat32, {3}, {{}}, "rad"};
  info.features["observation.images.front"] = {DType::kUInt8, {6, 8, 3}, {{}, {}, {}}, ""};
  info.features["next.done"] = {DType::kBool, {}, {}, ""};
  return info;
}

Episode CodeMadeEpisode(std::int64_t index, std::int64_t frames) {
  Episode e;
  e.metadata.index = index;
  e.metadata.length = frames;
  e.metadata.success = true;
  std::vector<double> action;
  std::vector<float> state;
  std::vector<std::uint8_t> image;
  std::vector<std::uint8_t> done;
  for (std::int64_t t = 0; t < frames; ++t) {
    for (int j = 0; j < 3; ++j) {
      action.push_back(static_cast<double>(t) + 0.25 * j);
      state.push_back(static_cast<float>(-t) - 0.5f * static_cast<float>(j));
    }
    for (int p = 0; p < 6 * 8 * 3; ++p) image.push_back(static_cast<std::uint8_t>((t * 7 + p) % 256));
    done.push_back(t == frames - 1 ? 1 : 0);
  }
  e.columns["action"].data = Array::Of<double>({frames, 3}, action);
  e.columns["observation.state"].data = Array::Of<float>({frames, 3}, state);
  e.columns["observation.images.front"].data = Array::Of<std::uint8_t>({frames, 6, 8, 3}, image);
  Array done_array = Array::Of<std::uint8_t>({frames}, done);
  done_array.dtype = DType::kBool;
  e.columns["next.done"].data = done_array;
  e.provenance = Provenance{"real.hdf5", 2, index, 1234, {{"friction", {0.7}}, {"light_rgb", {1, 0.9, 0.8}}}, "0.1.0", ""};
  return e;
}

TEST(HdfWriter, H5pyReadsARobomimicDatasetMadeInCode) {
  TempDir dir;
  const auto out = dir / "synthetic.hdf5";
  const DatasetInfo info = CodeMadeInfo(StorageLayout::kRobomimic);
  {
    DatasetWriter writer = DatasetWriter::Create(out, info);
    writer.Append(CodeMadeEpisode(0, 5));
    writer.Append(CodeMadeEpisode(1, 7));
    writer.Commit();
  }
  const auto result = RunPython(R"(
import sys, json, h5py, numpy as np
with h5py.File(sys.argv[1]) as f:
    d = f["data"]
    assert d.attrs["total"] == 12, d.attrs["total"]
    assert json.loads(d.attrs["env_args"])["env_name"] == "stack"
    assert sorted(d.keys()) == ["demo_0", "demo_1"], list(d.keys())
    demo = d["demo_1"]
    assert demo.attrs["num_samples"] == 7
    assert bool(demo.attrs["success"]) is True
    a = demo["actions"][()]
    assert a.dtype == np.float64 and a.shape == (7, 3)
    assert np.array_equal(a, np.arange(7)[:, None] + 0.25 * np.arange(3)[None, :])
    assert list(demo["actions"].attrs["names"]) == ["x", "y", "z"] and demo["actions"].attrs["unit"] == "m"
    s = demo["obs/state"][()]
    assert s.dtype == np.float32 and s[6, 2] == -7.0
    img = demo["obs/front_image"]
    assert img.shape == (7, 6, 8, 3) and img.chunks == (1, 6, 8, 3) and img.compression == "gzip"
    assert img[3, 0, 0, 1] == (3 * 7 + 1) % 256
    done = demo["dones"][()]
    assert done.dtype == np.bool_ and done[-1] and not done[0]
    p = json.loads(demo.attrs["r2s_provenance"])
    assert p["variant"] == 1 and p["seed"] == 1234 and p["parameters"]["light_rgb"] == [1, 0.9, 0.8]
print("ok")
)",
                                {out.string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;

  const DatasetReader reader = DatasetReader::Open(out);
  ASSERT_EQ(reader.num_episodes(), 2);
  EXPECT_EQ(reader.info().features, info.features);
  const Episode back = reader.ReadEpisode(1);
  Episode expected = CodeMadeEpisode(1, 7);
  expected.metadata.task = "stack";  // an episode's task defaults to the dataset's only task
  EXPECT_EQ(back.provenance, expected.provenance);
  EXPECT_EQ(back.metadata, expected.metadata);
  for (const auto& [name, column] : expected.columns) EXPECT_TRUE(back.At(name).data == column.data) << name;
}

TEST(HdfWriter, H5pyReadsAnAlohaDatasetMadeInCode) {
  TempDir dir;
  {
    DatasetWriter writer = DatasetWriter::Create(dir / "out", CodeMadeInfo(StorageLayout::kAloha));
    writer.Append(CodeMadeEpisode(4, 6));
    writer.Commit();
  }
  EXPECT_EQ(testing::ListFiles(dir / "out"), std::vector<std::string>{"episode_4.hdf5"});
  const auto result = RunPython(R"(
import sys, json, h5py, numpy as np
with h5py.File(sys.argv[1]) as f:
    assert f["action"].shape == (6, 3)
    assert f["observations/qpos"].dtype == np.float32
    assert f["observations/images/front"].chunks == (1, 6, 8, 3)
    assert json.loads(f.attrs["r2s_provenance"])["source_episode"] == 2
print("ok")
)",
                                {(dir / "out" / "episode_4.hdf5").string()});
  EXPECT_EQ(result.exit_code, 0) << result.err;
}

TEST(HdfLayout, FeatureNamesMapBackToTheirPaths) {
  for (const std::string path : {"actions", "states", "rewards", "dones", "obs/robot0_eef_pos", "next_obs/agentview",
                                 "states/articulation/robot/joint_position"}) {
    EXPECT_EQ(hdf5::DefaultStoragePath(StorageLayout::kRobomimic,
                                       hdf5::FeatureNameFor(StorageLayout::kRobomimic, path, false)),
              path);
  }
  // robosuite's camera keys, flat under obs/ (and next_obs/), by camera.
  for (const std::string path : {"obs/agentview_image", "obs/agentview_depth", "obs/agentview_segmentation",
                                 "next_obs/agentview_image", "next_obs/robot0_eye_in_hand_depth"}) {
    const bool image = path.ends_with("_image");
    EXPECT_EQ(hdf5::DefaultStoragePath(StorageLayout::kRobomimic,
                                       hdf5::FeatureNameFor(StorageLayout::kRobomimic, path, image)),
              path);
  }
  EXPECT_EQ(hdf5::DefaultStoragePath(StorageLayout::kRobomimic, "observation.images.agentview"),
            "obs/agentview_image");
  EXPECT_EQ(hdf5::DefaultStoragePath(StorageLayout::kRobomimic, "observation.depth.front"), "obs/front_depth");
  EXPECT_EQ(hdf5::DefaultStoragePath(StorageLayout::kRobomimic, "observation.segmentation.front"),
            "obs/front_segmentation");
  for (const std::string path : {"action", "observations/qpos", "observations/qvel", "observations/effort",
                                 "observations/images/cam_high", "timestamp", "base_action"}) {
    const bool image = path.find("images") != std::string::npos;
    EXPECT_EQ(hdf5::DefaultStoragePath(StorageLayout::kAloha, hdf5::FeatureNameFor(StorageLayout::kAloha, path, image)),
              path);
  }
  EXPECT_EQ(hdf5::FeatureNameFor(StorageLayout::kAloha, "observations/qpos", false), "observation.state");
  EXPECT_EQ(hdf5::FeatureNameFor(StorageLayout::kRobomimic, "obs/agentview_image", true), "observation.images.agentview");
  EXPECT_EQ(hdf5::FeatureNameFor(StorageLayout::kRobomimic, "obs/agentview_depth", false), "observation.depth.agentview");
  EXPECT_EQ(hdf5::FeatureNameFor(StorageLayout::kRobomimic, "obs/agentview_segmentation", false),
            "observation.segmentation.agentview");
  EXPECT_EQ(hdf5::FeatureNameFor(StorageLayout::kRobomimic, "next_obs/agentview_image", true),
            "next.observation.images.agentview");
  // An image without the suffix keeps its name; "_image" on a non-image is no camera; nested groups stay dotted.
  EXPECT_EQ(hdf5::FeatureNameFor(StorageLayout::kRobomimic, "obs/rgb", true), "observation.images.rgb");
  EXPECT_EQ(hdf5::FeatureNameFor(StorageLayout::kRobomimic, "obs/goal_image", false), "observation.goal_image");
  EXPECT_EQ(hdf5::FeatureNameFor(StorageLayout::kRobomimic, "obs/depth/front", false), "observation.depth.front");
}

}  // namespace
}  // namespace r2s::episode
