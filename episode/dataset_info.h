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
};

std::string_view StorageLayoutName(StorageLayout layout);  // "robomimic", "aloha"

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
};

}  // namespace r2s::episode
