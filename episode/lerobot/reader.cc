// The LeRobot dataset reader (v2.1 and v3.0) behind DatasetReader.
//
// Open reads meta/ (dataset_meta.h), the first data file's schema (checked against info.json, and kept as the
// IPC schema message a writer needs to reproduce the column types) and the footer of every data file (row counts
// against the episode lengths); no rows and no video frames. ReadEpisode reads one episode: its rows of its data
// file (only the row groups holding them) and its segment of each video, decoded, checked against the table's
// timestamps as LeRobot's loader checks them (tolerance_s = 1e-4 s). No state changes after Open, so episodes
// may be read from several threads at once.
//
// What real2sim's writer adds beside LeRobot's files is read back too: meta/provenance.jsonl into each episode's
// provenance, and the side streams meta/real2sim.json lists (depth, segmentation; lossless FFV1) as features, so
// that a synthetic dataset read and written again (r2s merge) keeps them.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include <arrow/api.h>
#include <arrow/ipc/writer.h>

#include "episode/dataset_backend.h"
#include "episode/input_error.h"
#include "episode/lerobot/arrow_column.h"
#include "episode/lerobot/dataset_meta.h"
#include "episode/lerobot/json_lines.h"
#include "episode/lerobot/parquet_file.h"
#include "episode/lerobot/png_column.h"
#include "episode/lerobot/path_template.h"
#include "episode/provenance.h"
#include "episode/video/video_file.h"

namespace r2s::episode {
namespace fs = std::filesystem;
using lerobot::DatasetMeta;
using lerobot::EpisodeEntry;
using lerobot::FeatureStorage;
using lerobot::ParquetFile;

namespace {

// LeRobot's tolerance_s: how far a decoded frame's time may be from the time the table gives it.
constexpr double kToleranceS = 1e-4;

std::string Seconds(double s) {
  std::ostringstream out;
  out.precision(9);
  out << s << " s";
  return out.str();
}

class LeRobotReader final : public DatasetReader::Impl {
 public:
  explicit LeRobotReader(const fs::path& path);

  const DatasetInfo& Info() const override { return info_; }
  const fs::path& Path() const override { return path_; }
  std::int64_t NumEpisodes() const override { return static_cast<std::int64_t>(meta_.episodes.size()); }
  std::int64_t EpisodeLength(std::int64_t i) const override { return Entry(i).length; }
  const fs::path& EpisodeFile(std::int64_t i) const override { return Entry(i).data_file; }
  Episode ReadEpisode(std::int64_t i) const override { return Read(i, nullptr); }
  Episode ReadEpisodeFeatures(std::int64_t i, const std::set<std::string>& features) const override {
    return Read(i, &features);
  }
  Episode Read(std::int64_t i, const std::set<std::string>* only) const;

 private:
  const EpisodeEntry& Entry(std::int64_t i) const { return meta_.episodes[static_cast<std::size_t>(i)]; }
  void CheckSchema(const ParquetFile& file) const;
  void CheckRowCounts();
  Column ReadVideo(const EpisodeEntry& entry, const std::string& key, const Episode& episode) const;
  void ReadReal2SimMeta();
  void CheckFramePeriod(const Episode& episode, const std::string& file) const;
  Column ReadSideStream(const EpisodeEntry& entry, const std::string& feature) const;

  // A lossless side stream real2sim wrote (meta/real2sim.json): the stored uint16 frames times `scale`.
  struct SideStream {
    std::string path_template;
    double scale = 1;
  };
  std::map<std::string, SideStream> side_streams_;
  std::map<std::int64_t, std::string> provenance_;  // episode_index -> its provenance record (JSON)

  fs::path path_;
  DatasetMeta meta_;
  DatasetInfo info_;
  std::vector<std::string> table_features_;  // stored in the data files (numeric columns and images)
};

LeRobotReader::LeRobotReader(const fs::path& path) : path_(path), meta_(lerobot::ReadDatasetMeta(path)) {
  const lerobot::InfoJson& json = meta_.info;
  info_.layout = StorageLayout::kLeRobot;
  info_.fps = json.fps;
  info_.robot_type = json.robot_type;
  info_.tasks = meta_.tasks;
  info_.features = json.features;
  for (const auto& [name, storage] : json.storage) {
    if (storage != FeatureStorage::kVideo) table_features_.push_back(name);
  }
  LeRobotMetadata lerobot;
  lerobot.codebase_version = json.codebase_version;
  lerobot.info_json = json.text;
  lerobot.video_codecs = json.video_codecs;
  // A video feature whose codec info.json leaves out (older v2.0 files): the codec of its first video.
  for (auto& [key, codec] : lerobot.video_codecs) {
    if (codec.empty() && !meta_.episodes.empty())
      codec = video::ProbeVideo(meta_.episodes[0].videos.at(key).file).codec;
  }
  if (!meta_.episodes.empty()) {
    const ParquetFile first = ParquetFile::Open(meta_.episodes[0].data_file);
    CheckSchema(first);
    auto schema = arrow::ipc::SerializeSchema(*first.schema());
    if (!schema.ok()) {
      throw InputError(first.path().string(), "", "cannot serialize the Arrow schema: " + schema.status().message());
    }
    lerobot.data_arrow_schema = (*schema)->ToString();
  }
  info_.lerobot = std::move(lerobot);
  CheckRowCounts();
  ReadReal2SimMeta();
}

// Consecutive timestamps are one frame period (1 / info.json's fps) apart, within tolerance_s, as LeRobot's
// check_timestamps_sync requires: a dataset whose declared fps disagrees with its data is refused here.
void LeRobotReader::CheckFramePeriod(const Episode& episode, const std::string& file) const {
  const Column* timestamp = episode.Find("timestamp");
  if (!timestamp || !IsFloating(timestamp->data.dtype)) return;
  const double period = 1.0 / meta_.info.fps;
  for (std::int64_t f = 1; f < timestamp->num_frames(); ++f) {
    const double t0 = FloatAt(timestamp->data, 1, f - 1, 0), t1 = FloatAt(timestamp->data, 1, f, 0);
    if (!(std::abs(t1 - t0 - period) <= kToleranceS)) {
      throw InputError(file, "column 'timestamp'",
                       "frame " + std::to_string(f) + " of episode " + std::to_string(episode.metadata.index) +
                           " is " + Seconds(t1 - t0) + " after the one before, but meta/info.json declares fps " +
                           (std::ostringstream() << meta_.info.fps).str() + " (a period of " + Seconds(period) +
                           "): the fps and the data disagree, beyond LeRobot's tolerance of " + Seconds(kToleranceS));
    }
  }
}

// meta/real2sim.json and meta/provenance.jsonl, where real2sim wrote the dataset (absent otherwise).
void LeRobotReader::ReadReal2SimMeta() {
  const fs::path meta_file = path_ / "meta" / "real2sim.json";
  if (fs::exists(meta_file)) {
    const std::string file = meta_file.string();
    nlohmann::json meta;
    try {
      std::ifstream in(meta_file);
      meta = nlohmann::json::parse(in);
      for (const auto& stream : meta.value("side_streams", nlohmann::json::array())) {
        const std::string feature = stream.at("feature").get<std::string>();
        FeatureSpec spec;
        spec.dtype = DTypeFromName(stream.at("dtype").get<std::string>()).value_or(DType::kUInt16);
        spec.shape = stream.at("shape").get<std::vector<std::int64_t>>();
        spec.unit = stream.value("unit", "");
        if (spec.shape.size() != 2 || (spec.dtype != DType::kFloat32 && spec.dtype != DType::kUInt16)) {
          throw InputError(file, "side_streams." + feature,
                           "is " + std::string(DTypeName(spec.dtype)) + " " + ShapeToString(spec.shape) +
                               ", expected float32 or uint16 [height, width]");
        }
        info_.features[feature] = spec;
        side_streams_[feature] = {stream.at("path").get<std::string>(), stream.value("scale", 1.0)};
      }
    } catch (const nlohmann::json::exception& e) {
      throw InputError(file, "side_streams", std::string("is malformed: ") + e.what());
    }
  }
  const fs::path provenance_file = path_ / "meta" / "provenance.jsonl";
  if (fs::exists(provenance_file)) {
    const std::string file = provenance_file.string();
    for (const auto& [number, line] : lerobot::ReadJsonLines(provenance_file)) {
      if (!line.contains("episode_index") || !line["episode_index"].is_number_integer() ||
          !line.contains("provenance")) {
        throw InputError(file, "line " + std::to_string(number), "lacks an integer episode_index or a provenance: " +
                                                                     line.dump());
      }
      provenance_[line["episode_index"].get<std::int64_t>()] = line["provenance"].dump();
    }
  }
}

// A side stream's frames: uint16 as stored, or float32 times the scale (depth: millimetres to metres, 0 stays 0
// for no return).
Column LeRobotReader::ReadSideStream(const EpisodeEntry& entry, const std::string& feature) const {
  const SideStream& stream = side_streams_.at(feature);
  const fs::path file =
      path_ / lerobot::FormatPathTemplate(stream.path_template,
                                          {{"feature", feature},
                                           {"chunk_index", lerobot::ChunkOf(entry.index, meta_.info.chunks_size)},
                                           {"episode_index", entry.index}},
                                          (path_ / "meta" / "real2sim.json").string(), "side_streams." + feature);
  if (!fs::exists(file)) throw InputError(file.string(), feature, "side stream is missing (meta/real2sim.json lists it)");
  video::VideoReader reader = video::VideoReader::Open(file);
  Array stored = reader.ReadFrames(0.0, entry.length);
  const FeatureSpec& spec = info_.features.at(feature);
  if (stored.dtype != DType::kUInt16 || stored.shape.size() != 3 || stored.shape[1] != spec.shape[0] ||
      stored.shape[2] != spec.shape[1]) {
    throw InputError(file.string(), feature,
                     "decodes to " + std::string(DTypeName(stored.dtype)) + " " + ShapeToString(stored.shape) +
                         ", meta/real2sim.json declares " + ShapeToString(spec.shape));
  }
  if (spec.dtype == DType::kUInt16) return ColumnOf(std::move(stored));
  Array out = Array::Zeros(DType::kFloat32, stored.shape);
  const auto in = stored.values<std::uint16_t>();
  auto values = out.mutable_values<float>();
  for (std::size_t i = 0; i < in.size(); ++i) values[i] = static_cast<float>(in[i] * stream.scale);
  return ColumnOf(std::move(out));
}

// Every feature info.json stores in the table is a column of a type that can hold it.
void LeRobotReader::CheckSchema(const ParquetFile& file) const {
  const std::string name = file.path().string();
  for (const std::string& feature : table_features_) {
    const auto field = file.schema()->GetFieldByName(feature);
    if (!field) {
      throw InputError(name, "column '" + feature + "'", "missing (meta/info.json declares the feature)");
    }
    if (meta_.info.storage.at(feature) == FeatureStorage::kImage) {
      lerobot::CheckImageColumnType(*field->type(), name, feature);
    } else {
      lerobot::CheckColumnType(*field->type(), info_.features.at(feature), name, feature);
    }
  }
}

// Each data file holds exactly the rows the episode metadata gives it (footers only).
void LeRobotReader::CheckRowCounts() {
  std::map<fs::path, std::pair<std::int64_t, std::int64_t>> rows;  // file -> (episodes' rows, last row)
  for (const EpisodeEntry& e : meta_.episodes) {
    auto& [sum, end] = rows[e.data_file];
    sum += e.length;
    end = std::max(end, e.first_row + e.length);
  }
  for (const auto& [file, expected] : rows) {
    const ParquetFile parquet = ParquetFile::Open(file);
    if (parquet.num_rows() != expected.first || expected.second != expected.first) {
      throw InputError(
          file.string(), "",
          "has " + std::to_string(parquet.num_rows()) + " rows, the episode metadata gives it " +
              std::to_string(expected.first) +
              (expected.second != expected.first ? " (and row ranges up to " + std::to_string(expected.second) + ")"
                                                 : std::string()));
    }
  }
}

Episode LeRobotReader::Read(std::int64_t i, const std::set<std::string>* only) const {
  const EpisodeEntry& entry = Entry(i);
  Episode episode;
  episode.metadata.index = entry.index;
  episode.metadata.length = entry.length;
  if (!entry.tasks.empty()) episode.metadata.task = entry.tasks.front();

  const ParquetFile file = ParquetFile::Open(entry.data_file);
  const std::string name = file.path().string();
  if (file.num_rows() < entry.first_row + entry.length) {
    throw InputError(name, "",
                     "has " + std::to_string(file.num_rows()) + " rows, episode " + std::to_string(entry.index) +
                         " needs rows up to " + std::to_string(entry.first_row + entry.length));
  }
  CheckSchema(file);
  // The rows are checked through episode_index and timestamp, so those two are read whatever is asked for.
  std::vector<std::string> columns;
  for (const std::string& feature : table_features_) {
    if (!only || only->count(feature) || feature == "episode_index" || feature == "timestamp") {
      columns.push_back(feature);
    }
  }
  const auto table = file.ReadRows(columns, entry.first_row, entry.length);
  for (std::size_t c = 0; c < columns.size(); ++c) {
    const std::string& feature = columns[c];
    const auto& column = *table->column(static_cast<int>(c));
    Column out;
    out.data = meta_.info.storage.at(feature) == FeatureStorage::kImage
                   ? lerobot::DecodeImageColumn(column, info_.features.at(feature), name, feature)
                   : lerobot::ColumnToArray(column, info_.features.at(feature), name, feature);
    episode.columns.emplace(feature, std::move(out));
  }
  // The rows found must be the episode's: a v3.0 file holds many, located through the metadata's row ranges.
  if (const Column* stored = episode.Find("episode_index");
      stored && IsNumeric(stored->data.dtype) && !IsFloating(stored->data.dtype)) {
    VisitNumeric(stored->data.dtype, [&](auto t) {
      const auto values = stored->data.values<decltype(t)>();
      for (std::size_t r = 0; r < values.size(); ++r) {
        if (static_cast<std::int64_t>(values[r]) != entry.index) {
          throw InputError(name, "column 'episode_index'",
                           "row " + std::to_string(entry.first_row + static_cast<std::int64_t>(r)) + " holds episode " +
                               std::to_string(static_cast<std::int64_t>(values[r])) + ", the metadata places episode " +
                               std::to_string(entry.index) + " at rows " + std::to_string(entry.first_row) + ".." +
                               std::to_string(entry.first_row + entry.length));
        }
      }
    });
  }
  CheckFramePeriod(episode, name);
  for (const std::string& key : meta_.info.VideoKeys()) {
    if (!only || only->count(key)) episode.columns.emplace(key, ReadVideo(entry, key, episode));
  }
  for (const auto& [feature, stream] : side_streams_) {
    if (!only || only->count(feature)) episode.columns.emplace(feature, ReadSideStream(entry, feature));
  }
  if (auto p = provenance_.find(entry.index); p != provenance_.end()) {
    episode.provenance = ProvenanceFromJson(p->second, (path_ / "meta" / "provenance.jsonl").string(),
                                            "episode " + std::to_string(entry.index));
  }
  return episode;
}

// The episode's frames of one video: `length` frames from the segment's start plus the table's first timestamp,
// each within tolerance of the time the table gives it (its timestamp, or frame / fps without a timestamp column).
Column LeRobotReader::ReadVideo(const EpisodeEntry& entry, const std::string& key, const Episode& episode) const {
  const lerobot::VideoSegment& segment = entry.videos.at(key);
  const std::string file = segment.file.string();
  std::vector<double> times(static_cast<std::size_t>(entry.length));
  const Column* timestamp = episode.Find("timestamp");
  for (std::int64_t f = 0; f < entry.length; ++f) {
    const double t = timestamp && IsFloating(timestamp->data.dtype) ? FloatAt(timestamp->data, 1, f, 0)
                                                                    : static_cast<double>(f) / meta_.info.fps;
    times[static_cast<std::size_t>(f)] = segment.from_s + t;
  }
  video::VideoReader reader = video::VideoReader::Open(segment.file);
  const video::StreamInfo& stream = reader.info();
  const FeatureSpec& spec = info_.features.at(key);
  if (stream.height_px != spec.shape[0] || stream.width_px != spec.shape[1]) {
    throw InputError(file, key,
                     "is " + std::to_string(stream.width_px) + "x" + std::to_string(stream.height_px) +
                         ", meta/info.json declares " + ShapeToString(spec.shape));
  }
  if (entry.length == 0) return ColumnOf(Array::Zeros(DType::kUInt8, {0, spec.shape[0], spec.shape[1], 3}));
  // Checked on the container's frame times before decoding anything: a frame where the episode starts, and
  // enough frames from there on.
  const auto& all = stream.timestamps_s;
  auto first = std::lower_bound(all.begin(), all.end(), times[0]);
  if (first != all.begin() && (first == all.end() || times[0] - *(first - 1) < *first - times[0])) --first;
  if (first == all.end() || std::abs(*first - times[0]) > kToleranceS) {
    throw InputError(file, key,
                     "episode " + std::to_string(entry.index) + " starts at " + Seconds(times[0]) +
                         " (from_timestamp " + Seconds(segment.from_s) + " + its first timestamp), the nearest frame " +
                         (first == all.end() ? std::string("is none (no frames)") : "is at " + Seconds(*first)) +
                         ": over LeRobot's tolerance of " + Seconds(kToleranceS));
  }
  const std::int64_t available = all.end() - first;
  if (available < entry.length) {
    throw InputError(file, key,
                     "holds " + std::to_string(available) + " frames from " + Seconds(*first) + " (of " +
                         std::to_string(stream.frames()) + " in the file), episode " + std::to_string(entry.index) +
                         "'s table has " + std::to_string(entry.length) + ": the video is shorter than its table");
  }
  Array frames = reader.ReadFrames(times[0], entry.length);
  const std::vector<double>& decoded = reader.last_timestamps_s();
  for (std::size_t f = 0; f < times.size(); ++f) {
    const double error = f < decoded.size() ? std::abs(decoded[f] - times[f]) : INFINITY;
    if (!(error <= kToleranceS)) {
      throw InputError(file, key,
                       "frame " + std::to_string(f) + " of episode " + std::to_string(entry.index) + " decodes at " +
                           (f < decoded.size() ? Seconds(decoded[f]) : std::string("no time")) +
                           ", the table puts it at " + Seconds(times[f]) + " (timestamp + from_timestamp " +
                           Seconds(segment.from_s) + "): over LeRobot's tolerance of " + Seconds(kToleranceS));
    }
  }
  if (frames.dtype != DType::kUInt8 || frames.shape.size() != 4 || frames.shape[3] != spec.shape[2]) {
    throw InputError(file, key,
                     "decodes to " + std::string(DTypeName(frames.dtype)) + " " + ShapeToString(frames.shape) +
                         ", meta/info.json declares uint8 " + ShapeToString(spec.shape));
  }
  return ColumnOf(std::move(frames));
}

}  // namespace

bool IsLeRobotDataset(const fs::path& path) {
  std::error_code ec;
  return fs::is_directory(path, ec) && fs::exists(path / "meta" / "info.json", ec);
}

std::unique_ptr<DatasetReader::Impl> OpenLeRobotDataset(const fs::path& path) {
  return std::make_unique<LeRobotReader>(path);
}

}  // namespace r2s::episode
