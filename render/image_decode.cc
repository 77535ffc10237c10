#include "render/image_decode.h"

#include <fstream>
#include <iterator>

#include "episode/input_error.h"

// stb_image's functions stay private to this file (Debian also ships them in libstb.so).
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb_image.h>
#pragma GCC diagnostic pop

namespace r2s::render {
namespace {

Rgba8Image Decode(const std::uint8_t* bytes, std::size_t size, const std::string& what,
                  const std::string& referenced_from, const std::string& field) {
  int width = 0, height = 0, channels = 0;
  stbi_uc* pixels = stbi_load_from_memory(bytes, static_cast<int>(size), &width, &height, &channels, 4);
  if (pixels == nullptr) {
    throw InputError(referenced_from, field, what + " cannot be decoded: " + stbi_failure_reason());
  }
  Rgba8Image image{width, height,
                   std::vector<std::uint8_t>(pixels, pixels + static_cast<std::size_t>(width) * height * 4)};
  stbi_image_free(pixels);
  return image;
}

}  // namespace

Rgba8Image DecodeImageFile(const std::filesystem::path& file, const std::string& referenced_from,
                           const std::string& field) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw InputError(referenced_from, field, "image '" + file.string() + "' cannot be opened");
  const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
  return Decode(bytes.data(), bytes.size(), "image '" + file.string() + "'", referenced_from, field);
}

Rgba8Image DecodeImageBytes(const std::vector<std::uint8_t>& encoded, const std::string& referenced_from,
                            const std::string& field) {
  return Decode(encoded.data(), encoded.size(), "an embedded image", referenced_from, field);
}

}  // namespace r2s::render
