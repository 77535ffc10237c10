#pragma once
// `r2s generate --scene S --episodes D [--params P] --variants K --out DIR ...`: K synthetic episodes per real
// one, in the source's schema and layout (amplify/generator.h), sharded, resumable, with progress on stderr and a
// JSON summary on stdout. `r2s merge SHARD_DIR... --out DIR` assembles the shards of one run.

#include <filesystem>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "render/renderer.h"

namespace r2s::cli {

struct GenerateOptions {
  std::filesystem::path scene;
  std::filesystem::path episodes;
  std::optional<std::filesystem::path> params;
  std::filesystem::path out;
  int variants = 1;
  std::uint64_t seed = 0;
  std::optional<std::string> shard;  // "I/N"; else the scheduler's environment; else the whole run
  int threads = 0;
  std::string device = "auto";       // auto | cpu | cuda: the sensor models
  std::string render_device;         // part of a Vulkan device name
  render::RenderingOverrides rendering;  // --shadows, --shadow-casters, --shadow-map-px over the scene's rendering:
  std::string keep = "success";      // success | all
  std::vector<std::string> cameras;  // opt-in cameras to render
  std::vector<std::string> streams = {"rgb"};
  std::optional<std::int64_t> max_episodes;
  std::optional<std::filesystem::path> object_poses;  // annotations over the inferred object poses
  // LeRobot output: how camera features are encoded (defaults: LeRobot's).
  std::string video_codec = "libsvtav1";
  int video_crf = 30;
  int video_preset = 12;
  int video_keyframe_interval = 2;
  bool no_side_streams = false;  // drop depth/segmentation instead of writing them as lossless side videos
  bool overwrite = false;
  bool quiet = false;                // no progress on stderr
};

// The summary JSON goes to `out`, progress to `log`.
void RunGenerate(const GenerateOptions& options, std::ostream& out, std::ostream& log);

struct MergeOptions {
  std::vector<std::filesystem::path> shards;
  std::filesystem::path out;
  bool overwrite = false;
};

void RunMerge(const MergeOptions& options, std::ostream& out);

}  // namespace r2s::cli
