#pragma once
// Writing video files through FFmpeg's libraries, deterministically: the same frames and options give the same
// bytes on every run and machine (bit-exact muxing, no creation time, a fixed encoder thread count).
//
// Nothing half-written: the file is written under a temporary name beside its destination and renamed by
// Finish; a writer destroyed without Finish removes it.

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <vector>

#include "episode/video/encode_options.h"

namespace r2s::episode::video {

enum class FrameFormat {
  kRgb8,      // uint8 H x W x 3, encoded lossy with EncodeOptions (LeRobot's video features)
  kYuv420p,   // planar Y (H x W), U, V (H/2 x W/2 each, rounded up), as cuda/'s RGB->YUV kernel gives them
  kGray16,    // uint16 H x W, encoded losslessly (FFV1 in Matroska): depth in millimetres, segmentation ids
};

class VideoWriter {
 public:
  // `file` ends in .mp4 for kRgb8/kYuv420p and .mkv for kGray16. fps is the frame rate; frame i gets the
  // timestamp i / fps. Throws std::invalid_argument on bad options and InputError when the file cannot be
  // created.
  static VideoWriter Create(const std::filesystem::path& file, int width_px, int height_px, double fps,
                            FrameFormat format, const EncodeOptions& options = {});

  VideoWriter(VideoWriter&&) noexcept;
  VideoWriter& operator=(VideoWriter&&) noexcept;
  ~VideoWriter();

  // One frame in the writer's format, tightly packed (planes one after another for kYuv420p).
  void AddFrame(std::span<const std::uint8_t> frame);
  // Flushes the encoder, finishes the container and renames the file into place.
  void Finish();
  std::int64_t frames() const;

  class Impl;

 private:
  explicit VideoWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Concatenates videos of identical stream parameters into `output` by stream copy (no re-encoding), each
// input's frames following the previous input's last frame at one frame period (LeRobot v3.0's video files).
// Written under a temporary name and renamed. InputError naming the input whose parameters differ.
void ConcatenateVideos(const std::vector<std::filesystem::path>& inputs, const std::filesystem::path& output);

}  // namespace r2s::episode::video
