#include "episode/hdf5/layout.h"

#include <algorithm>
#include <array>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace r2s::episode::hdf5 {
namespace {

bool StartsWith(const std::string& s, std::string_view prefix) { return s.rfind(prefix, 0) == 0; }

bool IsAtOrUnder(const std::string& path, std::string_view root) {
  return path == root || StartsWith(path, std::string(root) + "/");
}

struct Rename {
  std::string_view path;
  std::string_view feature;
};

// Exact renames, checked before the prefix rules. Names follow LeRobot's conversions of these layouts.
constexpr std::array<Rename, 4> kRobomimicRenames = {{
    {"actions", "action"},
    {"states", "sim_state"},
    {"rewards", "next.reward"},
    {"dones", "next.done"},
}};
constexpr std::array<Rename, 3> kAlohaRenames = {{
    {"observations/qpos", "observation.state"},
    {"observations/qvel", "observation.velocity"},
    {"observations/effort", "observation.effort"},
}};

// Prefix rules: a path under `path_prefix` becomes `feature_prefix` + the rest, dotted.
struct PrefixRule {
  std::string_view path_prefix;
  std::string_view feature_prefix;
  std::string_view image_feature_prefix;  // used when the dataset is an image
};
constexpr std::array<PrefixRule, 3> kRobomimicPrefixes = {{
    {"obs/", "observation.", "observation.images."},
    {"next_obs/", "next.observation.", "next.observation.images."},
    {"states/", "sim_state.", "sim_state."},
}};
constexpr std::array<PrefixRule, 2> kAlohaPrefixes = {{
    {"observations/images/", "observation.images.", "observation.images."},
    {"observations/", "observation.", "observation."},
}};

// robosuite's camera observations, flat under obs/ (robomimic splits an obs key at '/' only once, so a nested
// obs/depth/<camera> breaks its loaders): "<camera>_image" (uint8 [H, W, 3]), "<camera>_depth" ([H, W, 1]) and, by
// the same pattern, "<camera>_segmentation" ([H, W, 1] ids; robosuite adds its id level, "_instance" and the like,
// which real2sim's ids, render/segmentation.h, are none of). They map to real2sim's per-camera feature families,
// so that a camera of a robosuite dataset binds to the scene camera of its name.
struct CameraSuffix {
  std::string_view suffix;  // of the dataset's name
  std::string_view family;  // the feature's middle part
  bool image_only;          // the suffix counts only on an image (uint8 [H, W, C]) dataset
};
constexpr std::array<CameraSuffix, 3> kRobomimicCameraSuffixes = {{
    {"_image", "images.", true},
    {"_depth", "depth.", false},
    {"_segmentation", "segmentation.", false},
}};
constexpr std::array<Rename, 2> kRobomimicObservationGroups = {{
    {"obs/", "observation."},
    {"next_obs/", "next.observation."},
}};

bool EndsWith(const std::string& s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// "obs/front_depth" -> "observation.depth.front"; nullopt when `path` is no camera observation.
std::optional<std::string> RobomimicCameraFeature(const std::string& path, bool is_image) {
  for (const auto& group : kRobomimicObservationGroups) {
    if (!StartsWith(path, group.path)) continue;
    const std::string rest = path.substr(group.path.size());
    for (const auto& c : kRobomimicCameraSuffixes) {
      if ((c.image_only && !is_image) || rest.size() <= c.suffix.size() || !EndsWith(rest, c.suffix)) continue;
      return std::string(group.feature) + std::string(c.family) +
             DottedPath(rest.substr(0, rest.size() - c.suffix.size()));
    }
  }
  return std::nullopt;
}

// The inverse: "observation.images.front" -> "obs/front_image".
std::optional<std::string> RobomimicCameraPath(const std::string& feature) {
  for (const auto& group : kRobomimicObservationGroups) {
    for (const auto& c : kRobomimicCameraSuffixes) {
      const std::string prefix = std::string(group.feature) + std::string(c.family);
      if (!StartsWith(feature, prefix) || feature.size() == prefix.size()) continue;
      std::string camera = feature.substr(prefix.size());
      std::replace(camera.begin(), camera.end(), '.', '/');
      return std::string(group.path) + camera + std::string(c.suffix);
    }
  }
  return std::nullopt;
}

template <std::size_t N, std::size_t M>
std::string Apply(const std::array<Rename, N>& renames, const std::array<PrefixRule, M>& prefixes,
                  const std::string& path, bool is_image) {
  for (const auto& r : renames) {
    if (path == r.path) return std::string(r.feature);
  }
  for (const auto& p : prefixes) {
    if (StartsWith(path, p.path_prefix)) {
      return std::string(is_image ? p.image_feature_prefix : p.feature_prefix) +
             DottedPath(path.substr(p.path_prefix.size()));
    }
  }
  return DottedPath(path);
}

template <std::size_t N, std::size_t M>
std::string Invert(const std::array<Rename, N>& renames, const std::array<PrefixRule, M>& prefixes,
                   const std::string& feature) {
  for (const auto& r : renames) {
    if (feature == r.feature) return std::string(r.path);
  }
  // Longest feature prefix first, so "observation.images." wins over "observation.".
  std::vector<std::pair<std::string_view, std::string_view>> candidates;
  for (const auto& p : prefixes) {
    candidates.emplace_back(p.image_feature_prefix, p.path_prefix);
    candidates.emplace_back(p.feature_prefix, p.path_prefix);
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  for (const auto& [feature_prefix, path_prefix] : candidates) {
    if (StartsWith(feature, feature_prefix)) {
      std::string rest = feature.substr(feature_prefix.size());
      std::replace(rest.begin(), rest.end(), '.', '/');
      return std::string(path_prefix) + rest;
    }
  }
  std::string path = feature;
  std::replace(path.begin(), path.end(), '.', '/');
  return path;
}

}  // namespace

std::string JoinPath(const std::string& parent, const std::string& child) {
  return parent.empty() ? child : parent + "/" + child;
}

std::string DottedPath(const std::string& path) {
  std::string dotted = path;
  std::replace(dotted.begin(), dotted.end(), '/', '.');
  return dotted;
}

bool IsFramePath(StorageLayout layout, const std::string& path) {
  switch (layout) {
    case StorageLayout::kRobomimic:
      return IsAtOrUnder(path, "actions") || IsAtOrUnder(path, "rewards") || IsAtOrUnder(path, "dones") ||
             IsAtOrUnder(path, "states") || IsAtOrUnder(path, "obs") || IsAtOrUnder(path, "next_obs");
    case StorageLayout::kAloha:
      return IsAtOrUnder(path, "action") || IsAtOrUnder(path, "observations") || path == "timestamp";
    case StorageLayout::kLeRobot:
      break;  // not an HDF5 layout
  }
  return false;
}

std::string FeatureNameFor(StorageLayout layout, const std::string& path, bool is_image) {
  switch (layout) {
    case StorageLayout::kRobomimic:
      if (auto camera = RobomimicCameraFeature(path, is_image)) return *camera;
      return Apply(kRobomimicRenames, kRobomimicPrefixes, path, is_image);
    case StorageLayout::kAloha:
      return Apply(kAlohaRenames, kAlohaPrefixes, path, is_image);
    case StorageLayout::kLeRobot:
      break;  // LeRobot's feature names are its column names
  }
  return DottedPath(path);
}

std::string DefaultStoragePath(StorageLayout layout, const std::string& feature) {
  switch (layout) {
    case StorageLayout::kRobomimic:
      if (auto camera = RobomimicCameraPath(feature)) return *camera;
      return Invert(kRobomimicRenames, kRobomimicPrefixes, feature);
    case StorageLayout::kAloha:
      return Invert(kAlohaRenames, kAlohaPrefixes, feature);
    case StorageLayout::kLeRobot:
      break;
  }
  return feature;
}

std::string RobomimicEpisodeGroup(std::int64_t index) { return "data/demo_" + std::to_string(index); }

std::string AlohaEpisodeFileName(std::int64_t index) { return "episode_" + std::to_string(index) + ".hdf5"; }

}  // namespace r2s::episode::hdf5
