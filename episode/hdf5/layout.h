#pragma once
// The two HDF5 layouts, as rules over paths inside an episode's group:
//   robomimic (data/demo_N/...): actions, rewards, dones, states[/...], obs/..., next_obs/...
//   ALOHA (one file per episode, the root is the episode): action, observations/..., timestamp
// Datasets at those places must have one row per frame; elsewhere a numeric dataset with one row per frame is
// a feature too, and anything else is kept verbatim.

#include <cstdint>
#include <string>

#include "episode/dataset_info.h"

namespace r2s::episode::hdf5 {

// Datasets at this path must have one row per frame (a mismatch is bad input).
bool IsFramePath(StorageLayout layout, const std::string& path);

// The feature name for a per-frame dataset: robomimic "actions" -> "action", "obs/eef_pos" ->
// "observation.eef_pos", and robosuite's camera keys by camera: "obs/agentview_image" (an image) ->
// "observation.images.agentview", "obs/agentview_depth" -> "observation.depth.agentview",
// "obs/agentview_segmentation" -> "observation.segmentation.agentview" (an image without the suffix, "obs/rgb",
// -> "observation.images.rgb"); ALOHA "observations/qpos" -> "observation.state", "observations/images/top" ->
// "observation.images.top".
std::string FeatureNameFor(StorageLayout layout, const std::string& path, bool is_image);

// The inverse, for features that did not come from a file (synthetic datasets built in code, the camera streams
// generate adds): robomimic "observation.images.front" -> "obs/front_image", "observation.depth.front" ->
// "obs/front_depth", "observation.segmentation.front" -> "obs/front_segmentation", flat keys as robomimic's
// loaders require.
std::string DefaultStoragePath(StorageLayout layout, const std::string& feature);

// "a" + "b" -> "a/b"; "" + "b" -> "b"
std::string JoinPath(const std::string& parent, const std::string& child);

// "a/b/c" -> "a.b.c"
std::string DottedPath(const std::string& path);

// The group of episode `index` in a robomimic file: "data/demo_<index>"; its name is matched by this pattern.
std::string RobomimicEpisodeGroup(std::int64_t index);
inline constexpr const char* kRobomimicDemoPattern = "^demo_([0-9]+)$";
// ALOHA: the file of episode `index` in the dataset folder: "episode_<index>.hdf5".
std::string AlohaEpisodeFileName(std::int64_t index);
inline constexpr const char* kAlohaEpisodePattern = "^episode_([0-9]+)\\.(hdf5|h5)$";

// The attribute on an episode's group that holds its provenance record (JSON).
inline constexpr const char* kProvenanceAttribute = "r2s_provenance";

}  // namespace r2s::episode::hdf5
