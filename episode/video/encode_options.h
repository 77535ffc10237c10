#pragma once
// How frames are encoded to video. The defaults are LeRobot's (lerobot.datasets.video_utils.encode_video_frames):
// AV1 through SVT-AV1, yuv420p, a keyframe every 2 frames (so random access decodes at most one extra frame),
// crf 30, SVT-AV1 preset 12.

#include <string>

namespace r2s::episode::video {

struct EncodeOptions {
  // FFmpeg encoder name: "libsvtav1" (AV1, LeRobot's default), "libx264" (H.264, for pipelines that pin it) or
  // "libaom-av1".
  std::string codec = "libsvtav1";
  std::string pix_fmt = "yuv420p";
  int crf = 30;                // constant rate factor: 0 (best) .. 63 (AV1) / 51 (H.264)
  int preset = 12;                    // SVT-AV1 preset: 0 (slowest, smallest) .. 13 (fastest)
  std::string x264_preset = "medium";  // libx264's preset, ultrafast .. veryslow
  int keyframe_interval = 2;   // GOP size, LeRobot's g
  // Encoder threads per video. 1 keeps the bytes independent of the machine; episodes are encoded in parallel
  // instead.
  int threads = 1;

  // Throws std::invalid_argument naming the field and value.
  void Validate() const;
  // Whether Validate() passes; else *why (when given) names the field and value. Validate() throws that as
  // std::invalid_argument.
  bool IsValid(std::string* why = nullptr) const;
};

}  // namespace r2s::episode::video
