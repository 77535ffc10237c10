#pragma once
// meta/info.json of a LeRobot dataset: its version, fps, robot type, path templates and features dictionary,
// turned into the episode schema's features.
//
// How LeRobot's feature entries map onto FeatureSpec:
// - dtype float32/float64/int64/int32/int16/int8/uint8/bool (and uint16/32/64): the same dtype, the shape as
//   declared. A shape [1] feature is a scalar parquet column; its Column is {T, 1}, as the shape says.
// - names: null -> unnamed; a flat list -> the last axis; a nested list ([[26 names]] for shape [26]) -> one list
//   per axis; a dict ({"motors": [...]}) -> its lists, one per axis, in file order (a single list names the last
//   axis). Names whose count does not match the axis are left out (the axis is unnamed): LeRobot does not check
//   them, and info.json is kept verbatim for writing back, so nothing is lost.
// - dtype "video" (an mp4 per camera) and "image" (PNG bytes in the table) -> uint8 [H, W, C] image features,
//   HWC whatever order info.json lists the axes in; their names are axis labels ("height", ...), not element
//   names, so the spec's names are left empty.
// - dtype "string" (language annotations some datasets carry) is skipped: the schema's columns are numeric.

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "episode/feature_spec.h"

namespace r2s::episode::lerobot {

enum class Version {
  kV21,  // v2.1 (and v2.0, read alike): a parquet file and an mp4 per episode, meta/*.jsonl
  kV30,  // v3.0: episodes concatenated into chunked files, meta/ as parquet
};

// Where a feature's frames are stored.
enum class FeatureStorage {
  kColumn,  // a numeric parquet column
  kVideo,   // frames in an mp4 per camera (dtype "video")
  kImage,   // PNG bytes in a parquet struct column {bytes, path} (dtype "image")
};

struct InfoJson {
  std::string text;              // the file as read, verbatim
  std::string codebase_version;  // "v2.0", "v2.1" or "v3.0"
  Version version = Version::kV30;
  double fps = 0;  // positive
  std::string robot_type;
  std::int64_t total_episodes = 0;
  std::int64_t total_frames = 0;
  std::int64_t chunks_size = 1000;  // LeRobot's default when absent
  std::string data_path;            // Python format strings (path_template.h)
  std::string video_path;           // empty when the dataset has no video features

  Features features;                                // every feature but the skipped string ones
  std::map<std::string, FeatureStorage> storage;    // per feature in `features`
  std::map<std::string, std::string> video_codecs;  // video features -> "video.codec" ("" when not declared)
  std::vector<std::string> skipped;                 // string features, not read

  std::vector<std::string> VideoKeys() const;  // the video features, sorted
};

// Parses info.json's text; `file` is named in every error. InputError (file, field, value) on malformed JSON, a
// missing or mistyped key, an unknown codebase_version, fps that is not a positive number, or a feature whose
// dtype or shape cannot be read.
InfoJson ParseInfoJson(const std::string& text, const std::string& file);

// Reads `<dataset>/meta/info.json`.
InfoJson ReadInfoJson(const std::filesystem::path& dataset);

}  // namespace r2s::episode::lerobot
