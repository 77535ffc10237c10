#include "episode/array.h"

#include <algorithm>
#include <cmath>

namespace r2s::episode {

std::int64_t Array::size() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

Array Array::Zeros(DType dtype, std::vector<std::int64_t> shape) {
  if (dtype == DType::kString) throw std::invalid_argument("Array::Zeros: string arrays are not supported");
  Array array;
  array.dtype = dtype;
  array.shape = std::move(shape);
  array.bytes.resize(static_cast<std::size_t>(array.size()) * DTypeSize(dtype));
  return array;
}

void Array::CheckElementType(DType requested) const {
  const bool bool_as_bytes = dtype == DType::kBool && requested == DType::kUInt8;
  if (requested != dtype && !bool_as_bytes) {
    throw std::logic_error("Array: viewed as " + std::string(DTypeName(requested)) + " but holds " +
                           std::string(DTypeName(dtype)));
  }
}

std::int64_t FrameWidth(const Array& frames) {
  std::int64_t width = 1;
  for (std::size_t i = 1; i < frames.shape.size(); ++i) width *= frames.shape[i];
  return width;
}

double FloatAt(const Array& frames, std::int64_t width, std::int64_t frame, std::int64_t index) {
  const auto at = static_cast<std::size_t>(frame * width + index);
  return frames.dtype == DType::kFloat32 ? static_cast<double>(frames.values<float>()[at])
                                         : frames.values<double>()[at];
}

void SetFloatAt(Array& frames, std::int64_t width, std::int64_t frame, std::int64_t index, double value) {
  const auto at = static_cast<std::size_t>(frame * width + index);
  if (frames.dtype == DType::kFloat32) {
    frames.mutable_values<float>()[at] = static_cast<float>(value);
  } else {
    frames.mutable_values<double>()[at] = value;
  }
}

NonFiniteCount CountNonFinite(const Array& frames) {
  NonFiniteCount result;
  if (!IsFloating(frames.dtype) || frames.shape.empty() || frames.shape[0] == 0) return result;
  const std::int64_t frame_size = frames.size() / frames.shape[0];
  auto scan = [&](auto values) {
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (std::isfinite(values[i])) continue;
      if (result.count++ == 0)
        result.first_frame = static_cast<std::int64_t>(i) / std::max<std::int64_t>(frame_size, 1);
    }
  };
  if (frames.dtype == DType::kFloat32) {
    scan(frames.values<float>());
  } else {
    scan(frames.values<double>());
  }
  return result;
}

std::string ShapeToString(std::span<const std::int64_t> shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace r2s::episode
