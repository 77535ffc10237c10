#pragma once
// PNG files for looking at frames and for golden-image tests. Writes go to a temporary name and are renamed when
// complete.

#include <cstdint>
#include <filesystem>
#include <vector>

#include "render/frame.h"

namespace r2s::render {

void WritePngRgb8(const std::filesystem::path& file, int width_px, int height_px, const std::uint8_t* rgb);
void WritePngGray16(const std::filesystem::path& file, int width_px, int height_px, const std::uint16_t* values);

// Depth in millimetres as 16-bit PNG (the RealSense / TUM convention: 0 = no depth, saturating at 65.535 m).
void WriteDepthPngMm(const std::filesystem::path& file, const Frame& frame);

// An 8-bit RGB picture of the depth (near bright, far dark) or segmentation (one colour per id), for people.
void WriteDepthPreviewPng(const std::filesystem::path& file, const Frame& frame);
void WriteSegmentationPreviewPng(const std::filesystem::path& file, const Frame& frame);

struct RgbImage {
  int width_px = 0;
  int height_px = 0;
  std::vector<std::uint8_t> rgb;
};
// Reads any 8-bit PNG as RGB. Throws InputError when the file is missing or not an image.
RgbImage ReadPngRgb8(const std::filesystem::path& file);

}  // namespace r2s::render
