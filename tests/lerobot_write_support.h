#pragma once
// Shared by the LeRobot writer tests: a DatasetInfo made from the bundled real G1 dataset (its info.json text and
// its data files' Arrow schema, as the reader fills them) and synthetic episodes that follow it.

#include <arrow/api.h>
#include <arrow/io/file.h>
#include <arrow/ipc/writer.h>
#include <parquet/arrow/reader.h>

#include <cmath>
#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>

#include "episode/dataset_info.h"
#include "episode/episode.h"
#include "tests/test_support.h"

namespace r2s::episode::testing_lerobot {

namespace fs = std::filesystem;

inline std::string ReadFile(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::shared_ptr<arrow::Schema> ParquetSchema(const fs::path& file) {
  auto input = arrow::io::ReadableFile::Open(file.string()).ValueOrDie();
  auto reader = parquet::arrow::OpenFile(input, arrow::default_memory_pool()).ValueOrDie();
  std::shared_ptr<arrow::Schema> schema;
  if (!reader->GetSchema(&schema).ok()) throw std::runtime_error("schema of " + file.string());
  return schema;
}

inline std::shared_ptr<arrow::Table> ParquetTable(const fs::path& file) {
  auto input = arrow::io::ReadableFile::Open(file.string()).ValueOrDie();
  auto reader = parquet::arrow::OpenFile(input, arrow::default_memory_pool()).ValueOrDie();
  return reader->ReadTable().ValueOrDie();
}

// The first data file of the bundled dataset of `version`.
inline fs::path BundledDataFile(const std::string& version) {
  const fs::path root = testing::BundledLeRobotDataset(version);
  return root / (version == "v2.1" ? "data/chunk-000/episode_000000.parquet" : "data/chunk-000/file-000.parquet");
}

// The G1 dataset's info as the reader gives it: state and action float32 [26]; the real camera
// observation.images.cam_high uint8 [480, 640, 3] when `with_cam_high`. `extra` adds features (a rendered
// camera, depth, segmentation).
inline DatasetInfo G1Info(const std::string& version, bool with_cam_high, const Features& extra = {}) {
  const fs::path root = testing::BundledLeRobotDataset(version);
  DatasetInfo info;
  info.layout = StorageLayout::kLeRobot;
  info.fps = 30;
  info.robot_type = "Unitree_G1_Inspire";
  info.tasks = {"Pick up the yellow bottle on the table."};
  LeRobotMetadata meta;
  meta.codebase_version = version;
  meta.info_json = ReadFile(root / "meta" / "info.json");
  meta.data_arrow_schema =
      arrow::ipc::SerializeSchema(*ParquetSchema(BundledDataFile(version))).ValueOrDie()->ToString();
  meta.video_codecs = {{"observation.images.cam_high", "av1"}};
  info.lerobot = meta;
  const auto json = nlohmann::json::parse(meta.info_json);
  for (const char* name : {"observation.state", "action"}) {
    FeatureSpec spec;
    spec.dtype = DType::kFloat32;
    spec.shape = {26};
    spec.names = {json["features"][name]["names"][0].get<std::vector<std::string>>()};
    info.features[name] = spec;
  }
  if (with_cam_high) {
    FeatureSpec camera;
    camera.dtype = DType::kUInt8;
    camera.shape = {480, 640, 3};
    info.features["observation.images.cam_high"] = camera;
  }
  for (const auto& [name, spec] : extra) info.features[name] = spec;
  return info;
}

inline FeatureSpec Spec(DType dtype, std::vector<std::int64_t> shape, std::string unit = "") {
  FeatureSpec spec;
  spec.dtype = dtype;
  spec.shape = std::move(shape);
  spec.unit = std::move(unit);
  return spec;
}

// Smooth, textured RGB: moving sinusoids per channel, so the encoder has edges and gradients to keep.
inline std::uint8_t SyntheticPixel(std::int64_t seed, std::int64_t t, std::int64_t y, std::int64_t x, int c) {
  const double v = 128 + 60 * std::sin(0.07 * x + 0.05 * t + seed + c) + 50 * std::cos(0.09 * y - 0.04 * t + 2 * c);
  return static_cast<std::uint8_t>(std::clamp(v, 0.0, 255.0));
}

inline Episode SyntheticEpisode(std::int64_t index, std::int64_t frames, const Features& features, std::int64_t seed,
                                const std::string& task = "Pick up the yellow bottle on the table.") {
  Episode episode;
  episode.metadata.index = index;
  episode.metadata.task = task;
  episode.metadata.length = frames;
  for (const auto& [name, spec] : features) {
    std::vector<std::int64_t> shape = {frames};
    shape.insert(shape.end(), spec.shape.begin(), spec.shape.end());
    Array data = Array::Zeros(spec.dtype, shape);
    const std::int64_t width = spec.FrameSize();
    if (spec.IsImage()) {
      auto v = data.mutable_values<std::uint8_t>();
      const std::int64_t h = spec.shape[0], w = spec.shape[1];
      for (std::int64_t t = 0; t < frames; ++t)
        for (std::int64_t y = 0; y < h; ++y)
          for (std::int64_t x = 0; x < w; ++x)
            for (int c = 0; c < 3; ++c) v[((t * h + y) * w + x) * 3 + c] = SyntheticPixel(seed, t, y, x, c);
    } else if (spec.dtype == DType::kFloat32) {
      auto v = data.mutable_values<float>();
      for (std::int64_t t = 0; t < frames; ++t)
        for (std::int64_t i = 0; i < width; ++i) {
          // depth-like for 2-D frames (metres, with a hole of no return), joint-like for vectors
          v[t * width + i] = spec.shape.size() == 2
                                 ? (i % 97 == 0 ? 0.0f : static_cast<float>(0.5 + 0.001 * (i % 1000) + 0.01 * t))
                                 : static_cast<float>(std::sin(0.1 * t + 0.3 * i + seed));
        }
    } else if (spec.dtype == DType::kUInt16) {
      auto v = data.mutable_values<std::uint16_t>();
      for (std::int64_t t = 0; t < frames; ++t)
        for (std::int64_t i = 0; i < width; ++i) v[t * width + i] = static_cast<std::uint16_t>((i / 40 + t + seed) % 7);
    }
    episode.columns[name].data = std::move(data);
  }
  return episode;
}

}  // namespace r2s::episode::testing_lerobot
