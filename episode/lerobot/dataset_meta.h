#pragma once
// What a LeRobot dataset's meta/ folder says, read without touching the data: info.json, the tasks, and for each
// episode its length, tasks, and where its rows and video frames are.
//   v2.1: meta/tasks.jsonl, meta/episodes.jsonl; an episode is a whole data file and whole mp4s, found through
//         info.json's data_path/video_path templates ({episode_chunk}, {episode_index}, {video_key}).
//   v3.0: meta/tasks.parquet, meta/episodes/chunk-*/file-*.parquet; an episode is rows
//         [dataset_from_index, dataset_to_index) of the dataset, in data file (data/chunk_index, data/file_index),
//         and the segment [from_timestamp, to_timestamp) of each video file (videos/<key>/{chunk,file}_index).
// Used by the reader and by `r2s inspect` (which checks the videos against the tables).

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "episode/lerobot/info_json.h"

namespace r2s::episode::lerobot {

struct VideoSegment {
  std::filesystem::path file;
  double from_s = 0;           // the time of the episode's frame 0 in the file (v2.1: 0)
  std::optional<double> to_s;  // v3.0: where the episode's segment ends
};

struct EpisodeEntry {
  std::int64_t index = 0;  // episode_index
  std::int64_t length = 0;
  std::vector<std::string> tasks;
  std::filesystem::path data_file;
  std::int64_t first_row = 0;                  // the episode is rows [first_row, first_row + length) of data_file
  std::int64_t dataset_from_index = 0;         // its first row's position in the whole dataset
  std::map<std::string, VideoSegment> videos;  // per video feature
};

struct DatasetMeta {
  std::filesystem::path root;
  InfoJson info;
  std::vector<std::string> tasks;      // by task_index
  std::vector<EpisodeEntry> episodes;  // by episode_index
};

// InputError (file, field, value) on a missing or malformed meta file, duplicate or missing task/episode
// indices, counts that disagree with info.json (total_episodes, total_frames), a v3.0 row range whose size is
// not the episode's length, or a data file or video the templates point at that does not exist.
DatasetMeta ReadDatasetMeta(const std::filesystem::path& dataset);

}  // namespace r2s::episode::lerobot
