#pragma once
// Reading video files (mp4/mkv) through FFmpeg's libraries: what a stream is (codec, size, frame times, keyframes)
// and its frames decoded to uint8 HWC, a range at a time, so an episode's frames are decoded when that episode is
// used and never the whole file.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "episode/array.h"

namespace r2s::episode::video {

struct StreamInfo {
  std::string codec;    // FFmpeg's codec name: "av1", "h264", "ffv1"
  std::string pix_fmt;  // "yuv420p", "gray16le"
  int width_px = 0, height_px = 0;
  double fps = 0;  // the stream's average frame rate
  // Presentation time of every frame in decode-output (display) order, in seconds from the file's start, read
  // from the container's packets (no decoding).
  std::vector<double> timestamps_s;
  std::vector<std::int64_t> keyframes;  // frame numbers (into timestamps_s) that are keyframes
  // The largest distance between consecutive keyframes (LeRobot's g); 0 when the stream has one keyframe.
  int keyframe_interval = 0;
  double duration_s = 0;

  std::int64_t frames() const { return static_cast<std::int64_t>(timestamps_s.size()); }
};

// Reads the first video stream's description. InputError (file, what, value) on a missing, truncated or
// malformed file, or one without a video stream.
StreamInfo ProbeVideo(const std::filesystem::path& file);

class VideoReader {
 public:
  // Opens the file and probes it (ProbeVideo). InputError as above.
  static VideoReader Open(const std::filesystem::path& file);

  VideoReader(VideoReader&&) noexcept;
  VideoReader& operator=(VideoReader&&) noexcept;
  ~VideoReader();

  const StreamInfo& info() const;

  // Decodes `count` consecutive frames, the first being the frame whose timestamp is nearest `from_s` (within
  // half a frame period, else InputError naming the file and the time), seeking to the keyframe before it.
  // 8-bit formats give uint8 RGB {count, H, W, 3}; gray16le (lossless depth/segmentation) gives uint16
  // {count, H, W}. InputError when the file holds fewer frames than asked ("video shorter than its table").
  Array ReadFrames(double from_s, std::int64_t count);

  // The timestamps (seconds) of the frames the last ReadFrames returned, as decoded.
  const std::vector<double>& last_timestamps_s() const;

  class Impl;

 private:
  explicit VideoReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace r2s::episode::video
