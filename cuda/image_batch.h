#pragma once
// Non-owning views of frame batches as the sensor models read and write them: `frames` images of
// height x width, stored frame after frame, rows top to bottom, contiguous. The pointers are host memory for
// the public entry points in cuda/sensor.h and device memory for the *Device ones.

#include <cstddef>
#include <cstdint>

namespace r2s::cuda {

// 8-bit RGB, interleaved (HWC): pixel (f, y, x) channel c is data[((f * height + y) * width + x) * 3 + c].
struct RgbBatch {
  std::uint8_t* data = nullptr;
  int frames = 0;
  int height = 0;
  int width = 0;

  std::size_t pixels() const { return static_cast<std::size_t>(frames) * height * width; }
  std::size_t bytes() const { return pixels() * 3; }
};

// Depth in metres along the optical axis (z, not the ray length), one float per pixel; 0 means no return.
struct DepthBatch {
  float* data = nullptr;
  int frames = 0;
  int height = 0;
  int width = 0;

  std::size_t pixels() const { return static_cast<std::size_t>(frames) * height * width; }
  std::size_t bytes() const { return pixels() * sizeof(float); }
};

// I420 (YUV 4:2:0 planar), what x264/SVT-AV1 take: per frame a height x width Y plane, then U and V planes of
// (height / 2) x (width / 2). Each plane pointer holds all frames back to back. Width and height must be even.
struct Yuv420Batch {
  std::uint8_t* y = nullptr;
  std::uint8_t* u = nullptr;
  std::uint8_t* v = nullptr;
  int frames = 0;
  int height = 0;
  int width = 0;

  std::size_t luma_bytes() const { return static_cast<std::size_t>(frames) * height * width; }
  std::size_t chroma_bytes() const { return static_cast<std::size_t>(frames) * (height / 2) * (width / 2); }
  std::size_t bytes() const { return luma_bytes() + 2 * chroma_bytes(); }
};

}  // namespace r2s::cuda
