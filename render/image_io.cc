#include "render/image_io.h"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "episode/atomic_file.h"
#include "render/image_decode.h"

namespace r2s::render {
namespace {

// Encodes rows of `channels` samples of `bit_depth` bits (16-bit samples in host order) into PNG bytes.
std::string EncodePng(int width_px, int height_px, int channels, int bit_depth, const void* pixels) {
  if (width_px <= 0 || height_px <= 0) throw std::invalid_argument("cannot write an empty image");
  png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, nullptr, nullptr, nullptr);
  if (png == nullptr) throw std::runtime_error("libpng: png_create_write_struct failed");
  png_infop info = png_create_info_struct(png);
  std::string bytes;
  // libpng reports errors by longjmp; nothing with a destructor is created between here and the end.
  if (info == nullptr || setjmp(png_jmpbuf(png))) {
    png_destroy_write_struct(&png, &info);
    throw std::runtime_error("libpng could not encode a " + std::to_string(width_px) + "x" + std::to_string(height_px) +
                             " image");
  }
  png_set_write_fn(
      png, &bytes,
      [](png_structp p, png_bytep data, png_size_t size) {
        static_cast<std::string*>(png_get_io_ptr(p))->append(reinterpret_cast<const char*>(data), size);
      },
      nullptr);
  png_set_IHDR(png, info, static_cast<png_uint_32>(width_px), static_cast<png_uint_32>(height_px), bit_depth,
               channels == 3 ? PNG_COLOR_TYPE_RGB : PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE,
               PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  png_set_compression_level(png, 3);  // quick-look images: speed over the last few percent of size
  png_write_info(png, info);
  if (bit_depth == 16) png_set_swap(png);  // PNG stores 16-bit samples big-endian
  const std::size_t row_bytes = static_cast<std::size_t>(width_px) * channels * (bit_depth / 8);
  const auto* base = static_cast<const png_byte*>(pixels);
  for (int y = 0; y < height_px; ++y) png_write_row(png, base + y * row_bytes);
  png_write_end(png, nullptr);
  png_destroy_write_struct(&png, &info);
  return bytes;
}

void CheckSize(const Frame& frame, std::size_t values) {
  if (frame.width_px <= 0 || frame.height_px <= 0 ||
      values != static_cast<std::size_t>(frame.width_px) * frame.height_px) {
    throw std::invalid_argument("frame of " + std::to_string(frame.width_px) + "x" + std::to_string(frame.height_px) +
                                " pixels holds " + std::to_string(values) + " values");
  }
}

}  // namespace

void WritePngRgb8(const std::filesystem::path& file, int width_px, int height_px, const std::uint8_t* rgb) {
  episode::WriteFileAtomically(file, EncodePng(width_px, height_px, 3, 8, rgb));
}

void WritePngGray16(const std::filesystem::path& file, int width_px, int height_px, const std::uint16_t* values) {
  episode::WriteFileAtomically(file, EncodePng(width_px, height_px, 1, 16, values));
}

void WriteDepthPngMm(const std::filesystem::path& file, const Frame& frame) {
  CheckSize(frame, frame.depth_m.size());
  std::vector<std::uint16_t> mm(frame.depth_m.size());
  std::transform(frame.depth_m.begin(), frame.depth_m.end(), mm.begin(),
                 [](float d) { return static_cast<std::uint16_t>(std::clamp(std::lround(d * 1000.0), 0L, 65535L)); });
  WritePngGray16(file, frame.width_px, frame.height_px, mm.data());
}

void WriteDepthPreviewPng(const std::filesystem::path& file, const Frame& frame) {
  CheckSize(frame, frame.depth_m.size());
  float lo = std::numeric_limits<float>::max(), hi = 0;
  for (float d : frame.depth_m) {
    if (d > 0) lo = std::min(lo, d), hi = std::max(hi, d);
  }
  std::vector<std::uint8_t> rgb(frame.depth_m.size() * 3, 0);
  const float span = hi > lo ? hi - lo : 1.0f;
  for (std::size_t i = 0; i < frame.depth_m.size(); ++i) {
    if (frame.depth_m[i] <= 0) continue;
    const auto v = static_cast<std::uint8_t>(std::lround(255.0f - 215.0f * (frame.depth_m[i] - lo) / span));
    rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = v;
  }
  WritePngRgb8(file, frame.width_px, frame.height_px, rgb.data());
}

void WriteSegmentationPreviewPng(const std::filesystem::path& file, const Frame& frame) {
  CheckSize(frame, frame.segmentation.size());
  std::vector<std::uint8_t> rgb(frame.segmentation.size() * 3, 0);
  for (std::size_t i = 0; i < frame.segmentation.size(); ++i) {
    const std::uint32_t id = frame.segmentation[i];
    if (id == 0) continue;
    // Golden-ratio hue steps keep neighbouring ids apart.
    const double hue = std::fmod(id * 0.618033988749895, 1.0) * 6.0;
    const double x = 1.0 - std::abs(std::fmod(hue, 2.0) - 1.0);
    const double r[6] = {1, x, 0, 0, x, 1}, g[6] = {x, 1, 1, x, 0, 0}, b[6] = {0, 0, x, 1, 1, x};
    const int sector = static_cast<int>(hue) % 6;
    rgb[3 * i] = static_cast<std::uint8_t>(55 + 200 * r[sector]);
    rgb[3 * i + 1] = static_cast<std::uint8_t>(55 + 200 * g[sector]);
    rgb[3 * i + 2] = static_cast<std::uint8_t>(55 + 200 * b[sector]);
  }
  WritePngRgb8(file, frame.width_px, frame.height_px, rgb.data());
}

RgbImage ReadPngRgb8(const std::filesystem::path& file) {
  const Rgba8Image rgba = DecodeImageFile(file, file.string(), "");
  RgbImage image{rgba.width_px, rgba.height_px, std::vector<std::uint8_t>(rgba.rgba.size() / 4 * 3)};
  for (std::size_t i = 0, n = rgba.rgba.size() / 4; i < n; ++i) {
    std::copy_n(&rgba.rgba[4 * i], 3, &image.rgb[3 * i]);
  }
  return image;
}

}  // namespace r2s::render
