#include "episode/lerobot/dataset_meta.h"

#include <algorithm>
#include <fstream>
#include <set>

#include <arrow/api.h>
#include <nlohmann/json.hpp>

#include "episode/input_error.h"
#include "episode/lerobot/arrow_column.h"
#include "episode/lerobot/json_lines.h"
#include "episode/lerobot/parquet_file.h"
#include "episode/lerobot/path_template.h"

namespace r2s::episode::lerobot {
namespace fs = std::filesystem;
using Json = nlohmann::json;

namespace {

std::int64_t IntKey(const Json& object, const char* key, const std::string& file, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end()) throw InputError(file, where + " '" + key + "'", "missing");
  if (!it->is_number_integer() || it->get<std::int64_t>() < 0) {
    throw InputError(file, where + " '" + key + "'", "is '" + it->dump() + "', expected a non-negative integer");
  }
  return it->get<std::int64_t>();
}

std::vector<std::string> TasksOf(const Json& object, const std::string& file, const std::string& where) {
  auto it = object.find("tasks");
  if (it == object.end() || it->is_null()) return {};
  if (it->is_string()) return {it->get<std::string>()};
  if (it->is_array() && std::all_of(it->begin(), it->end(), [](const Json& t) { return t.is_string(); })) {
    return it->get<std::vector<std::string>>();
  }
  throw InputError(file, where + " 'tasks'", "is '" + it->dump().substr(0, 80) + "', expected a list of strings");
}

// Tasks by task_index: every index from 0 to n-1 exactly once.
std::vector<std::string> OrderTasks(std::vector<std::pair<std::int64_t, std::string>> tasks, const std::string& file) {
  std::sort(tasks.begin(), tasks.end());
  std::vector<std::string> ordered;
  for (std::size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].first != static_cast<std::int64_t>(i)) {
      throw InputError(
          file, "task_index",
          i > 0 && tasks[i].first == tasks[i - 1].first
              ? "holds " + std::to_string(tasks[i].first) + " twice"
              : "skips " + std::to_string(i) + " (task indices must run 0.." + std::to_string(tasks.size() - 1) + ")");
    }
    ordered.push_back(std::move(tasks[i].second));
  }
  return ordered;
}

std::vector<std::string> ReadTasksV21(const fs::path& root) {
  const fs::path path = root / "meta" / "tasks.jsonl";
  std::vector<std::pair<std::int64_t, std::string>> tasks;
  for (const auto& [line, object] : ReadJsonLines(path)) {
    const std::string where = "line " + std::to_string(line);
    const std::int64_t index = IntKey(object, "task_index", path.string(), where);
    auto task = object.find("task");
    if (task == object.end() || !task->is_string()) {
      throw InputError(path.string(), where + " 'task'", task == object.end() ? "missing" : "is not a string");
    }
    tasks.emplace_back(index, task->get<std::string>());
  }
  return OrderTasks(std::move(tasks), path.string());
}

std::vector<std::string> ReadTasksV30(const fs::path& root) {
  const fs::path path = root / "meta" / "tasks.parquet";
  const ParquetFile file = ParquetFile::Open(path);
  // LeRobot writes the tasks as a pandas frame indexed by the task text: the text is the "task" column, or the
  // frame's index ("__index_level_0__") when written without a name.
  const std::string text_column = file.HasColumn("task") ? "task" : "__index_level_0__";
  const auto table = file.ReadAll({"task_index", text_column});
  const auto indices = Int64Values(*table->column(0), path.string(), "task_index");
  auto texts = StringValues(*table->column(1), path.string(), text_column);
  std::vector<std::pair<std::int64_t, std::string>> tasks;
  for (std::size_t i = 0; i < indices.size(); ++i) tasks.emplace_back(indices[i], std::move(texts[i]));
  return OrderTasks(std::move(tasks), path.string());
}

fs::path Resolve(const DatasetMeta& meta, const std::string& path_template, const char* template_field,
                 const std::map<std::string, TemplateValue>& values) {
  return meta.root /
         FormatPathTemplate(path_template, values, (meta.root / "meta" / "info.json").string(), template_field);
}

void ReadEpisodesV21(DatasetMeta& meta) {
  const fs::path path = meta.root / "meta" / "episodes.jsonl";
  for (const auto& [line, object] : ReadJsonLines(path)) {
    const std::string where = "line " + std::to_string(line);
    EpisodeEntry e;
    e.index = IntKey(object, "episode_index", path.string(), where);
    e.length = IntKey(object, "length", path.string(), where);
    e.tasks = TasksOf(object, path.string(), where);
    const std::int64_t chunk = ChunkOf(e.index, meta.info.chunks_size);
    e.data_file =
        Resolve(meta, meta.info.data_path, "data_path", {{"episode_chunk", chunk}, {"episode_index", e.index}});
    for (const std::string& key : meta.info.VideoKeys()) {
      e.videos[key].file = Resolve(meta, meta.info.video_path, "video_path",
                                   {{"episode_chunk", chunk}, {"episode_index", e.index}, {"video_key", key}});
    }
    meta.episodes.push_back(std::move(e));
  }
}

void ReadEpisodesV30(DatasetMeta& meta) {
  const fs::path folder = meta.root / "meta" / "episodes";
  std::error_code ec;
  if (!fs::is_directory(folder, ec)) throw InputError(folder.string(), "", "no such folder (v3.0's episode table)");
  std::vector<fs::path> files;
  for (const auto& entry : fs::recursive_directory_iterator(folder, ec)) {
    if (entry.is_regular_file() && entry.path().extension() == ".parquet") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  if (files.empty()) throw InputError(folder.string(), "", "holds no .parquet files (v3.0's episode table)");

  const std::vector<std::string> keys = meta.info.VideoKeys();
  for (const fs::path& path : files) {
    const std::string file = path.string();
    const ParquetFile table_file = ParquetFile::Open(path);
    std::vector<std::string> columns = {"episode_index",      "length",          "data/chunk_index", "data/file_index",
                                        "dataset_from_index", "dataset_to_index"};
    for (const std::string& key : keys) {
      for (const char* part : {"chunk_index", "file_index", "from_timestamp", "to_timestamp"}) {
        columns.push_back("videos/" + key + "/" + part);
      }
    }
    const bool has_tasks = table_file.HasColumn("tasks");
    if (has_tasks) columns.push_back("tasks");
    const auto table = table_file.ReadAll(columns);
    std::vector<std::vector<std::int64_t>> ints;
    for (int c = 0; c < 6; ++c)
      ints.push_back(Int64Values(*table->column(c), file, columns[static_cast<std::size_t>(c)]));
    std::vector<std::vector<std::int64_t>> video_ints;
    std::vector<std::vector<double>> video_times;
    for (std::size_t k = 0; k < keys.size(); ++k) {
      const int c = 6 + 4 * static_cast<int>(k);
      video_ints.push_back(Int64Values(*table->column(c), file, columns[static_cast<std::size_t>(c)]));
      video_ints.push_back(Int64Values(*table->column(c + 1), file, columns[static_cast<std::size_t>(c + 1)]));
      video_times.push_back(DoubleValues(*table->column(c + 2), file, columns[static_cast<std::size_t>(c + 2)]));
      video_times.push_back(DoubleValues(*table->column(c + 3), file, columns[static_cast<std::size_t>(c + 3)]));
    }
    std::vector<std::vector<std::string>> tasks;
    if (has_tasks) tasks = StringListValues(*table->column(table->num_columns() - 1), file, "tasks");

    for (std::int64_t row = 0; row < table->num_rows(); ++row) {
      const auto r = static_cast<std::size_t>(row);
      EpisodeEntry e;
      e.index = ints[0][r];
      e.length = ints[1][r];
      e.dataset_from_index = ints[4][r];
      const std::int64_t to = ints[5][r];
      if (to - e.dataset_from_index != e.length) {
        throw InputError(file, "dataset_from_index/dataset_to_index",
                         "span " + std::to_string(e.dataset_from_index) + ".." + std::to_string(to) + " (" +
                             std::to_string(to - e.dataset_from_index) + " rows) for episode " +
                             std::to_string(e.index) + ", whose length is " + std::to_string(e.length));
      }
      e.data_file = Resolve(meta, meta.info.data_path, "data_path",
                            {{"chunk_index", ints[2][r]}, {"file_index", ints[3][r]}, {"episode_index", e.index}});
      for (std::size_t k = 0; k < keys.size(); ++k) {
        VideoSegment& segment = e.videos[keys[k]];
        segment.file = Resolve(meta, meta.info.video_path, "video_path",
                               {{"video_key", keys[k]},
                                {"chunk_index", video_ints[2 * k][r]},
                                {"file_index", video_ints[2 * k + 1][r]},
                                {"episode_index", e.index}});
        segment.from_s = video_times[2 * k][r];
        segment.to_s = video_times[2 * k + 1][r];
      }
      if (has_tasks) e.tasks = tasks[r];
      meta.episodes.push_back(std::move(e));
    }
  }
  // Rows within each data file: LeRobot appends episodes to a file in order, so the file's first row is the
  // smallest dataset_from_index of the episodes it holds.
  std::map<fs::path, std::int64_t> file_start;
  for (const EpisodeEntry& e : meta.episodes) {
    auto [it, added] = file_start.emplace(e.data_file, e.dataset_from_index);
    if (!added) it->second = std::min(it->second, e.dataset_from_index);
  }
  for (EpisodeEntry& e : meta.episodes) e.first_row = e.dataset_from_index - file_start.at(e.data_file);
}

}  // namespace

DatasetMeta ReadDatasetMeta(const fs::path& dataset) {
  DatasetMeta meta;
  meta.root = dataset;
  meta.info = ReadInfoJson(dataset);
  const std::string info_file = (dataset / "meta" / "info.json").string();
  std::string episodes_source;
  if (meta.info.version == Version::kV21) {
    meta.tasks = ReadTasksV21(dataset);
    ReadEpisodesV21(meta);
    episodes_source = (dataset / "meta" / "episodes.jsonl").string();
  } else {
    meta.tasks = ReadTasksV30(dataset);
    ReadEpisodesV30(meta);
    episodes_source = (dataset / "meta" / "episodes").string();
  }

  std::sort(meta.episodes.begin(), meta.episodes.end(),
            [](const EpisodeEntry& a, const EpisodeEntry& b) { return a.index < b.index; });
  std::int64_t frames = 0;
  for (std::size_t i = 0; i < meta.episodes.size(); ++i) {
    if (i > 0 && meta.episodes[i].index == meta.episodes[i - 1].index) {
      throw InputError(episodes_source, "episode_index",
                       "lists episode " + std::to_string(meta.episodes[i].index) + " twice");
    }
    frames += meta.episodes[i].length;
  }
  if (meta.info.total_episodes != static_cast<std::int64_t>(meta.episodes.size())) {
    throw InputError(info_file, "total_episodes",
                     "is " + std::to_string(meta.info.total_episodes) + ", but " + episodes_source + " lists " +
                         std::to_string(meta.episodes.size()) + " episodes");
  }
  if (meta.info.total_frames != frames) {
    throw InputError(info_file, "total_frames",
                     "is " + std::to_string(meta.info.total_frames) + ", but the episodes in " + episodes_source +
                         " have " + std::to_string(frames) + " frames");
  }

  std::error_code ec;
  std::set<fs::path> checked;
  for (const EpisodeEntry& e : meta.episodes) {
    if (checked.insert(e.data_file).second && !fs::is_regular_file(e.data_file, ec)) {
      throw InputError(e.data_file.string(), "",
                       "no such file (the data of episode " + std::to_string(e.index) + ", from data_path)");
    }
    for (const auto& [key, segment] : e.videos) {
      if (checked.insert(segment.file).second && !fs::is_regular_file(segment.file, ec)) {
        throw InputError(segment.file.string(), key,
                         "no such file (the video of episode " + std::to_string(e.index) + ", from video_path)");
      }
    }
  }
  return meta;
}

}  // namespace r2s::episode::lerobot
