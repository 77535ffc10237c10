#pragma once
// The dataset-level record: storage format and layout, fps, robot type, tasks, schema version, and the features
// dictionary every episode follows.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "episode/feature_spec.h"
#include "episode/storage_extras.h"

namespace r2s::episode {

inline constexpr int kSchemaVersion = 1;

enum class StorageLayout {
  kRobomimic,  // one HDF5 file: data/demo_N/{actions, states, rewards, dones, obs/, next_obs/} (robomimic,
               // MimicGen, Isaac Lab Mimic)
  kAloha,      // one HDF5 file per episode: /observations/{qpos, qvel, effort, images/<cam>}, /action (ALOHA/ACT)
  kLeRobot,    // a LeRobot dataset folder: meta/info.json, parquet tables under data/, one video per camera under
               // videos/ (v2.1: a file per episode; v3.0: episodes concatenated into chunked files)
};

std::string_view StorageLayoutName(StorageLayout layout);  // "robomimic", "aloha", "lerobot"

// What a LeRobot dataset records beyond the features, kept so that a dataset written from it is of the same
// version and format (LeRobot's own merge requires equal features, fps and robot type).
struct LeRobotMetadata {
  std::string codebase_version;  // "v2.1" or "v3.0"
  std::string info_json;         // meta/info.json as read (the writer derives its own from it)
  // The data files' Arrow schema, serialized as an Arrow IPC schema message: column types (list or
  // fixed_size_list<float>[N], ...) and schema metadata are written back as the source had them. Empty: derived
  // from the features as LeRobot's writer does.
  std::string data_arrow_schema;
  // Image features stored as video (dtype "video" in info.json), by feature name -> the video's codec as
  // info.json declares it ("av1", "h264"); features absent here are LeRobot "image" features (PNG in the table).
  std::map<std::string, std::string> video_codecs;
  bool operator==(const LeRobotMetadata&) const = default;
};

struct DatasetInfo {
  StorageLayout layout = StorageLayout::kRobomimic;
  int schema_version = kSchemaVersion;
  std::optional<double> fps;  // as the dataset declares it; nullopt when it declares none
  std::string robot_type;     // "franka_panda"; empty when unknown
  std::vector<std::string> tasks;
  Features features;
  // Feature name -> dataset path inside an episode's group ("action" -> "actions" in robomimic files), so any
  // name the source used maps back exactly.
  std::map<std::string, std::string> storage_paths;
  StorageExtras storage;  // dataset-level: root and data/ attributes, nodes beside data/ (robomimic masks)
  std::optional<LeRobotMetadata> lerobot;  // kLeRobot only
};

}  // namespace r2s::episode
