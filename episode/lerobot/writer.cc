// The LeRobot dataset writer: the source's version (v2.1 or v3.0), features, fps, robot type and column types,
// written as LeRobot 0.3.3 (v2.1) and 0.4.4 (v3.0) write them, so LeRobot loads real and synthetic datasets alike
// and its aggregate_datasets merges them.
//
//   v2.1  data/chunk-XXX/episode_XXXXXX.parquet              one per episode, one row group
//         videos/chunk-XXX/<key>/episode_XXXXXX.mp4          one per episode and camera
//         meta/info.json, episodes.jsonl, episodes_stats.jsonl, tasks.jsonl
//   v3.0  data/chunk-XXX/file-XXX.parquet                    episodes appended (a row group each), rolled past
//                                                            data_files_size_in_mb
//         videos/<key>/chunk-XXX/file-XXX.mp4                episodes' videos concatenated by stream copy at
//                                                            Commit, rolled past video_files_size_in_mb
//         meta/episodes/chunk-XXX/file-XXX.parquet           a row per episode (a row group per 10)
//         meta/info.json, stats.json, tasks.parquet
// Beside what LeRobot writes (both versions):
//   side_streams/<feature>/chunk-XXX/episode_XXXXXX.mkv  depth ([H, W] float32, metres) and segmentation
//       ([H, W] uint16) streams, which LeRobot has no feature type for: lossless FFV1 gray16, one file per
//       episode, described in meta/real2sim.json and NOT declared in info.json, so LeRobot's loaders and merge
//       ignore them. (LeRobot 0.4.4's "video.is_depth_map" is only ever written, as false, by get_video_info;
//       nothing reads it, so it cannot mark a depth video LeRobot would understand.)
//   meta/provenance.jsonl  one line per synthetic episode: {"episode_index": i, "provenance": {...}};
//   meta/real2sim.json     who wrote the dataset, whether it is synthetic, the side streams.
// Statistics (lerobot_stats.h) carry all of LeRobot 0.4.4's figures, min, max, mean, std, count, q01, q10, q50,
// q90, q99, in both versions (0.3.3 reads the five it knows and ignores the quantiles).
//
// Everything is written into a hidden temporary folder beside `path`, renamed into place by Commit and removed
// by a writer destroyed without Commit. v3.0's per-episode videos are kept as parts in that folder until Commit.

#include <arrow/api.h>
#include <arrow/io/memory.h>
#include <arrow/ipc/dictionary.h>
#include <arrow/ipc/reader.h>
#include <arrow/util/key_value_metadata.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "episode/atomic_file.h"
#include "episode/dataset_backend.h"
#include "episode/input_error.h"
#include "episode/lerobot/json_lines.h"
#include "episode/lerobot/lerobot_stats.h"
#include "episode/lerobot/path_template.h"
#include "episode/lerobot/writer_table.h"
#include "episode/statistics.h"
#include "episode/video/video_file.h"
#include "episode/video/video_writer.h"
#include "real2sim/build_config.h"

namespace r2s::episode {
namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {

using lerobot::Check;
using lerobot::FormatPathTemplate;
using lerobot::Take;

constexpr const char* kDefaultColumns[] = {"timestamp", "frame_index", "episode_index", "index", "task_index"};
constexpr const char* kEpisodesPath = "meta/episodes/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet";
constexpr const char* kSideStreamPath =
    "side_streams/{feature}/chunk-{chunk_index:03d}/episode_{episode_index:06d}.mkv";
constexpr const char* kStatNames[] = {"min", "max", "mean", "std", "count", "q01", "q10", "q50", "q90", "q99"};
// LeRobot flushes its episodes-metadata buffer every 10 episodes (metadata_buffer_size): one row group each.
constexpr std::int64_t kEpisodesPerRowGroup = 10;
// pandas' DataFrame.to_parquet metadata for LeRobot's tasks table (task_index column, task as the index), as
// the bundled v3.0 dataset has it.
constexpr const char* kTasksPandasMetadata =
    R"({"index_columns": ["task"], "column_indexes": [{"name": null, "field_name": null, "pandas_type": "unicode", )"
    R"("numpy_type": "object", "metadata": {"encoding": "UTF-8"}}], "columns": [{"name": "task_index", )"
    R"("field_name": "task_index", "pandas_type": "int64", "numpy_type": "int64", "metadata": null}, {"name": )"
    R"("task", "field_name": "task", "pandas_type": "unicode", "numpy_type": "object", "metadata": null}], )"
    R"("attributes": {}, "creator": {"library": "pyarrow", "version": "26.0.1"}, "pandas_version": "2.3.3"})";

bool IsDefaultColumn(const std::string& name) {
  return std::any_of(std::begin(kDefaultColumns), std::end(kDefaultColumns), [&](const char* c) { return name == c; });
}

bool StartsWith(const std::string& s, const std::string& prefix) { return s.rfind(prefix, 0) == 0; }

// Streams LeRobot has no feature type for: float32 depth [H, W] in metres and uint16 segmentation ids [H, W].
bool IsSideStream(const std::string& name, const FeatureSpec& spec) {
  if (spec.shape.size() != 2) return false;
  return (StartsWith(name, "observation.depth.") && spec.dtype == DType::kFloat32) ||
         (StartsWith(name, "observation.segmentation.") && spec.dtype == DType::kUInt16);
}

std::string CodecName(const std::string& encoder) {
  if (encoder == "libx264") return "h264";
  if (encoder == "libsvtav1" || encoder == "libaom-av1") return "av1";
  return encoder;
}

std::string ReadText(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(file.string(), "", "cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// json.dump(indent=4, ensure_ascii=False), LeRobot's write_json.
std::string Dump(const ojson& j) { return j.dump(4, ' ', false); }

// One episode's statistics, per feature in info.json's order.
using EpisodeStats = std::vector<std::pair<std::string, FeatureStatistics>>;

struct EpisodeRecord {
  std::int64_t index = 0;
  std::int64_t length = 0;
  std::vector<std::string> tasks;
  std::int64_t data_chunk = 0, data_file = 0, from_index = 0, to_index = 0;
  EpisodeStats stats;
  std::string provenance_json;                  // empty: none
  std::map<std::string, fs::path> video_parts;  // v3.0: key -> this episode's own video, concatenated at Commit
};

// A stat as LeRobot serializes it: integer features keep integer min/max; images are (C, 1, 1).
ojson StatJson(const std::vector<double>& values, bool integer, bool image) {
  ojson list = ojson::array();
  for (double v : values) {
    ojson element = integer ? ojson(static_cast<std::int64_t>(v)) : ojson(v);
    list.push_back(image ? ojson::array({ojson::array({element})}) : element);
  }
  return list;
}

const std::vector<double>& StatValues(const FeatureStatistics& s, std::string_view stat) {
  if (stat == "min") return s.min;
  if (stat == "max") return s.max;
  if (stat == "mean") return s.mean;
  if (stat == "std") return s.std;
  if (stat == "q01") return s.q01;
  if (stat == "q10") return s.q10;
  if (stat == "q50") return s.q50;
  if (stat == "q90") return s.q90;
  return s.q99;
}

std::vector<double>& MutableStatValues(FeatureStatistics& s, std::string_view stat) {
  return const_cast<std::vector<double>&>(StatValues(s, stat));
}

class LeRobotWriter final : public DatasetWriter::Impl {
 public:
  LeRobotWriter(const fs::path& path, const DatasetInfo& info, const WriteOptions& options)
      : path_(path), info_(info), options_(options) {
    if (!info.lerobot) throw InputError(path.string(), "lerobot", "no LeRobot metadata (codebase_version, info.json)");
    version_ = info.lerobot->codebase_version;
    if (version_ != "v2.1" && version_ != "v3.0") {
      throw InputError(path.string(), "codebase_version", "'" + version_ + "', expected v2.1 or v3.0");
    }
    if (fs::exists(path) && !options.overwrite) {
      throw InputError(path.string(), "", "exists; WriteOptions.overwrite replaces it");
    }
    try {
      info_json_ = ojson::parse(info.lerobot->info_json);
    } catch (const nlohmann::json::exception& e) {
      throw InputError(path.string(), "meta/info.json", std::string("of the source is not JSON: ") + e.what());
    }
    fps_ = info_json_.value("fps", info.fps.value_or(30.0));
    chunks_size_ = info_json_.value("chunks_size", 1000);
    SetUpFeatures();
    SetUpSchema();
    temp_ = TemporaryPathFor(path);
    fs::create_directories(temp_ / "meta");
  }

  ~LeRobotWriter() override {
    data_writer_.reset();
    if (!committed_) {
      std::error_code ignored;
      fs::remove_all(temp_, ignored);
    }
  }

  void Append(const Episode& episode) override {
    const std::int64_t index = episode.metadata.index;
    CheckNextIndex(index);
    const std::int64_t frames = episode.columns.empty() ? 0 : episode.columns.begin()->second.num_frames();
    const std::string where = "episode " + std::to_string(index);
    if (frames < 1) throw InputError(path_.string(), where, "has no frames");

    EpisodeRecord record;
    record.index = index;
    record.length = frames;
    record.tasks = {episode.metadata.task};
    const std::int64_t task_index = TaskIndex(episode.metadata.task);
    if (episode.provenance) record.provenance_json = ProvenanceToJson(*episode.provenance);

    // Per-frame table.
    std::map<std::string, Array> defaults = DefaultColumns(episode, frames, index, task_index);
    std::vector<std::shared_ptr<arrow::Array>> columns;
    for (const auto& field : schema_->fields()) {
      const std::string& name = field->name();
      const Array* data = nullptr;
      std::vector<std::int64_t> shape = {1};
      if (auto it = defaults.find(name); it != defaults.end()) {
        data = &it->second;
      } else {
        const Column* column = episode.Find(name);
        if (!column) throw InputError(path_.string(), where, "lacks the column '" + name + "' of the data files");
        data = &column->data;
        shape = info_.features.at(name).shape;
      }
      columns.push_back(lerobot::BuildColumn(field->type(), *data, shape, path_.string(), name));
    }
    auto table = arrow::Table::Make(schema_, columns, frames);

    // Videos and side streams.
    for (const auto& key : video_keys_) {
      const Array& frames_array = episode.At(key).data;
      const fs::path file = EncodeVideo(key, index, frames_array);
      if (version_ == "v3.0") record.video_parts[key] = file;
    }
    if (options_.lerobot_side_streams) {
      for (const auto& name : side_streams_) EncodeSideStream(name, index, episode.At(name).data);
    }

    // Statistics: features in info.json's order, as compute_episode_stats iterates the episode buffer.
    for (const auto& [name, feature] : info_json_["features"].items()) {
      const std::string dtype = feature.value("dtype", "");
      if (dtype == "string") continue;
      const Array* data = nullptr;
      if (auto it = defaults.find(name); it != defaults.end())
        data = &it->second;
      else if (const Column* column = episode.Find(name))
        data = &column->data;
      if (!data) continue;
      record.stats.emplace_back(name, lerobot::LeRobotStatistics(*data, dtype == "video" || dtype == "image"));
    }
    WriteEpisodeTable(record, table);
    Finish(std::move(record));
  }

  void AppendCopy(const fs::path& source, std::int64_t source_index, std::int64_t index, std::int64_t frames) override {
    CheckNextIndex(index);
    const std::string src = source.string();
    const std::string where = "episode " + std::to_string(source_index);
    ojson source_info;
    try {
      source_info = ojson::parse(ReadText(source / "meta" / "info.json"));
    } catch (const nlohmann::json::exception& e) {
      throw InputError((source / "meta" / "info.json").string(), "", std::string("is not JSON: ") + e.what());
    }
    if (source_info.value("codebase_version", "") != version_) {
      throw InputError(src, "codebase_version",
                       "'" + source_info.value("codebase_version", "") + "', this dataset is " + version_);
    }
    SourceEpisode found = version_ == "v2.1" ? ReadSourceV21(source, source_info, source_index)
                                             : ReadSourceV30(source, source_info, source_index);
    EpisodeRecord record;
    record.index = index;
    record.tasks = found.tasks;
    const std::shared_ptr<arrow::Table>& rows = found.rows;
    const std::map<std::string, fs::path>& source_videos = found.videos;
    const auto& source_stats = found.stats;
    if (rows->num_rows() != frames) {
      throw InputError(src, where,
                       "has " + std::to_string(rows->num_rows()) + " rows, expected " + std::to_string(frames));
    }
    if (record.tasks.size() != 1) {
      throw InputError(src, where, "has " + std::to_string(record.tasks.size()) + " tasks; real2sim writes one");
    }
    record.length = frames;
    const std::int64_t task_index = TaskIndex(record.tasks.front());

    // Renumbered rows: the same arrays Append builds, so the bytes are the same.
    Episode renumber;
    renumber.metadata.index = index;
    const auto defaults = DefaultColumns(renumber, frames, index, task_index, rows);
    std::vector<std::shared_ptr<arrow::Array>> columns;
    for (const auto& field : schema_->fields()) {
      if (auto it = defaults.find(field->name());
          it != defaults.end() && field->name() != "timestamp" && field->name() != "frame_index") {
        columns.push_back(lerobot::BuildColumn(field->type(), it->second, {1}, path_.string(), field->name()));
        continue;
      }
      const auto column = rows->GetColumnByName(field->name());
      if (!column) throw InputError(src, field->name(), "is missing from the source's data file");
      auto combined = Take(arrow::Concatenate(column->chunks()), src, field->name());
      if (!combined->type()->Equals(*field->type())) {
        throw InputError(
            src, field->name(),
            "has type " + combined->type()->ToString() + ", this dataset's is " + field->type()->ToString());
      }
      columns.push_back(combined);
    }
    auto table = arrow::Table::Make(schema_, columns, frames);

    for (const auto& key : video_keys_) {
      const fs::path target = VideoTarget(key, index);
      fs::create_directories(target.parent_path());
      PlaceCopy(source_videos.at(key), target);
      if (version_ == "v3.0") record.video_parts[key] = target;
    }
    if (options_.lerobot_side_streams) {
      for (const auto& name : side_streams_) {
        const fs::path from =
            source / FormatPathTemplate(kSideStreamPath,
                                        {{"feature", name},
                                         {"chunk_index", lerobot::ChunkOf(source_index, chunks_size_)},
                                         {"episode_index", source_index}},
                                        src, "side_streams");
        const fs::path to = SideStreamTarget(name, index);
        fs::create_directories(to.parent_path());
        if (!fs::exists(from)) throw InputError(from.string(), name, "side stream is missing");
        PlaceCopy(from, to);
      }
    }
    if (fs::exists(source / "meta" / "provenance.jsonl")) {
      for (const auto& [number, line] : lerobot::ReadJsonLines<ojson>(source / "meta" / "provenance.jsonl")) {
        if (line.value("episode_index", -1) == source_index) record.provenance_json = line.at("provenance").dump();
      }
    }
    // Statistics: the source's for the features, recomputed for the renumbered columns.
    for (const auto& [name, feature] : info_json_["features"].items()) {
      if (auto it = defaults.find(name); it != defaults.end()) {
        const Array* data = &it->second;
        record.stats.emplace_back(name, lerobot::LeRobotStatistics(*data, false));
        continue;
      }
      const auto found = std::find_if(source_stats.begin(), source_stats.end(),
                                      [&key = name](const auto& p) { return p.first == key; });
      if (found != source_stats.end()) record.stats.emplace_back(name, found->second);
    }
    WriteEpisodeTable(record, table);
    Finish(std::move(record));
  }

  void Commit() override {
    if (data_writer_) {
      data_writer_->Close();
      data_writer_.reset();
    }
    if (version_ == "v3.0") {
      ConcatenateVideoParts();
      if (!records_.empty()) WriteEpisodesParquet();
      WriteTasksParquet();
      WriteStatsJson();
    } else {
      WriteV21Meta();
    }
    WriteInfoJson();
    WriteReal2SimMeta();
    fs::remove_all(temp_ / ".parts");
    // Into place: an existing dataset (WriteOptions.overwrite) is moved aside first and removed once the new one is in.
    fs::path old;
    if (fs::exists(path_)) {
      old = TemporaryPathFor(path_);
      fs::rename(path_, old);
    }
    try {
      fs::rename(temp_, path_);
    } catch (...) {
      if (!old.empty()) fs::rename(old, path_);  // the previous dataset back in place
      throw;
    }
    committed_ = true;
    if (!old.empty()) fs::remove_all(old);
  }

 private:
  void SetUpFeatures() {
    ojson& features = info_json_["features"];
    for (const auto& [name, spec] : info_.features) {
      if (IsSideStream(name, spec)) {
        side_streams_.push_back(name);
        continue;
      }
      if (spec.IsImage()) {
        if (spec.shape[2] != 3) {
          throw InputError(path_.string(), name,
                           "has " + std::to_string(spec.shape[2]) + " channels; LeRobot videos are RGB (3)");
        }
        video_keys_.push_back(name);
        // What was encoded, in get_video_info's keys; a feature the source lacks is added as LeRobot adds one.
        ojson video_info = ojson::object();
        if (features.contains(name) && features[name].contains("info")) video_info = features[name]["info"];
        video_info["video.height"] = spec.shape[0];
        video_info["video.width"] = spec.shape[1];
        video_info["video.codec"] = CodecName(options_.video.codec);
        video_info["video.pix_fmt"] = options_.video.pix_fmt;
        video_info["video.is_depth_map"] = false;
        video_info["video.fps"] = static_cast<std::int64_t>(std::lround(fps_));
        video_info["video.channels"] = 3;
        video_info["has_audio"] = false;
        if (!features.contains(name)) {
          features[name] = ojson{
              {"dtype", "video"}, {"shape", spec.shape}, {"names", ojson::array({"height", "width", "channels"})}};
        }
        features[name]["dtype"] = "video";
        features[name]["info"] = video_info;
        continue;
      }
      if (!features.contains(name)) {
        ojson names = nullptr;
        if (!spec.names.empty() && !spec.names[0].empty()) names = spec.names;
        features[name] = ojson{{"dtype", DTypeName(spec.dtype)}, {"shape", spec.shape}, {"names", names}};
      }
    }
    // Features of the source that this dataset does not carry (cameras not rendered) are dropped from info.json.
    std::vector<std::string> drop;
    for (const auto& [name, feature] : features.items()) {
      if (!IsDefaultColumn(name) && !info_.features.count(name)) drop.push_back(name);
    }
    for (const auto& name : drop) features.erase(name);
    for (const char* name : kDefaultColumns) {
      if (!features.contains(name)) {
        features[name] = ojson{
            {"dtype", std::string(name) == "timestamp" ? "float32" : "int64"}, {"shape", {1}}, {"names", nullptr}};
      }
    }
  }

  void SetUpSchema() {
    std::shared_ptr<arrow::Schema> source;
    if (!info_.lerobot->data_arrow_schema.empty()) {
      arrow::io::BufferReader reader(arrow::Buffer::FromString(info_.lerobot->data_arrow_schema));
      arrow::ipc::DictionaryMemo memo;
      source = Take(arrow::ipc::ReadSchema(&reader, &memo), path_.string(), "lerobot.data_arrow_schema");
    }
    std::vector<std::shared_ptr<arrow::Field>> fields;
    std::set<std::string> have;
    if (source) {
      for (const auto& field : source->fields()) {
        if (IsDefaultColumn(field->name()) || table_feature(field->name())) {
          fields.push_back(field);
          have.insert(field->name());
        }
      }
    }
    for (const auto& [name, feature] : info_json_["features"].items()) {
      if (have.count(name) || feature.value("dtype", "") == "video" || feature.value("dtype", "") == "image") continue;
      FeatureSpec spec;
      if (auto it = info_.features.find(name); it != info_.features.end()) {
        spec = it->second;
      } else if (IsDefaultColumn(name)) {
        spec.dtype = name == "timestamp" ? DType::kFloat32 : DType::kInt64;
        spec.shape = {1};
      } else {
        continue;
      }
      fields.push_back(arrow::field(name, lerobot::LeRobotArrowType(spec)));
    }
    std::shared_ptr<const arrow::KeyValueMetadata> metadata = source ? source->metadata() : nullptr;
    if (!source) {
      // What `datasets` records beside a table LeRobot 0.4.4 writes: {"info": {"features": {...}}}, Value for
      // scalars, List with a length for vectors.
      ojson features = ojson::object();
      for (const auto& field : fields) {
        std::shared_ptr<arrow::DataType> type = field->type();
        std::vector<std::int64_t> lengths;
        while (type->id() == arrow::Type::FIXED_SIZE_LIST) {
          lengths.push_back(static_cast<const arrow::FixedSizeListType&>(*type).list_size());
          type = type->field(0)->type();
        }
        ojson value = ojson{{"dtype", type->id() == arrow::Type::FLOAT    ? "float32"
                                      : type->id() == arrow::Type::DOUBLE ? "float64"
                                      : type->id() == arrow::Type::BOOL   ? "bool"
                                                                          : type->ToString()},
                            {"_type", "Value"}};
        for (auto it = lengths.rbegin(); it != lengths.rend(); ++it) {
          value = ojson{{"feature", value}, {"length", *it}, {"_type", "List"}};
        }
        features[field->name()] = value;
      }
      metadata = arrow::key_value_metadata({"huggingface"},
                                           {PythonSeparators(ojson{{"info", {{"features", features}}}}.dump())});
    }
    schema_ = arrow::schema(fields, metadata);
  }

  bool table_feature(const std::string& name) const {
    auto it = info_.features.find(name);
    return it != info_.features.end() && !it->second.IsImage() && !IsSideStream(name, it->second);
  }

  void CheckNextIndex(std::int64_t index) const {
    // LeRobot's validate_episode_buffer: episode indices are 0, 1, 2, ... in order.
    const auto expected = static_cast<std::int64_t>(records_.size());
    if (index != expected) {
      throw InputError(path_.string(), "episode_index",
                       std::to_string(index) + ", expected " + std::to_string(expected) +
                           " (LeRobot numbers episodes 0, 1, 2, ... in the order they are written)");
    }
  }

  std::int64_t TaskIndex(const std::string& task) {
    auto it = std::find(tasks_.begin(), tasks_.end(), task);
    if (it != tasks_.end()) return it - tasks_.begin();
    tasks_.push_back(task);
    return static_cast<std::int64_t>(tasks_.size()) - 1;
  }

  // timestamp, frame_index (the episode's own when it has them, or the copied rows'), episode_index, index and
  // task_index.
  std::map<std::string, Array> DefaultColumns(const Episode& episode, std::int64_t frames, std::int64_t index,
                                              std::int64_t task_index,
                                              const std::shared_ptr<arrow::Table>& rows = nullptr) const {
    std::map<std::string, Array> out;
    std::vector<float> timestamp(frames);
    std::vector<std::int64_t> frame_index(frames), episode_index(frames, index), global(frames),
        task(frames, task_index);
    for (std::int64_t i = 0; i < frames; ++i) {
      timestamp[i] = static_cast<float>(static_cast<double>(i) / fps_);
      frame_index[i] = i;
      global[i] = total_frames_ + i;
    }
    if (rows) {
      for (std::int64_t i = 0; i < frames; ++i) {
        timestamp[i] = static_cast<float>(lerobot::FlattenRow(*rows->GetColumnByName("timestamp"), i).at(0));
        frame_index[i] = static_cast<std::int64_t>(lerobot::FlattenRow(*rows->GetColumnByName("frame_index"), i).at(0));
      }
    } else {
      if (const Column* c = episode.Find("timestamp"); c && c->data.size() == frames) {
        for (std::int64_t i = 0; i < frames; ++i) timestamp[i] = static_cast<float>(FloatAt(c->data, 1, i, 0));
      }
      if (const Column* c = episode.Find("frame_index");
          c && c->data.dtype == DType::kInt64 && c->data.size() == frames) {
        const auto v = c->data.values<std::int64_t>();
        std::copy(v.begin(), v.end(), frame_index.begin());
      }
    }
    out["timestamp"] = Array::Of<float>({frames}, timestamp);
    out["frame_index"] = Array::Of<std::int64_t>({frames}, frame_index);
    out["episode_index"] = Array::Of<std::int64_t>({frames}, episode_index);
    out["index"] = Array::Of<std::int64_t>({frames}, global);
    out["task_index"] = Array::Of<std::int64_t>({frames}, task);
    return out;
  }

  fs::path VideoTarget(const std::string& key, std::int64_t index) const {
    if (version_ == "v2.1") {
      return temp_ / FormatPathTemplate(info_json_.value("video_path", ""),
                                        {{"episode_chunk", lerobot::ChunkOf(index, chunks_size_)},
                                         {"video_key", key},
                                         {"episode_index", index}},
                                        path_.string(), "video_path");
    }
    char name[32];
    std::snprintf(name, sizeof name, "episode_%06lld.mp4", static_cast<long long>(index));
    return temp_ / ".parts" / key / name;
  }

  fs::path SideStreamTarget(const std::string& feature, std::int64_t index) const {
    return temp_ /
           FormatPathTemplate(
               kSideStreamPath,
               {{"feature", feature}, {"chunk_index", lerobot::ChunkOf(index, chunks_size_)}, {"episode_index", index}},
               path_.string(), "side_streams");
  }

  fs::path EncodeVideo(const std::string& key, std::int64_t index, const Array& frames) {
    const fs::path file = VideoTarget(key, index);
    fs::create_directories(file.parent_path());
    const int h = static_cast<int>(frames.shape[1]), w = static_cast<int>(frames.shape[2]);
    auto writer = video::VideoWriter::Create(file, w, h, fps_, video::FrameFormat::kRgb8, options_.video);
    const auto pixels = frames.values<std::uint8_t>();
    const std::size_t frame_bytes = static_cast<std::size_t>(h) * w * 3;
    for (std::int64_t t = 0; t < frames.shape[0]; ++t) writer.AddFrame(pixels.subspan(t * frame_bytes, frame_bytes));
    writer.Finish();
    return file;
  }

  void EncodeSideStream(const std::string& name, std::int64_t index, const Array& frames) {
    const fs::path file = SideStreamTarget(name, index);
    fs::create_directories(file.parent_path());
    const int h = static_cast<int>(frames.shape[1]), w = static_cast<int>(frames.shape[2]);
    auto writer = video::VideoWriter::Create(file, w, h, fps_, video::FrameFormat::kGray16, options_.video);
    const std::size_t n = static_cast<std::size_t>(h) * w;
    std::vector<std::uint16_t> frame(n);
    for (std::int64_t t = 0; t < frames.shape[0]; ++t) {
      if (frames.dtype == DType::kUInt16) {
        const auto v = frames.values<std::uint16_t>().subspan(t * n, n);
        std::copy(v.begin(), v.end(), frame.begin());
      } else {
        // Depth as uint16 millimetres: FFV1 codes 16-bit integers losslessly (no float pixel format is widely
        // decodable), 1 mm is finer than depth sensors resolve and 65.535 m beyond their range; 0 marks no
        // return (NaN, Inf or <= 0), as depth cameras mark it. Values past the range saturate.
        const auto v = frames.values<float>().subspan(t * n, n);
        for (std::size_t i = 0; i < n; ++i) {
          const double mm = std::isfinite(v[i]) && v[i] > 0 ? std::nearbyint(v[i] * 1000.0) : 0.0;
          frame[i] = static_cast<std::uint16_t>(std::clamp(mm, v[i] > 0 && std::isfinite(v[i]) ? 1.0 : 0.0, 65535.0));
        }
      }
      writer.AddFrame({reinterpret_cast<const std::uint8_t*>(frame.data()), n * 2});
    }
    writer.Finish();
  }

  // v2.1: a file per episode. v3.0: appended to the current data file, rolled to the next one as LeRobot's
  // _save_episode_data does (current size + average size per frame x frames >= data_files_size_in_mb).
  void WriteEpisodeTable(EpisodeRecord& record, const std::shared_ptr<arrow::Table>& table) {
    record.from_index = total_frames_;
    record.to_index = total_frames_ + record.length;
    if (version_ == "v2.1") {
      record.data_chunk = lerobot::ChunkOf(record.index, chunks_size_);
      const fs::path file =
          temp_ / FormatPathTemplate(info_json_.value("data_path", ""),
                                     {{"episode_chunk", record.data_chunk}, {"episode_index", record.index}},
                                     path_.string(), "data_path");
      lerobot::ParquetFileWriter writer(file, schema_);
      writer.WriteRowGroup(table);
      writer.Close();
      return;
    }
    if (data_writer_) {
      const double size_mb = static_cast<double>(data_writer_->BytesWritten()) / (1024.0 * 1024.0);
      const std::int64_t in_file = total_frames_ - file_start_frame_;
      const double per_frame = in_file > 0 ? size_mb / static_cast<double>(in_file) : 0.0;
      if (size_mb + per_frame * static_cast<double>(record.length) >=
          info_json_.value("data_files_size_in_mb", 100.0)) {
        data_writer_->Close();
        data_writer_.reset();
        NextFile(data_chunk_, data_file_);
        file_start_frame_ = total_frames_;
      }
    }
    if (!data_writer_) {
      const fs::path file = temp_ / FormatPathTemplate(info_json_.value("data_path", ""),
                                                       {{"chunk_index", data_chunk_}, {"file_index", data_file_}},
                                                       path_.string(), "data_path");
      data_writer_ = std::make_unique<lerobot::ParquetFileWriter>(file, schema_);
    }
    data_writer_->WriteRowGroup(table);
    record.data_chunk = data_chunk_;
    record.data_file = data_file_;
  }

  // LeRobot's update_chunk_file_indices.
  void NextFile(std::int64_t& chunk, std::int64_t& file) const {
    if (file == chunks_size_ - 1) {
      file = 0;
      ++chunk;
    } else {
      ++file;
    }
  }

  void Finish(EpisodeRecord record) {
    total_frames_ += record.length;
    records_.push_back(std::move(record));
  }

  // ---- AppendCopy's reading of the source. ----

  struct SourceEpisode {
    std::shared_ptr<arrow::Table> rows;  // its rows of the data file
    std::vector<std::string> tasks;
    std::map<std::string, fs::path> videos;  // video key -> the file holding only this episode
    std::vector<std::pair<std::string, FeatureStatistics>> stats;
  };

  // v2.1: a data file and a video per episode; episodes.jsonl and episodes_stats.jsonl.
  SourceEpisode ReadSourceV21(const fs::path& source, const ojson& source_info, std::int64_t source_index) const {
    const std::string src = source.string();
    SourceEpisode out;
    const std::int64_t chunk = lerobot::ChunkOf(source_index, source_info.value("chunks_size", 1000));
    out.rows = lerobot::ReadParquet(
        source / FormatPathTemplate(source_info.value("data_path", ""),
                                    {{"episode_chunk", chunk}, {"episode_index", source_index}}, src, "data_path"));
    for (const auto& key : video_keys_) {
      out.videos[key] =
          source / FormatPathTemplate(source_info.value("video_path", ""),
                                      {{"episode_chunk", chunk}, {"video_key", key}, {"episode_index", source_index}},
                                      src, "video_path");
    }
    out.tasks =
        FindJsonLine(source / "meta" / "episodes.jsonl", source_index).at("tasks").get<std::vector<std::string>>();
    const ojson stats = FindJsonLine(source / "meta" / "episodes_stats.jsonl", source_index).at("stats");
    for (const auto& [name, s] : stats.items()) out.stats.emplace_back(name, StatsFromJson(s));
    return out;
  }

  // v3.0: the episode's row of meta/episodes locates its rows in a data file and its video files; AppendCopy
  // takes episodes whose video files hold nothing else (one-episode parts), since cutting one out of a shared
  // file would need a stream-copy cut the video layer does not offer.
  SourceEpisode ReadSourceV30(const fs::path& source, const ojson& source_info, std::int64_t source_index) const {
    const std::string src = source.string();
    const std::string where = "episode " + std::to_string(source_index);
    SourceEpisode out;
    const auto episodes = ReadSourceEpisodes(source);
    auto value = [&](const std::string& column, std::int64_t row) {
      const auto c = episodes->GetColumnByName(column);
      if (!c) throw InputError(src, "meta/episodes", "lacks the column '" + column + "'");
      return static_cast<std::int64_t>(lerobot::FlattenRow(*c, row).at(0));
    };
    std::int64_t row = -1;
    for (std::int64_t r = 0; r < episodes->num_rows(); ++r) {
      if (value("episode_index", r) == source_index) row = r;
    }
    if (row < 0) throw InputError(src, where, "is not in meta/episodes");

    const auto table =
        lerobot::ReadParquet(source / FormatPathTemplate(source_info.value("data_path", ""),
                                                         {{"chunk_index", value("data/chunk_index", row)},
                                                          {"file_index", value("data/file_index", row)}},
                                                         src, "data_path"));
    const auto episode_index = table->GetColumnByName("episode_index");
    if (!episode_index) throw InputError(src, "episode_index", "is missing from the data file");
    std::int64_t first = -1, count = 0;
    for (std::int64_t r = 0; r < table->num_rows(); ++r) {
      if (static_cast<std::int64_t>(lerobot::FlattenRow(*episode_index, r).at(0)) == source_index) {
        if (first < 0) first = r;
        ++count;
      }
    }
    out.rows = table->Slice(first < 0 ? 0 : first, count);

    const auto tasks = Take(arrow::Concatenate(episodes->GetColumnByName("tasks")->chunks()), src, "tasks");
    const auto strings =
        std::static_pointer_cast<arrow::StringArray>(static_cast<const arrow::ListArray&>(*tasks).value_slice(row));
    for (std::int64_t i = 0; i < strings->length(); ++i) out.tasks.push_back(strings->GetString(i));

    for (const auto& key : video_keys_) {
      const std::string prefix = "videos/" + key + "/";
      const std::int64_t chunk = value(prefix + "chunk_index", row), file = value(prefix + "file_index", row);
      for (std::int64_t r = 0; r < episodes->num_rows(); ++r) {
        if (r != row && value(prefix + "chunk_index", r) == chunk && value(prefix + "file_index", r) == file) {
          throw InputError(src, prefix + "file_index",
                           "episode " + std::to_string(source_index) + " shares its video file with episode " +
                               std::to_string(value("episode_index", r)) +
                               "; AppendCopy takes episodes whose video files hold only them (one-episode parts)");
        }
      }
      out.videos[key] = source / FormatPathTemplate(source_info.value("video_path", ""),
                                                    {{"video_key", key}, {"chunk_index", chunk}, {"file_index", file}},
                                                    src, "video_path");
    }
    for (const auto& [name, feature] : source_info["features"].items()) {
      if (!episodes->GetColumnByName("stats/" + name + "/mean")) continue;
      FeatureStatistics s;
      for (const char* stat : kStatNames) {
        const auto column = episodes->GetColumnByName("stats/" + name + "/" + stat);
        if (!column) continue;
        auto values = lerobot::FlattenRow(*column, row);
        if (std::string_view(stat) == "count") {
          s.count = static_cast<std::int64_t>(values.at(0));
        } else {
          MutableStatValues(s, stat) = std::move(values);
        }
      }
      out.stats.emplace_back(name, std::move(s));
    }
    return out;
  }

  ojson FindJsonLine(const fs::path& file, std::int64_t episode_index) const {
    for (auto& [number, line] : lerobot::ReadJsonLines<ojson>(file)) {
      if (line.value("episode_index", -1) == episode_index) return line;
    }
    throw InputError(file.string(), "episode_index", "has no line for episode " + std::to_string(episode_index));
  }

  static FeatureStatistics StatsFromJson(const ojson& j) {
    FeatureStatistics s;
    auto flatten = [](const ojson& v, auto& self, std::vector<double>& out) -> void {
      if (v.is_array()) {
        for (const auto& e : v) self(e, self, out);
      } else {
        out.push_back(v.get<double>());
      }
    };
    for (const char* stat : kStatNames) {
      if (!j.contains(stat)) continue;
      std::vector<double> values;
      flatten(j.at(stat), flatten, values);
      if (std::string_view(stat) == "count")
        s.count = static_cast<std::int64_t>(values.at(0));
      else
        MutableStatValues(s, stat) = std::move(values);
    }
    return s;
  }

  std::shared_ptr<arrow::Table> ReadSourceEpisodes(const fs::path& source) const {
    std::vector<fs::path> files;
    for (const auto& entry : fs::recursive_directory_iterator(source / "meta" / "episodes")) {
      if (entry.path().extension() == ".parquet") files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());
    std::vector<std::shared_ptr<arrow::Table>> tables;
    for (const auto& f : files) tables.push_back(lerobot::ReadParquet(f));
    if (tables.empty()) throw InputError(source.string(), "meta/episodes", "holds no parquet file");
    return Take(arrow::ConcatenateTables(tables), source.string(), "meta/episodes");
  }

  // ---- Commit. ----

  bool IsIntegerFeature(const std::string& name) const {
    const auto& features = info_json_["features"];
    if (!features.contains(name)) return false;
    const std::string dtype = features[name].value("dtype", "");
    return StartsWith(dtype, "int") || StartsWith(dtype, "uint") || dtype == "bool";
  }

  bool IsVideoFeature(const std::string& name) const {
    const auto& features = info_json_["features"];
    return features.contains(name) &&
           (features[name].value("dtype", "") == "video" || features[name].value("dtype", "") == "image");
  }

  ojson FeatureStatsJson(const std::string& name, const FeatureStatistics& s) const {
    const bool integer = IsIntegerFeature(name), image = IsVideoFeature(name);
    ojson j = ojson::object();
    for (const char* stat : kStatNames) {
      const std::string_view k = stat;
      if (k == "count") {
        j["count"] = ojson::array({s.count});
        continue;
      }
      j[stat] = StatJson(StatValues(s, k), integer && (k == "min" || k == "max"), image);
    }
    return j;
  }

  // A source's file at `to`: a hard link when options_.link_copied_videos and the file system allows, else a copy.
  void PlaceCopy(const fs::path& from, const fs::path& to) const {
    if (options_.link_copied_videos) {
      std::error_code ec;
      fs::remove(to, ec);
      fs::create_hard_link(from, to, ec);
      if (!ec) return;
    }
    fs::copy_file(from, to, fs::copy_options::overwrite_existing);
  }

  // v3.0: each key's parts concatenated into LeRobot's files, rolled past video_files_size_in_mb as
  // _save_episode_video does (current file size + this episode's >= the limit starts a new file).
  void ConcatenateVideoParts() {
    const double limit_mb = info_json_.value("video_files_size_in_mb", 200.0);
    for (const auto& key : video_keys_) {
      std::int64_t chunk = 0, file = 0;
      double file_mb = 0, file_duration = 0;
      std::vector<fs::path> inputs;
      auto flush = [&]() {
        if (inputs.empty()) return;
        const fs::path out =
            temp_ / FormatPathTemplate(info_json_.value("video_path", ""),
                                       {{"video_key", key}, {"chunk_index", chunk}, {"file_index", file}},
                                       path_.string(), "video_path");
        fs::create_directories(out.parent_path());
        // One part is the file as encoded (LeRobot moves the first episode's video into place).
        if (inputs.size() == 1)
          fs::copy_file(inputs.front(), out, fs::copy_options::overwrite_existing);
        else
          video::ConcatenateVideos(inputs, out);
        inputs.clear();
      };
      for (std::size_t i = 0; i < records_.size(); ++i) {
        const fs::path& part = records_[i].video_parts.at(key);
        const double part_mb = static_cast<double>(fs::file_size(part)) / (1024.0 * 1024.0);
        // get_video_duration_in_s: the episode video's stream duration.
        const double duration = video::ProbeVideo(part).duration_s;
        if (i > 0 && file_mb + part_mb >= limit_mb) {
          flush();
          NextFile(chunk, file);
          file_mb = 0;
          file_duration = 0;
        }
        inputs.push_back(part);
        file_mb += part_mb;
        video_meta_[key].push_back({chunk, file, file_duration, file_duration + duration});
        file_duration += duration;
      }
      flush();
    }
  }

  void WriteEpisodesParquet() {
    // Columns in the order LeRobot's episode dict has them; types as pa.Table.from_pydict infers them.
    std::vector<std::shared_ptr<arrow::Field>> fields;
    std::vector<std::shared_ptr<arrow::Array>> columns;
    const std::string file = path_.string();
    auto ints = [&](const std::string& name, auto get) {
      arrow::Int64Builder b;
      for (std::size_t i = 0; i < records_.size(); ++i) Check(b.Append(get(i)), file, name);
      fields.push_back(arrow::field(name, arrow::int64()));
      columns.push_back(Take(b.Finish(), file, name));
    };
    auto doubles = [&](const std::string& name, auto get) {
      arrow::DoubleBuilder b;
      for (std::size_t i = 0; i < records_.size(); ++i) Check(b.Append(get(i)), file, name);
      fields.push_back(arrow::field(name, arrow::float64()));
      columns.push_back(Take(b.Finish(), file, name));
    };
    ints("episode_index", [&](std::size_t i) { return records_[i].index; });
    {
      arrow::ListBuilder b(arrow::default_memory_pool(), std::make_shared<arrow::StringBuilder>());
      auto* strings = static_cast<arrow::StringBuilder*>(b.value_builder());
      for (const auto& r : records_) {
        Check(b.Append(), file, "tasks");
        for (const auto& t : r.tasks) Check(strings->Append(t), file, "tasks");
      }
      fields.push_back(arrow::field("tasks", arrow::list(arrow::utf8())));
      columns.push_back(Take(b.Finish(), file, "tasks"));
    }
    ints("length", [&](std::size_t i) { return records_[i].length; });
    ints("data/chunk_index", [&](std::size_t i) { return records_[i].data_chunk; });
    ints("data/file_index", [&](std::size_t i) { return records_[i].data_file; });
    ints("dataset_from_index", [&](std::size_t i) { return records_[i].from_index; });
    ints("dataset_to_index", [&](std::size_t i) { return records_[i].to_index; });
    for (const auto& key : video_keys_) {
      const auto& meta = video_meta_.at(key);
      const std::string p = "videos/" + key + "/";
      ints(p + "chunk_index", [&](std::size_t i) { return meta[i].chunk; });
      ints(p + "file_index", [&](std::size_t i) { return meta[i].file; });
      doubles(p + "from_timestamp", [&](std::size_t k) { return meta[k].from_s; });
      doubles(p + "to_timestamp", [&](std::size_t k) { return meta[k].to_s; });
    }
    // stats/<feature>/<stat>: list<double>, list<int64> for integer min/max and count, list<list<list<double>>>
    // for images' (C, 1, 1).
    for (const auto& [name, unused] : records_.front().stats) {
      const bool integer = IsIntegerFeature(name), image = IsVideoFeature(name);
      for (const char* stat : kStatNames) {
        const std::string_view k = stat;
        const bool int_values = k == "count" || (integer && (k == "min" || k == "max"));
        const std::string column = "stats/" + name + "/" + stat;
        std::shared_ptr<arrow::ArrayBuilder> leaf;
        if (int_values)
          leaf = std::make_shared<arrow::Int64Builder>();
        else
          leaf = std::make_shared<arrow::DoubleBuilder>();
        const bool nested = image && k != "count";
        std::shared_ptr<arrow::ListBuilder> inner, middle;
        std::shared_ptr<arrow::ListBuilder> outer;
        if (nested) {
          inner = std::make_shared<arrow::ListBuilder>(arrow::default_memory_pool(), leaf);
          middle = std::make_shared<arrow::ListBuilder>(arrow::default_memory_pool(), inner);
          outer = std::make_shared<arrow::ListBuilder>(arrow::default_memory_pool(), middle);
        } else {
          outer = std::make_shared<arrow::ListBuilder>(arrow::default_memory_pool(), leaf);
        }
        for (const auto& r : records_) {
          const auto found =
              std::find_if(r.stats.begin(), r.stats.end(), [&key = name](const auto& p) { return p.first == key; });
          if (found == r.stats.end()) throw InputError(file, column, "missing for episode " + std::to_string(r.index));
          const FeatureStatistics& s = found->second;
          std::vector<double> values =
              k == "count" ? std::vector<double>{static_cast<double>(s.count)} : StatValues(s, k);
          Check(outer->Append(), file, column);
          for (double v : values) {
            if (nested) {
              Check(middle->Append(), file, column);
              Check(inner->Append(), file, column);
            }
            if (int_values)
              Check(static_cast<arrow::Int64Builder&>(*leaf).Append(static_cast<std::int64_t>(v)), file, column);
            else
              Check(static_cast<arrow::DoubleBuilder&>(*leaf).Append(v), file, column);
          }
        }
        auto array = Take(outer->Finish(), file, column);
        fields.push_back(arrow::field(column, array->type()));
        columns.push_back(array);
      }
    }
    // Written a row group (LeRobot's buffer of 10 episodes) at a time; the file rolls to the next once it reaches
    // data_files_size_in_mb, as LeRobot's metadata writer does, and each row names the file it is in.
    fields.push_back(arrow::field("meta/episodes/chunk_index", arrow::int64()));
    fields.push_back(arrow::field("meta/episodes/file_index", arrow::int64()));
    auto schema = arrow::schema(fields);
    const double limit_mb = info_json_.value("data_files_size_in_mb", 100.0);
    std::int64_t chunk = 0, file_index = 0;
    std::unique_ptr<lerobot::ParquetFileWriter> writer;
    const auto rows = static_cast<std::int64_t>(records_.size());
    for (std::int64_t start = 0; start < rows; start += kEpisodesPerRowGroup) {
      if (writer && static_cast<double>(writer->BytesWritten()) / (1024.0 * 1024.0) >= limit_mb) {
        writer->Close();
        writer.reset();
        NextFile(chunk, file_index);
      }
      if (!writer) {
        writer = std::make_unique<lerobot::ParquetFileWriter>(
            temp_ / FormatPathTemplate(kEpisodesPath, {{"chunk_index", chunk}, {"file_index", file_index}}, file,
                                       "episodes"),
            schema);
      }
      const std::int64_t count = std::min(kEpisodesPerRowGroup, rows - start);
      std::vector<std::shared_ptr<arrow::Array>> group;
      for (const auto& column : columns) group.push_back(column->Slice(start, count));
      for (std::int64_t value : {chunk, file_index}) {
        arrow::Int64Builder b;
        for (std::int64_t i = 0; i < count; ++i) Check(b.Append(value), file, "meta/episodes");
        group.push_back(Take(b.Finish(), file, "meta/episodes"));
      }
      writer->WriteRowGroup(arrow::Table::Make(schema, group, count));
    }
    if (writer) writer->Close();
  }

  void WriteTasksParquet() {
    const std::string file = path_.string();
    arrow::Int64Builder indices;
    arrow::StringBuilder names;
    for (std::size_t i = 0; i < tasks_.size(); ++i) {
      Check(indices.Append(static_cast<std::int64_t>(i)), file, "task_index");
      Check(names.Append(tasks_[i]), file, "task");
    }
    auto metadata = arrow::key_value_metadata({"pandas"}, {kTasksPandasMetadata});
    auto schema =
        arrow::schema({arrow::field("task_index", arrow::int64()), arrow::field("task", arrow::utf8())}, metadata);
    auto table =
        arrow::Table::Make(schema, {Take(indices.Finish(), file, "task_index"), Take(names.Finish(), file, "task")});
    lerobot::ParquetFileWriter writer(temp_ / "meta" / "tasks.parquet", schema);
    writer.WriteRowGroup(table);
    writer.Close();
  }

  std::vector<std::pair<std::string, FeatureStatistics>> AggregatedStats() const {
    std::vector<std::pair<std::string, FeatureStatistics>> out;
    if (records_.empty()) return out;
    for (const auto& [name, unused] : records_.front().stats) {
      std::vector<FeatureStatistics> parts;
      for (const auto& r : records_) {
        for (const auto& [n, s] : r.stats) {
          if (n == name) parts.push_back(s);
        }
      }
      out.emplace_back(name, AggregateStatistics(parts));
    }
    return out;
  }

  void WriteStatsJson() {
    ojson stats = ojson::object();
    for (const auto& [name, s] : AggregatedStats()) stats[name] = FeatureStatsJson(name, s);
    WriteFileAtomically(temp_ / "meta" / "stats.json", Dump(stats));
  }

  void WriteV21Meta() {
    std::string episodes, episodes_stats, tasks;
    for (const auto& r : records_) {
      episodes += ojson{{"episode_index", r.index}, {"tasks", r.tasks}, {"length", r.length}}.dump() + "\n";
      ojson stats = ojson::object();
      for (const auto& [name, s] : r.stats) stats[name] = FeatureStatsJson(name, s);
      episodes_stats += ojson{{"episode_index", r.index}, {"stats", stats}}.dump() + "\n";
    }
    for (std::size_t i = 0; i < tasks_.size(); ++i)
      tasks += ojson{{"task_index", i}, {"task", tasks_[i]}}.dump() + "\n";
    WriteFileAtomically(temp_ / "meta" / "episodes.jsonl", PythonSeparators(episodes));
    WriteFileAtomically(temp_ / "meta" / "episodes_stats.jsonl", PythonSeparators(episodes_stats));
    WriteFileAtomically(temp_ / "meta" / "tasks.jsonl", PythonSeparators(tasks));
  }

  // jsonlines (LeRobot 0.3.3's writer) prints Python's json.dumps separators: ", " and ": ".
  static std::string PythonSeparators(const std::string& compact) {
    std::string out;
    bool in_string = false, escaped = false;
    for (char c : compact) {
      out += c;
      if (in_string) {
        if (escaped)
          escaped = false;
        else if (c == '\\')
          escaped = true;
        else if (c == '"')
          in_string = false;
        continue;
      }
      if (c == '"')
        in_string = true;
      else if (c == ',' || c == ':')
        out += ' ';
    }
    return out;
  }

  void WriteInfoJson() {
    const auto episodes = static_cast<std::int64_t>(records_.size());
    info_json_["total_episodes"] = episodes;
    info_json_["total_frames"] = total_frames_;
    info_json_["total_tasks"] = static_cast<std::int64_t>(tasks_.size());
    if (version_ == "v2.1") {
      info_json_["total_videos"] = episodes * static_cast<std::int64_t>(video_keys_.size());
      info_json_["total_chunks"] = episodes == 0 ? 0 : lerobot::ChunkOf(episodes - 1, chunks_size_) + 1;
    }
    info_json_["splits"] = ojson{{"train", "0:" + std::to_string(episodes)}};
    WriteFileAtomically(temp_ / "meta" / "info.json", Dump(info_json_));
  }

  void WriteReal2SimMeta() {
    std::string provenance;
    for (const auto& r : records_) {
      if (r.provenance_json.empty()) continue;
      provenance += ojson{{"episode_index", r.index}, {"provenance", ojson::parse(r.provenance_json)}}.dump() + "\n";
    }
    ojson meta = ojson::object();
    meta["writer"] = "real2sim";
    meta["real2sim_version"] = R2S_VERSION;
    meta["synthetic"] = !provenance.empty();
    if (!provenance.empty()) {
      WriteFileAtomically(temp_ / "meta" / "provenance.jsonl", provenance);
      meta["provenance"] = "meta/provenance.jsonl";
    }
    ojson streams = ojson::array();
    if (options_.lerobot_side_streams) {
      for (const auto& name : side_streams_) {
        const FeatureSpec& spec = info_.features.at(name);
        const bool depth = spec.dtype == DType::kFloat32;
        streams.push_back(ojson{{"feature", name},
                                {"dtype", DTypeName(spec.dtype)},
                                {"shape", spec.shape},
                                {"unit", depth ? "m" : spec.unit},
                                {"path", kSideStreamPath},
                                {"encoding", "ffv1 gray16le in matroska, lossless"},
                                {"stored_dtype", "uint16"},
                                {"scale", depth ? 0.001 : 1.0},
                                {"zero_means_no_return", depth},
                                {"is_depth_map", depth}});
      }
    }
    meta["side_streams"] = streams;
    WriteFileAtomically(temp_ / "meta" / "real2sim.json", Dump(meta));
  }

  struct VideoMeta {
    std::int64_t chunk = 0, file = 0;
    double from_s = 0, to_s = 0;
  };

  fs::path path_;
  DatasetInfo info_;
  WriteOptions options_;
  std::string version_;
  ojson info_json_;
  double fps_ = 30;
  std::int64_t chunks_size_ = 1000;
  std::shared_ptr<arrow::Schema> schema_;
  std::vector<std::string> video_keys_, side_streams_;
  fs::path temp_;
  bool committed_ = false;

  std::vector<std::string> tasks_;
  std::vector<EpisodeRecord> records_;
  std::int64_t total_frames_ = 0;
  // v3.0's open data file.
  std::unique_ptr<lerobot::ParquetFileWriter> data_writer_;
  std::int64_t data_chunk_ = 0, data_file_ = 0, file_start_frame_ = 0;
  std::map<std::string, std::vector<VideoMeta>> video_meta_;
};

}  // namespace

std::unique_ptr<DatasetWriter::Impl> CreateLeRobotDataset(const fs::path& path, const DatasetInfo& info,
                                                          const WriteOptions& options) {
  return std::make_unique<LeRobotWriter>(path, info, options);
}

}  // namespace r2s::episode
