#include "episode/lerobot/png_column.h"

#include <cstring>
#include <memory>

#include <arrow/api.h>

#include "episode/input_error.h"

// stb_image's functions static to this file: render/image_decode.cc compiles its own copy the same way, so the two
// libraries never define the same symbols.
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_PNG
#define STBI_ONLY_JPEG
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-function"
#include <stb/stb_image.h>
#pragma GCC diagnostic pop

namespace r2s::episode::lerobot {
namespace {

int BytesField(const arrow::DataType& type) {
  if (type.id() != arrow::Type::STRUCT) return -1;
  const int i = static_cast<const arrow::StructType&>(type).GetFieldIndex("bytes");
  if (i < 0) return -1;
  const auto id = type.field(i)->type()->id();
  return id == arrow::Type::BINARY || id == arrow::Type::LARGE_BINARY ? i : -1;
}

struct StbiFree {
  void operator()(unsigned char* pixels) const { stbi_image_free(pixels); }
};

}  // namespace

void CheckImageColumnType(const arrow::DataType& type, const std::string& file, const std::string& column) {
  if (BytesField(type) < 0) {
    throw InputError(file, "column '" + column + "'",
                     "is " + type.ToString() + " but meta/info.json declares an image (struct<bytes: binary, ...>)");
  }
}

Array DecodeImageColumn(const arrow::ChunkedArray& column, const FeatureSpec& spec, const std::string& file,
                        const std::string& name) {
  CheckImageColumnType(*column.type(), file, name);
  const std::string field = "column '" + name + "'";
  const int bytes_field = BytesField(*column.type());
  const std::int64_t h = spec.shape[0], w = spec.shape[1], c = spec.shape[2];
  const std::size_t frame_bytes = static_cast<std::size_t>(h * w * c);
  Array out;  // allocated once the first image has the declared size, not from info.json's word alone
  std::int64_t row = 0;
  for (const auto& chunk : column.chunks()) {
    const auto& structs = static_cast<const arrow::StructArray&>(*chunk);
    const std::shared_ptr<arrow::Array> bytes = structs.field(bytes_field);  // accounts for the chunk's offset
    for (std::int64_t i = 0; i < structs.length(); ++i, ++row) {
      if (structs.IsNull(i) || bytes->IsNull(i)) {
        throw InputError(file, field, "row " + std::to_string(row) + " holds no image bytes");
      }
      std::string_view encoded = bytes->type_id() == arrow::Type::BINARY
                                     ? static_cast<const arrow::BinaryArray&>(*bytes).GetView(i)
                                     : static_cast<const arrow::LargeBinaryArray&>(*bytes).GetView(i);
      int width = 0, height = 0, channels = 0;
      std::unique_ptr<unsigned char, StbiFree> pixels(
          stbi_load_from_memory(reinterpret_cast<const unsigned char*>(encoded.data()),
                                static_cast<int>(encoded.size()), &width, &height, &channels, static_cast<int>(c)));
      if (!pixels) {
        throw InputError(file, field,
                         "row " + std::to_string(row) + ": cannot decode the image (" + std::to_string(encoded.size()) +
                             " bytes): " + stbi_failure_reason());
      }
      if (height != h || width != w) {
        throw InputError(file, field,
                         "row " + std::to_string(row) + " is a " + std::to_string(width) + "x" +
                             std::to_string(height) + " image, meta/info.json declares " + ShapeToString(spec.shape));
      }
      if (out.shape.empty()) out = Array::Zeros(DType::kUInt8, {column.length(), h, w, c});
      std::memcpy(out.bytes.data() + static_cast<std::size_t>(row) * frame_bytes, pixels.get(), frame_bytes);
    }
  }
  if (out.shape.empty()) out = Array::Zeros(DType::kUInt8, {column.length(), h, w, c});
  return out;
}

}  // namespace r2s::episode::lerobot
