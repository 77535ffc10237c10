#pragma once
// Internal: image files (PNG, JPEG, BMP, TGA, ...) decoded to RGBA8 with stb_image (Debian libstb-dev).

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace r2s::render {

struct Rgba8Image {
  int width_px = 0;
  int height_px = 0;
  std::vector<std::uint8_t> rgba;  // row-major from the top-left pixel
};

// Throw InputError(referenced_from, field, ...) naming the image when it cannot be read or decoded.
Rgba8Image DecodeImageFile(const std::filesystem::path& file, const std::string& referenced_from,
                           const std::string& field);
Rgba8Image DecodeImageBytes(const std::vector<std::uint8_t>& encoded, const std::string& referenced_from,
                            const std::string& field);

}  // namespace r2s::render
