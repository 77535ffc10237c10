#pragma once
// The synthetic episode the I/O benchmark writes and reads. THE DATA ARE SYNTHETIC: no robot recorded them.
//
// ALOHA layout, 500 frames: two uint8 [480, 640, 3] cameras (observation.images.cam_high, .cam_low) and four
// float64 [14] columns (observation.state, .velocity, .effort, action). The images are made to compress the way
// camera frames do, neither noise (incompressible) nor constant (trivially compressible): a smooth background
// drifting a few pixels per frame, a textured box moving across it, and mild per-pixel sensor noise from an
// integer hash. Everything is integer arithmetic (and exact double arithmetic for the joints), so
// bench/h5py_episode_io.py regenerates bit-identical data in numpy; both sides check that they do.
//
// Keep SyntheticPixel and SyntheticJoint in step with generate_* in bench/h5py_episode_io.py.

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "episode/dataset_info.h"
#include "episode/episode.h"

namespace r2s::bench {

inline constexpr std::int64_t kFrames = 500;
inline constexpr std::int64_t kHeight = 480;
inline constexpr std::int64_t kWidth = 640;
inline constexpr std::int64_t kChannels = 3;
inline constexpr std::int64_t kJoints = 14;

inline const std::vector<std::string>& CameraFeatures() {
  static const std::vector<std::string> names = {"observation.images.cam_high", "observation.images.cam_low"};
  return names;
}
inline const std::vector<std::string>& JointFeatures() {
  static const std::vector<std::string> names = {"observation.state", "observation.velocity", "observation.effort",
                                                 "action"};
  return names;
}

// Uncompressed bytes of one episode: what "MB/s" counts, on both sides.
inline constexpr std::int64_t kPayloadBytes =
    2 * kFrames * kHeight * kWidth * kChannels + 4 * kFrames * kJoints * static_cast<std::int64_t>(sizeof(double));

// A triangle wave over 0..period-1 and back: a smooth ramp without the hard edge of a sawtooth.
inline std::int64_t Triangle(std::int64_t v, std::int64_t period) {
  const std::int64_t m = v % (2 * period);
  return m < period ? m : 2 * period - 1 - m;
}

// Pixel (y, x, c) of frame t of camera `cam` (0 = cam_high, 1 = cam_low).
inline std::uint8_t SyntheticPixel(std::int64_t cam, std::int64_t t, std::int64_t y, std::int64_t x, std::int64_t c) {
  // Background: two drifting ramps mixed per channel (0..231).
  const std::int64_t a = Triangle(x + 3 * t + 97 * cam, 256);
  const std::int64_t b = Triangle(y + 2 * t + 53 * cam, 192);
  std::int64_t value = (a * (3 + c) + b * (5 - c)) / 8;
  // A 96x72 box with an 8-pixel checker texture, moving 5 px/frame right and 3 px/frame down, wrapping.
  const std::int64_t cx = 120 + (5 * t + 200 * cam) % 400;
  const std::int64_t cy = 100 + (3 * t + 150 * cam) % 280;
  if (std::abs(x - cx) < 48 && std::abs(y - cy) < 36) value = 40 + 60 * c + 50 * (((x >> 3) + (y >> 3)) & 1);
  // Mild sensor noise, -1, 0, 0 or +1 (sigma 0.7 levels): an LCG step of the pixel's linear index (uint32),
  // then an xorshift. Deflate gets about 1.75:1 from these frames, against about 3:1 from the noise-free
  // pattern; real sensors are noisier than that pattern, so noise-free frames would flatter deflate.
  constexpr std::int64_t kNoise[4] = {-1, 0, 0, 1};
  const auto index = static_cast<std::uint32_t>(((t * kHeight + y) * kWidth + x) * kChannels + c);
  std::uint32_t h = index * 1664525u + 1013904223u + static_cast<std::uint32_t>(cam) * 0x9E3779B9u;
  h ^= h >> 16;
  value += kNoise[(h >> 8) & 3];
  return static_cast<std::uint8_t>(std::clamp<std::int64_t>(value, 0, 255));
}

// Element j of frame t of joint column `column` (0..3 in JointFeatures order): exact in IEEE double, so numpy
// computes the same bits.
inline double SyntheticJoint(std::int64_t column, std::int64_t t, std::int64_t j) {
  return static_cast<double>(Triangle(t + 7 * j, 100)) * 0.01 + static_cast<double>(j) * 0.125 +
         static_cast<double>(column);
}

inline episode::DatasetInfo SyntheticInfo() {
  using episode::DType;
  episode::DatasetInfo info;
  info.layout = episode::StorageLayout::kAloha;
  for (const auto& name : CameraFeatures()) {
    info.features[name] = {DType::kUInt8, {kHeight, kWidth, kChannels}, {{}, {}, {}}, ""};
  }
  for (const auto& name : JointFeatures()) info.features[name] = {DType::kFloat64, {kJoints}, {{}}, ""};
  return info;
}

inline episode::Episode SyntheticEpisode() {
  using episode::Array;
  using episode::DType;
  episode::Episode episode;
  episode.metadata.index = 0;
  episode.metadata.length = kFrames;
  for (std::int64_t cam = 0; cam < 2; ++cam) {
    Array images = Array::Zeros(DType::kUInt8, {kFrames, kHeight, kWidth, kChannels});
    auto out = images.mutable_values<std::uint8_t>();
    std::size_t i = 0;
    for (std::int64_t t = 0; t < kFrames; ++t) {
      for (std::int64_t y = 0; y < kHeight; ++y) {
        for (std::int64_t x = 0; x < kWidth; ++x) {
          for (std::int64_t c = 0; c < kChannels; ++c) out[i++] = SyntheticPixel(cam, t, y, x, c);
        }
      }
    }
    episode.columns[CameraFeatures()[static_cast<std::size_t>(cam)]].data = std::move(images);
  }
  for (std::int64_t column = 0; column < 4; ++column) {
    Array joints = Array::Zeros(DType::kFloat64, {kFrames, kJoints});
    auto out = joints.mutable_values<double>();
    for (std::int64_t t = 0; t < kFrames; ++t) {
      for (std::int64_t j = 0; j < kJoints; ++j) out[static_cast<std::size_t>(t * kJoints + j)] = SyntheticJoint(column, t, j);
    }
    episode.columns[JointFeatures()[static_cast<std::size_t>(column)]].data = std::move(joints);
  }
  return episode;
}

}  // namespace r2s::bench
